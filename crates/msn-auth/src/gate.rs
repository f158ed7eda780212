//! Connection slots: how many connections the server holds at once, in
//! all and per client address, shared by every listener (DS, NS, SB and
//! HTTP).
//!
//! A global cap alone lets one address that opens idle sockets lock
//! everybody out, so each address (an IPv6 /64, see [`address_key`]) also
//! has a cap on its connections in all and a lower one on its
//! **unauthenticated** connections: those not signed in yet (an NS
//! connection before `USR … OK`, every DS connection, an SB connection
//! before `USR`/`ANS … OK`, every HTTP connection). Addresses in the
//! exempt networks (by default loopback; a proxy in front of msnd) only
//! count against the global cap.
//!
//! A connection holds a [`Slot`] for as long as it lives; the session
//! calls [`Slot::authenticated`] when the client has signed in. Refusals
//! are counted per reason and logged at most once per
//! [`REFUSAL_LOG_INTERVAL`], with how many there were since.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tracing::warn;

use crate::address::{Exempt, address_key};

/// How often refusals are logged (with a count), rather than once per
/// socket.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The caps (`[limits]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateSettings {
    /// Connections at once over every listener.
    pub max_connections: usize,
    /// Connections from one address at once; 0 = no cap.
    pub max_per_address: usize,
    /// Unauthenticated connections from one address at once; 0 = no cap.
    pub max_unauthenticated_per_address: usize,
    pub exempt: Exempt,
}

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds `max_connections`.
    Full,
    /// The address holds `max_per_address`.
    AddressFull,
    /// The address holds `max_unauthenticated_per_address` connections
    /// that have not signed in.
    AddressUnauthenticated,
}

impl Refusal {
    fn index(self) -> usize {
        match self {
            Refusal::Full => 0,
            Refusal::AddressFull => 1,
            Refusal::AddressUnauthenticated => 2,
        }
    }

    /// Its name as a metric label.
    fn label(self) -> &'static str {
        match self {
            Refusal::Full => "full",
            Refusal::AddressFull => "address_full",
            Refusal::AddressUnauthenticated => "address_unauthenticated",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Refusal::Full => "the server is at its connection limit",
            Refusal::AddressFull => "the address is at its connection limit",
            Refusal::AddressUnauthenticated => {
                "the address is at its limit of connections not signed in"
            }
        }
    }
}

/// Counters since the start, for logs and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Connections held now.
    pub open: usize,
    pub refused_full: u64,
    pub refused_address_full: u64,
    pub refused_address_unauthenticated: u64,
}

impl GateStats {
    pub fn refused(&self) -> u64 {
        self.refused_full + self.refused_address_full + self.refused_address_unauthenticated
    }
}

#[derive(Default)]
struct PerAddress {
    open: usize,
    unauthenticated: usize,
}

#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    since_last: [u64; 3],
}

/// The connection caps of one server.
pub struct ConnectionGate {
    settings: GateSettings,
    open: AtomicUsize,
    addresses: Mutex<HashMap<IpAddr, PerAddress>>,
    refused: [AtomicU64; 3],
    log: Mutex<RefusalLog>,
}

