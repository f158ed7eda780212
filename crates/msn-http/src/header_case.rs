//! Restoring the exact spelling of a few response header names.
//!
//! HTTP header names are case-insensitive, but the genuine MSN Messenger
//! clients are not: they look up `PassportURLs` in the nexus reply with a
//! case-sensitive comparison (a reverse proxy that rewrote it to
//! `Passporturls` broke them). hyper, which serves our connections, stores
//! header names as lower-case `HeaderName`s and writes them that way; its
//! only case-preserving hook (`preserve_header_case`) relies on a private
//! extension that applications cannot fill, and `title_case_headers` would
//! produce `Passporturls` and `Www-Authenticate`.
//!
//! So the bytes hyper writes pass through [`CaseRestoringIo`], which follows
//! the HTTP/1.1 response framing (status line, header lines, then a body
//! sized by `Content-Length`, `Transfer-Encoding: chunked`, the status or
//! the request method) and rewrites only header names in response heads
//! that equal one of [`CANONICAL_NAMES`] ignoring case (every name msnd
//! sends, so every reply — Passport, RST, RST2, SOAP, faults — has them
//! in their usual case). The rewrite changes
//! letter case only, so lengths — and hyper's own `Content-Length` — stay
//! valid. Bodies are never touched. Should the tracking ever lose step, the
//! worst outcome is a header left in lower case; bytes are never added,
//! dropped or reordered.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Response header names written with exactly this spelling: every name
/// msnd's responses carry. The clients look the first three up
/// case-sensitively (Passport 1.4), and libpurple's MSNP18 plugin matches
/// `Content-Length` case-sensitively in RST, RST2 and SOAP replies — with
/// hyper's `content-length` it reports "Malformed SOAP response" and hangs
/// at sign-in (msnp13-18.md §4.4) — so the usual spelling of the others is
/// kept too.
pub const CANONICAL_NAMES: &[&str] = &[
    "PassportURLs",
    "Authentication-Info",
    "WWW-Authenticate",
    "Retry-After",
    "Content-Length",
    "Content-Type",
    "Connection",
    "Transfer-Encoding",
    "Location",
    "Allow",
    "Date",
    "X-MSN-Messenger",
];

/// Header names whose values decide where a response body ends.
const CONTENT_LENGTH: &[u8] = b"content-length";
const TRANSFER_ENCODING: &[u8] = b"transfer-encoding";

/// Longest header name that matters here; longer names are passed through
/// as soon as they exceed it.
const MAX_NAME: usize = 19;

/// Longest status line or framing header value kept for parsing.
const MAX_CAPTURE: usize = 128;

/// For each request of a connection, in order, whether it was a `HEAD`
/// request (whose response has a head but no body, whatever its
/// `Content-Length` says). The service records a request before its
/// response can be written; HTTP/1.1 answers requests in order.
#[derive(Debug, Default)]
pub struct RequestLog {
    head_requests: Mutex<VecDeque<bool>>,
}

impl RequestLog {
    /// Records a request that will get a response.
    pub fn record(&self, is_head: bool) {
        self.lock().push_back(is_head);
    }

    /// The next final response answers a `HEAD` request. Responses hyper
    /// writes without asking the service (`400` on a malformed request)
    /// find the log empty and count as answering `GET`; hyper closes the
    /// connection after them.
    fn next_is_head(&self) -> bool {
        self.lock().pop_front().unwrap_or(false)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<bool>> {
        // The queue holds plain booleans: a panic elsewhere cannot leave it
        // inconsistent.
        self.head_requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where the writer is in the response stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The status line of a response head.
    StatusLine,
    /// At the first byte of a header line (or of the blank line ending the
    /// head).
    LineStart,
    /// Reading a header name; its bytes are held back until it is known.
    Name,
    /// The rest of a header line.
    Value,
    /// A CR at the start of a line: the head ends at the next LF.
    HeadEnd,
    /// A body of known length: this many bytes remain.
    Body(u64),
    /// The size line of a chunk.
    ChunkSize,
    /// Chunk data: this many bytes remain, then CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkDataEnd,
    /// At the start of a trailer line (after the last chunk).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// A CR at the start of a trailer line: the message ends at the next LF.
    TrailerEnd,
    /// A body that ends when the connection closes, or a protocol after
    /// `101 Switching Protocols`: nothing more to rewrite.
    Opaque,
}

/// Which framing header's value is being captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capture {
    None,
    ContentLength,
    TransferEncoding,
}

/// The streaming rewriter: response bytes in, the same bytes with
/// canonical header names out.
#[derive(Debug)]
pub(crate) struct CaseFixer {
    state: State,
    log: Arc<RequestLog>,
    /// Header name bytes not yet emitted.
    name: Vec<u8>,
    /// Status line or framing header value being captured.
    capture: Vec<u8>,
    capturing: Capture,
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
    chunk_size: u64,
    chunk_ext: bool,
}

impl CaseFixer {
    pub(crate) fn new(log: Arc<RequestLog>) -> CaseFixer {
        CaseFixer {
            state: State::StatusLine,
            log,
            name: Vec::with_capacity(MAX_NAME + 1),
            capture: Vec::new(),
            capturing: Capture::None,
            status: 0,
            content_length: None,
            chunked: false,
            chunk_size: 0,
            chunk_ext: false,
        }
    }

