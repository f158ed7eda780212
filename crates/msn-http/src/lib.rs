//! msnd's HTTP services, which issue the tickets the Notification Server
//! redeems on `USR TWN S`: for MSN Messenger 5.0 – 7.0 (MSNP8–MSNP11) the
//! Passport 1.4 nexus (`GET /rdr/pprdr.asp`) and login (`GET /login2.srf`,
//! also `/login.srf`); for MSN Messenger 7.5 and WLM 8.0 (MSNP12–14) the
//! WS-Trust service `POST /RST.srf` (any path ending so, e.g.
//! `/pp550/RST.srf`); for WLM 2009 (MSNP18) its SOAP 1.2 form `POST
//! /RST2.srf`, and the storage service's profile (`POST
//! /storageservice/SchematizedStore.asmx`, [`storage`]). Plus `GET
//! /healthz`. Runs of `/` in request paths are collapsed before routing
//! (libpurple posts to `//RST2.srf`).
//! For WLM 8.x and 2009 (MSNP13+) the address book and sharing SOAP
//! services, `POST /abservice/abservice.asmx` and `POST
//! /abservice/SharingService.asmx` ([`abservice`]), and offline messages:
//! sending (`POST /OimWS/oim.asmx`, [`oim`]) and fetching (`POST
//! /rsi/rsi.asmx`, [`rsi`]).
//!
//! [`start`] runs on an [`HttpContext`]: accounts come from its store,
//! tickets and tokens go into its token service, and both listeners stop
//! when its shutdown token is cancelled. msnd gives it the store, token
//! service, shutdown token, connection gate and login throttle of the
//! protocol services (msn-server), so that `USR TWN S` redeems what is
//! issued here and one set of limits covers every listener; nothing here
//! depends on them.
//!
//! The nexus announces the plain HTTP login URL when plain HTTP runs (test
//! set-ups, msnp11-sdk), else the HTTPS one; `http.login_url` overrides
//! it. Genuine clients have `https://nexus.passport.com/rdr/pprdr.asp`
//! compiled in: point that name at msnd's HTTPS port 443 and make the
//! client trust the certificate (see [`generate_self_signed`]).
//!
//! MSN 7.5 and WLM 8.0 post to `https://login.live.com/RST.srf` (or
//! `msnia.login.live.com`), also compiled in: point those names at the
//! same HTTPS port.
//!
//! The HTTP gateway, `POST /gateway/gateway.dll` ([`gateway`]), carries NS
//! and switchboard sessions for clients that cannot reach port 1863; the
//! sessions themselves are started through the context's
//! [`gateway::SessionOpener`].
//!
//! Modules: [`context`] (what the services need), [`passport`], [`rst`]
//! (with `rst2`), [`storage`], [`abservice`], [`oim`] and [`rsi`] (wire
//! formats and services), [`header_case`]
//! (exact header name spelling), `listener` (accepting, TLS, serving
//! connections), `routes` (the endpoints), [`cert`] (certificates),
//! [`tls`] (the TLS backends: rustls, and OpenSSL with `legacy-tls`).

#![forbid(unsafe_code)]

pub mod abservice;
mod account_pages;
pub mod admin;
pub mod cert;
pub mod context;
pub mod gateway;
pub mod header_case;
mod listener;
mod observability;
pub mod oim;
pub mod passport;
mod routes;
pub mod rsi;
pub mod rst;
mod rst2;
pub mod soap_xml;
pub mod storage;
pub mod tls;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use msn_config::{bind, public_host};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use cert::generate_self_signed;
pub use context::HttpContext;
/// The OpenSSL bindings the `legacy-tls` backend links, for tests and
/// tools that speak to it through the same library.
#[cfg(feature = "legacy-tls")]
pub use openssl;

use crate::listener::Serving;
use crate::routes::AppState;

/// The started HTTP services. They stop when the context's `shutdown` is
/// cancelled; [`RunningHttp::wait`] then waits for them.
pub struct RunningHttp {
    /// The plain HTTP listener's address, if `http.enabled`.
    pub http_addr: Option<SocketAddr>,
    /// The HTTPS listener's address, if `http.https_port` is not 0.
    pub https_addr: Option<SocketAddr>,
    /// The URL the nexus announces as `DALogin` (`None` when nothing
    /// listens).
    pub login_url: Option<String>,
    shutdown: CancellationToken,
    listeners: Vec<JoinHandle<()>>,
    tracker: TaskTracker,
    force_close: CancellationToken,
    grace: Duration,
}

