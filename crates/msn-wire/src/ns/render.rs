//! Server lines of the Dispatch and Notification Server, in the form of
//! each dialect. The session decides *what* to send; these functions decide
//! *how* it looks on the wire for a given dialect.

use crate::dialect::{Dialect, ListModel};
use crate::line;
use crate::out::Out;
use crate::vocab::{AddAlert, ListKind, Privacy, Status};

/// `VER TrID MSNPn[ CVR0]`.
pub fn ver(out: &mut Out, trid: u32, dialect: Dialect, client_listed_cvr0: bool) {
    if client_listed_cvr0 && dialect.ver_echoes_cvr0() {
        line!(out, "VER {trid} {dialect} CVR0");
    } else {
        line!(out, "VER {trid} {dialect}");
    }
}

/// The Dispatch Server's referral to a Notification Server.
pub fn xfr_ns(out: &mut Out, trid: u32, dialect: Dialect, ns_addr: &str, this_addr: &str) {
    match dialect.xfr_ns_params() {
        1 => line!(out, "XFR {trid} NS {ns_addr}"),
        2 => line!(out, "XFR {trid} NS {ns_addr} 0"),
        _ => line!(out, "XFR {trid} NS {ns_addr} 0 {this_addr}"),
    }
}

/// `USR TrID OK …` after a successful login. `verified`: the account's
/// e-mail address is confirmed (MSNP6+ clients warn otherwise).
pub fn usr_ok(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    handle: &str,
    name: &str,
    verified: bool,
) {
    let mut text = format!("USR {trid} OK {handle}");
    if dialect.usr_ok_has_name() {
        text.push(' ');
        text.push_str(name);
    }
    if dialect.usr_ok_has_verified() {
        text.push_str(if verified { " 1" } else { " 0" });
    }
    if dialect.usr_ok_has_restricted() {
        text.push_str(" 0");
    }
    line!(out, "{text}");
}

/// Values of the initial `text/x-msmsgsprofile` message.
#[derive(Clone, Debug)]
pub struct Profile<'a> {
    pub login_time: u64,
    pub email_enabled: bool,
    pub member_id_high: u32,
    pub member_id_low: i32,
    pub lcid: u32,
    pub preferred_email: &'a str,
    pub country: &'a str,
    pub flags: u32,
    pub kv: u32,
    pub mspauth: &'a str,
    pub client_ip: &'a str,
    /// The client's source port as seen by the server (swapped here).
    pub client_port: u16,
}

/// The profile payload for `dialect` (headers only, ends with an empty line).
pub fn profile_payload(dialect: Dialect, p: &Profile<'_>) -> String {
    let mut s = String::with_capacity(512);
    s.push_str("MIME-Version: 1.0\r\n");
    s.push_str("Content-Type: text/x-msmsgsprofile; charset=UTF-8\r\n");
    s.push_str(&format!("LoginTime: {}\r\n", p.login_time));
    if dialect.profile_has_passport_fields() {
        let fields = [
            ("EmailEnabled", u8::from(p.email_enabled).to_string()),
            ("MemberIdHigh", p.member_id_high.to_string()),
            ("MemberIdLow", p.member_id_low.to_string()),
            ("lang_preference", p.lcid.to_string()),
            ("preferredEmail", p.preferred_email.to_owned()),
            ("country", p.country.to_owned()),
            ("PostalCode", String::new()),
            ("Gender", String::new()),
            ("Kid", "0".to_owned()),
            ("Age", String::new()),
            ("BDayPre", String::new()),
            ("Birthday", String::new()),
            ("Wallet", String::new()),
            ("Flags", p.flags.to_string()),
            ("sid", "507".to_owned()),
            ("kv", p.kv.to_string()),
            ("MSPAuth", p.mspauth.to_owned()),
        ];
        for (name, value) in fields {
            push_header(&mut s, name, &value);
        }
    }
    if dialect.profile_has_client_address() {
        push_header(&mut s, "ClientIP", p.client_ip);
        push_header(
            &mut s,
            "ClientPort",
            &p.client_port.swap_bytes().to_string(),
        );
    }
    if dialect.profile_has_abch() {
        push_header(&mut s, "ABCHMigrated", "1");
    }
    s.push_str("\r\n");
    s
}

