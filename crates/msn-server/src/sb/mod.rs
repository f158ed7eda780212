//! Switchboard connections: entering a session (`USR`, `ANS`), inviting
//! (`CAL`), relaying messages byte for byte with truthful `ACK`/`NAK`, and
//! leaving (`OUT`, dropped sockets, idle removal).

pub mod registry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msn_auth::Slot;
use msn_core::endpoint;
use msn_core::handle::Handle;
use msn_wire::ns::ParseError;
use msn_wire::sb::{self, RosterEntry, SbCommand};
use msn_wire::vocab::AckMode;
use msn_wire::{Dialect, Frame};
use tracing::{Instrument, debug};

use crate::conn::{Conn, RateLimiter, Transport};
use crate::context::{Shared, Stats};
use crate::driver::{self, Flow, Pace, Service};
use crate::trace;
use msn_service::{Mailbox, Ring};
use registry::{GrantKind, Member, Participant, SbEvent, Session};
use tokio_util::either::Either;
use uuid::Uuid;

/// This connection's place in a session.
struct Joined {
    session: Arc<Session>,
    member: Arc<Member>,
    dialect: Dialect,
}

pub(crate) struct SbConn {
    shared: Arc<Shared>,
    conn: Conn,
    conn_id: u64,
    joined: Option<Joined>,
    mailbox: Arc<Mailbox<SbEvent>>,
    messages: RateLimiter,
    calls: RateLimiter,
    last_input: Instant,
    /// Authentication must happen within the login timeout of this.
    connected_at: Instant,
    /// The server removed this participant (idle): others see `BYE … 1`.
    expelled: bool,
    /// This connection's place under the connection caps; marked
    /// authenticated at `USR`/`ANS … OK`.
    slot: Slot,
}

/// Serves one switchboard connection over `io` until it ends; `slot` is
/// its place under the connection caps, released when it ends.
pub async fn serve<T: Transport>(shared: Arc<Shared>, mut io: T, peer: SocketAddr, slot: Slot) {
    let conn_id = shared.service.directory().next_conn_id();
    let span = tracing::debug_span!("conn", id = conn_id, %peer, svc = "SB");
    async move {
        Stats::bump(&shared.stats.connections);
        crate::metrics::connection_opened("sb");
        let l = &shared.config.limits;
        let mut sb = SbConn {
            conn: Conn::new(peer, shared.sb_limits(), l.max_outbound_bytes),
            conn_id,
            joined: None,
            mailbox: Arc::new(Mailbox::new(l.mailbox_capacity)),
            messages: RateLimiter::new(f64::from(l.sb_messages_per_sec), l.sb_message_burst),
            calls: RateLimiter::per_minute(l.calls_per_minute),
            last_input: Instant::now(),
            connected_at: Instant::now(),
            expelled: false,
            slot,
            shared: shared.clone(),
        };
        let (mailbox, shutdown) = (sb.mailbox.clone(), shared.shutdown.clone());
        let reason = driver::drive(&mut sb, &mut io, mailbox, shutdown).await;
        debug!(reason, "closing");
        crate::metrics::connection_closed("sb", reason);
        sb.finish().close(&mut io).await;
    }
    .instrument(span)
    .await
}

impl Service for SbConn {
    type Event = SbEvent;

    fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Over the rate, the sender is slowed down, not cut off: P2P transfers
    /// (display pictures, files) send chunks back to back and must not be
    /// dropped for it (p2p.md §3).
    fn pace(&mut self) -> Pace {
        match self.messages.wait() {
            None => Pace::Go,
            Some(pause) => Pace::Wait(pause),
        }
    }

