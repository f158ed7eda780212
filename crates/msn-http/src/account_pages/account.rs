//! `/account`: signing in to the page with the account's handle and
//! password, the account page itself, changing the password, deleting the
//! account and signing out. Changes go through `msn_service::accounts`
//! (the store's change log then signs the account's Messenger sessions
//! out); each one asks for the current password again.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use msn_core::handle::Handle;
use msn_service::accounts::{self, AccountError};
use serde::Deserialize;
use tracing::{info, warn};

use super::sessions::Session;
use super::signup::field_message;
use super::views::{AccountPage, Errors, SignInPage};
use super::{
    HASH_WAIT, HasToken, Pages, PasswordCheck, Visit, password_hint, password_rules, read_form,
    verify_password,
};
use crate::listener::Peer;

const BACK: (&str, &str) = ("/account", "Back to the account page");

/// `?done=…` after a change: which notice to show (a fixed set, so
/// nothing from the URL reaches the page).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Done {
    done: String,
}

fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "password" => {
            "Your password has been changed. Messenger windows signed in to this account were \
             signed out; sign in there with the new password."
        }
        "deleted" => "Your account has been deleted.",
        "signed-out" => "You have signed out of the account page.",
        "expired" => {
            "You were signed out of the account page (the sign-in expired, or the account \
             changed elsewhere). Please sign in again."
        }
        _ => return None,
    })
}

/// The signed-in account of this visit, if its session is live and the
/// account is as it was at sign-in (same id, same password, enabled).
/// `Err(())` when the store could not be asked.
async fn signed_in(
    pages: &Pages,
    visit: &Visit,
) -> Result<Option<(Session, msn_store::UserRecord)>, ()> {
    let Some(token) = &visit.session else {
        return Ok(None);
    };
    let Some(session) = pages.sessions.get(token) else {
        return Ok(None);
    };
    let record = match pages.ctx.store.user(session.handle.as_str()).await {
        Ok(record) => record,
        Err(e) => {
            warn!(error = %e, "account page: store failed");
            return Err(());
        }
    };
    match record {
        Some(r)
            if r.id == session.user_id
                && !r.disabled
                && r.password_hash == session.password_hash =>
        {
            Ok(Some((session, r)))
        }
        _ => {
            pages.sessions.remove(token);
            Ok(None)
        }
    }
}

/// `GET /account`: the account page, or the sign-in form.
pub(super) async fn page(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut visit = Visit::new(&headers, peer.ip());
    let done: Done =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let notice = notice(&done.done);
    match signed_in(&pages, &visit).await {
        Ok(Some((_, record))) => account_page(
            &pages,
            &visit,
            StatusCode::OK,
            &record,
            notice,
            Errors::default(),
        ),
        Ok(None) => {
            let notice = match (&visit.session, notice) {
                // A session cookie that no longer names a sign-in.
                (Some(_), None) => {
                    visit.set_session(None);
                    self::notice("expired")
                }
                (_, notice) => notice,
            };
            sign_in_page(
                &pages,
                &visit,
                StatusCode::OK,
                "",
                notice,
                Errors::default(),
            )
        }
        Err(()) => visit.failed(BACK),
    }
}

fn account_page(
    pages: &Pages,
    visit: &Visit,
    status: StatusCode,
    record: &msn_store::UserRecord,
    notice: Option<&str>,
    errors: Errors,
) -> Response {
    let csrf = visit.token(pages);
    let hint = password_hint(pages);
    let html = AccountPage {
        csrf: &csrf,
        handle: record.handle.as_str(),
        name: &record.friendly_name,
        legacy_md5: record.legacy_password.is_some(),
        password_hint: &hint,
        notice,
        errors,
    }
    .render();
    visit.page(status, html)
}

