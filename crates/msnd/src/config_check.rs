//! `msnd config check`: a configuration as `msnd serve` would run it,
//! checked without starting anything — the values (`Config::validate`),
//! the database URL, and the HTTPS set-up with its certificate, key and
//! TLS backend (loaded as the listener loads them) — and summed up in a
//! few lines an operator can compare with what they meant.

use std::fmt::Write as _;

use msn_config::{Config, ENV_PREFIX, ENV_SEPARATOR, public_host};
use msn_store::DatabaseUrl;

/// What a successful check found.
pub struct Checked {
    /// The summary: listeners, public host, database.
    pub summary: String,
    /// Things that work but will fail some clients.
    pub warnings: Vec<String>,
}

/// Checks `config` (already loaded from the file and the environment).
pub fn check(config: &Config) -> anyhow::Result<Checked> {
    config.validate().map_err(anyhow::Error::msg)?;
    let database = match DatabaseUrl::parse(&config.database_url())? {
        DatabaseUrl::Sqlite(path) => format!("SQLite, {}", path.display()),
        // Not printed: a server URL may carry a password.
        DatabaseUrl::Postgres(_) => "PostgreSQL, database.url".to_owned(),
        _ => "database.url".to_owned(),
    };
    let tls = msn_http::tls::check(&config.http)?;

    let bind = config.server.bind;
    let port = |port: u16, advertise: &Option<String>| {
        let mut text = if port == 0 {
            format!("{bind}, any free port")
        } else {
            format!("{bind}:{port}")
        };
        if let Some(addr) = advertise {
            let _ = write!(text, " (advertised as {addr})");
        }
        text
    };
    let mut lines: Vec<(&str, String)> = Vec::new();
    lines.push((
        "dispatch",
        if config.dispatch.enabled {
            port(config.dispatch.port, &config.dispatch.advertise)
        } else {
            "off (clients connect to the notification port)".to_owned()
        },
    ));
    lines.push((
        "notification",
        port(config.notification.port, &config.notification.advertise),
    ));
    lines.push((
        "switchboard",
        port(config.switchboard.port, &config.switchboard.advertise),
    ));
    lines.push((
        "http",
        if config.http.enabled {
            port(config.http.port, &config.http.advertise)
        } else {
            "off".to_owned()
        },
    ));
    let mut warnings = Vec::new();
    lines.push((
        "https",
        match tls {
            Some(tls) => {
                warnings.extend(tls.warnings.into_iter().map(|w| format!("https: {w}")));
                format!(
                    "{} ({})",
                    port(config.http.https_port, &None),
                    tls.description
                )
            }
            None => "off".to_owned(),
        },
    ));
    let host = if config.server.public_host.is_empty() {
        format!(
            "{} (server.public_host is unset: clients elsewhere cannot follow referrals)",
            public_host(config)
        )
    } else {
        config.server.public_host.clone()
    };
    lines.push(("public host", host));
    lines.push(("database", database));
    let cluster = &config.cluster;
    lines.push((
        "cluster",
        if cluster.enabled() {
            if config.server.public_host.is_empty()
                && (config.notification.advertise.is_none()
                    || config.switchboard.advertise.is_none())
            {
                warnings.push(
                    "cluster: server.public_host is unset: clients the other nodes send here \
                     (XFR NS, RNG) cannot reach this node"
                        .to_owned(),
                );
            }
            let node = if cluster.node_id.is_empty() {
                "the host name"
            } else {
                cluster.node_id.as_str()
            };
            // The NATS URL is not printed: it may carry credentials.
            format!(
                "{:?} over cluster.nats_url as node {node} (heartbeat {:?}, dead after {:?})",
                cluster.name, cluster.heartbeat, cluster.ttl
            )
        } else {
            "off (one node)".to_owned()
        },
    ));

    let mut summary = String::new();
    for (name, value) in lines {
        let _ = writeln!(summary, "  {name:<13} {value}");
    }
    Ok(Checked { summary, warnings })
}

/// The `MSND_<SECTION>__<KEY>` variables set now (names only: values may be
/// secrets), sorted.
pub fn environment_overrides() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| {
            name.get(..ENV_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
                && name.contains(ENV_SEPARATOR)
        })
        .collect();
    names.sort();
    names
}
