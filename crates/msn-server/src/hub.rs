//! The directory of signed-in users.
//!
//! While a user has a Notification Server session, their account (lists,
//! settings) lives in memory in an [`OnlineUser`], next to their presence and
//! the mailbox of their NS connection. Other sessions read it to decide
//! visibility and deliver events; only its owner edits the lists, except for
//! the reverse list, which other users' FL edits update (after committing
//! them to the store).
//!
//! Locking rule: a session never holds two users' locks at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use dashmap::DashMap;
use msn_core::account::{Account, Property};
use msn_core::handle::Handle;
use msn_store::{Store, StoreError};
use msn_wire::Dialect;
use msn_wire::vocab::Status;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::OnceCell;

use crate::mailbox::{Mailbox, PushError};

/// Why the server ends an NS session on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickReason {
    /// The account signed in elsewhere (`OUT OTH`).
    OtherLogin,
    /// The server is shutting down (`OUT SSD`).
    Shutdown,
}

/// A contact's presence as watchers are told about it. A status that is
/// not visible (hidden, offline) is rendered as `FLN`.
#[derive(Clone, Debug)]
pub struct PresenceNotice {
    pub handle: Handle,
    pub name: Arc<str>,
    pub status: Status,
    pub capabilities: Option<Arc<str>>,
    pub msn_object: Option<Arc<str>>,
}

/// An invitation to a switchboard session, for the invitee's NS.
#[derive(Clone, Debug)]
pub struct Ring {
    pub session_id: String,
    pub sb_addr: String,
    pub cookie: String,
    pub inviter: Handle,
    pub inviter_name: Arc<str>,
}

/// Events delivered to an NS session from elsewhere.
#[derive(Clone, Debug)]
pub enum NsEvent {
    Presence(Arc<PresenceNotice>),
    PersonalMessage {
        handle: Handle,
        document: Bytes,
    },
    ReverseAdded {
        handle: Handle,
        name: String,
        version: u64,
    },
    ReverseRemoved {
        handle: Handle,
        version: u64,
    },
    Property {
        handle: Handle,
        property: Property,
        value: Option<String>,
        version: u64,
    },
    Ring(Arc<Ring>),
    /// An MSN Alert (`NOT`, MSNP5+): an XML `<NOTIFICATION>` document.
    Alert(Bytes),
    Kick(KickReason),
}

/// The NS connection currently serving a user.
#[derive(Clone)]
pub struct NsLink {
    pub conn_id: u64,
    pub dialect: Dialect,
    pub mailbox: Arc<Mailbox<NsEvent>>,
}

/// Presence as set by `CHG`.
#[derive(Clone, Debug)]
pub struct Presence {
    pub status: Status,
    /// The session sent its first `CHG`: it receives presence from now on.
    pub live: bool,
    pub capabilities: Option<Arc<str>>,
    pub msn_object: Option<Arc<str>>,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            status: Status::Offline,
            live: false,
            capabilities: None,
            msn_object: None,
        }
    }
}

pub struct UserState {
    pub account: Account,
    pub ns: Option<NsLink>,
    pub presence: Presence,
    /// `IMS OFF` turns switchboard invitations off (MSNP3+ WebTV clients).
    pub ims_on: bool,
    /// Switchboard connections the user holds (limit per user).
    pub sb_sessions: usize,
}

impl UserState {
    /// What watchers are told about this user right now.
    pub fn notice(&self) -> Arc<PresenceNotice> {
        Arc::new(PresenceNotice {
            handle: self.account.handle.clone(),
            name: self.account.friendly_name.as_str().into(),
            status: if self.ns.is_some() && self.presence.live {
                self.presence.status
            } else {
                Status::Offline
            },
            capabilities: self.presence.capabilities.clone(),
            msn_object: self.presence.msn_object.clone(),
        })
    }

