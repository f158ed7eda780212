//! Test support: a real server on ephemeral ports with a fresh database,
//! a raw protocol client, seeding helpers and the transcript replayer.
#![allow(dead_code)]

pub mod gateway;
pub mod soap;
pub mod transcript;
pub mod wlm;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use msn_auth::Grant;
use msn_core::account::{Change, ContactUpdate, Group, GroupUpdate, Property, SettingUpdate};
use msn_core::handle::Handle;
use msn_server::{Config, Shared};
use msn_store::test_database::{self, TestDatabase};
use msn_store::{DatabaseUrl, PgOptions, PgStore, SqliteOptions, SqliteStore, Store};
use msn_wire::vocab::Privacy;
use msn_wire::{Decoder, Direction, Frame, Limits};
use msnd::App;
use msnd::accounts::{self, AccountSpec};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for a line before failing. Generous: machines are
/// noisy and a correct server answers in microseconds anyway.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub app: Option<App>,
    pub dir: TempDir,
    pub store: Arc<dyn Store>,
    pub ds: SocketAddr,
    pub ns: SocketAddr,
    pub sb: SocketAddr,
    pub http: Option<SocketAddr>,
    /// The PostgreSQL database the server runs on, dropped with it (after
    /// `app`, which is declared first).
    pg: Option<PgGuard>,
}

/// In a data directory whose server runs on PostgreSQL: the database's
/// URL, so that a server or an `msnd` command started on the same
/// directory later uses the same database ([`database_url_of`]).
pub const PG_MARKER: &str = "postgres-test-database";

/// Drops a test's PostgreSQL database when the server goes.
struct PgGuard(TestDatabase);

impl Drop for PgGuard {
    fn drop(&mut self) {
        self.0.drop_database_blocking();
    }
}

/// The PostgreSQL database a test server on `data_dir` used, if any: set
/// it as `MSND_DATABASE__URL` for an `msnd` command run on that directory.
pub fn database_url_of(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join(PG_MARKER)).ok()
}

