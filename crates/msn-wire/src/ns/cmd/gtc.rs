//! `GTC`: whether the user is asked when someone adds them.

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::AddAlert;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [value] => Some(NsCommand::Gtc {
            trid,
            value: AddAlert::parse(value)?,
        }),
        _ => None,
    }
}

/// Reply to `GTC`.
pub fn gtc(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: AddAlert) {
    if dialect.has_list_versions() {
        line!(out, "GTC {trid} {version} {value}");
    } else {
        line!(out, "GTC {trid} {value}");
    }
}

/// `GTC` inside a `SYN` download.
pub fn syn_gtc(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: AddAlert) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "GTC {trid} {version} {value}"),
        _ => line!(out, "GTC {value}"),
    }
}
