//! Windows Live Messenger sign-in (MSNP13–MSNP18) against a real server:
//! the `GCF 0` policies, `USR TWN` with an RST ticket for MSNP13–14,
//! `USR SSO` with the `MBI_KEY_OLD` proof for MSNP15+, machine GUIDs and
//! multiple points of presence, and the MSNP2–12 list commands closed.
//! Tokens come from the server's own RST.srf (WLM 8.x) and RST2.srf (WLM
//! 2009) over HTTP, as the clients get them.

mod support;

use support::wlm::{self, ml, proof, rst, rst2, sso_start};
use support::{Client, TestServer};

const GUID_A: &str = "{F26D1F07-95E2-403C-BC18-D4BFED493428}";
const GUID_B: &str = "{0A1B2C3D-0000-4000-8000-000000000001}";

async fn server() -> TestServer {
    let s = TestServer::start_with(|c| c.notification.max_dialect = 18).await;
    s.user("alice@example.com", "p@ss&w0rd", "Alice").await;
    s
}

/// Alice signs in with SSO; returns the client after the profile.
async fn sso_login(s: &TestServer, n: u8, guid: Option<&str>) -> Client {
    wlm::sso_login(s, n, "alice@example.com", "p@ss&w0rd", guid).await
}

#[tokio::test]
async fn msnp15_signs_in_with_the_mbi_key_old_proof() {
    let s = server().await;
    let mut c = sso_login(&s, 15, None).await;
    c.barrier().await;
}

#[tokio::test]
async fn msnp18_signs_in_with_its_machine_guid() {
    let s = server().await;
    let mut c = sso_login(&s, 18, Some(GUID_A)).await;
    c.barrier().await;
}

/// WLM 2009's own path: tokens from RST2.srf, then `USR SSO` with the
/// MBI_KEY_OLD proof computed from its BinarySecret and the machine GUID.
#[tokio::test]
async fn msnp18_signs_in_with_an_rst2_ticket() {
    let s = server().await;
    let (ticket, key) = rst2(s.http.unwrap(), "alice@example.com", "p@ss&w0rd").await;
    let (mut c, nonce) = sso_start(s.ns, 18, "alice@example.com").await;
    c.send(&format!(
        "USR 4 SSO S {ticket} {} {GUID_A}",
        proof(&key, &nonce)
    ))
    .await;
    c.expect("USR 4 OK alice@example.com 1 0").await;
    c.expect("SBS 0 null").await;
    let profile = c.recv().await;
    let text = String::from_utf8(profile.payload().unwrap().to_vec()).unwrap();
    assert!(text.contains("MPOPEnabled: 1\r\n"), "{text}");
    c.barrier().await;
    // The ticket was used up by the sign-in.
    let (mut again, nonce) = sso_start(s.ns, 18, "alice@example.com").await;
    again
        .send(&format!(
            "USR 4 SSO S {ticket} {} {GUID_B}",
            proof(&key, &nonce)
        ))
        .await;
    again.expect("911 4").await;
    again.expect_eof().await;
}

#[tokio::test]
async fn a_wrong_proof_is_refused_and_leaves_the_ticket_usable() {
    let s = server().await;
    let (ticket, key) = rst(s.http.unwrap(), "alice@example.com", "p@ss&w0rd").await;
    let (mut c, nonce) = sso_start(s.ns, 15, "alice@example.com").await;
    let mut wrong_key = key.clone();
    wrong_key[0] ^= 1;
    c.send(&format!(
        "USR 4 SSO S {ticket} {}",
        proof(&wrong_key, &nonce)
    ))
    .await;
    c.expect("911 4").await;
    c.expect_eof().await;
    // A proof for another nonce (a replayed USR line) is refused too.
    let (mut c, _) = sso_start(s.ns, 15, "alice@example.com").await;
    c.send(&format!("USR 4 SSO S {ticket} {}", proof(&key, &nonce)))
        .await;
    c.expect("911 4").await;
    c.expect_eof().await;
    // The owner's ticket was not used up by either.
    let (mut c, nonce) = sso_start(s.ns, 15, "alice@example.com").await;
    c.send(&format!("USR 4 SSO S {ticket} {}", proof(&key, &nonce)))
        .await;
    c.expect("USR 4 OK alice@example.com 1 0").await;
    // Once used, it is gone.
    let (mut c2, nonce) = sso_start(s.ns, 15, "alice@example.com").await;
    c2.send(&format!("USR 4 SSO S {ticket} {}", proof(&key, &nonce)))
        .await;
    c2.expect("911 4").await;
    c2.expect_eof().await;
}

#[tokio::test]
async fn garbage_proofs_and_guids_are_refused() {
    let s = server().await;
    for (n, tail) in [
        (15, "not-base64!".to_owned()),
        (15, String::new()),
        (18, "HAAAAAEAAAADZgAABIAAAAgAAAAUAAAASAAAAA==".to_owned()),
    ] {
        let (ticket, _) = rst(s.http.unwrap(), "alice@example.com", "p@ss&w0rd").await;
        let (mut c, _) = sso_start(s.ns, n, "alice@example.com").await;
        c.send(&format!("USR 4 SSO S {ticket} {tail} {GUID_A}").replace("  ", " "))
            .await;
        let lines = c.expect_eof().await;
        assert!(
            lines.is_empty() || lines == ["911 4"],
            "MSNP{n} {tail:?}: {lines:?}"
        );
    }
    // MSNP16+ must name its machine, as a GUID.
    for guid in ["", " F26D1F07-95E2-403C-BC18-D4BFED493428", " {nope}"] {
        let (ticket, key) = rst(s.http.unwrap(), "alice@example.com", "p@ss&w0rd").await;
        let (mut c, nonce) = sso_start(s.ns, 18, "alice@example.com").await;
        c.send(&format!(
            "USR 4 SSO S {ticket} {}{guid}",
            proof(&key, &nonce)
        ))
        .await;
        c.expect("911 4").await;
        c.expect_eof().await;
    }
}

