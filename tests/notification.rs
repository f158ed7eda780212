//! Notification and Dispatch Server commands one by one: their replies,
//! their errors, and what survives a restart.

mod support;

use std::time::Duration;

use msn_server::config::ChallengeMode;
use support::{Client, TestServer};

async fn alice(s: &TestServer) {
    s.user("alice@hotmail.com", "alicepass", "Alice Smith")
        .await;
}

#[tokio::test]
async fn version_negotiation() {
    let s = TestServer::start().await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP1 MSNP99").await;
    c.expect("VER 1 0").await;
    assert!(c.expect_eof().await.is_empty());

    // Only a dialect msnd does not speak (MSNP21, WLM 2011) besides CVR0.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP21 CVR0").await;
    c.expect("VER 1 CVR0").await;
    c.send("CVQ 2 0x0409 win 4.10 i386 MSMSGS 1.0.0863").await;
    let cvq = c.recv_line().await;
    assert!(
        cvq.starts_with("CVQ 2 1.0.0863 1.0.0863 1.0.0863 "),
        "{cvq}"
    );
    assert!(c.expect_eof().await.is_empty());

    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP5 MSNP4 MSNP3").await;
    c.expect("VER 1 MSNP5").await;
    c.send("VER 2 MSNP5").await;
    c.expect("715 2").await;
    assert!(c.expect_eof().await.is_empty());

    // MSNP8+: only the dialect, and no INF.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP9 MSNP8 CVR0").await;
    c.expect("VER 1 MSNP9").await;
    c.send("INF 2").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn dispatch_refers_in_each_dialect_form() {
    let s = TestServer::start().await;
    let ns = format!("127.0.0.1:{}", s.ns.port());
    let ds = format!("127.0.0.1:{}", s.ds.port());
    for (dialect, tail) in [
        (2, String::new()),
        (3, " 0".to_owned()),
        (6, " 0".to_owned()),
        (7, format!(" 0 {ds}")),
    ] {
        let mut c = Client::connect(s.ds).await;
        c.send(&format!("VER 1 MSNP{dialect} CVR0")).await;
        c.expect(&format!("VER 1 MSNP{dialect} CVR0")).await;
        c.send("INF 2").await;
        c.expect("INF 2 MD5").await;
        c.send("USR 3 MD5 I alice@hotmail.com").await;
        c.expect(&format!("XFR 3 NS {ns}{tail}")).await;
    }
    let mut c = Client::connect(s.ds).await;
    c.send("VER 1 MSNP11 CVR0").await;
    c.expect("VER 1 MSNP11").await;
    c.send("USR 2 TWN I alice@hotmail.com").await;
    c.expect(&format!("XFR 2 NS {ns} 0 {ds}")).await;
    // The DS authenticates nobody: anything after the referral closes.
    c.send("SYN 3 0").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn md5_login_refusals() {
    let s = TestServer::start().await;
    alice(&s).await;
    // An account that did not opt in to MD5 logins.
    msnd::accounts::create(
        &*s.store,
        &msnd::accounts::AccountSpec {
            email: "modern@hotmail.com",
            password: "pw",
            name: None,
            legacy_md5: false,
        },
        s.shared().config.hash_cost(),
    )
    .await
    .unwrap();
    for (handle, password) in [
        ("alice@hotmail.com", "wrong"),
        ("nobody@hotmail.com", "x"),
        ("modern@hotmail.com", "pw"),
        ("not-a-handle", "x"),
    ] {
        let mut c = Client::connect(s.ns).await;
        c.send("VER 1 MSNP7 CVR0").await;
        c.recv().await;
        c.send(&format!("USR 2 MD5 I {handle}")).await;
        let salt = c.recv_line().await;
        assert!(salt.starts_with("USR 2 MD5 S "), "{salt}");
        let salt = salt.rsplit(' ').next().unwrap();
        let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
            "{salt}{password}"
        )));
        c.send(&format!("USR 3 MD5 S {hash}")).await;
        c.expect("911 3").await;
        assert!(c.expect_eof().await.is_empty(), "{handle}");
    }
    // The MD5 package does not exist from MSNP8 on.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP8 CVR0").await;
    c.recv().await;
    c.send("USR 2 MD5 I alice@hotmail.com").await;
    assert!(c.expect_eof().await.is_empty());
    // Commands that need a login close the connection before it.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP7 CVR0").await;
    c.recv().await;
    c.send("SYN 2 0").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn clear_text_login_only_when_enabled() {
    let s = TestServer::start_with(|c| c.notification.ctp = true).await;
    alice(&s).await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP2 CVR0").await;
    c.recv().await;
    c.send("INF 2").await;
    c.expect("INF 2 MD5 CTP").await;
    c.send("USR 3 CTP I alice@hotmail.com").await;
    c.expect("USR 3 CTP S").await;
    c.send("USR 4 CTP S alicepass").await;
    c.expect("USR 4 OK alice@hotmail.com Alice%20Smith").await;
    s.stop().await;

    let s = TestServer::start().await;
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP2 CVR0").await;
    c.recv().await;
    c.send("INF 2").await;
    c.expect("INF 2 MD5").await;
    c.send("USR 3 CTP I alice@hotmail.com").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn second_login_kicks_the_first() {
    let s = TestServer::start().await;
    alice(&s).await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    s.seed_entry("bob@hotmail.com", "alice@hotmail.com", 3, "Alice", &[])
        .await;
    s.seed_entry("alice@hotmail.com", "bob@hotmail.com", 8, "Bob", &[])
        .await;
    let mut bob = s.online(7, "bob@hotmail.com", "pw", "NLN").await;
    let mut first = s.online(7, "alice@hotmail.com", "alicepass", "AWY").await;
    bob.wait_for("NLN", |f| {
        f.line() == "NLN AWY alice@hotmail.com Alice%20Smith"
    })
    .await;
    let mut second = Client::login(s.ns, 5, "alice@hotmail.com", "alicepass").await;
    assert_eq!(first.expect_eof().await, ["OUT OTH"]);
    // Watchers saw the old session go; the new one is not online yet.
    bob.wait_for("FLN", |f| f.line() == "FLN alice@hotmail.com")
        .await;
    second.call("CHG {} NLN").await;
    bob.wait_for("NLN", |f| {
        f.line() == "NLN NLN alice@hotmail.com Alice%20Smith"
    })
    .await;
    assert_eq!(
        second
            .call("USR {} MD5 I alice@hotmail.com")
            .await
            .command(),
        "207"
    );
    s.stop().await;
}

#[tokio::test]
async fn list_errors_msnp7() {
    let s = TestServer::start_with(|c| c.limits.max_list_entries = 3).await;
    alice(&s).await;
    for n in ["bob", "carol", "dave", "erin"] {
        s.user(&format!("{n}@hotmail.com"), "pw", n).await;
    }
    let mut c = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    let code = |f: msn_wire::Frame| f.command().to_owned();
    assert_eq!(code(c.call("ADD {} FL a@b Ab").await), "201");
    assert_eq!(code(c.call("ADD {} FL name@ Name").await), "206");
    assert_eq!(
        code(c.call("ADD {} FL ghost@hotmail.com Ghost 0").await),
        "205"
    );
    assert_eq!(code(c.call("ADD {} FL bob@hotmail.com Bob 0").await), "ADD");
    assert_eq!(code(c.call("ADD {} FL bob@hotmail.com Bob 0").await), "215");
    assert_eq!(code(c.call("ADD {} FL bob@hotmail.com Bob 7").await), "224");
    assert_eq!(code(c.call("ADD {} AL bob@hotmail.com Bob").await), "ADD");
    assert_eq!(code(c.call("ADD {} BL bob@hotmail.com Bob").await), "219");
    assert_eq!(
        code(c.call("ADD {} FL carol@hotmail.com Carol").await),
        "ADD"
    );
    assert_eq!(code(c.call("ADD {} FL dave@hotmail.com Dave").await), "ADD");
    assert_eq!(code(c.call("ADD {} FL erin@hotmail.com Erin").await), "210");
    assert_eq!(
        code(c.call("ADD {} FL erin@hotmail.com %FF%FE").await),
        "209"
    );
    assert_eq!(code(c.call("REM {} BL bob@hotmail.com").await), "216");
    assert_eq!(code(c.call("REM {} FL bob@hotmail.com 1").await), "224");
    assert_eq!(
        code(c.call("REA {} nobody@hotmail.com Nobody").await),
        "216"
    );
    assert_eq!(code(c.call("BLP {} AL").await), "218");
    assert_eq!(code(c.call("GTC {} A").await), "218");
    assert_eq!(code(c.call("RMG {} 0").await), "230");
    assert_eq!(code(c.call("RMG {} 9").await), "224");
    assert_eq!(code(c.call("REG {} 9 Name 0").await), "224");
    let long = "x".repeat(62);
    assert_eq!(code(c.call(&format!("ADG {{}} {long} 0")).await), "229");
    assert_eq!(code(c.call("ADG {} Work 0").await), "ADG");
    assert_eq!(code(c.call("ADG {} Work 0").await), "228");
    for i in 0..28 {
        assert_eq!(code(c.call(&format!("ADG {{}} G{i} 0")).await), "ADG");
    }
    assert_eq!(code(c.call("ADG {} OneTooMany 0").await), "223");
    // The reverse list is the server's: editing it closes the connection.
    c.send("ADD 99 RL bob@hotmail.com Bob").await;
    assert!(c.expect_eof().await.is_empty());
    let mut c = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    c.send("BLP 5 XX").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn changes_survive_a_restart_and_syn_sends_nothing_when_current() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let start = |data: std::path::PathBuf| async move {
        TestServer::start_with(move |c| c.server.data_dir = data).await
    };
    let s = start(data.clone()).await;
    alice(&s).await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    let mut c = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    let adg = c.call("ADG {} Friends 0").await;
    assert_eq!(adg.line(), "ADG 6 1 Friends 1 0");
    c.call("ADD {} FL bob@hotmail.com Bobby 1").await;
    c.call("ADD {} BL bob@hotmail.com Bobby").await;
    c.call("BLP {} BL").await;
    c.call("GTC {} N").await;
    c.call("REA {} alice@hotmail.com Alice%20S.").await;
    let last = c.call("PRP {} PHH 123").await;
    assert_eq!(last.line(), "PRP 12 7 PHH 123");
    drop(c);
    s.stop().await;

    let s = start(data.clone()).await;
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    c.send("SYN 1 0").await;
    let mut lines = Vec::new();
    loop {
        let l = c.recv_line().await;
        let done = l.starts_with("LST 1 RL");
        lines.push(l);
        if done {
            break;
        }
    }
    assert_eq!(
        lines,
        [
            "SYN 1 7",
            "GTC 1 7 N",
            "BLP 1 7 BL",
            "PRP 1 7 PHH 123",
            "PRP 1 7 PHW",
            "PRP 1 7 PHM",
            "PRP 1 7 MOB N",
            "PRP 1 7 MBE N",
            "LSG 1 7 1 2 0 Other%20Contacts 0",
            "LSG 1 7 2 2 1 Friends 0",
            // Lists show bob's own name, not the one given at ADD.
            "LST 1 FL 7 1 1 bob@hotmail.com Bob 1",
            "BPR 7 bob@hotmail.com PHH",
            "BPR 7 bob@hotmail.com PHW",
            "BPR 7 bob@hotmail.com PHM",
            "BPR 7 bob@hotmail.com MOB N",
            "LST 1 AL 7 0 0",
            "LST 1 BL 7 1 1 bob@hotmail.com Bob",
            "LST 1 RL 7 0 0",
        ]
    );
    // With the current version cached, only the SYN line comes back.
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    c.send("SYN 1 7").await;
    c.expect("SYN 1 7").await;
    c.send("PNG").await;
    c.expect("QNG").await;
    // The profile name changed too.
    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send("USR 2 MD5 I alice@hotmail.com").await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
        "{salt}alicepass"
    )));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.expect("USR 3 OK alice@hotmail.com Alice%20S. 1").await;
    s.stop().await;
}

