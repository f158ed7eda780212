//! Every scenario, small, against a real server started in-process on
//! ephemeral 127.0.0.1 ports with a seeded database.

use std::time::Duration;

use msn_auth::Grant;
use msn_config::Config;
use msnd::App;
use msnd_load::report::Report;
use msnd_load::scenarios::{self, Target};
use msnd_load::sys::Machine;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const USERS: usize = 24;
const CONTACTS: usize = 3;

struct Bench {
    app: App,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start() -> Bench {
        Bench::start_with(|_| {}).await
    }

    /// With the test configuration adjusted by `edit`.
    async fn start_with(edit: impl FnOnce(&mut Config)) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let seed = scenarios::seed::run(
            scenarios::seed::SeedArgs {
                data_dir: Some(dir.path().to_owned()),
                database_url: None,
                users: USERS,
                contacts: CONTACTS,
                prefix: "load".into(),
                hash_memory_kib: 64,
                hash_iterations: 1,
                passport_password: "passport-pw".into(),
                concurrency: 4,
            },
            machine(),
        )
        .await
        .unwrap();
        assert_eq!(result(&seed, "accounts_created"), USERS as f64);
        assert_eq!(
            result(&seed, "list_entries_written"),
            (USERS * CONTACTS * 2) as f64
        );
        let mut config = Config::for_tests(dir.path());
        config.limits.commands_per_sec = 100_000;
        config.limits.command_burst = 100_000;
        config.limits.sb_messages_per_sec = 1_000_000;
        config.limits.sb_message_burst = 1_000_000;
        edit(&mut config);
        let store = msnd::open_store(&config).await.unwrap();
        let app = App::start(config, store).await.unwrap();
        Bench { app, _dir: dir }
    }

    fn target(&self) -> Target {
        Target {
            ns: self.app.server.ns_addr.to_string(),
            prefix: "load".into(),
            first: 0,
            server_pid: Some(std::process::id()),
            timeout_secs: 10,
        }
    }
}

fn machine() -> Machine {
    Machine::detect()
}

fn result(r: &Report, key: &str) -> f64 {
    match r.get(key) {
        Some(Value::Number(n)) => n.as_f64().unwrap(),
        other => panic!("{key}: {other:?}\n{}", r.to_table()),
    }
}

