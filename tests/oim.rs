//! Offline messages (msnp13-18.md §7) against a real server: WLM sends
//! with the OIM store service (`Store2`, the lock-key round trip), the
//! recipient's sign-in summary lists what waits, RSI returns each message
//! as RFC 822 text and deletes it, the NS says so live. Tokens come from
//! the server's own RST.srf; every request is real HTTP over TCP.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msn_http::soap_xml::{self, Element};
use msn_store::{NewOim, OimAdded};
use support::wlm::{self, Tokens};
use support::{Client, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// WLM 8.5's product id and key: what libpurple puts in `appid`.
const PID: &str = "PROD0119GSJUC$18";
const PKEY: &str = "ILTXC!4IXB5FB*PX";
const STORE2: &str = "http://messenger.live.com/ws/2006/09/oim/Store2";
const RSI: &str = "http://www.hotmail.msn.com/ws/2004/09/oim/rsi";
const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const PW: &str = "p@ss&w0rd";
/// Non-ASCII text in the message and the sender's name.
const HELLO: &str = "Grüße, Bob! 👋 — ünïcödé";
const ALICE_NAME: &str = "Ålice ☃";

async fn server_with(tweak: impl FnOnce(&mut msn_server::Config)) -> TestServer {
    let s = TestServer::start_with(|c| {
        c.notification.max_dialect = 18;
        tweak(c);
    })
    .await;
    for (email, name) in [
        (ALICE, "Alice"),
        (BOB, "Bob"),
        ("carol@example.com", "Carol"),
    ] {
        s.user(email, PW, name).await;
    }
    s.seed_friends((ALICE, "Alice"), (BOB, "Bob")).await;
    s
}

async fn server() -> TestServer {
    server_with(|_| {}).await
}

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn xml(&self) -> Element {
        soap_xml::parse(self.body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn fault_code(&self) -> String {
        assert_eq!(self.status, 500, "{}", self.body);
        self.xml()
            .text_at(&["Body", "Fault", "faultcode"])
            .unwrap_or_else(|| panic!("a fault: {}", self.body))
            .to_owned()
    }
}

/// One POST over a fresh connection. The reply must be exactly `200 OK`
/// or `500`, with a `Content-Length` body (chunks break libpurple).
async fn post(http: SocketAddr, path: &str, action: &str, body: &str) -> Reply {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: ows.messenger.msn.com\r\nSOAPAction: \"{action}\"\r\n\
         Content-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(http).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut reply))
        .await
        .expect("an answer")
        .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("a complete reply");
    let status = if head.starts_with("HTTP/1.1 200 OK\r\n") {
        200
    } else if head.starts_with("HTTP/1.1 500 Internal Server Error\r\n") {
        500
    } else {
        panic!("unexpected status: {head}");
    };
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let length: usize = head
        .split("\r\nContent-Length: ")
        .nth(1)
        .expect("Content-Length")
        .split("\r\n")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, body.len());
    assert!(
        head.contains("\r\nContent-Type: text/xml; charset=utf-8"),
        "{head}"
    );
    Reply {
        status,
        body: body.to_owned(),
    }
}

fn attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// A `Store2` request as libpurple writes it (LF line ends, base64 in
/// lines of 76).
fn store2_body(
    from: &str,
    to: &str,
    ticket: &str,
    appid: &str,
    lockkey: &str,
    text: &str,
    seq: u32,
) -> String {
    let b64 = BASE64.encode(text.as_bytes());
    let wrapped: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let content = format!(
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\
         X-OIM-Message-Type: OfflineMessage\nX-OIM-Run-Id: {{3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1}}\n\
         X-OIM-Sequence-Num: {seq}\n\n{}",
        wrapped.join("\n")
    );
    let name = format!("=?utf-8?B?{}?=", BASE64.encode(ALICE_NAME));
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#,
            r#"<soap:Header><From memberName="{from}" friendlyName="{name}" xml:lang="en-US" proxy="MSNMSGR" xmlns="http://messenger.msn.com/ws/2004/09/oim/" msnpVer="MSNP15" buildVer="8.5.1288"/>"#,
            r#"<To memberName="{to}" xmlns="http://messenger.msn.com/ws/2004/09/oim/"/>"#,
            r#"<Ticket passport="{ticket}" appid="{pid}" lockkey="{lockkey}" xmlns="http://messenger.msn.com/ws/2004/09/oim/"/>"#,
            r#"<Sequence xmlns="http://schemas.xmlsoap.org/ws/2003/03/rm"><Identifier xmlns="http://schemas.xmlsoap.org/ws/2002/07/utility">http://messenger.msn.com</Identifier><MessageNumber>{seq}</MessageNumber></Sequence></soap:Header>"#,
            r#"<soap:Body><MessageType xmlns="http://messenger.msn.com/ws/2004/09/oim/">text</MessageType><Content xmlns="http://messenger.msn.com/ws/2004/09/oim/">{content}</Content></soap:Body></soap:Envelope>"#,
        ),
        from = attr(from),
        name = name,
        to = attr(to),
        ticket = attr(ticket),
        pid = attr(appid),
        lockkey = lockkey,
        seq = seq,
        content = content.replace('&', "&amp;").replace('<', "&lt;"),
    )
}

