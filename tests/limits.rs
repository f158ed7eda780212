//! Limits that protect the server from one client address: the failed-login
//! throttle on the NS password logins (and shared with HTTP), the
//! per-address connection caps, and the handshake timeout. The tests run on
//! loopback, so each one empties `limits.exempt_networks`; a second client
//! address is 127.0.0.2 (any 127/8 address is local on Linux).

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use msn_server::Config;
use support::{Client, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ELSEWHERE: [u8; 4] = [127, 0, 0, 2];

/// One MD5 login (MSNP7) from `from`; the reply to `USR … MD5 S`: `USR n OK
/// …` or an error line such as `911 n`.
async fn md5_login(from: [u8; 4], ns: SocketAddr, email: &str, password: &str) -> String {
    let mut c = Client::connect_from(from, ns).await;
    c.call("VER {} MSNP7 CVR0").await;
    c.call("INF {}").await;
    let salt = c.call(&format!("USR {{}} MD5 I {email}")).await;
    let salt = salt.tokens().last().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
        "{salt}{password}"
    )));
    let reply = c.call(&format!("USR {{}} MD5 S {hash}")).await;
    reply.line().to_owned()
}

/// One CTP login (MSNP2, clear-text password) from `from`.
async fn ctp_login(from: [u8; 4], ns: SocketAddr, email: &str, password: &str) -> String {
    let mut c = Client::connect_from(from, ns).await;
    c.call("VER {} MSNP2").await;
    c.call("INF {}").await;
    c.call(&format!("USR {{}} CTP I {email}")).await;
    let reply = c.call(&format!("USR {{}} CTP S {password}")).await;
    reply.line().to_owned()
}

