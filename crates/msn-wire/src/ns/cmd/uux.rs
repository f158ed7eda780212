//! `UUX` (MSNP11+): the personal message document, and `UBX`, a
//! contact's document as watchers get it.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Uux {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Reply to `UUX`: `UUX TrID 0`.
pub fn uux_ok(out: &mut Out, trid: u32) {
    line!(out, "UUX {trid} 0");
}

/// `UBX handle len` + a contact's personal message document.
pub fn ubx(out: &mut Out, handle: &str, document: &[u8]) {
    out.payload(format_args!("UBX {handle}"), document);
}
