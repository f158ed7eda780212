//! Accepting connections (plain and TLS) and serving HTTP/1.1 on them with
//! hyper, through [`CaseRestoringIo`] so that header names keep the
//! spelling clients expect. Connections take a slot from the server-wide
//! connection gate (in all and per address; an HTTP connection always
//! counts as unauthenticated) and end on shutdown: idle ones at once, busy
//! ones after their current response, stragglers when the grace period is
//! over.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, Request, Uri};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service as _;
use tracing::{debug, warn};

use crate::HttpContext;
use crate::header_case::{CaseRestoringIo, RequestLog};
use crate::tls::{Acceptor, TlsStream};

/// Time allowed for a TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request head, and for the next request on an idle
/// keep-alive connection.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Request heads here are a request line and a few short headers. (Bodies
/// stream through this buffer; RST.srf bounds its own.)
const MAX_BUF_SIZE: usize = 16 * 1024;

/// The client's address, in every request's extensions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

/// What every connection task needs.
#[derive(Clone)]
pub(crate) struct Serving {
    pub ctx: Arc<HttpContext>,
    pub router: Router,
    /// Tracks connection tasks, for [`crate::RunningHttp::wait`].
    pub tracker: TaskTracker,
    /// Cancelled when the grace period after shutdown is over: remaining
    /// connections are dropped.
    pub force_close: CancellationToken,
}

/// Accepts connections until shutdown; `tls` makes it an HTTPS listener.
pub(crate) async fn accept_loop(listener: TcpListener, tls: Option<Acceptor>, serving: Serving) {
    let shutdown = serving.ctx.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and similar: wait instead of spinning.
                warn!(error = %e, "http accept failed");
                if e.kind() != io::ErrorKind::ConnectionAborted {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        // Over a connection cap: closed at once; the gate counts the
        // refusal and logs it (once per interval, with a count), for HTTP
        // as for the protocol listeners.
        let Ok(slot) = serving.ctx.gate.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        // The gateway's answers and the Web Messenger's socket carry
        // small protocol messages, which Nagle's algorithm would hold back
        // for the peer's delayed ACK (40 ms), as on the protocol listeners.
        let _ = stream.set_nodelay(true);
        let tls = tls.clone();
        let serving2 = serving.clone();
        serving.tracker.spawn(async move {
            match tls {
                None => serve_connection(stream, peer, &serving2).await,
                Some(acceptor) => serve_tls(acceptor, stream, peer, &serving2).await,
            }
            drop(slot);
        });
    }
    debug!("http listener stopped");
}

/// The handshake (rustls or OpenSSL, [`Acceptor`]), then the same
/// request serving as plain HTTP.
async fn serve_tls(acceptor: Acceptor, stream: TcpStream, peer: SocketAddr, serving: &Serving) {
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.handshake(stream));
    let stream = tokio::select! {
        () = serving.ctx.shutdown.cancelled() => return,
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                debug!(%peer, error = %e, "tls handshake failed");
                return;
            }
            Err(_) => {
                debug!(%peer, "tls handshake timed out");
                return;
            }
        },
    };
    // Which clients still need TLS 1.0 and 3DES shows in the debug log.
    if tracing::enabled!(tracing::Level::DEBUG) {
        let (version, cipher) = stream.negotiated();
        debug!(%peer, %version, %cipher, "tls handshake");
    }
    match stream {
        TlsStream::Rustls(stream) => serve_connection(stream, peer, serving).await,
        #[cfg(feature = "legacy-tls")]
        TlsStream::OpenSsl(stream) => serve_connection(stream, peer, serving).await,
    }
}

/// The request's URI with every run of `/` in its path made one, if it
/// has such a run. libpurple's MSNP18 plugin posts to `//RST2.srf` and
/// `//abservice/abservice.asmx`, and WLM 2009's `wsa:To` shows the same
/// `…:443//RST2.srf`: clients join a host ending in `/` and a path
/// starting with one (msnp13-18.md §4.4). No route of msnd has an empty
/// path segment, so this only ever makes a request reach its route —
/// every route at once, whoever adds it. The query is kept.
fn collapse_slashes(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if !path.contains("//") {
        return None;
    }
    let mut collapsed = String::with_capacity(uri.path_and_query()?.as_str().len());
    for c in path.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    if let Some(query) = uri.query() {
        collapsed.push('?');
        collapsed.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(collapsed.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// Serves HTTP/1.1 on one connection until it closes, shutdown has let
/// its current exchange finish, or the grace period is over.
async fn serve_connection<S>(stream: S, peer: SocketAddr, serving: &Serving)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let log = Arc::new(RequestLog::default());
    let io = TokioIo::new(CaseRestoringIo::new(stream, log.clone()));
    let router = serving.router.clone();
    let service = service_fn(move |mut request: Request<Incoming>| {
        log.record(request.method() == Method::HEAD);
        // The login handlers throttle by the client's address.
        request.extensions_mut().insert(Peer(peer));
        if let Some(uri) = collapse_slashes(request.uri()) {
            *request.uri_mut() = uri;
        }
        router.clone().call(request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_BUF_SIZE)
        .serve_connection(io, service)
        // WebSockets of the web client (`crate::web::socket`).
        .with_upgrades();
    tokio::pin!(connection);

    let shutdown = serving.ctx.shutdown.clone();
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            // Closes an idle connection now, a busy one after its response.
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = serving.force_close.cancelled() => return,
            }
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "http connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_slashes_are_collapsed() {
        let c = |s: &str| collapse_slashes(&s.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(c("//RST2.srf").as_deref(), Some("/RST2.srf"));
        assert_eq!(
            c("//storageservice//SchematizedStore.asmx").as_deref(),
            Some("/storageservice/SchematizedStore.asmx")
        );
        assert_eq!(
            c("///rdr/pprdr.asp?x=//y").as_deref(),
            Some("/rdr/pprdr.asp?x=//y")
        );
        assert_eq!(
            c("http://h//login2.srf").as_deref(),
            Some("http://h/login2.srf")
        );
        assert_eq!(c("/RST.srf"), None);
        assert_eq!(c("/a/b?q=//"), None);
    }
}
