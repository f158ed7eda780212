//! `REA` (MSNP2–MSNP9): renaming oneself or a contact.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [handle, name] => Some(NsCommand::Rea {
            trid,
            handle: (*handle).to_owned(),
            name: (*name).to_owned(),
        }),
        _ => None,
    }
}

/// Reply to `REA`: `REA TrID version handle name`.
/// `name`: the client's parameter, echoed as sent (see `prp_friendly_name`).
pub fn rea(out: &mut Out, trid: u32, version: u64, handle: &str, name: &str) {
    line!(out, "REA {trid} {version} {handle} {name}");
}
