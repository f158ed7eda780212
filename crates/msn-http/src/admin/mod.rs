//! The operators' API under `/admin/api/`, which `msnd admin` calls: one
//! module per request. Every request must come from an address in
//! `admin.allow` (others get `404`, as if there were no API) and carry
//! `Authorization: Bearer <admin token>` (otherwise `401`). Bodies and
//! answers are JSON; errors are `{"error": "…"}` with a 4xx/5xx status.
//!
//! The handlers translate only: what a request does is the service
//! layer's ([`msn_service::Service`]) and the store's.

mod accounts;
mod kick;
mod notice;
mod online;
mod shutdown;

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use msn_auth::Exempt;
use msn_core::handle::Handle;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::listener::Peer;
use crate::routes::AppState;

/// What the admin API needs beyond the shared context; msnd gives it one
/// when `admin.enabled`.
#[derive(Clone)]
pub struct AdminAccess {
    /// The bearer token requests must carry.
    token: Arc<str>,
    /// Cancelled when an operator asks the server to stop; msnd then shuts
    /// down as on SIGTERM.
    stop_requested: CancellationToken,
}

impl AdminAccess {
    pub fn new(token: impl Into<Arc<str>>, stop_requested: CancellationToken) -> AdminAccess {
        AdminAccess {
            token: token.into(),
            stop_requested,
        }
    }
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminAccess { token: <redacted>, .. }")
    }
}

/// The API's routes, behind [`authorize`].
pub(crate) fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/api/online", get(online::online))
        .route("/admin/api/kick", post(kick::kick))
        .route("/admin/api/disable", post(accounts::disable))
        .route("/admin/api/enable", post(accounts::enable))
        .route("/admin/api/notice", post(notice::notice))
        .route("/admin/api/shutdown", post(shutdown::shutdown))
        .layer(axum::middleware::from_fn_with_state(state, authorize))
}

/// Lets a request through only from an allowed address with the token.
async fn authorize(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let config = &state.ctx.config.admin;
    let Some(access) = &state.ctx.admin else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !config.enabled || !Exempt::new(config.allow.clone()).contains(peer.ip()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Constant time: how much of a guess matched must not show.
    let matches: bool = presented.as_bytes().ct_eq(access.token.as_bytes()).into();
    if !matches {
        warn!(%peer, path = %request.uri().path(), "admin API: missing or wrong token");
        let mut response = error(StatusCode::UNAUTHORIZED, "a valid admin token is required");
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, "Bearer".parse().expect("static header"));
        return response;
    }
    next.run(request).await
}

/// `{"user": "alice@example.com"}`: the account a request is about.
#[derive(Deserialize)]
struct UserRequest {
    user: String,
}

impl UserRequest {
    /// The account's handle, or the `400` answer for a malformed one.
    fn handle(&self) -> Result<Handle, Box<Response>> {
        Handle::parse(self.user.trim())
            .map_err(|e| Box::new(error(StatusCode::BAD_REQUEST, &format!("user: {e}"))))
    }
}

/// A JSON error answer.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
