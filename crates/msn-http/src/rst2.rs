//! What RST2.srf, the token service of WLM 2009 (MSNP18), does differently
//! from RST.srf (auth-services.md §4, soap/rst2.md): a SOAP 1.2 envelope,
//! the 2005 WS-Trust / WS-Addressing and the OASIS WS-Security
//! namespaces, a WS-Addressing and `wsse:Security` header before `psf:pp`,
//! `wst:Lifetime`, attached and unattached references instead of
//! `wst:RequestedTokenReference`, and a SOAP 1.2 fault in `S:Body`.
//!
//! Everything else — parsing the request ([`crate::rst::parse_request`]
//! accepts both namespace sets), the password check, one token per
//! requested address in request order with `Compact<n>` for `RST<n>`, the
//! `messengerclear.live.com` proof key, lifetimes and the `psf:pp` account
//! header — is RST.srf's, in [`crate::rst`], with
//! [`crate::rst::Flavor::Rst2`] choosing these parts.

use time::OffsetDateTime;

use crate::rst::{random_base64, server_info, utc};

/// How long the reply's `wsu:Timestamp` says it is valid (the live
/// service's five minutes).
const TIMESTAMP_VALIDITY: time::Duration = time::Duration::minutes(5);

/// The XML declaration, the envelope with every namespace the reply uses,
/// and the SOAP header up to where `psf:pp` starts: `wsa:Action` (the
/// RSTR/Issue action), `wsa:To` (the anonymous role) and
/// `wsse:Security/wsu:Timestamp` (now, now + 5 min), in soap/rst2.md's
/// order and prefixes.
pub(crate) fn envelope_and_security_header(now: OffsetDateTime) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope""#,
            r#" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd""#,
            r#" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd""#,
            r#" xmlns:wsa="http://www.w3.org/2005/08/addressing""#,
            r#" xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust""#,
            r#" xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy""#,
            r#" xmlns:psf="http://schemas.microsoft.com/Passport/SoapServices/SOAPFault">"#,
            r#"<S:Header>"#,
            r#"<wsa:Action wsu:Id="Action" S:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue</wsa:Action>"#,
            r#"<wsa:To wsu:Id="To" S:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"#,
            r#"<wsse:Security S:mustUnderstand="1">"#,
            r#"<wsu:Timestamp wsu:Id="TS"><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>"#,
            r#"</wsse:Security>"#,
        ),
        created = utc(now),
        expires = utc(now.saturating_add(TIMESTAMP_VALIDITY)),
    )
}

/// `wst:RequestedAttachedReference` and `wst:RequestedUnattachedReference`,
/// which come right after `wst:RequestedSecurityToken`. Both name the same
/// reference, the base64 of a 20-byte digest in the live service; no
/// client is known to check it, so it is 20 random bytes.
pub(crate) fn token_references() -> String {
    let reference = format!(
        r#"<wsse:SecurityTokenReference><wsse:Reference URI="{}"></wsse:Reference></wsse:SecurityTokenReference>"#,
        random_base64(20)
    );
    format!(
        "<wst:RequestedAttachedReference>{reference}</wst:RequestedAttachedReference><wst:RequestedUnattachedReference>{reference}</wst:RequestedUnattachedReference>"
    )
}

/// The reply to a wrong user name or password, or a throttled login (the
/// same for an unknown account, so as not to reveal which part was
/// wrong): `psf:pp` with `psf:reqstatus` 0x80048821 — msnp-sharp reads it
/// — and the SOAP 1.2 fault `S:Sender` / `wst:FailedAuthentication` with
/// `psf:error` 0x80048821 in its detail, on which WLM 2009 shows its
/// "e-mail address or password is incorrect" prompt.
pub(crate) fn auth_failure(now: OffsetDateTime) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope""#,
            r#" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd""#,
            r#" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd""#,
            r#" xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust""#,
            r#" xmlns:psf="http://schemas.microsoft.com/Passport/SoapServices/SOAPFault">"#,
            r#"<S:Header><psf:pp>"#,
            r#"<psf:serverVersion>1</psf:serverVersion>"#,
            r#"<psf:authstate>0x80048800</psf:authstate>"#,
            r#"<psf:reqstatus>0x80048821</psf:reqstatus>"#,
            r#"{server_info}"#,
            r#"<psf:cookies></psf:cookies>"#,
            r#"<psf:response></psf:response>"#,
            r#"</psf:pp></S:Header>"#,
            r#"<S:Body><S:Fault>"#,
            r#"<S:Code><S:Value>S:Sender</S:Value><S:Subcode><S:Value>wst:FailedAuthentication</S:Value></S:Subcode></S:Code>"#,
            r#"<S:Reason><S:Text xml:lang="en-US">Authentication Failure</S:Text></S:Reason>"#,
            r#"<S:Detail><psf:error><psf:value>0x80048821</psf:value>"#,
            r#"<psf:internalerror><psf:code>0x80041012</psf:code><psf:text>The e-mail address or password is incorrect.</psf:text></psf:internalerror>"#,
            r#"</psf:error></S:Detail>"#,
            r#"</S:Fault></S:Body>"#,
            r#"</S:Envelope>"#,
        ),
        server_info = server_info(now),
    )
}

/// The reply to a body that is not a token request: the authentication
/// fault's envelope without `psf:pp`, subcode `wst:InvalidRequest`,
/// `psf:value` 0x80048820 (soap/rst2.md; the values are Tachyon's and
/// uncertain).
pub(crate) fn invalid_request() -> &'static str {
    concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope""#,
        r#" xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust""#,
        r#" xmlns:psf="http://schemas.microsoft.com/Passport/SoapServices/SOAPFault">"#,
        r#"<S:Body><S:Fault>"#,
        r#"<S:Code><S:Value>S:Sender</S:Value><S:Subcode><S:Value>wst:InvalidRequest</S:Value></S:Subcode></S:Code>"#,
        r#"<S:Reason><S:Text xml:lang="en-US">Invalid Request</S:Text></S:Reason>"#,
        r#"<S:Detail><psf:error><psf:value>0x80048820</psf:value></psf:error></S:Detail>"#,
        r#"</S:Fault></S:Body>"#,
        r#"</S:Envelope>"#,
    )
}

/// The SOAP 1.2 form of [`crate::rst::server_busy`]: a receiver fault, so
/// that the client reports a server problem rather than a wrong password.
pub(crate) fn server_busy() -> &'static str {
    concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope">"#,
        r#"<S:Body><S:Fault>"#,
        r#"<S:Code><S:Value>S:Receiver</S:Value></S:Code>"#,
        r#"<S:Reason><S:Text xml:lang="en-US">Server Busy</S:Text></S:Reason>"#,
        r#"</S:Fault></S:Body>"#,
        r#"</S:Envelope>"#,
    )
}
