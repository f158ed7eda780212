//! An account's stored state (lists, groups, settings, properties) and the
//! rules for editing it.
//!
//! Edits are planned, not applied: `plan_*` checks a request against the
//! current state and returns a [`Change`] (or the protocol error). The
//! server commits the change to the store and only then calls
//! [`Account::apply`] with the list version the store assigned, so what a
//! client is told has always been written first.

use msn_wire::vocab::{AddAlert, ListKind, Privacy};
use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use crate::handle::Handle;
use crate::network::NetworkId;
use crate::privacy;
use crate::text::{self, MAX_FRIENDLY_NAME, MAX_GROUP_NAME, MAX_PROPERTY_VALUE};

/// List bits as stored and as sent in MSNP8+ `LST` lines.
pub mod lists {
    pub const FL: u8 = 1;
    pub const AL: u8 = 2;
    pub const BL: u8 = 4;
    pub const RL: u8 = 8;
    pub const PL: u8 = 16;
}
use lists::*;

/// A group's id within its account. Group 0 ("Other Contacts") always
/// exists; MSNP7–MSNP9 clients name groups by id, MSNP10+ by GUID.
pub type GroupId = u32;

/// Most groups (group 0 included) an account may have when edited by an
/// MSNP7–MSNP9 client, whose group ids run from 0 to 29 (`223` beyond).
/// MSNP10+ dialects use the configured [`ListLimits::max_groups`].
pub const MAX_NUMERIC_GROUPS: usize = 30;
/// Name given to group 0 when an account is created.
pub const DEFAULT_GROUP_NAME: &str = "Other%20Contacts";

/// One handle in the account's lists and address book. One entry carries
/// every list the handle is on, plus address-book data (contact id,
/// network) and FL data (groups).
///
/// An entry with a contact id is an address-book contact: it keeps that id
/// when it leaves the FL (re-adding reuses it) and may stay with no list
/// bits at all (an "isMessengerUser = false" contact), which clients before
/// MSNP13 never see: they list entries by their list bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub handle: Handle,
    /// The contact's network (Passport unless stored otherwise).
    pub network: NetworkId,
    pub lists: u8,
    /// Friendly name (text, decoded): for an account, the name it has now
    /// (the store reads it from the account); otherwise what the user gave in
    /// `ADD`/`REA`, or for reverse-only entries the adder's name at the time.
    /// A boxed `str`: every online user's lists stay in memory.
    pub name: Box<str>,
    /// Contact id (MSNP10+ `C=`, the address-book contact GUID): assigned
    /// when the entry first joins the FL and kept from then on.
    pub guid: Option<Uuid>,
    /// Ids of the groups the entry is in, ascending; FL entries only. An FL
    /// entry is never in no group: "ungrouped" is group 0.
    pub groups: GroupIds,
}

/// The groups an entry is in, ids ascending. Eight bytes in the entry, and
/// the usual sets — none, or group 0 alone — are shared, so most entries
/// cost no allocation for them: every online user's lists stay in memory.
#[derive(Clone, Default)]
pub struct GroupIds(Option<Arc<Vec<GroupId>>>);

impl GroupIds {
    /// The set of `ids` (ascending, without duplicates).
    pub fn from_sorted(mut ids: Vec<GroupId>) -> GroupIds {
        static DEFAULT_GROUP: OnceLock<Arc<Vec<GroupId>>> = OnceLock::new();
        match ids.as_slice() {
            [] => GroupIds(None),
            [0] => GroupIds(Some(
                DEFAULT_GROUP.get_or_init(|| Arc::new(vec![0])).clone(),
            )),
            _ => {
                ids.shrink_to_fit();
                GroupIds(Some(Arc::new(ids)))
            }
        }
    }
}

impl std::ops::Deref for GroupIds {
    type Target = [GroupId];

    fn deref(&self) -> &[GroupId] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl PartialEq for GroupIds {
    fn eq(&self, other: &GroupIds) -> bool {
        **self == **other
    }
}

impl Eq for GroupIds {}

impl std::fmt::Debug for GroupIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Contact {
    pub fn on(&self, list: ListKind) -> bool {
        self.lists & list.bit() != 0
    }

    /// Group ids in ascending order.
    pub fn group_ids(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.groups.iter().copied()
    }

    pub fn in_group(&self, id: GroupId) -> bool {
        self.groups.binary_search(&id).is_ok()
    }

    /// Whether the entry is an address-book contact (it has a contact id),
    /// whether or not it is on any list.
    pub fn in_address_book(&self) -> bool {
        self.guid.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub guid: Uuid,
    /// Encoded as received.
    pub name: String,
}

/// A phone or mobile property (`PRP`/`BPR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Property {
    HomePhone,
    WorkPhone,
    MobilePhone,
    /// `MOB`: others may page my mobile device (`Y`/`N`).
    MobileMessages,
    /// `MBE`: mobile device enabled (server-controlled).
    MobileDevice,
}

impl Property {
    /// Properties a client may set with `PRP`, in `SYN` order.
    pub const SETTABLE: [Property; 4] = [
        Property::HomePhone,
        Property::WorkPhone,
        Property::MobilePhone,
        Property::MobileMessages,
    ];

    pub fn parse(code: &str) -> Option<Property> {
        Some(match code {
            "PHH" => Property::HomePhone,
            "PHW" => Property::WorkPhone,
            "PHM" => Property::MobilePhone,
            "MOB" => Property::MobileMessages,
            "MBE" => Property::MobileDevice,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Property::HomePhone => "PHH",
            Property::WorkPhone => "PHW",
            Property::MobilePhone => "PHM",
            Property::MobileMessages => "MOB",
            Property::MobileDevice => "MBE",
        }
    }
}

/// Phone numbers and mobile settings of an account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    pub home_phone: Option<String>,
    pub work_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub mobile_messages: bool,
    pub mobile_device: bool,
}

impl Properties {
    /// The wire value of a property (`None` = unset; flags are `Y`/`N`).
    pub fn value(&self, p: Property) -> Option<&str> {
        match p {
            Property::HomePhone => self.home_phone.as_deref(),
            Property::WorkPhone => self.work_phone.as_deref(),
            Property::MobilePhone => self.mobile_phone.as_deref(),
            Property::MobileMessages => Some(if self.mobile_messages { "Y" } else { "N" }),
            Property::MobileDevice => Some(if self.mobile_device { "Y" } else { "N" }),
        }
    }

