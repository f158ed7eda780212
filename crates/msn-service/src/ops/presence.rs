//! Presence: `CHG` on one endpoint, what the actor may see of its
//! contacts, and invitations being taken or not (`IMS`).

use std::sync::Arc;

use bytes::Bytes;
use msn_core::handle::Handle;
use msn_wire::vocab::{ListKind, Status};

use crate::event::{ContactPresence, Event};
use crate::fanout::{self, Visibility};
use crate::{Actor, Service};

/// The outcome of a presence change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceSet {
    /// This was the endpoint's first `CHG`: it now receives presence, and
    /// its client expects the contacts' presence (`ILN`).
    pub first: bool,
}

impl Service {
    /// Sets the actor endpoint's status, capabilities and MSNObject; the
    /// user's merged presence goes to every watcher who can see it. At the
    /// first change the stored personal message goes out too.
    pub async fn set_presence(
        &self,
        a: &Actor,
        status: Status,
        capabilities: Option<&str>,
        msn_object: Option<&str>,
    ) -> PresenceSet {
        let caps: Option<Arc<str>> = capabilities.map(Into::into);
        let obj: Option<Arc<str>> = msn_object.map(Into::into);
        let (first, before, after, notice, changed, document) = {
            let mut st = a.state();
            let before = Visibility::of(&st);
            let old = st.notice();
            st.clock += 1;
            let clock = st.clock;
            let Some(e) = st.endpoint_mut(a.endpoint) else {
                return PresenceSet { first: false };
            };
            let first = !e.presence.live;
            e.presence.live = true;
            e.presence.status = status;
            e.presence.capabilities = caps;
            e.presence.msn_object = obj;
            e.changed = clock;
            let notice = st.notice();
            let changed = first
                || old.status != notice.status
                || old.capabilities != notice.capabilities
                || old.msn_object != notice.msn_object;
            // The document goes out with the presence line (below): for
            // every watcher at the first change if the user has one, and for
            // MSNP16+ watchers after every NLN, an empty one if need be
            // (transcripts/msnp18-login.txt). `Some(for_all)` when it does.
            let sent_once = first && st.account.personal_message.is_some();
            let document = (notice.status.is_visible() && (changed || sent_once)).then(|| {
                (
                    Bytes::copy_from_slice(st.account.personal_message_or_empty()),
                    sent_once,
                )
            });
            (
                first,
                before,
                Visibility::of(&st),
                notice,
                changed,
                document,
            )
        };
        if changed {
            fanout::announce(&*self.bus, &notice, &before, &after, true).await;
            // The user's own MSNP16+ machines see the merged presence like
            // watchers do: NLN, then the self UBX (msnp13-18.md §3.13).
            if notice.status.is_visible() {
                let st = a.state();
                for e in st
                    .endpoints
                    .iter()
                    .filter(|e| e.presence.live && e.dialect.has_multiple_endpoints())
                {
                    let _ = e.mailbox.push(Event::Presence(notice.clone()));
                }
                super::endpoints::push_self_update(&st, a.handle());
            }
            self.announce_in_circles(a, &notice).await;
        }
        if let Some((document, for_all)) = document {
            self.broadcast_personal_message(a, document, None, !for_all)
                .await;
        }
        PresenceSet { first }
    }

    /// What the actor may see of one contact now (`ILN` after an add).
    pub async fn contact_presence(&self, a: &Actor, contact: &Handle) -> Option<ContactPresence> {
        self.bus.presence_for(contact, a.handle()).await
    }

    /// The presence of every FL contact the actor may see, in handle order
    /// (the `ILN` burst after the first `CHG`).
    pub async fn visible_contacts(&self, a: &Actor) -> Vec<ContactPresence> {
        let contacts: Vec<Handle> = a
            .state()
            .account
            .on_list(ListKind::Forward)
            .map(|c| c.handle.clone())
            .collect();
        let mut seen = Vec::new();
        for contact in contacts {
            if let Some(p) = self.bus.presence_for(&contact, a.handle()).await {
                seen.push(p);
            }
        }
        seen
    }

    /// Whether the actor endpoint has sent its first `CHG`.
    pub fn is_live(&self, a: &Actor) -> bool {
        a.state()
            .endpoint(a.endpoint)
            .is_some_and(|e| e.presence.live)
    }

    /// `IMS ON`/`OFF`: whether the endpoint takes chat invitations.
    pub fn set_invitations(&self, a: &Actor, on: bool) {
        if let Some(e) = a.state().endpoint_mut(a.endpoint) {
            e.ims_on = on;
        }
    }
}
