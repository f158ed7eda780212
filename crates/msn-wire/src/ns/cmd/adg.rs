//! `ADG`: adding a group.

use super::lsg::GroupView;
use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        // `ADG TrID name 0`; MSNP10+ clients may leave the `0` out.
        [name] | [name, "0"] => Some(NsCommand::Adg {
            trid,
            name: (*name).to_owned(),
        }),
        _ => None,
    }
}

/// Reply to `ADG`. MSNP10+ uses the version-field form (`ADG t 1 name guid
/// 0`) because msnp11-sdk accepts nothing else (msnp8-12.md §5.7).
pub fn adg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    let GroupView { id, guid, name } = group;
    if dialect.has_adc() {
        line!(out, "ADG {trid} 1 {name} {guid} 0");
    } else {
        line!(out, "ADG {trid} {version} {name} {id} 0");
    }
}
