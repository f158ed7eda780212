//! Conversions every SQL backend shares: stored text to domain values,
//! driver errors to [`StoreError`], the clock.

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use msn_core::account::{Account, Contact, Group, GroupId, GroupIds};
use msn_core::circle::{CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_wire::vocab::Privacy;
use uuid::Uuid;

use crate::{Result, StoreError};

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Turns a driver error into the opaque [`StoreError::Backend`]; `?` cannot
/// do it, as a `From<sqlx::Error>` would put sqlx in the public API.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(StoreError::backend)
    }
}

impl<T> Db<T> for std::result::Result<T, sqlx::migrate::MigrateError> {
    fn db(self) -> Result<T> {
        self.map_err(StoreError::backend)
    }
}

pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

pub(crate) fn parse_handle(s: &str) -> Result<Handle> {
    Handle::parse(s).map_err(|_| corrupt(format!("bad handle {s:?}")))
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::from_str(s).map_err(|_| corrupt(format!("bad guid {s:?}")))
}

/// How message ids and run ids are stored: upper-case GUIDs, as clients
/// write them.
pub(crate) fn oim_id(id: Uuid) -> String {
    id.hyphenated()
        .encode_upper(&mut Uuid::encode_buffer())
        .to_owned()
}

pub(crate) fn privacy_from(s: &str) -> Result<Privacy> {
    Privacy::parse(s).ok_or_else(|| corrupt(format!("bad privacy {s:?}")))
}

/// The groups and entries of an account, from the JSON arrays that
/// `load_account` reads in the same statement as the account (`[id, guid,
/// name]` per group, `[handle, network, lists, name, guid, [group ids]]`
/// per entry), sorted as [`Account`] keeps them.
/// A `circle_members.role` value.
pub(crate) fn circle_role(code: i64) -> Result<CircleRole> {
    u8::try_from(code)
        .ok()
        .and_then(CircleRole::from_code)
        .ok_or_else(|| corrupt(format!("bad circle role {code}")))
}

/// A `circle_members.state` value.
pub(crate) fn member_state(code: i64) -> Result<MemberState> {
    u8::try_from(code)
        .ok()
        .and_then(MemberState::from_code)
        .ok_or_else(|| corrupt(format!("bad circle member state {code}")))
}

pub(crate) fn fill_account(account: &mut Account, groups: &str, contacts: &str) -> Result<()> {
    let groups: Vec<(i64, String, String)> = from_json("groups", groups)?;
    account.groups.reserve_exact(groups.len());
    for (id, guid, name) in groups {
        account.groups.push(Group {
            id: GroupId::try_from(id).map_err(|_| corrupt("group id"))?,
            guid: parse_uuid(&guid)?,
            name,
        });
    }
    account.groups.sort_by_key(|g| g.id);
    type ContactRow = (String, i64, i64, String, Option<String>, Vec<i64>);
    let contacts: Vec<ContactRow> = from_json("contacts", contacts)?;
    // Exact capacity: this stays in memory while the owner is online.
    account.contacts.reserve_exact(contacts.len());
    for (handle, network, lists, name, guid, group_ids) in contacts {
        let mut groups = group_ids
            .into_iter()
            .map(|id| GroupId::try_from(id).map_err(|_| corrupt("group id")))
            .collect::<Result<Vec<_>>>()?;
        groups.sort_unstable();
        groups.dedup();
        account.contacts.push(Contact {
            handle: parse_handle(&handle)?.interned(),
            network: u8::try_from(network)
                .ok()
                .and_then(NetworkId::from_code)
                .ok_or_else(|| corrupt(format!("bad network {network}")))?,
            lists: u8::try_from(lists).map_err(|_| corrupt(format!("bad lists {lists}")))?,
            name: name.into_boxed_str(),
            guid: guid.as_deref().map(parse_uuid).transpose()?,
            groups: GroupIds::from_sorted(groups),
        });
    }
    account
        .contacts
        .sort_unstable_by(|a, b| a.handle.as_str().cmp(b.handle.as_str()));
    Ok(())
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("{what}: {e}")))
}
