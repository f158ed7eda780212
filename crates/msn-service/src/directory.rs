//! The users signed in on this node, by handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use msn_core::handle::Handle;

use crate::user::OnlineUser;

/// Every user with a session on this node.
pub struct Directory {
    users: DashMap<Handle, Arc<OnlineUser>>,
    next_conn_id: AtomicU64,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            users: DashMap::new(),
            next_conn_id: AtomicU64::new(1),
        }
    }
}

impl Directory {
    /// A process-unique connection (endpoint) id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a session of `handle`; the entry lives until the last
    /// session detaches.
    pub fn attach(&self, handle: &Handle, user_id: i64) -> Arc<OnlineUser> {
        let entry = self
            .users
            .entry(handle.clone())
            .or_insert_with(|| Arc::new(OnlineUser::new(handle.clone(), user_id)));
        entry.refs.fetch_add(1, Ordering::Relaxed);
        entry.clone()
    }

    /// Unregisters a session; the last one removes the user.
    pub fn detach(&self, user: &Arc<OnlineUser>) {
        self.users.remove_if(&user.handle, |_, u| {
            Arc::ptr_eq(u, user) && u.refs.fetch_sub(1, Ordering::Relaxed) == 1
        });
    }

    pub fn get(&self, handle: &str) -> Option<Arc<OnlineUser>> {
        self.users.get(handle).map(|e| e.clone())
    }

    /// The handles of the users signed in now.
    pub fn handles(&self) -> Vec<Handle> {
        self.users.iter().map(|e| e.key().clone()).collect()
    }

    /// The users signed in now.
    pub fn users(&self) -> Vec<Arc<OnlineUser>> {
        self.users.iter().map(|e| e.value().clone()).collect()
    }

    /// Number of users with a session.
    pub fn online_count(&self) -> usize {
        self.users.len()
    }
}
