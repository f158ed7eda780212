//! The service layer's rules, tested without sockets: real operations on a
//! real (temporary) SQLite store, with each endpoint's mailbox standing in
//! for its connection.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::account::{ListError, Property};
use msn_core::handle::Handle;
use msn_store::{NewUser, SqliteOptions, SqliteStore, Store};
use msn_wire::Dialect;
use msn_wire::vocab::{ListKind, Privacy, Status};
use tempfile::TempDir;

use crate::{
    Actor, ChatRefused, Event, KickReason, Mailbox, NewEndpoint, OpError, Ring, Service, Settings,
};

/// A service over a temporary store; shared with the operations' own test
/// modules (`ops::circles`), which add their helpers in `impl` blocks.
pub(crate) struct Fixture {
    pub(crate) service: Service,
    next_conn: u64,
    _dir: TempDir,
}

/// A signed-in endpoint and what it has been sent.
pub(crate) struct Client {
    pub(crate) actor: Actor,
    pub(crate) mailbox: Arc<Mailbox<Event>>,
}

impl Client {
    fn events(&self) -> Vec<Event> {
        let mut v = Vec::new();
        self.mailbox.drain(&mut v);
        v
    }

    /// The presence notices received, as (handle, status).
    fn presence(&self) -> Vec<(String, Status)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Presence(p) => Some((p.handle.to_string(), p.status)),
                _ => None,
            })
            .collect()
    }
}

pub(crate) fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

fn dialect(n: u8) -> Dialect {
    Dialect::new(n).unwrap()
}

impl Fixture {
    pub(crate) async fn new(users: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&SqliteOptions::new(dir.path().join("t.db")))
            .await
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        for u in users {
            store
                .create_user(NewUser {
                    handle: h(u),
                    friendly_name: u.split('@').next().unwrap().to_owned(),
                    password_hash: "unused".to_owned(),
                    legacy_password: None,
                })
                .await
                .unwrap();
        }
        Fixture {
            service: Service::local(store, Settings::default()),
            next_conn: 1,
            _dir: dir,
        }
    }

    async fn sign_in(&mut self, handle: &str, version: u8) -> Client {
        self.sign_in_on(handle, version, None).await
    }

    /// [`Fixture::sign_in`] from the machine `machine_guid` (MSNP16+).
    pub(crate) async fn sign_in_on(
        &mut self,
        handle: &str,
        version: u8,
        machine_guid: Option<uuid::Uuid>,
    ) -> Client {
        let record = self.service.store().user(handle).await.unwrap().unwrap();
        let mailbox = Arc::new(Mailbox::new(64));
        self.next_conn += 1;
        let endpoint = NewEndpoint {
            id: self.next_conn,
            dialect: dialect(version),
            machine_guid,
            mailbox: mailbox.clone(),
        };
        let actor = self
            .service
            .sign_in(&record.handle, record.id, endpoint)
            .await
            .unwrap();
        Client { actor, mailbox }
    }

    /// Signs in and sends the first `CHG` with `status`.
    async fn online(&mut self, handle: &str, version: u8, status: Status) -> Client {
        let c = self.sign_in(handle, version).await;
        let set = self
            .service
            .set_presence(&c.actor, status, None, None)
            .await;
        assert!(set.first);
        c
    }

    /// `a` and `b` have each other on FL (and AL), as after an accepted add.
    async fn befriend(&self, a: &Client, b: &Client) {
        let s = &self.service;
        for (x, y) in [(a, b), (b, a)] {
            let other = y.actor.handle().clone();
            s.add_contact(&x.actor, ListKind::Forward, &other, other.as_str(), None)
                .await
                .unwrap();
            s.add_contact(&x.actor, ListKind::Allow, &other, other.as_str(), None)
                .await
                .unwrap();
        }
        a.events();
        b.events();
    }
}

