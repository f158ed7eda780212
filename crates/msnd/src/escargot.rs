//! `msnd import-escargot DB`: moves the accounts of an Escargot server
//! (the community MSN revival server) into msnd: e-mail addresses,
//! password hashes, friendly names, roaming personal messages, privacy
//! settings and phone numbers, contact lists with their list bits, and
//! groups.
//!
//! What this reads is Escargot's SQLAlchemy schema as of
//! `subpurple/escargot` (a fork of `gitlab.com/escargot-chat/server`)
//! commit 1f5a190 (2025-02-02), `core/db.py`:
//!
//! * `t_user`: `uuid`, `email`, `verified`, `friendly_name` (the name
//!   clients see), `name` (the roaming name), `message` (the roaming
//!   personal message), `password` (`pbkdf2_sha256$<iterations>$<salt>$
//!   <base64 hash>`, `util/hash.py`), `settings` (JSON: `BLP`, `GTC`,
//!   `PHH`, `PHW`, `PHM`, `MOB`, `MBE`), `front_data` (JSON; `msn.pw_md5`
//!   is the MD5 hash for MSN 1–4.7), `groups` (JSON: `[{id, uuid, name,
//!   is_favorite}]`), `date_created`;
//! * `t_user_contact`: `user_uuid`, `uuid` (the contact's account), `name`,
//!   `lists` (FL 1, AL 2, BL 4, RL 8, PL 16), `pending` (on the RL, not yet
//!   answered: msnd's PL), `groups` (JSON: `[{id, uuid}]`).
//!
//! Older Escargot versions kept groups in a table, `t_user_group`
//! (`user_uuid`, `group_id`, `group_uuid`, `name`), and had no
//! `friendly_name` or `pending` column; those are read too (the table when
//! `t_user` has no `groups` column, `name` as the friendly name).
//!
//! Uncertain, and handled conservatively: names are stored as each client
//! sent them (URL-encoded from the NS, plain from SOAP), so they are
//! decoded like msnd's own migration 0005 did (a plain name with a literal
//! `%41` would read as `A`); Escargot's group `0` is implicit (its ids
//! start at 1), so msnd's group 0 is created unless a stored group has id
//! `0`. Not moved: offline messages (Escargot keeps them in files), circles
//! / group chats, address-book details (birthdays, notes, …), Yahoo!
//! data, `is_favorite` (msnd's Favorites is the group of that name).
//!
//! MD5 logins (MSN 1–4.7) need the clear password in msnd, which Escargot
//! does not have: imported accounts have them off until their user sets a
//! password again (`msnd user passwd EMAIL --legacy-md5`). The PBKDF2
//! hashes work for every other login and are replaced by argon2id at the
//! first sign-in (`msn_core::password`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use msn_core::account::{DEFAULT_GROUP_NAME, Group, GroupId, Properties, lists};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_core::text::{self, MAX_FRIENDLY_NAME, MAX_GROUP_NAME, MAX_PROPERTY_VALUE};
use msn_core::{password, personal_message};
use msn_store::{AccountDump, ContactDump, ImportCounts, Store, StoreError};
use msn_wire::vocab::{AddAlert, Privacy};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection as _, Row as _};
use uuid::Uuid;

