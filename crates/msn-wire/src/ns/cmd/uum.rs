//! `UUM` (MSNP14+): a message sent through the NS to a contact on another
//! network (Yahoo!, network 32), or by some MSNP18 clients to an offline
//! Messenger contact (network 1) as an offline message.

use crate::frame::Frame;
use crate::ns::NsCommand;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [target, network, kind, _len] => Some(NsCommand::Uum {
            trid,
            target: (*target).to_owned(),
            network: network.parse().ok()?,
            kind: kind.parse().ok()?,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}
