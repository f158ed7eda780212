//! `msnd export` and `msnd import`: every account, with its lists, groups,
//! settings, credentials, waiting offline messages and the circles it
//! administers, as JSON lines
//! (docs/export-format.md is the format's description; keep the two
//! together).
//!
//! An export is one read of the store ([`Store::export_accounts`]: one
//! snapshot, while the server runs). An import reads and checks the whole
//! file first (every problem reported with its line number), refuses
//! handles that exist already, and then writes everything in one
//! transaction ([`Store::import_accounts`]): it never leaves half a file
//! in the database. Both hold the whole data set in memory, which is fine
//! for the communities msnd serves (a few hundred bytes per list entry).

pub mod check;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read as _, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msn_core::account::{Group, GroupId, Properties, lists};
use msn_core::circle::{CircleId, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_store::{
    AccountDump, CircleDump, CircleMemberDump, ContactDump, ImportCounts, Store, StoreError,
    StoredOim,
};
use msn_wire::vocab::{AddAlert, Privacy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The header's `format`.
pub const FORMAT: &str = "msnd-export";
/// The header's `version`: what this msnd writes. Version 1 (before
/// circles) is read too: it is version 2 without `circle` records.
pub const VERSION: u32 = 2;
/// The oldest version read.
const OLDEST_VERSION: u32 = 1;
/// Longest line read (an offline message's text is the longest field).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Problems listed before the rest are only counted.
const MAX_PROBLEMS_SHOWN: usize = 50;

/// The first line.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    /// Unix seconds when the export was made (the only part of an export
    /// that differs between two exports of the same data).
    exported_at: i64,
    /// The program that wrote it, for people.
    generator: String,
}

/// Every later line. `group`, `contact`, `oim` and `circle` lines belong to the
/// `account` line before them; `end` closes the file and makes a cut-off
/// file detectable.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Account(AccountLine),
    Group(GroupLine),
    Contact(ContactLine),
    Oim(OimLine),
    Circle(CircleLine),
    End(EndLine),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountLine {
    handle: String,
    friendly_name: String,
    password_hash: String,
    legacy_password: Option<String>,
    verified: bool,
    disabled: bool,
    created_at: i64,
    privacy: String,
    add_alert: String,
    list_version: u64,
    home_phone: Option<String>,
    work_phone: Option<String>,
    mobile_phone: Option<String>,
    mobile_messages: bool,
    mobile_device: bool,
    /// The stored `<Data>` document's bytes, base64.
    personal_message: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupLine {
    id: GroupId,
    guid: String,
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactLine {
    handle: String,
    network: u8,
    lists: Vec<String>,
    name: String,
    guid: Option<String>,
    groups: Vec<GroupId>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OimLine {
    id: String,
    sender: String,
    sender_name: String,
    run_id: String,
    sequence_num: u32,
    origin: String,
    received_at: i64,
    text: String,
}

/// A circle the account before it is the admin of.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CircleLine {
    id: String,
    name: String,
    created_at: i64,
    members: Vec<CircleMemberLine>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CircleMemberLine {
    handle: String,
    /// `Admin`, `AssistantAdmin` or `Member`.
    role: String,
    /// `WaitingResponse` or `Accepted`.
    state: String,
    inviter: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct EndLine {
    accounts: usize,
    groups: usize,
    contacts: usize,
    oims: usize,
    /// Absent in version 1.
    #[serde(default)]
    circles: usize,
}

impl EndLine {
    fn of(counts: &ImportCounts) -> EndLine {
        EndLine {
            accounts: counts.accounts,
            groups: counts.groups,
            contacts: counts.contacts,
            oims: counts.oims,
            circles: counts.circles,
        }
    }
}

/// List names in the order their bits go.
const LIST_NAMES: [(&str, u8); 5] = [
    ("FL", lists::FL),
    ("AL", lists::AL),
    ("BL", lists::BL),
    ("RL", lists::RL),
    ("PL", lists::PL),
];

/// Writes `accounts` as an export file; returns the counts it wrote.
pub fn write(
    out: &mut impl Write,
    accounts: &[AccountDump],
    exported_at: i64,
) -> std::io::Result<ImportCounts> {
    serde_json::to_writer(
        &mut *out,
        &Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            exported_at,
            generator: format!("msnd {}", env!("CARGO_PKG_VERSION")),
        },
    )
    .map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    let mut line = |record: &Record| -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, record).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    };
    for a in accounts {
        line(&Record::Account(account_line(a)))?;
        for g in &a.groups {
            line(&Record::Group(GroupLine {
                id: g.id,
                guid: g.guid.to_string(),
                name: g.name.clone(),
            }))?;
        }
        for c in &a.contacts {
            line(&Record::Contact(ContactLine {
                handle: c.handle.to_string(),
                network: c.network.code(),
                lists: LIST_NAMES
                    .iter()
                    .filter(|(_, bit)| c.lists & bit != 0)
                    .map(|(name, _)| (*name).to_owned())
                    .collect(),
                name: c.name.clone(),
                guid: c.guid.map(|g| g.to_string()),
                groups: c.groups.clone(),
            }))?;
        }
        for m in &a.oims {
            line(&Record::Oim(OimLine {
                id: m.id.to_string(),
                sender: m.sender.to_string(),
                sender_name: m.sender_name.clone(),
                run_id: m.run_id.to_string(),
                sequence_num: m.sequence_num,
                origin: m.origin.clone(),
                received_at: m.received_at,
                text: m.text.clone(),
            }))?;
        }
        for c in &a.circles {
            line(&Record::Circle(circle_line(c)))?;
        }
    }
    let counts = ImportCounts::of(accounts);
    line(&Record::End(EndLine::of(&counts)))?;
    out.flush()?;
    Ok(counts)
}

fn account_line(a: &AccountDump) -> AccountLine {
    AccountLine {
        handle: a.handle.to_string(),
        friendly_name: a.friendly_name.clone(),
        password_hash: a.password_hash.clone(),
        legacy_password: a.legacy_password.clone(),
        verified: a.verified,
        disabled: a.disabled,
        created_at: a.created_at,
        privacy: a.privacy.code().to_owned(),
        add_alert: a.add_alert.code().to_owned(),
        list_version: a.list_version,
        home_phone: a.properties.home_phone.clone(),
        work_phone: a.properties.work_phone.clone(),
        mobile_phone: a.properties.mobile_phone.clone(),
        mobile_messages: a.properties.mobile_messages,
        mobile_device: a.properties.mobile_device,
        personal_message: a.personal_message.as_deref().map(|d| BASE64.encode(d)),
    }
}

fn circle_line(c: &CircleDump) -> CircleLine {
    CircleLine {
        id: c.id.to_string(),
        name: c.name.clone(),
        created_at: c.created_at,
        members: c
            .members
            .iter()
            .map(|m| CircleMemberLine {
                handle: m.handle.to_string(),
                role: m.role.name().to_owned(),
                state: m.state.name().to_owned(),
                inviter: m.inviter.as_ref().map(Handle::to_string),
            })
            .collect(),
    }
}

/// What is wrong with an input, each problem with where it is.
#[derive(Debug)]
pub struct Problems {
    /// `(line, message)`; line 0 for the file as a whole.
    pub list: Vec<(usize, String)>,
}

impl Problems {
    fn new() -> Problems {
        Problems { list: Vec::new() }
    }

    fn add(&mut self, line: usize, message: impl Into<String>) {
        self.list.push((line, message.into()));
    }
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} problem(s), nothing was imported:", self.list.len())?;
        for (line, message) in self.list.iter().take(MAX_PROBLEMS_SHOWN) {
            if *line == 0 {
                write!(f, "\n  {message}")?;
            } else {
                write!(f, "\n  line {line}: {message}")?;
            }
        }
        if self.list.len() > MAX_PROBLEMS_SHOWN {
            write!(f, "\n  … and {} more", self.list.len() - MAX_PROBLEMS_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A file read and checked: the accounts, and the line each began on.
pub struct Parsed {
    pub accounts: Vec<AccountDump>,
    pub lines: Vec<usize>,
}

/// Reads and checks a whole export file. Every problem is collected (with
/// its line number) rather than stopping at the first, so that one run
/// shows everything to fix.
pub fn read(mut input: impl BufRead) -> Result<Parsed, Problems> {
    let mut problems = Problems::new();
    let mut parsed = Parsed {
        accounts: Vec::new(),
        lines: Vec::new(),
    };
    let mut end: Option<(usize, EndLine)> = None;
    let mut header_seen = false;
    let mut n = 0;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        // At most one byte past the limit is read: a file without line
        // breaks cannot fill the memory.
        let limit = MAX_LINE_BYTES as u64 + 1;
        match (&mut input).take(limit).read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => n += 1,
            Err(e) => {
                problems.add(n + 1, format!("cannot read: {e}"));
                return Err(problems);
            }
        }
        if raw.last() == Some(&b'\n') {
            raw.pop();
        } else if raw.len() > MAX_LINE_BYTES {
            problems.add(n, format!("line longer than {MAX_LINE_BYTES} bytes"));
            return Err(problems);
        }
        let Ok(text) = std::str::from_utf8(&raw) else {
            problems.add(n, "not UTF-8");
            continue;
        };
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            match serde_json::from_str::<Header>(text) {
                Ok(h) if h.format == FORMAT && (OLDEST_VERSION..=VERSION).contains(&h.version) => {}
                Ok(h) if h.format == FORMAT => {
                    problems.add(
                        n,
                        format!(
                            "format version {} (this msnd reads versions \
                             {OLDEST_VERSION}–{VERSION})",
                            h.version
                        ),
                    );
                    return Err(problems);
                }
                _ => {
                    problems.add(
                        n,
                        format!("not an msnd export (the first line is a {FORMAT:?} header)"),
                    );
                    return Err(problems);
                }
            }
            continue;
        }
        if let Some((at, _)) = &end {
            problems.add(n, format!("a record after the end record (line {at})"));
            continue;
        }
        let record: Record = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                problems.add(n, format!("not a record: {e}"));
                continue;
            }
        };
        let current = parsed.accounts.last_mut();
        match (record, current) {
            (Record::Account(line), _) => match to_account(line) {
                Ok(a) => {
                    parsed.accounts.push(a);
                    parsed.lines.push(n);
                }
                Err(e) => {
                    problems.add(n, e);
                    // Its records are checked against a stand-in, so that
                    // their own problems are reported too.
                    parsed.accounts.push(stand_in());
                    parsed.lines.push(0);
                }
            },
            (Record::End(line), _) => end = Some((n, line)),
            (_, None) => problems.add(n, "a record before the first account"),
            (Record::Group(line), Some(a)) => match to_group(line) {
                Ok(g) => a.groups.push(g),
                Err(e) => problems.add(n, e),
            },
            (Record::Contact(line), Some(a)) => match to_contact(line) {
                Ok(c) => a.contacts.push(c),
                Err(e) => problems.add(n, e),
            },
            (Record::Oim(line), Some(a)) => match to_oim(line) {
                Ok(m) => a.oims.push(m),
                Err(e) => problems.add(n, e),
            },
            (Record::Circle(line), Some(a)) => match to_circle(line) {
                Ok(c) => a.circles.push(c),
                Err(e) => problems.add(n, e),
            },
        }
    }
    if !header_seen {
        problems.add(0, "the file is empty");
        return Err(problems);
    }
    // Cross-record rules, reported at the account's line.
    let mut handles: HashMap<String, usize> = HashMap::new();
    let mut oim_ids = HashSet::new();
    let mut circle_ids = HashSet::new();
    for (a, &line) in parsed.accounts.iter().zip(&parsed.lines) {
        if line == 0 {
            continue;
        }
        if let Some(first) = handles.insert(a.handle.to_string(), line) {
            problems.add(
                line,
                format!("account {} appears twice (line {first})", a.handle),
            );
        }
        for p in check::whole(a) {
            problems.add(line, format!("account {}: {p}", a.handle));
        }
        for m in &a.oims {
            if !oim_ids.insert(m.id) {
                problems.add(line, format!("offline message {} appears twice", m.id));
            }
        }
        for c in &a.circles {
            if !circle_ids.insert(c.id) {
                problems.add(line, format!("circle {} appears twice", c.id));
            }
        }
    }
    let counts = ImportCounts::of(&parsed.accounts);
    match end {
        None => problems.add(
            n,
            "no end record: the file is cut off (or not written by msnd export)",
        ),
        Some((at, e)) => {
            let found = EndLine::of(&counts);
            if e != found && problems.list.is_empty() {
                problems.add(
                    at,
                    format!(
                        "the end record counts {} accounts, {} groups, {} contacts, {} offline \
                         messages, {} circles; the file has {}, {}, {}, {}, {}",
                        e.accounts,
                        e.groups,
                        e.contacts,
                        e.oims,
                        e.circles,
                        found.accounts,
                        found.groups,
                        found.contacts,
                        found.oims,
                        found.circles
                    ),
                );
            }
        }
    }
    if problems.list.is_empty() {
        Ok(parsed)
    } else {
        problems.list.sort_by_key(|(line, _)| *line);
        Err(problems)
    }
}