use crate::export::check;

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Default)]
pub struct Report {
    pub dry_run: bool,
    pub counts: ImportCounts,
    /// Accounts that had Escargot's MD5 login (MSN 1–4.7), off in msnd
    /// until a new password is set.
    pub md5_accounts: Vec<Handle>,
    /// Friendly names msnd refuses (too long, control characters…): the
    /// account's address is its name instead.
    pub names_replaced: Vec<Handle>,
    /// Roaming personal messages msnd refuses, not moved.
    pub messages_dropped: usize,
    /// Phone numbers msnd refuses, not moved.
    pub phones_dropped: usize,
    /// Contact rows naming an account that does not exist (Escargot
    /// ignores them too).
    pub entries_without_account: usize,
    /// Contact rows on no list (nothing to move).
    pub entries_on_no_list: usize,
    /// Group memberships naming a group the account does not have.
    pub unknown_group_memberships: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        writeln!(
            f,
            "{} {} accounts ({} groups, {} contacts) from Escargot",
            if self.dry_run {
                "would import"
            } else {
                "imported"
            },
            c.accounts,
            c.groups,
            c.contacts
        )?;
        if !self.md5_accounts.is_empty() {
            writeln!(
                f,
                "{} accounts used the MD5 login of MSN Messenger 1.0-4.7. msnd needs the \
                 password itself for it, which Escargot does not keep: it is off until the \
                 user's password is set again with `msnd user passwd EMAIL --password PW \
                 --legacy-md5`. Their other logins work with the old password.",
                self.md5_accounts.len()
            )?;
            for h in &self.md5_accounts {
                writeln!(f, "  {h}")?;
            }
        }
        if !self.names_replaced.is_empty() {
            writeln!(
                f,
                "{} friendly names msnd does not accept were replaced by the address:",
                self.names_replaced.len()
            )?;
            for h in &self.names_replaced {
                writeln!(f, "  {h}")?;
            }
        }
        for (n, what) in [
            (
                self.messages_dropped,
                "personal messages msnd does not accept were left out",
            ),
            (
                self.phones_dropped,
                "phone numbers msnd does not accept were left out",
            ),
            (
                self.entries_without_account,
                "contact rows naming no account were left out",
            ),
            (
                self.entries_on_no_list,
                "contact rows on no list were left out",
            ),
            (
                self.unknown_group_memberships,
                "group memberships naming no group of the account were left out",
            ),
        ] {
            if n > 0 {
                writeln!(f, "{n} {what}")?;
            }
        }
        writeln!(
            f,
            "Not moved: offline messages, circles (group chats), address-book details, Yahoo! data."
        )
    }
}

/// Reads `db`, checks every account, and imports them all into `store` in
/// one transaction. Any problem (an address or password hash msnd cannot
/// take, an account that exists in msnd already) stops it before anything
/// is written, with the list of problems.
pub async fn import(store: &dyn Store, db: &Path) -> anyhow::Result<Report> {
    run(Some(store), db, false).await
}

/// Everything [`import`] does but writing. `store` is the msnd database
/// the accounts would go to (checked for taken addresses), or `None` when
/// there is none yet.
pub async fn dry_run(store: Option<&dyn Store>, db: &Path) -> anyhow::Result<Report> {
    run(store, db, true).await
}

async fn run(store: Option<&dyn Store>, db: &Path, dry_run: bool) -> anyhow::Result<Report> {
    if !db.is_file() {
        anyhow::bail!("no database at {}", db.display());
    }
    let options = SqliteConnectOptions::new().filename(db).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open {}", db.display()))?;
    let source = read_source(&mut conn)
        .await
        .with_context(|| format!("cannot read {} as an Escargot database", db.display()))?;
    let _ = conn.close().await;

    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let (accounts, problems) = convert(&source, &mut report);
    let mut problems = problems;
    if let Some(store) = store {
        for a in &accounts {
            if store.user_exists(a.handle.as_str()).await? {
                problems.push(format!("{} already has an msnd account", a.handle));
            }
        }
    }
    if !problems.is_empty() {
        let mut message = format!("{} problem(s), nothing was imported:", problems.len());
        for p in problems.iter().take(50) {
            message.push_str("\n  ");
            message.push_str(p);
        }
        if problems.len() > 50 {
            message.push_str(&format!("\n  … and {} more", problems.len() - 50));
        }
        anyhow::bail!(message);
    }
    report.counts = match store.filter(|_| !dry_run) {
        None => ImportCounts::of(&accounts),
        Some(store) => match store.import_accounts(&accounts).await {
            Ok(counts) => counts,
            Err(StoreError::AlreadyExists(h)) => {
                anyhow::bail!("{h} already has an msnd account; nothing was imported")
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context("the import failed; nothing was written"));
            }
        },
    };
    Ok(report)
}

