//! Tokens issued by the login services (Passport 1.4's `login2.srf`,
//! RST.srf) and presented elsewhere: the Messenger login ticket on
//! `USR TWN S`, bearer tokens to the SOAP services (address book,
//! storage, …).
//!
//! A token is a random string (`t=…&p=…`, the Passport compact ticket's
//! shape) that stands for a [`Grant`]: whose it is, which service it is for
//! ([`Audience`]), whether it can be used once or until it expires, and,
//! for MSNP15's `USR SSO` later, the proof key sent with it. Services see
//! them through the [`TokenService`] trait; [`MemoryTokens`] keeps them in
//! memory.
//!
//! The crate also holds the server's admission rules, which every
//! listener and login path shares: [`throttle`] (failed-login throttling
//! per address and per account) and [`gate`] (connection slots, in all
//! and per address), with the address keys and exempt networks they use
//! ([`address`]). Like the tokens, they are in memory and do no I/O.
//!
//! Before a token is issued, the password is checked: [`PasswordVerifier`]
//! ([`passwords`]) runs those argon2 checks with bounded concurrency,
//! waiting and memory, for every service that takes a password.

#![forbid(unsafe_code)]

pub mod address;
pub mod circle_ticket;
pub mod gate;
pub mod passwords;
pub mod sso;
pub mod throttle;

pub use address::{Exempt, address_key};
pub use gate::{ConnectionGate, GateSettings, GateStats, Refusal, Slot};
pub use passwords::{Admission, Busy, PasswordVerifier, Verdict};
pub use throttle::{LoginThrottle, Scope, ThrottleSettings, ThrottleStats, Throttled};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use msn_core::handle::Handle;

/// The service a token may be presented to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Signing in to the Notification Server (`USR TWN S`; later
    /// `USR SSO`): Passport 1.4 tickets and RST.srf's `messenger.msn.com`
    /// and `messengerclear.live.com` tokens. Single use.
    Messenger,
    /// The address book and sharing services (`contacts.msn.com`).
    Contacts,
    /// Storage, for display pictures and profiles (`storage.msn.com`).
    Storage,
    /// MSN Spaces (`spaces.live.com`).
    Spaces,
    /// Sending offline messages, the OIM store service
    /// (`messengersecure.live.com`).
    MessengerSecure,
    /// The `messenger.msn.com` token as the web services take it after
    /// sign-in: fetching offline messages (RSI). The same token is the
    /// login ticket of WLM 8.0's `USR TWN S` ([`Audience::Messenger`]);
    /// see [`Grant::also_bearer`].
    MessengerWeb,
    /// Any other address a client asks RST.srf for.
    Other,
}

/// What a token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub handle: Handle,
    pub user_id: i64,
    pub audience: Audience,
    /// Consumed by the first successful [`TokenService::redeem`];
    /// otherwise usable until it expires.
    pub single_use: bool,
    /// The secret sent with the token (RST.srf's `BinarySecret`), for a
    /// login that must prove possession of it.
    pub proof_key: Option<Vec<u8>>,
    /// A second use of the same token: a bearer token for this audience,
    /// valid for this long from issue whether or not the token was
    /// redeemed ([`Grant::also_bearer`]).
    pub also: Option<(Audience, Duration)>,
}

impl Grant {
    /// A Messenger login ticket: single use.
    pub fn messenger(handle: Handle, user_id: i64) -> Grant {
        Grant {
            handle,
            user_id,
            audience: Audience::Messenger,
            single_use: true,
            proof_key: None,
            also: None,
        }
    }

    /// A bearer token for `audience`: usable until it expires.
    pub fn bearer(handle: Handle, user_id: i64, audience: Audience) -> Grant {
        Grant {
            handle,
            user_id,
            audience,
            single_use: false,
            proof_key: None,
            also: None,
        }
    }

    /// Makes the token also a bearer token for `audience`, valid for `ttl`
    /// from issue, independently of its main use: the Messenger clients
    /// present their `messenger.msn.com` token both to sign in (once, for
    /// the short ticket lifetime) and to the offline-message service (for
    /// the whole session).
    pub fn also_bearer(mut self, audience: Audience, ttl: Duration) -> Grant {
        self.also = Some((audience, ttl));
        self
    }

    pub fn with_proof_key(mut self, key: Vec<u8>) -> Grant {
        self.proof_key = Some(key);
        self
    }
}

/// Issues and checks tokens. Unknown, expired and used tokens are all
/// simply not there.
pub trait TokenService: Send + Sync {
    /// Issues a fresh token for `grant`, valid for `ttl`.
    fn issue(&self, grant: Grant, ttl: Duration) -> String;