fn throttled(c: &mut Config, per_address: u32, per_account: u32) {
    c.limits.exempt_networks.clear();
    c.login_throttle.max_failures_per_address = per_address;
    c.login_throttle.max_failures_per_account = per_account;
    // Far longer than any test: the lockout holds throughout.
    c.login_throttle.cooldown = Duration::from_secs(3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_guesses_from_one_address_are_cut_off_and_the_owner_still_signs_in() {
    let s = TestServer::start_with(|c| throttled(c, 5, 0)).await;
    s.user("alice@hotmail.com", "secret", "Alice").await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    let local = [127, 0, 0, 1];
    for i in 0..5 {
        let reply = md5_login(local, s.ns, "alice@hotmail.com", &format!("guess{i}")).await;
        assert_eq!(reply, "911 4", "wrong password {i}");
    }
    // Locked out: the right password, for this account or another, gets
    // 911 without being checked.
    assert_eq!(
        md5_login(local, s.ns, "alice@hotmail.com", "secret").await,
        "911 4"
    );
    assert_eq!(
        md5_login(local, s.ns, "bob@hotmail.com", "pw").await,
        "911 4"
    );
    // Another address gets in at once.
    let ok = md5_login(ELSEWHERE, s.ns, "alice@hotmail.com", "secret").await;
    assert!(ok.starts_with("USR 4 OK alice@hotmail.com"), "{ok}");
    let stats = s.shared().login_throttle.stats();
    assert_eq!((stats.failures, stats.refused, stats.lockouts), (5, 2, 1));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_one_account_shuts_out_the_guesser_not_the_owner() {
    let s = TestServer::start_with(|c| {
        throttled(c, 0, 3);
        c.notification.ctp = true;
    })
    .await;
    s.user("alice@hotmail.com", "secret", "Alice").await;
    s.user("bob@hotmail.com", "pw", "Bob").await;
    let local = [127, 0, 0, 1];
    // Failures on both password logins count for the account.
    assert_eq!(
        md5_login(local, s.ns, "alice@hotmail.com", "guess").await,
        "911 4"
    );
    assert_eq!(
        ctp_login(local, s.ns, "alice@hotmail.com", "guess").await,
        "911 4"
    );
    assert_eq!(
        md5_login(local, s.ns, "ALICE@hotmail.com", "guess").await,
        "911 4"
    );
    // The guesser's address is refused the account, on either login.
    assert_eq!(
        md5_login(local, s.ns, "alice@hotmail.com", "secret").await,
        "911 4"
    );
    assert_eq!(
        ctp_login(local, s.ns, "alice@hotmail.com", "secret").await,
        "911 4"
    );
    // Other accounts from there, and the owner from elsewhere, get in.
    let bob = md5_login(local, s.ns, "bob@hotmail.com", "pw").await;
    assert!(bob.starts_with("USR 4 OK bob@hotmail.com"), "{bob}");
    let alice = ctp_login(ELSEWHERE, s.ns, "alice@hotmail.com", "secret").await;
    assert!(alice.starts_with("USR 4 OK alice@hotmail.com"), "{alice}");
    s.stop().await;
}

/// A wrong password on the NS counts on the HTTP login too: one throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ns_and_the_passport_login_share_the_throttle() {
    let s = TestServer::start_with(|c| throttled(c, 2, 0)).await;
    s.user("alice@hotmail.com", "secret", "Alice").await;
    let local = [127, 0, 0, 1];
    for _ in 0..2 {
        assert_eq!(
            md5_login(local, s.ns, "alice@hotmail.com", "guess").await,
            "911 4"
        );
    }
    let http = s.http.expect("plain HTTP");
    let login = |from: [u8; 4]| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let mut stream = socket.connect(http).await.unwrap();
        let request = "GET /login2.srf HTTP/1.1\r\nHost: login\r\nConnection: close\r\n\
             Authorization: Passport1.4 OrgVerb=GET,OrgURL=x,sign-in=alice%40hotmail.com,pwd=secret,lc=1033\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    };
    let r = login(local).await;
    assert!(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{r}");
    assert!(r.contains("\r\nRetry-After: "), "{r}");
    let r = login(ELSEWHERE).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    s.stop().await;
}

/// Whether a fresh connection from `from` to `addr` is served (answers
/// `VER`) or refused (closed at once).
async fn served(from: [u8; 4], addr: SocketAddr) -> Option<Client> {
    let mut c = Client::connect_from(from, addr).await;
    c.send_lossy("VER 1 MSNP7 CVR0").await;
    match c.next_or_eof(support::WAIT).await {
        Ok(Some(_)) => Some(c),
        Ok(None) => None,
        Err(()) => panic!("a connection was neither served nor refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_the_server_with_idle_connections() {
    let s = TestServer::start_with(|c| {
        c.limits.exempt_networks.clear();
        c.limits.max_unauthenticated_per_address = 2;
        c.limits.max_connections_per_address = 4;
    })
    .await;
    for user in ["alice", "bob", "carol"] {
        s.user(&format!("{user}@hotmail.com"), "pw", user).await;
    }
    let local = [127, 0, 0, 1];
    // Two connections that never sign in fill the address's
    // unauthenticated slots, on any listener.
    let c1 = served(local, s.ns).await.expect("first idle connection");
    let c2 = served(local, s.ds).await.expect("second idle connection");
    assert!(served(local, s.ns).await.is_none(), "third refused");
    assert!(served(local, s.sb).await.is_none(), "the SB counts too");
    let http = s.http.expect("plain HTTP");
    let mut stream = {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((local, 0))).unwrap();
        socket.connect(http).await.unwrap()
    };
    let _ = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    assert!(response.is_empty(), "HTTP counts too");
    // Another address is not affected.
    let other = served(ELSEWHERE, s.ns).await;
    assert!(other.is_some(), "another address is served");
    let gate = s.shared().gate.stats();
    assert_eq!(gate.refused_address_unauthenticated, 3);

    // Signed-in connections leave the unauthenticated count.
    drop((c1, c2));
    let mut signed_in = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let email = format!("{user}@hotmail.com");
        let mut held = None;
        // The dropped connections' slots come back once the server has
        // seen them close.
        for _ in 0..100 {
            let mut c = Client::connect_from(local, s.ns).await;
            c.send_lossy("VER 1 MSNP7 CVR0").await;
            if let Ok(Some(_)) = c.next_or_eof(support::WAIT).await {
                held = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut c = held.expect("a slot frees up");
        c.call("INF {}").await;
        let salt = c.call(&format!("USR {{}} MD5 I {email}")).await;
        let salt = salt.tokens().last().unwrap().to_owned();
        let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}pw")));
        let ok = c.call(&format!("USR {{}} MD5 S {hash}")).await;
        assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
        signed_in.push(c);
    }
    assert_eq!(s.shared().gate.held_by(IpAddr::from(local)), (3, 0));
    let c4 = served(local, s.ns)
        .await
        .expect("one more, unauthenticated");
    // Four connections: the address's total cap.
    assert!(served(local, s.ns).await.is_none(), "over the total cap");
    assert_eq!(s.shared().gate.stats().refused_address_full, 1);
    for c in &mut signed_in {
        c.send("PNG").await;
        c.wait_for("QNG", |f| f.command() == "QNG").await;
    }
    drop(c4);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_send_a_command_are_closed_at_the_handshake_timeout() {
    let s = TestServer::start_with(|c| {
        c.limits.handshake_timeout = Duration::from_millis(200);
        // Far longer than the test waits: only the handshake timeout can
        // close them.
        c.notification.login_timeout = Duration::from_secs(3600);
        c.switchboard.login_timeout = Duration::from_secs(3600);
    })
    .await;
    s.user("alice@hotmail.com", "pw", "Alice").await;
    for target in [s.ds, s.ns, s.sb] {
        let mut silent = Client::connect(target).await;
        assert!(
            matches!(silent.next_or_eof(support::WAIT).await, Ok(None)),
            "{target}: still open"
        );
    }
    // After VER the login timeout applies: a slow login still completes.
    let mut c = Client::connect(s.ns).await;
    c.call("VER {} MSNP7 CVR0").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.call("INF {}").await;
    let salt = c.call("USR {} MD5 I alice@hotmail.com").await;
    let salt = salt.tokens().last().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{salt}pw")));
    let ok = c.call(&format!("USR {{}} MD5 S {hash}")).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    s.stop().await;
}
