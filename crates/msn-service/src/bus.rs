//! The Bus carries effects to whoever must see them: events addressed to a
//! user, and the few questions one user's operation asks about another
//! (what may I see of them, can I ring them). It is the only code that
//! reaches another user's in-memory state.
//!
//! [`LocalBus`] is the single-node implementation: the receivers are in
//! this process, in the [`Directory`]. A bus spanning several nodes
//! implements the same trait and, on the receiving node, ends in the same
//! [`UserState::receive`](crate::user::UserState::receive).

use std::sync::Arc;

use async_trait::async_trait;
use msn_core::circle::CircleId;
use msn_core::handle::Handle;
use msn_store::Store;
use msn_wire::Dialect;
use uuid::Uuid;

use crate::directory::Directory;
use crate::event::{ContactPresence, Event, PresenceNotice};
use crate::mailbox::PushError;

/// An invitee who can be rung, as the inviter's switchboard needs them.
#[derive(Clone, Debug)]
pub struct Invitee {
    pub name: Arc<str>,
    pub dialect: Dialect,
    pub capabilities: Option<Arc<str>>,
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Delivers `event` to `to` wherever they are signed in. `Ok` when at
    /// least one of their endpoints queued it; `Closed` when nobody took it
    /// (offline); `Full` when a receiver cannot keep up (it is cut off).
    async fn publish(&self, to: &Handle, event: Event) -> Result<(), PushError>;

    /// What `watcher` may see of `target` now: `None` when `target` is
    /// offline, hidden, or does not admit `watcher`.
    async fn presence_for(&self, target: &Handle, watcher: &Handle) -> Option<ContactPresence>;

    /// What the members of `circle` see of `user` when one of `user`'s
    /// endpoints is in its conversation (joining it publishes the user's
    /// presence to the circle, whatever their allow list says); `None`
    /// when none is.
    async fn in_conversation(&self, user: &Handle, circle: CircleId)
    -> Option<Arc<PresenceNotice>>;

    /// Whether `inviter` may ring `invitee` now: signed in and live, not
    /// hidden, taking invitations, under `max_sessions` switchboards, and
    /// admitting the inviter.
    async fn reachable(
        &self,
        invitee: &Handle,
        inviter: &Handle,
        max_sessions: usize,
    ) -> Option<Invitee>;

    /// An endpoint of `handle` signed in on this node (after the sessions
    /// it replaces here were ended). A bus spanning nodes records where
    /// the user is and ends, on the other nodes, the sessions the same
    /// rule replaces there ([`Service::end_replaced`](crate::Service::end_replaced)),
    /// before it returns. Nothing to do on one node.
    async fn signed_in(&self, _handle: &Handle, _shares_account: bool, _machine: Option<Uuid>) {}

    /// The last endpoint of `handle` on this node signed out.
    async fn signed_out(&self, _handle: &Handle) {}

    /// `handle`'s stored account was changed on this node by an actor
    /// that is no endpoint (a SOAP call). A bus spanning nodes has every
    /// other node where the user is signed in read it again
    /// ([`Service::reload_account`](crate::Service::reload_account)). On
    /// one node the actor shares the endpoints' state: nothing to do.
    async fn account_edited(&self, _handle: &Handle) {}
}

/// The in-process bus: delivery into the bounded mailboxes of this node's
/// sessions. Pushing never waits; a full mailbox cuts its owner off.
pub struct LocalBus {
    directory: Arc<Directory>,
    store: Arc<dyn Store>,
}

impl LocalBus {
    pub fn new(directory: Arc<Directory>, store: Arc<dyn Store>) -> LocalBus {
        LocalBus { directory, store }
    }
}

/// Whether an event changes the receiver's stored-state mirror, so that it
/// must reach a user whose account is still loading.
fn changes_state(event: &Event) -> bool {
    matches!(
        event,
        Event::ReverseAdded { .. } | Event::ReverseRemoved { .. } | Event::Property { .. }
    )
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, to: &Handle, event: Event) -> Result<(), PushError> {
        let user = self.directory.get(to.as_str()).ok_or(PushError::Closed)?;
        let cell = if changes_state(&event) {
            // A load that started before the change was committed must not
            // miss it: wait for the load, then apply.
            user.state(&*self.store)
                .await
                .map_err(|_| PushError::Closed)?
        } else {
            user.cell().ok_or(PushError::Closed)?
        };
        cell.lock().receive(event)
    }

    async fn presence_for(&self, target: &Handle, watcher: &Handle) -> Option<ContactPresence> {
        let user = self.directory.get(target.as_str())?;
        let st = user.loaded()?;
        st.presence_for(watcher.as_str())
    }

    async fn in_conversation(
        &self,
        user: &Handle,
        circle: CircleId,
    ) -> Option<Arc<PresenceNotice>> {
        let user = self.directory.get(user.as_str())?;
        let st = user.loaded()?;
        st.in_conversation(circle).then(|| st.notice())
    }

    async fn reachable(
        &self,
        invitee: &Handle,
        inviter: &Handle,
        max_sessions: usize,
    ) -> Option<Invitee> {
        let user = self.directory.get(invitee.as_str())?;
        let st = user.loaded()?;
        if st.sb_sessions >= max_sessions || !st.account.admits(inviter.as_str()) {
            return None;
        }
        let endpoint = st
            .endpoints()
            .iter()
            .filter(|e| e.can_chat())
            .max_by_key(|e| e.changed)?;
        Some(Invitee {
            name: st.account.friendly_name.as_str().into(),
            dialect: endpoint.dialect,
            capabilities: endpoint.presence.capabilities.clone(),
        })
    }
}
