//! `REG`: renaming a group.

use super::lsg::GroupView;
use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [group, name] | [group, name, "0"] => Some(NsCommand::Reg {
            trid,
            group: (*group).to_owned(),
            name: (*name).to_owned(),
        }),
        _ => None,
    }
}

/// Reply to `REG`.
pub fn reg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    let GroupView { id, guid, name } = group;
    if dialect.has_adc() {
        line!(out, "REG {trid} 1 {name} {guid} 0");
    } else {
        line!(out, "REG {trid} {version} {id} {name} 0");
    }
}
