//! What the HTTP services need from the rest of msnd, handed to
//! [`crate::start`]. msnd builds it from the objects the protocol services
//! use (the same store, token service, shutdown token and connection
//! limit); tests build one of their own with [`HttpContext::new`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use msn_auth::{PasswordVerifier, TokenService};
use msn_config::Config;
use msn_store::Store;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub struct HttpContext {
    /// The whole configuration: `[http]`, and `server` (bind address,
    /// public host, shutdown grace), `profile` (RST.srf's credential
    /// properties), `passwords` (the decoy hash's cost), `limits`.
    pub config: Config,
    /// Accounts, for checking passwords.
    pub store: Arc<dyn Store>,
    /// Where the issued tickets and tokens go.
    pub tokens: Arc<dyn TokenService>,
    /// Checks login passwords, bounded by `http.max_concurrent_hashes`
    /// and `http.max_pending_logins`; msnd shares one with the NS.
    pub passwords: Arc<PasswordVerifier>,
    /// Cancelled to stop the HTTP services.
    pub shutdown: CancellationToken,
    /// Connections held at once; a connection beyond it is closed at once.
    pub connection_slots: Arc<Semaphore>,
    /// Connections refused for want of a slot.
    pub refused_connections: Arc<AtomicU64>,
}

impl HttpContext {
    /// A context of its own: a fresh shutdown token, a password verifier
    /// and a connection limit of `limits.max_connections` for the HTTP
    /// services alone.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
    ) -> HttpContext {
        HttpContext {
            passwords: Arc::new(PasswordVerifier::new(
                config.http.max_concurrent_hashes,
                config.http.max_pending_logins,
            )),
            connection_slots: Arc::new(Semaphore::new(config.limits.max_connections)),
            config,
            store,
            tokens,
            shutdown: CancellationToken::new(),
            refused_connections: Arc::default(),
        }
    }

    pub(crate) fn count_refused(&self) {
        self.refused_connections.fetch_add(1, Ordering::Relaxed);
    }
}
