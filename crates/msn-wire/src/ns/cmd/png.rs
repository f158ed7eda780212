//! `PNG` (no TrID, parsed in [`super`]) and its answer `QNG`.

use crate::dialect::Dialect;
use crate::line;
use crate::out::Out;

/// `QNG[ seconds]`.
pub fn qng(out: &mut Out, dialect: Dialect, interval_secs: u32) {
    if dialect.qng_has_interval() {
        line!(out, "QNG {interval_secs}");
    } else {
        line!(out, "QNG");
    }
}