/// A WLM sender: its tokens and the lock key it computed, kept for the
/// session as libpurple keeps it.
struct Sender {
    email: &'static str,
    tokens: Tokens,
    lockkey: String,
    seq: u32,
    /// `Ticket@appid` with its product key, and the SOAPAction.
    product: (&'static str, &'static str),
    action: &'static str,
}

impl Sender {
    async fn new(s: &TestServer, email: &'static str) -> Sender {
        Sender {
            email,
            tokens: wlm::tokens(s.http.unwrap(), email, PW).await,
            lockkey: String::new(),
            seq: 1,
            product: (PID, PKEY),
            action: STORE2,
        }
    }

    async fn attempt(&self, http: SocketAddr, to: &str, text: &str) -> Reply {
        let body = store2_body(
            self.email,
            to,
            &self.tokens.secure,
            self.product.0,
            &self.lockkey,
            text,
            self.seq,
        );
        post(http, "//OimWS/oim.asmx", self.action, &body).await
    }

    /// Sends as libpurple does: answers a lock-key challenge once and
    /// sends again. Returns the final reply.
    async fn send(&mut self, http: SocketAddr, to: &str, text: &str) -> Reply {
        let mut reply = self.attempt(http, to, text).await;
        if reply.status == 500 && reply.fault_code() == "q0:AuthenticationFailed" {
            let challenge = challenge_of(&reply);
            let (pid, pkey) = self.product;
            self.lockkey = msn_core::challenge::product_key_answer(&challenge, pid, pkey);
            reply = self.attempt(http, to, text).await;
        }
        if reply.status == 200 {
            self.seq += 1;
        }
        reply
    }

    async fn send_ok(&mut self, http: SocketAddr, to: &str, text: &str) {
        let reply = self.send(http, to, text).await;
        assert_stored(&reply);
    }
}

fn challenge_of(reply: &Reply) -> String {
    assert_eq!(
        reply.fault_code(),
        "q0:AuthenticationFailed",
        "{}",
        reply.body
    );
    let xml = reply.xml();
    let challenge = xml
        .text_at(&["Body", "Fault", "detail", "LockKeyChallenge"])
        .expect("a LockKeyChallenge")
        .to_owned();
    assert_eq!(challenge.len(), 20, "{challenge}");
    assert!(challenge.bytes().all(|b| b.is_ascii_digit()));
    challenge
}

fn assert_stored(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let xml = reply.xml();
    assert!(
        xml.at(&["Body", "StoreResponse"]).is_some(),
        "{}",
        reply.body
    );
    let ack = xml
        .at(&["Header", "SequenceAcknowledgment", "AcknowledgmentRange"])
        .expect("an acknowledgment");
    assert_eq!(ack.attr("Upper"), ack.attr("Lower"));
    assert!(ack.attr("Upper").unwrap().parse::<u32>().unwrap() >= 1);
}

/// An RSI call with the `messenger.msn.com` token split into t and p.
async fn rsi(http: SocketAddr, action: &str, web_token: &str, inner: &str) -> Reply {
    let (t, p) = web_token
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once("&p="))
        .expect("a t=…&p=… token");
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#,
            r#"<soap:Header><PassportCookie xmlns="{rsi}"><t>{t}</t><p>{p}</p></PassportCookie></soap:Header>"#,
            r#"<soap:Body><{action} xmlns="{rsi}">{inner}</{action}></soap:Body></soap:Envelope>"#,
        ),
        rsi = RSI,
        t = attr(t),
        p = attr(p),
        action = action,
        inner = inner,
    );
    post(http, "//rsi/rsi.asmx", &format!("{RSI}/{action}"), &body).await
}

