//! The behaviour every [`Store`] backend must have, written against the
//! trait only so that one suite checks them all.
//!
//! Each case is a `pub async fn case(store: &dyn Store)` that expects an
//! empty, freshly opened store and panics on a failure. A backend's test
//! file runs every case on its own fresh store, either with [`run_all`] or,
//! for one test per case, with [`conformance_cases!`](crate::conformance_cases):
//!
//! ```ignore
//! macro_rules! case {
//!     ($name:ident) => {
//!         #[tokio::test]
//!         async fn $name() {
//!             let store = fresh_store().await;
//!             msn_store::conformance::$name(&*store).await;
//!             store.close().await;
//!         }
//!     };
//! }
//! msn_store::conformance_cases!(case);
//! ```
//!
//! Changes are planned with msn-core's `Account::plan_*`, as the server
//! plans them, and after every commit the stored account must equal the
//! in-memory one the server keeps by [`Account::apply`].

mod circles;

pub use circles::{
    circle_limits_are_checked, circle_membership_round_trip,
    circles_go_with_their_members_and_their_deletion,
};

use std::future::Future;
use std::sync::Arc;

use msn_core::account::{
    Account, Change, ContactUpdate, DEFAULT_GROUP_NAME, Group, GroupId, GroupMode, GroupUpdate,
    ListLimits, MAX_NUMERIC_GROUPS, Property, ReverseUpdate, SettingUpdate, lists,
};
use msn_core::circle::{CircleId, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_core::network::NetworkId;
use msn_wire::vocab::{AddAlert, ListKind, Privacy};
use uuid::Uuid;

use crate::{
    AccountDump, Committed, ImportCounts, Invite, NewOim, NewUser, OimAdded, Store, StoreError,
};

/// Calls `$case!(name);` for every case of the suite, so that a backend's
/// test file gets one test per case and new cases without editing it.
#[macro_export]
macro_rules! conformance_cases {
    ($case:ident) => {
        $case!(create_and_find_users);
        $case!(account_change_log_records_deletions_and_new_passwords);
        $case!(list_users_summarises_accounts);
        $case!(set_password_replaces_hash_and_md5_opt_in);
        $case!(delete_user_clears_reverse_entries);
        $case!(load_account_of_unknown_user);
        $case!(contact_changes_round_trip);
        $case!(group_changes_round_trip);
        $case!(setting_changes_round_trip);
        $case!(list_versions_increase_per_commit);
        $case!(reverse_version_only_when_reverse_list_changes);
        $case!(bump_versions_advances_existing_users);
        $case!(published_properties_respect_privacy);
        $case!(load_account_is_a_snapshot);
        $case!(contact_id_survives_fl_removal_and_re_add);
        $case!(address_book_only_contact_round_trip);
        $case!(group_deltas_from_two_endpoints_keep_both);
        $case!(last_group_falls_back_to_group_zero);
        $case!(network_ids_round_trip);
        $case!(entries_read_as_the_current_name);
        $case!(disabling_an_account_is_logged_and_undone_by_enabling);
        $case!(circle_membership_round_trip);
        $case!(circle_limits_are_checked);
        $case!(circles_go_with_their_members_and_their_deletion);
        $case!(oims_keep_arrival_order_and_text);
        $case!(oims_per_recipient_limit_is_atomic);
        $case!(oim_deletion_touches_only_the_recipients_own);
        $case!(oims_go_with_the_recipients_account);
        $case!(invites_are_listed_and_spent_once);
        $case!(invite_is_kept_when_the_account_cannot_be_created);
        $case!(export_and_import_round_trip);
        $case!(export_is_a_snapshot);
        $case!(import_refuses_a_taken_handle_and_writes_nothing);
        $case!(replace_password_hash_only_from_the_current_hash);
    };
}

/// Runs every case, each on a fresh store from `make` (closed afterwards).
pub async fn run_all<F, Fut>(mut make: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    macro_rules! run {
        ($name:ident) => {{
            let store = make().await;
            eprintln!("store conformance: {}", stringify!($name));
            $name(&*store).await;
            store.close().await;
        }};
    }
    crate::conformance_cases!(run);
}

fn h(s: &str) -> Handle {
    Handle::parse(s).expect("valid handle")
}

/// Creates an account named after the handle's local part, with the MD5
/// opt-in when `legacy` is given.
async fn new_user(store: &dyn Store, handle: &str, legacy: Option<&str>) -> i64 {
    store
        .create_user(NewUser {
            handle: h(handle),
            friendly_name: handle.split('@').next().unwrap().to_owned(),
            password_hash: format!("$argon2id$fake${handle}"),
            legacy_password: legacy.map(str::to_owned),
        })
        .await
        .expect("create_user")
}

async fn load(store: &dyn Store, id: i64) -> Account {
    store.load_account(id).await.expect("load_account")
}

/// An account as the server keeps it in memory, next to the store.
struct Model<'a> {
    store: &'a dyn Store,
    account: Account,
}

impl<'a> Model<'a> {
    async fn load(store: &'a dyn Store, id: i64) -> Model<'a> {
        Model {
            store,
            account: load(store, id).await,
        }
    }

    fn id(&self) -> i64 {
        self.account.user_id
    }

    /// Commits `change`, applies it in memory as the server does, and
    /// checks that the store now holds exactly the in-memory account.
    async fn commit(&mut self, change: Change) -> Committed {
        let done = self
            .store
            .commit(self.id(), &change)
            .await
            .unwrap_or_else(|e| panic!("commit {change:?}: {e}"));
        self.account.apply(&change, done.version);
        self.check(&change).await;
        done
    }

    /// Mirrors a reverse-list change that another user's commit made.
    async fn reverse(&mut self, adder: &Model<'_>, added: bool, done: Committed) {
        let version = done.reverse_version.expect("reverse version");
        self.account.apply_reverse(
            &adder.account.handle,
            &adder.account.friendly_name,
            added,
            version,
        );
        self.check(&"reverse side").await;
    }

    async fn check(&self, after: &dyn std::fmt::Debug) {
        let stored = load(self.store, self.id()).await;
        let expected = with_current_names(self.store, self.account.clone()).await;
        assert_eq!(stored, expected, "stored account differs after {after:?}");
    }
}

/// `account` as a load returns it: an entry for an account carries that
/// account's friendly name now, whatever name the entry was stored with.
pub async fn with_current_names(store: &dyn Store, mut account: Account) -> Account {
    for c in &mut account.contacts {
        if let Some(record) = store.user(c.handle.as_str()).await.unwrap() {
            c.name = record.friendly_name.into_boxed_str();
        }
    }
    account
}

/// An entry reads as its account's current name, and follows a rename.
pub async fn entries_read_as_the_current_name(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut account = store.load_account(alice).await.unwrap();
    let handle = Handle::parse("bob@hotmail.com").unwrap();
    let change = account
        .plan_add(
            ListKind::Forward,
            &handle,
            "what alice typed",
            None,
            GroupMode::Explicit,
            Default::default(),
        )
        .unwrap();
    store.commit(alice, &change).await.unwrap();
    let loaded = store.load_account(alice).await.unwrap();
    assert_eq!(&*loaded.contact("bob@hotmail.com").unwrap().name, "bob");
    let mut bob_account = store.load_account(bob).await.unwrap();
    let rename = bob_account.plan_friendly_name("Bobby ☺").unwrap();
    let done = store.commit(bob, &rename).await.unwrap();
    bob_account.apply(&rename, done.version);
    account = store.load_account(alice).await.unwrap();
    assert_eq!(
        &*account.contact("bob@hotmail.com").unwrap().name,
        "Bobby ☺"
    );
}

/// A disabled account reads as disabled until enabled again; disabling is
/// in the change log (so that a running server ends the sessions),
/// enabling is not.
pub async fn disabling_an_account_is_logged_and_undone_by_enabling(store: &dyn Store) {
    use crate::{AccountChange, AccountChangeKind};
    new_user(store, "alice@hotmail.com", None).await;
    let (cursor, _) = store.account_changes(None).await.unwrap();
    let disabled = || async {
        store
            .user("alice@hotmail.com")
            .await
            .unwrap()
            .unwrap()
            .disabled
    };
    assert!(!disabled().await);
    assert!(store.set_disabled("alice@hotmail.com", true).await.unwrap());
    assert!(disabled().await);
    let listed = store.list_users().await.unwrap();
    assert!(listed.iter().all(|u| u.disabled));
    assert!(
        store
            .set_disabled("alice@hotmail.com", false)
            .await
            .unwrap()
    );
    assert!(!disabled().await);
    assert!(
        !store
            .set_disabled("nobody@hotmail.com", true)
            .await
            .unwrap()
    );
    let (_, changes) = store.account_changes(Some(cursor)).await.unwrap();
    assert_eq!(
        changes,
        [AccountChange {
            handle: h("alice@hotmail.com"),
            kind: AccountChangeKind::Disabled,
        }]
    );
}

pub async fn create_and_find_users(store: &dyn Store) {
    assert!(!store.user_exists("alice@hotmail.com").await.unwrap());
    let id = new_user(store, "alice@hotmail.com", Some("pw")).await;
    assert!(store.user_exists("alice@hotmail.com").await.unwrap());
    assert!(!store.user_exists("bob@hotmail.com").await.unwrap());

    let duplicate = store
        .create_user(NewUser {
            handle: h("alice@hotmail.com"),
            friendly_name: "x".into(),
            password_hash: "x".into(),
            legacy_password: None,
        })
        .await;
    assert!(
        matches!(&duplicate, Err(StoreError::AlreadyExists(name)) if name == "alice@hotmail.com"),
        "{duplicate:?}"
    );

    let rec = store.user("alice@hotmail.com").await.unwrap().unwrap();
    assert_eq!(rec.id, id);
    assert_eq!(rec.handle, h("alice@hotmail.com"));
    assert_eq!(rec.friendly_name, "alice");
    assert_eq!(rec.password_hash, "$argon2id$fake$alice@hotmail.com");
    assert_eq!(rec.legacy_password.as_deref(), Some("pw"));
    assert!(rec.verified);
    assert!(store.user("nobody@hotmail.com").await.unwrap().is_none());

    let bob = new_user(store, "bob@hotmail.com", None).await;
    assert_ne!(bob, id);
    assert!(
        store
            .user("bob@hotmail.com")
            .await
            .unwrap()
            .unwrap()
            .legacy_password
            .is_none()
    );

    // A new account: group 0 only, default settings, version 0.
    let account = load(store, id).await;
    let mut expected = Account::new(id, h("alice@hotmail.com"), "alice".into());
    assert_eq!(account.groups.len(), 1);
    assert_eq!(account.groups[0].name, DEFAULT_GROUP_NAME);
    expected.groups[0].guid = account.groups[0].guid;
    assert_eq!(account, expected);
}

pub async fn list_users_summarises_accounts(store: &dyn Store) {
    assert!(store.list_users().await.unwrap().is_empty());
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let alice = new_user(store, "alice@hotmail.com", Some("pw")).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &h("bob@hotmail.com"),
            "Bob",
            None,
            GroupMode::None,
            ListLimits::default(),
        )
        .unwrap();
    let done = alice.commit(change).await;
    bob.reverse(&alice, true, done).await;