    /// Whether a property has a value worth sending to MSNP8+ clients,
    /// which list set properties only (`N` flags count as unset).
    pub fn is_set(&self, p: Property) -> bool {
        match p {
            Property::MobileMessages => self.mobile_messages,
            Property::MobileDevice => self.mobile_device,
            _ => self.value(p).is_some(),
        }
    }

    fn set(&mut self, p: Property, value: Option<&str>) {
        let flag = value == Some("Y");
        let value = value.map(str::to_owned);
        match p {
            Property::HomePhone => self.home_phone = value,
            Property::WorkPhone => self.work_phone = value,
            Property::MobilePhone => self.mobile_phone = value,
            Property::MobileMessages => self.mobile_messages = flag,
            Property::MobileDevice => self.mobile_device = flag,
        }
    }
}

/// What the lists may hold: sizes from the server configuration, and the
/// rules that depend on the editing client's dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListLimits {
    /// Most entries on each of FL, AL and BL.
    pub max_entries: usize,
    /// Most groups (group 0 included) an MSNP10+ client may create; MSNP7–9
    /// clients keep [`MAX_NUMERIC_GROUPS`].
    pub max_groups: usize,
    /// Whether a handle may be on AL and BL at once (it then counts as
    /// blocked); otherwise adding it to one while on the other is `219`.
    pub allow_and_block: bool,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            max_entries: 600,
            max_groups: 100,
            allow_and_block: false,
        }
    }
}

/// The stored state of one account, as loaded while its owner is online.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub user_id: i64,
    pub handle: Handle,
    /// Own friendly name (text, decoded; encoded per client on output).
    pub friendly_name: String,
    pub privacy: Privacy,
    pub add_alert: AddAlert,
    pub list_version: u64,
    pub properties: Properties,
    /// Last `UUX` document (MSNP11+ personal message), stored verbatim.
    pub personal_message: Option<Vec<u8>>,
    /// Sorted by id; always contains group 0.
    pub groups: Vec<Group>,
    /// Sorted by handle.
    pub contacts: Vec<Contact>,
}

/// A write to one entry of the owner's lists. Lists change by bits and
/// group membership by deltas, so that writes by the owner's endpoints and
/// by other users (RL) never overwrite each other.
///
/// Applied in this order: list bits, name, network, contact id, then
/// `clear_groups`, `remove_groups`, `add_groups`; finally an FL entry left
/// in no group is put in group 0, and an entry left on no list is dropped
/// unless it is an address-book contact. The store does the same inside
/// the change's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactUpdate {
    pub handle: Handle,
    pub set: u8,
    pub clear: u8,
    /// Name to store (for a new entry, or a rename).
    pub name: Option<String>,
    /// Network to store (`None`: keep; a new entry is Passport).
    pub network: Option<NetworkId>,
    /// Contact id to give the entry if it has none yet (`Some(None)`
    /// forgets it: the entry leaves the address book). An entry that has
    /// a contact id keeps it.
    pub guid: Option<Option<Uuid>>,
    /// Leave every group first (the entry leaves the FL, or joins it anew).
    pub clear_groups: bool,
    pub remove_groups: Vec<GroupId>,
    pub add_groups: Vec<GroupId>,
}

impl ContactUpdate {
    /// An update of `handle` that changes nothing yet.
    pub fn new(handle: Handle) -> ContactUpdate {
        ContactUpdate {
            handle,
            set: 0,
            clear: 0,
            name: None,
            network: None,
            guid: None,
            clear_groups: false,
            remove_groups: Vec::new(),
            add_groups: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupUpdate {
    Upsert(Group),
    /// Deletes the group; its members leave it (those left in no group
    /// fall back to group 0).
    Delete(GroupId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingUpdate {
    Privacy(Privacy),
    AddAlert(AddAlert),
    FriendlyName(String),
    Property(Property, Option<String>),
    PersonalMessage(Option<Vec<u8>>),
}

/// The other side of an FL change: the target's reverse list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReverseUpdate {
    /// Whose RL changes.
    pub target: Handle,
    /// The owner's current friendly name, stored if the entry is new.
    pub owner_name: String,
    /// `true`: the owner added the target to its FL; `false`: removed.
    pub added: bool,
}

/// A planned edit of an account, committed atomically by the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub contacts: Vec<ContactUpdate>,
    pub groups: Vec<GroupUpdate>,
    pub settings: Vec<SettingUpdate>,
    pub reverse: Option<ReverseUpdate>,
    /// Whether the owner's list version advances.
    pub bump_version: bool,
}

/// A refused edit; each variant is one protocol error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListError {
    InvalidName,
    ListFull,
    AlreadyThere,
    NotOnList,
    AlreadyInMode,
    OppositeList,
    TooManyGroups,
    NoSuchGroup,
    NotInGroup,
    GroupNameTaken,
    GroupNameTooLong,
    CannotRemoveGroupZero,
}

impl ListError {
    pub fn code(self) -> u16 {
        match self {
            ListError::InvalidName => 209,
            ListError::ListFull => 210,
            ListError::AlreadyThere => 215,
            ListError::NotOnList => 216,
            ListError::AlreadyInMode => 218,
            ListError::OppositeList => 219,
            ListError::TooManyGroups => 223,
            ListError::NoSuchGroup => 224,
            ListError::NotInGroup => 225,
            ListError::GroupNameTaken => 228,
            ListError::GroupNameTooLong => 229,
            ListError::CannotRemoveGroupZero => 230,
        }
    }
}

/// How a group argument of an FL add is to be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupMode {
    /// MSNP2–MSNP6: no groups; an FL contact is simply on the FL.
    None,
    /// MSNP7–MSNP9 ids: group 0 is a real group ("Other Contacts").
    Explicit,
    /// MSNP10+ GUIDs: group 0 means "no group" and is hidden; putting a
    /// contact into a group takes it out of the default.
    DefaultHidden,
}

impl Account {
    /// A new account's state: group 0 exists, privacy AL, alerts on.
    pub fn new(user_id: i64, handle: Handle, friendly_name: String) -> Account {
        Account {
            user_id,
            handle,
            friendly_name,
            privacy: Privacy::AllowAll,
            add_alert: AddAlert::Ask,
            list_version: 0,
            properties: Properties::default(),
            personal_message: None,
            groups: vec![Group {
                id: 0,
                guid: Uuid::new_v4(),
                name: DEFAULT_GROUP_NAME.to_owned(),
            }],
            contacts: Vec::new(),
        }
    }

