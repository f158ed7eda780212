//! `SYN` (the list download in each dialect's form) and the MSNP2–MSNP7
//! `LST`/`LSG` requests outside it.

use std::collections::HashMap;

use msn_core::account::{Account, Contact, Group, MAX_NUMERIC_GROUPS, Properties, Property, lists};
use msn_core::handle::Handle;
use msn_wire::dialect::ListModel;
use msn_wire::ns::render::{self, GroupView};
use msn_wire::vocab::ListKind;
use msn_wire::{Dialect, Out};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::warn;

use super::{Flow, NsSession};

/// Properties listed after an FL contact in MSNP5+ downloads.
const CONTACT_PROPERTIES: [Property; 4] = Property::SETTABLE;
/// Own properties listed in MSNP5–MSNP7 downloads, in order.
const OWN_PROPERTIES: [Property; 5] = [
    Property::HomePhone,
    Property::WorkPhone,
    Property::MobilePhone,
    Property::MobileMessages,
    Property::MobileDevice,
];

impl NsSession {
    pub(super) async fn on_syn(&mut self, trid: u32, cached: &[String]) -> Flow {
        let d = self.dialect;
        let model = d.list_model();
        if (model == ListModel::Guid) != (cached.len() == 2) {
            return Flow::Close;
        }
        let account = self.state().account.clone();
        let stamp = timestamp();
        let stamps = (stamp.as_str(), stamp.as_str());
        if model != ListModel::Guid {
            let Ok(client_version) = cached[0].parse::<u64>() else {
                return Flow::Close;
            };
            // 0 means "nothing cached": always send everything then.
            if client_version != 0 && client_version == account.list_version {
                render::syn_current(&mut self.conn.out, trid, d, account.list_version, stamps);
                self.synced = true;
                return Flow::Continue;
            }
        }
        let published = if d.has_phone_properties() {
            self.published_properties(&account).await
        } else {
            HashMap::new()
        };
        let out = &mut self.conn.out;
        match model {
            ListModel::PerList => download_per_list(out, trid, d, &account, &published),
            // `SYN` is not dispatched for MSNP13+ (address book over SOAP).
            ListModel::Bits | ListModel::Guid | ListModel::AddressBook => {
                download_by_contact(out, trid, d, &account, &published, stamps)
            }
        }
        self.synced = true;
        Flow::Continue
    }

    /// What FL contacts publish to this user (phones for `BPR`).
    async fn published_properties(&self, account: &Account) -> HashMap<Handle, Properties> {
        let handles: Vec<Handle> = account
            .on_list(ListKind::Forward)
            .map(|c| c.handle.clone())
            .collect();
        match self
            .shared
            .store
            .published_properties(&account.handle, &handles)
            .await
        {
            Ok(v) => v.into_iter().collect(),
            Err(e) => {
                warn!(error = %e, "could not load contacts' properties");
                HashMap::new()
            }
        }
    }

    /// `LST TrID list` outside `SYN` (MSNP2–MSNP7).
    pub(super) fn on_lst(&mut self, trid: u32, list: ListKind) -> Flow {
        if list == ListKind::Pending {
            return Flow::Close;
        }
        let st = self.state();
        let (account, d) = (&st.account, self.dialect);
        let mut out = Out::new();
        lst_lines(&mut out, trid, d, account, list, &HashMap::new(), false);
        drop(st);
        self.conn.out.raw(&out.take());
        Flow::Continue
    }

    /// `LSG TrID` outside `SYN` (MSNP7).
    pub(super) fn on_lsg(&mut self, trid: u32) -> Flow {
        let st = self.state();
        let mut out = Out::new();
        lsg_lines(&mut out, trid, self.dialect, &st.account);
        drop(st);
        self.conn.out.raw(&out.take());
        Flow::Continue
    }
}

/// `SYN`'s timestamps (MSNP10+): the current time in the form clients
/// expect. Clients only echo them back; the full list is always sent.
fn timestamp() -> String {
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]-00:00"
    );
    OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "2000-01-01T00:00:00.0000000-00:00".to_owned())
}

/// Whether a dialect lists a group: MSNP10+ all but group 0 ("no group"),
/// MSNP7–MSNP9 those their numbers reach (0–29; more exist only if an
/// MSNP10+ client made them).
fn listed(d: Dialect, g: &Group) -> bool {
    if d.list_model() == ListModel::Guid {
        g.id != 0
    } else {
        (g.id as usize) < MAX_NUMERIC_GROUPS
    }
}

/// Group ids of an FL contact as MSNP7–9 list them (`0,1`).
fn group_ids(c: &Contact) -> String {
    let ids: Vec<String> = c
        .group_ids()
        .filter(|&g| (g as usize) < MAX_NUMERIC_GROUPS)
        .map(|g| g.to_string())
        .collect();
    if ids.is_empty() {
        "0".to_owned()
    } else {
        ids.join(",")
    }
}