/// With `MSND_TEST_DATABASE_URL` set, puts the server on a PostgreSQL
/// database of its own (one per data directory) unless the test chose a
/// database itself. The database of the server's own temporary directory
/// goes with the server; one for a directory the test made (a test that
/// restarts a server on it) is left for `.ci/run`, which drops every
/// `msnd_t_*` database at the end.
async fn use_postgres(config: &mut Config, own_dir: &Path) -> Option<PgGuard> {
    let server = test_database::server_url()?;
    if config.database.url.is_some() || config.database.path.is_some() {
        return None;
    }
    let data_dir = config.server.data_dir.clone();
    if let Some(url) = database_url_of(&data_dir) {
        config.database.url = Some(url);
        return None;
    }
    let db = TestDatabase::create(&server).await;
    std::fs::create_dir_all(&data_dir).expect("data dir");
    std::fs::write(data_dir.join(PG_MARKER), db.url()).expect("write the marker");
    config.database.url = Some(db.url().to_owned());
    if data_dir == own_dir {
        Some(PgGuard(db))
    } else {
        None // `db` is not dropped: a later server on this directory uses it
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server with a test configuration adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        if let Ok(filter) = std::env::var("MSND_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(dir.path());
        tweak(&mut config);
        let pg = use_postgres(&mut config, dir.path()).await;
        let store = msnd::open_store(&config).await.expect("store");
        let app = App::start(config, store.clone())
            .await
            .expect("server starts");
        let s = &app.server;
        TestServer {
            ds: s.ds_addr.unwrap_or(s.ns_addr),
            ns: s.ns_addr,
            sb: s.sb_addr,
            http: app.http.http_addr,
            app: Some(app),
            dir,
            store,
            pg,
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        self.app.as_ref().expect("running").server.shared()
    }

    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
    }

    /// Creates an account that may use the MD5 login; returns its id.
    pub async fn user(&self, email: &str, password: &str, name: &str) -> i64 {
        let spec = AccountSpec {
            email,
            password,
            name: Some(name),
            legacy_md5: true,
        };
        accounts::create(&*self.store, &spec, self.shared().config.hash_cost())
            .await
            .expect("create account")
    }

    async fn id(&self, email: &str) -> i64 {
        self.store
            .user(email)
            .await
            .unwrap()
            .expect("account exists")
            .id
    }

    async fn apply(&self, owner: &str, change: Change) {
        let id = self.id(owner).await;
        self.store.commit(id, &change).await.expect("seed");
    }

    /// Puts `contact` on `owner`'s lists (`bits`) with a stored name and
    /// group ids (FL only). Does not touch the other side.
    pub async fn seed_entry(
        &self,
        owner: &str,
        contact: &str,
        bits: u8,
        name: &str,
        groups: &[u8],
    ) {
        let fl = bits & 1 != 0;
        self.apply(
            owner,
            Change {
                contacts: vec![ContactUpdate {
                    set: bits,
                    name: Some(name.to_owned()),
                    guid: fl.then(|| Some(uuid::Uuid::new_v4())),
                    // An FL entry in no group lands in group 0.
                    add_groups: groups.iter().map(|&g| g.into()).collect(),
                    ..ContactUpdate::new(Handle::parse(contact).unwrap())
                }],
                ..Change::default()
            },
        )
        .await;
    }

    /// `owner` has `contact` on its FL (and `extra` lists); `contact`'s RL
    /// gets `owner` with `owner_name`.
    pub async fn seed_fl(
        &self,
        owner: &str,
        owner_name: &str,
        contact: &str,
        name: &str,
        extra: u8,
        groups: &[u8],
    ) {
        self.seed_entry(owner, contact, 1 | extra, name, groups)
            .await;
        self.seed_entry(contact, owner, 8, owner_name, &[]).await;
    }

    /// Two users on each other's forward, allow and reverse lists, each
    /// stored under the other's name.
    pub async fn seed_friends(&self, (a, a_name): (&str, &str), (b, b_name): (&str, &str)) {
        self.seed_entry(a, b, 1 | 2 | 8, b_name, &[]).await;
        self.seed_entry(b, a, 1 | 2 | 8, a_name, &[]).await;
    }

    pub async fn seed_group(&self, owner: &str, id: u8, name: &str) -> uuid::Uuid {
        let guid = uuid::Uuid::new_v4();
        self.apply(
            owner,
            Change {
                groups: vec![GroupUpdate::Upsert(Group {
                    id: id.into(),
                    guid,
                    name: name.to_owned(),
                })],
                ..Change::default()
            },
        )
        .await;
        guid
    }

    pub async fn seed_property(&self, owner: &str, property: Property, value: &str) {
        self.apply(
            owner,
            Change {
                settings: vec![SettingUpdate::Property(property, Some(value.to_owned()))],
                ..Change::default()
            },
        )
        .await;
    }

    pub async fn seed_privacy(&self, owner: &str, privacy: Privacy) {
        self.apply(
            owner,
            Change {
                settings: vec![SettingUpdate::Privacy(privacy)],
                ..Change::default()
            },
        )
        .await;
    }

    /// Sets `owner`'s list version. Not a `Store` operation (versions
    /// only advance through commits), so this opens the server's database
    /// directly; call it before `owner` signs in.
    pub async fn set_version(&self, owner: &str, version: u64) {
        let config = &self.shared().config;
        let set = match DatabaseUrl::parse(&config.database_url()).expect("database URL") {
            DatabaseUrl::Postgres(url) => {
                let db = PgStore::open(&PgOptions::new(url.expose()))
                    .await
                    .expect("open the database");
                let set = db.set_list_version(owner, version).await.unwrap();
                db.close().await;
                set
            }
            _ => {
                let db = SqliteStore::open(&SqliteOptions::new(config.database_path()))
                    .await
                    .expect("open the database");
                let set = db.set_list_version(owner, version).await.unwrap();
                db.close().await;
                set
            }
        };
        assert!(set, "no account {owner}");
    }

    /// A Passport ticket for `email`, as the login service would issue it.
    pub async fn ticket(&self, email: &str) -> String {
        let id = self.id(email).await;
        let grant = Grant::messenger(Handle::parse(email).unwrap(), id);
        self.shared().tokens.issue(grant, Duration::from_secs(60))
    }

    /// Signs a user in with a Passport ticket (MSNP8+) and sends
    /// `CHG <chg>` (status, capabilities, MSNObject as needed).
    pub async fn online_twn(&self, dialect: u8, email: &str, chg: &str) -> Client {
        let ticket = self.ticket(email).await;
        let mut c = Client::login_twn(self.ns, dialect, email, &ticket).await;
        c.call(&format!("CHG {{}} {chg}")).await;
        c
    }

    /// Signs a user in with the MD5 login (MSNP2–MSNP7) and sends `CHG`.
    pub async fn online(&self, dialect: u8, email: &str, password: &str, status: &str) -> Client {
        let mut c = Client::login(self.ns, dialect, email, password).await;
        c.call(&format!("CHG {{}} {status}")).await;
        c
    }
}

/// A raw protocol client.
pub struct Client {
    stream: TcpStream,
    buf: BytesMut,
    decoder: Decoder,
    next_trid: u32,
    pub label: String,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Client::over(stream, addr.to_string())
    }

    /// Connects to `addr` from the local address `from` (any of 127/8 is
    /// local on Linux): another client address as the server sees it.
    pub async fn connect_from(from: [u8; 4], addr: SocketAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let stream = socket.connect(addr).await.expect("connect");
        let from = std::net::Ipv4Addr::from(from);
        Client::over(stream, format!("{addr} from {from}"))
    }

    /// A client over a connected stream.
    pub fn over(stream: TcpStream, label: String) -> Client {
        stream.set_nodelay(true).ok();
        Client {
            stream,
            buf: BytesMut::new(),
            decoder: Decoder::new(
                Direction::FromServer,
                Limits {
                    max_line: 1 << 20,
                    max_payload: 1 << 24,
                },
            ),
            next_trid: 1,
            label,
        }
    }

    /// Connects with a tiny receive buffer, so that a client that stops
    /// reading soon leaves data queued at the server.
    pub async fn connect_small_window(addr: SocketAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.expect("connect");
        Client::over(stream, addr.to_string())
    }

    /// This client's end of the connection (the server logs it as `peer`).
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }

    /// The next frame, `Ok(None)` at end of stream, `Err(())` after `limit`.
    pub async fn next_or_eof(&mut self, limit: Duration) -> Result<Option<Frame>, ()> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf).expect("server framing") {
                return Ok(Some(frame));
            }
            let mut chunk = [0u8; 8192];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Ok(None),
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return Err(()),
            }
        }
    }

    /// Whether the server sends something within `limit`; what arrives is
    /// kept for the next read (nothing is consumed). End of stream counts.
    pub async fn readable_within(&mut self, limit: Duration) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(limit, self.stream.read(&mut chunk)).await {
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }

    /// The next TrID this client would use (for `{}` in [`Client::call`]).
    pub fn trid(&mut self) -> u32 {
        let t = self.next_trid;
        self.next_trid += 1;
        t
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Sends bytes, ignoring failures (the server may close mid-way).
    pub async fn send_raw_lossy(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// Sends a line, ignoring failures (the server may have closed already).
    pub async fn send_lossy(&mut self, line: &str) {
        let _ = self
            .stream
            .write_all(format!("{line}\r\n").as_bytes())
            .await;
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// Sends `head len\r\n` + payload.
    pub async fn send_payload(&mut self, head: &str, payload: &[u8]) {
        let mut bytes = format!("{head} {}\r\n", payload.len()).into_bytes();
        bytes.extend_from_slice(payload);
        self.send_raw(&bytes).await;
    }

    /// The next frame, or `None` at end of stream or after `limit`.
    pub async fn try_recv(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf).expect("server framing") {
                return Some(frame);
            }
            let mut chunk = [0u8; 8192];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    pub async fn recv(&mut self) -> Frame {
        match self.try_recv(WAIT).await {
            Some(f) => f,
            None => panic!(
                "[{}] no line from the server (closed or timed out)",
                self.label
            ),
        }
    }

    pub async fn recv_line(&mut self) -> String {
        self.recv().await.line().to_owned()
    }

    pub async fn expect(&mut self, line: &str) {
        let got = self.recv_line().await;
        assert_eq!(got, line, "[{}] unexpected line", self.label);
    }

    /// Asserts that the server closes the connection (after any lines it
    /// sends, which are returned).
    pub async fn expect_eof(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf).expect("server framing") {
                lines.push(frame.line().to_owned());
                continue;
            }
            let mut chunk = [0u8; 8192];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return lines,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => panic!("[{}] connection still open; got {lines:?}", self.label),
            }
        }
    }

    /// Reads frames until `pred` holds, returning it (others are dropped).
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Frame) -> bool) -> Frame {
        loop {
            let f = match self.try_recv(WAIT).await {
                Some(f) => f,
                None => panic!("[{}] never got {what}", self.label),
            };
            if pred(&f) {
                return f;
            }
        }
    }

    /// Sends a command (`{}` is replaced by a fresh TrID) and returns its
    /// reply: the first frame with the same TrID in the second field
    /// (errors included). Asynchronous lines in between are dropped.
    pub async fn call(&mut self, template: &str) -> Frame {
        let trid = self.trid();
        let line = template.replacen("{}", &trid.to_string(), 1);
        self.send(&line).await;
        let want = trid.to_string();
        self.wait_for(&line, |f| f.tokens().nth(1) == Some(want.as_str()))
            .await
    }

    /// Like [`Client::call`] for a payload command.
    pub async fn call_payload(&mut self, template: &str, payload: &[u8]) -> Frame {
        let trid = self.trid();
        let head = template.replacen("{}", &trid.to_string(), 1);
        self.send_payload(&head, payload).await;
        let want = trid.to_string();
        self.wait_for(&head, |f| f.tokens().nth(1) == Some(want.as_str()))
            .await
    }

    /// Drops everything the server sent so far (NS only: `PNG` → `QNG`).
    pub async fn barrier(&mut self) {
        self.send("PNG").await;
        self.wait_for("QNG", |f| f.command() == "QNG").await;
    }

    /// Signs in with a Passport ticket (MSNP8+) straight at the NS.
    pub async fn login_twn(ns: SocketAddr, dialect: u8, email: &str, ticket: &str) -> Client {
        let mut c = Client::connect(ns).await;
        c.label = format!("{email}/ns");
        let ver = c.call(&format!("VER {{}} MSNP{dialect} CVR0")).await;
        assert_eq!(ver.tokens().nth(2), Some(format!("MSNP{dialect}").as_str()));
        c.call(&format!(
            "CVR {{}} 0x0409 winnt 5.1 i386 MSNMSGR 7.0.0777 msmsgs {email}"
        ))
        .await;
        let s = c.call(&format!("USR {{}} TWN I {email}")).await;
        assert_eq!(s.tokens().nth(3), Some("S"), "{}", s.line());
        let ok = c.call(&format!("USR {{}} TWN S {ticket}")).await;
        assert_eq!(
            ok.tokens().nth(2),
            Some("OK"),
            "login of {email} failed: {}",
            ok.line()
        );
        if dialect >= 11 {
            c.expect("SBS 0 null").await;
        }
        let profile = c.recv().await;
        assert_eq!(profile.command(), "MSG");
        c
    }

    /// Signs in with the MD5 package (MSNP2–MSNP7) straight at the NS.
    pub async fn login(ns: SocketAddr, dialect: u8, email: &str, password: &str) -> Client {
        let mut c = Client::connect(ns).await;
        c.label = format!("{email}/ns");
        let ver = c.call(&format!("VER {{}} MSNP{dialect} CVR0")).await;
        assert!(
            ver.line().contains(&format!("MSNP{dialect}")),
            "{}",
            ver.line()
        );
        c.call("INF {}").await;
        let salt_line = c.call(&format!("USR {{}} MD5 I {email}")).await;
        let salt = salt_line.tokens().last().unwrap().to_owned();
        let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
            "{salt}{password}"
        )));
        let ok = c.call(&format!("USR {{}} MD5 S {hash}")).await;
        assert_eq!(
            ok.tokens().nth(2),
            Some("OK"),
            "login of {email} failed: {}",
            ok.line()
        );
        let profile = c.recv().await;
        assert_eq!(profile.command(), "MSG");
        c
    }
}

/// `inviter` opens a switchboard and calls `invitee`, who answers; returns
/// both SB connections and the `RNG` the invitee got.
pub async fn chat(
    s: &TestServer,
    (inviter, inviter_ns): (&str, &mut Client),
    (invitee, invitee_ns): (&str, &mut Client),
) -> (Client, Client, String) {
    let xfr = inviter_ns.call("XFR {} SB").await;
    let cookie = xfr.tokens().nth(5).unwrap().to_owned();
    let mut a = Client::connect(s.sb).await;
    let ok = a.call(&format!("USR {{}} {inviter} {cookie}")).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let ring = a.call(&format!("CAL {{}} {invitee}")).await;
    assert_eq!(ring.tokens().nth(2), Some("RINGING"), "{}", ring.line());
    let rng = invitee_ns.wait_for("RNG", |f| f.command() == "RNG").await;
    let sid = rng.tokens().nth(1).unwrap().to_owned();
    let cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut b = Client::connect(s.sb).await;
    b.send(&format!("ANS 1 {invitee} {cookie} {sid}")).await;
    b.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    a.wait_for("JOI", |f| f.command() == "JOI").await;
    (a, b, rng.line().to_owned())
}
