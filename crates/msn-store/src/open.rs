//! Opening a store from a database URL, whatever the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::postgres::{PgOptions, PgStore};
use crate::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use crate::{Result, Store, StoreError};

/// Backend-neutral settings for [`open`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// How hard a commit works to be durable (SQLite `synchronous`).
    pub synchronous: Synchronous,
    /// Size of the connection pool used for reads (SQLite).
    pub read_connections: u32,
    /// Most connections to the database server (PostgreSQL).
    pub max_connections: u32,
    /// How long a query waits for a connection before failing
    /// (PostgreSQL).
    pub acquire_timeout: Duration,
    /// Open an existing, migrated database without writing to it (for
    /// commands that only read). Writes through the store fail.
    pub read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Full,
            read_connections: 4,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            read_only: false,
        }
    }
}

/// Where a database lives, as parsed from a URL by [`DatabaseUrl::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseUrl {
    /// An SQLite file (relative paths are relative to the working
    /// directory).
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
}

/// A `postgres://` URL as given. It may carry a password, so its `Debug`
/// shows only that it is one.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// The URL itself, for connecting; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresUrl(..)")
    }
}

impl DatabaseUrl {
    /// Parses a database location:
    ///
    /// - `sqlite://relative/path.db` and `sqlite:relative/path.db`
    /// - `sqlite:///absolute/path.db`
    /// - a bare filesystem path (`/var/lib/msnd/msnd.db`, `msnd.db`), as
    ///   the `[database] path` setting always took;
    /// - `postgres://user:password@host:port/database` (or `postgresql://`),
    ///   checked here as far as it can be without connecting.
    ///
    /// The path after `sqlite:` is taken literally (no percent-decoding).
    /// Other schemes (`mysql://`...) are refused with a message saying so;
    /// the URL itself is never repeated in an error, as it may hold a
    /// password.
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Url("the database URL is empty".into()));
        }
        let Some((scheme, rest)) = split_scheme(url) else {
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(url)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(StoreError::Url(
                        "the sqlite: database URL names no file (sqlite://path/to/msnd.db)".into(),
                    ));
                }
                if path == ":memory:" || path.starts_with(":memory:?") {
                    return Err(StoreError::Url(
                        "in-memory SQLite databases are not supported: msnd needs a file".into(),
                    ));
                }
                if path.contains('?') {
                    return Err(StoreError::Url(
                        "sqlite: database URLs take no ?parameters; \
                         use the [database] settings instead"
                            .into(),
                    ));
                }
                Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => {
                // sqlx's own parser, so that what passes here connects; its
                // errors are not passed on (they might quote the URL).
                if <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url).is_err() {
                    return Err(StoreError::Url(
                        "the postgres:// database URL is malformed \
                         (postgres://user:password@host:port/database)"
                            .into(),
                    ));
                }
                Ok(DatabaseUrl::Postgres(PostgresUrl(url.to_owned())))
            }
            other => Err(StoreError::Url(format!(
                "unsupported database URL scheme {other:?}; \
                 use sqlite://path/to/msnd.db, a file path or postgres://..."
            ))),
        }
    }
}

/// Splits `scheme:rest` when `url` starts with a URL scheme. A scheme is
/// `sqlite:` or any RFC 3986 scheme of two letters or more followed by
/// `://`, so that bare paths such as `C:\msnd.db` or `data:v1.db` stay
/// paths.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !well_formed {
        return None;
    }
    if scheme.eq_ignore_ascii_case("sqlite") || scheme.len() >= 2 && rest.starts_with("//") {
        Some((scheme, rest))
    } else {
        None
    }
}

/// Opens the store that `url` names (see [`DatabaseUrl::parse`]), creating
/// the database, and for SQLite its parent directory, if needed, and
/// applying migrations.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(open_sqlite(path, options).await?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(open_postgres(&url, options).await?)),
    }
}

/// Connects to the PostgreSQL database `url` names with `options`' pool
/// settings (and, unless read-only, migrates it).
pub async fn open_postgres(url: &PostgresUrl, options: &StoreOptions) -> Result<PgStore> {
    PgStore::open(&PgOptions {
        url: url.0.clone(),
        max_connections: options.max_connections,
        acquire_timeout: options.acquire_timeout,
        read_only: options.read_only,
    })
    .await
}

async fn open_sqlite(path: PathBuf, options: &StoreOptions) -> Result<SqliteStore> {
    if !options.read_only {
        create_parent(&path)?;
    }
    let sqlite = SqliteOptions {
        path,
        synchronous: options.synchronous,
        read_connections: options.read_connections,
        read_only: options.read_only,
    };
    SqliteStore::open(&sqlite).await
}

