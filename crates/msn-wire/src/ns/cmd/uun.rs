//! `UUN` (MSNP13+): a notification for another user's client (or one of
//! the user's own machines), passed on by the NS as `UBN`.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [target, kind, _len] => Some(NsCommand::Uun {
            trid,
            target: (*target).to_owned(),
            kind: kind.parse().ok()?,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `UUN TrID OK`.
pub fn uun_ok(out: &mut Out, trid: u32) {
    line!(out, "UUN {trid} OK");
}

/// `UBN sender type len` + the payload (`sender` is `email;{guid}` for an
/// MSNP16+ machine).
pub fn ubn(out: &mut Out, sender: &str, kind: u16, payload: &[u8]) {
    out.payload(format_args!("UBN {sender} {kind}"), payload);
}
