//! Editing lists, groups and settings: `ADD`/`ADC`, `REM`, `REA`, `ADG`,
//! `RMG`, `REG`, `BLP`, `GTC`, `PRP`, `SBP`. Every confirmation is sent
//! after the store committed the change (`NsSession::commit`).

use msn_core::account::{Change, GroupMode, ListError, ListLimits, Property};
use msn_core::handle::{Handle, HandleError};
use msn_wire::dialect::ListModel;
use msn_wire::line;
use msn_wire::ns::AdcTarget;
use msn_wire::ns::render::{self, GroupView};
use msn_wire::vocab::{AddAlert, ListKind, Privacy};
use tracing::warn;
use uuid::Uuid;

use super::{Flow, NsSession};
use crate::hub::NsEvent;

/// A list a client may edit: FL, AL, BL (PL from MSNP11 for removal).
fn editable(list: ListKind) -> bool {
    matches!(list, ListKind::Forward | ListKind::Allow | ListKind::Block)
}

impl NsSession {
    fn list_limits(&self) -> ListLimits {
        ListLimits {
            max_entries: self.shared.config.limits.max_list_entries,
        }
    }

    fn group_mode(&self) -> GroupMode {
        match self.dialect.list_model() {
            ListModel::Guid => GroupMode::DefaultHidden,
            _ if self.dialect.has_groups() => GroupMode::Explicit,
            _ => GroupMode::None,
        }
    }

    /// Whether AL and BL may hold the same handle. msnp11-sdk blocks with
    /// `ADC BL` before `REM AL` (and unblocks the other way round), so from
    /// MSNP11 on the conflict check (`219`) is left out; a handle on both is
    /// treated as blocked. Older dialects keep `219` (msnp2-7.md §7.1).
    fn allows_both_lists(&self) -> bool {
        self.dialect.has_pending_list()
    }

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

    /// Whether an account exists; answers the dialect's error if not.
    async fn require_account(&mut self, trid: u32, handle: &Handle) -> bool {
        match self.shared.store.user_exists(handle.as_str()).await {
            Ok(true) => true,
            Ok(false) => {
                self.conn
                    .out
                    .error(self.dialect.unknown_account_error(), trid);
                false
            }
            Err(e) => {
                warn!(error = %e, "account lookup failed");
                self.conn.out.error(603, trid);
                false
            }
        }
    }

    fn reject(&mut self, trid: u32, e: ListError) -> Flow {
        self.conn.out.error(e.code(), trid);
        Flow::Continue
    }

