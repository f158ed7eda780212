//! Server configuration: a TOML file (every key optional) overridden by
//! command-line flags. [`DEFAULT_CONFIG`] is the annotated default file
//! printed by `msnd config default`; a test keeps it equal to
//! `Config::default()`.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The annotated default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerSection,
    pub dispatch: DispatchSection,
    pub notification: NotificationSection,
    pub switchboard: SwitchboardSection,
    pub http: HttpSection,
    pub challenge: ChallengeSection,
    pub limits: LimitsSection,
    pub client_versions: ClientVersionsSection,
    pub profile: ProfileSection,
    pub urls: UrlsSection,
    pub database: DatabaseSection,
    pub passwords: PasswordsSection,
    pub log: LogSection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    /// Address every listener binds to.
    pub bind: IpAddr,
    /// Host name or address clients are told to connect to (in `XFR`,
    /// `RNG`, the nexus). Empty: the bind address, or 127.0.0.1 when binding
    /// to all interfaces.
    pub public_host: String,
    /// Where the database and generated files live.
    pub data_dir: PathBuf,
    /// Seconds given to clients to disconnect on shutdown after `OUT SSD`.
    pub shutdown_grace_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchSection {
    /// Run a separate Dispatch Server that refers clients to the NS.
    /// `false`: clients connect straight to the NS port (which accepts a
    /// full login itself).
    pub enabled: bool,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSection {
    pub port: u16,
    /// Lowest and highest `MSNPn` offered in `VER`.
    pub min_dialect: u8,
    pub max_dialect: u8,
    /// Seconds a client is told to wait between pings (`QNG n`, MSNP9+).
    pub ping_interval_secs: u32,
    /// Close a signed-in connection after this many seconds without input.
    pub idle_timeout_secs: u64,
    /// Close a connection that has not signed in after this many seconds.
    pub login_timeout_secs: u64,
    /// Offer clear-text passwords (`CTP`) to MSNP2 clients. Off: the
    /// password would cross the network unprotected.
    pub ctp: bool,
    /// Send `SBS 0 null` after `USR OK` to MSNP11+ clients.
    pub send_sbs: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwitchboardSection {
    pub port: u16,
    /// Lifetime of an `XFR SB` cookie, seconds.
    pub cookie_ttl_secs: u64,
    /// How long an invitation (`RNG`) can be answered, seconds.
    pub ring_ttl_secs: u64,
    /// Remove a participant (`BYE handle 1`) after this many seconds without
    /// input; 0 = never.
    pub idle_timeout_secs: u64,
    /// Close a connection that has not sent `USR`/`ANS` after this long.
    pub login_timeout_secs: u64,
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
pub struct HttpSection {
    /// Serve the Passport nexus and login over plain HTTP on `port`.
    pub enabled: bool,
    pub port: u16,
    /// HTTPS port; 0 disables HTTPS. Needs `tls_cert` and `tls_key`.
    pub https_port: u16,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Public base URL of the login service as sent in `DALogin`; empty:
    /// derived from `public_host` and the listening port.
    pub login_url: String,
    /// Lifetime of a Passport ticket, seconds.
    pub ticket_ttl_secs: u64,
    /// Password checks running at once (argon2 is CPU- and memory-heavy).
    pub max_concurrent_hashes: usize,
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
    /// As lenient, and a client that has not answered within
    /// `timeout_secs` is disconnected (what Microsoft's service did).
    Strict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChallengeSection {
    pub mode: ChallengeMode,
    pub timeout_secs: u64,
    /// Challenge again this many seconds after each answer; 0 = once.
    pub repeat_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSection {
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientVersionsSection {
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
pub struct ProfileSection {
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
pub struct UrlsSection {
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSection {
    /// SQLite file; empty: `<data_dir>/msnd.db`.
    pub path: Option<PathBuf>,
    /// "full" (survives power loss) or "normal" (survives crashes only).
    pub synchronous: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordsSection {
    /// argon2id cost for new password hashes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// tracing filter, e.g. "info" or "msn_server=debug".
    pub level: String,
    /// "text" or "json".
    pub format: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            bind: IpAddr::from([0, 0, 0, 0]),
            public_host: String::new(),
            data_dir: PathBuf::from("data"),
            shutdown_grace_secs: 3,
        }
    }
}

impl Default for DispatchSection {
    fn default() -> Self {
        DispatchSection {
            enabled: true,
            port: 1863,
        }
    }
}

impl Default for NotificationSection {
    fn default() -> Self {
        NotificationSection {
            port: 1864,
            min_dialect: 2,
            max_dialect: msn_wire::Dialect::MAX,
            ping_interval_secs: 50,
            idle_timeout_secs: 300,
            login_timeout_secs: 60,
            ctp: false,
            send_sbs: true,
        }
    }
}

impl Default for SwitchboardSection {
    fn default() -> Self {
        SwitchboardSection {
            port: 1865,
            cookie_ttl_secs: 120,
            ring_ttl_secs: 120,
            idle_timeout_secs: 1800,
            login_timeout_secs: 60,
            max_participants: 20,
            max_sessions_per_user: 50,
            max_message_bytes: 1664,
            nak_when_alone: true,
        }
    }
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            enabled: true,
            port: 8080,
            https_port: 0,
            tls_cert: None,
            tls_key: None,
            login_url: String::new(),
            ticket_ttl_secs: 120,
            max_concurrent_hashes: 4,
        }
    }
}

impl Default for ChallengeSection {
    fn default() -> Self {
        ChallengeSection {
            mode: ChallengeMode::Off,
            timeout_secs: 60,
            repeat_secs: 0,
        }
    }
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_connections: 19_500,
            max_line_bytes: 2048,
            max_ns_payload_bytes: 8192,
            commands_per_sec: 20,
            command_burst: 100,
            sb_messages_per_sec: 200,
            sb_message_burst: 400,
            max_list_entries: 600,
            max_outbound_bytes: 256 * 1024,
            socket_send_buffer_bytes: 64 * 1024,
            mailbox_capacity: 1024,
            renames_per_minute: 10,
            calls_per_minute: 30,
        }
    }
}

impl Default for ClientVersionsSection {
    fn default() -> Self {
        ClientVersionsSection {
            recommended: String::new(),
            minimum: String::new(),
            download_url: "http://messenger.example.invalid/download".into(),
            info_url: "http://messenger.example.invalid/".into(),
        }
    }
}

impl Default for ProfileSection {
    fn default() -> Self {
        ProfileSection {
            lang_preference: 1033,
            country: "US".into(),
            email_enabled: false,
            post_url: "http://mail.example.invalid/".into(),
        }
    }
}

impl Default for UrlsSection {
    fn default() -> Self {
        UrlsSection {
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

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection {
            path: None,
            synchronous: "full".into(),
        }
    }
}

impl Default for PasswordsSection {
    fn default() -> Self {
        let cost = msn_core::password::HashCost::default();
        PasswordsSection {
            argon2_memory_kib: cost.memory_kib,
            argon2_iterations: cost.iterations,
            argon2_parallelism: cost.parallelism,
        }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Config {
    /// Parses a TOML configuration; missing keys take their defaults.
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
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
        if self.limits.max_line_bytes < 256 {
            return Err("limits.max_line_bytes must be at least 256".into());
        }
        if self.switchboard.max_participants < 2 {
            return Err("switchboard.max_participants must be at least 2".into());
        }
        if !matches!(self.database.synchronous.as_str(), "full" | "normal") {
            return Err("database.synchronous must be \"full\" or \"normal\"".into());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err("log.format must be \"text\" or \"json\"".into());
        }
        if self.http.https_port != 0
            && (self.http.tls_cert.is_none() || self.http.tls_key.is_none())
        {
            return Err("http.https_port needs http.tls_cert and http.tls_key".into());
        }
        Ok(())
    }

    /// The SQLite file to use.
    pub fn database_path(&self) -> PathBuf {
        self.database
            .path
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("msnd.db"))
    }

    /// The argon2id cost for new hashes.
    pub fn hash_cost(&self) -> msn_core::password::HashCost {
        msn_core::password::HashCost {
            memory_kib: self.passwords.argon2_memory_kib,
            iterations: self.passwords.argon2_iterations,
            parallelism: self.passwords.argon2_parallelism,
        }
    }

    /// A configuration for tests: everything on 127.0.0.1 with ephemeral
    /// ports, cheap password hashing, data in `data_dir`.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Config {
        let mut c = Config::default();
        c.server.bind = IpAddr::from([127, 0, 0, 1]);
        c.server.data_dir = data_dir.into();
        c.server.shutdown_grace_secs = 1;
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

#[cfg(test)]
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
}
