//! Account administration for `msnd user …` and the tests: the rules and
//! the changes are `msn_service::accounts`, which the sign-up and account
//! pages use too; here they run with the operator's password rule
//! ([`PasswordRules::OPERATOR`]: any non-empty password).

use msn_core::password::HashCost;
use msn_service::accounts::PasswordRules;
use msn_store::Store;

pub use msn_service::accounts::{AccountError, AccountSpec};

/// Creates an account with an argon2id hash (and, when asked, the password
/// the MD5 login needs).
pub async fn create(
    store: &dyn Store,
    spec: &AccountSpec<'_>,
    cost: HashCost,
) -> anyhow::Result<i64> {
    Ok(msn_service::accounts::create(store, spec, PasswordRules::OPERATOR, cost, None).await?)
}

/// Replaces an account's password. `legacy_md5` turns the MD5 login on
/// (`Some(true)`) or off (`Some(false)`); `None` keeps the account's current
/// setting. Returns whether the MD5 login is allowed afterwards.
pub async fn set_password(
    store: &dyn Store,
    email: &str,
    password: &str,
    legacy_md5: Option<bool>,
    cost: HashCost,
) -> anyhow::Result<bool> {
    Ok(msn_service::accounts::set_password(
        store,
        email,
        password,
        legacy_md5,
        PasswordRules::OPERATOR,
        cost,
    )
    .await?)
}

/// Deletes an account and its lists.
pub async fn delete(store: &dyn Store, email: &str) -> anyhow::Result<()> {
    Ok(msn_service::accounts::delete(store, email).await?)
}

/// `count` new invitation codes for the sign-up page, stored unused.
pub async fn create_invites(store: &dyn Store, count: usize) -> anyhow::Result<Vec<String>> {
    let codes: Vec<String> = (0..count).map(|_| msn_core::ids::invite_code()).collect();
    store.add_invites(&codes).await?;
    Ok(codes)
}