    fn on_frame(&mut self, frame: Frame) -> impl Future<Output = Flow> + Send {
        // Messages are handled without awaiting (and without a boxed
        // future per message); only `CAL` asks the service layer.
        trace::incoming(&frame);
        crate::metrics::command("sb");
        match SbCommand::parse(&frame) {
            Ok(SbCommand::Cal { trid, handle }) if self.joined.is_some() => {
                Either::Right(Box::pin(async move { self.on_cal(trid, &handle).await }))
            }
            parsed => Either::Left(std::future::ready(self.handle_parsed(parsed))),
        }
    }

    fn on_event(&mut self, event: SbEvent) -> Flow {
        if let SbEvent::Expel = event {
            self.expelled = true;
            return Flow::Close;
        }
        self.handle_event(event);
        Flow::Continue
    }

    fn deadline(&self) -> Instant {
        self.next_deadline()
    }

    fn on_deadline(&mut self) -> Option<&'static str> {
        if Instant::now() < self.next_deadline() {
            return None;
        }
        if self.joined.is_some() {
            self.expelled = true;
            Some("idle")
        } else {
            Some("no login")
        }
    }

    fn on_shutdown(&mut self) {}

    fn on_input(&mut self) {
        self.last_input = Instant::now();
    }
}

impl SbConn {
    fn next_deadline(&self) -> Instant {
        let cfg = &self.shared.config.switchboard;
        if self.joined.is_none() {
            // The first command is the authentication (`USR`/`ANS`; any
            // other closes): the handshake timeout applies until it.
            let handshake = self.shared.config.limits.handshake_timeout;
            self.connected_at + cfg.login_timeout.min(handshake)
        } else if cfg.idle_timeout.is_zero() {
            self.last_input + Duration::from_secs(365 * 24 * 3600)
        } else {
            self.last_input + cfg.idle_timeout
        }
    }

    fn handle_parsed(&mut self, parsed: Result<SbCommand, ParseError>) -> Flow {
        match parsed {
            Ok(cmd) => self.dispatch(cmd),
            Err(ParseError::Unknown { command } | ParseError::Malformed { command }) => {
                debug!(%command, "bad switchboard command");
                Flow::Close
            }
        }
    }

    fn dispatch(&mut self, cmd: SbCommand) -> Flow {
        match (self.joined.is_some(), cmd) {
            (_, SbCommand::Out) => Flow::Close,
            (
                false,
                SbCommand::Usr {
                    trid,
                    handle,
                    cookie,
                },
            ) => self.on_usr(trid, &handle, &cookie),
            (
                false,
                SbCommand::Ans {
                    trid,
                    handle,
                    cookie,
                    session,
                },
            ) => self.on_ans(trid, &handle, &cookie, &session),
            // A second USR/ANS on an authenticated connection (GO).
            (true, SbCommand::Usr { trid, .. } | SbCommand::Ans { trid, .. }) => {
                self.conn.out.error(911, trid);
                Flow::Close
            }
            (
                true,
                SbCommand::Msg {
                    trid,
                    mode,
                    payload,
                },
            ) => self.on_msg(trid, mode, payload),
            // `CAL` is handled by `on_frame` (it awaits the service).
            (true, SbCommand::Cal { .. }) => Flow::Close,
            // Anything before authentication.
            (false, _) => Flow::Close,
        }
    }

    fn refuse(&mut self, trid: u32) -> Flow {
        self.conn.out.error(911, trid);
        Flow::Close
    }

    fn participant(
        &self,
        grant: &registry::Grant,
        machine_guid: Option<Uuid>,
    ) -> (Participant, Arc<Member>) {
        let member = Arc::new(Member {
            handle: grant.handle.clone(),
            name: grant.name.clone(),
            capabilities: grant.capabilities.clone(),
            machine_guid,
        });
        (
            Participant {
                conn_id: self.conn_id,
                member: member.clone(),
                dialect: grant.dialect,
                mailbox: self.mailbox.clone(),
            },
            member,
        )
    }

    /// Counts this connection against the user's switchboard limit.
    fn count_session(&self, handle: &Handle, delta: isize) {
        self.shared.service.count_switchboard(handle, delta);
    }

