//! Circles on the NS (MSNP18): the circle's `ADL` and `RML`, `PUT` into
//! its conversation, `SDG` messages to it, and the circle events rendered
//! (`NFY PUT`/`NFY DEL` with the members' presence in the circle as
//! `NLN`/`FLN 1:<email>;via=9:<id>@live.com`, `SDG`, the address book's
//! `NOT`). The rules are the service's (`msn_service` ops `circles`);
//! this only reads the routing envelope and renders.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::account::lists;
use msn_core::circle::CircleId;
use msn_core::ids;
use msn_core::membership_list::MlContact;
use msn_core::network::NetworkId;
use msn_service::{CircleError, CircleEvent, PresenceNotice};
use msn_wire::ns::render;
use msn_wire::routing;
use tracing::debug;

use super::{Flow, NsSession};

/// `1:<email>`, how MSNP18 names a Messenger user in circle traffic.
fn member_address(handle: &str) -> String {
    format!("1:{handle}")
}

impl NsSession {
    /// The error code a refused circle command gets: `204` for a circle
    /// the user is not in (it is not routable for them), `715` for what
    /// their membership does not allow yet or before `USR SHA A`, `603`
    /// when the store failed.
    fn circle_error(&mut self, trid: u32, e: CircleError) -> Flow {
        let code = match e {
            CircleError::Storage => 603,
            CircleError::NotAllowed | CircleError::NoTicket => 715,
            _ => 204,
        };
        self.conn.out.error(code, trid);
        Flow::Continue
    }

    /// An `ADL` of circles (`t="9"`, alone in its document as WLM 2009
    /// sends it): each must be a circle the user is an accepted member
    /// of. Acknowledged, then each circle's own `NLN` (on which the client
    /// joins the conversation with `PUT`). Blocking a circle (`l="4"`,
    /// msnp-sharp's `BlockCircle`) is not served: `201`.
    pub(super) async fn on_circle_adl(&mut self, trid: u32, contacts: &[MlContact]) -> Flow {
        if contacts
            .iter()
            .any(|c| c.network != Some(NetworkId::Circle) || c.lists & lists::BL != 0)
        {
            // A circle must be alone in its ADL (msnp13-18.md §3.6).
            self.conn.out.error(201, trid);
            return Flow::Continue;
        }
        let mut circles = Vec::with_capacity(contacts.len());
        for c in contacts {
            let Some(id) = CircleId::from_handle(c.handle.as_str()) else {
                self.conn.out.error(204, trid);
                return Flow::Continue;
            };
            let service = &self.shared.service;
            match service.circle(self.actor(), id).await {
                Ok(circle) if circle.has_accepted(self.handle().as_str()) => circles.push(circle),
                Ok(_) => return self.circle_error(trid, CircleError::NotAllowed),
                Err(e) => return self.circle_error(trid, e),
            }
        }
        render::adl_ok(&mut self.conn.out, trid);
        let me = member_address(self.handle().as_str());
        for circle in circles {
            let name = msn_wire::name::encode(&circle.name);
            render::circle_presence(&mut self.conn.out, &me, &circle.id.handle(), &name);
        }
        Flow::Continue
    }

    /// An `RML` of circles (msnp-sharp sends one after leaving a
    /// circle): this endpoint leaves their conversations; `RML TrID OK`.
    pub(super) async fn on_circle_rml(&mut self, trid: u32, contacts: &[MlContact]) -> Flow {
        let mut ids = Vec::with_capacity(contacts.len());
        for c in contacts {
            match CircleId::from_handle(c.handle.as_str()) {
                Some(id) if c.network == Some(NetworkId::Circle) => ids.push(id),
                _ => {
                    self.conn.out.error(201, trid);
                    return Flow::Continue;
                }
            }
        }
        let service = &self.shared.service;
        service.leave_circle_conversations(self.actor(), ids).await;
        render::rml_ok(&mut self.conn.out, trid);
        Flow::Continue
    }

    /// The circle a `PUT`/`SDG` envelope is addressed to, or the error
    /// already written.
    fn circle_addressed(&mut self, trid: u32, payload: &[u8]) -> Result<CircleId, Flow> {
        let Some(envelope) = routing::parse(payload) else {
            debug!("circle command without a routing envelope");
            self.conn.out.error(201, trid);
            return Err(Flow::Continue);
        };
        CircleId::from_handle(envelope.to).ok_or_else(|| {
            // Only circles are routed through the NS in MSNP18.
            self.conn.out.error(204, trid);
            Flow::Continue
        })
    }