#[tokio::test]
async fn adding_to_the_forward_list_reaches_the_other_users_reverse_list() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 12, Status::Online).await;
    let bob = f.online("bob@x.com", 7, Status::Online).await;
    let added = f
        .service
        .add_contact(
            &alice.actor,
            ListKind::Forward,
            &h("bob@x.com"),
            "Bob",
            None,
        )
        .await
        .unwrap();
    assert!(added.reverse_added);
    assert!(added.contact_id.is_some());
    let events = bob.events();
    let [Event::ReverseAdded { handle, name, .. }] = events.as_slice() else {
        panic!("expected one reverse-list notice, got {events:?}");
    };
    assert_eq!(handle.as_str(), "alice@x.com");
    assert_eq!(&**name, "alice");
    let bits = bob.actor.state().account.bits_of("alice@x.com");
    assert_ne!(bits & ListKind::Reverse.bit(), 0);

    // Stored: a fresh load sees both sides.
    let store = f.service.store();
    let bob_id = store.user("bob@x.com").await.unwrap().unwrap().id;
    let loaded = store.load_account(bob_id).await.unwrap();
    assert_ne!(loaded.bits_of("alice@x.com") & ListKind::Reverse.bit(), 0);

    f.service
        .remove_contact(&alice.actor, ListKind::Forward, "bob@x.com", None)
        .await
        .unwrap();
    assert!(matches!(
        bob.events().as_slice(),
        [Event::ReverseRemoved { .. }]
    ));
    let bits = bob.actor.state().account.bits_of("alice@x.com");
    assert_eq!(bits & ListKind::Reverse.bit(), 0);
}

#[tokio::test]
async fn list_rules_refuse_with_their_codes() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let old = f.online("alice@x.com", 7, Status::Online).await;
    let s = &f.service;
    let bob = h("bob@x.com");
    assert_eq!(
        s.add_contact(&old.actor, ListKind::Forward, &h("nobody@x.com"), "N", None)
            .await,
        Err(OpError::UnknownAccount)
    );
    s.add_contact(&old.actor, ListKind::Forward, &bob, "Bob", None)
        .await
        .unwrap();
    assert_eq!(
        s.add_contact(&old.actor, ListKind::Forward, &bob, "Bob", None)
            .await,
        Err(OpError::Refused(ListError::AlreadyThere))
    );
    s.add_contact(&old.actor, ListKind::Allow, &bob, "Bob", None)
        .await
        .unwrap();
    // MSNP2–10: a handle cannot be on AL and BL at once (219).
    assert_eq!(
        s.add_contact(&old.actor, ListKind::Block, &bob, "Bob", None)
            .await,
        Err(OpError::Refused(ListError::OppositeList))
    );
    assert_eq!(
        s.remove_contact(&old.actor, ListKind::Block, "bob@x.com", None)
            .await,
        Err(OpError::Refused(ListError::NotOnList))
    );
    assert_eq!(
        s.remove_group(&old.actor, 0).await.map(|_| ()),
        Err(OpError::Refused(ListError::CannotRemoveGroupZero))
    );
}

#[tokio::test]
async fn msnp11_blocks_before_unallowing_and_settles_pending_entries() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 11, Status::Online).await;
    let bob = f.online("bob@x.com", 11, Status::Online).await;
    let s = &f.service;
    s.add_contact(&bob.actor, ListKind::Forward, &h("alice@x.com"), "A", None)
        .await
        .unwrap();
    // Alice has Bob pending; she allows him, then sends REM PL.
    s.add_contact(&alice.actor, ListKind::Allow, &h("bob@x.com"), "B", None)
        .await
        .unwrap();
    s.remove_contact(&alice.actor, ListKind::Pending, "bob@x.com", None)
        .await
        .unwrap();
    // msnp11-sdk blocks with ADC BL while AL still holds the handle.
    s.add_contact(&alice.actor, ListKind::Block, &h("bob@x.com"), "B", None)
        .await
        .unwrap();
    let bits = alice.actor.state().account.bits_of("bob@x.com");
    assert_ne!(bits & ListKind::Block.bit(), 0);
    assert!(!alice.actor.state().account.admits("bob@x.com"));
}

#[tokio::test]
async fn presence_reaches_watchers_and_hidden_looks_offline() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 12, Status::Online).await;
    let bob = f.online("bob@x.com", 2, Status::Online).await;
    f.befriend(&alice, &bob).await;
    let s = &f.service;

    s.set_presence(&alice.actor, Status::Away, None, None).await;
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Away)]);
    s.set_presence(&alice.actor, Status::Hidden, None, None)
        .await;
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Offline)]);
    assert!(
        s.contact_presence(&bob.actor, &h("alice@x.com"))
            .await
            .is_none()
    );
    s.set_presence(&alice.actor, Status::Online, None, None)
        .await;
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Online)]);
    // The same status again tells nobody anything.
    s.set_presence(&alice.actor, Status::Online, None, None)
        .await;
    assert!(bob.presence().is_empty());

    let seen = s.visible_contacts(&bob.actor).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].notice.status, Status::Online);

    s.sign_out(alice.actor).await;
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Offline)]);
}