#[tokio::test]
async fn msnp15_has_no_tweener_and_msnp13_no_sso() {
    let s = server().await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP15 CVR0").await;
    c.expect("VER 1 MSNP15").await;
    c.send("USR 2 TWN I alice@example.com").await;
    c.expect_eof().await;

    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP13 CVR0").await;
    c.expect("VER 1 MSNP13").await;
    c.send("USR 2 SSO I alice@example.com").await;
    c.expect_eof().await;
}

#[tokio::test]
async fn msnp13_signs_in_with_an_rst_ticket() {
    let s = server().await;
    let (ticket, _) = rst(s.http.unwrap(), "alice@example.com", "p@ss&w0rd").await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP13 CVR0").await;
    c.expect("VER 1 MSNP13").await;
    c.send("USR 2 TWN I alice@example.com").await;
    assert_eq!(c.recv().await.line().split(' ').nth(1), Some("0"), "GCF 0");
    assert!(c.recv_line().await.starts_with("USR 2 TWN S lc=1033,"));
    c.send(&format!("USR 3 TWN S {ticket}")).await;
    c.expect("USR 3 OK alice@example.com 1 0").await;
}

#[tokio::test]
async fn the_msnp2_12_list_commands_are_gone() {
    let s = server().await;
    for command in [
        "SYN 9 0 0",
        "GTC 9 A",
        "ADC 9 FL N=bob@example.com F=Bob",
        "ADG 9 Friends",
        "REM 9 FL bob@example.com",
        "GCF 9 Shields.xml",
    ] {
        let mut c = sso_login(&s, 15, None).await;
        c.send(command).await;
        let lines = c.expect_eof().await;
        assert!(
            lines.iter().all(|l| !l.starts_with(&command[..3])),
            "{command}: {lines:?}"
        );
    }
}

#[tokio::test]
async fn msnp18_keeps_both_machines_and_replaces_the_same_one() {
    let s = server().await;
    let mut first = sso_login(&s, 18, Some(GUID_A)).await;
    let mut second = sso_login(&s, 18, Some(GUID_B)).await;
    // Both stay signed in.
    first.barrier().await;
    second.barrier().await;
    // The first machine signing in again replaces its own old session.
    let mut again = sso_login(&s, 18, Some(GUID_A)).await;
    let lines = first.expect_eof().await;
    assert!(lines.contains(&"OUT OTH".to_owned()), "{lines:?}");
    second.barrier().await;
    again.barrier().await;
    // An MSNP15 sign-in ends every MPOP session (it cannot share).
    let _old = sso_login(&s, 15, None).await;
    for c in [&mut second, &mut again] {
        let lines = c.expect_eof().await;
        assert!(lines.contains(&"OUT OTH".to_owned()), "{lines:?}");
    }
}

#[tokio::test]
async fn the_default_configuration_offers_msnp18() {
    let s = TestServer::start().await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP18 MSNP15 MSNP12 CVR0").await;
    c.expect("VER 1 MSNP18").await;
    // MSN Messenger 7.5 still gets MSNP12.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP12 MSNP11 CVR0").await;
    c.expect("VER 1 MSNP12").await;
}

async fn wlm_online(s: &TestServer, n: u8, guid: Option<&str>) -> Client {
    wlm::online(s, n, "alice@example.com", "p@ss&w0rd", guid).await
}

async fn adl(c: &mut Client, doc: &str) -> msn_wire::Frame {
    c.call_payload("ADL {}", doc.as_bytes()).await
}

#[tokio::test]
async fn msnp18_and_msnp7_add_each_other_and_see_presence() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    let mut bob = s.online(7, "bob@example.com", "pw", "NLN").await;
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;

    // Alice adds Bob (FL + AL): Bob, online and allowing everyone, is shown
    // at once, and Bob's MSN Messenger 4.x is told.
    let doc = ml("bob@example.com", 3);
    let trid = alice.trid() + 1;
    alice
        .send_payload(&format!("ADL {trid}"), doc.as_bytes())
        .await;
    let mut lines = Vec::new();
    loop {
        let line = alice.recv_line().await;
        let done = line == format!("ADL {trid} OK");
        lines.push(line);
        if done {
            break;
        }
    }
    assert!(
        lines.contains(&"NLN NLN 1:bob@example.com Bob 0:0 0".to_owned()),
        "{lines:?}"
    );
    let add = bob.recv_line().await;
    assert!(
        add.starts_with("ADD 0 RL ") && add.ends_with(" alice@example.com Alice"),
        "{add}"
    );

    // Bob adds Alice back: Alice gets ADL 0 with Bob on her reverse list.
    bob.call("ADD {} AL alice@example.com Alice").await;
    bob.call("ADD {} FL alice@example.com Alice").await;
    let notice = alice.recv().await;
    assert_eq!(
        notice.line().split(' ').take(2).collect::<Vec<_>>(),
        ["ADL", "0"]
    );
    assert_eq!(
        notice.payload().unwrap().as_ref(),
        br#"<ml><d n="example.com"><c n="bob" t="1" l="8" f="Bob"/></d></ml>"#
    );
    // Bob sees Alice online in his own form.
    bob.wait_for("Alice's presence", |f| {
        f.line().starts_with("ILN") || f.line().starts_with("NLN")
    })
    .await;

    // Presence both ways: Bob goes away, Alice sees it in the MSNP18 form.
    bob.call("CHG {} AWY").await;
    alice
        .wait_for("NLN AWY", |f| {
            f.line() == "NLN AWY 1:bob@example.com Bob 0:0 0"
        })
        .await;
    alice.call("CHG {} BSY 2789003324:48 0").await;
    bob.wait_for("NLN BSY", |f| f.line() == "NLN BSY alice@example.com Alice")
        .await;

    // Bob removes Alice: RML 0 reaches her.
    bob.call("REM {} FL alice@example.com").await;
    let notice = alice
        .wait_for("RML 0", |f| f.line().starts_with("RML 0 "))
        .await;
    assert_eq!(
        notice.payload().unwrap().as_ref(),
        br#"<ml><d n="example.com"><c n="bob" t="1" l="8"/></d></ml>"#
    );
    // Alice removes Bob from her FL: Bob's client is told, the list keeps
    // the rest.
    let doc = ml("bob@example.com", 1);
    let ok = adl_like(&mut alice, "RML", &doc).await;
    assert_eq!(ok.line(), format!("RML {} OK", ok.tokens().nth(1).unwrap()));
    bob.wait_for("REM 0 RL", |f| f.line().starts_with("REM 0 RL "))
        .await;
    let st = s.store.user("alice@example.com").await.unwrap().unwrap();
    let account = s.store.load_account(st.id).await.unwrap();
    assert_eq!(account.bits_of("bob@example.com") & 1, 0, "off the FL");
    assert_ne!(account.bits_of("bob@example.com") & 2, 0, "still allowed");
}