#[tokio::test]
async fn lst_and_lsg_outside_syn() {
    let s = TestServer::start().await;
    alice(&s).await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    let mut c = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    c.call("ADD {} AL bob@hotmail.com Bob").await;
    c.send("LST 20 AL").await;
    c.expect("LST 20 AL 1 1 1 bob@hotmail.com Bob").await;
    c.send("LST 21 BL").await;
    c.expect("LST 21 BL 1 0 0").await;
    c.send("LSG 22").await;
    c.expect("LSG 22 1 1 1 0 Other%20Contacts 0").await;
    s.stop().await;
}

#[tokio::test]
async fn miscellaneous_commands() {
    let s = TestServer::start().await;
    alice(&s).await;
    let mut c = s.online(6, "alice@hotmail.com", "alicepass", "NLN").await;
    assert_eq!(c.call("URL {} NOSUCH").await.command(), "201");
    let url = c.call("URL {} INBOX").await;
    assert_eq!(url.tokens().nth(2), Some("/cgi-bin/HoTMaiL"));
    assert_eq!(
        c.call("FND {} fname=Bob lname=Smith city=* state=* country=US")
            .await
            .command(),
        "502"
    );
    assert!(c.call("IMS {} OFF").await.line().ends_with(" 0 OFF"));
    assert_eq!(c.call("XFR {} SB").await.command(), "913");
    assert!(c.call("IMS {} ON").await.line().ends_with(" 0 ON"));
    assert_eq!(c.call("XFR {} SB").await.command(), "XFR");
    assert_eq!(c.call("XFR {} NS").await.command(), "201");
    assert_eq!(c.call("PRP {} XYZ 1").await.command(), "715");
    assert_eq!(c.call("PRP {} MBE Y").await.command(), "715");
    assert_eq!(c.call("CHG {} FLN").await.command(), "201");
    assert_eq!(c.call("QRY {} msmsgs@msnmsgr.com 0").await.command(), "QRY");
    c.send("PAG 20 bob@hotmail.com 5\r\nhello").await;
    c.expect("220 20").await;
    c.send("CHG 21 HOT").await;
    assert!(c.expect_eof().await.is_empty());
    let mut c = s.online(5, "alice@hotmail.com", "alicepass", "NLN").await;
    c.send("SND 9 not-an-address").await;
    c.expect("503 9").await;
    assert!(c.expect_eof().await.is_empty());
    let mut c = s.online(5, "alice@hotmail.com", "alicepass", "NLN").await;
    c.send_payload("MSG 9 N", b"hello").await;
    assert!(
        c.expect_eof().await.is_empty(),
        "a client MSG on the NS closes it"
    );
    s.stop().await;
}

