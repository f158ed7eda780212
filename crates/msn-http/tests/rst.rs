//! Black-box tests of RST.srf (soap/rst.md) over real sockets: the
//! documented WLM 8.x request, BitlBee's and MSN 7.5's token lists, the
//! faults, the body limit and the paths. Replies are parsed as XML and
//! checked by qualified name, the way BitlBee reads them.

use std::net::SocketAddr;

use base64::Engine as _;
use msn_auth::Audience;
use msn_http::rst;
use time::{Date, Month, PrimitiveDateTime, Time};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

mod common;
use common::xml::El;
use common::{Env, LIMIT};

const ACCOUNTS: &[(&str, &str)] = &[
    ("bob@example.com", "hunter2"),
    ("alice@example.com", "p@ss&w0rd"),
];

/// The request of soap/rst.md, verbatim: alice@example.com, password
/// `p@ss&w0rd` (sent as `p@ss&amp;w0rd`), seven tokens RST0…RST6.
const RST_MD_REQUEST: &str = include_str!("data/rst-request.xml");

/// The addresses of that request, in order.
const RST_MD_ADDRESSES: [&str; 7] = [
    "http://Passport.NET/tb",
    "messengerclear.live.com",
    "messenger.msn.com",
    "contacts.msn.com",
    "messengersecure.live.com",
    "spaces.live.com",
    "storage.msn.com",
];

/// What MSN 7.5 passes as the `messenger.msn.com` policy: `?` and the
/// `USR TWN S` parameter string.
const TWN_POLICY: &str = "?lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619";

const TEXT_XML: &str = "text/xml; charset=utf-8";
const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Status, `Content-Type` and body of a POST.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: impl Into<String>,
) -> (u16, String, String) {
    let reply = client
        .post(url)
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(body.into())
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let content_type = reply
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, reply.text().await.unwrap())
}

/// An RST request in the shape of soap/rst.md with the given credentials
/// (`password` already XML-escaped) and `(Id, Address, PolicyReference)`s.
fn request(username: &str, password: &str, tokens: &[(&str, &str, Option<&str>)]) -> String {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust"><Header><wsse:Security><wsse:UsernameToken Id="user">"#,
    );
    body.push_str(&format!(
        "<wsse:Username>{username}</wsse:Username><wsse:Password>{password}</wsse:Password>"
    ));
    body.push_str(r#"</wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#);
    for (id, address, policy) in tokens {
        body.push_str(&format!(
            r#"<wst:RequestSecurityToken Id="{id}"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{address}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"#
        ));
        if let Some(policy) = policy {
            body.push_str(&format!(
                r#"<wsse:PolicyReference URI="{}"></wsse:PolicyReference>"#,
                quick_xml::escape::escape(*policy)
            ));
        }
        body.push_str("</wst:RequestSecurityToken>");
    }
    body.push_str("</ps:RequestMultipleSecurityTokens></Body></Envelope>");
    body
}

/// One `wst:RequestSecurityTokenResponse`, checked against the element
/// order and shapes of soap/rst.md.
#[derive(Debug)]
struct Rstr {
    address: String,
    token_type: String,
    created: PrimitiveDateTime,
    expires: PrimitiveDateTime,
    /// `Compact<n>` or `BinaryDAToken<n>`.
    id: String,
    /// The compact ticket, XML-unescaped.
    ticket: Option<String>,
    secret: Option<Vec<u8>>,
}