/// Imports checked accounts in one transaction, after making sure none of
/// their handles is taken (all taken ones are listed, each with its line).
pub async fn import(store: &dyn Store, parsed: &Parsed) -> anyhow::Result<ImportCounts> {
    let mut problems = Problems::new();
    for (a, &line) in parsed.accounts.iter().zip(&parsed.lines) {
        if store.user_exists(a.handle.as_str()).await? {
            problems.add(
                line,
                format!("account {} already exists in this database", a.handle),
            );
        }
    }
    // Circle members that are not in the file must be accounts here.
    let in_file: HashSet<&str> = parsed.accounts.iter().map(|a| a.handle.as_str()).collect();
    for (a, &line) in parsed.accounts.iter().zip(&parsed.lines) {
        for c in &a.circles {
            for m in &c.members {
                if !in_file.contains(m.handle.as_str())
                    && !store.user_exists(m.handle.as_str()).await?
                {
                    problems.add(
                        line,
                        format!(
                            "circle {}: member {} is neither in the file nor in this database",
                            c.id, m.handle
                        ),
                    );
                }
            }
        }
    }
    if !problems.list.is_empty() {
        return Err(problems.into());
    }
    match store.import_accounts(&parsed.accounts).await {
        Ok(counts) => Ok(counts),
        // Created meanwhile (by a running server's sign-up, say).
        Err(StoreError::AlreadyExists(handle)) => {
            let line = parsed
                .accounts
                .iter()
                .zip(&parsed.lines)
                .find(|(a, _)| a.handle.as_str() == handle)
                .map_or(0, |(_, l)| *l);
            problems.add(
                line,
                format!("account {handle} already exists in this database"),
            );
            Err(problems.into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("the import failed; nothing was written")),
    }
}

fn stand_in() -> AccountDump {
    AccountDump {
        handle: Handle::parse("invalid@invalid.invalid").expect("valid handle"),
        friendly_name: String::new(),
        password_hash: String::new(),
        legacy_password: None,
        verified: false,
        disabled: false,
        created_at: 0,
        privacy: Privacy::AllowAll,
        add_alert: AddAlert::Ask,
        list_version: 0,
        properties: Properties::default(),
        personal_message: None,
        groups: Vec::new(),
        contacts: Vec::new(),
        oims: Vec::new(),
        circles: Vec::new(),
    }
}

fn handle(s: &str) -> Result<Handle, String> {
    let h = Handle::parse(s).map_err(|e| format!("handle {s:?}: {e}"))?;
    if h.as_str() != s {
        return Err(format!(
            "handle {s:?} is not written as msnd keeps it ({h})"
        ));
    }
    Ok(h)
}

fn guid(what: &str, s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|_| format!("{what} {s:?} is not a GUID"))
}

