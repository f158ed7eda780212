//! Circles in the address book and sharing services (WLM 2009, MSNP18),
//! as msnp-sharp 3.x (`ContactService`, `XMLContactList`) drives them:
//!
//! * `CreateCircle` (sharing): `properties/DisplayName` → a new circle,
//!   the caller its admin; answers `CreateCircleResult/Id`.
//! * `CreateContact` (address book) on the circle's book (`abHandle/ABId`
//!   = circle id) with `contactHandle/Email`: the admin invites that
//!   user. The client follows it with `ManageWLConnection` on the same
//!   book (role member, action 1), which the invitation already covers.
//! * `ManageWLConnection` without `abHandle`: the invitee answers; its
//!   `contactId` is the circle's contact in the invitee's own book (msnd
//!   gives that contact the circle's id), `action` 1 accepts, 2 declines.
//!   (msnp-sharp 3.x sends its `Circle.Guid` there, which it may leave
//!   empty; such a request gets `ABDoesNotExist`.)
//! * `BreakConnection` on the circle's book: `contactId` names a member's
//!   contact there (the caller's own: leaving; another's: the admin
//!   removing them). The admin breaking their own connection deletes the
//!   circle (msnd's choice: a circle without its admin has nobody who can
//!   invite; the references name no separate delete call).
//! * `ABFindContactsPaged` lists each circle as a `contactType Circle`
//!   contact with its `NetworkInfo` (relationship type 5, state 1 invited
//!   / 3 accepted, the role) and a `CircleInverseInfo`; with `abHandle` it
//!   reads a circle's own book: its members, the caller as `Me`.
//!
//! Ids: a member's contact id in a circle's book is derived from their
//! PUID (as the Me contact's), the circle contact's CID from the circle
//! id. Everything is decided by the service (`msn_service` circles ops).

