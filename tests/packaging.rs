//! What an operator's packaging relies on, through the built binary:
//! `msnd config check` (the configuration `serve` would run, or the key
//! that is wrong) and the systemd notifications of a `Type=notify` unit
//! (`READY=1` once the listeners are up, watchdog pings, `STOPPING=1` on
//! SIGTERM).

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

/// `msnd` with no `MSND_*` configuration from the test's own environment.
fn msnd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msnd"));
    cmd.env("NO_COLOR", "1").env_remove("RUST_LOG");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MSND_") {
            cmd.env_remove(name);
        }
    }
    cmd.kill_on_drop(true);
    cmd
}

async fn config_check(file: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = msnd();
    cmd.args(["config", "check"]).arg(file);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn config_check_sums_up_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msnd.toml");
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1\"\ndata_dir = \"/var/lib/msnd\"\n\
         [dispatch]\nport = 1863\n[notification]\nport = 1864\n\
         [switchboard]\nadvertise = \"sb.example.net:1865\"\n\
         [http]\nport = 80\n",
    )
    .unwrap();
    let out = config_check(&file, &[("MSND_SERVER__PUBLIC_HOST", "msn.example.net")]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "ok: {}, with MSND_SERVER__PUBLIC_HOST from the environment",
            file.display()
        )
    );
    let summary: Vec<&str> = lines.collect();
    for expected in [
        "dispatch      127.0.0.1:1863",
        "notification  127.0.0.1:1864",
        "switchboard   127.0.0.1:1865 (advertised as sb.example.net:1865)",
        "http          127.0.0.1:80",
        "https         off",
        "public host   msn.example.net",
        "database      SQLite, /var/lib/msnd/msnd.db",
        "cluster       off (one node)",
    ] {
        assert!(
            summary.iter().any(|l| l.trim() == expected),
            "{expected:?} missing from\n{stdout}"
        );
    }
}

/// A configuration `config check` must refuse: the file, the environment,
/// and what the message must say.
type Case<'a> = (PathBuf, Vec<(&'a str, &'a str)>, Vec<String>);

#[tokio::test]
async fn config_check_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, body: &str| {
        let path = d.join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let cert = d.join("missing-cert.pem");
    let cases: Vec<Case> = vec![
        (
            write("type.toml", "[notification]\nport = \"high\"\n"),
            vec![],
            vec!["type.toml".into(), "notification.port".into()],
        ),
        (
            write("unknown.toml", "[http]\nprot = 80\n"),
            vec![],
            vec!["unknown.toml".into(), "prot".into()],
        ),
        (
            write("value.toml", "[limits]\nmax_line_bytes = 10\n"),
            vec![],
            vec!["value.toml".into(), "limits.max_line_bytes".into()],
        ),
        (
            write("ok.toml", ""),
            vec![("MSND_GATEWAY__IDLE_TIMEOUT", "soon")],
            vec!["gateway.idle_timeout".into(), "MSND_".into()],
        ),
        (
            write(
                "tls.toml",
                &format!(
                    "[http]\nhttps_port = 8443\ntls_cert = {:?}\ntls_key = {:?}\n",
                    cert.display().to_string(),
                    cert.display().to_string()
                ),
            ),
            vec![],
            vec!["tls.toml".into(), cert.display().to_string()],
        ),
        (
            write("nokey.toml", "[http]\nhttps_port = 8443\n"),
            vec![],
            vec!["http.tls_cert".into()],
        ),
        (
            write("ciphers.toml", "[http]\ntls_ciphers = \"AES128-SHA\"\n"),
            vec![],
            vec!["http.tls_ciphers".into()],
        ),
        (d.join("absent.toml"), vec![], vec!["absent.toml".into()]),
        // Several nodes need the shared PostgreSQL database.
        (
            write(
                "cluster.toml",
                "[cluster]\nnats_url = \"nats://nats.example:4222\"\n",
            ),
            vec![],
            vec!["cluster.nats_url".into(), "PostgreSQL".into()],
        ),
    ];
    for (file, env, needles) in cases {
        let out = config_check(&file, &env).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", file.display());
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        for needle in needles {
            assert!(stderr.contains(&needle), "{needle:?} not in {stderr}");
        }
    }
}

