//! Binding the listeners, accepting connections within the configured
//! limit, background housekeeping, and graceful shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use msn_auth::{ConnectionGate, LoginThrottle, PasswordVerifier, Slot, TokenService};
use msn_config::{advertised, bind};
use msn_core::account::ListLimits;
use msn_store::Store;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::Config;
use crate::conn::tune_tcp;
use crate::context::{PublicAddrs, Referral, Shared, Stats};
use crate::launch::SessionLauncher;
use crate::ns::{self, Role};
use crate::sb;
use crate::sb::registry::Switchboards;

/// Which service a listener runs.
#[derive(Clone, Copy, Debug)]
enum Service {
    Dispatch,
    Notification,
    Switchboard,
}

pub struct Server;

/// What a node of a cluster brings to [`Server::start_with`].
pub struct NodeParts {
    pub service: Arc<msn_service::Service>,
    pub referral: Arc<dyn Referral>,
}

/// A started server. Dropping it does not stop it; call
/// [`RunningServer::shutdown`].
pub struct RunningServer {
    shared: Arc<Shared>,
    pub ds_addr: Option<SocketAddr>,
    pub ns_addr: SocketAddr,
    pub sb_addr: SocketAddr,
    tracker: TaskTracker,
}

impl Server {
    /// Binds every listener and starts serving. `tokens` is where `USR TWN S`
    /// redeems the tickets the login services issue.
    pub async fn start(
        config: Config,
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
    ) -> anyhow::Result<RunningServer> {
        Self::start_with(config, store, tokens, None).await
    }

    /// [`Server::start`] for a node of a cluster: its service (over the
    /// cluster's bus) and where its DS sends users. `None`: one node, the
    /// in-process bus.
    pub async fn start_with(
        config: Config,
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
        node: Option<NodeParts>,
    ) -> anyhow::Result<RunningServer> {
        config.validate().map_err(anyhow::Error::msg)?;
        let ip = config.server.bind;
        let ds = if config.dispatch.enabled {
            Some(bind(ip, config.dispatch.port, "dispatch server").await?)
        } else {
            None
        };
        let ns = bind(ip, config.notification.port, "notification server").await?;
        let sb = bind(ip, config.switchboard.port, "switchboard").await?;
        let ds_addr = ds.as_ref().map(TcpListener::local_addr).transpose()?;
        let ns_addr = ns.local_addr()?;
        let sb_addr = sb.local_addr()?;

        let ns_public = advertised(
            &config,
            config.notification.advertise.as_deref(),
            ns_addr.port(),
        );
        let ds_public = match (&config.dispatch.advertise, ds_addr) {
            (Some(addr), _) => addr.clone(),
            (None, Some(ds)) => advertised(&config, None, ds.port()),
            // No DS: clients come straight to the NS.
            (None, None) => ns_public.clone(),
        };
        let addrs = PublicAddrs {
            ds: ds_public,
            ns: ns_public,
            sb: advertised(
                &config,
                config.switchboard.advertise.as_deref(),
                sb_addr.port(),
            ),
        };
        let (service, referral) = match node {
            Some(NodeParts { service, referral }) => (service, Some(referral)),
            None => (
                Arc::new(msn_service::Service::local(
                    store.clone(),
                    service_settings(&config),
                )),
                None,
            ),
        };
        // From here on, accounts deleted or re-keyed elsewhere end their
        // sessions here.
        let account_cursor = service
            .account_changes_cursor()
            .await
            .map_err(|_| anyhow::anyhow!("cannot read the account change log"))?;
        let shared = Arc::new(Shared {
            gate: ConnectionGate::new(config.connection_gate()),
            login_throttle: Arc::new(LoginThrottle::new(config.login_throttle())),
            passwords: Arc::new(PasswordVerifier::new(
                config.http.max_concurrent_hashes,
                config.http.max_pending_logins,
            )),
            config,
            store,
            service,
            switchboards: Switchboards::default(),
            tokens,
            addrs,
            referral,
            shutdown: CancellationToken::new(),
            stats: Stats::default(),
        });

        let tracker = TaskTracker::new();
        if let Some(ds) = ds {
            tokio::spawn(accept_loop(
                ds,
                shared.clone(),
                tracker.clone(),
                Service::Dispatch,
            ));
        }
        tokio::spawn(accept_loop(
            ns,
            shared.clone(),
            tracker.clone(),
            Service::Notification,
        ));
        tokio::spawn(accept_loop(
            sb,
            shared.clone(),
            tracker.clone(),
            Service::Switchboard,
        ));
        tokio::spawn(housekeeping(shared.clone()));
        tokio::spawn(follow_account_changes(shared.clone(), account_cursor));
        info!(ds = ?ds_addr, ns = %ns_addr, sb = %sb_addr, public = %shared.addrs.ns, "listening");
        Ok(RunningServer {
            shared,
            ds_addr,
            ns_addr,
            sb_addr,
            tracker,
        })
    }
}