#[tokio::test]
async fn renames_are_rate_limited() {
    let s = TestServer::start_with(|c| c.limits.renames_per_minute = 3).await;
    alice(&s).await;
    let mut c = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    for i in 0..3 {
        assert_eq!(
            c.call(&format!("REA {{}} alice@hotmail.com A{i}"))
                .await
                .command(),
            "REA"
        );
    }
    assert_eq!(c.call("REA {} alice@hotmail.com A9").await.command(), "800");
    s.stop().await;
}

#[tokio::test]
async fn strict_challenges_disconnect_silent_clients() {
    let s = TestServer::start_with(|c| {
        c.challenge.mode = ChallengeMode::Strict;
        c.challenge.timeout = Duration::from_millis(200);
    })
    .await;
    alice(&s).await;
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    c.send("CHG 5 NLN").await;
    c.expect("CHG 5 NLN").await;
    let chl = c.recv_line().await;
    assert!(chl.starts_with("CHL 0 "), "{chl}");
    assert!(c.expect_eof().await.is_empty());
    // Lenient: the same silence is tolerated.
    let s = TestServer::start_with(|c| {
        c.challenge.mode = ChallengeMode::Lenient;
        c.challenge.timeout = Duration::from_millis(200);
    })
    .await;
    alice(&s).await;
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    c.send("CHG 5 NLN").await;
    c.expect("CHG 5 NLN").await;
    assert!(c.recv_line().await.starts_with("CHL 0 "));
    // Three times the timeout: a strict server would have closed by now.
    assert!(c.try_recv(Duration::from_millis(600)).await.is_none());
    c.send("PNG").await;
    c.expect("QNG").await;
    s.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let s = TestServer::start_with(|c| {
        c.notification.login_timeout = Duration::from_millis(500);
        c.notification.idle_timeout = Duration::from_millis(800);
    })
    .await;
    alice(&s).await;
    let mut silent = Client::connect(s.ns).await;
    assert!(silent.expect_eof().await.is_empty());
    let mut c = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    assert!(c.expect_eof().await.is_empty());
    s.stop().await;
}

