//! Whole accounts as data, for moving them between databases
//! (`msnd export` / `msnd import`, `msnd import-escargot`):
//! [`Store::export_accounts`](crate::Store::export_accounts) reads them,
//! [`Store::import_accounts`](crate::Store::import_accounts) writes them.
//!
//! An [`AccountDump`] holds what is stored, not what a session sees: the
//! name kept with each list entry (not the contact's current name that
//! [`Store::load_account`](crate::Store::load_account) puts there), the
//! credentials, the flags an operator sets, the creation time and the
//! offline messages waiting. Database ids are left out: they mean nothing
//! in another database.

use msn_core::account::{Group, GroupId, Properties};
use msn_core::circle::{CircleId, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_wire::vocab::{AddAlert, Privacy};
use uuid::Uuid;

use crate::StoredOim;

/// Everything stored about one account.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountDump {
    pub handle: Handle,
    /// Decoded text.
    pub friendly_name: String,
    /// A PHC string: argon2id, or a foreign hash kept until the next
    /// sign-in re-hashes it (`msn_core::password`).
    pub password_hash: String,
    /// The clear password of an account that opted in to MD5 logins.
    pub legacy_password: Option<String>,
    pub verified: bool,
    pub disabled: bool,
    /// Unix seconds (UTC).
    pub created_at: i64,
    pub privacy: Privacy,
    pub add_alert: AddAlert,
    pub list_version: u64,
    pub properties: Properties,
    /// The stored `<Data>` document, bytes as the client wrote them.
    pub personal_message: Option<Vec<u8>>,
    /// By id; group 0 included.
    pub groups: Vec<Group>,
    /// By handle.
    pub contacts: Vec<ContactDump>,
    /// Waiting offline messages in arrival order, with their text.
    pub oims: Vec<StoredOim>,
    /// The circles this account is the admin of, by id. Every circle has
    /// exactly one admin (who cannot leave it, and whose account takes it
    /// along when deleted), so each circle is written once, with its
    /// owner.
    pub circles: Vec<CircleDump>,
}

impl std::fmt::Debug for AccountDump {
    /// Never prints secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountDump")
            .field("handle", &self.handle)
            .field("friendly_name", &self.friendly_name)
            .field("legacy_md5", &self.legacy_password.is_some())
            .field("verified", &self.verified)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("privacy", &self.privacy)
            .field("add_alert", &self.add_alert)
            .field("list_version", &self.list_version)
            .field("properties", &self.properties)
            .field("personal_message", &self.personal_message)
            .field("groups", &self.groups)
            .field("contacts", &self.contacts)
            .field("oims", &self.oims)
            .field("circles", &self.circles)
            .finish_non_exhaustive()
    }
}

/// One entry of an account's lists, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactDump {
    pub handle: Handle,
    pub network: NetworkId,
    /// FL 1, AL 2, BL 4, RL 8, PL 16 (`msn_core::account::lists`).
    pub lists: u8,
    /// The name stored with the entry (decoded text).
    pub name: String,
    /// The address-book contact id.
    pub guid: Option<Uuid>,
    /// Sorted; FL entries only, never empty for them.
    pub groups: Vec<GroupId>,
}

/// A circle (MSNP18 group conversation) as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircleDump {
    pub id: CircleId,
    /// Decoded text.
    pub name: String,
    /// Unix seconds (UTC).
    pub created_at: i64,
    /// In the order they joined the list, the admin first.
    pub members: Vec<CircleMemberDump>,
}

/// One member of a [`CircleDump`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircleMemberDump {
    pub handle: Handle,
    pub role: CircleRole,
    pub state: MemberState,
    /// Who invited them; `None` for the admin, or when the inviter's
    /// account is gone.
    pub inviter: Option<Handle>,
}

/// What [`Store::import_accounts`](crate::Store::import_accounts) wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub accounts: usize,
    pub groups: usize,
    pub contacts: usize,
    pub oims: usize,
    pub circles: usize,
}

impl ImportCounts {
    /// The counts of `accounts`, as an import of them writes them.
    pub fn of(accounts: &[AccountDump]) -> ImportCounts {
        let mut counts = ImportCounts {
            accounts: accounts.len(),
            ..ImportCounts::default()
        };
        for a in accounts {
            counts.groups += a.groups.len();
            counts.contacts += a.contacts.len();
            counts.oims += a.oims.len();
            counts.circles += a.circles.len();
        }
        counts
    }
}
