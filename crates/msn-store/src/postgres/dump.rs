//! [`Store::export_accounts`](crate::Store::export_accounts) and
//! [`Store::import_accounts`](crate::Store::import_accounts) on PostgreSQL:
//! every table read inside the caller's `REPEATABLE READ` transaction (one
//! snapshot), and every row written inside one transaction.

use std::collections::HashMap;

use msn_core::account::{Group, GroupId};
use msn_core::network::NetworkId;
use msn_wire::vocab::AddAlert;
use sqlx::{PgConnection, Row};

use super::{OIM_COLUMNS, oim_from_row, properties_from_row};
use crate::values::{Db, corrupt, oim_id, parse_handle, parse_uuid, privacy_from};
use crate::{AccountDump, ContactDump, ImportCounts, Result, StoreError};

/// Reads every account. The statements run in the caller's snapshot
/// transaction, so they all see the same committed state.
pub(super) async fn export(tx: &mut PgConnection) -> Result<Vec<AccountDump>> {
    let users = sqlx::query(
        "SELECT id, handle, friendly_name, password_hash, legacy_password, verified, disabled, \
         created_at, privacy, add_alert, list_version, phone_home, phone_work, phone_mobile, \
         mobile_messages, mobile_device, personal_message FROM users ORDER BY handle",
    )
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut accounts = Vec::with_capacity(users.len());
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(users.len());
    for row in &users {
        let add_alert: String = row.try_get("add_alert").db()?;
        index.insert(row.try_get("id").db()?, accounts.len());
        accounts.push(AccountDump {
            handle: parse_handle(row.try_get("handle").db()?)?,
            friendly_name: row.try_get("friendly_name").db()?,
            password_hash: row.try_get("password_hash").db()?,
            legacy_password: row.try_get("legacy_password").db()?,
            verified: row.try_get("verified").db()?,
            disabled: row.try_get("disabled").db()?,
            created_at: row.try_get("created_at").db()?,
            privacy: privacy_from(row.try_get("privacy").db()?)?,
            add_alert: AddAlert::parse(&add_alert)
                .ok_or_else(|| corrupt(format!("bad add_alert {add_alert:?}")))?,
            list_version: row.try_get::<i64, _>("list_version").db()? as u64,
            properties: properties_from_row(row)?,
            personal_message: row.try_get("personal_message").db()?,
            groups: Vec::new(),
            contacts: Vec::new(),
            oims: Vec::new(),
        });
    }
    let owner = |id: i64| -> Result<usize> {
        index
            .get(&id)
            .copied()
            .ok_or_else(|| corrupt(format!("row of unknown account #{id}")))
    };

    let groups =
        sqlx::query("SELECT user_id, id, guid, name FROM contact_groups ORDER BY user_id, id")
            .fetch_all(&mut *tx)
            .await
            .db()?;
    for row in &groups {
        let id: i64 = row.try_get("id").db()?;
        accounts[owner(row.try_get("user_id").db()?)?]
            .groups
            .push(Group {
                id: GroupId::try_from(id).map_err(|_| corrupt("group id"))?,
                guid: parse_uuid(row.try_get("guid").db()?)?,
                name: row.try_get("name").db()?,
            });
    }

    let mut members: HashMap<(i64, String), Vec<GroupId>> = HashMap::new();
    let rows = sqlx::query(
        "SELECT user_id, handle, group_id FROM contact_group_members \
         ORDER BY user_id, handle, group_id",
    )
    .fetch_all(&mut *tx)
    .await
    .db()?;
    for row in &rows {
        let group: i64 = row.try_get("group_id").db()?;
        members
            .entry((row.try_get("user_id").db()?, row.try_get("handle").db()?))
            .or_default()
            .push(GroupId::try_from(group).map_err(|_| corrupt("group id"))?);
    }

    let contacts = sqlx::query(
        "SELECT user_id, handle, network, lists, name, guid FROM contacts ORDER BY user_id, handle",
    )
    .fetch_all(&mut *tx)
    .await
    .db()?;
    for row in &contacts {
        let user_id: i64 = row.try_get("user_id").db()?;
        let handle: String = row.try_get("handle").db()?;
        let network: i64 = row.try_get("network").db()?;
        let lists: i64 = row.try_get("lists").db()?;
        let guid: Option<String> = row.try_get("guid").db()?;
        let groups = members
            .remove(&(user_id, handle.clone()))
            .unwrap_or_default();
        accounts[owner(user_id)?].contacts.push(ContactDump {
            handle: parse_handle(&handle)?,
            network: u8::try_from(network)
                .ok()
                .and_then(NetworkId::from_code)
                .ok_or_else(|| corrupt(format!("bad network {network}")))?,
            lists: u8::try_from(lists).map_err(|_| corrupt(format!("bad lists {lists}")))?,
            name: row.try_get("name").db()?,
            guid: guid.as_deref().map(parse_uuid).transpose()?,
            groups,
        });
    }

    let oims = sqlx::query(&format!(
        "SELECT recipient_id, {OIM_COLUMNS}, body FROM oims ORDER BY seq"
    ))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    for row in &oims {
        let oim = oim_from_row(row)?;
        accounts[owner(row.try_get("recipient_id").db()?)?]
            .oims
            .push(oim);
    }
    Ok(accounts)
}

