//! `SYN`: the list download's header. The lines in it are each command's
//! own `SYN` form (`GTC`, `BLP`, `PRP`, `LSG`, `LST`, `BPR`).

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

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
        // MSNP13+ has no SYN (the session never calls this for it).
        ListModel::Guid | ListModel::AddressBook => line!(
            out,
            "SYN {trid} {} {} {contacts} {groups}",
            stamps.0,
            stamps.1
        ),
    }
}
