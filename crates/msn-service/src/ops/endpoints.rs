//! What MSNP16+ machines of one user tell each other (multiple points of
//! presence): each machine's `PrivateEndpointData` (its name, idle state,
//! client type and status) is kept with its endpoint, and every MSNP16+
//! machine of the user gets a self `UBX` listing all of them — how WLM
//! 2009 shows "signed in at N places" and offers to sign the others out.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::endpoint::machine_guid_text;
use msn_core::handle::Handle;
use msn_core::personal_message::UuxKind;
use uuid::Uuid;

use crate::event::{Event, PeerNotice};
use crate::user::UserState;
use crate::{Actor, Service};

impl Service {
    /// Keeps an endpoint document (`UUX` with `<EndpointData>` or
    /// `<PrivateEndpointData>`, already normalized) for the actor's
    /// machine and sends the user's MSNP16+ machines the new self `UBX`.
    /// `<EndpointData>` repeats the capabilities `CHG` gave; it is
    /// accepted and the capabilities from `CHG` are what is listed.
    pub fn set_endpoint_document(&self, a: &Actor, kind: UuxKind, document: Bytes) {
        // `<EndpointData>` changes nothing listed: no UBX (msnp18-login.txt).
        if kind != UuxKind::PrivateEndpointData {
            return;
        }
        let mut st = a.state();
        let Some(endpoint) = st.endpoints.iter_mut().find(|e| e.id == a.endpoint) else {
            return;
        };
        if endpoint.private_document.as_ref() == Some(&document) {
            return;
        }
        endpoint.private_document = Some(document);
        push_self_update(&st, a.handle());
    }
}

impl Service {
    /// `UUN`: passes a notification to `target`'s MSNP13+ endpoints (the
    /// one named by `to_machine`, if any). False (`217`) when `target`
    /// does not see the actor online (offline, hidden, or blocking it) or
    /// no endpoint took it. To the user's own handle it reaches the
    /// user's other machines (MPOP: `goawyplzthxbye` asks one to sign
    /// out).
    pub async fn notify_peer(
        &self,
        a: &Actor,
        target: &Handle,
        to_machine: Option<Uuid>,
        kind: u16,
        payload: Bytes,
    ) -> bool {
        if target != a.handle() && self.bus.presence_for(target, a.handle()).await.is_none() {
            return false;
        }
        let from_machine = {
            let st = a.state();
            st.endpoints
                .iter()
                .find(|e| e.id == a.endpoint)
                .and_then(|e| e.machine_guid)
        };
        let notice = PeerNotice {
            from: a.handle().clone(),
            from_machine,
            to_machine,
            kind,
            payload,
        };
        self.bus
            .publish(target, Event::PeerNotice(Arc::new(notice)))
            .await
            .is_ok()
    }
}

/// Sends every MSNP16+ endpoint of the user the self `UBX` (a
/// [`Event::PersonalMessage`] about the user itself).
pub(crate) fn push_self_update(st: &UserState, handle: &msn_core::handle::Handle) {
    let (document, endpoints) = self_document(st);
    for e in st
        .endpoints
        .iter()
        .filter(|e| e.dialect.has_multiple_endpoints())
    {
        let _ = e.mailbox.push(Event::PersonalMessage {
            handle: handle.clone(),
            document: document.clone(),
            endpoints: endpoints.clone(),
            previous: None,
            after_presence: false,
        });
    }
}

/// The text between a document's root tags (`<Root>…</Root>`), or
/// nothing for an empty root.
fn inner<'a>(document: &'a [u8], root: &str) -> &'a [u8] {
    let open = format!("<{root}>");
    let close = format!("</{root}>");
    document
        .strip_prefix(open.as_bytes())
        .and_then(|rest| rest.strip_suffix(close.as_bytes()))
        .unwrap_or_default()
}

/// The user's own view of itself: the personal message document, and as
/// the elements that go inside it an `EndpointData` per machine and a
/// `PrivateEndpointData` per machine that sent one.
pub(crate) fn self_document(st: &UserState) -> (Bytes, Option<Bytes>) {
    let document = Bytes::copy_from_slice(st.account.personal_message_or_empty());
    let mut elements = endpoint_elements(st)
        .map(|e| e.to_vec())
        .unwrap_or_default();
    for e in &st.endpoints {
        if let (Some(guid), Some(private)) = (e.machine_guid, &e.private_document) {
            let guid = machine_guid_text(guid);
            elements.extend_from_slice(format!(r#"<PrivateEndpointData id="{guid}">"#).as_bytes());
            elements.extend_from_slice(inner(private, "PrivateEndpointData"));
            elements.extend_from_slice(b"</PrivateEndpointData>");
        }
    }
    (
        document,
        (!elements.is_empty()).then(|| Bytes::from(elements)),
    )
}

/// The user's machines (endpoints that named one) as `<EndpointData
/// id="{GUID}"><Capabilities>caps</Capabilities></EndpointData>` elements,
/// or `None` when there are none: what MSNP16+ watchers are shown of where
/// the user is signed in.
pub(crate) fn endpoint_elements(st: &UserState) -> Option<Bytes> {
    let mut out = Vec::new();
    for e in &st.endpoints {
        let Some(guid) = e.machine_guid else {
            continue;
        };
        let guid = machine_guid_text(guid);
        let caps = e.presence.capabilities.as_deref().unwrap_or("0:0");
        out.extend_from_slice(
            format!(
                r#"<EndpointData id="{guid}"><Capabilities>{caps}</Capabilities></EndpointData>"#
            )
            .as_bytes(),
        );
    }
    (!out.is_empty()).then(|| Bytes::from(out))
}
