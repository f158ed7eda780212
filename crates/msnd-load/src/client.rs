//! A protocol client for the Notification Server and the Switchboard:
//! one TCP connection with buffered writes and `msn_wire` framing, plus the
//! exchanges the scenarios need (MD5 and TWN logins, `SYN`, `CHG`,
//! `XFR SB`, `USR`/`CAL`/`ANS` on the switchboard) and the parsers for the
//! server lines they read.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use msn_wire::{Decoder, Direction, Frame, Limits, WireError};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any single wait for the server may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an exchange failed. [`ClientError::category`] groups them for the
/// error table.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("server error {code} in reply to {what}")]
    Server { code: u16, what: &'static str },
    #[error("unexpected reply to {what}: {line}")]
    Unexpected { what: &'static str, line: String },
    #[error("unframeable server output: {0}")]
    Wire(#[from] WireError),
    #[error("http: {0}")]
    Http(String),
    #[error("the other participant left the switchboard: {0}")]
    PeerLeft(String),
}

impl ClientError {
    /// A short, stable label for counting.
    pub fn category(&self) -> String {
        match self {
            ClientError::Connect(e) => format!("connect: {}", io_kind(e)),
            ClientError::Io(e) => format!("i/o: {}", io_kind(e)),
            ClientError::Closed => "closed by server".into(),
            ClientError::Timeout(what) => format!("timeout: {what}"),
            ClientError::Server { code, what } => format!("error {code} to {what}"),
            ClientError::Unexpected { what, .. } => format!("unexpected reply to {what}"),
            ClientError::Wire(_) => "bad framing".into(),
            ClientError::Http(e) => format!("http: {e}"),
            ClientError::PeerLeft(_) => "peer left the switchboard (BYE)".into(),
        }
    }
}

fn io_kind(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("{:?} (os {code})", e.kind()),
        None => format!("{:?}", e.kind()),
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// One connection to the NS or the SB.
pub struct Conn {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    decoder: Decoder,
    /// Frames read while waiting for a reply to something else.
    backlog: VecDeque<Frame>,
    next_trid: u32,
    read_chunk: usize,
    pub timeout: Duration,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(ClientError::Connect)?;
        stream.set_nodelay(true).map_err(ClientError::Connect)?;
        Ok(Conn {
            stream,
            rbuf: BytesMut::new(),
            wbuf: Vec::new(),
            decoder: Decoder::new(
                Direction::FromServer,
                Limits {
                    max_line: 16 * 1024,
                    max_payload: 1 << 20,
                },
            ),
            backlog: VecDeque::new(),
            next_trid: 1,
            read_chunk: 4096,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Bytes asked of the kernel per read (bigger for busy connections).
    pub fn set_read_chunk(&mut self, bytes: usize) {
        self.read_chunk = bytes.max(512);
    }

    pub fn next_trid(&mut self) -> u32 {
        let t = self.next_trid;
        self.next_trid = self.next_trid.wrapping_add(1).max(1);
        t
    }

    /// Appends `line` + CRLF to the output buffer (nothing is sent yet).
    pub fn queue_line(&mut self, line: fmt::Arguments<'_>) {
        use std::io::Write as _;
        let _ = self.wbuf.write_fmt(line);
        self.wbuf.extend_from_slice(b"\r\n");
    }

    /// The output buffer itself, for callers that encode in place.
    pub fn output(&mut self) -> &mut Vec<u8> {
        &mut self.wbuf
    }

    /// Writes everything queued in one go.
    pub async fn flush(&mut self) -> Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    /// The next frame already received, without any I/O.
    pub fn poll_frame(&mut self) -> Result<Option<Frame>> {
        if let Some(f) = self.backlog.pop_front() {
            return Ok(Some(f));
        }
        Ok(self.decoder.decode(&mut self.rbuf)?)
    }

    /// Reads once from the socket (cancel-safe). End of stream is
    /// [`ClientError::Closed`]. The read buffer is only grown once data is
    /// there, so thousands of idle connections hold no buffers.
    pub async fn read_more(&mut self) -> Result<usize> {
        loop {
            self.stream.readable().await?;
            self.rbuf.reserve(self.read_chunk);
            match self.stream.try_read_buf(&mut self.rbuf) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next frame, waiting at most [`Conn::timeout`].
    pub async fn recv(&mut self, what: &'static str) -> Result<Frame> {
        let limit = self.timeout;
        tokio::time::timeout(limit, async {
            loop {
                if let Some(f) = self.poll_frame()? {
                    return Ok(f);
                }
                self.read_more().await?;
            }
        })
        .await
        .map_err(|_| ClientError::Timeout(what))?
    }

    /// Waits for the first frame `pred` accepts; others are kept for later.
    pub async fn wait_for(
        &mut self,
        what: &'static str,
        mut pred: impl FnMut(&Frame) -> bool,
    ) -> Result<Frame> {
        let mut skipped = VecDeque::new();
        let found = loop {
            let f = match self.recv(what).await {
                Ok(f) => f,
                Err(e) => {
                    self.backlog = skipped;
                    return Err(e);
                }
            };
            if pred(&f) {
                break f;
            }
            skipped.push_back(f);
        };
        skipped.append(&mut self.backlog);
        self.backlog = skipped;
        Ok(found)
    }

    /// Sends the line `line(trid)` and collects the frames carrying that
    /// TrID until `last` accepts one (included). A numeric reply (error
    /// code) ends the exchange with [`ClientError::Server`].
    pub async fn exchange(
        &mut self,
        what: &'static str,
        line: impl FnOnce(u32) -> String,
        mut last: impl FnMut(&Frame) -> bool,
    ) -> Result<Vec<Frame>> {
        let trid = self.next_trid();
        let text = line(trid);
        self.queue_line(format_args!("{text}"));
        self.flush().await?;
        let want = trid.to_string();
        let mut frames = Vec::new();
        loop {
            let f = self
                .wait_for(what, |f| f.tokens().nth(1) == Some(want.as_str()))
                .await?;
            if let Some(code) = error_code(&f) {
                return Err(ClientError::Server { code, what });
            }
            let done = last(&f);
            frames.push(f);
            if done {
                return Ok(frames);
            }
        }
    }

    /// Sends a command and returns its (first) reply.
    pub async fn call(
        &mut self,
        what: &'static str,
        line: impl FnOnce(u32) -> String,
    ) -> Result<Frame> {
        let mut frames = self.exchange(what, line, |_| true).await?;
        Ok(frames.pop().expect("one frame"))
    }

    /// Drops frames kept while waiting for replies.
    pub fn clear_backlog(&mut self) {
        self.backlog.clear();
    }

    /// Releases buffers while the connection idles.
    pub fn shrink(&mut self) {
        if self.rbuf.is_empty() && !self.decoder.is_mid_frame() {
            self.rbuf = BytesMut::new();
        }
        self.wbuf = Vec::new();
        self.backlog = VecDeque::new();
    }

    /// Sends `OUT` and waits (briefly) for the server to close, so that the
    /// server, not the generator, holds the TIME_WAIT state.
    pub async fn sign_out(mut self) {
        self.wbuf.clear();
        self.queue_line(format_args!("OUT"));
        if self.flush().await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let mut sink = [0u8; 4096];
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}

/// The error code of a numeric reply (`911 7`).
pub fn error_code(f: &Frame) -> Option<u16> {
    let c = f.command();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) {
        c.parse().ok()
    } else {
        None
    }
}

fn unexpected(what: &'static str, f: &Frame) -> ClientError {
    ClientError::Unexpected {
        what,
        line: f.line().chars().take(200).collect(),
    }
}

/// Test accounts: `<prefix><i>@bench.invalid`, password `pw<i>`.
#[derive(Clone, Debug)]
pub struct Accounts {
    pub prefix: String,
}

pub const DOMAIN: &str = "bench.invalid";

impl Accounts {
    pub fn new(prefix: &str) -> Accounts {
        Accounts {
            prefix: prefix.to_owned(),
        }
    }

    pub fn handle(&self, i: usize) -> String {
        format!("{}{i}@{DOMAIN}", self.prefix)
    }

    pub fn name(&self, i: usize) -> String {
        format!("{}{i}", self.prefix)
    }

    pub fn password(i: usize) -> String {
        format!("pw{i}")
    }

    /// The index of one of our handles.
    pub fn index_of(&self, handle: &str) -> Option<usize> {
        let local = handle.strip_suffix(DOMAIN)?.strip_suffix('@')?;
        let digits = local.strip_prefix(self.prefix.as_str())?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

// ---------------------------------------------------------------------------
// Notification Server

/// `VER`/`INF`/`USR MD5 I`/`USR MD5 S` with MSNP7 straight at the NS; returns
/// once `USR … OK` arrived (the profile `MSG` follows and is left unread).
pub async fn md5_login(ns: SocketAddr, handle: &str, password: &str) -> Result<Conn> {
    let mut c = Conn::connect(ns).await?;
    let ver = c.call("VER", |t| format!("VER {t} MSNP7 CVR0")).await?;
    if ver.tokens().nth(2) != Some("MSNP7") {
        return Err(unexpected("VER", &ver));
    }
    let inf = c.call("INF", |t| format!("INF {t}")).await?;
    if !inf.tokens().any(|t| t == "MD5") {
        return Err(unexpected("INF", &inf));
    }
    let usr = c
        .call("USR I", |t| format!("USR {t} MD5 I {handle}"))
        .await?;
    let salt = match usr.params().as_slice() {
        [_, "MD5", "S", salt] => (*salt).to_owned(),
        _ => return Err(unexpected("USR I", &usr)),
    };
    let hash = msn_core::password::md5_login_response(&salt, password);
    let ok = c.call("USR S", |t| format!("USR {t} MD5 S {hash}")).await?;
    if ok.tokens().nth(2) != Some("OK") {
        return Err(unexpected("USR S", &ok));
    }
    Ok(c)
}

/// What `SYN 0` told about the account (MSNP2–MSNP7 per-list form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lists {
    pub version: u64,
    pub forward: Vec<String>,
    /// Users who have this one on their forward list: the watchers.
    pub reverse: Vec<String>,
}

/// `SYN t 0` and the complete download that follows (MSNP7).
pub async fn sync_lists(c: &mut Conn) -> Result<Lists> {
    let mut lists = Lists::default();
    let frames = c
        .exchange(
            "SYN",
            |t| format!("SYN {t} 0"),
            |f| parse_lst(f.line()).is_some_and(|l| l.list == "RL" && l.index == l.count),
        )
        .await?;
    for f in &frames {
        match f.command() {
            "SYN" => {
                lists.version = f.tokens().nth(2).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            "LST" => {
                if let Some(l) = parse_lst(f.line())
                    && let Some(h) = l.handle
                {
                    match l.list {
                        "FL" => lists.forward.push(h.to_owned()),
                        "RL" => lists.reverse.push(h.to_owned()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    // BPR lines carry no TrID and were set aside; nobody needs them.
    c.clear_backlog();
    Ok(lists)
}

/// `CHG t status` and its echo.
pub async fn set_status(c: &mut Conn, status: &str) -> Result<()> {
    let echo = c.call("CHG", |t| format!("CHG {t} {status}")).await?;
    if echo.command() != "CHG" || echo.tokens().nth(2) != Some(status) {
        return Err(unexpected("CHG", &echo));
    }
    Ok(())
}

/// One `LST` line of the MSNP2–MSNP7 download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lst<'a> {
    pub list: &'a str,
    pub index: u32,
    pub count: u32,
    pub handle: Option<&'a str>,
}

/// `LST TrID list version index count [handle name [groups]]`.
pub fn parse_lst(line: &str) -> Option<Lst<'_>> {
    let mut t = line.split_ascii_whitespace();
    if t.next()? != "LST" {
        return None;
    }
    let _trid = t.next()?;
    let list = t.next()?;
    let _version: u64 = t.next()?.parse().ok()?;
    let index = t.next()?.parse().ok()?;
    let count = t.next()?.parse().ok()?;
    Some(Lst {
        list,
        index,
        count,
        handle: t.next(),
    })
}

/// A presence notification: `NLN status handle name…` (MSNP2–MSNP7).
pub fn parse_nln(line: &str) -> Option<(&str, &str)> {
    let mut t = line.split_ascii_whitespace();
    if t.next()? != "NLN" {
        return None;
    }
    let status = t.next()?;
    let handle = t.next()?;
    Some((status, handle))
}

/// `XFR TrID SB host:port CKI cookie`.
pub fn parse_xfr_sb(line: &str) -> Option<(&str, &str)> {
    match line.split_ascii_whitespace().collect::<Vec<_>>().as_slice() {
        ["XFR", _, "SB", addr, "CKI", cookie, ..] => Some((addr, cookie)),
        _ => None,
    }
}

/// `RNG session host:port CKI cookie inviter name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    pub session: String,
    pub addr: String,
    pub cookie: String,
    pub inviter: String,
}

pub fn parse_rng(line: &str) -> Option<Ring> {
    match line.split_ascii_whitespace().collect::<Vec<_>>().as_slice() {
        ["RNG", session, addr, "CKI", cookie, inviter, ..] => Some(Ring {
            session: (*session).to_owned(),
            addr: (*addr).to_owned(),
            cookie: (*cookie).to_owned(),
            inviter: (*inviter).to_owned(),
        }),
        _ => None,
    }
}

/// Resolves a `host:port` the server handed out.
pub async fn resolve(addr: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(addr)
        .await
        .map_err(ClientError::Connect)?
        .next()
        .ok_or_else(|| ClientError::Connect(io::Error::other(format!("{addr} has no address"))))
}

/// `XFR t SB` on the NS: the switchboard address and a cookie.
pub async fn request_switchboard(ns: &mut Conn) -> Result<(SocketAddr, String)> {
    let f = ns.call("XFR SB", |t| format!("XFR {t} SB")).await?;
    let (addr, cookie) = parse_xfr_sb(f.line()).ok_or_else(|| unexpected("XFR SB", &f))?;
    let cookie = cookie.to_owned();
    Ok((resolve(addr).await?, cookie))
}

// ---------------------------------------------------------------------------
// Switchboard

/// `USR t handle cookie` on a new switchboard connection (creates a session).
pub async fn sb_open(addr: SocketAddr, handle: &str, cookie: &str) -> Result<Conn> {
    let mut c = Conn::connect(addr).await?;
    let ok = c
        .call("SB USR", |t| format!("USR {t} {handle} {cookie}"))
        .await?;
    if ok.tokens().nth(2) != Some("OK") {
        return Err(unexpected("SB USR", &ok));
    }
    Ok(c)
}

/// `CAL t handle` → `CAL t RINGING session`.
pub async fn sb_call(c: &mut Conn, invitee: &str) -> Result<String> {
    let f = c.call("CAL", |t| format!("CAL {t} {invitee}")).await?;
    match f.params().as_slice() {
        [_, "RINGING", session] => Ok((*session).to_owned()),
        _ => Err(unexpected("CAL", &f)),
    }
}

/// `ANS t handle cookie session` → `IRO…`, `ANS t OK`.
pub async fn sb_answer(ring: &Ring, handle: &str) -> Result<Conn> {
    let addr = resolve(&ring.addr).await?;
    let mut c = Conn::connect(addr).await?;
    let (cookie, session) = (&ring.cookie, &ring.session);
    c.exchange(
        "ANS",
        |t| format!("ANS {t} {handle} {cookie} {session}"),
        |f| f.command() == "ANS",
    )
    .await?;
    Ok(c)
}

// ---------------------------------------------------------------------------
// MSNP11 Tweener login, NS side (the HTTP side is in `http.rs`)

/// `VER`/`CVR`/`USR TWN I`; returns the connection and the `USR TWN S`
/// string the client copies into its Passport request.
pub async fn twn_start(ns: SocketAddr, handle: &str) -> Result<(Conn, String)> {
    let mut c = Conn::connect(ns).await?;
    let ver = c
        .call("VER", |t| format!("VER {t} MSNP11 MSNP10 CVR0"))
        .await?;
    if ver.tokens().nth(2) != Some("MSNP11") {
        return Err(unexpected("VER", &ver));
    }
    c.call("CVR", |t| {
        format!("CVR {t} 0x0409 winnt 5.1 i386 MSNMSGR 7.0.0777 msmsgs {handle}")
    })
    .await?;
    let usr = c
        .call("USR I", |t| format!("USR {t} TWN I {handle}"))
        .await?;
    match usr.params().as_slice() {
        [_, "TWN", "S", params] => Ok((c, (*params).to_owned())),
        _ => Err(unexpected("USR TWN I", &usr)),
    }
}

/// `USR t TWN S ticket` → `USR t OK …`.
pub async fn twn_finish(c: &mut Conn, ticket: &str) -> Result<()> {
    let ok = c
        .call("USR S", |t| format!("USR {t} TWN S {ticket}"))
        .await?;
    if ok.tokens().nth(2) != Some("OK") {
        return Err(unexpected("USR TWN S", &ok));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst_lines() {
        let l = parse_lst("LST 5 FL 3 1 20 load1@bench.invalid load1 0").unwrap();
        assert_eq!(
            l,
            Lst {
                list: "FL",
                index: 1,
                count: 20,
                handle: Some("load1@bench.invalid")
            }
        );
        let empty = parse_lst("LST 5 BL 3 0 0").unwrap();
        assert_eq!((empty.index, empty.count, empty.handle), (0, 0, None));
        assert!(parse_lst("LSG 5 3 1 1 0 Other 0").is_none());
        assert!(parse_lst("LST 5 FL x 1 2 a@b.c").is_none());
    }

    #[test]
    fn presence_and_switchboard_lines() {
        assert_eq!(
            parse_nln("NLN AWY load7@bench.invalid load7"),
            Some(("AWY", "load7@bench.invalid"))
        );
        assert_eq!(parse_nln("ILN 9 NLN a@b.c a"), None);
        assert_eq!(
            parse_xfr_sb("XFR 10 SB 127.0.0.1:1865 CKI 17262740.1050826919.32308"),
            Some(("127.0.0.1:1865", "17262740.1050826919.32308"))
        );
        assert_eq!(parse_xfr_sb("XFR 10 NS 127.0.0.1:1864 0"), None);
        assert_eq!(
            parse_rng(
                "RNG 11752013 127.0.0.1:1865 CKI 849102291.520491113 alice@hotmail.com Alice%20Smith"
            ),
            Some(Ring {
                session: "11752013".into(),
                addr: "127.0.0.1:1865".into(),
                cookie: "849102291.520491113".into(),
                inviter: "alice@hotmail.com".into(),
            })
        );
        assert_eq!(parse_rng("RNG 1 x CKI"), None);
    }

    #[test]
    fn account_names() {
        let a = Accounts::new("load");
        assert_eq!(a.handle(42), "load42@bench.invalid");
        assert_eq!(a.name(42), "load42");
        assert_eq!(Accounts::password(42), "pw42");
        assert_eq!(a.index_of("load42@bench.invalid"), Some(42));
        assert_eq!(a.index_of("load@bench.invalid"), None);
        assert_eq!(a.index_of("other42@bench.invalid"), None);
        assert_eq!(a.index_of("load42@example.com"), None);
        assert_eq!(a.index_of("load4x@bench.invalid"), None);
    }

    #[test]
    fn error_categories() {
        assert_eq!(
            ClientError::Server {
                code: 911,
                what: "USR S"
            }
            .category(),
            "error 911 to USR S"
        );
        assert_eq!(ClientError::Timeout("CHG").category(), "timeout: CHG");
        assert_eq!(ClientError::Closed.category(), "closed by server");
        let f = Frame::new("911 7", None);
        assert_eq!(error_code(&f), Some(911));
        assert_eq!(error_code(&Frame::new("USR 7 OK a@b.c", None)), None);
    }
}
