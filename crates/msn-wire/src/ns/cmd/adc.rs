//! `ADC` (MSNP10+): adding to a list by handle, or an FL contact to a
//! group by contact id.

use crate::frame::Frame;
use crate::line;
use crate::ns::{AdcTarget, NsCommand};
use crate::out::Out;
use crate::vocab::ListKind;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [list, first, second @ ..] if second.len() <= 1 => Some(NsCommand::Adc {
            trid,
            list: ListKind::parse(list)?,
            target: parse_target(first, second.first().copied())?,
        }),
        _ => None,
    }
}

fn parse_target(first: &str, second: Option<&str>) -> Option<AdcTarget> {
    if let Some(contact) = first.strip_prefix("C=") {
        return Some(AdcTarget::Group {
            contact: contact.to_owned(),
            group: second?.to_owned(),
        });
    }
    let handle = first.strip_prefix("N=")?.to_owned();
    let name = match second {
        None => None,
        Some(f) => Some(f.strip_prefix("F=")?.to_owned()),
    };
    Some(AdcTarget::Handle { handle, name })
}

/// Reply to `ADC TrID FL N=… F=…`: the new contact with its id.
/// `name`: the client's `F=` parameter, echoed as sent (see
/// `prp_friendly_name`).
pub fn adc_forward(out: &mut Out, trid: u32, handle: &str, name: &str, contact_id: &str) {
    line!(out, "ADC {trid} FL N={handle} F={name} C={contact_id}");
}

/// Reply to `ADC TrID AL|BL N=…`.
pub fn adc_list(out: &mut Out, trid: u32, list: ListKind, handle: &str) {
    line!(out, "ADC {trid} {list} N={handle}");
}

/// Reply to `ADC TrID FL C=contact group`.
pub fn adc_group(out: &mut Out, trid: u32, contact_id: &str, group: &str) {
    line!(out, "ADC {trid} FL C={contact_id} {group}");
}
