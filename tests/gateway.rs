//! The HTTP gateway (`/gateway/gateway.dll`, msnp13-18.md §9) from the
//! outside: sign-in, presence and chat with TCP users through it, and its
//! HTTP rules — exact answers, rotating session ids, limits, expiry and
//! shutdown — with a raw HTTP/1.1 client that reads answers as libpurple
//! does.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::gateway::{GatewayClient, HttpConn};
use support::{Client, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ALICE: &str = "alice@hotmail.com";
const BOB: &str = "bob@hotmail.com";

/// What MSN Messenger 7.5 sends at first: the address it has compiled in.
const DS_NAME: &str = "messenger.hotmail.com";

fn http(s: &TestServer) -> SocketAddr {
    s.http.expect("plain HTTP")
}

/// A Passport 1.4 ticket from `GET /login2.srf`, as MSN 5.0–7.5 get one.
async fn passport_ticket(http: SocketAddr, email: &str, password: &str) -> String {
    let mut stream = TcpStream::connect(http).await.unwrap();
    let request = format!(
        "GET /login2.srf HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\
         Authorization: Passport1.4 OrgVerb=GET,OrgURL=x,sign-in={},pwd={password},lc=1033\r\n\r\n",
        email.replace('@', "%40")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    let (_, rest) = reply.split_once("from-PP='").expect("ticket");
    rest.split_once('\'').unwrap().0.to_owned()
}

/// Opens an NS session through the gateway for the address `ip` and signs
/// in with MSNP12 and a Passport ticket, as MSN Messenger 7.5 does.
async fn gateway_login(s: &TestServer, ip: &str, email: &str, ticket: &str) -> GatewayClient {
    let mut c = GatewayClient::open(http(s), "NS", ip, b"VER 1 MSNP12 CVR0\r\n").await;
    c.label = format!("{email}/gateway ns");
    c.next_trid = 2;
    c.expect("VER 1 MSNP12").await;
    c.call(&format!(
        "CVR {{}} 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs {email}"
    ))
    .await;
    let usr = c.call(&format!("USR {{}} TWN I {email}")).await;
    assert_eq!(usr.tokens().nth(3), Some("S"), "{}", usr.line());
    let ok = c.call(&format!("USR {{}} TWN S {ticket}")).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    c.expect("SBS 0 null").await;
    let profile = c.recv().await;
    assert_eq!(profile.command(), "MSG");
    c
}

/// The NS's host as `XFR` names it; libpurple asks the gateway for it
/// without the port.
const NS_HOST: &str = "127.0.0.1";

/// Alice (gateway) and Bob (TCP) on each other's lists.
async fn friends(s: &TestServer) {
    s.user(ALICE, "alicepass", "Alice").await;
    s.user(BOB, "bobpass", "Bob").await;
    s.seed_friends((ALICE, "Alice"), (BOB, "Bob")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp12_signs_in_through_the_gateway_via_the_dispatch_server() {
    let s = TestServer::start().await;
    s.user(ALICE, "alicepass", "Alice").await;
    let http = http(&s);
    let gw_ip = format!("127.0.0.1:{}", http.port());

    // The first request, checked byte for byte where clients are strict.
    let mut conn = HttpConn::connect(http).await;
    let answer = conn
        .post(
            &format!(
                "http://gateway.messenger.hotmail.com/gateway/gateway.dll?Action=open&Server=NS&IP={DS_NAME}"
            ),
            "gateway.messenger.hotmail.com",
            b"VER 1 MSNP12 CVR0\r\n",
        )
        .await;
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        answer.header("Content-Type"),
        Some("application/x-msn-messenger")
    );
    assert_eq!(answer.header("Content-Length"), Some("14"));
    assert_eq!(answer.body, b"VER 1 MSNP12\r\n");
    let id = answer.messenger_item("SessionID").unwrap();
    assert_eq!(
        answer.header("X-MSN-Messenger"),
        Some(format!("SessionID={id}; GW-IP={gw_ip}").as_str())
    );

    // The Dispatch Server refers the client to the NS, through the gateway.
    let mut ds = GatewayClient::from_answer(conn, answer, "alice/gateway ds");
    ds.expect("VER 1 MSNP12").await;
    ds.next_trid = 2;
    ds.call("CVR {} 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs alice@hotmail.com")
        .await;
    let xfr = ds.call("USR {} TWN I alice@hotmail.com").await;
    let ns = format!("127.0.0.1:{}", s.ns.port());
    let ds_addr = format!("127.0.0.1:{}", s.ds.port());
    assert_eq!(xfr.line(), format!("XFR 3 NS {ns} 0 {ds_addr}"));
    assert_eq!(ds.gw_ip, gw_ip);

    // The client opens a new session for the NS it was given, and signs in
    // with a ticket from the Passport login service.
    let ticket = passport_ticket(http, ALICE, "alicepass").await;
    let mut c = gateway_login(&s, &ns, ALICE, &ticket).await;
    let syn = c.call("SYN {} 0 0").await;
    assert_eq!(syn.command(), "SYN", "{}", syn.line());
    c.call("CHG {} NLN 0").await;
    assert!(!c.closed);

    c.send("OUT").await;
    assert_eq!(c.expect_close().await, Vec::<String>::new());
    assert!(c.closed, "OUT ends the session with Session=close");
    // The session is gone: its last id is refused.
    let stale = format!(
        "http://{gw_ip}/gateway/gateway.dll?Action=poll&SessionID={}",
        c.id
    );
    let answer = c.conn.post(&stale, &gw_ip, b"").await;
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_user_and_a_tcp_user_see_each_other_and_chat() {
    let s = TestServer::start().await;
    friends(&s).await;
    let mut bob = s.online(7, BOB, "bobpass", "NLN").await;

    let ticket = s.ticket(ALICE).await;
    let mut alice = gateway_login(&s, NS_HOST, ALICE, &ticket).await;
    alice.call("SYN {} 0 0").await;
    alice.send("CHG 20 NLN 0").await;
    let iln = alice
        .wait_for("ILN for Bob", |f| {
            f.command() == "ILN" && f.tokens().nth(3) == Some(BOB)
        })
        .await;
    assert_eq!(iln.tokens().nth(2), Some("NLN"), "{}", iln.line());
    bob.expect("NLN NLN alice@hotmail.com Alice").await;

    // Presence changes both ways.
    bob.call("CHG {} AWY").await;
    let nln = alice
        .wait_for("NLN from Bob", |f| f.command() == "NLN")
        .await;
    assert!(
        nln.line().starts_with("NLN AWY bob@hotmail.com Bob"),
        "{}",
        nln.line()
    );
    alice.send("CHG 21 BSY 0").await;
    bob.expect("NLN BSY alice@hotmail.com Alice").await;

    // Alice opens a switchboard through the gateway and invites Bob.
    let xfr = alice.call("XFR {} SB").await;
    assert_eq!(xfr.command(), "XFR", "{}", xfr.line());
    let sb_addr = xfr.tokens().nth(3).unwrap().to_owned();
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let sb_host = sb_addr.rsplit_once(':').unwrap().0.to_owned();
    let mut sb = GatewayClient::open(
        http(&s),
        "SB",
        &sb_host,
        format!("USR 1 {ALICE} {cookie}\r\n").as_bytes(),
    )
    .await;
    sb.label = "alice/gateway sb".into();
    sb.next_trid = 2;
    sb.expect("USR 1 OK alice@hotmail.com Alice").await;
    let ring = sb.call(&format!("CAL {{}} {BOB}")).await;
    assert_eq!(ring.tokens().nth(2), Some("RINGING"), "{}", ring.line());
    let sid = ring.tokens().nth(3).unwrap().to_owned();

    let rng = bob.wait_for("RNG", |f| f.command() == "RNG").await;
    let bob_cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut bob_sb = Client::connect(s.sb).await;
    bob_sb.label = "bob/sb".into();
    bob_sb
        .send(&format!("ANS 1 {BOB} {bob_cookie} {sid}"))
        .await;
    bob_sb.expect("IRO 1 1 1 alice@hotmail.com Alice").await;
    bob_sb.expect("ANS 1 OK").await;
    // MSNP12 gets the client capabilities field (0: Bob's MSNP7 client has none).
    sb.expect("JOI bob@hotmail.com Bob 0").await;

    // Messages both ways, byte for byte.
    let hello = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi from behind a proxy";
    sb.send_payload("MSG 3 A", hello).await;
    sb.expect("ACK 3").await;
    let got = bob_sb.recv().await;
    assert_eq!(
        got.line(),
        format!("MSG alice@hotmail.com Alice {}", hello.len())
    );
    assert_eq!(got.payload().unwrap().as_ref(), hello);

    let reply =
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello over TCP";
    bob_sb.send_payload("MSG 2 N", reply).await;
    let msg = sb.recv().await;
    assert_eq!(
        msg.line(),
        format!("MSG bob@hotmail.com Bob {}", reply.len())
    );
    assert_eq!(msg.payload().unwrap().as_ref(), reply);

    bob_sb.send("OUT").await;
    sb.expect("BYE bob@hotmail.com").await;
    sb.send("OUT").await;
    assert!(sb.expect_close().await.is_empty());

    // Alice signs out through the gateway: Bob sees her go.
    alice.send("OUT").await;
    alice.expect_close().await;
    bob.expect("FLN alice@hotmail.com").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_rotate_and_only_the_latest_is_honoured() {
    let s = TestServer::start().await;
    let mut c = GatewayClient::open(http(&s), "NS", NS_HOST, b"VER 1 MSNP12 CVR0\r\n").await;
    let first = c.id.clone();
    c.expect("VER 1 MSNP12").await;
    c.poll().await;
    let second = c.id.clone();
    assert_ne!(first, second, "every answer gives a new id");

    let gw = c.gw_ip.clone();
    let post = |id: &str| format!("http://{gw}/gateway/gateway.dll?SessionID={id}");
    for id in [first.as_str(), "123.456", "not-an-id"] {
        let answer = c.conn.post(&post(id), &gw, b"CVR 2 x\r\n").await;
        assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request", "{id}");
        assert!(answer.header("X-MSN-Messenger").is_none());
    }
    // Refusals changed nothing: the session goes on under the latest id.
    assert_eq!(c.id, second);
    let ver = c.call("VER {} MSNP12 CVR0").await;
    assert_eq!(ver.line(), "715 1", "a second VER is an error, as on TCP");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_split_across_requests_and_idle_polls() {
    let s = TestServer::start().await;
    let mut c = GatewayClient::open(http(&s), "NS", NS_HOST, b"VER 1 MSNP12 CV").await;
    let answer = c.send_raw(b"R0\r\n").await;
    // The answer to the request that completes the command carries its reply.
    assert_eq!(answer.body, b"VER 1 MSNP12\r\n");
    c.expect("VER 1 MSNP12").await;
    // Nothing queued: an empty answer, with its headers all the same.
    let answer = c.poll().await;
    assert_eq!(answer.body, b"");
    assert_eq!(answer.header("Content-Length"), Some("0"));
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    // A payload command cut inside its payload.
    c.send_raw(b"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs alice@hotm")
        .await;
    let answer = c.send_raw(b"ail.com\r\n").await;
    assert!(answer.body.starts_with(b"CVR 2 "), "{answer:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_closes_its_session_and_nothing_else() {
    let s = TestServer::start().await;
    friends(&s).await;
    let mut bob = s.online(7, BOB, "bobpass", "NLN").await;
    let ticket = s.ticket(ALICE).await;
    let mut alice = gateway_login(&s, NS_HOST, ALICE, &ticket).await;
    alice.send("CHG 10 NLN 0").await;
    bob.expect("NLN NLN alice@hotmail.com Alice").await;

    let answer = alice
        .send_raw(b"\x00\x01\xffGARBAGE that is no command\r\n")
        .await;
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    alice.expect_close().await;
    assert!(alice.closed, "a protocol error closes the session");
    bob.expect("FLN alice@hotmail.com").await;

    // Another gateway session is not disturbed by it.
    let mut other = GatewayClient::open(http(&s), "NS", NS_HOST, b"VER 1 MSNP12 CVR0\r\n").await;
    other.expect("VER 1 MSNP12").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_http_errors() {
    let s = TestServer::start_with(|c| c.gateway.max_request_bytes = 1024).await;
    let http = http(&s);
    let mut c = GatewayClient::open(http, "NS", NS_HOST, b"VER 1 MSNP12 CVR0\r\n").await;
    c.expect("VER 1 MSNP12").await;
    let gw = c.gw_ip.clone();

    // Over the body cap: 413, and the session (missing bytes of its
    // stream) is closed.
    let big = vec![b'x'; 2000];
    let target = format!("http://{gw}/gateway/gateway.dll?SessionID={}", c.id);
    let mut conn = HttpConn::connect(http).await;
    let answer = conn.post(&target, &gw, &big).await;
    assert_eq!(answer.status_line, "HTTP/1.1 413 Payload Too Large");
    let mut conn = HttpConn::connect(http).await;
    let answer = conn.post(&target, &gw, b"").await;
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");

    let mut conn = HttpConn::connect(http).await;
    let open = format!("http://{gw}/gateway/gateway.dll?Action=open&Server=NS&IP=x");
    assert_eq!(
        conn.post(&open, &gw, &big).await.status_line,
        "HTTP/1.1 413 Payload Too Large"
    );
    // Queries that are not the gateway's.
    for query in [
        "Action=open&Server=XX&IP=x",
        "Action=open",
        "Action=poll",
        "Action=jump&SessionID=1.2",
        "",
    ] {
        let mut conn = HttpConn::connect(http).await;
        let target = format!("http://{gw}/gateway/gateway.dll?{query}");
        let answer = conn.post(&target, &gw, b"").await;
        assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request", "{query}");
    }
    // Only POST.
    let mut conn = HttpConn::connect(http).await;
    conn.send_raw(
        b"GET /gateway/gateway.dll?Action=poll&SessionID=1.2 HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    let answer = conn.answer().await.unwrap();
    assert_eq!(answer.status_line, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(answer.header("Allow"), Some("POST"));

    // The origin form, also with the doubled slash, reaches the gateway.
    let mut conn = HttpConn::connect(http).await;
    let answer = conn
        .post(
            "//gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.1",
            &gw,
            b"VER 1 MSNP8 CVR0\r\n",
        )
        .await;
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    assert_eq!(answer.body, b"VER 1 MSNP8\r\n");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_address_has_a_cap_on_gateway_sessions() {
    let s = TestServer::start_with(|c| {
        c.limits.exempt_networks.clear();
        c.gateway.max_sessions_per_address = 2;
    })
    .await;
    let http = http(&s);
    let open = |from: [u8; 4]| async move {
        let conn = HttpConn::connect_from(from, http).await;
        let mut conn = conn;
        conn.post(
            "http://gateway.messenger.hotmail.com/gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.1",
            "gateway.messenger.hotmail.com",
            b"VER 1 MSNP12 CVR0\r\n",
        )
        .await
    };
    let a = [127, 0, 0, 2];
    let first = open(a).await;
    assert_eq!(first.status_line, "HTTP/1.1 200 OK");
    assert_eq!(open(a).await.status_line, "HTTP/1.1 200 OK");
    assert_eq!(open(a).await.status_line, "HTTP/1.1 429 Too Many Requests");
    // Another address is not affected.
    assert_eq!(open([127, 0, 0, 3]).await.status_line, "HTTP/1.1 200 OK");

    // A session that ends frees its place.
    let id = first.messenger_item("SessionID").unwrap();
    let gw = first.messenger_item("GW-IP").unwrap();
    let mut conn = HttpConn::connect_from(a, http).await;
    let answer = conn
        .post(
            &format!("http://{gw}/gateway/gateway.dll?SessionID={id}"),
            &gw,
            b"OUT\r\n",
        )
        .await;
    assert!(answer.closes_session(), "{answer:?}");
    assert_eq!(open(a).await.status_line, "HTTP/1.1 200 OK");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_requests_expires_and_its_user_goes_offline() {
    let s = TestServer::start_with(|c| c.gateway.idle_timeout = Duration::from_millis(500)).await;
    friends(&s).await;
    let mut bob = s.online(7, BOB, "bobpass", "NLN").await;
    let ticket = s.ticket(ALICE).await;
    let mut alice = gateway_login(&s, NS_HOST, ALICE, &ticket).await;
    alice.send("CHG 10 NLN 0").await;
    bob.expect("NLN NLN alice@hotmail.com Alice").await;

    // Alice's client stops polling (its proxy went away).
    bob.expect("FLN alice@hotmail.com").await;
    let gw = alice.gw_ip.clone();
    let target = format!(
        "http://{gw}/gateway/gateway.dll?Action=poll&SessionID={}",
        alice.id
    );
    let mut conn = HttpConn::connect(http(&s)).await;
    let answer = conn.post(&target, &gw, b"").await;
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_gateway_sessions() {
    let s = TestServer::start().await;
    friends(&s).await;
    let mut bob = s.online(7, BOB, "bobpass", "NLN").await;
    let ticket = s.ticket(ALICE).await;
    let mut alice = gateway_login(&s, NS_HOST, ALICE, &ticket).await;
    alice.send("CHG 10 NLN 0").await;
    bob.expect("NLN NLN alice@hotmail.com Alice").await;
    let mut sb_open = GatewayClient::open(http(&s), "SB", "127.0.0.1", b"").await;
    sb_open.label = "idle gateway sb".into();

    let shared = s.shared().clone();
    let http = http(&s);
    s.stop().await;
    // Every session ended (the gateway's too), and every slot is free.
    assert_eq!(shared.service.directory().online_count(), 0);
    assert_eq!(shared.gate.stats().open, 0);
    assert_eq!(bob.expect_eof().await, ["OUT SSD"]);
    assert!(
        alice.conn.closed().await,
        "the gateway's connection is closed"
    );
    assert!(
        TcpStream::connect(http).await.is_err(),
        "the gateway no longer listens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wlm_2009_signs_in_with_sso_through_the_gateway() {
    let s = TestServer::start().await;
    s.user(ALICE, "alicepass", "Alice").await;
    let (ticket, key) = support::wlm::rst2(http(&s), ALICE, "alicepass").await;
    let mut c = GatewayClient::open(http(&s), "NS", NS_HOST, b"VER 1 MSNP18 MSNP17 CVR0\r\n").await;
    c.label = "alice/gateway wlm".into();
    c.expect("VER 1 MSNP18").await;
    c.send(&format!(
        "CVR 2 0x0409 winnt 6.1 i386 MSNMSGR 14.0.8089.0726 msmsgs {ALICE}"
    ))
    .await;
    assert_eq!(c.recv().await.command(), "CVR");
    c.send(&format!("USR 3 SSO I {ALICE}")).await;
    assert_eq!(c.recv().await.command(), "GCF");
    let usr = c.recv().await;
    let nonce = usr
        .line()
        .strip_prefix("USR 3 SSO S MBI_KEY_OLD ")
        .unwrap_or_else(|| panic!("{}", usr.line()))
        .to_owned();
    let guid = "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}";
    c.send(&format!(
        "USR 4 SSO S {ticket} {} {guid}",
        support::wlm::proof(&key, &nonce)
    ))
    .await;
    c.expect(&format!("USR 4 OK {ALICE} 1 0")).await;
    c.expect("SBS 0 null").await;
    c.next_trid = 5;
    c.call("BLP {} AL").await;
    c.call("CHG {} NLN 2789003324:48 0").await;
    c.barrier().await;
    c.send("OUT").await;
    c.expect_close().await;
    assert!(c.closed);
    s.stop().await;
}
