//! Failed-login throttling, shared by every path on which a client
//! proves a password: the NS's MD5 and CTP logins (MSNP2–7) and the HTTP
//! Passport 1.4 (`login2.srf`) and RST.srf logins. (A Passport ticket on
//! `USR TWN S` is not a password guess: tickets are random and single use.)
//!
//! Two rules, each counting failures over a window ([`ThrottleSettings`]):
//!
//! * **Per address.** After `max_failures_per_address` failed logins from
//!   one address (an IPv6 /64, see [`address_key`]), for any accounts,
//!   every login from it is refused — right password or not — for a
//!   cooldown. This stops one client guessing fast, whatever it guesses.
//! * **Per account.** After `max_failures_per_account` failed logins for
//!   one account, from anywhere, logins for it are refused for a cooldown
//!   **only from the addresses that failed for it** (the last
//!   [`ADDRESSES_PER_ACCOUNT`] of them). This stops guessing one password
//!   from many addresses — each new address gets one guess and is then
//!   shut out too — while the account's owner, signing in from an address
//!   that did not fail, gets in at once: an attacker cannot lock a victim
//!   out by failing on purpose. A correct password removes its address
//!   from the account's list (a mistyped password followed by the right
//!   one does not count against its owner later).
//!
//! A lockout that is followed by more failures within the window grows the
//! next cooldown (doubled each time, up to `max_cooldown`). Attempts
//! refused during a cooldown are not checked and not counted, so a client
//! that keeps retrying does not extend it. Addresses in the exempt
//! networks (a proxy in front of msnd) skip the per-address rule; the
//! per-account rule still applies to them.
//!
//! Everything is in memory, bounded by `max_tracked` entries per rule and
//! swept by time (an address entry is some 80 bytes, an account entry at
//! most about 450: with the default 100,000 each, some 50 MB at the very
//! worst, which takes failures for 100,000 accounts within one window).
//! When a table is full of live entries, new addresses or accounts are not
//! tracked (logged) rather than refused: the throttle must never lock out
//! everybody. A throttle engaging is logged at info
//! with the handle and the address, never the password.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tracing::{info, warn};

use crate::Clock;
use crate::address::{Exempt, address_key};

/// Addresses remembered per account for the per-account rule. An address
/// pushed out by newer ones gets another guess (it is still under the
/// per-address rule); 16 keeps an account entry under half a kilobyte.
pub const ADDRESSES_PER_ACCOUNT: usize = 16;

/// How often the tables are swept of entries nothing refers to any more.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// How often a full table is reported.
const FULL_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// The configuration of a [`LoginThrottle`] (`[login_throttle]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures from one address within `window` that lock it out; 0 = no
    /// per-address rule.
    pub max_failures_per_address: u32,
    /// Failures for one account within `window` that lock it out for the
    /// addresses that failed; 0 = no per-account rule.
    pub max_failures_per_account: u32,
    /// How long failures are counted, and how long after its last failure
    /// (or the end of its cooldown) an entry is remembered.
    pub window: Duration,
    /// The first lockout's length; each further one within the window is
    /// twice the last, up to `max_cooldown`.
    pub cooldown: Duration,
    pub max_cooldown: Duration,
    /// Entries kept per rule at most.
    pub max_tracked: usize,
    /// Addresses the per-address rule does not apply to.
    pub exempt: Exempt,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            max_failures_per_address: 20,
            max_failures_per_account: 10,
            window: Duration::from_secs(600),
            cooldown: Duration::from_secs(60),
            max_cooldown: Duration::from_secs(3600),
            max_tracked: 100_000,
            exempt: Exempt::default(),
        }
    }
}

/// Which rule refused a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Address,
    Account,
}

/// A login refused without checking its password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub scope: Scope,
    /// Until the cooldown ends.
    pub retry_after: Duration,
}

impl Throttled {
    /// `retry_after` in whole seconds, rounded up (at least 1), as in an
    /// HTTP `Retry-After` header.
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

/// Counters since the start, for logs and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleStats {
    /// Failed logins reported.
    pub failures: u64,
    /// Logins refused by the throttle.
    pub refused: u64,
    /// Times a lockout began.
    pub lockouts: u64,
}

/// Failures of one address or account.
#[derive(Debug)]
struct Counter {
    failures: u32,
    window_start: Instant,
    blocked_until: Option<Instant>,
    /// Lockouts in a row (each doubles the cooldown).
    lockouts: u32,
    last_failure: Instant,
}

