//! `CHG` (status, capabilities, MSNObject), the initial presence dump,
//! `UUX` personal messages, and the challenge sent after sign-in.

use std::time::Instant;

use bytes::Bytes;
use msn_core::ids;
use msn_core::personal_message::UuxKind;
use msn_service::ContactPresence;
use msn_wire::ns::render;
use msn_wire::vocab::Status;
use tracing::{debug, warn};

use super::{Challenge, Flow, NsSession};
use crate::config::ChallengeMode;

impl NsSession {
    pub(super) async fn on_chg(
        &mut self,
        trid: u32,
        status: Status,
        capabilities: Option<String>,
        msn_object: Option<String>,
    ) -> Flow {
        if status == Status::Offline {
            self.conn.out.error(201, trid);
            return Flow::Continue;
        }
        let service = &self.shared.service;
        let set = service
            .set_presence(
                self.actor(),
                status,
                capabilities.as_deref(),
                msn_object.as_deref(),
            )
            .await;
        let (caps, obj) = (capabilities.as_deref(), msn_object.as_deref());
        render::chg(&mut self.conn.out, trid, status, caps, obj);
        if set.first {
            // `ILN` for every FL contact visible to us, with this TrID.
            let seen = service.visible_contacts(self.actor()).await;
            for p in &seen {
                self.write_contact_presence(trid, p);
            }
            self.write_offline_message_summary().await;
            if self.shared.config.challenge.mode != ChallengeMode::Off {
                self.send_challenge();
            }
        }
        Flow::Continue
    }

    /// `ILN TrID …` for a contact, followed (MSNP11+) by its personal
    /// message.
    pub(super) fn write_contact_presence(&mut self, trid: u32, contact: &ContactPresence) {
        let d = self.dialect;
        let notice = &contact.notice;
        let view = render::PresenceView {
            status: notice.status,
            handle: notice.handle.as_str(),
            name: &notice.name,
            capabilities: notice.capabilities.as_deref(),
            msn_object: notice.msn_object.as_deref(),
        };
        render::iln(&mut self.conn.out, trid, d, &view);
        // MSNP16+ get a document after every presence line, an empty one
        // for a contact who never sent one (transcripts/msnp18-login.txt).
        let document = match &contact.personal_message {
            Some(doc) => Some(doc.as_ref()),
            None => d
                .has_multiple_endpoints()
                .then_some(msn_core::personal_message::EMPTY),
        };
        if d.has_personal_message()
            && let Some(doc) = document
        {
            let endpoints = contact
                .endpoints
                .as_deref()
                .filter(|_| d.has_multiple_endpoints());
            let doc =
                msn_core::personal_message::project(doc, d.personal_message_elements(), endpoints);
            render::ubx(&mut self.conn.out, d, notice.handle.as_str(), &doc);
        }
    }

    /// `UUX TrID len` + `<Data>…</Data>` (MSNP11+): stores the personal
    /// message and pushes it to watchers as `UBX`.
    pub(super) async fn on_uux(&mut self, trid: u32, payload: Bytes) -> Flow {
        if payload.is_empty() {
            render::uux_ok(&mut self.conn.out, trid);
            return Flow::Continue;
        }
        // Parsed and re-written (msn-core): other clients get a clean
        // document or nothing. MSNP16+ also describe their machine.
        let parsed = if self.dialect.has_multiple_endpoints() {
            msn_core::personal_message::normalize_any(&payload)
        } else {
            msn_core::personal_message::normalize(&payload).map(|doc| (UuxKind::Data, doc))
        };
        let Some((kind, document)) = parsed else {
            debug!("invalid UUX document");
            return Flow::Close;
        };
        if kind != UuxKind::Data {
            let service = &self.shared.service;
            service.set_endpoint_document(self.actor(), kind, Bytes::from(document));
            render::uux_ok(&mut self.conn.out, trid);
            return Flow::Continue;
        }
        let payload = Bytes::from(document);
        let service = &self.shared.service;
        match service.set_personal_message(self.actor(), payload).await {
            Ok(()) => render::uux_ok(&mut self.conn.out, trid),
            Err(e) => return self.fail(trid, e),
        }
        Flow::Continue
    }

    /// Sends `CHL 0 challenge` if the dialect has challenges.
    pub(crate) fn send_challenge(&mut self) {
        if self.dialect.challenge() == msn_wire::dialect::ChallengeKind::None {
            return;
        }
        let text = ids::challenge();
        render::chl(&mut self.conn.out, 0, &text);
        self.challenge = Some(Challenge {
            text,
            sent: Instant::now(),
        });
    }

    /// `QRY TrID id 32` + answer.
    pub(super) fn on_qry(&mut self, trid: u32, client_id: &str, response: &[u8]) -> Flow {
        let Some(challenge) = self.challenge.take() else {
            // Nothing outstanding: harmless (challenges.md §1).
            render::qry_ok(&mut self.conn.out, trid);
            return Flow::Continue;
        };
        let kind = self.dialect.challenge();
        if response.len() != 32
            || !msn_core::challenge::verify(kind, client_id, &challenge.text, response)
        {
            warn!(client_id, "wrong challenge answer");
            self.conn.out.error(540, trid);
            return Flow::Close;
        }
        render::qry_ok(&mut self.conn.out, trid);
        let repeat = self.shared.config.challenge.repeat;
        if !repeat.is_zero() {
            self.next_challenge = Some(Instant::now() + repeat);
        }
        Flow::Continue
    }

    /// A client asking for a challenge (`CHL TrID`, listed by YW).
    pub(super) fn on_client_chl(&mut self, trid: u32) -> Flow {
        let text = ids::challenge();
        render::chl(&mut self.conn.out, trid, &text);
        self.challenge = Some(Challenge {
            text,
            sent: Instant::now(),
        });
        Flow::Continue
    }
}
