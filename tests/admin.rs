//! The operators' admin API (`/admin/api/…`, what `msnd admin` calls):
//! the token and address checks, who is online, kicking, disabling,
//! notices and an announced shutdown, each seen by real clients.

mod support;

use std::net::SocketAddr;

use serde_json::{Value, json};
use support::{Client, TestServer, chat};

/// The token the server wrote to its data directory (none configured).
fn token(s: &TestServer) -> String {
    std::fs::read_to_string(s.dir.path().join("admin.token"))
        .expect("the server wrote its admin token")
}

const AB: &str = "/abservice/abservice.asmx";

fn http(s: &TestServer) -> SocketAddr {
    s.http.expect("HTTP service")
}

/// `method` `/admin/api/<path>` with `token`; returns the status and the
/// JSON answer.
async fn api(s: &TestServer, token: Option<&str>, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let url = format!("http://{}/admin/api/{path}", http(s));
    let mut request = match &body {
        Some(body) => client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => client.get(&url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn admin(s: &TestServer, path: &str, body: Option<Value>) -> (u16, Value) {
    api(s, Some(&token(s)), path, body).await
}

async fn users(s: &TestServer, names: &[&str]) {
    for n in names {
        s.user(&format!("{n}@hotmail.com"), "pw", n).await;
    }
}

#[tokio::test]
async fn the_api_wants_its_token_from_an_allowed_address() {
    let s = TestServer::start().await;
    let token = token(&s);
    assert!(token.len() >= 16, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.dir.path().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the server's user reads the token");
    }
    let (status, _) = api(&s, None, "online", None).await;
    assert_eq!(status, 401);
    let (status, _) = api(&s, Some("not-the-token-at-all"), "online", None).await;
    assert_eq!(status, 401);
    let (status, body) = api(&s, Some(&token), "online", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 0);

    // From an address outside `admin.allow` the API does not exist.
    let s = TestServer::start_with(|c| {
        c.admin.allow = vec!["10.0.0.0/8".parse().unwrap()];
        c.admin.token = "a-configured-token-1234".into();
    })
    .await;
    let (status, _) = api(&s, Some("a-configured-token-1234"), "online", None).await;
    assert_eq!(status, 404);
    assert!(
        !s.dir.path().join("admin.token").exists(),
        "a configured token is not written out"
    );

    // Switched off, likewise.
    let s = TestServer::start_with(|c| c.admin.enabled = false).await;
    let (status, _) = api(&s, Some("anything-at-all-here"), "online", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn online_lists_users_with_their_protocol_versions() {
    let s = TestServer::start().await;
    users(&s, &["alice", "bob", "carol"]).await;
    let _alice = s.online(7, "alice@hotmail.com", "pw", "NLN").await;
    let _bob = s.online_twn(12, "bob@hotmail.com", "BSY 0").await;
    // Signed in but not yet shown to anyone: still online for operators.
    let _carol = Client::login(s.ns, 2, "carol@hotmail.com", "pw").await;
    let (status, body) = admin(&s, "online", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 3, "{body}");
    assert_eq!(
        body["by_dialect"],
        json!({ "MSNP12": 1, "MSNP2": 1, "MSNP7": 1 })
    );
    assert_eq!(
        body["users"][0],
        json!({ "user": "alice@hotmail.com", "status": "NLN", "dialects": ["MSNP7"] })
    );
    assert_eq!(body["users"][1]["status"], "BSY");
    assert_eq!(body["users"][1]["dialects"], json!(["MSNP12"]));
    assert_eq!(body["users"][2]["user"], "carol@hotmail.com");
}

#[tokio::test]
async fn a_kicked_user_leaves_the_ns_and_every_chat() {
    let s = TestServer::start().await;
    users(&s, &["alice", "bob"]).await;
    s.seed_friends(("alice@hotmail.com", "alice"), ("bob@hotmail.com", "bob"))
        .await;
    let mut alice = s.online(7, "alice@hotmail.com", "pw", "NLN").await;
    let mut bob = s.online(7, "bob@hotmail.com", "pw", "NLN").await;
    alice.barrier().await;
    bob.barrier().await;
    let (mut alice_sb, mut bob_sb, _) = chat(
        &s,
        ("alice@hotmail.com", &mut alice),
        ("bob@hotmail.com", &mut bob),
    )
    .await;

    let (status, body) = admin(&s, "kick", Some(json!({ "user": "Bob@Hotmail.com" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["signed_out"], true);
    assert_eq!(bob.expect_eof().await, ["OUT OTH"]);
    assert_eq!(bob_sb.expect_eof().await, Vec::<String>::new());
    alice_sb.expect("BYE bob@hotmail.com 1").await;
    alice
        .wait_for("bob's FLN", |f| f.line() == "FLN bob@hotmail.com")
        .await;

    // Not signed in (any more), or not an address: clear errors.
    let (status, body) = admin(&s, "kick", Some(json!({ "user": "bob@hotmail.com" }))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("the user is not signed in"))
    );
    let (status, _) = admin(&s, "kick", Some(json!({ "user": "not an address" }))).await;
    assert_eq!(status, 400);
    let (status, _) = admin(&s, "kick", Some(json!({ "who": "bob" }))).await;
    assert!((400..500).contains(&status), "{status}");

    // Kicked is not banned.
    let mut bob = s.online(7, "bob@hotmail.com", "pw", "NLN").await;
    bob.barrier().await;
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_and_stays_out_until_enabled() {
    let s = TestServer::start().await;
    users(&s, &["alice"]).await;
    let mut alice = s.online_twn(12, "alice@hotmail.com", "NLN 0").await;
    let (status, body) = admin(&s, "disable", Some(json!({ "user": "alice@hotmail.com" }))).await;
    assert_eq!((status, &body["disabled"]), (200, &json!(true)), "{body}");
    assert_eq!(alice.expect_eof().await, ["OUT OTH"]);

    let mut c = Client::connect(s.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send("USR 2 MD5 I alice@hotmail.com").await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}pw")));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.expect("911 3").await;
    assert!(
        s.store
            .user("alice@hotmail.com")
            .await
            .unwrap()
            .unwrap()
            .disabled,
        "stored, as `msnd user disable` does"
    );

    let (status, _) = admin(&s, "enable", Some(json!({ "user": "alice@hotmail.com" }))).await;
    assert_eq!(status, 200);
    // A SOAP token issued before disabling is worthless after it, for
    // the admin API and for `msnd user disable` (through the change log).
    let contacts =
        support::soap::token(http(&s), "alice@hotmail.com", "pw", "contacts.msn.com").await;
    let find_all = || support::soap::request("abfindall.request.xml", &contacts);
    support::soap::call(http(&s), AB, "ABFindAll", &find_all()).await;
    let (status, _) = admin(&s, "disable", Some(json!({ "user": "alice@hotmail.com" }))).await;
    assert_eq!(status, 200);
    support::soap::fault(
        http(&s),
        AB,
        Some("ABFindAll"),
        &find_all(),
        "PassportAuthFail",
    )
    .await;
    let (status, _) = admin(&s, "enable", Some(json!({ "user": "alice@hotmail.com" }))).await;
    assert_eq!(status, 200);
    let contacts =
        support::soap::token(http(&s), "alice@hotmail.com", "pw", "contacts.msn.com").await;
    let find_all = || support::soap::request("abfindall.request.xml", &contacts);
    support::soap::call(http(&s), AB, "ABFindAll", &find_all()).await;
    s.store
        .set_disabled("alice@hotmail.com", true)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while support::soap::post(http(&s), AB, Some("ABFindAll"), &find_all())
        .await
        .status
        == 200
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token outlived the disable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    support::soap::fault(
        http(&s),
        AB,
        Some("ABFindAll"),
        &find_all(),
        "PassportAuthFail",
    )
    .await;
    s.store
        .set_disabled("alice@hotmail.com", false)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let mut alice = s.online(7, "alice@hotmail.com", "pw", "NLN").await;
    alice.barrier().await;
    let (status, _) = admin(&s, "disable", Some(json!({ "user": "nobody@hotmail.com" }))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_notice_reaches_every_client_that_can_show_one() {
    let s = TestServer::start().await;
    users(&s, &["alice", "bob", "carol"]).await;
    let alice_id = s.store.user("alice@hotmail.com").await.unwrap().unwrap().id;
    let mut alice = s.online(7, "alice@hotmail.com", "pw", "NLN").await;
    let mut bob = s.online_twn(12, "bob@hotmail.com", "NLN 0").await;
    // MSN Messenger 1.0 (MSNP2) has no alerts.
    let mut carol = s.online(2, "carol@hotmail.com", "pw", "NLN").await;
    let (status, body) = admin(
        &s,
        "notice",
        Some(json!({ "text": "Maintenance at 22:00 — <back> soon & then some" })),
    )
    .await;
    assert_eq!((status, &body["told"]), (200, &json!(2)), "{body}");

    let not = alice.wait_for("the notice", |f| f.command() == "NOT").await;
    let puid = msn_core::ids::puid(alice_id);
    let expected = format!(
        r#"<NOTIFICATION ver="1" id="1" siteid="0" siteurl=""><TO pid="0x{:08x}:0x{:08x}" name="alice@hotmail.com"/><MSG id="0"><ACTION url=""/><SUBSCR url=""/><BODY lang="1033"><TEXT>Maintenance at 22:00 — &lt;back&gt; soon &amp; then some</TEXT></BODY></MSG></NOTIFICATION>"#,
        puid >> 32,
        puid & 0xffff_ffff
    );
    assert_eq!(not.payload().unwrap().as_ref(), expected.as_bytes());
    let not = bob.wait_for("the notice", |f| f.command() == "NOT").await;
    assert!(
        std::str::from_utf8(not.payload().unwrap())
            .unwrap()
            .contains(r#"name="bob@hotmail.com""#)
    );
    carol.send("PNG").await;
    carol.expect("QNG").await;

    for bad in [
        json!({ "text": "  " }),
        json!({ "text": "a\u{7}b" }),
        json!({}),
    ] {
        let (status, _) = admin(&s, "notice", Some(bad.clone())).await;
        assert!((400..500).contains(&status), "{bad}: {status}");
    }
}

#[tokio::test]
async fn an_announced_shutdown_warns_first_and_an_immediate_one_stops_the_server() {
    let s = TestServer::start().await;
    users(&s, &["alice"]).await;
    let mut alice = s.online(7, "alice@hotmail.com", "pw", "NLN").await;
    let (status, body) = admin(&s, "shutdown", Some(json!({ "minutes": 5 }))).await;
    assert_eq!((status, &body["told"]), (202, &json!(1)), "{body}");
    let notice = alice
        .wait_for("the system message", |f| f.command() == "MSG")
        .await;
    assert_eq!(
        notice.payload().unwrap().as_ref(),
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgssystemmessage\r\n\r\nType: 1\r\nArg1: 5\r\n"
    );
    let (status, _) = admin(&s, "shutdown", Some(json!({ "minutes": 100000 }))).await;
    assert_eq!(status, 400);

    // Now: the server is asked to stop (msnd then shuts down as on SIGTERM).
    let (status, _) = admin(&s, "shutdown", Some(json!({ "minutes": 0 }))).await;
    assert_eq!(status, 202);
    let app = s.app.as_ref().unwrap();
    tokio::time::timeout(support::WAIT, app.stop_requested())
        .await
        .expect("the stop was requested");
    s.stop().await;
    assert_eq!(alice.expect_eof().await, ["OUT SSD"]);
}
