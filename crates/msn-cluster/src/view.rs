//! A node's replica of the cluster's two shared tables, fed by watching
//! their JetStream KV buckets: the node registry (one record per running
//! node, re-put every heartbeat) and the session directory (one key per
//! user and node where the user has endpoints).
//!
//! Liveness is judged from when each record was last put, on this node's
//! clock: KV entries that expire produce no event, and a heartbeat that
//! stopped is exactly what must be noticed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use msn_core::handle::Handle;
use serde::{Deserialize, Serialize};

/// What a node tells the others about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The configured node name (stable across restarts; the DS hashes
    /// on it).
    pub name: String,
    /// The NS address clients are sent to (`host:port`).
    pub ns: String,
    /// The switchboard address this node hands out.
    pub sb: String,
    /// Shutting down: no new users.
    pub draining: bool,
    /// Users signed in there.
    pub users: usize,
}

struct Seen {
    record: NodeRecord,
    last_seen: Instant,
}

/// The session directory key of `handle` on node `node`: KV keys allow
/// only `[-/_=.a-zA-Z0-9]`, so the handle is hex.
pub fn user_key(node: &str, handle: &Handle) -> String {
    format!("{node}.{}", hex::encode(handle.as_str()))
}

/// The node and handle of a session directory key.
pub fn parse_user_key(key: &str) -> Option<(String, Handle)> {
    let (node, h) = key.split_once('.')?;
    let raw = String::from_utf8(hex::decode(h).ok()?).ok()?;
    Some((node.to_owned(), Handle::parse(&raw).ok()?))
}

#[derive(Default)]
pub struct View {
    nodes: HashMap<String, Seen>,
    users: HashMap<Handle, HashSet<String>>,
}

impl View {
    pub fn node_put(&mut self, node: &str, record: NodeRecord, seen: Instant) {
        let e = self.nodes.entry(node.to_owned()).or_insert(Seen {
            record: record.clone(),
            last_seen: seen,
        });
        e.record = record;
        e.last_seen = e.last_seen.max(seen);
    }

    pub fn user_put(&mut self, node: &str, handle: Handle) {
        self.users
            .entry(handle)
            .or_default()
            .insert(node.to_owned());
    }

    pub fn user_delete(&mut self, node: &str, handle: &Handle) {
        if let Some(nodes) = self.users.get_mut(handle) {
            nodes.remove(node);
            if nodes.is_empty() {
                self.users.remove(handle);
            }
        }
    }

