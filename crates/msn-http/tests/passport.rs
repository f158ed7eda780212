//! Black-box tests of the Passport 1.4 services over real sockets: raw TCP
//! and TLS where the exact header bytes matter, reqwest where a client
//! library's view is the point (msnp11-sdk uses reqwest).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use msn_config::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

mod common;
use common::{Env, LIMIT};

const ACCOUNTS: &[(&str, &str)] = &[
    ("alice@hotmail.com", "p@ss,word"),
    ("bob@example.com", "hunter2"),
];

/// The parameter string an NS sends in `USR TWN S` (msnp8-login.txt).
const TWN: &str = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619";
const FAILED_LINE: &str =
    "\r\nWWW-Authenticate: Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt\r\n";

/// A port that was free a moment ago (https_port 0 means "off").
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `request` and returns everything the server wrote until it
/// closed the connection.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut response))
        .await
        .expect("server answers and closes")
        .unwrap();
    String::from_utf8(response).unwrap()
}

async fn get(addr: SocketAddr, path: &str, extra_headers: &str) -> String {
    get_from([127, 0, 0, 1], addr, path, extra_headers).await
}

/// [`get`] from the local address `from` (any of 127.0.0.0/8 on Linux):
/// another client address as far as the server can tell.
async fn get_from(from: [u8; 4], addr: SocketAddr, path: &str, extra_headers: &str) -> String {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    exchange(
        stream,
        &format!("GET {path} HTTP/1.1\r\nHost: nexus.passport.com\r\n{extra_headers}Connection: close\r\n\r\n"),
    )
    .await
}

/// The value of header `name`, matched case-sensitively as the genuine
/// clients do.
fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = &response[..response.find("\r\n\r\n").expect("complete head")];
    head.split("\r\n")
        .skip(1)
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

fn login_header(sign_in: &str, pwd: &str) -> String {
    format!(
        "Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={sign_in},pwd={pwd},{TWN}\r\n"
    )
}

/// The ticket as a genuine client reads it: between `from-PP='` and the
/// next quote.
fn from_pp(authentication_info: &str) -> &str {
    let rest = authentication_info.split_once("from-PP='").unwrap().1;
    rest.split('\'').next().unwrap()
}

#[tokio::test]
async fn nexus_announces_the_login_url_with_the_exact_header_name() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let port = env.http_addr().port();
    let response = get(env.http_addr(), "/rdr/pprdr.asp", "").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains(&format!(
            "\r\nPassportURLs: DALogin=http://127.0.0.1:{port}/login2.srf\r\n"
        )),
        "{response}"
    );
    assert_eq!(header(&response, "Content-Length"), Some("0"));
    assert!(response.ends_with("\r\n\r\n"), "no body: {response}");
    assert_eq!(
        env.http.login_url.as_deref(),
        Some(format!("http://127.0.0.1:{port}/login2.srf").as_str())
    );
    env.stop().await;
}

