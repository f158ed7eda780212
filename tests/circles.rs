//! Circles (MSNP18 group conversations) end to end, over real TCP and
//! HTTP: a circle created and managed over the address-book and sharing
//! SOAP services as msnp-sharp 3.x drives them (CreateCircle,
//! CreateContact + ManageWLConnection, ManageWLConnection to accept,
//! BreakConnection to leave and to delete), listed in ABFindContactsPaged
//! with its CircleTicket, and used on the NS (`USR SHA A`, the circle's
//! `ADL`, `PUT` → `NFY PUT`, `SDG` to every member in the conversation).
//! An MSNP12 contact of the circle's admin never sees any of it.

mod support;

use base64::Engine as _;
use support::soap::{El, call, fault, request, token};
use support::wlm;
use support::{Client, TestServer};

const AB: &str = "/abservice/abservice.asmx";
const SHARING: &str = "/abservice/SharingService.asmx";
const PW: &str = "pw";
const GUID_A: &str = "{f26d1f07-95e2-403c-bc18-d4bfed493428}";
const GUID_B: &str = "{0a1b2c3d-0000-4000-8000-000000000001}";
const GUID_C: &str = "{0a1b2c3d-0000-4000-8000-000000000002}";
const GUID_E: &str = "{0a1b2c3d-0000-4000-8000-000000000005}";
const PAGED: &str = "soap:Body/ABFindContactsPagedResponse/ABFindContactsPagedResult";

/// A SOAP request to the address book or sharing service: `body` is the
/// operation element's content.
fn soap(ticket: &str, scenario: &str, operation: &str, body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">"#,
            r#"<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook">"#,
            r#"<ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration>"#,
            r#"<PartnerScenario>{scenario}</PartnerScenario></ABApplicationHeader>"#,
            r#"<ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest>"#,
            r#"<TicketToken>{ticket}</TicketToken></ABAuthHeader></soap:Header>"#,
            r#"<soap:Body><{op} xmlns="http://www.msn.com/webservices/AddressBook">{body}</{op}></soap:Body></soap:Envelope>"#,
        ),
        scenario = scenario,
        ticket = ticket.replace('&', "&amp;"),
        op = operation,
        body = body,
    )
}

fn ab_handle(circle: &str) -> String {
    format!("<abHandle><ABId>{circle}</ABId><Puid>0</Puid><Cid>0</Cid></abHandle>")
}

/// One WLM 2009 user: a contacts ticket and a signed-in MSNP18 client.
struct Member {
    email: &'static str,
    contacts: String,
    ns: Client,
}

impl Member {
    async fn online(s: &TestServer, email: &'static str, guid: &str) -> Member {
        let contacts = token(s.http.unwrap(), email, PW, "contacts.msn.com").await;
        let ns = wlm::online(s, 18, email, PW, Some(guid)).await;
        Member {
            email,
            contacts,
            ns,
        }
    }

    /// ABFindContactsPaged of the user's own book (`abid` None) or a
    /// circle's.
    async fn find(&self, s: &TestServer, abid: Option<&str>) -> El {
        let body = match abid {
            None => concat!(
                "<filterOptions><DeltasOnly>false</DeltasOnly><ContactFilter>",
                "<IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter></filterOptions>",
                "<abView>MessengerClient8</abView><extendedContent>AB AllGroups CircleResult</extendedContent>"
            )
            .to_owned(),
            Some(id) => format!(
                "<filterOptions><DeltasOnly>false</DeltasOnly></filterOptions>\
                 <abView>MessengerClient8</abView><extendedContent>AB</extendedContent>{}",
                ab_handle(id)
            ),
        };
        let request = soap(&self.contacts, "Initial", "ABFindContactsPaged", &body);
        El::parse(&call(s.http.unwrap(), AB, "ABFindContactsPaged", &request).await)
    }

    async fn soap(&self, s: &TestServer, path: &str, operation: &str, body: &str) -> El {
        let request = soap(&self.contacts, "CircleSave", operation, body);
        El::parse(&call(s.http.unwrap(), path, operation, &request).await)
    }

