//! The `<ml>` documents of MSNP13+ (`ADL`, `RML`, `FQY`):
//! `<ml l="1"><d n="example.com"><c n="bob" l="3" t="1"/></d></ml>` —
//! contacts grouped by domain, each with its list bits (`l`) and network
//! (`t`). Parsed with an XML library, strictly: the clients write them
//! without whitespace, each domain once, and the real service refused
//! anything else.

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};

use crate::handle::Handle;
use crate::network::NetworkId;

/// One contact of a list document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlContact {
    pub handle: Handle,
    /// List bits (FL 1, AL 2, BL 4, RL 8, PL 16); 0 when `l` is absent
    /// (`FQY`).
    pub lists: u8,
    /// `t`, when given.
    pub network: Option<NetworkId>,
}

/// A parsed document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MembershipList {
    /// `<ml l="1">`: the client's initial list after signing in.
    pub initial: bool,
    pub contacts: Vec<MlContact>,
}

/// Why a document is refused; each maps to the error code the real
/// service answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MlError {
    /// Not a well-formed `<ml>` document of this shape (`241`).
    Invalid,
    /// A `<d>` without contacts (`240`).
    EmptyDomain,
    /// A `t` that names no network (`204`).
    UnknownNetwork,
    /// A handle that is not an address (`201`).
    BadHandle,
    /// More contacts than allowed in one document (`241`).
    TooMany,
}

impl MlError {
    pub fn code(self) -> u16 {
        match self {
            MlError::Invalid | MlError::TooMany => 241,
            MlError::EmptyDomain => 240,
            MlError::UnknownNetwork => 204,
            MlError::BadHandle => 201,
        }
    }
}

/// Parses an `<ml>` document of at most `max_contacts` contacts.
pub fn parse(document: &[u8], max_contacts: usize) -> Result<MembershipList, MlError> {
    let text = std::str::from_utf8(document).map_err(|_| MlError::Invalid)?;
    let mut reader = Reader::from_str(text);
    let mut list = MembershipList::default();
    // Where we are: 0 outside, 1 in <ml>, 2 in <d>.
    let mut depth = 0;
    let mut domain = String::new();
    let mut domain_contacts = 0;
    let mut domains_seen: Vec<String> = Vec::new();
    let mut root_closed = false;
    loop {
        let event = reader.read_event().map_err(|_| MlError::Invalid)?;
        let trailing_space =
            matches!(&event, Event::Text(t) if t.iter().all(u8::is_ascii_whitespace));
        if root_closed && !matches!(event, Event::Eof) && !trailing_space {
            return Err(MlError::Invalid);
        }
        match event {
            Event::Eof if root_closed => return Ok(list),
            Event::Eof => return Err(MlError::Invalid),
            Event::Start(e) if depth == 0 && e.name().as_ref() == b"ml" => {
                list.initial = attribute(&e, b"l")?.as_deref() == Some("1");
                depth = 1;
            }
            Event::Empty(e) if depth == 0 && e.name().as_ref() == b"ml" => {
                list.initial = attribute(&e, b"l")?.as_deref() == Some("1");
                root_closed = true;
            }
            // Whitespace between elements: no client is known to send it,
            // and it changes nothing.
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            Event::Start(e) if depth == 1 && e.name().as_ref() == b"d" => {
                domain = attribute(&e, b"n")?.ok_or(MlError::Invalid)?;
                if domain.is_empty() || domains_seen.contains(&domain) {
                    return Err(MlError::Invalid);
                }
                domains_seen.push(domain.clone());
                domain_contacts = 0;
                depth = 2;
            }
            Event::Empty(e) if depth == 1 && e.name().as_ref() == b"d" => {
                return Err(MlError::EmptyDomain);
            }
            Event::Empty(e) if depth == 2 && e.name().as_ref() == b"c" => {
                let local = attribute(&e, b"n")?.ok_or(MlError::Invalid)?;
                let handle =
                    Handle::parse(&format!("{local}@{domain}")).map_err(|_| MlError::BadHandle)?;
                let lists = match attribute(&e, b"l")? {
                    Some(l) => l.parse().map_err(|_| MlError::Invalid)?,
                    None => 0,
                };
                let network = match attribute(&e, b"t")? {
                    Some(t) => Some(NetworkId::parse(&t).ok_or(MlError::UnknownNetwork)?),
                    None => None,
                };
                if list.contacts.len() == max_contacts {
                    return Err(MlError::TooMany);
                }
                list.contacts.push(MlContact {
                    handle,
                    lists,
                    network,
                });
                domain_contacts += 1;
            }
            Event::End(e) if depth == 2 && e.name().as_ref() == b"d" => {
                if domain_contacts == 0 {
                    return Err(MlError::EmptyDomain);
                }
                depth = 1;
            }
            Event::End(e) if depth == 1 && e.name().as_ref() == b"ml" => {
                depth = 0;
                root_closed = true;
            }
            // Phone (`<t>`) entries, text, declarations, DOCTYPE, anything
            // else: not a document this server accepts.
            _ => return Err(MlError::Invalid),
        }
    }
}

/// An attribute's unescaped value; a malformed attribute list is invalid.
fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, MlError> {
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|_| MlError::Invalid)?;
        if attribute.key.as_ref() == name {
            let value = attribute.unescape_value().map_err(|_| MlError::Invalid)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// One contact of a document the server writes.
#[derive(Clone, Debug)]
pub struct MlEntry<'a> {
    pub handle: &'a Handle,
    pub network: NetworkId,
    /// List bits; `None` leaves `l` out (`FQY` answers).
    pub lists: Option<u8>,
    /// `f`: the contact's friendly name, already URL-encoded as the NS
    /// sends names (`ADL 0` notices).
    pub name: Option<&'a str>,
}

