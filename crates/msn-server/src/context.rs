//! State shared by every connection of one server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use msn_auth::{ConnectionGate, LoginThrottle, PasswordVerifier, TokenService};
use msn_service::Service;
use msn_store::Store;
use msn_wire::Limits;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::sb::registry::Switchboards;

/// Addresses as clients must see them (`host:port`): each service's
/// `advertise` setting, else `public_host` and the bound port. Fixed once
/// the listeners are bound.
#[derive(Clone, Debug, Default)]
pub struct PublicAddrs {
    pub ds: String,
    pub ns: String,
    pub sb: String,
}

/// Counters since the start, logged at shutdown (the metrics, recorded
/// at the same places by `crate::metrics`, are what `/metrics` shows).
/// Refused connections are counted by the [`ConnectionGate`] and throttled
/// logins by the [`LoginThrottle`], which the HTTP services share
/// (`ConnectionGate::stats`, `LoginThrottle::stats`).
#[derive(Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub logins: AtomicU64,
    pub messages_relayed: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Which NS node the Dispatch Server sends a user to, when there are
/// several (msn-cluster's node registry).
pub trait Referral: Send + Sync {
    /// The NS address (`host:port`) for `handle`; `None`: this node's own.
    fn ns_for(&self, handle: &str) -> Option<String>;

    /// The NS address of another node where `handle` is signed in now
    /// (live and not draining), if any.
    fn home_of(&self, handle: &str) -> Option<String>;
}

pub struct Shared {
    pub config: Config,
    pub store: Arc<dyn Store>,
    /// The service layer every session acts through (and the HTTP
    /// services' SOAP address book, which msnd hands the same one).
    pub service: Arc<Service>,
    pub switchboards: Switchboards,
    /// Login tickets (`USR TWN S`) and the other tokens, shared with the
    /// HTTP services that issue them.
    pub tokens: Arc<dyn TokenService>,
    /// Password checks (`USR CTP`), shared with the HTTP logins so that
    /// `http.max_concurrent_hashes` and `http.max_pending_logins` bound
    /// them all together.
    pub passwords: Arc<PasswordVerifier>,
    pub addrs: PublicAddrs,
    /// Set on a node of a cluster: where `XFR NS` sends each user.
    pub referral: Option<Arc<dyn Referral>>,
    pub shutdown: CancellationToken,
    /// Connection slots, in all and per client address, over every
    /// listener (the HTTP ones too).
    pub gate: Arc<ConnectionGate>,
    /// Failed password logins, per address and per account, shared with
    /// the HTTP login services.
    pub login_throttle: Arc<LoginThrottle>,
    pub stats: Stats,
}

impl Shared {
    pub fn ns_limits(&self) -> Limits {
        Limits {
            max_line: self.config.limits.max_line_bytes,
            max_payload: self.config.limits.max_ns_payload_bytes,
        }
    }

    pub fn sb_limits(&self) -> Limits {
        Limits {
            max_line: self.config.limits.max_line_bytes,
            max_payload: self.config.switchboard.max_message_bytes,
        }
    }
}
