//! The store conformance suite (`msn_store::conformance`) on SQLite, one
//! fresh database file per case, plus what only a file-backed store has;
//! and on PostgreSQL, one fresh database per case, when
//! `MSND_TEST_DATABASE_URL` names a server (`pg::*`; without it those
//! cases say they are skipped and pass).

use std::path::Path;
use std::sync::Arc;

use msn_core::account::{GroupMode, ListLimits, Property};
use msn_core::handle::Handle;
use msn_store::{NewUser, SqliteOptions, SqliteStore, Store, StoreOptions, Synchronous};
use msn_wire::vocab::{ListKind, Privacy};
use tempfile::TempDir;

async fn open(path: &Path) -> Arc<dyn Store> {
    Arc::new(
        SqliteStore::open(&SqliteOptions::new(path))
            .await
            .expect("open"),
    )
}

macro_rules! sqlite_case {
    ($name:ident) => {
        #[tokio::test]
        async fn $name() {
            let dir = TempDir::new().unwrap();
            let store = open(&dir.path().join("msnd.db")).await;
            msn_store::conformance::$name(&*store).await;
            store.close().await;
        }
    };
}

msn_store::conformance_cases!(sqlite_case);

mod pg {
    use msn_store::test_database::{self, TestDatabase};
    use msn_store::{PgOptions, PgStore, Store};

    macro_rules! pg_case {
        ($name:ident) => {
            #[tokio::test]
            async fn $name() {
                let Some(server) = test_database::server_url() else {
                    eprintln!(
                        "skipped: set {} to run the PostgreSQL store's cases",
                        test_database::ENV
                    );
                    return;
                };
                let db = TestDatabase::create(&server).await;
                let store = PgStore::open(&PgOptions::new(db.url()))
                    .await
                    .expect("open");
                msn_store::conformance::$name(&store).await;
                store.close().await;
                db.drop_database().await;
            }
        };
    }

    msn_store::conformance_cases!(pg_case);

    /// `open` by URL with the pool settings, and read-only opening: reads
    /// work, writes fail, and an empty database is not set up by it.
    #[tokio::test]
    async fn open_by_url_and_read_only() {
        let Some(server) = test_database::server_url() else {
            eprintln!("skipped: set {} to run it", test_database::ENV);
            return;
        };
        let db = TestDatabase::create(&server).await;
        let mut options = msn_store::StoreOptions::default();
        options.max_connections = 2;
        let mut read_only = options.clone();
        read_only.read_only = true;
        let err = msn_store::open(db.url(), &read_only).await.err().unwrap();
        assert!(err.to_string().contains("not set up"), "{err}");

        let store = msn_store::open(db.url(), &options).await.expect("open");
        store
            .create_user(msn_store::NewUser {
                handle: msn_core::handle::Handle::parse("alice@hotmail.com").unwrap(),
                friendly_name: "alice".into(),
                password_hash: "hash".into(),
                legacy_password: None,
            })
            .await
            .unwrap();
        store.close().await;

        let store = msn_store::open(db.url(), &read_only).await.expect("open");
        assert!(store.user_exists("alice@hotmail.com").await.unwrap());
        assert!(store.set_disabled("alice@hotmail.com", true).await.is_err());
        store.close().await;
        db.drop_database().await;
    }
}

/// `run_all` works as a one-call entry point too (through `open` by URL,
/// with the faster synchronous setting).
#[tokio::test]
async fn run_all_through_open_by_url() {
    let dir = TempDir::new().unwrap();
    let mut n = 0;
    let mut options = StoreOptions::default();
    options.synchronous = Synchronous::Normal;
    msn_store::conformance::run_all(|| {
        n += 1;
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{n}/msnd.db")).display()
        );
        let options = options.clone();
        async move { msn_store::open(&url, &options).await.expect("open") }
    })
    .await;
}

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

/// What was committed is there after closing and opening the file again.
#[tokio::test]
async fn commits_survive_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("msnd.db");
    let store = open(&path).await;
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let id = store
            .create_user(NewUser {
                handle: h(&format!("{name}@hotmail.com")),
                friendly_name: name.into(),
                password_hash: "hash".into(),
                legacy_password: None,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let mut alice = store.load_account(ids[0]).await.unwrap();
    let (change, group) = alice
        .plan_add_group("Friends", msn_core::account::MAX_NUMERIC_GROUPS)
        .unwrap();
    let done = store.commit(alice.user_id, &change).await.unwrap();
    alice.apply(&change, done.version);
    let change = alice
        .plan_add(
            ListKind::Forward,
            &h("bob@hotmail.com"),
            // As the service stores it: the contact's own name.
            "bob",
            Some(group.id),
            GroupMode::Explicit,
            ListLimits::default(),
        )
        .unwrap();
    let done = store.commit(alice.user_id, &change).await.unwrap();
    alice.apply(&change, done.version);
    for change in [
        alice.plan_privacy(Privacy::BlockAll).unwrap(),
        alice
            .plan_property(Property::HomePhone, Some("555"))
            .unwrap(),
    ] {
        let done = store.commit(alice.user_id, &change).await.unwrap();
        alice.apply(&change, done.version);
    }
    let bob = store.load_account(ids[1]).await.unwrap();
    store.close().await;

    let store = open(&path).await;
    assert_eq!(store.load_account(ids[0]).await.unwrap(), alice);
    assert_eq!(store.load_account(ids[1]).await.unwrap(), bob);
    assert_eq!(bob.list_version, 1);
    store.close().await;
}

/// The fixture and administration setter that is not part of `Store`.
#[tokio::test]
async fn set_list_version_is_an_inherent_method() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&SqliteOptions::new(dir.path().join("msnd.db")))
        .await
        .unwrap();
    let id = store
        .create_user(NewUser {
            handle: h("alice@hotmail.com"),
            friendly_name: "alice".into(),
            password_hash: "hash".into(),
            legacy_password: None,
        })
        .await
        .unwrap();
    assert!(
        store
            .set_list_version("alice@hotmail.com", 12)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_list_version("nobody@hotmail.com", 12)
            .await
            .unwrap()
    );
    assert_eq!(store.load_account(id).await.unwrap().list_version, 12);
    let bumped = store
        .bump_versions(&[h("alice@hotmail.com")])
        .await
        .unwrap();
    assert_eq!(bumped, [(h("alice@hotmail.com"), 13)]);
    store.close().await;
}