    /// Forgets everything (before a watch delivers the tables again).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.users.clear();
    }

    /// Treats every known node as seen now: after this node's own
    /// connection was down, silence was ours, not theirs.
    pub fn refresh_all(&mut self, now: Instant) {
        for seen in self.nodes.values_mut() {
            seen.last_seen = now;
        }
    }

    fn alive(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    /// The live nodes other than `except` where `handle` has endpoints.
    pub fn nodes_of(&self, handle: &Handle, except: &str) -> Vec<String> {
        self.users
            .get(handle)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|n| n.as_str() != except && self.alive(n))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The NS address of a live, non-draining node other than `except`
    /// where `handle` has endpoints (the lowest id if several).
    pub fn home(&self, handle: &Handle, except: &str) -> Option<String> {
        let nodes = self.users.get(handle)?;
        let mut homes: Vec<(&String, &Seen)> = nodes
            .iter()
            .filter(|n| n.as_str() != except)
            .filter_map(|n| self.nodes.get_key_value(n))
            .filter(|(_, s)| !s.record.draining && !s.record.ns.is_empty())
            .collect();
        homes.sort_by(|a, b| a.0.cmp(b.0));
        homes.first().map(|(_, s)| s.record.ns.clone())
    }

    /// Nodes other than `me` silent for longer than `ttl` at `now`.
    pub fn silent(&self, me: &str, now: Instant, ttl: Duration) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(id, s)| id.as_str() != me && now.saturating_duration_since(s.last_seen) > ttl)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Removes a node that died or left, and its directory entries.
    /// Returns every handle it had, and those of them that are now on no
    /// live node.
    pub fn remove_node(&mut self, node: &str) -> (Vec<Handle>, HashSet<Handle>) {
        self.nodes.remove(node);
        let mut had = Vec::new();
        let mut gone = HashSet::new();
        self.users.retain(|handle, nodes| {
            if nodes.remove(node) {
                had.push(handle.clone());
                if !nodes.iter().any(|n| self.nodes.contains_key(n)) {
                    gone.insert(handle.clone());
                }
            }
            !nodes.is_empty()
        });
        (had, gone)
    }

    /// The live nodes and their records.
    pub fn live(&self) -> Vec<(String, NodeRecord)> {
        let mut v: Vec<_> = self
            .nodes
            .iter()
            .map(|(id, s)| (id.clone(), s.record.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The NS address the Dispatch Server sends `handle` to: rendezvous
    /// (highest random weight) hashing over the live nodes that are not
    /// draining, by node name. The same user goes to the same node while
    /// it lives (so an MSNP16+ user's machines meet on one node); a node
    /// joining or leaving moves only the users it gains or had.
    pub fn pick(&self, handle: &str) -> Option<String> {
        self.nodes
            .values()
            .filter(|s| !s.record.draining && !s.record.ns.is_empty())
            .max_by_key(|s| (weight(handle, &s.record.name), s.record.ns.clone()))
            .map(|s| s.record.ns.clone())
    }
}

/// A stable 64-bit hash of (handle, node): FNV-1a with a final mix, the
/// same on every node and every build.
fn weight(handle: &str, node: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in handle
        .bytes()
        .map(|b| b.to_ascii_lowercase())
        .chain([0])
        .chain(node.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finaliser: FNV's low bits alone spread poorly.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    fn record(name: &str, draining: bool) -> NodeRecord {
        NodeRecord {
            name: name.into(),
            ns: format!("{name}:1863"),
            sb: format!("{name}:1864"),
            draining,
            users: 0,
        }
    }

    #[test]
    fn user_keys_round_trip() {
        let key = user_key("node1-ab12", &h("Alice.Smith+x@example.com"));
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=./".contains(&b))
        );
        let (node, handle) = parse_user_key(&key).unwrap();
        assert_eq!(node, "node1-ab12");
        assert_eq!(handle, h("alice.smith+x@example.com"));
        assert_eq!(parse_user_key("nodot"), None);
        assert_eq!(parse_user_key("n.zz"), None);
        assert_eq!(
            parse_user_key(&format!("n.{}", hex::encode("no handle"))),
            None
        );
    }

    #[test]
    fn dead_nodes_take_their_users_with_them() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(15);
        let mut v = View::default();
        v.node_put("a", record("a", false), t0);
        v.node_put("b", record("b", false), t0);
        v.user_put("a", h("x@example.com"));
        v.user_put("b", h("y@example.com"));
        v.user_put("a", h("both@example.com"));
        v.user_put("b", h("both@example.com"));
        assert_eq!(v.nodes_of(&h("x@example.com"), "b"), vec!["a".to_owned()]);
        assert!(v.nodes_of(&h("x@example.com"), "a").is_empty());
        // b keeps beating, a stops.
        v.node_put("b", record("b", false), t0 + ttl);
        let later = t0 + ttl + Duration::from_secs(1);
        assert_eq!(v.silent("b", later, ttl), vec!["a".to_owned()]);
        let (mut had, gone) = v.remove_node("a");
        had.sort();
        assert_eq!(had, vec![h("both@example.com"), h("x@example.com")]);
        assert_eq!(gone, HashSet::from([h("x@example.com")]));
        assert!(v.nodes_of(&h("x@example.com"), "b").is_empty());
        assert_eq!(
            v.nodes_of(&h("both@example.com"), "z"),
            vec!["b".to_owned()]
        );
        assert!(v.silent("b", later, ttl).is_empty());
    }

    #[test]
    fn a_signed_in_user_has_a_home() {
        let t0 = Instant::now();
        let mut v = View::default();
        v.node_put("a", record("a", false), t0);
        v.node_put("b", record("b", true), t0);
        v.user_put("a", h("x@example.com"));
        v.user_put("b", h("y@example.com"));
        assert_eq!(v.home(&h("x@example.com"), ""), Some("a:1863".into()));
        assert_eq!(v.home(&h("x@example.com"), "a"), None);
        // Draining: no home for new machines.
        assert_eq!(v.home(&h("y@example.com"), ""), None);
        assert_eq!(v.home(&h("z@example.com"), ""), None);
    }

    #[test]
    fn referral_is_sticky_spread_and_skips_draining_nodes() {
        let t0 = Instant::now();
        let mut v = View::default();
        for n in ["n1", "n2", "n3"] {
            v.node_put(n, record(n, false), t0);
        }
        let handles: Vec<String> = (0..60).map(|i| format!("user{i}@example.com")).collect();
        let first: Vec<String> = handles.iter().map(|u| v.pick(u).unwrap()).collect();
        let used: HashSet<&String> = first.iter().collect();
        assert_eq!(used.len(), 3, "60 users over 3 nodes use them all");
        // Case does not matter; the same user always lands on the same node.
        assert_eq!(v.pick("USER0@example.com"), Some(first[0].clone()));
        v.node_put("n2", record("n2", true), t0);
        for (u, before) in handles.iter().zip(&first) {
            let now = v.pick(u).unwrap();
            assert_ne!(now, "n2:1863");
            if before != "n2:1863" {
                assert_eq!(&now, before, "only the draining node's users move");
            }
        }
    }
}
