//! What the switchboard asks of the service: who a user is when they open
//! a session, whether someone can be invited, ringing them, and counting
//! each user's sessions.

use std::sync::Arc;

use msn_core::handle::Handle;
use msn_wire::Dialect;

use crate::bus::Invitee;
use crate::event::{Event, Ring};
use crate::{Actor, Service};

/// Why the actor may not open a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatRefused {
    /// Hidden, not yet live, or `IMS OFF` (`913`).
    NotAvailable,
    /// At the per-user session limit (`714`).
    TooManySessions,
}

/// The actor as a switchboard will show them (`XFR SB`).
#[derive(Clone, Debug)]
pub struct ChatIdentity {
    pub name: Arc<str>,
    pub dialect: Dialect,
    pub capabilities: Option<Arc<str>>,
}

impl Service {
    /// The actor as a new switchboard session will show them (`XFR SB`).
    /// Hidden endpoints, endpoints before their first `CHG` and `IMS OFF`
    /// may not chat; nor may a user at their session limit.
    pub fn open_chat(&self, a: &Actor) -> Result<ChatIdentity, ChatRefused> {
        let st = a.state();
        let e = st
            .endpoint(a.endpoint)
            .filter(|e| e.can_chat())
            .ok_or(ChatRefused::NotAvailable)?;
        if st.sb_sessions >= self.settings.max_sb_sessions_per_user {
            return Err(ChatRefused::TooManySessions);
        }
        Ok(ChatIdentity {
            name: st.account.friendly_name.as_str().into(),
            dialect: a.dialect,
            capabilities: e.presence.capabilities.clone(),
        })
    }

    /// Whether `inviter` may invite `invitee` now (switchboard.md §2.3):
    /// neither blocks the other, and the invitee is signed in, visible,
    /// taking invitations and under their session limit.
    pub async fn reachable(&self, inviter: &Handle, invitee: &Handle) -> Option<Invitee> {
        let inviter_blocks = self
            .directory
            .get(inviter.as_str())
            .and_then(|u| u.loaded().map(|st| !st.account.admits(invitee.as_str())))
            .unwrap_or(false);
        if inviter_blocks {
            return None;
        }
        let max = self.settings.max_sb_sessions_per_user;
        self.bus.reachable(invitee, inviter, max).await
    }

    /// Rings `invitee` (`RNG`); false if no endpoint took the invitation.
    pub async fn ring(&self, invitee: &Handle, ring: Ring) -> bool {
        self.bus
            .publish(invitee, Event::Ring(Arc::new(ring)))
            .await
            .is_ok()
    }

    /// Counts a switchboard connection of `handle` joining (`+1`) or
    /// leaving (`-1`), against the per-user limit.
    pub fn count_switchboard(&self, handle: &Handle, delta: isize) {
        if let Some(user) = self.directory.get(handle.as_str())
            && let Some(mut st) = user.loaded()
        {
            st.sb_sessions = st.sb_sessions.saturating_add_signed(delta);
        }
    }
}
