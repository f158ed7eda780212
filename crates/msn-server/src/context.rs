//! State shared by every connection of one server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use msn_core::handle::Handle;
use msn_core::ids;
use msn_store::Store;
use msn_wire::Limits;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::hub::Hub;
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

/// A Passport ticket issued by the login service, redeemed by `USR TWN S`.
#[derive(Clone, Debug)]
pub struct TicketGrant {
    pub handle: Handle,
    pub user_id: i64,
    pub expires: Instant,
}

/// Passport tickets: random, single use, short-lived.
#[derive(Default)]
pub struct Tickets {
    map: DashMap<String, TicketGrant>,
}

impl Tickets {
    /// Issues a ticket (`t=…&p=…`) for an authenticated user.
    pub fn issue(&self, handle: Handle, user_id: i64, ttl: Duration) -> String {
        let ticket = ids::passport_ticket();
        self.map.insert(
            ticket.clone(),
            TicketGrant {
                handle,
                user_id,
                expires: Instant::now() + ttl,
            },
        );
        ticket
    }

    /// Takes a ticket; `None` if unknown, used or expired.
    pub fn redeem(&self, ticket: &str) -> Option<TicketGrant> {
        let (_, grant) = self.map.remove(ticket)?;
        (grant.expires > Instant::now()).then_some(grant)
    }

    pub fn sweep(&self) {
        let now = Instant::now();
        self.map.retain(|_, g| g.expires > now);
    }
}

/// Counters for logs, metrics and the load generator.
#[derive(Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub logins: AtomicU64,
    pub messages_relayed: AtomicU64,
    pub refused_connections: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct Shared {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub hub: Hub,
    pub switchboards: Switchboards,
    pub tickets: Tickets,
    pub addrs: PublicAddrs,
    pub shutdown: CancellationToken,
    pub connection_slots: Arc<Semaphore>,
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
