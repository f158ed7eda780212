//! Editing lists, groups and settings: `ADD`/`ADC`, `REM`, `REA`, `ADG`,
//! `RMG`, `REG`, `BLP`, `GTC`, `PRP`, `SBP`: resolving each dialect's
//! arguments, calling the service layer, and rendering its answer. Every
//! confirmation is sent after the service committed the change.

use msn_core::account::{Account, Contact, GroupId, ListError, MAX_NUMERIC_GROUPS, Property};
use msn_core::handle::{Handle, HandleError};
use msn_service::OpError;
use msn_wire::dialect::ListModel;
use msn_wire::ns::AdcTarget;
use msn_wire::ns::render::{self, GroupView};
use msn_wire::vocab::{AddAlert, ListKind, Privacy};
use uuid::Uuid;

use super::{Flow, NsSession};

/// A group number as MSNP7–MSNP9 name groups (0–29).
fn numeric_group(raw: &str) -> Option<GroupId> {
    raw.parse::<u8>()
        .ok()
        .filter(|id| usize::from(*id) < MAX_NUMERIC_GROUPS)
        .map(GroupId::from)
}

/// The FL contact an MSNP10+ contact id names.
fn fl_contact<'a>(account: &'a Account, raw: &str) -> Option<&'a Contact> {
    account.contact_by_guid(Uuid::parse_str(raw).ok()?)
}

/// The group an MSNP10+ group GUID names (group 0, "no group", is never
/// named).
fn guid_group(account: &Account, raw: &str) -> Option<GroupId> {
    let group = account.group_by_guid(Uuid::parse_str(raw).ok()?)?;
    (group.id != 0).then_some(group.id)
}

/// A list a client may edit: FL, AL, BL (PL from MSNP11 for removal).
fn editable(list: ListKind) -> bool {
    matches!(list, ListKind::Forward | ListKind::Allow | ListKind::Block)
}

impl NsSession {
    /// Parses a handle for a list command: malformed `201`, no domain `206`.
    fn list_handle(&mut self, trid: u32, raw: &str) -> Option<Handle> {
        match Handle::parse(raw) {
            Ok(h) => Some(h),
            Err(HandleError::Malformed) => {
                self.conn.out.error(201, trid);
                None
            }
            Err(HandleError::MissingDomain) => {
                self.conn.out.error(206, trid);
                None
            }
        }
    }

    fn reject(&mut self, trid: u32, e: ListError) -> Flow {
        self.conn.out.error(e.code(), trid);
        Flow::Continue
    }

    /// A friendly-name parameter as text (names are kept decoded); one that
    /// is not URL-encoded UTF-8 gets `209` here.
    pub(super) fn decoded_name(&mut self, trid: u32, encoded: &str) -> Option<String> {
        match msn_core::text::decode_param(encoded) {
            Ok(name) => Some(name),
            Err(_) => {
                self.conn.out.error(ListError::InvalidName.code(), trid);
                None
            }
        }
    }

    /// `ADD TrID list handle name [group]` (MSNP2–MSNP9).
    pub(super) async fn on_add(
        &mut self,
        trid: u32,
        list: ListKind,
        raw_handle: &str,
        name: &str,
        group: Option<&str>,
    ) -> Flow {
        if !editable(list) {
            return Flow::Close;
        }
        let Some(handle) = self.list_handle(trid, raw_handle) else {
            return Flow::Continue;
        };
        let raw_name = name;
        let Some(name) = self.decoded_name(trid, raw_name) else {
            return Flow::Continue;
        };
        let name = name.as_str();
        let group_id = match group {
            Some(g) if list == ListKind::Forward && self.dialect.has_groups() => {
                match numeric_group(g) {
                    Some(id) => Some(id),
                    None => return self.reject(trid, ListError::NoSuchGroup),
                }
            }
            _ => None,
        };
        let service = &self.shared.service;
        let added = match service
            .add_contact(self.actor(), list, &handle, name, group_id)
            .await
        {
            Ok(added) => added,
            Err(e) => return self.fail(trid, e),
        };
        let group = group_id.filter(|_| list == ListKind::Forward);
        let h = handle.as_str();
        render::add(
            &mut self.conn.out,
            trid,
            list,
            added.version,
            h,
            raw_name,
            group,
        );
        if added.reverse_added {
            self.initial_presence_of(trid, &handle).await;
        }
        Flow::Continue
    }