    /// The personal message document (`UUX`), or the empty one for a user
    /// who never sent one.
    pub fn personal_message_or_empty(&self) -> &[u8] {
        self.personal_message
            .as_deref()
            .unwrap_or(crate::personal_message::EMPTY)
    }

    pub fn contact(&self, handle: &str) -> Option<&Contact> {
        self.contacts
            .binary_search_by(|c| c.handle.as_str().cmp(handle))
            .ok()
            .map(|i| &self.contacts[i])
    }

    /// Keeps an entry's name the contact's current one (learned from its
    /// presence): what lists show, as the store reads them at the next
    /// load. Memory only; nothing is committed.
    pub fn note_current_name(&mut self, handle: &str, name: &str) {
        if let Ok(i) = self
            .contacts
            .binary_search_by(|c| c.handle.as_str().cmp(handle))
            && *self.contacts[i].name != *name
        {
            self.contacts[i].name = name.into();
        }
    }

    /// The FL entry with contact id `guid`: what MSNP10–MSNP12 name with a
    /// contact id (`REM FL`, `ADC … C=`, `SBP`), which only ever meant
    /// contacts on the FL.
    pub fn contact_by_guid(&self, guid: Uuid) -> Option<&Contact> {
        self.ab_contact_by_guid(guid)
            .filter(|c| c.on(ListKind::Forward))
    }

