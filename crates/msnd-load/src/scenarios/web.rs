//! `web`: Web Messenger sessions. Each user signs in as the browser client
//! does — `POST /messenger/api/sign-in` for a ticket and the cookie, then a
//! WebSocket (`/messenger/ws?target=ns`, subprotocol `msnd.msnp.1`) on
//! which it speaks MSNP11 (`VER`, `CVR`, `USR TWN`, `SYN`, `CHG NLN`) —
//! and stays connected. Measures the server's memory per web session, and
//! then, for `--pairs` of them, the latency of a message from the web
//! user (a switchboard opened over a second WebSocket) to an MSNP7 TCP
//! user (send → the TCP client has read the whole `MSG`).
//!
//! The server must let one address sign in that often:
//! `MSND_WEB__SIGN_INS_PER_ADDRESS=0` (loopback is exempt from the
//! connection caps, not from `[web]`'s own sign-in limit).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use bytes::BytesMut;
use clap::Args;
use futures_util::{SinkExt as _, StreamExt as _};
use msn_wire::{Decoder, Direction, Frame, Limits};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::{Target, Usage, check_fd_budget, server_rss, sign_in};
use crate::client::{self, Accounts};
use crate::http::{self, Url};
use crate::metrics::{Errors, Latency};
use crate::report::{Report, round};
use crate::sys::{self, Machine};

