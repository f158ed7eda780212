//! Persistent storage for msnd.
//!
//! The server talks to storage only through the [`Store`] trait, so the
//! embedded SQLite store used by default can be swapped for PostgreSQL (or
//! anything else) without touching protocol code. Every method that changes
//! data returns only after the change is committed: a reply that confirms
//! a change to a client is sent after the store said so.
//!
//! [`open`] opens the store a database URL names: SQLite ([`SqliteStore`],
//! the default) or PostgreSQL ([`PgStore`], for several nodes on one
//! database). What every backend must do is the conformance suite in
//! `msn_store::conformance` (cargo feature `conformance`), which
//! `tests/conformance.rs` runs on both.

#![forbid(unsafe_code)]

mod dump;
mod open;
mod postgres;
mod rehash;
mod sqlite;
mod values;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod test_database;

use async_trait::async_trait;
use msn_core::account::{Account, Change, Properties};
use msn_core::circle::{Circle, CircleId, MemberState};
use msn_core::handle::Handle;
use thiserror::Error;
use uuid::Uuid;

pub use dump::{AccountDump, CircleDump, CircleMemberDump, ContactDump, ImportCounts};
pub use open::{DatabaseUrl, PostgresUrl, StoreOptions, backup, open, open_postgres};
pub use postgres::{PgOptions, PgStore};
pub use rehash::store_rehashed;
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// An error from a backend library (driver, pool, migrations, I/O), kept
/// opaque so that callers do not depend on how a backend is built.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage failure. The server answers it with `500`/`603` and logs it.
///
/// Callers match only on the domain variants ([`AlreadyExists`],
/// [`NoSuchUser`]); everything else is a failure to report.
///
/// [`AlreadyExists`]: StoreError::AlreadyExists
/// [`NoSuchUser`]: StoreError::NoSuchUser
#[derive(Debug, Error)]
pub enum StoreError {
    /// [`Store::create_user`] with a handle that is taken.
    #[error("an account named {0} already exists")]
    AlreadyExists(String),
    /// [`Store::load_account`] of an account that does not exist (any more).
    #[error("no such account: {0}")]
    NoSuchUser(String),
    /// [`Store::create_user_with_invite`] with a code that was never issued
    /// or is spent already; no account was created.
    #[error("the invitation code is unknown or used")]
    InviteNotValid,
    /// Stored data that cannot be read back (a bad handle, GUID, code...).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A database URL that names no usable store (see [`open`]).
    #[error("{0}")]
    Url(String),
    /// The backend failed (connection, I/O, SQL, migration). The message
    /// of the underlying error is part of this one's `Display`, so it is
    /// not repeated as a `source()`.
    #[error("database error: {0}")]
    Backend(BackendError),
}

impl StoreError {
    /// Wraps a backend library's error.
    pub fn backend(error: impl Into<BackendError>) -> StoreError {
        StoreError::Backend(error.into())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What is needed to create an account.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub handle: Handle,
    /// Encoded friendly name.
    pub friendly_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The clear password, only for accounts that opted in to MD5 logins.
    pub legacy_password: Option<String>,
}

/// Credentials and identity of an account.
#[derive(Clone)]
pub struct UserRecord {
    pub id: i64,
    pub handle: Handle,
    pub friendly_name: String,
    pub password_hash: String,
    pub legacy_password: Option<String>,
    pub verified: bool,
    /// Disabled by an operator: no login succeeds.
    pub disabled: bool,
}

impl std::fmt::Debug for UserRecord {
    /// Never prints secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("handle", &self.handle)
            .field("legacy_md5", &self.legacy_password.is_some())
            .finish_non_exhaustive()
    }
}

/// One line of `msnd user list`.
#[derive(Clone, Debug)]
pub struct UserSummary {
    pub handle: Handle,
    pub friendly_name: String,
    pub legacy_md5: bool,
    /// Disabled by an operator (`msnd user disable`).
    pub disabled: bool,
    pub contacts: u64,
    pub created_at: i64,
}

/// What happened to an account that its running sessions must know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountChangeKind {
    Deleted,
    /// The password (or the MD5 opt-in) changed.
    Credentials,
    /// An operator disabled the account.
    Disabled,
}

/// One entry of the account change log ([`Store::account_changes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountChange {
    pub handle: Handle,
    pub kind: AccountChangeKind,
}

/// Result of [`Store::commit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The owner's list version after the change.
    pub version: u64,
    /// The other user's list version when their reverse list changed.
    pub reverse_version: Option<u64>,
}

