//! A signed-in user as this node holds them: the loaded account, the
//! endpoints (NS sessions) signed in to it, and what watchers see.
//!
//! Only the user's own operations (through the [`Service`](crate::Service))
//! and events delivered to the user (through the [`Bus`](crate::Bus), which
//! calls [`UserState::receive`]) change this state.
//!
//! Locking rule: a task never holds two users' locks at once, and never
//! holds a lock across an `await`.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use msn_core::account::Account;
use msn_core::handle::Handle;
use msn_store::{Store, StoreError};
use msn_wire::Dialect;
use msn_wire::vocab::{ListKind, Status};
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::event::{CircleEvent, ContactPresence, Event, PeerNotice, PresenceNotice};
use crate::mailbox::{Mailbox, PushError};
use msn_core::circle::CircleId;

/// Presence of one endpoint, as set by `CHG`.
#[derive(Clone, Debug)]
pub struct Presence {
    pub status: Status,
    /// The endpoint sent its first `CHG`: it receives presence from now on.
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

/// One signed-in client of a user (an NS session; from MSNP16 one of
/// several, told apart by machine GUID).
pub struct Endpoint {
    /// Process-unique id of the connection serving it.
    pub id: u64,
    pub dialect: Dialect,
    /// The client's machine GUID (MSNP16+), if it sent one.
    pub machine_guid: Option<Uuid>,
    pub mailbox: Arc<Mailbox<Event>>,
    pub presence: Presence,
    /// `IMS OFF` turns switchboard invitations off (MSNP3+ WebTV clients).
    pub ims_on: bool,
    /// When its presence last changed (a per-user counter): the most
    /// recent change wins when presence is merged.
    pub changed: u64,
    /// Its `<PrivateEndpointData>` document (MSNP16+), shown to the user's
    /// other machines.
    pub private_document: Option<bytes::Bytes>,
    /// The circles whose conversation it joined (`PUT`, MSNP18).
    pub circles: Vec<CircleId>,
    /// It presented the account's circle ticket (`USR SHA A`), which
    /// circle traffic needs.
    pub circle_ticket: bool,
}

impl Endpoint {
    /// Whether this endpoint may chat: it sent its first `CHG`, is not
    /// hidden, and takes invitations (`IMS ON`). Only such endpoints open
    /// switchboards or are rung.
    pub fn can_chat(&self) -> bool {
        self.presence.live && self.presence.status != Status::Hidden && self.ims_on
    }

    /// Whether this endpoint may keep running beside other endpoints of
    /// the same account (multiple points of presence, MSNP16+).
    pub fn shares_account(&self) -> bool {
        self.dialect.has_multiple_endpoints()
    }

    /// Whether a new sign-in of the same account ends this session: every
    /// session before MSNP16, and the same machine signing in again
    /// (MSNP16+ MPOP keeps the other machines). `new_shares`: the new
    /// endpoint shares the account.
    pub fn replaced_by(&self, new_shares: bool, new_machine: Option<Uuid>) -> bool {
        !(new_shares && self.shares_account() && self.machine_guid != new_machine)
    }
}

/// A signed-in user's state on this node.
pub struct UserState {
    pub account: Account,
    /// The signed-in endpoints; usually one.
    pub(crate) endpoints: Vec<Endpoint>,
    /// Switchboard connections the user holds (limit per user).
    pub sb_sessions: usize,
    /// Orders presence changes across endpoints.
    pub(crate) clock: u64,
}

impl UserState {
    pub(crate) fn new(account: Account) -> UserState {
        UserState {
            account,
            endpoints: Vec::new(),
            sb_sessions: 0,
            clock: 0,
        }
    }

    pub fn endpoint(&self, id: u64) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    pub(crate) fn endpoint_mut(&mut self, id: u64) -> Option<&mut Endpoint> {
        self.endpoints.iter_mut().find(|e| e.id == id)
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The endpoint whose presence others see: the live one that changed
    /// last.
    fn shown(&self) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .filter(|e| e.presence.live)
            .max_by_key(|e| e.changed)
    }

    /// What watchers are told about this user right now.
    pub fn notice(&self) -> Arc<PresenceNotice> {
        let shown = self.shown();
        Arc::new(PresenceNotice {
            handle: self.account.handle.clone(),
            name: self.account.friendly_name.as_str().into(),
            status: shown.map_or(Status::Offline, |e| e.presence.status),
            capabilities: shown.and_then(|e| e.presence.capabilities.clone()),
            msn_object: shown.and_then(|e| e.presence.msn_object.clone()),
        })
    }

    /// Whether `watcher` may see this user right now.
    pub fn visible_to(&self, watcher: &str) -> bool {
        self.shown().is_some_and(|e| e.presence.status.is_visible()) && self.account.admits(watcher)
    }

    /// What `watcher` sees of this user, if anything.
    pub fn presence_for(&self, watcher: &str) -> Option<ContactPresence> {
        self.visible_to(watcher).then(|| ContactPresence {
            notice: self.notice(),
            personal_message: self
                .account
                .personal_message
                .as_deref()
                .map(bytes::Bytes::copy_from_slice),
            endpoints: crate::ops::endpoints::endpoint_elements(self),
        })
    }

