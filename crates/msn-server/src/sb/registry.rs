//! Switchboard sessions and the one-time cookies that lead into them.
//!
//! The NS issues a cookie with `XFR SB` (to create a session) or with
//! `RNG` (to join one); the SB accepts each cookie once, for the user it was
//! issued to, before it expires. A session ends when its last participant
//! leaves; its unanswered invitations die with it.
//!
//! Cookies live behind [`Cookies`] and sessions behind [`SessionDirectory`]
//! (both in memory today, [`MemoryCookies`] and [`MemorySessions`]), so
//! that cookies can later be shared between nodes. A session is always
//! hosted by one node: messages are relayed under its lock and never leave
//! it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use msn_core::handle::Handle;
use msn_core::ids;
use msn_wire::Dialect;
use parking_lot::Mutex;
use uuid::Uuid;

use msn_service::Mailbox;

/// What a cookie lets its holder do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantKind {
    /// `USR`: open a new session.
    Create,
    /// `ANS`: join session `session_id`.
    Join { session_id: u32 },
}

/// A cookie's holder as the NS knew them when issuing it.
#[derive(Clone, Debug)]
pub struct Grant {
    pub handle: Handle,
    pub name: Arc<str>,
    pub dialect: Dialect,
    pub capabilities: Option<Arc<str>>,
    pub kind: GrantKind,
    pub expires: Instant,
}

impl Grant {
    /// An invitation for an MSNP16+ user, which every one of its endpoints
    /// may answer.
    fn rings_every_endpoint(&self) -> bool {
        matches!(self.kind, GrantKind::Join { .. }) && self.dialect.has_multiple_endpoints()
    }
}

/// A participant as others see it in `IRO`/`JOI`.
#[derive(Clone, Debug)]
pub struct Member {
    pub handle: Handle,
    pub name: Arc<str>,
    pub capabilities: Option<Arc<str>>,
    /// The machine an MSNP16+ participant joined from (`email;{guid}`);
    /// one user may take part from several.
    pub machine_guid: Option<Uuid>,
}

impl Member {
    /// `email;{GUID}` for an endpoint of an MSNP16+ user.
    pub fn endpoint_handle(&self) -> Option<String> {
        self.machine_guid
            .map(|g| msn_core::endpoint::endpoint_text(&self.handle, Some(g)))
    }
}

/// Events for a switchboard connection.
#[derive(Clone, Debug)]
pub enum SbEvent {
    /// `first_of_user`: no other endpoint of the member's user is in the
    /// session (older clients, which list users rather than endpoints,
    /// see only those).
    Joined {
        member: Arc<Member>,
        first_of_user: bool,
    },
    /// `last_of_user`: the member's user has no other endpoint left in the
    /// session.
    Left {
        member: Arc<Member>,
        last_of_user: bool,
        by_server: bool,
    },
    /// A relayed message, already encoded (`MSG sender name len` + payload;
    /// the same bytes for every dialect).
    Message(Bytes),
    /// The participant's account was signed out by an operator, disabled
    /// or deleted: its connection leaves (the others see `BYE … 1`) and
    /// closes.
    Expel,
}

pub struct Participant {
    pub conn_id: u64,
    pub member: Arc<Member>,
    pub dialect: Dialect,
    pub mailbox: Arc<Mailbox<SbEvent>>,
}

#[derive(Default)]
pub struct SessionState {
    pub participants: Vec<Participant>,
    /// Handles with an unanswered invitation, and when it expires.
    pub invited: Vec<(Handle, Instant)>,
    pub closed: bool,
}

impl SessionState {
    pub fn has_participant(&self, handle: &Handle) -> bool {
        self.participants.iter().any(|p| &p.member.handle == handle)
    }

    /// Whether this endpoint (user and machine) is in the session.
    pub fn has_endpoint(&self, handle: &Handle, machine_guid: Option<Uuid>) -> bool {
        self.participants
            .iter()
            .any(|p| &p.member.handle == handle && p.member.machine_guid == machine_guid)
    }

    /// Whether `handle` has an invitation that can still be answered.
    pub fn is_invited(&self, handle: &Handle, now: Instant) -> bool {
        self.invited
            .iter()
            .any(|(h, exp)| h == handle && *exp > now)
    }
}

pub struct Session {
    pub id: u32,
    pub state: Mutex<SessionState>,
}

impl Session {
    /// Sends `event` to every participant except `except`. Pushing never
    /// waits, so it is done under the session lock (which also keeps one
    /// sender's messages in order for everyone).
    pub fn broadcast(&self, except: u64, event: &SbEvent) -> Delivery {
        let st = self.state.lock();
        let mut delivery = Delivery {
            recipients: 0,
            failed: 0,
        };
        for p in st.participants.iter().filter(|p| p.conn_id != except) {
            delivery.recipients += 1;
            if p.mailbox.push(event.clone()).is_err() {
                delivery.failed += 1;
            }
        }
        delivery
    }
}

