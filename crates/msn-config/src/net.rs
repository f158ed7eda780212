//! Binding listeners and the addresses clients are told to use, shared by
//! the protocol services (msn-server) and the HTTP services (msn-http).

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::Config;

/// Binds `ip:port` (port 0: any free port); `what` names the service in
/// the error.
pub async fn bind(ip: IpAddr, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((ip, port))
        .await
        .with_context(|| format!("cannot listen on {ip}:{port} for the {what}"))
}

/// The host clients are told to use: `server.public_host`, else the bind
/// address, or 127.0.0.1 when binding to all interfaces.
pub fn public_host(config: &Config) -> String {
    if !config.server.public_host.is_empty() {
        return config.server.public_host.clone();
    }
    match config.server.bind {
        ip if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        ip => ip.to_string(),
    }
}

/// The `host:port` clients are told to use for a service: its configured
/// `advertise` address, else `public_host` with the port it is bound to.
pub fn advertised(config: &Config, advertise: Option<&str>, bound_port: u16) -> String {
    match advertise {
        Some(addr) => addr.to_owned(),
        None => format!("{}:{bound_port}", public_host(config)),
    }
}

/// Checks that `addr` has the form `host:port`.
pub(crate) fn check_host_port(addr: &str) -> bool {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return false;
    };
    !host.is_empty()
        && !host.contains(char::is_whitespace)
        && port.parse::<u16>().is_ok_and(|p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_addresses() {
        let mut c = Config::default();
        assert_eq!(advertised(&c, None, 1864), "127.0.0.1:1864");
        c.server.public_host = "msn.example".into();
        assert_eq!(advertised(&c, None, 1864), "msn.example:1864");
        assert_eq!(
            advertised(&c, Some("ns.example:443"), 1864),
            "ns.example:443"
        );
        assert!(check_host_port("a:1") && check_host_port("[::1]:1863"));
        assert!(!check_host_port("a") && !check_host_port(":1") && !check_host_port("a:0"));
    }
}