fn rstrs(envelope: &El) -> Vec<Rstr> {
    assert_eq!(envelope.name, "S:Envelope");
    assert_eq!(envelope.attr("xmlns:S"), Some(SOAP11));
    assert_eq!(envelope.child_names(), ["S:Header", "S:Body"]);
    let collection = envelope.at("S:Body/wst:RequestSecurityTokenResponseCollection");
    assert_eq!(
        collection.attr("xmlns:wst"),
        Some("http://schemas.xmlsoap.org/ws/2004/04/trust")
    );
    assert_eq!(
        collection.attr("xmlns:wsse"),
        Some("http://schemas.xmlsoap.org/ws/2003/06/secext")
    );
    collection
        .children
        .iter()
        .map(|r| {
            assert_eq!(r.name, "wst:RequestSecurityTokenResponse");
            let mut expected = vec![
                "wst:TokenType",
                "wsp:AppliesTo",
                "wst:LifeTime",
                "wst:RequestedSecurityToken",
                "wst:RequestedTokenReference",
            ];
            if r.get("wst:RequestedProofToken").is_some() {
                expected.push("wst:RequestedProofToken");
            }
            assert_eq!(r.child_names(), expected, "element order");
            let token_type = r.at("wst:TokenType").text.clone();
            let reference = r.at("wst:RequestedTokenReference");
            let (id, ticket) = if token_type == "urn:passport:legacy" {
                let data = r.at("wst:RequestedSecurityToken/EncryptedData");
                let cipher = &data.at("CipherData/CipherValue").text;
                assert!(
                    base64::engine::general_purpose::STANDARD
                        .decode(cipher)
                        .is_ok()
                );
                assert_eq!(
                    reference.at("wsse:KeyIdentifier").attr("ValueType"),
                    Some("urn:passport")
                );
                (data.attr("Id").unwrap().to_owned(), None)
            } else {
                assert_eq!(token_type, "urn:passport:compact");
                let bst = r.at("wst:RequestedSecurityToken/wsse:BinarySecurityToken");
                assert_eq!(
                    reference.at("wsse:KeyIdentifier").attr("ValueType"),
                    Some("urn:passport:compact")
                );
                (bst.attr("Id").unwrap().to_owned(), Some(bst.text.clone()))
            };
            assert_eq!(
                reference.at("wsse:Reference").attr("URI"),
                Some(format!("#{id}").as_str())
            );
            let secret = r.get("wst:RequestedProofToken").map(|p| {
                base64::engine::general_purpose::STANDARD
                    .decode(&p.at("wst:BinarySecret").text)
                    .expect("base64 secret")
            });
            Rstr {
                address: r
                    .at("wsp:AppliesTo/wsa:EndpointReference/wsa:Address")
                    .text
                    .clone(),
                token_type,
                created: utc_time(&r.at("wst:LifeTime/wsu:Created").text),
                expires: utc_time(&r.at("wst:LifeTime/wsu:Expires").text),
                id,
                ticket,
                secret,
            }
        })
        .collect()
}

/// Parses exactly `YYYY-MM-DDThh:mm:ssZ`, the only form msnp-sharp accepts.
fn utc_time(s: &str) -> PrimitiveDateTime {
    let b = s.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape_ok, "not YYYY-MM-DDThh:mm:ssZ: {s}");
    let n = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap();
    let date = Date::from_calendar_date(
        i32::from(n(0..4)),
        Month::try_from(n(5..7) as u8).unwrap(),
        n(8..10) as u8,
    )
    .unwrap();
    let time = Time::from_hms(n(11..13) as u8, n(14..16) as u8, n(17..19) as u8).unwrap();
    PrimitiveDateTime::new(date, time)
}

/// The `psf:credProperty` called `name`.
fn cred_property<'a>(envelope: &'a El, name: &str) -> &'a str {
    let properties = envelope.at("S:Header/psf:pp/psf:credProperties");
    let property = properties
        .all("psf:credProperty")
        .into_iter()
        .find(|p| p.attr("Name") == Some(name))
        .unwrap_or_else(|| panic!("no credProperty {name}"));
    &property.text
}

