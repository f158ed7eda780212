//! msnd's configuration: a TOML file (every key optional), overridden by
//! environment variables ([`ENV_PREFIX`]`SECTION__KEY`, e.g.
//! `MSND_NOTIFICATION__IDLE_TIMEOUT=30s`), overridden in turn by the
//! command-line flags of `msnd serve`. [`DEFAULT_CONFIG`] is the annotated
//! default file printed by `msnd config default`; a test keeps it equal to
//! `Config::default()`.
//!
//! Durations are [`Duration`]s, written as a number of seconds or a
//! humantime string ("90s", "500ms", "2m"). They were once `*_secs`
//! integers; those key names are still accepted (`idle_timeout_secs = 300`
//! means `idle_timeout = "5m"`), in files and in the environment.

#![forbid(unsafe_code)]

mod duration;
pub mod net;
mod networks;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::value::{Dict, Map, Tag, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

pub use net::{advertised, bind, public_host};

/// The annotated default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// Environment variables starting with this override the file:
/// `MSND_<SECTION>__<KEY>` (section and key separated by two underscores,
/// case-insensitive), e.g. `MSND_SERVER__PUBLIC_HOST=msn.example.net`.
pub const ENV_PREFIX: &str = "MSND_";

/// Separates the section from the key in an environment variable's name.
pub const ENV_SEPARATOR: &str = "__";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub dispatch: DispatchConfig,
    pub notification: NotificationConfig,
    pub switchboard: SwitchboardConfig,
    pub http: HttpConfig,
    pub gateway: GatewayConfig,
    pub admin: AdminConfig,
    pub challenge: ChallengeConfig,
    pub oim: OimConfig,
    pub circles: CirclesConfig,
    pub limits: LimitsConfig,
    pub login_throttle: LoginThrottleConfig,
    pub client_versions: ClientVersionsConfig,
    pub profile: ProfileConfig,
    pub urls: UrlsConfig,
    pub database: DatabaseConfig,
    pub passwords: PasswordsConfig,
    pub log: LogConfig,
    pub signup: SignupConfig,
    pub web: WebConfig,
    pub cluster: ClusterConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address every listener binds to.
    pub bind: IpAddr,
    /// Host name or address clients are told to connect to (in `XFR`,
    /// `RNG`, the nexus). Empty: the bind address, or 127.0.0.1 when binding
    /// to all interfaces.
    pub public_host: String,
    /// Where the database and generated files live.
    pub data_dir: PathBuf,
    /// Time given to clients to disconnect on shutdown after `OUT SSD`
    /// (at least a second).
    #[serde(with = "duration", alias = "shutdown_grace_secs")]
    pub shutdown_grace: Duration,
    /// On SIGTERM, first tell every signed-in user that the server goes
    /// down in this long (rounded up to minutes: the system message
    /// clients show) and wait that long before shutting down; a second
    /// SIGTERM or Ctrl-C shuts down at once. `0s`: no warning.
    #[serde(with = "duration")]
    pub shutdown_warning: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Run a separate Dispatch Server that refers clients to the NS.
    /// `false`: clients connect straight to the NS port (which accepts a
    /// full login itself).
    pub enabled: bool,
    pub port: u16,
    /// `host:port` clients are sent to for the Dispatch Server (listed in
    /// `XFR NS`); unset: `public_host` and the bound port (the NS's when
    /// the DS is disabled).
    pub advertise: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationConfig {
    pub port: u16,
    /// `host:port` clients are referred to by `XFR NS`; unset:
    /// `public_host` and the bound port.
    pub advertise: Option<String>,
    /// Lowest and highest `MSNPn` offered in `VER`.
    pub min_dialect: u8,
    pub max_dialect: u8,
    /// Time a client is told to wait between pings (`QNG n`, whole
    /// seconds, MSNP9+).
    #[serde(with = "duration", alias = "ping_interval_secs")]
    pub ping_interval: Duration,
    /// Close a signed-in connection after this long without input.
    #[serde(with = "duration", alias = "idle_timeout_secs")]
    pub idle_timeout: Duration,
    /// Close a connection that has not signed in after this long.
    #[serde(with = "duration", alias = "login_timeout_secs")]
    pub login_timeout: Duration,
    /// Offer clear-text passwords (`CTP`) to MSNP2 clients. Off: the
    /// password would cross the network unprotected.
    pub ctp: bool,
    /// Send `SBS 0 null` after `USR OK` to MSNP11+ clients.
    pub send_sbs: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwitchboardConfig {
    pub port: u16,
    /// `host:port` clients are sent to in `XFR SB` and `RNG`; unset:
    /// `public_host` and the bound port.
    pub advertise: Option<String>,
    /// Lifetime of an `XFR SB` cookie.
    #[serde(with = "duration", alias = "cookie_ttl_secs")]
    pub cookie_ttl: Duration,
    /// How long an invitation (`RNG`) can be answered.
    #[serde(with = "duration", alias = "ring_ttl_secs")]
    pub ring_ttl: Duration,
    /// Remove a participant (`BYE handle 1`) after this long without
    /// input; 0 = never.
    #[serde(with = "duration", alias = "idle_timeout_secs")]
    pub idle_timeout: Duration,
    /// Close a connection that has not sent `USR`/`ANS` after this long.
    #[serde(with = "duration", alias = "login_timeout_secs")]
    pub login_timeout: Duration,
    pub max_participants: usize,
    /// Switchboard connections one user may hold at once.
    pub max_sessions_per_user: usize,
    /// Largest `MSG` payload (HYP measured 1664 bytes on the real service).
    pub max_message_bytes: usize,
    /// Treat a message sent to a session with no other participant as
    /// failed (`NAK` for ack modes A/N/D), as switchboard.md recommends.
    pub nak_when_alone: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Serve the Passport nexus and login over plain HTTP on `port`.
    pub enabled: bool,
    pub port: u16,
    /// `host:port` the nexus announces in the login URL (of the plain HTTP
    /// listener when it runs, else of HTTPS); unset: `public_host` and the
    /// bound port. `login_url` overrides it.
    pub advertise: Option<String>,
    /// HTTPS port; 0 disables HTTPS. Needs `tls_cert` and `tls_key`.
    pub https_port: u16,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// TLS implementation of the HTTPS listener: rustls (TLS 1.2 and 1.3
    /// only) or OpenSSL (TLS 1.0 to 1.3 with the ciphers of Windows
    /// XP-era clients; needs msnd built with the `legacy-tls` feature).
    pub tls_backend: TlsBackend,
    /// OpenSSL cipher list for TLS 1.0–1.2 (`tls_backend = "openssl"`
    /// only; TLS 1.3 keeps OpenSSL's suites); unset:
    /// [`DEFAULT_TLS_CIPHERS`].
    pub tls_ciphers: Option<String>,
    /// Public base URL of the login service as sent in `DALogin`; empty:
    /// derived from `public_host` and the listening port.
    pub login_url: String,
    /// Lifetime of a Messenger login ticket (Passport 1.4, and RST.srf's
    /// `messenger.msn.com`/`messengerclear.live.com` tokens); single use.
    #[serde(with = "duration", alias = "ticket_ttl_secs")]
    pub ticket_ttl: Duration,
    /// Lifetime of the other RST.srf tokens (contacts, storage, spaces, …):
    /// bearer tokens for SOAP services, usable until they expire.
    #[serde(with = "duration", alias = "soap_token_ttl_secs")]
    pub soap_token_ttl: Duration,
    /// Password checks running at once (argon2 is CPU- and memory-heavy:
    /// each running check holds its own work memory, 19 MiB at the default
    /// cost). Shared by every login that sends a password: Passport 1.4,
    /// RST.srf and the NS's `USR CTP`.
    pub max_concurrent_hashes: usize,
    /// Logins that may wait for a password check beyond those running.
    /// Any more are refused at once (`503` with `Retry-After` on
    /// `login2.srf`, a SOAP server fault on RST.srf, `911` on the NS)
    /// rather than queued: under a flood of guesses an unbounded queue
    /// only makes every login wait longer.
    pub max_pending_logins: usize,
    /// Largest request body of the address-book and sharing SOAP services
    /// (`/abservice/*.asmx`); larger requests get a SOAP fault.
    pub max_soap_request_bytes: usize,
    /// Serve `/metrics` (Prometheus text format) on the HTTP listeners.
    pub metrics: bool,
    /// Client addresses that may read `/metrics`; others get `404`, as if
    /// there were none (the HTTP listener usually faces the internet, and
    /// the counters tell an attacker how the server is doing). Default:
    /// loopback only.
    #[serde(with = "networks")]
    pub metrics_allow: Vec<ipnet::IpNet>,
}

/// Which TLS library serves HTTPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsBackend {
    /// rustls: TLS 1.2 and 1.3, modern ciphers only.
    #[default]
    Rustls,
    /// OpenSSL (cargo feature `legacy-tls`): also TLS 1.0 and 1.1 with
    /// the RSA key exchange and 3DES of MSN Messenger 5.0 – WLM on
    /// Windows XP, which rustls will never speak.
    Openssl,
}

/// The OpenSSL backend's default cipher list, strongest first (the server
/// picks): forward-secret AEAD suites for current clients, then the AES-CBC
/// suites of Vista-era SChannel, then `DES-CBC3-SHA`
/// (`TLS_RSA_WITH_3DES_EDE_CBC_SHA`), the best Windows XP offers, and RC4
/// where the library still has it (OpenSSL 3 keeps RC4 in its legacy
/// provider, so there it is skipped). XP's suites need an RSA certificate.
pub const DEFAULT_TLS_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:\
ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:\
AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA:DES-CBC3-SHA:RC4-SHA";

/// The HTTP gateway (`/gateway/gateway.dll` on the HTTP listeners): NS
/// and SB sessions tunnelled through HTTP requests, for MSN Messenger
/// 5.0 – WLM 2009 behind proxies that block port 1863.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Serve the gateway (it needs the HTTP service: `http.enabled` or
    /// an HTTPS port).
    pub enabled: bool,
    /// A gateway session that gets no request for this long is closed (its
    /// user signs out, as on a TCP disconnect). Clients poll every ~2 s.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Gateway sessions one client address (an IPv6 /64) may hold at once,
    /// NS and SB together; 0 = no cap. Addresses in
    /// `limits.exempt_networks` are not capped.
    pub max_sessions_per_address: usize,
    /// Largest request body (the client's commands); a larger request gets
    /// `413` and its session is closed. Also the most input that may wait
    /// for a busy session: a client further ahead is disconnected.
    pub max_request_bytes: usize,
    /// Server output held for a client between two of its requests (the
    /// gateway's "socket buffer"); beyond it output waits in the session's
    /// own buffer, and a client that stops polling is disconnected once
    /// `limits.max_outbound_bytes` are waiting, as a TCP client that stops
    /// reading.
    pub max_queued_bytes: usize,
    /// Longest an answer waits for the session to handle the request's
    /// commands; output produced later goes out with the next request.
    #[serde(with = "duration")]
    pub reply_wait: Duration,
}

