//! The msnd application: opening the store, starting the protocol and HTTP
//! services from one configuration, and account administration. The
//! binary (`main.rs`) is a thin command line over this library, which the
//! black-box tests use to start real servers.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod config_check;
pub mod escargot;
pub mod export;
pub mod healthcheck;
pub mod probe;
mod recorder;
pub mod systemd;

pub use recorder::metrics_handle;

use std::sync::Arc;

use anyhow::Context as _;
use msn_auth::{MemoryTokens, TokenService};
use msn_config::Config;
use msn_http::admin::AdminAccess;
use msn_http::gateway::{OpenError, SessionOpener, SessionStream, Target};
use msn_http::{HttpContext, RunningHttp};
use msn_server::{Entry, LaunchError, RunningServer, Server, SessionLauncher};
use msn_store::{Store, StoreOptions, Synchronous};
use tokio_util::sync::CancellationToken;

/// Opens the configured database, creating the data directory if needed.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(config, false).await
}

/// Opens the database for commands that only read it: nothing is created
/// or written, so it works on a database the server's user owns and the
/// operator may only read.
pub async fn open_store_read_only(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(config, true).await
}

async fn open_store_with(config: &Config, read_only: bool) -> anyhow::Result<Arc<dyn Store>> {
    let mut options = StoreOptions::default();
    options.synchronous = match config.database.synchronous.as_str() {
        "normal" => Synchronous::Normal,
        _ => Synchronous::Full,
    };
    options.read_only = read_only;
    options.max_connections = config.database.max_connections;
    options.acquire_timeout = config.database.acquire_timeout;
    // `[database] url` (or the `path` it defaults from); the store creates
    // the data directory if needed. The URL is not printed: it may carry a
    // password.
    let store = msn_store::open(&config.database_url(), &options)
        .await
        .context("cannot open the database")?;
    Ok(store)
}

/// Every service of one msnd instance.
pub struct App {
    pub server: RunningServer,
    pub http: RunningHttp,
    /// Cancelled when an operator asks for a shutdown through the admin
    /// API ([`App::stop_requested`]).
    stop_requested: CancellationToken,
}

impl App {
    /// Starts the services described by `config` on `store`.
    ///
    /// The protocol and HTTP services share one token service (the HTTP
    /// services issue the tickets `USR TWN S` redeems), one service layer
    /// (a clone of the server's: same directory and bus), one shutdown token,
    /// one connection gate (the caps in all and per address), one login
    /// throttle (a guesser cannot switch between the NS and HTTP logins) and
    /// one password verifier (one bound on argon2 checks and their memory).
    /// The HTTP gateway's sessions are the protocol server's own, started
    /// through its [`SessionLauncher`].
    pub async fn start(config: Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
        // Before anything records: a metric handle taken before the
        // recorder exists records nowhere.
        let metrics = metrics_handle();
        // Before any listener opens: a server that cannot keep its admin
        // token does not start half-way.
        let stop_requested = CancellationToken::new();
        let admin =
            config_admin_token(&config)?.map(|t| AdminAccess::new(t, stop_requested.clone()));
        let tokens: Arc<dyn TokenService> = Arc::new(MemoryTokens::new());
        let server = Server::start(config, store, tokens).await?;
        let shared = server.shared();
        let ctx = HttpContext {
            config: shared.config.clone(),
            store: shared.store.clone(),
            tokens: shared.tokens.clone(),
            passwords: shared.passwords.clone(),
            shutdown: shared.shutdown.clone(),
            gate: shared.gate.clone(),
            login_throttle: shared.login_throttle.clone(),
            service: shared.service.clone(),
            sessions: Some(Arc::new(GatewaySessions(server.launcher()))),
            metrics: Some(metrics.clone()),
            admin,
        };
        recorder::spawn_upkeep(metrics, shared.shutdown.clone());
        let http = match msn_http::start(Arc::new(ctx)).await {
            Ok(http) => http,
            Err(e) => {
                server.shutdown().await;
                return Err(e);
            }
        };
        if let Some(url) = &http.login_url {
            tracing::info!(%url, "Passport login");
        }
        Ok(App {
            server,
            http,
            stop_requested,
        })
    }

    /// Completes when an operator asked the server to stop (`msnd admin
    /// shutdown`, after the announced delay): the caller then calls
    /// [`App::shutdown`], as on SIGTERM.
    pub async fn stop_requested(&self) {
        self.stop_requested.cancelled().await;
    }

    /// Graceful stop: `OUT SSD` to clients, HTTP requests finished,
    /// connections closed, then the store flushed and closed.
    /// Tells every signed-in user that the server goes down in `minutes`
    /// (`[server] shutdown_warning`, before [`App::shutdown`]); returns how
    /// many were told.
    pub async fn warn_shutdown(&self, minutes: u32) -> usize {
        self.server.shared().service.warn_shutdown(minutes).await
    }

    pub async fn shutdown(self) {
        self.server.shared().shutdown.cancel();
        self.http.wait().await;
        self.server.shutdown().await;
    }
}

/// The admin API's token when the API is on (`admin.enabled` and an HTTP
/// listener): the configured one or a fresh one in the data directory.
fn config_admin_token(config: &Config) -> anyhow::Result<Option<String>> {
    let http_on = config.http.enabled || config.http.https_port != 0;
    if !config.admin.enabled || !http_on {
        return Ok(None);
    }
    admin::server_token(config).map(Some)
}

/// The HTTP gateway's sessions: msn-server's DS/NS and switchboard
/// sessions over the gateway's pipes.
struct GatewaySessions(SessionLauncher);

impl SessionOpener for GatewaySessions {
    fn open(
        &self,
        target: &Target,
        stream: SessionStream,
        peer: std::net::SocketAddr,
    ) -> Result<(), OpenError> {
        let entry = match target {
            Target::Notification { requested } => Entry::Notification { requested },
            Target::NotificationServer => Entry::NotificationServer,
            Target::Switchboard => Entry::Switchboard,
        };
        self.0.launch(entry, stream, peer).map_err(|e| match e {
            LaunchError::ShuttingDown => OpenError::ShuttingDown,
            LaunchError::Refused(_) => OpenError::Refused,
        })
    }
}