    /// Applies an event addressed to this user and queues it for the
    /// endpoints that render it. `Ok` if at least one endpoint took it.
    pub fn receive(&mut self, event: Event) -> Result<(), PushError> {
        match &event {
            Event::ReverseAdded {
                handle,
                name,
                version,
            } => self.account.apply_reverse(handle, name, true, *version),
            Event::ReverseRemoved { handle, version } => {
                self.account.apply_reverse(handle, "", false, *version)
            }
            Event::Property { version, .. } => {
                self.account.list_version = self.account.list_version.max(*version);
            }
            // A contact renamed itself: lists and the address book show
            // the name it has now.
            Event::Presence(p) if p.status.is_visible() => {
                self.account.note_current_name(p.handle.as_str(), &p.name);
            }
            _ => {}
        }
        if let Event::PeerNotice(notice) = &event {
            return self.receive_peer_notice(notice, &event);
        }
        if let Event::Circle(circle) = &event {
            return self.receive_circle(circle, &event);
        }
        // Presence is for endpoints that sent their first `CHG`; an
        // invitation for those that can chat; the rest for every endpoint.
        let wanted: fn(&Endpoint) -> bool = match event {
            Event::Ring(_) => Endpoint::can_chat,
            Event::Presence(_) | Event::PersonalMessage { .. } => |e| e.presence.live,
            // Only MSNP13+ clients know offline messages.
            Event::OfflineMessage(_) | Event::OfflineMessagesDeleted { .. } => {
                |e| e.dialect.has_mail_data()
            }
            _ => |_| true,
        };
        let skipped = match &event {
            Event::Ring(ring) => ring.except_machine,
            _ => None,
        };
        let mut result = Err(PushError::Closed);
        for e in self
            .endpoints
            .iter()
            .filter(|e| wanted(e) && (skipped.is_none() || e.machine_guid != skipped))
        {
            match e.mailbox.push(event.clone()) {
                Ok(()) => result = Ok(()),
                Err(err) if result.is_err() => result = Err(err),
                Err(_) => {}
            }
        }
        result
    }

    /// A `UBN` goes to the MSNP13+ endpoints it names (all of them when it
    /// names none), never back to the machine that sent it.
    fn receive_peer_notice(&self, notice: &PeerNotice, event: &Event) -> Result<(), PushError> {
        let mut result = Err(PushError::Closed);
        let from_self = |e: &Endpoint| {
            notice.from == self.account.handle && e.machine_guid == notice.from_machine
        };
        for e in self.endpoints.iter().filter(|e| {
            !e.dialect.has_ns_lists()
                && notice.to_machine.is_none_or(|m| e.machine_guid == Some(m))
                && !from_self(e)
        }) {
            match e.mailbox.push(event.clone()) {
                Ok(()) => result = Ok(()),
                Err(err) if result.is_err() => result = Err(err),
                Err(_) => {}
            }
        }
        result
    }

    /// Circle events reach MSNP18 endpoints only; conversation traffic
    /// only those in the conversation, never the sending endpoint. A
    /// removal takes the circle out of every endpoint's conversations.
    fn receive_circle(&mut self, circle: &CircleEvent, event: &Event) -> Result<(), PushError> {
        if let CircleEvent::Removed { circle } = circle {
            for e in &mut self.endpoints {
                e.circles.retain(|c| c != circle);
            }
            return Ok(());
        }
        let conversation = circle.conversation();
        let (only, except) = match circle {
            CircleEvent::Roster { only, .. } => (*only, None),
            CircleEvent::Message {
                sender_endpoint, ..
            } => (None, Some(*sender_endpoint)),
            _ => (None, None),
        };
        let mut result = Err(PushError::Closed);
        for e in self.endpoints.iter().filter(|e| {
            e.dialect.has_circles()
                && conversation.is_none_or(|c| e.circles.contains(&c))
                && only.is_none_or(|id| e.id == id)
                && except != Some(e.id)
        }) {
            match e.mailbox.push(event.clone()) {
                Ok(()) => result = Ok(()),
                Err(err) if result.is_err() => result = Err(err),
                Err(_) => {}
            }
        }
        result
    }

    /// Whether one of the user's endpoints is in `circle`'s conversation.
    pub fn in_conversation(&self, circle: CircleId) -> bool {
        self.endpoints.iter().any(|e| e.circles.contains(&circle))
    }

    /// Handles on the reverse list, in handle order.
    pub fn watchers(&self) -> impl Iterator<Item = &Handle> {
        self.account.on_list(ListKind::Reverse).map(|c| &c.handle)
    }
}

/// A user with at least one session on this node (NS endpoints, and
/// switchboard connections while they last).
pub struct OnlineUser {
    pub handle: Handle,
    user_id: i64,
    /// Attached sessions; changed only under the directory's shard lock.
    pub(crate) refs: AtomicUsize,
    state: OnceCell<Mutex<UserState>>,
}

impl OnlineUser {
    pub(crate) fn new(handle: Handle, user_id: i64) -> OnlineUser {
        OnlineUser {
            handle,
            user_id,
            refs: AtomicUsize::new(0),
            state: OnceCell::new(),
        }
    }

    /// Loads the account on first use; every caller waits for the same load.
    pub async fn state(&self, store: &dyn Store) -> Result<&Mutex<UserState>, StoreError> {
        self.state
            .get_or_try_init(|| async {
                let account = store.load_account(self.user_id).await?;
                Ok(Mutex::new(UserState::new(account)))
            })
            .await
    }

    /// The state if it is loaded (never waits).
    pub fn loaded(&self) -> Option<MutexGuard<'_, UserState>> {
        self.state.get().map(|m| m.lock())
    }

    /// The state's lock if it is loaded (never waits).
    pub(crate) fn cell(&self) -> Option<&Mutex<UserState>> {
        self.state.get()
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }
}