/// The operators' API (`/admin/api/…` on the HTTP listeners) that
/// `msnd admin` talks to.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Serve the API (it needs the HTTP service).
    pub enabled: bool,
    /// The bearer token every request must carry (at least 16 characters).
    /// Empty: msnd makes a random one at each start and writes it to
    /// `admin.token` in the data directory, readable by its own user
    /// only, where `msnd admin` on the same machine finds it.
    pub token: String,
    /// Client addresses that may call the API (with the token); others get
    /// `404`, as if there were none. Default: loopback only.
    #[serde(with = "networks")]
    pub allow: Vec<ipnet::IpNet>,
}

impl std::fmt::Debug for AdminConfig {
    /// The token is a secret: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("enabled", &self.enabled)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("allow", &self.allow)
            .finish()
    }
}

/// `CHL`/`QRY` policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChallengeMode {
    /// Never send `CHL` (what revival servers do; every client works).
    Off,
    /// Send one `CHL` after the first `CHG`; a wrong answer gets `540` and
    /// a disconnect; a client that never answers stays connected.
    Lenient,
    /// As lenient, and a client that has not answered within `timeout` is
    /// disconnected (what Microsoft's service did).
    Strict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChallengeConfig {
    pub mode: ChallengeMode,
    #[serde(with = "duration", alias = "timeout_secs")]
    pub timeout: Duration,
    /// Challenge again this long after each answer; 0 = once.
    #[serde(with = "duration", alias = "repeat_secs")]
    pub repeat: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Connections held at once over all listeners; more are refused.
    pub max_connections: usize,
    /// Longest command line, bytes.
    pub max_line_bytes: usize,
    /// Largest payload of an NS command (`UUX`, `SDC`, `PAG`), bytes.
    pub max_ns_payload_bytes: usize,
    /// Commands per second a connection may send on average, and in a burst.
    /// Exceeding them closes the connection.
    pub commands_per_sec: u32,
    pub command_burst: u32,
    /// Switchboard messages per second (average and burst); a faster sender
    /// is slowed down rather than disconnected (P2P transfers send chunks
    /// back to back).
    pub sb_messages_per_sec: u32,
    pub sb_message_burst: u32,
    /// Entries on each of FL, AL and BL.
    pub max_list_entries: usize,
    /// Groups an account may have (group 0 included) from MSNP10 on;
    /// MSNP7–MSNP9 keep 30.
    pub max_groups: usize,
    /// Unsent bytes queued for one client before it is disconnected as a
    /// client that does not read.
    pub max_outbound_bytes: usize,
    /// Kernel send buffer of each client socket (bytes); a fixed size keeps
    /// a client that stops reading from hiding megabytes in the kernel and
    /// bounds memory per connection. 0: the operating system's autotuning.
    pub socket_send_buffer_bytes: usize,
    /// Events (presence, messages) waiting for one connection.
    pub mailbox_capacity: usize,
    /// Friendly-name changes allowed per minute (`800` beyond).
    pub renames_per_minute: u32,
    /// `CAL`s allowed per minute on one switchboard connection (`713`).
    pub calls_per_minute: u32,
    /// Connections one client address (an IPv6 /64) may hold at once over
    /// every listener; 0 = no cap. Generous: many users may share one
    /// address behind NAT, each with an NS and several SB connections.
    pub max_connections_per_address: usize,
    /// Connections not signed in yet (DS, NS before `USR … OK`, SB before
    /// `USR`/`ANS … OK`, HTTP) one address may hold at once; 0 = no cap.
    /// Idle unauthenticated sockets are how one address would lock others
    /// out of `max_connections`.
    pub max_unauthenticated_per_address: usize,
    /// Close a connection that has not sent its first command (`VER` on
    /// the DS and NS, `USR`/`ANS` on the SB) after this long (at most the
    /// service's `login_timeout`).
    #[serde(with = "duration")]
    pub handshake_timeout: Duration,
    /// Networks exempt from the per-address caps and from the login
    /// throttle's per-address rule (a proxy in front of msnd: every client
    /// arrives from its address). Written "127.0.0.0/8" or "::1".
    #[serde(with = "networks")]
    pub exempt_networks: Vec<ipnet::IpNet>,
}

