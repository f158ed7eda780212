//! Acting for an account without a session: the SOAP services (storage
//! today) authenticate a call by a bearer token for the account, not by a
//! signed-in endpoint, yet must change the account through the same
//! operations as the NS — so that a name set over SOAP is committed,
//! mirrored in the memory of the user's NS sessions and announced to
//! watchers exactly like `PRP MFN`.

use std::ops::Deref;
use std::sync::Arc;

use msn_core::handle::Handle;
use msn_wire::Dialect;
use tracing::warn;

use crate::directory::Directory;
use crate::{Actor, OpError, Service};

/// An [`Actor`] for account `handle` that is no endpoint: it attaches the
/// account in the directory (sharing the loaded state with the user's
/// sessions, loading it when there are none) and detaches it when dropped,
/// also when the request that holds it is abandoned. Watchers see what
/// the account's endpoints show; with none, the user is offline and an
/// edit reaches nobody's screen, only the store.
pub struct AccountActor {
    actor: Actor,
    directory: Arc<Directory>,
}

impl Deref for AccountActor {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

impl Drop for AccountActor {
    fn drop(&mut self) {
        self.directory.detach(&self.actor.user);
    }
}

impl Service {
    /// An actor for account `user_id`/`handle`, as its dialect `dialect`
    /// reads list arguments. The endpoint id is fresh and never signed
    /// in, so nothing is rendered for it.
    pub async fn act_for_account(
        &self,
        handle: &Handle,
        user_id: i64,
        dialect: Dialect,
    ) -> Result<AccountActor, OpError> {
        let user = self.directory.attach(handle, user_id);
        let guard = AccountActor {
            actor: Actor {
                user,
                endpoint: self.directory.next_conn_id(),
                dialect,
            },
            directory: self.directory.clone(),
        };
        if let Err(e) = guard.actor.user.state(&*self.store).await {
            warn!(error = %e, "could not load account");
            return Err(OpError::Storage);
        }
        Ok(guard)
    }
}
