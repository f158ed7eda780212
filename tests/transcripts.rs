//! The conformance transcripts of the protocol reference, replayed against
//! the real server over TCP (see `support/transcript.rs` for the rules).

mod support;

use msn_core::account::Property;
use msn_server::config::ChallengeMode;
use support::transcript::Replay;
use support::{Client, TestServer};

const AL: u8 = 2;
const BL: u8 = 4;
const PL: u8 = 16;

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
    let alice = msn_core::handle::Handle::parse(a).unwrap();
    let delivered = s.shared().service.alert(&alice, alert.into()).await;
    assert!(delivered, "alice is online");
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp6_challenge() {
    let s = TestServer::start_with(|c| {
        c.challenge.mode = ChallengeMode::Lenient;
        c.challenge.repeat = std::time::Duration::from_secs(1);
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

/// The switchboard idle timeout of `sb_multiparty`: long against the few
/// lines its participants exchange, short enough for a test.
const SB_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sb_multiparty() {
    // Bob's removal is the real idle removal: bob sends nothing after his
    // CAL, while alice and carol send blank lines (which the server ignores
    // but counts as activity) until the server removes him.
    let s = TestServer::start_with(|c| c.switchboard.idle_timeout = SB_IDLE).await;
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
    alice_sb.send_raw(b"\r\n").await;

    let mut r = replay(&s, include_str!("transcripts/sb-multiparty.txt"));
    r.substitute("11752013", &session);
    r.attach("bob-sb", bob_sb)
        .attach("alice-sb", alice_sb)
        .attach("carol-ns", carol);
    r.run_until("S: BYE bob@hotmail.com 1").await;
    // Nothing is asserted about when: the keep-alives go on until alice
    // hears of bob's removal (or the test support's patience runs out).
    let give_up = tokio::time::Instant::now() + support::WAIT;
    loop {
        r.client("alice-sb").send_raw(b"\r\n").await;
        r.client("carol-sb").send_raw(b"\r\n").await;
        let tick = SB_IDLE / 10;
        if r.client("alice-sb").readable_within(tick).await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "bob was never removed"
        );
    }
    assert!(r.client("bob-sb").expect_eof().await.is_empty());
    r.run_to_end().await;
    drop((alice, bob));
    s.stop().await;
}

const BOB_OBJ: &str = "%3Cmsnobj%20Creator%3D%22bob%40hotmail.com%22%20Size%3D%2218122%22%20Type%3D%223%22%20Location%3D%22TFR7A9.tmp%22%20Friendly%3D%22AAA%3D%22%20SHA1D%3D%22xeMCVDo3vZAqOO8YV4LwAe60B1s%3D%22%20SHA1C%3D%22L9ur6HsJtb3SG1TpL6lHgV%2Bi%2BFY%3D%22%2F%3E";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp8_login() {
    let s = TestServer::start_with(|c| {
        c.challenge.mode = ChallengeMode::Lenient;
        c.profile.email_enabled = true;
    })
    .await;
    let erin = ("erin@hotmail.com", "erinpass", "Erin");
    let frank = ("frank@hotmail.com", "frankpass", "Frank");
    let gina = ("gina@hotmail.com", "ginapass", "Gina");
    let alice = ("alice@hotmail.com", "p@ss,word", "Alice Smith");
    accounts(&s, &[alice, BOB, CAROL, DAVE, erin, frank, gina]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_group(a, 1, "Friends").await;
    s.seed_property(a, Property::HomePhone, "1%20555%20555%200100")
        .await;
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[1]).await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    s.seed_property(
        "bob@hotmail.com",
        Property::HomePhone,
        "1%20555%20555%200142",
    )
    .await;
    s.seed_fl(a, an, "carol@hotmail.com", "Carol", AL, &[0])
        .await;
    s.seed_fl("carol@hotmail.com", "Carol", a, an, AL, &[])
        .await;
    s.seed_fl("erin@hotmail.com", "Erin", a, an, 0, &[]).await;
    s.seed_entry(a, "frank@hotmail.com", 4, "Frank", &[]).await;
    s.seed_fl("frank@hotmail.com", "Frank", a, an, 0, &[]).await;
    s.set_version(a, 12).await;
    let bob_chg = format!("268435492 {BOB_OBJ}");
    let mut bob = s
        .online_twn(9, "bob@hotmail.com", &format!("NLN {bob_chg}"))
        .await;
    let mut carol = s
        .online_twn(11, "carol@hotmail.com", "BSY 1073791020")
        .await;
    let _dave = s.online_twn(10, "dave@hotmail.com", "NLN 805306404").await;

    let mut r = replay(&s, include_str!("transcripts/msnp8-login.txt"));
    r.substitute(
        "t=7Rn2ZbXw0aQ1cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4*Ab!Cd$$&p=9Kp3Lq7Mr1Ns5Ot8Pu2Qv6Rw0Sx4Ty*Uz!Va$$",
        &s.ticket(a).await,
    );
    r.run_until("S: NLN AWY bob@hotmail.com").await;
    bob.call(&format!("CHG {{}} AWY {bob_chg}")).await;
    r.run_until("S: FLN carol@hotmail.com").await;
    carol.send("OUT").await;
    r.run_until("S: ADD 0 RL 20 gina@hotmail.com Gina").await;
    let mut gina = s.online_twn(8, "gina@hotmail.com", "NLN 0").await;
    gina.call("ADD {} FL alice@hotmail.com Alice 0").await;
    r.run_until("S: REM 0 RL 21 erin@hotmail.com").await;
    let mut erin = s.online_twn(8, "erin@hotmail.com", "NLN 0").await;
    erin.call("REM {} FL alice@hotmail.com").await;
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp10_lists() {
    let s = TestServer::start().await;
    let people = [
        ("alice@hotmail.com", "alicepass", "Alice Smith"),
        BOB,
        CAROL,
        DAVE,
        ("erin@hotmail.com", "erinpass", "Erin"),
        ("frank@hotmail.com", "frankpass", "Frank"),
        ("gina@hotmail.com", "ginapass", "Gina"),
        ("harry@hotmail.com", "harrypass", "Harry"),
    ];
    accounts(&s, &people).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_group(a, 1, "Friends").await;
    s.seed_group(a, 2, "Work").await;
    s.seed_fl(a, an, "bob@hotmail.com", "Bob", AL, &[1]).await;
    s.seed_fl("bob@hotmail.com", "Bob", a, an, AL, &[]).await;
    s.seed_fl(a, an, "carol@hotmail.com", "Carol", AL, &[1, 2])
        .await;
    s.seed_fl("carol@hotmail.com", "Carol", a, an, AL, &[])
        .await;
    s.seed_fl(a, an, "dave@hotmail.com", "Dave", AL, &[]).await;
    s.seed_fl("erin@hotmail.com", "Erin", a, an, 0, &[]).await;
    s.seed_entry(a, "frank@hotmail.com", 4, "Frank", &[]).await;
    s.seed_fl("frank@hotmail.com", "Frank", a, an, 0, &[]).await;
    let mut bob = s
        .online_twn(10, "bob@hotmail.com", &format!("NLN 805306404 {BOB_OBJ}"))
        .await;
    let _gina = s.online_twn(10, "gina@hotmail.com", "NLN 805306404").await;

    let mut r = replay(&s, include_str!("transcripts/msnp10-lists.txt"));
    r.substitute(
        "t=4Hq8Wm2Xr6Ty0Uz3Va7Sb1Nc5Md9Le*Kf!Jg$$&p=6Pd2Qe8Rf4Sg0Th*Ui!Vj$$",
        &s.ticket(a).await,
    );
    r.run_until("S: NLN NLN bob@hotmail.com Bobby").await;
    bob.call("PRP {} MFN Bobby").await;
    r.run_until("S: ADC 0 RL N=harry@hotmail.com F=Harry").await;
    let mut harry = s.online_twn(10, "harry@hotmail.com", "NLN 0").await;
    let added = harry.call("ADC {} FL N=alice@hotmail.com F=Alice").await;
    let guid = added
        .tokens()
        .last()
        .unwrap()
        .trim_start_matches("C=")
        .to_owned();
    r.run_until("S: REM 0 RL harry@hotmail.com").await;
    harry.call(&format!("REM {{}} FL {guid}")).await;
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp11_login() {
    let s = TestServer::start_with(|c| c.challenge.mode = ChallengeMode::Lenient).await;
    accounts(&s, &[ALICE, BOB, CAROL]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_group(a, 1, "Friends").await;
    for (h, n) in [("bob@hotmail.com", "Bob"), ("carol@hotmail.com", "Carol")] {
        s.seed_fl(a, an, h, n, AL, &[1]).await;
        s.seed_fl(h, n, a, an, AL, &[]).await;
    }
    let bob_obj = "%3Cmsnobj%20Creator%3D%22bob%40hotmail.com%22%20Size%3D%2216011%22%20Type%3D%223%22%20Location%3D%22TFR1E5.tmp%22%20Friendly%3D%22AAA%3D%22%20SHA1D%3D%223S8gz9rpM4Kt68kox3ZGlwXnFrM%3D%22%20SHA1C%3D%22%2F6wWiZ8IGrQaSsHDmKa5xHCjkhQ%3D%22%2F%3E";
    let carol_obj = "%3Cmsnobj%20Creator%3D%22carol%40hotmail.com%22%20Size%3D%229732%22%20Type%3D%223%22%20Location%3D%22TFR9F0.tmp%22%20Friendly%3D%22AAA%3D%22%20SHA1D%3D%22TxGw1ekXz6kfBvMME%2Bf4%2B1dhxdA%3D%22%20SHA1C%3D%22SlrPMn56HTj6%2B0GAKZvjZv8BZKo%3D%22%2F%3E";
    let mut bob = s
        .online_twn(12, "bob@hotmail.com", &format!("NLN 1342488620 {bob_obj}"))
        .await;
    let psm = b"<Data><PSM>Coffee &amp; code</PSM><CurrentMedia></CurrentMedia></Data>";
    assert_eq!(
        bob.call_payload("UUX {}", psm)
            .await
            .line()
            .split(' ')
            .next(),
        Some("UUX")
    );
    let mut carol = s
        .online_twn(
            11,
            "carol@hotmail.com",
            &format!("AWY 1073791020 {carol_obj}"),
        )
        .await;
    bob.barrier().await;

    let mut r = replay(&s, include_str!("transcripts/msnp11-login.txt"));
    r.substitute(
        "t=2Gh7Jk3Lm8Np4Qr9St5Uv0Wx6Yz1Ab*Cd!Ef$$&p=8Zy3Xw7Vu1Ts5Rq*Po!Nm$$",
        &s.ticket(a).await,
    );
    r.attach("bob-ns", bob);
    r.run_until("S: NLN BSY bob@hotmail.com").await;
    r.client("bob-ns")
        .call(&format!("CHG {{}} BSY 1342488620 {bob_obj}"))
        .await;
    r.run_until("S: FLN carol@hotmail.com").await;
    carol.send("OUT").await;
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sb_msnp12() {
    let s = TestServer::start().await;
    accounts(&s, &[ALICE, ("dan@hotmail.com", "danpass", "Dan")]).await;
    let (a, an) = ("alice@hotmail.com", "Alice%20Smith");
    s.seed_fl(a, an, "dan@hotmail.com", "Dan", AL, &[]).await;
    s.seed_fl("dan@hotmail.com", "Dan", a, an, AL, &[]).await;
    let mut alice = s.online_twn(12, a, "NLN 1342488620").await;
    let mut dan = s.online(7, "dan@hotmail.com", "danpass", "NLN").await;
    alice.barrier().await;
    dan.barrier().await;
    let mut r = replay(&s, include_str!("transcripts/sb-msnp12.txt"));
    r.attach("alice-ns", alice).attach("dan-ns", dan);
    r.run_to_end().await;
    s.stop().await;
}

/// A VAR comment relaxes the values it names, not the rest of the line.
#[test]
fn var_comment_relaxes_only_what_it_names() {
    let text = "# >>> connection ns: client -> Notification Server 192.0.2.20:1863\n\
                # VAR: the new group's GUID.\n\
                S: ADG 7 1 Family 7d2f0c5e-3b1a-4c8e-a3e2-5f9b8d6c4a21 0\n";
    let r = Replay::new(text);
    let var = Some("VAR: the new group's GUID.");
    let expected = "ADG 7 1 Family 7d2f0c5e-3b1a-4c8e-a3e2-5f9b8d6c4a21 0";
    let guid = "ADG 7 1 Family 11111111-2222-3333-4444-555555555555 0";
    assert_eq!(r.compare_tokens(var, expected, guid, false), Ok(vec![4]));
    for wrong in [
        "ADG 7 2 Family 11111111-2222-3333-4444-555555555555 0",
        "ADG 7 1 Familie 11111111-2222-3333-4444-555555555555 0",
        "ADG 7 1 Family 11111111-2222-3333-4444-555555555555 1",
    ] {
        assert!(
            r.compare_tokens(var, expected, wrong, false).is_err(),
            "{wrong} accepted"
        );
    }
    // Kinds and spelled-out values.
    let var = Some("VAR: new group id = lowest free id 0..29 (here 2).");
    assert!(
        r.compare_tokens(
            var,
            "ADG 11 13 Coworkers 2 0",
            "ADG 11 13 Coworkers 3 0",
            false
        )
        .is_ok()
    );
    assert!(
        r.compare_tokens(
            var,
            "ADG 11 13 Coworkers 2 0",
            "ADG 11 14 Coworkers 2 0",
            false
        )
        .is_err()
    );
    let var = Some("VAR: NS address, then \"0\", then the address of the server.");
    let expected = "XFR 3 NS 192.0.2.20:1863 0 192.0.2.10:1863";
    assert!(
        r.compare_tokens(
            var,
            expected,
            "XFR 3 NS 127.0.0.1:4000 0 127.0.0.1:4001",
            false
        )
        .is_ok()
    );
    assert!(
        r.compare_tokens(
            var,
            expected,
            "XFR 3 NS 127.0.0.1:4000 1 127.0.0.1:4001",
            false
        )
        .is_err()
    );
}

/// The password of every account of soap/README.md's example.
const EXAMPLE_PASSWORD: &str = "p@ss&w0rd";

/// soap/README.md's example accounts and lists, as msnp15-sso-login.txt
/// describes them: alice has bob (group Friends) and carol on FL and AL,
/// frank on BL, erin pending; bob, carol, erin and frank have alice on
/// their FL; dave exists. Every name is stored as given at sign-up.
async fn example_accounts(s: &TestServer) {
    for (user, name) in [
        ("alice", "Alice"),
        ("bob", "Bob"),
        ("carol", "Carol"),
        ("dave", "Dave"),
        ("erin", "Erin"),
        ("frank", "Frank"),
    ] {
        s.user(&format!("{user}@example.com"), EXAMPLE_PASSWORD, name)
            .await;
    }
    let a = "alice@example.com";
    s.seed_group(a, 1, "Friends").await;
    s.seed_fl(a, "Alice", "bob@example.com", "Bob", AL, &[1])
        .await;
    s.seed_fl("bob@example.com", "Bob", a, "Alice", AL, &[])
        .await;
    s.seed_fl(a, "Alice", "carol@example.com", "Carol", AL, &[])
        .await;
    s.seed_fl("carol@example.com", "Carol", a, "Alice", AL, &[])
        .await;
    s.seed_fl("erin@example.com", "Erin", a, "Alice", 0, &[])
        .await;
    s.seed_entry(a, "erin@example.com", PL, "Erin", &[]).await;
    s.seed_entry(a, "frank@example.com", BL, "Frank", &[]).await;
    s.seed_fl("frank@example.com", "Frank", a, "Alice", 0, &[])
        .await;
}

/// A WLM contact of the example, signed in with SSO in dialect `n`, its
/// initial list sent (alice on FL and AL), online with `chg` and with the
/// personal-message document `uux`.
async fn example_contact(s: &TestServer, n: u8, email: &str, chg: &str, uux: &str) -> Client {
    let guid = (n >= 16).then(|| {
        uux.split("<MachineGuid>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("a MachineGuid")
            .to_owned()
    });
    let mut c = support::wlm::sso_login(s, n, email, EXAMPLE_PASSWORD, guid.as_deref()).await;
    c.call("BLP {} AL").await;
    let ml = r#"<ml l="1"><d n="example.com"><c n="alice" l="3" t="1"/></d></ml>"#;
    assert_eq!(
        c.call_payload("ADL {}", ml.as_bytes())
            .await
            .tokens()
            .nth(2),
        Some("OK")
    );
    c.call(&format!("CHG {{}} {chg}")).await;
    let reply = c.call_payload("UUX {}", uux.as_bytes()).await;
    assert_eq!(reply.command(), "UUX", "{}", reply.line());
    c.barrier().await;
    c
}

/// Calls `action` on the service at `path` with its vector request
/// (`tests/soap/<action>.request.xml`) and `ticket`; returns the reply.
async fn vector_call(
    http: std::net::SocketAddr,
    path: &str,
    action: &str,
    ticket: &str,
) -> support::soap::El {
    use support::soap::{El, call, request};
    let name = format!("{}.request.xml", action.to_ascii_lowercase());
    El::parse(&call(http, path, action, &request(&name, ticket)).await)
}

/// [`vector_call`], and the reply has the shape and values of the
/// vector's response, less the elements named in `strip`.
async fn vector_exchange(
    http: std::net::SocketAddr,
    path: &str,
    action: &str,
    ticket: &str,
    strip: &[&str],
) {
    use support::soap::{El, same, vector};
    let got = vector_call(http, path, action, ticket).await;
    let mut want = El::parse(&vector(&format!(
        "{}.response.xml",
        action.to_ascii_lowercase()
    )));
    for name in strip {
        want.strip(name);
    }
    same(&want, &got, "");
}

const SHARING: &str = "/abservice/SharingService.asmx";
const AB: &str = "/abservice/abservice.asmx";

/// The SOAP calls the transcripts show as comments after the profile: the
/// membership lists and the address book, compared with the vectors.
async fn example_list_download(http: std::net::SocketAddr, ticket: &str) {
    vector_exchange(http, SHARING, "FindMembership", ticket, &["Annotations"]).await;
    vector_exchange(http, AB, "ABFindAll", ticket, &[]).await;
}

/// ABFindContactsPaged (WLM 2009); returns the circle ticket as `USR SHA
/// A` presents it (base64 of the document). (Its shape is compared with
/// the vector in tests/soap_ab.rs, with the Favorites group that vector
/// has.)
async fn example_circle_ticket(http: std::net::SocketAddr, ticket: &str) -> String {
    use base64::Engine as _;
    let got = vector_call(http, AB, "ABFindContactsPaged", ticket).await;
    let signed = got.text_at(
        "soap:Body/ABFindContactsPagedResponse/ABFindContactsPagedResult/CircleResult/CircleTicket",
    );
    base64::engine::general_purpose::STANDARD.encode(signed)
}

/// Adding dave (ABContactAdd) and accepting erin (AddMember Allow,
/// DeleteMember Pending) over SOAP, as the transcripts' comments show.
async fn example_add_dave(http: std::net::SocketAddr, ticket: &str) {
    vector_exchange(http, AB, "ABContactAdd", ticket, &[]).await;
}

async fn example_accept_erin(http: std::net::SocketAddr, ticket: &str) {
    for action in ["AddMember", "DeleteMember"] {
        vector_exchange(http, SHARING, action, ticket, &[]).await;
    }
}

const BOB_EXAMPLE_OBJ: &str = "%3Cmsnobj%20Creator%3D%22bob%40example.com%22%20Size%3D%2216011%22%20Type%3D%223%22%20Location%3D%22TFR1E5.tmp%22%20Friendly%3D%22AAA%3D%22%20SHA1D%3D%22fdY5sMrUjhVbDUiOqLlFyqjvGyM%3D%22%20SHA1C%3D%22dny97yXDqapstvbTlQSVQT6DeGI%3D%22%2F%3E";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp15_sso_login() {
    let s = TestServer::start_with(|c| c.challenge.mode = ChallengeMode::Lenient).await;
    example_accounts(&s).await;
    let http = s.http.unwrap();
    let bob = example_contact(
        &s,
        15,
        "bob@example.com",
        &format!("NLN 2147794988 {BOB_EXAMPLE_OBJ}"),
        "<Data><PSM>Coffee &amp; code</PSM><CurrentMedia></CurrentMedia><MachineGuid>{3C7E9A1B-5D2F-4B6C-8E0A-1F3D5B7C9E24}</MachineGuid></Data>",
    )
    .await;
    let _carol = example_contact(
        &s,
        15,
        "carol@example.com",
        "AWY 2147794988 0",
        "<Data><PSM></PSM><CurrentMedia></CurrentMedia><MachineGuid>{6E2A4C8F-0B1D-4F3E-9A5C-7D9B1E3F5A06}</MachineGuid></Data>",
    )
    .await;

    let a = "alice@example.com";
    let (ticket, key) = support::wlm::rst(http, a, EXAMPLE_PASSWORD).await;
    let contacts = support::soap::token(http, a, EXAMPLE_PASSWORD, "contacts.msn.com").await;
    let mut r = replay(&s, include_str!("transcripts/msnp15-sso-login.txt"));
    r.substitute("t=VxYcQF3FetFM+cXWcVABTIxbi94MLmhm+DSQ$$&p=", &ticket)
        .sso_key(key)
        .attach("bob-ns", bob);
    r.run_until("C: BLP 5 AL").await;
    example_list_download(http, &contacts).await;
    r.run_until("C: ADL 11").await;
    example_add_dave(http, &contacts).await;
    r.run_until("C: ADL 13").await;
    example_accept_erin(http, &contacts).await;
    r.run_to_end().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnp18_login() {
    let s = TestServer::start_with(|c| c.challenge.mode = ChallengeMode::Lenient).await;
    example_accounts(&s).await;
    let http = s.http.unwrap();
    let bob_guid = "{0A1B2C3D-0000-4000-8000-000000000001}";
    let bob = example_contact(
        &s,
        18,
        "bob@example.com",
        &format!("NLN 2789003324:48 {BOB_EXAMPLE_OBJ}"),
        &format!("<Data><PSM>Coffee &amp; code</PSM><CurrentMedia></CurrentMedia><MachineGuid>{bob_guid}</MachineGuid><DDP></DDP><SignatureSound></SignatureSound><Scene></Scene><ColorScheme>-3</ColorScheme></Data>"),
    )
    .await;
    let carol = example_contact(
        &s,
        15,
        "carol@example.com",
        "AWY 2147794988 0",
        "<Data><PSM></PSM><CurrentMedia></CurrentMedia><MachineGuid>{6E2A4C8F-0B1D-4F3E-9A5C-7D9B1E3F5A06}</MachineGuid></Data>",
    )
    .await;

    let a = "alice@example.com";
    let (ticket, key) = support::wlm::rst2(http, a, EXAMPLE_PASSWORD).await;
    let contacts = support::soap::token(http, a, EXAMPLE_PASSWORD, "contacts.msn.com").await;
    let mut r = replay(&s, include_str!("transcripts/msnp18-login.txt"));
    r.substitute("t=PH7Mp/oOjqnDQt2DFeeReEZxNDV/toQPQZXg$$&p=", &ticket)
        .sso_key(key)
        .attach("bob-ns", bob)
        .attach("carol-ns", carol);
    // The profile "as in msnp15-sso-login.txt", whose VAR comment it shares.
    r.run_until("S: MSG Hotmail Hotmail 448").await;
    r.var_next("VAR: LoginTime, MemberIdHigh/Low, Flags, MSPAuth, ClientIP, ClientPort");
    r.run_until("C: USR 5 SHA A").await;
    example_list_download(http, &contacts).await;
    // WLM 2009's own list download, whose circle ticket it presents next.
    let ticket = example_circle_ticket(http, &contacts).await;
    let transcript_ticket = include_str!("transcripts/msnp18-login.txt")
        .lines()
        .find_map(|l| l.strip_prefix("C: USR 5 SHA A "))
        .unwrap();
    r.substitute(transcript_ticket, &ticket);
    r.run_until("C: ADL 14").await;
    example_add_dave(http, &contacts).await;
    // "Same form as MSNP14/15", whose VAR comment it shares.
    r.run_until("S: XFR 18 SB").await;
    r.var_next("VAR: address, cookie");
    // bob invites alice from a switchboard session of his own.
    r.run_until("S: RNG").await;
    let bob = r.client("bob-ns");
    let xfr = bob.call("XFR {} SB").await;
    let (sb, cookie) = (xfr.tokens().nth(3).unwrap(), xfr.tokens().nth(5).unwrap());
    let mut bob_sb = Client::connect(sb.parse().unwrap()).await;
    bob_sb
        .call(&format!("USR {{}} bob@example.com;{bob_guid} {cookie}"))
        .await;
    bob_sb.call("CAL {} alice@example.com").await;
    // carol signs out.
    r.run_until("S: FLN 1:carol@example.com").await;
    r.detach("carol-ns").send("OUT").await;
    r.run_to_end().await;
    s.stop().await;
}
