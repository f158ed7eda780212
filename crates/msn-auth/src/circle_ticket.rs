//! The circle ticket of MSNP18 (soap/abfindcontactspaged.md): WLM 2009
//! gets a `SignedTicket` document in `ABFindContactsPaged`'s
//! `CircleResult/CircleTicket` and presents it, base64-encoded, as
//! `USR t SHA A <ticket>` on the NS before it may take part in circles.
//! `<Data>` is base64 of a small `Ticket` document (a timestamp and the
//! user's CID); `<Sig>` is this server's signature over `<Data>`, which
//! only the server checks: an HMAC-SHA1 with the token service's key
//! ([`crate::TokenService::sign`]), where the live service used an RSA
//! signature no client verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::TokenService;

/// The `SignedTicket` document (unescaped) for the account whose CID is
/// `cid`, stamped `timestamp` (`2009-06-01T10:00:05`).
pub fn issue(tokens: &dyn TokenService, cid: i64, timestamp: &str) -> String {
    let ticket = format!(
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<Ticket xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\r\n  <TS>{timestamp}</TS>\r\n  <CID>{cid}</CID>\r\n</Ticket>"
    );
    let data = BASE64.encode(ticket);
    let sig = BASE64.encode(tokens.sign(data.as_bytes()));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-16\"?><SignedTicket xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" ver=\"1\" keyVer=\"1\"><Data>{data}</Data><Sig>{sig}</Sig></SignedTicket>"
    )
}

/// Whether `presented` (the base64 `USR SHA A` argument) is a ticket this
/// server issued for `cid`.
pub fn verify(tokens: &dyn TokenService, presented: &str, cid: i64) -> bool {
    let Some(document) = BASE64
        .decode(presented)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    let (Some(data), Some(sig)) = (
        between(&document, "<Data>", "</Data>"),
        between(&document, "<Sig>", "</Sig>"),
    ) else {
        return false;
    };
    let signed = BASE64
        .decode(sig)
        .is_ok_and(|sig| tokens.verify_signature(data.as_bytes(), &sig));
    signed
        && BASE64
            .decode(data)
            .ok()
            .and_then(|t| String::from_utf8(t).ok())
            .is_some_and(|t| between(&t, "<CID>", "</CID>") == Some(&cid.to_string()))
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryTokens;

    #[test]
    fn a_ticket_is_good_for_its_account_on_its_server_only() {
        let tokens = MemoryTokens::new();
        let ticket = issue(&tokens, 7233009801789148281, "2009-06-01T10:00:05");
        assert!(ticket.starts_with("<?xml version=\"1.0\" encoding=\"utf-16\"?><SignedTicket "));
        let presented = BASE64.encode(&ticket);
        assert!(verify(&tokens, &presented, 7233009801789148281));
        // Another account, another server, a changed ticket, garbage.
        assert!(!verify(&tokens, &presented, 42));
        assert!(!verify(
            &MemoryTokens::new(),
            &presented,
            7233009801789148281
        ));
        // Another account's data under this ticket's signature.
        let other = issue(&tokens, 42, "2009-06-01T10:00:05");
        let data = |t: &str| between(t, "<Data>", "</Data>").unwrap().to_owned();
        let forged = ticket.replace(&data(&ticket), &data(&other));
        assert!(!verify(&tokens, &BASE64.encode(&forged), 42));
        assert!(!verify(&tokens, "not base64!", 7233009801789148281));
        assert!(!verify(&tokens, &BASE64.encode("<SignedTicket/>"), 1));
    }
}
