//! systemd's service notifications, for `Type=notify` units
//! (`contrib/systemd/msnd.service`): `READY=1` once every listener is up,
//! so that units ordered after msnd start when it answers; `STOPPING=1` with
//! the time the shutdown will take (`EXTEND_TIMEOUT_USEC`, so that a
//! `[server] shutdown_warning` of minutes is not cut short by
//! `TimeoutStopSec`); and watchdog pings when the unit sets `WatchdogSec=`.
//! Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::{info, warn};

use crate::App;

/// Margin added to the expected shutdown time: closing the store and the
/// connections takes a moment after the grace period.
const STOP_MARGIN: Duration = Duration::from_secs(10);

/// Tells systemd the server is up, with a status line naming the
/// listeners (`systemctl status msnd` shows it), and starts the watchdog
/// pings if the unit asks for them.
pub fn ready(app: &App) {
    let status = format!("serving: {}", listeners(app));
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
    if let Some(timeout) = sd_notify::watchdog_enabled() {
        // Half the timeout, as sd_watchdog_enabled(3) advises. The pings
        // come from the runtime that serves clients, so a wedged runtime
        // stops them and systemd restarts msnd.
        let interval = (timeout / 2).max(Duration::from_millis(100));
        info!(?timeout, "systemd watchdog enabled");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                send(&[NotifyState::Watchdog]);
            }
        });
    }
}

/// Tells systemd the server is stopping and will take about `expected`.
pub fn stopping(expected: Duration) {
    let usec = u32::try_from((expected + STOP_MARGIN).as_micros()).unwrap_or(u32::MAX);
    send(&[
        NotifyState::Stopping,
        NotifyState::ExtendTimeoutUsec(usec),
        NotifyState::Status("shutting down"),
    ]);
}

/// "DS 0.0.0.0:1863, NS …, SB …, HTTP …, HTTPS …".
fn listeners(app: &App) -> String {
    let s = &app.server;
    let mut parts = Vec::new();
    if let Some(ds) = s.ds_addr {
        parts.push(format!("DS {ds}"));
    }
    parts.push(format!("NS {}", s.ns_addr));
    parts.push(format!("SB {}", s.sb_addr));
    if let Some(http) = app.http.http_addr {
        parts.push(format!("HTTP {http}"));
    }
    if let Some(https) = app.http.https_addr {
        parts.push(format!("HTTPS {https}"));
    }
    parts.join(", ")
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}