/// Escargot's rows, as read.
struct Source {
    users: Vec<UserRow>,
    contacts: Vec<ContactRow>,
    /// The older layout's `t_user_group`, by owner's uuid.
    group_table: Option<HashMap<String, Vec<GroupRow>>>,
}

struct UserRow {
    uuid: String,
    email: String,
    verified: Option<i64>,
    friendly_name: Option<String>,
    message: Option<String>,
    password: Option<String>,
    settings: Option<String>,
    front_data: Option<String>,
    groups: Option<String>,
    date_created: Option<String>,
}

struct ContactRow {
    user_uuid: String,
    uuid: String,
    name: Option<String>,
    lists: i64,
    pending: Option<i64>,
    groups: Option<String>,
}

struct GroupRow {
    id: String,
    uuid: String,
    name: String,
}

async fn columns(conn: &mut SqliteConnection, table: &str) -> anyhow::Result<HashSet<String>> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("name").map_err(Into::into))
        .collect()
}

/// `column`, or NULL under its name when this Escargot version lacks it.
fn optional(present: &HashSet<String>, column: &str) -> String {
    if present.contains(column) {
        format!("\"{column}\"")
    } else {
        format!("NULL AS \"{column}\"")
    }
}

fn text(row: &SqliteRow, column: &str) -> anyhow::Result<Option<String>> {
    row.try_get::<Option<String>, _>(column)
        .with_context(|| format!("column {column}"))
}

/// Reads every table this import uses, in one read transaction.
async fn read_source(conn: &mut SqliteConnection) -> anyhow::Result<Source> {
    let mut tx = conn.begin().await?;
    let user_cols = columns(&mut tx, "t_user").await?;
    let contact_cols = columns(&mut tx, "t_user_contact").await?;
    for (table, cols, needed) in [
        ("t_user", &user_cols, &["uuid", "email", "password"][..]),
        (
            "t_user_contact",
            &contact_cols,
            &["user_uuid", "uuid", "lists"][..],
        ),
    ] {
        if cols.is_empty() {
            anyhow::bail!("it has no {table} table");
        }
        if let Some(missing) = needed.iter().find(|c| !cols.contains(**c)) {
            anyhow::bail!("{table} has no {missing} column");
        }
    }
    // The name clients see: `friendly_name` where it exists, else `name`.
    let name_column = if user_cols.contains("friendly_name") {
        "\"friendly_name\""
    } else {
        &optional(&user_cols, "name")
    };
    let sql = format!(
        "SELECT uuid, email, password, {verified} , {name_column} AS display_name, {message}, \
         {settings}, {front_data}, {groups}, {date_created} FROM t_user ORDER BY email",
        verified = optional(&user_cols, "verified"),
        message = optional(&user_cols, "message"),
        settings = optional(&user_cols, "settings"),
        front_data = optional(&user_cols, "front_data"),
        groups = optional(&user_cols, "groups"),
        date_created = optional(&user_cols, "date_created"),
    );
    let mut users = Vec::new();
    for row in sqlx::query(&sql).fetch_all(&mut *tx).await? {
        users.push(UserRow {
            uuid: text(&row, "uuid")?.unwrap_or_default(),
            email: text(&row, "email")?.unwrap_or_default(),
            verified: row.try_get("verified").context("column verified")?,
            friendly_name: text(&row, "display_name")?,
            message: text(&row, "message")?,
            password: text(&row, "password")?,
            settings: text(&row, "settings")?,
            front_data: text(&row, "front_data")?,
            groups: text(&row, "groups")?,
            date_created: text(&row, "date_created")?,
        });
    }
    let sql = format!(
        "SELECT user_uuid, uuid, {name}, lists, {pending}, {groups} FROM t_user_contact \
         ORDER BY user_uuid, uuid",
        name = optional(&contact_cols, "name"),
        pending = optional(&contact_cols, "pending"),
        groups = optional(&contact_cols, "groups"),
    );
    let mut contacts = Vec::new();
    for row in sqlx::query(&sql).fetch_all(&mut *tx).await? {
        contacts.push(ContactRow {
            user_uuid: text(&row, "user_uuid")?.unwrap_or_default(),
            uuid: text(&row, "uuid")?.unwrap_or_default(),
            name: text(&row, "name")?,
            lists: row.try_get("lists").context("column lists")?,
            pending: row.try_get("pending").context("column pending")?,
            groups: text(&row, "groups")?,
        });
    }
    let group_cols = columns(&mut tx, "t_user_group").await?;
    let group_table = if !user_cols.contains("groups") && !group_cols.is_empty() {
        let mut by_user: HashMap<String, Vec<GroupRow>> = HashMap::new();
        let rows = sqlx::query(
            "SELECT user_uuid, group_id, group_uuid, name FROM t_user_group ORDER BY user_uuid, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            by_user
                .entry(text(&row, "user_uuid")?.unwrap_or_default())
                .or_default()
                .push(GroupRow {
                    id: text(&row, "group_id")?.unwrap_or_default(),
                    uuid: text(&row, "group_uuid")?.unwrap_or_default(),
                    name: text(&row, "name")?.unwrap_or_default(),
                });
        }
        Some(by_user)
    } else {
        None
    };
    tx.commit().await?;
    Ok(Source {
        users,
        contacts,
        group_table,
    })
}

