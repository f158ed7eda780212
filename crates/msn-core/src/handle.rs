//! User handles (Passport names): e-mail addresses, compared without regard
//! to case and stored and echoed in lower case.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use thiserror::Error;

/// Longest accepted handle in bytes.
pub const MAX_HANDLE_LEN: usize = 128;

/// A validated, lower-cased handle. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(Arc<str>);

/// Why a string is not a handle; each maps to a protocol error code.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum HandleError {
    /// Not an e-mail address (`201` on the NS, `208` on the SB).
    #[error("malformed handle")]
    Malformed,
    /// `name@` — the domain part is missing (`206`).
    #[error("handle lacks a domain")]
    MissingDomain,
}

impl Handle {
    /// Validates and lower-cases `raw`.
    pub fn parse(raw: &str) -> Result<Handle, HandleError> {
        if raw.is_empty() || raw.len() > MAX_HANDLE_LEN || !raw.is_ascii() {
            return Err(HandleError::Malformed);
        }
        let lower = raw.to_ascii_lowercase();
        let (local, domain) = lower.split_once('@').ok_or(HandleError::Malformed)?;
        if domain.is_empty() {
            return Err(HandleError::MissingDomain);
        }
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !(local_ok && domain_ok) {
            return Err(HandleError::Malformed);
        }
        Ok(Handle(lower.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }

    /// The same handle sharing its text with every other interned copy.
    /// Online users' lists name the same people over and over (A is on B's
    /// list and B on A's); interning keeps one copy of each handle instead
    /// of one per list entry.
    pub fn interned(self) -> Handle {
        INTERNER.intern(self)
    }
}

/// Shards of interned handle texts.
struct Interner {
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    set: HashSet<Arc<str>>,
    /// Size after the last sweep; a sweep runs when the set doubles.
    swept_at: usize,
}

static INTERNER: LazyLock<Interner> = LazyLock::new(|| Interner {
    shards: (0..16).map(|_| Mutex::new(Shard::default())).collect(),
});

impl Interner {
    fn intern(&self, handle: Handle) -> Handle {
        let h = handle.0.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        let mut shard = self.shards[h % self.shards.len()]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = shard.set.get(&*handle.0) {
            return Handle(existing.clone());
        }
        if shard.set.len() >= 2 * shard.swept_at.max(64) {
            // Drop texts nobody uses any more (only the set holds them).
            shard.set.retain(|s| Arc::strong_count(s) > 1);
            shard.swept_at = shard.set.len();
        }
        shard.set.insert(handle.0.clone());
        handle
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", &self.0)
    }
}

impl Borrow<str> for Handle {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Handle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases() {
        let h = Handle::parse("Alice.Smith+msn@Hotmail.COM").unwrap();
        assert_eq!(h.as_str(), "alice.smith+msn@hotmail.com");
        assert_eq!(
            Handle::parse("bob@hotmail.com").unwrap(),
            Handle::parse("BOB@hotmail.com").unwrap()
        );
    }

    #[test]
    fn interned_handles_share_their_text() {
        let a = Handle::parse("share@example.com").unwrap().interned();
        let b = Handle::parse("SHARE@example.com").unwrap().interned();
        assert_eq!(a, b);
        assert!(Arc::ptr_eq(&a.0, &b.0));
    }

    #[test]
    fn rejects_bad_handles() {
        for bad in [
            "a@b",
            "carol",
            "@@a",
            "@hotmail.com",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "ä@b.com",
            ".a@b.com",
            "",
        ] {
            assert_eq!(Handle::parse(bad), Err(HandleError::Malformed), "{bad}");
        }
        assert_eq!(Handle::parse("name@"), Err(HandleError::MissingDomain));
        let long = format!("{}@example.com", "a".repeat(130));
        assert_eq!(Handle::parse(&long), Err(HandleError::Malformed));
    }
}
