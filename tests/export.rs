//! Moving data, black-box: `msnd export` of a running server whose users
//! edited their lists over the protocol, `msnd import` into a fresh data
//! directory, the same export again, and the users signing in there;
//! `msnd import` refusing bad files whole; `msnd import-escargot` of an
//! Escargot database built here from Escargot's schema (see
//! `crates/msnd/src/escargot.rs` for the version followed), whose users
//! then sign in with their Escargot passwords.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use msn_core::circle::{CircleId, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_server::Config;
use msn_store::{NewOim, Store};
use msnd::App;
use msnd::probe::{ProbeContact, probe};
use sqlx::Connection as _;
use support::{Client, TestServer};
use tokio::process::Command;

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

/// Runs the msnd binary on `dir`; returns (success, stdout, stderr).
async fn msnd(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msnd"));
    // A test server's directory on PostgreSQL names its database.
    match support::database_url_of(dir) {
        Some(url) => cmd.env("MSND_DATABASE__URL", url),
        None => cmd.env_remove("MSND_DATABASE__URL"),
    };
    let out = cmd
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server on an existing data directory: always SQLite (the file in
/// `dir`), also when `MSND_TEST_DATABASE_URL` puts `TestServer`s on
/// PostgreSQL; an export from such a server into one of these checks the
/// move from one backend to the other.
async fn start_on(dir: &Path) -> (App, Arc<dyn Store>) {
    start_on_with(dir, |_| {}).await
}

async fn start_on_with(dir: &Path, tweak: impl FnOnce(&mut Config)) -> (App, Arc<dyn Store>) {
    let mut config = Config::for_tests(dir);
    tweak(&mut config);
    let store = msnd::open_store(&config).await.expect("store");
    let app = App::start(config, store.clone()).await.expect("starts");
    (app, store)
}

/// `email` signs in as MSN Messenger 7.5 does (a Passport ticket from
/// the HTTP login, MSNP12) and downloads its list.
async fn sign_in(app: &App, email: &str, password: &str) -> msnd::probe::ProbeReport {
    let http = app.http.http_addr.expect("http");
    probe(
        app.server.ns_addr,
        http,
        email,
        password,
        Duration::from_secs(20),
    )
    .await
    .unwrap_or_else(|e| panic!("{email} cannot sign in: {e:#}"))
}

fn contact(handle: &str, name: &str, lists: u32) -> ProbeContact {
    ProbeContact {
        handle: handle.to_owned(),
        name: name.to_owned(),
        lists,
    }
}

/// Every line but the header (which carries the export's time).
fn body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    assert!(
        header.starts_with(r#"{"format":"msnd-export","version":2,"#),
        "{header}"
    );
    rest.to_owned()
}

#[tokio::test]
async fn export_then_import_round_trips_and_users_sign_in() {
    let s = TestServer::start().await;
    for (email, pw, name) in [
        ("alice@hotmail.com", "alicepass", "Alice"),
        ("bob@hotmail.com", "bobpass", "Bob"),
        ("carol@hotmail.com", "carolpass", "Carol"),
    ] {
        s.user(email, pw, name).await;
    }
    // Lists, a group, a block, a non-ASCII name and settings, made over
    // the protocol (MSN Messenger 4.x's MSNP7).
    let mut alice = Client::login(s.ns, 7, "alice@hotmail.com", "alicepass").await;
    let adg = alice.call("ADG {} Fr%C3%BCnde 0").await;
    assert_eq!(adg.command(), "ADG", "{}", adg.line());
    let group = adg.tokens().nth(4).unwrap().to_owned();
    for line in [
        format!("ADD {{}} FL bob@hotmail.com Bob {group}"),
        "ADD {} AL bob@hotmail.com Bob".to_owned(),
        "ADD {} BL carol@hotmail.com Carol".to_owned(),
        "REA {} alice@hotmail.com %C3%85lice%20%E2%98%83".to_owned(),
        "BLP {} BL".to_owned(),
        "GTC {} N".to_owned(),
    ] {
        let reply = alice.call(&line).await;
        assert_eq!(reply.command(), &line[..3], "{line}: {}", reply.line());
    }
    let mut bob = Client::login(s.ns, 7, "bob@hotmail.com", "bobpass").await;
    let reply = bob.call("ADD {} FL alice@hotmail.com Alice 0").await;
    assert_eq!(reply.command(), "ADD", "{}", reply.line());
    let reply = bob.call("PRP {} PHH 555%201234").await;
    assert_eq!(reply.command(), "PRP", "{}", reply.line());
    drop((alice, bob));
    // An offline message waiting for carol (stored as the OIM service
    // stores one).
    let carol_id = s.store.user("carol@hotmail.com").await.unwrap().unwrap().id;
    s.store
        .add_oim(
            NewOim {
                id: uuid::Uuid::new_v4(),
                recipient_id: carol_id,
                sender: h("bob@hotmail.com"),
                sender_name: "Böb".into(),
                run_id: uuid::Uuid::new_v4(),
                sequence_num: 1,
                origin: "192.0.2.7".into(),
                received_at: 1_700_000_000,
                text: "bis später ☃".into(),
            },
            100,
        )
        .await
        .unwrap();
    // A circle alice administers, bob in it, carol invited (stored as the
    // circle SOAP calls store them).
    let circle = CircleId::generate();
    let alice_id = s.store.user("alice@hotmail.com").await.unwrap().unwrap().id;
    let bob_id = s.store.user("bob@hotmail.com").await.unwrap().unwrap().id;
    s.store
        .create_circle(circle, "Bücherclub", alice_id, 10)
        .await
        .unwrap();
    for (member, state) in [
        (bob_id, MemberState::Accepted),
        (carol_id, MemberState::Pending),
    ] {
        s.store
            .invite_to_circle(circle, member, alice_id, 10, 10)
            .await
            .unwrap();
        s.store
            .set_circle_member_state(circle, member, state)
            .await
            .unwrap();
    }

    // Exported while the server runs.
    let files = tempfile::tempdir().unwrap();
    let first = files.path().join("first.jsonl");
    let (ok, _, err) = msnd(
        s.dir.path(),
        &["export", "--output", first.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        err.contains("exported 3 accounts (") && err.contains(", 1 offline messages, 1 circles)"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the export holds password hashes");
    }
    // The file is not overwritten by a second export.
    let (ok, _, err) = msnd(s.dir.path(), &["export", "-o", first.to_str().unwrap()]).await;
    assert!(!ok && err.contains("must not exist"), "{err}");
    s.stop().await;

    let target = tempfile::tempdir().unwrap();
    let (ok, out, err) = msnd(target.path(), &["import", first.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    assert!(out.contains("imported 3 accounts"), "{out}");
    let second: PathBuf = target.path().join("second.jsonl");
    let (ok, _, err) = msnd(target.path(), &["export", "-o", second.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    assert_eq!(body(&first), body(&second), "the import changed something");
    // Everything carries over, the offline message included.
    let text = body(&second);
    for part in [
        r#""friendly_name":"Ålice ☃""#,
        r#""privacy":"BL","add_alert":"N""#,
        r#""name":"Fr%C3%BCnde""#,
        r#""home_phone":"555%201234""#,
        r#""text":"bis später ☃""#,
        r#""type":"circle""#,
        r#""name":"Bücherclub""#,
        r#"{"handle":"carol@hotmail.com","role":"Member","state":"WaitingResponse","inviter":"alice@hotmail.com"}"#,
    ] {
        assert!(text.contains(part), "{part} not in\n{text}");
    }

    // Importing again is refused whole, naming the account and its line.
    let (ok, _, err) = msnd(target.path(), &["import", first.to_str().unwrap()]).await;
    assert!(!ok, "a second import succeeded");
    assert!(
        err.contains("line 2: account alice@hotmail.com already exists"),
        "{err}"
    );

    let (app, store) = start_on(target.path()).await;
    let report = sign_in(&app, "alice@hotmail.com", "alicepass").await;
    assert_eq!(report.friendly_name, "Ålice ☃");
    // MSNP12 lists the groups but group 0.
    assert_eq!(report.groups, 1, "{text}");
    assert_eq!(
        report.contacts,
        [
            contact("bob@hotmail.com", "Bob", 1 | 2 | 8),
            contact("carol@hotmail.com", "Carol", 4),
        ]
    );
    let report = sign_in(&app, "bob@hotmail.com", "bobpass").await;
    assert_eq!(report.contacts[0].handle, "alice@hotmail.com");
    // On bob's FL, and alice pending on his RL (listed as PL, RL cleared).
    assert_eq!(report.contacts[0].lists, 1 | 16);
    // The kept MD5 password came along.
    Client::login(app.server.ns_addr, 7, "alice@hotmail.com", "alicepass").await;
    let carol = store.user("carol@hotmail.com").await.unwrap().unwrap();
    let oims = store.oims(carol.id).await.unwrap();
    assert_eq!(oims.len(), 1);
    assert_eq!(oims[0].sender_name, "Böb");
    // The circle, with its members in order.
    let circles = store.circles_of(carol.id).await.unwrap();
    assert_eq!(circles.len(), 1);
    assert_eq!(circles[0].id, circle);
    let members: Vec<_> = circles[0]
        .members
        .iter()
        .map(|m| (m.handle.as_str(), m.role, m.state))
        .collect();
    assert_eq!(
        members,
        [
            (
                "alice@hotmail.com",
                CircleRole::Admin,
                MemberState::Accepted
            ),
            ("bob@hotmail.com", CircleRole::Member, MemberState::Accepted),
            (
                "carol@hotmail.com",
                CircleRole::Member,
                MemberState::Pending
            ),
        ]
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bad_files_are_refused_whole_with_their_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    let group = r#"{"type":"group","id":0,"guid":"5b3c4ac1-49b4-4bbd-8d7b-c3b2bfc7a0f1","name":"Other%20Contacts"}"#;
    let account = |handle: &str| {
        format!(
            r#"{{"type":"account","handle":"{handle}","friendly_name":"X","password_hash":"pbkdf2_sha256$1$salt$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=","legacy_password":null,"verified":true,"disabled":false,"created_at":0,"privacy":"AL","add_alert":"A","list_version":0,"home_phone":null,"work_phone":null,"mobile_phone":null,"mobile_messages":false,"mobile_device":false,"personal_message":null}}"#
        )
    };
    let header = r#"{"format":"msnd-export","version":1,"exported_at":0,"generator":"test"}"#;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "the file is empty"),
        (vec!["{}".into()], "line 1: not an msnd export"),
        (
            vec![header.replace(":1,", ":3,")],
            "line 1: format version 3",
        ),
        (
            vec![header.into(), account("ok@example.com"), group.into()],
            "no end record",
        ),
        (
            vec![
                header.into(),
                account("ok@example.com"),
                group.into(),
                account("Not An Address"),
                r#"{"type":"contact","handle":"x@example.com","network":1,"lists":["XL"],"name":"x","guid":null,"groups":[]}"#.into(),
                r#"{"type":"end","accounts":2,"groups":1,"contacts":0,"oims":0}"#.into(),
            ],
            "line 4: handle \"Not An Address\"",
        ),
        (
            vec![
                header.into(),
                account("ok@example.com").replace(r#""verified""#, r#""verifed""#),
            ],
            "line 2: not a record: unknown field `verifed`",
        ),
        (
            vec![
                header.into(),
                account("ok@example.com"),
                r#"{"type":"end","accounts":1,"groups":0,"contacts":0,"oims":0}"#.into(),
            ],
            "line 2: account ok@example.com: group 0 (the default group) is missing",
        ),
        (
            vec![
                header.replace(":1,", ":2,"),
                account("ok@example.com"),
                group.into(),
                r#"{"type":"circle","id":"00000000-0000-0000-0009-00000000abcd","name":"C","created_at":0,"members":[{"handle":"other@example.com","role":"Admin","state":"Accepted","inviter":null}]}"#.into(),
                r#"{"type":"end","accounts":1,"groups":1,"contacts":0,"oims":0,"circles":1}"#.into(),
            ],
            "line 2: account ok@example.com: circle 00000000-0000-0000-0009-00000000abcd: its admin (the first member) must be the account it follows",
        ),
        (
            vec![
                header.replace(":1,", ":2,"),
                account("ok@example.com"),
                group.into(),
                r#"{"type":"circle","id":"00000000-0000-0000-0009-00000000abcd","name":"C","created_at":0,"members":[{"handle":"ok@example.com","role":"Admin","state":"Accepted","inviter":null},{"handle":"nobody@example.com","role":"Member","state":"Accepted","inviter":null}]}"#.into(),
                r#"{"type":"end","accounts":1,"groups":1,"contacts":0,"oims":0,"circles":1}"#.into(),
            ],
            "line 2: circle 00000000-0000-0000-0009-00000000abcd: member nobody@example.com is neither in the file nor in this database",
        ),
        (
            vec![
                header.into(),
                account("ok@example.com"),
                group.into(),
                r#"{"type":"end","accounts":1,"groups":1,"contacts":1,"oims":0}"#.into(),
            ],
            "line 4: the end record counts",
        ),
    ];
    for (lines, expected) in cases {
        std::fs::write(&file, lines.join("\n")).unwrap();
        let (ok, _, err) = msnd(dir.path(), &["import", file.to_str().unwrap()]).await;
        assert!(!ok, "imported {lines:?}");
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(
            err.contains("nothing was imported") || !err.contains("problem"),
            "{err}"
        );
    }
    // Every problem is reported in one run, in line order.
    std::fs::write(
        &file,
        [
            header.to_owned(),
            account("Not An Address"),
            r#"{"type":"contact","handle":"x@example.com","network":1,"lists":["XL"],"name":"x","guid":null,"groups":[]}"#.to_owned(),
            r#"{"type":"end","accounts":1,"groups":0,"contacts":0,"oims":0}"#.to_owned(),
        ]
        .join("\n"),
    )
    .unwrap();
    let (_, _, err) = msnd(dir.path(), &["import", file.to_str().unwrap()]).await;
    let second = err.find("line 2: handle \"Not An Address\"").expect(&err);
    let third = err.find("line 3: list \"XL\"").expect(&err);
    assert!(second < third, "{err}");
    assert!(err.contains("2 problem(s), nothing was imported"), "{err}");
    let config = Config::for_tests(dir.path());
    let store = msnd::open_store(&config).await.unwrap();
    assert!(
        store.list_users().await.unwrap().is_empty(),
        "something was imported"
    );
    store.close().await;
}

/// Escargot's tables as `core/db.py` (subpurple/escargot 1f5a190) makes
/// them on SQLite: SQLAlchemy's types (`DateTime` as text, `Boolean` as
/// an integer, `JSONType` as JSON text).
const ESCARGOT_SCHEMA: &str = r#"
CREATE TABLE t_user (
    id INTEGER NOT NULL PRIMARY KEY,
    date_created DATETIME NOT NULL,
    date_login DATETIME,
    uuid VARCHAR NOT NULL UNIQUE,
    email VARCHAR NOT NULL,
    username VARCHAR NOT NULL,
    verified BOOLEAN NOT NULL,
    name VARCHAR,
    name_last_modified DATETIME NOT NULL,
    friendly_name VARCHAR NOT NULL,
    message VARCHAR,
    message_last_modified DATETIME NOT NULL,
    password VARCHAR NOT NULL,
    groups TEXT NOT NULL,
    settings TEXT NOT NULL,
    front_data TEXT NOT NULL
);
CREATE UNIQUE INDEX email_ci_index ON t_user (LOWER(email));
CREATE TABLE t_user_contact (
    user_id INTEGER NOT NULL REFERENCES t_user (id),
    contact_id INTEGER NOT NULL REFERENCES t_user (id),
    user_uuid VARCHAR NOT NULL REFERENCES t_user (uuid),
    uuid VARCHAR NOT NULL REFERENCES t_user (uuid),
    name VARCHAR NOT NULL,
    lists INTEGER NOT NULL,
    pending BOOLEAN NOT NULL,
    groups TEXT NOT NULL,
    is_messenger_user BOOLEAN NOT NULL,
    index_id VARCHAR NOT NULL,
    birthdate DATETIME, anniversary DATETIME, notes VARCHAR,
    first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR, nickname VARCHAR,
    primary_email_type VARCHAR, personal_email VARCHAR, work_email VARCHAR,
    im_email VARCHAR, other_email VARCHAR, home_phone VARCHAR, work_phone VARCHAR,
    fax_phone VARCHAR, pager_phone VARCHAR, mobile_phone VARCHAR, other_phone VARCHAR,
    personal_website VARCHAR, business_website VARCHAR,
    locations TEXT NOT NULL,
    front_data TEXT NOT NULL,
    PRIMARY KEY (user_id, contact_id)
);
"#;

const ALICE_UUID: &str = "00000000-0000-0000-0000-00000000a11c";
const BOB_UUID: &str = "00000000-0000-0000-0000-000000000b0b";
const CAROL_UUID: &str = "00000000-0000-0000-0000-0000000ca201";

/// Builds the fixture: alice (MD5 login too, BLP BL, two groups, bob on
/// FL/AL/RL in "Friends", carol blocked), bob (alice on FL/AL/RL in
/// "Work Mates"), carol (alice pending on her RL), and a contact row
/// naming a deleted account. Hashes: Python's
/// `hashlib.pbkdf2_hmac('sha256', pw, salt, 24000)`, as Escargot's
/// `util/hash.py` makes them.
async fn escargot_fixture(path: &Path) {
    // SQLAlchemy leaves SQLite's foreign keys unenforced: a contact row
    // may outlive the account it names.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(false);
    let mut db = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql(ESCARGOT_SCHEMA)
        .execute(&mut db)
        .await
        .unwrap();
    let users = [
        (
            1,
            ALICE_UUID,
            "Alice@Hotmail.com",
            "Alice%20%E2%98%83",
            Some("on holiday"),
            "pbkdf2_sha256$24000$3f9a1c0b7d2e4a6$hMX6NnCBrhFwWaZgkLFTNvrNVCo5tdIjnnLBg+tuiIM=",
            r#"[{"id": "1", "uuid": "6f1d2c3b-0000-4000-8000-000000000001", "name": "Friends", "is_favorite": false}, {"id": "2", "uuid": "6f1d2c3b-0000-4000-8000-000000000002", "name": "Work Mates", "is_favorite": true}]"#,
            r#"{"BLP": "BL", "GTC": "N", "PHH": "555%201234", "MOB": "Y"}"#,
            r#"{"msn": {"pw_md5": "md5$abcdef$AAAAAAAAAAAAAAAAAAAAAA=="}}"#,
        ),
        (
            2,
            BOB_UUID,
            "bob@hotmail.com",
            "Bob",
            None,
            "pbkdf2_sha256$24000$a0b1c2d3e4f5a6b$THgrum8gspNVXrjLmiesjLPwAt0uuWplgiU4pya8u/E=",
            r#"[{"id": "1", "uuid": "7e000000-0000-4000-8000-000000000001", "name": "Work%20Mates", "is_favorite": false}]"#,
            "{}",
            "{}",
        ),
        (
            3,
            CAROL_UUID,
            "carol@hotmail.com",
            "Carol",
            None,
            "pbkdf2_sha256$24000$0123456789abcde$GdFsV+Ope3fkTVpT5zIrC+XunaJzlInZA+K1z8ZxPWw=",
            "[]",
            "{}",
            "null",
        ),
    ];
    for (id, uuid, email, name, message, password, groups, settings, front) in users {
        sqlx::query(
            "INSERT INTO t_user (id, date_created, uuid, email, username, verified, name, \
             name_last_modified, friendly_name, message, message_last_modified, password, \
             groups, settings, front_data) VALUES (?, '2019-03-01 12:34:56.789000', ?, ?, ?, 1, \
             NULL, '2019-03-01 12:34:56', ?, ?, '2019-03-01 12:34:56', ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(uuid)
        .bind(email)
        .bind(email.split('@').next().unwrap())
        .bind(name)
        .bind(message)
        .bind(password)
        .bind(groups)
        .bind(settings)
        .bind(front)
        .execute(&mut db)
        .await
        .unwrap();
    }
    let contacts = [
        (
            1,
            2,
            ALICE_UUID,
            BOB_UUID,
            "Bob",
            1 | 2 | 8,
            0,
            r#"[{"id": "1", "uuid": "6f1d2c3b-0000-4000-8000-000000000001"}]"#,
        ),
        (1, 3, ALICE_UUID, CAROL_UUID, "Carol", 4, 0, "[]"),
        (
            2,
            1,
            BOB_UUID,
            ALICE_UUID,
            "Alice%20%E2%98%83",
            1 | 2 | 8,
            0,
            r#"[{"id": "1", "uuid": "7e000000-0000-4000-8000-000000000001"}]"#,
        ),
        (3, 1, CAROL_UUID, ALICE_UUID, "Alice", 8, 1, "[]"),
        (
            3,
            9,
            CAROL_UUID,
            "00000000-0000-0000-0000-00000000dead",
            "Gone",
            1,
            0,
            "[]",
        ),
    ];
    for (user_id, contact_id, user_uuid, uuid, name, lists, pending, groups) in contacts {
        sqlx::query(
            "INSERT INTO t_user_contact (user_id, contact_id, user_uuid, uuid, name, lists, \
             pending, groups, is_messenger_user, index_id, locations, front_data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, '2', '{}', '{}')",
        )
        .bind(user_id)
        .bind(contact_id)
        .bind(user_uuid)
        .bind(uuid)
        .bind(name)
        .bind(lists)
        .bind(pending)
        .bind(groups)
        .execute(&mut db)
        .await
        .unwrap();
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn an_escargot_database_moves_over() {
    let source = tempfile::tempdir().unwrap();
    let db = source.path().join("msn.sqlite");
    escargot_fixture(&db).await;
    let dir = tempfile::tempdir().unwrap();

    let (ok, out, err) = msnd(
        dir.path(),
        &["import-escargot", db.to_str().unwrap(), "--dry-run"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("would import 3 accounts (6 groups, 4 contacts)"),
        "{out}"
    );
    assert!(
        !dir.path().join("msnd.db").exists(),
        "a dry run wrote a database"
    );
    let (ok, out, err) = msnd(dir.path(), &["import-escargot", db.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("imported 3 accounts (6 groups, 4 contacts)"),
        "{out}"
    );
    assert!(
        out.contains("1 accounts used the MD5 login")
            && out.contains("msnd user passwd EMAIL --password PW --legacy-md5")
            && out.contains("  alice@hotmail.com"),
        "{out}"
    );
    assert!(
        out.contains("1 contact rows naming no account were left out"),
        "{out}"
    );
    // A second run is refused: the accounts exist.
    let (ok, _, err) = msnd(dir.path(), &["import-escargot", db.to_str().unwrap()]).await;
    assert!(
        !ok && err.contains("alice@hotmail.com already has an msnd account"),
        "{err}"
    );

    let (app, store) = start_on(dir.path()).await;
    let before = store.user("alice@hotmail.com").await.unwrap().unwrap();
    assert!(before.password_hash.starts_with("pbkdf2_sha256$"));
    // A Passport sign-in with the Escargot password, and the list.
    let report = sign_in(&app, "alice@hotmail.com", "alicepass").await;
    assert_eq!(report.friendly_name, "Alice ☃");
    assert_eq!(report.groups, 2);
    assert_eq!(
        report.contacts,
        [
            contact("bob@hotmail.com", "Bob", 1 | 2 | 8),
            contact("carol@hotmail.com", "Carol", 4),
        ]
    );
    // The hash is argon2id now, and the password still works.
    let after = store.user("alice@hotmail.com").await.unwrap().unwrap();
    assert!(
        after.password_hash.starts_with("$argon2id$"),
        "not re-hashed"
    );
    sign_in(&app, "alice@hotmail.com", "alicepass").await;
    let wrong = probe(
        app.server.ns_addr,
        app.http.http_addr.unwrap(),
        "bob@hotmail.com",
        "alicepass",
        Duration::from_secs(20),
    )
    .await;
    assert!(wrong.is_err(), "a wrong password signed in");
    let bob = sign_in(&app, "bob@hotmail.com", "bobpass").await;
    assert_eq!(
        bob.contacts,
        [contact("alice@hotmail.com", "Alice ☃", 1 | 2 | 8)]
    );
    let carol = sign_in(&app, "carol@hotmail.com", "carolpass").await;
    // Escargot's `pending` is msnd's PL (listed with RL cleared).
    assert_eq!(
        carol.contacts,
        [contact("alice@hotmail.com", "Alice ☃", 16)]
    );

    // Groups, settings and the personal message, as stored.
    let accounts = store.export_accounts().await.unwrap();
    let alice = &accounts[0];
    let names: Vec<&str> = alice.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["Other%20Contacts", "Friends", "Work%20Mates"]);
    assert_eq!(alice.contacts[0].groups, [1]);
    assert_eq!(alice.privacy.code(), "BL");
    assert_eq!(alice.add_alert.code(), "N");
    assert_eq!(alice.properties.home_phone.as_deref(), Some("555%201234"));
    assert!(alice.properties.mobile_messages);
    assert_eq!(alice.created_at, 1_551_443_696);
    assert_eq!(
        msn_core::personal_message::psm(alice.personal_message.as_deref().unwrap()).as_deref(),
        Some("on holiday")
    );
    assert_eq!(alice.legacy_password, None);
    assert_eq!(accounts[1].contacts[0].groups, [1]);
    app.shutdown().await;

    // The MD5 login (MSN 1-4.7) is off until a new password is set.
    let (app, _) = start_on(dir.path()).await;
    let mut c = Client::connect(app.server.ns_addr).await;
    c.call("VER {} MSNP7 CVR0").await;
    c.call("INF {}").await;
    c.call("USR {} MD5 I alice@hotmail.com").await;
    let refused = c
        .call("USR {} MD5 S 0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(refused.command(), "911", "{}", refused.line());
    app.shutdown().await;
}

#[tokio::test]
async fn an_escargot_database_with_problems_imports_nothing() {
    let source = tempfile::tempdir().unwrap();
    let db = source.path().join("msn.sqlite");
    escargot_fixture(&db).await;
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .foreign_keys(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query("UPDATE t_user SET email = 'not an address' WHERE id = 3")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("UPDATE t_user SET password = 'md5$x$y' WHERE id = 2")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = msnd(dir.path(), &["import-escargot", db.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(err.contains("2 problem(s), nothing was imported"), "{err}");
    assert!(
        err.contains("\"not an address\": not an address msnd accepts"),
        "{err}"
    );
    assert!(
        err.contains("bob@hotmail.com: the password hash is not Escargot's"),
        "{err}"
    );
    let (ok, _, err) = msnd(dir.path(), &["import-escargot", "/nonexistent/msn.sqlite"]).await;
    assert!(!ok && err.contains("no database at"), "{err}");
    let config = Config::for_tests(dir.path());
    let store = msnd::open_store(&config).await.unwrap();
    assert!(store.list_users().await.unwrap().is_empty());
    store.close().await;
}

/// The older Escargot layout (`core/db.py` at subpurple/escargot
/// 136fb13): groups in a `t_user_group` table, `name` as the friendly
/// name, no `pending` column.
#[tokio::test]
async fn an_older_escargot_layout_moves_over_too() {
    let source = tempfile::tempdir().unwrap();
    let db = source.path().join("msn.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql(
        r#"
        CREATE TABLE t_user (
            id INTEGER NOT NULL PRIMARY KEY, date_created DATETIME, date_login DATETIME,
            uuid VARCHAR NOT NULL UNIQUE, email VARCHAR NOT NULL, relay BOOLEAN NOT NULL,
            verified BOOLEAN NOT NULL, name VARCHAR, message VARCHAR NOT NULL,
            password VARCHAR NOT NULL, settings TEXT NOT NULL, front_data TEXT NOT NULL
        );
        CREATE TABLE t_user_group (
            id INTEGER NOT NULL PRIMARY KEY, user_uuid VARCHAR NOT NULL, group_id VARCHAR NOT NULL,
            group_uuid VARCHAR NOT NULL, name VARCHAR NOT NULL, is_favorite BOOLEAN NOT NULL,
            date_last_modified DATETIME
        );
        CREATE TABLE t_user_contact (
            id INTEGER NOT NULL PRIMARY KEY, user_uuid VARCHAR NOT NULL, uuid VARCHAR NOT NULL,
            name VARCHAR, message VARCHAR, lists INTEGER NOT NULL, groups TEXT NOT NULL
        );
        INSERT INTO t_user VALUES (1, '2018-01-02 03:04:05', NULL, 'u-alice', 'alice@hotmail.com',
            0, 0, 'Alice%20A', '', 'pbkdf2_sha256$24000$3f9a1c0b7d2e4a6$hMX6NnCBrhFwWaZgkLFTNvrNVCo5tdIjnnLBg+tuiIM=',
            '{"BLP": "AL"}', '{}');
        INSERT INTO t_user VALUES (2, NULL, NULL, 'u-bob', 'bob@hotmail.com', 0, 1, NULL, '',
            'pbkdf2_sha256$24000$a0b1c2d3e4f5a6b$THgrum8gspNVXrjLmiesjLPwAt0uuWplgiU4pya8u/E=', '{}', '{}');
        INSERT INTO t_user_group VALUES (1, 'u-alice', 'abc', 'not-a-guid', 'Pals', 0, NULL);
        INSERT INTO t_user_group VALUES (2, 'u-alice', '3', '0b1c0000-0000-4000-8000-000000000003', 'Work', 0, NULL);
        INSERT INTO t_user_contact VALUES (1, 'u-alice', 'u-bob', 'Bob', NULL, 3,
            '[{"id": "abc", "uuid": "not-a-guid"}, {"id": "3", "uuid": "0b1c0000-0000-4000-8000-000000000003"}]');
        INSERT INTO t_user_contact VALUES (2, 'u-bob', 'u-alice', 'Alice', NULL, 8, '[]');
        INSERT INTO t_user_contact VALUES (3, 'u-alice', 'u-bob', 'Bob', NULL, 8, '[]');
        "#,
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = msnd(dir.path(), &["import-escargot", db.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("imported 2 accounts (4 groups, 2 contacts)"),
        "{out}"
    );
    assert!(!out.contains("MD5"), "{out}");
    let config = Config::for_tests(dir.path());
    let store = msnd::open_store(&config).await.unwrap();
    let accounts = store.export_accounts().await.unwrap();
    let alice = &accounts[0];
    assert_eq!(alice.friendly_name, "Alice A");
    assert!(!alice.verified);
    assert_eq!(alice.personal_message, None);
    // "3" keeps its number; "abc" gets the first free one.
    let groups: Vec<(u32, &str)> = alice
        .groups
        .iter()
        .map(|g| (g.id, g.name.as_str()))
        .collect();
    assert_eq!(groups, [(0, "Other%20Contacts"), (1, "Pals"), (3, "Work")]);
    assert_eq!(
        alice.groups[2].guid.to_string(),
        "0b1c0000-0000-4000-8000-000000000003"
    );
    assert_eq!(alice.contacts[0].groups, [1, 3]);
    // Its two rows for bob are one entry.
    assert_eq!(alice.contacts[0].lists, 1 | 2 | 8);
    let bob = &accounts[1];
    assert_eq!(bob.friendly_name, "bob@hotmail.com");
    assert_eq!(bob.contacts[0].lists, 8);
    assert!(bob.contacts[0].guid.is_none());
    store.close().await;

    // MSNP2's clear-text login re-hashes too.
    let (app, store) = start_on_with(dir.path(), |c| c.notification.ctp = true).await;
    let mut c = Client::connect(app.server.ns_addr).await;
    c.call("VER {} MSNP2").await;
    c.call("INF {}").await;
    c.call("USR {} CTP I bob@hotmail.com").await;
    let ok = c.call("USR {} CTP S bobpass").await;
    assert_eq!(ok.tokens().nth(2), Some("OK"), "{}", ok.line());
    let bob = store.user("bob@hotmail.com").await.unwrap().unwrap();
    assert!(bob.password_hash.starts_with("$argon2id$"), "not re-hashed");
    app.shutdown().await;
}
