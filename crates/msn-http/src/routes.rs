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
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use msn_auth::{Audience, Grant, Throttled};
use msn_core::handle::Handle;
use time::OffsetDateTime;
use tracing::{debug, info, warn};

use crate::gateway::Gateway;
use crate::listener::Peer;
use crate::storage::{self, Fault, Schema};
use crate::{HttpContext, passport};
use crate::{abservice, observability, oim, rsi, rst};

/// Time allowed for receiving a request body once its head has arrived
/// (hyper's header timeout does not cover bodies).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Seconds a login refused for want of a password-check slot is told to
/// wait (`Retry-After`): a few hash times' worth of queue at the default
/// cost, short enough that a person retrying by hand does not notice.
const BUSY_RETRY_AFTER: &str = "5";

/// `PassportURLs`; written with this spelling by
/// [`crate::header_case::CaseRestoringIo`].
static PASSPORT_URLS: HeaderName = HeaderName::from_static("passporturls");
static AUTHENTICATION_INFO: HeaderName = HeaderName::from_static("authentication-info");

/// What the handlers need, built once by [`crate::start`].
pub(crate) struct AppState {
    pub ctx: Arc<HttpContext>,
    /// `DALogin=<login url>`.
    pub nexus: HeaderValue,
    /// A hash of a random password, checked for unknown accounts so that a
    /// failed login takes as long whether or not the account exists.
    pub decoy_hash: String,
    /// The lock-key challenges of the OIM store service's senders.
    pub oim_locks: oim::LockKeys,
    /// The HTTP gateway, when `gateway.enabled` and the context can start
    /// sessions.
    pub gateway: Option<Arc<Gateway>>,
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let router = Router::new();
    let router = match state.gateway {
        Some(_) => router.route("/gateway/gateway.dll", any(gateway)),
        None => router,
    };
    let router = router
        .route("/rdr/pprdr.asp", get(nexus))
        .route("/login2.srf", get(login))
        .route("/login.srf", get(login))
        .route("/healthz", get(observability::healthz))
        .route("/readyz", get(observability::readyz))
        .route("/metrics", get(observability::metrics))
        .route(
            "/storageservice/SchematizedStore.asmx",
            post(storage_service),
        )
        .merge(crate::admin::router(state.clone()))
        .fallback(by_suffix);
    // The sign-up and account pages, when `[signup] enabled`.
    let router = crate::account_pages::mount(router, &state.ctx, &state.decoy_hash);
    // msnd Web Messenger, when `[web] enabled`.
    let router = crate::web::mount(router, &state.ctx, &state.decoy_hash);
    router
        .layer(axum::middleware::from_fn(observability::record_request))
        .with_state(state)
}