    /// Presents `token` to `audience` on behalf of `handle`: its grant if
    /// it is valid, for that audience and that account. A single-use token
    /// is consumed by a successful redemption only; one presented with the
    /// wrong handle or to the wrong audience stays valid for its owner.
    fn redeem(&self, token: &str, audience: Audience, handle: &Handle) -> Option<Grant> {
        self.redeem_if(token, audience, handle, &|_| true)
    }

    /// [`TokenService::redeem`], but only if `check` accepts the grant
    /// (e.g. the client proved it holds the grant's proof key); a token
    /// `check` refuses stays valid for its owner.
    fn redeem_if(
        &self,
        token: &str,
        audience: Audience,
        handle: &Handle,
        check: &dyn Fn(&Grant) -> bool,
    ) -> Option<Grant>;

    /// Checks a multi-use (bearer) token for `audience` without consuming
    /// it. Single-use tokens are never valid here: they can only be
    /// redeemed — except for the second audience a grant names with
    /// [`Grant::also_bearer`], which stays valid for its own lifetime.
    fn validate(&self, token: &str, audience: Audience) -> Option<Grant>;

    /// Forgets expired tokens.
    fn sweep(&self);

    /// How long a token this service does not know yet may still take to
    /// become known: with several nodes, a ticket issued by another node
    /// reaches this one a moment after the client got it, and the client
    /// may present it sooner. Zero (the default) where every token is
    /// issued here.
    fn arrival_grace(&self) -> Duration {
        Duration::ZERO
    }

    /// Forgets every token issued to `handle`, whatever its audience: the
    /// account was deleted or disabled, or its password changed, and what
    /// was granted before must not outlive that. Returns how many went.
    fn revoke_account(&self, handle: &Handle) -> usize;

    /// This service's signature over `data` (circle tickets): made and
    /// checked only here, with a key of its own.
    fn sign(&self, data: &[u8]) -> Vec<u8>;

    /// Whether `signature` is [`TokenService::sign`]'s over `data`
    /// (compared in constant time).
    fn verify_signature(&self, data: &[u8], signature: &[u8]) -> bool;
}

