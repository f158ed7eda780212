//! Account administration shared by `msnd user …` and the tests.

use anyhow::{Context as _, bail};
use msn_core::handle::Handle;
use msn_core::password::{HashCost, hash_password};
use msn_core::text;
use msn_store::{NewUser, Store};

/// What `msnd user add` needs.
pub struct AccountSpec<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// Display name (plain text); defaults to the e-mail address.
    pub name: Option<&'a str>,
    /// Keep the password usable for the MSNP2–MSNP7 MD5 login.
    pub legacy_md5: bool,
}

/// Creates an account with an argon2id hash (and, when asked, the password
/// the MD5 login needs).
pub async fn create(
    store: &dyn Store,
    spec: &AccountSpec<'_>,
    cost: HashCost,
) -> anyhow::Result<i64> {
    let handle = Handle::parse(spec.email).map_err(|e| anyhow::anyhow!("{}: {e}", spec.email))?;
    if spec.password.is_empty() {
        bail!("the password must not be empty");
    }
    let friendly = spec.name.unwrap_or(handle.as_str()).to_owned();
    text::validate_name(&friendly, text::MAX_FRIENDLY_NAME)
        .map_err(|e| anyhow::anyhow!("friendly name: {e}"))?;
    let password = spec.password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password, cost))
        .await?
        .map_err(anyhow::Error::msg)?;
    let id = store
        .create_user(NewUser {
            handle,
            friendly_name: friendly,
            password_hash: hash,
            legacy_password: spec.legacy_md5.then(|| spec.password.to_owned()),
        })
        .await
        .context("cannot create the account")?;
    Ok(id)
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
    let handle = Handle::parse(email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
    if password.is_empty() {
        bail!("the password must not be empty");
    }
    let Some(current) = store.user(handle.as_str()).await? else {
        bail!("no account named {handle}");
    };
    let legacy_md5 = legacy_md5.unwrap_or(current.legacy_password.is_some());
    let owned = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&owned, cost))
        .await?
        .map_err(anyhow::Error::msg)?;
    let legacy = legacy_md5.then(|| password.to_owned());
    if !store.set_password(handle.as_str(), hash, legacy).await? {
        bail!("no account named {handle}");
    }
    Ok(legacy_md5)
}