/// Asserts that `body` is the wrong-credentials fault of soap/rst.md.
fn assert_auth_fault(body: &str, case: &str) {
    let envelope = El::parse(body);
    assert_eq!(envelope.name, "S:Envelope", "{case}");
    assert_eq!(envelope.attr("xmlns:S"), Some(SOAP11));
    // S:Fault directly under S:Envelope, where BitlBee looks for it.
    assert_eq!(envelope.child_names(), ["S:Header", "S:Fault"], "{case}");
    assert_eq!(
        envelope.at("S:Fault/faultcode").text,
        "wsse:FailedAuthentication"
    );
    assert_eq!(
        envelope.at("S:Fault/faultstring").text,
        "Authentication Failure"
    );
    let pp = envelope.at("S:Header/psf:pp");
    assert_eq!(pp.at("psf:authstate").text, "0x80048800");
    assert_eq!(pp.at("psf:reqstatus").text, "0x80048823");
    assert_no_ticket(body, case);
}

fn assert_no_ticket(body: &str, case: &str) {
    for needle in [
        "t=",
        "p=",
        "$$",
        "BinarySecurityToken",
        "BinarySecret",
        "Compact",
    ] {
        assert!(!body.contains(needle), "{case}: {needle} in {body}");
    }
}

fn assert_invalid_request(body: &str, case: &str) {
    let envelope = El::parse(body);
    assert_eq!(envelope.name, "S:Envelope", "{case}");
    assert_eq!(envelope.attr("xmlns:S"), Some(SOAP11));
    assert_eq!(envelope.child_names(), ["S:Fault"], "{case}: no psf:pp");
    assert_eq!(envelope.at("S:Fault/faultcode").text, "S:Client", "{case}");
    assert_eq!(envelope.at("S:Fault/faultstring").text, "Invalid Request");
    assert_no_ticket(body, case);
}