/// An offline message to store ([`Store::add_oim`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOim {
    /// The id clients will name it by.
    pub id: Uuid,
    pub recipient_id: i64,
    pub sender: Handle,
    /// The sender's display name, decoded text.
    pub sender_name: String,
    /// The sending client's run id and the message's number in that run.
    pub run_id: Uuid,
    pub sequence_num: u32,
    /// The sending client's address (`X-OIM-originatingSource`).
    pub origin: String,
    /// Unix seconds (UTC).
    pub received_at: i64,
    /// The message text.
    pub text: String,
}

impl NewOim {
    /// The message as [`Store::oims`] will list it once stored (no text).
    pub fn listed(&self) -> StoredOim {
        StoredOim {
            id: self.id,
            sender: self.sender.clone(),
            sender_name: self.sender_name.clone(),
            run_id: self.run_id,
            sequence_num: self.sequence_num,
            origin: self.origin.clone(),
            received_at: self.received_at,
            size: self.text.len(),
            text: String::new(),
        }
    }
}

/// A stored offline message, as [`Store::oims`] lists it and
/// [`Store::oim`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOim {
    pub id: Uuid,
    pub sender: Handle,
    pub sender_name: String,
    pub run_id: Uuid,
    pub sequence_num: u32,
    pub origin: String,
    pub received_at: i64,
    /// Size of the text in bytes.
    pub size: usize,
    /// The text: only from [`Store::oim`]; [`Store::oims`] leaves it empty.
    pub text: String,
}

/// Result of [`Store::add_oim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OimAdded {
    /// Committed; the recipient now has this many waiting.
    Stored { waiting: usize },
    /// The recipient already has the maximum waiting; nothing was stored.
    RecipientFull,
}

/// Result of [`Store::create_circle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircleCreated {
    Created,
    /// The creator is already in the maximum number of circles.
    CreatorFull,
}