    /// `ADC` (MSNP10+).
    pub(super) async fn on_adc(&mut self, trid: u32, list: ListKind, target: AdcTarget) -> Flow {
        if !editable(list) {
            return Flow::Close;
        }
        match target {
            AdcTarget::Group { contact, group } => {
                if list != ListKind::Forward {
                    return Flow::Close;
                }
                let (handle, group_id) = {
                    let st = self.state();
                    let handle = fl_contact(&st.account, &contact).map(|c| c.handle.clone());
                    (handle, guid_group(&st.account, &group))
                };
                // No code is documented for an unknown contact id; 208 is
                // what ADC uses for an unknown contact, and the one
                // msnp11-sdk reports (InvalidContact) instead of hanging.
                let Some(handle) = handle else {
                    self.conn.out.error(208, trid);
                    return Flow::Continue;
                };
                let Some(group_id) = group_id else {
                    return self.reject(trid, ListError::NoSuchGroup);
                };
                let service = &self.shared.service;
                match service.add_to_group(self.actor(), &handle, group_id).await {
                    Ok(_) => render::adc_group(&mut self.conn.out, trid, &contact, &group),
                    Err(e) => return self.fail(trid, e),
                }
                Flow::Continue
            }
            AdcTarget::Handle { handle: raw, name } => {
                let Some(handle) = self.list_handle(trid, &raw) else {
                    return Flow::Continue;
                };
                // The reply echoes F= as sent (the handle if there was none).
                let raw_name = name.unwrap_or_else(|| raw.clone());
                let Some(stored_name) = self.decoded_name(trid, &raw_name) else {
                    return Flow::Continue;
                };
                let service = &self.shared.service;
                let added = match service
                    .add_contact(self.actor(), list, &handle, &stored_name, None)
                    .await
                {
                    Ok(added) => added,
                    Err(e) => return self.fail(trid, e),
                };
                if list == ListKind::Forward {
                    let guid = added.contact_id.map(|g| g.to_string()).unwrap_or_default();
                    render::adc_forward(&mut self.conn.out, trid, &raw, &raw_name, &guid);
                    if added.reverse_added {
                        self.initial_presence_of(trid, &handle).await;
                    }
                } else {
                    render::adc_list(&mut self.conn.out, trid, list, &raw);
                }
                Flow::Continue
            }
        }
    }

    /// After adding `handle` to the FL: its presence right away (`ILN` with
    /// the TrID of the add), if it is visible to us.
    pub(super) async fn initial_presence_of(&mut self, trid: u32, handle: &Handle) {
        let service = &self.shared.service;
        if !service.is_live(self.actor()) {
            return; // the first CHG will list it
        }
        if let Some(p) = service.contact_presence(self.actor(), handle).await {
            self.write_contact_presence(trid, &p);
        }
    }

