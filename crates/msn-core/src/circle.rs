//! Circles (MSNP18 group conversations): what a circle is, who belongs to
//! it and in which role, and the forms its id takes on the wire.
//!
//! A circle is an address book of its own with a GUID of the form
//! `00000000-0000-0000-0009-<12 hex>` (msnp13-18.md §1, the form the live
//! service used and msnp-sharp expects); its Messenger handle is
//! `9:<id>@live.com`, and `ADL` names it `<d n="live.com"><c n="<id>"
//! t="9"/></d>`. Roles and relationship states are the numbers of the
//! address book's `NetworkInfo` (`RelationshipRole`, `RelationshipState`)
//! as msnp-sharp 3.x reads them.

use uuid::Uuid;

use crate::handle::Handle;

/// The domain every circle lives in.
pub const CIRCLE_DOMAIN: &str = "live.com";

/// Longest circle name, in characters (as a friendly name).
pub const MAX_NAME_CHARS: usize = 129;

/// A circle's id: a GUID whose fourth group is `0009`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CircleId(Uuid);

impl CircleId {
    /// A new random id of the circle form.
    pub fn generate() -> CircleId {
        let node: u64 = rand::random::<u64>() & 0xffff_ffff_ffff;
        CircleId(Uuid::from_u128((0x0009u128 << 48) | u128::from(node)))
    }

    /// The id from its GUID text (any case, braces allowed); `None` unless
    /// it has the circle form.
    pub fn parse(s: &str) -> Option<CircleId> {
        let uuid = Uuid::parse_str(s.trim().trim_matches(['{', '}'])).ok()?;
        CircleId::from_uuid(uuid)
    }

    /// `uuid` if it has the circle form.
    pub fn from_uuid(uuid: Uuid) -> Option<CircleId> {
        (uuid.as_u128() >> 48 == 0x0009).then_some(CircleId(uuid))
    }

    /// The id from a handle as the NS writes it: `9:<id>@live.com`, with
    /// or without the `9:` and a `;path=…` suffix.
    pub fn from_handle(s: &str) -> Option<CircleId> {
        let s = s.split(';').next().unwrap_or(s).trim();
        let s = s.strip_prefix("9:").unwrap_or(s);
        let (id, domain) = s.split_once('@')?;
        domain
            .eq_ignore_ascii_case(CIRCLE_DOMAIN)
            .then(|| CircleId::parse(id))
            .flatten()
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }

    /// `9:<id>@live.com`, the circle's address on the NS.
    pub fn handle(self) -> String {
        format!("9:{}@{CIRCLE_DOMAIN}", self.0)
    }
}

impl std::fmt::Display for CircleId {
    /// The lower-case GUID (`00000000-0000-0000-0009-…`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A member's role (`RelationshipRole`, `CirclePersonalMembership/Role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CircleRole {
    /// Created the circle: invites, and may delete it.
    Admin,
    /// May invite (msnp-sharp's `AssistantAdmin`).
    AssistantAdmin,
    Member,
}

impl CircleRole {
    /// The stored and `RelationshipRole` code.
    pub fn code(self) -> u8 {
        match self {
            CircleRole::Admin => 1,
            CircleRole::AssistantAdmin => 2,
            CircleRole::Member => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<CircleRole> {
        Some(match code {
            1 => CircleRole::Admin,
            2 => CircleRole::AssistantAdmin,
            3 => CircleRole::Member,
            _ => return None,
        })
    }

    /// `CirclePersonalMembership/Role` text.
    pub fn name(self) -> &'static str {
        match self {
            CircleRole::Admin => "Admin",
            CircleRole::AssistantAdmin => "AssistantAdmin",
            CircleRole::Member => "Member",
        }
    }

    /// Whether the role may invite members.
    pub fn invites(self) -> bool {
        matches!(self, CircleRole::Admin | CircleRole::AssistantAdmin)
    }
}

/// Where a member stands (`RelationshipState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberState {
    /// Invited, not answered yet (`WaitingResponse`, 1).
    Pending,
    /// In the circle (`Accepted`, 3).
    Accepted,
}

impl MemberState {
    /// The stored and `RelationshipState` code.
    pub fn code(self) -> u8 {
        match self {
            MemberState::Pending => 1,
            MemberState::Accepted => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<MemberState> {
        Some(match code {
            1 => MemberState::Pending,
            3 => MemberState::Accepted,
            _ => return None,
        })
    }

    /// `CirclePersonalMembership/State` text.
    pub fn name(self) -> &'static str {
        match self {
            MemberState::Pending => "WaitingResponse",
            MemberState::Accepted => "Accepted",
        }
    }
}

/// One member of a circle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircleMember {
    pub user_id: i64,
    pub handle: Handle,
    /// The member's friendly name now (decoded text).
    pub name: String,
    pub role: CircleRole,
    pub state: MemberState,
    /// Who invited them (`None` for the creator).
    pub inviter: Option<Handle>,
}

/// A circle with its members, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Circle {
    pub id: CircleId,
    /// Its display name (decoded text).
    pub name: String,
    /// Unix seconds (UTC).
    pub created_at: i64,
    /// Members in the order they joined the list (the creator first).
    pub members: Vec<CircleMember>,
}

impl Circle {
    pub fn member(&self, handle: &str) -> Option<&CircleMember> {
        self.members.iter().find(|m| m.handle.as_str() == handle)
    }

    /// Whether `handle` is in the circle (invited and accepted).
    pub fn has_accepted(&self, handle: &str) -> bool {
        self.member(handle)
            .is_some_and(|m| m.state == MemberState::Accepted)
    }

    /// The accepted members.
    pub fn accepted(&self) -> impl Iterator<Item = &CircleMember> {
        self.members
            .iter()
            .filter(|m| m.state == MemberState::Accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_circle_form() {
        let id = CircleId::generate();
        let text = id.to_string();
        assert!(text.starts_with("00000000-0000-0000-0009-"), "{text}");
        assert_eq!(CircleId::parse(&text), Some(id));
        assert_eq!(CircleId::parse(&text.to_uppercase()), Some(id));
        assert_eq!(CircleId::from_handle(&id.handle()), Some(id));
        assert_eq!(
            CircleId::from_handle(&format!("{};path=IM", id.handle())),
            Some(id)
        );
        assert_eq!(CircleId::from_handle(&format!("{text}@LIVE.COM")), Some(id));
        assert_eq!(
            CircleId::from_handle(&format!("9:{text}@example.com")),
            None
        );
        assert_eq!(
            CircleId::parse("00000000-0000-0000-0000-0123456789ab"),
            None
        );
        assert_eq!(CircleId::parse("nonsense"), None);
    }

    #[test]
    fn codes_round_trip() {
        for r in [
            CircleRole::Admin,
            CircleRole::AssistantAdmin,
            CircleRole::Member,
        ] {
            assert_eq!(CircleRole::from_code(r.code()), Some(r));
        }
        for s in [MemberState::Pending, MemberState::Accepted] {
            assert_eq!(MemberState::from_code(s.code()), Some(s));
        }
        assert_eq!(CircleRole::from_code(0), None);
        assert_eq!(MemberState::from_code(2), None);
    }
}