fn assert_clean(r: &Report) {
    assert_eq!(r.error_total(), 0, "{}", r.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_against_a_real_server() {
    let bench = Bench::start().await;

    let idle = scenarios::idle::run(
        scenarios::idle::IdleArgs {
            target: bench.target(),
            users: 10,
            concurrency: 4,
            hold: 1,
            ping_secs: 50,
            settle_secs: 0,
        },
        machine(),
    )
    .await
    .unwrap();
    assert_clean(&idle);
    assert_eq!(result(&idle, "signed_in"), 10.0);
    assert_eq!(result(&idle, "open_at_end_of_hold"), 10.0);
    assert!(result(&idle, "logins_per_sec") > 0.0);
    assert!(idle.get("server_rss_per_session_bytes").is_some());

    let login = scenarios::login::run(
        scenarios::login::LoginArgs {
            target: bench.target(),
            users: 8,
            concurrency: 4,
            seconds: 1,
            warmup: 0,
            syn: true,
        },
        machine(),
    )
    .await
    .unwrap();
    assert_clean(&login);
    assert!(result(&login, "logins_measured") > 0.0);

    let presence_args = |ns_other| scenarios::presence::PresenceArgs {
        target: bench.target(),
        users: 12,
        changes: 3,
        changers: None,
        concurrency: 6,
        change_timeout_ms: 5000,
        interval_ms: 0,
        ns_other,
    };
    let presence = scenarios::presence::run(presence_args(None), machine())
        .await
        .unwrap();
    assert_clean(&presence);
    // Users 0..12 online; each is watched by its 3 ring predecessors, of
    // whom user 0..2 lose those below 0 (accounts 21..23 are offline).
    let expected = (12 * CONTACTS - (1 + 2 + 3)) as f64 * 3.0;
    assert_eq!(result(&presence, "notifications_expected"), expected);
    assert_eq!(result(&presence, "notifications_received"), expected);
    assert_eq!(result(&presence, "notifications_missing"), 0.0);
    // The cross-node form, with the same server as "the other node": the
    // same notifications, reported in two rows.
    let split = scenarios::presence::run(presence_args(Some(bench.target().ns)), machine())
        .await
        .unwrap();
    assert_clean(&split);
    assert_eq!(result(&split, "notifications_received"), expected);
    let table = split.to_table();
    assert!(
        table.contains("NLN received, same node") && table.contains("NLN received, other node"),
        "{table}"
    );

    for (mode, rate) in [('U', None), ('A', None), ('A', Some(200.0))] {
        let chat = scenarios::chat::run(
            scenarios::chat::ChatArgs {
                target: bench.target(),
                pairs: 2,
                mode,
                size: 100,
                rate,
                seconds: 1,
                warmup: 0,
                // Mode A with more in flight can lose pairs to a server
                // scheduling problem (README, server issue 1).
                window: if mode == 'A' { Some(4) } else { None },
                concurrency: 2,
                ns_other: None,
            },
            machine(),
        )
        .await
        .unwrap();
        assert_clean(&chat);
        assert_eq!(result(&chat, "pairs_ready"), 2.0);
        assert!(
            result(&chat, "messages_received_measured") > 0.0,
            "{}",
            chat.to_table()
        );
        assert_eq!(result(&chat, "not_delivered"), 0.0, "{}", chat.to_table());
        if mode == 'A' {
            assert_eq!(result(&chat, "acks"), result(&chat, "messages_sent_total"));
            assert_eq!(result(&chat, "naks"), 0.0);
        }
    }

    bench.app.shutdown().await;
}

/// A stand-in for the Passport service: the nexus, and a login page that
/// checks the Authorization header and issues a real ticket through the
/// server's ticket table (as the HTTP service does).
async fn fake_passport(bench: &Bench) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = bench.app.server.shared().clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let req = String::from_utf8(buf).unwrap();
                let reply = if req.starts_with("GET /rdr/pprdr.asp ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nPassportURLs: DARealm=Passport.Net,DALogin={addr}/login2.srf,DAReg=x\r\nContent-Length: 0\r\n\r\n"
                    )
                } else {
                    let auth = req
                        .lines()
                        .find_map(|l| l.strip_prefix("Authorization: "))
                        .unwrap_or("");
                    let sign_in = auth
                        .split(',')
                        .find_map(|i| i.strip_prefix("sign-in="))
                        .unwrap_or("")
                        .replace("%40", "@");
                    let good = auth.contains("pwd=passport-pw,") && auth.contains(",lc=1033,");
                    match msn_core::Handle::parse(&sign_in) {
                        Ok(h) if good => {
                            let id = shared.store.user(h.as_str()).await.unwrap().unwrap().id;
                            let t = shared
                                .tokens
                                .issue(Grant::messenger(h, id), Duration::from_secs(60));
                            format!(
                                "HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=success,from-PP='{t}'\r\nContent-Length: 0\r\n\r\n"
                            )
                        }
                        _ => "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".into(),
                    }
                };
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/rdr/pprdr.asp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twn_login_against_a_stand_in_passport_service() {
    let bench = Bench::start().await;
    let nexus = fake_passport(&bench).await;
    let run = |password: &str| {
        scenarios::twn::run(
            scenarios::twn::TwnArgs {
                target: bench.target(),
                nexus: nexus.clone(),
                users: 4,
                concurrency: 2,
                seconds: 1,
                warmup: 0,
                count: None,
                passport_password: password.into(),
            },
            machine(),
        )
    };
    let good = run("passport-pw").await.unwrap();
    assert_clean(&good);
    assert!(result(&good, "logins_measured") > 0.0);
    let share = result(&good, "passport_login_share_of_login_time");
    assert!(share > 0.0 && share < 1.0);

    let bad = run("wrong").await.unwrap();
    assert_eq!(result(&bad, "logins_measured"), 0.0);
    assert!(bad.to_table().contains("http: 401 wrong credentials"));

    let counted = scenarios::twn::run(
        scenarios::twn::TwnArgs {
            target: bench.target(),
            nexus: nexus.clone(),
            users: 4,
            concurrency: 3,
            seconds: 1,
            warmup: 0,
            count: Some(7),
            passport_password: "passport-pw".into(),
        },
        machine(),
    )
    .await
    .unwrap();
    assert_clean(&counted);
    assert_eq!(result(&counted, "logins_measured"), 7.0);
    bench.app.shutdown().await;
}

fn flood_args(bench: &Bench) -> scenarios::flood::FloodArgs {
    let http = bench.app.http.http_addr.expect("plain HTTP runs");
    scenarios::flood::FloodArgs {
        target: bench.target(),
        nexus: format!("http://{http}/rdr/pprdr.asp"),
        users: USERS,
        concurrency: 4,
        seconds: 1,
        rounds: 2,
        pause: 0,
        endpoints: scenarios::flood::Endpoints::Both,
    }
}

/// Wrong passwords against the real HTTP services: every answer is a
/// checked refusal, on both endpoints, and the memory figures are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_wrong_passwords_is_refused() {
    // The throttle off: every wrong password is checked, which is what
    // the flood measures.
    let bench = Bench::start_with(|c| {
        c.login_throttle.max_failures_per_account = 0;
        c.login_throttle.max_failures_per_address = 0;
    })
    .await;
    let r = scenarios::flood::run(flood_args(&bench), machine())
        .await
        .unwrap();
    assert_clean(&r);
    for round in [1, 2] {
        assert!(result(&r, &format!("round{round}_wrong_password_per_sec")) > 0.0);
        assert_eq!(result(&r, &format!("round{round}_busy_per_sec")), 0.0);
        assert_eq!(result(&r, &format!("round{round}_throttled_per_sec")), 0.0);
        assert!(result(&r, &format!("round{round}_server_rss_after_pause_kib")) > 0.0);
    }
    assert!(result(&r, "server_rss_before_kib") > 0.0);
    for endpoints in [
        scenarios::flood::Endpoints::Login2,
        scenarios::flood::Endpoints::Rst,
    ] {
        let mut args = flood_args(&bench);
        args.rounds = 1;
        args.endpoints = endpoints;
        let r = scenarios::flood::run(args, machine()).await.unwrap();
        assert_clean(&r);
        assert!(
            result(&r, "round1_wrong_password_per_sec") > 0.0,
            "{endpoints:?}"
        );
    }
    bench.app.shutdown().await;
}

