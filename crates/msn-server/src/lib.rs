//! msnd's protocol services: the Dispatch Server, Notification Servers and
//! Switchboard, speaking MSNP2–MSNP12 over TCP.
//!
//! [`Server::start`] binds the listeners and returns a [`RunningServer`].
//! The HTTP services (Passport) live in `msn-http`; msnd runs them on the
//! same store, token service (whose Messenger tickets `USR TWN S`
//! redeems), shutdown token, connection gate and login throttle
//! (`msn-auth`). The configuration is `msn-config`'s, re-exported as
//! [`config`]. [`SessionLauncher`] runs the same sessions over streams
//! handed in from outside (the HTTP gateway).

#![forbid(unsafe_code)]

pub mod conn;
pub mod context;
mod driver;
mod launch;
mod metrics;
pub mod ns;
pub mod sb;
mod server;
#[cfg(test)]
mod test_support;
pub mod trace;

pub use context::{Referral, Shared};
pub use launch::{Entry, LaunchError, SessionLauncher};
pub use msn_config as config;
pub use msn_config::{Config, bind, public_host};
pub use server::{NodeParts, RunningServer, Server, service_settings};