async fn adl_like(c: &mut Client, command: &str, doc: &str) -> msn_wire::Frame {
    c.call_payload(&format!("{command} {{}}"), doc.as_bytes())
        .await
}

#[tokio::test]
async fn bad_membership_lists_get_their_errors() {
    let s = server().await;
    let mut c = wlm_online(&s, 15, None).await;
    // Unknown account, unknown network, no list bits: an error, no more.
    let e = adl(&mut c, &ml("nobody@example.com", 1)).await;
    assert_eq!(e.line(), format!("208 {}", e.tokens().nth(1).unwrap()));
    let doc = r#"<ml><d n="example.com"><c n="bob" l="1" t="7"/></d></ml>"#;
    let e = adl(&mut c, doc).await;
    assert_eq!(e.command(), "204");
    let doc = r#"<ml><d n="example.com"><c n="bob" l="0" t="1"/></d></ml>"#;
    assert_eq!(adl(&mut c, doc).await.command(), "201");
    // RML of someone not on the list.
    s.user("carol@example.com", "pw", "Carol").await;
    let e = adl_like(&mut c, "RML", &ml("carol@example.com", 1)).await;
    assert_eq!(e.command(), "216");
    c.barrier().await;

    // The rest end the session.
    let contacts = |n: usize| {
        let mut doc = String::from(r#"<ml><d n="example.com">"#);
        for i in 0..n {
            doc.push_str(&format!(r#"<c n="u{i}" l="1" t="1"/>"#));
        }
        doc.push_str("</d></ml>");
        doc
    };
    for (doc, code) in [
        (ml("carol@example.com", 8), "241"),
        (ml("carol@example.com", 16), "241"),
        (r#"<ml><d n="example.com"></d></ml>"#.to_owned(), "240"),
        ("<ml><d n=".to_owned(), "241"),
        (
            r#"<!DOCTYPE x [<!ENTITY a "b">]><ml></ml>"#.to_owned(),
            "241",
        ),
    ] {
        let mut c = wlm_online(&s, 15, None).await;
        c.send_payload("ADL 50", doc.as_bytes()).await;
        let lines = c.expect_eof().await;
        assert_eq!(lines, [format!("{code} 50")], "{doc:.80}");
    }
    // 10 000 contacts in one ADL exceed the payload limit ([limits]
    // max_ns_payload_bytes, 8 KiB; clients split their lists into ADLs of
    // at most about 7 500 bytes): the session ends before the document is
    // read. (The per-document contact limit behind it, max_list_entries,
    // is tested in msn-core.)
    let mut c = wlm_online(&s, 15, None).await;
    let doc = contacts(10_000);
    let mut bytes = format!("ADL 50 {}\r\n", doc.len()).into_bytes();
    bytes.extend_from_slice(doc.as_bytes());
    c.send_raw_lossy(&bytes).await;
    assert_eq!(c.expect_eof().await, Vec::<String>::new());
}

#[tokio::test]
async fn fqy_names_the_network_of_an_account() {
    let s = server().await;
    s.user("frank@example.com", "pw", "Frank").await;
    let mut c = wlm_online(&s, 15, None).await;
    let doc = r#"<ml><d n="example.com"><c n="frank"/></d></ml>"#;
    let reply = adl_like(&mut c, "FQY", doc).await;
    assert_eq!(reply.command(), "FQY");
    assert_eq!(
        reply.payload().unwrap().as_ref(),
        br#"<ml><d n="example.com"><c n="frank" t="1"/></d></ml>"#
    );
    let doc = r#"<ml><d n="example.com"><c n="nobody"/></d></ml>"#;
    assert_eq!(adl_like(&mut c, "FQY", doc).await.command(), "208");
}

#[tokio::test]
async fn xfr_sb_and_rng_in_the_msnp13_and_14_forms() {
    let s = server().await;
    let mut c = wlm_online(&s, 15, None).await;
    let xfr = c.call("XFR {} SB").await;
    let words: Vec<&str> = xfr.line().split(' ').collect();
    assert_eq!(words[2..4], ["SB", &s.sb.to_string()][..], "{}", xfr.line());
    assert_eq!(words[4], "CKI");
    assert_eq!(
        words[6..],
        ["U", "messenger.msn.com", "1"],
        "{}",
        xfr.line()
    );
}

/// A switchboard connection of `email` (`;{guid}` for MSNP16+) opened
/// with a cookie from `XFR SB` on `ns`.
async fn sb_open(s: &TestServer, ns: &mut Client, endpoint: &str) -> Client {
    let xfr = ns.call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut sb = Client::connect(s.sb).await;
    sb.label = format!("{endpoint}/sb");
    sb.send(&format!("USR 1 {endpoint} {cookie}")).await;
    let ok = sb.recv_line().await;
    assert!(ok.starts_with(&format!("USR 1 OK {endpoint} ")), "{ok}");
    sb
}

/// Answers the next `RNG` on `ns` as `endpoint`; returns the SB client
/// and its `IRO` lines.
async fn sb_answer(s: &TestServer, ns: &mut Client, endpoint: &str) -> (Client, Vec<String>) {
    let rng = ns.wait_for("RNG", |f| f.command() == "RNG").await;
    let words: Vec<String> = rng.tokens().map(str::to_owned).collect();
    let mut sb = Client::connect(s.sb).await;
    sb.label = format!("{endpoint}/sb");
    sb.send(&format!("ANS 1 {endpoint} {} {}", words[4], words[1]))
        .await;
    let mut iro = Vec::new();
    loop {
        let line = sb.recv_line().await;
        if line == "ANS 1 OK" {
            return (sb, iro);
        }
        assert!(line.starts_with("IRO 1 "), "{line}");
        iro.push(line);
    }
}

#[tokio::test]
async fn one_chat_with_an_msnp7_user_and_two_machines_of_an_msnp18_user() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    s.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut bob = s.online(7, "bob@example.com", "pw", "NLN").await;
    let mut alice1 = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut alice2 = wlm_online(&s, 18, Some(GUID_B)).await;
    let (a1, a2) = (
        format!("alice@example.com;{GUID_A}"),
        format!("alice@example.com;{GUID_B}"),
    );

    // Bob invites Alice: both of her machines ring, in the MSNP14+ form.
    let mut bob_sb = sb_open(&s, &mut bob, "bob@example.com").await;
    let cal = bob_sb.call("CAL {} alice@example.com").await;
    assert_eq!(cal.tokens().nth(2), Some("RINGING"), "{}", cal.line());
    let rng = alice2.wait_for("RNG", |f| f.command() == "RNG").await;
    assert!(
        rng.line()
            .ends_with(" bob@example.com Bob U messenger.hotmail.com 1"),
        "{}",
        rng.line()
    );

    let (mut sb1, iro) = sb_answer(&s, &mut alice1, &a1).await;
    assert_eq!(iro, ["IRO 1 1 1 bob@example.com Bob 0:0"]);
    bob_sb.expect("JOI alice@example.com Alice").await;

    // Her second machine answers the same invitation: it sees Bob, Alice,
    // and her first machine; Bob (MSN Messenger 4.x, users only) sees no
    // one new; the first machine sees the second.
    let rng = rng.line().to_owned();
    let words: Vec<&str> = rng.split(' ').collect();
    let mut sb2 = Client::connect(s.sb).await;
    sb2.send(&format!("ANS 1 {a2} {} {}", words[4], words[1]))
        .await;
    sb2.expect("IRO 1 1 3 bob@example.com Bob 0:0").await;
    sb2.expect("IRO 1 2 3 alice@example.com Alice 2789003324:48")
        .await;
    sb2.expect(&format!("IRO 1 3 3 {a1} Alice 2789003324:48"))
        .await;
    sb2.expect("ANS 1 OK").await;
    sb1.expect(&format!("JOI {a2} Alice 2789003324:48")).await;
    // The same machine cannot join twice.
    let mut again = Client::connect(s.sb).await;
    again
        .send(&format!("ANS 1 {a2} {} {}", words[4], words[1]))
        .await;
    again.expect("911 1").await;

    // A message from Bob reaches both machines byte for byte.
    let body = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi both";
    bob_sb.send_payload("MSG 5 N", body).await;
    for sb in [&mut sb1, &mut sb2] {
        let msg = sb.recv().await;
        assert_eq!(
            msg.line(),
            format!("MSG bob@example.com Bob {}", body.len())
        );
        assert_eq!(msg.payload().unwrap().as_ref(), body);
    }

    // Leaving: the first machine sees the second's endpoint go; Bob sees
    // Alice go only when her last machine leaves.
    sb2.send("OUT").await;
    sb1.expect(&format!("BYE {a2}")).await;
    sb1.send("OUT").await;
    bob_sb.expect("BYE alice@example.com").await;
}

#[tokio::test]
async fn wlm_2009_calling_itself_gets_its_own_endpoint() {
    let s = server().await;
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut sb = sb_open(&s, &mut alice, &format!("alice@example.com;{GUID_A}")).await;
    let cal = sb.call("CAL {} alice@example.com").await;
    assert_eq!(cal.tokens().nth(2), Some("RINGING"));
    sb.expect(&format!(
        "JOI alice@example.com;{GUID_A} Alice 2789003324:48"
    ))
    .await;
    // An MSNP16+ endpoint form from an older dialect is refused.
    let mut old = wlm_online(&s, 15, None).await;
    let xfr = old.call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut sb = Client::connect(s.sb).await;
    sb.send(&format!("USR 1 alice@example.com;{GUID_A} {cookie}"))
        .await;
    sb.expect("911 1").await;
}

/// WLM 2009's `CAL` to itself rings the user's other machines (not the
/// calling one); the other machine that answers joins the session, and
/// a contact in it sees both machines.
#[tokio::test]
async fn calling_itself_pulls_in_the_other_machine() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    s.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut home = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut work = wlm_online(&s, 18, Some(GUID_B)).await;
    let bob_guid = "{22222222-3333-4444-8555-666666666666}";
    let mut bob = wlm::online(&s, 18, "bob@example.com", "pw", Some(bob_guid)).await;
    let mut sb = sb_open(&s, &mut home, &format!("alice@example.com;{GUID_A}")).await;
    sb.call("CAL {} bob@example.com").await;
    let (mut b_sb, _) = sb_answer(&s, &mut bob, &format!("bob@example.com;{bob_guid}")).await;
    let cal = sb.call("CAL {} alice@example.com").await;
    assert_eq!(cal.tokens().nth(2), Some("RINGING"));
    // The work machine is rung by alice herself and joins.
    let (_w_sb, iro) = sb_answer(&s, &mut work, &format!("alice@example.com;{GUID_B}")).await;
    assert!(
        iro.iter()
            .any(|l| l.contains(&format!("alice@example.com;{GUID_A} "))),
        "{iro:?}"
    );
    sb.wait_for("the work machine joins", |f| {
        f.line() == format!("JOI alice@example.com;{GUID_B} Alice 2789003324:48")
    })
    .await;
    b_sb.wait_for("bob sees the work machine", |f| {
        f.line() == format!("JOI alice@example.com;{GUID_B} Alice 2789003324:48")
    })
    .await;
    // The calling machine was not rung.
    home.send("PNG").await;
    let next = home
        .wait_for("QNG or RNG", |f| matches!(f.command(), "QNG" | "RNG"))
        .await;
    assert_eq!(next.command(), "QNG", "{}", next.line());
}

#[tokio::test]
async fn msnp18_machines_see_each_other_in_the_self_ubx() {
    let s = server().await;
    let mut home = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut work = wlm_online(&s, 18, Some(GUID_B)).await;
    let private = b"<PrivateEndpointData><EpName>HOME-PC</EpName><Idle>false</Idle><ClientType>1</ClientType><State>NLN</State></PrivateEndpointData>";
    let ok = home.call_payload("UUX {}", private).await;
    assert_eq!(ok.tokens().nth(2), Some("0"), "{}", ok.line());
    let caps = |g: &str| {
        format!(
            r#"<EndpointData id="{g}"><Capabilities>2789003324:48</Capabilities></EndpointData>"#
        )
    };
    for c in [&mut home, &mut work] {
        let ubx = c
            .wait_for("self UBX", |f| {
                f.line().starts_with("UBX 1:alice@example.com ")
                    && f.payload()
                        .is_some_and(|p| p.windows(7).any(|w| w == b"HOME-PC"))
            })
            .await;
        let doc = String::from_utf8(ubx.payload().unwrap().to_vec()).unwrap();
        assert_eq!(
            doc,
            format!(
                "<Data><PSM></PSM><CurrentMedia></CurrentMedia><DDP></DDP>\
                 <SignatureSound></SignatureSound><Scene></Scene><ColorScheme></ColorScheme>{}{}\
                 <PrivateEndpointData id=\"{GUID_A}\"><EpName>HOME-PC</EpName><Idle>false</Idle>\
                 <ClientType>1</ClientType><State>NLN</State></PrivateEndpointData></Data>",
                caps(GUID_A),
                caps(GUID_B)
            )
        );
    }
    // The endpoint document is checked like any other.
    let bad = b"<PrivateEndpointData><EpName>x</EpName></PrivateEndpointData>junk";
    work.send_payload("UUX 40", bad).await;
    assert!(!work.expect_eof().await.iter().any(|l| l == "UUX 40 0"));
    // The machine left sees one place fewer.
    let ubx = home
        .wait_for("self UBX without the work machine", |f| {
            f.line().starts_with("UBX 1:alice@example.com ")
                && f.payload()
                    .is_some_and(|p| !p.windows(38).any(|w| w == GUID_B.as_bytes()))
        })
        .await;
    let doc = String::from_utf8(ubx.payload().unwrap().to_vec()).unwrap();
    assert!(
        doc.contains(&caps(GUID_A)) && doc.contains("HOME-PC"),
        "{doc}"
    );
}

#[tokio::test]
async fn uun_reaches_a_contact_or_one_of_ones_own_machines_as_ubn() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    s.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut home = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut work = wlm_online(&s, 18, Some(GUID_B)).await;

    // MPOP: the home machine asks the work machine to sign out.
    let ok = home
        .call_payload(
            &format!("UUN {{}} alice@example.com;{GUID_B} 4"),
            b"goawyplzthxbye",
        )
        .await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let ubn = work.wait_for("UBN", |f| f.command() == "UBN").await;
    assert_eq!(ubn.line(), format!("UBN alice@example.com;{GUID_A} 4 14"));
    assert_eq!(ubn.payload().unwrap().as_ref(), b"goawyplzthxbye");

    // Bob is offline: 217. Online (WLM 8.5), he gets it from plain Alice.
    let e = home
        .call_payload("UUN {} bob@example.com 3", b"hello")
        .await;
    assert_eq!(e.command(), "217");
    let (ticket, key) = rst(s.http.unwrap(), "bob@example.com", "pw").await;
    let (mut bob, nonce) = sso_start(s.ns, 15, "bob@example.com").await;
    bob.send(&format!("USR 4 SSO S {ticket} {}", proof(&key, &nonce)))
        .await;
    bob.wait_for("USR OK", |f| f.line().starts_with("USR 4 OK"))
        .await;
    bob.call("CHG {} NLN 0").await;
    let ok = home
        .call_payload("UUN {} bob@example.com 3", b"hello")
        .await;
    assert_eq!(ok.tokens().nth(2), Some("OK"));
    let ubn = bob.wait_for("UBN", |f| f.command() == "UBN").await;
    assert_eq!(ubn.line(), "UBN alice@example.com 3 5");
}

#[tokio::test]
async fn uum_is_answered_not_dropped() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    let mut c = wlm_online(&s, 18, Some(GUID_A)).await;
    let msg = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nDest-Agent: client\r\n\r\nare you there? \xE2\x98\x95";
    // An instant message to an offline Messenger contact (BitlBee 3.2's
    // way) is kept as an offline message: no error comes back.
    let trid = c.trid();
    c.send_payload(&format!("UUM {trid} bob@example.com 1 1"), msg)
        .await;
    c.send("PNG").await;
    let next = c
        .wait_for("QNG or an error", |f| {
            f.command() == "QNG" || f.command().bytes().all(|b| b.is_ascii_digit())
        })
        .await;
    assert_eq!(next.command(), "QNG", "{}", next.line());
    // What cannot be delivered is refused, and the session goes on: a
    // Yahoo! address (no federation), typing (nothing to keep), an
    // address with no account.
    for head in [
        "UUM {} someone@yahoo.com 32 1",
        "UUM {} bob@example.com 1 2",
        "UUM {} nobody@example.com 1 1",
    ] {
        let reply = c.call_payload(head, msg).await;
        assert_eq!(reply.command(), "217", "{head}: {}", reply.line());
    }
    c.barrier().await;
    // bob's WLM finds the message at sign-in.
    let (ticket, key) = rst(s.http.unwrap(), "bob@example.com", "pw").await;
    let (_bob, mail) = wlm::sso_login_with(&s, 15, "bob@example.com", &ticket, &key, None).await;
    assert!(mail.contains("<E>alice@example.com</E>"), "{mail}");
}

