//! The loop every connection runs, whatever its service: handle each
//! complete frame in order, render events from other connections, write
//! without ever waiting on a client that does not read, and keep the clock
//! (timeouts, challenges). The services only supply the protocol
//! ([`Service`]); fairness, backpressure and shutdown live here once.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use msn_wire::Frame;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::conn::Conn;
use msn_service::{Drained, Mailbox};

/// What the caller of a handler does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// Whether the next frame may be handled now, under the connection's rate.
pub(crate) enum Pace {
    Go,
    /// Handle it after this pause (reading stops meanwhile, so TCP pushes
    /// back on the client).
    Wait(Duration),
    /// The client is over its limit: disconnect.
    Refuse,
}

/// One protocol service on a connection.
pub(crate) trait Service {
    type Event;

    fn conn(&mut self) -> &mut Conn;

    /// Rate check before each frame.
    fn pace(&mut self) -> Pace;

    /// Handles one client frame.
    fn on_frame(&mut self, frame: Frame) -> impl Future<Output = Flow> + Send;

    /// Handles one event from another connection.
    fn on_event(&mut self, event: Self::Event) -> Flow;

    /// When [`Service::on_deadline`] must run next.
    fn deadline(&self) -> Instant;

    /// Time-based work; `Some(reason)` ends the connection.
    fn on_deadline(&mut self) -> Option<&'static str>;

    /// The server is stopping: last words before the close.
    fn on_shutdown(&mut self);

    /// Bytes arrived from the client (idle clocks restart).
    fn on_input(&mut self);
}

/// Runs `service` until the connection ends; returns why.
pub(crate) async fn drive<S: Service>(
    service: &mut S,
    mailbox: Arc<Mailbox<S::Event>>,
    shutdown: CancellationToken,
) -> &'static str {
    let mut events = Vec::new();
    loop {
        // Every complete frame already received, in order.
        loop {
            let frame = match service.conn().next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    debug!(error = %e, "unframeable input");
                    return "bad framing";
                }
            };
            match service.pace() {
                Pace::Go => {}
                Pace::Wait(pause) => tokio::time::sleep(pause).await,
                Pace::Refuse => return "rate limit",
            }
            // A client that never stops sending must not starve the
            // connections its frames wake up.
            tokio::task::consume_budget().await;
            if service.on_frame(frame).await == Flow::Close {
                return "closed by protocol";
            }
            if service.conn().overloaded() {
                return "client does not read";
            }
        }
        let conn = service.conn();
        if conn.at_eof() {
            return "peer closed";
        }
        if conn.try_flush().is_err() {
            return "write failed";
        }

        let deadline = service.deadline();
        let read = !service.conn().backlogged();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                service.on_shutdown();
                return "shutdown";
            }
            () = mailbox.notified() => {
                match mailbox.drain(&mut events) {
                    Drained::Open => {}
                    Drained::Overflowed => return "event queue overflow",
                    Drained::Closed => return "replaced",
                }
                for event in events.drain(..) {
                    if service.on_event(event) == Flow::Close {
                        return "closed by the server";
                    }
                }
                // Idle connections keep no event buffer.
                events.shrink_to(0);
                if service.conn().overloaded() {
                    return "client does not read";
                }
            }
            io = service.conn().pump(read) => match io {
                Ok(n) if n > 0 => service.on_input(),
                Ok(_) => {}
                Err(_) => return "connection error",
            },
            () = tokio::time::sleep_until(deadline.into()) => {
                if let Some(reason) = service.on_deadline() {
                    return reason;
                }
            }
        }
    }
}