impl Counter {
    fn new(now: Instant) -> Counter {
        Counter {
            failures: 0,
            window_start: now,
            blocked_until: None,
            lockouts: 0,
            last_failure: now,
        }
    }

    /// Time left in the cooldown, if any.
    fn blocked(&self, now: Instant) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Nothing to remember any more: no failure and no cooldown within
    /// the last window.
    fn stale(&self, now: Instant, window: Duration) -> bool {
        let last = self
            .blocked_until
            .map_or(self.last_failure, |b| b.max(self.last_failure));
        now.saturating_duration_since(last) >= window
    }

    /// Counts a failure; returns the cooldown if this one began a lockout.
    fn fail(&mut self, now: Instant, threshold: u32, s: &ThrottleSettings) -> Option<Duration> {
        if self.stale(now, s.window) {
            self.lockouts = 0;
        }
        if now.saturating_duration_since(self.window_start) >= s.window {
            self.failures = 0;
            self.window_start = now;
        }
        self.failures += 1;
        self.last_failure = now;
        if self.failures < threshold {
            return None;
        }
        let factor = 1u32.checked_shl(self.lockouts).unwrap_or(u32::MAX);
        let cooldown = s.cooldown.saturating_mul(factor).min(s.max_cooldown);
        self.lockouts = self.lockouts.saturating_add(1);
        self.blocked_until = Some(now + cooldown);
        self.failures = 0;
        self.window_start = now;
        Some(cooldown)
    }
}

struct AccountEntry {
    counter: Counter,
    /// The addresses (keys) that failed for this account, oldest first.
    failed_from: VecDeque<IpAddr>,
}

struct Tables {
    addresses: HashMap<IpAddr, Counter>,
    accounts: HashMap<Box<str>, AccountEntry>,
    last_sweep: Instant,
    last_full_log: Option<Instant>,
}

/// The failed-login throttle. One per server, shared by the NS and the
/// HTTP services.
pub struct LoginThrottle {
    settings: ThrottleSettings,
    tables: Mutex<Tables>,
    clock: Clock,
    failures: AtomicU64,
    refused: AtomicU64,
    lockouts: AtomicU64,
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> LoginThrottle {
        Self::with_clock(settings, Arc::new(Instant::now))
    }

    pub fn with_clock(settings: ThrottleSettings, clock: Clock) -> LoginThrottle {
        LoginThrottle {
            settings,
            tables: Mutex::new(Tables {
                addresses: HashMap::new(),
                accounts: HashMap::new(),
                last_sweep: clock(),
                last_full_log: None,
            }),
            clock,
            failures: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            lockouts: AtomicU64::new(0),
        }
    }

    pub fn settings(&self) -> &ThrottleSettings {
        &self.settings
    }