/// Failed-login throttling on the password logins (NS MD5 and CTP,
/// Passport 1.4 `login2.srf`, RST.srf); see `msn_auth::throttle`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottleConfig {
    /// Failed logins from one address (any accounts) within `window` after
    /// which every login from it is refused for a cooldown; 0 = off.
    pub max_failures_per_address: u32,
    /// Failed logins for one account (from anywhere) within `window` after
    /// which it is refused for a cooldown, only to the addresses that
    /// failed for it: its owner elsewhere still gets in. 0 = off.
    pub max_failures_per_account: u32,
    /// How long failures are counted.
    #[serde(with = "duration")]
    pub window: Duration,
    /// The first lockout; each further one (more failures within `window`
    /// of the last) is twice as long, up to `max_cooldown`.
    #[serde(with = "duration")]
    pub cooldown: Duration,
    #[serde(with = "duration")]
    pub max_cooldown: Duration,
    /// Addresses and accounts remembered at most (each); beyond, new ones
    /// are not throttled (logged).
    pub max_tracked: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientVersionsConfig {
    /// Version offered in `CVR` replies; empty: the client's own version
    /// (no upgrade prompt).
    pub recommended: String,
    /// Minimum version; clients below it are told to upgrade. Empty: the
    /// client's own version.
    pub minimum: String,
    pub download_url: String,
    pub info_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// `lang_preference` in the initial profile (an LCID).
    pub lang_preference: u32,
    /// `country` in the initial profile.
    pub country: String,
    /// Tell clients that accounts have an inbox (`EmailEnabled: 1`) and
    /// send the initial mailbox notice (with zero unread messages).
    pub email_enabled: bool,
    /// URL clients open for the inbox in mail notices.
    pub post_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrlsConfig {
    /// Login page the client's web links post to (second `URL` field).
    pub login_url: String,
    /// Passport site id (third `URL` field, MSNP3+).
    pub site_id: u32,
    /// Where each `URL` service leads (first field).
    pub inbox: String,
    pub compose: String,
    pub profile: String,
    pub person: String,
    pub chat: String,
    pub mobile: String,
    pub password: String,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Database URL (`sqlite://<file>` or `postgres://user:pass@host/db`);
    /// unset: `path`, else `sqlite://<data_dir>/msnd.db`. See
    /// [`DatabaseConfig::resolved_url`]. May hold a password: never logged.
    pub url: Option<String>,
    /// SQLite file (the older way to say `url`); unset: `<data_dir>/msnd.db`.
    pub path: Option<PathBuf>,
    /// "full" (survives power loss) or "normal" (survives crashes only).
    /// SQLite only.
    pub synchronous: String,
    /// Most connections this node keeps to a PostgreSQL server.
    pub max_connections: u32,
    /// How long a PostgreSQL query waits for a free connection (or a new
    /// one to connect) before it fails.
    #[serde(with = "duration")]
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DatabaseConfig {
    /// Leaves the URL out: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_ref().map(|_| ".."))
            .field("path", &self.path)
            .field("synchronous", &self.synchronous)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// Several msnd nodes as one service (`msn-cluster`): NATS carries the
/// events and questions between nodes and keeps the node registry and the
/// session directory; the accounts are in the shared PostgreSQL database.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// NATS server URL (`nats://host:4222`, JetStream on); empty: one
    /// node, no cluster. May hold credentials: never logged.
    pub nats_url: String,
    /// The cluster's name: nodes with the same name and NATS server are
    /// one service (it prefixes the NATS subjects and KV buckets).
    pub name: String,
    /// This node's name in the registry; empty: the host name.
    pub node_id: String,
    /// How often the node tells the others it is alive.
    #[serde(with = "duration")]
    pub heartbeat: Duration,
    /// A node silent for this long is taken for dead: its users' watchers
    /// see them go offline, and they may sign in elsewhere.
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// How long a question to another node (a contact's presence, whether
    /// someone can be invited) waits for its answer; no answer counts as
    /// offline.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
}

impl std::fmt::Debug for ClusterConfig {
    /// Leaves the URL out: it may carry credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("nats_url", &(!self.nats_url.is_empty()).then_some(".."))
            .field("name", &self.name)
            .field("node_id", &self.node_id)
            .field("heartbeat", &self.heartbeat)
            .field("ttl", &self.ttl)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nats_url: String::new(),
            name: "msnd".into(),
            node_id: String::new(),
            heartbeat: Duration::from_secs(5),
            ttl: Duration::from_secs(15),
            request_timeout: Duration::from_secs(2),
        }
    }
}

impl ClusterConfig {
    /// Whether this node is one of several.
    pub fn enabled(&self) -> bool {
        !self.nats_url.trim().is_empty()
    }

