//! Several msnd nodes as one service: three nodes on one PostgreSQL
//! database and one NATS server. Users on different nodes see each
//! other's presence, add each other, chat, are told `OUT OTH` when they
//! sign in on another node, are spread by the Dispatch Server, and
//! survive a node killed with SIGKILL.
//!
//! Needs `MSND_TEST_NATS_URL` (JetStream on) and `MSND_TEST_DATABASE_URL`;
//! without them each test says it is skipped and passes, unless
//! `MSND_REQUIRE_CLUSTER=1` (CI), which makes that a failure. Each test
//! runs under a cluster name of its own, so tests in parallel do not see
//! each other's nodes.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use msn_store::test_database::{self, TestDatabase};
use msn_wire::Frame;
use support::{Client, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Generous deadline for what the cluster does on its own (a dead node
/// noticed, a node seen by the others); never a timing assertion.
const CLUSTER_WAIT: Duration = Duration::from_secs(30);

struct Env {
    nats: String,
    database: String,
}

fn env() -> Option<Env> {
    let nats = std::env::var("MSND_TEST_NATS_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let database = test_database::server_url();
    match (nats, database) {
        (Some(nats), Some(database)) => Some(Env { nats, database }),
        _ if std::env::var("MSND_REQUIRE_CLUSTER").is_ok_and(|v| v == "1") => {
            panic!(
                "MSND_REQUIRE_CLUSTER=1 but MSND_TEST_NATS_URL or MSND_TEST_DATABASE_URL is unset"
            )
        }
        _ => {
            eprintln!(
                "skipped: set MSND_TEST_NATS_URL and {} to run the cluster tests",
                test_database::ENV
            );
            None
        }
    }
}

/// Nodes of one cluster on one database.
struct Nodes {
    nodes: Vec<TestServer>,
    name: String,
    nats: String,
    db: TestDatabase,
}

impl Nodes {
    async fn start(n: usize) -> Option<Nodes> {
        let env = env()?;
        let urls = vec![env.nats.clone(); n];
        Some(Nodes::start_on(&env, &urls).await)
    }

    /// One node per URL: each reaches NATS at its own address (the same
    /// server, or through a proxy the test can cut).
    async fn start_on(env: &Env, urls: &[String]) -> Nodes {
        let db = TestDatabase::create(&env.database).await;
        let name = format!("t{:016x}", rand_u64());
        let mut nodes = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            nodes.push(start_node(url, db.url(), &name, &format!("n{}", i + 1)).await);
        }
        let nodes = Nodes {
            nodes,
            name,
            nats: env.nats.clone(),
            db,
        };
        nodes.wait_for_members(urls.len()).await;
        nodes
    }

    /// Waits until every node is connected to NATS again.
    async fn wait_connected(&self) {
        let deadline = tokio::time::Instant::now() + CLUSTER_WAIT;
        while !self.nodes.iter().all(|s| cluster_of(s).connected()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "a node never reconnected to NATS"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every in-process node sees `n` live nodes.
    async fn wait_for_members(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + CLUSTER_WAIT;
        loop {
            let seen: Vec<usize> = self
                .nodes
                .iter()
                .map(|s| cluster_of(s).live_nodes().len())
                .collect();
            if seen.iter().all(|&k| k == n) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nodes never saw {n} members: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        self.db.drop_database().await;
        drop_buckets(&self.nats, &self.name).await;
    }
}

/// Removes the KV buckets (JetStream streams) of cluster `name`, so that
/// the shared NATS server does not collect one set per test run.
async fn drop_buckets(nats: &str, name: &str) {
    let Ok(client) = async_nats::connect(nats).await else {
        return;
    };
    let js = async_nats::jetstream::new(client);
    for suffix in ["nodes", "users", "secrets"] {
        let _ = js.delete_stream(format!("KV_msnd_{name}_{suffix}")).await;
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

async fn start_node(nats: &str, database: &str, cluster: &str, node: &str) -> TestServer {
    start_node_with(nats, database, cluster, node, |_| {}).await
}

async fn start_node_with(
    nats: &str,
    database: &str,
    cluster: &str,
    node: &str,
    tweak: impl FnOnce(&mut msn_server::Config) + Send + 'static,
) -> TestServer {
    let (nats, database, cluster, node) = (
        nats.to_owned(),
        database.to_owned(),
        cluster.to_owned(),
        node.to_owned(),
    );
    TestServer::start_with(move |c| {
        c.database.url = Some(database);
        c.cluster.nats_url = nats;
        c.cluster.name = cluster;
        c.cluster.node_id = node;
        c.cluster.heartbeat = Duration::from_millis(300);
        c.cluster.ttl = Duration::from_secs(2);
        tweak(c);
    })
    .await
}

fn cluster_of(s: &TestServer) -> &msn_cluster::Cluster {
    s.app
        .as_ref()
        .expect("running")
        .cluster()
        .expect("a cluster node")
}

/// Whether `w` names `handle` (MSNP18 writes `1:handle`).
fn names(w: &str, handle: &str) -> bool {
    w == handle || w.strip_prefix("1:") == Some(handle)
}

fn is(f: &Frame, command: &str, handle: &str) -> bool {
    f.command() == command && f.line().split_whitespace().any(|w| names(w, handle))
}

/// Waits for `NLN <status> <handle>` (also as an `ILN`).
async fn sees_online(c: &mut Client, handle: &str, status: &str) {
    c.wait_for(&format!("{status} {handle}"), |f| {
        (f.command() == "NLN" || f.command() == "ILN")
            && f.line().split_whitespace().any(|w| w == status)
            && f.line().split_whitespace().any(|w| names(w, handle))
    })
    .await;
}

async fn sees_offline(c: &mut Client, handle: &str) {
    c.wait_for(&format!("FLN {handle}"), |f| is(f, "FLN", handle))
        .await;
}

/// Presence between users on three nodes in MSNP7 (MD5), MSNP11
/// (Passport ticket issued on another node), MSNP2 and MSNP18 (SSO, the
/// RST ticket and its proof key from another node); an `ADD` across nodes
/// reaches the other user's reverse list.
#[tokio::test]
async fn presence_across_nodes_in_every_dialect() {
    let Some(c) = Nodes::start(3).await else {
        return;
    };
    let (n1, n2, n3) = (&c.nodes[0], &c.nodes[1], &c.nodes[2]);
    for (who, name) in [
        ("alice@example.com", "Alice"),
        ("bob@example.com", "Bob"),
        ("carol@example.com", "Carol"),
        ("dave@example.com", "Dave"),
        ("erin@example.com", "Erin"),
    ] {
        n1.user(who, "secret", name).await;
    }
    n1.seed_friends(("alice@example.com", "Alice"), ("erin@example.com", "Erin"))
        .await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    n1.seed_friends(
        ("alice@example.com", "Alice"),
        ("carol@example.com", "Carol"),
    )
    .await;
    n1.seed_friends(("bob@example.com", "Bob"), ("carol@example.com", "Carol"))
        .await;

    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;
    // A ticket issued by node 1's login service, redeemed on node 2.
    let ticket = n1.ticket("bob@example.com").await;
    let mut bob = Client::login_twn(n2.ns, 11, "bob@example.com", &ticket).await;
    bob.send("CHG 9 BSY 0").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;
    sees_online(&mut alice, "bob@example.com", "BSY").await;

    let mut carol = n3.online(2, "carol@example.com", "secret", "NLN").await;
    sees_online(&mut alice, "carol@example.com", "NLN").await;
    sees_online(&mut bob, "carol@example.com", "NLN").await;
    alice.barrier().await;
    carol.send("PNG").await;

    // Erin signs in with WLM 2009 on node 2 with an RST ticket from node 1.
    let mut erin = erin_online(n2, n1.http.unwrap(), "alice@example.com").await;
    sees_online(&mut erin, "alice@example.com", "NLN").await;
    sees_online(&mut alice, "erin@example.com", "NLN").await;

    alice.send("CHG 20 AWY").await;
    sees_online(&mut erin, "alice@example.com", "AWY").await;
    sees_online(&mut bob, "alice@example.com", "AWY").await;
    sees_online(&mut carol, "alice@example.com", "AWY").await;

    // Dave on node 3 is added by Alice on node 1.
    let mut dave = n3.online(7, "dave@example.com", "secret", "NLN").await;
    let add = alice
        .call("ADD {} FL dave@example.com dave@example.com")
        .await;
    assert_eq!(add.command(), "ADD", "{}", add.line());
    dave.wait_for("ADD 0 RL alice", |f| {
        f.line().starts_with("ADD 0 RL") && is(f, "ADD", "alice@example.com")
    })
    .await;
    sees_online(&mut alice, "dave@example.com", "NLN").await;

    bob.send("OUT").await;
    sees_offline(&mut alice, "bob@example.com").await;
    sees_offline(&mut carol, "bob@example.com").await;
    drop((alice, bob, carol, dave, erin));
    c.stop().await;
}

/// The inviter's switchboard is on node 1, the invitee signed in on node
/// 2: `RNG` names node 1's switchboard, and the chat works there.
#[tokio::test]
async fn chat_with_an_invitee_on_another_node() {
    let Some(c) = Nodes::start(2).await else {
        return;
    };
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;
    let mut bob = n2.online_twn(11, "bob@example.com", "NLN 0").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;

    let xfr = alice.call("XFR {} SB").await;
    let sb: SocketAddr = xfr.tokens().nth(3).unwrap().parse().unwrap();
    assert_eq!(sb, n1.sb, "XFR SB names the inviter's node");
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut a = Client::connect(sb).await;
    let ok = a
        .call(&format!("USR {{}} alice@example.com {cookie}"))
        .await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let ring = a.call("CAL {} bob@example.com").await;
    assert_eq!(ring.tokens().nth(2), Some("RINGING"), "{}", ring.line());

    let rng = bob.wait_for("RNG", |f| f.command() == "RNG").await;
    let at: SocketAddr = rng.tokens().nth(2).unwrap().parse().unwrap();
    assert_eq!(at, n1.sb, "RNG carries the inviter node's switchboard");
    let sid = rng.tokens().nth(1).unwrap().to_owned();
    let cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut b = Client::connect(at).await;
    b.send(&format!("ANS 1 bob@example.com {cookie} {sid}"))
        .await;
    b.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    a.wait_for("JOI", |f| is(f, "JOI", "bob@example.com")).await;

    let text =
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello across nodes";
    a.send_payload("MSG 5 N", text).await;
    let got = b.wait_for("MSG", |f| f.command() == "MSG").await;
    assert!(got.line().contains("alice@example.com"), "{}", got.line());
    assert!(got.payload().unwrap().ends_with(b"hello across nodes"));
    drop((a, b, alice, bob));
    c.stop().await;
}

/// Signing in on node 2 ends the older session on node 1 with `OUT OTH`;
/// a watcher on node 3 sees the user online again from the new node.
#[tokio::test]
async fn second_login_on_another_node_gets_out_oth() {
    let Some(c) = Nodes::start(3).await else {
        return;
    };
    let (n1, n2, n3) = (&c.nodes[0], &c.nodes[1], &c.nodes[2]);
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut bob = n3.online(7, "bob@example.com", "secret", "NLN").await;
    let mut first = n1.online_twn(11, "alice@example.com", "NLN 0").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;

    let mut second = n2.online(7, "alice@example.com", "secret", "BSY").await;
    let last = first.expect_eof().await;
    assert!(
        last.iter().any(|l| l == "OUT OTH"),
        "the first session was not told OUT OTH: {last:?}"
    );
    sees_online(&mut bob, "alice@example.com", "BSY").await;
    // Node 1 no longer answers for Alice: her presence is node 2's.
    second.send("CHG 30 AWY").await;
    sees_online(&mut bob, "alice@example.com", "AWY").await;
    drop((bob, second));
    c.stop().await;
}

/// Asks `ds` where `handle` should sign in (MSNP7's `USR MD5 I`).
async fn referral(ds: SocketAddr, handle: &str) -> String {
    let mut c = Client::connect(ds).await;
    c.call("VER {} MSNP7 CVR0").await;
    let xfr = c.call(&format!("USR {{}} MD5 I {handle}")).await;
    assert_eq!(xfr.command(), "XFR", "{}", xfr.line());
    xfr.tokens().nth(3).unwrap().to_owned()
}

/// The DS spreads users over the nodes, sends the same user to the same
/// node, and stops sending anyone to a draining node.
#[tokio::test]
async fn dispatch_spreads_users_and_skips_a_draining_node() {
    let Some(c) = Nodes::start(3).await else {
        return;
    };
    let ns: Vec<String> = c.nodes.iter().map(|s| s.ns.to_string()).collect();
    let handles: Vec<String> = (0..24).map(|i| format!("user{i}@example.com")).collect();
    let mut first = Vec::new();
    for h in &handles {
        let to = referral(c.nodes[0].ds, h).await;
        assert!(ns.contains(&to), "{to} is not a node's NS ({ns:?})");
        first.push(to);
    }
    let used: HashSet<&String> = first.iter().collect();
    assert!(used.len() >= 2, "24 users all sent to {used:?}");
    // Another node's DS agrees.
    assert_eq!(referral(c.nodes[2].ds, &handles[0]).await, first[0]);

    // The node most users went to drains.
    let busiest = ns
        .iter()
        .max_by_key(|a| first.iter().filter(|f| f == a).count())
        .unwrap()
        .clone();
    let i = ns.iter().position(|a| *a == busiest).unwrap();
    cluster_of(&c.nodes[i]).drain().await;
    let asker = c.nodes[(i + 1) % 3].ds;
    let deadline = tokio::time::Instant::now() + CLUSTER_WAIT;
    loop {
        let mut again = Vec::new();
        for h in &handles {
            again.push(referral(asker, h).await);
        }
        if !again.contains(&busiest) {
            for ((to, before), h) in again.iter().zip(&first).zip(&handles) {
                if *before != busiest {
                    assert_eq!(to, before, "{h} moved though its node did not drain");
                }
            }
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the draining node is still chosen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.stop().await;
}

/// `msnd serve` as a child process in the cluster.
struct ChildNode {
    child: Child,
    ns: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn spawn_node(nats: &str, database: &str, cluster: &str, node: &str) -> ChildNode {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("msnd.toml");
    std::fs::write(
        &config,
        child_config(dir.path(), nats, database, cluster, node),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_msnd"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ns = loop {
        let line = tokio::time::timeout(CLUSTER_WAIT, lines.next_line())
            .await
            .expect("node starts")
            .unwrap()
            .expect("node log");
        if !line.contains("listening") {
            continue;
        }
        if let Some(addr) = line.split_whitespace().find_map(|w| w.strip_prefix("ns=")) {
            break addr.parse().unwrap();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ChildNode {
        child,
        ns,
        _dir: dir,
    }
}

fn child_config(dir: &Path, nats: &str, database: &str, cluster: &str, node: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1\"\ndata_dir = {dir:?}\nshutdown_grace = \"1s\"\n\
         [dispatch]\nenabled = false\n[notification]\nport = 0\n[switchboard]\nport = 0\n\
         [http]\nenabled = false\n\
         [database]\nurl = {database:?}\n\
         [cluster]\nnats_url = {nats:?}\nname = {cluster:?}\nnode_id = {node:?}\n\
         heartbeat = \"300ms\"\nttl = \"2s\"\n"
    )
}

/// A node killed with SIGKILL: watchers on the other nodes see its users
/// go offline within the configured TTL, and the users sign in again at
/// once on another node.
#[tokio::test]
async fn killed_node_users_go_offline_and_sign_in_elsewhere() {
    let Some(c) = Nodes::start(1).await else {
        return;
    };
    let n1 = &c.nodes[0];
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.user("carol@example.com", "secret", "Carol").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    n1.seed_friends(("carol@example.com", "Carol"), ("bob@example.com", "Bob"))
        .await;
    let mut doomed = spawn_node(&c.nats, c.db.url(), &c.name, "doomed").await;
    c.wait_for_members(2).await;

    let mut bob = n1.online(7, "bob@example.com", "secret", "NLN").await;
    let mut alice = n1_client_on(doomed.ns, "alice@example.com").await;
    let carol = n1_client_on(doomed.ns, "carol@example.com").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;
    sees_online(&mut bob, "carol@example.com", "NLN").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;

    doomed.child.start_kill().unwrap();
    let _ = doomed.child.wait().await;
    drop((alice, carol));
    // Carol signs in again on the surviving node at once, before the dead
    // node is noticed: Bob sees her online, and the sweep that follows
    // must not take her for gone.
    let mut carol = n1.online(7, "carol@example.com", "secret", "NLN").await;
    sees_online(&mut bob, "carol@example.com", "NLN").await;
    // Alice's FLN comes within the TTL (2 s here; the wait is only a
    // generous bound), and no FLN for Carol before it.
    let fln = tokio::time::timeout(
        CLUSTER_WAIT,
        until_without(
            &mut bob,
            "FLN alice",
            |f| is(f, "FLN", "alice@example.com"),
            |f| is(f, "FLN", "carol@example.com"),
        ),
    )
    .await;
    assert!(fln.is_ok(), "no FLN for the dead node's user");
    c.wait_for_members(1).await;
    // Still none for Carol after the sweep: a later change arrives first.
    carol.send("CHG 60 BSY").await;
    until_without(
        &mut bob,
        "carol BSY",
        |f| presence_is(f, "carol@example.com", "BSY"),
        |f| is(f, "FLN", "carol@example.com"),
    )
    .await;

    // Alice too, at once on the surviving node.
    let mut again = n1.online(7, "alice@example.com", "secret", "NLN").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;
    again.barrier().await;
    drop((bob, again, carol));
    c.stop().await;
}

/// Erin signs in with WLM 2009 (MSNP18 SSO) on `node` with an RST ticket
/// from the HTTP service at `rst_from` (possibly another node's), sends
/// her contact list (`ADL` with `contact`) as WLM does, and goes online.
async fn erin_online(node: &TestServer, rst_from: SocketAddr, contact: &str) -> Client {
    let (ticket, key) = support::wlm::rst(rst_from, "erin@example.com", "secret").await;
    let mut erin = support::wlm::sso_signed_in(
        node,
        18,
        "erin@example.com",
        &ticket,
        &key,
        Some("{f52973b6-c926-4bad-9ba8-7c1e840e4ab0}"),
    )
    .await;
    erin.call("BLP {} AL").await;
    let doc = support::wlm::ml(contact, 3);
    let ok = erin.call_payload("ADL {}", doc.as_bytes()).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    erin.send("CHG 1 NLN 2789003324:48 0").await;
    erin
}

async fn n1_client_on(ns: SocketAddr, handle: &str) -> Client {
    let mut c = Client::login(ns, 7, handle, "secret").await;
    c.call("CHG {} NLN").await;
    c
}

/// A free TCP port on the loopback address (bound and let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A NATS server of the test's own (JetStream on, its store in a
/// temporary directory), which the test kills and starts again.
struct OwnNats {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

fn nats_server_binary() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var("MSND_TEST_NATS_SERVER").ok(),
        Some("/usr/sbin/nats-server".into()),
        Some("/usr/bin/nats-server".into()),
        Some("/usr/local/bin/nats-server".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

impl OwnNats {
    async fn start() -> Option<OwnNats> {
        let Some(_) = nats_server_binary() else {
            if std::env::var("MSND_REQUIRE_CLUSTER").is_ok_and(|v| v == "1") {
                panic!("MSND_REQUIRE_CLUSTER=1 but no nats-server binary (MSND_TEST_NATS_SERVER)");
            }
            eprintln!("skipped: no nats-server binary (set MSND_TEST_NATS_SERVER)");
            return None;
        };
        let mut n = OwnNats {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        n.run().await;
        Some(n)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let child = Command::new(nats_server_binary().unwrap())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + CLUSTER_WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            let _ = child.wait().await;
        }
    }
}

/// Reads `c`'s lines until `want` holds; fails on any line `never`
/// matches first.
async fn until_without(
    c: &mut Client,
    what: &str,
    want: impl Fn(&Frame) -> bool,
    never: impl Fn(&Frame) -> bool,
) {
    loop {
        let f = c.wait_for(what, |_| true).await;
        assert!(
            !never(&f),
            "unexpected {} while waiting for {what}",
            f.line()
        );
        if want(&f) {
            return;
        }
    }
}

fn presence_is(f: &Frame, handle: &str, status: &str) -> bool {
    (f.command() == "NLN" || f.command() == "ILN")
        && f.line().split_whitespace().any(|w| w == status)
        && f.line().split_whitespace().any(|w| names(w, handle))
}

/// The NATS server dies and comes back (its JetStream store kept) after
/// longer than the TTL: the nodes reconnect, events flow again, nobody
/// was shown offline meanwhile, and signing out is seen as before.
#[tokio::test]
async fn nats_restart_leaves_no_stuck_or_ghost_presence() {
    let Some(env) = env() else {
        return;
    };
    let Some(mut nats) = OwnNats::start().await else {
        return;
    };
    let c = Nodes::start_on(&env, &[nats.url(), nats.url()]).await;
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;
    let mut bob = n2.online(7, "bob@example.com", "secret", "NLN").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;

    nats.kill().await;
    // Down for longer than the TTL (2 s): setup, not an assertion.
    tokio::time::sleep(Duration::from_secs(3)).await;
    nats.run().await;
    c.wait_connected().await;

    alice.send("CHG 40 AWY").await;
    until_without(
        &mut bob,
        "alice AWY",
        |f| presence_is(f, "alice@example.com", "AWY"),
        |f| is(f, "FLN", "alice@example.com"),
    )
    .await;
    bob.send("CHG 41 BSY").await;
    until_without(
        &mut alice,
        "bob BSY",
        |f| presence_is(f, "bob@example.com", "BSY"),
        |f| is(f, "FLN", "bob@example.com"),
    )
    .await;
    alice.send("OUT").await;
    sees_offline(&mut bob, "alice@example.com").await;
    drop((alice, bob));
    c.stop().await;
    nats.kill().await;
}

/// A TCP proxy in front of NATS that the test can cut (every connection
/// closed, new ones refused) and heal: one node's link to NATS.
struct Proxy {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
    _task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    break;
                };
                if *watch.borrow() {
                    drop(client);
                    continue;
                }
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy {
            port,
            cut,
            _task: task,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

/// `host:port` of a `nats://` URL without credentials.
fn nats_target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.rsplit('@')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

/// Node 2 loses NATS for longer than the TTL (a partition): node 1's
/// users see node 2's users go offline, and when the link is back they
/// see them online again, while node 2's users see what changed on node 1
/// meanwhile.
#[tokio::test]
async fn partitioned_node_heals() {
    let Some(env) = env() else {
        return;
    };
    let proxy = Proxy::start(nats_target(&env.nats)).await;
    let c = Nodes::start_on(&env, &[env.nats.clone(), proxy.url()]).await;
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;
    let mut bob = n2.online(7, "bob@example.com", "secret", "NLN").await;
    sees_online(&mut bob, "alice@example.com", "NLN").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;

    proxy.set_cut(true);
    sees_offline(&mut alice, "bob@example.com").await;
    alice.call("CHG {} AWY").await;

    proxy.set_cut(false);
    c.wait_connected().await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;
    sees_online(&mut bob, "alice@example.com", "AWY").await;
    bob.send("OUT").await;
    sees_offline(&mut alice, "bob@example.com").await;
    drop((alice, bob));
    c.stop().await;
}

/// `scheme://user@host:port/db` with `host:port` replaced by `addr`.
fn via(url: &str, addr: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = auth
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{addr}/{path}")
}

/// `host:port` of a PostgreSQL URL (default port 5432).
fn pg_target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split('/').next().unwrap();
    let host = auth.rsplit('@').next().unwrap();
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// Signs in with MD5 up to the password step; returns the reply to it.
async fn md5_attempt(ns: SocketAddr, email: &str, password: &str) -> (Client, Frame) {
    let mut c = Client::connect(ns).await;
    c.call("VER {} MSNP7 CVR0").await;
    c.call("INF {}").await;
    let salt_line = c.call(&format!("USR {{}} MD5 I {email}")).await;
    let salt = salt_line.tokens().last().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
        "{salt}{password}"
    )));
    let reply = c.call(&format!("USR {{}} MD5 S {hash}")).await;
    (c, reply)
}

/// The node's PostgreSQL server becomes unreachable: a sign-in is refused
/// with `603` (database connect error), not taken for a wrong password;
/// users already signed in stay; when the database is back, signing in
/// works again without a restart.
#[tokio::test]
async fn database_outage_is_an_error_and_recovers() {
    let Some(env) = env() else {
        return;
    };
    let db = TestDatabase::create(&env.database).await;
    let proxy = Proxy::start(pg_target(db.url())).await;
    let url = via(db.url(), &format!("127.0.0.1:{}", proxy.port));
    let name = format!("t{:016x}", rand_u64());
    let n1 = start_node_with(&env.nats, &url, &name, "n1", |c| {
        c.database.acquire_timeout = Duration::from_secs(2);
    })
    .await;
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;

    proxy.set_cut(true);
    let (mut bob, reply) = md5_attempt(n1.ns, "bob@example.com", "secret").await;
    assert_eq!(reply.command(), "603", "{}", reply.line());
    bob.expect_eof().await;
    alice.barrier().await;

    proxy.set_cut(false);
    let deadline = tokio::time::Instant::now() + CLUSTER_WAIT;
    loop {
        let (_bob, reply) = md5_attempt(n1.ns, "bob@example.com", "secret").await;
        if reply.command() == "USR" {
            break;
        }
        assert_eq!(reply.command(), "603", "{}", reply.line());
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alice.call("CHG {} AWY").await;
    drop(alice);
    n1.stop().await;
    db.drop_database().await;
    drop_buckets(&env.nats, &name).await;
}

/// A node the others took for dead while it was alive (here: its registry
/// record deleted from under it): its users look offline to the others
/// until it notices, rejoins, and tells them again.
#[tokio::test]
async fn a_node_taken_for_dead_rejoins() {
    let Some(c) = Nodes::start(2).await else {
        return;
    };
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("alice@example.com", "secret", "Alice").await;
    n1.user("bob@example.com", "secret", "Bob").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let mut alice = n1.online(7, "alice@example.com", "secret", "NLN").await;
    let mut bob = n2.online(7, "bob@example.com", "secret", "NLN").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;

    let client = async_nats::connect(&c.nats).await.unwrap();
    let kv = async_nats::jetstream::new(client)
        .get_key_value(format!("msnd_{}_nodes", c.name))
        .await
        .unwrap();
    kv.delete(cluster_of(n2).id()).await.unwrap();
    sees_offline(&mut alice, "bob@example.com").await;
    sees_online(&mut alice, "bob@example.com", "NLN").await;
    // Routing to Bob works again.
    alice.send("CHG 50 BSY").await;
    sees_online(&mut bob, "alice@example.com", "BSY").await;
    drop((alice, bob));
    c.stop().await;
}

/// `UpdateProfile` (the storage service) over HTTP, as WLM sends it.
async fn update_profile(http: SocketAddr, ticket: &str, user_id: i64, name: &str, psm: &str) {
    let ns = "http://www.msn.com/webservices/storage/2008";
    let cid = msn_core::ids::puid(user_id);
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#,
            r#"<soap:Header><StorageApplicationHeader xmlns="{ns}"><ApplicationID>Messenger Client 9.0</ApplicationID><Scenario>RoamingIdentityChanged</Scenario></StorageApplicationHeader>"#,
            r#"<StorageUserHeader xmlns="{ns}"><Puid>0</Puid><TicketToken>{ticket}</TicketToken></StorageUserHeader></soap:Header>"#,
            r#"<soap:Body><UpdateProfile xmlns="{ns}"><profile><ResourceID>{cid:016x}!106</ResourceID><ExpressionProfile><FreeText>Update</FreeText>"#,
            r#"<DisplayName>{name}</DisplayName><PersonalStatus>{psm}</PersonalStatus><Flags>0</Flags></ExpressionProfile></profile></UpdateProfile></soap:Body></soap:Envelope>"#,
        ),
        ns = ns,
        ticket = ticket.replace('&', "&amp;"),
        cid = cid,
        name = name,
        psm = psm,
    );
    let request = format!(
        "POST /storageservice/SchematizedStore.asmx HTTP/1.1\r\nHost: storage.msn.com\r\n\
         SOAPAction: \"{ns}/UpdateProfile\"\r\nContent-Type: text/xml; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(http).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(
        CLUSTER_WAIT,
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut reply),
    )
    .await
    .expect("an answer")
    .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

/// A WLM user signed in on node 2 changes their name and personal
/// message through node 1's storage service (where the HTTP request
/// landed): node 2 reads the account again, the watcher on node 1 sees
/// the new name and message, and the user's own machine its self update.
#[tokio::test]
async fn profile_changed_over_soap_on_another_node() {
    let Some(c) = Nodes::start(2).await else {
        return;
    };
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("alice@example.com", "secret", "Alice").await;
    let erin_id = n1.user("erin@example.com", "secret", "Erin").await;
    n1.seed_friends(("alice@example.com", "Alice"), ("erin@example.com", "Erin"))
        .await;
    let mut alice = n1.online_twn(11, "alice@example.com", "NLN 0").await;
    let mut erin = erin_online(n2, n2.http.unwrap(), "alice@example.com").await;
    sees_online(&mut alice, "erin@example.com", "NLN").await;

    let storage = n1.shared().tokens.issue(
        msn_auth::Grant::bearer(
            msn_core::handle::Handle::parse("erin@example.com").unwrap(),
            erin_id,
            msn_auth::Audience::Storage,
        ),
        Duration::from_secs(600),
    );
    update_profile(
        n1.http.unwrap(),
        &storage,
        erin_id,
        "Renamed",
        "On the road",
    )
    .await;
    alice
        .wait_for("NLN erin Renamed", |f| {
            is(f, "NLN", "erin@example.com") && f.line().split_whitespace().any(|w| w == "Renamed")
        })
        .await;
    let ubx = alice
        .wait_for("UBX erin", |f| is(f, "UBX", "erin@example.com"))
        .await;
    let text = String::from_utf8_lossy(ubx.payload().unwrap()).into_owned();
    assert!(text.contains("On the road"), "{text}");
    let own = erin
        .wait_for("own UBX", |f| {
            is(f, "UBX", "erin@example.com")
                && f.payload()
                    .is_some_and(|p| String::from_utf8_lossy(p).contains("On the road"))
        })
        .await;
    assert_eq!(own.command(), "UBX");
    drop((alice, erin));
    c.stop().await;
}

/// The machines of an MSNP16+ user meet on one node, where their
/// presence is merged: a second machine that comes to another node's NS
/// is sent (`XFR NS`) to the node the first is on, and signs in there
/// beside it; the DS too sends the user where they already are.
#[tokio::test]
async fn a_second_machine_is_sent_to_the_users_node() {
    let Some(c) = Nodes::start(2).await else {
        return;
    };
    let (n1, n2) = (&c.nodes[0], &c.nodes[1]);
    n1.user("erin@example.com", "secret", "Erin").await;
    let (ticket, key) = support::wlm::rst(n1.http.unwrap(), "erin@example.com", "secret").await;
    let home = support::wlm::sso_signed_in(
        n1,
        18,
        "erin@example.com",
        &ticket,
        &key,
        Some("{11111111-2222-4333-8444-555555555555}"),
    )
    .await;

    let mut away = Client::connect(n2.ns).await;
    away.send("VER 1 MSNP18 CVR0").await;
    away.expect("VER 1 MSNP18").await;
    away.send("CVR 2 0x0409 winnt 6.1 i386 MSNMSGR 14.0.8089.0726 msmsgs erin@example.com")
        .await;
    away.recv().await;
    away.send("USR 3 SSO I erin@example.com").await;
    let xfr = away.wait_for("XFR NS", |f| f.command() == "XFR").await;
    assert_eq!(xfr.tokens().nth(2), Some("NS"), "{}", xfr.line());
    assert_eq!(
        xfr.tokens().nth(3),
        Some(n1.ns.to_string().as_str()),
        "{}",
        xfr.line()
    );
    assert_eq!(referral(n2.ds, "erin@example.com").await, n1.ns.to_string());

    // There it signs in beside the first machine (MPOP on one node).
    let (ticket, key) = support::wlm::rst(n2.http.unwrap(), "erin@example.com", "secret").await;
    let second = support::wlm::sso_signed_in(
        n1,
        18,
        "erin@example.com",
        &ticket,
        &key,
        Some("{66666666-7777-4888-8999-aaaaaaaaaaaa}"),
    )
    .await;
    drop((home, second, away));
    c.stop().await;
}

/// A client on the HTTP gateway stays on the node whose gateway it uses:
/// its DS refers it to that node's own NS (the gateway runs the sessions
/// it carries), whatever node the cluster would pick.
#[tokio::test]
async fn gateway_clients_are_referred_to_their_own_node() {
    let Some(c) = Nodes::start(3).await else {
        return;
    };
    for s in &c.nodes {
        let http = s.http.unwrap();
        for i in 0..4 {
            let handle = format!("gw{i}@example.com");
            let mut ds = support::gateway::GatewayClient::open(
                http,
                "NS",
                "messenger.hotmail.com",
                b"VER 1 MSNP12 CVR0\r\n",
            )
            .await;
            ds.expect("VER 1 MSNP12").await;
            ds.next_trid = 2;
            ds.call(&format!(
                "CVR {{}} 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs {handle}"
            ))
            .await;
            let xfr = ds.call(&format!("USR {{}} TWN I {handle}")).await;
            assert_eq!(
                xfr.tokens().nth(3),
                Some(format!("127.0.0.1:{}", s.ns.port()).as_str()),
                "{}",
                xfr.line()
            );
        }
    }
    c.stop().await;
}

/// NATS unreachable when a node starts: it refuses to start, with an
/// error that names the setting and not the URL.
#[tokio::test]
async fn a_node_without_nats_does_not_start() {
    let Some(env) = env() else {
        return;
    };
    let db = TestDatabase::create(&env.database).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = msn_server::Config::for_tests(dir.path());
    config.database.url = Some(db.url().to_owned());
    config.cluster.nats_url = format!("nats://secret-user:secret-pass@127.0.0.1:{}", free_port());
    let store = msnd::open_store(&config).await.unwrap();
    let err = match msnd::App::start(config, store.clone()).await {
        Ok(_) => panic!("started without NATS"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("cluster.nats_url"), "{err}");
    assert!(!err.contains("secret"), "the URL leaked: {err}");
    store.close().await;
    db.drop_database().await;
}
