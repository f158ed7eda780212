//! `BPR`: a contact's phone property, in `SYN` and when it changes.

use crate::dialect::{Dialect, ListModel};
use crate::line;
use crate::out::Out;

/// A contact's property inside `SYN` (after its `LST`).
pub fn syn_bpr(
    out: &mut Out,
    dialect: Dialect,
    version: u64,
    handle: &str,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    match dialect.list_model() {
        ListModel::PerList => line!(out, "BPR {version} {handle} {property}{value}"),
        _ => line!(out, "BPR {property}{value}"),
    }
}

/// A contact's property changed (asynchronous).
pub fn bpr_changed(
    out: &mut Out,
    dialect: Dialect,
    version: u64,
    handle: &str,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    if dialect.has_list_versions() {
        line!(out, "BPR {version} {handle} {property}{value}");
    } else {
        line!(out, "BPR {handle} {property}{value}");
    }
}
