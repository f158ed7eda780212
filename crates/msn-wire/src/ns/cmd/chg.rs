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

fn presence_tail(dialect: Dialect, p: &PresenceView<'_>) -> String {
    let mut s = format!("{} {} {}", p.status, p.handle, p.name);
    if dialect.has_capabilities() {
        s.push(' ');
        s.push_str(p.capabilities.unwrap_or("0"));
        if dialect.has_msn_object()
            && let Some(obj) = p.msn_object
        {
            s.push(' ');
            s.push_str(obj);
        }
    }
    s
}

/// `ILN TrID status handle name[ caps[ msnobj]]`.
pub fn iln(out: &mut Out, trid: u32, dialect: Dialect, p: &PresenceView<'_>) {
    line!(out, "ILN {trid} {}", presence_tail(dialect, p));
}

/// `NLN status handle name[ caps[ msnobj]]`.
pub fn nln(out: &mut Out, dialect: Dialect, p: &PresenceView<'_>) {
    line!(out, "NLN {}", presence_tail(dialect, p));
}

/// `FLN handle`.
pub fn fln(out: &mut Out, handle: &str) {
    line!(out, "FLN {handle}");
}