    /// Before checking a password: `Err` if a login by `ip` for `account`
    /// (a normalised handle, or what the client claimed) must be refused
    /// without looking at the password.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), Throttled> {
        let now = (self.clock)();
        let key = address_key(ip);
        let tables = self.tables.lock();
        let by_address = (!self.settings.exempt.contains(ip))
            .then(|| tables.addresses.get(&key))
            .flatten()
            .and_then(|c| c.blocked(now))
            .map(|retry_after| Throttled {
                scope: Scope::Address,
                retry_after,
            });
        let by_account = || {
            let entry = tables.accounts.get(account)?;
            let retry_after = entry.counter.blocked(now)?;
            entry.failed_from.contains(&key).then_some(Throttled {
                scope: Scope::Account,
                retry_after,
            })
        };
        match by_address.or_else(by_account) {
            None => Ok(()),
            Some(throttled) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let scope = match throttled.scope {
                    Scope::Address => "address",
                    Scope::Account => "account",
                };
                metrics::counter!("msnd_logins_throttled_total", "scope" => scope).increment(1);
                Err(throttled)
            }
        }
    }

    /// After a wrong password (or an unknown account) from `ip` for
    /// `account`. Logs when this failure begins a lockout.
    pub fn failed(&self, ip: IpAddr, account: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let now = (self.clock)();
        let key = address_key(ip);
        let s = &self.settings;
        let mut guard = self.tables.lock();
        let tables = &mut *guard;
        if now.saturating_duration_since(tables.last_sweep) >= SWEEP_INTERVAL {
            self.sweep(tables, now);
        }
        if s.max_failures_per_address > 0 && !s.exempt.contains(ip) {
            if !tables.addresses.contains_key(&key) && tables.addresses.len() >= s.max_tracked {
                self.sweep(tables, now);
            }
            if tables.addresses.len() < s.max_tracked || tables.addresses.contains_key(&key) {
                let counter = tables
                    .addresses
                    .entry(key)
                    .or_insert_with(|| Counter::new(now));
                if let Some(cooldown) = counter.fail(now, s.max_failures_per_address, s) {
                    self.lockouts.fetch_add(1, Ordering::Relaxed);
                    info!(
                        handle = account,
                        %ip,
                        failures = s.max_failures_per_address,
                        ?cooldown,
                        "login throttle engaged: too many failed logins from this address"
                    );
                }
            } else {
                self.report_full(tables, now);
            }
        }
        if s.max_failures_per_account > 0 {
            if !tables.accounts.contains_key(account) && tables.accounts.len() >= s.max_tracked {
                self.sweep(tables, now);
            }
            if tables.accounts.len() < s.max_tracked || tables.accounts.contains_key(account) {
                let entry = tables
                    .accounts
                    .entry(account.into())
                    .or_insert_with(|| AccountEntry {
                        counter: Counter::new(now),
                        failed_from: VecDeque::new(),
                    });
                entry.failed_from.retain(|a| *a != key);
                if entry.failed_from.len() >= ADDRESSES_PER_ACCOUNT {
                    entry.failed_from.pop_front();
                }
                entry.failed_from.push_back(key);
                if let Some(cooldown) = entry.counter.fail(now, s.max_failures_per_account, s) {
                    self.lockouts.fetch_add(1, Ordering::Relaxed);
                    info!(
                        handle = account,
                        %ip,
                        failures = s.max_failures_per_account,
                        ?cooldown,
                        addresses = entry.failed_from.len(),
                        "login throttle engaged: too many failed logins for this account \
                         (refused from the addresses that failed)"
                    );
                }
            } else {
                self.report_full(tables, now);
            }
        }
    }

    /// After a correct password: `ip` no longer counts as an address that
    /// failed for `account`. (Its per-address failures stay: a client with
    /// an account of its own must not clear its record by signing in.)
    pub fn succeeded(&self, ip: IpAddr, account: &str) {
        let key = address_key(ip);
        if let Some(entry) = self.tables.lock().accounts.get_mut(account) {
            entry.failed_from.retain(|a| *a != key);
        }
    }

    pub fn stats(&self) -> ThrottleStats {
        ThrottleStats {
            failures: self.failures.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            lockouts: self.lockouts.load(Ordering::Relaxed),
        }
    }

    /// Entries held (addresses, accounts), stale ones not yet swept included.
    pub fn tracked(&self) -> (usize, usize) {
        let t = self.tables.lock();
        (t.addresses.len(), t.accounts.len())
    }

    fn sweep(&self, tables: &mut Tables, now: Instant) {
        let window = self.settings.window;
        tables.addresses.retain(|_, c| !c.stale(now, window));
        tables.accounts.retain(|_, e| !e.counter.stale(now, window));
        tables.last_sweep = now;
    }

    fn report_full(&self, tables: &mut Tables, now: Instant) {
        if tables
            .last_full_log
            .is_none_or(|at| now.saturating_duration_since(at) >= FULL_LOG_INTERVAL)
        {
            warn!(
                max_tracked = self.settings.max_tracked,
                "login throttle table full: new addresses or accounts are not tracked"
            );
            tables.last_full_log = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        now: Arc<Mutex<Instant>>,
        throttle: LoginThrottle,
    }

    impl Fake {
        fn new(settings: ThrottleSettings) -> Fake {
            let now = Arc::new(Mutex::new(Instant::now()));
            let clock_now = now.clone();
            let throttle = LoginThrottle::with_clock(settings, Arc::new(move || *clock_now.lock()));
            Fake { now, throttle }
        }
        fn advance(&self, d: Duration) {
            *self.now.lock() += d;
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn settings(per_address: u32, per_account: u32) -> ThrottleSettings {
        ThrottleSettings {
            max_failures_per_address: per_address,
            max_failures_per_account: per_account,
            window: Duration::from_secs(600),
            cooldown: Duration::from_secs(60),
            max_cooldown: Duration::from_secs(200),
            max_tracked: 100,
            exempt: Exempt::default(),
        }
    }

    #[test]
    fn an_address_is_locked_out_and_the_cooldown_grows() {
        let f = Fake::new(settings(3, 0));
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..3 {
            assert!(f.throttle.check(a, "alice@x.com").is_ok());
            f.throttle.failed(a, "alice@x.com");
        }
        let t = f.throttle.check(a, "bob@x.com").unwrap_err();
        assert_eq!(t.scope, Scope::Address);
        assert_eq!(t.retry_after, Duration::from_secs(60));
        assert!(f.throttle.check(b, "alice@x.com").is_ok(), "others get in");
        f.advance(Duration::from_secs(61));
        assert!(f.throttle.check(a, "alice@x.com").is_ok());
        for _ in 0..3 {
            f.throttle.failed(a, "alice@x.com");
        }
        let t = f.throttle.check(a, "alice@x.com").unwrap_err();
        assert_eq!(t.retry_after, Duration::from_secs(120), "doubled");
        f.advance(Duration::from_secs(121));
        for _ in 0..3 {
            f.throttle.failed(a, "alice@x.com");
        }
        let t = f.throttle.check(a, "alice@x.com").unwrap_err();
        assert_eq!(t.retry_after, Duration::from_secs(200), "capped");
        // A quiet window later, it starts over.
        f.advance(Duration::from_secs(200 + 600));
        for _ in 0..3 {
            f.throttle.failed(a, "alice@x.com");
        }
        let t = f.throttle.check(a, "alice@x.com").unwrap_err();
        assert_eq!(t.retry_after, Duration::from_secs(60));
        let stats = f.throttle.stats();
        assert_eq!((stats.failures, stats.lockouts), (12, 4));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let f = Fake::new(settings(3, 3));
        let a = ip("192.0.2.1");
        for _ in 0..10 {
            f.throttle.failed(a, "alice@x.com");
            f.throttle.failed(a, "alice@x.com");
            f.advance(Duration::from_secs(601));
            assert!(f.throttle.check(a, "alice@x.com").is_ok());
        }
    }

    #[test]
    fn an_account_is_locked_only_for_the_addresses_that_failed() {
        let f = Fake::new(settings(0, 4));
        let attackers = ["192.0.2.1", "192.0.2.2", "198.51.100.0", "2001:db8::1"];
        for a in attackers {
            f.throttle.failed(ip(a), "alice@x.com");
        }
        for a in attackers {
            let t = f.throttle.check(ip(a), "alice@x.com").unwrap_err();
            assert_eq!(t.scope, Scope::Account);
        }
        // The same /64.
        assert!(f.throttle.check(ip("2001:db8::2"), "alice@x.com").is_err());
        // The owner, elsewhere, gets in; other accounts are not affected.
        assert!(f.throttle.check(ip("203.0.113.9"), "alice@x.com").is_ok());
        assert!(f.throttle.check(ip("192.0.2.1"), "bob@x.com").is_ok());
        // A new attacker address has one guess, then it is shut out too.
        f.throttle.failed(ip("203.0.113.66"), "alice@x.com");
        assert!(f.throttle.check(ip("203.0.113.66"), "alice@x.com").is_err());
        // A correct password clears its address.
        f.throttle.succeeded(ip("192.0.2.1"), "alice@x.com");
        assert!(f.throttle.check(ip("192.0.2.1"), "alice@x.com").is_ok());
    }

    #[test]
    fn exempt_addresses_skip_the_address_rule_only() {
        let mut s = settings(2, 3);
        s.exempt = Exempt::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let f = Fake::new(s);
        let proxy = ip("10.1.2.3");
        f.throttle.failed(proxy, "alice@x.com");
        f.throttle.failed(proxy, "bob@x.com");
        assert!(f.throttle.check(proxy, "carol@x.com").is_ok());
        f.throttle.failed(proxy, "alice@x.com");
        f.throttle.failed(proxy, "alice@x.com");
        assert_eq!(
            f.throttle.check(proxy, "alice@x.com").unwrap_err().scope,
            Scope::Account
        );
    }

    #[test]
    fn tables_are_bounded_and_swept() {
        let mut s = settings(5, 5);
        s.max_tracked = 10;
        let f = Fake::new(s);
        for i in 0..50u8 {
            f.throttle
                .failed(IpAddr::from([192, 0, 2, i]), &format!("u{i}@x.com"));
        }
        assert_eq!(f.throttle.tracked(), (10, 10));
        f.advance(Duration::from_secs(601));
        f.throttle.failed(ip("198.51.100.1"), "new@x.com");
        assert_eq!(f.throttle.tracked(), (1, 1));
    }

    #[test]
    fn retry_after_rounds_up() {
        let t = |ms| Throttled {
            scope: Scope::Address,
            retry_after: Duration::from_millis(ms),
        };
        assert_eq!(t(0).retry_after_secs(), 1);
        assert_eq!(t(1500).retry_after_secs(), 2);
        assert_eq!(t(2000).retry_after_secs(), 2);
    }
}
