//! `CHL` and `QRY`: the server's challenge and the client's answer
//! (challenges.md).

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse_chl(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    args.is_empty().then_some(NsCommand::Chl { trid })
}

pub(crate) fn parse_qry(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [client_id, _len] => Some(NsCommand::Qry {
            trid,
            client_id: (*client_id).to_owned(),
            response: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `CHL TrID challenge`: TrID 0 when the server challenges on its own.
pub fn chl(out: &mut Out, trid: u32, challenge: &str) {
    line!(out, "CHL {trid} {challenge}");
}

/// `QRY TrID`: the answer was right (or nothing was outstanding).
pub fn qry_ok(out: &mut Out, trid: u32) {
    line!(out, "QRY {trid}");
}