    fn validate(&self, database_url: &str) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !name_ok(&self.name) {
            return Err("cluster.name must be 1 to 64 letters, digits, '-' or '_'".into());
        }
        if !self.node_id.is_empty() && !name_ok(&self.node_id) {
            return Err(
                "cluster.node_id must be 1 to 64 letters, digits, '-' or '_' (or empty: the host name)"
                    .into(),
            );
        }
        if self.heartbeat.is_zero() || self.ttl < self.heartbeat * 2 {
            return Err(
                "cluster.heartbeat must not be 0 and cluster.ttl must be at least twice it".into(),
            );
        }
        if self.request_timeout.is_zero() {
            return Err("cluster.request_timeout must not be 0".into());
        }
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(
                "cluster.nats_url needs a shared PostgreSQL database: set database.url = \"postgres://…\" \
                 (SQLite serves one node only)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Offline messages (OIM, MSNP13+): what is kept for a user who is
/// offline, and how the sign-in notice lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OimConfig {
    /// Largest message text accepted, in bytes of UTF-8 (after the
    /// client's base64 is decoded); a larger one gets a SOAP fault.
    pub max_message_bytes: usize,
    /// Messages kept waiting for one recipient; further ones are refused
    /// until the recipient deletes some.
    pub max_waiting_per_recipient: usize,
    /// With more messages waiting than this, the sign-in notice says
    /// `too-large` and the client asks for the list itself (`GetMetadata`).
    pub too_large_threshold: usize,
}

/// Circles (MSNP18 group conversations): how big they may grow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CirclesConfig {
    /// Members of one circle, the invited counted; further invitations
    /// get a SOAP fault.
    pub max_members: usize,
    /// Circles one user may be in (created, joined or invited to).
    pub max_per_user: usize,
}

impl Default for CirclesConfig {
    fn default() -> Self {
        CirclesConfig {
            max_members: 20,
            max_per_user: 50,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordsConfig {
    /// argon2id cost for new password hashes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// tracing filter, e.g. "info" or "msn_server=debug".
    pub level: String,
    /// "text" or "json".
    pub format: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::from([0, 0, 0, 0]),
            public_host: String::new(),
            data_dir: PathBuf::from("data"),
            shutdown_grace: Duration::from_secs(3),
            shutdown_warning: Duration::ZERO,
        }
    }
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            enabled: true,
            port: 1863,
            advertise: None,
        }
    }
}

impl Default for NotificationConfig {
    fn default() -> Self {
        NotificationConfig {
            port: 1864,
            advertise: None,
            min_dialect: 2,
            max_dialect: msn_wire::Dialect::DEFAULT_MAX,
            ping_interval: Duration::from_secs(50),
            idle_timeout: Duration::from_secs(300),
            login_timeout: Duration::from_secs(60),
            ctp: false,
            send_sbs: true,
        }
    }
}

impl Default for SwitchboardConfig {
    fn default() -> Self {
        SwitchboardConfig {
            port: 1865,
            advertise: None,
            cookie_ttl: Duration::from_secs(120),
            ring_ttl: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(1800),
            login_timeout: Duration::from_secs(60),
            max_participants: 20,
            max_sessions_per_user: 50,
            max_message_bytes: 1664,
            nak_when_alone: true,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            port: 8080,
            advertise: None,
            https_port: 0,
            tls_cert: None,
            tls_key: None,
            tls_backend: TlsBackend::Rustls,
            tls_ciphers: None,
            login_url: String::new(),
            ticket_ttl: Duration::from_secs(120),
            soap_token_ttl: Duration::from_secs(8 * 3600),
            max_concurrent_hashes: 4,
            max_pending_logins: 256,
            max_soap_request_bytes: 256 * 1024,
            metrics: true,
            metrics_allow: vec![
                ipnet::IpNet::new_assert(IpAddr::from([127, 0, 0, 1]), 32),
                ipnet::IpNet::new_assert(IpAddr::from(std::net::Ipv6Addr::LOCALHOST), 128),
            ],
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            enabled: true,
            idle_timeout: Duration::from_secs(60),
            max_sessions_per_address: 256,
            max_request_bytes: 64 * 1024,
            max_queued_bytes: 64 * 1024,
            reply_wait: Duration::from_secs(5),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            token: String::new(),
            allow: vec![
                ipnet::IpNet::new_assert(IpAddr::from([127, 0, 0, 1]), 32),
                ipnet::IpNet::new_assert(IpAddr::from(std::net::Ipv6Addr::LOCALHOST), 128),
            ],
        }
    }
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        ChallengeConfig {
            mode: ChallengeMode::Off,
            timeout: Duration::from_secs(60),
            repeat: Duration::ZERO,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 19_500,
            max_line_bytes: 2048,
            max_ns_payload_bytes: 8192,
            commands_per_sec: 20,
            command_burst: 100,
            sb_messages_per_sec: 200,
            sb_message_burst: 400,
            max_list_entries: 600,
            max_groups: 100,
            max_outbound_bytes: 256 * 1024,
            socket_send_buffer_bytes: 64 * 1024,
            mailbox_capacity: 1024,
            renames_per_minute: 10,
            calls_per_minute: 30,
            max_connections_per_address: 512,
            max_unauthenticated_per_address: 64,
            handshake_timeout: Duration::from_secs(30),
            // Loopback.
            exempt_networks: vec![
                ipnet::IpNet::new_assert(IpAddr::from([127, 0, 0, 0]), 8),
                ipnet::IpNet::new_assert(IpAddr::from(std::net::Ipv6Addr::LOCALHOST), 128),
            ],
        }
    }
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            max_failures_per_address: 20,
            max_failures_per_account: 10,
            window: Duration::from_secs(600),
            cooldown: Duration::from_secs(60),
            max_cooldown: Duration::from_secs(3600),
            max_tracked: 100_000,
        }
    }
}

impl Default for ClientVersionsConfig {
    fn default() -> Self {
        ClientVersionsConfig {
            recommended: String::new(),
            minimum: String::new(),
            download_url: "http://messenger.example.invalid/download".into(),
            info_url: "http://messenger.example.invalid/".into(),
        }
    }
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            lang_preference: 1033,
            country: "US".into(),
            email_enabled: false,
            post_url: "http://mail.example.invalid/".into(),
        }
    }
}

