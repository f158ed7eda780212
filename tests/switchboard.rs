//! Switchboard behaviour over real TCP: byte-exact relaying, truthful
//! ACK/NAK, multi-party sessions, invitations and their errors, limits.

mod support;

use std::time::Duration;

use support::{Client, TestServer};

const AL: u8 = 2;

/// Users `names` (password "pw"), all on each other's FL/AL, signed in with
/// `dialect` and online.
async fn friends(s: &TestServer, dialect: u8, names: &[&str]) -> Vec<Client> {
    for n in names {
        s.user(&format!("{n}@hotmail.com"), "pw", n).await;
    }
    for a in names {
        for b in names {
            if a != b {
                let (ha, hb) = (format!("{a}@hotmail.com"), format!("{b}@hotmail.com"));
                s.seed_entry(&ha, &hb, 1 | AL | 8, b, &[]).await;
            }
        }
    }
    let mut clients = Vec::new();
    for n in names {
        clients.push(
            s.online(dialect, &format!("{n}@hotmail.com"), "pw", "NLN")
                .await,
        );
    }
    for c in &mut clients {
        c.barrier().await;
    }
    clients
}

/// Opens a switchboard for `inviter` (an NS client) and brings `invitees`
/// in; returns the SB connections (inviter first) and the session id.
async fn session(s: &TestServer, ns: &mut [Client], handles: &[&str]) -> (Vec<Client>, String) {
    let xfr = ns[0].call("XFR {} SB").await;
    assert_eq!(xfr.command(), "XFR", "{}", xfr.line());
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut first = Client::connect(s.sb).await;
    first.label = format!("{}/sb", handles[0]);
    let ok = first
        .call(&format!("USR {{}} {} {cookie}", handles[0]))
        .await;
    assert_eq!(ok.tokens().nth(2), Some("OK"));
    let mut sbs = vec![first];
    let mut sid = String::new();
    for (i, h) in handles.iter().enumerate().skip(1) {
        let ring = sbs[0].call(&format!("CAL {{}} {h}")).await;
        assert_eq!(ring.tokens().nth(2), Some("RINGING"), "{}", ring.line());
        sid = ring.tokens().nth(3).unwrap().to_owned();
        let rng = ns[i].wait_for("RNG", |f| f.command() == "RNG").await;
        let cookie = rng.tokens().nth(4).unwrap().to_owned();
        let mut c = Client::connect(s.sb).await;
        c.label = format!("{h}/sb");
        c.send(&format!("ANS 1 {h} {cookie} {sid}")).await;
        c.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
        for earlier in sbs.iter_mut() {
            earlier.wait_for("JOI", |f| f.command() == "JOI").await;
        }
        sbs.push(c);
    }
    (sbs, sid)
}

