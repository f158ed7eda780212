//! Contact list edits: adding to and removing from FL/AL/BL (and PL),
//! renaming contacts, moving them between groups.

use msn_core::account::{Change, GroupId, ListError};
use msn_core::handle::Handle;
use msn_wire::vocab::ListKind;
use uuid::Uuid;

use crate::{Actor, OpError, Service, storage};

/// What the reply to an addition needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Added {
    /// The actor's list version after the change.
    pub version: u64,
    /// The contact id of an FL entry (MSNP10+ `C=`).
    pub contact_id: Option<Uuid>,
    /// The other user's reverse list gained the actor (a new FL entry):
    /// their presence can be shown right away.
    pub reverse_added: bool,
}

impl Service {
    /// Plans an addition under the actor's dialect's rules.
    fn plan_list_add(
        &self,
        a: &Actor,
        list: ListKind,
        handle: &Handle,
        name: &str,
        group: Option<GroupId>,
    ) -> Result<Change, ListError> {
        let (mode, limits) = (a.group_mode(), a.list_limits(&self.settings));
        a.state()
            .account
            .plan_add(list, handle, name, group, mode, limits)
    }

    /// Adds `handle` to FL, AL or BL (`ADD`, `ADC`, later ABContactAdd and
    /// AddMember). `group` applies to FL only. The handle must be an
    /// account here.
    pub async fn add_contact(
        &self,
        a: &Actor,
        list: ListKind,
        handle: &Handle,
        name: &str,
        group: Option<GroupId>,
    ) -> Result<Added, OpError> {
        let Some(record) = self.store.user(handle.as_str()).await.map_err(storage)? else {
            return Err(OpError::UnknownAccount);
        };
        // The name the client gave must be valid, but the entry carries the
        // contact's own name: that is what every list shows (and what the
        // store reads back).
        msn_core::text::validate_name(name, msn_core::text::MAX_FRIENDLY_NAME)
            .map_err(|_| ListError::InvalidName)?;
        let change = self.plan_list_add(a, list, handle, &record.friendly_name, group)?;
        let done = self.commit_announced(a, &change, false).await?;
        let contact_id = (list == ListKind::Forward)
            .then(|| {
                a.state()
                    .account
                    .contact(handle.as_str())
                    .and_then(|c| c.guid)
            })
            .flatten();
        Ok(Added {
            version: done.version,
            contact_id,
            reverse_added: list == ListKind::Forward && change.reverse.is_some(),
        })
    }

    /// Puts an FL contact into one more group (MSNP10+ `ADC … C= group`).
    pub async fn add_to_group(
        &self,
        a: &Actor,
        handle: &Handle,
        group: GroupId,
    ) -> Result<u64, OpError> {
        let name = a
            .state()
            .account
            .contact(handle.as_str())
            .filter(|c| c.on(ListKind::Forward))
            .map(|c| c.name.to_string())
            .ok_or(ListError::NotOnList)?;
        let change = self.plan_list_add(a, ListKind::Forward, handle, &name, Some(group))?;
        Ok(self.commit(a, &change).await?.version)
    }

    /// Removes `handle` from a list, or (FL with `group`) from one group.
    pub async fn remove_contact(
        &self,
        a: &Actor,
        list: ListKind,
        handle: &str,
        group: Option<GroupId>,
    ) -> Result<u64, OpError> {
        let plan = a.state().account.plan_remove(list, handle, group);
        let change = match plan {
            Ok(c) => c,
            // Answering a pending add (ADC AL/BL) already settled it; the
            // MSNP11 client's `REM PL` that follows (msnp8-12.md §5.1) must
            // still succeed, so an entry no longer pending is fine here.
            Err(ListError::NotOnList)
                if list == ListKind::Pending && a.state().account.bits_of(handle) != 0 =>
            {
                Change::default()
            }
            Err(e) => return Err(e.into()),
        };
        Ok(self.commit_announced(a, &change, false).await?.version)
    }

    /// Renames a contact in the actor's lists (`REA` of another handle,
    /// `SBP … MFN`).
    pub async fn rename_contact(
        &self,
        a: &Actor,
        handle: &str,
        name: &str,
    ) -> Result<u64, OpError> {
        let change = a.state().account.plan_rename_contact(handle, name)?;
        Ok(self.commit(a, &change).await?.version)
    }
}
