//! `BLP`: the privacy mode.

use crate::dialect::{Dialect, ListModel};
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;
use crate::vocab::Privacy;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [value] => Some(NsCommand::Blp {
            trid,
            value: Privacy::parse(value)?,
        }),
        _ => None,
    }
}

/// Reply to `BLP`.
pub fn blp(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: Privacy) {
    if dialect.has_list_versions() {
        line!(out, "BLP {trid} {version} {value}");
    } else {
        line!(out, "BLP {trid} {value}");
    }
}

/// `BLP` inside a `SYN` download.
pub fn syn_blp(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: Privacy) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "BLP {trid} {version} {value}"),
        _ => line!(out, "BLP {value}"),
    }
}