    /// `USR TrID handle cookie`: opens a new session with the `XFR` cookie.
    /// MSNP16+ name their endpoint: `email;{machine-guid}`.
    fn on_usr(&mut self, trid: u32, raw: &str, cookie: &str) -> Flow {
        let Some((handle, machine_guid)) = endpoint::parse_endpoint(raw) else {
            return self.refuse(trid);
        };
        let grant = self.shared.switchboards.redeem(cookie, &handle);
        let Some(grant) = grant.filter(|g| g.kind == GrantKind::Create) else {
            return self.refuse(trid);
        };
        if machine_guid.is_some() && !grant.dialect.has_multiple_endpoints() {
            return self.refuse(trid);
        }
        let (participant, member) = self.participant(&grant, machine_guid);
        let session = self.shared.switchboards.create(participant);
        let shown = member.endpoint_handle();
        let shown = shown.as_deref().unwrap_or(handle.as_str());
        sb::usr_ok(&mut self.conn.out, trid, shown, &member.name);
        self.count_session(&handle, 1);
        self.slot.authenticated();
        self.joined = Some(Joined {
            session,
            member,
            dialect: grant.dialect,
        });
        Flow::Continue
    }

    /// `ANS TrID handle cookie session`: joins the session of an `RNG`.
    /// Every endpoint of an MSNP16+ user may answer the same invitation;
    /// the roster it gets lists users, and for MSNP16+ receivers each
    /// endpoint too.
    fn on_ans(&mut self, trid: u32, raw: &str, cookie: &str, session_id: &str) -> Flow {
        let Some((handle, machine_guid)) = endpoint::parse_endpoint(raw) else {
            return self.refuse(trid);
        };
        let Some(grant) = self.shared.switchboards.redeem(cookie, &handle) else {
            return self.refuse(trid);
        };
        let GrantKind::Join {
            session_id: granted,
        } = grant.kind
        else {
            return self.refuse(trid);
        };
        if machine_guid.is_some() && !grant.dialect.has_multiple_endpoints() {
            return self.refuse(trid);
        }
        if session_id.parse::<u32>() != Ok(granted) {
            // The cookie is spent: the invitation it belonged to is over.
            if let Some(session) = self.shared.switchboards.get(granted) {
                session.state.lock().invited.retain(|(h, _)| h != &handle);
            }
            return self.refuse(trid);
        }
        let Some(session) = self.shared.switchboards.get(granted) else {
            return self.refuse(trid);
        };
        let (participant, member) = self.participant(&grant, machine_guid);
        let dialect = grant.dialect;
        let roster: Vec<Arc<Member>> = {
            let mut st = session.state.lock();
            let max = self.shared.config.switchboard.max_participants;
            let another_endpoint = st.has_participant(&handle);
            if st.closed || st.has_endpoint(&handle, machine_guid) || st.participants.len() >= max {
                drop(st);
                return self.refuse(trid);
            }
            st.invited.retain(|(h, _)| h != &handle);
            let roster = st.participants.iter().map(|p| p.member.clone()).collect();
            let joined = SbEvent::Joined {
                member: member.clone(),
                first_of_user: !another_endpoint,
            };
            for p in &st.participants {
                let _ = p.mailbox.push(joined.clone());
            }
            st.participants.push(participant);
            roster
        };
        let entries = roster_for(dialect, &roster);
        let count = entries.len();
        for (i, (shown, m)) in entries.iter().enumerate() {
            let entry = RosterEntry {
                handle: shown,
                name: &m.name,
                capabilities: m.capabilities.as_deref(),
            };
            sb::iro(&mut self.conn.out, trid, dialect, i + 1, count, entry);
        }
        sb::ans_ok(&mut self.conn.out, trid);
        self.count_session(&handle, 1);
        self.slot.authenticated();
        self.joined = Some(Joined {
            session,
            member,
            dialect,
        });
        Flow::Continue
    }