#[tokio::test]
async fn blocking_and_privacy_mode_hide_presence() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 7, Status::Online).await;
    let bob = f.online("bob@x.com", 12, Status::Online).await;
    f.befriend(&alice, &bob).await;
    let s = &f.service;

    // Blocking (MSNP7: off AL, onto BL) shows Bob that Alice went offline.
    s.remove_contact(&alice.actor, ListKind::Allow, "bob@x.com", None)
        .await
        .unwrap();
    s.add_contact(&alice.actor, ListKind::Block, &h("bob@x.com"), "B", None)
        .await
        .unwrap();
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Offline)]);
    assert!(
        s.reachable(&bob.actor.handle().clone(), &h("alice@x.com"))
            .await
            .is_none()
    );
    s.remove_contact(&alice.actor, ListKind::Block, "bob@x.com", None)
        .await
        .unwrap();
    // Off both lists, in AL mode: visible again.
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Online)]);

    // BL mode admits only the allow list.
    s.set_privacy(&alice.actor, Privacy::BlockAll)
        .await
        .unwrap();
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Offline)]);
    s.add_contact(&alice.actor, ListKind::Allow, &h("bob@x.com"), "B", None)
        .await
        .unwrap();
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Online)]);
    assert_eq!(
        s.set_privacy(&alice.actor, Privacy::BlockAll).await,
        Err(OpError::Refused(ListError::AlreadyInMode))
    );
}

#[tokio::test]
async fn names_personal_messages_and_properties_reach_watchers() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
    let alice = f.online("alice@x.com", 11, Status::Online).await;
    let bob = f.online("bob@x.com", 11, Status::Online).await;
    f.befriend(&alice, &bob).await;
    let s = &f.service;

    s.set_friendly_name(&alice.actor, "Alice%20S")
        .await
        .unwrap();
    let events = bob.events();
    let [Event::Presence(p)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(&*p.name, "Alice%20S");

    let doc = Bytes::from_static(b"<Data><PSM>hi</PSM></Data>");
    s.set_personal_message(&alice.actor, doc.clone())
        .await
        .unwrap();
    let events = bob.events();
    assert!(
        matches!(events.as_slice(), [Event::PersonalMessage { document, .. }] if *document == doc)
    );
    // A new watcher gets it with the presence.
    let seen = s
        .contact_presence(&bob.actor, &h("alice@x.com"))
        .await
        .unwrap();
    assert_eq!(seen.personal_message.as_ref(), Some(&doc));

    let before = bob.actor.state().account.list_version;
    s.set_property(&alice.actor, Property::HomePhone, Some("555"))
        .await
        .unwrap();
    let events = bob.events();
    let [Event::Property { version, value, .. }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(value.as_deref(), Some("555"));
    assert!(*version > before);
    assert_eq!(bob.actor.state().account.list_version, *version);
}

#[tokio::test]
async fn a_second_sign_in_ends_the_first_before_msnp16() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let first = f.online("alice@x.com", 12, Status::Online).await;
    let bob = f.online("bob@x.com", 12, Status::Online).await;
    f.befriend(&first, &bob).await;
    let second = f.sign_in("alice@x.com", 12).await;
    assert!(matches!(
        first.events().as_slice(),
        [Event::Kick(KickReason::OtherLogin)]
    ));
    // The new endpoint has not sent CHG yet: watchers see Alice offline.
    assert_eq!(bob.presence(), [("alice@x.com".into(), Status::Offline)]);
    assert_eq!(second.actor.state().endpoints().len(), 1);
    // The replaced session leaving changes nothing.
    f.service.sign_out(first.actor).await;
    assert!(bob.presence().is_empty());
    f.service.end_sessions(&h("alice@x.com")).await;
    assert!(matches!(
        second.events().as_slice(),
        [Event::Kick(KickReason::AccountChanged)]
    ));
}

