//! `IMS` (MSNP3+): switchboard invitations on or off.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        ["ON"] => Some(NsCommand::Ims { trid, on: true }),
        ["OFF"] => Some(NsCommand::Ims { trid, on: false }),
        _ => None,
    }
}

/// Reply to `IMS`: `IMS TrID 0 ON|OFF`.
pub fn ims(out: &mut Out, trid: u32, on: bool) {
    line!(out, "IMS {trid} 0 {}", if on { "ON" } else { "OFF" });
}