    /// Plans an addition, tolerating AL+BL where the dialect wants it.
    fn plan_list_add(
        &self,
        list: ListKind,
        handle: &Handle,
        name: &str,
        group: Option<u8>,
    ) -> Result<Change, ListError> {
        let st = self.state();
        let plan = st.account.plan_add(
            list,
            handle,
            name,
            group,
            self.group_mode(),
            self.list_limits(),
        );
        match plan {
            Err(ListError::OppositeList) if self.allows_both_lists() => {
                let mut account = st.account.clone();
                // Plan against a view without the opposite bit, then keep it.
                if let Some(c) = account.contacts.iter_mut().find(|c| &c.handle == handle) {
                    c.lists &= !(ListKind::Allow.bit() | ListKind::Block.bit());
                }
                account.plan_add(
                    list,
                    handle,
                    name,
                    group,
                    self.group_mode(),
                    self.list_limits(),
                )
            }
            other => other,
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
        let group_id = match group {
            Some(g) if list == ListKind::Forward && self.dialect.has_groups() => {
                match g.parse::<u8>() {
                    Ok(id) => Some(id),
                    Err(_) => return self.reject(trid, ListError::NoSuchGroup),
                }
            }
            _ => None,
        };
        if !self.require_account(trid, &handle).await {
            return Flow::Continue;
        }
        let change = match self.plan_list_add(list, &handle, name, group_id) {
            Ok(c) => c,
            Err(e) => return self.reject(trid, e),
        };
        let Some(done) = self.commit_announced(trid, &change, false).await else {
            return Flow::Continue;
        };
        let echo_group = group_id.filter(|_| list == ListKind::Forward);
        match echo_group {
            Some(g) => line!(
                self.conn.out,
                "ADD {trid} {list} {} {handle} {name} {g}",
                done.version
            ),
            None => line!(
                self.conn.out,
                "ADD {trid} {list} {} {handle} {name}",
                done.version
            ),
        }
        if list == ListKind::Forward && change.reverse.is_some() {
            self.initial_presence_of(trid, &handle);
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
                    let contact_id = Uuid::parse_str(&contact).ok();
                    let handle = contact_id
                        .and_then(|id| st.account.contact_by_guid(id))
                        .filter(|c| c.on(ListKind::Forward))
                        .map(|c| (c.handle.clone(), c.name.clone()));
                    let group_id = Uuid::parse_str(&group)
                        .ok()
                        .and_then(|g| st.account.group_by_guid(g))
                        .filter(|g| g.id != 0)
                        .map(|g| g.id);
                    (handle, group_id)
                };
                // No code is documented for an unknown contact id; 208 is
                // what ADC uses for an unknown contact, and the one
                // msnp11-sdk reports (InvalidContact) instead of hanging.
                let Some((handle, name)) = handle else {
                    self.conn.out.error(208, trid);
                    return Flow::Continue;
                };
                let Some(group_id) = group_id else {
                    return self.reject(trid, ListError::NoSuchGroup);
                };
                let change = match self.plan_list_add(list, &handle, &name, Some(group_id)) {
                    Ok(c) => c,
                    Err(e) => return self.reject(trid, e),
                };
                if self.commit(trid, &change).await.is_some() {
                    line!(self.conn.out, "ADC {trid} FL C={contact} {group}");
                }
                Flow::Continue
            }
            AdcTarget::Handle { handle: raw, name } => {
                let Some(handle) = self.list_handle(trid, &raw) else {
                    return Flow::Continue;
                };
                if !self.require_account(trid, &handle).await {
                    return Flow::Continue;
                }
                let stored_name = name.clone().unwrap_or_else(|| handle.to_string());
                let change = match self.plan_list_add(list, &handle, &stored_name, None) {
                    Ok(c) => c,
                    Err(e) => return self.reject(trid, e),
                };
                if self.commit_announced(trid, &change, false).await.is_none() {
                    return Flow::Continue;
                }
                if list == ListKind::Forward {
                    let guid = self
                        .state()
                        .account
                        .contact(handle.as_str())
                        .and_then(|c| c.guid)
                        .map(|g| g.to_string())
                        .unwrap_or_default();
                    line!(
                        self.conn.out,
                        "ADC {trid} FL N={raw} F={stored_name} C={guid}"
                    );
                    if change.reverse.is_some() {
                        self.initial_presence_of(trid, &handle);
                    }
                } else {
                    line!(self.conn.out, "ADC {trid} {list} N={raw}");
                }
                Flow::Continue
            }
        }
    }

    /// After adding `handle` to the FL: its presence right away (`ILN` with
    /// the TrID of the add), if it is visible to us.
    fn initial_presence_of(&mut self, trid: u32, handle: &Handle) {
        if !self.state().presence.live {
            return; // the first CHG will list it
        }
        let me = self.handle();
        self.write_contact_presence(trid, &me, handle);
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
                Uuid::parse_str(target)
                    .ok()
                    .and_then(|id| account.contact_by_guid(id))
                    .map(|c| c.handle.to_string())
            } else {
                Some(target.to_ascii_lowercase())
            };
            let group_id = group.map(|g| {
                if guid_fl {
                    Uuid::parse_str(g)
                        .ok()
                        .and_then(|id| account.group_by_guid(id))
                        .filter(|g| g.id != 0)
                        .map(|g| g.id)
                } else {
                    g.parse::<u8>()
                        .ok()
                        .filter(|id| account.group(*id).is_some())
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
        let plan = self.state().account.plan_remove(list, &handle, group_id);
        let change = match plan {
            Ok(c) => c,
            // Answering a pending add (ADC AL/BL) already settled it; the
            // MSNP11 client's `REM PL` that follows (msnp8-12.md §5.1) must
            // still succeed, so an entry no longer pending is fine here.
            Err(ListError::NotOnList)
                if list == ListKind::Pending && self.state().account.contact(&handle).is_some() =>
            {
                Change::default()
            }
            Err(e) => return self.reject(trid, e),
        };
        let Some(done) = self.commit_announced(trid, &change, false).await else {
            return Flow::Continue;
        };
        let tail = group.map(|g| format!(" {g}")).unwrap_or_default();
        if d.has_list_versions() {
            line!(
                self.conn.out,
                "REM {trid} {list} {} {target}{tail}",
                done.version
            );
        } else {
            line!(self.conn.out, "REM {trid} {list} {target}{tail}");
        }
        Flow::Continue
    }

    /// `REA TrID handle name` (MSNP2–MSNP9): own name or a contact's.
    pub(super) async fn on_rea(&mut self, trid: u32, raw_handle: &str, name: &str) -> Flow {
        let me = self.handle();
        let own = raw_handle.eq_ignore_ascii_case(me.as_str());
        if own && !self.renames.allow() {
            self.conn.out.error(800, trid);
            return Flow::Continue;
        }
        let plan = {
            let st = self.state();
            if own {
                st.account.plan_friendly_name(name)
            } else {
                st.account
                    .plan_rename_contact(&raw_handle.to_ascii_lowercase(), name)
            }
        };
        let change = match plan {
            Ok(c) => c,
            Err(e) => return self.reject(trid, e),
        };
        if let Some(done) = self.commit_announced(trid, &change, own).await {
            line!(
                self.conn.out,
                "REA {trid} {} {raw_handle} {name}",
                done.version
            );
        }
        Flow::Continue
    }

    /// Parses a group argument: a number 0–29 before MSNP10 (anything else
    /// closes the connection), a GUID from MSNP10 (unknown: `224`).
    fn group_arg(&mut self, trid: u32, raw: &str) -> Result<u8, Flow> {
        if self.dialect.list_model() == ListModel::Guid {
            let st = self.state();
            let id = Uuid::parse_str(raw)
                .ok()
                .and_then(|g| st.account.group_by_guid(g))
                .filter(|g| g.id != 0)
                .map(|g| g.id);
            drop(st);
            id.ok_or_else(|| self.reject(trid, ListError::NoSuchGroup))
        } else {
            match raw.parse::<u8>() {
                Ok(id) if usize::from(id) < msn_core::account::MAX_GROUPS => Ok(id),
                _ => Err(Flow::Close),
            }
        }
    }

    /// Commits a planned group edit and answers with `reply` (the `ADG`,
    /// `RMG` or `REG` form of the dialect).
    async fn commit_group(
        &mut self,
        trid: u32,
        plan: Result<(Change, msn_core::account::Group), ListError>,
        reply: fn(&mut msn_wire::Out, u32, msn_wire::Dialect, u64, GroupView<'_>),
    ) -> Flow {
        let (change, group) = match plan {
            Ok(p) => p,
            Err(e) => return self.reject(trid, e),
        };
        if let Some(done) = self.commit(trid, &change).await {
            let guid = group.guid.to_string();
            let view = GroupView {
                id: group.id,
                guid: &guid,
                name: &group.name,
            };
            reply(&mut self.conn.out, trid, self.dialect, done.version, view);
        }
        Flow::Continue
    }

    pub(super) async fn on_adg(&mut self, trid: u32, name: &str) -> Flow {
        let plan = self.state().account.plan_add_group(name);
        self.commit_group(trid, plan, render::adg).await
    }

    pub(super) async fn on_rmg(&mut self, trid: u32, raw: &str) -> Flow {
        let id = match self.group_arg(trid, raw) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let plan = self.state().account.plan_remove_group(id);
        self.commit_group(trid, plan, render::rmg).await
    }

    pub(super) async fn on_reg(&mut self, trid: u32, raw: &str, name: &str) -> Flow {
        let id = match self.group_arg(trid, raw) {
            Ok(id) => id,
            Err(flow) => return flow,
        };
        let plan = self.state().account.plan_rename_group(id, name);
        self.commit_group(trid, plan, render::reg).await
    }

    pub(super) async fn on_blp(&mut self, trid: u32, value: Privacy) -> Flow {
        let plan = self.state().account.plan_privacy(value);
        let change = match plan {
            Ok(c) => c,
            Err(e) => return self.reject(trid, e),
        };
        if let Some(done) = self.commit_announced(trid, &change, false).await {
            render::blp(&mut self.conn.out, trid, self.dialect, done.version, value);
        }
        Flow::Continue
    }

    pub(super) async fn on_gtc(&mut self, trid: u32, value: AddAlert) -> Flow {
        let plan = self.state().account.plan_add_alert(value);
        let change = match plan {
            Ok(c) => c,
            Err(e) => return self.reject(trid, e),
        };
        if let Some(done) = self.commit(trid, &change).await {
            render::gtc(&mut self.conn.out, trid, self.dialect, done.version, value);
        }
        Flow::Continue
    }

    /// `PRP TrID property [value]` (MSNP5+): phones, mobile flags, and from
    /// MSNP10 the own friendly name (`MFN`).
    pub(super) async fn on_prp(&mut self, trid: u32, code: &str, value: Option<&str>) -> Flow {
        if code.len() > 3 || value.is_some_and(|v| v.len() > msn_core::text::MAX_FRIENDLY_NAME) {
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
            let plan = self.state().account.plan_friendly_name(name);
            let change = match plan {
                Ok(c) => c,
                Err(e) => return self.reject(trid, e),
            };
            if self.commit_announced(trid, &change, true).await.is_some() {
                line!(self.conn.out, "PRP {trid} MFN {name}");
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
        let plan = self.state().account.plan_property(property, value);
        let change = match plan {
            Ok(c) => c,
            Err(e) => return self.reject(trid, e),
        };
        let Some(done) = self.commit(trid, &change).await else {
            return Flow::Continue;
        };
        render::prp(
            &mut self.conn.out,
            trid,
            self.dialect,
            done.version,
            code,
            value,
        );
        self.publish_property(property, value).await;
        Flow::Continue
    }

    /// Tells the people who have us on their FL (and whom we admit) that a
    /// phone property changed; their list versions advance (msnp2-7.md §5.4).
    async fn publish_property(&mut self, property: Property, value: Option<&str>) {
        let (me, watchers) = {
            let st = self.state();
            let watchers: Vec<Handle> = st
                .account
                .on_list(ListKind::Reverse)
                .filter(|c| st.account.admits(c.handle.as_str()))
                .map(|c| c.handle.clone())
                .collect();
            (st.account.handle.clone(), watchers)
        };
        if watchers.is_empty() {
            return;
        }
        let versions = match self.shared.store.bump_versions(&watchers).await {
            Ok(v) => v,
            Err(e) => {
                warn!(error = %e, "could not advance watchers' list versions");
                return;
            }
        };
        for (watcher, version) in versions {
            let Some(user) = self.shared.hub.get(watcher.as_str()) else {
                continue;
            };
            let mailbox = {
                let Some(mut st) = user.loaded() else {
                    continue;
                };
                st.account.list_version = st.account.list_version.max(version);
                st.ns.as_ref().map(|l| l.mailbox.clone())
            };
            if let Some(m) = mailbox {
                let _ = m.push(NsEvent::Property {
                    handle: me.clone(),
                    property,
                    value: value.map(str::to_owned),
                    version,
                });
            }
        }
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
        let handle = Uuid::parse_str(contact).ok().and_then(|id| {
            self.state()
                .account
                .contact_by_guid(id)
                .map(|c| c.handle.to_string())
        });
        let Some(handle) = handle else {
            self.conn.out.error(208, trid);
            return Flow::Continue;
        };
        let value_text = value.map(|v| format!(" {v}")).unwrap_or_default();
        if property == "MFN"
            && let Some(name) = value
        {
            let plan = self.state().account.plan_rename_contact(&handle, name);
            let change = match plan {
                Ok(c) => c,
                Err(e) => return self.reject(trid, e),
            };
            if self.commit(trid, &change).await.is_none() {
                return Flow::Continue;
            }
        }
        line!(self.conn.out, "SBP {trid} {contact} {property}{value_text}");
        Flow::Continue
    }
}