#[tokio::test]
async fn two_wlm_2009_users_see_each_other_and_chat() {
    let s = server().await;
    s.user("carol@example.com", "pw", "Carol").await;
    s.seed_friends(
        ("alice@example.com", "Alice"),
        ("carol@example.com", "Carol"),
    )
    .await;
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;
    let (ticket, key) = rst(s.http.unwrap(), "carol@example.com", "pw").await;
    let (mut carol, nonce) = sso_start(s.ns, 18, "carol@example.com").await;
    carol
        .send(&format!(
            "USR 4 SSO S {ticket} {} {GUID_B}",
            proof(&key, &nonce)
        ))
        .await;
    carol
        .wait_for("USR OK", |f| f.line().starts_with("USR 4 OK"))
        .await;
    carol.call("BLP {} AL").await;
    let initial = r#"<ml l="1"><d n="example.com"><c n="alice" l="3" t="1"/></d></ml>"#;
    let ok = carol.call_payload("ADL {}", initial.as_bytes()).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"));
    // Carol goes online and sees Alice (initial presence as NLN on 18).
    carol.send("CHG 9 NLN 2789003324:48 0").await;
    carol
        .wait_for("Alice online", |f| {
            f.line() == "NLN NLN 1:alice@example.com Alice 2789003324:48 0"
        })
        .await;
    alice
        .wait_for("Carol online", |f| {
            f.line() == "NLN NLN 1:carol@example.com Carol 2789003324:48 0"
        })
        .await;
    // A personal message reaches the other in the MSNP18 form.
    let psm = b"<Data><PSM>Coffee &amp; code</PSM><CurrentMedia></CurrentMedia></Data>";
    alice.call_payload("UUX {}", psm).await;
    let ubx = carol
        .wait_for("UBX with the message", |f| {
            f.line().starts_with("UBX 1:alice@example.com ")
                && f.payload()
                    .is_some_and(|p| p.starts_with(b"<Data><PSM>Coffee"))
        })
        .await;
    // An MSNP18 watcher sees the MSNP18 elements and where Alice is
    // signed in.
    assert_eq!(
        String::from_utf8_lossy(ubx.payload().unwrap()),
        format!(
            "<Data><PSM>Coffee &amp; code</PSM><CurrentMedia></CurrentMedia><DDP></DDP>\
             <SignatureSound></SignatureSound><Scene></Scene><ColorScheme></ColorScheme>\
             <EndpointData id=\"{GUID_A}\"><Capabilities>2789003324:48</Capabilities></EndpointData></Data>"
        )
    );

    // Chat: Alice opens a switchboard and invites Carol; messages both ways.
    let mut a_sb = sb_open(&s, &mut alice, &format!("alice@example.com;{GUID_A}")).await;
    a_sb.call("CAL {} carol@example.com").await;
    let (mut c_sb, iro) = sb_answer(&s, &mut carol, &format!("carol@example.com;{GUID_B}")).await;
    assert_eq!(
        iro,
        [
            "IRO 1 1 2 alice@example.com Alice 2789003324:48".to_owned(),
            format!("IRO 1 2 2 alice@example.com;{GUID_A} Alice 2789003324:48"),
        ]
    );
    a_sb.expect("JOI carol@example.com Carol 2789003324:48")
        .await;
    a_sb.expect(&format!(
        "JOI carol@example.com;{GUID_B} Carol 2789003324:48"
    ))
    .await;
    let hi = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi carol";
    a_sb.send_payload("MSG 2 A", hi).await;
    let m = c_sb.recv().await;
    assert_eq!(m.payload().unwrap().as_ref(), hi);
    a_sb.expect("ACK 2").await;
    let back = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi alice";
    c_sb.send_payload("MSG 2 N", back).await;
    assert_eq!(a_sb.recv().await.payload().unwrap().as_ref(), back);

    // Carol blocks Alice over the NS (ADL BL, RML AL): Alice sees her go.
    let ok = adl_like(&mut carol, "RML", &ml("alice@example.com", 2)).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"));
    let ok = adl(&mut carol, &ml("alice@example.com", 4)).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"));
    alice
        .wait_for("FLN", |f| f.line() == "FLN 1:carol@example.com 0:0")
        .await;
}