/// A build without the OpenSSL backend says so when the configuration asks
/// for it, at `config check` and at `serve`, and when asked for an RSA key.
#[cfg(not(feature = "legacy-tls"))]
#[tokio::test]
async fn the_openssl_backend_needs_its_feature() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msnd.toml");
    std::fs::write(&file, "[http]\ntls_backend = \"openssl\"\n").unwrap();
    let out = config_check(&file, &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--features legacy-tls"), "{stderr}");
    let out = msnd()
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--ds-port",
            "0",
            "--ns-port",
            "0",
        ])
        .args(["--sb-port", "0", "--http-port", "0", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--features legacy-tls"), "{stderr}");
    // RSA keys are made with OpenSSL too.
    let out = msnd()
        .args(["cert", "generate", "--key-type", "rsa", "--out"])
        .arg(dir.path().join("tls"))
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--features legacy-tls"), "{stderr}");
}

/// Receives the next notification datagram (bounded wait: a server that
/// never notifies fails the test instead of hanging it).
async fn next_notification(socket: &tokio::net::UnixDatagram) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(30), socket.recv(&mut buf))
        .await
        .expect("a notification")
        .unwrap();
    text(&buf[..n])
}

/// Under systemd (`NOTIFY_SOCKET` set), `msnd serve` says `READY=1` once
/// every listener is up — they accept connections by then — pings the
/// watchdog when `WATCHDOG_USEC` asks for it, and says `STOPPING=1` with
/// the time it needs on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_notifies_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let socket_path = d.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = tokio::net::UnixDatagram::from_std(socket).unwrap();
    let config = d.join("msnd.toml");
    std::fs::write(
        &config,
        "[passwords]\nargon2_memory_kib = 64\nargon2_iterations = 1\n\
         [server]\nshutdown_grace = \"1s\"\n",
    )
    .unwrap();
    let mut child = msnd()
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--ds-port",
            "0",
            "--ns-port",
            "0",
        ])
        .args(["--sb-port", "0", "--http-port", "0", "--data-dir"])
        .arg(d)
        .arg("--config")
        .arg(&config)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();

    let ready = next_notification(&socket).await;
    let fields: Vec<&str> = ready.lines().collect();
    assert!(fields.contains(&"READY=1"), "{ready}");
    let status = fields
        .iter()
        .find_map(|f| f.strip_prefix("STATUS=serving: "))
        .unwrap_or_else(|| panic!("no status in {ready}"));
    // Every listener named in the status accepts connections now.
    let mut named = 0;
    for part in status.split(", ") {
        let (service, addr) = part.split_once(' ').unwrap();
        assert!(["DS", "NS", "SB", "HTTP"].contains(&service), "{status}");
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{service} at {addr}: {e}"));
        named += 1;
    }
    assert_eq!(named, 4, "{status}");

    assert_eq!(next_notification(&socket).await, "WATCHDOG=1\n");

    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let stopping = loop {
        let message = next_notification(&socket).await;
        if message != "WATCHDOG=1\n" {
            break message;
        }
    };
    let fields: Vec<&str> = stopping.lines().collect();
    assert!(fields.contains(&"STOPPING=1"), "{stopping}");
    // The grace period (1 s) and a margin, in microseconds.
    let extend: u64 = fields
        .iter()
        .find_map(|f| f.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .unwrap_or_else(|| panic!("no EXTEND_TIMEOUT_USEC in {stopping}"))
        .parse()
        .unwrap();
    assert!(extend >= 1_000_000, "{stopping}");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status}");
}

/// `msnd config check --help` says what it does and what FILE is.
#[tokio::test]
async fn config_check_help_describes_it() {
    let out = msnd()
        .args(["config", "check", "--help"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Usage: msnd config check [FILE]"), "{help}");
    assert!(help.contains("[FILE]  Configuration file"), "{help}");
    assert!(help.contains("exit with status 1"), "{help}");
}

/// The annotated default file passes as it is.
#[tokio::test]
async fn config_default_passes_config_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.toml");
    let out = msnd().args(["config", "default"]).output().await.unwrap();
    std::fs::write(&file, &out.stdout).unwrap();
    let out = config_check(&file, &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ok: "));
}
