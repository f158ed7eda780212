//! Signing an endpoint in and out.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::handle::Handle;
use msn_wire::Dialect;
use tracing::{info, warn};
use uuid::Uuid;

use crate::event::{Event, KickReason, PresenceNotice};
use crate::fanout::{self, Visibility};
use crate::mailbox::{Mailbox, PushError};
use crate::user::{Endpoint, Presence};
use crate::{Actor, OpError, Service};

/// A client that has proven who it is and is about to be signed in.
pub struct NewEndpoint {
    /// Process-unique id of its connection.
    pub id: u64,
    pub dialect: Dialect,
    pub machine_guid: Option<Uuid>,
    /// Where events for it are queued.
    pub mailbox: Arc<Mailbox<Event>>,
}

impl Service {
    /// Signs an endpoint in to account `user_id`/`handle`. Older endpoints
    /// that cannot share the account with it (every dialect before MSNP16)
    /// are told `OUT OTH` and leave; watchers see the presence that
    /// remains.
    pub async fn sign_in(
        &self,
        handle: &Handle,
        user_id: i64,
        endpoint: NewEndpoint,
    ) -> Result<Actor, OpError> {
        let user = self.directory.attach(handle, user_id);
        let state = match user.state(&*self.store).await {
            Ok(state) => state,
            Err(e) => {
                warn!(error = %e, "could not load account");
                self.directory.detach(&user);
                return Err(OpError::Storage);
            }
        };
        let new = Endpoint {
            id: endpoint.id,
            dialect: endpoint.dialect,
            machine_guid: endpoint.machine_guid,
            mailbox: endpoint.mailbox,
            presence: Presence::default(),
            ims_on: true,
            changed: 0,
            private_document: None,
            circles: Vec::new(),
            circle_ticket: false,
        };
        let (replaced, before, after, notice) = {
            let mut st = state.lock();
            let before = Visibility::of(&st);
            let (shares, machine) = (new.shares_account(), new.machine_guid);
            let (replaced, kept): (Vec<Endpoint>, Vec<Endpoint>) =
                std::mem::take(&mut st.endpoints)
                    .into_iter()
                    .partition(|old| old.replaced_by(shares, machine));
            st.endpoints = kept;
            st.endpoints.push(new);
            (replaced, before, Visibility::of(&st), st.notice())
        };
        if !replaced.is_empty() {
            info!(user = %handle, "signed in elsewhere; ending the older session");
            for old in &replaced {
                if old.mailbox.push(Event::Kick(KickReason::OtherLogin)) == Err(PushError::Full) {
                    old.mailbox.close();
                }
            }
            fanout::announce(&*self.bus, &notice, &before, &after, true).await;
        }
        // The same rule on the other nodes (none on one node).
        self.bus
            .signed_in(
                handle,
                endpoint.dialect.has_multiple_endpoints(),
                endpoint.machine_guid,
            )
            .await;
        Ok(Actor {
            user,
            endpoint: endpoint.id,
            dialect: endpoint.dialect,
        })
    }

    /// Signs the actor endpoint out: watchers see the presence that
    /// remains (offline when it was the last endpoint). An endpoint that
    /// was already replaced by a newer sign-in changes nothing.
    pub async fn sign_out(&self, a: Actor) {
        let gone = a.user.loaded().and_then(|mut st| {
            let pos = st.endpoints.iter().position(|e| e.id == a.endpoint)?;
            let before = Visibility::of(&st);
            let gone = st.endpoints.swap_remove(pos);
            st.endpoints.shrink_to_fit();
            if gone.dialect.has_multiple_endpoints() {
                // The machines left see one place fewer.
                super::endpoints::push_self_update(&st, a.handle());
            }
            let machine_left = gone.dialect.has_multiple_endpoints() && !st.endpoints.is_empty();
            let document = machine_left
                .then(|| Bytes::copy_from_slice(st.account.personal_message_or_empty()));
            Some((
                before,
                Visibility::of(&st),
                st.notice(),
                document,
                gone.circles,
            ))
        });
        if let Some((before, after, notice, machine_left, circles)) = gone {
            // Circle conversations this was the user's last endpoint in.
            self.leave_conversations(a.handle(), circles).await;
            fanout::announce(&*self.bus, &notice, &before, &after, true).await;
            // Still online elsewhere: MSNP16+ watchers get the document
            // without the machine that left (msnp13-18.md §3.13).
            if let Some(document) = machine_left.filter(|_| notice.status.is_visible()) {
                self.broadcast_personal_message(&a, document, None, true)
                    .await;
            }
            info!(user = %a.handle(), "signed out");
        }
        // A switchboard connection may keep the user in the directory:
        // what counts for the other nodes is the endpoints left.
        let last_here = a.user.loaded().is_none_or(|st| st.endpoints.is_empty());
        self.directory.detach(&a.user);
        if last_here {
            self.bus.signed_out(a.handle()).await;
        }
    }