use msn_core::circle::{Circle, CircleId, CircleMember, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_service::CircleError;
use uuid::Uuid;

use super::{Call, Fault, NEVER, Reply, cid, contact_info_tail, date, me_guid};
use crate::soap_xml::Out;

/// `RelationshipType` of a circle (msnp-sharp `RelationshipTypes.CircleGroup`).
const CIRCLE_RELATIONSHIP: &str = "5";

impl Fault {
    pub(super) fn from_circle(e: CircleError) -> Fault {
        match e {
            CircleError::Storage => Fault::internal(),
            CircleError::NoSuchCircle => {
                Fault::client("ABDoesNotExist", "Address book does not exist")
            }
            CircleError::NotAllowed | CircleError::NoTicket => {
                Fault::client("AccessDenied", "Access denied")
            }
            CircleError::NoSuchUser => Fault::client("UserDoesNotExist", "User does not exist"),
            CircleError::AlreadyMember => {
                Fault::client("ContactAlreadyExists", "Contact already exists")
            }
            CircleError::CircleFull => Fault::client(
                "MaximumCircleMembershipReached",
                "The circle has the maximum number of members",
            ),
            CircleError::TooManyCircles => Fault::client(
                "MaximumCircleMembershipReached",
                "The user is in the maximum number of circles",
            ),
            CircleError::InvalidName => {
                Fault::client("BadArgument", "Malformed request: circle name")
            }
        }
    }
}

/// The CID of a circle's contact: the id's last 48 bits, which are what
/// makes it unique (positive, as CIDs of real accounts are).
fn circle_cid(id: CircleId) -> i64 {
    (id.uuid().as_u128() & 0xffff_ffff_ffff) as i64
}

/// A member's contact id in a circle's book.
fn member_contact_id(user_id: i64) -> Uuid {
    me_guid(user_id)
}

impl Call<'_> {
    fn circle_id_at(&self, path: &[&str]) -> Result<CircleId, Fault> {
        let text = self
            .request
            .text_at(path)
            .ok_or_else(|| Fault::bad_request(format!("no {}", path.join("/"))))?;
        CircleId::parse(text)
            .ok_or_else(|| Fault::client("ABDoesNotExist", "Address book does not exist"))
    }

    /// CreateCircle: a new circle with the caller as admin.
    pub(super) async fn create_circle(&self) -> Result<Reply, Fault> {
        let name = self
            .request
            .text_at(&["properties", "DisplayName"])
            .ok_or_else(|| Fault::bad_request("no properties/DisplayName"))?;
        let id = self
            .service
            .create_circle(self.actor, name)
            .await
            .map_err(Fault::from_circle)?;
        let mut out = Out::default();
        out.open("CreateCircleResult")
            .leaf("Id", &id.to_string())
            .close("CreateCircleResult");
        Ok(Reply {
            inner: out.into_string(),
            read: false,
        })
    }

    /// CreateContact on a circle's book: the admin invites the user named.
    pub(super) async fn create_contact(&self) -> Result<Reply, Fault> {
        let id = self.circle_id_at(&["abHandle", "ABId"])?;
        let email = self
            .request
            .text_at(&["contactHandle", "Email"])
            .ok_or_else(|| Fault::bad_request("no contactHandle/Email"))?;
        let invitee = Handle::parse(email.trim())
            .map_err(|_| Fault::client("BadEmailArgument", "Malformed email argument"))?;
        self.service
            .invite_to_circle(self.actor, id, &invitee)
            .await
            .map_err(Fault::from_circle)?;
        let circle = self
            .service
            .circle(self.actor, id)
            .await
            .map_err(Fault::from_circle)?;
        let member = circle
            .member(invitee.as_str())
            .ok_or_else(Fault::internal)?;
        let mut out = Out::default();
        self.member_contact(&mut out, "CreateContactResult", &circle, member);
        Ok(Reply {
            inner: out.into_string(),
            read: false,
        })
    }

    /// ManageWLConnection: the invitee's answer (no `abHandle`), or the
    /// admin's confirmation of an invitation (`abHandle` = the circle).
    pub(super) async fn manage_wl_connection(&self) -> Result<Reply, Fault> {
        if self.request.child("abHandle").is_some() {
            // The second step of an invitation: already done by
            // CreateContact; the caller must still be the circle's admin.
            let id = self.circle_id_at(&["abHandle", "ABId"])?;
            let circle = self
                .service
                .circle(self.actor, id)
                .await
                .map_err(Fault::from_circle)?;
            let me = circle
                .member(self.actor.handle().as_str())
                .ok_or_else(Fault::internal)?;
            if !me.role.invites() {
                return Err(Fault::from_circle(CircleError::NotAllowed));
            }
            let contact = self.request.text_at(&["contactId"]).unwrap_or("");
            let member = circle
                .members
                .iter()
                .find(|m| {
                    member_contact_id(m.user_id)
                        .to_string()
                        .eq_ignore_ascii_case(contact)
                })
                .ok_or_else(|| Fault::client("ContactDoesNotExist", "Contact does not exist"))?;
            let mut out = Out::default();
            self.member_contact(&mut out, "ManageWLConnectionResult", &circle, member);
            return Ok(Reply {
                inner: out.into_string(),
                read: false,
            });
        }
        let id = self.circle_id_at(&["contactId"])?;
        let accept = match self.request.text_at(&["action"]).map(str::trim) {
            Some("1") => true,
            Some("2") => false,
            _ => return Err(Fault::bad_request("action must be 1 or 2")),
        };
        self.service
            .answer_circle_invitation(self.actor, id, accept)
            .await
            .map_err(Fault::from_circle)?;
        if !accept {
            return Ok(Reply::empty());
        }
        let circle = self
            .service
            .circle(self.actor, id)
            .await
            .map_err(Fault::from_circle)?;
        let mut out = Out::default();
        self.circle_contact(&mut out, "ManageWLConnectionResult", &circle);
        Ok(Reply {
            inner: out.into_string(),
            read: false,
        })
    }

    /// BreakConnection on a circle's book: leaving, removing a member, or
    /// (the admin's own connection) deleting the circle.
    pub(super) async fn break_connection(&self) -> Result<Reply, Fault> {
        let id = self.circle_id_at(&["abHandle", "ABId"])?;
        let contact = self
            .request
            .text_at(&["contactId"])
            .ok_or_else(|| Fault::bad_request("no contactId"))?;
        let circle = self
            .service
            .circle(self.actor, id)
            .await
            .map_err(Fault::from_circle)?;
        let member = circle
            .members
            .iter()
            .find(|m| {
                member_contact_id(m.user_id)
                    .to_string()
                    .eq_ignore_ascii_case(contact.trim())
            })
            .ok_or_else(|| Fault::client("ContactDoesNotExist", "Contact does not exist"))?;
        let result = if &member.handle == self.actor.handle() && member.role == CircleRole::Admin {
            self.service.delete_circle(self.actor, id).await
        } else {
            self.service
                .remove_from_circle(self.actor, id, &member.handle)
                .await
        };
        result.map_err(Fault::from_circle)?;
        Ok(Reply::empty())
    }

    /// The circle contacts of the caller's own book (`Contacts`).
    pub(super) fn circle_contacts(&self, out: &mut Out, circles: &[Circle]) {
        for circle in circles {
            self.circle_contact(out, "Contact", circle);
        }
    }

    /// One circle as a contact of the caller's book: `contactType Circle`
    /// and the caller's relationship to it in `NetworkInfo`.
    fn circle_contact(&self, out: &mut Out, element: &str, circle: &Circle) {
        let now = date(self.now);
        let Some(me) = circle.member(self.actor.handle().as_str()) else {
            return;
        };
        out.open(element).leaf("contactId", &circle.id.to_string());
        out.open("contactInfo").leaf("contactType", "Circle");
        contact_info_tail(
            out,
            &circle.name,
            &format!("{}@{}", circle.id, msn_core::circle::CIRCLE_DOMAIN),
            true,
            circle_cid(circle.id),
            true,
            false,
        );
        out.open("NetworkInfoList");
        network_info(out, me, circle, &now);
        out.close("NetworkInfoList");
        out.close("contactInfo")
            .leaf("propertiesChanged", "")
            .leaf("fDeleted", "false")
            .leaf("lastChange", &now)
            .close(element);
    }

    /// `CircleResult/Circles`: each circle's `CircleInverseInfo` (what it
    /// is, and what the caller is in it).
    pub(super) fn circle_inverse_infos(&self, out: &mut Out, circles: &[Circle]) {
        if circles.is_empty() {
            return;
        }
        let now = date(self.now);
        out.open("Circles");
        for circle in circles {
            let Some(me) = circle.member(self.actor.handle().as_str()) else {
                continue;
            };
            let role = match me.state {
                MemberState::Pending => "StatePendingOutbound",
                MemberState::Accepted => me.role.name(),
            };
            let created = time::OffsetDateTime::from_unix_timestamp(circle.created_at)
                .map(date)
                .unwrap_or_else(|_| now.clone());
            out.open("CircleInverseInfo")
                .open("Content")
                .open("Handle")
                .leaf("Id", &circle.id.to_string())
                .close("Handle")
                .open("Info")
                .leaf("Domain", "1")
                .leaf("HostedDomain", msn_core::circle::CIRCLE_DOMAIN)
                .leaf("Type", "2")
                .leaf("MembershipAccess", "0")
                .leaf("IsPresenceEnabled", "true")
                .leaf("RequestMembershipOption", "2")
                .leaf("DisplayName", &circle.name)
                .leaf("ProfileLastUpdated", NEVER)
                .leaf("Changes", "")
                .leaf("CreateDate", &created)
                .leaf("LastChanged", &now)
                .close("Info")
                .close("Content")
                .open("PersonalInfo")
                .open("MembershipInfo")
                .open("CirclePersonalMembership")
                .leaf("Role", role)
                .leaf("State", me.state.name())
                .close("CirclePersonalMembership")
                .close("MembershipInfo")
                .leaf("Name", &circle.name)
                .leaf("IsNotMobileVisible", "false")
                .leaf("IsFavorite", "false")
                .leaf("IsFamily", "false")
                .leaf("Changes", "")
                .close("PersonalInfo")
                .leaf("Deleted", "false")
                .close("CircleInverseInfo");
        }
        out.close("Circles");
    }

    /// ABFindContactsPaged with `abHandle`: a circle's own book, its
    /// members as contacts (the caller as `Me`), for members only.
    pub(super) async fn find_circle_book(&self, abid: &str) -> Result<Reply, Fault> {
        let id = CircleId::parse(abid)
            .ok_or_else(|| Fault::client("ABDoesNotExist", "Address book does not exist"))?;
        let circle = self
            .service
            .circle(self.actor, id)
            .await
            .map_err(Fault::from_circle)?;
        let now = date(self.now);
        let mut out = Out::default();
        out.open("ABFindContactsPagedResult");
        out.open("Groups").close("Groups");
        out.open("Contacts");
        for m in &circle.members {
            self.member_contact(&mut out, "Contact", &circle, m);
        }
        out.close("Contacts");
        let admin = circle
            .members
            .iter()
            .find(|m| m.role == CircleRole::Admin)
            .or(circle.members.first());
        out.open("Ab")
            .leaf("abId", &circle.id.to_string())
            .open("abInfo")
            .leaf("name", &circle.name)
            .leaf("ownerPuid", "0")
            .leaf("OwnerCID", &admin.map_or(0, |m| cid(m.user_id)).to_string())
            .leaf("ownerEmail", admin.map_or("", |m| m.handle.as_str()))
            .leaf("fDefault", "false")
            .leaf("joinedNamespace", "false")
            .leaf("IsBot", "false")
            .leaf("IsParentManaged", "false")
            .leaf("AccountTierLastChanged", NEVER)
            .leaf("ProfileVersion", "0")
            .leaf("SubscribeExternalPartner", "false")
            .leaf("NotifyExternalPartner", "false")
            .leaf("AddressBookType", "Group")
            .close("abInfo")
            .leaf("lastChange", &now)
            .leaf("DynamicItemLastChanged", NEVER)
            .leaf("createDate", NEVER)
            .leaf("propertiesChanged", "")
            .close("Ab");
        out.close("ABFindContactsPagedResult");
        Ok(Reply {
            inner: out.into_string(),
            read: true,
        })
    }

    /// A member as a contact of the circle's book, as element `element`
    /// (`Contact` in a list, or a call's result, which is a contact).
    fn member_contact(&self, out: &mut Out, element: &str, circle: &Circle, m: &CircleMember) {
        let now = date(self.now);
        let me = &m.handle == self.actor.handle();
        let kind = match (me, m.state) {
            (true, _) => "Me",
            (false, MemberState::Accepted) => "Regular",
            (false, MemberState::Pending) => "LivePending",
        };
        out.open(element)
            .leaf("contactId", &member_contact_id(m.user_id).to_string());
        out.open("contactInfo").leaf("contactType", kind);
        contact_info_tail(
            out,
            &m.name,
            m.handle.as_str(),
            true,
            cid(m.user_id),
            true,
            false,
        );
        out.open("NetworkInfoList");
        network_info(out, m, circle, &now);
        out.close("NetworkInfoList");
        out.close("contactInfo")
            .leaf("propertiesChanged", "")
            .leaf("fDeleted", "false")
            .leaf("lastChange", &now)
            .close(element);
    }
}

/// `NetworkInfo` of a member's relationship to a circle (`DomainId` 1,
/// Windows Live; relationship type 5; state 1 invited / 3 accepted; the
/// role; who invited them). msnp-sharp only logs `DomainTag`; msnd puts
/// the circle's id there (what the live service wrote is not known).
fn network_info(out: &mut Out, m: &CircleMember, circle: &Circle, now: &str) {
    out.open("NetworkInfo")
        .leaf("DomainId", "1")
        .leaf("DomainTag", &circle.id.to_string())
        .leaf("DisplayName", &circle.name)
        .leaf("RelationshipType", CIRCLE_RELATIONSHIP)
        .leaf("RelationshipState", &m.state.code().to_string())
        .leaf("RelationshipStateDate", now)
        .leaf("RelationshipRole", &m.role.code().to_string())
        .leaf("NDRCount", "0");
    if let Some(inviter) = &m.inviter {
        out.leaf("InviterEmail", inviter.as_str());
    }
    out.leaf("CreateDate", now)
        .leaf("LastChanged", now)
        .leaf("PropertiesChanged", "")
        .leaf("SourceId", "WL")
        .close("NetworkInfo");
}
