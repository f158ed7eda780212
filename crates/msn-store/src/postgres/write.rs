//! The writes a change is made of, inside its transaction: one list
//! entry, the other user's reverse-list bits, a new account, the change
//! log. Callers hold the lock of the owner's `users` row (and the other
//! user's, for the reverse list); the statements are deltas all the same.

use msn_core::account::{ContactUpdate, lists};
use msn_core::handle::Handle;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::values::{Db, now_unix};
use crate::{NewUser, Result, StoreError};

/// The advisory lock the change log's writers take (any fixed number; this
/// one spells "msnd").
const CHANGE_LOG_LOCK: i64 = 0x6d73_6e64;

/// Appends to the account change log. Writers queue on an advisory lock
/// held until their commit, so rows become visible in `seq` order: a node
/// reading the log never sees a number before the smaller ones that are
/// still to commit.
pub(super) async fn log_account_change(
    tx: &mut PgConnection,
    handle: &str,
    kind: &str,
) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHANGE_LOG_LOCK)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query("INSERT INTO account_changes (handle, kind, at) VALUES ($1, $2, $3)")
        .bind(handle)
        .bind(kind)
        .bind(now_unix())
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(())
}

/// A new account and its group 0; [`StoreError::AlreadyExists`] when the
/// handle is taken, also by a node creating it at the same moment.
pub(super) async fn insert_user(tx: &mut PgConnection, user: &NewUser) -> Result<i64> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO users (handle, friendly_name, password_hash, legacy_password, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (handle) DO NOTHING RETURNING id",
    )
    .bind(user.handle.as_str())
    .bind(&user.friendly_name)
    .bind(&user.password_hash)
    .bind(&user.legacy_password)
    .bind(now_unix())
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let Some(id) = id else {
        return Err(StoreError::AlreadyExists(user.handle.to_string()));
    };
    sqlx::query("INSERT INTO contact_groups (user_id, id, guid, name) VALUES ($1, 0, $2, $3)")
        .bind(id)
        .bind(Uuid::new_v4().to_string())
        .bind(msn_core::account::DEFAULT_GROUP_NAME)
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(id)
}

