//! The PostgreSQL store used by several nodes at once: two `PgStore`s
//! (two pools, as two msnd processes would have) on one fresh database,
//! writing the same accounts concurrently. Runs when
//! `MSND_TEST_DATABASE_URL` names a server; otherwise each test says it
//! is skipped and passes.

use std::collections::BTreeSet;
use std::sync::Arc;

use msn_core::account::{Account, GroupMode, ListLimits, lists};
use msn_core::handle::Handle;
use msn_store::test_database::{self, TestDatabase};
use msn_store::{NewUser, PgOptions, PgStore, Store};
use msn_wire::vocab::ListKind;

/// Two nodes on one new database; `None` (after saying so) without a
/// server to test against.
async fn two_nodes() -> Option<(TestDatabase, Arc<PgStore>, Arc<PgStore>)> {
    let Some(server) = test_database::server_url() else {
        eprintln!(
            "skipped: set {} to run the PostgreSQL store's tests",
            test_database::ENV
        );
        return None;
    };
    let db = TestDatabase::create(&server).await;
    let a = PgStore::open(&PgOptions::new(db.url()))
        .await
        .expect("open A");
    let b = PgStore::open(&PgOptions::new(db.url()))
        .await
        .expect("open B");
    Some((db, Arc::new(a), Arc::new(b)))
}

async fn finish(db: TestDatabase, nodes: [Arc<PgStore>; 2]) {
    for node in nodes {
        node.close().await;
    }
    db.drop_database().await;
}

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

async fn user(store: &dyn Store, handle: &str) -> i64 {
    store
        .create_user(NewUser {
            handle: h(handle),
            friendly_name: handle.split('@').next().unwrap().into(),
            password_hash: "$argon2id$fake".into(),
            legacy_password: None,
        })
        .await
        .expect("create_user")
}

/// `owner`'s plan to put `contact` on `list`, from the owner's account as
/// loaded by this node (which may be behind the other node's edits).
fn plan(account: &Account, list: ListKind, contact: &str) -> msn_core::account::Change {
    let group = (list == ListKind::Forward).then_some(0);
    let mode = if group.is_some() {
        GroupMode::Explicit
    } else {
        GroupMode::None
    };
    account
        .plan_add(
            list,
            &h(contact),
            "name",
            group,
            mode,
            ListLimits::default(),
        )
        .expect("plan")
}

/// Both nodes edit one account at once: every commit gets its own version,
/// the versions each writer sees only go up, and no edit is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_of_one_account_keep_versions_and_every_edit() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const PER_WRITER: usize = 15;
    let alice = user(&*a, "alice@hotmail.com").await;
    // Contacts that exist, so that every add also changes their reverse
    // list (locks on two accounts' rows, from both nodes).
    for i in 0..PER_WRITER {
        user(&*a, &format!("a{i}@hotmail.com")).await;
        user(&*b, &format!("b{i}@hotmail.com")).await;
    }
    let loaded = a.load_account(alice).await.unwrap();
    let mut writers = Vec::new();
    for (node, prefix) in [(a.clone(), "a"), (b.clone(), "b")] {
        for half in 0..2 {
            let node = node.clone();
            let account = loaded.clone();
            writers.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in (half..PER_WRITER).step_by(2) {
                    let contact = format!("{prefix}{i}@hotmail.com");
                    let change = plan(&account, ListKind::Forward, &contact);
                    let done = node.commit(alice, &change).await.expect("commit");
                    assert!(done.reverse_version.is_some(), "{contact}'s RL changed");
                    seen.push(done.version);
                }
                seen
            }));
        }
    }
    let mut all = BTreeSet::new();
    for writer in writers {
        let seen = writer.await.unwrap();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        for v in seen {
            assert!(all.insert(v), "version {v} given twice");
        }
    }
    let total = (2 * PER_WRITER) as u64;
    assert_eq!(all, (1..=total).collect::<BTreeSet<_>>());
    let stored = b.load_account(alice).await.unwrap();
    assert_eq!(stored.list_version, total);
    let on_fl = stored
        .contacts
        .iter()
        .filter(|c| c.lists & lists::FL != 0)
        .count();
    assert_eq!(on_fl, 2 * PER_WRITER, "no add is lost");
    finish(db, [a, b]).await;
}

