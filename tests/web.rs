//! msnd Web Messenger's transport without a browser: the sign-in API and
//! the WebSocket (`/messenger/ws`, subprotocol `msnd.msnp.1`) driven by a
//! plain WebSocket client speaking MSNP11, against an MSNP7 TCP client
//! through a real switchboard. Also the refusals: another origin, no
//! sign-in, no subprotocol, no CSRF header, a wrong password; and text
//! that looks like HTML arriving as the bytes it is.

mod support;

use std::net::SocketAddr;

use futures_util::{SinkExt as _, StreamExt as _};
use msn_wire::{Decoder, Direction, Frame, Limits};
use support::{Client, TestServer, WAIT};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const XSS: &str = "<img src=x onerror=alert(1)>";

/// Signs in through the API; returns the ticket and the cookie.
async fn sign_in(http: SocketAddr, handle: &str, password: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .post(format!("http://{http}/messenger/api/sign-in"))
        .header("Origin", format!("http://{http}"))
        .header("X-MSND-Web", "1")
        .header("Content-Type", "application/json")
        .body(serde_json::json!({ "handle": handle, "password": password }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["handle"], handle);
    (body["ticket"].as_str().unwrap().to_owned(), cookie)
}

/// A WebSocket protocol client.
struct Ws {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    buf: bytes::BytesMut,
    decoder: Decoder,
}

async fn handshake(
    http: SocketAddr,
    target: &str,
    origin: Option<&str>,
    cookie: Option<&str>,
    protocol: bool,
) -> Result<Ws, StatusCode> {
    let mut request = format!("ws://{http}/messenger/ws?target={target}")
        .into_client_request()
        .unwrap();
    let h = request.headers_mut();
    if let Some(origin) = origin {
        h.insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    if let Some(cookie) = cookie {
        h.insert("Cookie", HeaderValue::from_str(cookie).unwrap());
    }
    if protocol {
        h.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("msnd.msnp.1"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, response)) => {
            assert_eq!(
                response.headers().get("sec-websocket-protocol").unwrap(),
                "msnd.msnp.1"
            );
            Ok(Ws {
                ws,
                buf: bytes::BytesMut::new(),
                decoder: Decoder::new(
                    Direction::FromServer,
                    Limits {
                        max_line: 1 << 20,
                        max_payload: 1 << 24,
                    },
                ),
            })
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status()),
        Err(e) => panic!("handshake failed: {e}"),
    }
}

impl Ws {
    async fn open(http: SocketAddr, target: &str, cookie: &str) -> Ws {
        handshake(
            http,
            target,
            Some(&format!("http://{http}")),
            Some(cookie),
            true,
        )
        .await
        .expect("socket opens")
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .unwrap();
    }

    async fn line(&mut self, line: &str) {
        self.send(format!("{line}\r\n").as_bytes()).await;
    }

    async fn recv(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf).expect("framing") {
                return Some(frame);
            }
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => self.buf.extend_from_slice(&b),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return None,
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => panic!("socket error {e}"),
                Err(_) => panic!("nothing from the socket"),
            }
        }
    }

    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Frame) -> bool) -> Frame {
        loop {
            match self.recv().await {
                Some(f) if pred(&f) => return f,
                Some(_) => {}
                None => panic!("socket closed before {what}"),
            }
        }
    }
}

