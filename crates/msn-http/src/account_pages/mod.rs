//! Sign-up and account pages on the HTTP port (`[signup]`): `/signup`
//! creates an account, `/account` signs in with the account's handle and
//! password and offers changing the password, deleting the account and
//! signing out. Plain HTML forms (no JavaScript, nothing loaded from
//! elsewhere: one embedded style sheet), served with a strict
//! Content-Security-Policy.
//!
//! Nothing here creates, changes or deletes an account by itself: that is
//! `msn_service::accounts`, as for `msnd user add|passwd|del`, so the
//! rules are the same and a running server signs the account's Messenger
//! sessions out through the store's change log. Passwords are checked by
//! the process's `PasswordVerifier` under the shared login throttle, like
//! every other password login.
//!
//! Every POST needs the form's CSRF token ([`csrf`]) and a same-site
//! `Origin`/`Referer`; sign-ups and password checks are rate-limited per
//! client address ([`limits`]); sign-ins live in memory ([`sessions`]).
//! One module per page: [`signup`], [`account`].

mod account;
pub(crate) mod csrf;
pub(crate) mod limits;
pub(crate) mod sessions;
mod signup;
mod views;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, REFERRER_POLICY,
    RETRY_AFTER, SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use crate::HttpContext;
use crate::routes::{Checked, check_password};
use csrf::Csrf;
use limits::PerAddress;
use sessions::Sessions;
use views::ProblemPage;

/// The style sheet's path (under `/account`, which the session cookie's
/// path covers anyway).
const STYLE_PATH: &str = "/account/style.css";
const STYLE: &str = include_str!("style.css");

/// Largest form body read: the forms are a few short fields.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// How long a sign-up or password change waits for a hashing slot before
/// the page says the server is busy.
const HASH_WAIT: Duration = Duration::from_secs(10);

/// Every page's policy: nothing but this site's style sheet, forms only
/// to this site, never in a frame.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// How often expired sessions and refilled rate-limit entries are dropped.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(60);

/// What the pages share.
pub(crate) struct Pages {
    ctx: Arc<HttpContext>,
    /// Checked for unknown accounts, so that they take as long.
    decoy_hash: String,
    csrf: Csrf,
    signups: PerAddress,
    /// Password checks (sign-in, change, delete).
    sign_ins: PerAddress,
    sessions: Sessions,
    /// New hashes computed at once (sign-ups, password changes), at most
    /// `http.max_concurrent_hashes`, as for password checks: each holds
    /// the argon2 work memory.
    hashing: Semaphore,
}

/// Adds the pages to `router` when `[signup] enabled`.
pub(crate) fn mount<S>(router: Router<S>, ctx: &Arc<HttpContext>, decoy_hash: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let config = &ctx.config.signup;
    if !config.enabled {
        return router;
    }
    let pages = Arc::new(Pages {
        ctx: ctx.clone(),
        decoy_hash: decoy_hash.to_owned(),
        csrf: Csrf::new(),
        signups: PerAddress::new(config.signups_per_address, config.signup_window),
        sign_ins: PerAddress::new(config.sign_ins_per_address, config.sign_in_window),
        sessions: Sessions::new(config.session_ttl, config.max_sessions),
        hashing: Semaphore::new(ctx.config.http.max_concurrent_hashes.max(1)),
    });
    tokio::spawn(upkeep(pages.clone()));
    router.merge(
        Router::new()
            .route("/signup", get(signup::form).post(signup::submit))
            .route("/account", get(account::page))
            .route("/account/sign-in", post(account::sign_in))
            .route("/account/password", post(account::change_password))
            .route("/account/delete", post(account::delete))
            .route("/account/sign-out", post(account::sign_out))
            .route(STYLE_PATH, get(style))
            .with_state(pages),
    )
}

/// Drops expired sessions and rate-limit entries until shutdown.
async fn upkeep(pages: Arc<Pages>) {
    let shutdown = pages.ctx.shutdown.clone();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(UPKEEP_INTERVAL) => {}
        }
        pages.sessions.prune();
        pages.signups.prune();
        pages.sign_ins.prune();
    }
}

async fn style() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("max-age=3600")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        STYLE,
    )
        .into_response()
}