/// A stored personal message goes out at the first CHG after sign-in (and
/// the session keeps answering afterwards).
#[tokio::test]
async fn stored_personal_message_at_sign_in() {
    let s = TestServer::start().await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    s.seed_friends(("alice@hotmail.com", "Alice"), ("bob@hotmail.com", "Bob"))
        .await;
    let doc = b"<Data><PSM>Out</PSM><CurrentMedia></CurrentMedia></Data>";
    let mut alice = s.online_twn(11, "alice@hotmail.com", "NLN 0").await;
    assert_eq!(alice.call_payload("UUX {}", doc).await.line(), "UUX 6 0");
    alice.send("OUT").await;
    alice.expect_eof().await;
    let mut bob = s.online_twn(12, "bob@hotmail.com", "NLN 0").await;
    let mut alice = Client::login_twn(
        s.ns,
        11,
        "alice@hotmail.com",
        &s.ticket("alice@hotmail.com").await,
    )
    .await;
    alice.send("CHG 9 NLN 0").await;
    alice.expect("CHG 9 NLN 0").await;
    alice.expect("ILN 9 NLN bob@hotmail.com Bob 0").await;
    alice.send("PNG").await;
    alice.expect("QNG 50").await;
    bob.wait_for("NLN", |f| f.line() == "NLN NLN alice@hotmail.com Alice 0")
        .await;
    let ubx = bob.wait_for("UBX", |f| f.command() == "UBX").await;
    assert_eq!(ubx.line(), format!("UBX alice@hotmail.com {}", doc.len()));
    assert_eq!(ubx.payload().unwrap().as_ref(), doc);
    s.stop().await;
}

