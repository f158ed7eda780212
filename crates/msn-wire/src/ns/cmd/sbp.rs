//! `SBP` (MSNP10+): a contact's name recorded in the address book.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [contact, property, value @ ..] if value.len() <= 1 => Some(NsCommand::Sbp {
            trid,
            contact: (*contact).to_owned(),
            property: (*property).to_owned(),
            value: value.first().map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `SBP`: the request echoed.
pub fn sbp(out: &mut Out, trid: u32, contact: &str, property: &str, value: Option<&str>) {
    match value {
        Some(v) => line!(out, "SBP {trid} {contact} {property} {v}"),
        None => line!(out, "SBP {trid} {contact} {property}"),
    }
}
