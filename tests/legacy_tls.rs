//! The OpenSSL TLS backend (`--features legacy-tls`, `[http] tls_backend =
//! "openssl"`) against a real TLS client, the `openssl s_client` command:
//! TLS 1.0 with the RSA-key-exchange suites of the original clients, and
//! TLS 1.2; a Passport login and the NS sign-in with its ticket over TLS
//! 1.0; and rustls, the default, still refusing TLS 1.0. The 3DES suite of
//! Windows XP is tested in-process through the library itself when the
//! linked OpenSSL has it (distribution builds leave it out; the
//! `legacy-tls-vendored` build has it). Skipped, saying why, when the
//! `openssl` command is missing.

#![cfg(feature = "legacy-tls")]

mod support;

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use msn_config::TlsBackend;
use msn_http::cert::KeyType;
use msn_http::openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use support::{Client, TestServer};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// A port that was free a moment ago (`https_port = 0` means "off").
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server with HTTPS on `backend`, serving a certificate from `msnd
/// cert generate`'s code with a `key_type` key.
/// The directory holding the certificate goes with the server.
async fn https_server(backend: TlsBackend, key_type: KeyType) -> (TestServer, SocketAddr) {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) =
        msn_http::cert::generate_self_signed_with(certs.path(), &[], key_type).unwrap();
    let server = TestServer::start_with(|c| {
        c.http.https_port = free_port();
        c.http.tls_cert = Some(cert);
        c.http.tls_key = Some(key);
        c.http.tls_backend = backend;
    })
    .await;
    // Certificate and key are loaded: the files may go.
    drop(certs);
    let addr = server
        .app
        .as_ref()
        .unwrap()
        .http
        .https_addr
        .expect("HTTPS listens");
    (server, addr)
}

/// Whether the `openssl` command is there (else the test says it skips).
async fn have_openssl_command() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .await
        .is_ok_and(|out| out.status.success());
    if !found {
        eprintln!(
            "skipped: no `openssl` command on this machine (Debian: apt-get install openssl)"
        );
    }
    found
}

/// What `openssl s_client` printed for one connection.
struct Session {
    ok: bool,
    /// Everything on stdout: the handshake report and the HTTP response.
    output: String,
}

impl Session {
    /// A field of the "SSL-Session:" block ("Protocol", "Cipher").
    fn field(&self, name: &str) -> Option<&str> {
        self.output.lines().find_map(|line| {
            let (key, value) = line.trim().split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    }

    /// The HTTP response, from its status line on.
    fn response(&self) -> Option<&str> {
        self.output
            .find("HTTP/1.1 ")
            .map(|start| &self.output[start..])
    }
}

/// Runs `openssl s_client` against `addr` with `args` (protocol and cipher
/// choice), sends `request` and reads until the server closes.
async fn s_client(addr: SocketAddr, args: &[&str], request: &str) -> Session {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", "nexus.passport.com", "-ign_eof"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl s_client runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(request.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("s_client finishes")
        .unwrap();
    let output = String::from_utf8_lossy(&out.stdout).into_owned();
    Session {
        ok: out.status.success(),
        output,
    }
}

/// What MSN Messenger 5.0–7.0 ask first (HTTP/1.1, as they do; the server
/// closes after the answer).
const NEXUS: &str =
    "GET /rdr/pprdr.asp HTTP/1.1\r\nHost: nexus.passport.com\r\nConnection: close\r\n\r\n";

/// TLS 1.0 with `AES128-SHA` (`TLS_RSA_WITH_AES_128_CBC_SHA`: RSA key
/// exchange, what Windows Vista/7's SChannel offers at TLS 1.0) and TLS
/// 1.2 both reach the Passport nexus, header spelling intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_backend_speaks_tls_1_0_and_1_2() {
    if !have_openssl_command().await {
        return;
    }
    let (server, addr) = https_server(TlsBackend::Openssl, KeyType::Rsa).await;

    let tls10 = s_client(addr, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"], NEXUS).await;
    assert!(tls10.ok, "{}", tls10.output);
    assert_eq!(tls10.field("Protocol"), Some("TLSv1"), "{}", tls10.output);
    assert_eq!(
        tls10.field("Cipher"),
        Some("AES128-SHA"),
        "{}",
        tls10.output
    );
    let response = tls10
        .response()
        .unwrap_or_else(|| panic!("no HTTP response in {}", tls10.output));
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("\r\nPassportURLs: "), "{response}");

    let tls12 = s_client(addr, &["-tls1_2"], NEXUS).await;
    assert!(tls12.ok, "{}", tls12.output);
    assert_eq!(tls12.field("Protocol"), Some("TLSv1.2"), "{}", tls12.output);
    // The server's first choice: forward secrecy with an AEAD.
    assert_eq!(
        tls12.field("Cipher"),
        Some("ECDHE-RSA-AES128-GCM-SHA256"),
        "{}",
        tls12.output
    );
    assert!(
        tls12
            .response()
            .is_some_and(|r| r.contains("\r\nPassportURLs: ")),
        "{}",
        tls12.output
    );

    let tls13 = s_client(addr, &["-tls1_3"], NEXUS).await;
    assert!(tls13.ok, "{}", tls13.output);
    assert_eq!(tls13.field("Protocol"), Some("TLSv1.3"), "{}", tls13.output);
    server.stop().await;
}

/// MSN Messenger 6.x's sign-in over TLS 1.0: a Passport 1.4 ticket from
/// `login2.srf`, then `USR TWN S` with it on the NS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passport_login_over_tls_1_0_signs_in() {
    if !have_openssl_command().await {
        return;
    }
    let (server, addr) = https_server(TlsBackend::Openssl, KeyType::Rsa).await;
    server.user("alice@hotmail.com", "secret", "Alice").await;
    let request = "GET /login2.srf HTTP/1.1\r\nHost: login.passport.com\r\nConnection: close\r\n\
         Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
         sign-in=alice%40hotmail.com,pwd=secret,lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
         ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619\r\n\r\n";
    let session = s_client(
        addr,
        &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"],
        request,
    )
    .await;
    assert_eq!(
        session.field("Protocol"),
        Some("TLSv1"),
        "{}",
        session.output
    );
    let response = session
        .response()
        .unwrap_or_else(|| panic!("no HTTP response in {}", session.output));
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let (_, rest) = response.split_once("from-PP='").expect("a ticket");
    let ticket = rest.split_once('\'').unwrap().0;
    let mut alice = Client::login_twn(server.ns, 10, "alice@hotmail.com", ticket).await;
    alice.call("CHG {} NLN").await;
    server.stop().await;
}