fn text_message(body: &str) -> Vec<u8> {
    format!("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_value_round_trips() {
    let s = TestServer::start().await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    // Every byte value, CR/LF pairs and NULs included, and not valid UTF-8.
    let mut payload: Vec<u8> =
        b"MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    payload.extend(0..=255u8);
    payload.extend((0..=255u8).rev());
    payload.extend_from_slice(b"\r\n\r\n\xff");
    let reply = sb[0].call_payload("MSG {} A", &payload).await;
    assert_eq!(reply.command(), "ACK");
    let got = sb[1].recv().await;
    assert_eq!(
        got.line(),
        format!("MSG alice@hotmail.com alice {}", payload.len())
    );
    assert_eq!(got.payload().unwrap().as_ref(), &payload[..]);
    // And back, with a P2P-style binary payload in mode U.
    let back: Vec<u8> = (0..1200).map(|i| (i * 7 % 256) as u8).collect();
    sb[1].send_payload("MSG 2 U", &back).await;
    let got = sb[0].recv().await;
    assert_eq!(got.payload().unwrap().as_ref(), &back[..]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_modes_and_nak_when_a_recipient_is_gone() {
    let s = TestServer::start().await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    let msg = text_message("hi");
    // U: never acknowledged; N: nothing on success; A: ACK.
    sb[0].send_payload("MSG 5 U", &msg).await;
    sb[0].send_payload("MSG 6 N", &msg).await;
    sb[0].send_payload("MSG 7 A", &msg).await;
    sb[0].expect("ACK 7").await;
    for _ in 0..3 {
        assert_eq!(sb[1].recv().await.command(), "MSG");
    }
    // bob drops while alice is in the middle of sending a message.
    let head = format!("MSG 8 A {}\r\n", msg.len());
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&msg);
    let (first, rest) = bytes.split_at(10);
    sb[0].send_raw(first).await;
    let bob = sb.pop().unwrap();
    drop(bob);
    sb[0].expect("BYE bob@hotmail.com").await;
    sb[0].send_raw(rest).await;
    sb[0].expect("NAK 8").await;
    sb[0].send_payload("MSG 9 N", &msg).await;
    sb[0].expect("NAK 9").await;
    sb[0].send_payload("MSG 10 U", &msg).await;
    sb[0].send_payload("MSG 11 A", &msg).await;
    // Mode U got no answer: the next line answers message 11.
    sb[0].expect("NAK 11").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_party_session_where_one_leaves() {
    let s = TestServer::start().await;
    let mut ns = friends(&s, 5, &["alice", "bob", "carol"]).await;
    let handles = ["alice@hotmail.com", "bob@hotmail.com", "carol@hotmail.com"];
    let (mut sb, _) = session(&s, &mut ns, &handles).await;
    let msg = text_message("hello all");
    let ack = sb[2].call_payload("MSG {} A", &msg).await;
    assert_eq!(ack.command(), "ACK");
    for receiver in &mut sb[..2] {
        let got = receiver.recv().await;
        assert_eq!(
            got.line(),
            format!("MSG carol@hotmail.com carol {}", msg.len())
        );
    }
    sb[1].send("OUT").await;
    assert!(sb[1].expect_eof().await.is_empty());
    sb[0].expect("BYE bob@hotmail.com").await;
    sb[2].expect("BYE bob@hotmail.com").await;
    let ack = sb[0].call_payload("MSG {} A", &msg).await;
    assert_eq!(ack.command(), "ACK");
    assert_eq!(sb[2].recv().await.command(), "MSG");
    // bob's NS connection is unaffected by leaving the chat.
    ns[1].barrier().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp2_and_msnp7_users_chat_in_their_own_dialects() {
    let s = TestServer::start().await;
    s.user("old@hotmail.com", "pw", "Old Timer").await;
    s.user("new@hotmail.com", "pw", "New").await;
    s.seed_entry("old@hotmail.com", "new@hotmail.com", 11, "New", &[])
        .await;
    s.seed_entry("new@hotmail.com", "old@hotmail.com", 11, "Old", &[])
        .await;
    let old = s.online(2, "old@hotmail.com", "pw", "NLN").await;
    let new = s.online(7, "new@hotmail.com", "pw", "NLN").await;
    let mut ns = vec![new, old];
    for c in &mut ns {
        c.barrier().await;
    }
    let (mut sb, sid) = session(&s, &mut ns, &["new@hotmail.com", "old@hotmail.com"]).await;
    assert!(sid.parse::<u32>().is_ok());
    sb[1]
        .send_payload(
            "MSG 2 N",
            b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi",
        )
        .await;
    let got = sb[0].recv().await;
    assert_eq!(got.line(), "MSG old@hotmail.com Old%20Timer 49");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_errors_and_privacy() {
    let s = TestServer::start().await;
    let mut ns = friends(&s, 7, &["alice", "bob", "carol", "dave"]).await;
    s.user("erin@hotmail.com", "pw", "erin").await; // exists, offline
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    let a = &mut sb[0];
    assert_eq!(a.call("CAL {} bob@hotmail.com").await.command(), "215");
    assert_eq!(a.call("CAL {} alice@hotmail.com").await.command(), "215");
    assert_eq!(a.call("CAL {} carol").await.command(), "208");
    assert_eq!(a.call("CAL {} nobody@hotmail.com").await.command(), "217");
    assert_eq!(a.call("CAL {} erin@hotmail.com").await.command(), "217");
    // carol appears offline: cannot be invited.
    ns[2].call("CHG {} HDN").await;
    assert_eq!(
        sb[0].call("CAL {} carol@hotmail.com").await.command(),
        "217"
    );
    // dave blocks alice: alice cannot invite dave, and dave cannot open a
    // session with alice in it either.
    let r = ns[3].call("REM {} AL alice@hotmail.com").await;
    assert_eq!(r.command(), "REM");
    let r = ns[3].call("ADD {} BL alice@hotmail.com alice").await;
    assert_eq!(r.command(), "ADD");
    assert_eq!(sb[0].call("CAL {} dave@hotmail.com").await.command(), "217");
    let xfr = ns[3].call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut dave_sb = Client::connect(s.sb).await;
    dave_sb
        .call(&format!("USR {{}} dave@hotmail.com {cookie}"))
        .await;
    assert_eq!(
        dave_sb.call("CAL {} alice@hotmail.com").await.command(),
        "217"
    );
    // A pending invitation counts as "already there".
    ns[2].call("CHG {} NLN").await;
    assert_eq!(
        sb[0].call("CAL {} carol@hotmail.com").await.command(),
        "CAL"
    );
    assert_eq!(
        sb[0].call("CAL {} carol@hotmail.com").await.command(),
        "215"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_single_use_and_bound_to_their_user() {
    let s = TestServer::start_with(|c| c.switchboard.ring_ttl = Duration::from_secs(60)).await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let xfr = ns[0].call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    // Somebody else's cookie: refused, and not used up, so whoever saw it
    // cannot spoil the owner's session.
    let mut thief = Client::connect(s.sb).await;
    thief.send(&format!("USR 1 bob@hotmail.com {cookie}")).await;
    thief.expect("911 1").await;
    assert!(thief.expect_eof().await.is_empty());
    let mut alice = Client::connect(s.sb).await;
    alice
        .send(&format!("USR 1 alice@hotmail.com {cookie}"))
        .await;
    assert!(
        alice
            .recv_line()
            .await
            .starts_with("USR 1 OK alice@hotmail.com")
    );
    drop(alice);
    // A fresh cookie works once.
    let xfr = ns[0].call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut alice = Client::connect(s.sb).await;
    alice
        .send(&format!("USR 1 alice@hotmail.com {cookie}"))
        .await;
    alice.expect("USR 1 OK alice@hotmail.com alice").await;
    let mut again = Client::connect(s.sb).await;
    again
        .send(&format!("USR 1 alice@hotmail.com {cookie}"))
        .await;
    again.expect("911 1").await;
    // ANS needs the matching session id.
    let ring = alice.call("CAL {} bob@hotmail.com").await;
    let sid: u32 = ring.tokens().nth(3).unwrap().parse().unwrap();
    let rng = ns[1].wait_for("RNG", |f| f.command() == "RNG").await;
    let bob_cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut bob = Client::connect(s.sb).await;
    bob.send(&format!("ANS 1 bob@hotmail.com {bob_cookie} {}", sid + 1))
        .await;
    bob.expect("911 1").await;
    // The session ends with its last participant; old invitations die.
    let ring = alice.call("CAL {} bob@hotmail.com").await;
    assert_eq!(
        ring.command(),
        "CAL",
        "the failed ANS left no participant: {}",
        ring.line()
    );
    let rng = ns[1].wait_for("RNG", |f| f.command() == "RNG").await;
    let bob_cookie = rng.tokens().nth(4).unwrap().to_owned();
    alice.send("OUT").await;
    alice.expect_eof().await;
    let mut bob = Client::connect(s.sb).await;
    bob.send(&format!("ANS 1 bob@hotmail.com {bob_cookie} {sid}"))
        .await;
    bob.expect("911 1").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_messages_close_the_sender_only() {
    let s = TestServer::start().await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    sb[0].send_payload("MSG 4 A", &vec![b'x'; 1665]).await;
    assert!(
        sb[0].expect_eof().await.is_empty(),
        "nothing relayed or acknowledged"
    );
    sb[1].expect("BYE alice@hotmail.com").await;
    // A fresh session: bad ack modes close without relaying.
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    sb[0].send_payload("MSG 4 a", b"hi").await;
    assert!(sb[0].expect_eof().await.is_empty());
    sb[1].expect("BYE alice@hotmail.com").await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    // `D` is MSNP9+: an MSNP7 client using it is disconnected.
    sb[0].send_payload("MSG 4 D", b"hi").await;
    assert!(sb[0].expect_eof().await.is_empty());
    // 1664 bytes exactly are fine.
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    assert_eq!(
        sb[0]
            .call_payload("MSG {} A", &vec![b'y'; 1664])
            .await
            .command(),
        "ACK"
    );
    assert_eq!(sb[1].recv().await.payload().unwrap().len(), 1664);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_participants_are_removed_with_bye_1() {
    let s =
        TestServer::start_with(|c| c.switchboard.idle_timeout = Duration::from_millis(600)).await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    // alice keeps typing; bob stays silent and is removed by the server.
    let typing = b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: alice@hotmail.com\r\n\r\n\r\n";
    let mut bye = None;
    // alice sends every 100 ms, six times within the idle timeout.
    for i in 0..100 {
        sb[0]
            .send_payload(&format!("MSG {} U", 10 + i), typing)
            .await;
        if let Some(f) = sb[0].try_recv(Duration::from_millis(100)).await {
            bye = Some(f.line().to_owned());
            break;
        }
    }
    assert_eq!(bye.as_deref(), Some("BYE bob@hotmail.com 1"));
    // bob's connection was closed; alice is still in the session.
    let mut bob = sb.pop().unwrap();
    loop {
        match bob.next_or_eof(Duration::from_secs(10)).await {
            Ok(Some(f)) => assert_eq!(f.command(), "MSG"),
            Ok(None) => break,
            Err(()) => panic!("bob is still connected"),
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_on_participants_and_sessions_per_user() {
    let s = TestServer::start_with(|c| {
        c.switchboard.max_participants = 2;
        c.switchboard.max_sessions_per_user = 1;
    })
    .await;
    let mut ns = friends(&s, 7, &["alice", "bob", "carol"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    assert_eq!(
        sb[0].call("CAL {} carol@hotmail.com").await.command(),
        "280"
    );
    // alice holds her one allowed session.
    assert_eq!(ns[0].call("XFR {} SB").await.command(), "714");
    // carol is free; bob is busy with his one session, so he cannot be invited.
    let xfr = ns[2].call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut carol = Client::connect(s.sb).await;
    carol
        .call(&format!("USR {{}} carol@hotmail.com {cookie}"))
        .await;
    assert_eq!(carol.call("CAL {} bob@hotmail.com").await.command(), "217");
    sb[1].send("OUT").await;
    sb[1].expect_eof().await;
    sb[0].expect("BYE bob@hotmail.com").await;
    assert_eq!(carol.call("CAL {} bob@hotmail.com").await.command(), "CAL");
    s.stop().await;
}

/// A participant that never reads is cut off; the others keep chatting and
/// receive every message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_does_not_stall_the_others() {
    let s = TestServer::start_with(|c| {
        c.limits.max_outbound_bytes = 64 * 1024;
        c.limits.mailbox_capacity = 256;
        c.limits.sb_messages_per_sec = 100_000;
        c.limits.sb_message_burst = 100_000;
    })
    .await;
    let mut ns = friends(&s, 7, &["alice", "bob", "carol"]).await;
    let handles = ["alice@hotmail.com", "bob@hotmail.com", "carol@hotmail.com"];
    let (mut sb, sid) = session(&s, &mut ns, &handles[..2]).await;
    // carol joins with a tiny receive window, then stops reading.
    sb[0].call("CAL {} carol@hotmail.com").await;
    let rng = ns[2].wait_for("RNG", |f| f.command() == "RNG").await;
    let cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut carol = Client::connect_small_window(s.sb).await;
    carol
        .send(&format!("ANS 1 carol@hotmail.com {cookie} {sid}"))
        .await;
    carol.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    for c in sb.iter_mut() {
        c.wait_for("JOI", |f| f.command() == "JOI").await;
    }
    let mut bob = sb.pop().unwrap();
    let mut alice = sb.pop().unwrap();
    // carol stops reading now. alice and bob take turns, at chat speed
    // (each waits for the other's message before answering).
    let body = "x".repeat(1000);
    let mut naks = 0;
    let mut carol_gone = false;
    for i in 0..2000u32 {
        let msg = text_message(&format!("{i} {body}"));
        let (from, to) = if i % 2 == 0 {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        from.send_payload(&format!("MSG {} N", i + 10), &msg).await;
        loop {
            let Some(f) = to.try_recv(support::WAIT).await else {
                panic!("message {i} never arrived");
            };
            match f.command() {
                "MSG" => {
                    assert_eq!(
                        f.payload().unwrap().as_ref(),
                        &msg[..],
                        "message {i} intact"
                    );
                    break;
                }
                "BYE" => {
                    assert_eq!(f.line(), "BYE carol@hotmail.com");
                    carol_gone = true;
                }
                "NAK" => naks += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    // A NAK answers a message carol could no longer take, between her queue
    // filling up and her removal; that window is short (no NAK storm).
    assert!(naks < 100, "{naks} NAKs");
    // carol was disconnected: what she finally reads ends in EOF.
    loop {
        match carol.next_or_eof(Duration::from_secs(10)).await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(()) => panic!("carol's connection is still open"),
        }
    }
    if !carol_gone {
        let f = alice.recv().await;
        assert_eq!(f.line(), "BYE carol@hotmail.com");
    }
    s.stop().await;
}

/// A sender above the message rate is slowed down, not disconnected (P2P
/// transfers send chunks back to back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_senders_are_throttled_not_dropped() {
    let s = TestServer::start_with(|c| {
        c.limits.sb_messages_per_sec = 300;
        c.limits.sb_message_burst = 20;
    })
    .await;
    let mut ns = friends(&s, 7, &["alice", "bob"]).await;
    let (mut sb, _) = session(&s, &mut ns, &["alice@hotmail.com", "bob@hotmail.com"]).await;
    let chunk: Vec<u8> = (0..1200).map(|i| (i % 251) as u8).collect();
    let mut burst = Vec::new();
    for i in 0..300 {
        burst.extend_from_slice(format!("MSG {} U {}\r\n", 100 + i, chunk.len()).as_bytes());
        burst.extend_from_slice(&chunk);
    }
    sb[0].send_raw(&burst).await;
    for _ in 0..300 {
        let f = sb[1].recv().await;
        assert_eq!(f.payload().unwrap().as_ref(), &chunk[..]);
    }
    assert_eq!(
        sb[0].call_payload("MSG {} A", b"done").await.command(),
        "ACK"
    );
    s.stop().await;
}
