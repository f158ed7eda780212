//! The HTTP endpoints: the Passport 1.4 nexus and login, RST.srf, the
//! SOAP address book and sharing services ([`crate::abservice`]), and a
//! health check. Handlers only build responses; connections are served by
//! [`crate::listener`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{
    ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use msn_auth::{Audience, Grant, Throttled};
use msn_core::handle::Handle;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::listener::Peer;
use crate::{HttpContext, passport};
use crate::{abservice, rst};

/// Time allowed for receiving a request body once its head has arrived
/// (hyper's header timeout does not cover bodies).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// `PassportURLs`; written with this spelling by
/// [`crate::header_case::CaseRestoringIo`].
static PASSPORT_URLS: HeaderName = HeaderName::from_static("passporturls");
static AUTHENTICATION_INFO: HeaderName = HeaderName::from_static("authentication-info");

/// What the handlers need, built once by [`crate::start`].
pub(crate) struct AppState {
    pub ctx: Arc<HttpContext>,
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
        .fallback(by_suffix)
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
///
/// Under the login throttle (`msn_auth::throttle`, shared with the NS): a
/// client over its failures gets `429 Too Many Requests` with
/// `Retry-After` (seconds), and its password is not checked.
async fn login(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
) -> Response {
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
    let throttle = &state.ctx.login_throttle;
    if let Err(throttled) = throttle.check(peer.ip(), handle.as_str()) {
        // At debug: the lockout was logged at info when it began.
        debug!(%handle, ip = %peer.ip(), ?throttled, "passport login throttled");
        return too_many_failures(throttled);
    }
    match authenticate(&state, &handle, credentials.password_candidates()).await {
        Ok(Some(user_id)) => {
            throttle.succeeded(peer.ip(), handle.as_str());
            let ttl = state.ctx.config.http.ticket_ttl;
            let ticket = state
                .ctx
                .tokens
                .issue(Grant::messenger(handle.clone(), user_id), ttl);
            info!(%handle, "passport login succeeded");
            match HeaderValue::try_from(passport::success_value(&ticket)) {
                Ok(value) => {
                    (StatusCode::OK, [(AUTHENTICATION_INFO.clone(), value)]).into_response()
                }
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Ok(None) => {
            info!(%handle, ip = %peer.ip(), "passport login failed");
            throttle.failed(peer.ip(), handle.as_str());
            failed()
        }
        Err(e) => {
            warn!(%handle, error = %e, "passport login could not be checked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The account's id if one of `candidates` is its password. Unknown
/// accounts are checked against the decoy hash, so that they take as long.
async fn authenticate(
    state: &AppState,
    handle: &Handle,
    candidates: Vec<String>,
) -> anyhow::Result<Option<i64>> {
    let record = state.ctx.store.user(handle.as_str()).await?;
    let hash = record
        .as_ref()
        .map_or_else(|| state.decoy_hash.clone(), |r| r.password_hash.clone());
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

/// A login refused by the throttle: 429 and when to try again.
fn too_many_failures(throttled: Throttled) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs()))],
    )
        .into_response()
}

fn failed() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, HeaderValue::from_static(passport::FAILED))],
    )
        .into_response()
}

/// Paths the router cannot express: the address-book and sharing SOAP
/// services under one or two leading slashes (libpurple sends
/// `//abservice/abservice.asmx`, msnp13-18.md §4.4); every path ending in `/RST.srf`
/// (`/RST.srf` on login.live.com, `/pp550/RST.srf` and `/pp900/RST.srf` on
/// msnia.login.live.com, whatever else a client build has compiled in) is
/// the RST service. Anything else is not found.
async fn by_suffix(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(service) = abservice::SoapService::for_path(uri.path()) {
        if method != Method::POST {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(ALLOW, HeaderValue::from_static("POST"))],
            )
                .into_response();
        }
        return abservice::handle(&state.ctx, service, &headers, body).await;
    }
    if !uri.path().ends_with("/RST.srf") {
        // Clients of later versions ask for services msnd may not have yet:
        // the operator should see what was asked.
        info!(%method, path = uri.path(), "unknown HTTP path");
        return StatusCode::NOT_FOUND.into_response();
    }
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("POST"))],
        )
            .into_response();
    }
    security_tokens(&state, peer, &headers, body).await
}

