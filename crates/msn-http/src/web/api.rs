//! The client's sign-in API (JSON, same origin only, [`super::CSRF_HEADER`]
//! required):
//!
//! * `POST /messenger/api/sign-in` `{"handle": …, "password": …}` checks
//!   the password like every password login (the shared verifier, the
//!   decoy hash for unknown accounts, the login throttle, plus `[web]
//!   sign_ins_per_address`) and answers `{"handle": …, "ticket": …}`: a
//!   single-use Messenger ticket for `USR TWN S`, issued as `/login2.srf`
//!   issues one. It also sets the [`super::COOKIE`] cookie (HttpOnly,
//!   SameSite=Strict, path `/messenger`).
//! * `POST /messenger/api/ticket`: a new ticket for the cookie's account,
//!   for reconnecting, while the account is unchanged (same id and
//!   password hash, not disabled); else `401` and the cookie ends.
//! * `POST /messenger/api/sign-out` ends the cookie's sign-in.
//!
//! Errors are `{"error": "…"}` with `400` (bad request), `401` (wrong
//! password or no sign-in), `403` (another origin), `429` (too many
//! attempts; `Retry-After`) or `503` (busy).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use msn_auth::Grant;
use msn_core::handle::Handle;
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info, warn};

use super::{COOKIE, CSRF_HEADER, PREFIX, Web, from_this_origin};
use crate::account_pages::cookie as request_cookie;
use crate::observability;
use crate::routes::{Checked, check_password};

/// Largest sign-in body read.
const MAX_BODY: usize = 4096;

#[derive(Deserialize)]
struct SignIn {
    handle: String,
    password: String,
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

/// The request is this page's script's: same origin, with the header;
/// else the refusal to send.
fn refused_origin(headers: &HeaderMap) -> Option<Response> {
    if from_this_origin(headers) && headers.contains_key(&CSRF_HEADER) {
        None
    } else {
        Some(error(StatusCode::FORBIDDEN, "request from another site"))
    }
}

fn session_cookie(value: String, max_age: Option<time::Duration>) -> HeaderValue {
    let mut cookie = Cookie::build((COOKIE, value))
        .path(PREFIX)
        .http_only(true)
        .same_site(SameSite::Strict);
    if let Some(age) = max_age {
        cookie = cookie.max_age(age);
    }
    HeaderValue::try_from(cookie.build().to_string()).expect("cookie is a header value")
}

fn with_ticket(handle: &Handle, ticket: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(json!({ "handle": handle.as_str(), "ticket": ticket })),
    )
        .into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

pub(crate) async fn sign_in(
    State(web): State<Arc<Web>>,
    Extension(crate::listener::Peer(peer)): Extension<crate::listener::Peer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refused_origin(&headers) {
        return refused;
    }
    if body.len() > MAX_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "request too large");
    }
    let Ok(request) = serde_json::from_slice::<SignIn>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"handle\", \"password\"}",
        );
    };
    let Ok(handle) = Handle::parse(request.handle.trim()) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "The sign-in name or password is wrong.",
        );
    };
    if let Err(wait) = web.sign_ins.check(peer.ip()) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts. Wait a little and try again.",
        );
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        return r;
    }
    let throttle = &web.ctx.login_throttle;
    if let Err(throttled) = throttle.check(peer.ip(), handle.as_str()) {
        debug!(%handle, ip = %peer.ip(), ?throttled, "web sign-in throttled");
        observability::login("web", false);
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Wait a little and try again.",
        );
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs()));
        return r;
    }
    match check_password(&web.ctx, &web.decoy_hash, &handle, vec![request.password]).await {
        Ok(Checked::Valid(user_id)) => {
            throttle.succeeded(peer.ip(), handle.as_str());
            observability::login("web", true);
            let hash = match web.ctx.store.user(handle.as_str()).await {
                Ok(Some(record)) => record.password_hash,
                _ => return error(StatusCode::SERVICE_UNAVAILABLE, "try again"),
            };
            let token = web.sessions.create(handle.clone(), user_id, hash);
            let ticket = issue(&web, &handle, user_id);
            info!(%handle, "web sign-in");
            with_ticket(&handle, &ticket, Some(session_cookie(token, None)))
        }
        Ok(Checked::Invalid) => {
            info!(%handle, ip = %peer.ip(), "web sign-in failed");
            observability::login("web", false);
            throttle.failed(peer.ip(), handle.as_str());
            error(
                StatusCode::UNAUTHORIZED,
                "The sign-in name or password is wrong.",
            )
        }
        Ok(Checked::Busy) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy. Try again in a few seconds.",
        ),
        Err(e) => {
            warn!(%handle, error = %e, "web sign-in could not be checked");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server error")
        }
    }
}

fn issue(web: &Web, handle: &Handle, user_id: i64) -> String {
    web.ctx.tokens.issue(
        Grant::messenger(handle.clone(), user_id),
        web.ctx.config.http.ticket_ttl,
    )
}

/// The cookie's sign-in, while its account is unchanged.
pub(crate) async fn signed_in(
    web: &Web,
    headers: &HeaderMap,
) -> Option<crate::account_pages::sessions::Session> {
    let token = request_cookie(headers, COOKIE)?;
    let session = web.sessions.get(&token)?;
    match web.ctx.store.user(session.handle.as_str()).await {
        Ok(Some(r))
            if r.id == session.user_id
                && r.password_hash == session.password_hash
                && !r.disabled =>
        {
            Some(session)
        }
        _ => {
            web.sessions.remove(&token);
            None
        }
    }
}

pub(crate) async fn ticket(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused_origin(&headers) {
        return refused;
    }
    match signed_in(&web, &headers).await {
        Some(session) => {
            let ticket = issue(&web, &session.handle, session.user_id);
            with_ticket(&session.handle, &ticket, None)
        }
        None => error(StatusCode::UNAUTHORIZED, "not signed in"),
    }
}

pub(crate) async fn sign_out(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused_origin(&headers) {
        return refused;
    }
    if let Some(token) = request_cookie(&headers, COOKIE) {
        web.sessions.remove(&token);
    }
    let mut r = (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(json!({})),
    )
        .into_response();
    r.headers_mut().insert(
        SET_COOKIE,
        session_cookie(String::new(), Some(time::Duration::ZERO)),
    );
    r
}
