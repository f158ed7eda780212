//! Friendly names are kept as text: decoded once from whatever encoding a
//! client used, limited in characters, encoded again for every other
//! client, given to SOAP as text, and always the name the contact has now.

mod support;

use support::soap::{El, call, request, token};
use support::{Client, TestServer};

const PW: &str = "p@ss&w0rd";

/// alice and bob on each other's lists, both MSNP7 and online.
async fn friends(s: &TestServer) -> (Client, Client) {
    s.user("alice@example.com", PW, "Alice").await;
    s.user("bob@example.com", PW, "Bob").await;
    s.seed_friends(("alice@example.com", "Alice"), ("bob@example.com", "Bob"))
        .await;
    let alice = s.online(7, "alice@example.com", PW, "NLN").await;
    let mut bob = s.online(7, "bob@example.com", PW, "NLN").await;
    bob.barrier().await;
    (alice, bob)
}

/// The display names of alice's address book by passport name.
async fn book_names(s: &TestServer) -> Vec<(String, String)> {
    let http = s.http.unwrap();
    let ticket = token(http, "alice@example.com", PW, "contacts.msn.com").await;
    let find = El::parse(
        &call(
            http,
            "/abservice/abservice.asmx",
            "ABFindAll",
            &request("abfindall.request.xml", &ticket),
        )
        .await,
    );
    find.at("soap:Body/ABFindAllResponse/ABFindAllResult/contacts")
        .all("Contact")
        .iter()
        .map(|c| {
            let info = c.at("contactInfo");
            let who = if info.text_at("contactType") == "Me" {
                "Me".to_owned()
            } else {
                info.text_at("passportName").to_owned()
            };
            (who, info.text_at("displayName").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_name_is_decoded_once_and_encoded_for_everyone_else() {
    let s = TestServer::start().await;
    let (mut alice, mut bob) = friends(&s).await;
    // bob's client encodes more than it must; his own reply echoes it.
    let rea = bob
        .call("REA {} bob@example.com Bob%20%28at%20work%29%20%E2%98%95")
        .await;
    assert!(
        rea.line()
            .ends_with(" bob@example.com Bob%20%28at%20work%29%20%E2%98%95"),
        "{}",
        rea.line()
    );
    // alice is sent the name re-encoded: only what must be.
    alice
        .wait_for("bob's new name", |f| {
            f.line() == "NLN NLN bob@example.com Bob%20(at%20work)%20%E2%98%95"
        })
        .await;
    // SOAP reads the text itself.
    let names = book_names(&s).await;
    assert!(
        names.contains(&("bob@example.com".into(), "Bob (at work) ☕".into())),
        "{names:?}"
    );
    // Signing in again, alice's list shows bob's current name.
    drop(alice);
    let mut alice = Client::login(s.ns, 7, "alice@example.com", PW).await;
    let syn = alice.call("SYN {} 0").await;
    assert_eq!(syn.command(), "SYN");
    alice
        .wait_for("bob in the FL", |f| {
            f.line().starts_with("LST ")
                && f.line().contains(" FL ")
                && f.line()
                    .contains(" bob@example.com Bob%20(at%20work)%20%E2%98%95 ")
        })
        .await;
    s.stop().await;
}

#[tokio::test]
async fn names_are_limited_in_characters_not_encoded_bytes() {
    let s = TestServer::start().await;
    let (_alice, mut bob) = friends(&s).await;
    // 129 characters of three bytes each: 1 161 encoded bytes, accepted.
    let longest = "%E2%98%95".repeat(129);
    let ok = bob
        .call(&format!("REA {{}} bob@example.com {longest}"))
        .await;
    assert_eq!(ok.command(), "REA", "{}", ok.line());
    // One more character is refused, as is text that is not UTF-8.
    let long = "%E2%98%95".repeat(130);
    let refused = bob.call(&format!("REA {{}} bob@example.com {long}")).await;
    assert_eq!(refused.command(), "209");
    let refused = bob.call("REA {} bob@example.com %FF%FE").await;
    assert_eq!(refused.command(), "209");
    // What is stored is the last accepted name.
    let names = book_names(&s).await;
    assert!(
        names.contains(&("bob@example.com".into(), "☕".repeat(129))),
        "{names:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_name_set_over_soap_reaches_msnp7_encoded() {
    let s = TestServer::start().await;
    let (mut alice, _bob) = friends(&s).await;
    let http = s.http.unwrap();
    let ticket = token(http, "bob@example.com", PW, "contacts.msn.com").await;
    // bob's WLM renames him through the Me contact: XML text, escaped.
    let body = request("abcontactupdate.request.xml", &ticket);
    let start = body.find("<displayName>").expect("a displayName") + "<displayName>".len();
    let end = start + body[start..].find("</displayName>").unwrap();
    let body = format!(
        "{}Bob &amp; &lt;Co&gt; 100%{}",
        &body[..start],
        &body[end..]
    );
    call(http, "/abservice/abservice.asmx", "ABContactUpdate", &body).await;
    alice
        .wait_for("bob's name from SOAP", |f| {
            f.line() == "NLN NLN bob@example.com Bob%20&%20<Co>%20100%25"
        })
        .await;
    s.stop().await;
}
