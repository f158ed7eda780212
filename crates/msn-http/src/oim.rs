//! The offline-message store service, `POST /OimWS/oim.asmx` (WLM 8.x and
//! 2009 send an OIM with it when the recipient shows as offline;
//! msnp13-18.md §7.3–§7.4): SOAPAction `…/oim/Store2` (MSNP14+) or the
//! MSNP13 builds' `…/oim/Store`, the same request either way.
//!
//! A call is answered in this order:
//! 1. the ticket: `Ticket@passport` must be a valid `messengersecure.live.com`
//!    bearer token of the account in `From@memberName`; otherwise the fault
//!    `q0:BadContextToken`, on which libpurple fetches a new token and
//!    retries (its `msn_oim_request_cb`). The reference names no fault for
//!    a bad ticket; this is the one a client is known to act on.
//! 2. the lock key ([`LockKeys`]): without the answer to the challenge this
//!    session was given, `q0:AuthenticationFailed` with
//!    `detail/LockKeyChallenge`; the client computes the MSNP11-style QRY
//!    answer over it and sends the message again.
//! 3. the message: too large or not readable → `q0:InvalidContent`;
//!    an unknown recipient, one that does not admit the sender, or one
//!    with the maximum of messages waiting → `q0:SystemUnavailable`
//!    (libpurple: "This normally happens when the user is blocked or does
//!    not exist"); nothing is stored.
//! 4. stored (committed) → `StoreResponse`; a recipient who is signed in
//!    hears of it on the NS at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msn_auth::{Audience, Grant};
use msn_core::challenge;
use msn_core::handle::Handle;
use msn_service::{OfflineMessage, OimRefused};
use msn_wire::dialect::ChallengeKind;
use msn_wire::mail_data::decode_rfc2047;
use tracing::{debug, info};
use uuid::Uuid;

use crate::HttpContext;
use crate::soap_xml::{self, Element, Out};

/// Namespace of the request headers, the reply and the fault codes.
pub const OIM_NS: &str = "http://messenger.msn.com/ws/2004/09/oim/";
use crate::soap_xml::SOAP11_NS as SOAP_NS;
const RM_NS: &str = "http://schemas.xmlsoap.org/ws/2003/03/rm";
const UTILITY_NS: &str = "http://schemas.xmlsoap.org/ws/2002/07/utility";
/// The one sequence identifier clients use.
const SEQUENCE_ID: &str = "http://messenger.msn.com";

/// Whether `path` is the store service (libpurple doubles the leading
/// slash).
pub fn is_store_path(path: &str) -> bool {
    path.trim_start_matches('/')
        .eq_ignore_ascii_case("OimWS/oim.asmx")
}

/// A SOAP 1.1 fault as the OIM services send it: HTTP 500, `faultcode`
/// `q0:<code>` with `q0` bound to `ns` (clients compare the text
/// `q0:AuthenticationFailed` literally), and `detail` markup this crate
/// wrote itself.
pub(crate) fn fault(ns: &str, code: &str, text: &str, detail: &str) -> Response {
    let mut out = Out::default();
    out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    envelope_open(&mut out);
    out.open("soap:Body").open("soap:Fault");
    out.open_with("faultcode", &[("xmlns:q0", ns)])
        .raw(&format!("q0:{code}"))
        .close("faultcode");
    out.leaf("faultstring", text);
    out.open("detail").raw(detail).close("detail");
    out.close("soap:Fault")
        .close("soap:Body")
        .close("soap:Envelope");
    xml(StatusCode::INTERNAL_SERVER_ERROR, out.into_string())
}

