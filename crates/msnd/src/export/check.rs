//! The rules an account must meet to be imported, whatever it comes from
//! (an msnd export file or an Escargot database): the same checks the
//! protocol applies to what clients send, plus the shape the store relies
//! on (group 0, known groups, FL entries in a group). Each returns what is
//! wrong in words an operator can act on.

use std::collections::HashSet;

use msn_core::account::{GroupId, lists};
use msn_core::circle::{CircleRole, MemberState};
use msn_core::password;
use msn_core::text::{self, MAX_FRIENDLY_NAME, MAX_GROUP_NAME, MAX_PROPERTY_VALUE};
use msn_store::{AccountDump, CircleDump, ContactDump, StoredOim};

/// Longest offline-message origin (an address) accepted.
const MAX_ORIGIN: usize = 256;

/// The account's own fields.
pub fn account(a: &AccountDump) -> Result<(), String> {
    text::validate_name(&a.friendly_name, MAX_FRIENDLY_NAME)
        .map_err(|e| format!("friendly name {:?}: {e}", a.friendly_name))?;
    password::check_stored_hash(&a.password_hash).map_err(|e| format!("password_hash: {e}"))?;
    if a.legacy_password.as_deref() == Some("") {
        return Err("legacy_password must not be empty (null: no MD5 login)".to_owned());
    }
    if i64::try_from(a.list_version).is_err() {
        return Err(format!("list_version {} out of range", a.list_version));
    }
    let p = &a.properties;
    for (name, value) in [
        ("home_phone", &p.home_phone),
        ("work_phone", &p.work_phone),
        ("mobile_phone", &p.mobile_phone),
    ] {
        if let Some(v) = value {
            text::validate_encoded(v, MAX_PROPERTY_VALUE)
                .map_err(|e| format!("{name} {v:?}: {e}"))?;
        }
    }
    if let Some(doc) = &a.personal_message
        && msn_core::personal_message::normalize(doc).is_none()
    {
        return Err("personal_message is not a <Data> document msnd accepts".to_owned());
    }
    Ok(())
}

/// A group of the account.
pub fn group(g: &msn_core::account::Group) -> Result<(), String> {
    text::validate_encoded(&g.name, MAX_GROUP_NAME).map_err(|e| {
        format!(
            "group name {:?}: {e} (names are stored URL-encoded, at most {MAX_GROUP_NAME} bytes)",
            g.name
        )
    })
}

/// One list entry on its own.
pub fn contact(c: &ContactDump) -> Result<(), String> {
    if c.lists & !(lists::FL | lists::AL | lists::BL | lists::RL | lists::PL) != 0 {
        return Err(format!("lists bits {} out of range", c.lists));
    }
    if c.lists == 0 && c.guid.is_none() {
        return Err("an entry on no list must be an address-book contact (have a guid)".to_owned());
    }
    text::validate_name(&c.name, MAX_FRIENDLY_NAME)
        .map_err(|e| format!("contact name {:?}: {e}", c.name))?;
    let on_fl = c.lists & lists::FL != 0;
    if on_fl && c.groups.is_empty() {
        return Err("an FL entry is in at least one group (0: no group)".to_owned());
    }
    if !on_fl && !c.groups.is_empty() {
        return Err("only FL entries are in groups".to_owned());
    }
    Ok(())
}

/// A waiting offline message.
pub fn oim(m: &StoredOim) -> Result<(), String> {
    if m.origin.len() > MAX_ORIGIN {
        return Err(format!("origin longer than {MAX_ORIGIN} bytes"));
    }
    if m.sender_name.chars().any(char::is_control) {
        return Err("sender_name has control characters".to_owned());
    }
    Ok(())
}

/// What holds across the account's records: group 0 exists, group ids and
/// GUIDs and entry handles are unique, every group an entry names exists.
pub fn whole(a: &AccountDump) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids: HashSet<GroupId> = HashSet::new();
    let mut guids = HashSet::new();
    for g in &a.groups {
        if !ids.insert(g.id) {
            problems.push(format!("group {} appears twice", g.id));
        }
        if !guids.insert(g.guid) {
            problems.push(format!("group guid {} appears twice", g.guid));
        }
    }
    if !ids.contains(&0) {
        problems.push("group 0 (the default group) is missing".to_owned());
    }
    let mut handles = HashSet::new();
    let mut contact_guids = HashSet::new();
    for c in &a.contacts {
        if !handles.insert(c.handle.as_str()) {
            problems.push(format!("contact {} appears twice", c.handle));
        }
        if let Some(guid) = c.guid
            && !contact_guids.insert(guid)
        {
            problems.push(format!("contact guid {guid} appears twice"));
        }
        for g in &c.groups {
            if !ids.contains(g) {
                problems.push(format!(
                    "contact {} is in group {g}, which does not exist",
                    c.handle
                ));
            }
        }
    }
    for c in &a.circles {
        if c.members.first().map(|m| &m.handle) != Some(&a.handle) {
            problems.push(format!(
                "circle {}: its admin (the first member) must be the account it follows",
                c.id
            ));
        }
    }
    problems
}

/// A circle on its own: a name the service accepts, one admin listed
/// first (accepted, invited by nobody), every member once.
pub fn circle(c: &CircleDump) -> Result<(), String> {
    text::validate_name(&c.name, msn_core::circle::MAX_NAME_CHARS)
        .map_err(|e| format!("name {:?}: {e}", c.name))?;
    let Some(admin) = c.members.first() else {
        return Err("no members (the admin is listed first)".to_owned());
    };
    if admin.role != CircleRole::Admin || admin.state != MemberState::Accepted {
        return Err(format!(
            "the first member, {}, must be its accepted admin",
            admin.handle
        ));
    }
    let mut handles = HashSet::new();
    for m in &c.members {
        if !handles.insert(m.handle.as_str()) {
            return Err(format!("member {} appears twice", m.handle));
        }
    }
    if c.members
        .iter()
        .skip(1)
        .any(|m| m.role == CircleRole::Admin)
    {
        return Err("more than one admin".to_owned());
    }
    Ok(())
}