#[derive(Args, Debug, Clone)]
pub struct WebArgs {
    #[command(flatten)]
    pub target: Target,
    /// The HTTP listener, HOST:PORT.
    #[arg(long)]
    pub http: String,
    /// Web sessions to open (accounts first .. first+users).
    #[arg(long)]
    pub users: usize,
    /// Sign-ins in progress at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Web users that each chat with an MSNP7 TCP user (accounts
    /// first+users .. first+users+pairs) once everyone is signed in.
    #[arg(long, default_value_t = 10)]
    pub pairs: usize,
    /// Messages each pair sends, one at a time.
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Seconds to keep every session open after the chats.
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
    /// Seconds to wait before reading the server's memory.
    #[arg(long, default_value_t = 3)]
    pub settle_secs: u64,
    /// The accounts' Passport password (`seed --passport-password`): the
    /// web sign-in checks the argon2id hash, as Passport logins do.
    #[arg(long, default_value = "passport-pw")]
    pub passport_password: String,
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// MSNP over a WebSocket.
struct WebConn {
    ws: Ws,
    buf: BytesMut,
    decoder: Decoder,
    timeout: Duration,
}

impl WebConn {
    async fn open(
        http: &str,
        target: &str,
        cookie: &str,
        timeout: Duration,
    ) -> anyhow::Result<WebConn> {
        let mut request =
            format!("ws://{http}/messenger/ws?target={target}").into_client_request()?;
        let h = request.headers_mut();
        h.insert("Origin", HeaderValue::from_str(&format!("http://{http}"))?);
        h.insert("Cookie", HeaderValue::from_str(cookie)?);
        h.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("msnd.msnp.1"),
        );
        // Nagle off, as browsers have it.
        let connect = tokio_tungstenite::connect_async_with_config(request, None, true);
        let (ws, _) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| anyhow!("websocket handshake timed out"))??;
        Ok(WebConn {
            ws,
            buf: BytesMut::new(),
            decoder: Decoder::new(
                Direction::FromServer,
                Limits {
                    max_line: 16 * 1024,
                    max_payload: 1 << 20,
                },
            ),
            timeout,
        })
    }

    async fn send(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(Message::Binary(bytes.into())).await?;
        Ok(())
    }

    async fn line(&mut self, line: String) -> anyhow::Result<()> {
        self.send(format!("{line}\r\n").into_bytes()).await
    }

    /// The next frame; `None` at the end of the stream.
    async fn next(&mut self) -> anyhow::Result<Option<Frame>> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.buf)? {
                return Ok(Some(f));
            }
            match self.ws.next().await {
                Some(Ok(Message::Binary(b))) => self.buf.extend_from_slice(&b),
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    async fn wait_for(
        &mut self,
        what: &'static str,
        pred: impl Fn(&Frame) -> bool,
    ) -> anyhow::Result<Frame> {
        tokio::time::timeout(self.timeout, async {
            loop {
                match self.next().await? {
                    Some(f) if pred(&f) => return Ok(f),
                    Some(f) if f.command().bytes().all(|b| b.is_ascii_digit()) => {
                        return Err(anyhow!("server error {} waiting for {what}", f.line()));
                    }
                    Some(_) => {}
                    None => return Err(anyhow!("closed waiting for {what}")),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("timed out waiting for {what}"))?
    }
}

/// The sign-in API: (ticket, cookie).
async fn web_sign_in(
    http: &str,
    handle: &str,
    password: &str,
    timeout: Duration,
) -> anyhow::Result<(String, String)> {
    let url = Url::parse(&format!("http://{http}/messenger/api/sign-in"))?;
    let origin = format!("http://{http}");
    let body = serde_json::json!({ "handle": handle, "password": password }).to_string();
    let headers = [
        ("Origin", origin.as_str()),
        ("X-MSND-Web", "1"),
        ("Content-Type", "application/json"),
    ];
    let (response, body) = http::post(&url, &headers, &body, timeout).await?;
    anyhow::ensure!(
        response.status == 200,
        "sign-in answered {}",
        response.status
    );
    let cookie = response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("no cookie")?
        .to_owned();
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    let ticket = json["ticket"].as_str().context("no ticket")?.to_owned();
    Ok((ticket, cookie))
}

/// A web user signed in on the NS socket, as the browser client does.
async fn web_online(
    http: &str,
    accounts: &Accounts,
    i: usize,
    password: &str,
    timeout: Duration,
) -> anyhow::Result<(WebConn, String)> {
    let handle = accounts.handle(i);
    let (ticket, cookie) = web_sign_in(http, &handle, password, timeout).await?;
    let mut ns = WebConn::open(http, "ns", &cookie, timeout).await?;
    ns.line("VER 1 MSNP11 CVR0".into()).await?;
    ns.wait_for("VER", |f| f.command() == "VER").await?;
    ns.line(format!(
        "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.0.0816 msmsgs {handle}"
    ))
    .await?;
    ns.wait_for("CVR", |f| f.command() == "CVR").await?;
    ns.line(format!("USR 3 TWN I {handle}")).await?;
    ns.wait_for("USR S", |f| f.command() == "USR").await?;
    ns.line(format!("USR 4 TWN S {ticket}")).await?;
    let ok = ns.wait_for("USR OK", |f| f.command() == "USR").await?;
    anyhow::ensure!(
        ok.line().starts_with("USR 4 OK"),
        "login refused: {}",
        ok.line()
    );
    ns.line("SYN 5 0 0".into()).await?;
    ns.wait_for("SYN", |f| f.command() == "SYN").await?;
    ns.line("CHG 6 NLN 1073741824".into()).await?;
    ns.wait_for("CHG", |f| f.line().starts_with("CHG 6 "))
        .await?;
    Ok((ns, cookie))
}

/// The web side of a pair: its NS socket, its session cookie, the HTTP
/// listener it came through and its handle.
struct WebUser<'a> {
    ns: &'a mut WebConn,
    cookie: &'a str,
    http: &'a str,
    handle: &'a str,
}

/// One pair: the web user opens a switchboard over a second socket and
/// calls the TCP user, then sends `messages` one at a time; each latency
/// is send → the TCP client has the whole `MSG`.
async fn chat(
    web: WebUser<'_>,
    tcp: &mut client::Conn,
    tcp_handle: &str,
    messages: usize,
    latency: &mut Latency,
) -> anyhow::Result<()> {
    let WebUser {
        ns,
        cookie,
        http,
        handle: web_handle,
    } = web;
    ns.line("XFR 7 SB".into()).await?;
    let xfr = ns.wait_for("XFR", |f| f.command() == "XFR").await?;
    let sb_cookie = xfr
        .tokens()
        .nth(5)
        .context("XFR without a cookie")?
        .to_owned();
    let mut sb = WebConn::open(http, "sb", cookie, ns.timeout).await?;
    sb.line(format!("USR 1 {web_handle} {sb_cookie}")).await?;
    sb.wait_for("SB USR", |f| f.command() == "USR").await?;
    sb.line(format!("CAL 2 {tcp_handle}")).await?;
    sb.wait_for("CAL", |f| f.command() == "CAL").await?;
    let ring = tcp.wait_for("RNG", |f| f.command() == "RNG").await?;
    let ring = client::parse_rng(ring.line()).context("RNG")?;
    let mut tcp_sb = client::sb_answer(&ring, tcp_handle).await?;
    sb.wait_for("JOI", |f| f.command() == "JOI").await?;
    let payload = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{}",
        "x".repeat(100)
    );
    for n in 0..messages {
        let mut bytes = format!("MSG {} U {}\r\n", n + 3, payload.len()).into_bytes();
        bytes.extend_from_slice(payload.as_bytes());
        let t0 = Instant::now();
        sb.send(bytes).await?;
        tcp_sb.wait_for("MSG", |f| f.command() == "MSG").await?;
        latency.record(t0.elapsed());
    }
    let _ = sb.line("OUT".into()).await;
    Ok(())
}

pub async fn run(args: WebArgs, machine: Machine) -> anyhow::Result<Report> {
    let fd_limit = check_fd_budget(args.users * 2 + args.pairs * 3)?;
    let ns_addr: SocketAddr = args.target.ns_addr().await?;
    let accounts = args.target.accounts();
    let timeout = args.target.timeout();
    let pid = args.target.server_pid;
    let errors = Arc::new(Errors::default());
    let alive = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let permits = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (go_tx, go_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Duration>>();
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Latency>();

    let rss_before = server_rss(pid);
    let usage = Usage::start(pid);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..args.users {
        let i = args.target.first + k;
        let partner = (k < args.pairs).then(|| args.target.first + args.users + k);
        let (accounts, errors, alive, cancel, permits, tx, lat_tx) = (
            accounts.clone(),
            errors.clone(),
            alive.clone(),
            cancel.clone(),
            permits.clone(),
            tx.clone(),
            lat_tx.clone(),
        );
        let mut go = go_rx.clone();
        let http = args.http.clone();
        let password = args.passport_password.clone();
        let messages = args.messages;
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await.expect("never closed");
            let t0 = Instant::now();
            let online = web_online(&http, &accounts, i, &password, timeout).await;
            let took = t0.elapsed();
            drop(permit);
            let (mut ns, cookie) = match online {
                Ok(o) => o,
                Err(e) => {
                    errors.add(format!("web sign-in: {e}"));
                    let _ = tx.send(None);
                    return;
                }
            };
            alive.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(Some(took));
            drop(tx);
            if let Some(j) = partner {
                let _ = go.wait_for(|g| *g).await;
                let mut latency = Latency::new();
                let result = async {
                    let mut tcp = sign_in(ns_addr, &accounts, j, false, "NLN", timeout).await?;
                    chat(
                        WebUser {
                            ns: &mut ns,
                            cookie: &cookie,
                            http: &http,
                            handle: &accounts.handle(i),
                        },
                        &mut tcp.conn,
                        &accounts.handle(j),
                        messages,
                        &mut latency,
                    )
                    .await?;
                    anyhow::Ok(tcp)
                }
                .await;
                match result {
                    Ok(tcp) => {
                        let _ = lat_tx.send(latency);
                        tcp.conn.sign_out().await;
                    }
                    Err(e) => errors.add(format!("chat: {e}")),
                }
            }
            drop(lat_tx);
            // Hold: read (and drop) whatever the server sends until cancelled.
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    f = ns.next() => match f {
                        Ok(Some(_)) => {}
                        _ => {
                            errors.add("web session dropped");
                            alive.fetch_sub(1, Ordering::Relaxed);
                            return;
                        }
                    },
                }
            }
            let _ = ns.line("OUT".into()).await;
            alive.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(tx);
    drop(lat_tx);

    let mut login = Latency::new();
    let mut failed = 0u64;
    while let Some(r) = rx.recv().await {
        match r {
            Some(d) => login.record(d),
            None => failed += 1,
        }
    }
    let login_secs = started.elapsed().as_secs_f64();
    let mut r = Report::new("web", machine);
    usage.finish(&mut r, "login_");
    let signed_in = login.count();
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let rss_after = server_rss(pid);

    let _ = go_tx.send(true);
    let mut latency = Latency::new();
    while let Some(l) = lat_rx.recv().await {
        latency.merge(&l);
    }
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let still_open = alive.load(Ordering::Relaxed) as u64;
    cancel.cancel();
    while tasks.join_next().await.is_some() {}

    args.target.describe(&mut r);
    r.param("http", args.http.clone())
        .param("users", args.users as u64)
        .param("concurrency", args.concurrency as u64)
        .param("pairs", args.pairs as u64)
        .param("messages_per_pair", args.messages as u64)
        .param(
            "login",
            "POST /messenger/api/sign-in, WebSocket: MSNP11 VER/CVR/USR TWN/SYN/CHG NLN",
        )
        .param("open_file_limit", fd_limit);
    r.result("signed_in", signed_in)
        .result("login_failures", failed)
        .result("login_phase_secs", round(login_secs, 2))
        .rate("logins_per_sec", signed_in, login_secs)
        .result("open_at_end_of_hold", still_open);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        r.result("server_rss_before_kib", before)
            .result("server_rss_signed_in_kib", after);
        if signed_in > 0 {
            let per = (after as f64 - before as f64) * 1024.0 / signed_in as f64;
            r.result("server_rss_per_web_session_bytes", round(per, 0));
        }
    }
    if pid.is_none() {
        r.note("no --server-pid: server memory was not measured");
    }
    r.latency("web sign-in (API + socket to CHG echo)", login.summary());
    r.latency("message web → MSNP7 TCP (100-byte body)", latency.summary());
    r.errors(errors.snapshot());
    let _ = sys::own_pid();
    Ok(r)
}