/// MPOP seen by a watcher: a second machine signing in refreshes the list
/// of machines in alice's document; one of two signing out takes its
/// machine out of it and leaves alice online (no FLN); the last one out
/// is an FLN.
#[tokio::test]
async fn a_watcher_follows_alices_machines_coming_and_going() {
    let s = server().await;
    s.user("carol@example.com", "pw", "Carol").await;
    s.seed_friends(
        ("alice@example.com", "Alice"),
        ("carol@example.com", "Carol"),
    )
    .await;
    let guid_c = "{11111111-2222-4333-8444-555555555555}";
    let mut carol = wlm::online(&s, 18, "carol@example.com", "pw", Some(guid_c)).await;
    let endpoint = |g: &str| {
        format!(
            r#"<EndpointData id="{g}"><Capabilities>2789003324:48</Capabilities></EndpointData>"#
        )
    };
    let ubx_with = |carol_line: &msn_wire::Frame, want: &str| {
        carol_line.line().starts_with("UBX 1:alice@example.com ")
            && carol_line
                .payload()
                .is_some_and(|p| String::from_utf8_lossy(p).ends_with(&format!("{want}</Data>")))
    };
    let mut home = wlm_online(&s, 18, Some(GUID_A)).await;
    let a = endpoint(GUID_A);
    carol
        .wait_for("alice's UBX with her home machine", |f| ubx_with(f, &a))
        .await;
    let mut work = wlm_online(&s, 18, Some(GUID_B)).await;
    let both = format!("{}{}", endpoint(GUID_A), endpoint(GUID_B));
    carol
        .wait_for("alice's UBX with both machines", |f| ubx_with(f, &both))
        .await;
    // The work machine signs out: alice stays online for carol.
    work.send("OUT").await;
    work.expect_eof().await;
    let line = carol
        .wait_for("alice's UBX without the work machine", |f| {
            f.command() == "FLN" || ubx_with(f, &a)
        })
        .await;
    assert_eq!(line.command(), "UBX", "{}", line.line());
    carol.barrier().await;
    // The last machine out: FLN.
    home.send("OUT").await;
    home.expect_eof().await;
    carol
        .wait_for("alice offline", |f| {
            f.line() == "FLN 1:alice@example.com 0:0"
        })
        .await;
}

