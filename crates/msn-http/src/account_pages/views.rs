//! The pages' HTML: askama templates under `templates/account/`, escaped
//! as HTML. Every input has a label; a field's hint and error are tied to
//! it with `aria-describedby`, and a form with problems starts with a list
//! of them linking to the fields.

use askama::Template;

/// Problems with a form, by field id, in the order of the form.
#[derive(Default)]
pub(crate) struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    pub(crate) fn one(field: &'static str, message: impl Into<String>) -> Errors {
        let mut errors = Errors::default();
        errors.add(field, message);
        errors
    }
}

/// What the sign-up form is filled with again after a problem (never the
/// password).
#[derive(Default)]
pub(crate) struct SignupValues<'a> {
    pub handle: &'a str,
    pub name: &'a str,
    pub invite: &'a str,
    pub legacy_md5: bool,
}

#[derive(Template)]
#[template(path = "account/signup.html")]
pub(crate) struct SignupPage<'a> {
    pub csrf: &'a str,
    pub invite_only: bool,
    pub password_hint: &'a str,
    pub values: SignupValues<'a>,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "account/created.html")]
pub(crate) struct CreatedPage<'a> {
    pub handle: &'a str,
    pub name: &'a str,
    pub legacy_md5: bool,
}

#[derive(Template)]
#[template(path = "account/sign_in.html")]
pub(crate) struct SignInPage<'a> {
    pub csrf: &'a str,
    pub handle: &'a str,
    pub notice: Option<&'a str>,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "account/account.html")]
pub(crate) struct AccountPage<'a> {
    pub csrf: &'a str,
    pub handle: &'a str,
    pub name: &'a str,
    pub legacy_md5: bool,
    pub password_hint: &'a str,
    pub notice: Option<&'a str>,
    pub errors: Errors,
}

/// A request refused as a whole (forged, too many, busy, too large).
#[derive(Template)]
#[template(path = "account/problem.html")]
pub(crate) struct ProblemPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub link_href: &'a str,
    pub link_text: &'a str,
}
