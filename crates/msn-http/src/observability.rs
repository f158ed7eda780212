//! Health, readiness and metrics endpoints, and the HTTP request metrics.
//!
//! - `/healthz`: the process answers (liveness).
//! - `/readyz`: the store answers a cheap query and the server is not
//!   shutting down (the protocol listeners are bound before the HTTP
//!   services start and stop only at shutdown), so `200`; else `503`.
//! - `/metrics`: the Prometheus text exposition of everything recorded
//!   through the `metrics` facade, when `http.metrics` is on and the client
//!   is in `http.metrics_allow`; otherwise `404`, as if it did not exist.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use msn_auth::Exempt;
use tracing::warn;

use crate::listener::Peer;
use crate::routes::AppState;
use crate::{abservice, oim, rsi};

/// A store that has not answered in this long is not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// A handle no account can have (`.invalid` is reserved): the readiness
/// query looks it up by primary key.
const PROBE_HANDLE: &str = "readiness-probe@msnd.invalid";

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let ctx = &state.ctx;
    if ctx.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match tokio::time::timeout(READY_TIMEOUT, ctx.store.user_exists(PROBE_HANDLE)).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            warn!(error = %e, "readiness: the store failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
        Err(_) => {
            warn!("readiness: the store did not answer in time");
            (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n").into_response()
        }
    }
}

pub(crate) async fn metrics(
    State(state): State<Arc<AppState>>,
    Extension(Peer(peer)): Extension<Peer>,
) -> Response {
    let config = &state.ctx.config.http;
    let allowed = Exempt::new(config.metrics_allow.clone()).contains(peer.ip());
    match &state.ctx.metrics {
        Some(handle) if config.metrics && allowed => (
            StatusCode::OK,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            handle.render(),
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Counts each request by route (the route pattern, or the family of a
/// suffix-routed SOAP path: never the raw path, so the label stays
/// bounded) and status.
pub(crate) async fn record_request(request: Request, next: Next) -> Response {
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => route_label(matched.as_str()),
        None => fallback_route(request.uri().path()),
    };
    let response = next.run(request).await;
    metrics::counter!(
        "msnd_http_requests_total",
        "route" => route,
        "status" => response.status().as_u16().to_string(),
    )
    .increment(1);
    response
}

/// The fixed routes, as `'static` labels.
fn route_label(pattern: &str) -> &'static str {
    const ROUTES: &[&str] = &[
        "/gateway/gateway.dll",
        "/rdr/pprdr.asp",
        "/login2.srf",
        "/login.srf",
        "/healthz",
        "/readyz",
        "/metrics",
        "/storageservice/SchematizedStore.asmx",
    ];
    ROUTES
        .iter()
        .find(|r| **r == pattern)
        .copied()
        .unwrap_or("other")
}

/// The routes found by suffix (see `routes::by_suffix`).
fn fallback_route(path: &str) -> &'static str {
    if abservice::SoapService::for_path(path).is_some() {
        "abservice"
    } else if oim::is_store_path(path) {
        "oim-store"
    } else if rsi::is_rsi_path(path) {
        "rsi"
    } else if path.ends_with("/RST.srf") {
        "RST.srf"
    } else if path.ends_with("/RST2.srf") {
        "RST2.srf"
    } else {
        "unknown"
    }
}

/// A login over HTTP (`login2`, `rst`, `rst2`) succeeded or failed.
pub(crate) fn login(method: &'static str, ok: bool) {
    if ok {
        metrics::counter!("msnd_logins_total", "method" => method).increment(1);
    } else {
        metrics::counter!("msnd_login_failures_total", "method" => method).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(route_label("/login2.srf"), "/login2.srf");
        assert_eq!(route_label("/anything"), "other");
        assert_eq!(fallback_route("/x/RST2.srf"), "RST2.srf");
        assert_eq!(fallback_route("/random/path/12345"), "unknown");
    }
}
