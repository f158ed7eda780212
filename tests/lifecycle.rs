//! The `msnd` binary as an operator runs it: account commands while the
//! server runs, graceful shutdown on SIGTERM, and no confirmed change lost
//! when the process is killed outright.
//!
//! SQLite only, whatever `MSND_TEST_DATABASE_URL` says: these start `msnd`
//! processes on data directories of their own and check the SQLite file
//! itself (durability after `kill -9`, `msnd backup`, read-only opening).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use msn_server::Config;
use support::Client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A configuration with cheap password hashing, written next to the data.
fn write_config(dir: &Path) -> PathBuf {
    write_config_with(dir, "[http]\nenabled = false\n")
}

fn write_config_with(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("msnd.toml");
    let text = format!(
        "[passwords]\nargon2_memory_kib = 64\nargon2_iterations = 1\n\
         [server]\nshutdown_grace_secs = 2\n\
         [limits]\ncommands_per_sec = 1000\ncommand_burst = 1000\n{extra}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn msnd(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msnd"));
    cmd.env("NO_COLOR", "1").env_remove("RUST_LOG");
    cmd.kill_on_drop(true);
    let _ = dir;
    cmd
}

/// Runs `msnd user …` to completion; returns (success, stdout).
async fn user_cmd(dir: &Path, args: &[&str]) -> (bool, String) {
    user_cmd_with(dir, &write_config(dir), args).await
}

async fn user_cmd_with(dir: &Path, config: &Path, args: &[&str]) -> (bool, String) {
    let out = msnd(dir)
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(config)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

struct Running {
    child: Child,
    ns: SocketAddr,
    /// The HTTP service, when the configuration enables it.
    http: Option<SocketAddr>,
    /// Every line the server logged so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Starts `msnd serve` on ephemeral ports and reads the addresses it logs.
async fn serve(dir: &Path) -> Running {
    serve_with(dir, write_config(dir), false).await
}

/// `msnd serve` with the configuration file `config`; with `http`, waits
/// for the HTTP service too.
async fn serve_with(dir: &Path, config: PathBuf, http: bool) -> Running {
    let mut child = msnd(dir)
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--ds-port",
            "0",
            "--ns-port",
            "0",
            "--sb-port",
            "0",
        ])
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ns, mut http_addr) = (None, None);
    while ns.is_none() || http && http_addr.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("server starts")
            .unwrap()
            .expect("server log");
        if !line.contains("listening") {
            continue;
        }
        for word in line.split_whitespace() {
            if let Some(addr) = word.strip_prefix("ns=") {
                ns = Some(addr.parse().unwrap());
            }
            if let Some(addr) = word.strip_prefix("http=Some(") {
                http_addr = Some(addr.trim_end_matches(')').parse().unwrap());
            }
        }
    }
    let ns = ns.unwrap();
    // Keep draining the log so the server never blocks on stdout.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    Running {
        child,
        ns,
        http: http_addr,
        log,
    }
}