/// `Name: value` — an empty value is written `Name:` with nothing after
/// the colon (clients accept both forms; this one survives editors).
fn push_header(s: &mut String, name: &str, value: &str) {
    s.push_str(name);
    s.push(':');
    if !value.is_empty() {
        s.push(' ');
        s.push_str(value);
    }
    s.push_str("\r\n");
}

/// `MSG Hotmail Hotmail len` + payload (profile, mail notices).
pub fn hotmail_msg(out: &mut Out, payload: &[u8]) {
    out.payload(format_args!("MSG Hotmail Hotmail"), payload);
}

/// The `SYN` reply when the client's cache is current (nothing else follows).
pub fn syn_current(out: &mut Out, trid: u32, dialect: Dialect, version: u64, stamps: (&str, &str)) {
    match dialect.list_model() {
        ListModel::Guid => line!(out, "SYN {trid} {} {} 0 0", stamps.0, stamps.1),
        _ => line!(out, "SYN {trid} {version}"),
    }
}

/// First line of a full `SYN` download.
pub fn syn_header(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    stamps: (&str, &str),
    contacts: usize,
    groups: usize,
) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "SYN {trid} {version}"),
        ListModel::Bits => line!(out, "SYN {trid} {version} {contacts} {groups}"),
        ListModel::Guid => line!(
            out,
            "SYN {trid} {} {} {contacts} {groups}",
            stamps.0,
            stamps.1
        ),
    }
}

/// `GTC` inside a `SYN` download.
pub fn syn_gtc(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: AddAlert) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "GTC {trid} {version} {value}"),
        _ => line!(out, "GTC {value}"),
    }
}

/// `BLP` inside a `SYN` download.
pub fn syn_blp(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: Privacy) {
    match dialect.list_model() {
        ListModel::PerList => line!(out, "BLP {trid} {version} {value}"),
        _ => line!(out, "BLP {value}"),
    }
}

/// `PRP` inside a `SYN` download. MSNP5–7 list every property (unset ones
/// without a value); MSNP8+ only set ones, so callers skip `None` there.
pub fn syn_prp(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    match dialect.list_model() {
        ListModel::PerList => line!(out, "PRP {trid} {version} {property}{value}"),
        _ => line!(out, "PRP {property}{value}"),
    }
}

/// A group as the client sees it.
#[derive(Clone, Copy, Debug)]
pub struct GroupView<'a> {
    pub id: u8,
    pub guid: &'a str,
    pub name: &'a str,
}

/// One `LSG` line (inside `SYN` or as a reply to `LSG`).
pub fn lsg(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    index: usize,
    count: usize,
    group: GroupView<'_>,
) {
    let GroupView { id, guid, name } = group;
    match dialect.list_model() {
        ListModel::PerList => line!(out, "LSG {trid} {version} {index} {count} {id} {name} 0"),
        ListModel::Bits => line!(out, "LSG {id} {name} 0"),
        ListModel::Guid => line!(out, "LSG {name} {guid}"),
    }
}

/// One MSNP2–MSNP7 `LST` line for a list entry. `groups` is the group list
/// of FL entries in MSNP7 (`None` for other lists and older dialects).
#[allow(clippy::too_many_arguments)]
pub fn lst_entry(
    out: &mut Out,
    trid: u32,
    list: ListKind,
    version: u64,
    index: usize,
    count: usize,
    handle: &str,
    name: &str,
    groups: Option<&str>,
) {
    match groups {
        Some(g) => line!(
            out,
            "LST {trid} {list} {version} {index} {count} {handle} {name} {g}"
        ),
        None => line!(
            out,
            "LST {trid} {list} {version} {index} {count} {handle} {name}"
        ),
    }
}

/// An empty MSNP2–MSNP7 list: `LST TrID list version 0 0`.
pub fn lst_empty(out: &mut Out, trid: u32, list: ListKind, version: u64) {
    line!(out, "LST {trid} {list} {version} 0 0");
}

