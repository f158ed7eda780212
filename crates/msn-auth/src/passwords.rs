//! Checking passwords against their argon2 hashes, for every login that
//! sends one (Passport 1.4's `login2.srf`, RST.srf, the NS's `USR CTP`).
//!
//! A check costs tens of milliseconds of CPU and, at the default cost,
//! 19 MiB of work memory. [`PasswordVerifier`] bounds both: at most
//! `max_running` checks run at once (on the blocking thread pool, each with
//! one of at most `max_running` reused [`HashMemory`] buffers), and at most
//! `max_waiting` more wait for their turn. A login beyond that is refused
//! at once ([`Busy`]) instead of queueing: under a flood of guesses, an
//! unbounded queue only makes every login, honest ones included, wait
//! longer, while each waiting request holds a connection and its memory.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use msn_core::password::{HashCost, HashMemory, hash_password, needs_rehash};
use tokio::sync::Semaphore;

/// Too many logins are already being checked or waiting: try again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many logins are waiting for a password check")]
pub struct Busy;

/// Bounded, memory-reusing password checks; one per process, shared by the
/// HTTP logins and the NS. See the module documentation.
pub struct PasswordVerifier {
    running: Arc<Semaphore>,
    max_admitted: usize,
    state: Arc<Mutex<Pool>>,
}

/// Checks admitted (running or waiting) and the work memory not in use.
#[derive(Default)]
struct Pool {
    admitted: usize,
    free: Vec<HashMemory>,
}

impl PasswordVerifier {
    /// `max_running` checks at once (at least one), and up to
    /// `max_waiting` more waiting for them.
    pub fn new(max_running: usize, max_waiting: usize) -> PasswordVerifier {
        let max_running = max_running.max(1);
        PasswordVerifier {
            running: Arc::new(Semaphore::new(max_running)),
            max_admitted: max_running.saturating_add(max_waiting),
            state: Arc::default(),
        }
    }

    /// A place among the checks running or waiting, or [`Busy`] when they
    /// are all taken. Never waits. The place is given back when the
    /// [`Admission`] is dropped, or when the check it is used for ends.
    pub fn try_admit(&self) -> Result<Admission, Busy> {
        let mut pool = lock(&self.state);
        if pool.admitted >= self.max_admitted {
            return Err(Busy);
        }
        pool.admitted += 1;
        Ok(Admission {
            running: self.running.clone(),
            state: self.state.clone(),
        })
    }

    /// Whether one of `candidates` is the password `phc` is the hash of.
    /// [`Busy`] at once if too many checks are running or waiting.
    pub async fn verify(&self, candidates: Vec<String>, phc: String) -> Result<bool, Busy> {
        Ok(self.try_admit()?.verify(candidates, phc).await)
    }

    /// [`Admission::verify_rehashing`] with an admission taken here.
    pub async fn verify_rehashing(
        &self,
        candidates: Vec<String>,
        phc: String,
        cost: HashCost,
    ) -> Result<Verdict, Busy> {
        Ok(self
            .try_admit()?
            .verify_rehashing(candidates, phc, cost)
            .await)
    }

    /// Work memory kept for the next checks. It is kept only while checks
    /// are admitted: when the last one ends, it goes back to the allocator
    /// (and so to the system), so an idle server holds none.
    pub fn pooled_bytes(&self) -> usize {
        lock(&self.state)
            .free
            .iter()
            .map(HashMemory::capacity_bytes)
            .sum()
    }
}

/// What a password check found.
#[derive(Clone, PartialEq, Eq)]
pub struct Verdict {
    /// One of the candidates is the password.
    pub matched: bool,
    /// It matched a hash that is not argon2id (an account imported from
    /// Escargot): the argon2id hash of that password, for the caller to
    /// store in its place (`Store::replace_password_hash`).
    pub rehashed: Option<String>,
}

impl std::fmt::Debug for Verdict {
    /// Never prints the hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdict")
            .field("matched", &self.matched)
            .field("rehashed", &self.rehashed.is_some())
            .finish()
    }
}

/// A check's place in a [`PasswordVerifier`]; see
/// [`PasswordVerifier::try_admit`].
pub struct Admission {
    running: Arc<Semaphore>,
    state: Arc<Mutex<Pool>>,
}

impl Admission {
    /// Waits for a turn, then checks the candidates on the blocking thread
    /// pool with pooled work memory. A task panic counts as no match.
    ///
    /// The admission and the turn move into the blocking task: a client
    /// that disconnects while its hash is computed cannot free them early.
    pub async fn verify(self, candidates: Vec<String>, phc: String) -> bool {
        self.check(candidates, phc, None).await.matched
    }

    /// [`verify`](Admission::verify), and when the password matched a
    /// hash that [`needs_rehash`], also its argon2id hash at `cost`,
    /// computed in the same turn: the one place a foreign hash is upgraded
    /// at sign-in. Failing to hash only leaves `rehashed` empty.
    pub async fn verify_rehashing(
        self,
        candidates: Vec<String>,
        phc: String,
        cost: HashCost,
    ) -> Verdict {
        self.check(candidates, phc, Some(cost)).await
    }