impl Default for UrlsConfig {
    fn default() -> Self {
        UrlsConfig {
            login_url: "https://login.example.invalid/ppsecure/md5auth.srf?lc=1033".into(),
            site_id: 2,
            inbox: "/cgi-bin/HoTMaiL".into(),
            compose: "/cgi-bin/compose".into(),
            profile: "http://members.example.invalid/profile".into(),
            person: "http://members.example.invalid/person".into(),
            chat: "http://chat.example.invalid/".into(),
            mobile: "http://mobile.example.invalid/".into(),
            password: "http://account.example.invalid/password".into(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            path: None,
            synchronous: "full".into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

impl Default for OimConfig {
    fn default() -> Self {
        OimConfig {
            max_message_bytes: 4096,
            max_waiting_per_recipient: 1000,
            too_large_threshold: 25,
        }
    }
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        let cost = msn_core::password::HashCost::default();
        PasswordsConfig {
            argon2_memory_kib: cost.memory_kib,
            argon2_iterations: cost.iterations,
            argon2_parallelism: cost.parallelism,
        }
    }
}

/// The sign-up and account pages on the HTTP port
/// (`msn_http::account_pages`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignupConfig {
    /// Serve `/signup` and `/account` at all.
    pub enabled: bool,
    /// New accounts need an invitation code (`msnd invite create`).
    pub invite_only: bool,
    /// Fewest characters of a password chosen on the pages.
    pub min_password_length: usize,
    /// Sign-up attempts one address (an IPv6 /64) may make per
    /// `signup_window`: that many at once, then one each window / n.
    /// 0 = no limit.
    pub signups_per_address: u32,
    #[serde(with = "duration")]
    pub signup_window: Duration,
    /// Sign-in attempts to the account page per address per
    /// `sign_in_window` (besides `[login_throttle]`); 0 = no limit.
    pub sign_ins_per_address: u32,
    #[serde(with = "duration")]
    pub sign_in_window: Duration,
    /// How long a sign-in to the account page lasts without being used.
    #[serde(with = "duration")]
    pub session_ttl: Duration,
    /// Account-page sessions held at most (the oldest go first).
    pub max_sessions: usize,
}

impl SignupConfig {
    /// Values the pages cannot work with.
    fn validate(&self) -> Result<(), String> {
        // msn_service::accounts::MAX_PASSWORD_BYTES is 256.
        if !(1..=256).contains(&self.min_password_length) {
            return Err(format!(
                "signup.min_password_length must be 1 to 256 (got {})",
                self.min_password_length
            ));
        }
        for (name, n, window) in [
            ("signup", self.signups_per_address, self.signup_window),
            ("sign_in", self.sign_ins_per_address, self.sign_in_window),
        ] {
            if n > 0 && window.is_zero() {
                return Err(format!("signup.{name}_window must not be 0"));
            }
        }
        if self.session_ttl.is_zero() || self.max_sessions == 0 {
            return Err("signup.session_ttl and signup.max_sessions must not be 0".into());
        }
        Ok(())
    }
}

impl Default for SignupConfig {
    fn default() -> Self {
        SignupConfig {
            enabled: true,
            invite_only: false,
            min_password_length: 8,
            signups_per_address: 5,
            signup_window: Duration::from_secs(3600),
            sign_ins_per_address: 10,
            sign_in_window: Duration::from_secs(60),
            session_ttl: Duration::from_secs(1800),
            max_sessions: 10_000,
        }
    }
}

/// The web client, msnd Web Messenger (`msn_http::web`): its page under
/// `/messenger/`, its sign-in and its WebSocket on the HTTP port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Serve `/messenger/` at all.
    pub enabled: bool,
    /// Sign-in attempts (password checks) per address (an IPv6 /64) per
    /// `sign_in_window`, besides `[login_throttle]`; 0 = no limit.
    pub sign_ins_per_address: u32,
    #[serde(with = "duration")]
    pub sign_in_window: Duration,
    /// How long a web sign-in (the cookie that gets new Messenger tickets
    /// when the socket reconnects) lasts without being used.
    #[serde(with = "duration")]
    pub session_ttl: Duration,
    /// Web sign-ins held at once, at most (the oldest go first).
    pub max_sessions: usize,
    /// WebSockets one address may hold at once (an NS and a few
    /// conversations per browser tab); 0 = no cap. Exempt networks
    /// (`[limits] exempt_networks`) are not capped here.
    pub max_sockets_per_address: u32,
    /// Largest WebSocket message taken from a browser.
    pub max_message_bytes: usize,
}

impl WebConfig {
    fn validate(&self) -> Result<(), String> {
        if self.sign_ins_per_address > 0 && self.sign_in_window.is_zero() {
            return Err("web.sign_in_window must not be 0".into());
        }
        if self.session_ttl.is_zero() || self.max_sessions == 0 {
            return Err("web.session_ttl and web.max_sessions must not be 0".into());
        }
        if self.max_message_bytes < 1024 {
            return Err("web.max_message_bytes must be at least 1024".into());
        }
        Ok(())
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            enabled: true,
            sign_ins_per_address: 10,
            sign_in_window: Duration::from_secs(60),
            session_ttl: Duration::from_secs(12 * 3600),
            max_sessions: 10_000,
            max_sockets_per_address: 64,
            max_message_bytes: 65_536,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl DatabaseConfig {
    /// The database URL: `url`, else `sqlite://` and `path`, else
    /// `sqlite://<data_dir>/msnd.db`.
    pub fn resolved_url(&self, data_dir: &Path) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| data_dir.join("msnd.db"));
        format!("sqlite://{}", path.display())
    }

    /// The SQLite file of a `sqlite://` URL (query string dropped).
    fn sqlite_file(url: &str) -> Option<PathBuf> {
        let rest = url.strip_prefix("sqlite://")?;
        let file = rest.split_once('?').map_or(rest, |(file, _)| file);
        (!file.is_empty()).then(|| PathBuf::from(file))
    }
}

impl Config {
    /// Parses a TOML configuration; missing keys take their defaults.
    /// Environment variables are not consulted (see [`Config::load`]).
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// The configuration msnd runs with: `file` (if any), then every
    /// `MSND_<SECTION>__<KEY>` environment variable over it. Old `*_secs`
    /// key names are accepted in both; where a file and the environment
    /// name the same setting in old and new spelling, the environment
    /// wins. Not validated (command-line flags still apply).
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        Self::figment(file).extract().map_err(Box::new)
    }