    let users = store.list_users().await.unwrap();
    let summary: Vec<_> = users
        .iter()
        .map(|u| {
            (
                u.handle.as_str(),
                u.friendly_name.as_str(),
                u.legacy_md5,
                u.contacts,
            )
        })
        .collect();
    // Sorted by handle; contacts counts the forward list only.
    assert_eq!(
        summary,
        [
            ("alice@hotmail.com", "alice", true, 1),
            ("bob@hotmail.com", "bob", false, 0)
        ]
    );
    assert!(users.iter().all(|u| u.created_at > 0));
}

pub async fn set_password_replaces_hash_and_md5_opt_in(store: &dyn Store) {
    new_user(store, "alice@hotmail.com", None).await;
    let get = || async { store.user("alice@hotmail.com").await.unwrap().unwrap() };

    assert!(
        store
            .set_password("alice@hotmail.com", "h2".into(), Some("md5pw".into()))
            .await
            .unwrap()
    );
    let rec = get().await;
    assert_eq!(
        (rec.password_hash.as_str(), rec.legacy_password.as_deref()),
        ("h2", Some("md5pw"))
    );

    assert!(
        store
            .set_password("alice@hotmail.com", "h3".into(), None)
            .await
            .unwrap()
    );
    let rec = get().await;
    assert_eq!(
        (rec.password_hash.as_str(), rec.legacy_password),
        ("h3", None)
    );

    assert!(
        !store
            .set_password("nobody@hotmail.com", "h".into(), None)
            .await
            .unwrap()
    );
    let users = store.list_users().await.unwrap();
    assert!(!users[0].legacy_md5);
}