    /// The address-book contact with contact id `guid`, on the FL or not.
    pub fn ab_contact_by_guid(&self, guid: Uuid) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.guid == Some(guid))
    }

    /// List bits of `handle` in this account (0 when on no list).
    pub fn bits_of(&self, handle: &str) -> u8 {
        self.contact(handle).map_or(0, |c| c.lists)
    }

    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn group_by_guid(&self, guid: Uuid) -> Option<&Group> {
        self.groups.iter().find(|g| g.guid == guid)
    }

    /// Entries on `list`, in handle order.
    pub fn on_list(&self, list: ListKind) -> impl Iterator<Item = &Contact> {
        self.contacts.iter().filter(move |c| c.on(list))
    }

    /// Whether this account lets `watcher` see its presence and invite it.
    pub fn admits(&self, watcher: &str) -> bool {
        privacy::admits(self.privacy, self.bits_of(watcher))
    }

    /// Plans adding `handle` to FL, AL or BL (`ADD`/`ADC`). `group` applies
    /// to FL only. The caller has already checked that the account exists.
    pub fn plan_add(
        &self,
        list: ListKind,
        handle: &Handle,
        name: &str,
        group: Option<GroupId>,
        mode: GroupMode,
        limits: ListLimits,
    ) -> Result<Change, ListError> {
        debug_assert!(matches!(
            list,
            ListKind::Forward | ListKind::Allow | ListKind::Block
        ));
        text::validate_name(name, MAX_FRIENDLY_NAME).map_err(|_| ListError::InvalidName)?;
        let existing = self.contact(handle.as_str());
        let bits = existing.map_or(0, |c| c.lists);
        let group = group.unwrap_or(0);
        if list == ListKind::Forward && bits & FL != 0 {
            let in_group = existing.is_some_and(|c| c.in_group(group));
            // Adding an existing FL contact to another group.
            if mode == GroupMode::None
                || in_group
                || (mode == GroupMode::DefaultHidden && group == 0)
            {
                return Err(ListError::AlreadyThere);
            }
            self.group(group).ok_or(ListError::NoSuchGroup)?;
            let mut update = ContactUpdate::new(handle.clone());
            if mode == GroupMode::DefaultHidden {
                // Into a real group: out of "no group".
                update.remove_groups.push(0);
            }
            update.add_groups.push(group);
            return Ok(Change {
                contacts: vec![update],
                bump_version: true,
                ..Change::default()
            });
        }
        if bits & list.bit() != 0 {
            return Err(ListError::AlreadyThere);
        }
        let opposite = match list {
            ListKind::Allow => BL,
            ListKind::Block => AL,
            _ => 0,
        };
        if bits & opposite != 0 && !limits.allow_and_block {
            return Err(ListError::OppositeList);
        }
        if list == ListKind::Forward {
            self.group(group).ok_or(ListError::NoSuchGroup)?;
        }
        if self.on_list(list).count() >= limits.max_entries {
            return Err(ListError::ListFull);
        }
        let mut update = ContactUpdate::new(handle.clone());
        update.set = list.bit();
        // Answering a pending add (AL/BL) settles it.
        update.clear = if list == ListKind::Forward { 0 } else { PL };
        update.name = existing.is_none().then(|| name.to_owned());
        let mut change = Change {
            bump_version: true,
            ..Change::default()
        };
        if list == ListKind::Forward {
            update.name = Some(name.to_owned());
            // An address-book contact keeps its contact id.
            let guid = existing.and_then(|c| c.guid).unwrap_or_else(Uuid::new_v4);
            update.guid = Some(Some(guid));
            update.clear_groups = true;
            update.add_groups.push(group);
            change.reverse = Some(ReverseUpdate {
                target: handle.clone(),
                owner_name: self.friendly_name.clone(),
                added: true,
            });
        }
        change.contacts.push(update);
        Ok(change)
    }

    /// Plans putting `handle` in the address book without adding it to any
    /// list (an "isMessengerUser = false" contact): it gets a contact id,
    /// which it keeps if it later joins the FL. `215` if it already is an
    /// address-book contact.
    pub fn plan_add_ab_contact(
        &self,
        handle: &Handle,
        name: &str,
        network: NetworkId,
    ) -> Result<(Change, Uuid), ListError> {
        text::validate_name(name, MAX_FRIENDLY_NAME).map_err(|_| ListError::InvalidName)?;
        let existing = self.contact(handle.as_str());
        if existing.is_some_and(Contact::in_address_book) {
            return Err(ListError::AlreadyThere);
        }
        let guid = Uuid::new_v4();
        let mut update = ContactUpdate::new(handle.clone());
        update.name = existing.is_none().then(|| name.to_owned());
        update.network = Some(network);
        update.guid = Some(Some(guid));
        Ok((
            Change {
                contacts: vec![update],
                bump_version: true,
                ..Change::default()
            },
            guid,
        ))
    }

    /// Plans removing `handle` from a list, or (FL with `group`) from one
    /// group only; out of its last group, the contact leaves the FL.
    /// An entry leaving the FL keeps its contact id (it stays in the
    /// address book) but leaves every group.
    pub fn plan_remove(
        &self,
        list: ListKind,
        handle: &str,
        group: Option<GroupId>,
    ) -> Result<Change, ListError> {
        let contact = self
            .contact(handle)
            .filter(|c| c.on(list))
            .ok_or(ListError::NotOnList)?;
        let mut change = Change {
            bump_version: true,
            ..Change::default()
        };
        let mut update = ContactUpdate::new(contact.handle.clone());
        update.clear = list.bit();
        if list == ListKind::Forward {
            let group = match group {
                Some(group) => {
                    self.group(group).ok_or(ListError::NoSuchGroup)?;
                    if !contact.in_group(group) {
                        return Err(ListError::NotInGroup);
                    }
                    Some(group)
                }
                None => None,
            };
            // Removing a contact from its last group removes it from the FL
            // altogether: that is what the live service did, and what real
            // clients rely on (a 2002 MSNP7 client deletes with
            // `REM n FL handle group`, libpurple's MSNP10+ code with the
            // contact id and its one group). Moving a contact adds it to the
            // new group first, so it still has one left then.
            if let Some(group) = group.filter(|_| contact.groups.len() > 1) {
                update.clear = 0;
                update.remove_groups.push(group);
            } else {
                update.clear_groups = true;
                change.reverse = Some(ReverseUpdate {
                    target: contact.handle.clone(),
                    owner_name: self.friendly_name.clone(),
                    added: false,
                });
            }
        }
        change.contacts.push(update);
        Ok(change)
    }

    /// Plans taking an FL contact out of one group only (the address
    /// book's `ABGroupContactDelete`). Unlike [`Account::plan_remove`] with
    /// a group, leaving the last group never leaves the FL: the contact
    /// falls back to group 0 ("no group" in the GUID dialects).
    pub fn plan_remove_from_group(
        &self,
        handle: &str,
        group: GroupId,
    ) -> Result<Change, ListError> {
        let contact = self
            .contact(handle)
            .filter(|c| c.on(ListKind::Forward))
            .ok_or(ListError::NotOnList)?;
        self.group(group).ok_or(ListError::NoSuchGroup)?;
        if group == 0 || !contact.in_group(group) {
            return Err(ListError::NotInGroup);
        }
        let mut update = ContactUpdate::new(contact.handle.clone());
        update.remove_groups.push(group);
        Ok(Change {
            contacts: vec![update],
            bump_version: true,
            ..Change::default()
        })
    }

    /// Plans deleting an address-book contact (`ABContactDelete`): it
    /// leaves the FL (the other user's reverse list with it) and forgets
    /// its contact id; its AL/BL/RL/PL bits stay, as the sharing roles are
    /// separate. `216` if `handle` is not an address-book contact.
    pub fn plan_delete_ab_contact(&self, handle: &str) -> Result<Change, ListError> {
        let contact = self
            .contact(handle)
            .filter(|c| c.in_address_book() || c.on(ListKind::Forward))
            .ok_or(ListError::NotOnList)?;
        let mut change = if contact.on(ListKind::Forward) {
            self.plan_remove(ListKind::Forward, handle, None)?
        } else {
            Change {
                contacts: vec![ContactUpdate::new(contact.handle.clone())],
                bump_version: true,
                ..Change::default()
            }
        };
        change.contacts[0].guid = Some(None);
        Ok(change)
    }

    /// Plans changing the stored name of a contact (`REA` on another handle).
    pub fn plan_rename_contact(&self, handle: &str, name: &str) -> Result<Change, ListError> {
        text::validate_name(name, MAX_FRIENDLY_NAME).map_err(|_| ListError::InvalidName)?;
        let contact = self
            .contact(handle)
            .filter(|c| c.lists & (FL | AL | BL | RL) != 0)
            .ok_or(ListError::NotOnList)?;
        let mut update = ContactUpdate::new(contact.handle.clone());
        update.name = Some(name.to_owned());
        Ok(Change {
            contacts: vec![update],
            bump_version: true,
            ..Change::default()
        })
    }

    /// Plans changing the own friendly name (`REA` on oneself, `PRP MFN`).
    pub fn plan_friendly_name(&self, name: &str) -> Result<Change, ListError> {
        text::validate_name(name, MAX_FRIENDLY_NAME).map_err(|_| ListError::InvalidName)?;
        Ok(Change {
            settings: vec![SettingUpdate::FriendlyName(name.to_owned())],
            bump_version: true,
            ..Change::default()
        })
    }

    fn check_group_name(&self, name: &str, except: Option<GroupId>) -> Result<(), ListError> {
        match text::validate_encoded(name, MAX_GROUP_NAME) {
            Err(text::TextError::TooLong) => return Err(ListError::GroupNameTooLong),
            Err(text::TextError::Invalid) => return Err(ListError::InvalidName),
            Ok(()) => {}
        }
        if self
            .groups
            .iter()
            .any(|g| Some(g.id) != except && text::decode(&g.name) == text::decode(name))
        {
            return Err(ListError::GroupNameTaken);
        }
        Ok(())
    }

    /// Plans creating a group with the lowest free id above 0; `223` when
    /// the account already has `max_groups` groups (group 0 included). With
    /// [`MAX_NUMERIC_GROUPS`] the new id is below 30, as MSNP7–MSNP9 need.
    pub fn plan_add_group(
        &self,
        name: &str,
        max_groups: usize,
    ) -> Result<(Change, Group), ListError> {
        self.check_group_name(name, None)?;
        if self.groups.len() >= max_groups {
            return Err(ListError::TooManyGroups);
        }
        // Fewer than `max_groups` groups: some id up to their count is free.
        let id = (1..=self.groups.len() as GroupId)
            .find(|id| self.group(*id).is_none())
            .ok_or(ListError::TooManyGroups)?;
        let group = Group {
            id,
            guid: Uuid::new_v4(),
            name: name.to_owned(),
        };
        Ok((
            Change {
                groups: vec![GroupUpdate::Upsert(group.clone())],
                bump_version: true,
                ..Change::default()
            },
            group,
        ))
    }

    /// Plans deleting a group. Its contacts stay on the FL; those for whom
    /// it was the only group move to group 0, so no contact is lost (the
    /// store and [`Account::apply`] do that with the deletion, so members
    /// added concurrently are covered too).
    pub fn plan_remove_group(&self, id: GroupId) -> Result<(Change, Group), ListError> {
        if id == 0 {
            return Err(ListError::CannotRemoveGroupZero);
        }
        let group = self.group(id).ok_or(ListError::NoSuchGroup)?.clone();
        let change = Change {
            groups: vec![GroupUpdate::Delete(id)],
            bump_version: true,
            ..Change::default()
        };
        Ok((change, group))
    }

    /// Plans renaming a group.
    pub fn plan_rename_group(&self, id: GroupId, name: &str) -> Result<(Change, Group), ListError> {
        let mut group = self.group(id).ok_or(ListError::NoSuchGroup)?.clone();
        self.check_group_name(name, Some(id))?;
        group.name = name.to_owned();
        Ok((
            Change {
                groups: vec![GroupUpdate::Upsert(group.clone())],
                bump_version: true,
                ..Change::default()
            },
            group,
        ))
    }

    /// Plans `BLP`; the same value again is `218`.
    pub fn plan_privacy(&self, privacy: Privacy) -> Result<Change, ListError> {
        if self.privacy == privacy {
            return Err(ListError::AlreadyInMode);
        }
        Ok(Change {
            settings: vec![SettingUpdate::Privacy(privacy)],
            bump_version: true,
            ..Change::default()
        })
    }

    /// Plans `GTC`; the same value again is `218`.
    pub fn plan_add_alert(&self, alert: AddAlert) -> Result<Change, ListError> {
        if self.add_alert == alert {
            return Err(ListError::AlreadyInMode);
        }
        Ok(Change {
            settings: vec![SettingUpdate::AddAlert(alert)],
            bump_version: true,
            ..Change::default()
        })
    }

    /// Plans `PRP` for a phone property (value `None` clears it).
    pub fn plan_property(
        &self,
        property: Property,
        value: Option<&str>,
    ) -> Result<Change, ListError> {
        if let Some(v) = value {
            let ok = match property {
                Property::MobileMessages | Property::MobileDevice => v == "Y" || v == "N",
                _ => text::validate_encoded(v, MAX_PROPERTY_VALUE).is_ok(),
            };
            if !ok {
                return Err(ListError::InvalidName);
            }
        }
        Ok(Change {
            settings: vec![SettingUpdate::Property(property, value.map(str::to_owned))],
            bump_version: true,
            ..Change::default()
        })
    }

    /// Applies a committed change; `version` is the list version the store
    /// returned for it.
    ///
    /// As in the store: new and renamed groups first (contacts may join
    /// them in the same change), then the contacts, then group deletions.
    pub fn apply(&mut self, change: &Change, version: u64) {
        for g in &change.groups {
            if let GroupUpdate::Upsert(group) = g {
                match self.groups.iter_mut().find(|x| x.id == group.id) {
                    Some(existing) => *existing = group.clone(),
                    None => {
                        self.groups.push(group.clone());
                        self.groups.sort_by_key(|g| g.id);
                    }
                }
            }
        }
        for update in &change.contacts {
            self.apply_contact_update(update);
        }
        for g in &change.groups {
            match g {
                GroupUpdate::Upsert(_) => {}
                GroupUpdate::Delete(id) => {
                    self.groups.retain(|g| g.id != *id);
                    for c in &mut self.contacts {
                        if c.in_group(*id) {
                            let left = c.groups.iter().copied().filter(|g| g != id);
                            c.groups = with_fallback(c.lists, left.collect());
                        }
                    }
                }
            }
        }
        for s in &change.settings {
            match s {
                SettingUpdate::Privacy(p) => self.privacy = *p,
                SettingUpdate::AddAlert(a) => self.add_alert = *a,
                SettingUpdate::FriendlyName(n) => self.friendly_name = n.clone(),
                SettingUpdate::Property(p, v) => self.properties.set(*p, v.as_deref()),
                SettingUpdate::PersonalMessage(m) => self.personal_message = m.clone(),
            }
        }
        self.list_version = self.list_version.max(version);
    }

    /// Applies a bit-level update to one entry, creating or dropping it.
    /// Joining a group that does not exist (deleted since the plan was
    /// made) is left out, as the store leaves it out.
    pub fn apply_contact_update(&mut self, u: &ContactUpdate) {
        let joins: Vec<GroupId> = u
            .add_groups
            .iter()
            .copied()
            .filter(|g| self.group(*g).is_some())
            .collect();
        let index = match self
            .contacts
            .binary_search_by(|c| c.handle.as_str().cmp(u.handle.as_str()))
        {
            Ok(i) => i,
            Err(i) => {
                self.contacts.insert(
                    i,
                    Contact {
                        handle: u.handle.clone().interned(),
                        network: NetworkId::default(),
                        lists: 0,
                        name: u.name.as_deref().unwrap_or(u.handle.as_str()).into(),
                        guid: None,
                        groups: GroupIds::default(),
                    },
                );
                i
            }
        };
        let c = &mut self.contacts[index];
        c.lists = (c.lists | u.set) & !u.clear;
        if let Some(name) = &u.name {
            c.name = name.as_str().into();
        }
        if let Some(network) = u.network {
            c.network = network;
        }
        match u.guid {
            Some(Some(guid)) => c.guid = c.guid.or(Some(guid)),
            Some(None) => c.guid = None,
            None => {}
        }
        let mut groups: Vec<GroupId> = if u.clear_groups {
            Vec::new()
        } else {
            c.groups.to_vec()
        };
        groups.retain(|g| !u.remove_groups.contains(g));
        groups.extend(joins);
        groups.sort_unstable();
        groups.dedup();
        c.groups = with_fallback(c.lists, groups);
        // Only address-book contacts stay on no list.
        if c.lists == 0 && !c.in_address_book() {
            self.contacts.remove(index);
        }
    }

    /// Records that `adder` put this account on their FL (`added`) or took
    /// it off; mirrors what the store did for a [`ReverseUpdate`].
    pub fn apply_reverse(&mut self, adder: &Handle, adder_name: &str, added: bool, version: u64) {
        let bits = self.bits_of(adder.as_str());
        let mut update = ContactUpdate::new(adder.clone());
        if added {
            update.set = RL | if bits & (AL | BL) == 0 { PL } else { 0 };
            update.name = self
                .contact(adder.as_str())
                .is_none()
                .then(|| adder_name.to_owned());
        } else {
            update.clear = RL | PL;
        }
        self.apply_contact_update(&update);
        self.list_version = self.list_version.max(version);
    }
}

