//! Who may see whom (msnp2-7.md §6.2): a watcher sees a target when the
//! target is signed in and not hidden, the watcher is not on the target's
//! block list, and the target's privacy mode or allow list lets it in.

use msn_wire::vocab::{Privacy, Status};

use crate::account::lists;

/// Whether a target with `privacy` admits a watcher whose entry in the
/// target's lists has `watcher_bits` (0 when the watcher is on none).
pub fn admits(privacy: Privacy, watcher_bits: u8) -> bool {
    watcher_bits & lists::BL == 0 && (privacy == Privacy::AllowAll || watcher_bits & lists::AL != 0)
}

/// Full visibility: the target must also be in a visible status.
pub fn visible(status: Status, privacy: Privacy, watcher_bits: u8) -> bool {
    status.is_visible() && admits(privacy, watcher_bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lists::{AL, BL, FL, RL};

    #[test]
    fn visibility_table() {
        assert!(admits(Privacy::AllowAll, 0));
        assert!(admits(Privacy::AllowAll, RL | FL));
        assert!(!admits(Privacy::AllowAll, BL));
        assert!(!admits(Privacy::BlockAll, RL));
        assert!(admits(Privacy::BlockAll, AL | RL));
        assert!(!admits(Privacy::BlockAll, BL | RL));
        assert!(!visible(Status::Hidden, Privacy::AllowAll, AL));
        assert!(visible(Status::Idle, Privacy::BlockAll, AL));
    }
}