pub async fn delete_user_clears_reverse_entries(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let limits = ListLimits::default();

    // bob has alice on his FL (alice: RL+PL), alice has bob on her AL.
    let change = bob
        .account
        .plan_add(
            ListKind::Forward,
            &h("alice@hotmail.com"),
            "A",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    let done = bob.commit(change).await;
    alice.reverse(&bob, true, done).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Allow,
            &h("bob@hotmail.com"),
            "bob",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    alice.commit(change).await;
    assert_eq!(
        alice.account.bits_of("bob@hotmail.com"),
        lists::AL | lists::RL
    );
    let version = alice.account.list_version;

    assert!(store.delete_user("bob@hotmail.com").await.unwrap());
    assert!(!store.user_exists("bob@hotmail.com").await.unwrap());
    assert!(store.user("bob@hotmail.com").await.unwrap().is_none());
    assert!(matches!(
        store.load_account(bob.id()).await,
        Err(StoreError::NoSuchUser(_))
    ));
    // Only the reverse side goes; what alice put on her lists stays.
    let after = load(store, alice.id()).await;
    assert_eq!(after.bits_of("bob@hotmail.com"), lists::AL);
    assert_eq!(after.list_version, version + 1);
    assert!(!store.delete_user("bob@hotmail.com").await.unwrap());
    assert_eq!(store.list_users().await.unwrap().len(), 1);

    // The handle can be registered again, with empty lists.
    let again = new_user(store, "bob@hotmail.com", None).await;
    assert!(load(store, again).await.contacts.is_empty());
}

pub async fn load_account_of_unknown_user(store: &dyn Store) {
    let id = new_user(store, "alice@hotmail.com", None).await;
    let result = store.load_account(id + 1000).await;
    assert!(
        matches!(result, Err(StoreError::NoSuchUser(_))),
        "{result:?}"
    );
}

pub async fn contact_changes_round_trip(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let carol = new_user(store, "carol@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let carol = Model::load(store, carol).await;
    let limits = ListLimits::default();
    let (bob_h, carol_h) = (h("bob@hotmail.com"), h("carol@hotmail.com"));

    // FL add: bob gets alice on his RL (and PL: he has not answered yet)
    // under her current friendly name.
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &bob_h,
            "Bobby",
            Some(0),
            GroupMode::Explicit,
            limits,
        )
        .unwrap();
    let done = alice.commit(change).await;
    assert_eq!(done.version, 1);
    assert_eq!(done.reverse_version, Some(1));
    bob.reverse(&alice, true, done).await;
    let entry = bob.account.contact("alice@hotmail.com").unwrap();
    assert_eq!(
        (entry.lists, &*entry.name),
        (lists::RL | lists::PL, "alice")
    );
    let entry = alice.account.contact("bob@hotmail.com").unwrap();
    assert_eq!(
        (entry.lists, &*entry.name, &*entry.groups),
        (lists::FL, "Bobby", &[0][..])
    );
    assert!(entry.guid.is_some());

    // bob answers with AL: the pending add is settled.
    let change = bob
        .account
        .plan_add(
            ListKind::Allow,
            &h("alice@hotmail.com"),
            "alice",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    let done = bob.commit(change).await;
    assert_eq!(done.reverse_version, None);
    assert_eq!(
        bob.account.bits_of("alice@hotmail.com"),
        lists::AL | lists::RL
    );

    // AL and BL entries of a user who has no entry yet.
    let change = alice
        .account
        .plan_add(
            ListKind::Allow,
            &bob_h,
            "ignored",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    alice.commit(change).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Block,
            &carol_h,
            "Carol",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, None);
    carol.check(&"BL add by alice").await;
    assert!(carol.account.contacts.is_empty());

    // Rename a contact.
    let change = alice
        .account
        .plan_rename_contact("bob@hotmail.com", "Robert")
        .unwrap();
    alice.commit(change).await;
    assert_eq!(
        &*alice.account.contact("bob@hotmail.com").unwrap().name,
        "Robert"
    );

    // Move carol from BL to AL.
    let change = alice
        .account
        .plan_remove(ListKind::Block, "carol@hotmail.com", None)
        .unwrap();
    alice.commit(change).await;
    assert!(alice.account.contact("carol@hotmail.com").is_none());
    let change = alice
        .account
        .plan_add(
            ListKind::Allow,
            &carol_h,
            "Carol",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    alice.commit(change).await;

    // FL remove: bob's RL entry goes, and his version advances.
    let bob_version = bob.account.list_version;
    let change = alice
        .account
        .plan_remove(ListKind::Forward, "bob@hotmail.com", None)
        .unwrap();
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, Some(bob_version + 1));
    bob.reverse(&alice, false, done).await;
    assert_eq!(bob.account.bits_of("alice@hotmail.com"), lists::AL);
    let entry = alice.account.contact("bob@hotmail.com").unwrap();
    assert_eq!((entry.lists, entry.groups.len()), (lists::AL, 0));
    assert!(entry.guid.is_some(), "an address-book contact keeps its id");

    // Removing the last list keeps the address-book contact, on no list.
    let change = alice
        .account
        .plan_remove(ListKind::Allow, "bob@hotmail.com", None)
        .unwrap();
    alice.commit(change).await;
    assert_eq!(alice.account.bits_of("bob@hotmail.com"), 0);
    assert!(
        alice
            .account
            .contact("bob@hotmail.com")
            .unwrap()
            .in_address_book()
    );
    // Carol, never on the FL, went with her last list.
    assert!(alice.account.contact("carol@hotmail.com").is_some());
    let change = alice
        .account
        .plan_remove(ListKind::Allow, "carol@hotmail.com", None)
        .unwrap();
    alice.commit(change).await;
    assert!(alice.account.contact("carol@hotmail.com").is_none());
}

pub async fn group_changes_round_trip(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let limits = ListLimits::default();

    let (change, friends) = alice
        .account
        .plan_add_group("Friends", MAX_NUMERIC_GROUPS)
        .unwrap();
    alice.commit(change).await;
    let (change, work) = alice
        .account
        .plan_add_group("Work", MAX_NUMERIC_GROUPS)
        .unwrap();
    alice.commit(change).await;
    assert_eq!((friends.id, work.id), (1, 2));

    // MSNP10+: adding to a group takes the contact out of group 0.
    let bob = h("bob@hotmail.com");
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &bob,
            "Bob",
            Some(friends.id),
            GroupMode::DefaultHidden,
            limits,
        )
        .unwrap();
    alice.commit(change).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &bob,
            "Bob",
            Some(work.id),
            GroupMode::DefaultHidden,
            limits,
        )
        .unwrap();
    alice.commit(change).await;
    assert_eq!(
        *alice.account.contact("bob@hotmail.com").unwrap().groups,
        [friends.id, work.id]
    );

    let (change, renamed) = alice
        .account
        .plan_rename_group(friends.id, "Best%20Friends")
        .unwrap();
    alice.commit(change).await;
    assert_eq!(renamed.guid, friends.guid);
    assert_eq!(
        alice.account.group(friends.id).unwrap().name,
        "Best%20Friends"
    );

    // Out of one group only.
    let change = alice
        .account
        .plan_remove(ListKind::Forward, "bob@hotmail.com", Some(work.id))
        .unwrap();
    alice.commit(change).await;
    assert_eq!(
        *alice.account.contact("bob@hotmail.com").unwrap().groups,
        [friends.id]
    );

    // Deleting his last group moves bob to group 0.
    let (change, _) = alice.account.plan_remove_group(friends.id).unwrap();
    alice.commit(change).await;
    assert_eq!(
        *alice.account.contact("bob@hotmail.com").unwrap().groups,
        [0]
    );
    assert_eq!(
        alice
            .account
            .groups
            .iter()
            .map(|g| g.id)
            .collect::<Vec<_>>(),
        [0, work.id]
    );

    // Ids are reused.
    let (change, again) = alice
        .account
        .plan_add_group("Family", MAX_NUMERIC_GROUPS)
        .unwrap();
    alice.commit(change).await;
    assert_eq!(again.id, friends.id);
    assert_ne!(again.guid, friends.guid);
}

pub async fn setting_changes_round_trip(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;

    let change = alice.account.plan_privacy(Privacy::BlockAll).unwrap();
    alice.commit(change).await;
    assert_eq!(alice.account.privacy, Privacy::BlockAll);
    let change = alice.account.plan_add_alert(AddAlert::DontAsk).unwrap();
    alice.commit(change).await;
    assert_eq!(alice.account.add_alert, AddAlert::DontAsk);
    let change = alice
        .account
        .plan_friendly_name("Alice%20in%20Wonderland")
        .unwrap();
    alice.commit(change).await;
    assert_eq!(
        store
            .user("alice@hotmail.com")
            .await
            .unwrap()
            .unwrap()
            .friendly_name,
        "Alice%20in%20Wonderland"
    );

    for (property, value) in [
        (Property::HomePhone, "1%20555%201234"),
        (Property::WorkPhone, "555"),
        (Property::MobilePhone, "0170"),
        (Property::MobileMessages, "Y"),
        (Property::MobileDevice, "Y"),
    ] {
        let change = alice.account.plan_property(property, Some(value)).unwrap();
        alice.commit(change).await;
        assert_eq!(alice.account.properties.value(property), Some(value));
    }
    let change = alice
        .account
        .plan_property(Property::HomePhone, None)
        .unwrap();
    alice.commit(change).await;
    let change = alice
        .account
        .plan_property(Property::MobileDevice, Some("N"))
        .unwrap();
    alice.commit(change).await;
    assert_eq!(alice.account.properties.home_phone, None);
    assert!(!alice.account.properties.mobile_device);

    // A personal message (UUX), as the server stores it: no version bump.
    let version = alice.account.list_version;
    let document = b"<Data><PSM>hi \xe2\x98\x83</PSM><CurrentMedia></CurrentMedia></Data>".to_vec();
    let done = alice
        .commit(Change {
            settings: vec![SettingUpdate::PersonalMessage(Some(document.clone()))],
            ..Change::default()
        })
        .await;
    assert_eq!(done.version, version);
    assert_eq!(alice.account.personal_message, Some(document));
    alice
        .commit(Change {
            settings: vec![SettingUpdate::PersonalMessage(None)],
            ..Change::default()
        })
        .await;
    assert_eq!(alice.account.personal_message, None);

    // Privacy back to AL.
    let change = alice.account.plan_privacy(Privacy::AllowAll).unwrap();
    alice.commit(change).await;
}

pub async fn list_versions_increase_per_commit(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    assert_eq!(alice.account.list_version, 0);
    let mut last = 0;
    for i in 0..5 {
        let (change, _) = alice
            .account
            .plan_add_group(&format!("G{i}"), MAX_NUMERIC_GROUPS)
            .unwrap();
        let done = alice.commit(change).await;
        assert_eq!(done.version, last + 1, "one step per commit");
        last = done.version;
        let change = alice
            .account
            .plan_property(Property::WorkPhone, Some(format!("{i}").as_str()))
            .unwrap();
        let done = alice.commit(change).await;
        assert_eq!(done.version, last + 1);
        last = done.version;
    }
    // Without bump_version the version is returned unchanged.
    let done = alice.commit(Change::default()).await;
    assert_eq!(
        done,
        Committed {
            version: last,
            reverse_version: None
        }
    );
    assert_eq!(load(store, alice.id()).await.list_version, last);
}

