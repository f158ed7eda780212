//! What one user's action causes for another user or endpoint: the events a
//! [`Bus`](crate::Bus) carries, and that each receiving session renders in
//! its own dialect.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::account::Property;
use msn_core::circle::CircleId;
use msn_core::handle::Handle;
use msn_wire::vocab::Status;

/// Why the server ends an endpoint's session on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickReason {
    /// The account signed in elsewhere (`OUT OTH`).
    OtherLogin,
    /// The server is shutting down (`OUT SSD`).
    Shutdown,
    /// The account was deleted, disabled, or its password changed, while
    /// signed in.
    AccountChanged,
    /// An operator signed the user out (`msnd admin kick`).
    Operator,
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

impl PresenceNotice {
    /// An offline notice for `handle` when nothing else is known of them
    /// (`FLN` needs only the handle).
    pub fn gone(handle: Handle) -> PresenceNotice {
        PresenceNotice {
            name: handle.as_str().into(),
            handle,
            status: Status::Offline,
            capabilities: None,
            msn_object: None,
        }
    }

    /// The same notice, as offline.
    pub fn offline(&self) -> PresenceNotice {
        PresenceNotice {
            status: Status::Offline,
            ..self.clone()
        }
    }
}

/// What a watcher may see of a contact right now (`ILN` and the stored
/// personal message).
#[derive(Clone, Debug)]
pub struct ContactPresence {
    pub notice: Arc<PresenceNotice>,
    pub personal_message: Option<Bytes>,
    /// The contact's machines as `<EndpointData>` elements, for MSNP16+
    /// watchers (see [`Event::PersonalMessage`]).
    pub endpoints: Option<Bytes>,
}

/// An invitation to a switchboard session, for the invitee's endpoints.
#[derive(Clone, Debug)]
pub struct Ring {
    pub session_id: String,
    pub sb_addr: String,
    pub cookie: String,
    pub inviter: Handle,
    pub inviter_name: Arc<str>,
    /// A machine of the invitee that is not rung: the one calling its own
    /// other machines into a session (WLM 2009's `CAL` to itself).
    pub except_machine: Option<uuid::Uuid>,
}

/// An event addressed to a user; the user's home applies what concerns
/// their own state (reverse list, list version) and queues it for the
/// endpoints that should render it.
#[derive(Clone, Debug)]
pub enum Event {
    /// A contact's presence changed (`NLN`/`FLN`); live endpoints only.
    Presence(Arc<PresenceNotice>),
    /// The server goes down in this many minutes: the system message
    /// every client shows (`text/x-msmsgssystemmessage`, type 1).
    ShutdownWarning { minutes: u32 },
    /// A contact's personal message (`UBX`); live endpoints only. Each
    /// receiver is shown `document` as its version knows it
    /// (`msn_core::personal_message::project`).
    PersonalMessage {
        handle: Handle,
        /// The contact's `<Data>` document as stored.
        document: Bytes,
        /// Elements MSNP16+ receivers get inside the document: the
        /// contact's machines (`<EndpointData>`), and for the user's own
        /// machines their `<PrivateEndpointData>` too.
        endpoints: Option<Bytes>,
        /// The document this one replaces (after a `UUX`): a receiver
        /// whose view of both is the same is sent nothing.
        previous: Option<Bytes>,
        /// Sent because the contact's presence changed, not its document:
        /// only MSNP16+ receivers want it then (transcripts/
        /// msnp18-login.txt); older ones got the document once already.
        after_presence: bool,
    },
    /// `handle` added the receiver to their forward list: the receiver's
    /// reverse list gains them (`ADD 0 RL`).
    ReverseAdded {
        handle: Handle,
        name: Arc<str>,
        version: u64,
    },
    /// `handle` removed the receiver from their forward list (`REM 0 RL`).
    ReverseRemoved { handle: Handle, version: u64 },
    /// A contact's phone property changed (`BPR`); the receiver's list
    /// version advanced to `version`.
    Property {
        handle: Handle,
        property: Property,
        value: Option<Arc<str>>,
        version: u64,
    },
    /// An invitation to chat (`RNG`); every endpoint that can chat.
    Ring(Arc<Ring>),
    /// An MSN Alert (`NOT`, MSNP5+): an XML `<NOTIFICATION>` document;
    /// older dialects have no way to show it.
    Alert(Bytes),
    /// A notification one client sends another through the NS (`UUN`,
    /// delivered as `UBN`, MSNP13+): shared folders, P2P bootstrap, or an
    /// MPOP request to one of the user's own machines to sign out.
    /// `to_machine` names one endpoint; `None` means all of them.
    PeerNotice(Arc<PeerNotice>),
    /// An offline message for the receiver was stored
    /// (`text/x-msmsgsoimnotification`, MSNP13+ endpoints).
    OfflineMessage(Arc<msn_store::StoredOim>),
    /// `count` of the receiver's offline messages were deleted
    /// (`text/x-msmsgsactivemailnotification`, MSNP13+ endpoints).
    OfflineMessagesDeleted { count: usize },
    /// Circle traffic (MSNP18 endpoints only; see [`CircleEvent`]).
    Circle(Arc<CircleEvent>),
    /// The session must end (`OUT …`).
    Kick(KickReason),
}

