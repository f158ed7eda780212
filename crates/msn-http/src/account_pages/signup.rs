//! `/signup`: the form, and creating the account through
//! `msn_service::accounts::create` (with the invitation code in the same
//! transaction when `[signup] invite_only`).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use msn_service::accounts::{self, AccountError, AccountSpec};
use serde::Deserialize;
use tracing::{info, warn};

use super::views::{CreatedPage, Errors, SignupPage, SignupValues};
use super::{HASH_WAIT, HasToken, Pages, Visit, password_hint, password_rules, read_form};
use crate::listener::Peer;

const BACK: (&str, &str) = ("/signup", "Back to the sign-up form");

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SignupForm {
    csrf: String,
    handle: String,
    name: String,
    password: String,
    confirm: String,
    invite: String,
    legacy_md5: Option<String>,
}

impl HasToken for SignupForm {
    fn token(&self) -> &str {
        &self.csrf
    }
}

/// `GET /signup`.
pub(super) async fn form(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&headers, peer.ip());
    render(
        &pages,
        &visit,
        StatusCode::OK,
        SignupValues::default(),
        Errors::default(),
    )
}

fn render(
    pages: &Pages,
    visit: &Visit,
    status: StatusCode,
    values: SignupValues<'_>,
    errors: Errors,
) -> Response {
    let csrf = visit.token(pages);
    let hint = password_hint(pages);
    let html = SignupPage {
        csrf: &csrf,
        invite_only: pages.ctx.config.signup.invite_only,
        password_hint: &hint,
        values,
        errors,
    }
    .render();
    visit.page(status, html)
}

/// `POST /signup`: checks the form (all problems at once), then creates
/// the account. Over `[signup] signups_per_address`: `429`.
pub(super) async fn submit(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let visit = Visit::new(&headers, peer.ip());
    let form: SignupForm = match read_form(&pages, &visit, &headers, body, BACK).await {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    if let Err(wait) = pages.signups.check(visit.ip) {
        info!(ip = %visit.ip, "sign-up attempts over the limit");
        return visit.too_many(wait, BACK);
    }
    let invite_only = pages.ctx.config.signup.invite_only;
    let legacy_md5 = form.legacy_md5.is_some();
    let name = form.name.trim();
    let spec = AccountSpec {
        email: form.handle.trim(),
        password: &form.password,
        name: (!name.is_empty()).then_some(name),
        legacy_md5,
    };
    let values = SignupValues {
        handle: form.handle.trim(),
        name: &form.name,
        invite: form.invite.trim(),
        legacy_md5,
    };
    let rules = password_rules(&pages);
    let mut errors = Errors::default();
    if let Err(e) = accounts::parse_handle(spec.email) {
        errors.add("handle", field_message(&e));
    }
    if let Some(Err(e)) = spec.name.map(accounts::check_name) {
        errors.add("name", field_message(&e));
    }
    if let Err(e) = rules.check(&form.password) {
        errors.add("password", field_message(&e));
    } else if form.confirm != form.password {
        errors.add("confirm", "The two passwords are not the same.");
    }
    if invite_only && form.invite.trim().is_empty() {
        errors.add("invite", "Enter the invitation code you were given.");
    }
    if !errors.is_empty() {
        return render(&pages, &visit, StatusCode::BAD_REQUEST, values, errors);
    }
    let code = invite_only.then(|| msn_core::ids::normalize_invite_code(&form.invite));

    let Ok(Ok(_permit)) = tokio::time::timeout(HASH_WAIT, pages.hashing.acquire()).await else {
        return visit.busy(BACK);
    };
    let cost = pages.ctx.config.hash_cost();
    match accounts::create(&*pages.ctx.store, &spec, rules, cost, code.as_deref()).await {
        Ok(_) => {
            let handle = accounts::parse_handle(spec.email).map(|h| h.to_string());
            let handle = handle.unwrap_or_default();
            info!(%handle, ip = %visit.ip, legacy_md5, "account created on the sign-up page");
            let html = CreatedPage {
                handle: &handle,
                name: spec.name.unwrap_or(&handle),
                legacy_md5,
            }
            .render();
            visit.page(StatusCode::CREATED, html)
        }
        Err(AccountError::Taken(handle)) => {
            let message = format!(
                "An account named {handle} already exists. Choose another sign-in name, or \
                 sign in on the account page if it is yours."
            );
            render(
                &pages,
                &visit,
                StatusCode::CONFLICT,
                values,
                Errors::one("handle", message),
            )
        }
        Err(AccountError::BadInvite) => render(
            &pages,
            &visit,
            StatusCode::BAD_REQUEST,
            values,
            Errors::one(
                "invite",
                "This invitation code is unknown or has been used already.",
            ),
        ),
        Err(e @ (AccountError::Store(_) | AccountError::Hashing(_))) => {
            warn!(error = %e, "sign-up failed");
            visit.failed(BACK)
        }
        // Checked above; the service checks the same rules again.
        Err(e) => render(
            &pages,
            &visit,
            StatusCode::BAD_REQUEST,
            values,
            Errors::one("handle", field_message(&e)),
        ),
    }
}

/// A rule's message as a sentence for the field it belongs to.
pub(super) fn field_message(e: &AccountError) -> String {
    match e {
        AccountError::BadHandle { input, .. } if input.is_empty() => {
            "Enter a sign-in name, such as alice@hotmail.com.".to_owned()
        }
        AccountError::BadHandle { input, .. } => format!(
            "{input:?} is not a sign-in name. Use the shape of an e-mail address, such as \
             alice@hotmail.com: letters, digits and . _ - + before the @, a domain name with \
             a dot after it."
        ),
        other => {
            let mut s = other.to_string();
            if let Some(first) = s.get(..1) {
                let upper = first.to_ascii_uppercase();
                s.replace_range(..1, &upper);
            }
            s.push('.');
            s
        }
    }
}
