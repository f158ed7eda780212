//! The HTTP gateway, `POST /gateway/gateway.dll` (msnp13-18.md §9): MSN
//! Messenger 5.0 – WLM 2009 behind a proxy that blocks port 1863 tunnel
//! their NS and switchboard connections through HTTP requests.
//!
//! * `?Action=open&Server=NS&IP=<host>` (or `Server=SB`) opens a session;
//!   the body holds the client's first commands.
//! * `?SessionID=<id>` carries more commands, `?Action=poll&SessionID=<id>`
//!   (empty body) asks for what the server has queued; clients poll about
//!   every two seconds while idle and keep one request in flight.
//! * Every answer is `200 OK` with the session's output as its body
//!   (`Content-Length`, never chunked), `Content-Type:
//!   application/x-msn-messenger` and `X-MSN-Messenger: SessionID=<next
//!   id>; GW-IP=<host>`, plus `; Session=close` once the session has
//!   ended. The id changes with every answer (`table`).
//!
//! The bytes inside are the TCP protocol: each gateway session is one end
//! of an in-memory pipe (`pipe`) whose other end runs the server's own
//! DS/NS or switchboard session, started through the [`SessionOpener`] of
//! the [`crate::HttpContext`] (msnd gives msn-server's), for the client's
//! real address. Garbage in a body is therefore a protocol error on that
//! session, which closes it (`Session=close`), never an HTTP error.
//!
//! Bad requests get plain HTTP statuses: `400` for an unknown or expired
//! `SessionID` (never a new session) or a query that is not the
//! gateway's, `409` for a second request while one is in flight, `413`
//! for a body over `gateway.max_request_bytes` (its session is closed: it
//! lost bytes of the client's stream), `429` for an address over
//! `gateway.max_sessions_per_address`, `503` when the server refuses a new
//! connection (its connection caps, or shutting down).

pub(crate) mod pipe;
mod table;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use msn_auth::Exempt;
use msn_config::GatewayConfig;
use percent_encoding::percent_decode_str;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

pub use pipe::SessionStream;

use self::pipe::pipe;
use self::table::{Sessions, Tunnel};
use crate::routes::read_body_limited;

/// `X-MSN-Messenger`; written with this spelling by
/// [`crate::header_case::CaseRestoringIo`].
static X_MSN_MESSENGER: HeaderName = HeaderName::from_static("x-msn-messenger");

const CONTENT_TYPE_MSN: HeaderValue = HeaderValue::from_static("application/x-msn-messenger");

/// Which server a gateway session talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `Server=NS`: the Dispatch Server or a Notification Server;
    /// `requested` is the client's `IP=`, the address it was told (or has
    /// compiled in, `messenger.hotmail.com`), which says which.
    Notification { requested: String },
    /// The Notification Server itself, never the Dispatch Server: the web
    /// client's WebSocket (`crate::web`) signs in there directly.
    NotificationServer,
    /// `Server=SB`.
    Switchboard,
}

/// Why the server would not start a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The server is stopping.
    ShuttingDown,
    /// Over a connection cap.
    Refused,
}

/// Starts protocol sessions for the gateway. msnd implements it with
/// msn-server's session launcher (msn-http does not depend on msn-server).
pub trait SessionOpener: Send + Sync {
    /// Runs a session of `target` over `stream` for the client at `peer`,
    /// exactly as for a TCP connection from there.
    fn open(
        &self,
        target: &Target,
        stream: SessionStream,
        peer: SocketAddr,
    ) -> Result<(), OpenError>;
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Open(Target),
    /// More commands, or a poll (same thing with an empty body).
    Resume {
        id: String,
    },
}

/// Parses the query of a gateway request; `Err` says what is wrong.
fn parse_query(query: &str) -> Result<Request, &'static str> {
    let (mut action, mut server, mut ip, mut id) = (None, None, None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "Action" => action = Some(value),
            "Server" => server = Some(value),
            "IP" => ip = Some(value),
            "SessionID" => id = Some(value),
            _ => {}
        }
    }
    match action.as_deref() {
        Some(a) if a.eq_ignore_ascii_case("open") => {
            let target = match server.as_deref() {
                Some(s) if s.eq_ignore_ascii_case("NS") => Target::Notification {
                    requested: ip.unwrap_or_default(),
                },
                Some(s) if s.eq_ignore_ascii_case("SB") => Target::Switchboard,
                Some(_) => return Err("unknown Server"),
                None => return Err("open without Server"),
            };
            Ok(Request::Open(target))
        }
        None => Ok(Request::Resume {
            id: id.ok_or("no SessionID")?,
        }),
        Some(a) if a.eq_ignore_ascii_case("poll") => Ok(Request::Resume {
            id: id.ok_or("poll without SessionID")?,
        }),
        Some(_) => Err("unknown Action"),
    }
}

