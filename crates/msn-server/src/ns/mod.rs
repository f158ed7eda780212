//! Dispatch and Notification Server sessions.
//!
//! One task per connection runs [`NsSession::run`]: it decodes client
//! commands and handles them in order, renders events from other sessions
//! (presence, invitations) in this client's dialect, and enforces the
//! timeouts and limits. The Dispatch Server is the same session in the
//! [`Role::Dispatch`] role: it stops after referring the client.

mod circles;
mod events;
mod lists;
mod login;
mod membership;
mod misc;
mod presence;
mod sync;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use msn_auth::Slot;
use msn_core::handle::Handle;
use msn_service::{Actor, Event, Mailbox, OpError, UserState};
use msn_wire::ns::{NsCommand, ParseError, UsrAuth};
use msn_wire::{Dialect, Frame};
use parking_lot::MutexGuard;
use tracing::{Instrument, debug, warn};

use crate::conn::{Conn, RateLimiter, Transport};
use crate::context::{Shared, Stats};
pub(crate) use crate::driver::Flow;
use crate::driver::{self, Pace, Service};
use crate::trace;

/// Which service this connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Dispatch,
    Notification,
}

/// Where the login stands.
#[derive(Clone, Debug)]
pub(crate) enum Login {
    /// Before `VER`.
    New,
    /// Only `CVR0` matched: the client may send `CVQ` and then leaves.
    Cvr0Only,
    /// `VER` done, nothing else yet.
    Versioned,
    /// `USR … MD5 I` answered with this salt.
    Md5 { handle: String, salt: String },
    /// `USR … CTP I` answered (MSNP2, when enabled).
    Ctp { handle: String },
    /// `USR … TWN I` answered.
    Twn { handle: String },
    /// `USR … SSO I` answered with this `MBI_KEY_OLD` nonce (MSNP15+).
    Sso { handle: String, nonce: String },
    /// The DS sent `XFR … NS`; the client is expected to leave.
    Referred,
    /// Signed in.
    Done,
}

/// [`Login`] without its data, for dispatching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    New,
    Cvr0Only,
    LoggingIn,
    Referred,
    Done,
}

impl Phase {
    fn of(login: &Login) -> Phase {
        match login {
            Login::New => Phase::New,
            Login::Cvr0Only => Phase::Cvr0Only,
            Login::Versioned
            | Login::Md5 { .. }
            | Login::Ctp { .. }
            | Login::Twn { .. }
            | Login::Sso { .. } => Phase::LoggingIn,
            Login::Referred => Phase::Referred,
            Login::Done => Phase::Done,
        }
    }
}

/// An outstanding `CHL`.
#[derive(Clone, Debug)]
pub(crate) struct Challenge {
    pub text: String,
    pub sent: Instant,
}

pub(crate) struct NsSession {
    pub shared: Arc<Shared>,
    pub role: Role,
    /// Carried by this node's HTTP service: referred to this node only.
    pub pinned: bool,
    pub conn: Conn,
    pub conn_id: u64,
    pub dialect: Dialect,
    pub login: Login,
    pub actor: Option<Actor>,
    pub mailbox: Arc<Mailbox<Event>>,
    /// `SYN` has been answered (GCF needs it).
    pub synced: bool,
    pub challenge: Option<Challenge>,
    /// When to send the next challenge (repeat policy).
    pub next_challenge: Option<Instant>,
    pub commands: RateLimiter,
    pub renames: RateLimiter,
    pub last_input: Instant,
    /// When the connection was accepted: the login must finish within the
    /// login timeout of it, however slowly the client trickles bytes in.
    pub connected_at: Instant,
    /// The DS closes this long after referring the client.
    pub referred_at: Option<Instant>,
    /// This connection's place under the connection caps; marked
    /// authenticated at `USR … OK`.
    pub slot: Slot,
}

/// Serves one connection over `io` until it ends; `slot` is its place
/// under the connection caps, released when it ends.
pub async fn serve<T: Transport>(
    shared: Arc<Shared>,
    io: T,
    peer: SocketAddr,
    slot: Slot,
    role: Role,
) {
    serve_with(shared, io, peer, slot, role, false).await;
}

