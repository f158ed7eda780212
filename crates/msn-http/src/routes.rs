//! The HTTP endpoints: the Passport 1.4 nexus and login, and a health
//! check. Handlers only build responses; connections are served by
//! [`crate::listener`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use msn_core::handle::Handle;
use msn_server::Shared;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::passport::{self, Credentials};

/// `PassportURLs`; written with this spelling by
/// [`crate::header_case::CaseRestoringIo`].
static PASSPORT_URLS: HeaderName = HeaderName::from_static("passporturls");
static AUTHENTICATION_INFO: HeaderName = HeaderName::from_static("authentication-info");

/// What the handlers need, built once by [`crate::start`].
pub(crate) struct AppState {
    pub shared: Arc<Shared>,
    /// `DALogin=<login url>`.
    pub nexus: HeaderValue,
    /// Bounds the argon2 verifications running at once.
    pub hashes: Arc<Semaphore>,
    /// A hash of a random password, checked for unknown accounts so that a
    /// failed login takes as long whether or not the account exists.
    pub decoy_hash: String,
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/rdr/pprdr.asp", get(nexus))
        .route("/login2.srf", get(login))
        .route("/login.srf", get(login))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(state)
}

/// Passport discovery: where to log in.
async fn nexus(State(state): State<Arc<AppState>>) -> Response {
    (
        StatusCode::OK,
        [(PASSPORT_URLS.clone(), state.nexus.clone())],
    )
        .into_response()
}

/// Passport 1.4 login: credentials in `Authorization`, a ticket for
/// `USR TWN S` back in `Authentication-Info`.
async fn login(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(credentials) = headers
        .get(AUTHORIZATION)
        .and_then(|v| passport::parse_authorization(v.as_bytes()))
    else {
        debug!("passport login without usable credentials");
        return failed();
    };
    let Ok(handle) = Handle::parse(&credentials.sign_in) else {
        debug!("passport login with a malformed sign-in name");
        return failed();
    };
    match authenticate(&state, &handle, credentials).await {
        Ok(Some(user_id)) => {
            let ttl = Duration::from_secs(state.shared.config.http.ticket_ttl_secs);
            let ticket = state.shared.tickets.issue(handle.clone(), user_id, ttl);
            info!(%handle, "passport login succeeded");
            match HeaderValue::try_from(passport::success_value(&ticket)) {
                Ok(value) => {
                    (StatusCode::OK, [(AUTHENTICATION_INFO.clone(), value)]).into_response()
                }
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Ok(None) => {
            info!(%handle, "passport login failed");
            failed()
        }
        Err(e) => {
            warn!(%handle, error = %e, "passport login could not be checked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The account's id if `credentials` hold its password.
async fn authenticate(
    state: &AppState,
    handle: &Handle,
    credentials: Credentials,
) -> anyhow::Result<Option<i64>> {
    let record = state.shared.store.user(handle.as_str()).await?;
    let hash = record
        .as_ref()
        .map_or_else(|| state.decoy_hash.clone(), |r| r.password_hash.clone());
    let candidates = credentials.password_candidates();
    // The permit moves into the blocking task: a client that disconnects
    // cannot free it while its hash is still being computed.
    let permit = state.hashes.clone().acquire_owned().await?;
    let matches = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        candidates
            .iter()
            .any(|pw| msn_core::password::verify_password(pw, &hash))
    })
    .await?;
    Ok(record.filter(|_| matches).map(|r| r.id))
}

fn failed() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, HeaderValue::from_static(passport::FAILED))],
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