#[tokio::test]
async fn documented_request_gets_a_ticket_for_every_address() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let alice = env.user_id("alice@example.com").await;
    let client = reqwest::Client::new();
    let before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let (status, content_type, body) = post(&client, &env.url("/RST.srf"), RST_MD_REQUEST).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, TEXT_XML);

    let envelope = El::parse(&body);
    let pp = envelope.at("S:Header/psf:pp");
    assert_eq!(
        pp.attr("xmlns:psf"),
        Some("http://schemas.microsoft.com/Passport/SoapServices/SOAPFault")
    );
    assert_eq!(pp.at("psf:authstate").text, "0x48803");
    assert_eq!(pp.at("psf:reqstatus").text, "0x0");
    // The PUID the NS's profile message splits into MemberIdHigh/Low.
    let high = 1 + (alice >> 32) as u32;
    let low = alice as i32;
    assert_eq!(
        pp.at("psf:PUID").text,
        format!("{high:08X}{:08X}", low as u32)
    );
    assert_eq!(
        cred_property(&envelope, "AuthMembername"),
        "alice@example.com"
    );

    let tokens = rstrs(&envelope);
    let addresses: Vec<_> = tokens.iter().map(|t| t.address.as_str()).collect();
    assert_eq!(addresses, RST_MD_ADDRESSES, "same order as requested");

    let http = &env.ctx.config.http;
    for (n, token) in tokens.iter().enumerate() {
        // Login tickets live `ticket_ttl`; the SOAP services' bearer
        // tokens, and the DA token, `soap_token_ttl`.
        let ttl = match rst::audience(&token.address) {
            // messenger.msn.com's is also RSI's bearer token.
            Some(Audience::Messenger) if rst::also_audience(&token.address).is_none() => {
                http.ticket_ttl
            }
            _ => http.soap_token_ttl,
        };
        let ttl = time::Duration::try_from(ttl).unwrap();
        assert!(token.created >= PrimitiveDateTime::new(before.date(), before.time()));
        assert!(
            token.created - PrimitiveDateTime::new(before.date(), before.time())
                < time::Duration::seconds(10)
        );
        assert_eq!(token.expires - token.created, ttl, "{n}");
    }
    // RST0: the legacy DA token, with a proof key, no ticket.
    assert_eq!(tokens[0].token_type, "urn:passport:legacy");
    assert_eq!(tokens[0].id, "BinaryDAToken0");
    assert_eq!(tokens[0].ticket, None);
    // RST<n>: Compact<n>, a distinct ticket each.
    let mut tickets = Vec::new();
    for (n, token) in tokens.iter().enumerate().skip(1) {
        assert_eq!(token.id, format!("Compact{n}"));
        let ticket = token.ticket.clone().expect("compact ticket");
        assert!(
            ticket.starts_with("t=") && ticket.contains("&p="),
            "{ticket}"
        );
        assert!(!tickets.contains(&ticket), "tickets are distinct");
        tickets.push(ticket);
    }
    // Escaped in the document, as the clients expect.
    assert_eq!(body.matches("$$&amp;p=").count(), tickets.len());
    // A 24-byte proof key on messengerclear.live.com only.
    assert_eq!(tokens[1].secret.as_ref().map(Vec::len), Some(24));
    assert!(tokens[2..].iter().all(|t| t.secret.is_none()));

    // What MSN 7.5 / WLM 8.0 put on `USR TWN S`: the messenger.msn.com
    // ticket, accepted exactly once.
    let messenger = tokens[2].ticket.as_deref().unwrap();
    let grant = env
        .redeem(messenger, "alice@example.com")
        .expect("NS accepts the ticket");
    assert_eq!(grant.handle.as_str(), "alice@example.com");
    assert_eq!(grant.user_id, alice);
    assert!(
        env.redeem(messenger, "alice@example.com").is_none(),
        "single use"
    );
    // Every other address got a ticket of its own.
    for token in &tokens[3..] {
        let audience = rst::audience(&token.address).unwrap();
        assert!(
            env.ctx
                .tokens
                .validate(token.ticket.as_deref().unwrap(), audience)
                .is_some()
        );
    }
    // Those are bearer tokens for their service: still valid after use,
    // and no way onto the NS.
    let contacts = tokens[3].ticket.as_deref().unwrap();
    let grant = env
        .ctx
        .tokens
        .validate(contacts, Audience::Contacts)
        .unwrap();
    assert_eq!((grant.user_id, grant.single_use), (alice, false));
    assert!(
        env.ctx
            .tokens
            .validate(contacts, Audience::Storage)
            .is_none()
    );
    assert!(env.redeem(contacts, "alice@example.com").is_none());
    // The messengerclear.live.com ticket keeps its proof key (for SSO).
    let clear = env
        .redeem(tokens[1].ticket.as_deref().unwrap(), "alice@example.com")
        .expect("a Messenger ticket");
    assert_eq!(clear.proof_key, tokens[1].secret);

    // A second sign-in gets fresh tickets and proof key.
    let (_, _, again) = post(&client, &env.url("/RST.srf"), RST_MD_REQUEST).await;
    let again = rstrs(&El::parse(&again));
    assert_ne!(again[2].ticket, tokens[2].ticket);
    assert_ne!(again[1].secret, tokens[1].secret);
    assert!(
        env.redeem(again[2].ticket.as_deref().unwrap(), "alice@example.com")
            .is_some()
    );
    env.stop().await;
}