/// [`serve`] for a session `pinned` to this node: one carried by this
/// node's HTTP service (the gateway, the Web Messenger), whose client
/// cannot follow a referral to another node of a cluster.
pub async fn serve_with<T: Transport>(
    shared: Arc<Shared>,
    mut io: T,
    peer: SocketAddr,
    slot: Slot,
    role: Role,
    pinned: bool,
) {
    let conn_id = shared.service.directory().next_conn_id();
    let span = tracing::debug_span!("conn", id = conn_id, %peer, svc = ?role);
    async move {
        Stats::bump(&shared.stats.connections);
        let service_label = match role {
            Role::Dispatch => "ds",
            Role::Notification => "ns",
        };
        crate::metrics::connection_opened(service_label);
        let limits = shared.ns_limits();
        let max_out = shared.config.limits.max_outbound_bytes;
        let cfg = &shared.config.limits;
        let mut session = NsSession {
            conn: Conn::new(peer, limits, max_out),
            conn_id,
            dialect: Dialect::MSNP2,
            login: Login::New,
            actor: None,
            mailbox: Arc::new(Mailbox::new(cfg.mailbox_capacity)),
            synced: false,
            challenge: None,
            next_challenge: None,
            commands: RateLimiter::new(f64::from(cfg.commands_per_sec), cfg.command_burst),
            renames: RateLimiter::per_minute(cfg.renames_per_minute),
            last_input: Instant::now(),
            connected_at: Instant::now(),
            referred_at: None,
            slot,
            role,
            pinned,
            shared: shared.clone(),
        };
        let (mailbox, shutdown) = (session.mailbox.clone(), shared.shutdown.clone());
        let reason = driver::drive(&mut session, &mut io, mailbox, shutdown).await;
        debug!(reason, "closing");
        crate::metrics::connection_closed(service_label, reason);
        // Boxed: signing out is a large future, and an idle task should not
        // carry its space.
        let conn = Box::pin(session.finish()).await;
        conn.close(&mut io).await;
    }
    .instrument(span)
    .await
}

impl Service for NsSession {
    type Event = Event;

    fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    fn pace(&mut self) -> Pace {
        if self.commands.allow() {
            Pace::Go
        } else {
            warn!("command rate limit exceeded");
            Pace::Refuse
        }
    }

    fn on_frame(&mut self, frame: Frame) -> impl Future<Output = Flow> + Send {
        // Boxed: the state of a command in progress is large, and an idle
        // session should not carry it around.
        Box::pin(self.handle_frame(frame))
    }

    fn on_event(&mut self, event: Event) -> Flow {
        self.handle_event(event)
    }

    fn deadline(&self) -> Instant {
        self.next_deadline()
    }

    fn on_deadline(&mut self) -> Option<&'static str> {
        (self.on_timer() == Flow::Close).then_some("timeout")
    }

    fn on_shutdown(&mut self) {
        if self.actor.is_some() {
            self.kick("SSD");
        }
    }

    fn on_input(&mut self) {
        self.last_input = Instant::now();
    }
}

impl NsSession {
    /// The earliest moment something time-based must happen.
    fn next_deadline(&self) -> Instant {
        let c = &self.shared.config;
        let mut deadline = match (&self.login, self.referred_at) {
            (_, Some(at)) => at + Duration::from_secs(5),
            (Login::Done, _) => self.last_input + c.notification.idle_timeout,
            // Not even `VER` yet: the shorter handshake timeout.
            (Login::New, _) => {
                self.connected_at + c.limits.handshake_timeout.min(c.notification.login_timeout)
            }
            _ => self.connected_at + c.notification.login_timeout,
        };
        if let Some(ch) = &self.challenge
            && c.challenge.mode == crate::config::ChallengeMode::Strict
        {
            deadline = deadline.min(ch.sent + c.challenge.timeout);
        }
        if let Some(at) = self.next_challenge {
            deadline = deadline.min(at);
        }
        deadline
    }