#[tokio::test]
async fn login_issues_a_ticket_the_ns_can_redeem_once() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    // The genuine client's request: sign-in and pwd URL-encoded; the
    // password contains '@' and ','. Mixed case in the sign-in name.
    let response = get(
        env.http_addr(),
        "/login2.srf",
        &login_header("Alice%40Hotmail.com", "p%40ss%2Cword"),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let info = header(&response, "Authentication-Info").expect("Authentication-Info");
    assert!(
        info.starts_with(
            "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t="
        ),
        "{info}"
    );
    assert!(info.ends_with('\''), "from-PP comes last: {info}");
    let ticket = from_pp(info);
    assert!(ticket.contains("&p="), "{ticket}");

    let grant = env
        .redeem(ticket, "alice@hotmail.com")
        .expect("ticket is valid");
    assert_eq!(grant.handle.as_str(), "alice@hotmail.com");
    let alice = env
        .ctx
        .store
        .user("alice@hotmail.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.user_id, alice.id);
    assert!(
        env.redeem(ticket, "alice@hotmail.com").is_none(),
        "single use"
    );

    // /login.srf is the same service; each login gets a fresh ticket.
    let again = get(
        env.http_addr(),
        "/login.srf",
        &login_header("alice%40hotmail.com", "p%40ss%2Cword"),
    )
    .await;
    let second = from_pp(header(&again, "Authentication-Info").unwrap()).to_owned();
    assert_ne!(second, ticket);
    assert!(env.redeem(&second, "alice@hotmail.com").is_some());
    env.stop().await;
}

/// msnp11-sdk's Passport code, step by step (msnp11-sdk notes §1.3): it
/// reads `PassportURLs` through reqwest, strips `DALogin=` from the whole
/// value, sends sign-in and pwd without encoding them and takes
/// everything after `from-PP='` with the quotes deleted.
#[tokio::test]
async fn msnp11_sdk_flow_with_an_unencoded_password() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let client = reqwest::Client::new();
    let nexus = client
        .get(format!("http://{}/rdr/pprdr.asp", env.http_addr()))
        .send()
        .await
        .unwrap();
    let value = nexus.headers()["PassportURLs"].to_str().unwrap();
    let mut url = value.replace("DALogin=", "");
    if !url.starts_with("http") {
        url = format!("https://{url}");
    }
    let auth = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=bob@example.com,pwd=hunter2,{TWN}"
    );
    let reply = client
        .get(&url)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let info = reply.headers()["Authentication-Info"].to_str().unwrap();
    let token = info.split("from-PP='").nth(1).unwrap().replace('\'', "");
    let grant = env
        .redeem(&token, "bob@example.com")
        .expect("the SDK's token is the ticket");
    assert_eq!(grant.handle.as_str(), "bob@example.com");

    // Its form of alice's password: '@' and ',' unencoded.
    let auth = format!("Passport1.4 OrgVerb=GET,sign-in=alice@hotmail.com,pwd=p@ss,word,{TWN}");
    let reply = client
        .get(&url)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    env.stop().await;
}

#[tokio::test]
async fn bad_credentials_get_401_and_no_ticket() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let cases = [
        login_header("alice%40hotmail.com", "wrong"),
        login_header("alice%40hotmail.com", "p%40ss"),
        login_header("nobody%40hotmail.com", "p%40ss%2Cword"),
        login_header("not-an-address", "x"),
        login_header("bob%40example.com", ""),
        "Authorization: Passport1.4 OrgVerb=GET,OrgURL=x\r\n".to_owned(),
        "Authorization: Basic Ym9iOmh1bnRlcjI=\r\n".to_owned(),
        "Authorization: \r\n".to_owned(),
        String::new(),
    ];
    for extra in &cases {
        let response = get(env.http_addr(), "/login2.srf", extra).await;
        assert!(
            response.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{extra:?}: {response}"
        );
        assert!(response.contains(FAILED_LINE), "{extra:?}: {response}");
        assert!(!response.contains("from-PP"), "{extra:?}: {response}");
        assert!(
            header(&response, "Authentication-Info").is_none(),
            "{extra:?}"
        );
    }
    env.stop().await;
}

/// A disabled account is refused with its right password, and gets in
/// again once enabled.
#[tokio::test]
async fn a_disabled_account_is_refused() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let right = login_header("alice%40hotmail.com", "p%40ss%2Cword");
    let ok = get(env.http_addr(), "/login2.srf", &right).await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(
        env.ctx
            .store
            .set_disabled("alice@hotmail.com", true)
            .await
            .unwrap()
    );
    let refused = get(env.http_addr(), "/login2.srf", &right).await;
    assert!(
        refused.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{refused}"
    );
    assert!(
        env.ctx
            .store
            .set_disabled("alice@hotmail.com", false)
            .await
            .unwrap()
    );
    let ok = get(env.http_addr(), "/login2.srf", &right).await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    env.stop().await;
}