/// The gateway's sessions and settings, shared by every HTTP connection.
pub(crate) struct Gateway {
    sessions: Sessions,
    opener: Arc<dyn SessionOpener>,
    settings: GatewayConfig,
    /// `GW-IP`: where clients send their next requests.
    host: String,
}

impl Gateway {
    pub fn new(
        settings: GatewayConfig,
        exempt: Exempt,
        opener: Arc<dyn SessionOpener>,
        host: String,
    ) -> Gateway {
        Gateway {
            sessions: Sessions::new(settings.max_sessions_per_address, exempt),
            opener,
            settings,
            host,
        }
    }

    /// Closes sessions without requests for `gateway.idle_timeout` (their
    /// users sign out, as on a dropped TCP connection) until `shutdown`.
    pub async fn expire_idle(self: Arc<Self>, shutdown: CancellationToken) {
        let idle = self.settings.idle_timeout;
        let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    let expired = self.sessions.expire(idle);
                    if !expired.is_empty() {
                        debug!(count = expired.len(), "idle gateway sessions closed");
                    }
                }
            }
        }
    }

    /// Serves one request to `/gateway/gateway.dll`.
    pub async fn handle(
        &self,
        peer: SocketAddr,
        method: &Method,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Body,
    ) -> Response {
        if method != Method::POST {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(ALLOW, HeaderValue::from_static("POST"))],
            )
                .into_response();
        }
        let request = match parse_query(query.unwrap_or_default()) {
            Ok(request) => request,
            Err(reason) => {
                debug!(reason, ip = %peer.ip(), "gateway request not understood");
                return StatusCode::BAD_REQUEST.into_response();
            }
        };
        let body = match read_body_limited(headers, body, self.settings.max_request_bytes).await {
            Ok(body) => body,
            Err(status) => {
                if let Request::Resume { id } = &request
                    && status == StatusCode::PAYLOAD_TOO_LARGE
                    && self.sessions.remove(id).is_some()
                {
                    info!(ip = %peer.ip(), "gateway request over gateway.max_request_bytes: session closed");
                }
                return status.into_response();
            }
        };
        match request {
            Request::Open(target) => self.open(peer, target, &body).await,
            Request::Resume { id } => {
                let Some(tunnel) = self.sessions.get(&id) else {
                    // The id is the session's only credential: not logged.
                    debug!(ip = %peer.ip(), "gateway request for an unknown or expired session");
                    return StatusCode::BAD_REQUEST.into_response();
                };
                self.exchange(&id, &tunnel, &body).await
            }
        }
    }

    async fn open(&self, peer: SocketAddr, target: Target, body: &[u8]) -> Response {
        let ip = peer.ip();
        let (client, stream) = pipe(self.settings.max_queued_bytes);
        let tunnel = Arc::new(Tunnel::new(ip, client));
        let Ok(id) = self.sessions.insert(ip, tunnel.clone()) else {
            info!(%ip, limit = self.settings.max_sessions_per_address,
                "gateway session refused: the address holds gateway.max_sessions_per_address");
            return StatusCode::TOO_MANY_REQUESTS.into_response();
        };
        if let Err(e) = self.opener.open(&target, stream, peer) {
            self.sessions.remove(&id);
            info!(%ip, reason = ?e, "gateway session refused by the server");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        debug!(%ip, ?target, "gateway session opened");
        self.exchange(&id, &tunnel, body).await
    }

    /// Hands `body` to the session under `id` and answers with its output
    /// and the session's next id.
    async fn exchange(&self, id: &str, tunnel: &Tunnel, body: &[u8]) -> Response {
        let Ok(mut io) = tunnel.io.try_lock() else {
            debug!("gateway request while another is in flight for the session");
            return StatusCode::CONFLICT.into_response();
        };
        tunnel.touch();
        let s = &self.settings;
        let got = io
            .exchange(body, s.reply_wait, s.max_request_bytes, s.max_queued_bytes)
            .await;
        tunnel.touch();
        drop(io);
        if !got.closed
            && let Some(next) = self.sessions.rotate(id)
        {
            return self.answer(&next, false, got.output);
        }
        // Ended (or closed by the gateway meanwhile): the client hears it
        // once; the id is gone.
        self.sessions.remove(id);
        self.answer(id, true, got.output)
    }

    fn answer(&self, id: &str, close: bool, output: Vec<u8>) -> Response {
        let mut value = format!("SessionID={id}; GW-IP={}", self.host);
        if close {
            value.push_str("; Session=close");
        }
        let Ok(value) = HeaderValue::try_from(value) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        (
            StatusCode::OK,
            [
                (X_MSN_MESSENGER.clone(), value),
                (CONTENT_TYPE, CONTENT_TYPE_MSN),
            ],
            output,
        )
            .into_response()
    }
}