    /// The layered sources of [`Config::load`].
    pub fn figment(file: Option<&Path>) -> Figment {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // `Toml::file` silently skips a missing file; a configuration
            // named on the command line must exist.
            figment = figment.merge(Canonical(Toml::file_exact(path)));
        }
        figment.merge(EnvOverrides)
    }

    /// Checks values that would make the server misbehave.
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.notification;
        if !(msn_wire::Dialect::MIN..=msn_wire::Dialect::MAX).contains(&n.min_dialect)
            || !(n.min_dialect..=msn_wire::Dialect::MAX).contains(&n.max_dialect)
        {
            return Err(format!(
                "notification dialects must lie within {}..={} (got {}..={})",
                msn_wire::Dialect::MIN,
                msn_wire::Dialect::MAX,
                n.min_dialect,
                n.max_dialect
            ));
        }
        if !self.admin.token.is_empty() && self.admin.token.chars().count() < 16 {
            return Err("admin.token must be at least 16 characters (or empty: generated)".into());
        }
        if self.limits.max_line_bytes < 256 {
            return Err("limits.max_line_bytes must be at least 256".into());
        }
        if self.switchboard.max_participants < 2 {
            return Err("switchboard.max_participants must be at least 2".into());
        }
        if !matches!(self.database.synchronous.as_str(), "full" | "normal") {
            return Err("database.synchronous must be \"full\" or \"normal\"".into());
        }
        if self.database.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if self.database.acquire_timeout.is_zero() {
            return Err("database.acquire_timeout must not be 0".into());
        }
        match (&self.database.url, &self.database.path) {
            (Some(_), Some(_)) => {
                return Err("set database.url or database.path, not both".into());
            }
            // The store's own parser, so that what passes here opens; its
            // messages never repeat the URL (it may hold a password).
            (Some(url), None) => {
                if let Err(e) = msn_store::DatabaseUrl::parse(url) {
                    return Err(format!("database.url: {e}"));
                }
            }
            _ => {}
        }
        if self.limits.handshake_timeout.is_zero() {
            return Err("limits.handshake_timeout must not be 0".into());
        }
        self.cluster.validate(&self.database_url())?;
        let t = &self.login_throttle;
        if (t.max_failures_per_address > 0 || t.max_failures_per_account > 0)
            && (t.window.is_zero() || t.cooldown.is_zero() || t.max_tracked == 0)
        {
            return Err(
                "login_throttle: window, cooldown and max_tracked must not be 0 \
                 (set max_failures_per_address and max_failures_per_account to 0 to turn it off)"
                    .into(),
            );
        }
        if self.oim.max_message_bytes == 0 || self.oim.max_waiting_per_recipient == 0 {
            return Err(
                "oim.max_message_bytes and oim.max_waiting_per_recipient must not be 0".into(),
            );
        }
        if self.circles.max_members < 2 || self.circles.max_per_user == 0 {
            return Err("circles.max_members must be at least 2 and max_per_user not 0".into());
        }
        let g = &self.gateway;
        if g.idle_timeout.is_zero() || g.reply_wait.is_zero() {
            return Err("gateway.idle_timeout and gateway.reply_wait must not be 0".into());
        }
        if g.max_request_bytes == 0 || g.max_queued_bytes < 1024 {
            return Err(
                "gateway.max_request_bytes must not be 0 and gateway.max_queued_bytes \
                 must be at least 1024"
                    .into(),
            );
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err("log.format must be \"text\" or \"json\"".into());
        }
        if self.http.https_port != 0
            && (self.http.tls_cert.is_none() || self.http.tls_key.is_none())
        {
            return Err("http.https_port needs http.tls_cert and http.tls_key".into());
        }
        match (&self.http.tls_ciphers, self.http.tls_backend) {
            (Some(_), TlsBackend::Rustls) => {
                return Err(
                    "http.tls_ciphers applies only to http.tls_backend = \"openssl\"".into(),
                );
            }
            (Some(list), _) if list.trim().is_empty() => {
                return Err("http.tls_ciphers must not be empty (unset it for the default)".into());
            }
            _ => {}
        }
        for (section, advertise) in [
            ("dispatch", &self.dispatch.advertise),
            ("notification", &self.notification.advertise),
            ("switchboard", &self.switchboard.advertise),
            ("http", &self.http.advertise),
        ] {
            if let Some(addr) = advertise.as_deref().filter(|a| !net::check_host_port(a)) {
                return Err(format!(
                    "{section}.advertise must be \"host:port\" (got {addr:?})"
                ));
            }
        }
        self.signup.validate()?;
        self.web.validate()
    }

    /// The SQLite file to use: that of `database.url`, else
    /// `database.path`, else `<data_dir>/msnd.db`.
    pub fn database_path(&self) -> PathBuf {
        if let Some(file) = self
            .database
            .url
            .as_deref()
            .and_then(DatabaseConfig::sqlite_file)
        {
            return file;
        }
        self.database
            .path
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("msnd.db"))
    }

    /// The database URL (see [`DatabaseConfig::resolved_url`]).
    pub fn database_url(&self) -> String {
        self.database.resolved_url(&self.server.data_dir)
    }

    /// The argon2id cost for new hashes.
    pub fn hash_cost(&self) -> msn_core::password::HashCost {
        msn_core::password::HashCost {
            memory_kib: self.passwords.argon2_memory_kib,
            iterations: self.passwords.argon2_iterations,
            parallelism: self.passwords.argon2_parallelism,
        }
    }

    /// The login throttle's settings (`[login_throttle]`, and
    /// `[limits] exempt_networks` for its per-address rule).
    pub fn login_throttle(&self) -> msn_auth::ThrottleSettings {
        let t = &self.login_throttle;
        msn_auth::ThrottleSettings {
            max_failures_per_address: t.max_failures_per_address,
            max_failures_per_account: t.max_failures_per_account,
            window: t.window,
            cooldown: t.cooldown,
            max_cooldown: t.max_cooldown.max(t.cooldown),
            max_tracked: t.max_tracked,
            exempt: msn_auth::Exempt::new(self.limits.exempt_networks.clone()),
        }
    }

    /// The connection caps (`[limits]`).
    pub fn connection_gate(&self) -> msn_auth::GateSettings {
        let l = &self.limits;
        msn_auth::GateSettings {
            max_connections: l.max_connections,
            max_per_address: l.max_connections_per_address,
            max_unauthenticated_per_address: l.max_unauthenticated_per_address,
            exempt: msn_auth::Exempt::new(l.exempt_networks.clone()),
        }
    }

    /// A configuration for tests: everything on 127.0.0.1 with ephemeral
    /// ports, cheap password hashing, data in `data_dir`.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Config {
        let mut c = Config::default();
        c.server.bind = IpAddr::from([127, 0, 0, 1]);
        c.server.data_dir = data_dir.into();
        c.server.shutdown_grace = Duration::from_secs(1);
        c.dispatch.port = 0;
        c.notification.port = 0;
        c.switchboard.port = 0;
        c.http.port = 0;
        let cost = msn_core::password::HashCost::insecure_for_tests();
        c.passwords.argon2_memory_kib = cost.memory_kib;
        c.passwords.argon2_iterations = cost.iterations;
        c.passwords.argon2_parallelism = cost.parallelism;
        c.database.synchronous = "normal".into();
        c
    }
}

/// The `MSND_<SECTION>__<KEY>` variables. Variables without the separator
/// (`MSND_PASSWORD` of `msnd user add`, `MSND_TEST_LOG`) are not
/// configuration and are left alone.
///
/// figment's own `Env` provider guesses each value's type from its text,
/// so `MSND_CLIENT_VERSIONS__MINIMUM=7` would be a number where text is
/// wanted. Here a value is text wherever the setting is text (a string, a
/// duration, an address, an optional path) and parsed like TOML elsewhere
/// (numbers, booleans).
struct EnvOverrides;