/// The value of the cookie `name` the request came with.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).filter_map(Result::ok))
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// One request to a page: who sent it and the browser's CSRF cookie.
pub(crate) struct Visit {
    ip: IpAddr,
    /// The CSRF cookie's value; `fresh` when the browser had none and it
    /// is set with this response.
    csrf_cookie: String,
    fresh: bool,
    /// The account-page session cookie, if sent.
    session: Option<String>,
    /// `Set-Cookie` values for the response.
    set_cookies: Vec<String>,
}

impl Visit {
    fn new(headers: &HeaderMap, ip: IpAddr) -> Visit {
        let existing = cookie(headers, csrf::COOKIE).filter(|v| !v.is_empty() && v.len() <= 64);
        let fresh = existing.is_none();
        let csrf_cookie = existing.unwrap_or_else(csrf::new_cookie_value);
        let mut set_cookies = Vec::new();
        if fresh {
            set_cookies.push(
                Cookie::build((csrf::COOKIE, csrf_cookie.clone()))
                    .path("/")
                    .http_only(true)
                    .same_site(SameSite::Strict)
                    .build()
                    .to_string(),
            );
        }
        Visit {
            ip,
            csrf_cookie,
            fresh,
            session: cookie(headers, sessions::COOKIE),
            set_cookies,
        }
    }

    /// The token this browser's forms carry.
    fn token(&self, pages: &Pages) -> String {
        pages.csrf.token(&self.csrf_cookie)
    }

    /// Sets the session cookie (`Some`) or clears it (`None`).
    fn set_session(&mut self, token: Option<&str>) {
        let mut c = Cookie::build((sessions::COOKIE, token.unwrap_or("").to_owned()))
            .path("/account")
            .http_only(true)
            .same_site(SameSite::Strict)
            .build();
        if token.is_none() {
            c.make_removal();
        }
        self.set_cookies.push(c.to_string());
    }

    /// An HTML page with the security headers and this visit's cookies.
    fn page(&self, status: StatusCode, html: Result<String, askama::Error>) -> Response {
        let body = match html {
            Ok(body) => body,
            Err(e) => {
                warn!(error = %e, "account page could not be rendered");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        self.finish(headers);
        response
    }

    /// `303 See Other` to `location`, with this visit's cookies.
    fn redirect(&self, location: &'static str) -> Response {
        let mut response = StatusCode::SEE_OTHER.into_response();
        let headers = response.headers_mut();
        headers.insert(LOCATION, HeaderValue::from_static(location));
        self.finish(headers);
        response
    }

    fn finish(&self, headers: &mut HeaderMap) {
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for c in &self.set_cookies {
            if let Ok(value) = HeaderValue::from_str(c) {
                headers.append(SET_COOKIE, value);
            }
        }
    }

    /// A whole request refused, with a page saying why and where to go.
    fn problem(
        &self,
        status: StatusCode,
        title: &str,
        message: &str,
        (link_href, link_text): (&str, &str),
    ) -> Response {
        let html = ProblemPage {
            title,
            message,
            link_href,
            link_text,
        }
        .render();
        self.page(status, html)
    }

    /// `429` with `Retry-After`: over a per-address limit.
    fn too_many(&self, wait: Duration, back: (&str, &str)) -> Response {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let when = if secs < 120 {
            format!("{secs} seconds")
        } else {
            format!("{} minutes", secs.div_ceil(60))
        };
        let mut response = self.problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!(
                "There have been too many attempts from your network address. \
                 Please wait {when} and try again."
            ),
            back,
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        response
    }

    /// `503`: no hashing or password-check slot came free in time.
    fn busy(&self, back: (&str, &str)) -> Response {
        let mut response = self.problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy",
            "The server is checking too many passwords at the moment. Please try again in a \
             few seconds; nothing was changed.",
            back,
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        response
    }

    fn failed(&self, back: (&str, &str)) -> Response {
        self.problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete this request; nothing was changed. Please try \
             again later.",
            back,
        )
    }
}

/// Reads a POSTed form after checking that it came from this site's own
/// page: `Origin`/`Referer` name this host, the browser sent its CSRF
/// cookie, and the form's `csrf` field is that cookie's token. Refusals
/// are a `403` page (or `413`/`415`/`400` for bodies that are no form).
async fn read_form<T>(
    pages: &Pages,
    visit: &Visit,
    headers: &HeaderMap,
    body: Body,
    back: (&str, &str),
) -> Result<T, Box<Response>>
where
    T: DeserializeOwned + HasToken,
{
    let forged = |why: &str| {
        debug!(ip = %visit.ip, why, "account form refused");
        Box::new(visit.problem(
            StatusCode::FORBIDDEN,
            "This form cannot be accepted",
            "The form did not come from this site's own page, or it has expired (the server \
             may have restarted). Nothing was changed. Please open the page again and \
             resubmit; your browser must accept cookies from this site.",
            back,
        ))
    };
    if !csrf::same_origin(headers) {
        return Err(forged("cross-origin"));
    }
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(Box::new(visit.problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "This address only accepts the page's own form.",
            back,
        )));
    }
    let bytes = match crate::routes::read_body_limited(headers, body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(status) => {
            return Err(Box::new(visit.problem(
                status,
                "The form could not be read",
                "The form was too large or did not arrive completely. Nothing was changed.",
                back,
            )));
        }
    };
    let form: T = match serde_urlencoded::from_bytes(&bytes) {
        Ok(form) => form,
        Err(_) => {
            return Err(Box::new(visit.problem(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                "The form's fields were not what this page sends. Nothing was changed.",
                back,
            )));
        }
    };
    if visit.fresh {
        return Err(forged("no csrf cookie"));
    }
    if !pages.csrf.verify(&visit.csrf_cookie, form.token()) {
        return Err(forged("bad csrf token"));
    }
    Ok(form)
}