/// MSNP11: someone who added you while you were away is listed as pending
/// (PL set, RL cleared); answering with `ADC AL` and then `REM PL`, as MSN 7
/// does, settles it.
#[tokio::test]
async fn pending_contacts_msnp11() {
    let s = TestServer::start().await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    s.user("carol@hotmail.com", "pw", "Carol").await;
    let mut carol = s.online_twn(11, "carol@hotmail.com", "NLN 0").await;
    let added = carol.call("ADC {} FL N=alice@hotmail.com F=Alice").await;
    assert_eq!(added.command(), "ADC");
    let sign_in = || async {
        let ticket = s.ticket("alice@hotmail.com").await;
        let mut alice = Client::login_twn(s.ns, 11, "alice@hotmail.com", &ticket).await;
        alice.send("SYN 20 0 0").await;
        let lst = alice.wait_for("LST", |f| f.command() == "LST").await;
        (alice, lst.line().to_owned())
    };
    let (mut alice, lst) = sign_in().await;
    assert_eq!(lst, "LST N=carol@hotmail.com F=Carol 16");
    alice.send("ADC 21 AL N=carol@hotmail.com").await;
    alice.expect("ADC 21 AL N=carol@hotmail.com").await;
    alice.send("REM 22 PL carol@hotmail.com").await;
    alice.expect("REM 22 PL carol@hotmail.com").await;
    alice.send("OUT").await;
    alice.expect_eof().await;
    let (_, lst) = sign_in().await;
    assert_eq!(lst, "LST N=carol@hotmail.com F=Carol 10");
    s.stop().await;
}

