//! The storage service's wire format (`POST
//! /storageservice/SchematizedStore.asmx`, msnp13-18.md §6,
//! soap/getprofile.md): the roaming profile's `GetProfile` and
//! `UpdateProfile`, SOAP 1.1, in either namespace clients use — `w10`
//! (WLM 8.x, BitlBee) or `2008` (WLM 2009, msnp-sharp) — and answered in
//! the request's.
//!
//! Clients need the profile to finish signing in: BitlBee waits for the
//! `GetProfile` answer and then takes its display name from it; msnp-sharp
//! starts creating a profile (calls msnd does not serve) when it fails.
//! The profile is the account's own name and personal message — nothing
//! is stored for it alone — and has no photo (an empty `DocumentStreams`).
//!
//! Parsing is namespace-aware and prefix-agnostic; replies use the
//! prefixes of soap/getprofile.md (BitlBee matches qualified names) and no
//! whitespace between elements.

use std::fmt;

use quick_xml::escape::escape;
use time::OffsetDateTime;

use crate::rst::{random_base64, utc};
use crate::soap_xml::{self, Element};

const SOAP11: &[u8] = crate::soap_xml::SOAP11_NS.as_bytes();

/// The replies' `Content-Type` (SOAP 1.1).
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The schema version a request was written in; the reply uses the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// `http://www.msn.com/webservices/storage/w10` (WLM 8.x, BitlBee).
    W10,
    /// `http://www.msn.com/webservices/storage/2008` (WLM 2009,
    /// msnp-sharp).
    V2008,
}

impl Schema {
    pub fn namespace(self) -> &'static str {
        match self {
            Schema::W10 => "http://www.msn.com/webservices/storage/w10",
            Schema::V2008 => "http://www.msn.com/webservices/storage/2008",
        }
    }

    fn of(ns: &[u8]) -> Option<Schema> {
        [Schema::W10, Schema::V2008]
            .into_iter()
            .find(|s| s.namespace().as_bytes() == ns)
    }
}

/// A parsed storage request: what the two supported operations read.
#[derive(Debug, Default)]
pub struct Request {
    /// The namespace of the operation element; `None` for a request in
    /// neither (answered in the 2008 one).
    pub schema: Option<Schema>,
    /// The local name of the first element of `Body` (`GetProfile`,
    /// `UpdateProfile`, `FindDocuments` …).
    pub action: String,
    /// `StorageUserHeader/TicketToken`, XML-unescaped.
    pub ticket: Option<String>,
    /// `AffinityCacheHeader/CacheKey`, echoed back.
    pub cache_key: Option<String>,
    /// `GetProfile`'s `profileHandle/Alias`: `Name` (the CID, decimal) and
    /// `NameSpace` (`MyCidStuff`).
    pub alias_name: Option<String>,
    pub alias_namespace: Option<String>,
    /// `UpdateProfile`'s `profile/ResourceID`.
    pub resource_id: Option<String>,
    /// `UpdateProfile`'s `profile/ExpressionProfile/DisplayName`, as text.
    pub display_name: Option<String>,
    /// `UpdateProfile`'s `profile/ExpressionProfile/PersonalStatus`.
    pub personal_status: Option<String>,
}

