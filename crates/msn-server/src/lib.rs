//! msnd's protocol services: the Dispatch Server, Notification Servers and
//! Switchboard, speaking MSNP2–MSNP12 over TCP.
//!
//! [`Server::start`] binds the listeners and returns a [`RunningServer`];
//! the HTTP services (Passport) live in `msn-http` and share its state.

#![forbid(unsafe_code)]

pub mod config;
pub mod conn;
pub mod context;
mod driver;
pub mod ns;
pub mod sb;
mod server;
pub mod trace;

pub use config::Config;
pub use context::Shared;
pub use server::{RunningServer, Server, bind, public_host};