impl Provider for EnvOverrides {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("`{ENV_PREFIX}` environment variable(s)"))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let defaults = Serialized::defaults(Config::default()).data()?;
        let defaults = defaults.get(&Profile::Default);
        let env = Env::prefixed(ENV_PREFIX)
            .filter(|key| key.as_str().contains(ENV_SEPARATOR))
            .split(ENV_SEPARATOR);
        let mut dict = Dict::new();
        for (key, raw) in env.iter() {
            let path: Vec<String> = key
                .as_str()
                .to_ascii_lowercase()
                .split('.')
                .map(str::to_owned)
                .collect();
            let default = defaults.and_then(|d| lookup(d, &path));
            let value = match default {
                None | Some(Value::String(..) | Value::Empty(..)) => Value::from(raw),
                Some(_) => raw.parse().unwrap_or_else(|e| match e {}),
            };
            insert(&mut dict, &path, value);
        }
        for section in dict.values_mut() {
            if let Value::Dict(_, keys) = section {
                canonical_keys(keys);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The value at `path` (with old `*_secs` names read as the new ones).
fn lookup<'a>(dict: &'a Dict, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let value = dict
        .get(first)
        .or_else(|| dict.get(first.strip_suffix("_secs")?))?;
    match (value, rest.is_empty()) {
        (_, true) => Some(value),
        (Value::Dict(_, inner), false) => lookup(inner, rest),
        _ => None,
    }
}

fn insert(dict: &mut Dict, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut dict = dict;
    for key in parents {
        let entry = dict
            .entry(key.clone())
            .or_insert_with(|| Value::Dict(Tag::Default, Dict::new()));
        if !matches!(entry, Value::Dict(..)) {
            *entry = Value::Dict(Tag::Default, Dict::new());
        }
        let Value::Dict(_, inner) = entry else {
            unreachable!()
        };
        dict = inner;
    }
    dict.insert(last.clone(), value);
}

/// A provider whose `*_secs` keys are renamed to their current names
/// before merging, so that an old name in one source and the new name in
/// another are one setting (the later source wins) rather than a
/// duplicate.
struct Canonical<P>(P);

impl<P: Provider> Provider for Canonical<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut data = self.0.data()?;
        for dict in data.values_mut() {
            for section in dict.values_mut() {
                if let Value::Dict(_, keys) = section {
                    canonical_keys(keys);
                }
            }
        }
        Ok(data)
    }
}

fn canonical_keys(keys: &mut Dict) {
    let old: Vec<String> = keys
        .keys()
        .filter(|k| k.ends_with("_secs"))
        .cloned()
        .collect();
    for key in old {
        let new = key.trim_end_matches("_secs").to_owned();
        if let Some(value) = keys.remove(&key) {
            // Within one source both spellings are a mistake; keep the new.
            keys.entry(new).or_insert(value);
        }
    }
}