    /// `PUT TrID len`: the endpoint joins the circle's conversation; it
    /// gets `PUT TrID OK 0` and the full roster (`NFY PUT`), the others
    /// in it are told.
    pub(super) async fn on_put(&mut self, trid: u32, payload: Bytes) -> Flow {
        let id = match self.circle_addressed(trid, &payload) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let service = &self.shared.service;
        match service.join_circle_conversation(self.actor(), id).await {
            Ok(present) => {
                render::put_ok(&mut self.conn.out, trid);
                self.render_roster(id, true, &present);
                Flow::Continue
            }
            Err(e) => self.circle_error(trid, e),
        }
    }

    /// `SDG TrID len`: a message to the circle, passed on with the sender
    /// stated by the server (`From: 1:<email>;epid={machine}`), every
    /// other byte as sent.
    pub(super) async fn on_sdg(&mut self, trid: u32, payload: Bytes) -> Flow {
        let id = match self.circle_addressed(trid, &payload) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let handle = self.handle();
        let machine = self
            .state()
            .endpoint(self.conn_id)
            .and_then(|e| e.machine_guid);
        let mut from = member_address(handle.as_str());
        if let Some(guid) = machine {
            from.push_str(&format!(";epid={{{guid}}}"));
        }
        let Some(message) = routing::with_sender(&payload, &from) else {
            self.conn.out.error(201, trid);
            return Flow::Continue;
        };
        let service = &self.shared.service;
        match service.send_circle_message(self.actor(), id, message).await {
            Ok(()) => {
                render::sdg_ok(&mut self.conn.out, trid);
                Flow::Continue
            }
            Err(e) => self.circle_error(trid, e),
        }
    }

    /// `NFY PUT` listing `present` in circle `id`, then the presence of
    /// each other member there as the circle shows it (`NLN status
    /// 1:<email>;via=9:<id>@live.com …`, the form msnp-sharp 3.x reads as
    /// a circle member's status).
    fn render_roster(&mut self, id: CircleId, full: bool, present: &[Arc<PresenceNotice>]) {
        let me = self.handle();
        let to = member_address(me.as_str());
        let listed: Vec<String> = present
            .iter()
            .map(|p| member_address(p.handle.as_str()))
            .collect();
        let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
        render::nfy_put(&mut self.conn.out, &id.handle(), &to, full, &listed);
        for p in present
            .iter()
            .filter(|p| p.handle != me && p.status.is_visible())
        {
            self.render_member_presence(id, p);
        }
    }

    /// A member's presence as circle `id` shows it: `NLN status
    /// 1:<email>;via=9:<id>@live.com name caps msnobj`, or `FLN …;via=`
    /// when they are hidden or gone.
    fn render_member_presence(&mut self, id: CircleId, p: &PresenceNotice) {
        let via = format!("{};via={}", p.handle.as_str(), id.handle());
        if p.status.is_visible() {
            let view = render::PresenceView {
                status: p.status,
                handle: &via,
                name: &p.name,
                capabilities: p.capabilities.as_deref(),
                msn_object: p.msn_object.as_deref(),
            };
            render::nln(&mut self.conn.out, self.dialect, &view);
        } else {
            render::fln(&mut self.conn.out, self.dialect, &via);
        }
    }

    /// Renders a circle event for this MSNP18 endpoint.
    pub(super) fn render_circle_event(&mut self, event: &CircleEvent) {
        let handle = self.handle();
        let me = member_address(handle.as_str());
        let user_id = self.state().account.user_id;
        let out = &mut self.conn.out;
        match event {
            CircleEvent::BookChanged => {
                let puid = ids::puid(user_id);
                let now = time::OffsetDateTime::now_utc();
                let modified = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    now.year(),
                    u8::from(now.month()),
                    now.day(),
                    now.hour(),
                    now.minute(),
                    now.second()
                );
                render::abch_changed(out, handle.as_str(), puid, puid as i64, &modified);
            }
            CircleEvent::Removed { .. } => {}
            CircleEvent::Roster {
                circle,
                full,
                present,
                ..
            } => self.render_roster(*circle, *full, present),
            CircleEvent::Left { circle, member } => {
                render::nfy_del(out, &circle.handle(), &me, &member_address(member.as_str()));
                let via = format!("{};via={}", member.as_str(), circle.handle());
                render::fln(out, self.dialect, &via);
            }
            CircleEvent::Presence { circle, notice } => {
                self.render_member_presence(*circle, notice);
            }
            CircleEvent::Message { payload, .. } => render::sdg(out, payload),
        }
    }
}
