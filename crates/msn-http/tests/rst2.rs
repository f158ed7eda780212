//! Black-box tests of RST2.srf (soap/rst2.md) over real sockets: the
//! documented WLM 2009 request against the documented reply (compared in
//! structure), the tokens it issues, the SOAP 1.2 faults, the throttle,
//! and the HTTP details libpurple's MSNP18 plugin depends on
//! (msnp13-18.md §4.4): `//` paths, header-name case, keep-alive.

use std::time::Duration;

use base64::Engine as _;
use msn_auth::Audience;
use msn_http::rst;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

mod common;
use common::xml::{El, Free, assert_same_shape};
use common::{Env, LIMIT};

const ACCOUNTS: &[(&str, &str)] = &[
    ("bob@example.com", "hunter2"),
    ("alice@example.com", "p@ss&w0rd"),
];

/// soap/rst2.md's request, verbatim: alice@example.com, `p@ss&w0rd`, seven
/// tokens RST0…RST6.
const REQUEST: &str = include_str!("data/rst2-request.xml");
/// soap/rst2.md's success reply.
const RESPONSE: &str = include_str!("data/rst2-response.xml");
/// soap/rst2.md's wrong-credentials fault.
const FAULT: &str = include_str!("data/rst2-fault.xml");

const SOAP12_TYPE: &str = "application/soap+xml; charset=utf-8";

/// What the server chooses in a token reply: dates, the PUID and CID,
/// tickets, keys, the DA token, reference digests, its own name.
const FREE: Free<'static> = Free {
    text: &[
        "Created",
        "Expires",
        "PUID",
        "serverInfo",
        "credProperty",
        "extProperty",
        "CipherValue",
        "BinarySecret",
        "BinarySecurityToken",
    ],
    attr_values: &["URI", "ServerTime"],
    subset: &["credProperties"],
};

