//! What the HTTP services need from the rest of msnd, handed to
//! [`crate::start`]. msnd builds it from the objects the protocol services
//! use (the same store, token service, shutdown token, connection gate and
//! login throttle); tests build one of their own with [`HttpContext::new`].

use std::sync::Arc;

use msn_auth::{ConnectionGate, LoginThrottle, PasswordVerifier, TokenService};
use msn_config::Config;
use msn_service::{Service, Settings};
use msn_store::Store;

use crate::gateway::SessionOpener;
use tokio_util::sync::CancellationToken;

pub struct HttpContext {
    /// The whole configuration: `[http]`, and `server` (bind address,
    /// public host, shutdown grace), `profile` (RST.srf's credential
    /// properties), `passwords` (the decoy hash's cost), `limits`.
    pub config: Config,
    /// Accounts, for checking passwords.
    pub store: Arc<dyn Store>,
    /// The service layer the SOAP services (address book, sharing,
    /// storage) change accounts through: msnd gives the protocol server's,
    /// so that an edit over SOAP reaches the user's sessions and watchers
    /// as one over the NS does.
    pub service: Arc<Service>,
    /// Where the issued tickets and tokens go.
    pub tokens: Arc<dyn TokenService>,
    /// Checks login passwords, bounded by `http.max_concurrent_hashes`
    /// and `http.max_pending_logins`; msnd shares one with the NS.
    pub passwords: Arc<PasswordVerifier>,
    /// Cancelled to stop the HTTP services.
    pub shutdown: CancellationToken,
    /// Connection slots (in all and per address); a connection refused a
    /// slot is closed at once, and the gate counts and logs it.
    pub gate: Arc<ConnectionGate>,
    /// Failed logins per address and per account, shared with the NS's
    /// password logins so that a guesser cannot switch paths.
    pub login_throttle: Arc<LoginThrottle>,
    /// Starts the protocol sessions the HTTP gateway carries (msnd gives
    /// the protocol server's); `None`: no gateway.
    pub sessions: Option<Arc<dyn SessionOpener>>,
    /// The Prometheus recorder's handle `/metrics` renders (msnd installs
    /// the recorder); `None`: no `/metrics`.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The admin API's token and stop switch (msnd gives them when
    /// `admin.enabled`); `None`: no admin API.
    pub admin: Option<crate::admin::AdminAccess>,
}

impl HttpContext {
    /// A context of its own: a fresh shutdown token, connection gate,
    /// login throttle, password verifier and single-node service layer
    /// over `store`, from `config`, for the HTTP services alone (no
    /// protocol server, so no gateway).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
    ) -> HttpContext {
        HttpContext {
            gate: ConnectionGate::new(config.connection_gate()),
            login_throttle: Arc::new(LoginThrottle::new(config.login_throttle())),
            passwords: Arc::new(PasswordVerifier::new(
                config.http.max_concurrent_hashes,
                config.http.max_pending_logins,
            )),
            service: Arc::new(Service::local(store.clone(), Settings::default())),
            config,
            store,
            tokens,
            shutdown: CancellationToken::new(),
            sessions: None,
            metrics: None,
            admin: None,
        }
    }
}
