//! `USR`: the login steps (MD5, CTP, TWN, SSO) and the final `USR … OK`.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::{NsCommand, UsrAuth};
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    // MSNP15+: `USR t SSO S ticket proof [{machine-guid}]`.
    if let ["SSO", "S", ticket, proof, rest @ ..] = args {
        let machine_guid = match rest {
            [] => None,
            [guid] => Some((*guid).to_owned()),
            _ => return None,
        };
        return Some(NsCommand::Usr {
            trid,
            auth: UsrAuth::SsoProof {
                ticket: (*ticket).to_owned(),
                proof: (*proof).to_owned(),
                machine_guid,
            },
        });
    }
    let value = match args {
        [package, step, value] => Some((*package, *step, Some(*value))),
        [package, step] => Some((*package, *step, None)),
        _ => None,
    }?;
    Some(NsCommand::Usr {
        trid,
        auth: parse_auth(value.0, value.1, value.2)?,
    })
}

fn parse_auth(package: &str, step: &str, value: Option<&str>) -> Option<UsrAuth> {
    let value = value.map(str::to_owned);
    Some(match (package, step, value) {
        ("MD5", "I", Some(handle)) => UsrAuth::Md5Initial { handle },
        ("MD5", "S", Some(hash)) => UsrAuth::Md5Response { hash },
        ("CTP", "I", Some(handle)) => UsrAuth::CtpInitial { handle },
        ("CTP", "S", Some(password)) => UsrAuth::CtpPassword { password },
        ("TWN", "I", Some(handle)) => UsrAuth::TwnInitial { handle },
        ("TWN", "S", Some(ticket)) => UsrAuth::TwnTicket { ticket },
        ("SSO", "I", Some(handle)) => UsrAuth::SsoInitial { handle },
        ("SHA", "A", Some(ticket)) => UsrAuth::ShaCircleTicket { ticket },
        _ => return None,
    })
}

/// `USR TrID MD5 S salt`: the MD5 challenge.
pub fn usr_md5_salt(out: &mut Out, trid: u32, salt: &str) {
    line!(out, "USR {trid} MD5 S {salt}");
}

/// `USR TrID CTP S`: send the clear-text password (MSNP2).
pub fn usr_ctp_ready(out: &mut Out, trid: u32) {
    line!(out, "USR {trid} CTP S");
}

/// `USR TrID TWN S params`: go to Passport with these site parameters.
pub fn usr_twn_params(out: &mut Out, trid: u32, params: &str) {
    line!(out, "USR {trid} TWN S {params}");
}

/// `USR TrID SSO S MBI_KEY_OLD nonce`: get the `messengerclear.live.com`
/// token with policy `MBI_KEY_OLD` and prove its key over `nonce`.
pub fn usr_sso_nonce(out: &mut Out, trid: u32, nonce: &str) {
    line!(out, "USR {trid} SSO S MBI_KEY_OLD {nonce}");
}

/// `USR TrID OK …` after a successful login. `verified`: the account's
/// e-mail address is confirmed (MSNP6+ clients warn otherwise).
pub fn usr_ok(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    handle: &str,
    name: &str,
    verified: bool,
) {
    let mut text = format!("USR {trid} OK {handle}");
    if dialect.usr_ok_has_name() {
        text.push(' ');
        text.push_str(&crate::name::encode(name));
    }
    if dialect.usr_ok_has_verified() {
        text.push_str(if verified { " 1" } else { " 0" });
    }
    if dialect.usr_ok_has_restricted() {
        text.push_str(" 0");
    }
    line!(out, "{text}");
}

/// `USR TrID OK handle 0 0`: the circle ticket of `USR SHA A` is accepted
/// (MSNP18).
pub fn usr_sha_ok(out: &mut Out, trid: u32, handle: &str) {
    line!(out, "USR {trid} OK {handle} 0 0");
}

/// `SBS 0 null`, sent after `USR … OK` by MSNP8+ (meaning unknown, the
/// clients expect it).
pub fn sbs(out: &mut Out) {
    line!(out, "SBS 0 null");
}
