//! `OUT`: the server ends a session (`OTH`, `SSD`, …). The client's
//! `OUT` has no TrID and is parsed in [`super`].

use crate::line;
use crate::out::Out;

/// `OUT reason`; the server closes after it.
pub fn out_reason(out: &mut Out, reason: &str) {
    line!(out, "OUT {reason}");
}
