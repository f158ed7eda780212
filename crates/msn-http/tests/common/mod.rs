//! The HTTP services on ephemeral ports, on a store and token service of
//! their own (no protocol server), for the black-box tests of this crate.
#![allow(dead_code)]

pub mod xml;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use msn_auth::{Audience, Grant, MemoryTokens};
use msn_config::Config;
use msn_core::handle::Handle;
use msn_core::password::{HashCost, hash_password};
use msn_http::{HttpContext, RunningHttp};
use msn_store::{NewUser, SqliteOptions, SqliteStore, Store};
use tokio::time::timeout;

pub const LIMIT: Duration = Duration::from_secs(10);

pub struct Env {
    pub ctx: Arc<HttpContext>,
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
        for (handle, password) in accounts {
            store
                .create_user(NewUser {
                    handle: Handle::parse(handle).unwrap(),
                    friendly_name: handle.split('@').next().unwrap().to_owned(),
                    password_hash: hash_password(password, HashCost::insecure_for_tests()).unwrap(),
                    legacy_password: None,
                })
                .await
                .unwrap();
        }
        let tokens = Arc::new(MemoryTokens::new());
        let ctx = Arc::new(HttpContext::new(config, store, tokens));
        let http = msn_http::start(ctx.clone()).await.unwrap();
        Env {
            ctx,
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
        self.ctx.store.user(handle).await.unwrap().unwrap().id
    }

    /// What the NS does with a ticket on `USR TWN S` from `handle`.
    pub fn redeem(&self, ticket: &str, handle: &str) -> Option<Grant> {
        let handle = Handle::parse(handle).unwrap();
        self.ctx.tokens.redeem(ticket, Audience::Messenger, &handle)
    }

    pub async fn stop(self) {
        self.ctx.shutdown.cancel();
        timeout(LIMIT, self.http.wait()).await.expect("http stops");
        self.ctx.store.close().await;
    }
}
