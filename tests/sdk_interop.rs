//! Interoperability with a real third-party MSNP11 client, `msnp11-sdk`:
//! two SDK clients sign in through the dispatch server and the Passport
//! nexus, add each other, see presence and personal messages, chat both
//! ways, manage groups, block and unblock, sign out and find their lists
//! intact when they come back.
//!
//! What the SDK does that the protocol documents do not say (all handled by
//! the server): it never answers `CHL`; it drops its connection unless `QNG`
//! carries an interval above 5; it often closes without sending `OUT`; it
//! blocks with `ADC BL` *before* `REM AL`; it reads the version-field forms
//! of `ADG`/`RMG`/`REG` replies only.

mod support;

use std::sync::Arc;
use std::time::Duration;

use msnp11_sdk::{Client, Event, MsnpList, MsnpStatus, PersonalMessage, PlainText};
use support::TestServer;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::timeout;

/// Every SDK call is bounded: the SDK itself never times out.
const T: Duration = Duration::from_secs(10);

struct Sdk {
    client: Arc<Client>,
    events: UnboundedReceiver<Event>,
}

/// Signs in the way real MSN 7 does: dispatch server first, then the NS it
/// names, with the Passport ticket from the nexus and login service.
async fn sign_in(s: &TestServer, email: &str, password: &str) -> Sdk {
    let nexus = format!(
        "http://127.0.0.1:{}/rdr/pprdr.asp",
        s.http.expect("http").port()
    );
    let ds = Client::new("127.0.0.1", s.ds.port())
        .await
        .expect("connect to DS");
    let referral = timeout(
        T,
        ds.login(email.to_owned(), password, &nexus, "msnp11-sdk", "0.13.0"),
    )
    .await
    .expect("DS answers")
    .expect("DS login step");
    let Event::RedirectedTo { server, port } = referral else {
        panic!("the DS did not refer the client: {referral:?}");
    };
    assert_eq!((server.as_str(), port), ("127.0.0.1", s.ns.port()));
    drop(ds);
    let client = Client::new(&server, port).await.expect("connect to NS");
    let done = timeout(
        T,
        client.login(email.to_owned(), password, &nexus, "msnp11-sdk", "0.13.0"),
    )
    .await
    .expect("NS answers")
    .expect("NS login");
    assert!(matches!(done, Event::Authenticated), "{done:?}");
    let (tx, events) = unbounded_channel();
    client.add_event_handler_closure(move |e| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(e);
        }
    });
    Sdk {
        client: Arc::new(client),
        events,
    }
}

