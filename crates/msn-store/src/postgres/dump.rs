//! [`Store::export_accounts`](crate::Store::export_accounts) and
//! [`Store::import_accounts`](crate::Store::import_accounts) on PostgreSQL:
//! every table read inside the caller's `REPEATABLE READ` transaction (one
//! snapshot), and every row written inside one transaction.

use std::collections::HashMap;

use msn_core::account::{Group, GroupId};
use msn_core::circle::{CircleId, CircleRole};
use msn_core::network::NetworkId;
use msn_wire::vocab::AddAlert;
use sqlx::{PgConnection, Row};

use super::{OIM_COLUMNS, oim_from_row, properties_from_row};
use crate::values::{
    Db, circle_role, corrupt, member_state, oim_id, parse_handle, parse_uuid, privacy_from,
};
use crate::{
    AccountDump, CircleDump, CircleMemberDump, ContactDump, ImportCounts, Result, StoreError,
};

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
            circles: Vec::new(),
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

    // Each circle goes with its admin's account (`AccountDump::circles`).
    let circles = sqlx::query(
        "SELECT c.id, c.name, c.created_at, m.user_id AS admin FROM circles c \
         JOIN circle_members m ON m.circle_id = c.id AND m.role = $1 ORDER BY c.id",
    )
    .bind(i64::from(CircleRole::Admin.code()))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut circle_index: HashMap<String, (usize, usize)> = HashMap::new();
    for row in &circles {
        let id: String = row.try_get("id").db()?;
        let admin = owner(row.try_get("admin").db()?)?;
        let circle = CircleDump {
            id: CircleId::parse(&id).ok_or_else(|| corrupt(format!("bad circle id {id:?}")))?,
            name: row.try_get("name").db()?,
            created_at: row.try_get("created_at").db()?,
            members: Vec::new(),
        };
        circle_index.insert(id, (admin, accounts[admin].circles.len()));
        accounts[admin].circles.push(circle);
    }
    let members = sqlx::query(
        "SELECT m.circle_id, u.handle, m.role, m.state, i.handle AS inviter \
         FROM circle_members m JOIN users u ON u.id = m.user_id \
         LEFT JOIN users i ON i.id = m.inviter_id ORDER BY m.circle_id, m.seq",
    )
    .fetch_all(&mut *tx)
    .await
    .db()?;
    for row in &members {
        let circle: String = row.try_get("circle_id").db()?;
        let &(admin, at) = circle_index
            .get(&circle)
            .ok_or_else(|| corrupt(format!("circle {circle} has no admin")))?;
        let inviter: Option<String> = row.try_get("inviter").db()?;
        accounts[admin].circles[at].members.push(CircleMemberDump {
            handle: parse_handle(row.try_get("handle").db()?)?,
            role: circle_role(row.try_get("role").db()?)?,
            state: member_state(row.try_get("state").db()?)?,
            inviter: inviter.as_deref().map(parse_handle).transpose()?,
        });
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
    // After every account: members may be accounts later in the file (or
    // already in the database).
    for circle in accounts.iter().flat_map(|a| &a.circles) {
        import_circle(tx, circle).await?;
    }
    Ok(ImportCounts::of(accounts))
}

async fn import_circle(tx: &mut PgConnection, circle: &CircleDump) -> Result<()> {
    let id = circle.id.to_string();
    let inserted = sqlx::query(
        "INSERT INTO circles (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&circle.name)
    .bind(circle.created_at)
    .execute(&mut *tx)
    .await
    .db()?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::AlreadyExists(circle.id.handle()));
    }
    for (seq, m) in (1i64..).zip(&circle.members) {
        let user_id = user_id_of(tx, m.handle.as_str()).await?.ok_or_else(|| {
            StoreError::backend(format!("circle member {} is not an account", m.handle))
        })?;
        // An inviter whose account is not here is forgotten, as when it
        // is deleted.
        let inviter_id = match &m.inviter {
            Some(h) => user_id_of(tx, h.as_str()).await?,
            None => None,
        };
        sqlx::query(
            "INSERT INTO circle_members (circle_id, user_id, role, state, inviter_id, seq) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(i64::from(m.role.code()))
        .bind(i64::from(m.state.code()))
        .bind(inviter_id)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    Ok(())
}

async fn user_id_of(tx: &mut PgConnection, handle: &str) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
        .bind(handle)
        .fetch_optional(&mut *tx)
        .await
        .db()
}
