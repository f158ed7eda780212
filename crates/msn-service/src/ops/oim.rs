//! Offline messages (OIM, MSNP13+): a message for a user who is not
//! signed in is kept in the store until the recipient's client fetches
//! and deletes it. Sending checks the same privacy rule as presence and
//! invitations (`Account::admits`): a recipient that blocks the sender, or
//! admits only its allow list without them on it, gets nothing, and the
//! sender is refused as for an unknown address, so that a block is not
//! revealed.
//!
//! The recipient's MSNP13+ endpoints hear of a new message
//! ([`Event::OfflineMessage`]) and of deletions
//! ([`Event::OfflineMessagesDeleted`]); older dialects have no way to show
//! them, and their messages simply wait for a WLM sign-in.

use std::sync::Arc;

use msn_core::handle::Handle;
use msn_store::{NewOim, OimAdded, StoreError, StoredOim};
use tracing::{info, warn};
use uuid::Uuid;

use crate::event::Event;
use crate::{OpError, Service, storage};

/// Limits on offline messages, from the configuration (`[oim]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OimLimits {
    /// Largest text accepted, in bytes of UTF-8.
    pub max_message_bytes: usize,
    /// Messages kept waiting for one recipient.
    pub max_waiting: usize,
}

impl Default for OimLimits {
    fn default() -> Self {
        OimLimits {
            max_message_bytes: 4096,
            max_waiting: 1000,
        }
    }
}

/// An offline message as the sender's client wrote it.
#[derive(Clone, Debug)]
pub struct OfflineMessage {
    /// The sender's display name (decoded text).
    pub sender_name: String,
    pub text: String,
    /// The sending client's run id and the message's number in the run.
    pub run_id: Uuid,
    pub sequence_num: u32,
    /// The sending client's address.
    pub origin: String,
}

/// Why an offline message was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OimRefused {
    /// No such account, or it does not admit the sender (the two are not
    /// told apart to the sender).
    Undeliverable,
    /// Longer than [`OimLimits::max_message_bytes`].
    TooLarge,
    /// The recipient has [`OimLimits::max_waiting`] messages waiting.
    RecipientFull,
    /// The store failed; nothing was stored.
    Storage,
}

impl Service {
    /// Stores `message` from `sender` for `recipient` and, when the
    /// recipient is signed in, tells their MSNP13+ endpoints. Returns
    /// after the store committed.
    pub async fn send_offline_message(
        &self,
        sender: &Handle,
        recipient: &Handle,
        message: OfflineMessage,
    ) -> Result<Arc<StoredOim>, OimRefused> {
        if message.text.len() > self.settings.oim.max_message_bytes {
            return Err(OimRefused::TooLarge);
        }
        let record = self
            .store
            .user(recipient.as_str())
            .await
            .map_err(|e| {
                warn!(error = %e, "offline message: recipient lookup failed");
                OimRefused::Storage
            })?
            .ok_or(OimRefused::Undeliverable)?;
        // The recipient's account as their sessions see it (loaded for the
        // check if nobody has it loaded), so that a block just made is
        // honoured.
        let admits = {
            let actor = self
                .account_actor(recipient, record.id)
                .await
                .map_err(|_| OimRefused::Storage)?;
            actor.state().account.admits(sender.as_str())
        };
        if !admits {
            info!(from = %sender, to = %recipient, "offline message refused by the recipient's privacy");
            return Err(OimRefused::Undeliverable);
        }
        let oim = NewOim {
            id: Uuid::new_v4(),
            recipient_id: record.id,
            sender: sender.clone(),
            sender_name: message.sender_name,
            run_id: message.run_id,
            sequence_num: message.sequence_num,
            origin: message.origin,
            received_at: unix_now(),
            text: message.text,
        };
        let stored = Arc::new(oim.listed());
        match self.store.add_oim(oim, self.settings.oim.max_waiting).await {
            Ok(OimAdded::Stored { waiting }) => {
                info!(from = %sender, to = %recipient, waiting, "offline message stored");
            }
            Ok(OimAdded::RecipientFull) => return Err(OimRefused::RecipientFull),
            Err(StoreError::NoSuchUser(_)) => return Err(OimRefused::Undeliverable),
            Err(e) => {
                warn!(error = %e, "offline message could not be stored");
                return Err(OimRefused::Storage);
            }
        }
        // Offline recipients simply find it at their next sign-in.
        let _ = self
            .bus
            .publish(recipient, Event::OfflineMessage(stored.clone()))
            .await;
        Ok(stored)
    }

    /// The offline messages waiting for account `user_id`, in arrival
    /// order, without their text.
    pub async fn offline_messages(&self, user_id: i64) -> Result<Vec<StoredOim>, OpError> {
        self.store.oims(user_id).await.map_err(storage)
    }

    /// One of account `user_id`'s offline messages, with its text.
    pub async fn offline_message(
        &self,
        user_id: i64,
        id: Uuid,
    ) -> Result<Option<StoredOim>, OpError> {
        self.store.oim(user_id, id).await.map_err(storage)
    }

    /// Deletes those of `ids` that are `handle`'s (account `user_id`) and
    /// tells the user's MSNP13+ endpoints how many went; returns that
    /// number.
    pub async fn delete_offline_messages(
        &self,
        handle: &Handle,
        user_id: i64,
        ids: &[Uuid],
    ) -> Result<usize, OpError> {
        let deleted = self
            .store
            .delete_oims(user_id, ids)
            .await
            .map_err(storage)?;
        if deleted > 0 {
            let _ = self
                .bus
                .publish(handle, Event::OfflineMessagesDeleted { count: deleted })
                .await;
        }
        Ok(deleted)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