async fn wait_for(
    events: &mut UnboundedReceiver<Event>,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    timeout(T, async {
        loop {
            let e = events.recv().await.expect("event channel open");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what}"))
}

/// Collects the events of a fresh sign-in's list download, up to and
/// including the forward-list entry of `last` (the download's last line:
/// entries come in handle order, after the settings and groups).
async fn list_download(events: &mut UnboundedReceiver<Event>, last: &str) -> Vec<Event> {
    let mut got = Vec::new();
    timeout(T, async {
        loop {
            let e = events.recv().await.expect("event channel open");
            let done = matches!(&e, Event::ContactInForwardList { email, .. } if email == last);
            got.push(e);
            if done {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the list download never reached {last}"));
    got
}

/// The text of the next personal-message update.
async fn next_personal_message(events: &mut UnboundedReceiver<Event>, what: &str) -> String {
    match wait_for(events, what, |e| {
        matches!(e, Event::PersonalMessageUpdate { .. })
    })
    .await
    {
        Event::PersonalMessageUpdate {
            personal_message, ..
        } => personal_message.psm,
        _ => unreachable!(),
    }
}

/// The (name, guid) of every group in a list download.
fn groups_in(download: &[Event]) -> Vec<(String, String)> {
    download
        .iter()
        .filter_map(|e| match e {
            Event::Group { name, guid } => Some((name.clone(), guid.clone())),
            _ => None,
        })
        .collect()
}

fn text(s: &str) -> PlainText {
    PlainText {
        bold: false,
        italic: true,
        underline: false,
        strikethrough: false,
        color: "0".into(),
        text: s.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sdk_clients_use_everything() {
    let s = TestServer::start().await;
    s.user("alice@example.com", "alicepw", "Alice").await;
    s.user("bob@example.com", "bobpw", "Bob").await;

    let mut alice = sign_in(&s, "alice@example.com", "alicepw").await;
    let mut bob = sign_in(&s, "bob@example.com", "bobpw").await;
    timeout(T, alice.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();
    timeout(T, bob.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();

    // They add each other (FL and AL); each is told about the other.
    let added = timeout(
        T,
        alice
            .client
            .add_contact("bob@example.com", "Bob", MsnpList::ForwardList),
    )
    .await
    .unwrap()
    .unwrap();
    let Event::ContactInForwardList { guid: bob_guid, .. } = added else {
        panic!("{added:?}")
    };
    timeout(
        T,
        alice
            .client
            .add_contact("bob@example.com", "Bob", MsnpList::AllowList),
    )
    .await
    .unwrap()
    .unwrap();
    wait_for(
        &mut alice.events,
        "bob's presence",
        |e| matches!(e, Event::InitialPresenceUpdate { email, .. } if email == "bob@example.com"),
    )
    .await;
    wait_for(
        &mut bob.events,
        "added-by notice",
        |e| matches!(e, Event::AddedBy { email, .. } if email == "alice@example.com"),
    )
    .await;
    timeout(
        T,
        bob.client
            .add_contact("alice@example.com", "Alice", MsnpList::ForwardList),
    )
    .await
    .unwrap()
    .unwrap();
    timeout(
        T,
        bob.client
            .add_contact("alice@example.com", "Alice", MsnpList::AllowList),
    )
    .await
    .unwrap()
    .unwrap();
    wait_for(
        &mut bob.events,
        "alice's presence",
        |e| matches!(e, Event::InitialPresenceUpdate { email, .. } if email == "alice@example.com"),
    )
    .await;

    // Presence and personal messages reach the watcher.
    timeout(T, bob.client.set_presence(MsnpStatus::Busy))
        .await
        .unwrap()
        .unwrap();
    let busy = wait_for(&mut alice.events, "bob busy", |e| {
        matches!(e, Event::PresenceUpdate { .. })
    })
    .await;
    let Event::PresenceUpdate {
        email, presence, ..
    } = busy
    else {
        unreachable!()
    };
    assert_eq!(
        (email.as_str(), presence.status),
        ("bob@example.com", MsnpStatus::Busy)
    );
    let pm = PersonalMessage {
        psm: "Coffee & code".into(),
        current_media: String::new(),
    };
    timeout(T, bob.client.set_personal_message(&pm))
        .await
        .unwrap()
        .unwrap();
    let psm = next_personal_message(&mut alice.events, "bob's personal message").await;
    assert_eq!(psm, "Coffee & code");
    timeout(T, alice.client.set_display_name("Alice A."))
        .await
        .unwrap()
        .unwrap();
    let renamed = wait_for(
        &mut bob.events,
        "alice's new name",
        |e| matches!(e, Event::PresenceUpdate { display_name, .. } if display_name == "Alice A."),
    )
    .await;
    assert!(matches!(renamed, Event::PresenceUpdate { .. }));

    // A switchboard, messages both ways, a nudge.
    let sb = timeout(T, alice.client.create_session("bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    let (stx, mut alice_sb) = unbounded_channel();
    sb.add_event_handler_closure(move |e| {
        let stx = stx.clone();
        async move {
            let _ = stx.send(e);
        }
    });
    wait_for(&mut alice_sb, "bob joins", |e| {
        matches!(e, Event::ParticipantInSwitchboard { .. })
    })
    .await;
    let answered = wait_for(&mut bob.events, "session", |e| {
        matches!(e, Event::SessionAnswered(_))
    })
    .await;
    let Event::SessionAnswered(bob_session) = answered else {
        unreachable!()
    };
    let (btx, mut bob_sb) = unbounded_channel();
    bob_session.add_event_handler_closure(move |e| {
        let btx = btx.clone();
        async move {
            let _ = btx.send(e);
        }
    });
    timeout(T, sb.send_text_message(&text("hello bob")))
        .await
        .unwrap()
        .unwrap();
    let got = wait_for(&mut bob_sb, "alice's message", |e| {
        matches!(e, Event::TextMessage { .. })
    })
    .await;
    let Event::TextMessage { email, message } = got else {
        unreachable!()
    };
    assert_eq!(
        (email.as_str(), message),
        ("alice@example.com", text("hello bob"))
    );
    timeout(T, bob_session.send_text_message(&text("hi alice ☺")))
        .await
        .unwrap()
        .unwrap();
    let got = wait_for(&mut alice_sb, "bob's message", |e| {
        matches!(e, Event::TextMessage { .. })
    })
    .await;
    let Event::TextMessage { message, .. } = got else {
        unreachable!()
    };
    assert_eq!(message.text, "hi alice ☺");
    timeout(T, sb.send_nudge()).await.unwrap().unwrap();
    wait_for(&mut bob_sb, "nudge", |e| matches!(e, Event::Nudge { .. })).await;
    timeout(T, bob_session.send_typing_user("bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    wait_for(&mut alice_sb, "typing", |e| {
        matches!(e, Event::TypingNotification { .. })
    })
    .await;
    timeout(T, bob_session.disconnect()).await.unwrap().unwrap();
    wait_for(&mut alice_sb, "bob leaves", |e| {
        matches!(e, Event::ParticipantLeftSwitchboard { .. })
    })
    .await;
    let _ = timeout(T, sb.disconnect()).await;

    // Blocking hides alice from bob; unblocking shows her again.
    timeout(T, alice.client.block_contact("bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    wait_for(
        &mut bob.events,
        "alice offline",
        |e| matches!(e, Event::ContactOffline { email } if email == "alice@example.com"),
    )
    .await;
    timeout(T, alice.client.unblock_contact("bob@example.com"))
        .await
        .unwrap()
        .unwrap();
    wait_for(
        &mut bob.events,
        "alice back",
        |e| matches!(e, Event::PresenceUpdate { email, .. } if email == "alice@example.com"),
    )
    .await;

    // Groups: create, then (after coming back) rename, use, delete.
    timeout(T, alice.client.create_group("Friends"))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.create_group("Work"))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.disconnect())
        .await
        .unwrap()
        .unwrap();
    wait_for(
        &mut bob.events,
        "alice signs out",
        |e| matches!(e, Event::ContactOffline { email } if email == "alice@example.com"),
    )
    .await;

    let mut alice = sign_in(&s, "alice@example.com", "alicepw").await;
    let download = list_download(&mut alice.events, "bob@example.com").await;
    let groups = groups_in(&download);
    assert_eq!(
        groups.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
        ["Friends", "Work"]
    );
    assert!(
        download
            .iter()
            .any(|e| matches!(e, Event::DisplayName(n) if n == "Alice A."))
    );
    let bob_entry = download
        .iter()
        .find_map(|e| match e {
            Event::ContactInForwardList {
                email, guid, lists, ..
            } if email == "bob@example.com" => Some((guid.clone(), lists.clone())),
            _ => None,
        })
        .expect("bob still on alice's list");
    assert_eq!(bob_entry.0, bob_guid);
    for list in [
        MsnpList::ForwardList,
        MsnpList::AllowList,
        MsnpList::ReverseList,
    ] {
        assert!(bob_entry.1.contains(&list), "{list:?} in {:?}", bob_entry.1);
    }
    assert!(!bob_entry.1.contains(&MsnpList::BlockList));
    let (friends, work) = (groups[0].1.clone(), groups[1].1.clone());
    timeout(T, alice.client.rename_group(&friends, "Pals"))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.add_contact_to_group(&bob_guid, &friends))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.add_contact_to_group(&bob_guid, &work))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.remove_contact_from_group(&bob_guid, &work))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.delete_group(&work))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.disconnect())
        .await
        .unwrap()
        .unwrap();
    timeout(T, bob.client.disconnect()).await.unwrap().unwrap();

    // Both come back to intact lists.
    let mut alice = sign_in(&s, "alice@example.com", "alicepw").await;
    let download = list_download(&mut alice.events, "bob@example.com").await;
    let groups = groups_in(&download);
    assert_eq!(groups, [("Pals".to_owned(), friends.clone())]);
    let in_groups = download.iter().find_map(|e| match e {
        Event::ContactInForwardList { email, groups, .. } if email == "bob@example.com" => {
            Some(groups.clone())
        }
        _ => None,
    });
    assert_eq!(in_groups, Some(vec![friends]));
    let mut bob = sign_in(&s, "bob@example.com", "bobpw").await;
    let download = list_download(&mut bob.events, "alice@example.com").await;
    assert!(download.iter().any(|e| matches!(
        e,
        Event::ContactInForwardList { email, .. } if email == "alice@example.com"
    )));
    // The personal message was stored too: alice sees it when bob is back.
    timeout(T, bob.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();
    timeout(T, alice.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();
    let psm = next_personal_message(&mut alice.events, "stored personal message").await;
    assert_eq!(psm, "Coffee & code");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_refused() {
    let s = TestServer::start().await;
    s.user("alice@example.com", "alicepw", "Alice").await;
    let nexus = format!("http://127.0.0.1:{}/rdr/pprdr.asp", s.http.unwrap().port());
    let client = Client::new("127.0.0.1", s.ns.port()).await.unwrap();
    let r = timeout(
        T,
        client.login(
            "alice@example.com".into(),
            "nope",
            &nexus,
            "msnp11-sdk",
            "0.13.0",
        ),
    )
    .await
    .expect("answers");
    assert!(r.is_err(), "{r:?}");
    s.stop().await;
}

/// WLM 8.5 (MSNP15, raw) and msnp11-sdk (MSNP11) on one account base: each
/// adds the other in its own way (ADL / ADC), each sees the other's
/// presence, and they chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_msnp15_user_and_an_sdk_user_add_each_other_and_chat() {
    let s = TestServer::start().await;
    s.user("alice@example.com", "alicepw", "Alice").await;
    s.user("carol@example.com", "carolpw", "Carol").await;
    let mut alice = sign_in(&s, "alice@example.com", "alicepw").await;
    timeout(T, alice.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();
    let mut carol = support::wlm::online(&s, 15, "carol@example.com", "carolpw", None).await;

    // Carol (WLM 8.5) adds Alice with ADL: the SDK hears it as ADC 0 RL.
    // Alice is online and allows everyone: her presence comes with the
    // ADL's TrID (ILN) before `ADL t OK`.
    let doc = support::wlm::ml("alice@example.com", 3);
    let trid = carol.trid();
    carol
        .send_payload(&format!("ADL {trid}"), doc.as_bytes())
        .await;
    let iln = carol.recv_line().await;
    assert!(
        iln.starts_with(&format!("ILN {trid} NLN alice@example.com 1 Alice ")),
        "{iln}"
    );
    carol.expect(&format!("ADL {trid} OK")).await;
    wait_for(
        &mut alice.events,
        "added-by notice",
        |e| matches!(e, Event::AddedBy { email, .. } if email == "carol@example.com"),
    )
    .await;
    // Alice adds Carol back: Carol gets ADL 0 with Alice on her reverse
    // list, and each sees the other online in her own form.
    for list in [MsnpList::ForwardList, MsnpList::AllowList] {
        timeout(
            T,
            alice.client.add_contact("carol@example.com", "Carol", list),
        )
        .await
        .unwrap()
        .unwrap();
    }
    let notice = carol
        .wait_for("ADL 0", |f| f.line().starts_with("ADL 0 "))
        .await;
    assert!(
        String::from_utf8_lossy(notice.payload().unwrap()).contains(r#"<c n="alice" t="1" l="8""#)
    );
    wait_for(
        &mut alice.events,
        "carol's presence",
        |e| matches!(e, Event::InitialPresenceUpdate { email, .. } if email == "carol@example.com"),
    )
    .await;

    // The SDK opens a chat; Carol answers the RNG (MSNP14+ form) and gets
    // the message.
    let sb = timeout(T, alice.client.create_session("carol@example.com"))
        .await
        .unwrap()
        .unwrap();
    let rng = carol.wait_for("RNG", |f| f.command() == "RNG").await;
    assert!(
        rng.line().ends_with(" U messenger.hotmail.com 1"),
        "{}",
        rng.line()
    );
    let w: Vec<&str> = rng.line().split(' ').collect();
    let mut c_sb = support::Client::connect(s.sb).await;
    c_sb.send(&format!("ANS 1 carol@example.com {} {}", w[4], w[1]))
        .await;
    let iro = c_sb.recv_line().await;
    assert!(
        iro.starts_with("IRO 1 1 1 alice@example.com Alice "),
        "{iro}"
    );
    c_sb.expect("ANS 1 OK").await;
    timeout(T, sb.send_text_message(&text("hello carol")))
        .await
        .unwrap()
        .unwrap();
    let msg = c_sb
        .wait_for("alice's message", |f| f.command() == "MSG")
        .await;
    assert!(String::from_utf8_lossy(msg.payload().unwrap()).ends_with("hello carol"));
}