/// MSN 7.5's request (tb and messenger.msn.com with the `USR TWN S`
/// string as policy) on the paths of msnia.login.live.com, and BitlBee's
/// token list, whose slots come from the `Compact<n>` digit.
#[tokio::test]
async fn other_clients_token_lists_and_paths() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let bob = env.user_id("bob@example.com").await;
    let client = reqwest::Client::new();
    let msn75 = request(
        "bob@example.com",
        "hunter2",
        &[
            ("RST0", "http://Passport.NET/tb", None),
            ("RST1", "messenger.msn.com", Some(TWN_POLICY)),
        ],
    );
    for path in ["/pp550/RST.srf", "/pp900/RST.srf", "/RST.srf"] {
        let (status, content_type, body) = post(&client, &env.url(path), msn75.clone()).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, TEXT_XML),
            "{path}: {body}"
        );
        let tokens = rstrs(&El::parse(&body));
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[1].address, "messenger.msn.com");
        assert_eq!(tokens[1].id, "Compact1");
        assert_eq!(tokens[1].secret, None);
        let grant = env
            .redeem(tokens[1].ticket.as_deref().unwrap(), "bob@example.com")
            .expect("NS accepts it");
        assert_eq!(
            (grant.handle.as_str(), grant.user_id),
            ("bob@example.com", bob)
        );
    }

    let bitlbee = request(
        "alice@example.com",
        "p@ss&amp;w0rd",
        &[
            ("RST0", "http://Passport.NET/tb", None),
            ("RST1", "messengerclear.live.com", Some("MBI_KEY_OLD")),
            ("RST2", "contacts.msn.com", Some("MBI")),
            ("RST3", "messengersecure.live.com", Some("MBI_SSL")),
            ("RST4", "storage.msn.com", Some("MBI_SSL")),
        ],
    );
    let (status, _, body) = post(&client, &env.url("/RST.srf"), bitlbee).await;
    assert_eq!(status, 200, "{body}");
    let tokens = rstrs(&El::parse(&body));
    let ids: Vec<_> = tokens.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "BinaryDAToken0",
            "Compact1",
            "Compact2",
            "Compact3",
            "Compact4"
        ]
    );
    assert_eq!(tokens[1].secret.as_ref().map(Vec::len), Some(24));

    // Numbers follow the Id, not the position; the order stays the
    // request's.
    let shuffled = request(
        "alice@example.com",
        "p@ss&amp;w0rd",
        &[
            ("RST3", "contacts.msn.com", Some("MBI")),
            ("RST1", "messengerclear.live.com", Some("MBI_KEY_OLD")),
        ],
    );
    let (_, _, body) = post(&client, &env.url("/RST.srf"), shuffled).await;
    let tokens = rstrs(&El::parse(&body));
    assert_eq!(
        tokens
            .iter()
            .map(|t| (t.address.as_str(), t.id.as_str()))
            .collect::<Vec<_>>(),
        [
            ("contacts.msn.com", "Compact3"),
            ("messengerclear.live.com", "Compact1")
        ]
    );
    env.stop().await;
}

#[tokio::test]
async fn wrong_credentials_get_the_auth_fault_and_no_ticket() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let client = reqwest::Client::new();
    let tokens = [
        ("RST0", "http://Passport.NET/tb", None),
        ("RST1", "messenger.msn.com", Some("?id=507")),
    ];
    let cases = [
        (
            "wrong password",
            request("alice@example.com", "wrong", &tokens),
        ),
        (
            "password prefix",
            request("alice@example.com", "p@ss", &tokens),
        ),
        (
            "unescaped-looking",
            request("alice@example.com", "p@ss&amp;amp;w0rd", &tokens),
        ),
        (
            "case differs",
            request("alice@example.com", "P@ss&amp;w0rd", &tokens),
        ),
        (
            "unknown account",
            request("nobody@example.com", "p@ss&amp;w0rd", &tokens),
        ),
        ("empty password", request("bob@example.com", "", &tokens)),
        (
            "not a handle",
            request("not-an-address", "hunter2", &tokens),
        ),
        (
            "other user's password",
            RST_MD_REQUEST.replace("alice@example.com", "bob@example.com"),
        ),
    ];
    for (case, body) in cases {
        let (status, content_type, reply) = post(&client, &env.url("/RST.srf"), body).await;
        assert_eq!((status, content_type.as_str()), (200, TEXT_XML), "{case}");
        assert_auth_fault(&reply, case);
    }
    env.stop().await;
}

