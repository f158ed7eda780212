//! The protocol services' metrics, recorded through the `metrics` facade
//! (msnd installs the Prometheus recorder; without one, recording costs
//! next to nothing). Names and labels are listed in README "Observability".
//! Labels are bounded: a service, a dialect, a login method or a close
//! reason, never a handle or an address.

use metrics::{counter, gauge};
use msn_wire::Dialect;

/// A connection was accepted by a protocol service (`ds`, `ns`, `sb`).
pub(crate) fn connection_opened(service: &'static str) {
    counter!("msnd_connections_total", "service" => service).increment(1);
}

/// A connection ended; `reason` is one of the driver's fixed reasons
/// ("client does not read" and "event queue overflow" are the slow
/// readers: output over `max_outbound_bytes`, mailbox overflowed).
pub(crate) fn connection_closed(service: &'static str, reason: &'static str) {
    counter!("msnd_disconnects_total", "service" => service, "reason" => reason).increment(1);
}

/// A client command was handled.
pub(crate) fn command(service: &'static str) {
    counter!("msnd_commands_total", "service" => service).increment(1);
}

/// A login by `method` (`md5`, `ctp`, `twn`, `sso`) succeeded.
pub(crate) fn signed_in(method: &'static str, dialect: Dialect) {
    counter!("msnd_logins_total", "method" => method).increment(1);
    gauge!("msnd_signed_in_users", "dialect" => dialect.to_string()).increment(1.0);
}

/// A signed-in session ended.
pub(crate) fn signed_out(dialect: Dialect) {
    gauge!("msnd_signed_in_users", "dialect" => dialect.to_string()).decrement(1.0);
}

/// A login by `method` was refused (wrong password, bad ticket, throttled).
pub(crate) fn login_failed(method: &'static str) {
    counter!("msnd_login_failures_total", "method" => method).increment(1);
}

/// A switchboard `MSG` was relayed to the other participants.
pub(crate) fn message_relayed() {
    counter!("msnd_sb_messages_relayed_total").increment(1);
}

/// A switchboard session was opened (+1) or ended (-1).
pub(crate) fn sb_sessions(delta: f64) {
    gauge!("msnd_sb_sessions").increment(delta);
}
