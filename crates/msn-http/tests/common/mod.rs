//! A real msnd server with the HTTP services on ephemeral ports, for the
//! black-box tests of this crate.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use msn_core::handle::Handle;
use msn_core::password::{HashCost, hash_password};
use msn_http::RunningHttp;
use msn_server::{Config, RunningServer, Server};
use msn_store::{NewUser, SqliteOptions, SqliteStore, Store};
use tokio::time::timeout;

pub const LIMIT: Duration = Duration::from_secs(10);

pub struct Env {
    pub server: RunningServer,
    pub http: RunningHttp,
    _dir: tempfile::TempDir,
}

impl Env {
    /// Starts a server with `accounts` (handle, password) and a test
    /// configuration adjusted by `edit` (which also gets the data directory).
    pub async fn start(accounts: &[(&str, &str)], edit: impl FnOnce(&mut Config, &Path)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        edit(&mut config, dir.path());
        let store = SqliteStore::open(&SqliteOptions::new(dir.path().join("msnd.db")))
            .await
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let server = Server::start(config, store).await.unwrap();
        for (handle, password) in accounts {
            server
                .shared()
                .store
                .create_user(NewUser {
                    handle: Handle::parse(handle).unwrap(),
                    friendly_name: handle.split('@').next().unwrap().to_owned(),
                    password_hash: hash_password(password, HashCost::insecure_for_tests()).unwrap(),
                    legacy_password: None,
                })
                .await
                .unwrap();
        }
        let http = msn_http::start(server.shared().clone()).await.unwrap();
        Env {
            server,
            http,
            _dir: dir,
        }
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.http_addr.expect("plain HTTP runs")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr())
    }

    pub async fn user_id(&self, handle: &str) -> i64 {
        let store = &self.server.shared().store;
        store.user(handle).await.unwrap().unwrap().id
    }

    pub async fn stop(self) {
        self.server.shared().shutdown.cancel();
        timeout(LIMIT, self.http.wait()).await.expect("http stops");
        self.server.shutdown().await;
    }
}
