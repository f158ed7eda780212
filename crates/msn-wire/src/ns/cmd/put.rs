//! `PUT` (MSNP18): a member publishes itself into a circle's conversation
//! (`To: 9:<id>@live.com`, a `Publication: 1.0` document of
//! `application/circles+xml`; msnp13-18.md §3.12, msnp-sharp 3.x's
//! `JoinCircleConversation`). The server answers `PUT TrID OK 0` and
//! tells the members with `NFY PUT` ([`super::nfy`]).

use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<NsCommand> {
    match args {
        [_len] => Some(NsCommand::Put {
            trid,
            payload: frame.payload().cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// `PUT TrID OK 0` (no payload; the form is not in the references and
/// follows the other payload commands' acknowledgements).
pub fn put_ok(out: &mut Out, trid: u32) {
    line!(out, "PUT {trid} OK 0");
}
