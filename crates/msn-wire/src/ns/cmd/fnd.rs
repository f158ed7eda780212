//! `FND`: the member directory search (answered with an error).

use crate::frame::Frame;
use crate::ns::NsCommand;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    (!args.is_empty()).then(|| NsCommand::Fnd {
        trid,
        fields: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}