/// One MSNP8+ `LST` line for a contact (all lists as bits). `groups` are
/// ids (MSNP8/9) or GUIDs (MSNP10+), comma-separated, FL contacts only.
pub fn lst_contact(
    out: &mut Out,
    dialect: Dialect,
    handle: &str,
    name: &str,
    contact_guid: Option<&str>,
    bits: u8,
    groups: Option<&str>,
) {
    let mut s = match dialect.list_model() {
        ListModel::Guid => {
            let mut s = format!("LST N={handle} F={name}");
            if let Some(guid) = contact_guid {
                s.push_str(&format!(" C={guid}"));
            }
            s.push_str(&format!(" {bits}"));
            if dialect.lst_has_network_id() {
                s.push_str(" 1");
            }
            s
        }
        _ => format!("LST {handle} {name} {bits}"),
    };
    if let Some(groups) = groups.filter(|g| !g.is_empty()) {
        s.push(' ');
        s.push_str(groups);
    }
    line!(out, "{s}");
}

/// A contact's property inside `SYN` (after its `LST`).
pub fn syn_bpr(
    out: &mut Out,
    dialect: Dialect,
    version: u64,
    handle: &str,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    match dialect.list_model() {
        ListModel::PerList => line!(out, "BPR {version} {handle} {property}{value}"),
        _ => line!(out, "BPR {property}{value}"),
    }
}

/// A contact's property changed (asynchronous).
pub fn bpr_changed(
    out: &mut Out,
    dialect: Dialect,
    version: u64,
    handle: &str,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    if dialect.has_list_versions() {
        line!(out, "BPR {version} {handle} {property}{value}");
    } else {
        line!(out, "BPR {handle} {property}{value}");
    }
}

/// What a watcher is told about a visible contact.
#[derive(Clone, Copy, Debug)]
pub struct PresenceView<'a> {
    pub status: Status,
    pub handle: &'a str,
    pub name: &'a str,
    /// Client capabilities; `None` when the contact's client has none.
    pub capabilities: Option<&'a str>,
    pub msn_object: Option<&'a str>,
}

fn presence_tail(dialect: Dialect, p: &PresenceView<'_>) -> String {
    let mut s = format!("{} {} {}", p.status, p.handle, p.name);
    if dialect.has_capabilities() {
        s.push(' ');
        s.push_str(p.capabilities.unwrap_or("0"));
        if dialect.has_msn_object()
            && let Some(obj) = p.msn_object
        {
            s.push(' ');
            s.push_str(obj);
        }
    }
    s
}

/// `ILN TrID status handle name[ caps[ msnobj]]`.
pub fn iln(out: &mut Out, trid: u32, dialect: Dialect, p: &PresenceView<'_>) {
    line!(out, "ILN {trid} {}", presence_tail(dialect, p));
}

/// `NLN status handle name[ caps[ msnobj]]`.
pub fn nln(out: &mut Out, dialect: Dialect, p: &PresenceView<'_>) {
    line!(out, "NLN {}", presence_tail(dialect, p));
}

/// `FLN handle`.
pub fn fln(out: &mut Out, handle: &str) {
    line!(out, "FLN {handle}");
}

/// Someone added the user to their forward list.
pub fn reverse_added(out: &mut Out, dialect: Dialect, version: u64, handle: &str, name: &str) {
    if dialect.has_adc() {
        line!(out, "ADC 0 RL N={handle} F={name}");
    } else {
        line!(out, "ADD 0 RL {version} {handle} {name}");
    }
}

/// Someone removed the user from their forward list.
pub fn reverse_removed(out: &mut Out, dialect: Dialect, version: u64, handle: &str) {
    if dialect.has_list_versions() {
        line!(out, "REM 0 RL {version} {handle}");
    } else {
        line!(out, "REM 0 RL {handle}");
    }
}

/// Reply to `GTC`.
pub fn gtc(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: AddAlert) {
    if dialect.has_list_versions() {
        line!(out, "GTC {trid} {version} {value}");
    } else {
        line!(out, "GTC {trid} {value}");
    }
}

/// Reply to `BLP`.
pub fn blp(out: &mut Out, trid: u32, dialect: Dialect, version: u64, value: Privacy) {
    if dialect.has_list_versions() {
        line!(out, "BLP {trid} {version} {value}");
    } else {
        line!(out, "BLP {trid} {value}");
    }
}

/// Reply to `PRP`.
pub fn prp(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    version: u64,
    property: &str,
    value: Option<&str>,
) {
    let value = value.map(|v| format!(" {v}")).unwrap_or_default();
    if dialect.has_list_versions() {
        line!(out, "PRP {trid} {version} {property}{value}");
    } else {
        line!(out, "PRP {trid} {property}{value}");
    }
}

