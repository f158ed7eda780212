//! `SYN`: the list download (its header and settings lines; the entries
//! are `LST`, `LSG` and `BPR`).

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::{AddAlert, Privacy};

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    (!args.is_empty() && args.len() <= 2).then(|| NsCommand::Syn {
        trid,
        cached: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// The `SYN` reply when the client's cache is current (nothing else follows).
pub fn syn_current(out: &mut Out, trid: u32, dialect: Dialect, version: u64, stamps: (&str, &str)) {
    match dialect.list_model() {
        ListModel::Guid => line!(out, "SYN {trid} {} {} 0 0", stamps.0, stamps.1),
        _ => line!(out, "SYN {trid} {version}"),
    }
}

/// First line of a full `SYN` download.
pub fn syn_header(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    stamps: (&str, &str),
    contacts: usize,
    groups: usize,
) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "SYN {trid} {version}"),
        ListModel::Bits => line!(out, "SYN {trid} {version} {contacts} {groups}"),
        ListModel::Guid => line!(
            out,
            "SYN {trid} {} {} {contacts} {groups}",
            stamps.0,
            stamps.1
        ),
    }
}

/// `GTC` inside a `SYN` download.
pub fn syn_gtc(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: AddAlert) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "GTC {trid} {version} {value}"),
        _ => line!(out, "GTC {value}"),
    }
}

/// `BLP` inside a `SYN` download.
pub fn syn_blp(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: Privacy) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "BLP {trid} {version} {value}"),
        _ => line!(out, "BLP {value}"),
    }
}

/// `PRP` inside a `SYN` download. MSNP5–7 list every property (unset ones
/// without a value); MSNP8+ only set ones, so callers skip `None` there.
pub fn syn_prp(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    match dialect.list_model() {
        ListModel::PerList => line!(out, "PRP {trid} {version} {property}{value}"),
        _ => line!(out, "PRP {property}{value}"),
    }
}
