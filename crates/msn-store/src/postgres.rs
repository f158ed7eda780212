//! The PostgreSQL store, for several msnd nodes sharing one database.
//!
//! Correct under concurrency from several nodes without a single writer:
//!
//! - every transaction that changes an account's lists first locks the
//!   `users` rows it will touch (`SELECT … ORDER BY id FOR UPDATE`, always
//!   in id order, so two nodes do not deadlock on an owner and a contact
//!   editing each other), which serialises edits of one account across
//!   nodes and keeps list versions strictly increasing;
//! - list bits, the other user's reverse-list bits included, and group
//!   memberships change by set/clear deltas in SQL (`lists | x`,
//!   `lists & ~x`, row inserts and deletes), never by writing back a value
//!   read earlier;
//! - [`Store::load_account`] is one statement (one snapshot), the export
//!   one `REPEATABLE READ` transaction;
//! - a transaction PostgreSQL aborts as a deadlock or serialisation
//!   failure is run again (a few times) before the error is reported.

mod circles;
mod dump;
mod write;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use msn_core::account::{Account, Change, GroupUpdate, Properties, Property, SettingUpdate, lists};
use msn_core::handle::Handle;
use msn_core::privacy;
use msn_wire::vocab::AddAlert;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::values::{Db, corrupt, fill_account, oim_id, parse_handle, parse_uuid, privacy_from};
use crate::{
    AccountChange, AccountChangeKind, AccountDump, Committed, ImportCounts, Invite, NewOim,
    NewUser, OimAdded, Result, Store, StoreError, StoredOim, UserRecord, UserSummary,
};
use crate::{CircleCreated, CircleInvited};
use msn_core::circle::{Circle, CircleId, MemberState};

/// How many times a transaction aborted by a deadlock or a serialisation
/// failure is tried in all.
const ATTEMPTS: u32 = 5;