    /// `CAL TrID handle`: invites a user (switchboard.md §2.3, in order).
    async fn on_cal(&mut self, trid: u32, raw: &str) -> Flow {
        let Ok(invitee) = Handle::parse(raw) else {
            self.conn.out.error(208, trid);
            return Flow::Continue;
        };
        let joined = self.joined.as_ref().expect("joined");
        let (session, inviter) = (joined.session.clone(), joined.member.clone());
        if invitee == inviter.handle && joined.dialect.has_multiple_endpoints() {
            return self.on_cal_self(trid).await;
        }
        {
            let st = session.state.lock();
            if invitee == inviter.handle
                || st.has_participant(&invitee)
                || st.is_invited(&invitee, Instant::now())
            {
                drop(st);
                self.conn.out.error(215, trid);
                return Flow::Continue;
            }
        }
        if !self.calls.allow() {
            self.conn.out.error(713, trid);
            return Flow::Continue;
        }
        let service = &self.shared.service;
        let Some(target) = service.reachable(&inviter.handle, &invitee).await else {
            self.conn.out.error(217, trid);
            return Flow::Continue;
        };
        let (name, dialect, caps) = (target.name, target.dialect, target.capabilities);
        let cfg = &self.shared.config.switchboard;
        let full = {
            let st = session.state.lock();
            st.participants.len() + st.invited.len() >= cfg.max_participants
        };
        if full {
            // No code exists for a full session; 280 is the closest.
            self.conn.out.error(280, trid);
            return Flow::Continue;
        }
        let ttl = cfg.ring_ttl;
        let cookie = self.shared.switchboards.grant(
            invitee.clone(),
            name,
            dialect,
            caps,
            GrantKind::Join {
                session_id: session.id,
            },
            ttl,
        );
        let ring = Ring {
            session_id: session.id.to_string(),
            sb_addr: self.shared.addrs.sb.clone(),
            cookie,
            inviter: inviter.handle.clone(),
            inviter_name: inviter.name.clone(),
            except_machine: None,
        };
        if !self.shared.service.ring(&invitee, ring).await {
            self.conn.out.error(217, trid);
            return Flow::Continue;
        }
        session
            .state
            .lock()
            .invited
            .push((invitee, Instant::now() + ttl));
        sb::cal_ringing(&mut self.conn.out, trid, &session.id.to_string());
        Flow::Continue
    }

    /// WLM 2009 calls its own address right after opening a session, to
    /// pull in its other machines, and waits for a `JOI` before its first
    /// message window works. Its other machines (if any) are rung, as for
    /// any invitation, all but the calling one; the caller gets `CAL TrID
    /// RINGING sid` and a `JOI` of its own endpoint, as the revival
    /// servers the clients work with answer it, whether or not another
    /// machine answers.
    async fn on_cal_self(&mut self, trid: u32) -> Flow {
        let joined = self.joined.as_ref().expect("joined");
        let (dialect, member) = (joined.dialect, joined.member.clone());
        let session = joined.session.clone();
        let sid = session.id.to_string();
        let ttl = self.shared.config.switchboard.ring_ttl;
        let cookie = self.shared.switchboards.grant(
            member.handle.clone(),
            member.name.clone(),
            dialect,
            member.capabilities.clone(),
            GrantKind::Join {
                session_id: session.id,
            },
            ttl,
        );
        let ring = Ring {
            session_id: sid.clone(),
            sb_addr: self.shared.addrs.sb.clone(),
            cookie,
            inviter: member.handle.clone(),
            inviter_name: member.name.clone(),
            except_machine: member.machine_guid,
        };
        self.shared.service.ring(&member.handle, ring).await;
        sb::cal_ringing(&mut self.conn.out, trid, &sid);
        if let Some(shown) = member.endpoint_handle() {
            sb::joi(&mut self.conn.out, dialect, roster_entry(&member, &shown));
        }
        Flow::Continue
    }

