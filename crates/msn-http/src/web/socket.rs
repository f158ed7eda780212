//! `GET /messenger/ws?target=ns|sb`: a WebSocket carrying one protocol
//! session. Binary messages in both directions are the byte stream a TCP
//! client and the server exchange — message boundaries mean nothing, the
//! client cuts frames itself as from a socket — and the session on the
//! other end is msn-server's own NS (`target=ns`, never the Dispatch
//! Server: the client does not need `XFR NS`) or switchboard (`target=sb`)
//! session, over an in-memory pipe, for the browser's real address (the
//! connection caps, handshake and idle timeouts, rate limits and
//! slow-reader rules are the TCP ones).
//!
//! The handshake must come from this origin (`Origin` = `Host`), name the
//! subprotocol [`PROTOCOL`] and carry a live web sign-in cookie; each
//! address may hold `[web] max_sockets_per_address` sockets.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use msn_auth::{Exempt, address_key};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
use tracing::debug;

use super::{Web, from_this_origin};
use crate::gateway::pipe::plain_pipe;
use crate::gateway::{OpenError, Target};
use crate::listener::Peer;

/// The socket protocol and its version: MSNP framing, as over TCP.
pub(crate) const PROTOCOL: &str = "msnd.msnp.1";

/// Bytes each direction of the pipe holds before the writer waits.
const PIPE_CAPACITY: usize = 64 * 1024;

/// Bytes read from the session per WebSocket message at most. The buffer
/// lives as long as the socket: small, since most sessions are idle and an
/// MSNP command is rarely longer (a longer one simply takes two messages).
const READ_CHUNK: usize = 4 * 1024;

/// The WebSocket library's read buffer, allocated whole for every socket
/// (its default, 128 KiB, made a web session cost 180 KB of server memory;
/// with 4 KiB it is about 30 KB, see README "Performance"). Larger browser
/// messages are still read, in several reads.
const SOCKET_READ_BUFFER: usize = 4 * 1024;

/// How long a closing message may take to reach a browser that does not read.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

pub(crate) async fn upgrade(
    State(web): State<Arc<Web>>,
    Extension(Peer(peer)): Extension<Peer>,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !from_this_origin(&headers) {
        debug!(%peer, "web socket from another origin refused");
        return (StatusCode::FORBIDDEN, "socket from another site").into_response();
    }
    if !offers_protocol(&headers) {
        return (
            StatusCode::BAD_REQUEST,
            "the socket protocol msnd.msnp.1 is required",
        )
            .into_response();
    }
    let target = match uri.query().unwrap_or_default() {
        "target=ns" => Target::NotificationServer,
        "target=sb" => Target::Switchboard,
        _ => return (StatusCode::BAD_REQUEST, "target must be ns or sb").into_response(),
    };
    if super::api::signed_in(&web, &headers).await.is_none() {
        return (StatusCode::UNAUTHORIZED, "not signed in").into_response();
    }
    let Some(held) = web.sockets.acquire(peer.ip()) else {
        return (StatusCode::TOO_MANY_REQUESTS, "too many sockets").into_response();
    };
    let Some(opener) = web.ctx.sessions.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (client, stream) = plain_pipe(PIPE_CAPACITY);
    if let Err(e) = opener.open(&target, stream, peer) {
        return match e {
            OpenError::ShuttingDown | OpenError::Refused => {
                (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
            }
        };
    }
    let max = web.ctx.config.web.max_message_bytes;
    ws.protocols([PROTOCOL])
        .read_buffer_size(SOCKET_READ_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            pump(socket, client, peer).await;
            drop(held);
        })
}

/// Whether the handshake offers [`PROTOCOL`].
fn offers_protocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL)
}

/// Moves bytes between the socket and the session until either ends, each
/// direction on its own: a browser that stops reading fills the pipe and
/// then the session's own output buffer, and is disconnected as a slow
/// TCP reader is; a session that stops reading holds the browser back.
async fn pump(socket: WebSocket, pipe: DuplexStream, peer: SocketAddr) {
    let (mut from_session, mut to_session) = tokio::io::split(pipe);
    let (mut to_browser, mut from_browser) = socket.split();
    let inbound = async {
        while let Some(message) = from_browser.next().await {
            let bytes = match message {
                Ok(Message::Binary(bytes)) => bytes,
                Ok(Message::Text(text)) => axum::body::Bytes::from(text.as_str().to_owned()),
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(Message::Close(_)) => break,
                Err(e) => {
                    debug!(%peer, error = %e, "web socket error");
                    break;
                }
            };
            if to_session.write_all(&bytes).await.is_err() {
                break;
            }
        }
        // The browser went away: closing the pipe ends the session, which
        // signs the user out as a dropped TCP connection does.
        let _ = to_session.shutdown().await;
    };
    let outbound = async {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match from_session.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let bytes = axum::body::Bytes::copy_from_slice(&buf[..n]);
                    if to_browser.send(Message::Binary(bytes)).await.is_err() {
                        return;
                    }
                }
            }
        }
        // The session ended (OUT, a protocol error, shutdown).
        let _ = tokio::time::timeout(CLOSE_WAIT, to_browser.send(Message::Close(None))).await;
    };
    // Whichever side ends first ends both.
    tokio::select! {
        () = inbound => {}
        () = outbound => {}
    }
}

/// WebSockets per client address (an IPv6 /64), capped unless exempt.
pub(crate) struct PerAddressCount {
    max: u32,
    exempt: Exempt,
    held: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// One socket's place in the count; given back when dropped.
pub(crate) struct Held {
    key: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl PerAddressCount {
    pub(crate) fn new(max: u32, exempt: Exempt) -> PerAddressCount {
        PerAddressCount {
            max,
            exempt,
            held: Arc::default(),
        }
    }

    /// A place for a socket from `ip`, unless the address holds its cap.
    pub(crate) fn acquire(&self, ip: IpAddr) -> Option<Held> {
        let key = address_key(ip);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key).or_insert(0);
        if self.max > 0 && *count >= self.max && !self.exempt.contains(ip) {
            return None;
        }
        *count += 1;
        Some(Held {
            key,
            held: self.held.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_capped_per_address_unless_exempt() {
        let exempt = Exempt::new(vec!["127.0.0.0/8".parse().unwrap()]);
        let count = PerAddressCount::new(2, exempt);
        let a = IpAddr::from([192, 0, 2, 1]);
        let one = count.acquire(a).unwrap();
        let _two = count.acquire(a).unwrap();
        assert!(count.acquire(a).is_none());
        drop(one);
        assert!(count.acquire(a).is_some());
        let local = IpAddr::from([127, 0, 0, 1]);
        let all: Vec<_> = (0..5).map(|_| count.acquire(local).unwrap()).collect();
        assert_eq!(all.len(), 5);
        drop(all);
        assert!(count.held.lock().unwrap().get(&local).is_none());
    }
}