fn to_account(l: AccountLine) -> Result<AccountDump, String> {
    let a = AccountDump {
        handle: handle(&l.handle)?,
        friendly_name: l.friendly_name,
        password_hash: l.password_hash,
        legacy_password: l.legacy_password,
        verified: l.verified,
        disabled: l.disabled,
        created_at: l.created_at,
        privacy: Privacy::parse(&l.privacy)
            .ok_or_else(|| format!("privacy {:?} (AL or BL)", l.privacy))?,
        add_alert: AddAlert::parse(&l.add_alert)
            .ok_or_else(|| format!("add_alert {:?} (A or N)", l.add_alert))?,
        list_version: l.list_version,
        properties: Properties {
            home_phone: l.home_phone,
            work_phone: l.work_phone,
            mobile_phone: l.mobile_phone,
            mobile_messages: l.mobile_messages,
            mobile_device: l.mobile_device,
        },
        personal_message: l
            .personal_message
            .map(|b| BASE64.decode(b))
            .transpose()
            .map_err(|_| "personal_message is not base64".to_owned())?,
        groups: Vec::new(),
        contacts: Vec::new(),
        oims: Vec::new(),
        circles: Vec::new(),
    };
    check::account(&a).map_err(|e| format!("account {}: {e}", a.handle))?;
    Ok(a)
}