/// One `<M>` of a `Mail-Data` document.
#[derive(Debug, PartialEq)]
struct Listed {
    sender: String,
    id: String,
    name: String,
    size: usize,
}

fn listed(md: &Element) -> Vec<Listed> {
    assert_eq!(md.name, "MD");
    assert_eq!(md.text_at(&["E", "I"]), Some("0"));
    md.children_named("M")
        .map(|m| {
            assert_eq!(m.text_at(&["T"]), Some("11"));
            assert_eq!(m.text_at(&["S"]), Some("6"));
            assert_eq!(m.text_at(&["RS"]), Some("0"));
            assert_eq!(
                m.text_at(&["F"]),
                Some("00000000-0000-0000-0000-000000000009")
            );
            assert!(m.text_at(&["RT"]).unwrap().ends_with(".000Z"));
            Listed {
                sender: m.text_at(&["E"]).unwrap().to_owned(),
                id: m.text_at(&["I"]).unwrap().to_owned(),
                name: m.text_at(&["N"]).unwrap().to_owned(),
                size: m.text_at(&["SZ"]).unwrap().parse().unwrap(),
            }
        })
        .collect()
}

/// The `<MD>` of a `Mail-Data:` payload (`None` for `too-large`).
fn mail_data(payload: &str) -> Option<Vec<Listed>> {
    let md = payload
        .split("\r\nMail-Data: ")
        .nth(1)
        .expect("Mail-Data")
        .trim_end();
    (md != "too-large").then(|| listed(&soap_xml::parse(md.as_bytes()).unwrap()))
}

