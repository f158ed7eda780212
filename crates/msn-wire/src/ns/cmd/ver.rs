//! `VER`: protocol version negotiation (msnp2-7.md §2.1).

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [_, ..] => Some(NsCommand::Ver {
            trid,
            offered: args.iter().map(|s| (*s).to_owned()).collect(),
        }),
        [] => None,
    }
}

/// `VER TrID MSNPn[ CVR0]`.
pub fn ver(out: &mut Out, trid: u32, dialect: Dialect, client_listed_cvr0: bool) {
    if client_listed_cvr0 && dialect.ver_echoes_cvr0() {
        line!(out, "VER {trid} {dialect} CVR0");
    } else {
        line!(out, "VER {trid} {dialect}");
    }
}

/// `VER TrID CVR0`: only the `CVR0` pseudo-dialect matched.
pub fn ver_cvr0_only(out: &mut Out, trid: u32) {
    line!(out, "VER {trid} CVR0");
}

/// `VER TrID 0`: no common dialect; the server then closes.
pub fn ver_no_match(out: &mut Out, trid: u32) {
    line!(out, "VER {trid} 0");
}
