//! Telling watchers about a user's presence (msnp2-7.md §6.3).
//!
//! A change (status, name, privacy, allow/block lists, an endpoint coming
//! or going) is handled in three steps: record who could see the user
//! before, apply the change, record who can see them after; then each
//! watcher who can see the user gets the new presence (if anything they see
//! changed), and each who could but no longer can gets it as offline.

use std::sync::Arc;

use msn_core::handle::Handle;

use crate::bus::Bus;
use crate::event::{Event, PresenceNotice};
use crate::user::UserState;

/// Who can see a user at one moment: (watcher, visible) for every handle on
/// the user's reverse list, sorted by handle.
pub struct Visibility(Vec<(Handle, bool)>);

impl Visibility {
    pub fn of(state: &UserState) -> Visibility {
        Visibility(
            state
                .watchers()
                .map(|w| (w.clone(), state.visible_to(w.as_str())))
                .collect(),
        )
    }

    /// Nobody sees the user (before a first announcement).
    pub fn none() -> Visibility {
        Visibility(Vec::new())
    }

    fn get(&self, handle: &Handle) -> bool {
        self.0
            .binary_search_by(|(h, _)| h.cmp(handle))
            .map(|i| self.0[i].1)
            .unwrap_or(false)
    }

    /// The watchers who can see the user.
    pub fn seeing(&self) -> impl Iterator<Item = &Handle> {
        self.0.iter().filter(|(_, v)| *v).map(|(h, _)| h)
    }
}

/// Sends the difference between `before` and `after` to the watchers.
/// `changed`: whether the presence itself (status, name, capabilities,
/// MSNObject) changed, so that watchers who keep seeing it need an update.
pub async fn announce(
    bus: &dyn Bus,
    notice: &Arc<PresenceNotice>,
    before: &Visibility,
    after: &Visibility,
    changed: bool,
) {
    let mut offline: Option<Arc<PresenceNotice>> = None;
    for (watcher, now) in &after.0 {
        let was = before.get(watcher);
        let shown = match (was, *now) {
            (_, true) if changed || !was => notice.clone(),
            (true, false) => offline
                .get_or_insert_with(|| Arc::new(notice.offline()))
                .clone(),
            _ => continue,
        };
        let _ = bus.publish(watcher, Event::Presence(shown)).await;
    }
}
