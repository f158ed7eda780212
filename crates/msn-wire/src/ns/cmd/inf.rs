//! `INF`: the login methods offered (MSNP2–MSNP7).

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    args.is_empty().then_some(NsCommand::Inf { trid })
}

/// `INF TrID MD5[ CTP]`.
pub fn inf(out: &mut Out, trid: u32, ctp: bool) {
    if ctp {
        line!(out, "INF {trid} MD5 CTP");
    } else {
        line!(out, "INF {trid} MD5");
    }
}