/// Why a body was not understood (debug logs only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidRequest(pub &'static str);

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Parses a storage request (with [`crate::soap_xml`], as the address
/// book's requests are). Only the fields above are read; whatever else is
/// in it (`StorageApplicationHeader`, `profileAttributes`, `FreeText`,
/// `Flags`) is skipped, and so are elements outside the SOAP and storage
/// namespaces.
pub fn parse_request(body: &[u8]) -> Result<Request, InvalidRequest> {
    let root = soap_xml::parse(body).map_err(|e| {
        InvalidRequest(if e == "no root element" {
            "no complete SOAP envelope"
        } else {
            "not well-formed XML"
        })
    })?;
    let soap = |e: &Element| e.ns.as_deref().map(str::as_bytes) == Some(SOAP11);
    if !(soap(&root) && root.name == "Envelope") {
        return Err(InvalidRequest("root is not a SOAP 1.1 envelope"));
    }
    let part = |name: &str| root.children.iter().find(|e| soap(e) && e.name == name);
    let operation = part("Body")
        .and_then(|body| body.children.first())
        .ok_or(InvalidRequest("empty Body"))?;
    let mut request = Request {
        schema: operation
            .ns
            .as_deref()
            .and_then(|ns| Schema::of(ns.as_bytes())),
        action: operation.name.clone(),
        ..Request::default()
    };
    let header = part("Header");
    request.ticket = field(header, &["StorageUserHeader", "TicketToken"])?;
    request.cache_key = field(header, &["AffinityCacheHeader", "CacheKey"])?;
    let (alias, profile) = match request.action.as_str() {
        "GetProfile" => (Some(operation), None),
        "UpdateProfile" => (None, Some(operation)),
        _ => (None, None),
    };
    request.alias_name = field(alias, &["profileHandle", "Alias", "Name"])?;
    request.alias_namespace = field(alias, &["profileHandle", "Alias", "NameSpace"])?;
    request.resource_id = field(profile, &["profile", "ResourceID"])?;
    request.display_name = field(profile, &["profile", "ExpressionProfile", "DisplayName"])?;
    request.personal_status = field(profile, &["profile", "ExpressionProfile", "PersonalStatus"])?;
    // Tickets and ids never have surrounding whitespace; a pretty-printing
    // client may add some.
    for field in [
        &mut request.ticket,
        &mut request.alias_name,
        &mut request.alias_namespace,
        &mut request.resource_id,
    ]
    .into_iter()
    .flatten()
    {
        *field = field.trim().to_owned();
    }
    Ok(request)
}

/// The text of the storage-namespace element at `path` below `from`, if
/// there is exactly one; a repeated one is refused.
fn field(from: Option<&Element>, path: &[&str]) -> Result<Option<String>, InvalidRequest> {
    let ours = |e: &&Element| {
        e.ns.as_deref()
            .is_some_and(|ns| Schema::of(ns.as_bytes()).is_some())
    };
    let Some((last, parents)) = path.split_last() else {
        return Ok(None);
    };
    let mut at = from;
    for step in parents {
        at = at.and_then(|e| e.children_named(step).find(ours));
    }
    let mut found = at
        .into_iter()
        .flat_map(|e| e.children_named(last))
        .filter(ours);
    let first = found.next();
    if found.next().is_some() {
        return Err(InvalidRequest("repeated element"));
    }
    Ok(first.map(|e| e.text.clone()))
}

/// The user's profile as `GetProfile` returns it.
pub struct Profile<'a> {
    /// The CID (msnd's PUID, see [`crate::rst::puid`]).
    pub cid: u64,
    /// The display name, decoded text.
    pub display_name: &'a str,
    /// The personal message, text.
    pub personal_status: &'a str,
}

/// The profile's resource id, `<CID in 16 hex digits>!106`: what
/// `GetProfile` names the profile and `UpdateProfile` sends back.
pub fn resource_id(cid: u64) -> String {
    format!("{cid:016x}!106")
}

/// `AffinityCacheHeader` with the client's cache key, or a new one.
fn envelope_start(schema: Schema, cache_key: Option<&str>) -> String {
    let key = match cache_key {
        Some(key) if !key.is_empty() => escape(key).into_owned(),
        _ => format!("12r1:{}", random_base64(24)),
    };
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">"#,
            r#"<soap:Header><AffinityCacheHeader xmlns="{ns}"><CacheKey>{key}</CacheKey></AffinityCacheHeader></soap:Header>"#,
        ),
        ns = schema.namespace(),
        key = key,
    )
}