impl RunningServer {
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Starts sessions over streams the server did not accept itself (the
    /// HTTP gateway's); [`RunningServer::shutdown`] waits for them too.
    pub fn launcher(&self) -> SessionLauncher {
        SessionLauncher {
            shared: self.shared.clone(),
            tracker: self.tracker.clone(),
        }
    }

    /// Completes when a shutdown was requested.
    pub async fn stopped(&self) {
        self.shared.shutdown.cancelled().await;
    }

    /// Stops accepting, sends `OUT SSD` to every signed-in client, closes
    /// every connection (waiting up to the configured grace), and closes
    /// the store so that everything is on disk.
    pub async fn shutdown(self) {
        let stats = &self.shared.stats;
        let count = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let gate = self.shared.gate.stats();
        let throttle = self.shared.login_throttle.stats();
        info!(
            online = self.shared.service.directory().online_count(),
            connections = count(&stats.connections),
            logins = count(&stats.logins),
            messages_relayed = count(&stats.messages_relayed),
            refused_connections = gate.refused(),
            failed_logins = throttle.failures,
            throttled_logins = throttle.refused,
            "shutting down"
        );
        self.shared.shutdown.cancel();
        self.tracker.close();
        let grace = self
            .shared
            .config
            .server
            .shutdown_grace
            .max(Duration::from_secs(1));
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            warn!("some connections did not close in time");
        }
        self.shared.store.close().await;
        info!("stopped");
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tracker: TaskTracker,
    service: Service,
) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Over a connection cap: refuse by closing at once (the
                // gate counts and logs it, once per interval).
                let Ok(slot) = shared.gate.admit(peer.ip()) else {
                    drop(stream);
                    continue;
                };
                let shared = shared.clone();
                tracker.spawn(serve(shared, stream, peer, slot, service));
            }
            Err(e) => {
                // Out of file descriptors and similar: wait instead of spinning.
                warn!(error = %e, ?service, "accept failed");
                if e.kind() != io::ErrorKind::ConnectionAborted {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Serves an accepted TCP connection (the one transport today); its slot
/// is released when the session ends.
async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    service: Service,
) {
    tune_tcp(&stream, shared.config.limits.socket_send_buffer_bytes);
    match service {
        Service::Dispatch => ns::serve(shared, stream, peer, slot, Role::Dispatch).await,
        Service::Notification => ns::serve(shared, stream, peer, slot, Role::Notification).await,
        Service::Switchboard => sb::serve(shared, stream, peer, slot).await,
    }
}

/// How often the store's account change log is read.
const ACCOUNT_POLL: Duration = Duration::from_secs(1);

/// Ends the sessions, and revokes the tokens, of accounts deleted,
/// disabled or given a new password, also when another process (`msnd
/// user …`) made the change.
async fn follow_account_changes(shared: Arc<Shared>, mut cursor: u64) {
    let service = &shared.service;
    let mut tick = tokio::time::interval(ACCOUNT_POLL);
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            _ = tick.tick() => {
                if let Ok((next, changed)) = service.apply_account_changes(cursor).await {
                    cursor = next;
                    // Tickets and SOAP tokens issued before the change die
                    // with the sessions.
                    for handle in &changed {
                        shared.tokens.revoke_account(handle);
                    }
                }
            }
        }
    }
}

/// Drops expired cookies and invitations (the token service forgets its
/// expired tokens by itself as it issues new ones).
async fn housekeeping(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            _ = tick.tick() => {
                shared.switchboards.sweep();
            }
        }
    }
}

/// What the service layer enforces, from the configuration.
pub fn service_settings(config: &Config) -> msn_service::Settings {
    msn_service::Settings {
        list_limits: ListLimits {
            max_entries: config.limits.max_list_entries,
            max_groups: config.limits.max_groups,
            // Decided per client dialect by the service.
            ..ListLimits::default()
        },
        max_sb_sessions_per_user: config.switchboard.max_sessions_per_user,
        oim: msn_service::OimLimits {
            max_message_bytes: config.oim.max_message_bytes,
            max_waiting: config.oim.max_waiting_per_recipient,
        },
        circles: msn_service::CircleLimits {
            max_members: config.circles.max_members,
            max_per_user: config.circles.max_per_user,
        },
    }
}