/// Node A's forward-list adds set bits on the other user's entries while
/// that user edits the same entries from node B: both edits survive, as
/// deltas, and the other user's versions stay distinct and increasing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reverse_bits_from_one_node_and_own_edits_from_the_other_both_stay() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const PAIRS: usize = 12;
    let bob = user(&*b, "bob@hotmail.com").await;
    let mut adders = Vec::new();
    for i in 0..PAIRS {
        let id = user(&*a, &format!("u{i}@hotmail.com")).await;
        adders.push(id);
    }
    let bob_account = b.load_account(bob).await.unwrap();
    // Node A: every u{i} adds bob to their FL (sets RL|PL on bob's entry
    // for u{i}).
    let from_a = {
        let a = a.clone();
        tokio::spawn(async move {
            let mut versions = Vec::new();
            for id in adders {
                let account = a.load_account(id).await.unwrap();
                let change = plan(&account, ListKind::Forward, "bob@hotmail.com");
                let done = a.commit(id, &change).await.expect("commit");
                versions.push(done.reverse_version.expect("bob's RL changed"));
            }
            versions
        })
    };
    // Node B, meanwhile: bob allows every u{i} (sets AL on the same rows).
    let from_b = {
        let b = b.clone();
        tokio::spawn(async move {
            let mut versions = Vec::new();
            for i in 0..PAIRS {
                let change = plan(&bob_account, ListKind::Allow, &format!("u{i}@hotmail.com"));
                versions.push(b.commit(bob, &change).await.expect("commit").version);
            }
            versions
        })
    };
    let from_a = from_a.await.unwrap();
    let from_b = from_b.await.unwrap();
    assert!(from_b.windows(2).all(|w| w[0] < w[1]), "{from_b:?}");
    let all: BTreeSet<u64> = from_a.iter().chain(&from_b).copied().collect();
    assert_eq!(all.len(), 2 * PAIRS, "every version given once");
    let stored = a.load_account(bob).await.unwrap();
    assert_eq!(stored.list_version, (2 * PAIRS) as u64);
    assert_eq!(all.last().copied(), Some(stored.list_version));
    for i in 0..PAIRS {
        let handle = format!("u{i}@hotmail.com");
        let entry = stored
            .contacts
            .iter()
            .find(|c| c.handle.as_str() == handle)
            .unwrap_or_else(|| panic!("bob's entry for {handle}"));
        assert_eq!(
            entry.lists & (lists::RL | lists::AL),
            lists::RL | lists::AL,
            "{handle}: {:#b}",
            entry.lists
        );
    }
    finish(db, [a, b]).await;
}

/// A load on one node while the other commits sees each commit entirely
/// or not at all: here every commit adds one entry and one version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_account_is_one_snapshot_under_another_nodes_commits() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const COMMITS: usize = 40;
    let alice = user(&*a, "alice@hotmail.com").await;
    let account = a.load_account(alice).await.unwrap();
    let writer = {
        let a = a.clone();
        tokio::spawn(async move {
            for i in 0..COMMITS {
                let change = plan(&account, ListKind::Forward, &format!("c{i}@hotmail.com"));
                a.commit(alice, &change).await.expect("commit");
            }
        })
    };
    let mut loads = 0;
    loop {
        let seen = b.load_account(alice).await.unwrap();
        assert_eq!(
            seen.contacts.len() as u64,
            seen.list_version,
            "a load saw part of a commit"
        );
        assert!(
            seen.contacts
                .iter()
                .all(|c| c.lists & lists::FL == 0 || !c.groups.is_empty()),
            "an FL entry without its group"
        );
        loads += 1;
        if seen.list_version == COMMITS as u64 {
            break;
        }
    }
    writer.await.unwrap();
    assert!(loads >= 1);
    finish(db, [a, b]).await;
}

/// An account created at the same moment on both nodes exists once; the
/// other node gets `AlreadyExists`, as on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_account_created_on_both_nodes_exists_once() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    for i in 0..10 {
        let handle = format!("same{i}@hotmail.com");
        let (x, y) = tokio::join!(
            a.create_user(NewUser {
                handle: h(&handle),
                friendly_name: "x".into(),
                password_hash: "h".into(),
                legacy_password: None,
            }),
            b.create_user(NewUser {
                handle: h(&handle),
                friendly_name: "y".into(),
                password_hash: "h".into(),
                legacy_password: None,
            }),
        );
        let created = [&x, &y].iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "{x:?} {y:?}");
        let refused = if x.is_err() { x } else { y };
        assert!(
            matches!(refused, Err(msn_store::StoreError::AlreadyExists(_))),
            "{refused:?}"
        );
    }
    finish(db, [a, b]).await;
}

