//! The personal message document (`UUX`, MSNP11+): `<Data><PSM>…</PSM>
//! <CurrentMedia>…</CurrentMedia>…</Data>`. It is relayed to other users'
//! clients, so it is parsed with an XML library and re-written before it is
//! stored or sent: one `<Data>` root, no DOCTYPE, entity declarations or
//! processing instructions, nothing after the root, and no text that
//! spoofs other users ([`crate::text::is_spoofing`]).

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

use crate::text::is_spoofing;

/// Largest document accepted (bytes); real clients send far less.
pub const MAX_DOCUMENT: usize = 4096;

/// What a `UUX` document is about, by its root element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UuxKind {
    /// `<Data>`: personal message, current media, machine GUID… for
    /// watchers.
    Data,
    /// `<EndpointData>` (MSNP16+): this machine's capabilities.
    EndpointData,
    /// `<PrivateEndpointData>` (MSNP16+): this machine's name, idle state,
    /// client type and status, for the user's own other machines only.
    PrivateEndpointData,
}

impl UuxKind {
    fn of_root(name: &[u8]) -> Option<UuxKind> {
        Some(match name {
            b"Data" => UuxKind::Data,
            b"EndpointData" => UuxKind::EndpointData,
            b"PrivateEndpointData" => UuxKind::PrivateEndpointData,
            _ => return None,
        })
    }
}

/// The document as it is stored and relayed, or `None` if it is refused.
/// The XML declaration, comments and whitespace outside the root are
/// dropped; elements, attributes and text are kept as the client wrote
/// them (escaped).
pub fn normalize(document: &[u8]) -> Option<Vec<u8>> {
    match normalize_any(document)? {
        (UuxKind::Data, doc) => Some(doc),
        _ => None,
    }
}

/// Like [`normalize`], for any `UUX` document of MSNP16+ (`<Data>`,
/// `<EndpointData>`, `<PrivateEndpointData>`), with its kind.
pub fn normalize_any(document: &[u8]) -> Option<(UuxKind, Vec<u8>)> {
    if document.len() > MAX_DOCUMENT {
        return None;
    }
    let text = std::str::from_utf8(document).ok()?;
    let mut reader = Reader::from_str(text);
    let mut writer = Writer::new(Vec::with_capacity(document.len()));
    let mut depth = 0usize;
    let mut closed = false;
    let mut kind = None;
    loop {
        let event = reader.read_event().ok()?;
        match &event {
            Event::Eof => return kind.filter(|_| closed).map(|k| (k, writer.into_inner())),
            Event::DocType(_) | Event::PI(_) => return None,
            Event::Decl(_) | Event::Comment(_) => continue,
            Event::Start(e) | Event::Empty(e) => {
                if closed {
                    return None;
                }
                if depth == 0 {
                    kind = Some(UuxKind::of_root(e.name().as_ref())?);
                }
                for attribute in e.attributes() {
                    let value = attribute.ok()?.unescape_value().ok()?;
                    if value.chars().any(is_spoofing) {
                        return None;
                    }
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                } else if depth == 0 {
                    closed = true;
                }
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                closed = depth == 0;
            }
            Event::Text(t) => {
                // Unknown entities fail to unescape; character references
                // are checked as the characters they stand for.
                let value = t.unescape().ok()?;
                if depth == 0 {
                    if value.trim().is_empty() {
                        continue;
                    }
                    return None;
                }
                if value.chars().any(is_spoofing) {
                    return None;
                }
            }
            Event::CData(c) => {
                let value = std::str::from_utf8(c).ok()?;
                if depth == 0 || value.chars().any(is_spoofing) {
                    return None;
                }
            }
        }
        writer.write_event(event).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn ok(doc: &str) -> String {
        String::from_utf8(normalize(doc.as_bytes()).expect(doc)).unwrap()
    }

    #[test]
    fn documents_clients_send() {
        let doc = "<Data><PSM>At work</PSM><CurrentMedia></CurrentMedia></Data>";
        assert_eq!(ok(doc), doc);
        let doc = "<Data><PSM>a &amp; b</PSM><CurrentMedia/><MachineGuid>{1}</MachineGuid></Data>";
        assert_eq!(ok(doc), doc);
        // Declaration, comments and surrounding whitespace are dropped.
        assert_eq!(
            ok("<?xml version=\"1.0\"?>\r\n<Data><!-- x --><PSM>hi</PSM></Data>\r\n"),
            "<Data><PSM>hi</PSM></Data>"
        );
    }

    #[test]
    fn endpoint_documents() {
        use super::{UuxKind, normalize_any};
        let doc = "<EndpointData><Capabilities>2789003324:48</Capabilities></EndpointData>";
        assert_eq!(
            normalize_any(doc.as_bytes()),
            Some((UuxKind::EndpointData, doc.as_bytes().to_vec()))
        );
        let doc = "<PrivateEndpointData><EpName>HOME-PC</EpName><Idle>false</Idle>\
                   <ClientType>1</ClientType><State>NLN</State></PrivateEndpointData>";
        assert_eq!(
            normalize_any(doc.as_bytes()).map(|(k, _)| k),
            Some(UuxKind::PrivateEndpointData)
        );
        assert_eq!(normalize_any(b"<Other/>"), None);
        assert_eq!(
            normalize_any(
                b"<PrivateEndpointData><EpName>\xe2\x80\xaeX</EpName></PrivateEndpointData>"
            ),
            None
        );
    }

    #[test]
    fn refused_documents() {
        for bad in [
            "<Data><PSM>x</Data>",
            "<Other/>",
            "not xml",
            "<Data/><Data/>",
            "<Data></Data>junk",
            "<!DOCTYPE Data [<!ENTITY x \"y\">]><Data><PSM>&x;</PSM></Data>",
            "<Data><PSM>&x;</PSM></Data>",
            "<?php x?><Data/>",
            "<Data><PSM>evil\u{202E}moc</PSM></Data>",
            "<Data><PSM>evil&#x202E;moc</PSM></Data>",
            "<Data><PSM a=\"&#x2028;\"/></Data>",
        ] {
            assert!(normalize(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(normalize(b"\xff\xfe").is_none());
        // Endpoint documents are not personal messages.
        assert!(
            normalize(b"<EndpointData><Capabilities>1:0</Capabilities></EndpointData>").is_none()
        );
        let big = format!("<Data><PSM>{}</PSM></Data>", "a".repeat(5000));
        assert!(normalize(big.as_bytes()).is_none());
    }
}
