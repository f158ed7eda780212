//! The embedded default store: one SQLite file in WAL mode. Writes go
//! through a single connection (SQLite serialises writers anyway) inside
//! `BEGIN IMMEDIATE` transactions; reads use a small read-only pool.

mod dump;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use msn_core::account::{
    Account, Change, ContactUpdate, GroupUpdate, Properties, Property, SettingUpdate, lists,
};
use msn_core::handle::Handle;
use msn_core::privacy;
// Circles (migration 0008) live in their own module.
mod circles;
use crate::{CircleCreated, CircleInvited};
use msn_core::circle::{Circle, CircleId, MemberState};
use msn_wire::vocab::AddAlert;
use serde_json::json;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::values::{
    Db, corrupt, fill_account, now_unix, oim_id, parse_handle, parse_uuid, privacy_from,
};
use crate::{
    AccountChange, AccountChangeKind, AccountDump, Committed, ImportCounts, Invite, NewOim,
    NewUser, OimAdded, Result, Store, StoreError, StoredOim, UserRecord, UserSummary,
};

/// How hard SQLite works to make a commit durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync on every commit: survives power loss. The default.
    #[default]
    Full,
    /// Survives a crash of the process (e.g. `kill -9`) but may lose the
    /// last commits on power loss; faster.
    Normal,
}

#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    /// Size of the read-only connection pool.
    pub read_connections: u32,
    /// Open an existing database for reading only: nothing is created,
    /// migrated or written (see [`SqliteStore::open`]).
    pub read_only: bool,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteOptions {
            path: path.into(),
            synchronous: Synchronous::Full,
            read_connections: 4,
            read_only: false,
        }
    }
}

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and applies migrations.
    ///
    /// With `read_only`, the file must exist and be migrated already; it is
    /// opened without asking for write access, so that an operator can read
    /// a database owned by the server's user (`msnd user list`). Writes
    /// through such a store fail.
    pub async fn open(options: &SqliteOptions) -> Result<SqliteStore> {
        if options.read_only {
            return Self::open_read_only(options).await;
        }
        let sync = match options.synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        };
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect.clone())
            .await
            .db()?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write)
            .await
            .db()?;
        decode_stored_names(&write).await?;
        // Small page caches: the operating system caches the file anyway, and
        // SQLite's default 2 MB per connection showed up as server memory.
        let read = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .connect_with(connect.read_only(true).pragma("cache_size", "-256"))
            .await
            .db()?;
        Ok(SqliteStore { read, write })
    }

    async fn open_read_only(options: &SqliteOptions) -> Result<SqliteStore> {
        if !options.path.is_file() {
            return Err(StoreError::backend(format!(
                "no database at {}",
                options.path.display()
            )));
        }
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .read_only(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-256");
        let pool = |connect: SqliteConnectOptions| {
            SqlitePoolOptions::new()
                .max_connections(options.read_connections.max(1))
                .connect_with(connect)
        };
        // A WAL database with no `-shm` file next to it, in a directory we
        // may not write (no server is running on it, or it would hold the
        // file), can only be read as immutable.
        let read = match pool(connect.clone()).await {
            Ok(pool) => pool,
            Err(_) => pool(connect.immutable(true)).await.db()?,
        };
        let migrator = sqlx::migrate!("./migrations/sqlite");
        let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&read)
                .await
                .db()?;
        if applied.unwrap_or(0) < latest {
            return Err(StoreError::backend(format!(
                "{} was made by an older msnd; start the server (or run a command \
                 that writes) once to upgrade it",
                options.path.display()
            )));
        }
        Ok(SqliteStore {
            write: read.clone(),
            read,
        })
    }

    /// Writes a consistent copy of the database, including what is still
    /// in its write-ahead log, to `dest` (`VACUUM INTO`), while the server
    /// may be running. `dest` must not exist.
    pub async fn backup_to(&self, dest: &std::path::Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::backend(format!(
                "{} already exists",
                dest.display()
            )));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::backend("the backup path is not valid UTF-8".to_owned()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.read)
            .await
            .db()?;
        Ok(())
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.db()
    }

    /// Sets an account's list version, bypassing the rules of
    /// [`Store::commit`] (versions only ever advance there). For
    /// administration and test fixtures only, which is why it is not part
    /// of [`Store`]: a server already running on the database keeps the
    /// version it loaded for an online user. False if no such account.
    pub async fn set_list_version(&self, handle: &str, version: u64) -> Result<bool> {
        let version = i64::try_from(version)
            .map_err(|_| StoreError::backend(format!("list version {version} out of range")))?;
        let done = sqlx::query("UPDATE users SET list_version = ? WHERE handle = ?")
            .bind(version)
            .bind(handle)
            .execute(&self.write)
            .await
            .db()?;
        Ok(done.rows_affected() == 1)
    }
}