    /// Appends `input`, rewritten, to `out`. A header name that is still
    /// incomplete at the end of `input` is held back until a later call
    /// (or [`CaseFixer::release`]).
    pub(crate) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Body(remaining) => {
                    let n = take(remaining, input.len() - i);
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    self.state = if remaining == n as u64 {
                        State::StatusLine
                    } else {
                        State::Body(remaining - n as u64)
                    };
                }
                State::ChunkData(remaining) => {
                    let n = take(remaining, input.len() - i);
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    self.state = if remaining == n as u64 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(remaining - n as u64)
                    };
                }
                State::Opaque => {
                    out.extend_from_slice(&input[i..]);
                    i = input.len();
                }
                _ => {
                    self.byte(input[i], out);
                    i += 1;
                }
            }
        }
    }

    /// Emits held-back name bytes unchanged (the writer is being flushed
    /// in the middle of a header name, which hyper does not do).
    pub(crate) fn release(&mut self, out: &mut Vec<u8>) {
        if self.state == State::Name {
            out.append(&mut self.name);
            self.state = State::Value;
            self.capturing = Capture::None;
        }
    }

    /// One byte of a head or of chunked framing.
    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.state {
            State::StatusLine => {
                out.push(b);
                if b == b'\n' {
                    self.status = parse_status(&self.capture);
                    self.capture.clear();
                    self.state = State::LineStart;
                } else if self.capture.len() < MAX_CAPTURE {
                    self.capture.push(b);
                }
            }
            State::LineStart => match b {
                b'\r' => {
                    out.push(b);
                    self.state = State::HeadEnd;
                }
                b'\n' => {
                    out.push(b);
                    self.end_of_head();
                }
                _ => {
                    self.name.push(b);
                    self.state = State::Name;
                }
            },
            State::Name => {
                if b == b':' {
                    self.end_of_name(out);
                    out.push(b);
                    self.state = State::Value;
                } else if b == b'\n' || self.name.len() >= MAX_NAME {
                    // Not a name that matters (or not a header line at all).
                    out.append(&mut self.name);
                    self.capturing = Capture::None;
                    self.state = State::Value;
                    self.byte(b, out);
                } else {
                    self.name.push(b);
                }
            }
            State::Value => {
                out.push(b);
                if b == b'\n' {
                    self.end_of_value();
                    self.state = State::LineStart;
                } else if self.capturing != Capture::None && self.capture.len() < MAX_CAPTURE {
                    self.capture.push(b);
                }
            }
            State::HeadEnd => {
                out.push(b);
                if b == b'\n' {
                    self.end_of_head();
                }
            }
            State::ChunkSize => {
                out.push(b);
                match b {
                    b'\n' => {
                        self.state = if self.chunk_size == 0 {
                            State::TrailerStart
                        } else {
                            State::ChunkData(self.chunk_size)
                        };
                        self.chunk_size = 0;
                        self.chunk_ext = false;
                    }
                    b';' | b' ' | b'\t' | b'\r' => self.chunk_ext = true,
                    _ if !self.chunk_ext => {
                        if let Some(d) = (b as char).to_digit(16) {
                            self.chunk_size = self
                                .chunk_size
                                .saturating_mul(16)
                                .saturating_add(u64::from(d));
                        }
                    }
                    _ => {}
                }
            }
            State::ChunkDataEnd => {
                out.push(b);
                if b == b'\n' {
                    self.state = State::ChunkSize;
                }
            }
            State::TrailerStart => {
                out.push(b);
                self.state = match b {
                    b'\r' => State::TrailerEnd,
                    b'\n' => State::StatusLine,
                    _ => State::Trailer,
                };
            }
            State::Trailer => {
                out.push(b);
                if b == b'\n' {
                    self.state = State::TrailerStart;
                }
            }
            State::TrailerEnd => {
                out.push(b);
                if b == b'\n' {
                    self.state = State::StatusLine;
                }
            }
            State::Body(_) | State::ChunkData(_) | State::Opaque => {
                unreachable!("bulk states are handled in feed")
            }
        }
    }

    /// A complete header name is in `self.name`: emit it, canonical if it
    /// is one of ours, and note whether its value frames the body.
    fn end_of_name(&mut self, out: &mut Vec<u8>) {
        match CANONICAL_NAMES
            .iter()
            .find(|c| c.as_bytes().eq_ignore_ascii_case(&self.name))
        {
            Some(canonical) => out.extend_from_slice(canonical.as_bytes()),
            None => out.extend_from_slice(&self.name),
        }
        self.capturing = if self.name.eq_ignore_ascii_case(CONTENT_LENGTH) {
            Capture::ContentLength
        } else if self.name.eq_ignore_ascii_case(TRANSFER_ENCODING) {
            Capture::TransferEncoding
        } else {
            Capture::None
        };
        self.capture.clear();
        self.name.clear();
    }

    fn end_of_value(&mut self) {
        let value = String::from_utf8_lossy(&self.capture);
        match self.capturing {
            Capture::None => {}
            Capture::ContentLength => self.content_length = value.trim().parse().ok(),
            Capture::TransferEncoding => {
                // Chunked applies when it is the last coding listed.
                self.chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        self.capturing = Capture::None;
        self.capture.clear();
    }

    /// The blank line after the headers: decide how the body is framed
    /// (RFC 9112 §6.3).
    fn end_of_head(&mut self) {
        let status = self.status;
        let content_length = self.content_length.take();
        let chunked = std::mem::take(&mut self.chunked);
        self.state = if status == 101 {
            State::Opaque
        } else if (100..200).contains(&status) {
            // Interim response: the final one follows for the same request.
            State::StatusLine
        } else if self.log.next_is_head() || status == 204 || status == 304 {
            State::StatusLine
        } else if chunked {
            State::ChunkSize
        } else {
            match content_length {
                Some(0) => State::StatusLine,
                Some(n) => State::Body(n),
                None => State::Opaque,
            }
        };
    }
}

/// How many of `available` bytes belong to a body with `remaining` left.
fn take(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |r| r.min(available))
}