    /// The mailbox of a session that wants presence events.
    pub fn live_mailbox(&self) -> Option<&Arc<Mailbox<NsEvent>>> {
        self.ns
            .as_ref()
            .filter(|_| self.presence.live)
            .map(|l| &l.mailbox)
    }

    /// Whether `watcher` may see this user right now.
    pub fn visible_to(&self, watcher: &str) -> bool {
        self.ns.is_some()
            && self.presence.live
            && self.presence.status.is_visible()
            && self.account.admits(watcher)
    }
}

/// A user with at least one NS session attached.
pub struct OnlineUser {
    pub handle: Handle,
    user_id: i64,
    /// Attached sessions; changed only under the directory's shard lock.
    refs: AtomicUsize,
    state: OnceCell<Mutex<UserState>>,
}

impl OnlineUser {
    /// Loads the account on first use; every caller waits for the same load.
    pub async fn state(&self, store: &dyn Store) -> Result<&Mutex<UserState>, StoreError> {
        self.state
            .get_or_try_init(|| async {
                let account = store.load_account(self.user_id).await?;
                Ok(Mutex::new(UserState {
                    account,
                    ns: None,
                    presence: Presence::default(),
                    ims_on: true,
                    sb_sessions: 0,
                }))
            })
            .await
    }

    /// The state if it is loaded (never waits).
    pub fn loaded(&self) -> Option<MutexGuard<'_, UserState>> {
        self.state.get().map(|m| m.lock())
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }
}

/// All online users, by handle.
pub struct Hub {
    users: DashMap<Handle, Arc<OnlineUser>>,
    next_conn_id: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            users: DashMap::new(),
            next_conn_id: AtomicU64::new(1),
        }
    }
}

impl Hub {
    /// A process-unique connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a session of `handle`; the entry lives until the last
    /// session detaches.
    pub fn attach(&self, handle: &Handle, user_id: i64) -> Arc<OnlineUser> {
        let entry = self.users.entry(handle.clone()).or_insert_with(|| {
            Arc::new(OnlineUser {
                handle: handle.clone(),
                user_id,
                refs: AtomicUsize::new(0),
                state: OnceCell::new(),
            })
        });
        entry.refs.fetch_add(1, Ordering::Relaxed);
        entry.clone()
    }

    /// Unregisters a session; the last one removes the user.
    pub fn detach(&self, user: &Arc<OnlineUser>) {
        self.users.remove_if(&user.handle, |_, u| {
            Arc::ptr_eq(u, user) && u.refs.fetch_sub(1, Ordering::Relaxed) == 1
        });
    }

    pub fn get(&self, handle: &str) -> Option<Arc<OnlineUser>> {
        self.users.get(handle).map(|e| e.clone())
    }

    /// Number of users with a session.
    pub fn online_count(&self) -> usize {
        self.users.len()
    }

    /// Queues `event` for `handle` in the mailbox `pick` chooses from the
    /// user's state (none: the event is not for this user now).
    fn deliver(
        &self,
        handle: &str,
        event: NsEvent,
        pick: impl FnOnce(&UserState) -> Option<&Arc<Mailbox<NsEvent>>>,
    ) -> Result<(), PushError> {
        let mailbox = self
            .get(handle)
            .and_then(|user| user.loaded().and_then(|st| pick(&st).cloned()))
            .ok_or(PushError::Closed)?;
        mailbox.push(event)
    }

    /// Sends an MSN Alert (`NOT`) to a signed-in user whose dialect has it.
    pub fn alert(&self, handle: &str, document: Bytes) -> Result<(), PushError> {
        self.deliver(handle, NsEvent::Alert(document), |st| {
            st.ns
                .as_ref()
                .filter(|link| link.dialect.has_msnp5_commands())
                .map(|link| &link.mailbox)
        })
    }

    /// Queues `event` for `handle` if that user's session is live.
    pub fn deliver_live(&self, handle: &str, event: NsEvent) -> Result<(), PushError> {
        self.deliver(handle, event, UserState::live_mailbox)
    }
}
