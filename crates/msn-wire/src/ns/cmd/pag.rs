//! `PAG`: a page to a mobile device (answered with an error).

use crate::frame::Frame;
use crate::ns::NsCommand;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [target, _len] => Some(NsCommand::Pag {
            trid,
            target: (*target).to_owned(),
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}
