//! The client's files, embedded in the binary (`crates/msn-http/web/`):
//! plain ES modules, one style sheet and a few icons, no build step.
//! Each is served with its content type, `nosniff` and a short cache
//! lifetime; the page itself with the Content-Security-Policy.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Nothing from elsewhere, no inline script or style, sockets and
/// requests only to this origin, never in a frame.
pub(crate) const CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
                              style-src 'self'; script-src 'self'; object-src 'none'; \
                              base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

macro_rules! asset {
    ($name:literal, $kind:literal) => {
        ($name, $kind, include_str!(concat!("../../web/", $name)))
    };
}

/// (path under `/messenger/`, content type, contents).
const FILES: &[(&str, &str, &str)] = &[
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("js/app.js", "text/javascript; charset=utf-8"),
    asset!("js/msnp.js", "text/javascript; charset=utf-8"),
    asset!("js/ns.js", "text/javascript; charset=utf-8"),
    asset!("js/sb.js", "text/javascript; charset=utf-8"),
    asset!("js/model.js", "text/javascript; charset=utf-8"),
    asset!("js/emoticons.js", "text/javascript; charset=utf-8"),
    asset!("js/socket.js", "text/javascript; charset=utf-8"),
    asset!("js/ui.js", "text/javascript; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
];

const INDEX: &str = include_str!("../../web/index.html");

/// The page (`/messenger/`).
pub(crate) async fn index() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        INDEX,
    )
        .into_response()
}

/// A file of the client, by its path under `/messenger/`.
pub(crate) async fn file(Path(path): Path<String>) -> Response {
    let Some((_, kind, body)) = FILES.iter().find(|(name, _, _)| *name == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(kind)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            // Revalidated on each load: a new msnd never runs an old script.
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        ],
        *body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_files() {
        // Every script and style sheet the page names is served.
        let named = INDEX
            .split(['"', '\''])
            .filter_map(|part| part.strip_prefix("/messenger/"))
            .filter(|p| p.ends_with(".js") || p.ends_with(".css") || p.ends_with(".svg"));
        for path in named {
            assert!(
                FILES.iter().any(|(n, _, _)| *n == path),
                "{path} is not embedded"
            );
        }
        // Modules import each other by relative path: each one exists.
        for (name, _, body) in FILES.iter().filter(|(n, _, _)| n.ends_with(".js")) {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let target = line.rsplit(['"', '\'']).nth(1).expect("import path");
                let file = target.strip_prefix("./").expect("relative import");
                let full = format!("js/{file}");
                assert!(
                    FILES.iter().any(|(n, _, _)| *n == full),
                    "{name} imports {target}"
                );
            }
        }
        assert!(!INDEX.contains("<script>"), "no inline script");
    }
}