/// Escargot's rows as msnd accounts, and what is wrong with them.
fn convert(source: &Source, report: &mut Report) -> (Vec<AccountDump>, Vec<String>) {
    let mut problems = Vec::new();
    let mut handles: HashMap<&str, Handle> = HashMap::new();
    let mut seen = HashSet::new();
    for u in &source.users {
        match Handle::parse(u.email.trim()) {
            Ok(h) => {
                if !seen.insert(h.clone()) {
                    problems.push(format!("{h}: two Escargot accounts have this address"));
                }
                handles.insert(u.uuid.as_str(), h);
            }
            Err(e) => problems.push(format!("{:?}: not an address msnd accepts: {e}", u.email)),
        }
    }
    let mut contacts_of: HashMap<&str, Vec<&ContactRow>> = HashMap::new();
    for c in &source.contacts {
        contacts_of.entry(c.user_uuid.as_str()).or_default().push(c);
    }
    let mut accounts = Vec::with_capacity(source.users.len());
    for u in &source.users {
        let Some(handle) = handles.get(u.uuid.as_str()) else {
            continue;
        };
        match convert_user(u, handle, &handles, &contacts_of, source, report) {
            Ok(a) => {
                for p in check::whole(&a) {
                    problems.push(format!("{handle}: {p}"));
                }
                accounts.push(a);
            }
            Err(e) => problems.push(format!("{handle}: {e}")),
        }
    }
    accounts.sort_by(|a, b| a.handle.as_str().cmp(b.handle.as_str()));
    (accounts, problems)
}

fn json(what: &str, raw: Option<&str>) -> Result<Value, String> {
    match raw {
        None => Ok(Value::Null),
        Some(raw) => serde_json::from_str(raw).map_err(|e| format!("{what} is not JSON: {e}")),
    }
}

