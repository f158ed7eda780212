//! `SDG` (MSNP18): a message to a circle (`To: 9:<id>@live.com;path=IM`,
//! a `Messaging: 1.0` block). Every other member in the conversation
//! receives `SDG 0 len` with the same payload, its `From:` stated by the
//! server (msnp-sharp 3.x's `OnSDGReceived` shows the received form).

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Sdg {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `SDG TrID OK 0`: the message was passed on (an acknowledgement whose
/// form the references do not give; msnp-sharp ignores it).
pub fn sdg_ok(out: &mut Out, trid: u32) {
    line!(out, "SDG {trid} OK 0");
}

/// `SDG 0 len` + the message as its sender wrote it.
pub fn sdg(out: &mut Out, payload: &[u8]) {
    out.payload(format_args!("SDG 0"), payload);
}