/// `redeem` now, or, when `tokens` says tokens issued elsewhere may still
/// be on their way ([`TokenService::arrival_grace`]: another node's
/// ticket, presented before its broadcast arrived), again every 20 ms
/// until the grace is over. A single node answers at once.
pub async fn redeem_arriving(
    tokens: &dyn TokenService,
    redeem: impl Fn() -> Option<Grant>,
) -> Option<Grant> {
    const RETRY: Duration = Duration::from_millis(20);
    let until = tokio::time::Instant::now() + tokens.arrival_grace();
    loop {
        if let Some(grant) = redeem() {
            return Some(grant);
        }
        if tokio::time::Instant::now() + RETRY > until {
            return None;
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Where [`MemoryTokens`] gets the time (tests inject their own).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// How often issuing a token also forgets the expired ones, so that the
/// table stays bounded by the tokens of the last ticket lifetime without a
/// sweep per issue (a sweep visits every token).
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

struct Entry {
    grant: Grant,
    /// End of the main use (redeem, or validate as a bearer).
    expires: Instant,
    /// End of the second, bearer use ([`Grant::also`]).
    also_expires: Option<Instant>,
    /// A single-use token with a second use was redeemed: kept for that
    /// use only.
    redeemed: bool,
}

impl Entry {
    /// When the token is of no use any more.
    fn end(&self) -> Instant {
        self.also_expires
            .map_or(self.expires, |a| a.max(self.expires))
    }
}

/// Tokens in memory: random, kept until used (single use) or expired.
pub struct MemoryTokens {
    map: DashMap<String, Entry>,
    /// The signing key: random per process, like the tokens themselves
    /// (a restart makes clients sign in again and fetch new tickets).
    key: [u8; 32],
    clock: Clock,
    /// When expired tokens were last forgotten.
    last_sweep: Mutex<Instant>,
}

impl Default for MemoryTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTokens {
    pub fn new() -> MemoryTokens {
        Self::with_clock(Arc::new(Instant::now))
    }

    pub fn with_clock(clock: Clock) -> MemoryTokens {
        MemoryTokens {
            map: DashMap::new(),
            key: rand::random(),
            last_sweep: Mutex::new(clock()),
            clock,
        }
    }

    /// Signs with `key` instead of a random key of its own: the nodes of
    /// a cluster share one, so that a circle ticket signed on one node
    /// verifies on another.
    pub fn with_key(mut self, key: [u8; 32]) -> MemoryTokens {
        self.key = key;
        self
    }

    /// Keeps a token another node issued (its `token`, `grant` and
    /// lifetime), so that it can be presented here too.
    pub fn insert(&self, token: String, grant: Grant, ttl: Duration) {
        let now = (self.clock)();
        let after = |ttl: Duration| {
            now.checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(1 << 40))
        };
        let expires = after(ttl);
        let also_expires = grant.also.map(|(_, ttl)| after(ttl));
        self.map.insert(
            token,
            Entry {
                grant,
                expires,
                also_expires,
                redeemed: false,
            },
        );
    }

    /// Another node redeemed the single-use `token`: it is used up here
    /// too (kept only for a second, bearer use).
    pub fn mark_redeemed(&self, token: &str) {
        if let Some(mut entry) = self.map.get_mut(token)
            && entry.grant.also.is_some()
        {
            entry.redeemed = true;
            return;
        }
        self.map.remove_if(token, |_, e| e.grant.single_use);
    }

    /// Tokens held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl MemoryTokens {
    /// Forgets expired tokens if the last time was [`SWEEP_INTERVAL`] ago.
    /// Whoever finds the lock taken leaves the sweep to its holder.
    fn sweep_if_due(&self, now: Instant) {
        let Ok(mut last) = self.last_sweep.try_lock() else {
            return;
        };
        if now.saturating_duration_since(*last) < SWEEP_INTERVAL {
            return;
        }
        *last = now;
        drop(last);
        self.map.retain(|_, e| e.end() > now);
    }
}

impl TokenService for MemoryTokens {
    fn revoke_account(&self, handle: &Handle) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| &e.grant.handle != handle);
        before.saturating_sub(self.map.len())
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&self.key).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    fn verify_signature(&self, data: &[u8], signature: &[u8]) -> bool {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&self.key).expect("any key length");
        mac.update(data);
        mac.verify_slice(signature).is_ok()
    }

    fn issue(&self, grant: Grant, ttl: Duration) -> String {
        let now = (self.clock)();
        self.sweep_if_due(now);
        let after = |ttl: Duration| {
            now.checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(1 << 40))
        };
        let expires = after(ttl);
        let also_expires = grant.also.map(|(_, ttl)| after(ttl));
        loop {
            let token = msn_core::ids::passport_ticket();
            if let MapEntry::Vacant(slot) = self.map.entry(token.clone()) {
                slot.insert(Entry {
                    grant,
                    expires,
                    also_expires,
                    redeemed: false,
                });
                return token;
            }
        }
    }

    fn redeem_if(
        &self,
        token: &str,
        audience: Audience,
        handle: &Handle,
        check: &dyn Fn(&Grant) -> bool,
    ) -> Option<Grant> {
        let now = (self.clock)();
        let matches = |e: &Entry| {
            e.expires > now
                && !e.redeemed
                && e.grant.audience == audience
                && e.grant.handle == *handle
                && check(&e.grant)
        };
        let entry = self.map.get(token)?;
        if !matches(&entry) {
            return None;
        }
        if !entry.grant.single_use {
            return Some(entry.grant.clone());
        }
        drop(entry);
        // Checked again under the write lock, so that one of two
        // concurrent redemptions wins. A token with a second use stays
        // for it, marked as redeemed.
        if let Some(mut entry) = self.map.get_mut(token)
            && entry.grant.also.is_some()
            && matches(&entry)
        {
            entry.redeemed = true;
            return Some(entry.grant.clone());
        }
        self.map
            .remove_if(token, |_, e| e.grant.also.is_none() && matches(e))
            .map(|(_, e)| e.grant)
    }

    fn validate(&self, token: &str, audience: Audience) -> Option<Grant> {
        let now = (self.clock)();
        let entry = self.map.get(token)?;
        let main =
            entry.expires > now && !entry.grant.single_use && entry.grant.audience == audience;
        let also = entry.grant.also.is_some_and(|(a, _)| a == audience)
            && entry.also_expires.is_some_and(|end| end > now);
        (main || also).then(|| entry.grant.clone())
    }

    fn sweep(&self) {
        let now = (self.clock)();
        self.map.retain(|_, e| e.end() > now);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn handle(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    /// Tokens on a clock the test moves by hand.
    fn manual() -> (MemoryTokens, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let tokens = MemoryTokens::with_clock(Arc::new(move || *clock.lock().unwrap()));
        (tokens, now)
    }

    const MINUTE: Duration = Duration::from_secs(60);

    /// Tokens that, like a cluster node's, may learn of a token a moment
    /// after it was handed out elsewhere.
    struct Late(Arc<MemoryTokens>);

    impl TokenService for Late {
        fn issue(&self, grant: Grant, ttl: Duration) -> String {
            self.0.issue(grant, ttl)
        }
        fn redeem_if(
            &self,
            token: &str,
            audience: Audience,
            handle: &Handle,
            check: &dyn Fn(&Grant) -> bool,
        ) -> Option<Grant> {
            self.0.redeem_if(token, audience, handle, check)
        }
        fn validate(&self, token: &str, audience: Audience) -> Option<Grant> {
            self.0.validate(token, audience)
        }
        fn sweep(&self) {}
        fn revoke_account(&self, handle: &Handle) -> usize {
            self.0.revoke_account(handle)
        }
        fn sign(&self, data: &[u8]) -> Vec<u8> {
            self.0.sign(data)
        }
        fn verify_signature(&self, data: &[u8], signature: &[u8]) -> bool {
            self.0.verify_signature(data, signature)
        }
        fn arrival_grace(&self) -> Duration {
            Duration::from_secs(2)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_ticket_arriving_within_the_grace_is_redeemed() {
        let memory = Arc::new(MemoryTokens::new());
        let late = Late(memory.clone());
        let alice = handle("alice@hotmail.com");
        let grant = Grant::messenger(alice.clone(), 1);
        let arrives = {
            let (memory, grant) = (memory.clone(), grant.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                memory.insert("t=late".into(), grant, MINUTE);
            })
        };
        let redeem = || late.redeem("t=late", Audience::Messenger, &alice);
        assert_eq!(redeem_arriving(&late, redeem).await, Some(grant));
        arrives.await.unwrap();
        // Never arriving: refused once the grace is over.
        let never = || late.redeem("t=never", Audience::Messenger, &alice);
        let started = tokio::time::Instant::now();
        assert_eq!(redeem_arriving(&late, never).await, None);
        assert!(started.elapsed() <= Duration::from_secs(2));
        // A single node has no grace: refused at once.
        let started = tokio::time::Instant::now();
        let single = || memory.redeem("t=never", Audience::Messenger, &alice);
        assert_eq!(redeem_arriving(&*memory, single).await, None);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[test]
    fn messenger_tickets_are_single_use() {
        let tokens = MemoryTokens::new();
        let alice = handle("alice@example.com");
        let t = tokens.issue(Grant::messenger(alice.clone(), 7), MINUTE);
        assert!(t.starts_with("t=") && t.contains("$$&p="), "{t}");
        let grant = tokens.redeem(&t, Audience::Messenger, &alice).unwrap();
        assert_eq!(
            (grant.handle.as_str(), grant.user_id),
            ("alice@example.com", 7)
        );
        assert!(grant.single_use);
        assert_eq!(tokens.redeem(&t, Audience::Messenger, &alice), None);
        assert_eq!(
            tokens.redeem("t=nope&p=", Audience::Messenger, &alice),
            None
        );
        assert_ne!(
            tokens.issue(Grant::messenger(alice.clone(), 7), MINUTE),
            tokens.issue(Grant::messenger(alice, 7), MINUTE)
        );
    }

    #[test]
    fn a_wrong_handle_or_audience_does_not_consume() {
        let tokens = MemoryTokens::new();
        let alice = handle("alice@example.com");
        let t = tokens.issue(Grant::messenger(alice.clone(), 7), MINUTE);
        assert_eq!(
            tokens.redeem(&t, Audience::Messenger, &handle("mallory@example.com")),
            None
        );
        assert_eq!(tokens.redeem(&t, Audience::Contacts, &alice), None);
        assert!(tokens.redeem(&t, Audience::Messenger, &alice).is_some());
    }

    #[test]
    fn bearer_tokens_are_multi_use_for_their_audience_only() {
        let tokens = MemoryTokens::new();
        let bob = handle("bob@example.com");
        let t = tokens.issue(Grant::bearer(bob.clone(), 3, Audience::Contacts), MINUTE);
        for _ in 0..3 {
            let grant = tokens.validate(&t, Audience::Contacts).unwrap();
            assert_eq!((grant.user_id, grant.single_use), (3, false));
            assert!(tokens.redeem(&t, Audience::Contacts, &bob).is_some());
        }
        assert_eq!(tokens.validate(&t, Audience::Storage), None);
        assert_eq!(tokens.validate(&t, Audience::Messenger), None);
        assert_eq!(tokens.redeem(&t, Audience::Messenger, &bob), None);
        // A login ticket is no bearer token.
        let ticket = tokens.issue(Grant::messenger(bob.clone(), 3), MINUTE);
        assert_eq!(tokens.validate(&ticket, Audience::Messenger), None);
        assert!(tokens.redeem(&ticket, Audience::Messenger, &bob).is_some());
    }

    #[test]
    fn tokens_expire() {
        let (tokens, now) = manual();
        let alice = handle("alice@example.com");
        let ticket = tokens.issue(Grant::messenger(alice.clone(), 1), MINUTE);
        let bearer = tokens.issue(
            Grant::bearer(alice.clone(), 1, Audience::Storage),
            10 * MINUTE,
        );
        *now.lock().unwrap() += MINUTE;
        assert_eq!(tokens.redeem(&ticket, Audience::Messenger, &alice), None);
        assert!(tokens.validate(&bearer, Audience::Storage).is_some());
        tokens.sweep();
        assert_eq!(tokens.len(), 1, "the expired ticket is gone");
        *now.lock().unwrap() += 9 * MINUTE;
        assert_eq!(tokens.validate(&bearer, Audience::Storage), None);
        tokens.sweep();
        assert!(tokens.is_empty());
    }

    #[test]
    fn short_real_lifetimes() {
        let tokens = MemoryTokens::new();
        let alice = handle("alice@example.com");
        let t = tokens.issue(
            Grant::messenger(alice.clone(), 1),
            Duration::from_millis(20),
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(tokens.redeem(&t, Audience::Messenger, &alice), None);
        // A huge lifetime does not overflow.
        let t = tokens.issue(Grant::messenger(alice.clone(), 1), Duration::MAX);
        assert!(tokens.redeem(&t, Audience::Messenger, &alice).is_some());
    }

    #[test]
    fn a_second_bearer_use_outlives_the_single_use() {
        let (tokens, now) = manual();
        let alice = handle("alice@example.com");
        let t = tokens.issue(
            Grant::messenger(alice.clone(), 1).also_bearer(Audience::MessengerWeb, 10 * MINUTE),
            MINUTE,
        );
        // A bearer for its second audience before and after the login.
        assert!(tokens.validate(&t, Audience::MessengerWeb).is_some());
        assert_eq!(tokens.validate(&t, Audience::Messenger), None);
        assert_eq!(tokens.validate(&t, Audience::MessengerSecure), None);
        assert!(tokens.redeem(&t, Audience::Messenger, &alice).is_some());
        assert_eq!(tokens.redeem(&t, Audience::Messenger, &alice), None);
        assert_eq!(tokens.redeem(&t, Audience::MessengerWeb, &alice), None);
        assert!(tokens.validate(&t, Audience::MessengerWeb).is_some());
        // Past the ticket lifetime: no login, still the bearer use.
        let unused = tokens.issue(
            Grant::messenger(alice.clone(), 1).also_bearer(Audience::MessengerWeb, 10 * MINUTE),
            MINUTE,
        );
        *now.lock().unwrap() += 2 * MINUTE;
        assert_eq!(tokens.redeem(&unused, Audience::Messenger, &alice), None);
        assert!(tokens.validate(&unused, Audience::MessengerWeb).is_some());
        tokens.sweep();
        assert_eq!(tokens.len(), 2);
        *now.lock().unwrap() += 9 * MINUTE;
        assert_eq!(tokens.validate(&t, Audience::MessengerWeb), None);
        tokens.sweep();
        assert!(tokens.is_empty());
    }

    #[test]
    fn proof_keys_travel_with_the_grant() {
        let tokens = MemoryTokens::new();
        let alice = handle("alice@example.com");
        let t = tokens.issue(
            Grant::messenger(alice.clone(), 1).with_proof_key(vec![1, 2, 3]),
            MINUTE,
        );
        let grant = tokens.redeem(&t, Audience::Messenger, &alice).unwrap();
        assert_eq!(grant.proof_key.as_deref(), Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn issuing_sweeps_now_and_then() {
        let (tokens, now) = manual();
        let alice = handle("alice@example.com");
        for _ in 0..1023 {
            tokens.issue(Grant::messenger(alice.clone(), 1), MINUTE);
        }
        *now.lock().unwrap() += 2 * MINUTE;
        tokens.issue(Grant::messenger(alice, 1), MINUTE);
        assert_eq!(tokens.len(), 1);
    }

    #[test]
    fn object_safe() {
        let tokens: Arc<dyn TokenService> = Arc::new(MemoryTokens::new());
        let alice = handle("alice@example.com");
        let t = tokens.issue(Grant::messenger(alice.clone(), 1), MINUTE);
        assert!(tokens.redeem(&t, Audience::Messenger, &alice).is_some());
    }
}
