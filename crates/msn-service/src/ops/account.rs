//! Acting for a user from outside a Messenger session: the address-book
//! and sharing SOAP services (and any later transport without an NS
//! connection of its own) edit a user's lists with the same operations as
//! the NS, through an [`AccountActor`].
//!
//! The actor attaches to the user's [`Directory`] entry exactly as a
//! session does, so that while it lives it shares the *one* in-memory state
//! of the user with their signed-in endpoints (if any): an edit made over
//! SOAP is the same edit an NS command would make, its effects reach other
//! users over the Bus, and a concurrent sign-in finds it already applied.
//! It adds no endpoint, so it is never shown as present, never rung, and
//! receives no events (events for the user still reach their real
//! endpoints). Dropping it detaches; the last detach unloads the account
//! as usual.

use std::ops::Deref;
use std::sync::Arc;

use msn_core::account::{Change, GroupId};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_wire::Dialect;
use tracing::warn;
use uuid::Uuid;

use crate::fanout::{self, Visibility};
use crate::{Actor, Directory, OpError, Service};
use bytes::Bytes;

/// An [`Actor`] for a user that is no endpoint (see the module docs).
/// Its list rules are those of the address-book dialects (MSNP13+): GUID
/// groups with group 0 as the hidden default, the configured group limit,
/// and a handle may be on AL and BL at once (counting as blocked).
pub struct AccountActor {
    actor: Actor,
    directory: Arc<Directory>,
}

impl Deref for AccountActor {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

impl Drop for AccountActor {
    fn drop(&mut self) {
        self.directory.detach(&self.actor.user);
    }
}

impl Service {
    /// Attaches to account `user_id`/`handle` (loading it if nobody on this
    /// node has it loaded yet) and returns an actor for it.
    pub async fn account_actor(
        &self,
        handle: &Handle,
        user_id: i64,
    ) -> Result<AccountActor, OpError> {
        let user = self.directory.attach(handle, user_id);
        // Detaches again if the load fails, like a failed sign-in.
        let guard = AccountActor {
            actor: Actor {
                user,
                // A fresh id no endpoint has: operations that look up the
                // actor's own endpoint find none.
                endpoint: self.directory.next_conn_id(),
                dialect: Dialect::new(Dialect::MAX).expect("the highest dialect exists"),
            },
            directory: self.directory.clone(),
        };
        if let Err(e) = guard.actor.user.state(&*self.store).await {
            warn!(error = %e, user = %handle, "could not load account");
            return Err(OpError::Storage);
        }
        Ok(guard)
    }

    /// The account of `handle` was changed on another node (a SOAP call
    /// there): this node's copy is read again from the store, and the
    /// watchers and the user's own MSNP16+ machines are told what changed
    /// for them (a name, a personal message, who may see the user) — what
    /// the other node, where the user has no endpoint, could not tell.
    pub async fn reload_account(&self, handle: &Handle) {
        let Some(user) = self.directory.get(handle.as_str()) else {
            return;
        };
        // A read that raced with a newer change made here is read again.
        for _ in 0..3 {
            if user.loaded().is_none_or(|st| st.endpoints.is_empty()) {
                return;
            }
            let account = match self.store.load_account(user.user_id()).await {
                Ok(account) => account,
                Err(e) => {
                    warn!(error = %e, user = %handle, "could not read an account changed elsewhere");
                    return;
                }
            };
            // Swapped under the lock, told after it (no lock across an
            // await).
            let swapped = {
                let Some(mut st) = user.loaded() else {
                    return;
                };
                if account.list_version < st.account.list_version {
                    None
                } else {
                    let before = Visibility::of(&st);
                    let old = st.notice();
                    let old_document = st.account.personal_message.clone();
                    st.account = account;
                    let notice = st.notice();
                    let after = Visibility::of(&st);
                    let document = (st.account.personal_message != old_document
                        && notice.status.is_visible())
                    .then(|| Bytes::copy_from_slice(st.account.personal_message_or_empty()));
                    super::endpoints::push_self_update(&st, handle);
                    Some((before, after, old, notice, document, old_document))
                }
            };
            let Some((before, after, old, notice, document, old_document)) = swapped else {
                continue;
            };
            let previous = old_document.map(Bytes::from);
            fanout::announce(
                &*self.bus,
                &notice,
                &before,
                &after,
                old.name != notice.name,
            )
            .await;
            if let Some(document) = document {
                let actor = Actor {
                    user: user.clone(),
                    endpoint: 0,
                    dialect: Dialect::new(Dialect::MAX).expect("the highest dialect exists"),
                };
                self.broadcast_personal_message(&actor, document, previous, false)
                    .await;
            }
            return;
        }
        warn!(user = %handle, "account changed elsewhere kept changing while read");
    }

    /// Takes an FL contact out of one group without taking it off the FL
    /// (`ABGroupContactDelete`; the NS's `REM FL … group` removes a contact
    /// from its last group altogether, see `Account::plan_remove`).
    pub async fn remove_from_group(
        &self,
        a: &Actor,
        handle: &str,
        group: GroupId,
    ) -> Result<u64, OpError> {
        let change = a.state().account.plan_remove_from_group(handle, group)?;
        Ok(self.commit(a, &change).await?.version)
    }

    /// Puts `handle` in the address book without adding it to any list
    /// (`ABContactAdd` with `isMessengerUser` false); returns its contact
    /// id. The handle must be an account here.
    pub async fn add_ab_contact(
        &self,
        a: &Actor,
        handle: &Handle,
        name: &str,
    ) -> Result<Uuid, OpError> {
        if !self
            .store
            .user_exists(handle.as_str())
            .await
            .map_err(crate::storage)?
        {
            return Err(OpError::UnknownAccount);
        }
        let (change, guid) =
            a.state()
                .account
                .plan_add_ab_contact(handle, name, NetworkId::Passport)?;
        self.commit(a, &change).await?;
        Ok(guid)
    }

    /// Deletes an address-book contact (`ABContactDelete`): off the FL (the
    /// other user's RL and presence follow, as for `REM FL`) and out of the
    /// address book; AL/BL stay.
    pub async fn delete_ab_contact(&self, a: &Actor, handle: &str) -> Result<u64, OpError> {
        let change: Change = a.state().account.plan_delete_ab_contact(handle)?;
        Ok(self.commit_announced(a, &change, false).await?.version)
    }
}