/// `USR SHA A` takes the circle ticket this server issued to this account
/// in ABFindContactsPaged, and nothing else.
#[tokio::test]
async fn usr_sha_a_takes_only_the_accounts_own_circle_ticket() {
    use base64::Engine as _;
    use support::soap::{El, call, request, token};
    let s = server().await;
    s.user("carol@example.com", "pw", "Carol").await;
    let http = s.http.unwrap();
    let circle_ticket = |email: &'static str, password: &'static str| async move {
        let contacts = token(http, email, password, "contacts.msn.com").await;
        let find = El::parse(
            &call(
                http,
                "/abservice/abservice.asmx",
                "ABFindContactsPaged",
                &request("abfindcontactspaged.request.xml", &contacts),
            )
            .await,
        );
        let signed = find
            .text_at("soap:Body/ABFindContactsPagedResponse/ABFindContactsPagedResult/CircleResult/CircleTicket")
            .to_owned();
        base64::engine::general_purpose::STANDARD.encode(signed)
    };
    let mine = circle_ticket("alice@example.com", "p@ss&w0rd").await;
    let carols = circle_ticket("carol@example.com", "pw").await;
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;
    assert_eq!(
        alice
            .call(&format!("USR {{}} SHA A {carols}"))
            .await
            .command(),
        "911"
    );
    assert_eq!(
        alice.call("USR {} SHA A bm90IGEgdGlja2V0").await.command(),
        "911"
    );
    let ok = alice.call(&format!("USR {{}} SHA A {mine}")).await;
    assert!(
        ok.line().ends_with(" OK alice@example.com 0 0"),
        "{}",
        ok.line()
    );
    // Older dialects have no circles: a USR after sign-in is 207.
    let mut old = wlm::online(&s, 15, "carol@example.com", "pw", None).await;
    assert_eq!(
        old.call(&format!("USR {{}} SHA A {carols}"))
            .await
            .command(),
        "207"
    );
}

