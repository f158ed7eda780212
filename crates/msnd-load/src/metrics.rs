//! Measurements: latency histograms (HDR, nanoseconds) and error counters,
//! plus the process-wide clock that timestamps travel on.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Highest latency the histograms track (longer ones are clamped).
const MAX_TRACKABLE: Duration = Duration::from_secs(120);

/// A latency histogram in nanoseconds, 3 significant digits.
#[derive(Clone, Debug)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

impl Latency {
    pub fn new() -> Latency {
        Latency(
            Histogram::new_with_bounds(1, MAX_TRACKABLE.as_nanos() as u64, 3)
                .expect("valid histogram bounds"),
        )
    }

    pub fn record(&mut self, d: Duration) {
        self.record_nanos(d.as_nanos().min(u128::from(u64::MAX)) as u64);
    }

    pub fn record_nanos(&mut self, nanos: u64) {
        self.0.saturating_record(nanos.max(1));
    }

    /// Adds another histogram's samples (per-task histograms are merged
    /// at the end instead of sharing one behind a lock).
    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn summary(&self) -> Summary {
        let h = &self.0;
        if h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: h.len(),
            min_ns: h.min(),
            mean_ns: h.mean() as u64,
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
        }
    }
}

/// Percentiles of one histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub count: u64,
    pub min_ns: u64,
    pub mean_ns: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
}

/// Error counts by category, shared by every task of a scenario. Errors
/// are rare and never on a hot path, so a plain mutex will do.
#[derive(Debug, Default)]
pub struct Errors(Mutex<BTreeMap<String, u64>>);

impl Errors {
    pub fn add(&self, category: impl Into<String>) {
        self.add_n(category, 1);
    }

    pub fn add_n(&self, category: impl Into<String>, n: u64) {
        if n == 0 {
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(category.into()).or_default() += n;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

/// The instant every in-band timestamp counts from. Senders and receivers
/// live in this one process, so a monotonic clock is enough.
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`].
pub fn now_nanos() -> u64 {
    nanos_of(Instant::now())
}

pub fn nanos_of(t: Instant) -> u64 {
    t.saturating_duration_since(epoch()).as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut l = Latency::new();
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        // 3 significant digits: within 0.1 %.
        let close = |got: u64, want: u64| (got as f64 - want as f64).abs() / want as f64 <= 0.001;
        assert!(close(s.p50_ns, 500_000), "{}", s.p50_ns);
        assert!(close(s.p99_ns, 990_000), "{}", s.p99_ns);
        assert!(close(s.p999_ns, 999_000), "{}", s.p999_ns);
        assert!(close(s.max_ns, 1_000_000), "{}", s.max_ns);
        assert!(close(s.min_ns, 1_000), "{}", s.min_ns);
    }

    #[test]
    fn merge_and_empty() {
        assert_eq!(Latency::new().summary(), Summary::default());
        let mut a = Latency::new();
        let mut b = Latency::new();
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        // Beyond the tracked range is clamped, not dropped.
        a.record(Duration::from_secs(1000));
        assert_eq!(a.count(), 3);
    }

    #[test]
    fn error_counts() {
        let e = Errors::default();
        e.add("timeout");
        e.add("timeout");
        e.add_n("closed", 3);
        e.add_n("none", 0);
        let snap = e.snapshot();
        assert_eq!(snap.get("timeout"), Some(&2));
        assert_eq!(snap.get("closed"), Some(&3));
        assert!(!snap.contains_key("none"));
        assert_eq!(e.total(), 5);
    }
}
