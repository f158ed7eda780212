//! Fresh PostgreSQL databases for tests (cargo feature `conformance`).
//!
//! The conformance suite and the black-box tests run against PostgreSQL
//! when `MSND_TEST_DATABASE_URL` names a server's database (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`): each case creates a database
//! of its own there, `msnd_t_<random>`, so that cases run in parallel, and
//! drops it when done. Databases left by a test that failed half-way
//! carry the same prefix, so `.ci/run` drops whatever is left.

use sqlx::{Connection, Executor, PgConnection};

/// The variable that turns the PostgreSQL runs on.
pub const ENV: &str = "MSND_TEST_DATABASE_URL";

/// The name prefix of every database a test creates.
pub const PREFIX: &str = "msnd_t_";

/// The server to test against, if `MSND_TEST_DATABASE_URL` is set and not
/// empty.
pub fn server_url() -> Option<String> {
    std::env::var(ENV).ok().filter(|url| !url.trim().is_empty())
}

/// A database made for one test; [`TestDatabase::drop_database`] removes
/// it (also while connections to it are open).
pub struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

impl std::fmt::Debug for TestDatabase {
    /// Never prints the URLs: they may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// Creates an empty database on the server that `server` (a URL of
    /// one of its databases) names. Panics on failure: it is for tests.
    pub async fn create(server: &str) -> TestDatabase {
        let name = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {ENV}: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        TestDatabase {
            url: with_database(server, &name),
            server: server.to_owned(),
            name,
        }
    }

    /// The new database's URL (the server's URL, another database).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, ending the connections still open to it.
    pub async fn drop_database(&self) {
        let mut conn = PgConnection::connect(&self.server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {ENV}: {e}"));
        conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {}: {e}", self.name));
        let _ = conn.close().await;
    }

    /// [`drop_database`](Self::drop_database) from synchronous code (a
    /// `Drop` impl, also inside an async test): on a thread of its own with
    /// its own runtime, waited for.
    pub fn drop_database_blocking(&self) {
        let server = self.server.clone();
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                TestDatabase {
                    url: String::new(),
                    server,
                    name,
                }
                .drop_database()
                .await
            });
        })
        .join();
        if done.is_err() && !std::thread::panicking() {
            panic!("dropping the test database failed");
        }
    }
}

/// `url` with its database replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let authority = main.find("://").map_or(0, |i| i + 3);
    let base = match main[authority..].find('/') {
        Some(slash) => &main[..authority + slash],
        None => main,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/test", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgresql://h/test?sslmode=disable", "x"),
            "postgresql://h/x?sslmode=disable"
        );
    }
}