/// A form with the CSRF token field.
trait HasToken {
    fn token(&self) -> &str;
}

/// The outcome of checking an account's password on a page.
enum PasswordCheck {
    /// Right; the account's id and its current hash.
    Valid { user_id: i64, hash: String },
    /// Wrong password, no such account, or disabled.
    Invalid,
    /// Refused without a check (too many attempts, or the server is busy).
    Refused(Response),
}

/// Checks `password` for `handle` under the per-address limit of the
/// pages, the login throttle shared with every other password login and
/// the process's password verifier. Failures are counted as failed logins.
async fn verify_password(
    pages: &Pages,
    visit: &Visit,
    handle: &msn_core::handle::Handle,
    password: &str,
    back: (&str, &str),
) -> PasswordCheck {
    if let Err(wait) = pages.sign_ins.check(visit.ip) {
        debug!(ip = %visit.ip, "account page: sign-in attempts over the limit");
        return PasswordCheck::Refused(visit.too_many(wait, back));
    }
    let throttle = &pages.ctx.login_throttle;
    if let Err(throttled) = throttle.check(visit.ip, handle.as_str()) {
        debug!(%handle, ip = %visit.ip, "account page sign-in throttled");
        return PasswordCheck::Refused(visit.too_many(throttled.retry_after, back));
    }
    let checked = check_password(
        &pages.ctx,
        &pages.decoy_hash,
        handle,
        vec![password.to_owned()],
    )
    .await;
    match checked {
        Ok(Checked::Valid(user_id)) => {
            throttle.succeeded(visit.ip, handle.as_str());
            match pages.ctx.store.user(handle.as_str()).await {
                Ok(Some(record)) if record.id == user_id => PasswordCheck::Valid {
                    user_id,
                    hash: record.password_hash,
                },
                Ok(_) => PasswordCheck::Invalid,
                Err(e) => {
                    warn!(%handle, error = %e, "account page: store failed");
                    PasswordCheck::Refused(visit.failed(back))
                }
            }
        }
        Ok(Checked::Invalid) => {
            tracing::info!(%handle, ip = %visit.ip, "account page: wrong password");
            throttle.failed(visit.ip, handle.as_str());
            PasswordCheck::Invalid
        }
        Ok(Checked::Busy) => PasswordCheck::Refused(visit.busy(back)),
        Err(e) => {
            warn!(%handle, error = %e, "account page: password could not be checked");
            PasswordCheck::Refused(visit.failed(back))
        }
    }
}

/// The password rule of the pages.
fn password_rules(pages: &Pages) -> msn_service::accounts::PasswordRules {
    msn_service::accounts::PasswordRules {
        min_chars: pages.ctx.config.signup.min_password_length,
    }
}

fn password_hint(pages: &Pages) -> String {
    format!(
        "At least {} characters.",
        pages.ctx.config.signup.min_password_length
    )
}
