//! `msnd healthcheck`: asks the running server's HTTP listener whether it
//! is ready (`GET /readyz`), for container probes (exit status 0: ready).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context as _, bail};
use msn_config::Config;

/// Where `msnd serve` with `config` listens for plain HTTP: the bind
/// address, or loopback when it binds every address.
pub fn http_address(config: &Config) -> anyhow::Result<SocketAddr> {
    if !config.http.enabled {
        bail!("the HTTP listener is off (http.enabled = false): nothing to ask");
    }
    let ip = match config.server.bind {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, config.http.port))
}

/// `Ok` when `GET http://addr/readyz` answers `200` within `timeout`.
pub async fn check(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("cannot build the HTTP client")?;
    let url = format!("http://{addr}/readyz");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    bail!("{url}: {status} {}", body.trim());
}