fn sign_in_page(
    pages: &Pages,
    visit: &Visit,
    status: StatusCode,
    handle: &str,
    notice: Option<&str>,
    errors: Errors,
) -> Response {
    let csrf = visit.token(pages);
    let html = SignInPage {
        csrf: &csrf,
        handle,
        notice,
        errors,
    }
    .render();
    visit.page(status, html)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SignInForm {
    csrf: String,
    handle: String,
    password: String,
}

impl HasToken for SignInForm {
    fn token(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/sign-in`: a new session (a new token) on the right
/// password; the same answer for a wrong password and an unknown account.
pub(super) async fn sign_in(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut visit = Visit::new(&headers, peer.ip());
    let form: SignInForm = match read_form(&pages, &visit, &headers, body, BACK).await {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let typed = form.handle.trim();
    let handle = match accounts::parse_handle(typed) {
        Ok(handle) => handle,
        Err(e) => {
            let errors = Errors::one("handle", field_message(&e));
            return sign_in_page(&pages, &visit, StatusCode::BAD_REQUEST, typed, None, errors);
        }
    };
    if form.password.is_empty() {
        let errors = Errors::one("password", "Enter your password.");
        return sign_in_page(&pages, &visit, StatusCode::BAD_REQUEST, typed, None, errors);
    }
    match verify_password(&pages, &visit, &handle, &form.password, BACK).await {
        PasswordCheck::Valid { user_id, hash } => {
            info!(%handle, ip = %visit.ip, "signed in to the account page");
            let token = pages.sessions.create(handle, user_id, hash);
            visit.set_session(Some(&token));
            visit.redirect("/account")
        }
        PasswordCheck::Invalid => {
            let errors = Errors::one("password", "The sign-in name or the password is not right.");
            sign_in_page(
                &pages,
                &visit,
                StatusCode::UNAUTHORIZED,
                typed,
                None,
                errors,
            )
        }
        PasswordCheck::Refused(response) => response,
    }
}

/// What the signed-in forms have in common: the session and the account
/// as stored, or the response to send instead (signed out, store down).
async fn require_session(
    pages: &Pages,
    visit: &mut Visit,
) -> Result<(Session, msn_store::UserRecord), Response> {
    match signed_in(pages, visit).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => {
            visit.set_session(None);
            Err(visit.redirect("/account?done=expired"))
        }
        Err(()) => Err(visit.failed(BACK)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PasswordForm {
    csrf: String,
    current: String,
    new_password: String,
    confirm: String,
    legacy_md5: Option<String>,
}

impl HasToken for PasswordForm {
    fn token(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/password`: the current password, the new one twice and
/// the MD5 opt-in; through `accounts::set_password`.
pub(super) async fn change_password(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut visit = Visit::new(&headers, peer.ip());
    let form: PasswordForm = match read_form(&pages, &visit, &headers, body, BACK).await {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let (session, record) = match require_session(&pages, &mut visit).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let rules = password_rules(&pages);
    let mut errors = Errors::default();
    if form.current.is_empty() {
        errors.add("current", "Enter your current password.");
    }
    if let Err(e) = rules.check(&form.new_password) {
        errors.add("new_password", field_message(&e));
    } else if form.confirm != form.new_password {
        errors.add("confirm", "The two new passwords are not the same.");
    }
    let current = Retyped {
        field: "current",
        password: &form.current,
        wrong: "The current password is not right.",
    };
    if let Err(response) =
        check_form(&pages, &visit, &session.handle, &record, errors, current).await
    {
        return response;
    }
    let Ok(Ok(_permit)) = tokio::time::timeout(HASH_WAIT, pages.hashing.acquire()).await else {
        return visit.busy(BACK);
    };
    let legacy_md5 = form.legacy_md5.is_some();
    let changed = accounts::set_password(
        &*pages.ctx.store,
        session.handle.as_str(),
        &form.new_password,
        Some(legacy_md5),
        rules,
        pages.ctx.config.hash_cost(),
    )
    .await;
    match changed {
        Ok(_) => {
            info!(handle = %session.handle, ip = %visit.ip, legacy_md5, "password changed on the account page");
            refresh_session(&pages, &visit, &session.handle).await;
            visit.redirect("/account?done=password")
        }
        Err(AccountError::NoSuchAccount(_)) => {
            visit.set_session(None);
            visit.redirect("/account?done=expired")
        }
        Err(e) => {
            warn!(handle = %session.handle, error = %e, "password change failed");
            visit.failed(BACK)
        }
    }
}

/// The current password, typed again to confirm a change.
struct Retyped<'a> {
    /// The form field it was typed in (where an error is shown).
    field: &'static str,
    password: &'a str,
    /// What to say when it is wrong.
    wrong: &'static str,
}

/// The account page again (`400`) with the form's `errors`, if any, or
/// with the retyped password's if it is wrong; `Ok` when the form may go
/// ahead.
async fn check_form(
    pages: &Pages,
    visit: &Visit,
    handle: &Handle,
    record: &msn_store::UserRecord,
    errors: Errors,
    current: Retyped<'_>,
) -> Result<(), Response> {
    let page = |errors| account_page(pages, visit, StatusCode::BAD_REQUEST, record, None, errors);
    if !errors.is_empty() {
        return Err(page(errors));
    }
    match verify_password(pages, visit, handle, current.password, BACK).await {
        PasswordCheck::Valid { .. } => Ok(()),
        PasswordCheck::Invalid => Err(page(Errors::one(current.field, current.wrong))),
        PasswordCheck::Refused(response) => Err(response),
    }
}

/// After a password change: this visit's session goes on with the new
/// hash, the account's other page sessions end.
async fn refresh_session(pages: &Pages, visit: &Visit, handle: &Handle) {
    let Some(token) = &visit.session else {
        return;
    };
    match pages.ctx.store.user(handle.as_str()).await {
        Ok(Some(record)) => pages
            .sessions
            .password_changed(token, handle, record.password_hash),
        _ => pages.sessions.remove_account(handle),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DeleteForm {
    csrf: String,
    delete_password: String,
    really: Option<String>,
}

impl HasToken for DeleteForm {
    fn token(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/delete`: the current password and the confirmation box;
/// through `accounts::delete`. Every page session of the account ends.
pub(super) async fn delete(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut visit = Visit::new(&headers, peer.ip());
    let form: DeleteForm = match read_form(&pages, &visit, &headers, body, BACK).await {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let (session, record) = match require_session(&pages, &mut visit).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut errors = Errors::default();
    if form.delete_password.is_empty() {
        errors.add("delete_password", "Enter your current password.");
    }
    if form.really.as_deref() != Some("yes") {
        errors.add(
            "really",
            "Tick the box to confirm that the account is to be deleted.",
        );
    }
    let current = Retyped {
        field: "delete_password",
        password: &form.delete_password,
        wrong: "The password is not right.",
    };
    if let Err(response) =
        check_form(&pages, &visit, &session.handle, &record, errors, current).await
    {
        return response;
    }
    match accounts::delete(&*pages.ctx.store, session.handle.as_str()).await {
        Ok(()) | Err(AccountError::NoSuchAccount(_)) => {
            info!(handle = %session.handle, ip = %visit.ip, "account deleted on the account page");
            pages.sessions.remove_account(&session.handle);
            visit.set_session(None);
            visit.redirect("/account?done=deleted")
        }
        Err(e) => {
            warn!(handle = %session.handle, error = %e, "account deletion failed");
            visit.failed(BACK)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SignOutForm {
    csrf: String,
}

impl HasToken for SignOutForm {
    fn token(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/sign-out`: ends this page session (Messenger stays
/// signed in).
pub(super) async fn sign_out(
    State(pages): State<Arc<Pages>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut visit = Visit::new(&headers, peer.ip());
    if let Err(refused) = read_form::<SignOutForm>(&pages, &visit, &headers, body, BACK).await {
        return *refused;
    }
    if let Some(token) = &visit.session {
        pages.sessions.remove(token);
    }
    visit.set_session(None);
    visit.redirect("/account?done=signed-out")
}