    /// `REM TrID list target [group]`.
    pub(super) async fn on_rem(
        &mut self,
        trid: u32,
        list: ListKind,
        target: &str,
        group: Option<&str>,
    ) -> Flow {
        let d = self.dialect;
        let pending_ok = list == ListKind::Pending && d.has_pending_list();
        if !editable(list) && !pending_ok {
            return Flow::Close;
        }
        // Resolve the entry: by contact id for the MSNP10+ FL, else by handle.
        let guid_fl = list == ListKind::Forward && d.list_model() == ListModel::Guid;
        let resolved = {
            let st = self.state();
            let account = &st.account;
            let handle = if guid_fl {
                fl_contact(account, target).map(|c| c.handle.to_string())
            } else {
                Some(target.to_ascii_lowercase())
            };
            let group_id = group.map(|g| {
                if guid_fl {
                    guid_group(account, g)
                } else {
                    numeric_group(g).filter(|id| account.group(*id).is_some())
                }
            });
            (handle, group_id)
        };
        let (handle, group_id) = resolved;
        let Some(handle) = handle else {
            return self.reject(trid, ListError::NotOnList);
        };
        let group_id = match group_id {
            Some(None) if list == ListKind::Forward && d.has_groups() => {
                return self.reject(trid, ListError::NoSuchGroup);
            }
            Some(g) if list == ListKind::Forward && d.has_groups() => g,
            _ => None,
        };
        let service = &self.shared.service;
        let version = match service
            .remove_contact(self.actor(), list, &handle, group_id)
            .await
        {
            Ok(v) => v,
            Err(e) => return self.fail(trid, e),
        };
        render::rem(&mut self.conn.out, trid, d, list, version, target, group);
        Flow::Continue
    }

    /// `REA TrID handle name` (MSNP2–MSNP9): own name or a contact's.
    pub(super) async fn on_rea(&mut self, trid: u32, raw_handle: &str, name: &str) -> Flow {
        let own = raw_handle.eq_ignore_ascii_case(self.actor().handle().as_str());
        if own && !self.renames.allow() {
            self.conn.out.error(800, trid);
            return Flow::Continue;
        }
        let raw_name = name;
        let Some(name) = self.decoded_name(trid, raw_name) else {
            return Flow::Continue;
        };
        let name = name.as_str();
        let service = &self.shared.service;
        let done = if own {
            service.set_friendly_name(self.actor(), name).await
        } else {
            let contact = raw_handle.to_ascii_lowercase();
            service.rename_contact(self.actor(), &contact, name).await
        };
        match done {
            Ok(version) => render::rea(&mut self.conn.out, trid, version, raw_handle, raw_name),
            Err(e) => return self.fail(trid, e),
        }
        Flow::Continue
    }

    /// Parses a group argument: a number 0–29 before MSNP10 (anything else
    /// closes the connection), a GUID from MSNP10 (unknown: `224`).
    fn group_arg(&mut self, trid: u32, raw: &str) -> Result<GroupId, Flow> {
        if self.dialect.list_model() == ListModel::Guid {
            let st = self.state();
            let id = guid_group(&st.account, raw);
            drop(st);
            id.ok_or_else(|| self.reject(trid, ListError::NoSuchGroup))
        } else {
            numeric_group(raw).ok_or(Flow::Close)
        }
    }

