//! The loop every connection runs, whatever its service: handle each
//! complete frame in order, render events from other connections, write
//! without ever waiting on a client that does not read, and keep the clock
//! (timeouts, challenges). The services only supply the protocol
//! ([`Service`]) and write into their own buffers; the driver owns the
//! [`Transport`] and moves the bytes. Fairness, backpressure and shutdown
//! live here once, whatever the transport.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use msn_wire::Frame;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::conn::{Conn, Transport};
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

/// Runs `service` over `io` until the connection ends; returns why. The
/// caller closes the transport (see [`Conn::close`]).
pub(crate) async fn drive<S: Service, T: Transport>(
    service: &mut S,
    io: &mut T,
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
            let flow = service.on_frame(frame).await;
            service.conn().trace_output();
            if flow == Flow::Close {
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
        if conn.try_flush(io).is_err() {
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
                    let flow = service.on_event(event);
                    service.conn().trace_output();
                    if flow == Flow::Close {
                        return "closed by the server";
                    }
                }
                // Idle connections keep no event buffer.
                events.shrink_to(0);
                if service.conn().overloaded() {
                    return "client does not read";
                }
            }
            pumped = service.conn().pump(io, read) => match pumped {
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

#[cfg(test)]
mod tests {
    //! Sessions over an in-memory transport: nothing in a session or the
    //! driver depends on TCP.

    use std::sync::Arc;
    use std::time::Duration;

    use msn_core::handle::Handle;
    use msn_wire::Dialect;
    use parking_lot::Mutex;

    use crate::ns::Role;
    use crate::sb::registry::{
        GrantKind, MemoryCookies, MemorySessions, Participant, Session, SessionDirectory,
        Switchboards,
    };
    use crate::test_support::{LineClient, peer, shared, slot};

    /// The in-memory directory, remembering the ids it handed out.
    #[derive(Default)]
    struct Recording {
        inner: MemorySessions,
        ids: Mutex<Vec<u32>>,
    }

    impl SessionDirectory for Recording {
        fn create(&self, first: Participant) -> Arc<Session> {
            let session = self.inner.create(first);
            self.ids.lock().push(session.id);
            session
        }
        fn get(&self, id: u32) -> Option<Arc<Session>> {
            self.inner.get(id)
        }
        fn remove(&self, id: u32) {
            self.inner.remove(id);
        }
        fn sweep(&self, now: std::time::Instant) {
            self.inner.sweep(now);
        }
        fn with_participant(&self, handle: &msn_core::handle::Handle) -> Vec<Arc<Session>> {
            self.inner.with_participant(handle)
        }
    }

    #[tokio::test]
    async fn notification_login_over_a_duplex() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared(dir.path(), Switchboards::default()).await;
        let (mut client, io) = LineClient::pair();
        let session = tokio::spawn(crate::ns::serve(
            shared.clone(),
            io,
            peer(),
            slot(&shared),
            Role::Notification,
        ));
        client.send("VER 1 MSNP8 CVR0\r\n").await;
        assert_eq!(client.line().await.as_deref(), Some("VER 1 MSNP8"));
        client.send("USR 2 TWN I alice@hotmail.com\r\n").await;
        let usr = client.line().await.expect("USR reply");
        assert!(usr.starts_with("USR 2 TWN S "), "{usr}");
        client.send("OUT\r\n").await;
        assert_eq!(client.line().await, None);
        session.await.unwrap();
    }

    #[tokio::test]
    async fn switchboard_chat_over_a_duplex() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Arc::new(Recording::default());
        let switchboards = Switchboards::new(Arc::new(MemoryCookies::default()), sessions.clone());
        let shared = shared(dir.path(), switchboards).await;
        let sbs = &shared.switchboards;
        let alice = Handle::parse("alice@hotmail.com").unwrap();
        let bob = Handle::parse("bob@hotmail.com").unwrap();
        let ttl = Duration::from_secs(60);
        let cookie = sbs.grant(
            alice,
            "Alice".into(),
            Dialect::MSNP2,
            None,
            GrantKind::Create,
            ttl,
        );

        // Alice's pipe is far smaller than what she is sent: the driver
        // writes what it takes and waits for room.
        let (mut a, io) = LineClient::pair_with(16);
        let a_task = tokio::spawn(crate::sb::serve(shared.clone(), io, peer(), slot(&shared)));
        a.send(&format!("USR 1 alice@hotmail.com {cookie}\r\n"))
            .await;
        assert_eq!(
            a.line().await.as_deref(),
            Some("USR 1 OK alice@hotmail.com Alice")
        );
        let id = sessions.ids.lock()[0];

        let cookie = sbs.grant(
            bob,
            "Bob".into(),
            Dialect::MSNP2,
            None,
            GrantKind::Join { session_id: id },
            ttl,
        );
        let (mut b, io) = LineClient::pair();
        let b_task = tokio::spawn(crate::sb::serve(shared.clone(), io, peer(), slot(&shared)));
        b.send(&format!("ANS 1 bob@hotmail.com {cookie} {id}\r\n"))
            .await;
        assert_eq!(
            b.line().await.as_deref(),
            Some("IRO 1 1 1 alice@hotmail.com Alice")
        );
        assert_eq!(b.line().await.as_deref(), Some("ANS 1 OK"));
        assert_eq!(a.line().await.as_deref(), Some("JOI bob@hotmail.com Bob"));

        b.send("MSG 2 A 5\r\nhello").await;
        assert_eq!(b.line().await.as_deref(), Some("ACK 2"));
        assert_eq!(a.line().await.as_deref(), Some("MSG bob@hotmail.com Bob 5"));
        assert_eq!(a.payload(5).await, b"hello");

        let big = "x".repeat(1500);
        b.send(&format!("MSG 3 U {}\r\n{big}", big.len())).await;
        assert_eq!(
            a.line().await.as_deref(),
            Some("MSG bob@hotmail.com Bob 1500")
        );
        assert_eq!(a.payload(1500).await, big.as_bytes());

        b.send("OUT\r\n").await;
        assert_eq!(b.line().await, None);
        assert_eq!(a.line().await.as_deref(), Some("BYE bob@hotmail.com"));
        a.send("OUT\r\n").await;
        assert_eq!(a.line().await, None);
        a_task.await.unwrap();
        b_task.await.unwrap();
        assert!(sbs.get(id).is_none(), "the empty session is gone");
    }

    #[tokio::test]
    async fn idle_sessions_stay_small() {
        // The transport is no longer inside the sessions; the task holds it.
        let ns = std::mem::size_of::<crate::ns::NsSession>();
        let sb = std::mem::size_of::<crate::sb::SbConn>();
        let conn = std::mem::size_of::<crate::conn::Conn>();
        let dir = tempfile::tempdir().unwrap();
        let shared = shared(dir.path(), Switchboards::default()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let ns_task = std::mem::size_of_val(&crate::ns::serve(
            shared.clone(),
            tcp,
            peer(),
            slot(&shared),
            Role::Notification,
        ));
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let sb_task = std::mem::size_of_val(&crate::sb::serve(
            shared.clone(),
            tcp,
            peer(),
            slot(&shared),
        ));
        eprintln!(
            "size_of: NsSession {ns}, SbConn {sb}, Conn {conn}; TCP tasks: NS {ns_task}, SB {sb_task}"
        );
        assert!(ns <= 504 && sb <= 384, "NsSession {ns}, SbConn {sb}");
    }
}