#[cfg(test)]
// figment::Jail's closures return figment's own (large) error.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn annotated_default_matches_code_default() {
        let parsed = Config::from_toml(DEFAULT_CONFIG).expect("default config parses");
        assert_eq!(parsed, Config::default());
        assert!(parsed.validate().is_ok());
    }

    #[test]
    fn partial_files_and_typos() {
        let c = Config::from_toml("[notification]\nport = 1999\n").unwrap();
        assert_eq!(c.notification.port, 1999);
        assert_eq!(c.dispatch.port, 1863);
        assert!(Config::from_toml("[notification]\nprot = 1\n").is_err());
        let c = Config::from_toml("[challenge]\nmode = \"strict\"\n").unwrap();
        assert_eq!(c.challenge.mode, ChallengeMode::Strict);
        let mut bad = Config::default();
        bad.notification.max_dialect = 99;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn durations_and_old_key_names() {
        let c = Config::from_toml(
            "[notification]\nidle_timeout = \"90s\"\nlogin_timeout = 5\n\
             [switchboard]\nring_ttl_secs = 30\nidle_timeout = \"500ms\"\n\
             [challenge]\nrepeat = \"2m\"\n",
        )
        .unwrap();
        assert_eq!(c.notification.idle_timeout, Duration::from_secs(90));
        assert_eq!(c.notification.login_timeout, Duration::from_secs(5));
        assert_eq!(c.switchboard.ring_ttl, Duration::from_secs(30));
        assert_eq!(c.switchboard.idle_timeout, Duration::from_millis(500));
        assert_eq!(c.challenge.repeat, Duration::from_secs(120));
        assert!(Config::from_toml("[notification]\nidle_timeout = \"soon\"\n").is_err());
        assert!(Config::from_toml("[notification]\nidle_timeout = -1\n").is_err());
        // Written back and read again.
        let text = toml::to_string(&c).unwrap();
        assert_eq!(Config::from_toml(&text).unwrap(), c);
    }

    #[test]
    fn load_layers_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "msnd.toml",
                "[notification]\nidle_timeout_secs = 100\nport = 1999\n\
                 [switchboard]\ncookie_ttl_secs = 7\n\
                 [http]\nticket_ttl_secs = 30\n",
            )?;
            jail.set_env("MSND_NOTIFICATION__IDLE_TIMEOUT", "30s");
            jail.set_env("MSND_SERVER__PUBLIC_HOST", "msn.example.net");
            jail.set_env("MSND_SWITCHBOARD__ADVERTISE", "sb.example.net:443");
            jail.set_env("MSND_HTTP__TICKET_TTL_SECS", "45");
            jail.set_env("MSND_SERVER__BIND", "127.0.0.1");
            jail.set_env("MSND_DATABASE__URL", "sqlite:///var/lib/msnd/msnd.db");
            // Text that looks like a number stays text.
            jail.set_env("MSND_CLIENT_VERSIONS__MINIMUM", "7");
            // Not configuration: `msnd user add`'s password.
            jail.set_env("MSND_PASSWORD", "hunter2");
            let c = Config::load(Some(Path::new("msnd.toml"))).map_err(|e| *e)?;
            assert_eq!(c.notification.idle_timeout, Duration::from_secs(30));
            assert_eq!(c.notification.port, 1999);
            assert_eq!(c.switchboard.cookie_ttl, Duration::from_secs(7));
            assert_eq!(c.http.ticket_ttl, Duration::from_secs(45));
            assert_eq!(c.server.public_host, "msn.example.net");
            assert_eq!(c.client_versions.minimum, "7");
            assert_eq!(c.server.bind, IpAddr::from([127, 0, 0, 1]));
            assert_eq!(
                c.switchboard.advertise.as_deref(),
                Some("sb.example.net:443")
            );
            assert_eq!(c.database_path(), Path::new("/var/lib/msnd/msnd.db"));
            assert!(c.validate().is_ok());

            // No file: defaults and the environment.
            let c = Config::load(None).map_err(|e| *e)?;
            assert_eq!(c.notification.port, 1864);
            assert_eq!(c.notification.idle_timeout, Duration::from_secs(30));

            // A mistyped key is an error, in a file or the environment.
            jail.set_env("MSND_NOTIFICATION__IDLE_TIMOUT", "1s");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn env_overrides_every_key_of_the_default_file() {
        figment::Jail::expect_with(|jail| {
            // Every key of the default file, given its default value
            // through the environment, loads the default configuration.
            let defaults: toml::Table = toml::from_str(DEFAULT_CONFIG).unwrap();
            let mut count = 0;
            for (section, keys) in &defaults {
                for (key, value) in keys.as_table().unwrap() {
                    let text = match value {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    jail.set_env(format!("MSND_{section}__{key}").to_uppercase(), text);
                    count += 1;
                }
            }
            assert!(count > 60, "{count}");
            assert_eq!(Config::load(None).map_err(|e| *e)?, Config::default());
            Ok(())
        });
    }

    /// Every setting of `Config` is in the default file — set, or as a
    /// commented-out example for those without a default — and each one,
    /// examples included, can be given through its `MSND_<SECTION>__<KEY>`
    /// variable with the same effect as in the file.
    #[test]
    fn every_key_is_documented_and_overridable_by_env() {
        // The default file with its examples ("# key = value" lines
        // directly under a section's keys) put in.
        let mut uncommented = String::new();
        for line in DEFAULT_CONFIG.lines() {
            let example = line
                .strip_prefix("# ")
                .filter(|rest| {
                    rest.split_once(" = ").is_some_and(|(key, _)| {
                        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    })
                })
                .filter(|rest| toml::from_str::<toml::Table>(rest).is_ok());
            uncommented.push_str(example.unwrap_or(line));
            uncommented.push('\n');
        }
        let documented: toml::Table = toml::from_str(&uncommented).unwrap();
        // Examples that are alternatives (`database.url` or `path`): the
        // first, and the other on its own below.
        let mut table = documented.clone();
        let path = table["database"].as_table_mut().unwrap().remove("path");
        let from_file: Config = table.clone().try_into().unwrap();

        // Everything `Config` has is in the file (JSON, unlike TOML, keeps
        // the settings that are unset by default, as nulls).
        let all = serde_json::to_value(Config::default()).unwrap();
        for (section, keys) in all.as_object().unwrap() {
            for key in keys.as_object().unwrap().keys() {
                assert!(
                    documented[section].as_table().unwrap().contains_key(key),
                    "[{section}] {key} is not in default-config.toml"
                );
            }
        }

        figment::Jail::expect_with(|jail| {
            for (section, keys) in &table {
                for (key, value) in keys.as_table().unwrap() {
                    let text = match value {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    jail.set_env(format!("MSND_{section}__{key}").to_uppercase(), text);
                }
            }
            assert_eq!(Config::load(None).map_err(|e| *e)?, from_file);
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            let path = path
                .as_ref()
                .and_then(|p| p.as_str())
                .expect("path example");
            jail.set_env("MSND_DATABASE__PATH", path);
            let c = Config::load(None).map_err(|e| *e)?;
            assert_eq!(c.database.path.as_deref(), Some(Path::new(path)));
            Ok(())
        });
    }

    #[test]
    fn a_cluster_needs_postgres_and_sane_timings() {
        let mut c = Config::for_tests("/srv/msnd");
        c.validate().unwrap();
        c.cluster.nats_url = "nats://127.0.0.1:4222".into();
        let e = c.validate().unwrap_err();
        assert!(e.contains("PostgreSQL"), "{e}");
        assert!(!e.contains("127.0.0.1"), "the URL is not repeated: {e}");
        c.database.url = Some("postgres://msnd@db.example/msnd".into());
        c.validate().unwrap();
        c.cluster.ttl = c.cluster.heartbeat;
        assert!(c.validate().is_err());
        c.cluster.ttl = Duration::from_secs(15);
        c.cluster.name = "a.b".into();
        assert!(c.validate().is_err());
        c.cluster.name = "msnd".into();
        c.cluster.node_id = "node 1".into();
        assert!(c.validate().is_err());
        let debug = format!("{:?}", c.cluster);
        assert!(!debug.contains("127.0.0.1"), "{debug}");
    }

    #[test]
    fn exempt_networks_and_throttle_keys() {
        let c = Config::from_toml(
            "[limits]\nexempt_networks = [\"10.0.0.0/8\", \"::1\"]\n\
             [login_throttle]\ncooldown = \"30s\"\nmax_failures_per_address = 5\n",
        )
        .unwrap();
        let nets: Vec<String> = c
            .limits
            .exempt_networks
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "::1/128"]);
        assert_eq!(c.login_throttle.cooldown, Duration::from_secs(30));
        assert!(
            c.login_throttle()
                .exempt
                .contains("10.1.2.3".parse().unwrap())
        );
        assert!(Config::from_toml("[limits]\nexempt_networks = [\"localhost\"]\n").is_err());
        figment::Jail::expect_with(|jail| {
            jail.set_env("MSND_LIMITS__EXEMPT_NETWORKS", "[]");
            jail.set_env("MSND_LOGIN_THROTTLE__WINDOW", "2s");
            let c = Config::load(None).map_err(|e| *e)?;
            assert!(c.limits.exempt_networks.is_empty());
            assert_eq!(c.login_throttle.window, Duration::from_secs(2));
            Ok(())
        });
        let mut bad = Config::default();
        bad.limits.handshake_timeout = Duration::ZERO;
        assert!(bad.validate().is_err());
        let mut bad = Config::default();
        bad.login_throttle.window = Duration::ZERO;
        assert!(bad.validate().is_err());
        bad.login_throttle.max_failures_per_address = 0;
        bad.login_throttle.max_failures_per_account = 0;
        assert!(bad.validate().is_ok(), "off");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(Config::load(Some(Path::new("/nonexistent/msnd.toml"))).is_err());
    }

    #[test]
    fn database_urls() {
        let mut c = Config::for_tests("/srv/msnd");
        assert_eq!(c.database_url(), "sqlite:///srv/msnd/msnd.db");
        assert_eq!(c.database_path(), Path::new("/srv/msnd/msnd.db"));
        c.database.path = Some("rel/x.db".into());
        assert_eq!(c.database_url(), "sqlite://rel/x.db");
        assert_eq!(c.database_path(), Path::new("rel/x.db"));
        assert!(c.validate().is_ok());
        c.database.url = Some("sqlite://rel/x.db".into());
        assert!(c.validate().is_err(), "url and path");
        c.database.path = None;
        assert_eq!(c.database_path(), Path::new("rel/x.db"));
        c.database.url = Some("sqlite://y.db?mode=rwc".into());
        assert_eq!(c.database_path(), Path::new("y.db"));
        c.database.url = Some("postgres://msnd:secret@db/msnd".into());
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("secret"), "Debug hides the URL");
        c.database.url = Some("postgres://msnd:secret@db:port/msnd".into());
        let e = c.validate().unwrap_err();
        assert!(e.contains("malformed") && !e.contains("secret"), "{e}");
        c.database.url = Some("mysql://db/msnd".into());
        assert!(c.validate().is_err());
        c.database.url = None;
        c.database.max_connections = 0;
        assert!(c.validate().is_err());
        c.database.max_connections = 1;
        c.database.acquire_timeout = Duration::ZERO;
        assert!(c.validate().is_err());
    }

    #[test]
    fn advertise_must_be_host_and_port() {
        let mut c = Config::default();
        c.notification.advertise = Some("ns.example:1864".into());
        assert!(c.validate().is_ok());
        c.http.advertise = Some("login.example".into());
        assert!(c.validate().is_err());
    }
}