    /// `MSG TrID mode len`: relays the payload unchanged to everyone else,
    /// then acknowledges as the mode asks.
    fn on_msg(&mut self, trid: u32, mode: AckMode, payload: Bytes) -> Flow {
        let joined = self.joined.as_ref().expect("joined");
        if mode == AckMode::Data && !joined.dialect.has_data_ack_mode() {
            return Flow::Close;
        }
        let sender = &joined.member;
        let encoded = sb::relayed_msg(sender.handle.as_str(), &sender.name, &payload);
        let delivery = self
            .shared
            .switchboards
            .relay(&joined.session, self.conn_id, encoded);
        Stats::bump(&self.shared.stats.messages_relayed);
        crate::metrics::message_relayed();
        let alone_fails = self.shared.config.switchboard.nak_when_alone;
        let delivered = delivery.failed == 0 && (delivery.recipients > 0 || !alone_fails);
        if delivered {
            if mode.acks_success() {
                sb::ack(&mut self.conn.out, trid);
            }
        } else if mode.naks_failure() {
            sb::nak(&mut self.conn.out, trid);
        }
        Flow::Continue
    }

    /// Joins and leaves as this client's dialect lists participants:
    /// MSNP16+ see every endpoint (`email;{guid}`) and each user once as
    /// plain `email`; older dialects see users only.
    fn handle_event(&mut self, event: SbEvent) {
        let dialect = self.joined.as_ref().map_or(Dialect::MSNP2, |j| j.dialect);
        let out = &mut self.conn.out;
        let endpoints = dialect.has_multiple_endpoints();
        match event {
            SbEvent::Joined {
                member,
                first_of_user,
            } => {
                let plain = roster_entry(&member, member.handle.as_str());
                if first_of_user {
                    sb::joi(out, dialect, plain);
                }
                if let Some(shown) = member.endpoint_handle().filter(|_| endpoints) {
                    sb::joi(out, dialect, roster_entry(&member, &shown));
                }
            }
            SbEvent::Left {
                member,
                last_of_user,
                by_server,
            } => {
                if let Some(shown) = member.endpoint_handle().filter(|_| endpoints) {
                    sb::bye(out, &shown, by_server);
                }
                if last_of_user {
                    sb::bye(out, member.handle.as_str(), by_server);
                }
            }
            SbEvent::Message(bytes) => out.raw(&bytes),
            // Handled by `on_event`: the connection closes.
            SbEvent::Expel => {}
        }
    }

    /// Leaves the session; returns the connection for its last lines to be
    /// written before it closes.
    fn finish(mut self) -> Conn {
        if let Some(joined) = self.joined.take() {
            self.shared
                .switchboards
                .leave(&joined.session, self.conn_id, self.expelled);
            self.count_session(&joined.member.handle, -1);
        }
        self.mailbox.close();
        self.conn
    }
}

fn roster_entry<'a>(m: &'a Member, shown: &'a str) -> RosterEntry<'a> {
    RosterEntry {
        handle: shown,
        name: &m.name,
        capabilities: m.capabilities.as_deref(),
    }
}

/// The `IRO` roster a receiver of `dialect` gets: each user once as plain
/// `email`, and for MSNP16+ receivers each endpoint that named its machine
/// as `email;{guid}` too.
fn roster_for(dialect: Dialect, members: &[Arc<Member>]) -> Vec<(String, Arc<Member>)> {
    let mut entries: Vec<(String, Arc<Member>)> = Vec::new();
    for m in members {
        if !entries.iter().any(|(shown, _)| shown == m.handle.as_str()) {
            entries.push((m.handle.to_string(), m.clone()));
        }
        if let Some(shown) = m
            .endpoint_handle()
            .filter(|_| dialect.has_multiple_endpoints())
        {
            entries.push((shown, m.clone()));
        }
    }
    entries
}
