//! `UUX` (MSNP11+): the personal message document, and `UBX`, a
//! contact's document as watchers get it.

use crate::dialect::Dialect;
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

/// `UBX handle len` + a contact's personal message document (MSNP14–17
/// `UBX handle 1 len`, MSNP18 `UBX 1:handle len`).
pub fn ubx(out: &mut Out, dialect: Dialect, handle: &str, document: &[u8]) {
    if dialect.prefixes_network_id() {
        out.payload(format_args!("UBX 1:{handle}"), document);
    } else if dialect.presence_has_network_field() {
        out.payload(format_args!("UBX {handle} 1"), document);
    } else {
        out.payload(format_args!("UBX {handle}"), document);
    }
}