/// Sets or clears `owner_id`'s place on `target`'s reverse list (RL, and
/// PL when the target has not decided about the owner yet); returns the
/// target's new list version when something changed.
pub(super) async fn reverse(
    tx: &mut PgConnection,
    owner_id: i64,
    target: &Handle,
    owner_name: &str,
    added: bool,
) -> Result<Option<u64>> {
    let Some(target_id): Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
        .bind(target.as_str())
        .fetch_optional(&mut *tx)
        .await
        .db()?
    else {
        return Ok(None); // the account vanished meanwhile: nothing to mirror
    };
    let owner: String = sqlx::query_scalar("SELECT handle FROM users WHERE id = $1")
        .bind(owner_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    // Read only to know whether the version moves; the target's row lock
    // (taken by the caller) keeps it current until the delta below.
    let before: Option<i64> =
        sqlx::query_scalar("SELECT lists FROM contacts WHERE user_id = $1 AND handle = $2")
            .bind(target_id)
            .bind(&owner)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
    let bits = before.unwrap_or(0) as u8;
    let reverse = lists::RL | lists::PL;
    let changes = if added {
        before.is_none()
            || bits & lists::RL == 0
            || bits & (lists::AL | lists::BL) == 0 && bits & lists::PL == 0
    } else {
        before.is_some() && bits & reverse != 0
    };
    if !changes {
        return Ok(None);
    }
    if added {
        // RL, and PL unless the target has the owner on AL or BL.
        sqlx::query(
            "INSERT INTO contacts (user_id, handle, lists, name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, handle) DO UPDATE SET lists = contacts.lists | $5 | \
               CASE WHEN contacts.lists & $6 = 0 THEN $7 ELSE 0 END",
        )
        .bind(target_id)
        .bind(&owner)
        .bind(i64::from(reverse))
        .bind(owner_name)
        .bind(i64::from(lists::RL))
        .bind(i64::from(lists::AL | lists::BL))
        .bind(i64::from(lists::PL))
        .execute(&mut *tx)
        .await
        .db()?;
    } else {
        sqlx::query(
            "UPDATE contacts SET lists = lists & ~($3::BIGINT) WHERE user_id = $1 AND handle = $2",
        )
        .bind(target_id)
        .bind(&owner)
        .bind(i64::from(reverse))
        .execute(&mut *tx)
        .await
        .db()?;
        // An address-book contact stays, on no list.
        sqlx::query(
            "DELETE FROM contacts WHERE user_id = $1 AND handle = $2 AND lists = 0 \
             AND guid IS NULL",
        )
        .bind(target_id)
        .bind(&owner)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    let version: i64 = sqlx::query_scalar(
        "UPDATE users SET list_version = list_version + 1 WHERE id = $1 RETURNING list_version",
    )
    .bind(target_id)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    Ok(Some(version as u64))
}

/// Puts the FL entries that are in no group into group 0 ("Other
/// Contacts"): one entry (`handle`), or every entry of the account.
pub(super) async fn default_group_for_ungrouped(
    tx: &mut PgConnection,
    user_id: i64,
    handle: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO contact_group_members (user_id, handle, group_id) \
         SELECT c.user_id, c.handle, 0 FROM contacts c \
         WHERE c.user_id = $1 AND ($2::TEXT IS NULL OR c.handle = $2) AND c.lists & 1 <> 0 \
           AND NOT EXISTS (SELECT 1 FROM contact_group_members m \
                           WHERE m.user_id = c.user_id AND m.handle = c.handle) \
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(handle)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

/// Applies one [`ContactUpdate`] in the order it documents: bits (set and
/// clear deltas), name, network and contact id; then group deltas; then
/// the rules (an FL entry is in some group, group 0 if no other; an entry
/// off the FL is in none; an entry on no list goes unless it is an
/// address-book contact).
pub(super) async fn contact(tx: &mut PgConnection, user_id: i64, u: &ContactUpdate) -> Result<()> {
    let handle = u.handle.as_str();
    let guid_value: Option<String> = u.guid.flatten().map(|g| g.to_string());
    let lists: i64 = sqlx::query_scalar(
        "INSERT INTO contacts (user_id, handle, lists, name, guid, network) \
         VALUES ($1, $2, $3, COALESCE($4, $2), $5, COALESCE($6, 1)) \
         ON CONFLICT (user_id, handle) DO UPDATE SET \
           lists = (contacts.lists | $7) & ~($8::BIGINT), \
           name = COALESCE($4, contacts.name), \
           network = COALESCE($6, contacts.network), \
           guid = CASE WHEN NOT $9 THEN contacts.guid WHEN $5::TEXT IS NULL THEN NULL \
                  ELSE COALESCE(contacts.guid, $5) END \
         RETURNING lists",
    )
    .bind(user_id)
    .bind(handle)
    .bind(i64::from(u.set & !u.clear))
    .bind(u.name.as_deref())
    .bind(guid_value)
    .bind(u.network.map(|n| i64::from(n.code())))
    .bind(i64::from(u.set))
    .bind(i64::from(u.clear))
    .bind(u.guid.is_some())
    .fetch_one(&mut *tx)
    .await
    .db()?;
    if u.clear_groups {
        sqlx::query("DELETE FROM contact_group_members WHERE user_id = $1 AND handle = $2")
            .bind(user_id)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    for g in &u.remove_groups {
        sqlx::query(
            "DELETE FROM contact_group_members \
             WHERE user_id = $1 AND handle = $2 AND group_id = $3",
        )
        .bind(user_id)
        .bind(handle)
        .bind(i64::from(*g))
        .execute(&mut *tx)
        .await
        .db()?;
    }
    for g in &u.add_groups {
        // A group deleted meanwhile is not joined.
        sqlx::query(
            "INSERT INTO contact_group_members (user_id, handle, group_id) \
             SELECT $1, $2, $3 WHERE EXISTS \
               (SELECT 1 FROM contact_groups WHERE user_id = $1 AND id = $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(handle)
        .bind(i64::from(*g))
        .execute(&mut *tx)
        .await
        .db()?;
    }
    if lists & i64::from(lists::FL) == 0 {
        sqlx::query("DELETE FROM contact_group_members WHERE user_id = $1 AND handle = $2")
            .bind(user_id)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
    } else {
        default_group_for_ungrouped(tx, user_id, Some(handle)).await?;
    }
    if lists == 0 {
        sqlx::query("DELETE FROM contacts WHERE user_id = $1 AND handle = $2 AND guid IS NULL")
            .bind(user_id)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    Ok(())
}