#[tokio::test]
async fn invitations_follow_availability_and_privacy() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 12, Status::Online).await;
    let bob = f.sign_in("bob@x.com", 12).await;
    f.befriend(&alice, &bob).await;
    let s = &f.service;
    let (a, b) = (h("alice@x.com"), h("bob@x.com"));

    // Before Bob's first CHG he can neither chat nor be rung.
    assert_eq!(
        s.open_chat(&bob.actor).err(),
        Some(ChatRefused::NotAvailable)
    );
    assert!(s.reachable(&a, &b).await.is_none());
    s.set_presence(&bob.actor, Status::Busy, Some("268435456"), None)
        .await;
    bob.events();
    let invitee = s.reachable(&a, &b).await.expect("reachable");
    assert_eq!(&*invitee.name, "bob");
    assert_eq!(invitee.capabilities.as_deref(), Some("268435456"));
    let ring = Ring {
        session_id: "1".into(),
        sb_addr: "127.0.0.1:1865".into(),
        cookie: "c".into(),
        inviter: a.clone(),
        inviter_name: "alice".into(),
        except_machine: None,
    };
    assert!(s.ring(&b, ring.clone()).await);
    assert!(matches!(bob.events().as_slice(), [Event::Ring(_)]));

    s.set_invitations(&bob.actor, false);
    assert!(s.reachable(&a, &b).await.is_none());
    s.set_invitations(&bob.actor, true);
    s.set_presence(&bob.actor, Status::Hidden, None, None).await;
    assert!(s.reachable(&a, &b).await.is_none());
    assert_eq!(
        s.open_chat(&bob.actor).err(),
        Some(ChatRefused::NotAvailable)
    );
    s.set_presence(&bob.actor, Status::Online, None, None).await;

    // The per-user switchboard limit.
    for _ in 0..Settings::default().max_sb_sessions_per_user {
        s.count_switchboard(&b, 1);
    }
    assert!(s.reachable(&a, &b).await.is_none());
    assert_eq!(
        s.open_chat(&bob.actor).err(),
        Some(ChatRefused::TooManySessions)
    );
}

#[tokio::test]
async fn group_edits_are_stored() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 10, Status::Online).await;
    let s = &f.service;
    let (_, group) = s.add_group(&alice.actor, "Friends").await.unwrap();
    s.add_contact(&alice.actor, ListKind::Forward, &h("bob@x.com"), "B", None)
        .await
        .unwrap();
    s.add_to_group(&alice.actor, &h("bob@x.com"), group.id)
        .await
        .unwrap();
    s.rename_group(&alice.actor, group.id, "Pals")
        .await
        .unwrap();
    let store = s.store();
    let id = store.user("alice@x.com").await.unwrap().unwrap().id;
    let loaded = store.load_account(id).await.unwrap();
    assert_eq!(loaded.group(group.id).unwrap().name, "Pals");
    assert!(
        loaded
            .contact("bob@x.com")
            .unwrap()
            .group_ids()
            .any(|g| g == group.id)
    );
    assert_eq!(loaded, alice.actor.state().account);
}

#[tokio::test]
async fn group_limit_depends_on_the_dialect() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 8, Status::Online).await;
    let bob = f.online("bob@x.com", 12, Status::Online).await;
    let s = &f.service;
    // Numbered groups (MSNP7–9): 30 with group 0, then 223.
    for i in 1..30 {
        let (_, g) = s.add_group(&alice.actor, &format!("G{i}")).await.unwrap();
        assert_eq!(g.id, i);
    }
    assert_eq!(
        s.add_group(&alice.actor, "More").await.err(),
        Some(OpError::Refused(ListError::TooManyGroups))
    );
    // GUID groups (MSNP10+): the configured limit.
    let max = Settings::default().list_limits.max_groups;
    assert!(max > 30);
    for i in 1..max {
        s.add_group(&bob.actor, &format!("G{i}")).await.unwrap();
    }
    assert_eq!(
        s.add_group(&bob.actor, "More").await.err(),
        Some(OpError::Refused(ListError::TooManyGroups))
    );
    // Membership in a group past 29 is stored like any other.
    s.add_contact(&bob.actor, ListKind::Forward, &h("alice@x.com"), "A", None)
        .await
        .unwrap();
    let last = (max - 1) as msn_core::account::GroupId;
    s.add_to_group(&bob.actor, &h("alice@x.com"), last)
        .await
        .unwrap();
    let store = s.store();
    let id = store.user("bob@x.com").await.unwrap().unwrap().id;
    let loaded = store.load_account(id).await.unwrap();
    assert_eq!(*loaded.contact("alice@x.com").unwrap().groups, [last]);
    assert_eq!(loaded, bob.actor.state().account);
}