/// Outcome of delivering a message to the other participants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub recipients: usize,
    pub failed: usize,
}

/// Where switchboard cookies live: the NS issues them (`XFR SB`, `RNG`),
/// the SB redeems each once. Cookies are small and carry no chat, so a
/// deployment with several nodes can keep them in a shared store; the
/// in-memory [`MemoryCookies`] serves one node.
pub trait Cookies: Send + Sync {
    /// Stores `grant` under a fresh cookie and returns the cookie.
    fn issue(&self, grant: Grant) -> String;

    /// Takes the cookie if it was issued to `handle` and has not expired
    /// (single use). A cookie presented by another handle must stay valid
    /// for its owner: whoever saw it cannot burn the owner's session.
    fn redeem(&self, cookie: &str, handle: &Handle) -> Option<Grant>;

    /// Forgets cookies that expired before `now`.
    fn sweep(&self, now: Instant);
}

/// Cookies of one node, in memory.
#[derive(Default)]
pub struct MemoryCookies {
    grants: DashMap<String, Grant>,
}

impl Cookies for MemoryCookies {
    fn issue(&self, grant: Grant) -> String {
        loop {
            let cookie = ids::sb_cookie();
            if let dashmap::Entry::Vacant(v) = self.grants.entry(cookie.clone()) {
                v.insert(grant);
                return cookie;
            }
        }
    }

    fn redeem(&self, cookie: &str, handle: &Handle) -> Option<Grant> {
        // An invitation rings every endpoint of an MSNP16+ user, with one
        // cookie: it stays until it expires so that each of them can
        // answer (the session refuses an endpoint that is already in).
        if let Some(grant) = self.grants.get(cookie)
            && grant.handle == *handle
            && grant.rings_every_endpoint()
        {
            return (grant.expires > Instant::now()).then(|| grant.clone());
        }
        // Checked before it is taken, under the entry's lock.
        let (_, grant) = self.grants.remove_if(cookie, |_, g| g.handle == *handle)?;
        (grant.expires > Instant::now()).then_some(grant)
    }

    fn sweep(&self, now: Instant) {
        self.grants.retain(|_, g| g.expires > now);
    }
}

/// The sessions hosted by this node, by id. A session and its chat stay on
/// the node whose SB its participants are connected to; relaying goes
/// through the [`Session`] itself, not through this directory.
pub trait SessionDirectory: Send + Sync {
    /// Creates a session with `first` as its only participant.
    fn create(&self, first: Participant) -> Arc<Session>;

    fn get(&self, id: u32) -> Option<Arc<Session>>;

    /// Forgets a session (its last participant left).
    fn remove(&self, id: u32);

    /// Drops invitations that expired before `now`.
    fn sweep(&self, now: Instant);

    /// The sessions `handle` takes part in.
    fn with_participant(&self, handle: &Handle) -> Vec<Arc<Session>>;
}

/// Sessions of one node, in memory.
#[derive(Default)]
pub struct MemorySessions {
    sessions: DashMap<u32, Arc<Session>>,
}

impl SessionDirectory for MemorySessions {
    fn create(&self, first: Participant) -> Arc<Session> {
        let mut first = Some(first);
        loop {
            let id = ids::sb_session_id();
            if let dashmap::Entry::Vacant(v) = self.sessions.entry(id) {
                let session = Arc::new(Session {
                    id,
                    state: Mutex::new(SessionState {
                        participants: first.take().into_iter().collect(),
                        ..SessionState::default()
                    }),
                });
                v.insert(session.clone());
                crate::metrics::sb_sessions(1.0);
                return session;
            }
        }
    }

    fn get(&self, id: u32) -> Option<Arc<Session>> {
        self.sessions.get(&id).map(|s| s.clone())
    }

    fn remove(&self, id: u32) {
        if self.sessions.remove(&id).is_some() {
            crate::metrics::sb_sessions(-1.0);
        }
    }

    fn sweep(&self, now: Instant) {
        for s in self.sessions.iter() {
            s.state.lock().invited.retain(|(_, exp)| *exp > now);
        }
    }

    fn with_participant(&self, handle: &Handle) -> Vec<Arc<Session>> {
        self.sessions
            .iter()
            .filter(|s| s.state.lock().has_participant(handle))
            .map(|s| s.clone())
            .collect()
    }
}

/// The switchboard of one node: its cookies and its sessions.
pub struct Switchboards {
    cookies: Arc<dyn Cookies>,
    sessions: Arc<dyn SessionDirectory>,
}

