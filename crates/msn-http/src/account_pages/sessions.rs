//! Sign-ins to the account page: a random token in an HttpOnly,
//! SameSite=Strict cookie ([`COOKIE`]) names an entry here, in memory
//! (a restart signs everyone out of the page, not out of Messenger).
//!
//! An entry remembers the account's id and password hash at sign-in; the
//! pages compare them with the store on every request, so a password
//! changed, or an account disabled or deleted, anywhere (`msnd user …`,
//! another browser) ends the page's sign-in too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use msn_core::handle::Handle;

use super::csrf::new_cookie_value;

/// The cookie holding the token.
pub(crate) const COOKIE: &str = "msnd_account";

#[derive(Clone)]
pub(crate) struct Session {
    pub handle: Handle,
    pub user_id: i64,
    /// The argon2id hash at sign-in (or at the last change made here).
    pub password_hash: String,
    last_used: Instant,
}

/// Sessions by token, each ending `ttl` after its last use; at most `max`
/// (the least recently used goes first).
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    ttl: Duration,
    max: usize,
}

impl Sessions {
    pub(crate) fn new(ttl: Duration, max: usize) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            ttl,
            max: max.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session; returns its token.
    pub(crate) fn create(&self, handle: Handle, user_id: i64, password_hash: String) -> String {
        let token = new_cookie_value();
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= self.max {
            map.retain(|_, s| now.duration_since(s.last_used) < self.ttl);
        }
        if map.len() >= self.max {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(t, _)| t.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(
            token.clone(),
            Session {
                handle,
                user_id,
                password_hash,
                last_used: now,
            },
        );
        token
    }

    /// The live session `token` names, marked as used now.
    pub(crate) fn get(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        let session = map.get_mut(token)?;
        if now.duration_since(session.last_used) >= self.ttl {
            map.remove(token);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    pub(crate) fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// After a password change made through `token`: that session keeps
    /// going with the new hash, the account's other sessions end.
    pub(crate) fn password_changed(&self, token: &str, handle: &Handle, new_hash: String) {
        let mut map = self.lock();
        map.retain(|t, s| t == token || s.handle != *handle);
        if let Some(session) = map.get_mut(token) {
            session.password_hash = new_hash;
        }
    }

    /// Ends every session of `handle` (its account is gone).
    pub(crate) fn remove_account(&self, handle: &Handle) {
        self.lock().retain(|_, s| s.handle != *handle);
    }

    /// Drops expired sessions.
    pub(crate) fn prune(&self) {
        let now = Instant::now();
        self.lock()
            .retain(|_, s| now.duration_since(s.last_used) < self.ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[test]
    fn sessions_end_on_expiry_change_and_cap() {
        let sessions = Sessions::new(Duration::from_secs(60), 2);
        let a1 = sessions.create(h("a@example.com"), 1, "h1".into());
        let a2 = sessions.create(h("a@example.com"), 1, "h1".into());
        assert_eq!(sessions.get(&a1).unwrap().user_id, 1);
        sessions.password_changed(&a1, &h("a@example.com"), "h2".into());
        assert_eq!(sessions.get(&a1).unwrap().password_hash, "h2");
        assert!(sessions.get(&a2).is_none());
        // At the cap the least recently used goes.
        let b = sessions.create(h("b@example.com"), 2, "hb".into());
        let c = sessions.create(h("c@example.com"), 3, "hc".into());
        assert!(sessions.get(&a1).is_none());
        assert!(sessions.get(&b).is_some() && sessions.get(&c).is_some());
        sessions.remove_account(&h("c@example.com"));
        assert!(sessions.get(&c).is_none());

        let short = Sessions::new(Duration::ZERO, 10);
        let t = short.create(h("a@example.com"), 1, "h".into());
        assert!(short.get(&t).is_none());
    }
}