/// Reply to `ADG`. MSNP10+ uses the version-field form (`ADG t 1 name guid
/// 0`) because msnp11-sdk accepts nothing else (msnp8-12.md §5.7).
pub fn adg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    let GroupView { id, guid, name } = group;
    if dialect.has_adc() {
        line!(out, "ADG {trid} 1 {name} {guid} 0");
    } else {
        line!(out, "ADG {trid} {version} {name} {id} 0");
    }
}

/// Reply to `RMG`.
pub fn rmg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    if dialect.has_adc() {
        line!(out, "RMG {trid} 1 {}", group.guid);
    } else {
        line!(out, "RMG {trid} {version} {}", group.id);
    }
}

/// Reply to `REG`.
pub fn reg(out: &mut Out, trid: u32, dialect: Dialect, version: u64, group: GroupView<'_>) {
    let GroupView { id, guid, name } = group;
    if dialect.has_adc() {
        line!(out, "REG {trid} 1 {name} {guid} 0");
    } else {
        line!(out, "REG {trid} {version} {id} {name} 0");
    }
}

/// `QNG[ seconds]`.
pub fn qng(out: &mut Out, dialect: Dialect, interval_secs: u32) {
    if dialect.qng_has_interval() {
        line!(out, "QNG {interval_secs}");
    } else {
        line!(out, "QNG");
    }
}

/// `RNG` to an invitee (same form MSNP2–MSNP12).
pub fn rng(
    out: &mut Out,
    session_id: &str,
    sb_addr: &str,
    cookie: &str,
    inviter: &str,
    inviter_name: &str,
) {
    line!(
        out,
        "RNG {session_id} {sb_addr} CKI {cookie} {inviter} {inviter_name}"
    );
}

