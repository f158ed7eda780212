//! `LSG`: groups.

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    args.is_empty().then_some(NsCommand::Lsg { trid })
}

/// A group as the client sees it.
#[derive(Clone, Copy, Debug)]
pub struct GroupView<'a> {
    pub id: u32,
    pub guid: &'a str,
    pub name: &'a str,
}

/// One `LSG` line (inside `SYN` or as a reply to `LSG`).
pub fn lsg(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    index: usize,
    count: usize,
    group: GroupView<'_>,
) {
    let GroupView { id, guid, name } = group;
    match dialect.list_model() {
        ListModel::PerList => line!(out, "LSG {trid} {version} {index} {count} {id} {name} 0"),
        ListModel::Bits => line!(out, "LSG {id} {name} 0"),
        // MSNP13+ has no LSG; its groups come from the address book.
        ListModel::Guid | ListModel::AddressBook => line!(out, "LSG {name} {guid}"),
    }
}
