//! Telling watchers about a user's presence (msnp2-7.md §6.3).
//!
//! A change (status, name, privacy, allow/block lists) is handled in three
//! steps: record who could see the user before, apply the change, record
//! who can see them after; then each watcher who can see the user gets
//! `NLN` (if anything they see changed), and each who could but no longer
//! can gets `FLN`.

use std::sync::Arc;

use msn_core::handle::Handle;
use msn_wire::vocab::{ListKind, Status};

use crate::hub::{Hub, NsEvent, PresenceNotice, UserState};

/// Who can see a user at one moment: (watcher, visible) for every handle on
/// the user's reverse list, sorted by handle.
pub struct Visibility(Vec<(Handle, bool)>);

impl Visibility {
    pub fn of(state: &UserState) -> Visibility {
        Visibility(
            state
                .account
                .on_list(ListKind::Reverse)
                .map(|c| (c.handle.clone(), state.visible_to(c.handle.as_str())))
                .collect(),
        )
    }

    fn get(&self, handle: &Handle) -> bool {
        self.0
            .binary_search_by(|(h, _)| h.cmp(handle))
            .map(|i| self.0[i].1)
            .unwrap_or(false)
    }
}

/// Sends the difference between `before` and `after` to the watchers.
/// `changed`: whether the presence itself (status, name, capabilities,
/// MSNObject) changed, so that watchers who keep seeing it need an `NLN`.
pub fn announce(
    hub: &Hub,
    notice: &Arc<PresenceNotice>,
    before: &Visibility,
    after: &Visibility,
    changed: bool,
) {
    let mut offline: Option<Arc<PresenceNotice>> = None;
    for (watcher, now) in &after.0 {
        let was = before.get(watcher);
        let event = match (was, *now) {
            (_, true) if changed || !was => NsEvent::Presence(notice.clone()),
            (true, false) => NsEvent::Presence(
                offline
                    .get_or_insert_with(|| {
                        Arc::new(PresenceNotice {
                            status: Status::Offline,
                            ..(**notice).clone()
                        })
                    })
                    .clone(),
            ),
            _ => continue,
        };
        let _ = hub.deliver_live(watcher.as_str(), event);
    }
}