pub(crate) fn envelope_open(out: &mut Out) {
    out.open_with(
        "soap:Envelope",
        &[
            ("xmlns:soap", SOAP_NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema"),
        ],
    );
}

pub(crate) fn xml(status: StatusCode, body: String) -> Response {
    crate::abservice::xml_response(status, body)
}

/// `q0:BadContextToken`: no valid ticket for the sender (the client gets
/// a new token and tries again).
pub(crate) fn bad_ticket(ns: &str) -> Response {
    fault(ns, "BadContextToken", "Invalid ticket", "")
}

fn system_unavailable(why: &str) -> Response {
    fault(OIM_NS, "SystemUnavailable", why, "")
}

fn invalid_content(why: &str) -> Response {
    fault(OIM_NS, "InvalidContent", why, "")
}

/// The lock-key challenges handed out, one per sender session (a session
/// being its `messengersecure.live.com` ticket: a new sign-in gets new
/// tokens). libpurple computes the key once and sends it with every later
/// message of the session, so the challenge stays until the ticket
/// expires.
///
/// The key is checked with the product key of the client's `appid`
/// (challenges.md §4; libpurple always sends WLM 8.5's id, also on
/// MSNP18). For a product id msnd has no key for, the key cannot be
/// computed here: such a client must still answer a challenge (the round
/// trip every client makes) with 32 hex digits, which is then accepted
/// unchecked — refusing would leave those clients unable to send offline
/// messages at all, and the key protects nothing a token does not.
pub struct LockKeys {
    issued: Mutex<HashMap<String, (String, Instant)>>,
}

/// Challenges kept before expired ones are swept; if that frees nothing,
/// all are forgotten (their clients simply answer a new challenge). About
/// 100 bytes each.
const SWEEP_AT: usize = 100_000;

impl Default for LockKeys {
    fn default() -> Self {
        LockKeys {
            issued: Mutex::new(HashMap::new()),
        }
    }
}

/// What the lock key of a request amounts to.
#[derive(Debug, PartialEq, Eq)]
enum LockKey {
    Accepted,
    /// Answer this challenge first.
    Challenge(String),
}

impl LockKeys {
    fn check(&self, ticket: &str, appid: &str, lockkey: &str, lifetime: Duration) -> LockKey {
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some((challenge, at)) = issued.get(ticket)
            && now.duration_since(*at) < lifetime
        {
            let accepted = if challenge::key_for(ChallengeKind::ProductKey, appid).is_some() {
                challenge::verify(
                    ChallengeKind::ProductKey,
                    appid,
                    challenge,
                    lockkey.as_bytes(),
                )
            } else {
                let well_formed =
                    lockkey.len() == 32 && lockkey.bytes().all(|b| b.is_ascii_hexdigit());
                if well_formed {
                    debug!(
                        appid,
                        "OIM lock key of an unknown product id accepted unchecked"
                    );
                }
                well_formed
            };
            if accepted {
                return LockKey::Accepted;
            }
            return LockKey::Challenge(challenge.clone());
        }
        if issued.len() >= SWEEP_AT {
            issued.retain(|_, (_, at)| now.duration_since(*at) < lifetime);
            if issued.len() >= SWEEP_AT {
                issued.clear();
            }
        }
        // 20 digits: lengths that are multiples of 8 are computed
        // differently by different clients (challenges.md §5).
        let challenge = msn_core::ids::challenge();
        issued.insert(ticket.to_owned(), (challenge.clone(), now));
        LockKey::Challenge(challenge)
    }
}

/// The `AuthenticationFailed` fault with a lock-key challenge.
fn lock_key_challenge(challenge: &str) -> Response {
    let mut detail = Out::default();
    // The Passport parameters a ticket refresh would use; clients only
    // read the lock-key challenge.
    detail.leaf_ns(
        "TweenerChallenge",
        OIM_NS,
        "ct=1,rn=1,tw=40,id=507,lc=1033,ru=http%3A%2F%2Fmessenger.msn.com",
    );
    detail.leaf_ns("LockKeyChallenge", OIM_NS, challenge);
    fault(
        OIM_NS,
        "AuthenticationFailed",
        "Exception of type 'System.Web.Services.Protocols.SoapException' was thrown.",
        &detail.into_string(),
    )
}

/// The message part of a request (`soap:Body/Content`), MIME as the
/// clients write it: headers, a blank line, base64 of the UTF-8 text.
#[derive(Debug, PartialEq, Eq)]
struct Content {
    run_id: Uuid,
    sequence_num: u32,
    text: String,
}

fn parse_content(content: &str) -> Result<Content, &'static str> {
    // libpurple writes LF line ends; the real clients CRLF.
    let content = content.trim_start();
    let (head, body) = content
        .split_once("\r\n\r\n")
        .or_else(|| content.split_once("\n\n"))
        .ok_or("no blank line after the headers")?;
    let mut run_id = None;
    let mut sequence_num = 1;
    let mut base64 = false;
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "x-oim-run-id" => {
                let guid = value.trim_start_matches('{').trim_end_matches('}');
                run_id = Some(Uuid::parse_str(guid).map_err(|_| "bad X-OIM-Run-Id")?);
            }
            "x-oim-sequence-num" => {
                sequence_num = value.parse().map_err(|_| "bad X-OIM-Sequence-Num")?;
            }
            "content-transfer-encoding" => base64 = value.eq_ignore_ascii_case("base64"),
            _ => {}
        }
    }
    if !base64 {
        return Err("the text is not base64");
    }
    let encoded: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = BASE64.decode(encoded).map_err(|_| "bad base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "the text is not UTF-8")?;
    Ok(Content {
        run_id: run_id.ok_or("no X-OIM-Run-Id")?,
        sequence_num,
        text,
    })
}

