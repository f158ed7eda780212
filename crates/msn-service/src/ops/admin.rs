//! What operators do to a running server (`msnd admin`, through the
//! HTTP admin API): see who is online, sign a user out, tell everyone
//! something. Disabling an account is the store's
//! ([`msn_store::Store::set_disabled`]) followed by [`Service::end_sessions`].

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use msn_core::handle::Handle;
use msn_wire::Dialect;
use msn_wire::vocab::Status;
use tracing::info;

use crate::Service;
use crate::event::{Event, KickReason};

/// A signed-in user as an operator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineEntry {
    pub handle: Handle,
    /// The presence watchers are shown (merged over the endpoints).
    pub status: Status,
    /// The dialect of each NS endpoint (one per machine on MSNP16+).
    pub endpoints: Vec<Dialect>,
}

/// Numbers the operator notices (`<NOTIFICATION id>`), per process.
static NOTICE_ID: AtomicU32 = AtomicU32::new(1);

impl Service {
    /// The users with at least one NS endpoint on this node, by handle.
    /// Accounts attached only for a SOAP call or a switchboard connection
    /// are not "online".
    pub fn online_users(&self) -> Vec<OnlineEntry> {
        let mut users: Vec<OnlineEntry> = self
            .directory
            .users()
            .into_iter()
            .filter_map(|u| {
                let st = u.loaded()?;
                if st.endpoints.is_empty() {
                    return None;
                }
                Some(OnlineEntry {
                    handle: u.handle.clone(),
                    status: st.notice().status,
                    endpoints: st.endpoints.iter().map(|e| e.dialect).collect(),
                })
            })
            .collect();
        users.sort_by(|a, b| a.handle.as_str().cmp(b.handle.as_str()));
        users
    }

    /// Signs every session of `handle` out (`OUT OTH`); false if the user
    /// was not signed in. They may sign in again: to keep them out,
    /// disable the account.
    pub async fn kick(&self, handle: &Handle) -> bool {
        let delivered = self
            .bus
            .publish(handle, Event::Kick(KickReason::Operator))
            .await
            .is_ok();
        if delivered {
            info!(user = %handle, "signed out by an operator");
        }
        delivered
    }

    /// Shows `text` to every signed-in user whose client can show an MSN
    /// Alert (MSN Messenger 3.0 / MSNP5 and later; older clients have no
    /// way to show one); `url` opens when it is clicked. Returns how many
    /// users were sent it.
    pub async fn broadcast_notice(&self, text: &str, url: &str) -> usize {
        let id = NOTICE_ID.fetch_add(1, Ordering::Relaxed);
        let mut told = 0;
        for user in self.directory.users() {
            let reachable = user
                .loaded()
                .is_some_and(|st| st.endpoints.iter().any(|e| e.dialect.has_msnp5_commands()));
            if !reachable {
                continue;
            }
            let puid = msn_core::ids::puid(user.user_id());
            let document =
                msn_wire::ns::cmd::not::alert_document(id, user.handle.as_str(), puid, text, url);
            if self.alert(&user.handle, Bytes::from(document)).await {
                told += 1;
            }
        }
        info!(users = told, "operator notice sent");
        told
    }
}