/// The `GetProfile` reply (soap/getprofile.md): resource ids with the
/// suffixes both working servers send, the name and personal message, no
/// photo. msnd keeps no modification dates for them; `now` stands in
/// (the clients are not known to compare them).
pub fn get_profile(
    schema: Schema,
    cache_key: Option<&str>,
    profile: &Profile<'_>,
    now: OffsetDateTime,
) -> String {
    let cid = profile.cid;
    let date = utc(now);
    let mut out = envelope_start(schema, cache_key);
    out.push_str(&format!(
        concat!(
            r#"<soap:Body><GetProfileResponse xmlns="{ns}"><GetProfileResult>"#,
            r#"<ResourceID>{resource}</ResourceID><DateModified>{date}</DateModified>"#,
            r#"<ExpressionProfile><ResourceID>{cid:016x}!118</ResourceID><DateModified>{date}</DateModified><Version>205</Version>"#,
            r#"<Photo><ResourceID>{cid:016x}!205</ResourceID><DocumentStreams></DocumentStreams></Photo>"#,
            r#"<PersonalStatus>{psm}</PersonalStatus><PersonalStatusLastModified>{date}</PersonalStatusLastModified>"#,
            r#"<DisplayName>{name}</DisplayName><DisplayNameLastModified>{date}</DisplayNameLastModified>"#,
            r#"</ExpressionProfile></GetProfileResult></GetProfileResponse></soap:Body></soap:Envelope>"#,
        ),
        ns = schema.namespace(),
        resource = resource_id(cid),
        cid = cid,
        date = date,
        psm = escape(profile.personal_status),
        name = escape(profile.display_name),
    ));
    out
}

/// The `UpdateProfile` reply: an empty `UpdateProfileResponse`.
pub fn update_profile(schema: Schema, cache_key: Option<&str>) -> String {
    let mut out = envelope_start(schema, cache_key);
    out.push_str(&format!(
        r#"<soap:Body><UpdateProfileResponse xmlns="{}"></UpdateProfileResponse></soap:Body></soap:Envelope>"#,
        schema.namespace()
    ));
    out
}

/// The faults this service sends, each with HTTP 500 (the SOAP 1.1 rule;
/// BitlBee only reads a fault's `errorcode` with that status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No ticket, or one that is unknown, expired or for another service:
    /// the address book's `PassportAuthFail` (soap/README.md,
    /// "Authentication"), on which BitlBee runs RST again and retries.
    AuthFailed,
    /// Another user's profile (soap/getprofile.md).
    AccessDenied,
    /// A display name or personal message msnd does not accept (empty,
    /// too long, control or spoofing characters — the NS's rules).
    InvalidArgument,
    /// A body that is not a storage request.
    InvalidRequest,
    /// An operation msnd does not serve (documents, display pictures,
    /// relationships, creating profiles).
    NotImplemented,
    /// The store failed; nothing was changed.
    ServerError,
}

impl Fault {
    fn code_and_text(self) -> (&'static str, &'static str) {
        match self {
            Fault::AuthFailed => ("PassportAuthFail", "Authentication failed"),
            Fault::AccessDenied => ("AccessDenied", "Access Denied"),
            Fault::InvalidArgument => ("InvalidArgument", "Invalid argument"),
            Fault::InvalidRequest => ("InvalidRequest", "Invalid Request"),
            Fault::NotImplemented => ("NotImplemented", "Not implemented"),
            Fault::ServerError => ("InternalError", "Internal error"),
        }
    }

