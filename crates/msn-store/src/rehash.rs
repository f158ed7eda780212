//! Storing the argon2id hash a login computed for an account whose stored
//! hash was foreign (imported from Escargot; see `msn_core::password`).

use crate::{Store, UserRecord};

/// Replaces `record`'s hash by `new` (the same password, hashed with
/// argon2id) if it has not changed since the login read it. Every login
/// path calls this after a successful check; a failure is logged, not
/// fatal: the old hash still works and the next login tries again.
pub async fn store_rehashed(store: &dyn Store, record: &UserRecord, new: &str) {
    match store
        .replace_password_hash(record.handle.as_str(), &record.password_hash, new)
        .await
    {
        Ok(true) => {
            tracing::info!(handle = %record.handle, "imported password hash replaced by argon2id")
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(handle = %record.handle, error = %e, "cannot store the argon2id hash")
        }
    }
}