/// Writes an `<ml>` document: one `<d>` per domain, in first-seen order.
pub fn render(entries: &[MlEntry<'_>]) -> String {
    let mut domains: Vec<(&str, Vec<&MlEntry<'_>>)> = Vec::new();
    for entry in entries {
        let domain = entry.handle.domain();
        match domains.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, list)) => list.push(entry),
            None => domains.push((domain, vec![entry])),
        }
    }
    let mut out = String::from("<ml>");
    for (domain, contacts) in domains {
        let _ = write!(out, r#"<d n="{}">"#, escape(domain));
        for c in contacts {
            let _ = write!(
                out,
                r#"<c n="{}" t="{}""#,
                escape(c.handle.local_part()),
                c.network.code()
            );
            if let Some(l) = c.lists {
                let _ = write!(out, r#" l="{l}""#);
            }
            // The friendly name URL-encoded, as in the NS commands.
            if let Some(name) = c.name {
                let encoded = msn_wire::name::encode(name);
                let _ = write!(out, r#" f="{}""#, escape(encoded.as_ref()));
            }
            out.push_str("/>");
        }
        out.push_str("</d>");
    }
    out.push_str("</ml>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    #[test]
    fn initial_list() {
        let doc = br#"<ml l="1"><d n="example.com"><c n="bob" l="3" t="1"/><c n="carol" l="1" t="1"/></d></ml>"#;
        let list = parse(doc, 100).unwrap();
        assert!(list.initial);
        assert_eq!(
            list.contacts,
            [
                MlContact {
                    handle: h("bob@example.com"),
                    lists: 3,
                    network: Some(NetworkId::Passport)
                },
                MlContact {
                    handle: h("carol@example.com"),
                    lists: 1,
                    network: Some(NetworkId::Passport)
                },
            ]
        );
        assert_eq!(parse(br#"<ml l="1"></ml>"#, 100).unwrap().contacts, []);
        assert!(parse(br#"<ml l="1"/>"#, 100).unwrap().initial);
        assert_eq!(
            parse(b"<ml> <d n=\"x.com\"><c n=\"a\" l=\"1\"/></d></ml>\r\n", 1)
                .unwrap()
                .contacts
                .len(),
            1
        );
        let fqy = parse(br#"<ml><d n="example.com"><c n="frank"/></d></ml>"#, 1).unwrap();
        assert!(!fqy.initial);
        assert_eq!(fqy.contacts[0].lists, 0);
        assert_eq!(fqy.contacts[0].network, None);
    }

    #[test]
    fn refused_documents() {
        let err = |doc: &str| parse(doc.as_bytes(), 2).unwrap_err();
        assert_eq!(err(r#"<ml><d n="x.com"></d></ml>"#), MlError::EmptyDomain);
        assert_eq!(err(r#"<ml><d n="x.com"/></ml>"#), MlError::EmptyDomain);
        assert_eq!(
            err(r#"<ml><d n="x.com"><c n="a" l="1" t="7"/></d></ml>"#),
            MlError::UnknownNetwork
        );
        assert_eq!(
            err(r#"<ml><d n="x.com"><c n="a b" l="1" t="1"/></d></ml>"#),
            MlError::BadHandle
        );
        assert_eq!(
            err(r#"<ml><d n="x.com"><c n="a" l="1"/><c n="b" l="1"/><c n="c" l="1"/></d></ml>"#),
            MlError::TooMany
        );
        for doc in [
            "",
            "<ml>",
            "not xml",
            r#"<ml><d n="x.com"><c n="a" l="1"/></d></ml><ml/>"#,
            r#"<ml><d n="x.com"><c n="a" l="1"/></d><d n="x.com"><c n="b" l="1"/></d></ml>"#,
            r#"<ml>text<d n="x.com"><c n="a" l="1"/></d></ml>"#,
            r#"<!DOCTYPE ml><ml></ml>"#,
            r#"<ml><d n="x.com"><c n="a" l="x"/></d></ml>"#,
            r#"<ml><d><c n="a" l="1"/></d></ml>"#,
            r#"<ml><t><c n="tel:+15550100" l="1"/></t></ml>"#,
            r#"<ml><d n="x.com"><c n="a" l="1"><c n="b"/></c></d></ml>"#,
            r#"<other/>"#,
        ] {
            assert_eq!(err(doc), MlError::Invalid, "{doc}");
        }
    }

    #[test]
    fn rendered_documents() {
        let (erin, bob) = (h("erin@example.com"), h("bob@other.net"));
        let doc = render(&[
            MlEntry {
                handle: &erin,
                network: NetworkId::Passport,
                lists: Some(8),
                name: Some("Erin E"),
            },
            MlEntry {
                handle: &bob,
                network: NetworkId::Passport,
                lists: None,
                name: None,
            },
        ]);
        assert_eq!(
            doc,
            r#"<ml><d n="example.com"><c n="erin" t="1" l="8" f="Erin%20E"/></d><d n="other.net"><c n="bob" t="1"/></d></ml>"#
        );
        let back = parse(doc.as_bytes(), 10).unwrap();
        assert_eq!(back.contacts[0].handle, erin);
    }
}