fn to_group(l: GroupLine) -> Result<Group, String> {
    let g = Group {
        id: l.id,
        guid: guid("group guid", &l.guid)?,
        name: l.name,
    };
    check::group(&g)?;
    Ok(g)
}

fn to_contact(l: ContactLine) -> Result<ContactDump, String> {
    let mut bits = 0;
    for name in &l.lists {
        let (_, bit) = LIST_NAMES
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| format!("list {name:?} (FL, AL, BL, RL or PL)"))?;
        bits |= bit;
    }
    let mut groups = l.groups;
    groups.sort_unstable();
    groups.dedup();
    let c = ContactDump {
        handle: handle(&l.handle)?,
        network: NetworkId::from_code(l.network)
            .ok_or_else(|| format!("network {} (1, 4, 9 or 32)", l.network))?,
        lists: bits,
        name: l.name,
        guid: l
            .guid
            .as_deref()
            .map(|g| guid("contact guid", g))
            .transpose()?,
        groups,
    };
    check::contact(&c).map_err(|e| format!("contact {}: {e}", c.handle))?;
    Ok(c)
}

fn to_oim(l: OimLine) -> Result<StoredOim, String> {
    let m = StoredOim {
        id: guid("offline message id", &l.id)?,
        sender: handle(&l.sender)?,
        sender_name: l.sender_name,
        run_id: guid("run_id", &l.run_id)?,
        sequence_num: l.sequence_num,
        origin: l.origin,
        received_at: l.received_at,
        size: l.text.len(),
        text: l.text,
    };
    check::oim(&m).map_err(|e| format!("offline message {}: {e}", m.id))?;
    Ok(m)
}