    /// The fault document for `action` in `schema` (soap/getprofile.md's
    /// shape: `soap:Client` or `soap:Server`, `faultactor` the action
    /// URI, `errorcode` and `errorstring` in the storage namespace).
    pub fn render(self, schema: Schema, action: &str) -> String {
        let (code, text) = self.code_and_text();
        let faultcode = match self {
            Fault::ServerError => "soap:Server",
            _ => "soap:Client",
        };
        format!(
            concat!(
                r#"<?xml version="1.0" encoding="utf-8"?>"#,
                r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">"#,
                r#"<soap:Body><soap:Fault><faultcode>{faultcode}</faultcode><faultstring>{text}</faultstring>"#,
                r#"<faultactor>{ns}/{action}</faultactor>"#,
                r#"<detail><errorcode xmlns="{ns}">{code}</errorcode><errorstring xmlns="{ns}">{text}</errorstring></detail>"#,
                r#"</soap:Fault></soap:Body></soap:Envelope>"#,
            ),
            faultcode = faultcode,
            text = text,
            ns = schema.namespace(),
            action = escape(action),
            code = code,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;

    const GET: &str = include_str!("../tests/data/getprofile-request.xml");

    #[test]
    fn the_documented_request() {
        let r = parse_request(GET.as_bytes()).unwrap();
        assert_eq!(r.schema, Some(Schema::V2008));
        assert_eq!(r.action, "GetProfile");
        assert_eq!(
            r.ticket.as_deref(),
            Some("t=In7gceTj/wR4dIRU8br0BpWglVPFjI7GU9yd$$&p=")
        );
        assert_eq!(
            r.cache_key.as_deref(),
            Some("12r1:Pq7Rs2Tu9Vw4Xy1Za6Bc3De8Fg5Hi0Jk")
        );
        assert_eq!(r.alias_name.as_deref(), Some("7233009801789148281"));
        assert_eq!(r.alias_namespace.as_deref(), Some("MyCidStuff"));
        let w10 = GET.replace("storage/2008", "storage/w10");
        assert_eq!(
            parse_request(w10.as_bytes()).unwrap().schema,
            Some(Schema::W10)
        );
        // Elements outside the storage namespaces are not read.
        let other = GET.replace(
            r#"<StorageUserHeader xmlns="http://www.msn.com/webservices/storage/2008">"#,
            r#"<StorageUserHeader xmlns="urn:other">"#,
        );
        assert_eq!(parse_request(other.as_bytes()).unwrap().ticket, None);
    }

    #[test]
    fn the_update_profile_request() {
        let body = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><StorageUserHeader xmlns="http://www.msn.com/webservices/storage/w10"><Puid>0</Puid><TicketToken>t=a&amp;p=</TicketToken></StorageUserHeader></s:Header><s:Body><st:UpdateProfile xmlns:st="http://www.msn.com/webservices/storage/w10"><st:profile><st:ResourceID>0000000100000001!106</st:ResourceID><st:ExpressionProfile><st:FreeText>Update</st:FreeText><st:DisplayName>A &amp; B</st:DisplayName><st:PersonalStatus><![CDATA[<hi>]]></st:PersonalStatus><st:Flags>0</st:Flags></st:ExpressionProfile></st:profile></st:UpdateProfile></s:Body></s:Envelope>"#;
        let r = parse_request(body.as_bytes()).unwrap();
        assert_eq!(r.schema, Some(Schema::W10));
        assert_eq!(r.action, "UpdateProfile");
        assert_eq!(r.ticket.as_deref(), Some("t=a&p="));
        assert_eq!(r.resource_id.as_deref(), Some("0000000100000001!106"));
        assert_eq!(r.display_name.as_deref(), Some("A & B"));
        assert_eq!(r.personal_status.as_deref(), Some("<hi>"));
        assert_eq!(resource_id(0x0000_0001_0000_0001), "0000000100000001!106");
    }

    #[test]
    fn rejects() {
        for (body, reason) in [
            ("", "no complete SOAP envelope"),
            ("<x/>", "root is not a SOAP 1.1 envelope"),
            (
                r#"<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><GetProfile/></Body></Envelope>"#,
                "root is not a SOAP 1.1 envelope",
            ),
            (
                r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body></Body></Envelope>"#,
                "empty Body",
            ),
            (&GET[..GET.len() / 2], "not well-formed XML"),
        ] {
            assert_eq!(
                parse_request(body.as_bytes()).unwrap_err(),
                InvalidRequest(reason),
                "{body}"
            );
        }
        let twice = GET.replace("<Puid>0</Puid>", "<TicketToken>x</TicketToken>");
        assert_eq!(
            parse_request(twice.as_bytes()).unwrap_err(),
            InvalidRequest("repeated element")
        );
    }

    #[test]
    fn replies_escape_and_parse() {
        let now = OffsetDateTime::from_unix_timestamp(1_243_794_600).unwrap();
        let body = get_profile(
            Schema::W10,
            None,
            &Profile {
                cid: 0x6460d017b48f8c79,
                display_name: "A <&> B",
                personal_status: "",
            },
            now,
        );
        assert!(body.contains("<ResourceID>6460d017b48f8c79!106</ResourceID>"));
        assert!(body.contains("<DisplayName>A &lt;&amp;&gt; B</DisplayName>"));
        assert!(body.contains("<DateModified>2009-05-31T18:30:00Z</DateModified>"));
        assert!(body.contains(
            r#"<GetProfileResponse xmlns="http://www.msn.com/webservices/storage/w10">"#
        ));
        for doc in [
            body,
            update_profile(Schema::V2008, Some("k<")),
            Fault::AuthFailed.render(Schema::V2008, "Get<Profile"),
        ] {
            let mut reader = quick_xml::Reader::from_str(&doc);
            while !matches!(reader.read_event().unwrap(), Event::Eof) {}
        }
    }
}
