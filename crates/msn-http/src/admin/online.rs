//! `GET /admin/api/online`: who is signed in, and with which protocol
//! versions.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::routes::AppState;

#[derive(Serialize)]
pub(super) struct Online {
    /// Signed-in users.
    count: usize,
    /// NS endpoints per protocol version (`"MSNP12": 3`); a user signed in
    /// on two machines counts twice.
    by_dialect: BTreeMap<String, usize>,
    users: Vec<User>,
}

#[derive(Serialize)]
struct User {
    user: String,
    /// `NLN`, `BSY`, … as watchers see it (`HDN` for invisible).
    status: &'static str,
    /// The protocol version of each endpoint.
    dialects: Vec<String>,
}

pub(super) async fn online(State(state): State<Arc<AppState>>) -> Json<Online> {
    let entries = state.ctx.service.online_users();
    let mut by_dialect = BTreeMap::new();
    let users = entries
        .into_iter()
        .map(|e| {
            let dialects: Vec<String> = e.endpoints.iter().map(|d| d.to_string()).collect();
            for d in &dialects {
                *by_dialect.entry(d.clone()).or_insert(0) += 1;
            }
            User {
                user: e.handle.as_str().to_owned(),
                status: e.status.code(),
                dialects,
            }
        })
        .collect::<Vec<_>>();
    Json(Online {
        count: users.len(),
        by_dialect,
        users,
    })
}
