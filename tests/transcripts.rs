//! The conformance transcripts of the protocol reference, replayed against
//! the real server over TCP (see `support/transcript.rs` for the rules).

mod support;

use msn_core::account::Property;
use msn_server::config::ChallengeMode;
use support::transcript::Replay;
use support::{Client, TestServer};

const AL: u8 = 2;

const DS: &str = "192.0.2.10:1863";
const NS: &str = "192.0.2.20:1863";
const SB: &str = "192.0.2.30:1863";

async fn accounts(s: &TestServer, list: &[(&str, &str, &str)]) {
    for (handle, password, name) in list {
        s.user(handle, password, name).await;
    }
}

fn replay(s: &TestServer, text: &str) -> Replay {
    let mut r = Replay::new(text);
    r.address(DS, s.ds).address(NS, s.ns).address(SB, s.sb);
    r
}

const ALICE: (&str, &str, &str) = ("alice@hotmail.com", "alicepass", "Alice Smith");
const BOB: (&str, &str, &str) = ("bob@hotmail.com", "bobpass", "Bob");
const CAROL: (&str, &str, &str) = ("carol@hotmail.com", "carolpass", "Carol");
const DAVE: (&str, &str, &str) = ("dave@hotmail.com", "davepass", "Dave");
const EVE: (&str, &str, &str) = ("eve@hotmail.com", "evepass", "Eve");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp2_login() {
    let s = TestServer::start().await;
    accounts(&s, &[ALICE, BOB, CAROL, DAVE, EVE]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[]).await;
    s.seed_fl(a, an, "carol@hotmail.com", "Carol", AL, &[])
        .await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    s.seed_fl("dave@hotmail.com", "Dave", a, an, 0, &[]).await;
    s.set_version(a, 12).await;
    let mut bob = s.online(7, "bob@hotmail.com", "bobpass", "NLN").await;
    let _dave = s.online(4, "dave@hotmail.com", "davepass", "BSY").await;

    let mut r = replay(&s, include_str!("transcripts/msnp2-login.txt"));
    r.password(a, "alicepass");
    r.run_until("S: NLN NLN carol@hotmail.com Carol").await;
    let _carol = s.online(2, "carol@hotmail.com", "carolpass", "NLN").await;
    r.run_until("S: FLN bob@hotmail.com").await;
    bob.send("OUT").await;
    r.run_until("S: ADD 0 RL 16 eve@hotmail.com Eve").await;
    let mut eve = s.online(3, "eve@hotmail.com", "evepass", "NLN").await;
    let added = eve.call("ADD {} FL alice@hotmail.com Alice").await;
    assert_eq!(added.command(), "ADD");
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp5_login() {
    let s = TestServer::start().await;
    accounts(&s, &[ALICE, BOB]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[]).await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    s.seed_property(a, Property::HomePhone, "1%20555%20555%200100")
        .await;
    s.set_version(a, 12).await;
    let mut bob = s.online(5, "bob@hotmail.com", "bobpass", "AWY").await;

    let mut r = replay(&s, include_str!("transcripts/msnp5-login.txt"));
    r.password(a, "alicepass");
    r.run_until("S: BPR 14 bob@hotmail.com PHW").await;
    let reply = bob.call("PRP {} PHW 1%20555%20555%200199").await;
    assert_eq!(reply.command(), "PRP");
    r.run_until("S: NOT 280").await;
    let alert = r.upcoming_payload().expect("NOT payload");
    s.shared()
        .hub
        .alert(a, alert.into())
        .expect("alice is online");
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp6_challenge() {
    let s = TestServer::start_with(|c| {
        c.challenge.mode = ChallengeMode::Lenient;
        c.challenge.repeat_secs = 1;
    })
    .await;
    accounts(&s, &[ALICE]).await;
    let mut alice = Client::login(s.ns, 6, "alice@hotmail.com", "alicepass").await;
    alice.send("CHG 9 NLN").await;
    alice.expect("CHG 9 NLN").await;
    let mut r = replay(&s, include_str!("transcripts/msnp6-challenge.txt"));
    r.attach("ns", alice);
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp7_login() {
    let s = TestServer::start_with(|c| c.challenge.mode = ChallengeMode::Lenient).await;
    accounts(&s, &[ALICE, BOB, CAROL]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_group(a, 1, "Friends").await;
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[1]).await;
    s.seed_fl(a, an, "carol@hotmail.com", "Carol", AL, &[0, 1])
        .await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    s.seed_fl("carol@hotmail.com", "Carol", a, an, AL, &[])
        .await;
    s.set_version(a, 12).await;
    let _bob = s.online(7, "bob@hotmail.com", "bobpass", "NLN").await;
    let _carol = s.online(7, "carol@hotmail.com", "carolpass", "BSY").await;

    let mut r = replay(&s, include_str!("transcripts/msnp7-login.txt"));
    r.password(a, "alicepass");
    r.run_to_end().await;
    s.stop().await;
}

/// alice and bob (MSNP5) signed in, on each other's lists; carol offline.
async fn chat_pair(s: &TestServer) -> (Client, Client) {
    accounts(s, &[ALICE, BOB, CAROL]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[]).await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    let mut alice = s.online(5, a, "alicepass", "NLN").await;
    let mut bob = s.online(5, "bob@hotmail.com", "bobpass", "NLN").await;
    alice.barrier().await;
    bob.barrier().await;
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sb_chat() {
    let s = TestServer::start().await;
    let (alice, bob) = chat_pair(&s).await;
    let mut r = replay(&s, include_str!("transcripts/sb-chat.txt"));
    r.attach("alice-ns", alice).attach("bob-ns", bob);
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sb_multiparty() {
    let s = TestServer::start().await;
    let (mut alice, mut bob) = chat_pair(&s).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_fl(a, an, "carol@hotmail.com", "Carol", AL, &[])
        .await;
    s.seed_fl("carol@hotmail.com", "Carol", a, an, AL, &[])
        .await;
    let mut carol = s.online(5, "carol@hotmail.com", "carolpass", "NLN").await;
    carol.barrier().await;

    // Set up the session of sb-chat.txt: alice invites bob, bob joins.
    let xfr = alice.call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut alice_sb = Client::connect(s.sb).await;
    alice_sb
        .call(&format!("USR {{}} alice@hotmail.com {cookie}"))
        .await;
    let ringing = alice_sb.call("CAL {} bob@hotmail.com").await;
    let session = ringing.tokens().nth(3).unwrap().to_owned();
    let rng = bob.wait_for("RNG", |f| f.command() == "RNG").await;
    let bob_cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut bob_sb = Client::connect(s.sb).await;
    bob_sb
        .send(&format!("ANS 1 bob@hotmail.com {bob_cookie} {session}"))
        .await;
    bob_sb.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    alice_sb.expect("JOI bob@hotmail.com Bob").await;

    let mut r = replay(&s, include_str!("transcripts/sb-multiparty.txt"));
    r.substitute("11752013", &session);
    r.attach("bob-sb", bob_sb)
        .attach("alice-sb", alice_sb)
        .attach("carol-ns", carol);
    r.run_until("S: BYE bob@hotmail.com 1").await;
    let bob_handle = msn_core::handle::Handle::parse("bob@hotmail.com").unwrap();
    assert!(
        s.shared()
            .switchboards
            .expel(session.parse().unwrap(), &bob_handle)
    );
    r.run_until("S: BYE bob@hotmail.com 1").await;
    assert!(r.client("bob-sb").expect_eof().await.is_empty());
    r.run_to_end().await;
    drop((alice, bob));
    s.stop().await;
}