impl Default for Switchboards {
    /// Everything in this process's memory.
    fn default() -> Self {
        Switchboards::new(
            Arc::new(MemoryCookies::default()),
            Arc::new(MemorySessions::default()),
        )
    }
}

impl Switchboards {
    pub fn new(cookies: Arc<dyn Cookies>, sessions: Arc<dyn SessionDirectory>) -> Switchboards {
        Switchboards { cookies, sessions }
    }

    /// Issues a cookie valid for `ttl`.
    pub fn grant(
        &self,
        handle: Handle,
        name: Arc<str>,
        dialect: Dialect,
        capabilities: Option<Arc<str>>,
        kind: GrantKind,
        ttl: Duration,
    ) -> String {
        self.cookies.issue(Grant {
            handle,
            name,
            dialect,
            capabilities,
            kind,
            expires: Instant::now() + ttl,
        })
    }

    /// Takes a cookie for `handle` (single use); see [`Cookies::redeem`].
    pub fn redeem(&self, cookie: &str, handle: &Handle) -> Option<Grant> {
        self.cookies.redeem(cookie, handle)
    }

    /// Creates a session with `first` as its only participant.
    pub fn create(&self, first: Participant) -> Arc<Session> {
        self.sessions.create(first)
    }

    pub fn get(&self, id: u32) -> Option<Arc<Session>> {
        self.sessions.get(id)
    }

    /// Removes a participant; tells the others (`BYE`) and destroys the
    /// session when it is empty. Returns false if it was not in it.
    pub fn leave(&self, session: &Session, conn_id: u64, by_server: bool) -> bool {
        let (member, last_of_user, others, now_empty) = {
            let mut st = session.state.lock();
            let Some(pos) = st.participants.iter().position(|p| p.conn_id == conn_id) else {
                return false;
            };
            let gone = st.participants.remove(pos);
            let others: Vec<_> = st.participants.iter().map(|p| p.mailbox.clone()).collect();
            if st.participants.is_empty() {
                st.closed = true;
                st.invited.clear();
            }
            let last_of_user = !st.has_participant(&gone.member.handle);
            (
                gone.member,
                last_of_user,
                others,
                st.participants.is_empty(),
            )
        };
        for m in others {
            let _ = m.push(SbEvent::Left {
                member: member.clone(),
                last_of_user,
                by_server,
            });
        }
        if now_empty {
            self.sessions.remove(session.id);
        }
        true
    }

    /// Makes every switchboard connection of `handle` leave its session
    /// and close (see [`SbEvent::Expel`]); returns how many were told.
    pub fn expel(&self, handle: &Handle) -> usize {
        let mut told = 0;
        for session in self.sessions.with_participant(handle) {
            let st = session.state.lock();
            for p in st
                .participants
                .iter()
                .filter(|p| &p.member.handle == handle)
            {
                if p.mailbox.push(SbEvent::Expel).is_ok() {
                    told += 1;
                }
            }
        }
        told
    }

    /// Relays an encoded message to everyone in the session but the sender.
    pub fn relay(&self, session: &Session, sender: u64, message: Bytes) -> Delivery {
        session.broadcast(sender, &SbEvent::Message(message))
    }

    /// Removes expired cookies and invitations.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.cookies.sweep(now);
        self.sessions.sweep(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(handle: &Handle, ttl: Duration) -> Grant {
        Grant {
            handle: handle.clone(),
            name: "Alice".into(),
            dialect: Dialect::MSNP2,
            capabilities: None,
            kind: GrantKind::Create,
            expires: Instant::now() + ttl,
        }
    }

    #[test]
    fn cookies_are_single_use_and_survive_the_wrong_handle() {
        let cookies = MemoryCookies::default();
        let alice = Handle::parse("alice@hotmail.com").unwrap();
        let mallory = Handle::parse("mallory@hotmail.com").unwrap();
        let cookie = cookies.issue(grant(&alice, Duration::from_secs(60)));
        assert!(cookies.redeem(&cookie, &mallory).is_none());
        let taken = cookies.redeem(&cookie, &alice).expect("still the owner's");
        assert_eq!(taken.kind, GrantKind::Create);
        assert!(cookies.redeem(&cookie, &alice).is_none(), "single use");
    }

    #[test]
    fn expired_cookies_are_refused_and_swept() {
        let cookies = MemoryCookies::default();
        let alice = Handle::parse("alice@hotmail.com").unwrap();
        let stale = cookies.issue(grant(&alice, Duration::ZERO));
        assert!(cookies.redeem(&stale, &alice).is_none());
        let kept = cookies.issue(grant(&alice, Duration::from_secs(60)));
        let _ = cookies.issue(grant(&alice, Duration::ZERO));
        cookies.sweep(Instant::now());
        assert_eq!(cookies.grants.len(), 1);
        assert!(cookies.redeem(&kept, &alice).is_some());
    }
}