/// rustls, the default backend, refuses TLS 1.0 as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_backend_still_refuses_tls_1_0() {
    if !have_openssl_command().await {
        return;
    }
    let (server, addr) = https_server(TlsBackend::Rustls, KeyType::Rsa).await;
    let tls10 = s_client(addr, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"], NEXUS).await;
    assert!(!tls10.ok, "{}", tls10.output);
    assert!(tls10.response().is_none(), "{}", tls10.output);
    // TLS 1.2 works there.
    let tls12 = s_client(addr, &["-tls1_2"], NEXUS).await;
    assert!(tls12.ok, "{}", tls12.output);
    assert_eq!(tls12.field("Protocol"), Some("TLSv1.2"), "{}", tls12.output);
    server.stop().await;
}

/// Windows XP's offer, reproduced with the linked OpenSSL as the client:
/// TLS 1.0 and nothing stronger than `DES-CBC3-SHA`
/// (`TLS_RSA_WITH_3DES_EDE_CBC_SHA`). Skipped when the library has no
/// 3DES (distribution builds); the server then warns at start that XP
/// clients cannot connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_xp_cipher_when_the_library_has_it() {
    let xp = msn_http::tls::legacy::XP_CIPHER;
    if !msn_http::tls::legacy::library_has(xp) {
        eprintln!(
            "skipped: {} has no {xp} (build with --features legacy-tls-vendored for it)",
            msn_http::openssl::version::version()
        );
        return;
    }
    let (server, addr) = https_server(TlsBackend::Openssl, KeyType::Rsa).await;
    let (version, cipher, response) = tokio::task::spawn_blocking(move || {
        let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
        connector.set_security_level(0);
        connector
            .set_min_proto_version(Some(SslVersion::TLS1))
            .unwrap();
        connector
            .set_max_proto_version(Some(SslVersion::TLS1))
            .unwrap();
        connector.set_cipher_list("DES-CBC3-SHA:RC4-SHA").unwrap();
        // The self-signed certificate is trusted by import on a real client.
        connector.set_verify(SslVerifyMode::NONE);
        let connector = connector.build();
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = connector.connect("nexus.passport.com", tcp).unwrap();
        tls.write_all(NEXUS.as_bytes()).unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).unwrap();
        let ssl = tls.ssl();
        (
            ssl.version_str().to_owned(),
            ssl.current_cipher().unwrap().name().to_owned(),
            response,
        )
    })
    .await
    .unwrap();
    assert_eq!(version, "TLSv1");
    assert_eq!(cipher, xp);
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("\r\nPassportURLs: "), "{response}");
    server.stop().await;
}

/// The backend's start-up warnings name what clients it will fail.
#[tokio::test]
async fn config_check_reports_the_openssl_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) =
        msn_http::cert::generate_self_signed_with(dir.path(), &[], KeyType::Ecdsa).unwrap();
    let file: PathBuf = dir.path().join("msnd.toml");
    std::fs::write(
        &file,
        format!(
            "[http]\nhttps_port = 443\ntls_backend = \"openssl\"\ntls_cert = {:?}\ntls_key = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_msnd"))
        .args(["config", "check"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(":443 (OpenSSL "), "{stdout}");
    assert!(stdout.contains("TLS 1.0 to 1.3"), "{stdout}");
    // An ECDSA key works for current clients, not for XP: said, not refused.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("warning: https: ") && l.contains("not an RSA key")),
        "{stdout}"
    );
}

/// `msnd cert generate --key-type rsa` writes an RSA key and says to use the
/// OpenSSL backend with it.
#[tokio::test]
async fn cert_generate_makes_rsa_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_msnd"))
        .args(["cert", "generate", "--key-type", "rsa", "--out"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("tls_backend = \"openssl\""), "{stdout}");
    let pem = std::fs::read(dir.path().join(msn_http::cert::KEY_FILE)).unwrap();
    let key = msn_http::openssl::pkey::PKey::private_key_from_pem(&pem).unwrap();
    assert_eq!(key.id(), msn_http::openssl::pkey::Id::RSA);
}