fn convert_user(
    u: &UserRow,
    handle: &Handle,
    handles: &HashMap<&str, Handle>,
    contacts_of: &HashMap<&str, Vec<&ContactRow>>,
    source: &Source,
    report: &mut Report,
) -> Result<AccountDump, String> {
    let hash = u.password.as_deref().unwrap_or_default();
    if !hash.starts_with(password::PBKDF2_SHA256_PREFIX) {
        return Err("the password hash is not Escargot's pbkdf2_sha256".to_owned());
    }
    password::check_stored_hash(hash).map_err(|e| format!("password hash: {e}"))?;

    let front_data = json("front_data", u.front_data.as_deref())?;
    if front_data
        .pointer("/msn/pw_md5")
        .is_some_and(|v| !v.is_null())
    {
        report.md5_accounts.push(handle.clone());
    }

    let friendly_name = match u.friendly_name.as_deref().map(text::decode) {
        Some(name) if text::validate_name(&name, MAX_FRIENDLY_NAME).is_ok() => name,
        None => handle.to_string(),
        Some(name) if name.is_empty() => handle.to_string(),
        Some(_) => {
            report.names_replaced.push(handle.clone());
            handle.to_string()
        }
    };
    let personal_message = u
        .message
        .as_deref()
        .map(text::decode)
        .filter(|m| !m.is_empty())
        .and_then(|m| {
            let doc = personal_message::with_psm(None, &m);
            if doc.is_none() {
                report.messages_dropped += 1;
            }
            doc
        });

    let settings = json("settings", u.settings.as_deref())?;
    let setting = |key: &str| settings.get(key).and_then(Value::as_str);
    let privacy = match setting("BLP") {
        None => Privacy::AllowAll,
        Some(code) => Privacy::parse(code).ok_or_else(|| format!("BLP setting {code:?}"))?,
    };
    let add_alert = match setting("GTC") {
        None => AddAlert::Ask,
        Some(code) => AddAlert::parse(code).ok_or_else(|| format!("GTC setting {code:?}"))?,
    };
    let mut phone = |key: &str| -> Option<String> {
        let value = text::encode(&text::decode(setting(key)?));
        if text::validate_encoded(&value, MAX_PROPERTY_VALUE).is_ok() {
            Some(value)
        } else {
            report.phones_dropped += 1;
            None
        }
    };
    let properties = Properties {
        home_phone: phone("PHH"),
        work_phone: phone("PHW"),
        mobile_phone: phone("PHM"),
        mobile_messages: setting("MOB") == Some("Y"),
        mobile_device: setting("MBE") == Some("Y"),
    };

    let (groups, group_ids) = convert_groups(u, source)?;
    // By handle: older layouts did not stop a contact being stored twice;
    // such rows are one entry here, on every list and group they name.
    let mut contacts: BTreeMap<&str, ContactDump> = BTreeMap::new();
    for c in contacts_of.get(u.uuid.as_str()).into_iter().flatten() {
        let Some(contact) = handles.get(c.uuid.as_str()) else {
            report.entries_without_account += 1;
            continue;
        };
        let mut bits = u8::try_from(c.lists & 0x1f).unwrap_or(0);
        if c.pending.unwrap_or(0) != 0 && bits & lists::RL != 0 {
            bits |= lists::PL;
        }
        if bits == 0 {
            report.entries_on_no_list += 1;
            continue;
        }
        let name = c
            .name
            .as_deref()
            .map(text::decode)
            .filter(|n| text::validate_name(n, MAX_FRIENDLY_NAME).is_ok())
            .unwrap_or_else(|| contact.to_string());
        let mut in_groups = Vec::new();
        if bits & lists::FL != 0 {
            let entries = json("a contact's groups", c.groups.as_deref())?;
            for entry in entries.as_array().into_iter().flatten() {
                let by_id = entry
                    .get("id")
                    .and_then(json_id)
                    .and_then(|id| group_ids.get(&id));
                let by_uuid = || {
                    entry
                        .get("uuid")
                        .and_then(Value::as_str)
                        .and_then(|g| group_ids.get(&format!("uuid:{g}")))
                };
                match by_id.or_else(by_uuid) {
                    Some(id) => in_groups.push(*id),
                    None => report.unknown_group_memberships += 1,
                }
            }
            in_groups.sort_unstable();
            in_groups.dedup();
            if in_groups.is_empty() {
                in_groups.push(0);
            }
        }
        let entry = ContactDump {
            handle: contact.clone(),
            network: NetworkId::Passport,
            lists: bits,
            name,
            // The address-book contact id msnd gives an FL entry.
            guid: (bits & lists::FL != 0).then(Uuid::new_v4),
            groups: in_groups,
        };
        match contacts.get_mut(contact.as_str()) {
            None => {
                contacts.insert(contact.as_str(), entry);
            }
            Some(twice) => {
                twice.lists |= entry.lists;
                twice.guid = twice.guid.or(entry.guid);
                twice.groups.extend(entry.groups);
                twice.groups.sort_unstable();
                twice.groups.dedup();
                if twice.groups.len() > 1 {
                    twice.groups.retain(|g| *g != 0);
                }
            }
        }
    }
    let contacts: Vec<ContactDump> = contacts.into_values().collect();
    for c in &contacts {
        check::contact(c).map_err(|e| format!("contact {}: {e}", c.handle))?;
    }

    let account = AccountDump {
        handle: handle.clone(),
        friendly_name,
        password_hash: hash.to_owned(),
        legacy_password: None,
        verified: u.verified.is_none_or(|v| v != 0),
        disabled: false,
        created_at: u
            .date_created
            .as_deref()
            .and_then(unix_seconds)
            .unwrap_or_else(now),
        privacy,
        add_alert,
        list_version: 0,
        properties,
        personal_message,
        groups,
        contacts,
        oims: Vec::new(),
        circles: Vec::new(),
    };
    check::account(&account)?;
    Ok(account)
}

