//! msnd's service layer: one function per user-visible operation (adding a
//! contact, blocking, changing presence, ringing someone …), shared by
//! every transport. An operation takes the acting endpoint, checks the
//! request with `msn-core`'s rules, commits through the [`Store`], and
//! returns the facts the actor's reply needs; what the operation means for
//! other users travels as [`Event`]s over the [`Bus`].
//!
//! Transports (the NS and SB over TCP today; SOAP, the HTTP gateway and a
//! web socket later) only parse, call the service, and render the result in
//! their own dialect. No transport reads or changes another user's
//! in-memory state: that is the Bus's job alone.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod bus;
pub mod directory;
pub mod event;
pub mod fanout;
pub mod mailbox;
mod ops;
pub mod user;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use msn_core::account::{GroupMode, ListError, ListLimits, MAX_NUMERIC_GROUPS};
use msn_core::handle::Handle;
use msn_store::{Store, StoreError};
use msn_wire::Dialect;
use msn_wire::dialect::ListModel;
use parking_lot::MutexGuard;
use tracing::warn;

pub use bus::{Bus, Invitee, LocalBus};
pub use directory::Directory;
pub use event::{
    CircleEvent, ContactPresence, Event, KickReason, PeerNotice, PresenceNotice, Ring,
};
pub use mailbox::{Drained, Mailbox, PushError};
pub use ops::account::AccountActor;
pub use ops::chat::{ChatIdentity, ChatRefused};
pub use ops::circles::{CircleError, CircleLimits};
pub use ops::lists::Added;
pub use ops::login::NewEndpoint;
pub use ops::oim::{OfflineMessage, OimLimits, OimRefused};
pub use ops::presence::PresenceSet;
pub use user::{Endpoint, OnlineUser, Presence, UserState};

/// Limits the service enforces, from the server configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// List sizes, and (`max_groups`) the group limit of MSNP10+ dialects;
    /// MSNP7–MSNP9 keep [`MAX_NUMERIC_GROUPS`].
    pub list_limits: ListLimits,
    /// Switchboard sessions one user may hold; a user at the limit cannot
    /// be invited.
    pub max_sb_sessions_per_user: usize,
    /// Offline-message limits.
    pub oim: OimLimits,
    /// Circle sizes (MSNP18).
    pub circles: CircleLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            list_limits: ListLimits::default(),
            max_sb_sessions_per_user: 50,
            oim: OimLimits::default(),
            circles: CircleLimits::default(),
        }
    }
}

/// Why an operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    /// A list rule refused it (each variant is one protocol error code).
    Refused(ListError),
    /// The handle named is not an account here (the dialect's own code).
    UnknownAccount,
    /// The store failed; nothing was changed (`603`/`500`).
    Storage,
}

impl From<ListError> for OpError {
    fn from(e: ListError) -> Self {
        OpError::Refused(e)
    }
}

fn storage(e: StoreError) -> OpError {
    warn!(error = %e, "store operation failed");
    OpError::Storage
}

/// The endpoint an operation acts for: a signed-in client of a user.
pub struct Actor {
    user: Arc<OnlineUser>,
    endpoint: u64,
    dialect: Dialect,
}

impl Actor {
    pub fn handle(&self) -> &Handle {
        &self.user.handle
    }

    /// The actor's own state (account, endpoints). Never hold it across an
    /// `await`; change it only through the [`Service`].
    pub fn state(&self) -> MutexGuard<'_, UserState> {
        self.user
            .loaded()
            .expect("a signed-in user's state is loaded")
    }

    /// How group arguments of this actor's list edits are read.
    fn group_mode(&self) -> GroupMode {
        match self.dialect.list_model() {
            // From MSNP13 the address book keeps MSNP10's GUID groups.
            ListModel::Guid | ListModel::AddressBook => GroupMode::DefaultHidden,
            _ if self.dialect.has_groups() => GroupMode::Explicit,
            _ => GroupMode::None,
        }
    }

    /// The configured list limits as they apply to this actor's dialect:
    /// - groups: 30 where they are numbered (MSNP7–MSNP9), the configured
    ///   limit where they are GUIDs;
    /// - AL and BL at once: msnp11-sdk blocks with `ADC BL` before `REM AL`
    ///   (and unblocks the other way round), so from MSNP11 on the conflict
    ///   check (`219`) is left out and a handle on both counts as blocked.
    ///   Older dialects keep `219` (msnp2-7.md §7.1).
    fn list_limits(&self, settings: &Settings) -> ListLimits {
        let configured = settings.list_limits;
        ListLimits {
            max_groups: match self.dialect.list_model() {
                ListModel::Guid | ListModel::AddressBook => configured.max_groups,
                _ => MAX_NUMERIC_GROUPS,
            },
            allow_and_block: self.dialect.has_pending_list(),
            ..configured
        }
    }
}

/// The service layer of one node. Clones share everything (store,
/// directory, bus): the protocol server and the HTTP services act through
/// clones of one service.
pub struct Service {
    store: Arc<dyn Store>,
    directory: Arc<Directory>,
    bus: Arc<dyn Bus>,
    settings: Settings,
}

impl Service {
    pub fn new(
        store: Arc<dyn Store>,
        directory: Arc<Directory>,
        bus: Arc<dyn Bus>,
        settings: Settings,
    ) -> Service {
        Service {
            store,
            directory,
            bus,
            settings,
        }
    }

    /// A single-node service: the in-process bus over a fresh directory.
    pub fn local(store: Arc<dyn Store>, settings: Settings) -> Service {
        let directory = Arc::new(Directory::default());
        let bus = Arc::new(LocalBus::new(directory.clone(), store.clone()));
        Service::new(store, directory, bus, settings)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }
}
