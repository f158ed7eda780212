//! The actor's own settings and groups: friendly name, privacy mode, add
//! alert, phone properties, personal message, and group edits.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::account::{Change, Group, GroupId, Property, SettingUpdate};
use msn_core::handle::Handle;
use msn_wire::vocab::{AddAlert, Privacy};
use tracing::warn;

use crate::event::Event;
use crate::{Actor, OpError, Service};

impl Service {
    /// Changes the actor's own friendly name; watchers see it at once.
    /// The name the user already has changes nothing and is not announced
    /// again: WLM clients set it both with `PRP MFN` and over SOAP.
    pub async fn set_friendly_name(&self, a: &Actor, name: &str) -> Result<u64, OpError> {
        let (change, unchanged) = {
            let st = a.state();
            let change = st.account.plan_friendly_name(name)?;
            (
                change,
                (st.account.friendly_name == name).then_some(st.account.list_version),
            )
        };
        if let Some(version) = unchanged {
            return Ok(version);
        }
        Ok(self.commit_announced(a, &change, true).await?.version)
    }

    /// Sets the privacy mode (`BLP`): watchers who can no longer see the
    /// actor see them go offline, those who now can see them come online.
    pub async fn set_privacy(&self, a: &Actor, privacy: Privacy) -> Result<u64, OpError> {
        let change = a.state().account.plan_privacy(privacy)?;
        Ok(self.commit_announced(a, &change, false).await?.version)
    }

    /// Sets whether the actor is asked when someone adds them (`GTC`).
    pub async fn set_add_alert(&self, a: &Actor, alert: AddAlert) -> Result<u64, OpError> {
        let change = a.state().account.plan_add_alert(alert)?;
        Ok(self.commit(a, &change).await?.version)
    }

    /// Creates a group, within the actor's dialect's group limit (`223`).
    pub async fn add_group(&self, a: &Actor, name: &str) -> Result<(u64, Group), OpError> {
        let max = a.list_limits(&self.settings).max_groups;
        let (change, group) = a.state().account.plan_add_group(name, max)?;
        Ok((self.commit(a, &change).await?.version, group))
    }

    /// Deletes a group; its contacts stay on the FL.
    pub async fn remove_group(&self, a: &Actor, id: GroupId) -> Result<(u64, Group), OpError> {
        let (change, group) = a.state().account.plan_remove_group(id)?;
        Ok((self.commit(a, &change).await?.version, group))
    }

    pub async fn rename_group(
        &self,
        a: &Actor,
        id: GroupId,
        name: &str,
    ) -> Result<(u64, Group), OpError> {
        let (change, group) = a.state().account.plan_rename_group(id, name)?;
        Ok((self.commit(a, &change).await?.version, group))
    }

    /// Sets a phone property (`PRP`) and tells the people who have the
    /// actor on their FL (and whom the actor admits); their list versions
    /// advance (msnp2-7.md §5.4).
    pub async fn set_property(
        &self,
        a: &Actor,
        property: Property,
        value: Option<&str>,
    ) -> Result<u64, OpError> {
        let change = a.state().account.plan_property(property, value)?;
        let version = self.commit(a, &change).await?.version;
        let watchers: Vec<Handle> = {
            let st = a.state();
            st.watchers()
                .filter(|w| st.account.admits(w.as_str()))
                .cloned()
                .collect()
        };
        if watchers.is_empty() {
            return Ok(version);
        }
        match self.store.bump_versions(&watchers).await {
            Ok(versions) => {
                let value: Option<Arc<str>> = value.map(Into::into);
                for (watcher, version) in versions {
                    let event = Event::Property {
                        handle: a.handle().clone(),
                        property,
                        value: value.clone(),
                        version,
                    };
                    let _ = self.bus.publish(&watcher, event).await;
                }
            }
            Err(e) => warn!(error = %e, "could not advance watchers' list versions"),
        }
        Ok(version)
    }

    /// Stores the personal message document (`UUX`, MSNP11+) and sends it
    /// to every watcher who can see the actor.
    pub async fn set_personal_message(&self, a: &Actor, document: Bytes) -> Result<(), OpError> {
        let change = Change {
            settings: vec![SettingUpdate::PersonalMessage(Some(document.to_vec()))],
            ..Change::default()
        };
        let previous = a
            .state()
            .account
            .personal_message
            .as_deref()
            .map(Bytes::copy_from_slice);
        self.commit(a, &change).await?;
        self.broadcast_personal_message(a, document, previous, false)
            .await;
        // The user's own MSNP16+ machines see it in their self `UBX`.
        super::endpoints::push_self_update(&a.state(), a.handle());
        Ok(())
    }

    /// Sends a personal message document to the watchers who see the actor
    /// (see [`Event::PersonalMessage`] for `previous` and `after_presence`).
    pub(crate) async fn broadcast_personal_message(
        &self,
        a: &Actor,
        document: Bytes,
        previous: Option<Bytes>,
        after_presence: bool,
    ) {
        let (watchers, endpoints): (Vec<Handle>, _) = {
            let st = a.state();
            let watchers = st
                .watchers()
                .filter(|w| st.visible_to(w.as_str()))
                .cloned()
                .collect();
            (watchers, super::endpoints::endpoint_elements(&st))
        };
        for watcher in watchers {
            let event = Event::PersonalMessage {
                handle: a.handle().clone(),
                document: document.clone(),
                endpoints: endpoints.clone(),
                previous: previous.clone(),
                after_presence,
            };
            let _ = self.bus.publish(&watcher, event).await;
        }
    }
}
