//! Windows Live Messenger (MSNP13+) sign-in for tests: tokens from the
//! server's own RST.srf over HTTP, `USR SSO` with the `MBI_KEY_OLD` proof.
#![allow(dead_code)]

use std::net::SocketAddr;

use base64::Engine as _;
use msn_auth::sso;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Client, TestServer};

/// POSTs `body` to the token service at `path` over a fresh connection and
/// returns the whole reply.
pub async fn post_token_request(
    http: SocketAddr,
    path: &str,
    content_type: &str,
    body: &str,
) -> String {
    let mut stream = TcpStream::connect(http).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: login.live.com\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

/// The text of the first `open`…`close` after `from` in `reply`,
/// XML-unescaped as the tokens need (`&amp;`).
fn between(reply: &str, from: &str, open: &str, close: &str) -> String {
    let rest = &reply[reply.find(from).expect(from)..];
    let start = rest.find(open).expect(open) + open.len();
    let len = rest[start..].find(close).expect(close);
    rest[start..start + len].replace("&amp;", "&")
}

/// The token of `wsse:BinarySecurityToken Id="Compact<n>"` in a reply.
pub fn compact_token(reply: &str, n: u8) -> String {
    let id = format!(r#"Id="Compact{n}">"#);
    between(reply, &id, &id, "</wsse:BinarySecurityToken>")
}

/// The `messengerclear.live.com` ticket (`Compact1`) and its proof key:
/// the legacy DA token before it has a BinarySecret of its own.
fn clear_ticket(reply: &str) -> (String, Vec<u8>) {
    let secret = between(
        reply,
        r#"Id="Compact1""#,
        "<wst:BinarySecret>",
        "</wst:BinarySecret>",
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .unwrap();
    (compact_token(reply, 1), key)
}

/// The `messengerclear.live.com` ticket (XML-unescaped) and its proof key,
/// from a real `POST /RST.srf`.
pub async fn rst(http: SocketAddr, email: &str, password: &str) -> (String, Vec<u8>) {
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust">"#,
            r#"<Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></Header>"#,
            r#"<Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#,
            r#"<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>"#,
            r#"<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI_KEY_OLD"></wsse:PolicyReference></wst:RequestSecurityToken>"#,
            r#"</ps:RequestMultipleSecurityTokens></Body></Envelope>"#,
        ),
        email,
        password.replace('&', "&amp;"),
    );
    let reply = post_token_request(http, "/RST.srf", "text/xml; charset=utf-8", &body).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    clear_ticket(&reply)
}

/// The `messengerclear.live.com` ticket and its proof key from a real
/// `POST //RST2.srf` (WLM 2009's service, with the doubled slash
/// libpurple sends), in the request shape of soap/rst2.md.
pub async fn rst2(http: SocketAddr, email: &str, password: &str) -> (String, Vec<u8>) {
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust">"#,
            r#"<s:Header><wsa:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue</wsa:Action><wsa:To s:mustUnderstand="1">HTTPS://login.live.com:443//RST2.srf</wsa:To>"#,
            r#"<wsse:Security><wsse:UsernameToken wsu:Id="user"><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>"#,
            r#"<s:Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#,
            r#"<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>"#,
            r#"<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsp:PolicyReference URI="MBI_KEY_OLD"></wsp:PolicyReference></wst:RequestSecurityToken>"#,
            r#"</ps:RequestMultipleSecurityTokens></s:Body></s:Envelope>"#,
        ),
        email,
        password.replace('&', "&amp;"),
    );
    let reply = post_token_request(http, "//RST2.srf", "application/soap+xml", &body).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(
        reply.contains("\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"),
        "{reply}"
    );
    clear_ticket(&reply)
}