/// A SOAP call acts for the account without an endpoint: its edits reach
/// the signed-in sessions' memory and the watchers as an NS edit does,
/// and the account is detached again afterwards.
#[tokio::test]
async fn an_account_actor_edits_like_a_session() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
    let alice = f.online("alice@x.com", 18, Status::Online).await;
    let bob = f.online("bob@x.com", 12, Status::Online).await;
    f.befriend(&alice, &bob).await;
    let s = &f.service;
    let record = s.store().user("alice@x.com").await.unwrap().unwrap();
    {
        let soap = s.account_actor(&record.handle, record.id).await.unwrap();
        s.set_friendly_name(&soap, "Alice%20S").await.unwrap();
    }
    assert_eq!(alice.actor.state().account.friendly_name, "Alice%20S");
    let events = bob.events();
    assert!(
        matches!(events.as_slice(), [Event::Presence(p)] if &*p.name == "Alice%20S"),
        "{events:?}"
    );
    // Still signed in: the actor's detach left the session's attachment.
    assert!(s.directory().get("alice@x.com").is_some());

    // An account with no session is loaded, changed in the store, and
    // dropped from the directory again.
    let carol = s.store().user("carol@x.com").await.unwrap().unwrap();
    let soap = s.account_actor(&carol.handle, carol.id).await.unwrap();
    s.set_friendly_name(&soap, "C").await.unwrap();
    drop(soap);
    assert!(s.directory().get("carol@x.com").is_none());
    let account = s.store().load_account(carol.id).await.unwrap();
    assert_eq!(account.friendly_name, "C");
}

#[tokio::test]
async fn an_account_actor_edits_an_offline_users_lists_like_a_session() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let bob = f.online("bob@x.com", 7, Status::Online).await;
    let alice_id = f
        .service
        .store()
        .user("alice@x.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    {
        let alice = f
            .service
            .account_actor(&h("alice@x.com"), alice_id)
            .await
            .unwrap();
        let added = f
            .service
            .add_contact(&alice, ListKind::Forward, &h("bob@x.com"), "Bob", None)
            .await
            .unwrap();
        assert!(added.contact_id.is_some() && added.reverse_added);
        // Bob's session hears of it as of any other add.
        let events = bob.events();
        assert!(
            matches!(events.as_slice(), [Event::ReverseAdded { handle, .. }] if handle.as_str() == "alice@x.com"),
            "{events:?}"
        );
        // The actor is no endpoint: alice stays offline to bob.
        assert!(alice.state().endpoints().is_empty());
        let (_, work) = f.service.add_group(&alice, "Work").await.unwrap();
        f.service
            .add_to_group(&alice, &h("bob@x.com"), work.id)
            .await
            .unwrap();
        // Leaving its only group keeps bob on the FL, in group 0.
        f.service
            .remove_from_group(&alice, "bob@x.com", work.id)
            .await
            .unwrap();
        let st = alice.state();
        let c = st.account.contact("bob@x.com").unwrap();
        assert!(c.on(ListKind::Forward));
        assert_eq!(c.groups.to_vec(), [0]);
    }
    // Dropped: detached, and nothing is left in the directory.
    assert!(f.service.directory().get("alice@x.com").is_none());
    // Committed: a fresh load sees it.
    let account = f.service.store().load_account(alice_id).await.unwrap();
    assert!(account.contact("bob@x.com").unwrap().on(ListKind::Forward));
}

#[tokio::test]
async fn an_account_actor_shares_a_signed_in_users_state() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let alice = f.online("alice@x.com", 12, Status::Online).await;
    let bob = f.online("bob@x.com", 7, Status::Online).await;
    f.befriend(&alice, &bob).await;
    let alice_id = f
        .service
        .store()
        .user("alice@x.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let soap = f
        .service
        .account_actor(&h("alice@x.com"), alice_id)
        .await
        .unwrap();
    // Blocking over the actor hides alice from bob at once, and her
    // session's own state knows it.
    f.service
        .add_contact(&soap, ListKind::Block, &h("bob@x.com"), "bob", None)
        .await
        .unwrap();
    assert_eq!(
        bob.presence(),
        [("alice@x.com".to_owned(), Status::Offline)]
    );
    assert!(alice.actor.state().account.bits_of("bob@x.com") & 4 != 0);
    // Deleting the contact from the address book: bob's RL loses alice.
    f.service
        .delete_ab_contact(&soap, "bob@x.com")
        .await
        .unwrap();
    assert!(bob.events().iter().any(
        |e| matches!(e, Event::ReverseRemoved { handle, .. } if handle.as_str() == "alice@x.com")
    ));
    let st = alice.actor.state();
    let c = st.account.contact("bob@x.com").unwrap();
    assert!(!c.on(ListKind::Forward) && c.guid.is_none());
    drop(st);
    drop(soap);
    // Alice's session keeps the entry alive.
    assert!(f.service.directory().get("alice@x.com").is_some());
}

