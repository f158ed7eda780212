//! Per-address rate limits of the pages (`[signup] signups_per_address`,
//! `sign_ins_per_address`): GCRA from `governor`, keyed by the client's
//! address as every other per-address limit counts it
//! ([`msn_auth::address_key`]: an IPv6 address as its /64).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// `n` attempts per `window` for each address: `n` at once, then one
/// every `window / n`. `n = 0`: no limit.
pub(crate) struct PerAddress {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl PerAddress {
    pub(crate) fn new(n: u32, window: Duration) -> PerAddress {
        let limiter = NonZeroU32::new(n).and_then(|burst| {
            let quota = Quota::with_period(window / n)?.allow_burst(burst);
            Some(RateLimiter::keyed(quota))
        });
        PerAddress { limiter }
    }

    /// Counts an attempt from `ip`; over the limit, how long until the
    /// next one is allowed.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&msn_auth::address_key(ip))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose allowance is full again.
    pub(crate) fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_per_address() {
        let limit = PerAddress::new(2, Duration::from_secs(3600));
        let a = IpAddr::from([192, 0, 2, 1]);
        assert!(limit.check(a).is_ok());
        assert!(limit.check(a).is_ok());
        let wait = limit.check(a).unwrap_err();
        assert!(wait > Duration::from_secs(60) && wait <= Duration::from_secs(1800));
        assert!(limit.check(IpAddr::from([192, 0, 2, 2])).is_ok());
        // Zero: no limit.
        let none = PerAddress::new(0, Duration::from_secs(1));
        assert!((0..100).all(|_| none.check(a).is_ok()));
    }
}
