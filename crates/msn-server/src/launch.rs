//! Sessions over transports the server does not accept itself: the HTTP
//! gateway (`msn-http`) hands over one end of an in-memory stream per
//! gateway session, and the session on it is exactly the one a TCP accept
//! runs — the same code, slot accounting, shutdown and timeouts.

use std::net::SocketAddr;
use std::sync::Arc;

use msn_auth::gate::Refusal;
use tokio_util::task::TaskTracker;

use crate::conn::Transport;
use crate::context::{PublicAddrs, Shared};
use crate::ns::{self, Role};
use crate::sb;

/// Which server a tunnelled session talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// The Dispatch Server or a Notification Server: `requested` is the
    /// address the client asked for (the gateway's `IP=`), which tells the
    /// two apart (see [`SessionLauncher::launch`]).
    Notification { requested: &'a str },
    /// The Notification Server itself, whatever the dispatch settings: a
    /// client that never goes through the Dispatch Server (the web
    /// client's WebSocket).
    NotificationServer,
    /// The switchboard.
    Switchboard,
}

/// Why no session was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchError {
    /// The server is stopping.
    ShuttingDown,
    /// Over a connection cap (`[limits]`), as a TCP connection would be.
    Refused(Refusal),
}

/// Starts sessions over transports handed to the server from outside.
/// Cheap to clone; the sessions it starts are waited for at shutdown like
/// the server's own connections.
#[derive(Clone)]
pub struct SessionLauncher {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tracker: TaskTracker,
}

impl SessionLauncher {
    /// Runs a session of `entry` over `io` for a client at `peer` (its
    /// real address: the connection caps and login throttle apply to it).
    ///
    /// A `Notification` entry runs the Notification Server when
    /// `requested` names it — its advertised `host:port`, or its host
    /// alone, which is what clients send after `XFR … NS` — or when there
    /// is no Dispatch Server; any other name (MSN Messenger opens with
    /// `IP=messenger.hotmail.com`) is the Dispatch Server, which refers the
    /// client to the NS with `XFR`, as over TCP.
    pub fn launch<T: Transport>(
        &self,
        entry: Entry<'_>,
        io: T,
        peer: SocketAddr,
    ) -> Result<(), LaunchError> {
        let shared = &self.shared;
        if shared.shutdown.is_cancelled() {
            return Err(LaunchError::ShuttingDown);
        }
        let slot = shared.gate.admit(peer.ip()).map_err(LaunchError::Refused)?;
        let shared = shared.clone();
        match entry {
            Entry::Notification { requested } => {
                let role = role_for(&shared.addrs, shared.config.dispatch.enabled, requested);
                self.tracker
                    .spawn(ns::serve_with(shared, io, peer, slot, role, true));
            }
            Entry::NotificationServer => {
                self.tracker.spawn(ns::serve_with(
                    shared,
                    io,
                    peer,
                    slot,
                    Role::Notification,
                    true,
                ));
            }
            Entry::Switchboard => {
                self.tracker.spawn(sb::serve(shared, io, peer, slot));
            }
        }
        Ok(())
    }
}

/// The role a session opened for the address `requested` plays.
fn role_for(addrs: &PublicAddrs, dispatch: bool, requested: &str) -> Role {
    if !dispatch {
        return Role::Notification;
    }
    let requested = requested.trim();
    let names_ns = match split_port(requested) {
        (host, Some(port)) => {
            let (ns_host, ns_port) = split_port(&addrs.ns);
            ns_host.eq_ignore_ascii_case(host) && ns_port == Some(port)
        }
        (host, None) => split_port(&addrs.ns).0.eq_ignore_ascii_case(host),
    };
    if names_ns {
        Role::Notification
    } else {
        Role::Dispatch
    }
}

/// `host:port` → (host, Some(port)); anything else → (all of it, None).
fn split_port(addr: &str) -> (&str, Option<u16>) {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (addr, None),
        },
        _ => (addr, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requested_address_chooses_dispatch_or_notification() {
        let addrs = PublicAddrs {
            ds: "msn.example:1863".into(),
            ns: "msn.example:1864".into(),
            sb: "msn.example:1865".into(),
        };
        let role = |ip: &str| role_for(&addrs, true, ip);
        assert_eq!(role("messenger.hotmail.com"), Role::Dispatch);
        assert_eq!(role("msn.example:1863"), Role::Dispatch);
        assert_eq!(role("msn.example:1864"), Role::Notification);
        assert_eq!(role("MSN.example"), Role::Notification);
        assert_eq!(role(""), Role::Dispatch);
        assert_eq!(
            role_for(&addrs, false, "messenger.hotmail.com"),
            Role::Notification
        );
    }
}
