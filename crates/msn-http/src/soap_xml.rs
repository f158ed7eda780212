//! A small XML layer for the SOAP services over quick-xml: requests are
//! read into an [`Element`] tree (namespace-aware, matched by local name,
//! as soap/README.md asks: clients differ in prefixes and sometimes in the
//! case of a name), responses are written with [`Out`], which escapes every
//! value and writes compact XML (no whitespace between elements: libpurple
//! broke on indented replies, msnp13-18.md §4.4).

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Deepest nesting accepted (real requests stay under 12 levels).
const MAX_DEPTH: usize = 32;
/// Most elements accepted in one request.
const MAX_ELEMENTS: usize = 20_000;

/// The SOAP 1.1 envelope namespace, which every SOAP service but RST2
/// (SOAP 1.2) speaks.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Parses a SOAP 1.1 request: well-formed ([`parse`]), and its root a
/// SOAP 1.1 `Envelope`.
pub fn parse_envelope(bytes: &[u8]) -> Result<Element, String> {
    let root = parse(bytes)?;
    if root.name != "Envelope" || root.ns.as_deref() != Some(SOAP11_NS) {
        return Err("not a SOAP 1.1 envelope".to_owned());
    }
    Ok(root)
}

/// One element of a parsed request.
#[derive(Debug, Default)]
pub struct Element {
    /// Namespace URI, if the name is in one.
    pub ns: Option<String>,
    /// Local name (no prefix).
    pub name: String,
    /// The text directly inside it, unescaped (not trimmed).
    pub text: String,
    /// Attributes by local name (namespace declarations left out),
    /// values unescaped, in document order.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with local name `name` (ASCII case-insensitive:
    /// WLM 2009 writes `View` where the schema has `view`).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The value of the attribute with local name `name` (ASCII
    /// case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every child with local name `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// The descendant at `path` (each step the first child so named).
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, step| e.child(step))
    }

    /// The trimmed text of the descendant at `path`.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|e| e.text.trim())
    }

    /// The operation of a SOAP envelope: the first element in its SOAP
    /// `Body`.
    pub fn soap_operation(&self) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name == "Body" && c.ns.as_deref() == Some(SOAP11_NS))
            .and_then(|b| b.children.first())
    }

    /// `true`/`false` at `path` (`None` when absent or neither).
    pub fn bool_at(&self, path: &[&str]) -> Option<bool> {
        match self.text_at(path)? {
            t if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
            _ => None,
        }
    }
}

/// Parses a whole document into its root element. Anything that is not
/// well-formed XML with one root, or that nests or counts beyond the
/// limits above, is an error (a SOAP fault for the caller).
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut buf = Vec::new();
    loop {
        let (resolved, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(_) | Event::Empty(_) => {
                let (start, empty) = match &event {
                    Event::Start(s) => (s, false),
                    Event::Empty(s) => (s, true),
                    _ => unreachable!("matched above"),
                };
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("request too deeply nested or too large".into());
                }
                let ns = match resolved {
                    ResolveResult::Bound(ns) => {
                        Some(String::from_utf8_lossy(ns.into_inner()).into_owned())
                    }
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(format!("undeclared prefix {}", String::from_utf8_lossy(&p)));
                    }
                };
                let name = std::str::from_utf8(start.local_name().into_inner())
                    .map_err(|_| "element name is not UTF-8")?
                    .to_owned();
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let local = std::str::from_utf8(key.local_name().into_inner())
                        .map_err(|_| "attribute name is not UTF-8")?
                        .to_owned();
                    let value = attr
                        .unescape_value()
                        .map_err(|e| format!("bad attribute value: {e}"))?
                        .into_owned();
                    attrs.push((local, value));
                }
                let element = Element {
                    ns,
                    name,
                    attrs,
                    ..Element::default()
                };
                if empty {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("unbalanced end tag")?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(c) => {
                let text = std::str::from_utf8(&c)
                    .map_err(|_| "CDATA is not UTF-8")?
                    .to_owned();
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None => return Err("CDATA outside the root element".into()),
                }
            }
            Event::DocType(_) => return Err("DOCTYPE not allowed".into()),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// A compact XML writer: every text value is escaped by quick-xml.
pub struct Out {
    w: Writer<Vec<u8>>,
}

impl Default for Out {
    fn default() -> Self {
        Out {
            w: Writer::new(Vec::with_capacity(4096)),
        }
    }
}

impl Out {
    fn write(&mut self, event: Event<'_>) {
        self.w
            .write_event(event)
            .expect("writing XML to memory cannot fail");
    }

    /// `<name attr="value" …>` (attribute values escaped).
    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut start = BytesStart::new(name);
        for (k, v) in attrs {
            start.push_attribute((*k, *v));
        }
        self.write(Event::Start(start));
        self
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.open_with(name, &[])
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.write(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name>value</name>`, the value escaped.
    pub fn leaf(&mut self, name: &str, value: &str) -> &mut Self {
        self.open(name);
        if !value.is_empty() {
            self.write(Event::Text(BytesText::new(value)));
        }
        self.close(name)
    }

    /// `<name xmlns="ns">value</name>`.
    pub fn leaf_ns(&mut self, name: &str, ns: &str, value: &str) -> &mut Self {
        self.open_with(name, &[("xmlns", ns)]);
        if !value.is_empty() {
            self.write(Event::Text(BytesText::new(value)));
        }
        self.close(name)
    }

    /// Raw markup this module produced itself (never client data).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.w.get_mut().extend_from_slice(markup.as_bytes());
        self
    }

    pub fn into_string(self) -> String {
        String::from_utf8(self.w.into_inner()).expect("only UTF-8 was written")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_local_name_and_unescapes() {
        let doc = br#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><A xmlns="urn:x"><TicketToken>t=a&amp;p=</TicketToken></A></s:Header><s:Body><B xmlns="urn:x"><view>Full</view><e/></B></s:Body></s:Envelope>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Envelope");
        assert_eq!(
            root.ns.as_deref(),
            Some("http://schemas.xmlsoap.org/soap/envelope/")
        );
        assert_eq!(
            root.text_at(&["Header", "A", "TicketToken"]),
            Some("t=a&p=")
        );
        assert_eq!(root.text_at(&["Body", "B", "View"]), Some("Full"));
        assert!(root.at(&["Body", "B", "e"]).is_some());
        let doc = br#"<a xmlns:x="urn:x" x:memberName="b@c.d" lockkey="" passport="t=1&amp;p=2"/>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.attr("MemberName"), Some("b@c.d"));
        assert_eq!(root.attr("lockkey"), Some(""));
        assert_eq!(root.attr("passport"), Some("t=1&p=2"));
        assert_eq!(root.attr("x"), None);
        assert_eq!(root.attrs.len(), 3);
    }

    #[test]
    fn refuses_malformed_documents() {
        for doc in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"",
            b"<a/><b/>",
            b"<p:a/>",
            b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
            b"<a>&bogus;</a>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn writes_compact_escaped_xml() {
        let mut out = Out::default();
        out.open_with("r", &[("xmlns", "urn:x")])
            .leaf("n", "a<b&\"c\"")
            .leaf("e", "")
            .close("r");
        assert_eq!(
            out.into_string(),
            r#"<r xmlns="urn:x"><n>a&lt;b&amp;&quot;c&quot;</n><e></e></r>"#
        );
    }
}