/// Appends to the account change log inside the change's transaction.
async fn log_account_change(
    tx: &mut Transaction<'static, Sqlite>,
    handle: &str,
    kind: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO account_changes (handle, kind, at) VALUES (?, ?, ?)")
        .bind(handle)
        .bind(kind)
        .bind(now_unix())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

/// A new account and its group 0, in `tx`; [`StoreError::AlreadyExists`]
/// when the handle is taken.
async fn insert_user(tx: &mut Transaction<'static, Sqlite>, user: &NewUser) -> Result<i64> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = ?")
        .bind(user.handle.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    if exists.is_some() {
        return Err(StoreError::AlreadyExists(user.handle.to_string()));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (handle, friendly_name, password_hash, legacy_password, created_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user.handle.as_str())
    .bind(&user.friendly_name)
    .bind(&user.password_hash)
    .bind(&user.legacy_password)
    .bind(now_unix())
    .fetch_one(&mut **tx)
    .await
    .db()?;
    sqlx::query("INSERT INTO contact_groups (user_id, id, guid, name) VALUES (?, 0, ?, ?)")
        .bind(id)
        .bind(Uuid::new_v4().to_string())
        .bind(msn_core::account::DEFAULT_GROUP_NAME)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(id)
}

/// Migration 0005 (decoded names), its second half: friendly names stored URL-encoded (as
/// clients sent them, before names were kept as text) decoded once. Bytes
/// that were not UTF-8 become U+FFFD rather than failing the upgrade.
async fn decode_stored_names(write: &SqlitePool) -> Result<()> {
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pending_name_decoding'",
    )
    .fetch_optional(write)
    .await
    .db()?;
    if pending.is_none() {
        return Ok(());
    }
    let mut tx = write.begin().await.db()?;
    let users: Vec<(i64, String)> = sqlx::query_as("SELECT id, friendly_name FROM users")
        .fetch_all(&mut *tx)
        .await
        .db()?;
    for (id, name) in users {
        let text = msn_core::text::decode(&name);
        if text != name {
            sqlx::query("UPDATE users SET friendly_name = ? WHERE id = ?")
                .bind(text)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
        }
    }
    let entries: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT user_id, handle, name FROM contacts")
            .fetch_all(&mut *tx)
            .await
            .db()?;
    for (user_id, handle, name) in entries {
        let text = msn_core::text::decode(&name);
        if text != name {
            sqlx::query("UPDATE contacts SET name = ? WHERE user_id = ? AND handle = ?")
                .bind(text)
                .bind(user_id)
                .bind(handle)
                .execute(&mut *tx)
                .await
                .db()?;
        }
    }
    sqlx::query("DROP TABLE pending_name_decoding")
        .execute(&mut *tx)
        .await
        .db()?;
    commit(tx).await
}

/// Commits `tx`, recording how long it took in the
/// `msnd_store_commit_seconds` histogram (the write path's latency: WAL
/// append and, with `synchronous = full`, the fsync).
async fn commit(tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<()> {
    let started = std::time::Instant::now();
    let result = tx.commit().await.db();
    metrics::histogram!("msnd_store_commit_seconds").record(started.elapsed().as_secs_f64());
    result
}

fn oim_from_row(row: &SqliteRow) -> Result<StoredOim> {
    Ok(StoredOim {
        id: parse_uuid(row.try_get("id").db()?)?,
        sender: parse_handle(row.try_get("sender").db()?)?,
        sender_name: row.try_get("sender_name").db()?,
        run_id: parse_uuid(row.try_get("run_id").db()?)?,
        sequence_num: u32::try_from(row.try_get::<i64, _>("sequence_num").db()?)
            .map_err(|_| corrupt("bad OIM sequence number"))?,
        origin: row.try_get("origin").db()?,
        received_at: row.try_get("received_at").db()?,
        size: row.try_get::<i64, _>("size").db()? as usize,
        text: row.try_get("body").db()?,
    })
}

/// The statement that stores one property.
fn property_update(p: Property) -> &'static str {
    match p {
        Property::HomePhone => "UPDATE users SET phone_home = ? WHERE id = ?",
        Property::WorkPhone => "UPDATE users SET phone_work = ? WHERE id = ?",
        Property::MobilePhone => "UPDATE users SET phone_mobile = ? WHERE id = ?",
        Property::MobileMessages => "UPDATE users SET mobile_messages = ? WHERE id = ?",
        Property::MobileDevice => "UPDATE users SET mobile_device = ? WHERE id = ?",
    }
}

fn properties_from_row(row: &SqliteRow) -> Result<Properties> {
    Ok(Properties {
        home_phone: row.try_get("phone_home").db()?,
        work_phone: row.try_get("phone_work").db()?,
        mobile_phone: row.try_get("phone_mobile").db()?,
        mobile_messages: row.try_get::<i64, _>("mobile_messages").db()? != 0,
        mobile_device: row.try_get::<i64, _>("mobile_device").db()? != 0,
    })
}

fn user_from_row(row: &SqliteRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id").db()?,
        handle: parse_handle(row.try_get("handle").db()?)?,
        friendly_name: row.try_get("friendly_name").db()?,
        password_hash: row.try_get("password_hash").db()?,
        legacy_password: row.try_get("legacy_password").db()?,
        verified: row.try_get::<i64, _>("verified").db()? != 0,
        disabled: row.try_get::<i64, _>("disabled").db()? != 0,
    })
}

