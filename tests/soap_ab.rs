//! The address-book and sharing SOAP services (msnp13-18.md §4–§5) against
//! a real server over raw HTTP: requests are the vectors of soap/*.md
//! (copied into tests/soap/), replies are compared with the vectors'
//! responses structurally (qualified names, namespaces, order, values;
//! values the server chooses — ids, dates, cache keys — are skipped).
//! The lists are made by MSNP7 clients, edits made over SOAP are watched
//! by MSNP7 and MSNP10 clients, and tickets come from the server's own
//! RST.srf.

mod support;

use std::time::Duration;

use msn_auth::{Audience, Grant};
use msn_core::handle::Handle;
use support::soap::{El, call, fault, post, request, same, token, vector};
use support::{Client, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const AB: &str = "/abservice/abservice.asmx";
const SHARING: &str = "/abservice/SharingService.asmx";
const AB_NS: &str = "http://www.msn.com/webservices/AddressBook";

/// An envelope as the vectors' requests have it, around `body`.
fn envelope(ticket: &str, body: &str) -> String {
    let r = request("abcontactupdate.request.xml", ticket);
    let start = r.find("<soap:Body>").unwrap() + "<soap:Body>".len();
    let end = r.find("</soap:Body>").unwrap();
    format!("{}{body}{}", &r[..start], &r[end..])
}

/// The CID msnd gives account `id` (the PUID's number).
fn cid(id: i64) -> String {
    (msn_core::ids::puid(id) as i64).to_string()
}

/// soap/README.md's example account, its lists made by MSNP7 clients:
/// alice has bob (group Friends) and carol on FL and AL, and frank on BL;
/// bob, carol, erin and frank have alice on their FL, so she has them on
/// RL, and erin, whom she has not answered, on PL. Returns the server, the
/// account ids by name, and alice's contacts ticket.
async fn example() -> (TestServer, Vec<(&'static str, i64)>, String) {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for (user, name) in [
        ("alice", "Alice"),
        ("bob", "Bob"),
        ("carol", "Carol"),
        ("dave", "Dave"),
        ("erin", "Erin"),
        ("frank", "Frank"),
    ] {
        let id = s
            .user(&format!("{user}@example.com"), "p@ss&w0rd", name)
            .await;
        ids.push((user, id));
    }
    let mut alice = Client::login(s.ns, 7, "alice@example.com", "p@ss&w0rd").await;
    let adg = alice.call("ADG {} Friends 0").await;
    assert_eq!(adg.command(), "ADG", "{}", adg.line());
    let friends = adg.tokens().nth(4).unwrap().to_owned();
    for line in [
        format!("ADD {{}} FL bob@example.com Bob {friends}"),
        "ADD {} AL bob@example.com Bob".into(),
        "ADD {} FL carol@example.com Carol 0".into(),
        "ADD {} AL carol@example.com Carol".into(),
        "ADD {} BL frank@example.com Frank".into(),
    ] {
        let reply = alice.call(&line).await;
        assert_eq!(reply.command(), "ADD", "{}", reply.line());
    }
    drop(alice);
    for user in ["bob", "carol", "erin", "frank"] {
        let mut c = Client::login(s.ns, 7, &format!("{user}@example.com"), "p@ss&w0rd").await;
        let reply = c.call("ADD {} FL alice@example.com Alice 0").await;
        assert_eq!(reply.command(), "ADD", "{}", reply.line());
    }
    let http = s.http.expect("plain HTTP runs");
    let ticket = token(http, "alice@example.com", "p@ss&w0rd", "contacts.msn.com").await;
    (s, ids, ticket)
}

fn id_of(ids: &[(&str, i64)], user: &str) -> i64 {
    ids.iter().find(|(u, _)| *u == user).unwrap().1
}

/// The contact ids of alice's book by passport name (the Me contact as
/// "Me").
fn contact_ids(find: &El, result: &str, wrapper: &str) -> Vec<(String, String)> {
    find.at(&format!(
        "soap:Body/{result}Response/{result}Result/{wrapper}"
    ))
    .all("Contact")
    .iter()
    .map(|c| {
        let info = c.at("contactInfo");
        let name = if info.text_at("contactType") == "Me" {
            "Me".to_owned()
        } else {
            info.text_at("passportName").to_owned()
        };
        (name, c.text_at("contactId").to_owned())
    })
    .collect()
}

#[tokio::test]
async fn find_all_and_find_contacts_paged_show_lists_made_over_msnp7() {
    let (s, ids, ticket) = example().await;
    let http = s.http.unwrap();

    let got = El::parse(
        &call(
            http,
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    same(&El::parse(&vector("abfindall.response.xml")), &got, "");
    // Bob's group is the Friends group; CIDs are the PUIDs' numbers.
    let result = got.at("soap:Body/ABFindAllResponse/ABFindAllResult");
    let friends = result.text_at("groups/Group/groupId");
    let contacts = result.at("contacts").all("Contact");
    assert_eq!(contacts[0].text_at("contactInfo/groupIds/guid"), friends);
    assert_eq!(
        contacts[0].text_at("contactInfo/CID"),
        cid(id_of(&ids, "bob"))
    );
    assert_eq!(
        contacts[2].text_at("contactInfo/CID"),
        cid(id_of(&ids, "alice"))
    );
    assert_eq!(
        result.text_at("ab/abInfo/OwnerCID"),
        cid(id_of(&ids, "alice"))
    );

    // WLM 2009 keeps a Favorites group (an MSNP7 client can make one too).
    let mut alice = Client::login(s.ns, 7, "alice@example.com", "p@ss&w0rd").await;
    assert_eq!(alice.call("ADG {} Favorites 0").await.command(), "ADG");
    drop(alice);
    let got = El::parse(
        &call(
            http,
            //  libpurple's doubled slash (msnp13-18.md §4.4).
            "//abservice/abservice.asmx",
            "ABFindContactsPaged",
            &request("abfindcontactspaged.request.xml", &ticket),
        )
        .await,
    );
    let want = El::parse(&vector("abfindcontactspaged.response.xml"));
    same(&want, &got, "");
    // The circle ticket is a SignedTicket for alice's CID.
    let ticket = got.text_at(
        "soap:Body/ABFindContactsPagedResponse/ABFindContactsPagedResult/CircleResult/CircleTicket",
    );
    assert!(ticket.contains("<SignedTicket "), "{ticket}");
    s.stop().await;
}

#[tokio::test]
async fn find_membership_shows_allow_block_reverse_and_pending() {
    let (s, ids, ticket) = example().await;
    let http = s.http.unwrap();
    let got = El::parse(
        &call(
            http,
            SHARING,
            "FindMembership",
            &request("findmembership.request.xml", &ticket),
        )
        .await,
    );
    let mut want = El::parse(&vector("findmembership.response.xml"));
    // msnd keeps no invitation messages (its lists have no place for them).
    want.strip("Annotations");
    same(&want, &got, "");
    let memberships = got
        .at("soap:Body/FindMembershipResponse/FindMembershipResult/Services/Service/Memberships");
    let allow = memberships.all("Membership")[0].at("Members").all("Member");
    assert_eq!(allow[0].text_at("CID"), cid(id_of(&ids, "bob")));
    // Every MembershipId is a distinct integer.
    let mut seen = Vec::new();
    for m in memberships.all("Membership") {
        for member in m.at("Members").all("Member") {
            let id: i32 = member.text_at("MembershipId").parse().unwrap();
            assert!(!seen.contains(&id));
            seen.push(id);
        }
    }
    // A delta request: the documented fault, then a full one works.
    let delta = request("findmembership.request.xml", &ticket)
        .replace("</ABFindContactsPaged>", "")
        .replace(
            "<FindMembership xmlns=\"http://www.msn.com/webservices/AddressBook\">",
            "<FindMembership xmlns=\"http://www.msn.com/webservices/AddressBook\"><deltasOnly>true</deltasOnly>",
        );
    assert!(delta.contains("<deltasOnly>true</deltasOnly>"));
    let f = fault(
        http,
        SHARING,
        Some("FindMembership"),
        &delta,
        "FullSyncRequired",
    )
    .await;
    assert!(
        f.text_at("soap:Body/soap:Fault/faultstring")
            .contains("Full sync required")
    );
    s.stop().await;
}

#[tokio::test]
async fn contact_add_reaches_an_msnp7_user_and_delete_takes_it_back() {
    let (s, _, ticket) = example().await;
    let http = s.http.unwrap();
    let mut dave = s.online(7, "dave@example.com", "p@ss&w0rd", "NLN").await;

    let added = El::parse(
        &call(
            http,
            AB,
            "ABContactAdd",
            &request("abcontactadd.request.xml", &ticket),
        )
        .await,
    );
    same(&El::parse(&vector("abcontactadd.response.xml")), &added, "");
    let dave_id = added
        .text_at("soap:Body/ABContactAddResponse/ABContactAddResult/guid")
        .to_owned();
    // The MSNP7 user is told as for any add.
    let rl = dave
        .wait_for("ADD RL", |f| {
            f.command() == "ADD" && f.tokens().nth(2) == Some("RL")
        })
        .await;
    assert_eq!(rl.tokens().nth(1), Some("0"));
    assert_eq!(rl.tokens().nth(4), Some("alice@example.com"));

    // In the book, pending until dave adds alice; on her allow list.
    let find = El::parse(
        &call(
            http,
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    let book = contact_ids(&find, "ABFindAll", "contacts");
    assert!(
        book.contains(&("dave@example.com".into(), dave_id.clone())),
        "{book:?}"
    );
    let contacts = find.at("soap:Body/ABFindAllResponse/ABFindAllResult/contacts");
    let entry = contacts
        .all("Contact")
        .into_iter()
        .find(|c| c.text_at("contactId") == dave_id)
        .unwrap();
    assert_eq!(entry.text_at("contactInfo/contactType"), "LivePending");
    assert_eq!(entry.text_at("contactInfo/isMessengerUser"), "true");
    let members = call(
        http,
        SHARING,
        "FindMembership",
        &request("findmembership.request.xml", &ticket),
    )
    .await;
    let allow = &members[..members.find("<MemberRole>Block").unwrap()];
    assert!(allow.contains("<PassportName>dave@example.com</PassportName>"));

    // Twice: the documented conflict, naming the existing id.
    let f = fault(
        http,
        AB,
        Some("ABContactAdd"),
        &request("abcontactadd.request.xml", &ticket),
        "ContactAlreadyExists",
    )
    .await;
    assert_eq!(
        f.text_at("soap:Body/soap:Fault/detail/additionalDetails/conflictObjectId"),
        dave_id
    );
    // An address nobody has, and a malformed one.
    let nobody = request("abcontactadd.request.xml", &ticket)
        .replace("dave@example.com", "nobody@example.com");
    fault(
        http,
        AB,
        Some("ABContactAdd"),
        &nobody,
        "InvalidPassportUser",
    )
    .await;
    let bad = request("abcontactadd.request.xml", &ticket)
        .replace("dave@example.com", "dave.example.com");
    fault(http, AB, Some("ABContactAdd"), &bad, "BadEmailArgument").await;

    // Deleted (the id in upper case, as WLM 2009 may send it): dave's
    // reverse list loses alice.
    let delete = request("abcontactdelete.request.xml", &ticket).replace(
        "9ecbf0b0-a393-538e-8113-097b5e3c3e4c",
        &dave_id.to_ascii_uppercase(),
    );
    let done = El::parse(&call(http, AB, "ABContactDelete", &delete).await);
    same(
        &El::parse(&vector("abcontactdelete.response.xml")),
        &done,
        "",
    );
    let rem = dave
        .wait_for("REM RL", |f| {
            f.command() == "REM" && f.tokens().nth(2) == Some("RL")
        })
        .await;
    assert_eq!(rem.tokens().nth(4), Some("alice@example.com"));
    let find = El::parse(
        &call(
            http,
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    assert!(
        !contact_ids(&find, "ABFindAll", "contacts")
            .iter()
            .any(|(h, _)| h == "dave@example.com")
    );
    // Again: it is gone.
    let f = fault(
        http,
        AB,
        Some("ABContactDelete"),
        &delete,
        "ContactDoesNotExist",
    )
    .await;
    assert!(
        f.text_at("soap:Body/soap:Fault/detail/additionalDetails/conflictObjectId")
            .eq_ignore_ascii_case(&dave_id)
    );
    s.stop().await;
}

#[tokio::test]
async fn me_contact_updates_change_the_name_and_privacy_an_msnp7_watcher_sees() {
    let (s, _, ticket) = example().await;
    let http = s.http.unwrap();
    // erin has alice on her FL and is on none of alice's AL/BL: she sees
    // alice while alice allows everybody.
    let mut erin = s.online(7, "erin@example.com", "p@ss&w0rd", "NLN").await;
    let _alice = s.online_twn(12, "alice@example.com", "NLN 0").await;
    erin.wait_for("alice online", |f| {
        f.command() == "NLN" && f.tokens().nth(2) == Some("alice@example.com")
    })
    .await;

    let done = El::parse(
        &call(
            http,
            AB,
            "ABContactUpdate",
            &request("abcontactupdate.request.xml", &ticket),
        )
        .await,
    );
    same(
        &El::parse(&vector("abcontactupdate.response.xml")),
        &done,
        "",
    );
    // The new name, percent-encoded on the NS.
    let nln = erin
        .wait_for("the new name", |f| {
            f.command() == "NLN" && f.tokens().nth(2) == Some("alice@example.com")
        })
        .await;
    assert_eq!(nln.tokens().nth(3), Some("Alice%20(at%20work)"));
    let find = call(
        http,
        AB,
        "ABFindAll",
        &request("abfindall.request.xml", &ticket),
    )
    .await;
    assert!(find.contains("<displayName>Alice (at work)</displayName>"));

    // BLP 2 (only the allow list): erin sees alice go offline.
    let blp = envelope(&ticket, &vector("abcontactupdate.blp.body.xml"));
    call(http, AB, "ABContactUpdate", &blp).await;
    erin.wait_for("alice offline", |f| {
        f.command() == "FLN" && f.tokens().nth(1) == Some("alice@example.com")
    })
    .await;
    let find = El::parse(
        &call(
            http,
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    let me = find
        .at("soap:Body/ABFindAllResponse/ABFindAllResult/contacts")
        .all("Contact")
        .into_iter()
        .find(|c| c.text_at("contactInfo/contactType") == "Me")
        .unwrap();
    let blp_value = me
        .at("contactInfo/annotations")
        .all("Annotation")
        .into_iter()
        .find(|a| a.text_at("Name") == "MSN.IM.BLP")
        .unwrap()
        .text_at("Value")
        .to_owned();
    assert_eq!(blp_value, "2");
    // The same value again is no error; GTC 2 is stored.
    call(http, AB, "ABContactUpdate", &blp).await;
    let gtc = vector("abcontactupdate.blp.body.xml").replace("MSN.IM.BLP", "MSN.IM.GTC");
    call(http, AB, "ABContactUpdate", &envelope(&ticket, &gtc)).await;
    let find = call(
        http,
        AB,
        "ABFindAll",
        &request("abfindall.request.xml", &ticket),
    )
    .await;
    assert!(
        find.contains("<Name>MSN.IM.GTC</Name><Value>2</Value>"),
        "{find}"
    );
    s.stop().await;
}

fn group_body(action: &str, inner: &str) -> String {
    format!(
        r#"<{action} xmlns="{AB_NS}"><abId>00000000-0000-0000-0000-000000000000</abId>{inner}</{action}>"#
    )
}

#[tokio::test]
async fn group_edits_show_in_an_msnp10_syn() {
    let (s, _, ticket) = example().await;
    let http = s.http.unwrap();
    let mut alice = s.online_twn(10, "alice@example.com", "NLN 0").await;

    let added = El::parse(
        &call(
            http,
            AB,
            "ABGroupAdd",
            &request("abgroupadd.request.xml", &ticket),
        )
        .await,
    );
    same(&El::parse(&vector("abgroupadd.response.xml")), &added, "");
    let work = added
        .text_at("soap:Body/ABGroupAddResponse/ABGroupAddResult/guid")
        .to_owned();
    fault(
        http,
        AB,
        Some("ABGroupAdd"),
        &request("abgroupadd.request.xml", &ticket),
        "GroupAlreadyExists",
    )
    .await;

    let find = El::parse(
        &call(
            http,
            AB,
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    let ids = contact_ids(&find, "ABFindAll", "contacts");
    let carol = &ids
        .iter()
        .find(|(h, _)| h == "carol@example.com")
        .unwrap()
        .1;
    let filter = format!(
        "<groupFilter><groupIds><guid>{work}</guid></groupIds></groupFilter><contacts><Contact><contactId>{carol}</contactId></Contact></contacts>"
    );
    let r = El::parse(
        &call(
            http,
            AB,
            "ABGroupContactAdd",
            &envelope(&ticket, &group_body("ABGroupContactAdd", &filter)),
        )
        .await,
    );
    assert_eq!(
        r.text_at("soap:Body/ABGroupContactAddResponse/ABGroupContactAddResult/guid"),
        carol
    );
    let rename = format!(
        "<groups><Group><groupId>{work}</groupId><groupInfo><name>Job &amp; more</name></groupInfo><propertiesChanged>GroupName</propertiesChanged></Group></groups>"
    );
    call(
        http,
        AB,
        "ABGroupUpdate",
        &envelope(&ticket, &group_body("ABGroupUpdate", &rename)),
    )
    .await;

    // The MSNP10 session sees the group (renamed) and carol in it.
    let syn = alice.call("SYN {} 0 0").await;
    assert_eq!(syn.command(), "SYN");
    let mut lines = Vec::new();
    loop {
        let f = alice.recv().await;
        let done = f.command() == "LST" && f.line().contains("frank@example.com");
        lines.push(f.line().to_owned());
        if done {
            break;
        }
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("LSG Job%20&%20more ") && l.ends_with(&work)),
        "{lines:?}"
    );
    let carol_line = lines
        .iter()
        .find(|l| l.starts_with("LST N=carol@example.com"))
        .unwrap();
    assert!(carol_line.ends_with(&work), "{carol_line}");

    // Out of the group again: still on the FL, in no group.
    call(
        http,
        AB,
        "ABGroupContactDelete",
        &envelope(&ticket, &group_body("ABGroupContactDelete", &filter)),
    )
    .await;
    let delete = format!("<groupFilter><groupIds><guid>{work}</guid></groupIds></groupFilter>");
    call(
        http,
        AB,
        "ABGroupDelete",
        &envelope(&ticket, &group_body("ABGroupDelete", &delete)),
    )
    .await;
    alice.call("SYN {} 0 0").await;
    let mut lines = Vec::new();
    loop {
        let f = alice.recv().await;
        let done = f.command() == "LST" && f.line().contains("frank@example.com");
        lines.push(f.line().to_owned());
        if done {
            break;
        }
    }
    assert!(!lines.iter().any(|l| l.contains(&work)), "{lines:?}");
    let carol_line = lines
        .iter()
        .find(|l| l.starts_with("LST N=carol@example.com"))
        .unwrap();
    // On FL and AL and RL (1 + 2 + 8), no group.
    assert!(carol_line.contains(" 11"), "{carol_line}");
    fault(
        http,
        AB,
        Some("ABGroupDelete"),
        &envelope(&ticket, &group_body("ABGroupDelete", &delete)),
        "GroupDoesNotExist",
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn add_and_delete_member_allow_and_block() {
    let (s, _, ticket) = example().await;
    let http = s.http.unwrap();
    let mut bob = s.online(7, "bob@example.com", "p@ss&w0rd", "NLN").await;
    let _alice = s.online_twn(12, "alice@example.com", "NLN 0").await;
    bob.wait_for("alice online", |f| {
        f.command() == "NLN" && f.tokens().nth(2) == Some("alice@example.com")
    })
    .await;
    let edit = |action: &str, role: &str, who: &str| {
        request(
            &format!("{}.request.xml", action.to_ascii_lowercase()),
            &ticket,
        )
        .replace(
            &format!(
                "<MemberRole>{}</MemberRole>",
                if action == "AddMember" {
                    "Allow"
                } else {
                    "Pending"
                }
            ),
            &format!("<MemberRole>{role}</MemberRole>"),
        )
        .replace("erin@example.com", who)
    };

    // Block bob (DeleteMember Allow, AddMember Block): he sees alice leave.
    let r = El::parse(
        &call(
            http,
            SHARING,
            "DeleteMember",
            &edit("DeleteMember", "Allow", "bob@example.com"),
        )
        .await,
    );
    same(&El::parse(&vector("deletemember.response.xml")), &r, "");
    let r = El::parse(
        &call(
            http,
            SHARING,
            "AddMember",
            &edit("AddMember", "Block", "bob@example.com"),
        )
        .await,
    );
    same(&El::parse(&vector("addmember.response.xml")), &r, "");
    bob.wait_for("alice offline", |f| {
        f.command() == "FLN" && f.tokens().nth(1) == Some("alice@example.com")
    })
    .await;
    let members = call(
        http,
        SHARING,
        "FindMembership",
        &request("findmembership.request.xml", &ticket),
    )
    .await;
    let block_start = members.find("<MemberRole>Block").unwrap();
    let reverse_start = members.find("<MemberRole>Reverse").unwrap();
    assert!(!members[..block_start].contains("bob@example.com"));
    assert!(members[block_start..reverse_start].contains("bob@example.com"));
    // Idempotent.
    call(
        http,
        SHARING,
        "AddMember",
        &edit("AddMember", "Block", "bob@example.com"),
    )
    .await;

    // Unblock by MembershipId, allow again: he sees her come back.
    let block = El::parse(&members);
    let block_members = block
        .at("soap:Body/FindMembershipResponse/FindMembershipResult/Services/Service/Memberships")
        .all("Membership")[1]
        .at("Members")
        .all("Member");
    let bob_id = block_members
        .iter()
        .find(|m| m.text_at("PassportName") == "bob@example.com")
        .unwrap()
        .text_at("MembershipId")
        .to_owned();
    let by_id = edit("DeleteMember", "Block", "bob@example.com").replace(
        "<PassportName>bob@example.com</PassportName>",
        &format!("<MembershipId>{bob_id}</MembershipId>"),
    );
    call(http, SHARING, "DeleteMember", &by_id).await;
    call(
        http,
        SHARING,
        "AddMember",
        &edit("AddMember", "Allow", "bob@example.com"),
    )
    .await;
    bob.wait_for("alice online", |f| {
        f.command() == "NLN" && f.tokens().nth(2) == Some("alice@example.com")
    })
    .await;
    // Not (or no longer) in the role; nobody at all.
    fault(
        http,
        SHARING,
        Some("DeleteMember"),
        &by_id,
        "MemberDoesNotExist",
    )
    .await;
    fault(
        http,
        SHARING,
        Some("DeleteMember"),
        &edit("DeleteMember", "Block", "bob@example.com"),
        "MemberDoesNotExist",
    )
    .await;
    fault(
        http,
        SHARING,
        Some("AddMember"),
        &edit("AddMember", "Allow", "nobody@example.com"),
        "UserDoesNotExist",
    )
    .await;
    // Accepting erin: AddMember Allow settles her pending request.
    call(
        http,
        SHARING,
        "AddMember",
        &edit("AddMember", "Allow", "erin@example.com"),
    )
    .await;
    let members = call(
        http,
        SHARING,
        "FindMembership",
        &request("findmembership.request.xml", &ticket),
    )
    .await;
    let pending = &members[members.find("<MemberRole>Pending").unwrap()..];
    assert!(!pending.contains("erin@example.com"), "{pending}");
    s.stop().await;
}

#[tokio::test]
async fn bad_requests_get_faults_and_change_nothing() {
    let (s, ids, ticket) = example().await;
    let http = s.http.unwrap();
    let add = |t: &str| request("abcontactadd.request.xml", t);

    // No ticket, a ticket for another audience, an expired one, garbage.
    let none = add(&ticket).replace(
        &format!(
            "<TicketToken>{}</TicketToken>",
            ticket.replace('&', "&amp;")
        ),
        "",
    );
    let storage = token(http, "alice@example.com", "p@ss&w0rd", "storage.msn.com").await;
    let expired = s.shared().tokens.issue(
        Grant::bearer(
            Handle::parse("alice@example.com").unwrap(),
            id_of(&ids, "alice"),
            Audience::Contacts,
        ),
        Duration::ZERO,
    );
    for body in [
        none,
        add(&storage),
        add(&expired),
        add("t=garbage&p="),
        add(""),
    ] {
        let mut got = fault(http, AB, Some("ABContactAdd"), &body, "PassportAuthFail").await;
        // The vector's is for ABFindAll; the texts are free.
        let mut w = El::parse(&vector("fault.passportauthfail.xml"));
        for el in [&mut w, &mut got] {
            el.strip("faultactor");
            el.strip("faultstring");
            el.strip("errorstring");
            el.strip("machineName");
        }
        same(&w, &got, "");
    }
    // A token for the same service but a Messenger login ticket: no.
    let login = s.ticket("alice@example.com").await;
    fault(
        http,
        AB,
        Some("ABContactAdd"),
        &add(&login),
        "PassportAuthFail",
    )
    .await;

    // Malformed XML, a body that is no SOAP envelope, an oversized body,
    // an unknown action, an action the body does not match.
    let good = add(&ticket);
    fault(
        http,
        AB,
        Some("ABContactAdd"),
        &good[..good.len() / 2],
        "BadArgument",
    )
    .await;
    fault(http, AB, Some("ABContactAdd"), "<a><b></a>", "BadArgument").await;
    fault(http, AB, Some("ABContactAdd"), "<Envelope/>", "BadArgument").await;
    let huge = good.replace("Hi Dave", &"x".repeat(300 * 1024));
    fault(http, AB, Some("ABContactAdd"), &huge, "BadArgument").await;
    let unknown = good.replace("ABContactAdd", "ABFrobnicate");
    fault(http, AB, Some("ABFrobnicate"), &unknown, "UnknownAction").await;
    fault(http, AB, Some("ABFindAll"), &good, "BadArgument").await;
    // A sharing action on the address book's path.
    fault(
        http,
        AB,
        Some("FindMembership"),
        &request("findmembership.request.xml", &ticket),
        "UnknownAction",
    )
    .await;
    // Deltas: the documented fault.
    let delta =
        request("abfindall.request.xml", &ticket).replace("<deltasOnly>false", "<deltasOnly>true");
    fault(http, AB, Some("ABFindAll"), &delta, "FullSyncRequired").await;

    // None of it added dave; without a SOAPAction the body names the call.
    let find = post(http, AB, None, &request("abfindall.request.xml", &ticket)).await;
    assert_eq!(find.status, 200);
    assert!(!find.body.contains("dave@example.com"));
    // Only POST.
    let mut stream = TcpStream::connect(http).await.unwrap();
    stream
        .write_all(
            b"GET /abservice/abservice.asmx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
    s.stop().await;
}