impl ConnectionGate {
    pub fn new(settings: GateSettings) -> Arc<ConnectionGate> {
        Arc::new(ConnectionGate {
            settings,
            open: AtomicUsize::new(0),
            addresses: Mutex::new(HashMap::new()),
            refused: Default::default(),
            log: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &GateSettings {
        &self.settings
    }

    /// A slot for a new connection from `ip`, unauthenticated, or why
    /// not (counted and logged here; the caller just closes the socket).
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let result = self.try_admit(ip);
        if let Err(refusal) = result {
            self.refused[refusal.index()].fetch_add(1, Ordering::Relaxed);
            metrics::counter!("msnd_connections_refused_total", "reason" => refusal.label())
                .increment(1);
            self.log_refusal(refusal, ip);
        }
        result
    }

    fn try_admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let s = &self.settings;
        let per_address = s.max_per_address > 0 || s.max_unauthenticated_per_address > 0;
        if !per_address || s.exempt.contains(ip) {
            self.take_global()?;
            return Ok(Slot {
                gate: self.clone(),
                address: None,
                authenticated: false,
            });
        }
        let key = address_key(ip);
        let mut addresses = self.addresses.lock();
        let counts = addresses.get(&key);
        let (open, unauthenticated) = counts.map_or((0, 0), |c| (c.open, c.unauthenticated));
        if s.max_per_address > 0 && open >= s.max_per_address {
            return Err(Refusal::AddressFull);
        }
        if s.max_unauthenticated_per_address > 0
            && unauthenticated >= s.max_unauthenticated_per_address
        {
            return Err(Refusal::AddressUnauthenticated);
        }
        self.take_global()?;
        let counts = addresses.entry(key).or_default();
        counts.open += 1;
        counts.unauthenticated += 1;
        Ok(Slot {
            gate: self.clone(),
            address: Some(key),
            authenticated: false,
        })
    }

    fn take_global(&self) -> Result<(), Refusal> {
        let max = self.settings.max_connections;
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map(drop)
            .map_err(|_| Refusal::Full)
    }

    fn log_refusal(&self, refusal: Refusal, ip: IpAddr) {
        let mut log = self.log.lock();
        log.since_last[refusal.index()] += 1;
        let now = Instant::now();
        if log
            .last
            .is_some_and(|at| now.duration_since(at) < REFUSAL_LOG_INTERVAL)
        {
            return;
        }
        let [full, address_full, unauthenticated] = std::mem::take(&mut log.since_last);
        log.last = Some(now);
        drop(log);
        let s = &self.settings;
        warn!(
            peer = %ip,
            reason = refusal.describe(),
            refused_full = full,
            refused_address_full = address_full,
            refused_unauthenticated = unauthenticated,
            max_connections = s.max_connections,
            max_per_address = s.max_per_address,
            max_unauthenticated_per_address = s.max_unauthenticated_per_address,
            "connections refused (counts since the last such line)"
        );
    }

    pub fn stats(&self) -> GateStats {
        let r = |i: usize| self.refused[i].load(Ordering::Relaxed);
        GateStats {
            open: self.open.load(Ordering::Relaxed),
            refused_full: r(0),
            refused_address_full: r(1),
            refused_address_unauthenticated: r(2),
        }
    }

    /// Connections held by `ip`'s address (open, unauthenticated); exempt
    /// addresses are not counted per address.
    pub fn held_by(&self, ip: IpAddr) -> (usize, usize) {
        self.addresses
            .lock()
            .get(&address_key(ip))
            .map_or((0, 0), |c| (c.open, c.unauthenticated))
    }

    fn release(&self, address: Option<IpAddr>, authenticated: bool) {
        if let Some(key) = address {
            let mut addresses = self.addresses.lock();
            if let Some(counts) = addresses.get_mut(&key) {
                counts.open -= 1;
                if !authenticated {
                    counts.unauthenticated -= 1;
                }
                if counts.open == 0 {
                    addresses.remove(&key);
                }
            }
        }
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One connection's place under the caps; released when dropped.
pub struct Slot {
    gate: Arc<ConnectionGate>,
    /// The address it counts under (`None` when exempt).
    address: Option<IpAddr>,
    authenticated: bool,
}

impl Slot {
    /// The client signed in: the connection no longer counts against its
    /// address's unauthenticated cap. Idempotent.
    pub fn authenticated(&mut self) {
        if self.authenticated {
            return;
        }
        self.authenticated = true;
        if let Some(key) = self.address
            && let Some(counts) = self.gate.addresses.lock().get_mut(&key)
        {
            counts.unauthenticated -= 1;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.release(self.address, self.authenticated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per: usize, unauth: usize, exempt: &str) -> Arc<ConnectionGate> {
        ConnectionGate::new(GateSettings {
            max_connections: total,
            max_per_address: per,
            max_unauthenticated_per_address: unauth,
            exempt: Exempt::new(
                exempt
                    .split_whitespace()
                    .map(|n| n.parse().unwrap())
                    .collect(),
            ),
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn caps_per_address_and_in_all() {
        let g = gate(6, 4, 2, "127.0.0.0/8");
        let a = ip("192.0.2.1");
        let mut s1 = g.admit(a).unwrap();
        let _s2 = g.admit(a).unwrap();
        assert_eq!(g.admit(a).err(), Some(Refusal::AddressUnauthenticated));
        s1.authenticated();
        s1.authenticated();
        let mut s3 = g.admit(a).unwrap();
        s3.authenticated();
        let _s4 = g.admit(a).unwrap();
        assert_eq!(g.held_by(a), (4, 2));
        assert_eq!(g.admit(a).err(), Some(Refusal::AddressFull));
        // Others are not affected; exempt addresses only count globally.
        let _b = g.admit(ip("192.0.2.2")).unwrap();
        let _l = g.admit(ip("127.0.0.1")).unwrap();
        assert_eq!(g.admit(ip("127.0.0.1")).err(), Some(Refusal::Full));
        assert_eq!(g.held_by(ip("127.0.0.1")), (0, 0));
        drop(s3);
        assert_eq!(g.held_by(a), (3, 2));
        let stats = g.stats();
        assert_eq!(stats.open, 5);
        assert_eq!(
            (
                stats.refused_full,
                stats.refused_address_full,
                stats.refused_address_unauthenticated
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn slots_come_back() {
        let g = gate(2, 0, 1, "");
        let a = ip("2001:db8::1");
        let s = g.admit(a).unwrap();
        assert!(g.admit(ip("2001:db8::2")).is_err(), "the same /64");
        drop(s);
        assert_eq!(g.held_by(a), (0, 0));
        let _s = g.admit(ip("2001:db8::2")).unwrap();
        assert_eq!(g.stats().open, 1);
    }
}