/// The membership an entry with list bits `lists` ends up with: an FL
/// entry in no group is in group 0; an entry off the FL is in none.
fn with_fallback(lists: u8, groups: Vec<GroupId>) -> GroupIds {
    if lists & FL == 0 {
        GroupIds::default()
    } else if groups.is_empty() {
        GroupIds::from_sorted(vec![0])
    } else {
        GroupIds::from_sorted(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    fn alice() -> Account {
        let mut a = Account::new(1, h("alice@hotmail.com"), "Alice".into());
        a.list_version = 12;
        a
    }

    fn commit(a: &mut Account, plan: impl FnOnce(&Account) -> Result<Change, ListError>) {
        let change = plan(a).unwrap();
        let v = a.list_version + 1;
        a.apply(&change, v);
    }

    #[test]
    fn address_book_group_removal_and_deletion() {
        let mut a = alice();
        let bob = h("bob@hotmail.com");
        let limits = ListLimits::default();
        let mode = GroupMode::DefaultHidden;
        commit(&mut a, |a| {
            a.plan_add(ListKind::Forward, &bob, "Bob", None, mode, limits)
        });
        commit(&mut a, |a| Ok(a.plan_add_group("Work", 100)?.0));
        commit(&mut a, |a| {
            a.plan_add(ListKind::Forward, &bob, "Bob", Some(1), mode, limits)
        });
        commit(&mut a, |a| {
            a.plan_add(ListKind::Allow, &bob, "Bob", None, mode, limits)
        });
        assert_eq!(a.contact("bob@hotmail.com").unwrap().groups.to_vec(), [1]);
        // Out of its only group: still on the FL, back in group 0.
        commit(&mut a, |a| a.plan_remove_from_group("bob@hotmail.com", 1));
        let c = a.contact("bob@hotmail.com").unwrap();
        assert!(c.on(ListKind::Forward));
        assert_eq!(c.groups.to_vec(), [0]);
        assert_eq!(
            a.plan_remove_from_group("bob@hotmail.com", 0),
            Err(ListError::NotInGroup)
        );
        let guid = c.guid.unwrap();
        // Deleted from the address book: off the FL, no contact id, the
        // other user's RL told; AL stays.
        let change = a.plan_delete_ab_contact("bob@hotmail.com").unwrap();
        assert!(change.reverse.as_ref().is_some_and(|r| !r.added));
        let v = a.list_version + 1;
        a.apply(&change, v);
        let c = a.contact("bob@hotmail.com").unwrap();
        assert_eq!(c.lists, AL);
        assert_eq!(c.guid, None);
        assert!(a.ab_contact_by_guid(guid).is_none());
        assert_eq!(
            a.plan_delete_ab_contact("bob@hotmail.com"),
            Err(ListError::NotOnList)
        );
    }

    #[test]
    fn add_then_duplicate_and_conflicts() {
        let mut a = alice();
        let limits = ListLimits::default();
        let bob = h("bob@hotmail.com");
        let change = a
            .plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits,
            )
            .unwrap();
        assert_eq!(
            change.reverse,
            Some(ReverseUpdate {
                target: bob.clone(),
                owner_name: "Alice".into(),
                added: true
            })
        );
        a.apply(&change, 13);
        assert_eq!(a.list_version, 13);
        let c = a.contact("bob@hotmail.com").unwrap();
        assert_eq!((c.lists, &*c.groups), (FL, &[0][..]));
        assert!(c.guid.is_some());

        let again = a.plan_add(
            ListKind::Forward,
            &bob,
            "Bob",
            None,
            GroupMode::Explicit,
            limits,
        );
        assert_eq!(again, Err(ListError::AlreadyThere));
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Allow,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits,
            )
        });
        assert_eq!(
            a.plan_add(
                ListKind::Block,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits
            ),
            Err(ListError::OppositeList)
        );
        assert_eq!(
            a.plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                Some(5),
                GroupMode::Explicit,
                limits
            ),
            Err(ListError::NoSuchGroup)
        );
        assert_eq!(
            a.plan_add(
                ListKind::Forward,
                &bob,
                "a\u{202E}b",
                None,
                GroupMode::Explicit,
                limits
            ),
            Err(ListError::InvalidName)
        );
    }

    #[test]
    fn list_full() {
        let mut a = alice();
        let limits = ListLimits {
            max_entries: 1,
            ..ListLimits::default()
        };
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Block,
                &h("x@y.com"),
                "x",
                None,
                GroupMode::Explicit,
                limits,
            )
        });
        assert_eq!(
            a.plan_add(
                ListKind::Block,
                &h("z@y.com"),
                "z",
                None,
                GroupMode::Explicit,
                limits
            ),
            Err(ListError::ListFull)
        );
    }

    #[test]
    fn groups_explicit_mode() {
        let mut a = alice();
        let limits = ListLimits::default();
        let (change, g) = a.plan_add_group("Friends", MAX_NUMERIC_GROUPS).unwrap();
        assert_eq!(g.id, 1);
        a.apply(&change, 13);
        assert_eq!(
            a.plan_add_group("Friends", MAX_NUMERIC_GROUPS).unwrap_err(),
            ListError::GroupNameTaken
        );
        assert_eq!(
            a.plan_add_group(&"x".repeat(62), MAX_NUMERIC_GROUPS)
                .unwrap_err(),
            ListError::GroupNameTooLong
        );
        let carol = h("carol@hotmail.com");
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &carol,
                "Carol",
                Some(0),
                GroupMode::Explicit,
                limits,
            )
        });
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &carol,
                "Carol",
                Some(1),
                GroupMode::Explicit,
                limits,
            )
        });
        assert_eq!(
            a.contact("carol@hotmail.com")
                .unwrap()
                .group_ids()
                .collect::<Vec<_>>(),
            [0, 1]
        );
        assert_eq!(
            a.plan_add(
                ListKind::Forward,
                &carol,
                "Carol",
                Some(1),
                GroupMode::Explicit,
                limits
            ),
            Err(ListError::AlreadyThere)
        );
        commit(&mut a, |a| {
            a.plan_remove(ListKind::Forward, "carol@hotmail.com", Some(1))
        });
        assert_eq!(*a.contact("carol@hotmail.com").unwrap().groups, [0]);
        assert_eq!(
            a.plan_remove(ListKind::Forward, "carol@hotmail.com", Some(1)),
            Err(ListError::NotInGroup)
        );
        assert_eq!(
            a.plan_remove(ListKind::Forward, "carol@hotmail.com", Some(7)),
            Err(ListError::NoSuchGroup)
        );
        assert_eq!(
            a.plan_remove_group(0).unwrap_err(),
            ListError::CannotRemoveGroupZero
        );
        assert_eq!(a.plan_remove_group(9).unwrap_err(), ListError::NoSuchGroup);
    }

    #[test]
    fn removing_a_group_keeps_its_contacts() {
        let mut a = alice();
        let limits = ListLimits::default();
        let (change, g) = a.plan_add_group("Work", MAX_NUMERIC_GROUPS).unwrap();
        a.apply(&change, 13);
        let dave = h("dave@hotmail.com");
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &dave,
                "Dave",
                Some(g.id),
                GroupMode::Explicit,
                limits,
            )
        });
        let (change, _) = a.plan_remove_group(g.id).unwrap();
        a.apply(&change, 15);
        let c = a.contact("dave@hotmail.com").unwrap();
        assert!(c.on(ListKind::Forward));
        assert_eq!(*c.groups, [0]);
        assert!(a.group(g.id).is_none());
    }

    #[test]
    fn guid_mode_hides_group_zero() {
        let mut a = alice();
        let limits = ListLimits::default();
        let (change, g) = a.plan_add_group("Family", MAX_NUMERIC_GROUPS).unwrap();
        a.apply(&change, 13);
        let gina = h("gina@hotmail.com");
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &gina,
                "gina",
                None,
                GroupMode::DefaultHidden,
                limits,
            )
        });
        assert_eq!(*a.contact("gina@hotmail.com").unwrap().groups, [0]);
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &gina,
                "gina",
                Some(g.id),
                GroupMode::DefaultHidden,
                limits,
            )
        });
        assert_eq!(*a.contact("gina@hotmail.com").unwrap().groups, [g.id]);
        // Out of its only group: off the FL (as the live service did).
        commit(&mut a, |a| {
            a.plan_remove(ListKind::Forward, "gina@hotmail.com", Some(g.id))
        });
        let gina_entry = a.contact("gina@hotmail.com");
        assert!(gina_entry.is_none_or(|c| !c.on(ListKind::Forward) && c.groups.is_empty()));
    }

    #[test]
    fn remove_from_fl_keeps_other_lists_and_tells_target() {
        let mut a = alice();
        let limits = ListLimits::default();
        let bob = h("bob@hotmail.com");
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits,
            )
        });
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Allow,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits,
            )
        });
        let guid = a.contact("bob@hotmail.com").unwrap().guid;
        assert!(guid.is_some());
        assert!(a.contact_by_guid(guid.unwrap()).is_some());
        let change = a
            .plan_remove(ListKind::Forward, "bob@hotmail.com", None)
            .unwrap();
        assert_eq!(change.reverse.as_ref().map(|r| r.added), Some(false));
        a.apply(&change, 20);
        let c = a.contact("bob@hotmail.com").unwrap();
        // Off the FL: in no group, but still the same address-book contact.
        assert_eq!((c.lists, c.guid, &*c.groups), (AL, guid, &[][..]));
        assert!(a.contact_by_guid(guid.unwrap()).is_none());
        assert!(a.ab_contact_by_guid(guid.unwrap()).is_some());
        commit(&mut a, |a| {
            a.plan_remove(ListKind::Allow, "bob@hotmail.com", None)
        });
        // On no list: kept in the address book, listed nowhere.
        let c = a.contact("bob@hotmail.com").unwrap();
        assert_eq!((c.lists, c.guid), (0, guid));
        assert_eq!(a.on_list(ListKind::Allow).count(), 0);
        assert_eq!(
            a.plan_remove(ListKind::Block, "bob@hotmail.com", None),
            Err(ListError::NotOnList)
        );
        // Back on the FL, with the contact id it had.
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                None,
                GroupMode::Explicit,
                limits,
            )
        });
        let c = a.contact("bob@hotmail.com").unwrap();
        assert_eq!((c.lists, c.guid, &*c.groups), (FL, guid, &[0][..]));
    }

    #[test]
    fn address_book_only_contacts() {
        let mut a = alice();
        let frank = h("frank@yahoo.com");
        let (change, guid) = a
            .plan_add_ab_contact(&frank, "Frank", NetworkId::Email)
            .unwrap();
        a.apply(&change, 13);
        let c = a.contact("frank@yahoo.com").unwrap();
        assert_eq!(
            (c.lists, c.guid, c.network, &*c.name),
            (0, Some(guid), NetworkId::Email, "Frank")
        );
        assert!(c.groups.is_empty());
        assert_eq!(
            a.plan_add_ab_contact(&frank, "Frank", NetworkId::Email)
                .unwrap_err(),
            ListError::AlreadyThere
        );
        // Not on any list: nothing to remove, nothing to rename, not
        // reachable by contact id before MSNP13.
        assert_eq!(
            a.plan_remove(ListKind::Forward, "frank@yahoo.com", None),
            Err(ListError::NotOnList)
        );
        assert_eq!(
            a.plan_rename_contact("frank@yahoo.com", "F"),
            Err(ListError::NotOnList)
        );
        assert!(a.contact_by_guid(guid).is_none());
        // Joining the FL keeps the contact id; the reverse list of the
        // other side changes as for any FL add.
        let change = a
            .plan_add(
                ListKind::Forward,
                &frank,
                "Frank",
                None,
                GroupMode::DefaultHidden,
                ListLimits::default(),
            )
            .unwrap();
        assert!(change.reverse.is_some());
        a.apply(&change, 14);
        assert_eq!(a.contact_by_guid(guid).map(|c| c.lists), Some(FL));
        // Someone who adds us while we keep them AB-only keeps our name.
        let (change, _) = a
            .plan_add_ab_contact(&h("gil@hotmail.com"), "Gil%20AB", NetworkId::Passport)
            .unwrap();
        a.apply(&change, 15);
        a.apply_reverse(&h("gil@hotmail.com"), "Gil", true, 16);
        let c = a.contact("gil@hotmail.com").unwrap();
        assert_eq!((c.lists, &*c.name), (RL | PL, "Gil%20AB"));
        a.apply_reverse(&h("gil@hotmail.com"), "Gil", false, 17);
        assert_eq!(a.contact("gil@hotmail.com").map(|c| c.lists), Some(0));
    }

    #[test]
    fn group_deltas_and_fallback() {
        let mut a = alice();
        let limits = ListLimits::default();
        let (change, g1) = a.plan_add_group("One", MAX_NUMERIC_GROUPS).unwrap();
        a.apply(&change, 13);
        let (change, g2) = a.plan_add_group("Two", MAX_NUMERIC_GROUPS).unwrap();
        a.apply(&change, 14);
        let (change, g3) = a.plan_add_group("Three", MAX_NUMERIC_GROUPS).unwrap();
        a.apply(&change, 15);
        let bob = h("bob@hotmail.com");
        let add = |a: &Account, g: GroupId| {
            a.plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                Some(g),
                GroupMode::DefaultHidden,
                limits,
            )
        };
        commit(&mut a, |a| add(a, g1.id));
        commit(&mut a, |a| add(a, g3.id));
        // Two endpoints plan on the same state: one takes Bob out of a
        // group, the other puts him into another; both edits survive.
        let one = a
            .plan_remove(ListKind::Forward, "bob@hotmail.com", Some(g1.id))
            .unwrap();
        let two = add(&a, g2.id).unwrap();
        a.apply(&one, 16);
        assert_eq!(*a.contact("bob@hotmail.com").unwrap().groups, [g3.id]);
        a.apply(&two, 17);
        assert_eq!(
            *a.contact("bob@hotmail.com").unwrap().groups,
            [g2.id, g3.id]
        );
        // Deleting a contact's only group falls back to 0 (the contact
        // stays on the FL).
        let (change, _) = a.plan_remove_group(g2.id).unwrap();
        a.apply(&change, 18);
        let (change, _) = a.plan_remove_group(g3.id).unwrap();
        assert!(change.contacts.is_empty());
        a.apply(&change, 19);
        assert_eq!(*a.contact("bob@hotmail.com").unwrap().groups, [0]);
        // Removing it from its last group removes it from the FL.
        let change = a
            .plan_remove(ListKind::Forward, "bob@hotmail.com", Some(0))
            .unwrap();
        assert!(change.reverse.as_ref().is_some_and(|r| !r.added));
        a.apply(&change, 20);
        assert!(!a.contact("bob@hotmail.com").unwrap().on(ListKind::Forward));
    }

    #[test]
    fn group_limits_per_dialect() {
        let mut a = alice();
        for i in 1..MAX_NUMERIC_GROUPS {
            let (change, g) = a
                .plan_add_group(&format!("G{i}"), MAX_NUMERIC_GROUPS)
                .unwrap();
            assert_eq!(g.id as usize, i);
            a.apply(&change, 12 + i as u64);
        }
        assert_eq!(
            a.plan_add_group("More", MAX_NUMERIC_GROUPS).unwrap_err(),
            ListError::TooManyGroups
        );
        let (change, g) = a.plan_add_group("More", 40).unwrap();
        assert_eq!(g.id, 30);
        a.apply(&change, 50);
        // A numeric client's new group after a gap below 30 stays below 30.
        let (change, _) = a.plan_remove_group(7).unwrap();
        a.apply(&change, 51);
        assert_eq!(
            a.plan_add_group("Again", MAX_NUMERIC_GROUPS).unwrap_err(),
            ListError::TooManyGroups
        );
        let (_, g) = a.plan_add_group("Again", 40).unwrap();
        assert_eq!(g.id, 7);
    }

    #[test]
    fn reverse_list_and_pending() {
        let mut a = alice();
        let eve = h("eve@hotmail.com");
        a.apply_reverse(&eve, "Eve", true, 16);
        let c = a.contact("eve@hotmail.com").unwrap();
        assert_eq!((c.lists, &*c.name, a.list_version), (RL | PL, "Eve", 16));
        commit(&mut a, |a| {
            a.plan_add(
                ListKind::Allow,
                &eve,
                "Eve",
                None,
                GroupMode::Explicit,
                ListLimits::default(),
            )
        });
        assert_eq!(a.contact("eve@hotmail.com").unwrap().lists, RL | AL);
        a.apply_reverse(&eve, "Eve", false, 18);
        assert_eq!(a.contact("eve@hotmail.com").unwrap().lists, AL);
        assert!(!a.admits("nobody@x.com") || a.privacy == Privacy::AllowAll);
    }

    #[test]
    fn settings_and_renames() {
        let mut a = alice();
        assert_eq!(
            a.plan_privacy(Privacy::AllowAll),
            Err(ListError::AlreadyInMode)
        );
        commit(&mut a, |a| a.plan_privacy(Privacy::BlockAll));
        assert!(!a.admits("stranger@x.com"));
        assert_eq!(
            a.plan_add_alert(AddAlert::Ask),
            Err(ListError::AlreadyInMode)
        );
        commit(&mut a, |a| a.plan_friendly_name("Alice%20S."));
        assert_eq!(a.friendly_name, "Alice%20S.");
        assert_eq!(
            a.plan_rename_contact("bob@hotmail.com", "B"),
            Err(ListError::NotOnList)
        );
        commit(&mut a, |a| {
            a.plan_property(Property::HomePhone, Some("1%20555"))
        });
        assert_eq!(a.properties.value(Property::HomePhone), Some("1%20555"));
        assert!(
            a.plan_property(Property::MobileMessages, Some("X"))
                .is_err()
        );
        commit(&mut a, |a| a.plan_property(Property::HomePhone, None));
        assert!(!a.properties.is_set(Property::HomePhone));
        assert_eq!(a.list_version, 16);
    }
}
