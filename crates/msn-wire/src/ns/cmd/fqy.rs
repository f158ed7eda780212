//! `FQY` (MSNP14+): which network an address belongs to, asked before
//! adding it.

use crate::frame::Frame;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Fqy {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `FQY TrID len` + the `<ml>` document with each contact's network.
pub fn fqy(out: &mut Out, trid: u32, document: &[u8]) {
    out.payload(format_args!("FQY {trid}"), document);
}
