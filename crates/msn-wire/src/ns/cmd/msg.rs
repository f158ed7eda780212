//! Server `MSG`s on the NS: the profile after sign-in and mail notices.
//! (A client `MSG` on the NS has no TrID and is parsed in [`super`].)

use crate::dialect::Dialect;
use crate::mail_data::{self, OimEntry};
use crate::out::Out;

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
            if name == "kv" && !dialect.profile_has_key_version() {
                continue;
            }
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
    if dialect.profile_has_mpop() {
        push_header(&mut s, "MPOPEnabled", "1");
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

/// What the sign-in summary says about waiting offline messages.
#[derive(Clone, Copy, Debug)]
pub enum MailData<'a> {
    /// Every waiting message, in arrival order.
    List(&'a [OimEntry<'a>]),
    /// Too many to list: the client asks the RSI service (`GetMetadata`).
    TooLarge,
}

/// The offline-message summary MSNP13+ clients get after sign-in
/// (`text/x-msmsgsinitialmdatanotification`): `Mail-Data` with the
/// waiting messages ([`mail_data::document`]) or `too-large`.
pub fn initial_mail_data_payload(data: MailData<'_>) -> String {
    mail_data_payload("text/x-msmsgsinitialmdatanotification", data)
}

/// The notice of a new offline message while signed in
/// (`text/x-msmsgsoimnotification`), listing that message.
pub fn oim_notification_payload(oim: &OimEntry<'_>) -> String {
    mail_data_payload(
        "text/x-msmsgsoimnotification",
        MailData::List(std::slice::from_ref(oim)),
    )
}

fn mail_data_payload(content_type: &str, data: MailData<'_>) -> String {
    let md = match data {
        MailData::List(oims) => mail_data::document(oims),
        MailData::TooLarge => "too-large".to_owned(),
    };
    format!(
        "MIME-Version: 1.0\r\nContent-Type: {content_type}; charset=UTF-8\r\n\r\nMail-Data: {md}\r\n"
    )
}

/// The notice that `count` offline messages were deleted
/// (`text/x-msmsgsactivemailnotification`: moved from the OIM folder to
/// the trash).
pub fn oims_deleted_payload(count: usize) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\n\
         Src-Folder: .!!OIM\r\nDest-Folder: .!!trAsH\r\nMessage-Delta: {count}\r\n"
    )
}

/// The system message "the server is going down for maintenance in
/// `minutes` minutes" (`text/x-msmsgssystemmessage`, `Type: 1`), which
/// every client version shows in a dialog; sent as `MSG Hotmail Hotmail`.
pub fn shutdown_warning_payload(minutes: u32) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgssystemmessage\r\n\r\nType: 1\r\nArg1: {minutes}\r\n"
    )
}

/// The initial e-mail notification payload (MSNP8+ with e-mail on).
pub fn initial_mail_payload(inbox_url: &str, post_url: &str) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialemailnotification; charset=UTF-8\r\n\r\n\
         Inbox-Unread: 0\r\nFolders-Unread: 0\r\nInbox-URL: {inbox_url}\r\nFolders-URL: /cgi-bin/folders\r\n\
         Post-URL: {post_url}\r\n\r\n"
    )
}
