//! `SND`: an invitation e-mail.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    (!args.is_empty()).then(|| NsCommand::Snd {
        trid,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// `SND TrID OK`.
pub fn snd_ok(out: &mut Out, trid: u32) {
    line!(out, "SND {trid} OK");
}