/// Sends a signal (`TERM`, `KILL`) to the server, as an operator would.
async fn signal(child: &Child, sig: &str) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-s", sig, &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn config_default_is_the_documented_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = msnd(dir.path())
        .args(["config", "default"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(Config::from_toml(&text).unwrap(), Config::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_work_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = serve(d).await;
    let (ok, out) = user_cmd(
        d,
        &[
            "add",
            "Carol@Hotmail.com",
            "--password",
            "s3cret",
            "--name",
            "Carol C",
            "--legacy-md5",
        ],
    )
    .await;
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "created carol@hotmail.com (MD5 login allowed)");
    // Signs in at once.
    let mut c = Client::login(server.ns, 7, "carol@hotmail.com", "s3cret").await;
    c.send("PNG").await;
    c.expect("QNG").await;
    drop(c);
    let (ok, _) = user_cmd(d, &["add", "carol@hotmail.com", "--password", "x"]).await;
    assert!(!ok, "duplicate accounts are refused");
    let (ok, list) = user_cmd(d, &["list"]).await;
    assert!(
        ok && list.contains("carol@hotmail.com") && list.contains("Carol C"),
        "{list}"
    );
    // A new password alone keeps the MD5 opt-in.
    let (ok, out) = user_cmd(d, &["passwd", "carol@hotmail.com", "--password", "n3w0"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        "password changed for carol@hotmail.com (MD5 login still allowed)"
    );
    let mut c = Client::login(server.ns, 7, "carol@hotmail.com", "n3w0").await;
    c.send("PNG").await;
    c.expect("QNG").await;
    drop(c);
    let (ok, list) = user_cmd(d, &["list"]).await;
    assert!(ok);
    let row = list.lines().find(|l| l.contains("carol@hotmail.com"));
    assert!(
        row.is_some_and(|l| l.split_whitespace().nth(2) == Some("yes")),
        "{list}"
    );
    // Turned off explicitly, the old login is refused.
    let (ok, out) = user_cmd(
        d,
        &[
            "passwd",
            "carol@hotmail.com",
            "--password",
            "n3w",
            "--no-legacy-md5",
        ],
    )
    .await;
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        "password changed for carol@hotmail.com (MD5 login now refused)"
    );
    let (ok, out) = user_cmd(d, &["passwd", "carol@hotmail.com", "--password", "n3w"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        "password changed for carol@hotmail.com (MD5 login still refused)"
    );
    let mut c = Client::connect(server.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send("USR 2 MD5 I carol@hotmail.com").await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}n3w")));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.expect("911 3").await;
    let (ok, _) = user_cmd(
        d,
        &[
            "passwd",
            "carol@hotmail.com",
            "--password",
            "n3w",
            "--legacy-md5",
        ],
    )
    .await;
    assert!(ok);
    // A password changed by another process ends the running session.
    let mut c = Client::login(server.ns, 7, "carol@hotmail.com", "n3w").await;
    let (ok, _) = user_cmd(
        d,
        &[
            "passwd",
            "carol@hotmail.com",
            "--password",
            "n3w2",
            "--legacy-md5",
        ],
    )
    .await;
    assert!(ok);
    c.expect("OUT OTH").await;
    // Disabling the account ends the session and refuses every login, on
    // the NS and over HTTP, until it is enabled again.
    let mut c = Client::login(server.ns, 7, "carol@hotmail.com", "n3w2").await;
    let (ok, out) = user_cmd(d, &["disable", "carol@hotmail.com"]).await;
    assert!(ok && out.trim() == "disabled carol@hotmail.com", "{out}");
    c.expect("OUT OTH").await;
    let mut c = Client::connect(server.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send("USR 2 MD5 I carol@hotmail.com").await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}n3w2")));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.expect("911 3").await;
    let (ok, list) = user_cmd(d, &["list"]).await;
    let row = list.lines().find(|l| l.contains("carol@hotmail.com"));
    assert!(
        ok && row.is_some_and(|l| l.split_whitespace().nth(3) == Some("disabled")),
        "{list}"
    );
    let (ok, out) = user_cmd(d, &["enable", "carol@hotmail.com"]).await;
    assert!(ok && out.trim() == "enabled carol@hotmail.com", "{out}");
    let (ok, _) = user_cmd(d, &["disable", "nobody@hotmail.com"]).await;
    assert!(!ok, "no such account");
    // So does deleting the account.
    let mut c = Client::login(server.ns, 7, "carol@hotmail.com", "n3w2").await;
    c.send("CHG 5 NLN").await;
    c.expect("CHG 5 NLN").await;
    let (ok, _) = user_cmd(d, &["del", "carol@hotmail.com"]).await;
    assert!(ok);
    c.expect("OUT OTH").await;
    let (ok, _) = user_cmd(d, &["del", "carol@hotmail.com"]).await;
    assert!(!ok, "deleting twice fails");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_out_ssd_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        user_cmd(
            d,
            &[
                "add",
                "alice@hotmail.com",
                "--password",
                "pw",
                "--legacy-md5"
            ]
        )
        .await
        .0
    );
    let mut server = serve(d).await;
    let mut alice = Client::login(server.ns, 7, "alice@hotmail.com", "pw").await;
    alice.call("CHG {} NLN").await;
    assert_eq!(alice.call("ADG {} Keep 0").await.command(), "ADG");
    // alice also sits in a switchboard session.
    let xfr = alice.call("XFR {} SB").await;
    let sb_addr: SocketAddr = xfr.tokens().nth(3).unwrap().parse().unwrap();
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut sb = Client::connect(sb_addr).await;
    assert_eq!(
        sb.call(&format!("USR {{}} alice@hotmail.com {cookie}"))
            .await
            .tokens()
            .nth(2),
        Some("OK")
    );
    let mut idle = Client::connect(server.ns).await;
    signal(&server.child, "TERM").await;
    assert_eq!(alice.expect_eof().await, ["OUT SSD"]);
    assert!(idle.expect_eof().await.is_empty());
    assert!(
        sb.expect_eof().await.is_empty(),
        "switchboard connections are closed"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("exits within seconds")
        .unwrap();
    assert!(status.success(), "{status}");
    let server = serve(d).await;
    let mut alice = Client::login(server.ns, 7, "alice@hotmail.com", "pw").await;
    alice.send("LSG 9").await;
    alice.expect("LSG 9 1 1 2 0 Other%20Contacts 0").await;
    alice.expect("LSG 9 1 2 2 1 Keep 0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_confirmed_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Accounts straight into the database (fast), then the real server.
    {
        let mut config = Config::for_tests(d);
        config.database.synchronous = "full".into();
        let store = msnd::open_store(&config).await.unwrap();
        for i in 0..400 {
            let spec = msnd::accounts::AccountSpec {
                email: &format!("u{i}@hotmail.com"),
                password: "pw",
                name: None,
                legacy_md5: true,
            };
            msnd::accounts::create(&*store, &spec, config.hash_cost())
                .await
                .unwrap();
        }
        store.close().await;
    }
    let mut server = serve(d).await;
    let mut c = Client::login(server.ns, 7, "u0@hotmail.com", "pw").await;
    // A storm of additions, pipelined; the server is killed mid-way.
    let mut storm = String::new();
    for i in 1..400 {
        storm.push_str(&format!("ADD {} FL u{i}@hotmail.com U{i}\r\n", 1000 + i));
    }
    c.send_raw(storm.as_bytes()).await;
    let mut confirmed = Vec::new();
    while confirmed.len() < 150 {
        let f = c.recv().await;
        assert_eq!(f.command(), "ADD", "{}", f.line());
        confirmed.push(f.tokens().nth(4).unwrap().to_owned());
    }
    signal(&server.child, "KILL").await;
    server.child.wait().await.unwrap();
    // Everything confirmed is stored, with both sides of each addition.
    let config = Config::for_tests(d);
    let store = msnd::open_store(&config).await.unwrap();
    let owner = store.user("u0@hotmail.com").await.unwrap().unwrap();
    let account = store.load_account(owner.id).await.unwrap();
    for handle in &confirmed {
        let entry = account
            .contact(handle)
            .unwrap_or_else(|| panic!("{handle} lost"));
        assert_eq!(entry.lists & 1, 1);
        let other = store.user(handle).await.unwrap().unwrap();
        let theirs = store.load_account(other.id).await.unwrap();
        assert_eq!(
            theirs.contact("u0@hotmail.com").map(|c| c.lists & 8),
            Some(8),
            "{handle}'s RL"
        );
    }
    assert!(account.list_version >= confirmed.len() as u64);
    let stored = account.contacts.len() as u64;
    assert_eq!(account.list_version, stored, "versions and contacts agree");
}

/// Runs `msnd ARGS… --help`; returns the help text.
async fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = msnd(dir.path())
        .args(args)
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{args:?} --help fails");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn help_describes_every_argument() {
    for args in [
        &["user", "add"][..],
        &["user", "passwd"],
        &["user", "del"],
        &["user", "disable"],
        &["user", "enable"],
        &["user", "list"],
        &["serve"],
        &["probe"],
        &["backup"],
        &["cert", "generate"],
    ] {
        let text = help(args).await;
        let lines: Vec<&str> = text.lines().collect();
        let mut in_section = false;
        let mut entries = 0;
        for (i, line) in lines.iter().enumerate() {
            if *line == "Arguments:" || *line == "Options:" {
                in_section = true;
                continue;
            }
            if !line.starts_with(' ') {
                in_section = false;
            }
            let item = line.trim_start();
            if !in_section || !(item.starts_with('-') || item.starts_with('<')) {
                continue;
            }
            entries += 1;
            let indent = line.len() - item.len();
            // "<EMAIL>  The account's …" or the text on the next lines.
            let same_line = item
                .split_once("  ")
                .map(|(_, rest)| rest.trim())
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('['));
            let next_line = lines.get(i + 1).is_some_and(|next| {
                let text = next.trim_start();
                next.len() - text.len() > indent
                    && !text.is_empty()
                    && !text.starts_with('[')
                    && !text.starts_with('-')
            });
            assert!(
                same_line || next_line,
                "`msnd {} --help`: {item:?} has no description\n{text}",
                args.join(" ")
            );
        }
        assert!(entries > 1, "{text}");
    }
}

#[tokio::test]
async fn errors_are_printed_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let out = msnd(dir.path())
        .env("RUST_BACKTRACE", "1")
        .args(["user", "del", "nobody@x.com", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(&config)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.to_ascii_lowercase().contains("backtrace"),
        "{stderr}"
    );
    assert!((1..=2).contains(&stderr.lines().count()), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("no account named nobody@x.com"), "{stderr}");
}

/// `msnd cert generate` writes the files the default configuration names,
/// and does not overwrite an existing key unless told to.
#[tokio::test]
async fn cert_generate_keeps_an_existing_key_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("tls");
    let generate = |force: bool| {
        let mut cmd = msnd(dir.path());
        cmd.args(["cert", "generate", "--out"]).arg(&out_dir);
        if force {
            cmd.arg("--force");
        }
        cmd.output()
    };
    let first = generate(false).await.unwrap();
    assert!(first.status.success(), "{first:?}");
    let key = out_dir.join("msnd-key.pem");
    let before = std::fs::read(&key).unwrap();
    let again = generate(false).await.unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), before, "key kept");
    let forced = generate(true).await.unwrap();
    assert!(forced.status.success(), "{forced:?}");
    assert_ne!(std::fs::read(&key).unwrap(), before, "key replaced");
    // The default configuration's example names are the generated files.
    let text = msn_server::config::DEFAULT_CONFIG;
    assert!(text.contains("msnd-cert.pem") && text.contains("msnd-key.pem"));
}

