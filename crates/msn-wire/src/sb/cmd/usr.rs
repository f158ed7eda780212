//! `USR`: opening a new session with the cookie of `XFR SB`.

use crate::frame::Frame;
use crate::line;
use crate::out::Out;
use crate::sb::SbCommand;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<SbCommand> {
    match args {
        [handle, cookie] => Some(SbCommand::Usr {
            trid,
            handle: (*handle).to_owned(),
            cookie: (*cookie).to_owned(),
        }),
        _ => None,
    }
}

/// `USR TrID OK handle name`.
pub fn usr_ok(out: &mut Out, trid: u32, handle: &str, name: &str) {
    let name = crate::name::encode(name);
    line!(out, "USR {trid} OK {handle} {name}");
}