/// The change log read by one node lists what both wrote, each once, in
/// order, however the writes interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn account_change_log_from_both_nodes_is_read_in_full() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const USERS: usize = 20;
    for i in 0..USERS {
        user(&*a, &format!("x{i}@hotmail.com")).await;
    }
    let (start, _) = a.account_changes(None).await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..USERS {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        jobs.push(tokio::spawn(async move {
            node.set_password(&format!("x{i}@hotmail.com"), "new".into(), None)
                .await
                .unwrap()
        }));
    }
    // Follow the log from node B while the writes run, then once more
    // after: a number skipped while a smaller one was uncommitted would be
    // missing for good.
    let mut cursor = start;
    let mut seen = Vec::new();
    loop {
        let writes_done = jobs.iter().all(|j| j.is_finished());
        let (next, changes) = b.account_changes(Some(cursor)).await.unwrap();
        assert!(next >= cursor);
        cursor = next;
        seen.extend(changes.into_iter().map(|c| c.handle.to_string()));
        if writes_done {
            break;
        }
        tokio::task::yield_now().await;
    }
    for job in jobs {
        assert!(job.await.unwrap());
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), USERS, "{seen:?}");
    finish(db, [a, b]).await;
}

/// Pairs of users adding each other at the same moment from the two nodes
/// (each commit locks both accounts): every add lands, with both sides'
/// reverse bits, and nothing fails on a lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_adding_each_other_from_both_nodes_both_land() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const PAIRS: usize = 12;
    let mut jobs = Vec::new();
    for i in 0..PAIRS {
        let (x, y) = (format!("p{i}@hotmail.com"), format!("q{i}@hotmail.com"));
        let x_id = user(&*a, &x).await;
        let y_id = user(&*b, &y).await;
        for (node, id, other) in [(a.clone(), x_id, y.clone()), (b.clone(), y_id, x.clone())] {
            jobs.push(tokio::spawn(async move {
                let account = node.load_account(id).await.unwrap();
                let change = plan(&account, ListKind::Forward, &other);
                node.commit(id, &change).await.expect("commit");
            }));
        }
    }
    for job in jobs {
        job.await.unwrap();
    }
    for i in 0..PAIRS {
        for (me, other) in [("p", "q"), ("q", "p")] {
            let id = a
                .user(&format!("{me}{i}@hotmail.com"))
                .await
                .unwrap()
                .unwrap()
                .id;
            let account = a.load_account(id).await.unwrap();
            let entry = account
                .contacts
                .iter()
                .find(|c| c.handle.as_str() == format!("{other}{i}@hotmail.com"))
                .expect("entry");
            assert_eq!(entry.lists & (lists::FL | lists::RL), lists::FL | lists::RL);
            assert_eq!(account.list_version, 2);
        }
    }
    finish(db, [a, b]).await;
}

/// Invitations to one circle from both nodes at once: the member limit
/// holds (the count and the insert are one step under the circle's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn circle_member_limit_holds_across_nodes() {
    let Some((db, a, b)) = two_nodes().await else {
        return;
    };
    const MAX_MEMBERS: usize = 5;
    const INVITEES: usize = 12;
    let admin = user(&*a, "admin@hotmail.com").await;
    let circle = msn_core::circle::CircleId::generate();
    let created = a.create_circle(circle, "c", admin, 10).await.unwrap();
    assert_eq!(created, msn_store::CircleCreated::Created);
    let mut jobs = Vec::new();
    for i in 0..INVITEES {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let id = user(&*node, &format!("m{i}@hotmail.com")).await;
        jobs.push(tokio::spawn(async move {
            node.invite_to_circle(circle, id, admin, MAX_MEMBERS, 10)
                .await
                .unwrap()
        }));
    }
    let mut invited = 0;
    for job in jobs {
        match job.await.unwrap() {
            msn_store::CircleInvited::Invited => invited += 1,
            msn_store::CircleInvited::CircleFull => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(invited, MAX_MEMBERS - 1, "the admin holds one place");
    let stored = b.circle(circle).await.unwrap().expect("circle");
    assert_eq!(stored.members.len(), MAX_MEMBERS);
    finish(db, [a, b]).await;
}