/// Too many logins waiting for a password check: the server-busy fault at
/// once, for right and wrong passwords alike, and no ticket.
#[tokio::test]
async fn logins_beyond_the_waiting_cap_get_the_server_busy_fault() {
    let env = Env::start(ACCOUNTS, |c, _| {
        c.http.max_concurrent_hashes = 1;
        c.http.max_pending_logins = 0;
    })
    .await;
    let client = reqwest::Client::new();
    let checking = env.ctx.passwords.try_admit().unwrap();
    for (case, body) in [
        ("right password", RST_MD_REQUEST.to_owned()),
        (
            "wrong password",
            RST_MD_REQUEST.replace("p@ss&amp;w0rd", "wrong"),
        ),
    ] {
        let (status, content_type, reply) = post(&client, &env.url("/RST.srf"), body).await;
        assert_eq!((status, content_type.as_str()), (200, TEXT_XML), "{case}");
        let envelope = El::parse(&reply);
        assert_eq!(envelope.name, "S:Envelope", "{case}");
        assert_eq!(envelope.attr("xmlns:S"), Some(SOAP11));
        assert_eq!(envelope.child_names(), ["S:Fault"], "{case}");
        assert_eq!(envelope.at("S:Fault/faultcode").text, "S:Server", "{case}");
        assert_eq!(envelope.at("S:Fault/faultstring").text, "Server Busy");
        assert_no_ticket(&reply, case);
    }
    drop(checking);
    let (_, _, reply) = post(&client, &env.url("/RST.srf"), RST_MD_REQUEST).await;
    assert_eq!(rstrs(&El::parse(&reply)).len(), 7, "{reply}");
    env.stop().await;
}

#[tokio::test]
async fn wrong_passwords_from_one_address_get_the_auth_fault_even_when_right() {
    let env = Env::start(ACCOUNTS, |c, _| {
        c.limits.exempt_networks.clear();
        c.login_throttle.max_failures_per_address = 2;
        c.login_throttle.max_failures_per_account = 0;
        c.login_throttle.cooldown = std::time::Duration::from_secs(3600);
    })
    .await;
    let client = reqwest::Client::new();
    let tokens = [("RST1", "messenger.msn.com", Some("?id=507"))];
    for _ in 0..2 {
        let wrong = request("alice@example.com", "guess", &tokens);
        let (_, _, reply) = post(&client, &env.url("/RST.srf"), wrong).await;
        assert_auth_fault(&reply, "wrong password");
    }
    // Locked out: the right password gets the same fault, and when to
    // come back.
    let reply = client
        .post(env.url("/RST.srf"))
        .body(RST_MD_REQUEST)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let retry: u64 = reply.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    assert_auth_fault(&reply.text().await.unwrap(), "throttled");
    // From another address the same request signs in.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let (status, _, body) = post(&elsewhere, &env.url("/RST.srf"), RST_MD_REQUEST).await;
    assert_eq!(status, 200);
    assert_eq!(rstrs(&El::parse(&body)).len(), 7, "{body}");
    env.stop().await;
}

#[tokio::test]
async fn unparseable_requests_get_the_invalid_request_fault() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let client = reqwest::Client::new();
    let no_tokens = request("alice@example.com", "p@ss&amp;w0rd", &[]);
    let cases = [
        ("empty", String::new()),
        ("garbage", "\u{1}\u{2}garbage<<>>".to_owned()),
        ("json", r#"{"username":"alice@example.com"}"#.to_owned()),
        ("truncated", RST_MD_REQUEST[..2000].to_owned()),
        (
            "no SOAP envelope",
            "<Envelope><Body/></Envelope>".to_owned(),
        ),
        ("no token requested", no_tokens),
        (
            "no password",
            RST_MD_REQUEST.replace("<wsse:Password>p@ss&amp;w0rd</wsse:Password>", ""),
        ),
    ];
    for (case, body) in cases {
        let (status, content_type, reply) = post(&client, &env.url("/RST.srf"), body).await;
        assert_eq!((status, content_type.as_str()), (200, TEXT_XML), "{case}");
        assert_invalid_request(&reply, case);
    }
    env.stop().await;
}

