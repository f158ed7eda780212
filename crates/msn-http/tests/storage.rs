//! Black-box tests of the storage service (soap/getprofile.md) over real
//! sockets: GetProfile against the documented reply, UpdateProfile
//! changing what msnd stores, both namespaces, and the faults for bad
//! tickets and other users' profiles.

use std::time::Duration;

use msn_auth::{Audience, Grant};
use msn_core::handle::Handle;
use msn_http::rst;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

mod common;
use common::xml::{El, Free, assert_same_shape};
use common::{Env, LIMIT};

const ACCOUNTS: &[(&str, &str)] = &[("alice@example.com", "pw"), ("bob@example.com", "pw")];
const GET: &str = include_str!("data/getprofile-request.xml");
const RESPONSE: &str = include_str!("data/getprofile-response.xml");
const FAULT: &str = include_str!("data/getprofile-fault.xml");
const VECTOR_TICKET: &str = "t=In7gceTj/wR4dIRU8br0BpWglVPFjI7GU9yd$$&amp;p=";
const VECTOR_CID: &str = "7233009801789148281";
const NS_2008: &str = "http://www.msn.com/webservices/storage/2008";
const NS_W10: &str = "http://www.msn.com/webservices/storage/w10";

/// Sends `request` on `stream` and reads one response: status, head,
/// body.
async fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end + 4];
            let length: usize = head
                .split("\r\n")
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap_or_else(|| panic!("no Content-Length: {head}"))
                .parse()
                .unwrap();
            if buf.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                return (status, head.to_owned(), text[end + 4..].to_owned());
            }
        }
        let mut chunk = [0u8; 4096];
        let n = timeout(LIMIT, stream.read(&mut chunk))
            .await
            .expect("server answers")
            .unwrap();
        assert_ne!(n, 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn post(path: &str, action: &str, ns: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: storage.msn.com\r\nSOAPAction: \"{ns}/{action}\"\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The documented GetProfile request with `ticket` (XML-escaped) for
/// `cid`, in namespace `ns`.
fn get_profile(ticket: &str, cid: &str, ns: &str) -> String {
    GET.replace(VECTOR_TICKET, ticket)
        .replace(VECTOR_CID, cid)
        .replace(NS_2008, ns)
}

/// An UpdateProfile request as BitlBee (w10) and msnp-sharp (2008) send
/// it.
fn update_profile(ticket: &str, resource: &str, ns: &str, name: &str, psm: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#,
            r#"<soap:Header><StorageApplicationHeader xmlns="{ns}"><ApplicationID>Messenger Client 9.0</ApplicationID><Scenario>RoamingIdentityChanged</Scenario></StorageApplicationHeader>"#,
            r#"<StorageUserHeader xmlns="{ns}"><Puid>0</Puid><TicketToken>{ticket}</TicketToken></StorageUserHeader></soap:Header>"#,
            r#"<soap:Body><UpdateProfile xmlns="{ns}"><profile><ResourceID>{resource}</ResourceID><ExpressionProfile><FreeText>Update</FreeText>"#,
            r#"<DisplayName>{name}</DisplayName><PersonalStatus>{psm}</PersonalStatus><Flags>0</Flags></ExpressionProfile></profile></UpdateProfile></soap:Body></soap:Envelope>"#,
        ),
        ns = ns,
        ticket = ticket,
        resource = resource,
        name = quick_xml::escape::escape(name),
        psm = quick_xml::escape::escape(psm),
    )
}

/// A storage ticket for `handle`, as RST/RST2 issue it (XML-escaped).
fn ticket(env: &Env, handle: &str, user_id: i64, audience: Audience) -> String {
    let grant = Grant::bearer(Handle::parse(handle).unwrap(), user_id, audience);
    let t = env.ctx.tokens.issue(grant, Duration::from_secs(3600));
    quick_xml::escape::escape(t.as_str()).into_owned()
}

fn cid(user_id: i64) -> u64 {
    rst::puid(user_id)
}

fn assert_header_case(head: &str, status: &str) {
    assert!(head.starts_with(status), "{head}");
    assert!(
        head.contains("\r\nContent-Type: text/xml; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nContent-Length: "), "{head}");
}