    /// Answers a group edit with `reply` (the `ADG`, `RMG` or `REG` form of
    /// the dialect).
    fn group_reply(
        &mut self,
        trid: u32,
        done: Result<(u64, msn_core::account::Group), OpError>,
        reply: fn(&mut msn_wire::Out, u32, msn_wire::Dialect, u64, GroupView<'_>),
    ) -> Flow {
        let (version, group) = match done {
            Ok(done) => done,
            Err(e) => return self.fail(trid, e),
        };
        let guid = group.guid.to_string();
        let view = GroupView {
            // Only MSNP7–MSNP9 render the id, and their groups are 0–29.
            id: group.id,
            guid: &guid,
            name: &group.name,
        };
        reply(&mut self.conn.out, trid, self.dialect, version, view);
        Flow::Continue
    }

    pub(super) async fn on_adg(&mut self, trid: u32, name: &str) -> Flow {
        let done = self.shared.service.add_group(self.actor(), name).await;
        self.group_reply(trid, done, render::adg)
    }

    pub(super) async fn on_rmg(&mut self, trid: u32, raw: &str) -> Flow {
        let id = match self.group_arg(trid, raw) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let done = self.shared.service.remove_group(self.actor(), id).await;
        self.group_reply(trid, done, render::rmg)
    }

    pub(super) async fn on_reg(&mut self, trid: u32, raw: &str, name: &str) -> Flow {
        let id = match self.group_arg(trid, raw) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let done = self
            .shared
            .service
            .rename_group(self.actor(), id, name)
            .await;
        self.group_reply(trid, done, render::reg)
    }

    /// `BLP TrID AL|BL`. WLM (MSNP13+) sends its setting at every sign-in
    /// and expects it echoed even when it is the stored one; earlier
    /// dialects get `218` for that.
    pub(super) async fn on_blp(&mut self, trid: u32, value: Privacy) -> Flow {
        match self.shared.service.set_privacy(self.actor(), value).await {
            Ok(version) => render::blp(&mut self.conn.out, trid, self.dialect, version, value),
            Err(OpError::Refused(ListError::AlreadyInMode)) if !self.dialect.has_ns_lists() => {
                let version = self.state().account.list_version;
                render::blp(&mut self.conn.out, trid, self.dialect, version, value);
            }
            Err(e) => return self.fail(trid, e),
        }
        Flow::Continue
    }

    pub(super) async fn on_gtc(&mut self, trid: u32, value: AddAlert) -> Flow {
        match self.shared.service.set_add_alert(self.actor(), value).await {
            Ok(version) => render::gtc(&mut self.conn.out, trid, self.dialect, version, value),
            Err(e) => return self.fail(trid, e),
        }
        Flow::Continue
    }

    /// `PRP TrID property [value]` (MSNP5+): phones, mobile flags, and from
    /// MSNP10 the own friendly name (`MFN`).
    pub(super) async fn on_prp(&mut self, trid: u32, code: &str, value: Option<&str>) -> Flow {
        if code.len() > 3 {
            return Flow::Close;
        }
        if code == "MFN" && self.dialect.has_adc() {
            let Some(name) = value else {
                return Flow::Close;
            };
            if !self.renames.allow() {
                self.conn.out.error(800, trid);
                return Flow::Continue;
            }
            let raw_name = name;
            let Some(name) = self.decoded_name(trid, raw_name) else {
                return Flow::Continue;
            };
            let name = name.as_str();
            match self
                .shared
                .service
                .set_friendly_name(self.actor(), name)
                .await
            {
                Ok(_) => render::prp_friendly_name(&mut self.conn.out, trid, raw_name),
                Err(e) => return self.fail(trid, e),
            }
            return Flow::Continue;
        }
        let property = match Property::parse(code) {
            Some(p) if p != Property::MobileDevice => p,
            // Unknown, or set only by the server (MBE).
            _ => {
                self.conn.out.error(715, trid);
                return Flow::Continue;
            }
        };
        if value.is_some_and(|v| v.len() > msn_core::text::MAX_PROPERTY_VALUE) {
            return Flow::Close;
        }
        let service = &self.shared.service;
        match service.set_property(self.actor(), property, value).await {
            Ok(version) => {
                render::prp(&mut self.conn.out, trid, self.dialect, version, code, value);
            }
            Err(e) => return self.fail(trid, e),
        }
        Flow::Continue
    }

    /// `SBP TrID contact-id property value` (MSNP10+): the client records a
    /// contact's current name (`MFN`) in the address book.
    pub(super) async fn on_sbp(
        &mut self,
        trid: u32,
        contact: &str,
        property: &str,
        value: Option<&str>,
    ) -> Flow {
        let handle = fl_contact(&self.state().account, contact).map(|c| c.handle.to_string());
        let Some(handle) = handle else {
            self.conn.out.error(208, trid);
            return Flow::Continue;
        };
        if property == "MFN"
            && let Some(raw_name) = value
        {
            let Some(name) = self.decoded_name(trid, raw_name) else {
                return Flow::Continue;
            };
            let service = &self.shared.service;
            if let Err(e) = service.rename_contact(self.actor(), &handle, &name).await {
                return self.fail(trid, e);
            }
        }
        render::sbp(&mut self.conn.out, trid, contact, property, value);
        Flow::Continue
    }
}
