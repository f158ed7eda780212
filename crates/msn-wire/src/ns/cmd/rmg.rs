//! `RMG`: removing a group.

use super::lsg::GroupView;
use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [group] => Some(NsCommand::Rmg {
            trid,
            group: (*group).to_owned(),
        }),
        _ => None,
    }
}

/// Reply to `RMG`.
pub fn rmg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    if dialect.has_adc() {
        line!(out, "RMG {trid} 1 {}", group.guid);
    } else {
        line!(out, "RMG {trid} {version} {}", group.id);
    }
}