pub async fn reverse_version_only_when_reverse_list_changes(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let limits = ListLimits::default();

    // The target account vanished between planning and committing.
    let ghost = h("ghost@hotmail.com");
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &ghost,
            "Ghost",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    assert!(change.reverse.is_some());
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, None);

    // bob already has alice on his AL: the RL is added, PL is not.
    let change = bob
        .account
        .plan_add(
            ListKind::Allow,
            &h("alice@hotmail.com"),
            "alice",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    bob.commit(change).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &h("bob@hotmail.com"),
            "Bob",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, Some(bob.account.list_version + 1));
    bob.reverse(&alice, true, done).await;
    assert_eq!(
        bob.account.bits_of("alice@hotmail.com"),
        lists::AL | lists::RL
    );

    // An RL entry that is already there is not written again (a change
    // planned on a stale copy of the lists).
    let change = Change {
        reverse: Some(ReverseUpdate {
            target: h("bob@hotmail.com"),
            owner_name: "alice".into(),
            added: true,
        }),
        bump_version: true,
        ..Change::default()
    };
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, None);
    bob.check(&"repeated reverse add").await;
}

pub async fn bump_versions_advances_existing_users(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let (change, _) = alice
        .account
        .plan_add_group("G", MAX_NUMERIC_GROUPS)
        .unwrap();
    alice.commit(change).await;

    assert!(store.bump_versions(&[]).await.unwrap().is_empty());
    let bumped = store
        .bump_versions(&[
            h("alice@hotmail.com"),
            h("nobody@hotmail.com"),
            h("bob@hotmail.com"),
        ])
        .await
        .unwrap();
    assert_eq!(
        bumped,
        [(h("alice@hotmail.com"), 2), (h("bob@hotmail.com"), 1)]
    );
    assert_eq!(load(store, alice.id()).await.list_version, 2);
    assert_eq!(load(store, bob).await.list_version, 1);

    // The next commit continues from there.
    let (change, _) = alice
        .account
        .plan_add_group("H", MAX_NUMERIC_GROUPS)
        .unwrap();
    let done = store.commit(alice.id(), &change).await.unwrap();
    assert_eq!(done.version, 3);
}