impl RunningHttp {
    /// Completes once shutdown was requested, the listeners have stopped
    /// and every connection has finished — or, for connections still busy
    /// after `server.shutdown_grace`, been dropped.
    pub async fn wait(self) {
        self.shutdown.cancelled().await;
        for listener in self.listeners {
            if let Err(e) = listener.await {
                warn!(error = %e, "http listener task failed");
            }
        }
        self.tracker.close();
        if tokio::time::timeout(self.grace, self.tracker.wait())
            .await
            .is_err()
        {
            warn!("some http connections did not finish in time; closing them");
            self.force_close.cancel();
            self.tracker.wait().await;
        }
        info!("http services stopped");
    }
}

/// Starts the plain HTTP listener (`http.enabled`, `http.port`) and the
/// HTTPS one (`http.https_port` ≠ 0, with the PEM files `http.tls_cert` and
/// `http.tls_key`) on `server.bind`. Port 0 picks a free port; the bound
/// addresses are in the result. Both stop when `ctx.shutdown` is
/// cancelled.
pub async fn start(ctx: Arc<HttpContext>) -> anyhow::Result<RunningHttp> {
    let config = &ctx.config;
    let ip = config.server.bind;

    let tls = tls::Acceptor::from_config(&config.http)?;
    if let Some(acceptor) = &tls {
        info!(tls = %acceptor.describe(), "HTTPS");
        for warning in acceptor.warnings() {
            warn!("HTTPS: {warning}");
        }
    }
    let http = if config.http.enabled {
        Some(bind(ip, config.http.port, "HTTP service").await?)
    } else {
        None
    };
    let https = match tls {
        Some(acceptor) => Some((
            bind(ip, config.http.https_port, "HTTPS service").await?,
            acceptor,
        )),
        None => None,
    };
    let http_addr = http.as_ref().map(TcpListener::local_addr).transpose()?;
    let https_addr = https.as_ref().map(|(l, _)| l.local_addr()).transpose()?;

    // The listener the nexus announces is plain HTTP when it runs, else
    // HTTPS; `http.advertise` says where clients reach it.
    let scheme = match (http_addr, https_addr) {
        (Some(_), _) => Some("http"),
        (None, Some(_)) => Some("https"),
        (None, None) => None,
    };
    let login_url = match (config.http.advertise.as_deref(), scheme) {
        (Some(addr), Some(scheme)) if config.http.login_url.is_empty() => {
            Some(passport::login_url_at(scheme, addr))
        }
        _ => passport::login_url(
            &config.http.login_url,
            &public_host(config),
            http_addr,
            https_addr,
        ),
    };
    let nexus = passport::nexus_value(login_url.as_deref().unwrap_or_default())
        .try_into()
        .context("http.login_url is not a valid header value")?;
    let decoy_hash = decoy_hash(&ctx).await?;
    let gateway = match (&ctx.sessions, scheme, http_addr.or(https_addr)) {
        (Some(opener), Some(scheme), Some(addr)) if config.gateway.enabled => {
            let host = gateway::gateway_host(
                config.http.advertise.as_deref(),
                &public_host(config),
                scheme,
                addr.port(),
            );
            let gateway = Arc::new(gateway::Gateway::new(
                config.gateway.clone(),
                msn_auth::Exempt::new(config.limits.exempt_networks.clone()),
                opener.clone(),
                host,
            ));
            tokio::spawn(gateway.clone().expire_idle(ctx.shutdown.clone()));
            Some(gateway)
        }
        _ => None,
    };
    let state = Arc::new(AppState {
        nexus,
        decoy_hash,
        oim_locks: oim::LockKeys::default(),
        gateway,
        ctx: ctx.clone(),
    });

    let serving = Serving {
        ctx: ctx.clone(),
        router: routes::router(state),
        tracker: TaskTracker::new(),
        force_close: CancellationToken::new(),
    };
    let mut listeners = Vec::new();
    if let Some(listener) = http {
        listeners.push(tokio::spawn(listener::accept_loop(
            listener,
            None,
            serving.clone(),
        )));
    }
    if let Some((listener, acceptor)) = https {
        listeners.push(tokio::spawn(listener::accept_loop(
            listener,
            Some(acceptor),
            serving.clone(),
        )));
    }
    info!(http = ?http_addr, https = ?https_addr, login_url = ?login_url, "http services listening");
    Ok(RunningHttp {
        http_addr,
        https_addr,
        login_url,
        shutdown: ctx.shutdown.clone(),
        listeners,
        tracker: serving.tracker,
        force_close: serving.force_close,
        grace: config.server.shutdown_grace.max(Duration::from_secs(1)),
    })
}

/// A hash, at the configured cost, of a password nobody knows.
async fn decoy_hash(ctx: &HttpContext) -> anyhow::Result<String> {
    let cost = ctx.config.hash_cost();
    let password = msn_core::ids::passport_ticket();
    tokio::task::spawn_blocking(move || msn_core::password::hash_password(&password, cost))
        .await?
        .map_err(|e| anyhow::anyhow!("cannot hash with the configured argon2 cost: {e}"))
}
