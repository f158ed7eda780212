//! The operations, one module per area. Every operation that changes
//! stored state commits before it returns, so a transport that renders the
//! result after the call never confirms something unwritten.

pub mod account;
pub mod admin;
pub mod chat;
pub mod circles;
pub mod endpoints;
pub mod lists;
pub mod login;
pub mod oim;
pub mod presence;
pub mod settings;

use msn_core::account::Change;
use msn_store::Committed;

use crate::event::Event;
use crate::fanout::{self, Visibility};
use crate::{Actor, OpError, Service, storage};

impl Service {
    /// Commits `change` for the actor, mirrors it in memory, and tells the
    /// other user when their reverse list changed.
    pub(crate) async fn commit(&self, a: &Actor, change: &Change) -> Result<Committed, OpError> {
        let committed = self
            .store
            .commit(a.user.user_id(), change)
            .await
            .map_err(storage)?;
        a.state().account.apply(change, committed.version);
        if let (Some(r), Some(version)) = (&change.reverse, committed.reverse_version) {
            let handle = a.handle().clone();
            let event = if r.added {
                // The name the store gave the new reverse entry.
                Event::ReverseAdded {
                    handle,
                    name: r.owner_name.as_str().into(),
                    version,
                }
            } else {
                Event::ReverseRemoved { handle, version }
            };
            let _ = self.bus.publish(&r.target, event).await;
        }
        // An actor with no endpoint here (SOAP): the user's sessions may be
        // on other nodes, whose copy of the account is now behind.
        let endpointless = a.state().endpoint(a.endpoint).is_none();
        if endpointless {
            self.bus.account_edited(a.handle()).await;
        }
        Ok(committed)
    }

    /// Commits `change` and tells watchers what it changed for them.
    /// `presence_changed`: the change alters what watchers see (a name).
    pub(crate) async fn commit_announced(
        &self,
        a: &Actor,
        change: &Change,
        presence_changed: bool,
    ) -> Result<Committed, OpError> {
        let before = Visibility::of(&a.state());
        let committed = self.commit(a, change).await?;
        let (after, notice) = {
            let st = a.state();
            (Visibility::of(&st), st.notice())
        };
        fanout::announce(&*self.bus, &notice, &before, &after, presence_changed).await;
        Ok(committed)
    }
}
