//! `PRP`: phone numbers and mobile settings, and from MSNP10 the own
//! friendly name (`MFN`).

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [property, value @ ..] if value.len() <= 1 => Some(NsCommand::Prp {
            trid,
            property: (*property).to_owned(),
            value: value.first().map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `PRP`.
pub fn prp(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    if dialect.has_list_versions() {
        line!(out, "PRP {trid} {version} {property}{value}");
    } else {
        line!(out, "PRP {trid} {property}{value}");
    }
}

/// Reply to `PRP TrID MFN name` (MSNP10+).
///
/// `encoded`: the parameter as the client sent it. A reply echoes the
/// client's own encoding (clients differ in how much they encode); what
/// others are sent is the name re-encoded (`crate::name`).
pub fn prp_friendly_name(out: &mut Out, trid: u32, encoded: &str) {
    let name = encoded;
    line!(out, "PRP {trid} MFN {name}");
}

/// `PRP` inside a `SYN` download. MSNP5–7 list every property (unset ones
/// without a value); MSNP8+ only set ones, so callers skip `None` there.
pub fn syn_prp(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    match dialect.list_model() {
        ListModel::PerList => line!(out, "PRP {trid} {version} {property}{value}"),
        _ => line!(out, "PRP {property}{value}"),
    }
}

/// The friendly name in a list download (`PRP MFN`, MSNP8+), encoded.
pub fn syn_friendly_name(out: &mut Out, trid: u32, dialect: Dialect, version: u64, name: &str) {
    syn_prp(
        out,
        trid,
        dialect,
        version,
        "MFN",
        Some(&crate::name::encode(name)),
    );
}