/// The HTTP gateway ([`crate::gateway`]), also under an absolute-form
/// request target (`POST http://gateway.messenger.hotmail.com/gateway/
/// gateway.dll?… HTTP/1.1`, as clients write it for proxies): routing
/// looks at the path alone.
async fn gateway(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match &state.gateway {
        Some(gateway) => {
            gateway
                .handle(peer, &method, uri.query(), &headers, body)
                .await
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
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
        observability::login("login2", false);
        return failed();
    };
    let Ok(handle) = Handle::parse(&credentials.sign_in) else {
        debug!("passport login with a malformed sign-in name");
        observability::login("login2", false);
        return failed();
    };
    let throttle = &state.ctx.login_throttle;
    if let Err(throttled) = throttle.check(peer.ip(), handle.as_str()) {
        // At debug: the lockout was logged at info when it began.
        debug!(%handle, ip = %peer.ip(), ?throttled, "passport login throttled");
        observability::login("login2", false);
        return too_many_failures(throttled);
    }
    match authenticate(&state, &handle, credentials.password_candidates()).await {
        Ok(Checked::Valid(user_id)) => {
            throttle.succeeded(peer.ip(), handle.as_str());
            let ttl = state.ctx.config.http.ticket_ttl;
            let ticket = state
                .ctx
                .tokens
                .issue(Grant::messenger(handle.clone(), user_id), ttl);
            info!(%handle, "passport login succeeded");
            observability::login("login2", true);
            match HeaderValue::try_from(passport::success_value(&ticket)) {
                Ok(value) => {
                    (StatusCode::OK, [(AUTHENTICATION_INFO.clone(), value)]).into_response()
                }
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Ok(Checked::Invalid) => {
            info!(%handle, ip = %peer.ip(), "passport login failed");
            observability::login("login2", false);
            throttle.failed(peer.ip(), handle.as_str());
            failed()
        }
        Ok(Checked::Busy) => {
            info!(%handle, "passport login refused: too many logins waiting for a password check");
            busy()
        }
        Err(e) => {
            warn!(%handle, error = %e, "passport login could not be checked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// What a password check found.
pub(crate) enum Checked {
    /// One of the candidates is the password of the account with this id.
    Valid(i64),
    /// Wrong password, or no such account.
    Invalid,
    /// Not checked: too many logins are waiting for a check
    /// (`http.max_pending_logins`).
    Busy,
}

/// Checks `candidates` against the account's password through the
/// process's [`msn_auth::PasswordVerifier`] (bounded, shared with the NS).
/// Unknown accounts are checked against the decoy hash, so that they take
/// as long.
async fn authenticate(
    state: &AppState,
    handle: &Handle,
    candidates: Vec<String>,
) -> anyhow::Result<Checked> {
    check_password(&state.ctx, &state.decoy_hash, handle, candidates).await
}

/// [`authenticate`] with the context and decoy hash given: the account
/// pages check passwords this way too.
pub(crate) async fn check_password(
    ctx: &HttpContext,
    decoy_hash: &str,
    handle: &Handle,
    candidates: Vec<String>,
) -> anyhow::Result<Checked> {
    // Refused before the database is asked: a flood past the cap costs
    // nothing but the parsing.
    let Ok(admission) = ctx.passwords.try_admit() else {
        return Ok(Checked::Busy);
    };
    let record = ctx.store.user(handle.as_str()).await?;
    let hash = record
        .as_ref()
        .map_or_else(|| decoy_hash.to_owned(), |r| r.password_hash.clone());
    let verdict = admission
        .verify_rehashing(candidates, hash, ctx.config.hash_cost())
        .await;
    Ok(match record {
        // A disabled account is refused like a wrong password.
        Some(r) if verdict.matched && !r.disabled => {
            if let Some(new) = verdict.rehashed {
                msn_store::store_rehashed(&*ctx.store, &r, &new).await;
            }
            Checked::Valid(r.id)
        }
        _ => Checked::Invalid,
    })
}

/// `503` with `Retry-After`: the login was not checked, try again later.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(RETRY_AFTER, HeaderValue::from_static(BUSY_RETRY_AFTER))],
    )
        .into_response()
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
/// services, the OIM store (`/OimWS/oim.asmx`) and retrieval
/// (`/rsi/rsi.asmx`) services under one or two leading slashes (libpurple
/// sends `//abservice/abservice.asmx`, msnp13-18.md §4.4); every path ending in `/RST.srf`
/// (`/RST.srf` on login.live.com, `/pp550/RST.srf` and `/pp900/RST.srf` on
/// msnia.login.live.com, whatever else a client build has compiled in) is
/// the RST service, every path ending in `/RST2.srf` (login.live.com and
/// msnia.login.live.com) its WLM 2009 form. Anything else is not found.
async fn by_suffix(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let soap_path = abservice::SoapService::for_path(uri.path()).is_some()
        || oim::is_store_path(uri.path())
        || rsi::is_rsi_path(uri.path());
    if soap_path && method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("POST"))],
        )
            .into_response();
    }
    if let Some(service) = abservice::SoapService::for_path(uri.path()) {
        return abservice::handle(&state.ctx, service, &headers, body).await;
    }
    if oim::is_store_path(uri.path()) {
        return oim::handle(&state.ctx, &state.oim_locks, peer.ip(), &headers, body).await;
    }
    if rsi::is_rsi_path(uri.path()) {
        return rsi::handle(&state.ctx, &headers, body).await;
    }
    let path = uri.path();
    let flavor = if path.ends_with("/RST.srf") {
        rst::Flavor::Rst
    } else if path.ends_with("/RST2.srf") {
        rst::Flavor::Rst2
    } else {
        // Clients of later versions ask for services msnd may not have yet:
        // the operator should see what was asked.
        info!(%method, path, "unknown HTTP path");
        return StatusCode::NOT_FOUND.into_response();
    };
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("POST"))],
        )
            .into_response();
    }
    security_tokens(&state, flavor, peer, &headers, body).await
}