/// Connection settings of [`PgStore::open`].
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`; never logged.
    pub url: String,
    /// Most connections this node holds (`[database] max_connections`).
    pub max_connections: u32,
    /// How long a query waits for a free connection, or for a new one to
    /// connect, before failing (`[database] acquire_timeout`).
    pub acquire_timeout: Duration,
    /// Use an existing, migrated database without writing to it: nothing
    /// is migrated, and the sessions are read-only.
    pub read_only: bool,
}

impl std::fmt::Debug for PgOptions {
    /// Never prints the URL: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl PgOptions {
    pub fn new(url: impl Into<String>) -> Self {
        PgOptions {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            read_only: false,
        }
    }
}

pub struct PgStore {
    pool: PgPool,
}

/// Runs `$body` (an expression that uses `$tx: &mut PgConnection` and
/// evaluates to a `Result`) in a transaction, committing when it is `Ok`,
/// and runs it all again when PostgreSQL aborted it as a deadlock or a
/// serialisation failure.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 1;
        loop {
            let mut transaction = $store.begin().await?;
            let result = {
                let $tx: &mut PgConnection = &mut transaction;
                $body
            };
            let result = match result {
                Ok(value) => commit(transaction).await.map(|()| value),
                Err(e) => Err(e),
            };
            match result {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => attempt += 1,
                other => break other,
            }
        }
    }};
}

impl PgStore {
    /// Connects, and unless `read_only` applies the migrations (sqlx takes
    /// an advisory lock for that, so nodes starting together are safe).
    pub async fn open(options: &PgOptions) -> Result<PgStore> {
        // sqlx's parse errors do not repeat the URL, but say nothing more
        // here than that it is malformed.
        let mut connect = PgConnectOptions::from_str(&options.url)
            .map_err(|_| StoreError::Url("the postgres:// database URL is malformed".into()))?;
        // JIT off: msnd's statements are small indexed lookups, but right
        // after a bulk load (before ANALYZE) the planner's estimates are
        // large enough to start JIT compilation, which then took 145 ms of
        // a 1 ms account load and made sign-ins 100 times slower (measured
        // with 102,000 seeded accounts; README "Performance").
        connect = connect.application_name("msnd").options([("jit", "off")]);
        if options.read_only {
            connect = connect.options([("default_transaction_read_only", "on")]);
        }
        // One connection first, for its error: the pool reports any failure
        // to connect as a timeout, which does not say what is wrong.
        match tokio::time::timeout(
            options.acquire_timeout,
            PgConnection::connect_with(&connect),
        )
        .await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => return Err(StoreError::backend(e)),
            Err(_) => {
                return Err(StoreError::backend(format!(
                    "no answer from the PostgreSQL server within {:?}",
                    options.acquire_timeout
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .db()?;
        let migrator = sqlx::migrate!("./migrations/postgres");
        if options.read_only {
            let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&pool)
                    .await
                    .unwrap_or(None);
            if applied.unwrap_or(0) < latest {
                pool.close().await;
                return Err(StoreError::backend(
                    "the PostgreSQL database is not set up for this msnd version; \
                     start the server (or run a command that writes) once to set it up",
                ));
            }
        } else {
            migrator.run(&pool).await.db()?;
        }
        Ok(PgStore { pool })
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.db()
    }

    /// A read-only transaction whose statements all see one snapshot.
    async fn snapshot(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .db()
    }

    /// Sets an account's list version, bypassing the rules of
    /// [`Store::commit`]; for administration and test fixtures only, as
    /// [`SqliteStore::set_list_version`](crate::SqliteStore::set_list_version).
    pub async fn set_list_version(&self, handle: &str, version: u64) -> Result<bool> {
        let version = i64::try_from(version)
            .map_err(|_| StoreError::backend(format!("list version {version} out of range")))?;
        let done = sqlx::query("UPDATE users SET list_version = $1 WHERE handle = $2")
            .bind(version)
            .bind(handle)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected() == 1)
    }
}

/// Commits `tx`, recording how long it took in the
/// `msnd_store_commit_seconds` histogram, as the SQLite store does.
async fn commit(tx: Transaction<'static, Postgres>) -> Result<()> {
    let started = std::time::Instant::now();
    let result = tx.commit().await.db();
    metrics::histogram!("msnd_store_commit_seconds").record(started.elapsed().as_secs_f64());
    result
}

/// A deadlock (`40P01`) or serialisation failure (`40001`): PostgreSQL
/// rolled the transaction back and it may simply be run again.
fn retryable(error: &StoreError) -> bool {
    let StoreError::Backend(e) = error else {
        return false;
    };
    e.downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|e| e.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

fn oim_from_row(row: &PgRow) -> Result<StoredOim> {
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

/// The OIM columns as [`oim_from_row`] reads them, the text included.
const OIM_COLUMNS: &str = "id, sender, sender_name, run_id, sequence_num, origin, received_at, \
     octet_length(body)::BIGINT AS size";

fn properties_from_row(row: &PgRow) -> Result<Properties> {
    Ok(Properties {
        home_phone: row.try_get("phone_home").db()?,
        work_phone: row.try_get("phone_work").db()?,
        mobile_phone: row.try_get("phone_mobile").db()?,
        mobile_messages: row.try_get("mobile_messages").db()?,
        mobile_device: row.try_get("mobile_device").db()?,
    })
}

fn user_from_row(row: &PgRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id").db()?,
        handle: parse_handle(row.try_get("handle").db()?)?,
        friendly_name: row.try_get("friendly_name").db()?,
        password_hash: row.try_get("password_hash").db()?,
        legacy_password: row.try_get("legacy_password").db()?,
        verified: row.try_get("verified").db()?,
        disabled: row.try_get("disabled").db()?,
    })
}

/// Applies a planned change, the other user's reverse-list side included,
/// in `tx` (see [`Store::commit`]).
async fn commit_change(tx: &mut PgConnection, user_id: i64, change: &Change) -> Result<Committed> {
    // The owner's row, and the other user's when their reverse list
    // changes, locked in id order before anything else.
    let target = change.reverse.as_ref().map(|r| r.target.as_str());
    sqlx::query("SELECT id FROM users WHERE id = $1 OR handle = $2 ORDER BY id FOR UPDATE")
        .bind(user_id)
        .bind(target)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    // New and renamed groups first, so that contacts can join them in the
    // same change; deletions last, so that they win over joins.
    for g in &change.groups {
        if let GroupUpdate::Upsert(group) = g {
            sqlx::query(
                "INSERT INTO contact_groups (user_id, id, guid, name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, id) DO UPDATE SET guid = EXCLUDED.guid, name = EXCLUDED.name",
            )
            .bind(user_id)
            .bind(i64::from(group.id))
            .bind(group.guid.to_string())
            .bind(&group.name)
            .execute(&mut *tx)
            .await
            .db()?;
        }
    }
    for u in &change.contacts {
        write::contact(tx, user_id, u).await?;
    }
    for g in &change.groups {
        if let GroupUpdate::Delete(id) = g {
            // Its members go with it (the foreign key cascades).
            sqlx::query("DELETE FROM contact_groups WHERE user_id = $1 AND id = $2")
                .bind(user_id)
                .bind(i64::from(*id))
                .execute(&mut *tx)
                .await
                .db()?;
            write::default_group_for_ungrouped(tx, user_id, None).await?;
        }
    }
    for s in &change.settings {
        let query = match s {
            SettingUpdate::Privacy(p) => {
                sqlx::query("UPDATE users SET privacy = $1 WHERE id = $2").bind(p.code())
            }
            SettingUpdate::AddAlert(a) => {
                sqlx::query("UPDATE users SET add_alert = $1 WHERE id = $2").bind(a.code())
            }
            SettingUpdate::FriendlyName(n) => {
                sqlx::query("UPDATE users SET friendly_name = $1 WHERE id = $2").bind(n.clone())
            }
            SettingUpdate::PersonalMessage(m) => {
                sqlx::query("UPDATE users SET personal_message = $1 WHERE id = $2").bind(m.clone())
            }
            SettingUpdate::Property(p, v) => {
                let q = sqlx::query(property_update(*p));
                match p {
                    Property::MobileMessages | Property::MobileDevice => {
                        q.bind(v.as_deref() == Some("Y"))
                    }
                    _ => q.bind(v.clone()),
                }
            }
        };
        query.bind(user_id).execute(&mut *tx).await.db()?;
    }
    let version: i64 = if change.bump_version {
        sqlx::query_scalar(
            "UPDATE users SET list_version = list_version + 1 WHERE id = $1 RETURNING list_version",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .db()?
    } else {
        sqlx::query_scalar("SELECT list_version FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await
            .db()?
    };
    let reverse_version = match &change.reverse {
        Some(r) => write::reverse(tx, user_id, &r.target, &r.owner_name, r.added).await?,
        None => None,
    };
    Ok(Committed {
        version: version as u64,
        reverse_version,
    })
}

/// The statement that stores one property.
fn property_update(p: Property) -> &'static str {
    match p {
        Property::HomePhone => "UPDATE users SET phone_home = $1 WHERE id = $2",
        Property::WorkPhone => "UPDATE users SET phone_work = $1 WHERE id = $2",
        Property::MobilePhone => "UPDATE users SET phone_mobile = $1 WHERE id = $2",
        Property::MobileMessages => "UPDATE users SET mobile_messages = $1 WHERE id = $2",
        Property::MobileDevice => "UPDATE users SET mobile_device = $1 WHERE id = $2",
    }
}

async fn bump_versions_in(tx: &mut PgConnection, handles: &[String]) -> Result<Vec<(Handle, u64)>> {
    sqlx::query("SELECT id FROM users WHERE handle = ANY($1) ORDER BY id FOR UPDATE")
        .bind(handles)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        let v: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET list_version = list_version + 1 WHERE handle = $1 \
             RETURNING list_version",
        )
        .bind(h)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if let Some(v) = v {
            out.push((parse_handle(h)?, v as u64));
        }
    }
    Ok(out)
}

async fn set_password_in(
    tx: &mut PgConnection,
    handle: &str,
    password_hash: &str,
    legacy_password: Option<&str>,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1, legacy_password = $2 WHERE handle = $3")
            .bind(password_hash)
            .bind(legacy_password)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    write::log_account_change(tx, handle, "credentials").await?;
    Ok(true)
}

async fn set_disabled_in(tx: &mut PgConnection, handle: &str, disabled: bool) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE handle = $2")
        .bind(disabled)
        .bind(handle)
        .execute(&mut *tx)
        .await
        .db()?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if disabled {
        write::log_account_change(tx, handle, "disabled").await?;
    }
    Ok(true)
}

async fn delete_user_in(tx: &mut PgConnection, handle: &str) -> Result<bool> {
    let reverse = i64::from(lists::RL | lists::PL);
    // The account and everyone whose reverse list it is on, in id order.
    sqlx::query(
        "SELECT id FROM users WHERE handle = $1 OR id IN \
         (SELECT user_id FROM contacts WHERE handle = $1 AND lists & $2 <> 0) \
         ORDER BY id FOR UPDATE",
    )
    .bind(handle)
    .bind(reverse)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    circles::delete_administered(tx, handle).await?;
    let deleted = sqlx::query("DELETE FROM users WHERE handle = $1")
        .bind(handle)
        .execute(&mut *tx)
        .await
        .db()?;
    if deleted.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE users SET list_version = list_version + 1 WHERE id IN \
         (SELECT user_id FROM contacts WHERE handle = $1 AND lists & $2 <> 0)",
    )
    .bind(handle)
    .bind(reverse)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query("UPDATE contacts SET lists = lists & ~($2::BIGINT) WHERE handle = $1")
        .bind(handle)
        .bind(reverse)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query("DELETE FROM contacts WHERE handle = $1 AND lists = 0 AND guid IS NULL")
        .bind(handle)
        .execute(&mut *tx)
        .await
        .db()?;
    write::log_account_change(tx, handle, "deleted").await?;
    Ok(true)
}

async fn add_oim_in(tx: &mut PgConnection, oim: &NewOim, max_waiting: usize) -> Result<OimAdded> {
    // The recipient's row lock makes the count and the insert one step
    // for every node.
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(oim.recipient_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    if exists.is_none() {
        return Err(StoreError::NoSuchUser(format!("#{}", oim.recipient_id)));
    }
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oims WHERE recipient_id = $1")
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
         origin, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
    Ok(OimAdded::Stored {
        waiting: waiting + 1,
    })
}

async fn add_invites_in(tx: &mut PgConnection, codes: &[String]) -> Result<()> {
    let now = crate::values::now_unix();
    for code in codes {
        let added = sqlx::query(
            "INSERT INTO invites (code, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
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
    Ok(())
}

async fn create_user_with_invite_in(
    tx: &mut PgConnection,
    user: &NewUser,
    code: &str,
) -> Result<i64> {
    let spent = sqlx::query(
        "UPDATE invites SET used_by = $1, used_at = $2 WHERE code = $3 AND used_by IS NULL",
    )
    .bind(user.handle.as_str())
    .bind(crate::values::now_unix())
    .bind(code)
    .execute(&mut *tx)
    .await
    .db()?;
    if spent.rows_affected() != 1 {
        return Err(StoreError::InviteNotValid);
    }
    write::insert_user(tx, user).await
}

#[async_trait]
impl Store for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<i64> {
        in_transaction!(self, |tx| write::insert_user(tx, &user).await)
    }

    async fn user(&self, handle: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT id, handle, friendly_name, password_hash, legacy_password, verified, \
             disabled FROM users WHERE handle = $1",
        )
        .bind(handle)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_exists(&self, handle: &str) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM users WHERE handle = $1")
            .bind(handle)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(found.is_some())
    }

    async fn list_users(&self) -> Result<Vec<UserSummary>> {
        let rows = sqlx::query(
            "SELECT u.handle, u.friendly_name, u.legacy_password IS NOT NULL AS legacy, \
             u.created_at, u.disabled, \
             (SELECT COUNT(*) FROM contacts c WHERE c.user_id = u.id AND c.lists & 1 <> 0) \
               AS contacts \
             FROM users u ORDER BY u.handle",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(UserSummary {
                    handle: parse_handle(r.try_get("handle").db()?)?,
                    friendly_name: r.try_get("friendly_name").db()?,
                    legacy_md5: r.try_get("legacy").db()?,
                    disabled: r.try_get("disabled").db()?,
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
        in_transaction!(self, |tx| set_password_in(
            tx,
            handle,
            &password_hash,
            legacy_password.as_deref()
        )
        .await)
    }

    async fn set_disabled(&self, handle: &str, disabled: bool) -> Result<bool> {
        in_transaction!(self, |tx| set_disabled_in(tx, handle, disabled).await)
    }

    async fn delete_user(&self, handle: &str) -> Result<bool> {
        in_transaction!(self, |tx| delete_user_in(tx, handle).await)
    }

    async fn load_account(&self, user_id: i64) -> Result<Account> {
        // One statement, so one snapshot, and one round trip; the groups
        // and the entries (each with its group ids) come as JSON arrays, as
        // on SQLite. An entry for an account carries that account's
        // current name.
        let row = sqlx::query(
            "SELECT u.handle, u.friendly_name, u.privacy, u.add_alert, u.list_version, \
             u.phone_home, u.phone_work, u.phone_mobile, u.mobile_messages, u.mobile_device, \
             u.personal_message, \
             COALESCE((SELECT json_agg(json_build_array(g.id, g.guid, g.name)) \
                FROM contact_groups g WHERE g.user_id = u.id), '[]')::TEXT AS groups_json, \
             COALESCE((SELECT json_agg(json_build_array(c.handle, c.network, c.lists, \
                  COALESCE((SELECT n.friendly_name FROM users n WHERE n.handle = c.handle), \
                           c.name), \
                  c.guid, \
                  COALESCE((SELECT json_agg(m.group_id) FROM contact_group_members m \
                    WHERE m.user_id = c.user_id AND m.handle = c.handle), '[]'))) \
                FROM contacts c WHERE c.user_id = u.id), '[]')::TEXT AS contacts_json \
             FROM users u WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
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
        in_transaction!(self, |tx| commit_change(tx, user_id, change).await)
    }

    async fn bump_versions(&self, handles: &[Handle]) -> Result<Vec<(Handle, u64)>> {
        let handles: Vec<String> = handles.iter().map(|h| h.as_str().to_owned()).collect();
        in_transaction!(self, |tx| bump_versions_in(tx, &handles).await)
    }

    async fn published_properties(
        &self,
        viewer: &Handle,
        handles: &[Handle],
    ) -> Result<Vec<(Handle, Properties)>> {
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<&str> = handles.iter().map(Handle::as_str).collect();
        let rows = sqlx::query(
            "SELECT u.handle, u.privacy, u.phone_home, u.phone_work, u.phone_mobile, \
             u.mobile_messages, u.mobile_device, \
             COALESCE((SELECT c.lists FROM contacts c \
                       WHERE c.user_id = u.id AND c.handle = $1), 0) AS bits \
             FROM users u WHERE u.handle = ANY($2)",
        )
        .bind(viewer.as_str())
        .bind(&list)
        .fetch_all(&self.pool)
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
            let last: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM account_changes")
                    .fetch_one(&self.pool)
                    .await
                    .db()?;
            return Ok((last as u64, Vec::new()));
        };
        let rows = sqlx::query(
            "SELECT seq, handle, kind FROM account_changes WHERE seq > $1 ORDER BY seq LIMIT 1000",
        )
        .bind(after as i64)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut cursor = after;
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            cursor = row.try_get::<i64, _>("seq").db()? as u64;
            let kind = match row.try_get::<&str, _>("kind").db()? {
                "deleted" => AccountChangeKind::Deleted,
                "disabled" => AccountChangeKind::Disabled,
                _ => AccountChangeKind::Credentials,
            };
            changes.push(AccountChange {
                handle: parse_handle(row.try_get("handle").db()?)?,
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
        in_transaction!(self, |tx| circles::create(
            tx,
            id,
            name,
            creator_id,
            max_circles
        )
        .await)
    }

    async fn circle(&self, id: CircleId) -> Result<Option<Circle>> {
        let mut tx = self.snapshot().await?;
        let circle = circles::circle(&mut tx, id).await?;
        tx.commit().await.db()?;
        Ok(circle)
    }

    async fn circles_of(&self, user_id: i64) -> Result<Vec<Circle>> {
        let mut tx = self.snapshot().await?;
        let circles = circles::circles_of(&mut tx, user_id).await?;
        tx.commit().await.db()?;
        Ok(circles)
    }

    async fn invite_to_circle(
        &self,
        id: CircleId,
        user_id: i64,
        inviter_id: i64,
        max_members: usize,
        max_circles: usize,
    ) -> Result<CircleInvited> {
        in_transaction!(self, |tx| circles::invite(
            tx,
            id,
            user_id,
            inviter_id,
            max_members,
            max_circles
        )
        .await)
    }

    async fn set_circle_member_state(
        &self,
        id: CircleId,
        user_id: i64,
        state: MemberState,
    ) -> Result<bool> {
        in_transaction!(self, |tx| circles::set_member_state(tx, id, user_id, state)
            .await)
    }

    async fn remove_circle_member(&self, id: CircleId, user_id: i64) -> Result<bool> {
        in_transaction!(self, |tx| circles::remove_member(tx, id, user_id).await)
    }

    async fn delete_circle(&self, id: CircleId) -> Result<bool> {
        in_transaction!(self, |tx| circles::delete(tx, id).await)
    }

    async fn add_oim(&self, oim: NewOim, max_waiting: usize) -> Result<OimAdded> {
        in_transaction!(self, |tx| add_oim_in(tx, &oim, max_waiting).await)
    }

    async fn oims(&self, recipient_id: i64) -> Result<Vec<StoredOim>> {
        let rows = sqlx::query(&format!(
            "SELECT {OIM_COLUMNS}, '' AS body FROM oims WHERE recipient_id = $1 ORDER BY seq"
        ))
        .bind(recipient_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(oim_from_row).collect()
    }

    async fn oim(&self, recipient_id: i64, id: Uuid) -> Result<Option<StoredOim>> {
        let row = sqlx::query(&format!(
            "SELECT {OIM_COLUMNS}, body FROM oims WHERE recipient_id = $1 AND id = $2"
        ))
        .bind(recipient_id)
        .bind(oim_id(id))
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(oim_from_row).transpose()
    }

    async fn delete_oims(&self, recipient_id: i64, ids: &[Uuid]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let list: Vec<String> = ids.iter().map(|id| oim_id(*id)).collect();
        let done = sqlx::query("DELETE FROM oims WHERE recipient_id = $1 AND id = ANY($2)")
            .bind(recipient_id)
            .bind(&list)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected() as usize)
    }

    async fn export_accounts(&self) -> Result<Vec<AccountDump>> {
        let mut tx = self.snapshot().await?;
        let accounts = dump::export(&mut tx).await?;
        tx.commit().await.db()?;
        Ok(accounts)
    }

    async fn import_accounts(&self, accounts: &[AccountDump]) -> Result<ImportCounts> {
        in_transaction!(self, |tx| dump::import(tx, accounts).await)
    }

    async fn replace_password_hash(&self, handle: &str, current: &str, new: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE handle = $2 AND password_hash = $3",
        )
        .bind(new)
        .bind(handle)
        .bind(current)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn add_invites(&self, codes: &[String]) -> Result<()> {
        in_transaction!(self, |tx| add_invites_in(tx, codes).await)
    }

    async fn invites(&self) -> Result<Vec<Invite>> {
        let rows = sqlx::query(
            "SELECT code, created_at, used_by, used_at FROM invites ORDER BY created_at, code",
        )
        .fetch_all(&self.pool)
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
        in_transaction!(self, |tx| create_user_with_invite_in(tx, &user, code).await)
    }
}
