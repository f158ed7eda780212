//! `URL`: where the client's web links go.

use crate::dialect::Dialect;
use crate::frame::Frame;
use crate::line;
use crate::ns::NsCommand;
use crate::out::Out;

pub(crate) fn parse(trid: u32, args: &[&str], _frame: &Frame) -> Option<NsCommand> {
    match args {
        [service, param @ ..] if param.len() <= 1 => Some(NsCommand::Url {
            trid,
            service: (*service).to_owned(),
            param: param.first().map(|s| (*s).to_owned()),
        }),
        _ => None,
    }
}

/// Reply to `URL`.
pub fn url(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    redirect: &str,
    login_url: &str,
    site_id: u32,
) {
    if dialect.url_has_site_id() {
        line!(out, "URL {trid} {redirect} {login_url} {site_id}");
    } else {
        line!(out, "URL {trid} {redirect} {login_url}");
    }
}