fn message(text: &str) -> Vec<u8> {
    let payload =
        format!("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{text}");
    let mut out = format!("MSG 9 A {}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(payload.as_bytes());
    out
}

#[tokio::test]
async fn a_web_user_chats_with_an_msnp7_user_through_a_real_switchboard() {
    let s = TestServer::start().await;
    let http = s.http.unwrap();
    s.user("web@example.com", "webpass1", "Web User").await;
    s.user("dan@example.com", "danpass1", "Dan").await;
    s.seed_friends(("web@example.com", "Web User"), ("dan@example.com", "Dan"))
        .await;
    let mut dan = s.online(7, "dan@example.com", "danpass1", "NLN").await;

    let (ticket, cookie) = sign_in(http, "web@example.com", "webpass1").await;
    let mut ns = Ws::open(http, "ns", &cookie).await;
    // Byte stream: a command may be split across messages.
    ns.send(b"VER 1 MSNP11 ").await;
    ns.send(b"CVR0\r\n").await;
    ns.wait_for("VER", |f| f.line() == "VER 1 MSNP11").await;
    ns.line("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.0.0816 msmsgs web@example.com")
        .await;
    ns.wait_for("CVR", |f| f.command() == "CVR").await;
    ns.line("USR 3 TWN I web@example.com").await;
    ns.wait_for("USR S", |f| f.line().starts_with("USR 3 TWN S"))
        .await;
    ns.line(&format!("USR 4 TWN S {ticket}")).await;
    ns.wait_for("USR OK", |f| {
        f.line().starts_with("USR 4 OK web@example.com")
    })
    .await;
    ns.line("SYN 5 0 0").await;
    ns.wait_for("LST dan", |f| f.line().starts_with("LST N=dan@example.com"))
        .await;
    ns.line("CHG 6 NLN 0").await;
    ns.wait_for("ILN dan", |f| {
        f.line().starts_with("ILN 6 NLN dan@example.com")
    })
    .await;
    // The MSNP7 user sees the web user come online like any contact.
    dan.wait_for("NLN web", |f| {
        f.line().starts_with("NLN NLN web@example.com")
    })
    .await;

    // A chat: XFR SB over the socket, the switchboard over another.
    ns.line("XFR 7 SB").await;
    let xfr = ns
        .wait_for("XFR", |f| f.line().starts_with("XFR 7 SB"))
        .await;
    let cookie_sb = xfr.tokens().nth(5).unwrap().to_owned();
    let mut sb = Ws::open(http, "sb", &cookie).await;
    sb.line(&format!("USR 1 web@example.com {cookie_sb}")).await;
    sb.wait_for("USR OK", |f| f.line().starts_with("USR 1 OK"))
        .await;
    sb.line("CAL 2 dan@example.com").await;
    sb.wait_for("RINGING", |f| f.line().starts_with("CAL 2 RINGING"))
        .await;
    let rng = dan.wait_for("RNG", |f| f.command() == "RNG").await;
    let sid = rng.tokens().nth(1).unwrap().to_owned();
    let ck = rng.tokens().nth(4).unwrap().to_owned();
    let mut dan_sb = Client::connect(s.sb).await;
    dan_sb
        .send(&format!("ANS 1 dan@example.com {ck} {sid}"))
        .await;
    dan_sb.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    sb.wait_for("JOI", |f| f.line().starts_with("JOI dan@example.com"))
        .await;

    // Web → TCP: HTML-looking and non-ASCII text arrives byte for byte.
    let text = format!("Grüße {XSS} :) 日本");
    sb.send(&message(&text)).await;
    sb.wait_for("ACK", |f| f.line() == "ACK 9").await;
    let got = dan_sb.wait_for("MSG", |f| f.command() == "MSG").await;
    assert!(got.line().starts_with("MSG web@example.com Web%20User"));
    let body = String::from_utf8(got.payload().unwrap().to_vec()).unwrap();
    assert!(body.ends_with(&text), "{body}");

    // TCP → web.
    let payload = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhej (Y) ñ";
    dan_sb.send_payload("MSG 2 A", payload.as_bytes()).await;
    let got = sb.wait_for("MSG", |f| f.command() == "MSG").await;
    assert!(got.line().starts_with("MSG dan@example.com Dan"));
    assert!(got.payload().unwrap().ends_with("hej (Y) ñ".as_bytes()));

    // Blocking over the socket: the MSNP7 user sees the web user go offline.
    ns.line("ADC 8 BL N=dan@example.com").await;
    ns.wait_for("ADC BL", |f| f.line().starts_with("ADC 8 BL"))
        .await;
    ns.line("REM 9 AL dan@example.com").await;
    ns.wait_for("REM AL", |f| f.line().starts_with("REM 9 AL"))
        .await;
    dan.wait_for("FLN web", |f| f.line() == "FLN web@example.com")
        .await;

    // Closing the socket signs the user out, as a dropped TCP connection.
    drop(sb);
    drop(ns);
    let bye = dan_sb.wait_for("BYE", |f| f.command() == "BYE").await;
    assert!(bye.line().starts_with("BYE web@example.com"));
    s.stop().await;
}

#[tokio::test]
async fn the_socket_and_the_api_refuse_other_sites_and_strangers() {
    let s = TestServer::start().await;
    let http = s.http.unwrap();
    s.user("web@example.com", "webpass1", "Web").await;
    let (_, cookie) = sign_in(http, "web@example.com", "webpass1").await;
    let here = format!("http://{http}");

    // Another origin, no origin, no sign-in, no subprotocol, a bad target.
    let refused = |r: Result<Ws, StatusCode>| r.err().expect("refused");
    let evil = Some("http://evil.example");
    assert_eq!(
        refused(handshake(http, "ns", evil, Some(&cookie), true).await),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        refused(handshake(http, "ns", None, Some(&cookie), true).await),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        refused(handshake(http, "ns", Some(&here), None, true).await),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refused(handshake(http, "ns", Some(&here), Some("msnd_web=forged"), true).await),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refused(handshake(http, "ns", Some(&here), Some(&cookie), false).await),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        refused(handshake(http, "ds", Some(&here), Some(&cookie), true).await),
        StatusCode::BAD_REQUEST
    );

    let client = reqwest::Client::new();
    let post = |path: &str, origin: Option<&str>, csrf: bool, body: &str| {
        let mut r = client
            .post(format!("http://{http}/messenger/api/{path}"))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        if csrf {
            r = r.header("X-MSND-Web", "1");
        }
        r
    };
    let good = r#"{"handle":"web@example.com","password":"webpass1"}"#;
    let bad = r#"{"handle":"web@example.com","password":"wrong"}"#;
    // A form post from elsewhere, or without the header: refused unchecked.
    let r = post("sign-in", Some("http://evil.example"), true, good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post("sign-in", Some(&here), false, good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post("sign-in", Some(&here), true, bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = post("sign-in", Some(&here), true, "not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A new ticket needs the cookie.
    let r = post("ticket", Some(&here), true, "{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = post("ticket", Some(&here), true, "{}")
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Signing out ends the cookie: no more tickets, no more sockets.
    let r = post("sign-out", Some(&here), true, "{}")
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = post("ticket", Some(&here), true, "{}")
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        refused(handshake(http, "ns", Some(&here), Some(&cookie), true).await),
        StatusCode::UNAUTHORIZED
    );

    // The page: its policy, and every file it loads.
    let page = client
        .get(format!("http://{http}/messenger/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let js = client
        .get(format!("http://{http}/messenger/js/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let missing = client
        .get(format!("http://{http}/messenger/js/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn the_web_messenger_can_be_turned_off() {
    let s = TestServer::start_with(|c| c.web.enabled = false).await;
    let http = s.http.unwrap();
    for path in ["/messenger/", "/"] {
        let r = reqwest::get(format!("http://{http}{path}")).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    s.stop().await;
}

/// `http://host:port/` opens the messenger.
#[tokio::test]
async fn the_servers_own_address_opens_the_messenger() {
    let s = TestServer::start().await;
    let http = s.http.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(format!("http://{http}/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/messenger/");
    let page = reqwest::get(format!("http://{http}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    s.stop().await;
}
