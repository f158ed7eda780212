//! `CAL`: inviting someone, and `JOI` when someone joins.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::out::Out;
use crate::sb::RosterEntry;
use crate::sb::SbCommand;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<SbCommand> {
    match args {
        [handle] => Some(SbCommand::Cal {
            trid,
            handle: (*handle).to_owned(),
        }),
        _ => None,
    }
}

/// `CAL TrID RINGING session`.
pub fn cal_ringing(out: &mut Out, trid: u32, session: &str) {
    line!(out, "CAL {trid} RINGING {session}");
}

/// `JOI handle name[ caps]` for a receiver of `dialect`.
pub fn joi(out: &mut Out, dialect: Dialect, p: RosterEntry<'_>) {
    let name = crate::name::encode(p.name);
    if dialect.sb_roster_has_capabilities() {
        line!(
            out,
            "JOI {} {} {}",
            p.handle,
            name,
            crate::ns::render::capabilities_for(dialect, p.capabilities)
        );
    } else {
        line!(out, "JOI {} {name}", p.handle);
    }
}