/// With every place for a password check taken, each attempt is refused
/// as busy (503 / Server Busy), which the flood counts apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_counts_busy_refusals() {
    let bench = Bench::start_with(|c| {
        c.http.max_concurrent_hashes = 1;
        c.http.max_pending_logins = 0;
    })
    .await;
    let taken = bench.app.server.shared().passwords.try_admit().unwrap();
    let mut args = flood_args(&bench);
    args.rounds = 1;
    let r = scenarios::flood::run(args, machine()).await.unwrap();
    assert_clean(&r);
    assert!(result(&r, "round1_busy_per_sec") > 0.0);
    assert_eq!(result(&r, "round1_wrong_password_per_sec"), 0.0);
    drop(taken);
    bench.app.shutdown().await;
}

/// With the default failed-login throttle, a flood is mostly refused
/// unchecked: those answers are counted as throttled, not as errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_against_the_throttle_is_counted_as_throttled() {
    let bench = Bench::start().await;
    let mut args = flood_args(&bench);
    args.rounds = 1;
    // Two accounts: however slow the machine, each gets far more wrong
    // passwords than the per-account limit within the second.
    args.users = 2;
    let r = scenarios::flood::run(args, machine()).await.unwrap();
    assert_clean(&r);
    assert!(
        result(&r, "round1_throttled_per_sec") > 0.0,
        "{}",
        r.to_table()
    );
}
