//! Upgrading a database made before the identity model (0003): group
//! masks become membership rows, every entry is a Passport contact; and
//! from before 0005: friendly names stored URL-encoded become text.

use std::path::Path;

use msn_core::network::NetworkId;
use msn_store::{SqliteOptions, SqliteStore, Store};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tempfile::TempDir;

/// The migrations before `0003_identity.sql`, as an older msnd had them.
async fn old_schema(db: &Path, scratch: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for name in ["0001_init.sql", "0002_account_changes.sql"] {
        std::fs::copy(src.join(name), scratch.join(name)).unwrap();
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(db)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    Migrator::new(scratch)
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO users (id, handle, friendly_name, password_hash, list_version, created_at) \
         VALUES (1, 'alice@hotmail.com', 'Alice%20Smith', 'h', 7, 0)",
        "INSERT INTO users (id, handle, friendly_name, password_hash, created_at) \
         VALUES (2, 'bob@hotmail.com', 'bob', 'h', 0)",
        "INSERT INTO contact_groups VALUES (1, 0, '11111111-1111-1111-1111-111111111111', 'Other')",
        "INSERT INTO contact_groups VALUES (1, 3, '33333333-3333-3333-3333-333333333333', 'Three')",
        "INSERT INTO contact_groups VALUES (1, 29, '29292929-2929-2929-2929-292929292929', 'Last')",
        "INSERT INTO contact_groups VALUES (2, 0, '22222222-2222-2222-2222-222222222222', 'Other')",
        // In groups 3 and 29.
        "INSERT INTO contacts VALUES (1, 'bob@hotmail.com', 3, 'Bob', \
         'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 536870920)",
        // In group 0.
        "INSERT INTO contacts VALUES (1, 'carol@hotmail.com', 1, 'Carol%20%E2%98%BA', \
         'cccccccc-cccc-cccc-cccc-cccccccccccc', 1)",
        // A mask naming only a deleted group: group 0.
        "INSERT INTO contacts VALUES (1, 'dave@hotmail.com', 1, 'Dave', \
         'dddddddd-dddd-dddd-dddd-dddddddddddd', 16)",
        // Not on the FL: no group.
        "INSERT INTO contacts VALUES (2, 'alice@hotmail.com', 24, 'alice', NULL, 0)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn group_masks_become_memberships() {
    let dir = TempDir::new().unwrap();
    let scratch = dir.path().join("old-migrations");
    std::fs::create_dir(&scratch).unwrap();
    let db = dir.path().join("msnd.db");
    old_schema(&db, &scratch).await;

    let store = SqliteStore::open(&SqliteOptions::new(&db)).await.unwrap();
    let alice = store.load_account(1).await.unwrap();
    assert_eq!(alice.list_version, 7);
    let groups = |h: &str| alice.contact(h).unwrap().groups.to_vec();
    assert_eq!(groups("bob@hotmail.com"), [3, 29]);
    assert_eq!(groups("carol@hotmail.com"), [0]);
    assert_eq!(groups("dave@hotmail.com"), [0]);
    assert!(
        alice
            .contacts
            .iter()
            .all(|c| c.network == NetworkId::Passport)
    );
    let bob = store.load_account(2).await.unwrap();
    let entry = bob.contact("alice@hotmail.com").unwrap();
    assert_eq!((entry.lists, entry.groups.len()), (24, 0));

    // Names as text: the account's, an entry without an account (carol),
    // and an entry for an account, which reads as that account's name.
    assert_eq!(alice.friendly_name, "Alice Smith");
    assert_eq!(
        &*alice.contact("carol@hotmail.com").unwrap().name,
        "Carol ☺"
    );
    assert_eq!(&*entry.name, "Alice Smith");
    assert_eq!(&*alice.contact("bob@hotmail.com").unwrap().name, "bob");
    store.close().await;
    // Decoded once: opening again leaves text alone.
    let store = SqliteStore::open(&SqliteOptions::new(&db)).await.unwrap();
    assert_eq!(
        store.load_account(1).await.unwrap().friendly_name,
        "Alice Smith"
    );
    store.close().await;
}
