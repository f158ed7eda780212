//! `ADL` (MSNP13+): adding contacts to lists and subscribing to their
//! presence with an `<ml>` document; `ADL 0` tells a user that someone
//! added them.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Adl {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `ADL TrID OK`: every `ADL` gets its own (clients count them).
pub fn adl_ok(out: &mut Out, trid: u32) {
    line!(out, "ADL {trid} OK");
}

/// `ADL 0 len` + `<ml>…</ml>`: someone added the user (`l="8"`).
pub fn adl_notice(out: &mut Out, document: &[u8]) {
    out.payload(format_args!("ADL 0"), document);
}