/// Group GUIDs of an FL contact as MSNP10+ list them (group 0 is "no group").
fn group_guids(account: &Account, c: &Contact) -> String {
    c.group_ids()
        .filter(|&g| g != 0)
        .filter_map(|g| account.group(g))
        .map(|g| g.guid.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn group_view(g: &Group) -> (u32, String, &str) {
    (g.id, g.guid.to_string(), g.name.as_str())
}

fn lsg_lines(out: &mut Out, trid: u32, d: Dialect, account: &Account) {
    let groups: Vec<_> = account.groups.iter().filter(|g| listed(d, g)).collect();
    let count = groups.len();
    for (i, g) in groups.iter().enumerate() {
        let (id, guid, name) = group_view(g);
        render::lsg(
            out,
            trid,
            d,
            account.list_version,
            i + 1,
            count,
            GroupView {
                id,
                guid: &guid,
                name,
            },
        );
    }
}

/// The `LST` lines of one list (MSNP2–MSNP7), with the `BPR` lines after FL
/// entries when `with_bpr`.
fn lst_lines(
    out: &mut Out,
    trid: u32,
    d: Dialect,
    account: &Account,
    list: ListKind,
    published: &HashMap<Handle, Properties>,
    with_bpr: bool,
) {
    let version = account.list_version;
    let entries: Vec<&Contact> = account.on_list(list).collect();
    if entries.is_empty() {
        render::lst_empty(out, trid, list, version);
        return;
    }
    let count = entries.len();
    for (i, c) in entries.iter().enumerate() {
        let groups = (list == ListKind::Forward && d.has_groups()).then(|| group_ids(c));
        render::lst_entry(
            out,
            trid,
            list,
            version,
            i + 1,
            count,
            c.handle.as_str(),
            &c.name,
            groups.as_deref(),
        );
        if with_bpr && list == ListKind::Forward {
            let props = published.get(&c.handle);
            for p in CONTACT_PROPERTIES {
                let value = match props {
                    Some(props) => props.value(p),
                    // Not published to this user: flags read "N", phones empty.
                    None => (p == Property::MobileMessages).then_some("N"),
                };
                render::syn_bpr(out, d, version, c.handle.as_str(), p.code(), value);
            }
        }
    }
}

/// MSNP2–MSNP7: `SYN`, `GTC`, `BLP`, `PRP`s (5+), `LSG`s (7), then the four
/// lists (msnp2-7.md §5.2).
fn download_per_list(
    out: &mut Out,
    trid: u32,
    d: Dialect,
    account: &Account,
    published: &HashMap<Handle, Properties>,
) {
    let version = account.list_version;
    render::syn_header(out, trid, d, version, ("", ""), 0, 0);
    render::syn_gtc(out, trid, d, version, account.add_alert);
    render::syn_blp(out, trid, d, version, account.privacy);
    if d.has_phone_properties() {
        for p in OWN_PROPERTIES {
            render::syn_prp(out, trid, d, version, p.code(), account.properties.value(p));
        }
    }
    if d.has_groups() {
        lsg_lines(out, trid, d, account);
    }
    for list in ListKind::CLASSIC {
        lst_lines(
            out,
            trid,
            d,
            account,
            list,
            published,
            d.has_phone_properties(),
        );
    }
}

/// The list bits a contact is listed with. A pending contact (PL, only in
/// MSNP11+ masks) is sent with RL cleared, as msnp8-12.md §5.1 describes:
/// MSN 7 then shows its "has added you" dialog.
fn shown_bits(bits: u8) -> u8 {
    if bits & lists::PL != 0 {
        bits & !lists::RL
    } else {
        bits
    }
}

/// MSNP8+: one `LST` per contact carrying list bits (msnp8-12.md §5.1).
fn download_by_contact(
    out: &mut Out,
    trid: u32,
    d: Dialect,
    account: &Account,
    published: &HashMap<Handle, Properties>,
    stamps: (&str, &str),
) {
    let guid_model = d.list_model() == ListModel::Guid;
    let mask = if d.has_pending_list() {
        lists::FL | lists::AL | lists::BL | lists::RL | lists::PL
    } else {
        lists::FL | lists::AL | lists::BL | lists::RL
    };
    let contacts: Vec<&Contact> = account
        .contacts
        .iter()
        .filter(|c| c.lists & mask != 0)
        .collect();
    let groups = account.groups.iter().filter(|g| listed(d, g)).count();
    let version = account.list_version;
    render::syn_header(out, trid, d, version, stamps, contacts.len(), groups);
    render::syn_gtc(out, trid, d, version, account.add_alert);
    render::syn_blp(out, trid, d, version, account.privacy);
    if guid_model {
        render::syn_friendly_name(out, trid, d, version, &account.friendly_name);
    }
    for p in OWN_PROPERTIES {
        if account.properties.is_set(p) {
            render::syn_prp(out, trid, d, version, p.code(), account.properties.value(p));
        }
    }
    lsg_lines(out, trid, d, account);
    for c in contacts {
        let on_fl = c.lists & lists::FL != 0;
        let groups = on_fl.then(|| {
            if guid_model {
                group_guids(account, c)
            } else {
                group_ids(c)
            }
        });
        let guid = c.guid.filter(|_| on_fl).map(|g| g.to_string());
        render::lst_contact(
            out,
            d,
            c.handle.as_str(),
            &c.name,
            guid.as_deref(),
            shown_bits(c.lists & mask),
            groups.as_deref(),
        );
        if on_fl && let Some(props) = published.get(&c.handle) {
            for p in CONTACT_PROPERTIES {
                if props.is_set(p) {
                    render::syn_bpr(out, d, version, c.handle.as_str(), p.code(), props.value(p));
                }
            }
        }
    }
}
