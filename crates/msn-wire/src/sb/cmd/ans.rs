//! `ANS`: joining a session one was rung to, and the roster (`IRO`) the
//! new participant gets.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::out::Out;
use crate::sb::RosterEntry;
use crate::sb::SbCommand;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<SbCommand> {
    match args {
        [handle, cookie, session] => Some(SbCommand::Ans {
            trid,
            handle: (*handle).to_owned(),
            cookie: (*cookie).to_owned(),
            session: (*session).to_owned(),
        }),
        _ => None,
    }
}

/// `IRO TrID index count handle name[ caps]` for a receiver of `dialect`.
pub fn iro(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    index: usize,
    count: usize,
    p: RosterEntry<'_>,
) {
    let name = crate::name::encode(p.name);
    if dialect.sb_roster_has_capabilities() {
        line!(
            out,
            "IRO {trid} {index} {count} {} {} {}",
            p.handle,
            name,
            crate::ns::render::capabilities_for(dialect, p.capabilities)
        );
    } else {
        line!(out, "IRO {trid} {index} {count} {} {name}", p.handle);
    }
}

/// `ANS TrID OK`.
pub fn ans_ok(out: &mut Out, trid: u32) {
    line!(out, "ANS {trid} OK");
}
