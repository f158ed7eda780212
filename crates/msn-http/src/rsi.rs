//! The offline-message retrieval service, `POST /rsi/rsi.asmx` (RSI,
//! msnp13-18.md §7.2): `GetMetadata` (every waiting message, the `<MD>`
//! document the NS sends), `GetMessage` (one message as RFC 822 text) and
//! `DeleteMessages`.
//!
//! Calls are authenticated by the `messenger.msn.com` token, split into
//! `PassportCookie/t` and `/p`; it names the account, so a user can only
//! read and delete their own messages (another user's message id is "no
//! such message"). A missing, expired or wrong token gets
//! `q0:BadContextToken`, on which libpurple fetches a new token and
//! retries. msnd keeps no read flag: `alsoMarkAsRead` is accepted and
//! every message is listed unread until the client deletes it, which the
//! clients do right after showing it.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msn_auth::{Audience, Grant};
use msn_store::StoredOim;
use msn_wire::mail_data::{self, OimEntry};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::{debug, info};
use uuid::Uuid;

use crate::HttpContext;
use crate::oim::{envelope_open, fault, soap_action, xml};
use crate::soap_xml::{self, Element, Out};

/// Namespace of the requests, the replies and the fault codes.
pub const RSI_NS: &str = "http://www.hotmail.msn.com/ws/2004/09/oim/rsi";
/// Seconds from 1601-01-01 (Windows FILETIME's epoch) to 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;

/// Whether `path` is the RSI service (libpurple doubles the leading slash).
pub fn is_rsi_path(path: &str) -> bool {
    path.trim_start_matches('/')
        .eq_ignore_ascii_case("rsi/rsi.asmx")
}

fn client_fault(why: &str) -> Response {
    fault(RSI_NS, "InvalidRequest", why, "")
}

fn server_fault() -> Response {
    fault(
        RSI_NS,
        "SystemUnavailable",
        "The request could not be completed",
        "",
    )
}

/// Serves one POST to the RSI service.
pub async fn handle(ctx: &HttpContext, headers: &HeaderMap, body: Body) -> Response {
    let limit = ctx.config.http.max_soap_request_bytes;
    let bytes = match crate::abservice::read_body(headers, body, limit).await {
        Ok(b) => b,
        Err(why) => {
            debug!(%why, "RSI request body refused");
            return client_fault(&why);
        }
    };
    let Ok(envelope) = soap_xml::parse_envelope(&bytes) else {
        return client_fault("Malformed request");
    };
    let Some(request) = envelope.soap_operation() else {
        return client_fault("Empty body");
    };
    // The SOAPAction header names the action; without one, the body's
    // element does. Both present must agree.
    let action = soap_action(headers).unwrap_or_else(|| request.name.clone());
    if !request.name.eq_ignore_ascii_case(&action) {
        return client_fault("SOAPAction and body disagree");
    }
    let Some(grant) =
        ticket(&envelope).and_then(|t| ctx.tokens.validate(&t, Audience::MessengerWeb))
    else {
        debug!(%action, "RSI request without a valid messenger.msn.com ticket");
        return crate::oim::bad_ticket(RSI_NS);
    };
    match action.as_str() {
        "GetMetadata" => get_metadata(ctx, &grant).await,
        "GetMessage" => get_message(ctx, &grant, request).await,
        "DeleteMessages" => delete_messages(ctx, &grant, request).await,
        _ => {
            info!(%action, "unknown RSI action");
            client_fault("Unknown action")
        }
    }
}

/// `PassportCookie`'s `t` and `p`, put together as the token was issued.
fn ticket(envelope: &Element) -> Option<String> {
    let cookie = envelope.at(&["Header", "PassportCookie"])?;
    let t = cookie.text_at(&["t"])?;
    let p = cookie.text_at(&["p"])?;
    Some(format!("t={t}&p={p}"))
}

/// `<{action}Response xmlns=RSI>inner</…>` in an envelope.
fn reply(action: &str, inner: &str) -> Response {
    let mut out = Out::default();
    out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    envelope_open(&mut out);
    let response = format!("{action}Response");
    out.open("soap:Body")
        .open_with(&response, &[("xmlns", RSI_NS)])
        .raw(inner)
        .close(&response)
        .close("soap:Body")
        .close("soap:Envelope");
    xml(StatusCode::OK, out.into_string())
}

async fn get_metadata(ctx: &HttpContext, grant: &Grant) -> Response {
    let Ok(oims) = ctx.service.offline_messages(grant.user_id).await else {
        return server_fault();
    };
    let ids: Vec<String> = oims.iter().map(|m| format!("{:X}", m.id)).collect();
    let entries: Vec<OimEntry<'_>> = oims
        .iter()
        .zip(&ids)
        .map(|(m, id)| OimEntry {
            sender: m.sender.as_str(),
            sender_name: &m.sender_name,
            id,
            received_at: m.received_at,
            size: m.size,
        })
        .collect();
    debug!(user = %grant.handle, count = oims.len(), "RSI GetMetadata");
    reply("GetMetadata", &mail_data::document(&entries))
}

fn message_id(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text.trim().trim_start_matches('{').trim_end_matches('}')).ok()
}

async fn get_message(ctx: &HttpContext, grant: &Grant, request: &Element) -> Response {
    let Some(id) = request.text_at(&["messageId"]).and_then(message_id) else {
        return client_fault("No messageId");
    };
    match ctx.service.offline_message(grant.user_id, id).await {
        Ok(Some(oim)) => {
            let mut inner = Out::default();
            inner.leaf("GetMessageResult", &rfc822(&oim, grant.handle.as_str()));
            debug!(user = %grant.handle, %id, "RSI GetMessage");
            reply("GetMessage", &inner.into_string())
        }
        Ok(None) => client_fault("No such message"),
        Err(_) => server_fault(),
    }
}