/// Throttling on: no exempt networks (the tests run on loopback), a cooldown
/// far longer than any test.
fn throttled(config: &mut Config, per_address: u32, per_account: u32) {
    config.limits.exempt_networks.clear();
    let t = &mut config.login_throttle;
    t.max_failures_per_address = per_address;
    t.max_failures_per_account = per_account;
    t.cooldown = std::time::Duration::from_secs(3600);
}

/// The number of seconds in `Retry-After`.
fn retry_after(response: &str) -> u64 {
    header(response, "Retry-After")
        .expect("Retry-After")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn wrong_passwords_from_one_address_get_429_and_others_still_sign_in() {
    let env = Env::start(ACCOUNTS, |c, _| throttled(c, 3, 0)).await;
    let wrong = login_header("alice%40hotmail.com", "guess");
    let right = login_header("alice%40hotmail.com", "p%40ss%2Cword");
    for _ in 0..3 {
        let r = get(env.http_addr(), "/login2.srf", &wrong).await;
        assert!(r.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{r}");
    }
    // The address is locked out: the right password is not even checked,
    // for this account or any other.
    for extra in [&right, &login_header("bob%40example.com", "hunter2")] {
        let r = get(env.http_addr(), "/login2.srf", extra).await;
        assert!(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{r}");
        assert!((3000..=3600).contains(&retry_after(&r)), "{r}");
        assert!(!r.contains("from-PP"), "{r}");
    }
    // The owner, from another address, gets in at once.
    let r = get_from([127, 0, 0, 2], env.http_addr(), "/login2.srf", &right).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(header(&r, "Authentication-Info").is_some(), "{r}");
    let stats = env.ctx.login_throttle.stats();
    assert_eq!((stats.failures, stats.refused, stats.lockouts), (3, 2, 1));
    env.stop().await;
}

#[tokio::test]
async fn an_account_guessed_at_is_refused_only_to_the_guessers() {
    let env = Env::start(ACCOUNTS, |c, _| throttled(c, 0, 2)).await;
    let wrong = login_header("alice%40hotmail.com", "guess");
    let right = login_header("alice%40hotmail.com", "p%40ss%2Cword");
    for _ in 0..2 {
        let r = get(env.http_addr(), "/login2.srf", &wrong).await;
        assert!(r.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{r}");
    }
    let r = get(env.http_addr(), "/login2.srf", &right).await;
    assert!(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{r}");
    // Other accounts from the same address, and the account from an
    // address that did not fail, are not affected.
    let r = get(
        env.http_addr(),
        "/login2.srf",
        &login_header("bob%40example.com", "hunter2"),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    let r = get_from([127, 0, 0, 2], env.http_addr(), "/login2.srf", &right).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    env.stop().await;
}

#[tokio::test]
async fn health_check_and_unknown_paths() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let response = get(env.http_addr(), "/healthz", "").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");
    for path in ["/", "/rdr/pprdr.aspx", "/RST3.srf", "/login3.srf"] {
        let response = get(env.http_addr(), path, "").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{path}: {response}"
        );
    }
    env.stop().await;
}

/// Several responses on one connection — a HEAD (a head whose
/// Content-Length announces a body that is not sent), bodies, a 404, a
/// 401 — and every head still gets its canonical names.
#[tokio::test]
async fn header_case_survives_keep_alive_and_pipelining() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let port = env.http_addr().port();
    let stream = TcpStream::connect(env.http_addr()).await.unwrap();
    let h = "Host: nexus.passport.com\r\n";
    let requests = format!(
        "HEAD /healthz HTTP/1.1\r\n{h}\r\n\
         GET /rdr/pprdr.asp HTTP/1.1\r\n{h}\r\n\
         GET /healthz HTTP/1.1\r\n{h}\r\n\
         GET /nowhere HTTP/1.1\r\n{h}\r\n\
         GET /login2.srf HTTP/1.1\r\n{h}{}\
         GET /rdr/pprdr.asp HTTP/1.1\r\n{h}Connection: close\r\n\r\n",
        login_header("bob%40example.com", "wrong") + "\r\n"
    );
    let response = exchange(stream, &requests).await;
    let nexus_line = format!("\r\nPassportURLs: DALogin=http://127.0.0.1:{port}/login2.srf\r\n");
    assert_eq!(response.matches("HTTP/1.1 ").count(), 6, "{response}");
    // The HEAD response announces two bytes but sends none.
    let head_end = response.find("\r\n\r\n").unwrap() + 4;
    assert!(response[..head_end].contains("\r\nContent-Length: 2\r\n"));
    assert!(
        response[head_end..].starts_with("HTTP/1.1 200 OK\r\nPassportURLs: "),
        "{response}"
    );
    assert_eq!(response.matches(&nexus_line).count(), 2, "{response}");
    assert_eq!(response.matches(FAILED_LINE).count(), 1, "{response}");
    assert!(!response.contains("\r\npassporturls"), "{response}");
    assert!(!response.contains("\r\nwww-authenticate"), "{response}");
    env.stop().await;
}

fn tls_client(cert: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_get(cert: &Path, addr: SocketAddr, host: &str, path: &str, extra: &str) -> String {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let tls = timeout(LIMIT, tls_client(cert).connect(name, tcp))
        .await
        .unwrap()
        .expect("handshake with the generated certificate");
    exchange(
        tls,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"),
    )
    .await
}

fn with_tls(config: &mut Config, dir: &Path) -> PathBuf {
    let (cert, key) = msn_http::generate_self_signed(&dir.join("tls"), &[]).unwrap();
    config.http.https_port = free_port();
    config.http.tls_cert = Some(cert.clone());
    config.http.tls_key = Some(key);
    cert
}

#[tokio::test]
async fn https_with_a_generated_certificate() {
    let mut cert = PathBuf::new();
    let env = Env::start(ACCOUNTS, |c, dir| cert = with_tls(c, dir)).await;
    let https = env.http.https_addr.expect("HTTPS runs");
    let http_port = env.http_addr().port();

    // Exact bytes over TLS, under a host name the clients have compiled in.
    let response = tls_get(&cert, https, "nexus.passport.com", "/rdr/pprdr.asp", "").await;
    assert!(
        response.contains(&format!(
            "\r\nPassportURLs: DALogin=http://127.0.0.1:{http_port}/login2.srf\r\n"
        )),
        "plain HTTP is preferred when both run: {response}"
    );
    let response = tls_get(
        &cert,
        https,
        "login.passport.com",
        "/login2.srf",
        &login_header("bob%40example.com", "nope"),
    )
    .await;
    assert!(response.contains(FAILED_LINE), "{response}");

    // A client library trusting only that certificate.
    let pem = std::fs::read(&cert).unwrap();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve("loginnet.passport.com", https)
        .build()
        .unwrap();
    let reply = client
        .get(format!(
            "https://loginnet.passport.com:{}/login2.srf",
            https.port()
        ))
        .header(
            "Authorization",
            login_header("bob%40example.com", "hunter2")
                .trim_end()
                .trim_start_matches("Authorization: "),
        )
        .send()
        .await
        .expect("certificate accepted");
    assert_eq!(reply.status(), 200);
    let info = reply.headers()["Authentication-Info"].to_str().unwrap();
    assert!(env.redeem(from_pp(info), "bob@example.com").is_some());
    env.stop().await;
}

#[tokio::test]
async fn https_only_announces_an_https_login_url() {
    let mut cert = PathBuf::new();
    let env = Env::start(ACCOUNTS, |c, dir| {
        cert = with_tls(c, dir);
        c.http.enabled = false;
    })
    .await;
    assert!(env.http.http_addr.is_none());
    let https = env.http.https_addr.unwrap();
    let response = tls_get(&cert, https, "nexus.passport.com", "/rdr/pprdr.asp", "").await;
    assert!(
        response.contains(&format!(
            "\r\nPassportURLs: DALogin=https://127.0.0.1:{}/login2.srf\r\n",
            https.port()
        )),
        "{response}"
    );
    // 127.0.0.1 is in the certificate too.
    let response = tls_get(&cert, https, "127.0.0.1", "/healthz", "").await;
    assert!(response.ends_with("\r\n\r\nok"), "{response}");
    env.stop().await;
}

#[tokio::test]
async fn configured_login_url_is_sent_verbatim() {
    let env = Env::start(ACCOUNTS, |c, _| {
        c.http.login_url = "login.example.net/login2.srf".into()
    })
    .await;
    let response = get(env.http_addr(), "/rdr/pprdr.asp", "").await;
    assert_eq!(
        header(&response, "PassportURLs"),
        Some("DALogin=login.example.net/login2.srf")
    );
    env.stop().await;
}

#[tokio::test]
async fn advertised_address_in_the_login_url() {
    let env = Env::start(ACCOUNTS, |c, _| {
        c.http.advertise = Some("login.example.net:80".into());
    })
    .await;
    let response = get(env.http_addr(), "/rdr/pprdr.asp", "").await;
    assert_eq!(
        header(&response, "PassportURLs"),
        Some("DALogin=http://login.example.net/login2.srf")
    );
    assert_eq!(
        env.http.login_url.as_deref(),
        Some("http://login.example.net/login2.srf")
    );
    env.stop().await;
}

#[tokio::test]
async fn logins_beyond_the_hashing_limit_wait_their_turn() {
    let env = Env::start(ACCOUNTS, |c, _| c.http.max_concurrent_hashes = 1).await;
    let addr = env.http_addr();
    let logins: Vec<_> = (0..8)
        .map(|i| {
            let pwd = if i % 2 == 0 { "hunter2" } else { "wrong" };
            tokio::spawn(async move {
                get(addr, "/login2.srf", &login_header("bob%40example.com", pwd)).await
            })
        })
        .collect();
    for (i, login) in logins.into_iter().enumerate() {
        let response = login.await.unwrap();
        let expected = if i % 2 == 0 {
            "HTTP/1.1 200 "
        } else {
            "HTTP/1.1 401 "
        };
        assert!(response.starts_with(expected), "{i}: {response}");
    }
    env.stop().await;
}

/// With every place among the running and waiting password checks taken,
/// a login is refused at once with `503` and `Retry-After`, whatever its
/// password, and is checked again as soon as a place is free.
#[tokio::test]
async fn logins_beyond_the_waiting_cap_get_503_at_once() {
    for waiting in [0, 1] {
        let env = Env::start(ACCOUNTS, |c, _| {
            c.http.max_concurrent_hashes = 1;
            c.http.max_pending_logins = waiting;
        })
        .await;
        let addr = env.http_addr();
        // Stand-ins for logins being checked or waiting (shared with the NS).
        let mut held: Vec<_> = (0..=waiting)
            .map(|_| env.ctx.passwords.try_admit().unwrap())
            .collect();
        for pwd in ["hunter2", "wrong"] {
            let response = get(addr, "/login2.srf", &login_header("bob%40example.com", pwd)).await;
            assert!(
                response.starts_with("HTTP/1.1 503 "),
                "{waiting}: {response}"
            );
            assert_eq!(header(&response, "Retry-After"), Some("5"), "{response}");
            assert_eq!(header(&response, "Authentication-Info"), None);
            assert_eq!(header(&response, "WWW-Authenticate"), None);
        }
        held.pop();
        let response = get(
            addr,
            "/login2.srf",
            &login_header("bob%40example.com", "hunter2"),
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
        let response = get(addr, "/login2.srf", &login_header("bob%40example.com", "x")).await;
        assert!(response.starts_with("HTTP/1.1 401 "), "{response}");
        drop(held);
        env.stop().await;
    }
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_stops_listening() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let addr = env.http_addr();
    // A keep-alive connection that has been used and is now idle.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !seen.ends_with(b"\r\n\r\nok") {
        let n = timeout(LIMIT, idle.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }

    env.ctx.shutdown.cancel();
    timeout(LIMIT, env.http.wait())
        .await
        .expect("wait() completes");
    // The idle connection was closed by the server…
    let n = timeout(LIMIT, idle.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    // …and nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
    env.ctx.store.close().await;
}