/// What a circle's members are told. Only MSNP18 endpoints take these;
/// conversation traffic only reaches the endpoints that joined the
/// circle's conversation (`PUT`).
#[derive(Clone, Debug)]
pub enum CircleEvent {
    /// The receiver's circles changed (an invitation, an acceptance, a
    /// member leaving, a deletion): the address book's change notice
    /// (`NOT`), on which the client reads its address book again.
    BookChanged,
    /// The receiver is no longer in `circle` (left, removed, deleted):
    /// its endpoints leave the conversation; nothing is rendered.
    Removed { circle: CircleId },
    /// `present` are in the conversation (`NFY PUT`, and their presence
    /// in the circle, `NLN …;via=`). `full`: the whole roster, for the
    /// endpoint `only` that just joined; otherwise a newcomer, for
    /// everyone else in it.
    Roster {
        circle: CircleId,
        full: bool,
        present: Vec<Arc<PresenceNotice>>,
        only: Option<u64>,
    },
    /// `member` left the conversation (`NFY DEL`, `FLN …;via=`).
    Left { circle: CircleId, member: Handle },
    /// A member in the conversation changed their presence (`NLN`, or
    /// `FLN` when hidden, `…;via=`).
    Presence {
        circle: CircleId,
        notice: Arc<PresenceNotice>,
    },
    /// A message to the circle (`SDG`), for every endpoint in the
    /// conversation but the one that sent it.
    Message {
        circle: CircleId,
        sender_endpoint: u64,
        payload: Bytes,
    },
}

impl CircleEvent {
    /// The conversation it belongs to (`None`: for every MSNP18
    /// endpoint).
    pub fn conversation(&self) -> Option<CircleId> {
        match self {
            CircleEvent::BookChanged | CircleEvent::Removed { .. } => None,
            CircleEvent::Roster { circle, .. }
            | CircleEvent::Left { circle, .. }
            | CircleEvent::Presence { circle, .. }
            | CircleEvent::Message { circle, .. } => Some(*circle),
        }
    }
}

/// The contents of a [`Event::PeerNotice`].
#[derive(Clone, Debug)]
pub struct PeerNotice {
    pub from: Handle,
    pub from_machine: Option<uuid::Uuid>,
    pub to_machine: Option<uuid::Uuid>,
    /// The `UUN` type: 1 shared folders, 2 unknown, 3 P2P over the NS, 4
    /// MPOP (`goawyplzthxbye`: sign out), …
    pub kind: u16,
    pub payload: Bytes,
}