pub async fn published_properties_respect_privacy(store: &dyn Store) {
    new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let carol = new_user(store, "carol@hotmail.com", None).await;
    let mut bob = Model::load(store, bob).await;
    let mut carol = Model::load(store, carol).await;
    let limits = ListLimits::default();
    let viewer = h("alice@hotmail.com");
    let (bob_h, carol_h) = (h("bob@hotmail.com"), h("carol@hotmail.com"));

    assert!(
        store
            .published_properties(&viewer, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let change = bob
        .account
        .plan_property(Property::WorkPhone, Some("555"))
        .unwrap();
    bob.commit(change).await;
    let change = carol
        .account
        .plan_property(Property::MobileMessages, Some("Y"))
        .unwrap();
    carol.commit(change).await;

    let mut props = store
        .published_properties(&viewer, &[bob_h.clone(), carol_h.clone(), h("x@y.com")])
        .await
        .unwrap();
    props.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    assert_eq!(props.len(), 2, "unknown handles are left out: {props:?}");
    assert_eq!(props[0].0, bob_h);
    assert_eq!(props[0].1, bob.account.properties);
    assert_eq!(props[0].1.work_phone.as_deref(), Some("555"));
    assert_eq!(props[1].0, carol_h);
    assert!(props[1].1.mobile_messages);

    // bob blocks alice; carol goes BL (allow-list only) without alice on it.
    let change = bob
        .account
        .plan_add(
            ListKind::Block,
            &viewer,
            "alice",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    bob.commit(change).await;
    let change = carol.account.plan_privacy(Privacy::BlockAll).unwrap();
    carol.commit(change).await;
    let published = |handles: Vec<Handle>| async move {
        store
            .published_properties(&h("alice@hotmail.com"), &handles)
            .await
            .unwrap()
    };
    assert!(
        published(vec![bob_h.clone(), carol_h.clone()])
            .await
            .is_empty()
    );

    // On carol's allow list, alice sees her properties again.
    let change = carol
        .account
        .plan_add(
            ListKind::Allow,
            &viewer,
            "alice",
            None,
            GroupMode::None,
            limits,
        )
        .unwrap();
    carol.commit(change).await;
    let props = published(vec![bob_h.clone(), carol_h.clone()]).await;
    assert_eq!(props.len(), 1);
    assert_eq!(props[0].0, carol_h);

    // Others than alice still see bob's.
    let props = store
        .published_properties(&carol_h, std::slice::from_ref(&bob_h))
        .await
        .unwrap();
    assert_eq!(props.len(), 1);
}

/// The `i`th of a run of commits: group `i`, an FL entry in it, and the
/// next list version.
fn group_and_entry(i: GroupId) -> Change {
    Change {
        groups: vec![GroupUpdate::Upsert(Group {
            id: i,
            guid: Uuid::new_v4(),
            name: format!("G{i}"),
        })],
        contacts: vec![ContactUpdate {
            set: lists::FL,
            name: Some(format!("C{i}")),
            guid: Some(Some(Uuid::new_v4())),
            add_groups: vec![i],
            ..ContactUpdate::new(h(&format!("c{i:02}@hotmail.com")))
        }],
        bump_version: true,
        ..Change::default()
    }
}

/// `load_account` while commits run: every account read must be one that
/// was committed, never a mix of two. Each commit adds a group and an FL
/// contact in that group and advances the version, so a consistent read
/// has as many contacts as non-default groups as its version says.
pub async fn load_account_is_a_snapshot(store: &dyn Store) {
    let id = new_user(store, "alice@hotmail.com", None).await;
    let commits: GroupId = 25;
    let writer = async {
        for i in 1..=commits {
            store.commit(id, &group_and_entry(i)).await.unwrap();
            tokio::task::yield_now().await;
        }
    };
    let reader = async {
        let mut reads = 0;
        loop {
            let account = load(store, id).await;
            let v = account.list_version as usize;
            assert_eq!(
                (account.groups.len() - 1, account.contacts.len()),
                (v, v),
                "torn read: {account:?}"
            );
            reads += 1;
            if v == commits as usize {
                return reads;
            }
            tokio::task::yield_now().await;
        }
    };
    let ((), reads) = tokio::join!(writer, reader);
    assert!(reads >= 1);
}

/// Deletions and password changes are logged in order, after the cursor
/// read before them, and only once they happened.
pub async fn account_change_log_records_deletions_and_new_passwords(store: &dyn Store) {
    use crate::{AccountChange, AccountChangeKind};
    new_user(store, "alice@hotmail.com", None).await;
    new_user(store, "bob@hotmail.com", None).await;
    let (start, none) = store.account_changes(None).await.unwrap();
    assert!(none.is_empty());
    assert!(
        store
            .set_password("alice@hotmail.com", "h2".into(), None)
            .await
            .unwrap()
    );
    assert!(store.delete_user("bob@hotmail.com").await.unwrap());
    // Failed changes leave no entry.
    assert!(!store.delete_user("bob@hotmail.com").await.unwrap());
    assert!(
        !store
            .set_password("nobody@hotmail.com", "h".into(), None)
            .await
            .unwrap()
    );
    let (next, changes) = store.account_changes(Some(start)).await.unwrap();
    assert_eq!(
        changes,
        [
            AccountChange {
                handle: h("alice@hotmail.com"),
                kind: AccountChangeKind::Credentials,
            },
            AccountChange {
                handle: h("bob@hotmail.com"),
                kind: AccountChangeKind::Deleted,
            },
        ]
    );
    assert!(next > start);
    let (again, rest) = store.account_changes(Some(next)).await.unwrap();
    assert_eq!((again, rest.len()), (next, 0));
    assert_eq!(store.account_changes(None).await.unwrap().0, next);
}

/// An address-book contact keeps its contact id when it leaves the FL (and
/// every other list), and gets the same id back when it is added again.
pub async fn contact_id_survives_fl_removal_and_re_add(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let limits = ListLimits::default();
    let bob_h = h("bob@hotmail.com");
    let add = |a: &Account| {
        a.plan_add(
            ListKind::Forward,
            &bob_h,
            "Bob",
            None,
            GroupMode::DefaultHidden,
            limits,
        )
        .unwrap()
    };

    let done = alice.commit(add(&alice.account)).await;
    bob.reverse(&alice, true, done).await;
    let guid = alice.account.contact("bob@hotmail.com").unwrap().guid;
    let guid = guid.expect("an FL contact has a contact id");

    let change = alice
        .account
        .plan_remove(ListKind::Forward, "bob@hotmail.com", None)
        .unwrap();
    let done = alice.commit(change).await;
    bob.reverse(&alice, false, done).await;
    let entry = alice.account.contact("bob@hotmail.com").unwrap();
    assert_eq!(
        (entry.lists, entry.guid, entry.groups.len()),
        (0, Some(guid), 0)
    );
    // Before MSNP13 the id names FL contacts only.
    assert!(alice.account.contact_by_guid(guid).is_none());
    assert!(alice.account.ab_contact_by_guid(guid).is_some());

    let done = alice.commit(add(&alice.account)).await;
    bob.reverse(&alice, true, done).await;
    let entry = alice.account.contact_by_guid(guid).expect("same id again");
    assert_eq!((entry.lists, &*entry.groups), (lists::FL, &[0][..]));

    // A stale plan that brings a new id does not replace the stored one.
    let change = Change {
        contacts: vec![ContactUpdate {
            guid: Some(Some(Uuid::new_v4())),
            ..ContactUpdate::new(bob_h.clone())
        }],
        ..Change::default()
    };
    alice.commit(change).await;
    assert_eq!(
        alice.account.contact("bob@hotmail.com").unwrap().guid,
        Some(guid)
    );
}

/// A contact in the address book only (on no list, "isMessengerUser =
/// false") is stored and loaded as such, and survives the other user's
/// reverse-list changes.
pub async fn address_book_only_contact_round_trip(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;

    let (change, guid) = alice
        .account
        .plan_add_ab_contact(&h("bob@hotmail.com"), "Bob%20AB", NetworkId::Passport)
        .unwrap();
    let done = alice.commit(change).await;
    assert_eq!(done.reverse_version, None, "no list changed for bob");
    bob.check(&"AB-only add by alice").await;
    let entry = alice.account.contact("bob@hotmail.com").unwrap();
    assert_eq!(
        (entry.lists, entry.guid, &*entry.name),
        (0, Some(guid), "Bob%20AB")
    );
    assert_eq!(store.list_users().await.unwrap()[0].contacts, 0);

    // bob adds alice: she gets him on her RL, the AB entry is kept.
    let change = bob
        .account
        .plan_add(
            ListKind::Forward,
            &h("alice@hotmail.com"),
            "Alice",
            None,
            GroupMode::Explicit,
            ListLimits::default(),
        )
        .unwrap();
    let done = bob.commit(change).await;
    alice.reverse(&bob, true, done).await;
    let entry = alice.account.contact("bob@hotmail.com").unwrap();
    assert_eq!(
        (entry.lists, entry.guid, &*entry.name),
        (lists::RL | lists::PL, Some(guid), "Bob%20AB")
    );
    let change = bob
        .account
        .plan_remove(ListKind::Forward, "alice@hotmail.com", None)
        .unwrap();
    let done = bob.commit(change).await;
    alice.reverse(&bob, false, done).await;
    assert_eq!(
        alice
            .account
            .contact("bob@hotmail.com")
            .map(|c| (c.lists, c.guid)),
        Some((0, Some(guid)))
    );

    // Deleting bob's account leaves alice's address book as it is.
    assert!(store.delete_user("bob@hotmail.com").await.unwrap());
    alice.check(&"bob deleted").await;

    // Forgetting the contact id drops the entry.
    let change = Change {
        contacts: vec![ContactUpdate {
            guid: Some(None),
            ..ContactUpdate::new(h("bob@hotmail.com"))
        }],
        bump_version: true,
        ..Change::default()
    };
    alice.commit(change).await;
    assert!(alice.account.contact("bob@hotmail.com").is_none());
}

/// Two endpoints plan group edits on the same (stale) account and commit
/// one after the other: both memberships are kept.
pub async fn group_deltas_from_two_endpoints_keep_both(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    new_user(store, "bob@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let limits = ListLimits::default();
    let bob = h("bob@hotmail.com");
    let mut groups = Vec::new();
    for name in ["Friends", "Work", "Family"] {
        let (change, g) = alice
            .account
            .plan_add_group(name, limits.max_groups)
            .unwrap();
        alice.commit(change).await;
        groups.push(g.id);
    }
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &bob,
            "Bob",
            Some(groups[0]),
            GroupMode::DefaultHidden,
            limits,
        )
        .unwrap();
    alice.commit(change).await;

    // Both plan on the same account: one adds to Work, the other to Family
    // and takes bob out of Friends.
    let stale = alice.account.clone();
    let plan_in = |g| {
        stale
            .plan_add(
                ListKind::Forward,
                &bob,
                "Bob",
                Some(g),
                GroupMode::DefaultHidden,
                limits,
            )
            .unwrap()
    };
    let one = plan_in(groups[1]);
    let mut two = plan_in(groups[2]);
    // (Taking a contact out of its only group through `plan_remove` takes
    // it off the FL; an endpoint moving it sends exactly this delta.)
    two.contacts.push(ContactUpdate {
        remove_groups: vec![groups[0]],
        ..ContactUpdate::new(bob.clone())
    });
    let id = alice.id();
    store.commit(id, &one).await.unwrap();
    store.commit(id, &two).await.unwrap();
    let stored = load(store, id).await;
    assert_eq!(
        *stored.contact("bob@hotmail.com").unwrap().groups,
        [groups[1], groups[2]]
    );
    // Applying both in memory gives the same.
    alice.account.apply(&one, stored.list_version - 1);
    alice.account.apply(&two, stored.list_version);
    assert_eq!(
        stored,
        with_current_names(store, alice.account.clone()).await
    );

    // A group made and joined in one change; a join of a group deleted
    // since the plan was made is left out.
    let (mut change, new) = alice
        .account
        .plan_add_group("New", limits.max_groups)
        .unwrap();
    let mut join = ContactUpdate::new(bob.clone());
    join.add_groups = vec![new.id];
    change.contacts.push(join);
    alice.commit(change).await;
    assert!(
        alice
            .account
            .contact("bob@hotmail.com")
            .unwrap()
            .in_group(new.id)
    );
    let (change, temp) = alice
        .account
        .plan_add_group("Temp", limits.max_groups)
        .unwrap();
    alice.commit(change).await;
    let late = plan_in_stale(&alice.account, &bob, temp.id);
    let (delete, _) = alice.account.plan_remove_group(temp.id).unwrap();
    alice.commit(delete).await;
    alice.commit(late).await;
    assert_eq!(
        *alice.account.contact("bob@hotmail.com").unwrap().groups,
        [groups[1], groups[2], new.id]
    );
}

/// An FL add of `handle` to one more group, planned as an MSNP8 client
/// (numbered groups) would.
fn plan_in_stale(account: &Account, handle: &Handle, group: GroupId) -> Change {
    account
        .plan_add(
            ListKind::Forward,
            handle,
            "x",
            Some(group),
            GroupMode::Explicit,
            ListLimits::default(),
        )
        .unwrap()
}

/// An FL contact removed from its last group is in group 0, also when the
/// removal comes from a stale plan or from deleting the group.
pub async fn last_group_falls_back_to_group_zero(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    new_user(store, "bob@hotmail.com", None).await;
    new_user(store, "carol@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    let limits = ListLimits::default();
    let (change, friends) = alice
        .account
        .plan_add_group("Friends", limits.max_groups)
        .unwrap();
    alice.commit(change).await;
    let (change, work) = alice
        .account
        .plan_add_group("Work", limits.max_groups)
        .unwrap();
    alice.commit(change).await;
    for (who, g) in [
        ("bob@hotmail.com", friends.id),
        ("carol@hotmail.com", work.id),
    ] {
        let change = alice
            .account
            .plan_add(
                ListKind::Forward,
                &h(who),
                "x",
                Some(g),
                GroupMode::DefaultHidden,
                limits,
            )
            .unwrap();
        alice.commit(change).await;
    }
    // A delta that leaves bob in no group puts him into group 0.
    let change = Change {
        contacts: vec![ContactUpdate {
            remove_groups: vec![friends.id],
            ..ContactUpdate::new(h("bob@hotmail.com"))
        }],
        bump_version: true,
        ..Change::default()
    };
    alice.commit(change).await;
    assert_eq!(
        *alice.account.contact("bob@hotmail.com").unwrap().groups,
        [0]
    );

    // A change that only removes (written by hand, as a backend may get
    // from an endpoint that planned on stale state) still leaves group 0.
    let change = Change {
        contacts: vec![ContactUpdate {
            remove_groups: vec![0, work.id],
            ..ContactUpdate::new(h("carol@hotmail.com"))
        }],
        bump_version: true,
        ..Change::default()
    };
    alice.commit(change).await;
    assert_eq!(
        *alice.account.contact("carol@hotmail.com").unwrap().groups,
        [0]
    );

    // Deleting a group whose member joined after the plan was made.
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &h("carol@hotmail.com"),
            "x",
            Some(friends.id),
            GroupMode::DefaultHidden,
            limits,
        )
        .unwrap();
    let (delete, _) = alice.account.plan_remove_group(friends.id).unwrap();
    alice.commit(change).await;
    alice.commit(delete).await;
    for who in ["bob@hotmail.com", "carol@hotmail.com"] {
        assert_eq!(*alice.account.contact(who).unwrap().groups, [0], "{who}");
    }
}

/// Every network id is stored and loaded as given; entries default to
/// Passport.
pub async fn network_ids_round_trip(store: &dyn Store) {
    let alice = new_user(store, "alice@hotmail.com", None).await;
    let mut alice = Model::load(store, alice).await;
    for (i, network) in NetworkId::ALL.into_iter().enumerate() {
        let (change, _) = alice
            .account
            .plan_add_ab_contact(&h(&format!("n{i}@example.com")), "n", network)
            .unwrap();
        alice.commit(change).await;
        assert_eq!(
            alice
                .account
                .contact(&format!("n{i}@example.com"))
                .unwrap()
                .network,
            network
        );
    }
    let change = alice
        .account
        .plan_add(
            ListKind::Block,
            &h("plain@example.com"),
            "p",
            None,
            GroupMode::None,
            ListLimits::default(),
        )
        .unwrap();
    alice.commit(change).await;
    let plain = alice.account.contact("plain@example.com").unwrap();
    assert_eq!(plain.network, NetworkId::Passport);
    // Changing the network of an existing entry.
    let change = Change {
        contacts: vec![ContactUpdate {
            network: Some(NetworkId::Email),
            ..ContactUpdate::new(h("plain@example.com"))
        }],
        ..Change::default()
    };
    alice.commit(change).await;
    assert_eq!(
        alice.account.contact("plain@example.com").unwrap().network,
        NetworkId::Email
    );
}

fn oim_to(recipient_id: i64, sender: &str, text: &str, seq: u32) -> NewOim {
    NewOim {
        id: Uuid::new_v4(),
        recipient_id,
        sender: h(sender),
        sender_name: format!("Ålice ☃ {seq}"),
        run_id: Uuid::from_u128(0x1234),
        sequence_num: seq,
        origin: format!("192.0.2.{seq}"),
        received_at: 1_700_000_000 + i64::from(seq),
        text: text.to_owned(),
    }
}

/// Offline messages come back in the order they were stored (not by id
/// or time), the list without text, one message with it.
pub async fn oims_keep_arrival_order_and_text(store: &dyn Store) {
    let bob = new_user(store, "bob@example.com", None).await;
    let carol = new_user(store, "carol@example.com", None).await;
    assert!(store.oims(bob).await.unwrap().is_empty());
    let mut sent = Vec::new();
    for (i, text) in ["zwei", "eins ünïcödé", "drei"].into_iter().enumerate() {
        let mut oim = oim_to(bob, "alice@example.com", text, i as u32 + 1);
        // Same second for all: the order must not come from the time.
        oim.received_at = 1_700_000_000;
        sent.push(oim.clone());
        assert_eq!(
            store.add_oim(oim, 10).await.unwrap(),
            OimAdded::Stored { waiting: i + 1 }
        );
    }
    let listed = store.oims(bob).await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.id).collect::<Vec<_>>(),
        sent.iter().map(|o| o.id).collect::<Vec<_>>()
    );
    for (l, s) in listed.iter().zip(&sent) {
        assert_eq!(l.sender, s.sender);
        assert_eq!(l.sender_name, s.sender_name);
        assert_eq!(l.run_id, s.run_id);
        assert_eq!(l.sequence_num, s.sequence_num);
        assert_eq!(l.origin, s.origin);
        assert_eq!(l.received_at, s.received_at);
        assert_eq!(l.size, s.text.len());
        assert_eq!(l.text, "");
    }
    let one = store.oim(bob, sent[1].id).await.unwrap().expect("stored");
    assert_eq!(one.text, "eins ünïcödé");
    assert_eq!(one.size, "eins ünïcödé".len());
    // Another user cannot read it by id.
    assert_eq!(store.oim(carol, sent[1].id).await.unwrap(), None);
    assert_eq!(store.oim(bob, Uuid::new_v4()).await.unwrap(), None);
    assert!(store.oims(carol).await.unwrap().is_empty());
}

/// At the limit nothing more is stored for that recipient, whoever sends;
/// other recipients are not affected; concurrent sends never pass it.
pub async fn oims_per_recipient_limit_is_atomic(store: &dyn Store) {
    let bob = new_user(store, "bob@example.com", None).await;
    let carol = new_user(store, "carol@example.com", None).await;
    let sends = (0..8).map(|i| store.add_oim(oim_to(bob, "alice@example.com", "hi", i), 3));
    let results = futures_join_all(sends).await;
    let stored = results
        .iter()
        .filter(|r| matches!(r, Ok(OimAdded::Stored { .. })))
        .count();
    let full = results
        .iter()
        .filter(|r| matches!(r, Ok(OimAdded::RecipientFull)))
        .count();
    assert_eq!((stored, full), (3, 5), "{results:?}");
    assert_eq!(store.oims(bob).await.unwrap().len(), 3);
    assert_eq!(
        store
            .add_oim(oim_to(carol, "alice@example.com", "hi", 1), 3)
            .await
            .unwrap(),
        OimAdded::Stored { waiting: 1 }
    );
    // Deleting one makes room for one.
    let first = store.oims(bob).await.unwrap()[0].id;
    assert_eq!(store.delete_oims(bob, &[first]).await.unwrap(), 1);
    assert!(matches!(
        store
            .add_oim(oim_to(bob, "dave@example.com", "again", 9), 3)
            .await
            .unwrap(),
        OimAdded::Stored { waiting: 3 }
    ));
}

/// Polls all `futures` together until each is ready (the suite has no
/// `futures` dependency), so that the store sees concurrent calls.
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (f, result) in pending.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *result = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().map(|r| r.expect("ready")).collect()
}