fn to_circle(l: CircleLine) -> Result<CircleDump, String> {
    let id = CircleId::parse(&l.id).ok_or_else(|| {
        format!(
            "circle id {:?} is not a circle GUID (00000000-0000-0000-0009-…)",
            l.id
        )
    })?;
    let mut members = Vec::with_capacity(l.members.len());
    for m in l.members {
        let role = [
            CircleRole::Admin,
            CircleRole::AssistantAdmin,
            CircleRole::Member,
        ]
        .into_iter()
        .find(|r| r.name() == m.role)
        .ok_or_else(|| {
            format!(
                "circle {id}: role {:?} (Admin, AssistantAdmin or Member)",
                m.role
            )
        })?;
        let state = [MemberState::Pending, MemberState::Accepted]
            .into_iter()
            .find(|s| s.name() == m.state)
            .ok_or_else(|| {
                format!(
                    "circle {id}: state {:?} (WaitingResponse or Accepted)",
                    m.state
                )
            })?;
        members.push(CircleMemberDump {
            handle: handle(&m.handle)?,
            role,
            state,
            inviter: m.inviter.as_deref().map(handle).transpose()?,
        });
    }
    let c = CircleDump {
        id,
        name: l.name,
        created_at: l.created_at,
        members,
    };
    check::circle(&c).map_err(|e| format!("circle {id}: {e}"))?;
    Ok(c)
}

/// `msnd export`: writes the store's accounts to `output` (`-`: standard
/// output). A file is created new, readable and writable by its owner
/// only (it holds password hashes), and removed again if the export fails.
pub async fn export_file(
    store: &dyn Store,
    output: &std::path::Path,
) -> anyhow::Result<ImportCounts> {
    use anyhow::Context as _;
    let accounts = store
        .export_accounts()
        .await
        .context("cannot read the accounts")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        return write(&mut out, &accounts, now).context("cannot write to standard output");
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(output)
        .with_context(|| format!("cannot create {} (it must not exist)", output.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write(&mut out, &accounts, now).and_then(|counts| {
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        Ok(counts)
    });
    match written {
        Ok(counts) => Ok(counts),
        Err(e) => {
            let _ = std::fs::remove_file(output);
            Err(anyhow::Error::new(e).context(format!("cannot write {}", output.display())))
        }
    }
}

/// `msnd import`: reads, checks and imports `input` (`-`: standard input).
pub async fn import_file(
    store: &dyn Store,
    input: &std::path::Path,
) -> anyhow::Result<ImportCounts> {
    use anyhow::Context as _;
    let parsed = if input.as_os_str() == "-" {
        read(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        read(std::io::BufReader::new(file))
    };
    let parsed = parsed.map_err(|p| anyhow::anyhow!("{}: {p}", input.display()))?;
    import(store, &parsed).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_line_is_refused_without_reading_it_all() {
        let header = r#"{"format":"msnd-export","version":2,"exported_at":0,"generator":"t"}"#;
        let mut file = format!("{header}\n").into_bytes();
        file.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE_BYTES));
        let problems = read(std::io::Cursor::new(file)).err().expect("refused");
        assert_eq!(problems.list.len(), 1, "{problems}");
        assert_eq!(problems.list[0].0, 2);
        assert!(problems.list[0].1.contains("longer than"), "{problems}");
    }

    #[test]
    fn an_empty_export_round_trips() {
        let mut out = Vec::new();
        let counts = write(&mut out, &[], 7).unwrap();
        assert_eq!(counts, ImportCounts::default());
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.ends_with(
                "{\"type\":\"end\",\"accounts\":0,\"groups\":0,\"contacts\":0,\"oims\":0,\"circles\":0}\n"
            ),
            "{text}"
        );
        let parsed = read(std::io::Cursor::new(out)).unwrap();
        assert!(parsed.accounts.is_empty());
    }
}
