//! `ADD` (MSNP2–MSNP9): adding to a list, and the reverse-list notice
//! `ADD 0 RL` (`ADC 0 RL` from MSNP10) when someone adds the user.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::ListKind;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [list, handle, name, group @ ..] if group.len() <= 1 => Some(NsCommand::Add {
            trid,
            list: ListKind::parse(list)?,
            handle: (*handle).to_owned(),
            name: (*name).to_owned(),
            group: group.first().map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `ADD`: `ADD TrID list version handle name[ group]`.
pub fn add(
    out: &mut Out,
    trid: u32,
    list: ListKind,
    version: u64,
    handle: &str,
    name: &str,
    group: Option<u32>,
) {
    // `name`: the client's parameter, echoed as sent (see `prp_friendly_name`).
    match group {
        Some(g) => line!(out, "ADD {trid} {list} {version} {handle} {name} {g}"),
        None => line!(out, "ADD {trid} {list} {version} {handle} {name}"),
    }
}

/// Someone added the user to their forward list.
pub fn reverse_added(out: &mut Out, dialect: Dialect, version: u64, handle: &str, name: &str) {
    let name = crate::name::encode(name);
    if dialect.has_adc() {
        line!(out, "ADC 0 RL N={handle} F={name}");
    } else {
        line!(out, "ADD 0 RL {version} {handle} {name}");
    }
}