/// Reply to `URL`.
pub fn url(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    redirect: &str,
    login_url: &str,
    site_id: u32,
) {
    if dialect.url_has_site_id() {
        line!(out, "URL {trid} {redirect} {login_url} {site_id}");
    } else {
        line!(out, "URL {trid} {redirect} {login_url}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Dialect {
        Dialect::new(n).unwrap()
    }

    fn text(f: impl FnOnce(&mut Out)) -> String {
        let mut out = Out::new();
        f(&mut out);
        String::from_utf8(out.take().to_vec()).unwrap()
    }

    #[test]
    fn ver_forms() {
        assert_eq!(text(|o| ver(o, 1, d(2), true)), "VER 1 MSNP2 CVR0\r\n");
        assert_eq!(text(|o| ver(o, 1, d(7), false)), "VER 1 MSNP7\r\n");
        assert_eq!(text(|o| ver(o, 1, d(8), true)), "VER 1 MSNP8\r\n");
    }

    #[test]
    fn xfr_ns_forms() {
        let x = |n| text(|o| xfr_ns(o, 3, d(n), "10.0.0.2:1864", "10.0.0.1:1863"));
        assert_eq!(x(2), "XFR 3 NS 10.0.0.2:1864\r\n");
        assert_eq!(x(5), "XFR 3 NS 10.0.0.2:1864 0\r\n");
        assert_eq!(x(7), "XFR 3 NS 10.0.0.2:1864 0 10.0.0.1:1863\r\n");
        assert_eq!(x(12), "XFR 3 NS 10.0.0.2:1864 0 10.0.0.1:1863\r\n");
    }

    #[test]
    fn usr_ok_forms() {
        let u = |n| text(|o| usr_ok(o, 7, d(n), "a@b.com", "A", true));
        assert_eq!(u(5), "USR 7 OK a@b.com A\r\n");
        assert_eq!(u(7), "USR 7 OK a@b.com A 1\r\n");
        assert_eq!(u(8), "USR 7 OK a@b.com A 1 0\r\n");
        assert_eq!(u(10), "USR 7 OK a@b.com 1 0\r\n");
    }

    #[test]
    fn msnp2_profile_is_95_bytes() {
        let p = Profile {
            login_time: 1013928520,
            email_enabled: false,
            member_id_high: 1,
            member_id_low: 2,
            lcid: 1033,
            preferred_email: "",
            country: "",
            flags: 1027,
            kv: 2,
            mspauth: "x",
            client_ip: "127.0.0.1",
            client_port: 1071,
        };
        assert_eq!(profile_payload(d(2), &p).len(), 95);
        let p8 = profile_payload(d(8), &p);
        assert!(p8.contains("ClientPort: 12036\r\n"), "{p8}");
        assert!(p8.contains("PostalCode:\r\n"));
        assert!(!p8.contains("ABCHMigrated"));
        assert!(profile_payload(d(10), &p).ends_with("ABCHMigrated: 1\r\n\r\n"));
    }

    #[test]
    fn lst_forms() {
        assert_eq!(
            text(|o| lst_contact(o, d(8), "bob@x.com", "Bob", None, 11, Some("1"))),
            "LST bob@x.com Bob 11 1\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(8), "erin@x.com", "Erin", None, 8, None)),
            "LST erin@x.com Erin 8\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(10), "d@x.com", "Dave", Some("g-1"), 3, Some(""))),
            "LST N=d@x.com F=Dave C=g-1 3\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(12), "b@x.com", "Bob", Some("c"), 11, Some("g"))),
            "LST N=b@x.com F=Bob C=c 11 1 g\r\n"
        );
        assert_eq!(
            text(|o| lst_entry(
                o,
                8,
                ListKind::Forward,
                12,
                1,
                2,
                "b@x.com",
                "Bob",
                Some("0,1")
            )),
            "LST 8 FL 12 1 2 b@x.com Bob 0,1\r\n"
        );
    }

    #[test]
    fn presence_forms() {
        let p = PresenceView {
            status: Status::Busy,
            handle: "c@x.com",
            name: "Carol",
            capabilities: Some("1073791020"),
            msn_object: Some("%3Cmsnobj%2F%3E"),
        };
        assert_eq!(text(|o| iln(o, 9, d(7), &p)), "ILN 9 BSY c@x.com Carol\r\n");
        assert_eq!(
            text(|o| iln(o, 9, d(8), &p)),
            "ILN 9 BSY c@x.com Carol 1073791020\r\n"
        );
        assert_eq!(
            text(|o| nln(o, d(11), &p)),
            "NLN BSY c@x.com Carol 1073791020 %3Cmsnobj%2F%3E\r\n"
        );
        let none = PresenceView {
            capabilities: None,
            msn_object: None,
            ..p
        };
        assert_eq!(
            text(|o| nln(o, d(10), &none)),
            "NLN BSY c@x.com Carol 0\r\n"
        );
    }

    #[test]
    fn group_replies() {
        let g = GroupView {
            id: 2,
            guid: "7d2f",
            name: "Family",
        };
        assert_eq!(
            text(|o| adg(o, 11, d(7), 13, g)),
            "ADG 11 13 Family 2 0\r\n"
        );
        assert_eq!(
            text(|o| adg(o, 7, d(10), 13, g)),
            "ADG 7 1 Family 7d2f 0\r\n"
        );
        assert_eq!(text(|o| rmg(o, 7, d(11), 13, g)), "RMG 7 1 7d2f\r\n");
        assert_eq!(
            text(|o| reg(o, 14, d(7), 16, g)),
            "REG 14 16 2 Family 0\r\n"
        );
        assert_eq!(
            text(|o| reg(o, 11, d(10), 16, g)),
            "REG 11 1 Family 7d2f 0\r\n"
        );
    }

    #[test]
    fn settings_and_reverse() {
        assert_eq!(
            text(|o| blp(o, 16, d(10), 4, Privacy::BlockAll)),
            "BLP 16 BL\r\n"
        );
        assert_eq!(
            text(|o| gtc(o, 12, d(8), 43, AddAlert::DontAsk)),
            "GTC 12 43 N\r\n"
        );
        assert_eq!(
            text(|o| reverse_added(o, d(7), 16, "eve@x.com", "Eve")),
            "ADD 0 RL 16 eve@x.com Eve\r\n"
        );
        assert_eq!(
            text(|o| reverse_added(o, d(10), 16, "h@x.com", "Harry")),
            "ADC 0 RL N=h@x.com F=Harry\r\n"
        );
        assert_eq!(
            text(|o| reverse_removed(o, d(10), 16, "h@x.com")),
            "REM 0 RL h@x.com\r\n"
        );
        assert_eq!(text(|o| qng(o, d(8), 50)), "QNG\r\n");
        assert_eq!(text(|o| qng(o, d(9), 50)), "QNG 50\r\n");
    }
}