/// A raw HTTP/1.1 exchange on an open connection: sends `request`, reads
/// one response (head, then a body of `Content-Length` bytes). Returns the
/// head (status line and header lines, exactly as sent) and the body.
async fn exchange(stream: &mut TcpStream, request: &str) -> (String, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = timeout(LIMIT, stream.read(&mut chunk))
            .await
            .expect("server answers")
            .unwrap();
        assert_ne!(n, 0, "closed before a complete head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    // Case-sensitive, as libpurple reads it.
    let length: usize = header(&head, "Content-Length")
        .unwrap_or_else(|| panic!("no Content-Length: {head}"))
        .parse()
        .unwrap();
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = timeout(LIMIT, stream.read(&mut chunk))
            .await
            .expect("server sends the body")
            .unwrap();
        assert_ne!(n, 0, "closed in the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(buf.len(), head_end + length, "nothing after the body");
    let body = String::from_utf8(buf[head_end..].to_vec()).unwrap();
    (head, body)
}

/// The value of header `name`, matched case-sensitively.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n")
        .skip(1)
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: login.live.com\r\nContent-Type: application/soap+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn connect(env: &Env) -> TcpStream {
    TcpStream::connect(env.http_addr()).await.unwrap()
}

/// Every header name of a response head is in its usual case: the names
/// msnd sends, spelled as clients match them.
fn assert_usual_case(head: &str) {
    for line in head.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap();
        assert!(
            ["Content-Type", "Content-Length", "Date", "Retry-After"].contains(&name),
            "{name} in {head}"
        );
    }
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(header(head, "Content-Type"), Some(SOAP12_TYPE), "{head}");
}

/// One token of a reply: address, `Id`, ticket (unescaped), proof key,
/// lifetime in seconds.
struct Token {
    address: String,
    id: String,
    ticket: Option<String>,
    secret: Option<Vec<u8>>,
    lifetime: i64,
}

/// Seconds since 1970 of a `YYYY-MM-DDThh:mm:ssZ` date (the only form
/// msnp-sharp accepts).
fn seconds(s: &str) -> i64 {
    let b = s.as_bytes();
    assert!(
        b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
        "{s}"
    );
    let n = |r: std::ops::Range<usize>| s[r].parse::<u8>().unwrap();
    let date = time::Date::from_calendar_date(
        s[0..4].parse().unwrap(),
        time::Month::try_from(n(5..7)).unwrap(),
        n(8..10),
    )
    .unwrap();
    let time = time::Time::from_hms(n(11..13), n(14..16), n(17..19)).unwrap();
    time::PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp()
}

fn rstrs(envelope: &El) -> Vec<Token> {
    envelope
        .at("S:Body/wst:RequestSecurityTokenResponseCollection")
        .children
        .iter()
        .map(|r| {
            let lifetime = r.at("wst:Lifetime");
            let (id, ticket) = match r.get("wst:RequestedSecurityToken").unwrap().children[0] {
                ref bst if bst.name == "wsse:BinarySecurityToken" => {
                    (bst.attr("Id").unwrap().to_owned(), Some(bst.text.clone()))
                }
                ref data => (data.attr("Id").unwrap().to_owned(), None),
            };
            Token {
                address: r
                    .at("wsp:AppliesTo/wsa:EndpointReference/wsa:Address")
                    .text
                    .clone(),
                id,
                ticket,
                secret: r.get("wst:RequestedProofToken").map(|p| {
                    base64::engine::general_purpose::STANDARD
                        .decode(&p.at("wst:BinarySecret").text)
                        .unwrap()
                }),
                lifetime: seconds(&lifetime.at("wsu:Expires").text)
                    - seconds(&lifetime.at("wsu:Created").text),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_documented_request_gets_the_documented_reply() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let alice = env.user_id("alice@example.com").await;
    let mut stream = connect(&env).await;
    let (head, body) = exchange(&mut stream, &post("/RST2.srf", REQUEST)).await;
    assert_usual_case(&head);
    // Compact: no whitespace between elements.
    assert!(!body.contains(">\n") && !body.contains("> <"), "{body}");

    let ours = El::parse(&body);
    assert_same_shape(&ours, &El::parse(RESPONSE), &FREE);

    let pp = ours.at("S:Header/psf:pp");
    assert_eq!(pp.at("psf:PUID").text, format!("{:016X}", rst::puid(alice)));
    // The reply's timestamp: valid five minutes.
    let ts = ours.at("S:Header/wsse:Security/wsu:Timestamp");
    assert_eq!(
        seconds(&ts.at("wsu:Expires").text) - seconds(&ts.at("wsu:Created").text),
        300
    );

    let tokens = rstrs(&ours);
    let http = &env.ctx.config.http;
    for (n, token) in tokens.iter().enumerate() {
        // Compact<n> for RST<n>, in request order.
        if n == 0 {
            assert_eq!(token.id, "BinaryDAToken0");
            assert!(token.ticket.is_none());
            continue;
        }
        assert_eq!(token.id, format!("Compact{n}"));
        let ttl = match rst::audience(&token.address) {
            // messenger.msn.com's is also RSI's bearer token.
            Some(Audience::Messenger) if rst::also_audience(&token.address).is_none() => {
                http.ticket_ttl
            }
            _ => http.soap_token_ttl,
        };
        assert_eq!(token.lifetime, ttl.as_secs() as i64, "{}", token.address);
        // A proof key on messengerclear.live.com only.
        assert_eq!(
            token.secret.as_ref().map(Vec::len),
            (token.address == "messengerclear.live.com").then_some(24),
            "{}",
            token.address
        );
    }

    // The messengerclear ticket is a single-use Messenger ticket that
    // keeps its proof key, for `USR SSO`'s MBI_KEY_OLD proof.
    let clear = &tokens[1];
    let grant = env
        .redeem(clear.ticket.as_deref().unwrap(), "alice@example.com")
        .expect("the NS accepts it");
    assert_eq!((grant.user_id, grant.single_use), (alice, true));
    assert_eq!(grant.proof_key, clear.secret);
    assert!(
        env.redeem(clear.ticket.as_deref().unwrap(), "alice@example.com")
            .is_none()
    );
    // The SOAP services' tokens are multi-use for their audience only.
    let storage = tokens
        .iter()
        .find(|t| t.address == "storage.msn.com")
        .unwrap();
    let storage = storage.ticket.as_deref().unwrap();
    for _ in 0..2 {
        let grant = env.ctx.tokens.validate(storage, Audience::Storage).unwrap();
        assert_eq!((grant.user_id, grant.single_use), (alice, false));
    }
    assert!(
        env.ctx
            .tokens
            .validate(storage, Audience::Contacts)
            .is_none()
    );
    assert!(env.redeem(storage, "alice@example.com").is_none());

    // Keep-alive: the same connection serves the next request.
    let (head, body) = exchange(&mut stream, &post("/RST2.srf", REQUEST)).await;
    assert_usual_case(&head);
    let again = rstrs(&El::parse(&body));
    assert_ne!(again[1].ticket, tokens[1].ticket, "fresh tickets");
    env.stop().await;
}

#[tokio::test]
async fn wrong_credentials_get_the_soap12_fault() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let vector = El::parse(FAULT);
    let free = Free {
        text: &["serverInfo"],
        attr_values: &["ServerTime"],
        subset: &[],
    };
    let mut stream = connect(&env).await;
    for (case, body) in [
        ("wrong password", REQUEST.replace("p@ss&amp;w0rd", "guess")),
        (
            "unknown account",
            REQUEST.replace("alice@example.com", "nobody@example.com"),
        ),
        (
            "not a handle",
            REQUEST.replace("alice@example.com", "alice"),
        ),
        (
            "other user's password",
            REQUEST.replace("alice@example.com", "bob@example.com"),
        ),
    ] {
        // All on one connection: a fault does not close it.
        let (head, reply) = exchange(&mut stream, &post("/RST2.srf", &body)).await;
        assert_usual_case(&head);
        assert_same_shape(&El::parse(&reply), &vector, &free);
        for needle in ["$$", "BinarySecurityToken", "BinarySecret", "Compact"] {
            assert!(!reply.contains(needle), "{case}: {needle}");
        }
    }
    env.stop().await;
}

#[tokio::test]
async fn a_throttled_login_gets_the_fault_and_retry_after() {
    let env = Env::start(ACCOUNTS, |c, _| {
        c.limits.exempt_networks.clear();
        c.login_throttle.max_failures_per_address = 2;
        c.login_throttle.max_failures_per_account = 0;
        c.login_throttle.cooldown = Duration::from_secs(3600);
    })
    .await;
    let mut stream = connect(&env).await;
    let wrong = REQUEST.replace("p@ss&amp;w0rd", "guess");
    for _ in 0..2 {
        let (head, _) = exchange(&mut stream, &post("/RST2.srf", &wrong)).await;
        assert_eq!(header(&head, "Retry-After"), None);
    }
    // Locked out: the right password gets the same fault, and when to
    // come back.
    let (head, reply) = exchange(&mut stream, &post("/RST2.srf", REQUEST)).await;
    assert_usual_case(&head);
    let retry: u64 = header(&head, "Retry-After").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    let envelope = El::parse(&reply);
    assert_eq!(
        envelope.at("S:Body/S:Fault/S:Code/S:Subcode/S:Value").text,
        "wst:FailedAuthentication"
    );
    assert!(!reply.contains("Compact"));
    env.stop().await;
}

#[tokio::test]
async fn unparseable_requests_get_the_invalid_request_fault() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let mut stream = connect(&env).await;
    for (case, body) in [
        ("empty", String::new()),
        ("garbage", "<<>>".to_owned()),
        ("truncated", REQUEST[..1500].to_owned()),
        (
            "no password",
            REQUEST.replace("<wsse:Password>p@ss&amp;w0rd</wsse:Password>", ""),
        ),
    ] {
        let (head, reply) = exchange(&mut stream, &post("/RST2.srf", &body)).await;
        assert_usual_case(&head);
        let envelope = El::parse(&reply);
        assert_eq!(envelope.ns, "http://www.w3.org/2003/05/soap-envelope");
        assert_eq!(envelope.child_names(), ["S:Body"], "{case}: no psf:pp");
        let fault = envelope.at("S:Body/S:Fault");
        assert_eq!(fault.at("S:Code/S:Value").text, "S:Sender");
        assert_eq!(
            fault.at("S:Code/S:Subcode/S:Value").text,
            "wst:InvalidRequest",
            "{case}"
        );
        assert_eq!(fault.at("S:Reason/S:Text").text, "Invalid Request");
        assert_eq!(fault.at("S:Detail/psf:error/psf:value").text, "0x80048820");
    }
    env.stop().await;
}

/// The paths clients use: libpurple's `//RST2.srf`, msnia.login.live.com's
/// `/RST2.srf`, any prefix; only POST.
#[tokio::test]
async fn rst2_paths() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let mut stream = connect(&env).await;
    for path in [
        "//RST2.srf",
        "/RST2.srf",
        "/ppsecure//RST2.srf",
        "///RST2.srf",
    ] {
        let (head, body) = exchange(&mut stream, &post(path, REQUEST)).await;
        assert_usual_case(&head);
        let tokens = rstrs(&El::parse(&body));
        assert_eq!(tokens.len(), 7, "{path}");
        assert!(
            env.redeem(tokens[2].ticket.as_deref().unwrap(), "alice@example.com")
                .is_some(),
            "{path}"
        );
    }
    let (head, _) = exchange(
        &mut stream,
        "GET //RST2.srf HTTP/1.1\r\nHost: login.live.com\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 405 "), "{head}");
    assert_eq!(header(&head, "Allow"), Some("POST"));
    env.stop().await;
}

/// An RST2-namespaced request posted to RST.srf still gets its tokens, in
/// RST.srf's format (the parser accepts both namespace sets).
#[tokio::test]
async fn each_endpoint_answers_in_its_own_format() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let mut stream = connect(&env).await;
    let (head, body) = exchange(&mut stream, &post("/RST.srf", REQUEST)).await;
    assert_eq!(
        header(&head, "Content-Type"),
        Some("text/xml; charset=utf-8")
    );
    let envelope = El::parse(&body);
    assert_eq!(envelope.ns, "http://schemas.xmlsoap.org/soap/envelope/");
    let collection = envelope.at("S:Body/wst:RequestSecurityTokenResponseCollection");
    assert_eq!(collection.ns, "http://schemas.xmlsoap.org/ws/2004/04/trust");
    assert_eq!(collection.children.len(), 7);
    env.stop().await;
}