    fn on_timer(&mut self) -> Flow {
        let now = Instant::now();
        if self.next_challenge.is_some_and(|at| at <= now) {
            self.next_challenge = None;
            self.send_challenge();
        }
        if now >= self.next_deadline() {
            if self.challenge.is_some() {
                debug!("challenge not answered in time");
            }
            return Flow::Close;
        }
        Flow::Continue
    }

    async fn handle_frame(&mut self, frame: Frame) -> Flow {
        trace::incoming(&frame);
        crate::metrics::command("ns");
        match NsCommand::parse(&frame) {
            Ok(cmd) => self.dispatch(cmd).await,
            Err(ParseError::Unknown { command }) => {
                debug!(%command, "unknown command");
                Flow::Close
            }
            Err(ParseError::Malformed { command }) => {
                debug!(%command, "malformed command");
                Flow::Close
            }
        }
    }

    async fn dispatch(&mut self, cmd: NsCommand) -> Flow {
        use NsCommand as C;
        let phase = Phase::of(&self.login);
        match (phase, cmd) {
            (Phase::New, C::Ver { trid, offered }) => self.on_ver(trid, &offered),
            (Phase::New, _) => Flow::Close,
            (Phase::Cvr0Only, C::Cvq { trid, args }) => {
                let _ = self.on_cvr("CVQ", trid, &args);
                Flow::Close
            }
            (Phase::Cvr0Only, _) => Flow::Close,
            (_, C::Ver { trid, .. }) => {
                self.conn.out.error(715, trid);
                Flow::Close
            }
            (_, C::Out) => Flow::Close,
            (_, C::Cvr { trid, args }) => self.on_cvr("CVR", trid, &args),
            (
                Phase::Done,
                C::Usr {
                    trid,
                    auth: UsrAuth::ShaCircleTicket { ticket },
                },
            ) if self.dialect.has_circle_ticket() => self.on_circle_ticket(trid, &ticket),
            (Phase::Done, C::Usr { trid, .. }) => {
                self.conn.out.error(207, trid);
                Flow::Continue
            }
            (Phase::Referred, _) => Flow::Close,
            (Phase::LoggingIn, C::Inf { trid }) => self.on_inf(trid),
            (Phase::LoggingIn, C::Usr { trid, auth }) => self.on_usr(trid, auth).await,
            (Phase::Done, cmd) => self.dispatch_signed_in(cmd).await,
            // Everything else needs a signed-in session; the real service
            // closed the connection (msnp2-7.md §2).
            (_, _) => Flow::Close,
        }
    }