    /// Another node signed in an endpoint of `handle`: this node's
    /// sessions that the sign-in replaces ([`Endpoint::replaced_by`]) are
    /// told `OUT OTH` and leave, as in [`Service::sign_in`]; watchers see
    /// the presence that remains here. Returns how many ended.
    pub async fn end_replaced(
        &self,
        handle: &Handle,
        shares_account: bool,
        machine: Option<Uuid>,
    ) -> usize {
        let Some(user) = self.directory.get(handle.as_str()) else {
            return 0;
        };
        let Some((replaced, before, after, notice)) = user.loaded().map(|mut st| {
            let before = Visibility::of(&st);
            let (replaced, kept): (Vec<Endpoint>, Vec<Endpoint>) =
                std::mem::take(&mut st.endpoints)
                    .into_iter()
                    .partition(|old| old.replaced_by(shares_account, machine));
            st.endpoints = kept;
            (replaced, before, Visibility::of(&st), st.notice())
        }) else {
            return 0;
        };
        if replaced.is_empty() {
            return 0;
        }
        info!(user = %handle, "signed in on another node; ending the session here");
        for old in &replaced {
            if old.mailbox.push(Event::Kick(KickReason::OtherLogin)) == Err(PushError::Full) {
                old.mailbox.close();
            }
        }
        fanout::announce(&*self.bus, &notice, &before, &after, true).await;
        replaced.len()
    }

    /// Users signed in on a node that died (it stopped answering the
    /// cluster): every local user who lists one of them in their forward
    /// list is told it is offline (`FLN`). A watcher who already saw it
    /// offline (hidden, blocked) is told nothing new. Returns how many
    /// notices went out.
    pub async fn contacts_gone(&self, gone: &std::collections::HashSet<Handle>) -> usize {
        let mut told = 0;
        for watcher in self.directory.users() {
            let Some(lost): Option<Vec<Handle>> = watcher.loaded().map(|st| {
                st.account
                    .on_list(msn_wire::vocab::ListKind::Forward)
                    .filter(|c| gone.contains(&c.handle))
                    .map(|c| c.handle.clone())
                    .collect()
            }) else {
                continue;
            };
            for contact in lost {
                let notice = Arc::new(PresenceNotice::gone(contact));
                if watcher
                    .cell()
                    .is_some_and(|cell| cell.lock().receive(Event::Presence(notice)).is_ok())
                {
                    told += 1;
                }
            }
        }
        told
    }

    /// Tells every watcher of every user signed in here what they may see
    /// of them now, whatever they saw before: after this node was cut off
    /// from the others (its users were taken for gone there), or when it
    /// joins again.
    pub async fn announce_all(&self) {
        for user in self.directory.users() {
            let Some((after, notice)) = user.loaded().map(|st| (Visibility::of(&st), st.notice()))
            else {
                continue;
            };
            fanout::announce(&*self.bus, &notice, &Visibility::none(), &after, true).await;
        }
    }

    /// Tells every user signed in here what they may see of each contact
    /// on their forward list now (`NLN` or `FLN`), whatever they saw
    /// before: after this node was cut off from the others and may have
    /// missed changes.
    pub async fn refresh_contacts(&self) {
        for user in self.directory.users() {
            let Some(contacts): Option<Vec<Handle>> = user.loaded().map(|st| {
                st.account
                    .on_list(msn_wire::vocab::ListKind::Forward)
                    .map(|c| c.handle.clone())
                    .collect()
            }) else {
                continue;
            };
            for contact in contacts {
                let notice = match self.bus.presence_for(&contact, &user.handle).await {
                    Some(p) => p.notice,
                    None => Arc::new(PresenceNotice::gone(contact)),
                };
                if let Some(cell) = user.cell() {
                    let _ = cell.lock().receive(Event::Presence(notice));
                }
            }
        }
    }

    /// Tells every signed-in user that the server goes down in `minutes`
    /// (the system message clients show before maintenance); returns how
    /// many users were told.
    pub async fn warn_shutdown(&self, minutes: u32) -> usize {
        let mut told = 0;
        for handle in self.directory.handles() {
            if self
                .bus
                .publish(&handle, Event::ShutdownWarning { minutes })
                .await
                .is_ok()
            {
                told += 1;
            }
        }
        info!(minutes, users = told, "shutdown announced");
        told
    }

    /// Sends an MSN Alert (`NOT`) to every endpoint of a signed-in user
    /// (operator notices); false if nobody took it.
    pub async fn alert(&self, handle: &Handle, document: Bytes) -> bool {
        self.bus
            .publish(handle, Event::Alert(document))
            .await
            .is_ok()
    }

    /// The store's account change log position now: changes made after it
    /// are for [`Service::apply_account_changes`].
    pub async fn account_changes_cursor(&self) -> Result<u64, OpError> {
        let (cursor, _) = self
            .store
            .account_changes(None)
            .await
            .map_err(crate::storage)?;
        Ok(cursor)
    }

    /// Ends the sessions of the accounts the store's change log says were
    /// deleted, or had their password changed, after `cursor` — whichever
    /// process changed them (`msnd user del` runs beside the server).
    /// Returns the position to continue from and the accounts changed
    /// (whose other credentials, such as tokens, the caller revokes).
    pub async fn apply_account_changes(&self, cursor: u64) -> Result<(u64, Vec<Handle>), OpError> {
        let (next, changes) = self
            .store
            .account_changes(Some(cursor))
            .await
            .map_err(crate::storage)?;
        let mut changed = Vec::with_capacity(changes.len());
        for change in changes {
            info!(user = %change.handle, kind = ?change.kind, "account changed; ending its sessions");
            self.end_sessions(&change.handle).await;
            changed.push(change.handle);
        }
        Ok((next, changed))
    }

    /// Ends every session of an account whose credentials changed or that
    /// was deleted while signed in, wherever it is signed in.
    pub async fn end_sessions(&self, handle: &Handle) {
        let _ = self
            .bus
            .publish(handle, Event::Kick(KickReason::AccountChanged))
            .await;
    }
}