/// `delete_oims` deletes only the recipient's own messages, ignores ids
/// it does not know, and says how many went.
pub async fn oim_deletion_touches_only_the_recipients_own(store: &dyn Store) {
    let bob = new_user(store, "bob@example.com", None).await;
    let carol = new_user(store, "carol@example.com", None).await;
    let a = oim_to(bob, "alice@example.com", "one", 1);
    let b = oim_to(bob, "alice@example.com", "two", 2);
    let c = oim_to(carol, "alice@example.com", "three", 3);
    for oim in [&a, &b, &c] {
        store.add_oim(oim.clone(), 10).await.unwrap();
    }
    assert_eq!(store.delete_oims(carol, &[a.id, b.id]).await.unwrap(), 0);
    assert_eq!(store.oims(bob).await.unwrap().len(), 2);
    assert_eq!(store.delete_oims(bob, &[]).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_oims(bob, &[a.id, c.id, Uuid::new_v4()])
            .await
            .unwrap(),
        1
    );
    let left = store.oims(bob).await.unwrap();
    assert_eq!(left.iter().map(|o| o.id).collect::<Vec<_>>(), [b.id]);
    assert_eq!(store.delete_oims(bob, &[a.id]).await.unwrap(), 0);
    assert_eq!(store.oims(carol).await.unwrap().len(), 1);
}

