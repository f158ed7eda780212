//! `LST`: list entries, per list (MSNP2–MSNP7) or per contact (MSNP8+).

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::ListKind;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [list] => Some(NsCommand::Lst {
            trid,
            list: ListKind::parse(list)?,
        }),
        _ => None,
    }
}

/// One MSNP2–MSNP7 `LST` line for a list entry. `groups` is the group list
/// of FL entries in MSNP7 (`None` for other lists and older dialects).
#[allow(clippy::too_many_arguments)]
pub fn lst_entry(
    out: &mut Out,
    trid: u32,
    list: ListKind,
    version: u64,
    index: usize,
    count: usize,
    handle: &str,
    name: &str,
    groups: Option<&str>,
) {
    let name = crate::name::encode(name);
    match groups {
        Some(g) => line!(
            out,
            "LST {trid} {list} {version} {index} {count} {handle} {name} {g}"
        ),
        None => line!(
            out,
            "LST {trid} {list} {version} {index} {count} {handle} {name}"
        ),
    }
}

/// An empty MSNP2–MSNP7 list: `LST TrID list version 0 0`.
pub fn lst_empty(out: &mut Out, trid: u32, list: ListKind, version: u64) {
    line!(out, "LST {trid} {list} {version} 0 0");
}

/// One MSNP8+ `LST` line for a contact (all lists as bits). `groups` are
/// ids (MSNP8/9) or GUIDs (MSNP10+), comma-separated, FL contacts only.
pub fn lst_contact(
    out: &mut Out,
    dialect: Dialect,
    handle: &str,
    name: &str,
    contact_guid: Option<&str>,
    bits: u8,
    groups: Option<&str>,
) {
    let name = crate::name::encode(name);
    let mut s = match dialect.list_model() {
        ListModel::Guid => {
            let mut s = format!("LST N={handle} F={name}");
            if let Some(guid) = contact_guid {
                s.push_str(&format!(" C={guid}"));
            }
            s.push_str(&format!(" {bits}"));
            if dialect.lst_has_network_id() {
                s.push_str(" 1");
            }
            s
        }
        _ => format!("LST {handle} {name} {bits}"),
    };
    if let Some(groups) = groups.filter(|g| !g.is_empty()) {
        s.push(' ');
        s.push_str(groups);
    }
    line!(out, "{s}");
}