/// `VER`, `CVR` and `USR SSO I` in dialect `n`; returns the client and
/// the nonce, having checked the `GCF 0` policies before it.
pub async fn sso_start(ns: SocketAddr, n: u8, email: &str) -> (Client, String) {
    let mut c = Client::connect(ns).await;
    c.label = format!("{email}/ns");
    c.send(&format!("VER 1 MSNP{n} MSNP14 MSNP13 CVR0")).await;
    c.expect(&format!("VER 1 MSNP{n}")).await;
    c.send(&format!(
        "CVR 2 0x0409 winnt 6.1 i386 MSNMSGR 14.0.8089.0726 msmsgs {email}"
    ))
    .await;
    c.recv().await;
    c.send(&format!("USR 3 SSO I {email}")).await;
    let gcf = c.recv().await;
    assert_eq!(gcf.command(), "GCF");
    assert_eq!(gcf.tokens().nth(1), Some("0"));
    let policies = String::from_utf8(gcf.payload().unwrap().to_vec()).unwrap();
    assert!(
        policies.starts_with(r#"<Policies><Policy type="SHIELDS""#),
        "{policies}"
    );
    let usr = c.recv_line().await;
    let nonce = usr
        .strip_prefix("USR 3 SSO S MBI_KEY_OLD ")
        .unwrap_or_else(|| panic!("{usr}"))
        .to_owned();
    assert_eq!(nonce.len(), 64, "{nonce}");
    (c, nonce)
}

pub fn proof(key: &[u8], nonce: &str) -> String {
    sso::compute_proof(key, nonce, rand_iv())
}

pub fn rand_iv() -> [u8; 8] {
    *uuid::Uuid::new_v4().as_bytes().first_chunk().unwrap()
}

/// Signs `email` in with SSO in MSNP`n` (15+); returns the client after
/// the profile.
pub async fn sso_login(
    s: &TestServer,
    n: u8,
    email: &str,
    password: &str,
    guid: Option<&str>,
) -> Client {
    let (ticket, key) = rst(s.http.unwrap(), email, password).await;
    sso_signed_in(s, n, email, &ticket, &key, guid).await
}

/// [`sso_login`] with a `messengerclear.live.com` ticket and key already
/// fetched.
pub async fn sso_signed_in(
    s: &TestServer,
    n: u8,
    email: &str,
    ticket: &str,
    key: &[u8],
    guid: Option<&str>,
) -> Client {
    let (mut c, nonce) = sso_start(s.ns, n, email).await;
    let guid = guid.map(|g| format!(" {g}")).unwrap_or_default();
    c.send(&format!(
        "USR 4 SSO S {ticket} {}{guid}",
        proof(key, &nonce)
    ))
    .await;
    c.expect(&format!("USR 4 OK {email} 1 0")).await;
    c.expect("SBS 0 null").await;
    let profile = c.recv().await;
    assert_eq!(
        profile.line().split(' ').take(3).collect::<Vec<_>>(),
        ["MSG", "Hotmail", "Hotmail"]
    );
    let text = String::from_utf8(profile.payload().unwrap().to_vec()).unwrap();
    assert!(text.contains("ABCHMigrated: 1\r\n"), "{text}");
    assert_eq!(text.contains("MPOPEnabled: 1\r\n"), n >= 16, "{text}");
    c
}

/// [`sso_signed_in`], then online (`CHG NLN`); returns the client and the
/// offline-message summary that follows the first `CHG`.
pub async fn sso_login_with(
    s: &TestServer,
    n: u8,
    email: &str,
    ticket: &str,
    key: &[u8],
    guid: Option<&str>,
) -> (Client, String) {
    let mut c = sso_signed_in(s, n, email, ticket, key, guid).await;
    let caps = if n >= 16 {
        "2789003324:48"
    } else {
        "2147794988"
    };
    let chg = c.call(&format!("CHG {{}} NLN {caps} 0")).await;
    assert_eq!(chg.command(), "CHG", "{}", chg.line());
    let text = expect_mail_data(&mut c).await;
    (c, text)
}

/// Reads the offline-message summary that follows the presence dump of
/// the first `CHG`, skipping the presence lines before it; returns its
/// payload.
pub async fn expect_mail_data(c: &mut Client) -> String {
    let mail = c
        .wait_for("the offline-message summary", |f| f.command() == "MSG")
        .await;
    let text = String::from_utf8(mail.payload().unwrap().to_vec()).unwrap();
    assert!(
        text.starts_with(
            "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\nMail-Data: "
        ) && text.ends_with("\r\n"),
        "{text}"
    );
    text
}

/// The tokens a WLM session asks RST.srf for: the login ticket and its
/// proof key, the `messenger.msn.com` token (offline-message retrieval)
/// and the `messengersecure.live.com` one (sending offline messages).
pub struct Tokens {
    pub clear: String,
    pub key: Vec<u8>,
    pub web: String,
    pub secure: String,
}

/// [`Tokens`] from a real `POST /RST.srf` (XML-unescaped).
pub async fn tokens(http: SocketAddr, email: &str, password: &str) -> Tokens {
    let request = |id: usize, address: &str, policy: &str| {
        format!(
            r#"<wst:RequestSecurityToken Id="RST{id}"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{address}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="{policy}"></wsse:PolicyReference></wst:RequestSecurityToken>"#
        )
    };
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust">"#,
            r#"<Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></Header>"#,
            r#"<Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">{}{}{}{}"#,
            r#"</ps:RequestMultipleSecurityTokens></Body></Envelope>"#,
        ),
        email,
        password.replace('&', "&amp;"),
        request(0, "http://Passport.NET/tb", "MBI"),
        request(1, "messengerclear.live.com", "MBI_KEY_OLD"),
        request(2, "messenger.msn.com", "?id=507"),
        request(3, "messengersecure.live.com", "MBI_SSL"),
    );
    let reply = post_token_request(http, "/RST.srf", "text/xml; charset=utf-8", &body).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    let (clear, key) = clear_ticket(&reply);
    Tokens {
        clear,
        key,
        web: compact_token(&reply, 2),
        secure: compact_token(&reply, 3),
    }
}

/// A signed-in MSNP`n` (15+) client that sent `BLP AL`, its initial
/// (empty) list, and went online with WLM's capabilities.
pub async fn online(
    s: &TestServer,
    n: u8,
    email: &str,
    password: &str,
    guid: Option<&str>,
) -> Client {
    let mut c = sso_login(s, n, email, password, guid).await;
    c.call("BLP {} AL").await;
    let ok = c.call_payload("ADL {}", br#"<ml l="1"></ml>"#).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let chg = c.call("CHG {} NLN 2789003324:48 0").await;
    assert_eq!(chg.tokens().nth(2), Some("NLN"));
    expect_mail_data(&mut c).await;
    c
}

/// An `<ml>` naming one contact with list bits `lists`.
pub fn ml(handle: &str, lists: u8) -> String {
    let (local, domain) = handle.split_once('@').unwrap();
    format!(r#"<ml><d n="{domain}"><c n="{local}" l="{lists}" t="1"/></d></ml>"#)
}