/// A refused login is logged at the default level with the handle and the
/// client's address, never the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_logins_are_logged_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = serve(d).await;
    let (ok, out) = user_cmd(
        d,
        &[
            "add",
            "dave@hotmail.com",
            "--password",
            "right1",
            "--legacy-md5",
        ],
    )
    .await;
    assert!(ok, "{out}");
    let mut c = Client::connect(server.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send("USR 2 MD5 I dave@hotmail.com").await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}wrong9")));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.expect("911 3").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let line = loop {
        let found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("login refused"))
            .cloned();
        if let Some(line) = found {
            break line;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no log line for the refusal"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        line.contains("dave@hotmail.com") && line.contains("127.0.0.1"),
        "{line}"
    );
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        !log.contains("wrong9") && !log.contains(&hash),
        "secrets in the log"
    );
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1))
                == Some("0")
        })
        .unwrap_or(false)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn user_list_reads_a_database_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out) = user_cmd(d, &["add", "erin@hotmail.com", "--password", "pw"]).await;
    assert!(ok, "{out}");
    let config = write_config(d);
    // As the server's files look to an operator who may only read them: the
    // directory and every file read-only (and, when the test runs as root,
    // the command run as `nobody`, for whom that is binding).
    for entry in std::fs::read_dir(d).unwrap() {
        set_mode(&entry.unwrap().path(), 0o444);
    }
    set_mode(d, 0o555);
    let mut cmd = if running_as_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_msnd"));
        cmd
    } else {
        msnd(d)
    };
    let out = cmd
        .env_remove("RUST_LOG")
        .args(["user", "list", "--data-dir"])
        .arg(d)
        .arg("--config")
        .arg(&config)
        .output()
        .await
        .unwrap();
    set_mode(d, 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("erin@hotmail.com"), "{stdout}");
}

