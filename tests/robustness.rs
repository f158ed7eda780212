//! Misbehaving clients: garbage, oversized lines and payloads, floods, too
//! many connections. Each gets a clean disconnect (or a protocol error) and
//! the server keeps serving everybody else.

mod support;

use std::time::Duration;

use support::{Client, TestServer};

/// A fresh client can still sign in and ping.
async fn still_serving(s: &TestServer) {
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    c.send("PNG").await;
    c.expect("QNG").await;
}

async fn server() -> TestServer {
    let s = TestServer::start().await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_close_the_connection() {
    let s = server().await;
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for target in [s.ds, s.ns, s.sb] {
        let mut c = Client::connect(target).await;
        c.send_raw_lossy(&junk).await;
        c.expect_eof().await;
    }
    // Unknown commands and server-only commands, before and after login.
    let mut c = Client::connect(s.ns).await;
    c.send("HELLO 1").await;
    assert!(c.expect_eof().await.is_empty());
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    c.send("ILN 5 NLN a@b.com A").await;
    assert!(c.expect_eof().await.is_empty());
    still_serving(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_lines_and_bad_lengths() {
    let s = server().await;
    // 1 MB without a line end.
    let mut c = Client::connect(s.ns).await;
    let big = vec![b'A'; 1 << 20];
    let _ = tokio::time::timeout(Duration::from_secs(5), c.send_raw_lossy(&big)).await;
    c.expect_eof().await;
    // A 1 MB line on the switchboard too.
    let mut c = Client::connect(s.sb).await;
    let mut line = b"USR 1 ".to_vec();
    line.extend(vec![b'x'; 1 << 20]);
    line.extend_from_slice(b"\r\n");
    let _ = tokio::time::timeout(Duration::from_secs(5), c.send_raw_lossy(&line)).await;
    c.expect_eof().await;
    // Negative, non-numeric and huge payload lengths.
    for bad in [
        "UUX 5 -1",
        "UUX 5 1e9",
        "UUX 5 99999999999999999999",
        "QRY 5 x 4294967296",
    ] {
        let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
        c.send(bad).await;
        assert!(c.expect_eof().await.is_empty(), "{bad}");
    }
    still_serving(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_names() {
    let s = server().await;
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    // Encoded bytes that are not UTF-8: refused as a name (209).
    assert_eq!(
        c.call("REA {} alice@hotmail.com %C3%28").await.command(),
        "209"
    );
    assert_eq!(
        c.call("REA {} alice@hotmail.com A%00B").await.command(),
        "209"
    );
    // Raw bytes that are not UTF-8 on the command line: disconnect.
    c.send_raw(b"REA 9 alice@hotmail.com \xff\xfe\xfd\r\n")
        .await;
    assert!(c.expect_eof().await.is_empty());
    still_serving(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_floods_are_cut_off() {
    let s = TestServer::start_with(|c| {
        c.limits.commands_per_sec = 5;
        c.limits.command_burst = 20;
    })
    .await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    let flood = "PNG\r\n".repeat(500);
    c.send_raw_lossy(flood.as_bytes()).await;
    let answered = c.expect_eof().await;
    assert!(
        answered.len() < 30,
        "{} answers before the cut",
        answered.len()
    );
    assert!(answered.iter().all(|l| l == "QNG"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused() {
    let s = TestServer::start_with(|c| c.limits.max_connections = 50).await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    let mut signed_in = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..2000 {
        let mut c = Client::connect(s.ns).await;
        c.send_lossy("VER 1 MSNP7").await;
        match c.next_or_eof(Duration::from_secs(5)).await {
            Ok(Some(_)) => held.push(c),
            Ok(None) => refused += 1,
            Err(()) => panic!("a connection was neither served nor refused"),
        }
    }
    assert_eq!(held.len(), 49, "the cap counts every connection");
    assert_eq!(refused, 2000 - 49);
    // The existing session still works, and slots come back when freed.
    signed_in.send("PNG").await;
    signed_in.expect("QNG").await;
    drop(held);
    drop(signed_in);
    let mut ok = false;
    for _ in 0..50 {
        let mut c = Client::connect(s.ns).await;
        c.send_lossy("VER 1 MSNP7").await;
        if let Ok(Some(_)) = c.next_or_eof(Duration::from_secs(5)).await {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "freed slots are reused");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_client_that_never_reads_is_disconnected() {
    let s = TestServer::start_with(|c| {
        c.limits.max_outbound_bytes = 16 * 1024;
        c.limits.mailbox_capacity = 64;
        c.limits.commands_per_sec = 10_000;
        c.limits.command_burst = 10_000;
        c.limits.renames_per_minute = 100_000;
    })
    .await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    s.seed_friends(("alice@hotmail.com", "Alice"), ("bob@hotmail.com", "Bob"))
        .await;
    let mut bob = s.online(7, "bob@hotmail.com", "pw", "NLN").await;
    // alice watches bob through a tiny window and never reads.
    let mut alice = Client::connect_small_window(s.ns).await;
    alice
        .send("VER 1 MSNP7\r\nINF 2\r\nUSR 3 MD5 I alice@hotmail.com")
        .await;
    let salt = alice
        .wait_for("salt", |f| f.line().starts_with("USR 3 MD5 S"))
        .await
        .line()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}pw")));
    alice
        .send(&format!("USR 4 MD5 S {hash}\r\nCHG 5 NLN"))
        .await;
    alice.wait_for("CHG", |f| f.line() == "CHG 5 NLN").await;
    // bob changes his name over and over; each change is an NLN for alice
    // (names of up to 129 characters, each encoded as three bytes here).
    let long = "%C3%A9".repeat(120);
    for i in 0..2000 {
        let r = bob
            .call(&format!("REA {{}} bob@hotmail.com {long}{i}"))
            .await;
        assert_eq!(r.command(), "REA", "bob is not slowed down");
    }
    // alice was cut off; bob is fine.
    loop {
        match alice.next_or_eof(Duration::from_secs(10)).await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(()) => panic!("alice is still connected"),
        }
    }
    bob.send("PNG").await;
    bob.wait_for("QNG", |f| f.command() == "QNG").await;
    s.stop().await;
}

/// A client that trickles bytes in without ever finishing its login is
/// closed at the login timeout, counted from the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_clients_cannot_stay_unauthenticated() {
    let s = TestServer::start_with(|c| {
        c.notification.login_timeout = Duration::from_millis(500);
        c.switchboard.login_timeout = Duration::from_millis(500);
    })
    .await;
    for target in [s.ns, s.sb] {
        let mut c = Client::connect(target).await;
        let mut closed = false;
        for b in b"VER 1 MSNP7 MSNP6 MSNP5 MSNP4 MSNP3 MSNP2 CVR0 "
            .iter()
            .cycle()
            .take(60)
        {
            c.send_raw_lossy(&[*b]).await;
            if let Ok(None) = c.next_or_eof(Duration::from_millis(100)).await {
                closed = true;
                break;
            }
        }
        assert!(closed, "still open after trickling for 6 s");
    }
    s.stop().await;
}
