//! `CVR` and `CVQ`: client version information and the answer with the
//! recommended and minimum versions.

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse_cvr(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    (!args.is_empty()).then(|| NsCommand::Cvr {
        trid,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}

pub(crate) fn parse_cvq(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    (!args.is_empty()).then(|| NsCommand::Cvq {
        trid,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// The answer to `CVR` or `CVQ` (`command`): `recommended` twice, then the
/// minimum version and the two URLs.
pub fn cvr(
    out: &mut Out,
    command: &str,
    trid: u32,
    recommended: &str,
    minimum: &str,
    download_url: &str,
    info_url: &str,
) {
    line!(
        out,
        "{command} {trid} {recommended} {recommended} {minimum} {download_url} {info_url}"
    );
}
