//! `REM`: removing from a list (or an FL contact from one group), and the
//! reverse-list notice `REM 0 RL`.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::ListKind;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [list, target, group @ ..] if group.len() <= 1 => Some(NsCommand::Rem {
            trid,
            list: ListKind::parse(list)?,
            target: (*target).to_owned(),
            group: group.first().map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `REM`, echoing the client's target and group as sent; list
/// versions only where the dialect has them.
pub fn rem(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    list: ListKind,
    version: u64,
    target: &str,
    group: Option<&str>,
) {
    let tail = group.map(|g| format!(" {g}")).unwrap_or_default();
    if dialect.has_list_versions() {
        line!(out, "REM {trid} {list} {version} {target}{tail}");
    } else {
        line!(out, "REM {trid} {list} {target}{tail}");
    }
}

/// Someone removed the user from their forward list.
pub fn reverse_removed(out: &mut Out, dialect: Dialect, version: u64, handle: &str) {
    if dialect.has_list_versions() {
        line!(out, "REM 0 RL {version} {handle}");
    } else {
        line!(out, "REM 0 RL {handle}");
    }
}
