//! `RML` (MSNP13+): removing contacts from lists with an `<ml>` document;
//! `RML 0` tells a user that someone removed them.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Rml {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `RML TrID OK`.
pub fn rml_ok(out: &mut Out, trid: u32) {
    line!(out, "RML {trid} OK");
}

/// `RML 0 len` + `<ml>…</ml>`: someone removed the user from their list.
pub fn rml_notice(out: &mut Out, document: &[u8]) {
    out.payload(format_args!("RML 0"), document);
}