async fn metadata(http: SocketAddr, web_token: &str) -> Vec<Listed> {
    let reply = rsi(http, "GetMetadata", web_token, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    listed(
        reply
            .xml()
            .at(&["Body", "GetMetadataResponse", "MD"])
            .expect("an MD"),
    )
}

async fn get_message(http: SocketAddr, web_token: &str, id: &str) -> Reply {
    rsi(
        http,
        "GetMessage",
        web_token,
        &format!("<messageId>{id}</messageId><alsoMarkAsRead>false</alsoMarkAsRead>"),
    )
    .await
}

fn message_text(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
        .xml()
        .text_at(&["Body", "GetMessageResponse", "GetMessageResult"])
        .expect("GetMessageResult")
        .to_owned()
}

/// Bob signs in with MSNP15 SSO; returns his client, his tokens and the
/// offline-message summary.
async fn bob_signs_in(s: &TestServer, n: u8) -> (Client, Tokens, String) {
    let tokens = wlm::tokens(s.http.unwrap(), BOB, PW).await;
    // MSNP16+ clients name their machine.
    let guid = (n >= 16).then_some("{F26D1F07-95E2-403C-BC18-D4BFED493428}");
    let (c, mail) = wlm::sso_login_with(s, n, BOB, &tokens.clear, &tokens.key, guid).await;
    (c, tokens, mail)
}

fn rfc2047(text: &str) -> String {
    format!("=?utf-8?B?{}?=", BASE64.encode(text))
}

#[tokio::test]
async fn send_with_the_lock_key_then_fetch_and_delete() {
    let s = server().await;
    let http = s.http.unwrap();
    let mut alice = Sender::new(&s, ALICE).await;
    // Alice is signed in with WLM 8.5; Bob is offline.
    let (mut alice_ns, _) =
        wlm::sso_login_with(&s, 15, ALICE, &alice.tokens.clear, &alice.tokens.key, None).await;
    alice_ns.barrier().await;

    // First call without a lock key: the challenge.
    let first = alice.attempt(http, BOB, HELLO).await;
    let challenge = challenge_of(&first);
    assert!(first.body.contains(
        r#"<faultcode xmlns:q0="http://messenger.msn.com/ws/2004/09/oim/">q0:AuthenticationFailed</faultcode>"#
    ), "{}", first.body);
    // A wrong key: the same fault again, with the same challenge.
    alice.lockkey = "0123456789abcdef0123456789abcdef".into();
    let wrong = alice.attempt(http, BOB, HELLO).await;
    assert_eq!(challenge_of(&wrong), challenge);
    // A key computed for another product id is wrong too.
    alice.lockkey =
        msn_core::challenge::product_key_answer(&challenge, "PROD0120PW!CCV9@", "C1BX{V4W}Q3*10SM");
    assert_eq!(
        challenge_of(&alice.attempt(http, BOB, HELLO).await),
        challenge
    );
    // The computed key: stored.
    alice.lockkey = msn_core::challenge::product_key_answer(&challenge, PID, PKEY);
    let stored = alice.attempt(http, BOB, HELLO).await;
    assert_stored(&stored);
    // The key stays good for the session.
    alice.seq += 1;
    assert_stored(&alice.attempt(http, BOB, "second").await);

    // Bob signs in: the summary lists both, in order, from Alice.
    let (mut bob, bob_tokens, mail) = bob_signs_in(&s, 15).await;
    let waiting = mail_data(&mail).expect("a list");
    assert_eq!(waiting.len(), 2, "{mail}");
    assert_eq!(waiting[0].sender, ALICE);
    assert_eq!(waiting[0].name, rfc2047(ALICE_NAME));
    assert_eq!(waiting[0].size, HELLO.len());
    assert_eq!(waiting[1].size, "second".len());
    assert_eq!(metadata(http, &bob_tokens.web).await, waiting);

    // GetMessage: the RFC 822 text of msnp13-18.md §7.2.
    let text = message_text(&get_message(http, &bob_tokens.web, &waiting[0].id).await);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("headers, blank line, body");
    let headers: Vec<(&str, &str)> = head
        .split("\r\n")
        .map(|l| l.split_once(": ").unwrap_or((l, "")))
        .collect();
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "X-Message-Info",
            "Received",
            "From",
            "To",
            "Subject",
            "X-OIM-originatingSource",
            "X-OIMProxy",
            "MIME-Version",
            "Content-Type",
            "Content-Transfer-Encoding",
            "X-OIM-Message-Type",
            "X-OIM-Run-Id",
            "X-OIM-Sequence-Num",
            "Message-ID",
            "X-OriginalArrivalTime",
            "Date",
            "Return-Path",
        ]
    );
    let header = |name: &str| headers.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(header("From"), format!("{} <{ALICE}>", rfc2047(ALICE_NAME)));
    assert_eq!(header("To"), BOB);
    assert_eq!(header("X-OIMProxy"), "MSNMSGR");
    assert_eq!(header("Content-Type"), "text/plain; charset=UTF-8");
    assert_eq!(header("Content-Transfer-Encoding"), "base64");
    assert_eq!(header("X-OIM-Message-Type"), "OfflineMessage");
    assert_eq!(
        header("X-OIM-Run-Id"),
        "{3A3BE82F-C4FC-4D8E-A1A4-D2A2C8F6A1B1}"
    );
    assert_eq!(header("X-OIM-Sequence-Num"), "1");
    assert_eq!(header("X-OIM-originatingSource"), "127.0.0.1");
    assert_eq!(header("Return-Path"), "ndr@oim.messenger.msn.com");
    assert!(header("Message-ID").contains(&waiting[0].id));
    // `5 Sep 2007 21:42:12 -0700`, the form libpurple reads.
    let date: Vec<&str> = header("Date").split(' ').collect();
    assert_eq!(date.len(), 5, "{date:?}");
    assert!(
        date[0].parse::<u8>().is_ok() && date[4] == "+0000",
        "{date:?}"
    );
    let decoded = BASE64.decode(body.replace("\r\n", "")).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), HELLO);

    // DeleteMessages: gone, and Bob's NS hears of it.
    let deleted = rsi(
        http,
        "DeleteMessages",
        &bob_tokens.web,
        &format!(
            "<messageIds><messageId>{}</messageId><messageId>{}</messageId></messageIds>",
            waiting[0].id, waiting[1].id
        ),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(
        deleted
            .xml()
            .at(&["Body", "DeleteMessagesResponse"])
            .is_some()
    );
    let notice = bob
        .wait_for("the delete notice", |f| f.command() == "MSG")
        .await;
    assert_eq!(
        std::str::from_utf8(notice.payload().unwrap()).unwrap(),
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\n\
         Src-Folder: .!!OIM\r\nDest-Folder: .!!trAsH\r\nMessage-Delta: 2\r\n"
    );
    assert_eq!(metadata(http, &bob_tokens.web).await, []);
    assert_eq!(
        get_message(http, &bob_tokens.web, &waiting[0].id)
            .await
            .status,
        500
    );
    // Nothing comes back at the next sign-in.
    drop(bob);
    let (_bob, _, mail) = bob_signs_in(&s, 18).await;
    assert_eq!(mail_data(&mail), Some(vec![]));
}

