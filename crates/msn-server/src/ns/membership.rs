//! MSNP13+ list commands on the NS: `ADL` (add to lists, subscribe to
//! presence), `RML` (remove) and `FQY` (which network an address is on);
//! and `UUN`, notifications passed to another user's clients.
//! They edit the same stored lists as `ADD`/`ADC`/`REM` through the same
//! service operations; only the form differs.

use bytes::Bytes;
use msn_core::account::lists::{AL, BL, FL, PL, RL};
use msn_core::membership_list::{self, MlContact, MlEntry, MlError};
use msn_core::network::NetworkId;
use msn_wire::ns::render;
use msn_wire::vocab::ListKind;
use tracing::debug;

use super::{Flow, NsSession};

/// The lists a client may name in `ADL`/`RML`, in the order they are
/// applied.
const EDITABLE: [ListKind; 3] = [ListKind::Forward, ListKind::Allow, ListKind::Block];

impl NsSession {
    /// Parses an `<ml>` payload; a refused one is answered with its code,
    /// and invalid ones end the session as the real service did.
    fn membership_document(
        &mut self,
        trid: u32,
        payload: &Bytes,
    ) -> Result<membership_list::MembershipList, Flow> {
        let max = self.shared.config.limits.max_list_entries;
        match membership_list::parse(payload, max) {
            Ok(list) => Ok(list),
            Err(e) => {
                debug!(?e, "refused <ml> document");
                self.conn.out.error(e.code(), trid);
                Err(match e {
                    MlError::Invalid | MlError::EmptyDomain | MlError::TooMany => Flow::Close,
                    MlError::UnknownNetwork | MlError::BadHandle => Flow::Continue,
                })
            }
        }
    }

    /// Checks what a client may ask of each contact: FL/AL/BL bits only
    /// (RL and PL belong to the server: `241` and close), at least one, and
    /// the Messenger network (no other network is bridged: `204`).
    fn check_entries(&mut self, trid: u32, contacts: &[MlContact]) -> Result<(), Flow> {
        for c in contacts {
            if c.lists & (RL | PL) != 0 {
                self.conn.out.error(241, trid);
                return Err(Flow::Close);
            }
            if c.lists & (FL | AL | BL) == 0 || c.lists & !(FL | AL | BL) != 0 {
                self.conn.out.error(201, trid);
                return Err(Flow::Continue);
            }
            if c.network.is_some_and(|n| n != NetworkId::Passport) {
                self.conn.out.error(204, trid);
                return Err(Flow::Continue);
            }
        }
        Ok(())
    }

    /// `ADL TrID len` + `<ml>`. The initial list (`l="1"`) names what the
    /// address book already holds: it is checked and acknowledged. Later
    /// ones add each contact to the lists it names that it is not on yet;
    /// a contact added to the FL who is online and allows us is shown at
    /// once (`ILN`/`NLN` with this TrID), before `ADL TrID OK`.
    pub(super) async fn on_adl(&mut self, trid: u32, payload: Bytes) -> Flow {
        let list = match self.membership_document(trid, &payload) {
            Ok(list) => list,
            Err(flow) => return flow,
        };
        if self.dialect.has_circles()
            && list
                .contacts
                .iter()
                .any(|c| c.network == Some(NetworkId::Circle))
        {
            return self.on_circle_adl(trid, &list.contacts).await;
        }
        if let Err(flow) = self.check_entries(trid, &list.contacts) {
            return flow;
        }
        if !list.initial {
            for contact in &list.contacts {
                for kind in EDITABLE {
                    if contact.lists & kind.bit() == 0 {
                        continue;
                    }
                    let already = self.state().account.bits_of(contact.handle.as_str());
                    if already & kind.bit() != 0 {
                        continue;
                    }
                    let service = &self.shared.service;
                    let name = contact.handle.as_str();
                    let added = match service
                        .add_contact(self.actor(), kind, &contact.handle, name, None)
                        .await
                    {
                        Ok(added) => added,
                        Err(e) => return self.fail(trid, e),
                    };
                    if kind == ListKind::Forward && added.reverse_added {
                        self.initial_presence_of(trid, &contact.handle).await;
                    }
                }
            }
        }
        render::adl_ok(&mut self.conn.out, trid);
        Flow::Continue
    }

    /// `RML TrID len` + `<ml>`: removes each contact from the lists named
    /// (`216` if it is not on one of them).
    pub(super) async fn on_rml(&mut self, trid: u32, payload: Bytes) -> Flow {
        let contacts = match self.membership_document(trid, &payload).map(|l| l.contacts) {
            Ok(contacts) => contacts,
            Err(flow) => return flow,
        };
        if self.dialect.has_circles()
            && contacts
                .iter()
                .any(|c| c.network == Some(NetworkId::Circle))
        {
            return self.on_circle_rml(trid, &contacts).await;
        }
        if let Err(flow) = self.check_entries(trid, &contacts) {
            return flow;
        }
        for contact in &contacts {
            for kind in EDITABLE {
                if contact.lists & kind.bit() == 0 {
                    continue;
                }
                let service = &self.shared.service;
                if let Err(e) = service
                    .remove_contact(self.actor(), kind, contact.handle.as_str(), None)
                    .await
                {
                    return self.fail(trid, e);
                }
            }
        }
        render::rml_ok(&mut self.conn.out, trid);
        Flow::Continue
    }

    /// `FQY TrID len` + `<ml>` naming one address: its network (`t="1"`
    /// for an account here), or `208` if there is no such account.
    pub(super) async fn on_fqy(&mut self, trid: u32, payload: Bytes) -> Flow {
        let contacts = match self.membership_document(trid, &payload).map(|l| l.contacts) {
            Ok(contacts) => contacts,
            Err(flow) => return flow,
        };
        let [contact] = contacts.as_slice() else {
            self.conn.out.error(241, trid);
            return Flow::Close;
        };
        let exists = self
            .shared
            .store
            .user_exists(contact.handle.as_str())
            .await
            .unwrap_or(false);
        if !exists {
            self.conn
                .out
                .error(self.dialect.unknown_account_error(), trid);
            return Flow::Continue;
        }
        let doc = membership_list::render(&[MlEntry {
            handle: &contact.handle,
            network: NetworkId::Passport,
            lists: None,
            name: None,
        }]);
        render::fqy(&mut self.conn.out, trid, doc.as_bytes());
        Flow::Continue
    }

    /// `UUN TrID target type len` + payload: passed to the target's
    /// clients as `UBN` (`UUN TrID OK`), or `217` if the target is not
    /// online to us. `target` may name one machine (`email;{guid}`).
    pub(super) async fn on_uun(
        &mut self,
        trid: u32,
        target: &str,
        kind: u16,
        payload: Bytes,
    ) -> Flow {
        let Some((target, machine)) = msn_core::endpoint::parse_endpoint(target) else {
            self.conn.out.error(201, trid);
            return Flow::Continue;
        };
        let service = &self.shared.service;
        if service
            .notify_peer(self.actor(), &target, machine, kind, payload)
            .await
        {
            render::uun_ok(&mut self.conn.out, trid);
        } else {
            self.conn.out.error(217, trid);
        }
        Flow::Continue
    }
}