#[tokio::test]
async fn user_list_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("typo");
    let out = msnd(dir.path())
        .args(["user", "list", "--data-dir"])
        .arg(&data)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!data.exists(), "a read command created the data directory");
}

#[tokio::test]
async fn backup_copies_the_database_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = serve(d).await;
    let (ok, out) = user_cmd(d, &["add", "fay@hotmail.com", "--password", "pw"]).await;
    assert!(ok, "{out}");
    let copy_dir = d.join("copy");
    std::fs::create_dir(&copy_dir).unwrap();
    let dest = copy_dir.join("msnd.db");
    let out = msnd(d)
        .arg("backup")
        .arg(&dest)
        .arg("--data-dir")
        .arg(d)
        .arg("--config")
        .arg(write_config(d))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second backup to the same file is refused, not overwritten.
    let again = msnd(d)
        .arg("backup")
        .arg(&dest)
        .arg("--data-dir")
        .arg(d)
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    drop(server);
    let (ok, out) = user_cmd(&copy_dir, &["list"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("fay@hotmail.com"), "{out}");
}

#[tokio::test]
async fn probe_signs_in_and_lists_the_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write_config_with(d, "[http]\nport = 0\n");
    let server = serve_with(d, config.clone(), true).await;
    let http = server.http.expect("HTTP service");
    for (email, name) in [("gus@hotmail.com", "Gus"), ("hal@hotmail.com", "Hal")] {
        let (ok, out) = user_cmd_with(
            d,
            &config,
            &[
                "add",
                email,
                "--password",
                "pw 1%",
                "--name",
                name,
                "--legacy-md5",
            ],
        )
        .await;
        assert!(ok, "{out}");
    }
    // Gus (MSN Messenger 4.x) adds Hal.
    let mut c = Client::login(server.ns, 7, "gus@hotmail.com", "pw 1%").await;
    c.send("ADD 9 FL hal@hotmail.com Hal").await;
    c.expect("ADD 9 FL 1 hal@hotmail.com Hal").await;
    drop(c);
    let probe = |email: &'static str, password: &'static str| {
        let config = config.clone();
        let d = d.to_path_buf();
        async move {
            msnd(&d)
                .args(["probe", email, "--password", password])
                .arg("--ns")
                .arg(server.ns.to_string())
                .arg("--http")
                .arg(http.to_string())
                .arg("--config")
                .arg(&config)
                .output()
                .await
                .unwrap()
        }
    };
    let out = probe("gus@hotmail.com", "pw 1%").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!(
            "signed in at {} as gus@hotmail.com (Gus): 1 contacts, 0 groups\n  \
             hal@hotmail.com",
            server.ns
        )),
        "{stdout}"
    );
    assert!(stdout.contains("lists  1  Hal"), "{stdout}");
    let out = probe("hal@hotmail.com", "pw 1%").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("gus@hotmail.com"), "{stdout}");
    // Pending: MSN Messenger 7.5 asks Hal whether to allow Gus.
    assert!(stdout.contains("lists 16  Gus"), "{stdout}");
    // An account with no contacts still shows its name.
    let (ok, out) = user_cmd_with(
        d,
        &config,
        &[
            "add",
            "ivy@hotmail.com",
            "--password",
            "pw 1%",
            "--name",
            "Ivy",
        ],
    )
    .await;
    assert!(ok, "{out}");
    let out = probe("ivy@hotmail.com", "pw 1%").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "signed in at {} as ivy@hotmail.com (Ivy): 0 contacts, 0 groups",
            server.ns
        )),
        "{stdout}"
    );
    let out = probe("gus@hotmail.com", "wrong").await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("password was refused"), "{stderr}");
}