/// Sets or clears `owner`'s place on `target`'s reverse list; returns the
/// target's new list version when something changed.
async fn write_reverse(
    tx: &mut Transaction<'static, Sqlite>,
    owner_id: i64,
    target: &Handle,
    owner_name: &str,
    added: bool,
) -> Result<Option<u64>> {
    let Some(target_id): Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = ?")
        .bind(target.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?
    else {
        return Ok(None); // the account vanished meanwhile: nothing to mirror
    };
    let owner: String = sqlx::query_scalar("SELECT handle FROM users WHERE id = ?")
        .bind(owner_id)
        .fetch_one(&mut **tx)
        .await
        .db()?;
    let before: Option<i64> =
        sqlx::query_scalar("SELECT lists FROM contacts WHERE user_id = ? AND handle = ?")
            .bind(target_id)
            .bind(&owner)
            .fetch_optional(&mut **tx)
            .await
            .db()?;
    let bits = before.unwrap_or(0) as u8;
    let after = if added {
        let pending = if bits & (lists::AL | lists::BL) == 0 {
            lists::PL
        } else {
            0
        };
        bits | lists::RL | pending
    } else {
        bits & !(lists::RL | lists::PL)
    };
    if before.is_some() && after == bits || before.is_none() && !added {
        return Ok(None);
    }
    if after == 0 {
        // An address-book contact stays, on no list.
        sqlx::query("DELETE FROM contacts WHERE user_id = ? AND handle = ? AND guid IS NULL")
            .bind(target_id)
            .bind(&owner)
            .execute(&mut **tx)
            .await
            .db()?;
        sqlx::query("UPDATE contacts SET lists = 0 WHERE user_id = ? AND handle = ?")
            .bind(target_id)
            .bind(&owner)
            .execute(&mut **tx)
            .await
            .db()?;
    } else {
        sqlx::query(
            "INSERT INTO contacts (user_id, handle, lists, name) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(user_id, handle) DO UPDATE SET lists = ?3",
        )
        .bind(target_id)
        .bind(&owner)
        .bind(i64::from(after))
        .bind(owner_name)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    let version: i64 = sqlx::query_scalar(
        "UPDATE users SET list_version = list_version + 1 WHERE id = ? RETURNING list_version",
    )
    .bind(target_id)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    Ok(Some(version as u64))
}

/// Puts the FL entries that are in no group into group 0 ("Other
/// Contacts"): one entry (`handle`), or every entry of the account.
async fn default_group_for_ungrouped(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: i64,
    handle: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO contact_group_members (user_id, handle, group_id) \
         SELECT c.user_id, c.handle, 0 FROM contacts c \
         WHERE c.user_id = ?1 AND (?2 IS NULL OR c.handle = ?2) AND c.lists & 1 \
           AND NOT EXISTS (SELECT 1 FROM contact_group_members m \
                           WHERE m.user_id = c.user_id AND m.handle = c.handle)",
    )
    .bind(user_id)
    .bind(handle)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// Applies one [`ContactUpdate`] inside the change's transaction, in the
/// order it documents: bits, name, network and contact id; then group
/// deltas; then the rules (an FL entry is in some group, group 0 if no
/// other; an entry off the FL is in none; an entry on no list goes unless
/// it is an address-book contact).
async fn write_contact(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: i64,
    u: &ContactUpdate,
) -> Result<()> {
    let handle = u.handle.as_str();
    let guid_value: Option<String> = u.guid.flatten().map(|g| g.to_string());
    sqlx::query(
        "INSERT INTO contacts (user_id, handle, lists, name, guid, network) \
         VALUES (?1, ?2, ?3, COALESCE(?4, ?2), ?5, COALESCE(?6, 1)) \
         ON CONFLICT(user_id, handle) DO UPDATE SET \
           lists = (lists | ?7) & ~?8, \
           name = COALESCE(?4, name), \
           network = COALESCE(?6, network), \
           guid = CASE WHEN NOT ?9 THEN guid WHEN ?5 IS NULL THEN NULL \
                  ELSE COALESCE(guid, ?5) END",
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
    .execute(&mut **tx)
    .await
    .db()?;
    if u.clear_groups {
        sqlx::query("DELETE FROM contact_group_members WHERE user_id = ? AND handle = ?")
            .bind(user_id)
            .bind(handle)
            .execute(&mut **tx)
            .await
            .db()?;
    }
    for g in &u.remove_groups {
        sqlx::query(
            "DELETE FROM contact_group_members WHERE user_id = ? AND handle = ? AND group_id = ?",
        )
        .bind(user_id)
        .bind(handle)
        .bind(i64::from(*g))
        .execute(&mut **tx)
        .await
        .db()?;
    }
    for g in &u.add_groups {
        // A group deleted meanwhile is not joined.
        sqlx::query(
            "INSERT OR IGNORE INTO contact_group_members (user_id, handle, group_id) \
             SELECT ?1, ?2, ?3 WHERE EXISTS \
               (SELECT 1 FROM contact_groups WHERE user_id = ?1 AND id = ?3)",
        )
        .bind(user_id)
        .bind(handle)
        .bind(i64::from(*g))
        .execute(&mut **tx)
        .await
        .db()?;
    }
    let lists: i64 =
        sqlx::query_scalar("SELECT lists FROM contacts WHERE user_id = ? AND handle = ?")
            .bind(user_id)
            .bind(handle)
            .fetch_one(&mut **tx)
            .await
            .db()?;
    if lists & i64::from(lists::FL) == 0 {
        sqlx::query("DELETE FROM contact_group_members WHERE user_id = ? AND handle = ?")
            .bind(user_id)
            .bind(handle)
            .execute(&mut **tx)
            .await
            .db()?;
    } else {
        default_group_for_ungrouped(tx, user_id, Some(handle)).await?;
    }
    if lists == 0 {
        sqlx::query("DELETE FROM contacts WHERE user_id = ? AND handle = ? AND guid IS NULL")
            .bind(user_id)
            .bind(handle)
            .execute(&mut **tx)
            .await
            .db()?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, &user).await?;
        commit(tx).await?;
        Ok(id)
    }

    async fn user(&self, handle: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT id, handle, friendly_name, password_hash, legacy_password, verified, \
             disabled FROM users WHERE handle = ?",
        )
        .bind(handle)
        .fetch_optional(&self.read)
        .await
        .db()?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_exists(&self, handle: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE handle = ?")
            .bind(handle)
            .fetch_optional(&self.read)
            .await
            .db()?;
        Ok(found.is_some())
    }

    async fn list_users(&self) -> Result<Vec<UserSummary>> {
        let rows = sqlx::query(
            "SELECT u.handle, u.friendly_name, u.legacy_password IS NOT NULL AS legacy, u.created_at, \
             u.disabled, \
             (SELECT COUNT(*) FROM contacts c WHERE c.user_id = u.id AND c.lists & 1) AS contacts \
             FROM users u ORDER BY u.handle",
        )
        .fetch_all(&self.read)
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(UserSummary {
                    handle: parse_handle(r.try_get("handle").db()?)?,
                    friendly_name: r.try_get("friendly_name").db()?,
                    legacy_md5: r.try_get::<i64, _>("legacy").db()? != 0,
                    disabled: r.try_get::<i64, _>("disabled").db()? != 0,
                    contacts: r.try_get::<i64, _>("contacts").db()? as u64,
                    created_at: r.try_get("created_at").db()?,
                })
            })
            .collect()
    }

    async fn set_password(
        &self,
        handle: &str,
        password_hash: String,
        legacy_password: Option<String>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = ?, legacy_password = ? WHERE handle = ?")
                .bind(password_hash)
                .bind(legacy_password)
                .bind(handle)
                .execute(&mut *tx)
                .await
                .db()?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        log_account_change(&mut tx, handle, "credentials").await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn set_disabled(&self, handle: &str, disabled: bool) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE users SET disabled = ? WHERE handle = ?")
            .bind(i64::from(disabled))
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if disabled {
            log_account_change(&mut tx, handle, "disabled").await?;
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn delete_user(&self, handle: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        circles::delete_administered(&mut tx, handle).await?;
        let deleted = sqlx::query("DELETE FROM users WHERE handle = ?")
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        let reverse = i64::from(lists::RL | lists::PL);
        sqlx::query(
            "UPDATE users SET list_version = list_version + 1 WHERE id IN \
             (SELECT user_id FROM contacts WHERE handle = ? AND lists & ? != 0)",
        )
        .bind(handle)
        .bind(reverse)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("UPDATE contacts SET lists = lists & ~? WHERE handle = ?")
            .bind(reverse)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("DELETE FROM contacts WHERE handle = ? AND lists = 0 AND guid IS NULL")
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
        log_account_change(&mut tx, handle, "deleted").await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn load_account(&self, user_id: i64) -> Result<Account> {
        // One statement, so one snapshot (a single SELECT reads one
        // committed state) and one round trip to the database thread: the
        // groups and the contacts (each with its group ids) come along as
        // JSON arrays. Sign-in time is mostly this load. An entry for an
        // account carries that account's name now, not the one stored
        // with the entry when it was added.
        let row = sqlx::query(
            "SELECT u.handle, u.friendly_name, u.privacy, u.add_alert, u.list_version, \
             u.phone_home, u.phone_work, u.phone_mobile, u.mobile_messages, u.mobile_device, \
             u.personal_message, \
             (SELECT json_group_array(json_array(g.id, g.guid, g.name)) \
                FROM contact_groups g WHERE g.user_id = u.id) AS groups_json, \
             (SELECT json_group_array(json_array(c.handle, c.network, c.lists, \
                  COALESCE((SELECT n.friendly_name FROM users n WHERE n.handle = c.handle), c.name), \
                  c.guid, \
                  json((SELECT json_group_array(m.group_id) FROM contact_group_members m \
                    WHERE m.user_id = c.user_id AND m.handle = c.handle)))) \
                FROM contacts c WHERE c.user_id = u.id) AS contacts_json \
             FROM users u WHERE u.id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.read)
        .await
        .db()?
        .ok_or_else(|| StoreError::NoSuchUser(format!("#{user_id}")))?;
        let add_alert: String = row.try_get("add_alert").db()?;
        let mut account = Account {
            user_id,
            handle: parse_handle(row.try_get("handle").db()?)?.interned(),
            friendly_name: row.try_get("friendly_name").db()?,
            privacy: privacy_from(row.try_get("privacy").db()?)?,
            add_alert: AddAlert::parse(&add_alert)
                .ok_or_else(|| corrupt(format!("bad add_alert {add_alert:?}")))?,
            list_version: row.try_get::<i64, _>("list_version").db()? as u64,
            properties: properties_from_row(&row)?,
            personal_message: row.try_get("personal_message").db()?,
            groups: Vec::new(),
            contacts: Vec::new(),
        };
        let groups: String = row.try_get("groups_json").db()?;
        let contacts: String = row.try_get("contacts_json").db()?;
        fill_account(&mut account, &groups, &contacts)?;
        Ok(account)
    }

    async fn commit(&self, user_id: i64, change: &Change) -> Result<Committed> {
        let mut tx = self.begin().await?;
        // New and renamed groups first, so that contacts can join them in
        // the same change; deletions last, so that they win over joins.
        for g in &change.groups {
            match g {
                GroupUpdate::Upsert(group) => {
                    sqlx::query(
                        "INSERT INTO contact_groups (user_id, id, guid, name) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT(user_id, id) DO UPDATE SET guid = ?3, name = ?4",
                    )
                    .bind(user_id)
                    .bind(i64::from(group.id))
                    .bind(group.guid.to_string())
                    .bind(&group.name)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                }
                GroupUpdate::Delete(_) => {}
            }
        }
        for u in &change.contacts {
            write_contact(&mut tx, user_id, u).await?;
        }
        for g in &change.groups {
            match g {
                GroupUpdate::Upsert(_) => {}
                GroupUpdate::Delete(id) => {
                    sqlx::query(
                        "DELETE FROM contact_group_members WHERE user_id = ? AND group_id = ?",
                    )
                    .bind(user_id)
                    .bind(i64::from(*id))
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    sqlx::query("DELETE FROM contact_groups WHERE user_id = ? AND id = ?")
                        .bind(user_id)
                        .bind(i64::from(*id))
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    // Whoever was only in that group is now in group 0,
                    // including members added by a concurrent change.
                    default_group_for_ungrouped(&mut tx, user_id, None).await?;
                }
            }
        }
        for s in &change.settings {
            let query = match s {
                SettingUpdate::Privacy(p) => {
                    sqlx::query("UPDATE users SET privacy = ? WHERE id = ?").bind(p.code())
                }
                SettingUpdate::AddAlert(a) => {
                    sqlx::query("UPDATE users SET add_alert = ? WHERE id = ?").bind(a.code())
                }
                SettingUpdate::FriendlyName(n) => {
                    sqlx::query("UPDATE users SET friendly_name = ? WHERE id = ?").bind(n.clone())
                }
                SettingUpdate::PersonalMessage(m) => {
                    sqlx::query("UPDATE users SET personal_message = ? WHERE id = ?")
                        .bind(m.clone())
                }
                SettingUpdate::Property(p, v) => {
                    let q = sqlx::query(property_update(*p));
                    match p {
                        Property::MobileMessages | Property::MobileDevice => {
                            q.bind(i64::from(v.as_deref() == Some("Y")))
                        }
                        _ => q.bind(v.clone()),
                    }
                }
            };
            query.bind(user_id).execute(&mut *tx).await.db()?;
        }
        let version: i64 = if change.bump_version {
            sqlx::query_scalar(
                "UPDATE users SET list_version = list_version + 1 WHERE id = ? RETURNING list_version",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await
            .db()?
        } else {
            sqlx::query_scalar("SELECT list_version FROM users WHERE id = ?")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await
                .db()?
        };
        let reverse_version = match &change.reverse {
            Some(r) => write_reverse(&mut tx, user_id, &r.target, &r.owner_name, r.added).await?,
            None => None,
        };
        commit(tx).await?;
        Ok(Committed {
            version: version as u64,
            reverse_version,
        })
    }

    async fn bump_versions(&self, handles: &[Handle]) -> Result<Vec<(Handle, u64)>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            let v: Option<i64> = sqlx::query_scalar(
                "UPDATE users SET list_version = list_version + 1 WHERE handle = ? RETURNING list_version",
            )
            .bind(h.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            if let Some(v) = v {
                out.push((h.clone(), v as u64));
            }
        }
        commit(tx).await?;
        Ok(out)
    }

    async fn published_properties(
        &self,
        viewer: &Handle,
        handles: &[Handle],
    ) -> Result<Vec<(Handle, Properties)>> {
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let list = json!(handles.iter().map(Handle::as_str).collect::<Vec<_>>()).to_string();
        let rows = sqlx::query(
            "SELECT u.handle, u.privacy, u.phone_home, u.phone_work, u.phone_mobile, \
             u.mobile_messages, u.mobile_device, \
             COALESCE((SELECT c.lists FROM contacts c WHERE c.user_id = u.id AND c.handle = ?1), 0) AS bits \
             FROM users u WHERE u.handle IN (SELECT value FROM json_each(?2))",
        )
        .bind(viewer.as_str())
        .bind(list)
        .fetch_all(&self.read)
        .await
        .db()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let bits = r.try_get::<i64, _>("bits").db()? as u8;
            if privacy::admits(privacy_from(r.try_get("privacy").db()?)?, bits) {
                out.push((
                    parse_handle(r.try_get("handle").db()?)?,
                    properties_from_row(r)?,
                ));
            }
        }
        Ok(out)
    }

    async fn account_changes(&self, after: Option<u64>) -> Result<(u64, Vec<AccountChange>)> {
        let Some(after) = after else {
            let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM account_changes")
                .fetch_one(&self.read)
                .await
                .db()?;
            return Ok((last as u64, Vec::new()));
        };
        let rows = sqlx::query(
            "SELECT seq, handle, kind FROM account_changes WHERE seq > ? ORDER BY seq LIMIT 1000",
        )
        .bind(after as i64)
        .fetch_all(&self.read)
        .await
        .db()?;
        let mut cursor = after;
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            cursor = row.get::<i64, _>("seq") as u64;
            let kind = match row.get::<&str, _>("kind") {
                "deleted" => AccountChangeKind::Deleted,
                "disabled" => AccountChangeKind::Disabled,
                _ => AccountChangeKind::Credentials,
            };
            changes.push(AccountChange {
                handle: parse_handle(row.get("handle"))?,
                kind,
            });
        }
        Ok((cursor, changes))
    }

    async fn create_circle(
        &self,
        id: CircleId,
        name: &str,
        creator_id: i64,
        max_circles: usize,
    ) -> Result<CircleCreated> {
        self.create_circle_impl(id, name, creator_id, max_circles)
            .await
    }

    async fn circle(&self, id: CircleId) -> Result<Option<Circle>> {
        self.circle_impl(id).await
    }

    async fn circles_of(&self, user_id: i64) -> Result<Vec<Circle>> {
        self.circles_of_impl(user_id).await
    }

    async fn invite_to_circle(
        &self,
        id: CircleId,
        user_id: i64,
        inviter_id: i64,
        max_members: usize,
        max_circles: usize,
    ) -> Result<CircleInvited> {
        self.invite_to_circle_impl(id, user_id, inviter_id, max_members, max_circles)
            .await
    }

    async fn set_circle_member_state(
        &self,
        id: CircleId,
        user_id: i64,
        state: MemberState,
    ) -> Result<bool> {
        self.set_circle_member_state_impl(id, user_id, state).await
    }

    async fn remove_circle_member(&self, id: CircleId, user_id: i64) -> Result<bool> {
        self.remove_circle_member_impl(id, user_id).await
    }

    async fn delete_circle(&self, id: CircleId) -> Result<bool> {
        self.delete_circle_impl(id).await
    }

    async fn add_oim(&self, oim: NewOim, max_waiting: usize) -> Result<OimAdded> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ?")
            .bind(oim.recipient_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_none() {
            return Err(StoreError::NoSuchUser(format!("#{}", oim.recipient_id)));
        }
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oims WHERE recipient_id = ?")
            .bind(oim.recipient_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        let waiting = usize::try_from(waiting).unwrap_or(usize::MAX);
        if waiting >= max_waiting {
            return Ok(OimAdded::RecipientFull);
        }
        sqlx::query(
            "INSERT INTO oims (id, recipient_id, sender, sender_name, run_id, sequence_num, \
             origin, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(oim_id(oim.id))
        .bind(oim.recipient_id)
        .bind(oim.sender.as_str())
        .bind(&oim.sender_name)
        .bind(oim_id(oim.run_id))
        .bind(i64::from(oim.sequence_num))
        .bind(&oim.origin)
        .bind(oim.received_at)
        .bind(&oim.text)
        .execute(&mut *tx)
        .await
        .db()?;
        commit(tx).await?;
        Ok(OimAdded::Stored {
            waiting: waiting + 1,
        })
    }

    async fn oims(&self, recipient_id: i64) -> Result<Vec<StoredOim>> {
        let rows = sqlx::query(
            "SELECT id, sender, sender_name, run_id, sequence_num, origin, received_at, \
             length(CAST(body AS BLOB)) AS size, '' AS body \
             FROM oims WHERE recipient_id = ? ORDER BY seq",
        )
        .bind(recipient_id)
        .fetch_all(&self.read)
        .await
        .db()?;
        rows.iter().map(oim_from_row).collect()
    }

    async fn oim(&self, recipient_id: i64, id: Uuid) -> Result<Option<StoredOim>> {
        let row = sqlx::query(
            "SELECT id, sender, sender_name, run_id, sequence_num, origin, received_at, \
             length(CAST(body AS BLOB)) AS size, body \
             FROM oims WHERE recipient_id = ? AND id = ?",
        )
        .bind(recipient_id)
        .bind(oim_id(id))
        .fetch_optional(&self.read)
        .await
        .db()?;
        row.as_ref().map(oim_from_row).transpose()
    }

    async fn delete_oims(&self, recipient_id: i64, ids: &[Uuid]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let list = json!(ids.iter().map(|id| oim_id(*id)).collect::<Vec<_>>()).to_string();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM oims WHERE recipient_id = ? AND id IN (SELECT value FROM json_each(?))",
        )
        .bind(recipient_id)
        .bind(list)
        .execute(&mut *tx)
        .await
        .db()?;
        commit(tx).await?;
        Ok(done.rows_affected() as usize)
    }

    async fn export_accounts(&self) -> Result<Vec<AccountDump>> {
        dump::export(&self.read).await
    }

    async fn import_accounts(&self, accounts: &[AccountDump]) -> Result<ImportCounts> {
        dump::import(self.begin().await?, accounts).await
    }

    async fn replace_password_hash(&self, handle: &str, current: &str, new: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = ? WHERE handle = ? AND password_hash = ?",
        )
        .bind(new)
        .bind(handle)
        .bind(current)
        .execute(&self.write)
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }

    /// Readers close first, so that the writer is the last connection: it
    /// checkpoints the WAL and removes it, leaving one self-contained file.
    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn add_invites(&self, codes: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        let now = now_unix();
        for code in codes {
            let added = sqlx::query(
                "INSERT INTO invites (code, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(code)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            if added.rows_affected() == 0 {
                return Err(StoreError::AlreadyExists(format!("invitation code {code}")));
            }
        }
        commit(tx).await
    }

    async fn invites(&self) -> Result<Vec<Invite>> {
        let rows = sqlx::query(
            "SELECT code, created_at, used_by, used_at FROM invites ORDER BY created_at, code",
        )
        .fetch_all(&self.read)
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(Invite {
                    code: r.try_get("code").db()?,
                    created_at: r.try_get("created_at").db()?,
                    used_by: r.try_get("used_by").db()?,
                    used_at: r.try_get("used_at").db()?,
                })
            })
            .collect()
    }

    async fn create_user_with_invite(&self, user: NewUser, code: &str) -> Result<i64> {
        let mut tx = self.begin().await?;
        let spent = sqlx::query(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        )
        .bind(user.handle.as_str())
        .bind(now_unix())
        .bind(code)
        .execute(&mut *tx)
        .await
        .db()?;
        if spent.rows_affected() != 1 {
            return Err(StoreError::InviteNotValid);
        }
        let id = insert_user(&mut tx, &user).await?;
        commit(tx).await?;
        Ok(id)
    }
}