/// A deleted account's waiting messages go with it; nothing is stored
/// for an account that does not exist.
pub async fn oims_go_with_the_recipients_account(store: &dyn Store) {
    let bob = new_user(store, "bob@example.com", None).await;
    let alice = new_user(store, "alice@example.com", None).await;
    let oim = oim_to(bob, "alice@example.com", "bye", 1);
    store.add_oim(oim.clone(), 10).await.unwrap();
    // A message *from* a deleted account stays for its recipient.
    store
        .add_oim(oim_to(alice, "bob@example.com", "kept", 1), 10)
        .await
        .unwrap();
    assert!(store.delete_user("bob@example.com").await.unwrap());
    assert_eq!(store.oim(bob, oim.id).await.unwrap(), None);
    assert!(store.oims(bob).await.unwrap().is_empty());
    assert_eq!(store.oims(alice).await.unwrap().len(), 1);
    assert!(matches!(
        store
            .add_oim(oim_to(bob, "alice@example.com", "late", 2), 10)
            .await,
        Err(StoreError::NoSuchUser(_))
    ));
    // A new account under the same name does not inherit them.
    let bob_again = new_user(store, "bob@example.com", None).await;
    assert!(store.oims(bob_again).await.unwrap().is_empty());
}

fn invited(handle: &str) -> NewUser {
    NewUser {
        handle: h(handle),
        friendly_name: handle.into(),
        password_hash: "$argon2id$fake".into(),
        legacy_password: None,
    }
}

/// Codes are stored unused, listed oldest first, and each creates one
/// account; an unknown or spent code creates nothing.
pub async fn invites_are_listed_and_spent_once(store: &dyn Store) {
    assert!(store.invites().await.unwrap().is_empty());
    let codes = vec!["AAAAA-11111".to_owned(), "BBBBB-22222".to_owned()];
    store.add_invites(&codes).await.unwrap();
    let listed = store.invites().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|i| i.used_by.is_none() && i.used_at.is_none())
    );
    let mut listed_codes: Vec<_> = listed.iter().map(|i| i.code.clone()).collect();
    listed_codes.sort();
    assert_eq!(listed_codes, codes);

    // The same code again is refused, and nothing of that call is stored.
    let again = store
        .add_invites(&["CCCCC-33333".to_owned(), "AAAAA-11111".to_owned()])
        .await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists(_))),
        "{again:?}"
    );
    assert_eq!(store.invites().await.unwrap().len(), 2);

    let unknown = store
        .create_user_with_invite(invited("nobody@hotmail.com"), "ZZZZZ-99999")
        .await;
    assert!(
        matches!(unknown, Err(StoreError::InviteNotValid)),
        "{unknown:?}"
    );
    assert!(!store.user_exists("nobody@hotmail.com").await.unwrap());

    let id = store
        .create_user_with_invite(invited("alice@hotmail.com"), "AAAAA-11111")
        .await
        .unwrap();
    assert_eq!(
        store.user("alice@hotmail.com").await.unwrap().unwrap().id,
        id
    );
    let spent = store
        .create_user_with_invite(invited("bob@hotmail.com"), "AAAAA-11111")
        .await;
    assert!(
        matches!(spent, Err(StoreError::InviteNotValid)),
        "{spent:?}"
    );
    assert!(!store.user_exists("bob@hotmail.com").await.unwrap());

    // Who used it stays on record after that account is deleted.
    assert!(store.delete_user("alice@hotmail.com").await.unwrap());
    let alice_code = store
        .invites()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.code == "AAAAA-11111")
        .unwrap();
    assert!(matches!(
        alice_code,
        Invite { used_by: Some(ref by), used_at: Some(_), .. } if by == "alice@hotmail.com"
    ));
}

/// A taken handle leaves the code unspent for the next try.
pub async fn invite_is_kept_when_the_account_cannot_be_created(store: &dyn Store) {
    new_user(store, "alice@hotmail.com", None).await;
    store
        .add_invites(&["AAAAA-11111".to_owned()])
        .await
        .unwrap();
    let taken = store
        .create_user_with_invite(invited("alice@hotmail.com"), "AAAAA-11111")
        .await;
    assert!(
        matches!(taken, Err(StoreError::AlreadyExists(_))),
        "{taken:?}"
    );
    assert_eq!(store.invites().await.unwrap()[0].used_by, None);
    store
        .create_user_with_invite(invited("bob@hotmail.com"), "AAAAA-11111")
        .await
        .unwrap();
}

/// Two accounts with something in every part an export carries.
async fn varied_accounts(store: &dyn Store) -> (i64, i64) {
    let alice = new_user(store, "alice@hotmail.com", Some("alicepass")).await;
    let bob = new_user(store, "bob@hotmail.com", None).await;
    let carol = new_user(store, "carol@hotmail.com", None).await;
    // A circle alice administers: bob accepted, carol invited by bob.
    let circle = CircleId::generate();
    store
        .create_circle(circle, "Bücherclub", alice, 10)
        .await
        .unwrap();
    store
        .invite_to_circle(circle, bob, alice, 10, 10)
        .await
        .unwrap();
    store
        .set_circle_member_state(circle, bob, MemberState::Accepted)
        .await
        .unwrap();
    store
        .invite_to_circle(circle, carol, bob, 10, 10)
        .await
        .unwrap();
    let mut alice = Model::load(store, alice).await;
    let mut bob = Model::load(store, bob).await;
    let (change, friends) = alice
        .account
        .plan_add_group("Frïends", MAX_NUMERIC_GROUPS)
        .unwrap();
    alice.commit(change).await;
    let change = alice
        .account
        .plan_add(
            ListKind::Forward,
            &h("bob@hotmail.com"),
            "bob",
            Some(friends.id),
            GroupMode::Explicit,
            ListLimits::default(),
        )
        .unwrap();
    let done = alice.commit(change).await;
    bob.reverse(&alice, true, done).await;
    for list in [ListKind::Allow, ListKind::Block] {
        let target = if list == ListKind::Allow {
            "bob@hotmail.com"
        } else {
            "carol@hotmail.com"
        };
        let change = alice
            .account
            .plan_add(
                list,
                &h(target),
                target,
                None,
                GroupMode::Explicit,
                ListLimits::default(),
            )
            .unwrap();
        alice.commit(change).await;
    }
    for change in [
        alice.account.plan_privacy(Privacy::BlockAll).unwrap(),
        alice.account.plan_add_alert(AddAlert::DontAsk).unwrap(),
        alice.account.plan_friendly_name("Ålice ☃").unwrap(),
        alice
            .account
            .plan_property(Property::MobilePhone, Some("0170"))
            .unwrap(),
        alice
            .account
            .plan_property(Property::MobileDevice, Some("Y"))
            .unwrap(),
        Change {
            settings: vec![SettingUpdate::PersonalMessage(Some(
                b"<Data><PSM>x</PSM></Data>".to_vec(),
            ))],
            ..Change::default()
        },
    ] {
        alice.commit(change).await;
    }
    assert!(store.set_disabled("bob@hotmail.com", true).await.unwrap());
    for seq in 1..=2 {
        let oim = oim_to(alice.id(), "bob@hotmail.com", &format!("hällo {seq}"), seq);
        store.add_oim(oim, 10).await.unwrap();
    }
    (alice.id(), bob.id())
}

