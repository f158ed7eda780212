//! Creating an account, changing its password and deleting it: the one
//! implementation behind `msnd user add|passwd|del` and the sign-up and
//! account pages (`msn_http::account_pages`). The rules (handle, display
//! name, password length) are checked here and nowhere else; every change
//! goes through the [`Store`], whose account change log tells a running
//! server to sign the account's sessions out.

use msn_core::handle::{Handle, HandleError};
use msn_core::password::{HashCost, hash_password};
use msn_core::text::{self, TextError};
use msn_store::{NewUser, Store, StoreError};
use thiserror::Error;

/// Longest password accepted, in bytes: far beyond any real one, short
/// enough that hashing it costs nothing extra.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// What a new account is made of.
pub struct AccountSpec<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// Display name (plain text); defaults to the e-mail address.
    pub name: Option<&'a str>,
    /// Keep the password usable for the MSNP2–MSNP7 MD5 login.
    pub legacy_md5: bool,
}

/// The password rule. The sign-up and account pages use
/// `[signup] min_password_length`; the operator's commands only refuse an
/// empty password ([`PasswordRules::OPERATOR`]): an operator may set what
/// they like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordRules {
    /// Fewest characters.
    pub min_chars: usize,
}

impl PasswordRules {
    /// `msnd user add|passwd`: any non-empty password.
    pub const OPERATOR: PasswordRules = PasswordRules { min_chars: 1 };

    /// Checks `password` against the rule and [`MAX_PASSWORD_BYTES`].
    pub fn check(&self, password: &str) -> Result<(), AccountError> {
        if password.is_empty() {
            return Err(AccountError::EmptyPassword);
        }
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(AccountError::PasswordTooShort {
                min: self.min_chars,
            });
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AccountError::PasswordTooLong {
                max: MAX_PASSWORD_BYTES,
            });
        }
        Ok(())
    }
}

/// Why an account could not be created or changed. The messages are
/// written for the person who typed the value (the web pages show them
/// next to the field, the command line prints them).
#[derive(Debug, Error)]
pub enum AccountError {
    #[error("{input:?} is not a valid sign-in name: {reason}")]
    BadHandle { input: String, reason: HandleError },
    #[error("the password must not be empty")]
    EmptyPassword,
    #[error("the password must have at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the password must have at most {max} bytes")]
    PasswordTooLong { max: usize },
    #[error("the display name {}", name_problem(*.0))]
    BadName(TextError),
    #[error("an account named {0} already exists")]
    Taken(Handle),
    #[error("no account named {0}")]
    NoSuchAccount(Handle),
    #[error("the invitation code is unknown or has been used")]
    BadInvite,
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(StoreError),
}

fn name_problem(e: TextError) -> String {
    match e {
        TextError::TooLong => format!("must have at most {} characters", text::MAX_FRIENDLY_NAME),
        TextError::Invalid => "must not be empty or contain control or \
                               direction-changing characters"
            .to_owned(),
    }
}

/// Parses a sign-in name the way the protocol does.
pub fn parse_handle(email: &str) -> Result<Handle, AccountError> {
    Handle::parse(email).map_err(|reason| AccountError::BadHandle {
        input: email.to_owned(),
        reason,
    })
}

/// Checks a display name (the protocol's rule for friendly names).
pub fn check_name(name: &str) -> Result<(), AccountError> {
    text::validate_name(name, text::MAX_FRIENDLY_NAME).map_err(AccountError::BadName)
}

/// Checks everything [`create`] checks before hashing, so that a form can
/// show every problem at once without creating anything.
pub fn check_new(spec: &AccountSpec<'_>, rules: PasswordRules) -> Result<Handle, AccountError> {
    let handle = parse_handle(spec.email)?;
    rules.check(spec.password)?;
    check_name(spec.name.unwrap_or(handle.as_str()))?;
    Ok(handle)
}