    async fn dispatch_signed_in(&mut self, cmd: NsCommand) -> Flow {
        use NsCommand as C;
        let d = self.dialect;
        match cmd {
            C::Png => self.on_png(),
            C::Syn { trid, cached } if d.has_ns_lists() => self.on_syn(trid, &cached).await,
            C::Chg {
                trid,
                status,
                capabilities,
                msn_object,
            } => self.on_chg(trid, status, capabilities, msn_object).await,
            C::Gtc { trid, value } if d.has_ns_lists() => self.on_gtc(trid, value).await,
            C::Blp { trid, value } => self.on_blp(trid, value).await,
            C::Lst { trid, list } if d.list_model() == msn_wire::dialect::ListModel::PerList => {
                self.on_lst(trid, list)
            }
            C::Lsg { trid }
                if d.list_model() == msn_wire::dialect::ListModel::PerList && d.has_groups() =>
            {
                self.on_lsg(trid)
            }
            C::Add {
                trid,
                list,
                handle,
                name,
                group,
            } if d.has_add_and_rea() => {
                self.on_add(trid, list, &handle, &name, group.as_deref())
                    .await
            }
            C::Adc { trid, list, target } if d.has_adc() && d.has_ns_lists() => {
                self.on_adc(trid, list, target).await
            }
            C::Rem {
                trid,
                list,
                target,
                group,
            } if d.has_ns_lists() => self.on_rem(trid, list, &target, group.as_deref()).await,
            C::Rea { trid, handle, name } if d.has_add_and_rea() => {
                self.on_rea(trid, &handle, &name).await
            }
            C::Adg { trid, name } if d.has_group_commands() => self.on_adg(trid, &name).await,
            C::Rmg { trid, group } if d.has_group_commands() => self.on_rmg(trid, &group).await,
            C::Reg { trid, group, name } if d.has_group_commands() => {
                self.on_reg(trid, &group, &name).await
            }
            C::Prp {
                trid,
                property,
                value,
            } if d.has_msnp5_commands() => self.on_prp(trid, &property, value.as_deref()).await,
            C::Sbp {
                trid,
                contact,
                property,
                value,
            } if d.has_adc() && d.has_ns_lists() => {
                self.on_sbp(trid, &contact, &property, value.as_deref())
                    .await
            }
            C::Xfr { trid, target } => self.on_xfr(trid, &target),
            C::Url {
                trid,
                service,
                param,
            } => self.on_url(trid, &service, param.as_deref()),
            C::Fnd { trid, fields } => self.on_fnd(trid, &fields),
            C::Snd { trid, args } => self.on_snd(trid, &args),
            C::Sdc { trid, args, note } if d.has_msnp5_commands() => {
                self.on_sdc(trid, &args, &note)
            }
            C::Pag { trid, .. } if d.has_pag() => {
                // No paging gateway: the page cannot be delivered.
                self.conn.out.error(220, trid);
                Flow::Continue
            }
            C::Ims { trid, on } if d.has_ims() => self.on_ims(trid, on),
            C::Qry {
                trid,
                client_id,
                response,
            } if d.challenge() != msn_wire::dialect::ChallengeKind::None => {
                self.on_qry(trid, &client_id, &response)
            }
            C::Chl { trid } if d.challenge() != msn_wire::dialect::ChallengeKind::None => {
                self.on_client_chl(trid)
            }
            C::Uux { trid, payload } if d.has_personal_message() => {
                self.on_uux(trid, payload).await
            }
            C::Adl { trid, payload } if !d.has_ns_lists() => self.on_adl(trid, payload).await,
            C::Rml { trid, payload } if !d.has_ns_lists() => self.on_rml(trid, payload).await,
            C::Fqy { trid, payload } if d.has_fqy() => self.on_fqy(trid, payload).await,
            C::Uun {
                trid,
                target,
                kind,
                payload,
            } if !d.has_ns_lists() => self.on_uun(trid, &target, kind, payload).await,
            C::Uum {
                trid,
                target,
                network,
                kind,
                payload,
            } if d.has_fqy() => self.on_uum(trid, &target, network, kind, payload).await,
            C::Put { trid, payload } if d.has_circles() => self.on_put(trid, payload).await,
            C::Sdg { trid, payload } if d.has_circles() => self.on_sdg(trid, payload).await,
            C::Gcf { trid, name } if d.has_personal_message() && !d.pushes_policies() => {
                self.on_gcf(trid, &name)
            }
            // Commands of other dialects, client MSG on the NS, and
            // everything else: the real service closed the connection.
            _ => Flow::Close,
        }
    }

    /// The signed-in actor.
    pub(crate) fn actor(&self) -> &Actor {
        self.actor.as_ref().expect("signed in")
    }

    /// The signed-in user's own state. Never hold it across an await.
    pub(crate) fn state(&self) -> MutexGuard<'_, UserState> {
        self.actor().state()
    }

    pub(crate) fn handle(&self) -> Handle {
        self.actor().handle().clone()
    }

    /// Answers a refused operation with its error code.
    pub(crate) fn fail(&mut self, trid: u32, e: OpError) -> Flow {
        let code = match e {
            OpError::Refused(e) => e.code(),
            OpError::UnknownAccount => self.dialect.unknown_account_error(),
            OpError::Storage => 603,
        };
        self.conn.out.error(code, trid);
        Flow::Continue
    }

    /// Writes `OUT reason`; the caller then closes.
    pub(crate) fn kick(&mut self, reason: &str) {
        msn_wire::ns::render::out_reason(&mut self.conn.out, reason);
    }

    /// Signs out (watchers see what remains of our presence); returns the
    /// connection for its last lines to be written before it closes.
    async fn finish(mut self) -> Conn {
        if let Some(actor) = self.actor.take() {
            crate::metrics::signed_out(self.dialect);
            self.shared.service.sign_out(actor).await;
        }
        self.mailbox.close();
        self.conn
    }
}
