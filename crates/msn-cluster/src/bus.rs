//! [`NatsBus`]: the [`Bus`] of a node in a cluster. What concerns users
//! signed in here goes through this node's [`LocalBus`]; what concerns
//! users elsewhere goes to their nodes, where it ends in the same
//! `LocalBus` code. The rules (who may see what, who can be rung) are
//! decided there, by msn-service, never here.

use std::sync::Arc;

use async_trait::async_trait;
use msn_core::circle::CircleId;
use msn_core::handle::Handle;
use msn_service::{
    Bus, ContactPresence, Directory, Event, Invitee, LocalBus, PresenceNotice, PushError,
};
use uuid::Uuid;

use crate::codec::{NodeMessage, WireInvitee, WireNotice, WirePresence};
use crate::node::{Cluster, ask, send_event, send_reload};

pub struct NatsBus {
    cluster: Cluster,
    local: Arc<LocalBus>,
    directory: Arc<Directory>,
}

impl NatsBus {
    pub(crate) fn new(
        cluster: Cluster,
        local: Arc<LocalBus>,
        directory: Arc<Directory>,
    ) -> NatsBus {
        NatsBus {
            cluster,
            local,
            directory,
        }
    }

    /// Whether `handle` has endpoints on this node (a switchboard
    /// connection alone keeps a user in the directory without any).
    fn here(&self, handle: &Handle) -> bool {
        self.directory
            .get(handle.as_str())
            .is_some_and(|u| u.loaded().is_some_and(|st| !st.endpoints().is_empty()))
    }

    /// Asks each node where `handle` is, in turn, until one answers
    /// something.
    async fn ask_nodes<T, W>(
        &self,
        handle: &Handle,
        message: NodeMessage,
        decode: impl Fn(W) -> Option<T>,
    ) -> Option<T>
    where
        W: for<'de> serde::Deserialize<'de>,
    {
        let inner = &self.cluster.inner;
        let nodes = inner.view.read().nodes_of(handle, &inner.id);
        for node in nodes {
            let answer: Option<Option<W>> = ask(inner, &node, &message).await;
            if let Some(found) = answer.flatten().and_then(&decode) {
                return Some(found);
            }
        }
        None
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, to: &Handle, event: Event) -> Result<(), PushError> {
        let sent = send_event(&self.cluster.inner, to, &event).await;
        let here = if self.directory.get(to.as_str()).is_some() {
            self.local.publish(to, event).await
        } else {
            Err(PushError::Closed)
        };
        // Delivery on other nodes is not confirmed: sent counts as taken.
        if sent > 0 { here.or(Ok(())) } else { here }
    }

    async fn presence_for(&self, target: &Handle, watcher: &Handle) -> Option<ContactPresence> {
        if self.here(target) {
            return self.local.presence_for(target, watcher).await;
        }
        let q = NodeMessage::PresenceFor {
            target: target.to_string(),
            watcher: watcher.to_string(),
        };
        self.ask_nodes(target, q, WirePresence::decode).await
    }

    async fn in_conversation(
        &self,
        user: &Handle,
        circle: CircleId,
    ) -> Option<Arc<PresenceNotice>> {
        if self.here(user) {
            return self.local.in_conversation(user, circle).await;
        }
        let q = NodeMessage::InConversation {
            user: user.to_string(),
            circle: circle.uuid(),
        };
        self.ask_nodes(user, q, WireNotice::into_notice).await
    }

    async fn reachable(
        &self,
        invitee: &Handle,
        inviter: &Handle,
        max_sessions: usize,
    ) -> Option<Invitee> {
        if self.here(invitee) {
            return self.local.reachable(invitee, inviter, max_sessions).await;
        }
        let q = NodeMessage::Reachable {
            invitee: invitee.to_string(),
            inviter: inviter.to_string(),
            max_sessions,
        };
        self.ask_nodes(invitee, q, WireInvitee::decode).await
    }

    async fn signed_in(&self, handle: &Handle, shares_account: bool, machine: Option<Uuid>) {
        let inner = &self.cluster.inner;
        // Recorded first, so that events for the user find this node from
        // now on.
        inner.put_user(handle).await;
        let q = NodeMessage::SignedIn {
            handle: handle.to_string(),
            shares_account,
            machine,
        };
        let nodes = inner.view.read().nodes_of(handle, &inner.id);
        // Waited for, so that the older session's FLN reaches watchers
        // before this one's first NLN (a node that does not answer is
        // dead or cut off: its sessions die with it).
        let asks = nodes.iter().map(|node| ask::<usize>(inner, node, &q));
        futures_util::future::join_all(asks).await;
    }

    async fn signed_out(&self, handle: &Handle) {
        self.cluster.inner.delete_user(handle).await;
    }

    async fn account_edited(&self, handle: &Handle) {
        send_reload(&self.cluster.inner, handle).await;
    }
}