fn oim(text: &str) -> crate::OfflineMessage {
    crate::OfflineMessage {
        sender_name: "Alice".into(),
        text: text.into(),
        run_id: uuid::Uuid::new_v4(),
        sequence_num: 1,
        origin: "192.0.2.1".into(),
    }
}

#[tokio::test]
async fn offline_messages_follow_privacy_and_reach_only_msnp13_endpoints() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
    let (alice, bob, carol) = (h("alice@x.com"), h("bob@x.com"), h("carol@x.com"));

    // Offline recipient: stored, nobody told.
    let first = f
        .service
        .send_offline_message(&alice, &bob, oim("one"))
        .await
        .unwrap();
    // Unknown recipient.
    assert_eq!(
        f.service
            .send_offline_message(&alice, &h("nobody@x.com"), oim("x"))
            .await
            .err(),
        Some(crate::OimRefused::Undeliverable)
    );
    // Carol blocks Alice (offline, her account loaded only for the check).
    let c = f.sign_in("carol@x.com", 15).await;
    f.service
        .add_contact(&c.actor, ListKind::Block, &alice, "alice", None)
        .await
        .unwrap();
    drop(c);
    assert_eq!(
        f.service
            .send_offline_message(&alice, &carol, oim("x"))
            .await
            .err(),
        Some(crate::OimRefused::Undeliverable)
    );
    // Bob admits only his allow list: Alice is not on it.
    let b = f.sign_in("bob@x.com", 15).await;
    f.service
        .set_privacy(&b.actor, Privacy::BlockAll)
        .await
        .unwrap();
    assert_eq!(
        f.service
            .send_offline_message(&alice, &bob, oim("x"))
            .await
            .err(),
        Some(crate::OimRefused::Undeliverable)
    );
    f.service
        .add_contact(&b.actor, ListKind::Allow, &alice, "alice", None)
        .await
        .unwrap();
    b.events();
    // Too large.
    let big = "é".repeat(crate::OimLimits::default().max_message_bytes / 2 + 1);
    assert_eq!(
        f.service
            .send_offline_message(&alice, &bob, oim(&big))
            .await
            .err(),
        Some(crate::OimRefused::TooLarge)
    );
    let second = f
        .service
        .send_offline_message(&alice, &bob, oim("two"))
        .await
        .unwrap();
    let announced: Vec<_> = b
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::OfflineMessage(m) => Some(m.id),
            _ => None,
        })
        .collect();
    assert_eq!(announced, [second.id]);

    let bob_id = f
        .service
        .store()
        .user("bob@x.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let waiting = f.service.offline_messages(bob_id).await.unwrap();
    assert_eq!(
        waiting.iter().map(|m| m.id).collect::<Vec<_>>(),
        [first.id, second.id]
    );
    assert_eq!(
        f.service
            .offline_message(bob_id, first.id)
            .await
            .unwrap()
            .unwrap()
            .text,
        "one"
    );
    // Another user's id deletes nothing and tells nobody.
    let carol_id = f
        .service
        .store()
        .user("carol@x.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        f.service
            .delete_offline_messages(&carol, carol_id, &[first.id])
            .await,
        Ok(0)
    );
    assert_eq!(
        f.service
            .delete_offline_messages(&bob, bob_id, &[first.id, second.id])
            .await,
        Ok(2)
    );
    let deleted: Vec<_> = b
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::OfflineMessagesDeleted { count } => Some(count),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, [2]);
}

#[tokio::test]
async fn msnp12_endpoints_are_not_told_of_offline_messages() {
    let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
    let bob12 = f.online("bob@x.com", 12, Status::Hidden).await;
    bob12.events();
    let s = &f.service;
    s.send_offline_message(&h("alice@x.com"), &h("bob@x.com"), oim("kept"))
        .await
        .unwrap();
    assert!(
        bob12
            .events()
            .iter()
            .all(|e| !matches!(e, Event::OfflineMessage(_))),
    );
    let bob_id = s.store().user("bob@x.com").await.unwrap().unwrap().id;
    assert_eq!(s.offline_messages(bob_id).await.unwrap().len(), 1);
}
