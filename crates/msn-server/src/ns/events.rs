//! Events from other sessions, rendered in this client's dialect.

use msn_core::account::lists;
use msn_core::handle::Handle;
use msn_core::membership_list::{self, MlEntry};
use msn_core::network::NetworkId;
use msn_core::personal_message;
use msn_store::StoredOim;
use msn_wire::mail_data::OimEntry;
use msn_wire::ns::render;

use super::{Flow, NsSession};
use msn_service::{Event as NsEvent, KickReason};

/// The `<ml>` of an `ADL 0`/`RML 0` notice (MSNP13+): `handle` on the
/// receiver's reverse list, with its name when added.
fn reverse_notice(handle: &Handle, name: Option<&str>) -> String {
    membership_list::render(&[MlEntry {
        handle,
        network: NetworkId::Passport,
        lists: Some(lists::RL),
        name,
    }])
}

/// A stored offline message as the `Mail-Data` document lists it; `id`
/// is its id as text (upper-case GUID, as clients write them).
pub(super) fn oim_entry<'a>(oim: &'a StoredOim, id: &'a str) -> OimEntry<'a> {
    OimEntry {
        sender: oim.sender.as_str(),
        sender_name: &oim.sender_name,
        id,
        received_at: oim.received_at,
        size: oim.size,
    }
}

impl NsSession {
    pub(super) fn handle_event(&mut self, event: NsEvent) -> Flow {
        let d = self.dialect;
        let out = &mut self.conn.out;
        match event {
            NsEvent::Presence(p) if p.status.is_visible() => {
                let view = render::PresenceView {
                    status: p.status,
                    handle: p.handle.as_str(),
                    name: &p.name,
                    capabilities: p.capabilities.as_deref(),
                    msn_object: p.msn_object.as_deref(),
                };
                render::nln(out, d, &view);
            }
            NsEvent::Presence(p) => render::fln(out, d, p.handle.as_str()),
            NsEvent::PersonalMessage {
                handle,
                document,
                endpoints,
                previous,
                after_presence,
            } => {
                let wanted =
                    d.has_personal_message() && (!after_presence || d.has_multiple_endpoints());
                if wanted {
                    let extra = endpoints.as_deref().filter(|_| d.has_multiple_endpoints());
                    let shown = |doc: &[u8]| {
                        personal_message::project(doc, d.personal_message_elements(), extra)
                    };
                    let document = shown(&document);
                    // After a UUX, only a receiver whose view changed.
                    if previous.is_none_or(|p| shown(&p) != document) {
                        render::ubx(out, d, handle.as_str(), &document);
                    }
                }
            }
            NsEvent::ReverseAdded {
                handle,
                name,
                version,
            } => {
                if d.has_ns_lists() {
                    render::reverse_added(out, d, version, handle.as_str(), &name);
                } else {
                    render::adl_notice(out, reverse_notice(&handle, Some(&name)).as_bytes());
                }
            }
            NsEvent::ReverseRemoved { handle, version } => {
                if d.has_ns_lists() {
                    render::reverse_removed(out, d, version, handle.as_str());
                } else {
                    render::rml_notice(out, reverse_notice(&handle, None).as_bytes());
                }
            }
            NsEvent::Property {
                handle,
                property,
                value,
                version,
            } => {
                if d.has_phone_properties() {
                    render::bpr_changed(
                        out,
                        d,
                        version,
                        handle.as_str(),
                        property.code(),
                        value.as_deref(),
                    );
                }
            }
            NsEvent::Ring(ring) => render::rng(
                out,
                d,
                &ring.session_id,
                &ring.sb_addr,
                &ring.cookie,
                ring.inviter.as_str(),
                &ring.inviter_name,
            ),
            NsEvent::Alert(document) => {
                if d.has_msnp5_commands() {
                    render::not(out, &document);
                }
            }
            NsEvent::PeerNotice(notice) => {
                let machine = notice.from_machine.filter(|_| d.has_multiple_endpoints());
                let sender = msn_core::endpoint::endpoint_text(&notice.from, machine);
                render::ubn(out, &sender, notice.kind, &notice.payload);
            }
            NsEvent::OfflineMessage(oim) => {
                if d.has_mail_data() {
                    let id = format!("{:X}", oim.id);
                    let payload = render::oim_notification_payload(&oim_entry(&oim, &id));
                    render::hotmail_msg(out, payload.as_bytes());
                }
            }
            NsEvent::Circle(event) => {
                if d.has_circles() {
                    self.render_circle_event(&event);
                }
            }
            NsEvent::OfflineMessagesDeleted { count } => {
                if d.has_mail_data() {
                    render::hotmail_msg(out, render::oims_deleted_payload(count).as_bytes());
                }
            }
            NsEvent::Kick(KickReason::OtherLogin) => {
                self.kick("OTH");
                return Flow::Close;
            }
            NsEvent::ShutdownWarning { minutes } => {
                let payload = render::shutdown_warning_payload(minutes);
                render::hotmail_msg(out, payload.as_bytes());
            }
            NsEvent::Kick(KickReason::Shutdown) => {
                self.kick("SSD");
                return Flow::Close;
            }
            // The account was deleted, disabled or its password changed, or
            // an operator signed the user out: the session ends as the real
            // service ended one it no longer trusted (`OUT OTH`: clients do
            // not sign straight back in), and so do the user's chats.
            NsEvent::Kick(KickReason::AccountChanged | KickReason::Operator) => {
                self.kick("OTH");
                if let Some(actor) = &self.actor {
                    self.shared.switchboards.expel(actor.handle());
                }
                return Flow::Close;
            }
        }
        Flow::Continue
    }
}