/// The RST.srf request MSN 7.5 sends: the DA token and `messenger.msn.com`
/// with the `USR TWN S` string as its policy.
fn rst_request(handle: &str, password: &str, twn: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust">"#,
            r#"<Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>{handle}</wsse:Username><wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></Header>"#,
            r#"<Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#,
            r#"<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>"#,
            r#"<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messenger.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="?{twn}"></wsse:PolicyReference></wst:RequestSecurityToken>"#,
            r#"</ps:RequestMultipleSecurityTokens></Body></Envelope>"#,
        ),
        handle = handle,
        password = password,
        twn = twn.replace('&', "&amp;"),
    )
}

/// Posts `body` to RST.srf and returns the `Compact1` ticket of the reply,
/// XML-unescaped.
async fn rst_ticket(http: std::net::SocketAddr, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(http).await.unwrap();
    let request = format!(
        "POST /RST.srf HTTP/1.1\r\nHost: login.live.com\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    tokio::time::timeout(support::WAIT, stream.read_to_string(&mut reply))
        .await
        .expect("RST.srf answers")
        .unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    let start = reply.find(r#"Id="Compact1">"#).expect("a compact token") + 14;
    let end = start + reply[start..].find('<').unwrap();
    reply[start..end].replace("&amp;", "&")
}

/// `VER`, `CVR` and `USR TWN I` for `handle` at MSNP12, then `USR TWN S`
/// with the ticket `ticket` returns for the NS's parameter string; returns
/// the ticket and the NS's answer.
async fn usr_twn(
    s: &TestServer,
    handle: &str,
    ticket: impl AsyncFnOnce(String) -> String,
) -> (String, String) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    async fn line(reader: &mut BufReader<tokio::net::TcpStream>) -> String {
        let mut line = String::new();
        tokio::time::timeout(support::WAIT, reader.read_line(&mut line))
            .await
            .expect("NS answers")
            .unwrap();
        line.trim_end().to_owned()
    }
    let stream = tokio::net::TcpStream::connect(s.ns).await.unwrap();
    let mut ns = BufReader::new(stream);
    let commands = format!(
        "VER 1 MSNP12 MSNP11 CVR0\r\n\
         CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs {handle}\r\n\
         USR 3 TWN I {handle}\r\n"
    );
    ns.get_mut().write_all(commands.as_bytes()).await.unwrap();
    assert_eq!(line(&mut ns).await, "VER 1 MSNP12");
    assert!(line(&mut ns).await.starts_with("CVR 2 "));
    let challenge = line(&mut ns).await;
    let twn = challenge
        .strip_prefix("USR 3 TWN S ")
        .expect("USR TWN S")
        .to_owned();
    let ticket = ticket(twn).await;
    ns.get_mut()
        .write_all(format!("USR 4 TWN S {ticket}\r\n").as_bytes())
        .await
        .unwrap();
    (ticket, line(&mut ns).await)
}

/// MSN 7.5's whole sign-in: `USR TWN` on the NS, the RST request with the
/// `USR TWN S` string as the messenger.msn.com policy, then the ticket on
/// `USR TWN S`. The same ticket cannot sign in twice.
#[tokio::test]
async fn msn75_signs_in_on_the_ns_with_the_rst_ticket() {
    let s = TestServer::start().await;
    s.user("alice@example.com", "p@ss&w0rd", "Alice").await;
    let http = s.http.expect("HTTP runs");

    let (ticket, reply) = usr_twn(&s, "alice@example.com", async |twn| {
        rst_ticket(
            http,
            &rst_request("alice@example.com", "p@ss&amp;w0rd", &twn),
        )
        .await
    })
    .await;
    assert_eq!(reply, "USR 4 OK alice@example.com 1 0");
    let (_, reply) = usr_twn(&s, "alice@example.com", async |_| ticket.clone()).await;
    assert!(
        reply.starts_with("911 4"),
        "a used ticket is refused: {reply}"
    );
    s.stop().await;
}

/// A ticket presented on `USR TWN S` for another account is refused, and
/// not used up: its owner can still sign in with it.
#[tokio::test]
async fn a_ticket_for_another_account_is_refused_and_kept() {
    let s = TestServer::start().await;
    s.user("alice@example.com", "alicepass", "Alice").await;
    s.user("bob@example.com", "bobpass", "Bob").await;
    let alices = s.ticket("alice@example.com").await;

    let (_, reply) = usr_twn(&s, "bob@example.com", async |_| alices.clone()).await;
    assert!(reply.starts_with("911 4"), "{reply}");
    let (_, reply) = usr_twn(&s, "alice@example.com", async |_| alices.clone()).await;
    assert_eq!(reply, "USR 4 OK alice@example.com 1 0");
    s.stop().await;
}

/// `[notification] advertise`, `[dispatch] advertise` and
/// `[switchboard] advertise` replace the derived addresses in `XFR`.
#[tokio::test]
async fn referrals_use_the_advertised_addresses() {
    let s = TestServer::start_with(|c| {
        c.dispatch.advertise = Some("ds.example.net:1863".into());
        c.notification.advertise = Some("ns.example.net:31864".into());
        c.switchboard.advertise = Some("sb.example.net:443".into());
    })
    .await;
    alice(&s).await;
    let mut c = Client::connect(s.ds).await;
    c.send("VER 1 MSNP11 CVR0").await;
    c.expect("VER 1 MSNP11").await;
    c.send("USR 2 TWN I alice@hotmail.com").await;
    c.expect("XFR 2 NS ns.example.net:31864 0 ds.example.net:1863")
        .await;

    let mut ns = s.online(7, "alice@hotmail.com", "alicepass", "NLN").await;
    let xfr = ns.call("XFR {} SB").await;
    assert!(
        xfr.line().contains(" SB sb.example.net:443 CKI "),
        "{}",
        xfr.line()
    );
    s.stop().await;
}

/// GUID groups beyond 30 (MSNP10+, `[limits] max_groups`) while MSNP7–9
/// keep their 30 numbered groups; a contact id survives REM FL and re-add.
#[tokio::test]
async fn groups_beyond_thirty_and_stable_contact_ids() {
    let s = TestServer::start_with(|c| c.limits.max_groups = 35).await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    let mut c = s.online_twn(12, "alice@hotmail.com", "NLN 0").await;
    let mut last = String::new();
    for i in 1..35 {
        let adg = c.call(&format!("ADG {{}} G{i}")).await;
        assert_eq!(adg.command(), "ADG", "{}", adg.line());
        last = adg.line().split(' ').nth(4).unwrap().to_owned();
    }
    assert_eq!(c.call("ADG {} More").await.command(), "223");
    let adc = c.call("ADC {} FL N=bob@hotmail.com F=Bob").await;
    let guid = adc.line().rsplit("C=").next().unwrap().to_owned();
    let into = c.call(&format!("ADC {{}} FL C={guid} {last}")).await;
    assert_eq!(into.command(), "ADC", "{}", into.line());
    // Out of the FL and back: the same contact id; an old id names no one.
    let rem = c.call(&format!("REM {{}} FL {guid}")).await;
    assert_eq!(rem.command(), "REM", "{}", rem.line());
    assert_eq!(
        c.call(&format!("REM {{}} FL {guid}")).await.command(),
        "216"
    );
    assert_eq!(
        c.call(&format!("SBP {{}} {guid} MFN Bobby"))
            .await
            .command(),
        "208"
    );
    let again = c.call("ADC {} FL N=bob@hotmail.com F=Bob").await;
    assert_eq!(again.line().rsplit("C=").next().unwrap(), guid);
    let into = c.call(&format!("ADC {{}} FL C={guid} {last}")).await;
    assert_eq!(into.command(), "ADC", "{}", into.line());
    c.send("OUT").await;
    c.expect_eof().await;

    // MSNP8: the 30 numbered groups only; bob, in group 34 alone, shows in
    // group 0; no room for more.
    let mut c = s.online_twn(8, "alice@hotmail.com", "NLN 0").await;
    c.send("SYN 50 0").await;
    let syn = c.wait_for("SYN", |f| f.command() == "SYN").await;
    assert_eq!(syn.line().split(' ').nth(4), Some("30"), "{}", syn.line());
    let lst = c.wait_for("LST", |f| f.command() == "LST").await;
    assert!(lst.line().ends_with(" 0"), "{}", lst.line());
    assert_eq!(c.call("ADG {} More 0").await.command(), "223");
    assert_eq!(
        c.call("ADD {} FL bob@hotmail.com Bob 30").await.command(),
        "224"
    );
    s.stop().await;
}

/// Removing a contact from its last group removes it from the FL, as the
/// live service did: a 2002 MSNP7 client deletes with `REM n FL handle
/// group`, libpurple's MSNP10+ code with the contact id and its one group.
/// The other user sees `REM 0 RL`, and the contact is gone from the next
/// `SYN`. Moving a contact (add to the new group, then leave the old one)
/// keeps it.
#[tokio::test]
async fn removing_the_last_group_removes_the_contact() {
    let s = TestServer::start().await;
    for who in ["alice", "bob", "carol"] {
        s.user(&format!("{who}@hotmail.com"), "pw", who).await;
    }
    s.seed_friends(("alice@hotmail.com", "alice"), ("bob@hotmail.com", "bob"))
        .await;
    s.seed_group("alice@hotmail.com", 1, "Work").await;
    let mut bob = s.online(7, "bob@hotmail.com", "pw", "NLN").await;
    let mut alice = Client::login(s.ns, 7, "alice@hotmail.com", "pw").await;
    // MSNP7: bob is in group 0 only; REM … 0 deletes him.
    let rem = alice.call("REM {} FL bob@hotmail.com 0").await;
    let t = rem.line().split(' ').nth(1).unwrap().to_owned();
    let version = rem.line().split(' ').nth(3).unwrap().to_owned();
    assert_eq!(
        rem.line(),
        format!("REM {t} FL {version} bob@hotmail.com 0")
    );
    let notice = bob.wait_for("REM 0 RL", |f| f.command() == "REM").await;
    assert!(
        notice.line().starts_with("REM 0 RL ") && notice.line().ends_with(" alice@hotmail.com"),
        "{}",
        notice.line()
    );
    let lst = alice.call("LST {} FL").await;
    assert!(lst.line().ends_with(" 0 0"), "FL empty: {}", lst.line());

    // MSNP11 (contact ids): a move keeps carol, removing her last group
    // deletes her.
    let mut c = s.online_twn(11, "alice@hotmail.com", "NLN 0").await;
    let adg = c.call("ADG {} Pals").await;
    let pals = adg.line().split(' ').nth(4).unwrap().to_owned();
    let adg = c.call("ADG {} Team").await;
    let team = adg.line().split(' ').nth(4).unwrap().to_owned();
    let adc = c.call("ADC {} FL N=carol@hotmail.com F=carol").await;
    let carol = adc.line().rsplit("C=").next().unwrap().to_owned();
    assert_eq!(
        c.call(&format!("ADC {{}} FL C={carol} {pals}"))
            .await
            .command(),
        "ADC"
    );
    assert_eq!(
        c.call(&format!("ADC {{}} FL C={carol} {team}"))
            .await
            .command(),
        "ADC"
    );
    let moved = c.call(&format!("REM {{}} FL {carol} {pals}")).await;
    assert_eq!(moved.command(), "REM", "{}", moved.line());
    // Still a contact: her id still names her.
    let sbp = c.call(&format!("SBP {{}} {carol} MFN Carol")).await;
    assert_eq!(sbp.command(), "SBP", "{}", sbp.line());
    let gone = c.call(&format!("REM {{}} FL {carol} {team}")).await;
    assert_eq!(gone.command(), "REM", "{}", gone.line());
    assert_eq!(
        c.call(&format!("SBP {{}} {carol} MFN Carol"))
            .await
            .command(),
        "208",
        "off the FL after leaving her last group"
    );
    s.stop().await;
}