#[tokio::test]
async fn get_and_update_profile_in_both_namespaces() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let alice = env.user_id("alice@example.com").await;
    let t = ticket(&env, "alice@example.com", alice, Audience::Storage);
    let cid = cid(alice);
    let mut stream = TcpStream::connect(env.http_addr()).await.unwrap();
    let path = "/storageservice/SchematizedStore.asmx";

    // Set the name and message of the vector (msnp-sharp, 2008) …
    let resource = format!("{cid:016x}!106");
    let update = update_profile(&t, &resource, NS_2008, "Alice", "At work");
    let (status, head, body) =
        exchange(&mut stream, &post(path, "UpdateProfile", NS_2008, &update)).await;
    assert_eq!(status, 200, "{body}");
    assert_header_case(&head, "HTTP/1.1 200 OK\r\n");
    let reply = El::parse(&body);
    let response = reply.at("soap:Body/UpdateProfileResponse");
    assert_eq!(response.ns, NS_2008);
    // … stored as the NS stores them: the name encoded, the message in
    // the UUX document.
    let account = env.ctx.store.load_account(alice).await.unwrap();
    assert_eq!(account.friendly_name, "Alice");
    let document = account.personal_message.clone().unwrap();
    assert_eq!(
        msn_core::personal_message::psm(&document).as_deref(),
        Some("At work")
    );

    // GetProfile (WLM 2009's request, on libpurple's doubled-slash path)
    // is then the documented reply.
    let get = get_profile(&t, &(cid as i64).to_string(), NS_2008);
    let (status, head, body) = exchange(
        &mut stream,
        &post(
            "//storageservice/SchematizedStore.asmx",
            "GetProfile",
            NS_2008,
            &get,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_header_case(&head, "HTTP/1.1 200 OK\r\n");
    assert!(
        !body.contains(">\n") && !body.contains("> <"),
        "compact: {body}"
    );
    let free = Free {
        text: &[
            "ResourceID",
            "DateModified",
            "PersonalStatusLastModified",
            "DisplayNameLastModified",
            "Version",
        ],
        attr_values: &[],
        subset: &[],
    };
    let ours = El::parse(&body);
    assert_same_shape(&ours, &El::parse(RESPONSE), &free);
    let result = ours.at("soap:Body/GetProfileResponse/GetProfileResult");
    assert_eq!(result.at("ResourceID").text, resource);

    // BitlBee (w10): a name with spaces and markup, as text; answered in
    // w10.
    let update = update_profile(&t, &resource, NS_W10, "A & <B> c", "");
    let (status, _, body) =
        exchange(&mut stream, &post(path, "UpdateProfile", NS_W10, &update)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        El::parse(&body).at("soap:Body/UpdateProfileResponse").ns,
        NS_W10
    );
    let account = env.ctx.store.load_account(alice).await.unwrap();
    assert_eq!(account.friendly_name, "A & <B> c");
    assert_eq!(
        msn_core::personal_message::psm(account.personal_message.as_deref().unwrap()).as_deref(),
        Some("")
    );
    let get = get_profile(&t, &(cid as i64).to_string(), NS_W10);
    let (status, _, body) = exchange(&mut stream, &post(path, "GetProfile", NS_W10, &get)).await;
    assert_eq!(status, 200, "{body}");
    let ours = El::parse(&body);
    let response = ours.at("soap:Body/GetProfileResponse");
    assert_eq!(response.ns, NS_W10);
    let profile = response.at("GetProfileResult/ExpressionProfile");
    assert_eq!(profile.at("DisplayName").text, "A & <B> c");
    assert_eq!(profile.at("PersonalStatus").text, "");
    // The storage ticket is multi-use: it served four calls.
    env.stop().await;
}

#[tokio::test]
async fn bad_tickets_and_other_profiles_get_faults_and_change_nothing() {
    let env = Env::start(ACCOUNTS, |_, _| {}).await;
    let alice = env.user_id("alice@example.com").await;
    let bob = env.user_id("bob@example.com").await;
    let path = "/storageservice/SchematizedStore.asmx";
    let resource = format!("{:016x}!106", cid(alice));
    let expired = {
        let grant = Grant::bearer(
            Handle::parse("alice@example.com").unwrap(),
            alice,
            Audience::Storage,
        );
        let t = env.ctx.tokens.issue(grant, Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
        quick_xml::escape::escape(t.as_str()).into_owned()
    };
    let mut stream = TcpStream::connect(env.http_addr()).await.unwrap();
    let fault_vector = El::parse(FAULT);
    for (case, t) in [
        ("unknown", "t=nope$$&amp;p=".to_owned()),
        ("empty", String::new()),
        (
            "contacts audience",
            ticket(&env, "alice@example.com", alice, Audience::Contacts),
        ),
        ("expired", expired),
    ] {
        for (action, body) in [
            (
                "UpdateProfile",
                update_profile(&t, &resource, NS_2008, "Mallory", "hi"),
            ),
            (
                "GetProfile",
                get_profile(&t, &(cid(alice) as i64).to_string(), NS_2008),
            ),
        ] {
            let (status, head, reply) =
                exchange(&mut stream, &post(path, action, NS_2008, &body)).await;
            assert_eq!(status, 500, "{case}");
            assert_header_case(&head, "HTTP/1.1 500 Internal Server Error\r\n");
            let ours = El::parse(&reply);
            // The documented fault's shape, with BitlBee's re-login code.
            let free = Free {
                text: &["faultstring", "errorcode", "errorstring", "faultactor"],
                attr_values: &[],
                subset: &[],
            };
            assert_same_shape(&ours, &fault_vector, &free);
            let detail = ours.at("soap:Body/soap:Fault/detail");
            assert_eq!(detail.at("errorcode").text, "PassportAuthFail", "{case}");
            assert_eq!(detail.at("errorcode").ns, NS_2008);
            assert_eq!(
                ours.at("soap:Body/soap:Fault/faultactor").text,
                format!("{NS_2008}/{action}")
            );
        }
    }
    // No ticket at all.
    let no_ticket = GET.replace(&format!("<TicketToken>{VECTOR_TICKET}</TicketToken>"), "");
    let (status, _, reply) =
        exchange(&mut stream, &post(path, "GetProfile", NS_2008, &no_ticket)).await;
    assert_eq!(status, 500);
    assert!(reply.contains(">PassportAuthFail<"), "{reply}");

    // Alice's valid ticket, Bob's profile: AccessDenied, as documented.
    let t = ticket(&env, "alice@example.com", alice, Audience::Storage);
    let bobs = get_profile(&t, &(cid(bob) as i64).to_string(), NS_2008);
    let (status, _, reply) = exchange(&mut stream, &post(path, "GetProfile", NS_2008, &bobs)).await;
    assert_eq!(status, 500);
    let free = Free {
        text: &[],
        attr_values: &[],
        subset: &[],
    };
    assert_same_shape(&El::parse(&reply), &fault_vector, &free);
    let bobs = update_profile(
        &t,
        &format!("{:016x}!106", cid(bob)),
        NS_2008,
        "Mallory",
        "hi",
    );
    let (status, _, reply) =
        exchange(&mut stream, &post(path, "UpdateProfile", NS_2008, &bobs)).await;
    assert_eq!(status, 500);
    assert!(reply.contains(">AccessDenied<"), "{reply}");
    // A name the NS would refuse is refused here too.
    let bad = update_profile(&t, &resource, NS_2008, "evil\u{202E}moc", "");
    let (status, _, reply) =
        exchange(&mut stream, &post(path, "UpdateProfile", NS_2008, &bad)).await;
    assert_eq!(status, 500);
    assert!(reply.contains(">InvalidArgument<"), "{reply}");
    // Operations msnd does not serve.
    let find = GET
        .replace("GetProfile", "FindDocuments")
        .replace(VECTOR_TICKET, &t);
    let (status, _, reply) =
        exchange(&mut stream, &post(path, "FindDocuments", NS_2008, &find)).await;
    assert_eq!(status, 500);
    assert!(reply.contains(">NotImplemented<"), "{reply}");

    for id in [alice, bob] {
        let account = env.ctx.store.load_account(id).await.unwrap();
        assert_ne!(account.friendly_name, "Mallory");
        assert_eq!(account.personal_message, None);
    }
    env.stop().await;
}
