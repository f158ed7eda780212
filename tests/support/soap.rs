//! SOAP over raw HTTP for tests: the vectors of soap/*.md (copied into
//! tests/soap/), one POST per connection with the reply's framing checked
//! as picky clients need it, tokens from the server's own RST.srf, and
//! replies compared structurally with the vectors' (qualified names,
//! namespaces, order, values; values the server chooses are skipped).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub fn vector(name: &str) -> String {
    let path = format!("{}/../../tests/soap/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A vector request with `ticket` (XML-escaped) in its `TicketToken`.
pub fn request(name: &str, ticket: &str) -> String {
    vector(name).replace("{TICKET}", &ticket.replace('&', "&amp;"))
}

pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// One POST over a fresh connection, read to the end.
pub async fn post(http: SocketAddr, path: &str, action: Option<&str>, body: &str) -> Reply {
    let action = action
        .map(|a| format!("SOAPAction: \"http://www.msn.com/webservices/AddressBook/{a}\"\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: contacts.msn.com\r\n{action}Content-Type: text/xml; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(http).await.unwrap();
    let _ = stream.write_all(request.as_bytes()).await;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .expect("an answer")
        .ok();
    let reply = String::from_utf8(reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("a complete reply");
    let status = head[9..12].parse().unwrap();
    // Header names in their usual case, and a length, not chunks.
    assert!(head.contains("\r\nContent-Length: "), "{head}");
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let length: usize = head
        .split("\r\nContent-Length: ")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, body.len());
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Calls `action` and expects success; returns the reply's body.
pub async fn call(http: SocketAddr, path: &str, action: &str, body: &str) -> String {
    let r = post(http, path, Some(action), body).await;
    assert_eq!(r.status, 200, "{action}: {}", r.body);
    assert!(r.head.contains("\r\nContent-Type: text/xml; charset=utf-8"));
    // Compact: nothing between elements.
    assert!(
        !r.body.contains(">\n") && !r.body.contains("> <"),
        "{}",
        r.body
    );
    r.body
}

/// Calls `action` and expects the fault `code` (HTTP 500).
pub async fn fault(
    http: SocketAddr,
    path: &str,
    action: Option<&str>,
    body: &str,
    code: &str,
) -> El {
    let r = post(http, path, action, body).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let el = El::parse(&r.body);
    let got = &el.at("soap:Body/soap:Fault/detail/errorcode").text;
    assert_eq!(got, code, "{}", r.body);
    el
}

/// The `address` token (XML-unescaped) from a real `POST /RST.srf`.
pub async fn token(http: SocketAddr, email: &str, password: &str, address: &str) -> String {
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust">"#,
            r#"<Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></Header>"#,
            r#"<Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#,
            r#"<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI"></wsse:PolicyReference></wst:RequestSecurityToken>"#,
            r#"</ps:RequestMultipleSecurityTokens></Body></Envelope>"#,
        ),
        email,
        password.replace('&', "&amp;"),
        address,
    );
    let reply =
        super::wlm::post_token_request(http, "//RST.srf", "text/xml; charset=utf-8", &body).await;
    super::wlm::compact_token(&reply, 0)
}

/// An element by qualified name, with its resolved namespace.
#[derive(Debug, Default)]
pub struct El {
    pub name: String,
    pub ns: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn parse(xml: &str) -> El {
        let mut reader = NsReader::from_str(xml);
        reader.config_mut().expand_empty_elements = true;
        reader.config_mut().trim_text(true);
        let mut stack = vec![El::default()];
        loop {
            let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
            match event {
                Event::Start(e) => stack.push(El {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    ns: match ns {
                        ResolveResult::Bound(n) => String::from_utf8(n.0.to_vec()).unwrap(),
                        ResolveResult::Unbound => String::new(),
                        ResolveResult::Unknown(p) => panic!("undeclared prefix {p:?}"),
                    },
                    attrs: e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                            (key, a.unescape_value().unwrap().into_owned())
                        })
                        .filter(|(k, _)| !k.starts_with("xmlns"))
                        .collect(),
                    ..El::default()
                }),
                Event::End(_) => {
                    let done = stack.pop().unwrap();
                    stack.last_mut().unwrap().children.push(done);
                }
                Event::Text(t) => stack
                    .last_mut()
                    .unwrap()
                    .text
                    .push_str(&t.unescape().unwrap()),
                Event::Eof => break,
                _ => {}
            }
        }
        let mut document = stack.pop().unwrap();
        assert_eq!(document.children.len(), 1, "one root");
        document.children.pop().unwrap()
    }

    pub fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    pub fn at(&self, path: &str) -> &El {
        path.split('/').fold(self, |el, name| {
            el.all(name)
                .first()
                .copied()
                .unwrap_or_else(|| panic!("no {name} in {}: {el:#?}", el.name))
        })
    }

    pub fn text_at(&self, path: &str) -> &str {
        &self.at(path).text
    }

    /// Removes every descendant named `name` (parts the server leaves out
    /// on purpose).
    pub fn strip(&mut self, name: &str) {
        self.children.retain(|c| c.name != name);
        for c in &mut self.children {
            c.strip(name);
        }
    }
}

/// Values the server chooses freely (soap/README.md `VAR`).
pub const VAR: &[&str] = &[
    "CacheKey",
    "CacheKeyChanged",
    "SessionId",
    "PreferredHostName",
    "lastChange",
    "LastChange",
    "LastChanged",
    "JoinedDate",
    "createDate",
    "CreateDate",
    "groupId",
    "contactId",
    "guid",
    "MembershipId",
    "CID",
    "OwnerCID",
    "CreatorCID",
    "CircleTicket",
];

/// `got` has the shape and values of `want`, apart from [`VAR`] values.
pub fn same(want: &El, got: &El, path: &str) {
    let here = format!("{path}/{}", want.name);
    assert_eq!(want.name, got.name, "at {path}");
    assert_eq!(want.ns, got.ns, "namespace of {here}");
    assert_eq!(want.attrs, got.attrs, "attributes of {here}");
    let local = want.name.rsplit(':').next().unwrap();
    if !VAR.contains(&local) {
        assert_eq!(want.text.trim(), got.text.trim(), "text of {here}");
    }
    let names = |e: &El| {
        e.children
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(want), names(got), "children of {here}");
    for (w, g) in want.children.iter().zip(&got.children) {
        same(w, g, &here);
    }
}