/// `GW-IP`, where clients send their next requests: `advertise`
/// (`http.advertise`), else `host` and the listener's port, without the
/// scheme's default port. libpurple writes it into an absolute request
/// URL (`POST http://<GW-IP>/gateway/gateway.dll?…`), so a port other
/// than the default must be in it.
pub(crate) fn gateway_host(advertise: Option<&str>, host: &str, scheme: &str, port: u16) -> String {
    let host_port = match advertise {
        Some(addr) => addr.to_owned(),
        None => match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
            _ => format!("{host}:{port}"),
        },
    };
    crate::passport::authority(scheme, &host_port).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the sessions' streams and never reads them: requests stay in
    /// flight until the streams are dropped.
    #[derive(Default)]
    struct Stalled(std::sync::Mutex<Vec<SessionStream>>);

    impl SessionOpener for Stalled {
        fn open(&self, _: &Target, stream: SessionStream, _: SocketAddr) -> Result<(), OpenError> {
            self.0.lock().unwrap().push(stream);
            Ok(())
        }
    }

    fn session_id(answer: &Response) -> String {
        let value = answer.headers()[&X_MSN_MESSENGER].to_str().unwrap();
        let (id, _) = value
            .strip_prefix("SessionID=")
            .and_then(|v| v.split_once(';'))
            .unwrap();
        id.to_owned()
    }

    #[tokio::test]
    async fn one_request_in_flight_per_session() {
        let settings = GatewayConfig {
            reply_wait: Duration::from_secs(3600),
            ..GatewayConfig::default()
        };
        let opener = Arc::new(Stalled::default());
        let gateway = Arc::new(Gateway::new(
            settings,
            Exempt::default(),
            opener.clone(),
            "gw.example".into(),
        ));
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let post = |gateway: Arc<Gateway>, query: String, body: &'static str| async move {
            gateway
                .handle(
                    peer,
                    &Method::POST,
                    Some(&query),
                    &HeaderMap::new(),
                    Body::from(body),
                )
                .await
        };
        let open = post(gateway.clone(), "Action=open&Server=SB&IP=x".into(), "").await;
        assert_eq!(open.status(), StatusCode::OK);
        let id = session_id(&open);

        // A request the session does not get to answer stays in flight …
        let first = tokio::spawn(post(
            gateway.clone(),
            format!("SessionID={id}"),
            "USR 1 a b\r\n",
        ));
        while gateway.sessions.get(&id).unwrap().io.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        // … and a second one for the session meanwhile is refused.
        let second = post(gateway.clone(), format!("Action=poll&SessionID={id}"), "").await;
        assert_eq!(second.status(), StatusCode::CONFLICT);

        // The session ends: the first is answered, closing the session.
        opener.0.lock().unwrap().clear();
        let first = first.await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let value = first.headers()[&X_MSN_MESSENGER].to_str().unwrap();
        assert_eq!(
            value,
            format!("SessionID={id}; GW-IP=gw.example; Session=close")
        );
        assert!(gateway.sessions.get(&id).is_none());
    }

    #[test]
    fn queries() {
        let ns = |ip: &str| {
            Ok(Request::Open(Target::Notification {
                requested: ip.to_owned(),
            }))
        };
        assert_eq!(
            parse_query("Action=open&Server=NS&IP=messenger.hotmail.com"),
            ns("messenger.hotmail.com")
        );
        assert_eq!(
            parse_query("Action=open&Server=NS&IP=10.0.0.1%3A1864"),
            ns("10.0.0.1:1864")
        );
        assert_eq!(
            parse_query("Action=open&Server=SB&IP=10.0.0.1"),
            Ok(Request::Open(Target::Switchboard))
        );
        let resume = |id: &str| Ok(Request::Resume { id: id.to_owned() });
        assert_eq!(parse_query("SessionID=1.2"), resume("1.2"));
        assert_eq!(parse_query("Action=poll&SessionID=1.2"), resume("1.2"));
        assert!(parse_query("").is_err());
        assert!(parse_query("Action=poll").is_err());
        assert!(parse_query("Action=open&Server=XX").is_err());
        assert!(parse_query("Action=open").is_err());
        assert!(parse_query("Action=dance&SessionID=1.2").is_err());
    }

    #[test]
    fn gateway_hosts() {
        assert_eq!(gateway_host(None, "msn.example", "http", 80), "msn.example");
        assert_eq!(
            gateway_host(None, "msn.example", "http", 8080),
            "msn.example:8080"
        );
        assert_eq!(gateway_host(None, "::1", "http", 8080), "[::1]:8080");
        assert_eq!(
            gateway_host(Some("gw.example:80"), "x", "http", 8080),
            "gw.example"
        );
        assert_eq!(
            gateway_host(Some("gw.example:443"), "x", "https", 1),
            "gw.example"
        );
    }
}