/// Result of [`Store::invite_to_circle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircleInvited {
    Invited,
    /// The user is a member already (invited or accepted); nothing changed.
    AlreadyMember,
    /// The circle has the maximum number of members.
    CircleFull,
    /// The invitee is already in the maximum number of circles.
    InviteeFull,
    NoSuchCircle,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates an account (group 0 included).
    async fn create_user(&self, user: NewUser) -> Result<i64>;
    async fn user(&self, handle: &str) -> Result<Option<UserRecord>>;
    async fn user_exists(&self, handle: &str) -> Result<bool>;
    async fn list_users(&self) -> Result<Vec<UserSummary>>;
    /// Replaces the password hash and the MD5 opt-in; false if no account.
    async fn set_password(
        &self,
        handle: &str,
        password_hash: String,
        legacy_password: Option<String>,
    ) -> Result<bool>;
    /// Disables (no login succeeds; the running server ends the account's
    /// sessions, through the change log) or enables an account; false if
    /// no account.
    async fn set_disabled(&self, handle: &str, disabled: bool) -> Result<bool>;
    /// Deletes an account, its lists, and its place on other users' reverse
    /// lists; false if no account.
    async fn delete_user(&self, handle: &str) -> Result<bool>;
    /// Everything about an account that its NS session needs, read as one
    /// consistent snapshot: a concurrent [`commit`](Store::commit) is seen
    /// entirely or not at all. [`StoreError::NoSuchUser`] if no account.
    async fn load_account(&self, user_id: i64) -> Result<Account>;
    /// Atomically applies a planned change (and its reverse-list side).
    /// With `bump_version` the owner's list version advances by one;
    /// otherwise it is returned unchanged.
    async fn commit(&self, user_id: i64, change: &Change) -> Result<Committed>;
    /// Advances several users' list versions by one, returning the new
    /// values (used when a contact's published properties change).
    async fn bump_versions(&self, handles: &[Handle]) -> Result<Vec<(Handle, u64)>>;
    /// Phone properties of `handles` that their owners publish to `viewer`
    /// (those who admit the viewer); others are left out.
    async fn published_properties(
        &self,
        viewer: &Handle,
        handles: &[Handle],
    ) -> Result<Vec<(Handle, Properties)>>;
    /// The account change log after position `after` (deletions and
    /// credential changes, whichever process made them), and the position
    /// to ask from next time. `None` asks for the current position only.
    async fn account_changes(&self, after: Option<u64>) -> Result<(u64, Vec<AccountChange>)>;
    /// Creates circle `id` named `name` with `creator_id` as its accepted
    /// admin, unless the creator is in `max_circles` circles already
    /// (checked in the same transaction).
    async fn create_circle(
        &self,
        id: CircleId,
        name: &str,
        creator_id: i64,
        max_circles: usize,
    ) -> Result<CircleCreated>;
    /// A circle with its members (current names), or `None`.
    async fn circle(&self, id: CircleId) -> Result<Option<Circle>>;
    /// The circles `user_id` is a member of (invited or accepted), by id.
    async fn circles_of(&self, user_id: i64) -> Result<Vec<Circle>>;
    /// Adds `user_id` to circle `id` as an invited (pending) member,
    /// within `max_members` per circle and `max_circles` per user, all
    /// checked in one transaction.
    async fn invite_to_circle(
        &self,
        id: CircleId,
        user_id: i64,
        inviter_id: i64,
        max_members: usize,
        max_circles: usize,
    ) -> Result<CircleInvited>;
    /// Sets a member's state (accepting an invitation); false if they are
    /// not a member.
    async fn set_circle_member_state(
        &self,
        id: CircleId,
        user_id: i64,
        state: MemberState,
    ) -> Result<bool>;
    /// Removes a member (leaving, declining); false if not a member.
    async fn remove_circle_member(&self, id: CircleId, user_id: i64) -> Result<bool>;
    /// Deletes a circle and its members; false if there is none.
    async fn delete_circle(&self, id: CircleId) -> Result<bool>;
    /// Stores an offline message for `oim.recipient_id` after the ones
    /// already waiting, unless `max_waiting` are waiting already (checked
    /// in the same transaction). Returns after the commit.
    /// [`StoreError::NoSuchUser`] if the recipient does not exist.
    async fn add_oim(&self, oim: NewOim, max_waiting: usize) -> Result<OimAdded>;
    /// The offline messages waiting for `recipient_id`, in arrival order,
    /// without their text.
    async fn oims(&self, recipient_id: i64) -> Result<Vec<StoredOim>>;
    /// One of `recipient_id`'s offline messages, with its text.
    async fn oim(&self, recipient_id: i64, id: Uuid) -> Result<Option<StoredOim>>;
    /// Deletes those of `ids` that are `recipient_id`'s (others are left
    /// alone); returns how many were deleted.
    async fn delete_oims(&self, recipient_id: i64, ids: &[Uuid]) -> Result<usize>;
    // Moving data (`msnd export` / `import`, `msn_store::dump`).

    /// Every account with all it holds, ordered by handle, read as one
    /// consistent snapshot while the server may be writing.
    async fn export_accounts(&self) -> Result<Vec<AccountDump>>;
    /// Writes `accounts` as they are (list bits, versions, offline
    /// messages; nothing is mirrored onto other accounts), all in one
    /// transaction: [`StoreError::AlreadyExists`] with the first handle
    /// that is taken, and nothing written, if any is.
    async fn import_accounts(&self, accounts: &[AccountDump]) -> Result<ImportCounts>;
    /// Replaces an account's password hash with another hash of the same
    /// password (a foreign hash re-hashed to argon2id at sign-in), only if
    /// it is still `current`; no change-log entry, since the credentials
    /// stay the same. False if the account or its hash changed meanwhile.
    async fn replace_password_hash(&self, handle: &str, current: &str, new: &str) -> Result<bool>;

    /// Flushes and closes connections (graceful shutdown).
    async fn close(&self);

    // Invitation codes of the sign-up page (`msnd invite`).

    /// Stores new unused invitation codes; a code that exists already is
    /// a [`StoreError::AlreadyExists`] and none is stored.
    async fn add_invites(&self, codes: &[String]) -> Result<()>;
    /// Every invitation code, oldest first.
    async fn invites(&self) -> Result<Vec<Invite>>;
    /// [`Store::create_user`] and spending `code` for it, in one
    /// transaction: with an unknown or spent code
    /// ([`StoreError::InviteNotValid`]) or a taken handle
    /// ([`StoreError::AlreadyExists`]) nothing changes.
    async fn create_user_with_invite(&self, user: NewUser, code: &str) -> Result<i64>;
}

/// An invitation code: single use, spent by the account it created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub code: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The handle of the account created with it (kept if that account is
    /// deleted later); `None` while unused.
    pub used_by: Option<String>,
    /// Unix seconds.
    pub used_at: Option<i64>,
}