/// The sender's display name: `From@friendlyName` (RFC 2047, as clients
/// write it) decoded once, else the account's own name.
async fn sender_name(ctx: &HttpContext, grant: &Grant, from: &Element) -> String {
    if let Some(name) = from
        .attr("friendlyName")
        .and_then(decode_rfc2047)
        .filter(|n| {
            !n.trim().is_empty()
                && n.len() <= msn_core::text::MAX_FRIENDLY_NAME
                && msn_core::text::is_displayable(n)
        })
    {
        return name;
    }
    match ctx
        .service
        .account_actor(&grant.handle, grant.user_id)
        .await
    {
        Ok(actor) => actor.state().account.friendly_name.clone(),
        Err(_) => grant.handle.as_str().to_owned(),
    }
}

/// The reply to a stored message.
fn stored(sequence: &str) -> Response {
    let mut out = Out::default();
    out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    envelope_open(&mut out);
    out.open("soap:Header")
        .open_with("SequenceAcknowledgment", &[("xmlns", RM_NS)])
        .leaf_ns("Identifier", UTILITY_NS, SEQUENCE_ID);
    out.open_with(
        "AcknowledgmentRange",
        &[("Upper", sequence), ("Lower", sequence)],
    )
    .close("AcknowledgmentRange");
    out.close("SequenceAcknowledgment").close("soap:Header");
    out.open("soap:Body")
        .open_with("StoreResponse", &[("xmlns", OIM_NS)])
        .leaf("PointsConsumed", "0")
        .close("StoreResponse")
        .close("soap:Body")
        .close("soap:Envelope");
    xml(StatusCode::OK, out.into_string())
}

/// Serves one POST to the store service (see the module docs).
pub async fn handle(
    ctx: &HttpContext,
    locks: &LockKeys,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let action = soap_action(headers);
    if let Some(action) = &action
        && !matches!(action.as_str(), "Store2" | "Store")
    {
        info!(%action, "unknown OIM store action");
        return fault(OIM_NS, "UnknownAction", "Unknown action", "");
    }
    let limit = ctx.config.http.max_soap_request_bytes;
    let bytes = match crate::abservice::read_body(headers, body, limit).await {
        Ok(b) => b,
        Err(why) => {
            debug!(%why, "OIM store request body refused");
            return invalid_content(&why);
        }
    };
    let Ok(envelope) = soap_xml::parse_envelope(&bytes) else {
        return invalid_content("Malformed request");
    };
    let header = envelope.child("Header");
    let part = |name: &str| header.and_then(|h| h.child(name));
    let (Some(from), Some(to), Some(ticket)) = (part("From"), part("To"), part("Ticket")) else {
        return invalid_content("Missing From, To or Ticket");
    };
    let passport = ticket.attr("passport").unwrap_or("");
    let sender = from.attr("memberName").and_then(|m| Handle::parse(m).ok());
    let Some(grant) = ctx
        .tokens
        .validate(passport, Audience::MessengerSecure)
        .filter(|g| sender.as_ref() == Some(&g.handle))
    else {
        debug!("OIM store request without a valid ticket for its sender");
        return bad_ticket(OIM_NS);
    };
    let appid = ticket.attr("appid").unwrap_or("");
    let lockkey = ticket.attr("lockkey").unwrap_or("");
    let lifetime = ctx.config.http.soap_token_ttl;
    if let LockKey::Challenge(challenge) = locks.check(passport, appid, lockkey, lifetime) {
        debug!(user = %grant.handle, appid, "OIM lock key challenge");
        return lock_key_challenge(&challenge);
    }
    let Some(recipient) = to.attr("memberName").and_then(|m| Handle::parse(m).ok()) else {
        return system_unavailable("No such recipient");
    };
    let body = envelope.child("Body");
    let message_type = body.and_then(|b| b.text_at(&["MessageType"]));
    if message_type.is_some_and(|t| !t.eq_ignore_ascii_case("text")) {
        return invalid_content("Only text messages are stored");
    }
    let content = match body
        .and_then(|b| b.child("Content"))
        .map(|c| parse_content(&c.text))
    {
        Some(Ok(content)) => content,
        Some(Err(why)) => {
            debug!(user = %grant.handle, why, "OIM content not understood");
            return invalid_content(why);
        }
        None => return invalid_content("No content"),
    };
    // Acknowledged as numbered in the reliable-messaging header, which
    // clients keep equal to the MIME part's sequence number.
    let sequence = header
        .and_then(|h| h.text_at(&["Sequence", "MessageNumber"]))
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(content.sequence_num)
        .to_string();
    let message = OfflineMessage {
        sender_name: sender_name(ctx, &grant, from).await,
        text: content.text,
        run_id: content.run_id,
        sequence_num: content.sequence_num,
        origin: peer.to_string(),
    };
    match ctx
        .service
        .send_offline_message(&grant.handle, &recipient, message)
        .await
    {
        Ok(_) => stored(&sequence),
        Err(OimRefused::TooLarge) => invalid_content("The message is too large"),
        Err(OimRefused::Undeliverable) => system_unavailable("The recipient cannot be reached"),
        Err(OimRefused::RecipientFull) => {
            system_unavailable("The recipient has too many offline messages waiting")
        }
        Err(OimRefused::Storage) => system_unavailable("The message could not be stored"),
    }
}