/// Sends `request` and returns what the server wrote before closing (a
/// reset after the response, as when it closes with unread body bytes,
/// ends the read).
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything.
    let _ = stream.write_all(request).await;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout(LIMIT, stream.read(&mut buf))
            .await
            .expect("server answers")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let addr = env.http.http_addr.unwrap();
    let limit = msn_http::rst::MAX_REQUEST_BYTES;
    assert_eq!(limit, 64 * 1024);
    let head = |len: usize| {
        format!(
            "POST /RST.srf HTTP/1.1\r\nHost: login.live.com\r\nContent-Type: text/xml\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        )
    };

    // A valid request padded (inside a comment) to exactly the limit is
    // served: the limit is the service's, not the connection buffer's.
    let padding = limit - RST_MD_REQUEST.len() - "<!---->".len();
    let padded = RST_MD_REQUEST.replacen(
        "<Header>",
        &format!("<Header><!--{}-->", " ".repeat(padding)),
        1,
    );
    assert_eq!(padded.len(), limit);
    let response = raw(addr, format!("{}{padded}", head(limit)).as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert_eq!(
        rstrs(&El::parse(response.split_once("\r\n\r\n").unwrap().1)).len(),
        7
    );

    // One byte more, announced: refused before the body is read.
    let over = format!("{padded} ");
    let response = raw(
        addr,
        format!("{}{}", head(limit + 1), &over[..1000]).as_bytes(),
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{response}"
    );
    assert!(!response.contains("Compact"), "{response}");

    // The same without a length (chunked): refused once past the limit.
    let chunked = format!(
        "POST /RST.srf HTTP/1.1\r\nHost: login.live.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{over}\r\n0\r\n\r\n",
        over.len()
    );
    let response = raw(addr, chunked.as_bytes()).await;
    assert!(
        response.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{response}"
    );
    assert!(!response.contains("Compact"), "{response}");
    env.stop().await;
}

#[tokio::test]
async fn only_post_to_rst_srf_paths() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let client = reqwest::Client::new();
    let reply = client.get(env.url("/RST.srf")).send().await.unwrap();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.headers()["allow"], "POST");
    for path in [
        "/RST2.srfx",
        "/rst2.srf",
        "/RST.srfx",
        "/pp550/RST.srf/x",
        "/rst.srf",
        "/RST.srf.bak",
    ] {
        let (status, _, body) = post(&client, &env.url(path), RST_MD_REQUEST).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("Compact"), "{path}");
    }
    env.stop().await;
}

/// What a client pointed at msnd does: HTTPS to login.live.com, with the
/// server's certificate trusted.
#[tokio::test]
async fn over_https_as_login_live_com() {
    let mut cert = std::path::PathBuf::new();
    let env = Env::start(ACCOUNTS, |c, dir| {
        let (c_path, key) = msn_http::generate_self_signed(&dir.join("tls"), &[]).unwrap();
        c.http.https_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        c.http.tls_cert = Some(c_path.clone());
        c.http.tls_key = Some(key);
        cert = c_path;
    })
    .await;
    let https = env.http.https_addr.unwrap();
    let pem = std::fs::read(&cert).unwrap();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve("login.live.com", https)
        .resolve("msnia.login.live.com", https)
        .build()
        .unwrap();
    for url in [
        format!("https://login.live.com:{}/RST.srf", https.port()),
        format!(
            "https://msnia.login.live.com:{}/pp550/RST.srf",
            https.port()
        ),
    ] {
        let (status, content_type, body) = post(&client, &url, RST_MD_REQUEST).await;
        assert_eq!((status, content_type.as_str()), (200, TEXT_XML), "{url}");
        let tokens = rstrs(&El::parse(&body));
        let ticket = tokens[2].ticket.as_deref().unwrap();
        assert!(env.redeem(ticket, "alice@example.com").is_some(), "{url}");
    }
    env.stop().await;
}