/// RST.srf and RST2.srf: a SOAP request with the user name and password,
/// one compact token back per requested service ([`crate::rst`], with
/// RST2.srf's envelope from [`crate::rst2`]): a single-use login ticket
/// (`http.ticket_ttl`) for the Messenger addresses — the
/// `messengerclear.live.com` one with the proof key `USR SSO` checks — and
/// a bearer token (`http.soap_token_ttl`) for the SOAP services'
/// addresses. The legacy DA token, no ticket, lives as long as the bearer
/// tokens.
///
/// Faults are sent with status 200, as soap/rst.md and soap/rst2.md
/// recommend: that is what Escargot (and, for RST2.srf, Tachyon) — the
/// servers known to work with WLM 8.x and 2009 — send, so it is the status
/// the clients are known to handle. The live service may have used 500
/// (auth-services.md §3.3, uncertain); how MSIDCRL treats a 500 is not
/// known.
///
/// Under the login throttle (`msn_auth::throttle`, shared with the NS and
/// `login2.srf`), a client over its failures gets the same
/// `FailedAuthentication` fault as for a wrong password, without its
/// password being checked, plus a `Retry-After` header (seconds): that
/// fault is the one failure clients are known to handle, whereas no
/// "server busy" fault of the live service is documented.
async fn security_tokens(
    state: &AppState,
    flavor: rst::Flavor,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(headers, body).await {
        Ok(body) => body,
        Err(status) => return status.into_response(),
    };
    let reply = |body: String| soap_as(flavor.content_type(), body);
    let request = match rst::parse_request(&body) {
        Ok(request) => request,
        Err(reason) => {
            debug!(%reason, ?flavor, "token request not understood");
            return reply(flavor.invalid_request().to_owned());
        }
    };
    let Ok(handle) = Handle::parse(&request.username) else {
        debug!(?flavor, "token request with a malformed sign-in name");
        observability::login(flavor.metric_label(), false);
        return reply(flavor.auth_failure(OffsetDateTime::now_utc()));
    };
    let throttle = &state.ctx.login_throttle;
    if let Err(throttled) = throttle.check(peer.ip(), handle.as_str()) {
        debug!(%handle, ip = %peer.ip(), ?throttled, ?flavor, "token login throttled");
        observability::login(flavor.metric_label(), false);
        let mut reply = reply(flavor.auth_failure(OffsetDateTime::now_utc()));
        reply
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs()));
        return reply;
    }
    match authenticate(state, &handle, vec![request.password().to_owned()]).await {
        Ok(Checked::Valid(user_id)) => {
            throttle.succeeded(peer.ip(), handle.as_str());
            observability::login(flavor.metric_label(), true);
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
                let (grant, ttl) = match (audience, rst::also_audience(&token.address)) {
                    (Audience::Messenger, Some(web)) => (
                        Grant::messenger(handle.clone(), user_id)
                            .also_bearer(web, http.soap_token_ttl),
                        http.ticket_ttl,
                    ),
                    (Audience::Messenger, None) => {
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
                // The lifetime the client is told: its longest use.
                let advertised = grant.also.map_or(ttl, |(_, also)| also.max(ttl));
                rst::Issued {
                    ticket: ctx.tokens.issue(grant, ttl),
                    ttl: advertised,
                    proof_key,
                }
            };
            // After the password check, which may have waited for a permit:
            // Created is when the tokens are issued.
            let now = OffsetDateTime::now_utc();
            let body = rst::success(
                flavor,
                &request.tokens,
                &account,
                issue,
                now,
                http.soap_token_ttl,
            );
            info!(%handle, tokens = request.tokens.len(), ?flavor, "token login succeeded");
            reply(body)
        }
        Ok(Checked::Invalid) => {
            info!(%handle, ip = %peer.ip(), ?flavor, "token login failed");
            observability::login(flavor.metric_label(), false);
            throttle.failed(peer.ip(), handle.as_str());
            reply(flavor.auth_failure(OffsetDateTime::now_utc()))
        }
        Ok(Checked::Busy) => {
            info!(%handle, ?flavor, "token login refused: too many logins waiting for a password check");
            reply(flavor.server_busy().to_owned())
        }
        Err(e) => {
            warn!(%handle, error = %e, ?flavor, "token login could not be checked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The storage service (`SchematizedStore.asmx`, [`crate::storage`]):
/// `GetProfile` and `UpdateProfile` on the account whose `storage.msn.com`
/// bearer token is in `StorageUserHeader/TicketToken`; every other
/// operation gets the `NotImplemented` fault. A missing, unknown or
/// expired token, or one for another service, gets `PassportAuthFail`
/// and changes nothing.
///
/// The profile is the account itself: its display name and personal
/// message, read from and changed through the service layer, so that an
/// `UpdateProfile` is the NS's `PRP MFN` / `UUX` (committed, mirrored in
/// the user's sessions, announced to watchers).
async fn storage_service(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(body) => body,
        Err(status) => return status.into_response(),
    };
    let request = match storage::parse_request(&body) {
        Ok(request) => request,
        Err(reason) => {
            debug!(%reason, "storage request not understood");
            return storage_fault(Fault::InvalidRequest, Schema::V2008, "");
        }
    };
    let schema = request.schema.unwrap_or(Schema::V2008);
    let action = request.action.as_str();
    let fault = |fault: Fault| storage_fault(fault, schema, action);
    let Some(grant) = request
        .ticket
        .as_deref()
        .and_then(|ticket| state.ctx.tokens.validate(ticket, Audience::Storage))
    else {
        debug!(action, "storage request without a valid storage ticket");
        return fault(Fault::AuthFailed);
    };
    let cid = rst::puid(grant.user_id);
    let handle = &grant.handle;
    match action {
        "GetProfile" => {
            // `Alias/Name` names the profile by CID (decimal, signed).
            let others = request.alias_name.as_deref().is_some_and(|name| {
                request.alias_namespace.as_deref() == Some("MyCidStuff")
                    && name.parse::<i64>().ok() != Some(cid as i64)
            });
            if others {
                info!(%handle, alias = ?request.alias_name, "GetProfile for another profile refused");
                return fault(Fault::AccessDenied);
            }
            let Ok(actor) = act_for(&state, &grant).await else {
                return fault(Fault::ServerError);
            };
            let (name, psm) = {
                let st = actor.state();
                (
                    st.account.friendly_name.clone(),
                    st.account
                        .personal_message
                        .as_deref()
                        .and_then(msn_core::personal_message::psm)
                        .unwrap_or_default(),
                )
            };
            drop(actor);
            let profile = storage::Profile {
                cid,
                display_name: &name,
                personal_status: &psm,
            };
            let now = OffsetDateTime::now_utc();
            soap_as(
                storage::CONTENT_TYPE,
                storage::get_profile(schema, request.cache_key.as_deref(), &profile, now),
            )
        }
        "UpdateProfile" => {
            if request
                .resource_id
                .as_deref()
                .is_some_and(|id| !id.eq_ignore_ascii_case(&storage::resource_id(cid)))
            {
                info!(%handle, resource = ?request.resource_id, "UpdateProfile of another profile refused");
                return fault(Fault::AccessDenied);
            }
            if let Err(f) = update_profile(&state, &grant, &request).await {
                return fault(f);
            }
            info!(%handle, "profile updated");
            soap_as(
                storage::CONTENT_TYPE,
                storage::update_profile(schema, request.cache_key.as_deref()),
            )
        }
        _ => {
            info!(%handle, action, "storage operation not implemented");
            fault(Fault::NotImplemented)
        }
    }
}

/// The service layer's actor for a token's account (the dialect only
/// matters to list edits, which the storage service makes none of).
async fn act_for(
    state: &AppState,
    grant: &Grant,
) -> Result<msn_service::AccountActor, msn_service::OpError> {
    state
        .ctx
        .service
        .account_actor(&grant.handle, grant.user_id)
        .await
}

/// `UpdateProfile`'s display name and personal message, each only when
/// sent and different from what is stored: the name through
/// `set_friendly_name` (encoded as the NS stores names, checked by the
/// same rules), the personal message as the account's `UUX` document with
/// its `<PSM>` replaced. The name is set first; a refused personal
/// message leaves it set.
async fn update_profile(
    state: &AppState,
    grant: &Grant,
    request: &storage::Request,
) -> Result<(), Fault> {
    let service = &state.ctx.service;
    let actor = act_for(state, grant)
        .await
        .map_err(|_| Fault::ServerError)?;
    let refused = |e: msn_service::OpError| match e {
        msn_service::OpError::Storage => Fault::ServerError,
        _ => Fault::InvalidArgument,
    };
    if let Some(name) = &request.display_name {
        let unchanged = actor.state().account.friendly_name == *name;
        if !unchanged {
            service
                .set_friendly_name(&actor, name)
                .await
                .map_err(refused)?;
        }
    }
    if let Some(psm) = &request.personal_status {
        let stored = actor.state().account.personal_message.clone();
        let current = stored
            .as_deref()
            .and_then(msn_core::personal_message::psm)
            .unwrap_or_default();
        if current != *psm {
            let document = msn_core::personal_message::with_psm(stored.as_deref(), psm)
                .ok_or(Fault::InvalidArgument)?;
            service
                .set_personal_message(&actor, bytes::Bytes::from(document))
                .await
                .map_err(refused)?;
        }
    }
    Ok(())
}

/// A storage fault: HTTP 500 with the SOAP 1.1 fault.
fn storage_fault(fault: Fault, schema: Schema, action: &str) -> Response {
    let mut reply = soap_as(storage::CONTENT_TYPE, fault.render(schema, action));
    *reply.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    reply
}

/// The request body, at most [`rst::MAX_REQUEST_BYTES`]: a larger declared
/// length is refused before reading, a longer chunked body as soon as it
/// passes the limit.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, StatusCode> {
    read_body_limited(headers, body, rst::MAX_REQUEST_BYTES).await
}

/// The request body, at most `limit` bytes: a larger declared length is
/// refused before reading (`413`), a longer chunked body as soon as it
/// passes the limit; a body that takes longer than
/// [`BODY_READ_TIMEOUT`] gets `408`.
pub(crate) async fn read_body_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, StatusCode> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        debug!(?declared, limit, "request body too large");
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let collect = Limited::new(body, limit).collect();
    match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            debug!(limit, "request body too large");
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Ok(Err(e)) => {
            debug!(error = %e, "request body unreadable");
            Err(StatusCode::BAD_REQUEST)
        }
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// A `200 OK` SOAP reply with `content_type`.
fn soap_as(content_type: &'static str, body: String) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}