/// Writes a consistent copy of the database `url` names to the file
/// `dest`, which must not exist, while the server may be running on it.
/// The copy is a database msnd can open like the original.
pub async fn backup(url: &str, dest: &Path) -> Result<()> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let options = StoreOptions {
                read_only: true,
                read_connections: 1,
                ..StoreOptions::default()
            };
            let store = open_sqlite(path, &options).await?;
            let result = store.backup_to(dest).await;
            store.close().await;
            result
        }
        DatabaseUrl::Postgres(_) => Err(StoreError::Url(
            "msnd backup copies SQLite databases only; back a PostgreSQL database up \
             with pg_dump (or use msnd export)"
                .into(),
        )),
    }
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::backend(format!("cannot create directory {}: {e}", dir.display()))
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(url: &str) -> PathBuf {
        match DatabaseUrl::parse(url) {
            Ok(DatabaseUrl::Sqlite(path)) => path,
            other => panic!("{url}: {other:?}"),
        }
    }

    fn refused(url: &str) -> String {
        match DatabaseUrl::parse(url) {
            Err(StoreError::Url(message)) => message,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite("sqlite://data/msnd.db"), Path::new("data/msnd.db"));
        assert_eq!(
            sqlite("sqlite:///var/lib/msnd.db"),
            Path::new("/var/lib/msnd.db")
        );
        assert_eq!(sqlite("sqlite:msnd.db"), Path::new("msnd.db"));
        assert_eq!(sqlite("sqlite:/abs/msnd.db"), Path::new("/abs/msnd.db"));
        assert_eq!(sqlite("SQLite://msnd.db"), Path::new("msnd.db"));
        assert_eq!(sqlite("  sqlite://msnd.db\n"), Path::new("msnd.db"));
        assert_eq!(
            sqlite("sqlite://my data/msnd.db"),
            Path::new("my data/msnd.db")
        );
    }

    #[test]
    fn bare_paths() {
        assert_eq!(
            sqlite("/var/lib/msnd/msnd.db"),
            Path::new("/var/lib/msnd/msnd.db")
        );
        assert_eq!(sqlite("msnd.db"), Path::new("msnd.db"));
        assert_eq!(sqlite("./data/msnd.db"), Path::new("./data/msnd.db"));
        assert_eq!(sqlite(r"C:\msnd\msnd.db"), Path::new(r"C:\msnd\msnd.db"));
        assert_eq!(sqlite("data:v1.db"), Path::new("data:v1.db"));
    }

    #[test]
    fn postgres_urls() {
        for url in [
            "postgres://msnd:secret@db.example/msnd",
            "postgresql://localhost/msnd",
            "POSTGRES://localhost:5433/msnd",
        ] {
            match DatabaseUrl::parse(url) {
                Ok(DatabaseUrl::Postgres(pg)) => {
                    assert_eq!(pg.expose(), url);
                    assert!(!format!("{pg:?}").contains("secret"));
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        let message = refused("postgres://msnd:secret@db.example:notaport/msnd");
        assert!(message.contains("malformed"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn unsupported() {
        let message = refused("mysql://root:secret@localhost/msnd");
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(refused("").contains("empty"));
        assert!(refused("sqlite://").contains("no file"));
        assert!(refused("sqlite:").contains("no file"));
        assert!(refused("sqlite::memory:").contains("in-memory"));
        assert!(refused("sqlite://msnd.db?mode=ro").contains("parameters"));
    }

    #[test]
    fn url_errors_display_their_message() {
        let e = DatabaseUrl::parse("mysql://x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unsupported database URL scheme \"mysql\"")
        );
    }

    #[tokio::test]
    async fn open_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/msnd.db");
        let url = format!("sqlite://{}", path.display());
        let store = open(&url, &StoreOptions::default()).await.unwrap();
        assert!(!store.user_exists("alice@hotmail.com").await.unwrap());
        store.close().await;
        assert!(path.exists());
        assert!(matches!(
            open("mysql://localhost/msnd", &StoreOptions::default()).await,
            Err(StoreError::Url(_))
        ));
    }

    #[tokio::test]
    async fn backup_refuses_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let err = backup(
            "postgres://u:secret@localhost/msnd",
            &dir.path().join("x.db"),
        )
        .await
        .err()
        .unwrap();
        let message = err.to_string();
        assert!(message.contains("pg_dump"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    fn user(handle: &str) -> crate::NewUser {
        crate::NewUser {
            handle: msn_core::handle::Handle::parse(handle).unwrap(),
            friendly_name: handle.to_owned(),
            password_hash: "$argon2id$fake".to_owned(),
            legacy_password: None,
        }
    }

    fn read_only() -> StoreOptions {
        StoreOptions {
            read_only: true,
            ..StoreOptions::default()
        }
    }

    #[tokio::test]
    async fn read_only_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/msnd.db");
        let url = format!("sqlite://{}", path.display());
        let err = open(&url, &read_only()).await.err().unwrap();
        assert!(err.to_string().contains("no database at"), "{err}");
        assert!(!path.parent().unwrap().exists());
    }

    #[tokio::test]
    async fn read_only_reads_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("msnd.db").display());
        let store = open(&url, &StoreOptions::default()).await.unwrap();
        store.create_user(user("alice@hotmail.com")).await.unwrap();
        store.close().await;

        let store = open(&url, &read_only()).await.unwrap();
        assert!(store.user_exists("alice@hotmail.com").await.unwrap());
        assert!(store.create_user(user("bob@hotmail.com")).await.is_err());
        store.close().await;
    }

    #[tokio::test]
    async fn backup_copies_a_database_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("msnd.db").display());
        let store = open(&url, &StoreOptions::default()).await.unwrap();
        store.create_user(user("alice@hotmail.com")).await.unwrap();
        // The store stays open: the account is still in the WAL.
        let dest = dir.path().join("copy.db");
        backup(&url, &dest).await.unwrap();
        let err = backup(&url, &dest).await.err().unwrap();
        assert!(err.to_string().contains("already exists"), "{err}");
        store.close().await;

        let copy = format!("sqlite://{}", dest.display());
        let copy = open(&copy, &read_only()).await.unwrap();
        assert!(copy.user_exists("alice@hotmail.com").await.unwrap());
        copy.close().await;
    }
}
