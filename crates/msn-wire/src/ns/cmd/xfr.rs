//! `XFR`: referrals to a Notification Server and to a switchboard.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [target] => Some(NsCommand::Xfr {
            trid,
            target: (*target).to_owned(),
        }),
        _ => None,
    }
}

/// The Dispatch Server's referral to a Notification Server.
pub fn xfr_ns(out: &mut Out, trid: u32, dialect: Dialect, ns_addr: &str, this_addr: &str) {
    if dialect.xfr_ns_ud() {
        return line!(out, "XFR {trid} NS {ns_addr} U D");
    }
    match dialect.xfr_ns_params() {
        1 => line!(out, "XFR {trid} NS {ns_addr}"),
        2 => line!(out, "XFR {trid} NS {ns_addr} 0"),
        _ => line!(out, "XFR {trid} NS {ns_addr} 0 {this_addr}"),
    }
}

/// `XFR TrID SB addr CKI cookie`: a new switchboard session (MSNP13
/// adds `U messenger.msn.com`, MSNP14 a trailing `1`).
pub fn xfr_sb(out: &mut Out, trid: u32, dialect: Dialect, sb_addr: &str, cookie: &str) {
    let tail = dialect.sb_referral_tail("messenger.msn.com");
    line!(out, "XFR {trid} SB {sb_addr} CKI {cookie}{tail}");
}
