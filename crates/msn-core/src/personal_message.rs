//! The personal message document (`UUX`, MSNP11+): `<Data><PSM>…</PSM>
//! <CurrentMedia>…</CurrentMedia>…</Data>`. It is relayed to other users'
//! clients, so it is parsed with an XML library and re-written before it is
//! stored or sent: one `<Data>` root, no DOCTYPE, entity declarations or
//! processing instructions, nothing after the root, and no text that
//! spoofs other users ([`crate::text::is_spoofing`]).

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

use crate::text::is_spoofing;

/// The document of a user who never sent one: what receivers are shown
/// (with each version's other elements written empty, see [`project`]).
pub const EMPTY: &[u8] = b"<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>";

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

/// A stored `<Data>` document as one receiver is shown it: the `elements`
/// (name, written empty when absent) in that order, each copied byte for
/// byte from `document`, then `extra` (endpoint elements) before `</Data>`.
/// Elements the receiver's version does not know are left out, so each
/// version sees the document its own clients would have sent. A document
/// that does not parse gives just the always-written elements.
pub fn project(document: &[u8], elements: &[(&str, bool)], extra: Option<&[u8]>) -> Vec<u8> {
    let found = top_level_elements(document);
    let mut out = Vec::with_capacity(document.len() + extra.map_or(0, <[u8]>::len) + 64);
    out.extend_from_slice(b"<Data>");
    for (name, always) in elements {
        match found.iter().find(|(n, _)| n.as_slice() == name.as_bytes()) {
            Some((_, raw)) => out.extend_from_slice(raw),
            None if *always => {
                out.extend_from_slice(format!("<{name}></{name}>").as_bytes());
            }
            None => {}
        }
    }
    if let Some(extra) = extra {
        out.extend_from_slice(extra);
    }
    out.extend_from_slice(b"</Data>");
    out
}

/// The children of the root element, each as (name, its raw bytes).
fn top_level_elements(document: &[u8]) -> Vec<(Vec<u8>, &[u8])> {
    let mut reader = Reader::from_reader(document);
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut name = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        let Ok(event) = reader.read_event() else {
            return found;
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth == 2 {
                    start = before;
                    name = e.name().as_ref().to_vec();
                }
            }
            Event::Empty(e) if depth == 1 => {
                let end = reader.buffer_position() as usize;
                found.push((e.name().as_ref().to_vec(), &document[before..end]));
            }
            Event::End(_) => {
                if depth == 2 {
                    let end = reader.buffer_position() as usize;
                    found.push((std::mem::take(&mut name), &document[start..end]));
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => return found,
            _ => {}
        }
    }
}

/// The text of the document's `<PSM>` (the personal message shown under
/// the name), unescaped; `None` when the document has none or is not
/// well-formed.
pub fn psm(document: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(document);
    reader.config_mut().expand_empty_elements = true;
    let mut depth = 0usize;
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                inside = depth == 2 && e.name().as_ref() == b"PSM";
            }
            Event::End(_) => {
                if inside {
                    return Some(text);
                }
                depth = depth.checked_sub(1)?;
            }
            Event::Text(t) if inside => text.push_str(&t.unescape().ok()?),
            Event::CData(c) if inside => text.push_str(std::str::from_utf8(&c).ok()?),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// `document` (or an empty one) with its `<PSM>` set to `text`, every other