/// Creates an account with an argon2id hash (and, when asked, the password
/// the MD5 login needs); with `invite`, spends that invitation code in the
/// same transaction. Returns the account's id.
pub async fn create(
    store: &dyn Store,
    spec: &AccountSpec<'_>,
    rules: PasswordRules,
    cost: HashCost,
    invite: Option<&str>,
) -> Result<i64, AccountError> {
    let handle = check_new(spec, rules)?;
    let friendly = spec.name.unwrap_or(handle.as_str()).to_owned();
    let user = NewUser {
        handle: handle.clone(),
        friendly_name: friendly,
        password_hash: hash(spec.password, cost).await?,
        legacy_password: spec.legacy_md5.then(|| spec.password.to_owned()),
    };
    let created = match invite {
        Some(code) => store.create_user_with_invite(user, code).await,
        None => store.create_user(user).await,
    };
    created.map_err(|e| match e {
        StoreError::AlreadyExists(_) => AccountError::Taken(handle),
        StoreError::InviteNotValid => AccountError::BadInvite,
        e => AccountError::Store(e),
    })
}

/// Replaces an account's password. `legacy_md5` turns the MD5 login on
/// (`Some(true)`) or off (`Some(false)`); `None` keeps the account's current
/// setting. Returns whether the MD5 login is allowed afterwards. A running
/// server signs the account's sessions out (change log).
pub async fn set_password(
    store: &dyn Store,
    email: &str,
    password: &str,
    legacy_md5: Option<bool>,
    rules: PasswordRules,
    cost: HashCost,
) -> Result<bool, AccountError> {
    let handle = parse_handle(email)?;
    rules.check(password)?;
    let Some(current) = store
        .user(handle.as_str())
        .await
        .map_err(AccountError::Store)?
    else {
        return Err(AccountError::NoSuchAccount(handle));
    };
    let legacy_md5 = legacy_md5.unwrap_or(current.legacy_password.is_some());
    let hash = hash(password, cost).await?;
    let legacy = legacy_md5.then(|| password.to_owned());
    if !store
        .set_password(handle.as_str(), hash, legacy)
        .await
        .map_err(AccountError::Store)?
    {
        return Err(AccountError::NoSuchAccount(handle));
    }
    Ok(legacy_md5)
}

/// Deletes an account and its lists; a running server signs its sessions
/// out (change log).
pub async fn delete(store: &dyn Store, email: &str) -> Result<(), AccountError> {
    let handle = parse_handle(email)?;
    if store
        .delete_user(handle.as_str())
        .await
        .map_err(AccountError::Store)?
    {
        Ok(())
    } else {
        Err(AccountError::NoSuchAccount(handle))
    }
}

/// argon2id on the blocking pool (it takes tens of milliseconds at the
/// default cost).
async fn hash(password: &str, cost: HashCost) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password, cost))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .map_err(AccountError::Hashing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        let rules = PasswordRules { min_chars: 8 };
        assert!(matches!(rules.check(""), Err(AccountError::EmptyPassword)));
        assert!(matches!(
            rules.check("short"),
            Err(AccountError::PasswordTooShort { min: 8 })
        ));
        // Characters, not bytes.
        assert!(rules.check("ééééééé").is_err());
        assert!(rules.check("éééééééé").is_ok());
        assert!(matches!(
            rules.check(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(AccountError::PasswordTooLong { .. })
        ));
        assert!(PasswordRules::OPERATOR.check("x").is_ok());
    }

    #[test]
    fn new_accounts_are_checked_before_hashing() {
        let spec = |email, name| AccountSpec {
            email,
            password: "long enough",
            name,
            legacy_md5: false,
        };
        let rules = PasswordRules { min_chars: 8 };
        assert!(matches!(
            check_new(&spec("not an address", None), rules),
            Err(AccountError::BadHandle { .. })
        ));
        assert!(matches!(
            check_new(&spec("a@b.example", Some("bad\u{202e}name")), rules),
            Err(AccountError::BadName(TextError::Invalid))
        ));
        assert_eq!(
            check_new(&spec("Alice@Example.COM", Some("Alice")), rules)
                .unwrap()
                .as_str(),
            "alice@example.com"
        );
    }
}