/// MSNP7 and MSNP18 across a block, an unblock and a sign-out: what one
/// does, the other sees in its own form, and both lists survive.
#[tokio::test]
async fn msnp7_blocks_and_unblocks_an_msnp18_user_and_lists_survive_sign_out() {
    use support::soap::{El, call, request, token};
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    s.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut bob = s.online(7, "bob@example.com", "pw", "NLN").await;
    alice
        .wait_for("bob online", |f| {
            f.line() == "NLN NLN 1:bob@example.com Bob 0:0 0"
        })
        .await;
    // Bob blocks Alice: to her he goes offline.
    bob.call("REM {} AL alice@example.com").await;
    bob.call("ADD {} BL alice@example.com Alice").await;
    alice
        .wait_for("bob offline", |f| f.line() == "FLN 1:bob@example.com 0:0")
        .await;
    // And back.
    bob.call("REM {} BL alice@example.com").await;
    bob.call("ADD {} AL alice@example.com Alice").await;
    alice
        .wait_for("bob back", |f| {
            f.line() == "NLN NLN 1:bob@example.com Bob 0:0 0"
        })
        .await;
    // Both sign out and in: alice's address book and membership still have
    // bob (FL, Allow, Reverse); bob's MSNP7 lists still have alice.
    drop(alice);
    drop(bob);
    let http = s.http.unwrap();
    let ticket = token(http, "alice@example.com", "p@ss&w0rd", "contacts.msn.com").await;
    let book = El::parse(
        &call(
            http,
            "/abservice/abservice.asmx",
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    let contacts = book.at("soap:Body/ABFindAllResponse/ABFindAllResult/contacts");
    assert!(
        contacts.all("Contact").iter().any(|c| c
            .at("contactInfo")
            .children
            .iter()
            .any(|e| e.text == "bob@example.com")),
        "bob is in alice's book"
    );
    let members = call(
        http,
        "/abservice/SharingService.asmx",
        "FindMembership",
        &request("findmembership.request.xml", &ticket),
    )
    .await;
    for role in ["Allow", "Reverse"] {
        let at = members
            .find(&format!("<MemberRole>{role}</MemberRole>"))
            .unwrap();
        let next = members[at..].find("</Membership>").unwrap() + at;
        assert!(
            members[at..next].contains("bob@example.com"),
            "{role}: {members}"
        );
    }
    let mut bob = Client::login(s.ns, 7, "bob@example.com", "pw").await;
    bob.call("SYN {} 0").await;
    for list in ["FL", "AL", "RL"] {
        bob.wait_for(list, |f| {
            f.line().starts_with("LST ")
                && f.tokens().nth(2) == Some(list)
                && f.line().contains(" alice@example.com ")
        })
        .await;
    }
}

/// One switchboard session with an MSNP18, an MSNP12 and an MSNP2 user:
/// each sees the others in its own dialect's forms, and messages reach
/// everyone byte for byte.
#[tokio::test]
async fn msnp18_msnp12_and_msnp2_users_share_one_chat() {
    let s = server().await;
    s.user("bob@example.com", "pw", "Bob").await;
    s.user("carl@example.com", "pw", "Carl").await;
    for (a, b) in [
        (("alice@example.com", "Alice"), ("bob@example.com", "Bob")),
        (("alice@example.com", "Alice"), ("carl@example.com", "Carl")),
    ] {
        s.seed_friends(a, b).await;
    }
    let mut alice = wlm_online(&s, 18, Some(GUID_A)).await;
    let mut bob = s.online_twn(12, "bob@example.com", "NLN 1342488620").await;
    let mut carl = s.online(2, "carl@example.com", "pw", "NLN").await;
    bob.barrier().await;
    carl.barrier().await;

    let mut a_sb = sb_open(&s, &mut alice, &format!("alice@example.com;{GUID_A}")).await;
    a_sb.call("CAL {} bob@example.com").await;
    let (mut b_sb, b_iro) = sb_answer(&s, &mut bob, "bob@example.com").await;
    // MSNP12: plain handles, the base capabilities.
    assert_eq!(
        b_iro,
        ["IRO 1 1 1 alice@example.com Alice 2789003324"],
        "{b_iro:?}"
    );
    a_sb.wait_for("bob joins", |f| {
        f.line() == "JOI bob@example.com Bob 1342488620:0"
    })
    .await;
    a_sb.call("CAL {} carl@example.com").await;
    let (mut c_sb, c_iro) = sb_answer(&s, &mut carl, "carl@example.com").await;
    // MSNP2: no capabilities, no endpoints.
    assert_eq!(
        c_iro,
        [
            "IRO 1 1 2 alice@example.com Alice",
            "IRO 1 2 2 bob@example.com Bob"
        ],
        "{c_iro:?}"
    );
    b_sb.wait_for("carl joins (MSNP12 form)", |f| {
        f.line() == "JOI carl@example.com Carl 0"
    })
    .await;
    a_sb.wait_for("carl joins (MSNP18 form)", |f| {
        f.line() == "JOI carl@example.com Carl 0:0"
    })
    .await;

    // Messages both ways, the same bytes for every receiver.
    let text =
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi all \u{2615}";
    a_sb.send_payload("MSG 5 N", text.as_bytes()).await;
    for sb in [&mut b_sb, &mut c_sb] {
        let got = sb
            .wait_for("alice's message", |f| f.command() == "MSG")
            .await;
        assert_eq!(
            got.line(),
            format!("MSG alice@example.com Alice {}", text.len())
        );
        assert_eq!(got.payload().unwrap().as_ref(), text.as_bytes());
    }
    c_sb.send_payload("MSG 2 N", text.as_bytes()).await;
    for sb in [&mut a_sb, &mut b_sb] {
        let got = sb
            .wait_for("carl's message", |f| f.command() == "MSG")
            .await;
        assert_eq!(
            got.line(),
            format!("MSG carl@example.com Carl {}", text.len())
        );
    }
    // carl leaves: the others see BYE in their forms.
    c_sb.send("OUT").await;
    for sb in [&mut a_sb, &mut b_sb] {
        sb.wait_for("carl leaves", |f| f.line() == "BYE carl@example.com")
            .await;
    }
}