async fn delete_messages(ctx: &HttpContext, grant: &Grant, request: &Element) -> Response {
    let ids: Option<Vec<Uuid>> = request
        .child("messageIds")
        .map(|list| {
            list.children_named("messageId")
                .map(|m| message_id(&m.text))
                .collect()
        })
        .unwrap_or_else(|| Some(Vec::new()));
    let Some(ids) = ids.filter(|ids| !ids.is_empty()) else {
        return client_fault("No valid messageIds");
    };
    match ctx
        .service
        .delete_offline_messages(&grant.handle, grant.user_id, &ids)
        .await
    {
        Ok(count) => {
            debug!(user = %grant.handle, asked = ids.len(), count, "RSI DeleteMessages");
            reply("DeleteMessages", "")
        }
        Err(_) => server_fault(),
    }
}

/// The stored message as the RSI service returns it (msnp13-18.md §7.2):
/// RFC 822 headers, CRLF line ends (written raw inside the XML, so a
/// client's XML parser turns them into LF: libpurple splits this text on
/// `\n` and `\n\n`), the sender's name RFC 2047-encoded,
/// the text base64 (UTF-8) in lines of 76. `Date` has no weekday:
/// libpurple reads it as `5 Sep 2007 21:42:12 -0700` and falls back to
/// "now" on anything else.
pub fn rfc822(oim: &StoredOim, recipient: &str) -> String {
    let at =
        OffsetDateTime::from_unix_timestamp(oim.received_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let date = at
        .format(format_description!(
            "[day padding:none] [month repr:short] [year] [hour]:[minute]:[second] +0000"
        ))
        .expect("a date formats");
    let filetime = (oim.received_at + FILETIME_EPOCH_OFFSET).max(0) as u64 * 10_000_000;
    let arrival = at
        .format(format_description!(
            "[day padding:none] [month repr:short] [year] [hour]:[minute]:[second].0000 (UTC)"
        ))
        .expect("a date formats");
    let id = format!("{:X}", oim.id);
    let mut s = String::with_capacity(1024 + oim.text.len() * 2);
    let mut header = |name: &str, value: &str| {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    };
    header("X-Message-Info", &BASE64.encode(oim.id.as_bytes()));
    header("Received", &format!("from msnd by msnd; {date}"));
    header(
        "From",
        &format!(
            "{} <{}>",
            mail_data::rfc2047(&oim.sender_name),
            oim.sender.as_str()
        ),
    );
    header("To", recipient);
    header("Subject", "");
    header("X-OIM-originatingSource", &oim.origin);
    header("X-OIMProxy", "MSNMSGR");
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=UTF-8");
    header("Content-Transfer-Encoding", "base64");
    header("X-OIM-Message-Type", "OfflineMessage");
    header("X-OIM-Run-Id", &format!("{{{:X}}}", oim.run_id));
    header("X-OIM-Sequence-Num", &oim.sequence_num.to_string());
    header("Message-ID", &format!("<{id}@oim.messenger.msn.com>"));
    header(
        "X-OriginalArrivalTime",
        &format!(
            "{arrival} FILETIME=[{:08X}:{:08X}]",
            filetime as u32,
            (filetime >> 32) as u32
        ),
    );
    header("Date", &date);
    header("Return-Path", "ndr@oim.messenger.msn.com");
    s.push_str("\r\n");
    let encoded = BASE64.encode(oim.text.as_bytes());
    for (i, line) in encoded.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            s.push_str("\r\n");
        }
        s.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use msn_core::handle::Handle;

    #[test]
    fn rfc822_as_clients_read_it() {
        let oim = StoredOim {
            id: Uuid::parse_str("08cbd8be-9972-433c-a9da-84a0a725abfa").unwrap(),
            sender: Handle::parse("alice@example.com").unwrap(),
            sender_name: "Ålice".into(),
            run_id: Uuid::parse_str("3a3be82f-c4fc-4d8e-a1a4-d2a2c8f6a1b1").unwrap(),
            sequence_num: 2,
            origin: "192.0.2.7".into(),
            received_at: 1_132_093_467,
            size: 5,
            text: "x".repeat(60),
        };
        let text = rfc822(&oim, "bob@example.com");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(lines[2], "From: =?utf-8?B?w4VsaWNl?= <alice@example.com>");
        assert!(lines.contains(&"To: bob@example.com"));
        assert!(lines.contains(&"X-OIM-originatingSource: 192.0.2.7"));
        assert!(lines.contains(&"X-OIM-Run-Id: {3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1}"));
        assert!(lines.contains(&"X-OIM-Sequence-Num: 2"));
        assert!(lines.contains(&"Date: 15 Nov 2005 22:24:27 +0000"));
        assert!(
            lines.contains(
                &"Message-ID: <08CBD8BE-9972-433C-A9DA-84A0A725ABFA@oim.messenger.msn.com>"
            )
        );
        // 1132093467 s after 1970 = 0x01C5EA2B_... in FILETIME (low:high).
        let ft = (1_132_093_467u64 + 11_644_473_600) * 10_000_000;
        assert!(lines.contains(
            &format!(
                "X-OriginalArrivalTime: 15 Nov 2005 22:24:27.0000 (UTC) FILETIME=[{:08X}:{:08X}]",
                ft as u32,
                (ft >> 32) as u32
            )
            .as_str()
        ));
        assert_eq!(
            lines.last(),
            Some(&"Return-Path: ndr@oim.messenger.msn.com")
        );
        let body_lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(body_lines.len(), 2);
        assert_eq!(body_lines[0].len(), 76);
        assert_eq!(
            BASE64.decode(body_lines.concat()).unwrap(),
            "x".repeat(60).into_bytes()
        );
    }
}
