//! `CHG`: the user's status, and what watchers are told about a contact:
//! `ILN` (initial), `NLN` (changed), `FLN` (gone).

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::Status;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [status, extra @ ..] if extra.len() <= 2 => Some(NsCommand::Chg {
            trid,
            status: Status::parse(status)?,
            capabilities: extra.first().map(|s| (*s).to_owned()),
            msn_object: extra.get(1).map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `CHG`: the status echoed with the capabilities and MSNObject
/// the client sent.
pub fn chg(
    out: &mut Out,
    trid: u32,
    status: Status,
    capabilities: Option<&str>,
    msn_object: Option<&str>,
) {
    match (capabilities, msn_object) {
        (Some(c), Some(o)) => line!(out, "CHG {trid} {status} {c} {o}"),
        (Some(c), None) => line!(out, "CHG {trid} {status} {c}"),
        (None, Some(o)) => line!(out, "CHG {trid} {status} {o}"),
        (None, None) => line!(out, "CHG {trid} {status}"),
    }
}

/// What a watcher is told about a visible contact.
#[derive(Clone, Copy, Debug)]
pub struct PresenceView<'a> {
    pub status: Status,
    pub handle: &'a str,
    pub name: &'a str,
    /// Client capabilities; `None` when the contact's client has none.
    pub capabilities: Option<&'a str>,
    pub msn_object: Option<&'a str>,
}

/// The handle as presence lines of `dialect` name a contact on `network`:
/// `bob@x.com`, `bob@x.com 1` (MSNP14–17) or `1:bob@x.com` (MSNP18).
fn presence_handle(dialect: Dialect, handle: &str, network: u8) -> String {
    if dialect.prefixes_network_id() {
        format!("{network}:{handle}")
    } else if dialect.presence_has_network_field() {
        format!("{handle} {network}")
    } else {
        handle.to_owned()
    }
}

/// Capabilities as `dialect` writes them: MSNP16+ `caps:capsex` (`:0`
/// added when the contact's client sent no extended ones), older dialects
/// the first number only.
pub fn capabilities_for(dialect: Dialect, capabilities: Option<&str>) -> String {
    let caps = capabilities.unwrap_or("0");
    let (basic, extended) = caps.split_once(':').unwrap_or((caps, "0"));
    if dialect.has_extended_capabilities() {
        format!("{basic}:{extended}")
    } else {
        basic.to_owned()
    }
}

fn presence_tail(dialect: Dialect, p: &PresenceView<'_>) -> String {
    let handle = presence_handle(dialect, p.handle, 1);
    let mut s = format!("{} {handle} {}", p.status, crate::name::encode(p.name));
    if dialect.has_capabilities() {
        s.push(' ');
        s.push_str(&capabilities_for(dialect, p.capabilities));
        // MSNP16+ always have the field, `0` for no picture: BitlBee's
        // MSNP18 code (written against the real service) drops the
        // connection on an `NLN` without it.
        match p.msn_object {
            Some(obj) if dialect.has_msn_object() => {
                s.push(' ');
                s.push_str(obj);
            }
            None if dialect.has_extended_capabilities() => s.push_str(" 0"),
            _ => {}
        }
    }
    s
}

/// `ILN TrID status handle name[ caps[ msnobj]]` (MSNP18: `NLN` without
/// the TrID).
pub fn iln(out: &mut Out, trid: u32, dialect: Dialect, p: &PresenceView<'_>) {
    if dialect.initial_presence_is_nln() {
        return nln(out, dialect, p);
    }
    line!(out, "ILN {trid} {}", presence_tail(dialect, p));
}

/// `NLN status handle name[ caps[ msnobj]]`.
pub fn nln(out: &mut Out, dialect: Dialect, p: &PresenceView<'_>) {
    line!(out, "NLN {}", presence_tail(dialect, p));
}

/// `FLN handle` (MSNP14–17 `FLN handle 1 0`, 16+ with `0:0`, MSNP18
/// `FLN 1:handle 0:0`).
pub fn fln(out: &mut Out, dialect: Dialect, handle: &str) {
    let handle = presence_handle(dialect, handle, 1);
    if dialect.has_extended_capabilities() {
        line!(out, "FLN {handle} 0:0");
    } else if dialect.presence_has_network_field() {
        line!(out, "FLN {handle} 0");
    } else {
        line!(out, "FLN {handle}");
    }
}
