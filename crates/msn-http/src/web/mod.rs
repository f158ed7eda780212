//! msnd Web Messenger (`[web]`): a Messenger client for any modern
//! browser, served under `/messenger/` on the HTTP port.
//!
//! The browser is one more MSNP client. It signs in with its account's
//! password at [`api`] (the shared password check, login throttle and
//! decoy hash, a per-address limit), which answers with a Passport ticket
//! issued as `/login2.srf` issues it and sets an HttpOnly, SameSite=Strict
//! cookie that fetches a fresh ticket when the socket reconnects. It then
//! opens WebSockets at `/messenger/ws` ([`socket`], subprotocol
//! [`socket::PROTOCOL`]) whose binary messages carry the very bytes a TCP
//! client exchanges with the Notification Server (`?target=ns`) or a
//! switchboard (`?target=sb`): the sessions on the other end are
//! msn-server's, started through the context's
//! [`crate::gateway::SessionOpener`] like the HTTP gateway's. No presence,
//! privacy, list or chat rule is implemented here.
//!
//! The page and its scripts are embedded in the binary ([`assets`]) and
//! served with a Content-Security-Policy that allows nothing from
//! elsewhere and no inline script.

pub(crate) mod api;
pub(crate) mod assets;
pub(crate) mod socket;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderName};
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::HttpContext;
use crate::account_pages::limits::PerAddress;
use crate::account_pages::sessions::Sessions;

/// Where the client lives.
pub(crate) const PREFIX: &str = "/messenger";

/// The cookie naming a web sign-in (path [`PREFIX`]).
pub(crate) const COOKIE: &str = "msnd_web";

/// The header every API request must carry. A page elsewhere cannot send
/// it to this origin without a CORS preflight, which msnd never grants:
/// with the `Origin` check, that is the API's CSRF protection (the API
/// takes JSON from scripts, not forms).
pub(crate) static CSRF_HEADER: HeaderName = HeaderName::from_static("x-msnd-web");

/// How often expired sign-ins and refilled rate-limit entries are dropped.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(60);

/// What the client's routes share.
pub(crate) struct Web {
    pub ctx: Arc<HttpContext>,
    /// Checked for unknown accounts, so that they take as long.
    pub decoy_hash: String,
    /// Web sign-ins (the cookie's token → account).
    pub sessions: Sessions,
    /// Password checks per address.
    pub sign_ins: PerAddress,
    /// WebSockets held per address.
    pub sockets: socket::PerAddressCount,
}

/// Adds the client to `router` when `[web] enabled` and the context can
/// start protocol sessions.
pub(crate) fn mount<S>(router: Router<S>, ctx: &Arc<HttpContext>, decoy_hash: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let config = &ctx.config.web;
    if !config.enabled || ctx.sessions.is_none() {
        return router;
    }
    let web = Arc::new(Web {
        ctx: ctx.clone(),
        decoy_hash: decoy_hash.to_owned(),
        sessions: Sessions::new(config.session_ttl, config.max_sessions),
        sign_ins: PerAddress::new(config.sign_ins_per_address, config.sign_in_window),
        sockets: socket::PerAddressCount::new(
            config.max_sockets_per_address,
            msn_auth::Exempt::new(ctx.config.limits.exempt_networks.clone()),
        ),
    });
    tokio::spawn(upkeep(web.clone()));
    router.merge(
        Router::new()
            .route(PREFIX, get(|| async { Redirect::permanent("/messenger/") }))
            // The server's own address opens the messenger (a temporary
            // redirect: an operator may put another page there later).
            .route("/", get(|| async { Redirect::to("/messenger/") }))
            .route("/messenger/", get(assets::index))
            .route("/messenger/{*file}", get(assets::file))
            .route("/messenger/api/sign-in", post(api::sign_in))
            .route("/messenger/api/ticket", post(api::ticket))
            .route("/messenger/api/sign-out", post(api::sign_out))
            .route("/messenger/ws", get(socket::upgrade))
            .with_state(web),
    )
}

/// Drops expired sign-ins and rate-limit entries until shutdown.
async fn upkeep(web: Arc<Web>) {
    let shutdown = web.ctx.shutdown.clone();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(UPKEEP_INTERVAL) => {}
        }
        web.sessions.prune();
        web.sign_ins.prune();
    }
}

/// Whether a request comes from this origin: `Origin` present and naming
/// the request's host (browsers always send it on WebSocket handshakes
/// and on `fetch` POSTs).
pub(crate) fn from_this_origin(headers: &HeaderMap) -> bool {
    headers.contains_key(axum::http::header::ORIGIN)
        && crate::account_pages::csrf::same_origin(headers)
}