/// RST.srf: a SOAP request with the user name and password, one
/// compact token back per requested service ([`crate::rst`]): a
/// single-use login ticket (`http.ticket_ttl`) for the Messenger
/// addresses, a bearer token (`http.soap_token_ttl`) for the SOAP
/// services' addresses. The legacy DA token, no ticket, lives as long as
/// the bearer tokens.
///
/// Faults are sent with status 200, as soap/rst.md recommends: that is
/// what Escargot — the one server known to work with WLM 8.x — sends, so
/// it is the status the clients are known to handle. The live service may
/// have used 500 (auth-services.md §3.3, uncertain); how MSIDCRL treats a
/// 500 is not known.
///
/// Under the login throttle (`msn_auth::throttle`, shared with the NS and
/// `login2.srf`), a client over its failures gets the same
/// `wsse:FailedAuthentication` fault as for a wrong password, without its
/// password being checked, plus a `Retry-After` header (seconds): that
/// fault is the one failure clients are known to handle, whereas no
/// "server busy" fault of the live service is documented.
async fn security_tokens(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(headers, body).await {
        Ok(body) => body,
        Err(status) => return status.into_response(),
    };
    let request = match rst::parse_request(&body) {
        Ok(request) => request,
        Err(reason) => {
            debug!(%reason, "RST request not understood");
            return soap(rst::invalid_request().to_owned());
        }
    };
    let Ok(handle) = Handle::parse(&request.username) else {
        debug!("RST request with a malformed sign-in name");
        return soap(rst::auth_failure(OffsetDateTime::now_utc()));
    };
    let throttle = &state.ctx.login_throttle;
    if let Err(throttled) = throttle.check(peer.ip(), handle.as_str()) {
        debug!(%handle, ip = %peer.ip(), ?throttled, "RST login throttled");
        let mut reply = soap(rst::auth_failure(OffsetDateTime::now_utc()));
        reply
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs()));
        return reply;
    }
    match authenticate(state, &handle, vec![request.password().to_owned()]).await {
        Ok(Some(user_id)) => {
            throttle.succeeded(peer.ip(), handle.as_str());
            let ctx = &state.ctx;
            let http = &ctx.config.http;
            let account = rst::Account {
                handle: handle.as_str(),
                puid: rst::puid(user_id),
                country: &ctx.config.profile.country,
                language: ctx.config.profile.lang_preference,
            };
            let issue = |token: &rst::TokenRequest| {
                let audience = rst::audience(&token.address).unwrap_or(Audience::Other);
                let proof_key = rst::new_proof_key(&token.address);
                let (grant, ttl) = match audience {
                    Audience::Messenger => {
                        (Grant::messenger(handle.clone(), user_id), http.ticket_ttl)
                    }
                    _ => (
                        Grant::bearer(handle.clone(), user_id, audience),
                        http.soap_token_ttl,
                    ),
                };
                let grant = match &proof_key {
                    Some(key) => grant.with_proof_key(key.clone()),
                    None => grant,
                };
                rst::Issued {
                    ticket: ctx.tokens.issue(grant, ttl),
                    ttl,
                    proof_key,
                }
            };
            // After the password check, which may have waited for a permit:
            // Created is when the tokens are issued.
            let now = OffsetDateTime::now_utc();
            let reply = rst::success(&request.tokens, &account, issue, now, http.soap_token_ttl);
            info!(%handle, tokens = request.tokens.len(), "RST login succeeded");
            soap(reply)
        }
        Ok(None) => {
            info!(%handle, ip = %peer.ip(), "RST login failed");
            throttle.failed(peer.ip(), handle.as_str());
            soap(rst::auth_failure(OffsetDateTime::now_utc()))
        }
        Err(e) => {
            warn!(%handle, error = %e, "RST login could not be checked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The request body, at most [`rst::MAX_REQUEST_BYTES`]: a larger declared
/// length is refused before reading, a longer chunked body as soon as it
/// passes the limit.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, StatusCode> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > rst::MAX_REQUEST_BYTES as u64) {
        debug!(?declared, "RST request body too large");
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let collect = Limited::new(body, rst::MAX_REQUEST_BYTES).collect();
    match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            debug!("RST request body too large");
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Ok(Err(e)) => {
            debug!(error = %e, "RST request body unreadable");
            Err(StatusCode::BAD_REQUEST)
        }
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

fn soap(body: String) -> Response {
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}