#[tokio::test]
async fn a_signed_in_recipient_gets_the_live_notice() {
    let s = server().await;
    let http = s.http.unwrap();
    let (mut bob, bob_tokens, _) = bob_signs_in(&s, 18).await;
    bob.barrier().await;
    let mut alice = Sender::new(&s, ALICE).await;
    alice.send_ok(http, BOB, HELLO).await;
    let notice = bob
        .wait_for("the OIM notice", |f| f.command() == "MSG")
        .await;
    assert_eq!(
        notice.line().split(' ').take(3).collect::<Vec<_>>(),
        ["MSG", "Hotmail", "Hotmail"]
    );
    let payload = std::str::from_utf8(notice.payload().unwrap()).unwrap();
    assert!(
        payload.starts_with(
            "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsoimnotification; charset=UTF-8\r\n\r\nMail-Data: <MD>"
        ),
        "{payload}"
    );
    let live = mail_data(payload).unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].sender, ALICE);
    assert_eq!(metadata(http, &bob_tokens.web).await, live);
    let text = message_text(&get_message(http, &bob_tokens.web, &live[0].id).await);
    assert!(text.contains(&format!("\r\nFrom: {} <{ALICE}>\r\n", rfc2047(ALICE_NAME))));
}

#[tokio::test]
async fn refused_messages_store_nothing() {
    let s = server_with(|c| {
        c.oim.max_message_bytes = 100;
        c.oim.max_waiting_per_recipient = 2;
    })
    .await;
    let http = s.http.unwrap();
    let mut alice = Sender::new(&s, ALICE).await;
    alice.send_ok(http, BOB, "first").await;

    // Unknown recipient, malformed recipient.
    for to in ["nobody@example.com", "not an address"] {
        let r = alice.send(http, to, HELLO).await;
        assert_eq!(r.fault_code(), "q0:SystemUnavailable", "{to}");
    }
    // Carol blocks Alice: refused as if Carol did not exist.
    s.seed_entry("carol@example.com", ALICE, 4, "Alice", &[])
        .await;
    let r = alice.send(http, "carol@example.com", HELLO).await;
    assert_eq!(r.fault_code(), "q0:SystemUnavailable");
    // Over the size limit (bytes of UTF-8, not characters).
    let r = alice.send(http, BOB, &"ü".repeat(51)).await;
    assert_eq!(r.fault_code(), "q0:InvalidContent");
    alice.send_ok(http, BOB, &"ü".repeat(50)).await;
    // Bob has two waiting: the per-recipient limit.
    let r = alice.send(http, BOB, "third").await;
    assert_eq!(r.fault_code(), "q0:SystemUnavailable");

    // Tickets: none, garbage, another service's, another user's.
    let mut bad = Sender::new(&s, ALICE).await;
    let bob_tokens = wlm::tokens(http, BOB, PW).await;
    for ticket in [
        String::new(),
        "t=forged$$&p=forged$$".into(),
        alice.tokens.web.clone(),
        bob_tokens.secure.clone(),
    ] {
        bad.tokens.secure = ticket;
        let r = bad.send(http, "carol@example.com", HELLO).await;
        assert_eq!(r.fault_code(), "q0:BadContextToken");
    }
    let carol_tokens = wlm::tokens(http, "carol@example.com", PW).await;
    for ticket in [
        "t=forged$$&p=forged$$",
        &alice.tokens.secure,
        &carol_tokens.secure,
    ] {
        let r = rsi(http, "GetMetadata", ticket, "").await;
        assert_eq!(r.fault_code(), "q0:BadContextToken");
    }

    // Nothing but the two accepted messages was stored, for anyone.
    let waiting = metadata(http, &bob_tokens.web).await;
    assert_eq!(waiting.len(), 2);
    assert_eq!(waiting[1].size, 100);
    assert_eq!(metadata(http, &carol_tokens.web).await, []);
    // Carol can neither read nor delete Bob's messages.
    assert_eq!(
        get_message(http, &carol_tokens.web, &waiting[0].id)
            .await
            .status,
        500
    );
    let r = rsi(
        http,
        "DeleteMessages",
        &carol_tokens.web,
        &format!(
            "<messageIds><messageId>{}</messageId></messageIds>",
            waiting[0].id
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(metadata(http, &bob_tokens.web).await, waiting);
    // Garbage in the body: a fault, not a crash.
    let r = post(http, "/OimWS/oim.asmx", STORE2, "<soap:Envelope").await;
    assert_eq!(r.fault_code(), "q0:InvalidContent");
    let r = post(http, "/rsi/rsi.asmx", &format!("{RSI}/GetMessage"), "x").await;
    assert_eq!(r.fault_code(), "q0:InvalidRequest");
}

#[tokio::test]
async fn an_expired_ticket_is_refused() {
    let ttl = Duration::from_secs(3);
    let s = server_with(|c| c.http.soap_token_ttl = ttl).await;
    let http = s.http.unwrap();
    let issued = tokio::time::Instant::now();
    let mut alice = Sender::new(&s, ALICE).await;
    alice.send_ok(http, BOB, "before").await;
    // Past the tokens' lifetime, counted from before they were issued.
    tokio::time::sleep_until(issued + ttl + Duration::from_millis(500)).await;
    let r = alice.send(http, BOB, "after").await;
    assert_eq!(r.fault_code(), "q0:BadContextToken");
    let r = rsi(http, "GetMetadata", &alice.tokens.web, "").await;
    assert_eq!(r.fault_code(), "q0:BadContextToken");
}

#[tokio::test]
async fn messages_come_in_arrival_order_and_many_say_too_large() {
    let s = server().await;
    let http = s.http.unwrap();
    let mut alice = Sender::new(&s, ALICE).await;
    for i in 1..=3 {
        alice.send_ok(http, BOB, &format!("message {i}")).await;
    }
    let (bob, bob_tokens, mail) = bob_signs_in(&s, 15).await;
    let first = mail_data(&mail).expect("three are listed");
    assert_eq!(first.len(), 3);
    for (i, m) in first.iter().enumerate() {
        let text = message_text(&get_message(http, &bob_tokens.web, &m.id).await);
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let decoded = String::from_utf8(BASE64.decode(body.replace("\r\n", "")).unwrap()).unwrap();
        assert_eq!(decoded, format!("message {}", i + 1));
    }
    drop(bob);
    for i in 4..=30 {
        alice.send_ok(http, BOB, &format!("message {i}")).await;
    }
    let (_bob, _, mail) = bob_signs_in(&s, 15).await;
    assert_eq!(mail_data(&mail), None, "{mail}");
    assert!(mail.ends_with("Mail-Data: too-large\r\n"), "{mail}");
    let all = metadata(http, &bob_tokens.web).await;
    assert_eq!(all.len(), 30);
    assert_eq!(all[..3], first[..]);
    let last = message_text(&get_message(http, &bob_tokens.web, &all[29].id).await);
    assert!(last.ends_with(&BASE64.encode("message 30")), "{last}");
}

#[tokio::test]
async fn a_thousand_waiting_messages_do_not_stall_the_sign_in() {
    let s = server().await;
    let http = s.http.unwrap();
    let bob_id = s.store.user(BOB).await.unwrap().unwrap().id;
    for i in 0..1000u32 {
        let added = s
            .store
            .add_oim(
                NewOim {
                    id: uuid::Uuid::new_v4(),
                    recipient_id: bob_id,
                    sender: msn_core::handle::Handle::parse(ALICE).unwrap(),
                    sender_name: "Alice".into(),
                    run_id: uuid::Uuid::new_v4(),
                    sequence_num: i + 1,
                    origin: "127.0.0.1".into(),
                    received_at: 1_700_000_000,
                    text: format!("message {i}"),
                },
                1000,
            )
            .await
            .unwrap();
        assert!(matches!(added, OimAdded::Stored { .. }));
    }
    let (mut bob, bob_tokens, mail) = bob_signs_in(&s, 18).await;
    assert!(mail.ends_with("Mail-Data: too-large\r\n"), "{mail}");
    bob.barrier().await;
    let all = metadata(http, &bob_tokens.web).await;
    assert_eq!(all.len(), 1000);
    // The limit (1000 by default) refuses the next one.
    let mut alice = Sender::new(&s, ALICE).await;
    let r = alice.send(http, BOB, "one more").await;
    assert_eq!(r.fault_code(), "q0:SystemUnavailable");
}

/// MSNP2–12 clients have no offline messages: what is sent to such a user
/// waits, unannounced, until they sign in with WLM.
#[tokio::test]
async fn older_clients_see_nothing_and_lose_nothing() {
    let s = server().await;
    let http = s.http.unwrap();
    // Bob on MSN 7.0 (MSNP11), appearing offline.
    let mut bob11 = s.online_twn(11, BOB, "HDN").await;
    bob11.barrier().await;
    let mut alice = Sender::new(&s, ALICE).await;
    alice.send_ok(http, BOB, "for MSN 7").await;
    // No notice reaches MSNP11: the next line is the answer to PNG.
    bob11.send("PNG").await;
    let next = bob11.recv().await;
    assert_eq!(next.command(), "QNG", "{}", next.line());
    drop(bob11);
    // An MSNP7 sign-in gets nothing either, and takes nothing away.
    let mut bob7 = Client::login(s.ns, 7, BOB, PW).await;
    bob7.send("PNG").await;
    let next = bob7.recv().await;
    assert_eq!(next.command(), "QNG", "{}", next.line());
    drop(bob7);
    alice.send_ok(http, BOB, "while away").await;
    // WLM finds both.
    let (_bob, _, mail) = bob_signs_in(&s, 15).await;
    assert_eq!(mail_data(&mail).unwrap().len(), 2);
}

/// WLM 8.0 (MSNP13): the older `Store` action with its own product id,
/// and the `messenger.msn.com` token both signs it in (`USR TWN S`, once)
/// and fetches its messages afterwards.
#[tokio::test]
async fn wlm_8_0_stores_with_store_and_fetches_with_its_login_token() {
    let s = server().await;
    let http = s.http.unwrap();
    let mut alice = Sender::new(&s, ALICE).await;
    alice.product = ("PROD01065C%ZFN6F", "O4BG@C7BWLYQX?5G");
    alice.action = "http://messenger.msn.com/ws/2004/09/oim/Store";
    alice.send_ok(http, BOB, HELLO).await;

    let bob = wlm::tokens(http, BOB, PW).await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP13 CVR0").await;
    c.expect("VER 1 MSNP13").await;
    c.send(&format!("USR 2 TWN I {BOB}")).await;
    assert_eq!(c.recv().await.command(), "GCF");
    assert!(c.recv_line().await.starts_with("USR 2 TWN S lc=1033,"));
    c.send(&format!("USR 3 TWN S {}", bob.web)).await;
    c.expect(&format!("USR 3 OK {BOB} 1 0")).await;
    // The summary follows the presence dump of the first CHG.
    c.send("CHG 4 NLN 1342488620 0").await;
    let summary = c
        .wait_for("the summary", |f| {
            f.payload()
                .is_some_and(|p| p.windows(10).any(|w| w == b"Mail-Data:"))
        })
        .await;
    let waiting = mail_data(std::str::from_utf8(summary.payload().unwrap()).unwrap()).unwrap();
    assert_eq!(waiting.len(), 1);
    // The login used the token up as a ticket, not as RSI's bearer token.
    let text = message_text(&get_message(http, &bob.web, &waiting[0].id).await);
    assert!(text.ends_with(&BASE64.encode(HELLO)), "{text}");
    let mut again = Client::connect(s.ns).await;
    again.send("VER 1 MSNP13 CVR0").await;
    again.expect("VER 1 MSNP13").await;
    again.send(&format!("USR 2 TWN I {BOB}")).await;
    again.recv().await;
    again.recv().await;
    again.send(&format!("USR 3 TWN S {}", bob.web)).await;
    again.expect("911 3").await;
    // Other actions and methods are refused.
    let r = post(
        http,
        "/OimWS/oim.asmx",
        "http://messenger.msn.com/ws/2004/09/oim/Peek",
        "",
    )
    .await;
    assert_eq!(r.fault_code(), "q0:UnknownAction");
}