    async fn check(self, candidates: Vec<String>, phc: String, cost: Option<HashCost>) -> Verdict {
        let no = Verdict {
            matched: false,
            rehashed: None,
        };
        let Ok(turn) = self.running.clone().acquire_owned().await else {
            // The semaphore is never closed.
            return no;
        };
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let mut memory = lock(&self.state).free.pop().unwrap_or_default();
            let matched = candidates.iter().find(|pw| memory.verify(pw, &phc));
            lock(&self.state).free.push(memory);
            let rehashed = match (matched, cost) {
                (Some(pw), Some(cost)) if needs_rehash(&phc) => hash_password(pw, cost).ok(),
                _ => None,
            };
            drop(self);
            Verdict {
                matched: matched.is_some(),
                rehashed,
            }
        })
        .await
        .unwrap_or(no)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let idle = {
            let mut pool = lock(&self.state);
            pool.admitted -= 1;
            if pool.admitted == 0 {
                std::mem::take(&mut pool.free)
            } else {
                Vec::new()
            }
        };
        // Freed outside the lock: returning 19 MiB to the system is not free.
        drop(idle);
    }
}

/// The pool stays consistent whatever panicked while holding it.
fn lock(state: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use msn_core::password::{HashCost, hash_password};

    use super::*;

    #[tokio::test]
    async fn foreign_hashes_are_rehashed_when_they_match() {
        use base64::Engine as _;
        let verifier = PasswordVerifier::new(1, 1);
        let cost = HashCost::insecure_for_tests();
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), 32 bytes.
        let digest: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        let escargot = format!(
            "pbkdf2_sha256$1$salt${}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        let v = verifier
            .verify_rehashing(
                vec!["wrong".into(), "passwd".into()],
                escargot.clone(),
                cost,
            )
            .await
            .unwrap();
        assert!(v.matched);
        let new = v.rehashed.expect("re-hashed");
        assert!(new.starts_with("$argon2id$"));
        assert!(
            verifier
                .verify(vec!["passwd".into()], new.clone())
                .await
                .unwrap()
        );
        let wrong = verifier
            .verify_rehashing(vec!["nope".into()], escargot, cost)
            .await
            .unwrap();
        assert_eq!((wrong.matched, wrong.rehashed), (false, None));
        let current = verifier
            .verify_rehashing(vec!["passwd".into()], new, cost)
            .await
            .unwrap();
        assert_eq!((current.matched, current.rehashed), (true, None));
    }

    #[test]
    fn more_waiters_than_allowed_are_refused_at_once() {
        let verifier = PasswordVerifier::new(2, 3);
        let mut held: Vec<Admission> = (0..5).map(|_| verifier.try_admit().unwrap()).collect();
        assert_eq!(verifier.try_admit().err(), Some(Busy));
        assert_eq!(verifier.try_admit().err(), Some(Busy));
        drop(held.pop());
        let again = verifier.try_admit().unwrap();
        assert_eq!(verifier.try_admit().err(), Some(Busy));
        drop(again);
        drop(held);
        assert_eq!(lock(&verifier.state).admitted, 0);
    }

    #[test]
    fn no_waiting_means_only_the_running_checks() {
        let verifier = PasswordVerifier::new(1, 0);
        let first = verifier.try_admit().unwrap();
        assert_eq!(verifier.try_admit().err(), Some(Busy));
        drop(first);
        assert!(verifier.try_admit().is_ok());
        // At least one check may always run.
        let zero = PasswordVerifier::new(0, 0);
        let only = zero.try_admit().unwrap();
        assert_eq!(zero.try_admit().err(), Some(Busy));
        drop(only);
    }

    #[tokio::test]
    async fn verify_is_refused_while_the_places_are_taken() {
        let phc = hash_password("secret", HashCost::insecure_for_tests()).unwrap();
        let verifier = PasswordVerifier::new(1, 1);
        let a = verifier.try_admit().unwrap();
        let b = verifier.try_admit().unwrap();
        assert_eq!(
            verifier.verify(vec!["secret".into()], phc.clone()).await,
            Err(Busy)
        );
        // An admission runs its check and gives its place back.
        assert!(
            a.verify(vec!["nope".into(), "secret".into()], phc.clone())
                .await
        );
        assert_eq!(
            verifier.verify(vec!["secret".into()], phc.clone()).await,
            Ok(true)
        );
        assert!(!b.verify(vec!["nope".into()], phc.clone()).await);
        assert_eq!(verifier.verify(vec![], phc).await, Ok(false));
    }

    #[tokio::test]
    async fn memory_is_reused_while_busy_and_returned_when_idle() {
        let phc = hash_password("secret", HashCost::insecure_for_tests()).unwrap();
        let verifier = PasswordVerifier::new(1, 4);
        // Another login still admitted: the memory stays for it.
        let waiting = verifier.try_admit().unwrap();
        assert!(
            verifier
                .verify(vec!["secret".into()], phc.clone())
                .await
                .unwrap()
        );
        assert_eq!(verifier.pooled_bytes(), 64 * 1024);
        assert!(
            !verifier
                .verify(vec!["wrong".into()], phc.clone())
                .await
                .unwrap()
        );
        assert_eq!(lock(&verifier.state).free.len(), 1, "one buffer, reused");
        // The last admitted check ends: nothing is kept.
        drop(waiting);
        assert_eq!(verifier.pooled_bytes(), 0);
        assert!(verifier.verify(vec!["secret".into()], phc).await.unwrap());
        assert_eq!(verifier.pooled_bytes(), 0);
    }
}
