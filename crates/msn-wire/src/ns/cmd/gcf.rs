//! `GCF` (MSNP11+): configuration files such as `Shields.xml`.

use crate::frame::Frame;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [name] => Some(NsCommand::Gcf {
            trid,
            name: (*name).to_owned(),
        }),
        _ => None,
    }
}

/// `GCF TrID name len` + the file.
pub fn gcf(out: &mut Out, trid: u32, name: &str, body: &[u8]) {
    out.payload(format_args!("GCF {trid} {name}"), body);
}

/// `GCF 0 len` + the policy document MSNP13+ clients are sent at sign-in.
pub fn gcf_policies(out: &mut Out, body: &[u8]) {
    out.payload(format_args!("GCF 0"), body);
}
