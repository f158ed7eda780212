//! `SDC` (MSNP5+): an invitation e-mail with a note.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [head @ .., _len] => Some(NsCommand::Sdc {
            trid,
            args: head.iter().map(|s| (*s).to_owned()).collect(),
            note: frame.payload().cloned().unwrap_or_default(),
        }),
        [] => None,
    }
}

/// `SDC TrID OK`.
pub fn sdc_ok(out: &mut Out, trid: u32) {
    line!(out, "SDC {trid} OK");
}