/// `account` under another domain, and every handle in it that names one
/// of `renamed`; its offline messages get new ids (ids are unique).
fn moved(account: &AccountDump, renamed: &[&str]) -> AccountDump {
    let rename = |handle: &Handle| {
        if renamed.contains(&handle.as_str()) {
            h(&handle.as_str().replace("@hotmail.com", "@moved.example"))
        } else {
            handle.clone()
        }
    };
    let mut a = account.clone();
    a.handle = rename(&a.handle);
    for c in &mut a.contacts {
        c.handle = rename(&c.handle);
    }
    a.contacts
        .sort_by(|x, y| x.handle.as_str().cmp(y.handle.as_str()));
    for m in &mut a.oims {
        m.id = Uuid::new_v4();
        m.sender = rename(&m.sender);
    }
    for c in &mut a.circles {
        c.id = CircleId::generate();
        for m in &mut c.members {
            m.handle = rename(&m.handle);
            m.inviter = m.inviter.as_ref().map(rename);
        }
    }
    a.circles.sort_by_key(|c| c.id);
    a
}

/// An export carries every stored part of every account; importing it
/// (under other names, the originals being there) writes exactly that,
/// and the imported accounts load as the originals do.
pub async fn export_and_import_round_trip(store: &dyn Store) {
    let (alice_id, _) = varied_accounts(store).await;
    let exported = store.export_accounts().await.unwrap();
    let handles: Vec<&str> = exported.iter().map(|a| a.handle.as_str()).collect();
    assert_eq!(
        handles,
        ["alice@hotmail.com", "bob@hotmail.com", "carol@hotmail.com"]
    );
    let alice = &exported[0];
    let record = store.user("alice@hotmail.com").await.unwrap().unwrap();
    assert_eq!(alice.password_hash, record.password_hash);
    assert_eq!(alice.legacy_password.as_deref(), Some("alicepass"));
    assert_eq!(alice.friendly_name, "Ålice ☃");
    let loaded = load(store, alice_id).await;
    assert_eq!(alice.privacy, loaded.privacy);
    assert_eq!(alice.add_alert, loaded.add_alert);
    assert_eq!(alice.list_version, loaded.list_version);
    assert_eq!(alice.properties, loaded.properties);
    assert_eq!(alice.personal_message, loaded.personal_message);
    assert_eq!(alice.groups, loaded.groups);
    assert_eq!(alice.contacts.len(), loaded.contacts.len());
    for (d, c) in alice.contacts.iter().zip(&loaded.contacts) {
        assert_eq!(
            (&d.handle, d.network, d.lists, d.guid),
            (&c.handle, c.network, c.lists, c.guid)
        );
        assert_eq!(d.groups, *c.groups);
    }
    assert_eq!(alice.oims.len(), 2);
    assert_eq!(alice.oims[1].text, "hällo 2");
    assert!(exported[1].disabled && !alice.disabled);
    assert_eq!(exported[1].contacts[0].lists, lists::RL | lists::PL);
    assert_eq!(alice.circles.len(), 1);
    let circle = &alice.circles[0];
    assert_eq!(circle.name, "Bücherclub");
    let members: Vec<_> = circle
        .members
        .iter()
        .map(|m| {
            (
                m.handle.as_str(),
                m.role,
                m.state,
                m.inviter.as_ref().map(Handle::as_str),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            (
                "alice@hotmail.com",
                CircleRole::Admin,
                MemberState::Accepted,
                None
            ),
            (
                "bob@hotmail.com",
                CircleRole::Member,
                MemberState::Accepted,
                Some("alice@hotmail.com")
            ),
            (
                "carol@hotmail.com",
                CircleRole::Member,
                MemberState::Pending,
                Some("bob@hotmail.com")
            ),
        ]
    );
    assert!(exported[1].circles.is_empty() && exported[2].circles.is_empty());

    let everyone = ["alice@hotmail.com", "bob@hotmail.com", "carol@hotmail.com"];
    let copies: Vec<AccountDump> = exported.iter().map(|a| moved(a, &everyone)).collect();
    let counts = store.import_accounts(&copies).await.unwrap();
    assert_eq!(counts, ImportCounts::of(&copies));
    assert_eq!(counts.accounts, 3);
    assert_eq!(counts.oims, 2);
    assert_eq!(counts.circles, 1);
    let mut expected: Vec<AccountDump> = exported.iter().chain(&copies).cloned().collect();
    expected.sort_by(|a, b| a.handle.as_str().cmp(b.handle.as_str()));
    assert_eq!(store.export_accounts().await.unwrap(), expected);

    let copy = store.user("alice@moved.example").await.unwrap().unwrap();
    assert_eq!(copy.legacy_password.as_deref(), Some("alicepass"));
    let mut loaded_copy = load(store, copy.id).await;
    assert_eq!(loaded_copy.handle.as_str(), "alice@moved.example");
    assert_eq!(store.oims(copy.id).await.unwrap().len(), 2);
    loaded_copy.user_id = loaded.user_id;
    loaded_copy.handle = loaded.handle.clone();
    for (c, o) in loaded_copy.contacts.iter_mut().zip(&loaded.contacts) {
        c.handle = o.handle.clone();
    }
    assert_eq!(loaded_copy, loaded);
}

/// One taken handle refuses the whole import, naming it.
pub async fn import_refuses_a_taken_handle_and_writes_nothing(store: &dyn Store) {
    varied_accounts(store).await;
    let exported = store.export_accounts().await.unwrap();
    let mut batch = vec![moved(&exported[0], &["alice@hotmail.com"])];
    batch.push(exported[1].clone());
    match store.import_accounts(&batch).await {
        Err(StoreError::AlreadyExists(handle)) => assert_eq!(handle, "bob@hotmail.com"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.export_accounts().await.unwrap(), exported);
    assert!(!store.user_exists("alice@moved.example").await.unwrap());
    // An empty import is no error.
    assert_eq!(
        store.import_accounts(&[]).await.unwrap(),
        ImportCounts::default()
    );
}

/// A re-hash replaces the hash it was computed for and nothing else, and
/// is no credential change (sessions keep running).
pub async fn replace_password_hash_only_from_the_current_hash(store: &dyn Store) {
    new_user(store, "alice@hotmail.com", Some("pw")).await;
    let old = store.user("alice@hotmail.com").await.unwrap().unwrap();
    let (cursor, _) = store.account_changes(None).await.unwrap();
    assert!(
        !store
            .replace_password_hash("alice@hotmail.com", "$argon2id$other", "$argon2id$new")
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_password_hash("alice@hotmail.com", &old.password_hash, "$argon2id$new")
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_password_hash("nobody@hotmail.com", &old.password_hash, "$argon2id$new")
            .await
            .unwrap()
    );
    let now = store.user("alice@hotmail.com").await.unwrap().unwrap();
    assert_eq!(now.password_hash, "$argon2id$new");
    assert_eq!(now.legacy_password.as_deref(), Some("pw"));
    assert!(
        store
            .account_changes(Some(cursor))
            .await
            .unwrap()
            .1
            .is_empty()
    );
}

/// `export_accounts` while commits run reads one committed state: as in
/// [`load_account_is_a_snapshot`], each commit adds a group, an FL entry
/// in it and an offline message, and advances the version, so a
/// consistent export has as many of each as its version says.
pub async fn export_is_a_snapshot(store: &dyn Store) {
    let id = new_user(store, "alice@hotmail.com", None).await;
    let commits: GroupId = 20;
    let writer = async {
        for i in 1..=commits {
            store.commit(id, &group_and_entry(i)).await.unwrap();
            store
                .add_oim(oim_to(id, "bob@hotmail.com", "hi", i), 100)
                .await
                .unwrap();
            tokio::task::yield_now().await;
        }
    };
    let reader = async {
        let mut reads = 0;
        loop {
            let all = store.export_accounts().await.unwrap();
            let a = &all[0];
            let v = a.list_version as usize;
            assert_eq!(
                (a.groups.len() - 1, a.contacts.len()),
                (v, v),
                "torn export: {a:?}"
            );
            // The message of commit v is stored after it: v or v - 1 of them.
            assert!(
                a.oims.len() == v || a.oims.len() + 1 == v,
                "torn export: {a:?}"
            );
            reads += 1;
            if v == commits as usize {
                return reads;
            }
            tokio::task::yield_now().await;
        }
    };
    let ((), reads) = tokio::join!(writer, reader);
    assert!(reads >= 1);
}