/// A group id as Escargot writes it (a string, sometimes a number).
fn json_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The account's groups as msnd's (group 0 first), and a map from
/// Escargot's group ids (and `uuid:<guid>`) to msnd's ids. Numeric ids are
/// kept where they can be; others get the next free number.
fn convert_groups(
    u: &UserRow,
    source: &Source,
) -> Result<(Vec<Group>, HashMap<String, GroupId>), String> {
    let rows: Vec<GroupRow> = match &source.group_table {
        Some(table) => table
            .get(&u.uuid)
            .map(|rows| {
                rows.iter()
                    .map(|r| GroupRow {
                        id: r.id.clone(),
                        uuid: r.uuid.clone(),
                        name: r.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        None => {
            let value = json("groups", u.groups.as_deref())?;
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| GroupRow {
                    id: g.get("id").and_then(json_id).unwrap_or_default(),
                    uuid: g
                        .get("uuid")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    name: g
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        }
    };
    let mut chosen: BTreeMap<GroupId, &GroupRow> = BTreeMap::new();
    let mut later = Vec::new();
    for r in &rows {
        match r.id.parse::<GroupId>() {
            Ok(id) if !chosen.contains_key(&id) => {
                chosen.insert(id, r);
            }
            _ => later.push(r),
        }
    }
    for r in later {
        let free = (1..)
            .find(|id| !chosen.contains_key(id))
            .unwrap_or(GroupId::MAX);
        chosen.insert(free, r);
    }
    let mut groups = Vec::with_capacity(chosen.len() + 1);
    let mut ids = HashMap::new();
    let mut guids = HashSet::new();
    if !chosen.contains_key(&0) {
        groups.push(Group {
            id: 0,
            guid: Uuid::new_v4(),
            name: DEFAULT_GROUP_NAME.to_owned(),
        });
    }
    for (id, r) in chosen {
        let name = text::encode(&text::decode(&r.name));
        text::validate_encoded(&name, MAX_GROUP_NAME)
            .map_err(|e| format!("group {:?}: {e}", r.name))?;
        let guid = Uuid::parse_str(&r.uuid)
            .ok()
            .filter(|g| guids.insert(*g))
            .unwrap_or_else(Uuid::new_v4);
        ids.insert(r.id.clone(), id);
        if !r.uuid.is_empty() {
            ids.insert(format!("uuid:{}", r.uuid), id);
        }
        groups.push(Group { id, guid, name });
    }
    Ok((groups, ids))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// SQLAlchemy's SQLite `DateTime` text (`2019-03-01 12:34:56.789000`, UTC
/// as Escargot writes `datetime.utcnow()`) as Unix seconds.
fn unix_seconds(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next().unwrap_or(Some(0))?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_dates() {
        assert_eq!(unix_seconds("1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            unix_seconds("2019-03-01 12:34:56.789000"),
            Some(1_551_443_696)
        );
        assert_eq!(unix_seconds("2000-02-29T00:00:01"), Some(951_782_401));
        assert_eq!(unix_seconds("2019-13-01 00:00:00"), None);
        assert_eq!(unix_seconds("yesterday"), None);
    }
}