/// With `shutdown_warning`, SIGTERM first shows every signed-in client the
/// "going down for maintenance in N minutes" system message, waits, then
/// shuts down as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_warning_tells_clients_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("warn.toml");
    std::fs::write(
        &config,
        "[passwords]\nargon2_memory_kib = 64\nargon2_iterations = 1\n\
         [server]\nshutdown_grace = \"2s\"\nshutdown_warning = \"1s\"\n",
    )
    .unwrap();
    let (ok, out) = user_cmd_with(
        d,
        &config,
        &[
            "add",
            "alice@hotmail.com",
            "--password",
            "pw",
            "--legacy-md5",
        ],
    )
    .await;
    assert!(ok, "{out}");
    let mut server = serve_with(d, config, false).await;
    let mut alice = Client::login(server.ns, 7, "alice@hotmail.com", "pw").await;
    alice.call("CHG {} NLN").await;
    signal(&server.child, "TERM").await;
    let notice = alice
        .wait_for("the system message", |f| f.command() == "MSG")
        .await;
    assert_eq!(notice.line(), "MSG Hotmail Hotmail 81");
    assert_eq!(
        notice.payload().unwrap().as_ref(),
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgssystemmessage\r\n\r\nType: 1\r\nArg1: 1\r\n"
    );
    // Then the usual shutdown.
    assert_eq!(alice.expect_eof().await, ["OUT SSD"]);
    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status}");
}