/// The status code of `HTTP/1.1 200 OK` (0 if unreadable).
fn parse_status(line: &[u8]) -> u16 {
    let line = String::from_utf8_lossy(line);
    line.split_ascii_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// A connection whose written bytes pass through the response rewriter
/// (see the module documentation).
///
/// Writes are accepted whole into a small output buffer, which is drained
/// to the inner stream before new input is taken (so buffering stays
/// bounded by one write). Reads pass straight through.
pub struct CaseRestoringIo<T> {
    inner: T,
    fixer: CaseFixer,
    /// Rewritten bytes not yet accepted by `inner`.
    out: Vec<u8>,
    /// How much of `out` has been written.
    written: usize,
}

impl<T> CaseRestoringIo<T> {
    pub fn new(inner: T, log: Arc<RequestLog>) -> Self {
        CaseRestoringIo {
            inner,
            fixer: CaseFixer::new(log),
            out: Vec::new(),
            written: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> CaseRestoringIo<T> {
    /// Writes buffered output until none is left.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.out.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CaseRestoringIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CaseRestoringIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.fixer.feed(buf, &mut this.out);
        // Start sending now; what the stream does not take yet goes out on
        // the next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.fixer.release(&mut this.out);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.fixer.release(&mut this.out);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixer(head_requests: &[bool]) -> CaseFixer {
        let log = Arc::new(RequestLog::default());
        for &h in head_requests {
            log.record(h);
        }
        CaseFixer::new(log)
    }

    fn rewrite_in_pieces(input: &[u8], head_requests: &[bool], cuts: &[usize]) -> Vec<u8> {
        let mut f = fixer(head_requests);
        let mut out = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain([input.len()].iter()) {
            f.feed(&input[start..cut], &mut out);
            start = cut;
        }
        f.release(&mut out);
        out
    }

    fn rewrite(input: &[u8], head_requests: &[bool]) -> Vec<u8> {
        rewrite_in_pieces(input, head_requests, &[])
    }

    const NEXUS: &[u8] = b"HTTP/1.1 200 OK\r\npassporturls: DALogin=http://h/login2.srf\r\ncontent-length: 0\r\ndate: x\r\n\r\n";

    #[test]
    fn restores_the_canonical_names_only() {
        let input = b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Passport1.4 da-status=failed\r\nauthentication-info: passporturls: x\r\nx-passporturls: y\r\ncontent-length: 0\r\n\r\n";
        let out = rewrite(input, &[false]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Passport1.4 da-status=failed\r\nAuthentication-Info: passporturls: x\r\nx-passporturls: y\r\nContent-Length: 0\r\n\r\n"
        );
        let out = rewrite(NEXUS, &[false]);
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\nPassportURLs: DALogin="));
    }

    #[test]
    fn any_split_gives_the_same_bytes() {
        let mut input = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nauthentication-info: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".to_vec();
        input.extend_from_slice(NEXUS);
        let whole = rewrite(&input, &[false, false, false]);
        assert_eq!(whole.len(), input.len());
        assert!(whole.windows(21).any(|w| w == b"\r\nAuthentication-Info"));
        assert!(whole.windows(14).any(|w| w == b"\r\nPassportURLs"));
        for a in 0..=input.len() {
            assert_eq!(
                rewrite_in_pieces(&input, &[false, false, false], &[a]),
                whole,
                "cut at {a}"
            );
            let b = (a + 7).min(input.len());
            assert_eq!(
                rewrite_in_pieces(&input, &[false, false, false], &[a, b]),
                whole
            );
        }
    }

    #[test]
    fn bodies_are_never_touched() {
        // A body that looks like a header line, framed by length and by
        // chunks, followed by a real head that must still be fixed.
        let body = b"x\r\npassporturls: no\r\n\r\n";
        let mut input =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        input.extend_from_slice(body);
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        input.extend_from_slice(format!("{:X};ext=1\r\n", body.len()).as_bytes());
        input.extend_from_slice(body);
        input.extend_from_slice(b"\r\n0\r\ntrailer: 1\r\n\r\n");
        input.extend_from_slice(NEXUS);
        let out = rewrite(&input, &[false, false, false]);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("passporturls: no").count(), 2, "{text}");
        assert!(text.ends_with(
            "PassportURLs: DALogin=http://h/login2.srf\r\nContent-Length: 0\r\nDate: x\r\n\r\n"
        ));
    }

    #[test]
    fn head_responses_interim_responses_and_empty_statuses_have_no_body() {
        let mut input = Vec::new();
        // HEAD: content-length announces a body that is not sent.
        input.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n");
        input.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        input.extend_from_slice(b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n");
        input.extend_from_slice(NEXUS);
        let out = rewrite(&input, &[true, false, false]);
        assert!(out.ends_with(&rewrite(NEXUS, &[false])));
        assert!(out.windows(12).any(|w| w == b"PassportURLs"));
        // Had the first response answered a GET, the next head would be
        // taken for its body and left alone — the log matters.
        let out = rewrite(&input, &[false, false, false]);
        assert!(!out.windows(12).any(|w| w == b"PassportURLs"));
    }

    #[test]
    fn close_delimited_bodies_and_upgrades_end_rewriting() {
        let input = b"HTTP/1.0 200 OK\r\n\r\nHTTP/1.1 200 OK\r\npassporturls: x\r\n\r\n";
        assert_eq!(rewrite(input, &[false]), input.to_vec());
        let input = b"HTTP/1.1 101 Switching Protocols\r\n\r\n\r\npassporturls: x\r\n";
        assert_eq!(rewrite(input, &[false]), input.to_vec());
    }

    #[test]
    fn release_emits_a_held_name_unchanged() {
        let mut f = fixer(&[false]);
        let mut out = Vec::new();
        f.feed(b"HTTP/1.1 200 OK\r\npassport", &mut out);
        assert_eq!(out, b"HTTP/1.1 200 OK\r\n");
        f.release(&mut out);
        f.feed(b"urls: x\r\ncontent-length: 0\r\n\r\n", &mut out);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\npassporturls: x\r\nContent-Length: 0\r\n\r\n"
        );
    }

    /// A stream that takes at most three bytes per write.
    struct Trickle(Vec<u8>);

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(3);
            self.get_mut().0.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn io_wrapper_handles_partial_writes_of_the_inner_stream() {
        use tokio::io::AsyncWriteExt;
        let log = Arc::new(RequestLog::default());
        log.record(false);
        let mut io = CaseRestoringIo::new(Trickle(Vec::new()), log);
        for piece in NEXUS.chunks(5) {
            io.write_all(piece).await.unwrap();
        }
        io.flush().await.unwrap();
        assert_eq!(io.inner.0, rewrite(NEXUS, &[false]));
        assert!(io.inner.0.starts_with(b"HTTP/1.1 200 OK\r\nPassportURLs: "));
    }
}