/// element kept (the current media, the machine GUID …): what a personal
/// message set elsewhere than `UUX` (the storage service's
/// `UpdateProfile`) is stored and relayed as. `None` when `text` or the
/// result would not pass [`normalize`].
pub fn with_psm(document: Option<&[u8]>, text: &str) -> Option<Vec<u8>> {
    use quick_xml::events::{BytesEnd, BytesStart, BytesText};
    let base: &[u8] = match document {
        Some(d) if normalize(d).is_some() => d,
        _ => EMPTY,
    };
    let mut reader = Reader::from_reader(base);
    reader.config_mut().expand_empty_elements = true;
    let mut writer = Writer::new(Vec::with_capacity(base.len() + text.len()));
    let mut depth = 0usize;
    let mut inside = false;
    let mut written = false;
    let psm = |w: &mut Writer<Vec<u8>>| -> Option<()> {
        w.write_event(Event::Start(BytesStart::new("PSM"))).ok()?;
        w.write_event(Event::Text(BytesText::new(text))).ok()?;
        w.write_event(Event::End(BytesEnd::new("PSM"))).ok()
    };
    loop {
        let event = reader.read_event().ok()?;
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                if depth == 2 && e.name().as_ref() == b"PSM" && !written {
                    inside = true;
                    continue;
                }
            }
            Event::End(_) if inside => {
                inside = false;
                depth -= 1;
                psm(&mut writer)?;
                written = true;
                continue;
            }
            Event::End(_) => {
                if depth == 1 && !written {
                    psm(&mut writer)?;
                    written = true;
                }
                depth = depth.checked_sub(1)?;
            }
            _ if inside => continue,
            _ => {}
        }
        writer.write_event(event).ok()?;
    }
    normalize(&writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::{normalize, project, psm, with_psm};

    #[test]
    fn projects_each_version_its_elements() {
        let wlm85 = b"<Data><PSM>a &amp; b</PSM><CurrentMedia></CurrentMedia><MachineGuid>{1}</MachineGuid></Data>";
        let msnp18: &[(&str, bool)] = &[
            ("PSM", true),
            ("CurrentMedia", true),
            ("MachineGuid", false),
            ("DDP", true),
            ("ColorScheme", true),
        ];
        let got = project(wlm85, msnp18, Some(b"<EndpointData/>"));
        assert_eq!(
            got,
            b"<Data><PSM>a &amp; b</PSM><CurrentMedia></CurrentMedia><MachineGuid>{1}</MachineGuid><DDP></DDP><ColorScheme></ColorScheme><EndpointData/></Data>"
        );
        // An older receiver loses what it does not know; order is the
        // receiver's, contents are the sender's bytes.
        let wlm2009 = b"<Data><ColorScheme>-3</ColorScheme><PSM/><CurrentMedia>x</CurrentMedia><Scene>s</Scene></Data>";
        let base: &[(&str, bool)] = &[
            ("PSM", true),
            ("CurrentMedia", true),
            ("MachineGuid", false),
        ];
        assert_eq!(
            project(wlm2009, base, None),
            b"<Data><PSM/><CurrentMedia>x</CurrentMedia></Data>"
        );
        // Nested elements of the same name are not top-level ones.
        let nested = b"<Data><X><PSM>no</PSM></X></Data>";
        assert_eq!(
            project(nested, base, None),
            b"<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>"
        );
    }

    #[test]
    fn reads_and_replaces_the_psm() {
        let doc = b"<Data><PSM>a &amp; b</PSM><CurrentMedia>song</CurrentMedia><MachineGuid>{1}</MachineGuid></Data>";
        assert_eq!(psm(doc).as_deref(), Some("a & b"));
        assert_eq!(psm(b"<Data><PSM/></Data>").as_deref(), Some(""));
        assert_eq!(psm(b"<Data><CurrentMedia/></Data>"), None);
        assert_eq!(psm(b"<Data><X><PSM>no</PSM></X></Data>"), None);
        let set = |d: Option<&[u8]>, t: &str| with_psm(d, t).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(
            set(Some(doc), "x < y").as_deref(),
            Some(
                "<Data><PSM>x &lt; y</PSM><CurrentMedia>song</CurrentMedia><MachineGuid>{1}</MachineGuid></Data>"
            )
        );
        assert_eq!(
            set(Some(b"<Data><PSM/><CurrentMedia/></Data>"), "hi").as_deref(),
            Some("<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>")
        );
        assert_eq!(
            set(Some(b"<Data><CurrentMedia/></Data>"), "hi").as_deref(),
            Some("<Data><CurrentMedia></CurrentMedia><PSM>hi</PSM></Data>")
        );
        assert_eq!(
            set(None, "").as_deref(),
            Some("<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>")
        );
        // A broken stored document is replaced; spoofing text is refused.
        assert_eq!(
            set(Some(b"<Data><PSM>"), "hi").as_deref(),
            Some("<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>")
        );
        assert_eq!(set(None, "evil\u{202E}moc"), None);
        assert_eq!(
            psm(&with_psm(Some(doc), "back").unwrap()).as_deref(),
            Some("back")
        );
    }

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