/// `msnd admin` as an operator runs it beside the server: it finds the
/// token the server wrote to the data directory, lists who is online, and
/// an immediate shutdown stops the process as SIGTERM does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msnd_admin_talks_to_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = write_config_with(d, "[http]\nport = 0\n");
    let (ok, out) = user_cmd_with(
        d,
        &config,
        &["add", "ivy@hotmail.com", "--password", "pw", "--legacy-md5"],
    )
    .await;
    assert!(ok, "{out}");
    let mut server = serve_with(d, config.clone(), true).await;
    let http = server.http.expect("HTTP service").to_string();
    let admin = |args: &'static [&'static str], token: Option<&'static str>| {
        let (config, d, http) = (config.clone(), d.to_path_buf(), http.clone());
        async move {
            let mut cmd = msnd(&d);
            cmd.arg("admin")
                .args(args)
                .args(["--http", &http])
                .arg("--data-dir")
                .arg(&d)
                .arg("--config")
                .arg(&config)
                .env_remove("MSND_ADMIN_TOKEN");
            if let Some(token) = token {
                cmd.env("MSND_ADMIN_TOKEN", token);
            }
            let out = cmd.output().await.unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let mut ivy = Client::login(server.ns, 7, "ivy@hotmail.com", "pw").await;
    ivy.call("CHG {} AWY").await;
    let (ok, out, err) = admin(&["online"], None).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "USER                                     STATUS VERSIONS\n\
         ivy@hotmail.com                          AWY    MSNP7\n\
         1 signed in (MSNP7: 1)\n"
    );
    let (ok, _, err) = admin(&["online"], Some("wrong-token-wrong-token")).await;
    assert!(!ok && err.contains("401"), "{err}");
    let (ok, out, err) = admin(&["broadcast", "Back soon"], None).await;
    assert!(ok && out == "notice sent to 1 users\n", "{out}{err}");
    ivy.wait_for("the notice", |f| f.command() == "NOT").await;
    let (ok, out, err) = admin(&["shutdown", "--in", "0"], None).await;
    assert!(ok && out == "shutting down now\n", "{out}{err}");
    assert_eq!(ivy.expect_eof().await, ["OUT SSD"]);
    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status}");
}
