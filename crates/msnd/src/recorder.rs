//! The process's metrics recorder: Prometheus, rendered by the HTTP
//! services' `/metrics` (no listener of its own). Every crate records
//! through the `metrics` facade; this installs the one global recorder.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

/// Store commit latency buckets (seconds): from a WAL append without fsync
/// (tens of µs) to a stalled disk.
const COMMIT_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How often histograms are drained into their buckets between scrapes
/// (without it, samples pile up in memory until the next scrape).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The handle of the global Prometheus recorder, installed on first use.
/// Several servers in one process (the tests) share it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("msnd_store_commit_seconds".into()),
                    COMMIT_BUCKETS,
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            handle
        })
        .clone()
}

/// Drains histograms every few seconds until `shutdown`.
pub fn spawn_upkeep(handle: PrometheusHandle, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => handle.run_upkeep(),
            }
        }
    });
}