/// The last segment of the `SOAPAction` header (`…/Store2` → `Store2`).
pub(crate) fn soap_action(headers: &HeaderMap) -> Option<String> {
    headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"'))
        .and_then(|v| v.rsplit('/').next())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_as_libpurple_and_wlm_write_it() {
        let lf = "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\
                  Content-Transfer-Encoding: base64\nX-OIM-Message-Type: OfflineMessage\n\
                  X-OIM-Run-Id: {3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1}\nX-OIM-Sequence-Num: 3\n\n\
                  SMOkbGxv\nIHdvcmxk";
        assert_eq!(
            parse_content(lf),
            Ok(Content {
                run_id: Uuid::parse_str("3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1").unwrap(),
                sequence_num: 3,
                text: "Hällo world".into(),
            })
        );
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(parse_content(&crlf).unwrap().text, "Hällo world");
        assert!(parse_content("X-OIM-Run-Id: {x}\n\nAAAA").is_err());
        let not_utf8 = "Content-Transfer-Encoding: base64\nX-OIM-Run-Id: \
                        {3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1}\n\n/w==";
        assert_eq!(parse_content(not_utf8), Err("the text is not UTF-8"));
    }

    #[test]
    fn lock_keys_per_ticket() {
        let locks = LockKeys::default();
        let life = Duration::from_secs(60);
        let pid = "PROD0119GSJUC$18";
        let LockKey::Challenge(chl) = locks.check("t1", pid, "", life) else {
            panic!("a first call is challenged");
        };
        assert_eq!(chl.len(), 20);
        // The same challenge until answered, and after.
        assert_eq!(
            locks.check("t1", pid, "0123456789abcdef0123456789abcdef", life),
            LockKey::Challenge(chl.clone())
        );
        let key = challenge::product_key_answer(&chl, pid, "ILTXC!4IXB5FB*PX");
        assert_eq!(locks.check("t1", pid, &key, life), LockKey::Accepted);
        assert_eq!(
            locks.check("t1", pid, &key.to_uppercase(), life),
            LockKey::Accepted
        );
        // Another session must answer its own challenge first.
        assert!(matches!(
            locks.check("t2", pid, &key, life),
            LockKey::Challenge(_)
        ));
        // Unknown product ids: any 32 hex digits after a challenge.
        let LockKey::Challenge(_) = locks.check("t3", "PRODXXXXXXXXXXXX", "", life) else {
            panic!();
        };
        assert!(matches!(
            locks.check("t3", "PRODXXXXXXXXXXXX", "xyz", life),
            LockKey::Challenge(_)
        ));
        assert_eq!(
            locks.check(
                "t3",
                "PRODXXXXXXXXXXXX",
                "0123456789abcdef0123456789ABCDEF",
                life
            ),
            LockKey::Accepted
        );
    }
}