/// Writes `accounts` in one transaction, refusing them all if one handle
/// is taken.
pub(super) async fn import(
    tx: &mut PgConnection,
    accounts: &[AccountDump],
) -> Result<ImportCounts> {
    for a in accounts {
        let version = i64::try_from(a.list_version).map_err(|_| {
            StoreError::backend(format!("list version of {} out of range", a.handle))
        })?;
        let p = &a.properties;
        // A handle taken, also by a node creating it now, is refused.
        let user_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (handle, friendly_name, password_hash, legacy_password, verified, \
             disabled, created_at, privacy, add_alert, list_version, phone_home, phone_work, \
             phone_mobile, mobile_messages, mobile_device, personal_message) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (handle) DO NOTHING RETURNING id",
        )
        .bind(a.handle.as_str())
        .bind(&a.friendly_name)
        .bind(&a.password_hash)
        .bind(&a.legacy_password)
        .bind(a.verified)
        .bind(a.disabled)
        .bind(a.created_at)
        .bind(a.privacy.code())
        .bind(a.add_alert.code())
        .bind(version)
        .bind(&p.home_phone)
        .bind(&p.work_phone)
        .bind(&p.mobile_phone)
        .bind(p.mobile_messages)
        .bind(p.mobile_device)
        .bind(&a.personal_message)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(user_id) = user_id else {
            return Err(StoreError::AlreadyExists(a.handle.to_string()));
        };
        for g in &a.groups {
            sqlx::query(
                "INSERT INTO contact_groups (user_id, id, guid, name) VALUES ($1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(i64::from(g.id))
            .bind(g.guid.to_string())
            .bind(&g.name)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        for c in &a.contacts {
            sqlx::query(
                "INSERT INTO contacts (user_id, handle, lists, name, guid, network) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user_id)
            .bind(c.handle.as_str())
            .bind(i64::from(c.lists))
            .bind(&c.name)
            .bind(c.guid.map(|g| g.to_string()))
            .bind(i64::from(c.network.code()))
            .execute(&mut *tx)
            .await
            .db()?;
            for g in &c.groups {
                sqlx::query(
                    "INSERT INTO contact_group_members (user_id, handle, group_id) VALUES ($1, $2, $3)",
                )
                .bind(user_id)
                .bind(c.handle.as_str())
                .bind(i64::from(*g))
                .execute(&mut *tx)
                .await
                .db()?;
            }
        }
        for m in &a.oims {
            sqlx::query(
                "INSERT INTO oims (id, recipient_id, sender, sender_name, run_id, sequence_num, \
                 origin, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(oim_id(m.id))
            .bind(user_id)
            .bind(m.sender.as_str())
            .bind(&m.sender_name)
            .bind(oim_id(m.run_id))
            .bind(i64::from(m.sequence_num))
            .bind(&m.origin)
            .bind(m.received_at)
            .bind(&m.text)
            .execute(&mut *tx)
            .await
            .db()?;
        }
    }
    Ok(ImportCounts::of(accounts))
}