    /// Waits for the address book's change notice (`NOT` ABCHInternal).
    async fn expect_book_changed(&mut self) {
        let not = self
            .ns
            .wait_for("the address-book change notice", |f| f.command() == "NOT")
            .await;
        let text = String::from_utf8(not.payload().unwrap().to_vec()).unwrap();
        assert!(text.contains("ABCHInternal"), "{text}");
        assert!(
            text.contains(&format!(r#"name="{}""#, self.email)),
            "{text}"
        );
    }

    /// `USR SHA A` with the circle ticket of `find` (the user's
    /// ABFindContactsPaged).
    async fn present_ticket(&mut self, find: &El) {
        let ticket = find.text_at(&format!("{PAGED}/CircleResult/CircleTicket"));
        let ticket = base64::engine::general_purpose::STANDARD.encode(ticket);
        let ok = self.ns.call(&format!("USR {{}} SHA A {ticket}")).await;
        assert!(
            ok.line().ends_with(&format!(" OK {} 0 0", self.email)),
            "{}",
            ok.line()
        );
    }

    /// Everything the NS sends until a `PNG` is answered.
    async fn drain(&mut self) -> Vec<msn_wire::Frame> {
        self.ns.send("PNG").await;
        let mut frames = Vec::new();
        loop {
            let f = self.ns.recv().await;
            if f.command() == "QNG" {
                return frames;
            }
            frames.push(f);
        }
    }
}

/// The circle contacts of an ABFindContactsPaged answer.
fn circle_contacts(find: &El) -> Vec<&El> {
    find.at(PAGED)
        .at("Contacts")
        .all("Contact")
        .into_iter()
        .filter(|c| c.text_at("contactInfo/contactType") == "Circle")
        .collect()
}

/// `SDG` payload from `from` (GUID) to circle `id`, a text message.
fn sdg_payload(id: &str, from: &str, guid: &str, text: &str) -> Vec<u8> {
    let message = format!(
        "Messaging: 1.0\r\nContent-Length: {}\r\nContent-Type: Text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: 7bit\r\nMessage-Type: Text\r\nMIME-Version: 1.0\r\n\
         X-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=1; PF=0\r\n\r\n{text}",
        text.len()
    );
    format!(
        "Routing: 1.0\r\nTo: 9:{id}@live.com;path=IM\r\nFrom: 1:{from};epid={guid}\r\n\r\n\
         Reliability: 1.0\r\nStream: 0\r\nSegment: 1\r\n\r\n{message}"
    )
    .into_bytes()
}

fn put_payload(id: &str, from: &str, guid: &str) -> Vec<u8> {
    let xml =
        format!("<circle><roster><id>IM</id><user><id>1:{from}</id></user></roster></circle>");
    format!(
        "Routing: 1.0\r\nTo: 9:{id}@live.com\r\nFrom: 1:{from};epid={guid}\r\n\r\n\
         Reliability: 1.0\r\nStream: 0\r\nSegment: 0\r\n\r\n\
         Publication: 1.0\r\nUri: /circle\r\nContent-Type: application/circles+xml\r\n\
         Content-Length: {}\r\n\r\n{xml}",
        xml.len()
    )
    .into_bytes()
}

/// The XML of an `NFY PUT`'s roster.
fn roster(frame: &msn_wire::Frame) -> String {
    let text = String::from_utf8(frame.payload().unwrap().to_vec()).unwrap();
    text.rsplit("\r\n").next().unwrap().to_owned()
}

fn users(members: &[&str]) -> String {
    let users: String = members
        .iter()
        .map(|m| format!("<user><id>1:{m}</id></user>"))
        .collect();
    format!("<circle><roster><id>IM</id>{users}</roster></circle>")
}

#[tokio::test]
async fn three_wlm_2009_users_share_a_circle() {
    let s = TestServer::start_with(|c| c.notification.max_dialect = 18).await;
    for (email, name) in [
        ("alice@example.com", "Alice"),
        ("bob@example.com", "Bob"),
        ("carol@example.com", "Carol"),
        ("dave@example.com", "Dave"),
        ("erin@example.com", "Erin"),
    ] {
        s.user(email, PW, name).await;
    }
    // Dave, on MSN Messenger 7.5, is Alice's contact.
    s.seed_friends(("alice@example.com", "Alice"), ("dave@example.com", "Dave"))
        .await;
    let mut dave = s.online_twn(12, "dave@example.com", "NLN 0").await;
    let mut alice = Member::online(&s, "alice@example.com", GUID_A).await;
    let mut bob = Member::online(&s, "bob@example.com", GUID_B).await;
    let mut carol = Member::online(&s, "carol@example.com", GUID_C).await;
    let mut erin = Member::online(&s, "erin@example.com", GUID_E).await;

    // Alice creates the circle (sharing service).
    let created = alice
        .soap(
            &s,
            SHARING,
            "CreateCircle",
            concat!(
                "<properties><Domain>1</Domain><HostedDomain>live.com</HostedDomain><Type>2</Type>",
                "<MembershipAccess>0</MembershipAccess><IsPresenceEnabled>true</IsPresenceEnabled>",
                "<RequestMembershipOption>2</RequestMembershipOption>",
                "<DisplayName>Hikers ⛰</DisplayName></properties>",
                "<callerInfo><PublicDisplayName>Alice</PublicDisplayName></callerInfo>"
            ),
        )
        .await;
    let id = created
        .text_at("soap:Body/CreateCircleResponse/CreateCircleResult/Id")
        .to_owned();
    assert!(id.starts_with("00000000-0000-0000-0009-"), "{id}");
    alice.expect_book_changed().await;

    // She invites Bob and Carol: CreateContact on the circle's book, then
    // ManageWLConnection confirming the member role, as msnp-sharp does.
    for invitee in ["bob@example.com", "carol@example.com"] {
        let contact = alice
            .soap(
                &s,
                AB,
                "CreateContact",
                &format!(
                    "{}<contactHandle><Email>{invitee}</Email><Puid>0</Puid><Cid>0</Cid>\
                     <CircleId>00000000-0000-0000-0000-000000000000</CircleId></contactHandle>",
                    ab_handle(&id)
                ),
            )
            .await;
        let contact_id = contact
            .text_at("soap:Body/CreateContactResponse/CreateContactResult/contactId")
            .to_owned();
        let confirmed = alice
            .soap(
                &s,
                AB,
                "ManageWLConnection",
                &format!(
                    "{}<contactId>{contact_id}</contactId><connection>true</connection>\
                     <presence>false</presence><action>1</action><relationshipType>5</relationshipType>\
                     <relationshipRole>3</relationshipRole>",
                    ab_handle(&id)
                ),
            )
            .await;
        assert_eq!(
            confirmed.text_at(
                "soap:Body/ManageWLConnectionResponse/ManageWLConnectionResult/contactInfo/passportName"
            ),
            invitee
        );
    }
    // Inviting twice is refused, as is an invitation by a non-admin.
    let again = soap(
        &alice.contacts,
        "CircleInvite",
        "CreateContact",
        &format!(
            "{}<contactHandle><Email>bob@example.com</Email></contactHandle>",
            ab_handle(&id)
        ),
    );
    fault(
        s.http.unwrap(),
        AB,
        Some("CreateContact"),
        &again,
        "ContactAlreadyExists",
    )
    .await;

    // Bob and Carol are told; their book shows the circle pending.
    for m in [&mut bob, &mut carol] {
        m.expect_book_changed().await;
        let find = m.find(&s, None).await;
        let circles = circle_contacts(&find);
        assert_eq!(circles.len(), 1);
        let info = circles[0].at("contactInfo/NetworkInfoList/NetworkInfo");
        assert_eq!(info.text_at("RelationshipType"), "5");
        assert_eq!(info.text_at("RelationshipState"), "1");
        assert_eq!(info.text_at("InviterEmail"), "alice@example.com");
        let inverse = find.at(PAGED).at("CircleResult/Circles/CircleInverseInfo");
        assert_eq!(inverse.text_at("Content/Handle/Id"), id);
        assert_eq!(inverse.text_at("Content/Info/DisplayName"), "Hikers ⛰");
        let personal = inverse.at("PersonalInfo/MembershipInfo/CirclePersonalMembership");
        assert_eq!(personal.text_at("Role"), "StatePendingOutbound");
        assert_eq!(personal.text_at("State"), "WaitingResponse");
        // Not a member yet: the conversation is closed to them.
        let sdg =
            m.ns.call_payload("SDG {}", &sdg_payload(&id, m.email, GUID_B, "too early"))
                .await;
        assert_eq!(sdg.command(), "715", "{}", sdg.line());
    }
    // They accept (ManageWLConnection on their own book, the circle's
    // contact id, action 1).
    for m in [&mut bob, &mut carol] {
        m.soap(
            &s,
            AB,
            "ManageWLConnection",
            &format!(
                "<contactId>{id}</contactId><connection>true</connection><presence>false</presence>\
                 <action>1</action><relationshipType>5</relationshipType><relationshipRole>0</relationshipRole>"
            ),
        )
        .await;
    }

    // Every member's book lists the circle, accepted, with a CircleTicket
    // that `USR SHA A` accepts; the circle's own book lists the members.
    for m in [&mut alice, &mut bob, &mut carol] {
        let find = m.find(&s, None).await;
        let circles = circle_contacts(&find);
        assert_eq!(circles.len(), 1, "{}", m.email);
        assert_eq!(circles[0].text_at("contactId"), id);
        assert_eq!(
            circles[0].text_at("contactInfo/passportName"),
            format!("{id}@live.com")
        );
        assert_eq!(
            circles[0].text_at("contactInfo/NetworkInfoList/NetworkInfo/RelationshipState"),
            "3"
        );
        let personal = find.at(PAGED).at(
            "CircleResult/Circles/CircleInverseInfo/PersonalInfo/MembershipInfo/CirclePersonalMembership",
        );
        let role = if m.email == "alice@example.com" {
            "Admin"
        } else {
            "Member"
        };
        assert_eq!(personal.text_at("Role"), role);
        assert_eq!(personal.text_at("State"), "Accepted");
        // Circle traffic needs the circle ticket first.
        let early =
            m.ns.call_payload("PUT {}", &put_payload(&id, m.email, GUID_A))
                .await;
        assert_eq!(early.command(), "715", "{}", early.line());
        m.present_ticket(&find).await;
        let book = m.find(&s, Some(&id)).await;
        let contacts = book.at(PAGED).at("Contacts").all("Contact");
        let listed: Vec<(&str, &str)> = contacts
            .iter()
            .map(|c| {
                (
                    c.text_at("contactInfo/passportName"),
                    c.text_at("contactInfo/contactType"),
                )
            })
            .collect();
        let kind = |who: &str| if who == m.email { "Me" } else { "Regular" };
        assert_eq!(
            listed,
            [
                ("alice@example.com", kind("alice@example.com")),
                ("bob@example.com", kind("bob@example.com")),
                ("carol@example.com", kind("carol@example.com")),
            ]
        );
        assert_eq!(book.text_at(&format!("{PAGED}/Ab/abId")), id);
    }
    // WLM 8.x's ABFindAll lists no circles, even for a member.
    let all = El::parse(
        &call(
            s.http.unwrap(),
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &bob.contacts),
        )
        .await,
    );
    let contacts = all.at("soap:Body/ABFindAllResponse/ABFindAllResult/contacts");
    assert!(
        contacts
            .all("Contact")
            .iter()
            .all(|c| c.text_at("contactInfo/contactType") != "Circle")
    );
    // Erin, not a member, cannot read the circle's book.
    let request = soap(
        &erin.contacts,
        "Initial",
        "ABFindContactsPaged",
        &format!(
            "<abView>MessengerClient8</abView><extendedContent>AB</extendedContent>{}",
            ab_handle(&id)
        ),
    );
    fault(
        s.http.unwrap(),
        AB,
        Some("ABFindContactsPaged"),
        &request,
        "ABDoesNotExist",
    )
    .await;

    // Each adds the circle (alone in its ADL) and is shown the circle's
    // own presence, then joins the conversation with PUT.
    let circle = format!("9:{id}@live.com");
    let mut present: Vec<&str> = Vec::new();
    for (m, guid) in [
        (&mut alice, GUID_A),
        (&mut bob, GUID_B),
        (&mut carol, GUID_C),
    ] {
        let adl = format!(r#"<ml><d n="live.com"><c n="{id}" l="1" t="9"/></d></ml>"#);
        let ok = m.ns.call_payload("ADL {}", adl.as_bytes()).await;
        assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
        let nln = m.ns.recv().await;
        assert_eq!(
            nln.line(),
            format!(
                "NLN NLN 1:{};via={circle} Hikers%20%E2%9B%B0 0:0 0",
                m.email
            )
        );
        let put =
            m.ns.call_payload("PUT {}", &put_payload(&id, m.email, guid))
                .await;
        assert_eq!(
            put.line(),
            format!("PUT {} OK 0", put.tokens().nth(1).unwrap())
        );
        let nfy = m.ns.recv().await;
        assert_eq!(
            nfy.line().split(' ').take(2).collect::<Vec<_>>(),
            ["NFY", "PUT"]
        );
        let text = String::from_utf8(nfy.payload().unwrap().to_vec()).unwrap();
        assert!(text.contains(&format!("From: {circle}\r\n")), "{text}");
        assert!(text.contains("NotifType: Full\r\n"), "{text}");
        present.push(m.email);
        assert_eq!(roster(&nfy), users(&present));
        // Then each member already there, as the circle shows them.
        for other in present.iter().filter(|o| **o != m.email) {
            let name = &other[..1].to_uppercase();
            let local = other.split('@').next().unwrap();
            assert_eq!(
                m.ns.recv_line().await,
                format!(
                    "NLN NLN 1:{other};via={circle} {name}{} 2789003324:48 0",
                    &local[1..]
                )
            );
        }
    }
    // Those already there were told of each newcomer.
    for (m, newcomers) in [
        (&mut alice, &["bob@example.com", "carol@example.com"][..]),
        (&mut bob, &["carol@example.com"][..]),
    ] {
        for newcomer in newcomers {
            let nfy =
                m.ns.wait_for("NFY PUT", |f| f.line().starts_with("NFY PUT "))
                    .await;
            assert_eq!(roster(&nfy), users(&[newcomer]));
            assert!(
                String::from_utf8_lossy(nfy.payload().unwrap()).contains("NotifType: Partial\r\n")
            );
            let nln = m.ns.recv_line().await;
            assert!(
                nln.starts_with(&format!("NLN NLN 1:{newcomer};via={circle} ")),
                "{nln}"
            );
        }
    }

    // Alice writes to the circle: Bob and Carol get her message byte for
    // byte; her own endpoint does not.
    let hello = sdg_payload(&id, "alice@example.com", GUID_A, "Grüße aus den Bergen ⛰");
    let sdg = alice.ns.call_payload("SDG {}", &hello).await;
    assert_eq!(
        sdg.line(),
        format!("SDG {} OK 0", sdg.tokens().nth(1).unwrap())
    );
    for m in [&mut bob, &mut carol] {
        let got = m.ns.wait_for("SDG", |f| f.command() == "SDG").await;
        assert_eq!(got.line(), format!("SDG 0 {}", hello.len()));
        assert_eq!(&got.payload().unwrap()[..], &hello[..]);
    }
    assert!(
        alice.drain().await.iter().all(|f| f.command() != "SDG"),
        "the sender got its own message"
    );
    // The server states the sender: a forged From is replaced.
    let forged = sdg_payload(&id, "alice@example.com", GUID_A, "it's me, Alice");
    bob.ns.call_payload("SDG {}", &forged).await;
    for m in [&mut alice, &mut carol] {
        let got = m.ns.wait_for("SDG", |f| f.command() == "SDG").await;
        let text = String::from_utf8(got.payload().unwrap().to_vec()).unwrap();
        assert!(
            text.contains(&format!("\r\nFrom: 1:bob@example.com;epid={GUID_B}\r\n")),
            "{text}"
        );
        assert!(text.ends_with("it's me, Alice"), "{text}");
    }

    // Alice's status reaches the circle (Bob and Carol are not her
    // contacts: this is the circle's view of her).
    alice.ns.call("CHG {} BSY 2789003324:48 0").await;
    for m in [&mut bob, &mut carol] {
        m.ns.wait_for("Alice busy in the circle", |f| {
            f.line() == format!("NLN BSY 1:alice@example.com;via={circle} Alice 2789003324:48 0")
        })
        .await;
    }
    // Erin, who is not a member, is refused (even with her own circle
    // ticket) and nothing is delivered.
    let find = erin.find(&s, None).await;
    erin.present_ticket(&find).await;
    let refused = erin
        .ns
        .call_payload(
            "SDG {}",
            &sdg_payload(&id, "erin@example.com", GUID_E, "hi"),
        )
        .await;
    assert_eq!(refused.command(), "204", "{}", refused.line());
    let refused = erin
        .ns
        .call_payload("PUT {}", &put_payload(&id, "erin@example.com", GUID_E))
        .await;
    assert_eq!(refused.command(), "204", "{}", refused.line());
    for m in [&mut alice, &mut bob, &mut carol] {
        assert!(m.drain().await.iter().all(|f| f.command() != "SDG"));
    }

    // Bob leaves (BreakConnection of his own contact in the circle's
    // book): the others see him leave, and he gets no more messages.
    let book = bob.find(&s, Some(&id)).await;
    let bobs_contact = book
        .at(PAGED)
        .at("Contacts")
        .all("Contact")
        .into_iter()
        .find(|c| c.text_at("contactInfo/contactType") == "Me")
        .unwrap()
        .text_at("contactId")
        .to_owned();
    bob.soap(
        &s,
        AB,
        "BreakConnection",
        &format!(
            "{}<contactId>{bobs_contact}</contactId><deleteContact>true</deleteContact>\
             <blockContact>false</blockContact>",
            ab_handle(&id)
        ),
    )
    .await;
    for m in [&mut alice, &mut carol] {
        let del =
            m.ns.wait_for("NFY DEL", |f| f.line().starts_with("NFY DEL "))
                .await;
        let text = String::from_utf8(del.payload().unwrap().to_vec()).unwrap();
        assert!(
            text.contains("Uri: /circle/roster(IM)/user(1:bob@example.com)\r\n"),
            "{text}"
        );
        assert_eq!(
            m.ns.recv_line().await,
            format!("FLN 1:bob@example.com;via={circle} 0:0")
        );
    }
    bob.expect_book_changed().await;
    assert!(circle_contacts(&bob.find(&s, None).await).is_empty());
    let again = sdg_payload(&id, "alice@example.com", GUID_A, "still there?");
    alice.ns.call_payload("SDG {}", &again).await;
    let got = carol.ns.wait_for("SDG", |f| f.command() == "SDG").await;
    assert_eq!(&got.payload().unwrap()[..], &again[..]);
    assert!(bob.drain().await.iter().all(|f| f.command() != "SDG"));
    let refused = bob
        .ns
        .call_payload("SDG {}", &sdg_payload(&id, "bob@example.com", GUID_B, "hi"))
        .await;
    assert_eq!(refused.command(), "204", "{}", refused.line());

    // Blocking a circle is not served.
    let block = format!(r#"<ml><d n="live.com"><c n="{id}" l="4" t="9"/></d></ml>"#);
    let refused = carol.ns.call_payload("ADL {}", block.as_bytes()).await;
    assert_eq!(refused.command(), "201", "{}", refused.line());
    // Carol removes the circle from her list (RML): Alice sees her leave
    // the conversation, and she gets no more messages.
    let rml = format!(r#"<ml><d n="live.com"><c n="{id}" l="1" t="9"/></d></ml>"#);
    let ok = carol.ns.call_payload("RML {}", rml.as_bytes()).await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let del = alice
        .ns
        .wait_for("NFY DEL", |f| f.line().starts_with("NFY DEL "))
        .await;
    assert!(String::from_utf8_lossy(del.payload().unwrap()).contains("user(1:carol@example.com)"));
    alice.ns.call_payload("SDG {}", &again).await;
    assert!(carol.drain().await.iter().all(|f| f.command() != "SDG"));
    // She joins again and signs out: Alice sees her leave once more.
    let put = carol
        .ns
        .call_payload("PUT {}", &put_payload(&id, carol.email, GUID_C))
        .await;
    assert!(put.line().ends_with(" OK 0"), "{}", put.line());
    carol.ns.send("OUT").await;
    carol.ns.expect_eof().await;
    alice
        .ns
        .wait_for("NFY PUT", |f| f.line().starts_with("NFY PUT "))
        .await;
    let del = alice
        .ns
        .wait_for("NFY DEL", |f| f.line().starts_with("NFY DEL "))
        .await;
    assert!(String::from_utf8_lossy(del.payload().unwrap()).contains("user(1:carol@example.com)"));

    // Alice, the admin, deletes the circle (BreakConnection of her own
    // contact): it is gone from every book.
    let book = alice.find(&s, Some(&id)).await;
    let alices_contact = book
        .at(PAGED)
        .at("Contacts")
        .all("Contact")
        .into_iter()
        .find(|c| c.text_at("contactInfo/contactType") == "Me")
        .unwrap()
        .text_at("contactId")
        .to_owned();
    alice
        .soap(
            &s,
            AB,
            "BreakConnection",
            &format!(
                "{}<contactId>{alices_contact}</contactId><deleteContact>true</deleteContact>\
                 <blockContact>false</blockContact>",
                ab_handle(&id)
            ),
        )
        .await;
    assert!(circle_contacts(&alice.find(&s, None).await).is_empty());
    assert!(circle_contacts(&carol.find(&s, None).await).is_empty());
    let refused = alice.ns.call_payload("SDG {}", &again).await;
    assert_eq!(refused.command(), "204", "{}", refused.line());

    // Dave (MSNP12), Alice's contact all along, saw nothing of it.
    dave.send("PNG").await;
    loop {
        let f = dave.recv().await;
        if f.command() == "QNG" {
            break;
        }
        let raw = format!(
            "{} {}",
            f.line(),
            String::from_utf8_lossy(f.payload().map(|p| &p[..]).unwrap_or(b""))
        );
        assert!(
            !["NFY", "SDG", "PUT", "NOT"].contains(&f.command()) && !raw.contains("live.com"),
            "MSNP12 saw {raw}"
        );
    }
}

impl Member {
    /// Signs `email` in on another machine, sharing this member's
    /// contacts ticket.
    async fn another_machine(&self, s: &TestServer, guid: &str) -> Member {
        Member {
            email: self.email,
            contacts: self.contacts.clone(),
            ns: wlm::online(s, 18, self.email, PW, Some(guid)).await,
        }
    }

    async fn create_circle(&self, s: &TestServer, name: &str) -> String {
        let created = self
            .soap(
                s,
                SHARING,
                "CreateCircle",
                &format!("<properties><DisplayName>{name}</DisplayName></properties>"),
            )
            .await;
        created
            .text_at("soap:Body/CreateCircleResponse/CreateCircleResult/Id")
            .to_owned()
    }

    async fn invite(&self, s: &TestServer, id: &str, invitee: &str) {
        self.soap(
            s,
            AB,
            "CreateContact",
            &format!(
                "{}<contactHandle><Email>{invitee}</Email></contactHandle>",
                ab_handle(id)
            ),
        )
        .await;
    }

    /// ManageWLConnection on the circle's contact: 1 accepts, 2 declines.
    async fn answer(&self, s: &TestServer, id: &str, action: u8) {
        self.soap(
            s,
            AB,
            "ManageWLConnection",
            &format!(
                "<contactId>{id}</contactId><connection>true</connection><presence>false</presence>\
                 <action>{action}</action><relationshipType>5</relationshipType><relationshipRole>0</relationshipRole>"
            ),
        )
        .await;
    }

    /// The contact id of `email` in circle `id`'s book.
    async fn member_contact(&self, s: &TestServer, id: &str, email: &str) -> String {
        let book = self.find(s, Some(id)).await;
        book.at(PAGED)
            .at("Contacts")
            .all("Contact")
            .into_iter()
            .find(|c| c.text_at("contactInfo/passportName") == email)
            .unwrap_or_else(|| panic!("{email} not in the circle's book"))
            .text_at("contactId")
            .to_owned()
    }

    /// Presents the circle ticket, adds the circle and joins its
    /// conversation; returns the roster it was given.
    async fn join(&mut self, s: &TestServer, id: &str, guid: &str) -> String {
        let find = self.find(s, None).await;
        self.present_ticket(&find).await;
        let adl = format!(r#"<ml><d n="live.com"><c n="{id}" l="1" t="9"/></d></ml>"#);
        let ok = self.ns.call_payload("ADL {}", adl.as_bytes()).await;
        assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
        let put = self
            .ns
            .call_payload("PUT {}", &put_payload(id, self.email, guid))
            .await;
        assert!(put.line().ends_with(" OK 0"), "{}", put.line());
        let nfy = self
            .ns
            .wait_for("NFY PUT", |f| f.line().starts_with("NFY PUT "))
            .await;
        roster(&nfy)
    }
}

/// A declined invitation leaves no trace; a message reaches the sender's
/// other machine; the admin removes a member, who then gets nothing.
#[tokio::test]
async fn declining_other_machines_and_removal() {
    let s = TestServer::start_with(|c| c.notification.max_dialect = 18).await;
    for (email, name) in [
        ("alice@example.com", "Alice"),
        ("bob@example.com", "Bob"),
        ("carol@example.com", "Carol"),
    ] {
        s.user(email, PW, name).await;
    }
    let mut home = Member::online(&s, "alice@example.com", GUID_A).await;
    let mut work = home.another_machine(&s, GUID_E).await;
    let mut bob = Member::online(&s, "bob@example.com", GUID_B).await;
    let mut carol = Member::online(&s, "carol@example.com", GUID_C).await;

    let id = home.create_circle(&s, "Team").await;
    home.invite(&s, &id, "bob@example.com").await;
    home.invite(&s, &id, "carol@example.com").await;
    carol.expect_book_changed().await;
    carol.answer(&s, &id, 2).await;
    assert!(circle_contacts(&carol.find(&s, None).await).is_empty());
    bob.answer(&s, &id, 1).await;
    let book = home.find(&s, Some(&id)).await;
    let members: Vec<&str> = book
        .at(PAGED)
        .at("Contacts")
        .all("Contact")
        .iter()
        .map(|c| c.text_at("contactInfo/passportName"))
        .collect();
    assert_eq!(members, ["alice@example.com", "bob@example.com"]);

    assert_eq!(
        home.join(&s, &id, GUID_A).await,
        users(&["alice@example.com"])
    );
    // Alice's second machine: she is in the conversation already.
    assert_eq!(
        work.join(&s, &id, GUID_E).await,
        users(&["alice@example.com"])
    );
    assert_eq!(
        bob.join(&s, &id, GUID_B).await,
        users(&["alice@example.com", "bob@example.com"])
    );
    let hello = sdg_payload(&id, "alice@example.com", GUID_A, "¡Hola, equipo!");
    home.ns.call_payload("SDG {}", &hello).await;
    for m in [&mut work, &mut bob] {
        let got = m.ns.wait_for("SDG", |f| f.command() == "SDG").await;
        assert_eq!(&got.payload().unwrap()[..], &hello[..]);
    }
    assert!(home.drain().await.iter().all(|f| f.command() != "SDG"));

    // The admin removes Bob.
    let bobs = home.member_contact(&s, &id, "bob@example.com").await;
    home.soap(
        &s,
        AB,
        "BreakConnection",
        &format!(
            "{}<contactId>{bobs}</contactId><deleteContact>true</deleteContact>\
             <blockContact>false</blockContact>",
            ab_handle(&id)
        ),
    )
    .await;
    bob.expect_book_changed().await;
    assert!(circle_contacts(&bob.find(&s, None).await).is_empty());
    for m in [&mut home, &mut work] {
        let del =
            m.ns.wait_for("NFY DEL", |f| f.line().starts_with("NFY DEL "))
                .await;
        assert!(
            String::from_utf8_lossy(del.payload().unwrap()).contains("user(1:bob@example.com)")
        );
    }
    home.ns.call_payload("SDG {}", &hello).await;
    work.ns.wait_for("SDG", |f| f.command() == "SDG").await;
    assert!(bob.drain().await.iter().all(|f| f.command() != "SDG"));
    let refused = bob
        .ns
        .call_payload("SDG {}", &sdg_payload(&id, "bob@example.com", GUID_B, "hi"))
        .await;
    assert_eq!(refused.command(), "204", "{}", refused.line());
    // Bob cannot remove Alice, nor read the circle's book any more.
    let request = soap(
        &bob.contacts,
        "CircleLeave",
        "BreakConnection",
        &format!(
            "{}<contactId>{}</contactId>",
            ab_handle(&id),
            home.member_contact(&s, &id, "alice@example.com").await
        ),
    );
    fault(
        s.http.unwrap(),
        AB,
        Some("BreakConnection"),
        &request,
        "ABDoesNotExist",
    )
    .await;
}
