//! The gateway's session table: each session under its current id, how
//! many sessions each client address holds, and idle expiry.
//!
//! Ids are shaped `<digits>.<digits>` (older libpurple aborts on an id
//! without a `.`, msnp13-18.md §9) and made of 128 random bits: the id is
//! all a request needs to act in a signed-in session. Every answer moves
//! the session to a fresh id, so an id is good for one request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use msn_auth::{Exempt, address_key};

use super::pipe::ClientEnd;

/// One gateway session.
pub(crate) struct Tunnel {
    /// The client address it counts under (see [`address_key`]).
    address: IpAddr,
    /// The pipe to the protocol session; held by the request being
    /// answered, so that a session has one request in flight at most.
    pub io: tokio::sync::Mutex<ClientEnd>,
    last_request: Mutex<Instant>,
}

impl Tunnel {
    pub fn new(ip: IpAddr, io: ClientEnd) -> Tunnel {
        Tunnel {
            address: address_key(ip),
            io: tokio::sync::Mutex::new(io),
            last_request: Mutex::new(Instant::now()),
        }
    }

    /// A request is being served: the idle clock restarts.
    pub fn touch(&self) {
        *lock(&self.last_request) = Instant::now();
    }

    fn idle_since(&self) -> Instant {
        *lock(&self.last_request)
    }
}

/// The address holds its `max_sessions_per_address` sessions.
#[derive(Debug)]
pub(crate) struct OverCap;

pub(crate) struct Sessions {
    inner: Mutex<Inner>,
    /// Sessions per address; 0 = no cap.
    max_per_address: usize,
    exempt: Exempt,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Arc<Tunnel>>,
    per_address: HashMap<IpAddr, usize>,
}

