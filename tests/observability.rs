//! Observability over real servers: `/metrics` moves with logins, chats
//! and requests and is refused to other addresses; `/readyz`; `msnd
//! healthcheck`; the protocol trace shows what other users' actions push to
//! a connection, without its secrets.

mod support;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use support::{Client, TestServer, WAIT, chat};

const AL: u8 = 2;

/// Everything the process logs at `msn_server=debug`, for the trace test.
/// Installed by every test (whichever runs first): the subscriber is
/// process-wide.
fn captured_log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("msn_server=debug"))
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .init();
        log
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&captured_log().lock().unwrap()).into_owned()
}

/// The trace lines of the connection from `client` (its span names the
/// peer address).
fn trace_of(client: SocketAddr) -> Vec<String> {
    let peer = format!("peer={client}");
    log_text()
        .lines()
        .filter(|l| l.contains(&peer))
        .map(str::to_owned)
        .collect()
}

async fn get(url: &str, from: Option<IpAddr>) -> (u16, String) {
    let client = reqwest::Client::builder()
        .local_address(from)
        .timeout(WAIT)
        .build()
        .unwrap();
    let response = client.get(url).send().await.expect("HTTP request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn scrape(s: &TestServer) -> String {
    let (status, body) = get(&format!("http://{}/metrics", s.http.unwrap()), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The value of one series (`name{labels}`) in an exposition; 0 if absent.
fn value(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            (name == series).then(|| v.parse::<f64>().expect("a number"))
        })
        .unwrap_or(0.0)
}

async fn friends(s: &TestServer, a: &str, b: &str) {
    let (ha, hb) = (format!("{a}@hotmail.com"), format!("{b}@hotmail.com"));
    s.user(&ha, "pw", a).await;
    s.user(&hb, "pw", b).await;
    s.seed_entry(&ha, &hb, 1 | AL | 8, b, &[]).await;
    s.seed_entry(&hb, &ha, 1 | AL | 8, a, &[]).await;
}

const TEXT: &[u8] =
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nthe secret plans";

#[tokio::test]
async fn metrics_move_with_logins_chats_and_requests() {
    captured_log();
    let s = TestServer::start().await;
    let before = scrape(&s).await;
    friends(&s, "mallory", "trent").await;
    let mut m = s.online(7, "mallory@hotmail.com", "pw", "NLN").await;
    let mut t = s.online(7, "trent@hotmail.com", "pw", "NLN").await;
    m.barrier().await;
    t.barrier().await;
    let (mut msb, mut tsb, _) = chat(
        &s,
        ("mallory@hotmail.com", &mut m),
        ("trent@hotmail.com", &mut t),
    )
    .await;
    msb.call_payload("MSG {} A", TEXT).await;
    tsb.wait_for("MSG", |f| f.command() == "MSG").await;

    let after = scrape(&s).await;
    let moved = |series: &str| value(&after, series) - value(&before, series);
    assert!(
        moved(r#"msnd_logins_total{method="md5"}"#) >= 2.0,
        "{after}"
    );
    // Only this test signs in with MSNP7.
    assert_eq!(
        moved(r#"msnd_signed_in_users{dialect="MSNP7"}"#),
        2.0,
        "{after}"
    );
    assert!(moved("msnd_sb_messages_relayed_total") >= 1.0, "{after}");
    assert!(
        moved(r#"msnd_commands_total{service="sb"}"#) >= 4.0,
        "{after}"
    );
    assert!(
        moved(r#"msnd_commands_total{service="ns"}"#) >= 10.0,
        "{after}"
    );
    assert!(value(&after, "msnd_sb_sessions") >= 1.0, "{after}");
    assert!(
        moved(r#"msnd_http_requests_total{route="/metrics",status="200"}"#) >= 1.0,
        "{after}"
    );
    assert!(
        value(&after, "msnd_store_commit_seconds_count") >= 1.0,
        "{after}"
    );
    assert!(
        after.contains("# TYPE msnd_store_commit_seconds histogram"),
        "{after}"
    );

    // A wrong password is a failure of its method.
    let mut c = Client::connect(s.ns).await;
    c.call("VER {} MSNP7 CVR0").await;
    c.call("USR {} MD5 I trent@hotmail.com").await;
    c.send("USR 3 MD5 S 00000000000000000000000000000000").await;
    c.expect_eof().await;
    let failed = scrape(&s).await;
    assert!(
        value(&failed, r#"msnd_login_failures_total{method="md5"}"#)
            > value(&before, r#"msnd_login_failures_total{method="md5"}"#),
        "{failed}"
    );

    // Signing out takes the user off the gauge.
    t.send("OUT").await;
    t.expect_eof().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = scrape(&s).await;
        let online = value(&now, r#"msnd_signed_in_users{dialect="MSNP7"}"#)
            - value(&before, r#"msnd_signed_in_users{dialect="MSNP7"}"#);
        if online == 1.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {online}: {now}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn metrics_are_only_for_allowed_addresses() {
    captured_log();
    let s = TestServer::start().await;
    let url = format!("http://{}/metrics", s.http.unwrap());
    let other = Some(IpAddr::from([127, 0, 0, 2]));
    assert_eq!(get(&url, None).await.0, 200);
    assert_eq!(get(&url, other).await.0, 404, "default: 127.0.0.1 only");
    s.stop().await;

    let s = TestServer::start_with(|c| {
        c.http.metrics_allow = vec!["127.0.0.2/32".parse().unwrap()];
    })
    .await;
    let url = format!("http://{}/metrics", s.http.unwrap());
    assert_eq!(get(&url, other).await.0, 200);
    assert_eq!(get(&url, None).await.0, 404);
    s.stop().await;

    let s = TestServer::start_with(|c| c.http.metrics = false).await;
    let url = format!("http://{}/metrics", s.http.unwrap());
    assert_eq!(get(&url, None).await.0, 404, "metrics = false");
    s.stop().await;
}

#[tokio::test]
async fn readyz_follows_the_store() {
    captured_log();
    let s = TestServer::start().await;
    let base = format!("http://{}", s.http.unwrap());
    assert_eq!(get(&format!("{base}/healthz"), None).await.0, 200);
    assert_eq!(
        get(&format!("{base}/readyz"), None).await,
        (200, "ready\n".into())
    );
    // The store goes away under the running server.
    s.store.close().await;
    let (status, body) = get(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        get(&format!("{base}/healthz"), None).await.0,
        200,
        "still alive"
    );
    s.stop().await;
}

async fn healthcheck(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_msnd"))
        .arg("healthcheck")
        .args(args)
        .output()
        .await
        .expect("run msnd healthcheck")
}

#[tokio::test]
async fn healthcheck_exits_zero_only_when_ready() {
    captured_log();
    let s = TestServer::start().await;
    let http = s.http.unwrap();
    // The address from a configuration file, as `msnd serve` reads it.
    let config = s.dir.path().join("probe.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"0.0.0.0\"\n\n[http]\nport = {}\n",
            http.port()
        ),
    )
    .unwrap();
    let out = healthcheck(&["--config", config.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ready\n");

    // Not ready: 503.
    s.store.close().await;
    let out = healthcheck(&["--http", &http.to_string()]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{out:?}"
    );
    s.stop().await;

    // Nobody listening.
    let out = healthcheck(&["--http", &http.to_string(), "--timeout", "2s"]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(!out.stderr.is_empty());
}

#[tokio::test]
async fn the_trace_shows_what_other_users_push() {
    captured_log();
    let s = TestServer::start().await;
    friends(&s, "alice", "bob").await;
    let (alice, bob) = ("alice@hotmail.com", "bob@hotmail.com");
    let alice_ticket = s.ticket(alice).await;
    let mut a = Client::login_twn(s.ns, 8, alice, &alice_ticket).await;
    a.call("CHG {} NLN").await;
    a.barrier().await;
    let mut b = s.online_twn(8, bob, "NLN").await;
    // Bob's presence, pushed to Alice.
    a.wait_for("NLN", |f| f.command() == "NLN").await;
    b.barrier().await;
    let (mut bsb, mut asb, rng) = chat(&s, (bob, &mut b), (alice, &mut a)).await;
    bsb.call_payload("MSG {} A", TEXT).await;
    asb.wait_for("MSG", |f| f.command() == "MSG").await;
    // Both have been flushed to the socket, hence traced.
    a.barrier().await;

    let ns = trace_of(a.local_addr());
    assert!(
        ns.iter()
            .any(|l| l.contains(&format!("S: NLN NLN {bob} bob"))),
        "{ns:#?}"
    );
    let rng_traced = ns
        .iter()
        .find(|l| l.contains("S: RNG "))
        .unwrap_or_else(|| panic!("no RNG in {ns:#?}"));
    assert!(
        rng_traced.contains(&format!("CKI <redacted> {bob}")),
        "{rng_traced}"
    );
    let sb = trace_of(asb.local_addr());
    let msg = sb
        .iter()
        .find(|l| l.contains(&format!("S: MSG {bob} bob {}", TEXT.len())))
        .unwrap_or_else(|| panic!("no relayed MSG in {sb:#?}"));
    assert!(msg.contains("payload bytes, text/plain)"), "{msg}");

    let log = log_text();
    let rng_cookie = rng.split(' ').nth(4).unwrap();
    assert!(!log.contains(rng_cookie), "the RNG cookie is logged");
    assert!(!log.contains(&alice_ticket), "the ticket is logged");
    assert!(
        ns.iter().any(|l| l.contains("C: USR 4 TWN S <redacted>")),
        "{ns:#?}"
    );
    assert!(!log.contains("the secret plans"), "message text is logged");
    s.stop().await;
}

#[tokio::test]
async fn slow_readers_are_counted_when_cut_off() {
    captured_log();
    let s = TestServer::start_with(|c| {
        c.limits.max_outbound_bytes = 8192;
        c.limits.socket_send_buffer_bytes = 4096;
        c.limits.commands_per_sec = 10_000;
        c.limits.command_burst = 10_000;
        c.limits.renames_per_minute = 100_000;
    })
    .await;
    let series = r#"msnd_disconnects_total{service="ns",reason="client does not read"}"#;
    let before = value(&scrape(&s).await, series);
    friends(&s, "carol", "dave").await;
    let mut dave = s.online_twn(9, "dave@hotmail.com", "NLN").await;
    // carol watches dave through a tiny window and never reads.
    let ticket = s.ticket("carol@hotmail.com").await;
    let mut carol = Client::login_twn(s.ns, 9, "carol@hotmail.com", &ticket).await;
    carol.call("CHG {} NLN").await;
    let long = "%C3%A9".repeat(120);
    let mut renames = 0;
    while value(&scrape(&s).await, series) <= before {
        for _ in 0..50 {
            renames += 1;
            let r = dave
                .call(&format!("REA {{}} dave@hotmail.com {long}{renames}"))
                .await;
            assert_eq!(r.command(), "REA", "dave is not slowed down");
        }
        assert!(renames < 20_000, "carol was never cut off");
    }
    s.stop().await;
}
