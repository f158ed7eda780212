//! What the HTTP services need from the rest of msnd, handed to
//! [`crate::start`]. msnd builds it from the objects the protocol services
//! use (the same store, token service, shutdown token, connection gate and
//! login throttle); tests build one of their own with [`HttpContext::new`].

use std::sync::Arc;

use msn_auth::{ConnectionGate, LoginThrottle, TokenService};
use msn_config::Config;
use msn_service::{Service, Settings};
use msn_store::Store;
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
    /// Cancelled to stop the HTTP services.
    pub shutdown: CancellationToken,
    /// Connection slots (in all and per address); a connection refused a
    /// slot is closed at once, and the gate counts and logs it.
    pub gate: Arc<ConnectionGate>,
    /// Failed logins per address and per account, shared with the NS's
    /// password logins so that a guesser cannot switch paths.
    pub login_throttle: Arc<LoginThrottle>,
    /// The service layer the SOAP address book and sharing services act
    /// through: msnd gives the protocol server's, so that an edit made
    /// over SOAP reaches signed-in users exactly as one made on the NS.
    pub service: Arc<Service>,
}

impl HttpContext {
    /// A context of its own: a fresh shutdown token, connection gate and
    /// login throttle, from `config`, and a service layer of its own over
    /// `store` (nobody signs in to it), for the HTTP services alone.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
    ) -> HttpContext {
        HttpContext {
            gate: ConnectionGate::new(config.connection_gate()),
            login_throttle: Arc::new(LoginThrottle::new(config.login_throttle())),
            service: Arc::new(Service::local(store.clone(), Settings::default())),
            config,
            store,
            tokens,
            shutdown: CancellationToken::new(),
        }
    }
}