impl Inner {
    fn insert_new_id(&mut self, tunnel: Arc<Tunnel>) -> String {
        loop {
            let id = new_id();
            if let std::collections::hash_map::Entry::Vacant(slot) = self.by_id.entry(id) {
                let id = slot.key().clone();
                slot.insert(tunnel);
                return id;
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Tunnel>> {
        let tunnel = self.by_id.remove(id)?;
        if let Some(count) = self.per_address.get_mut(&tunnel.address) {
            *count -= 1;
            if *count == 0 {
                self.per_address.remove(&tunnel.address);
            }
        }
        Some(tunnel)
    }
}

impl Sessions {
    pub fn new(max_per_address: usize, exempt: Exempt) -> Sessions {
        Sessions {
            inner: Mutex::default(),
            max_per_address,
            exempt,
        }
    }

    /// Adds a session for the client at `ip` under a new id, unless its
    /// address already holds its share.
    pub fn insert(&self, ip: IpAddr, tunnel: Arc<Tunnel>) -> Result<String, OverCap> {
        let mut inner = lock(&self.inner);
        let held = inner.per_address.get(&tunnel.address).copied().unwrap_or(0);
        if self.max_per_address > 0 && held >= self.max_per_address && !self.exempt.contains(ip) {
            return Err(OverCap);
        }
        *inner.per_address.entry(tunnel.address).or_default() += 1;
        Ok(inner.insert_new_id(tunnel))
    }

    pub fn get(&self, id: &str) -> Option<Arc<Tunnel>> {
        lock(&self.inner).by_id.get(id).cloned()
    }

    /// Moves the session under `id` to a new id, which it returns; `None`
    /// if it is no longer in the table (it expired meanwhile).
    pub fn rotate(&self, id: &str) -> Option<String> {
        let mut inner = lock(&self.inner);
        let tunnel = inner.by_id.remove(id)?;
        Some(inner.insert_new_id(tunnel))
    }

    /// Takes the session out of the table; it closes when the last request
    /// holding it is answered.
    pub fn remove(&self, id: &str) -> Option<Arc<Tunnel>> {
        lock(&self.inner).remove(id)
    }

    /// Removes the sessions that have had no request for `idle` and are not
    /// serving one; returns them (dropping them closes their pipes).
    pub fn expire(&self, idle: Duration) -> Vec<Arc<Tunnel>> {
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        let stale: Vec<String> = inner
            .by_id
            .iter()
            .filter(|(_, t)| now.duration_since(t.idle_since()) >= idle && t.io.try_lock().is_ok())
            .map(|(id, _)| id.clone())
            .collect();
        stale.iter().filter_map(|id| inner.remove(id)).collect()
    }

    /// Sessions held by the address `ip` counts under.
    #[cfg(test)]
    pub fn held_by(&self, ip: IpAddr) -> usize {
        let inner = lock(&self.inner);
        inner
            .per_address
            .get(&address_key(ip))
            .copied()
            .unwrap_or(0)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }
}

/// `<digits>.<digits>` from 128 random bits.
fn new_id() -> String {
    format!("{}.{}", rand::random::<u64>(), rand::random::<u64>())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data: a panic elsewhere cannot leave it inconsistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::pipe::pipe;

    fn tunnel(ip: IpAddr) -> Arc<Tunnel> {
        Arc::new(Tunnel::new(ip, pipe(1024).0))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ids_are_digits_dot_digits_and_rotate() {
        let sessions = Sessions::new(0, Exempt::default());
        let id = sessions
            .insert(ip("192.0.2.1"), tunnel(ip("192.0.2.1")))
            .unwrap();
        let (a, b) = id.split_once('.').expect("a dot");
        assert!(
            !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()),
            "{id}"
        );
        assert!(
            !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()),
            "{id}"
        );
        let next = sessions.rotate(&id).expect("rotated");
        assert_ne!(next, id);
        assert!(sessions.get(&id).is_none(), "the old id is gone");
        assert!(sessions.get(&next).is_some());
        assert!(sessions.rotate(&id).is_none());
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions.held_by(ip("192.0.2.1")), 1);
    }

    #[test]
    fn each_address_holds_its_share() {
        let sessions = Sessions::new(2, Exempt::new(vec!["10.0.0.0/8".parse().unwrap()]));
        let a = ip("192.0.2.1");
        let first = sessions.insert(a, tunnel(a)).unwrap();
        sessions.insert(a, tunnel(a)).unwrap();
        assert!(sessions.insert(a, tunnel(a)).is_err());
        // Another address, and an IPv6 /64 as one address.
        let b = ip("2001:db8::1");
        sessions.insert(b, tunnel(b)).unwrap();
        sessions
            .insert(ip("2001:db8::2"), tunnel(ip("2001:db8::2")))
            .unwrap();
        assert!(sessions.insert(b, tunnel(b)).is_err());
        // Exempt networks are not capped.
        let proxy = ip("10.1.2.3");
        for _ in 0..5 {
            sessions.insert(proxy, tunnel(proxy)).unwrap();
        }
        // A closed session frees its place.
        assert!(sessions.remove(&first).is_some());
        assert!(sessions.remove(&first).is_none());
        assert_eq!(sessions.held_by(a), 1);
        sessions.insert(a, tunnel(a)).unwrap();
    }

    #[tokio::test]
    async fn idle_sessions_expire_unless_serving_a_request() {
        let sessions = Sessions::new(0, Exempt::default());
        let a = ip("192.0.2.1");
        let idle = sessions.insert(a, tunnel(a)).unwrap();
        let busy_tunnel = tunnel(a);
        let busy = sessions.insert(a, busy_tunnel.clone()).unwrap();
        let guard = busy_tunnel.io.lock().await;
        assert!(sessions.expire(Duration::from_secs(3600)).is_empty());
        let expired = sessions.expire(Duration::ZERO);
        assert_eq!(expired.len(), 1);
        assert!(sessions.get(&idle).is_none());
        assert!(sessions.get(&busy).is_some());
        drop(guard);
        assert_eq!(sessions.expire(Duration::ZERO).len(), 1);
        assert_eq!(sessions.held_by(a), 0);
    }
}
