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
use msn_cluster::Cluster;
use msn_config::Config;
use msn_http::admin::AdminAccess;
use msn_http::gateway::{OpenError, SessionOpener, SessionStream, Target};
use msn_http::{HttpContext, RunningHttp};
use msn_server::{Entry, LaunchError, NodeParts, Referral, RunningServer, Server, SessionLauncher};
use msn_service::{Directory, LocalBus, Service};
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
    /// This node's membership when `[cluster] nats_url` is set.
    cluster: Option<Cluster>,
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
        let (server, cluster) = if config.cluster.enabled() {
            let (server, cluster) = start_node(config, store).await?;
            (server, Some(cluster))
        } else {
            let tokens: Arc<dyn TokenService> = Arc::new(MemoryTokens::new());
            (Server::start(config, store, tokens).await?, None)
        };
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
                if let Some(cluster) = &cluster {
                    cluster.leave().await;
                }
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
            cluster,
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
        // First out of the DS's choices, so that no new user is sent here
        // while the sessions close.
        if let Some(cluster) = &self.cluster {
            cluster.drain().await;
        }
        self.server.shared().shutdown.cancel();
        self.http.wait().await;
        self.server.shutdown().await;
        if let Some(cluster) = &self.cluster {
            cluster.leave().await;
        }
    }

    /// This node's cluster membership (`None` on a single node).
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }
}

/// Starts the protocol server as a node of the cluster `[cluster]`
/// names: the service's bus and the token service span the nodes, and the
/// DS sends each user to the node the registry picks.
async fn start_node(
    config: Config,
    store: Arc<dyn Store>,
) -> anyhow::Result<(RunningServer, Cluster)> {
    config.validate().map_err(anyhow::Error::msg)?;
    let cluster = Cluster::connect(&config.cluster).await?;
    let tokens: Arc<dyn TokenService> = cluster.tokens();
    let directory = Arc::new(Directory::default());
    let local = LocalBus::new(directory.clone(), store.clone());
    let bus = cluster.bus(local, directory.clone());
    let service = Arc::new(Service::new(
        store.clone(),
        directory,
        bus,
        msn_server::service_settings(&config),
    ));
    cluster.serve(service.clone()).await?;
    let node = NodeParts {
        service,
        referral: Arc::new(ClusterReferral(cluster.clone())),
    };
    let server = match Server::start_with(config, store, tokens, Some(node)).await {
        Ok(server) => server,
        Err(e) => {
            cluster.leave().await;
            return Err(e);
        }
    };
    let addrs = &server.shared().addrs;
    cluster.announce(&addrs.ns, &addrs.sb).await;
    Ok((server, cluster))
}

/// The DS's referral from the cluster's node registry.
struct ClusterReferral(Cluster);

impl Referral for ClusterReferral {
    fn ns_for(&self, handle: &str) -> Option<String> {
        self.0.refer(handle)
    }

    fn home_of(&self, handle: &str) -> Option<String> {
        self.0.home_elsewhere(handle)
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
