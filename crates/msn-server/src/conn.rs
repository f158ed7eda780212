//! Connection I/O shared by every service. A session writes its replies
//! into its own output buffer ([`Conn::out`]) and reads frames from its own
//! decoder; the driver owns the byte stream under it (a [`Transport`]: TCP
//! today) and moves bytes between the two without ever blocking on a
//! client that does not read.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use msn_wire::{Decoder, Direction, Frame, Limits, Out, WireError};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::trace;

/// Bytes read per system call at most (unless a large frame already has
/// its room reserved).
const READ_CHUNK: usize = 4096;

/// What a session runs over: an ordered byte stream in both directions.
/// TCP is the one implementation today; an HTTP-polling gateway or a
/// WebSocket adapter only has to look like a stream. Used generically, so
/// every frame costs no allocation or dynamic call.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for T {}

/// Socket options for an accepted TCP connection (TCP only: other
/// transports have no such knobs). `send_buffer` 0 keeps the default.
pub fn tune_tcp(stream: &TcpStream, send_buffer: usize) {
    let _ = stream.set_nodelay(true);
    if send_buffer > 0 {
        let _ = socket2::SockRef::from(stream).set_send_buffer_size(send_buffer);
    }
}

/// One client connection as its session sees it: what arrived and is not
/// yet framed, and what is to be sent. The transport itself is not here.
pub struct Conn {
    peer: SocketAddr,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Encoded lines waiting to be written.
    pub out: Out,
    max_outbound: usize,
    /// Set when the peer closed its sending side.
    eof: bool,
    /// Bytes were handed to the transport since its last flush.
    unflushed: bool,
    /// How many bytes at the front of `out` are already in the protocol
    /// trace (u32: output is bounded by `max_outbound`, and a u32 fits in
    /// the padding after the flags).
    traced: u32,
}

impl Conn {
    pub fn new(peer: SocketAddr, limits: Limits, max_outbound: usize) -> Conn {
        Conn {
            peer,
            rbuf: BytesMut::new(),
            decoder: Decoder::new(Direction::FromClient, limits),
            out: Out::new(),
            max_outbound,
            eof: false,
            unflushed: false,
            traced: 0,
        }
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The next complete frame already buffered, if any.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, WireError> {
        let frame = self.decoder.decode(&mut self.rbuf)?;
        if self.rbuf.is_empty() && self.rbuf.capacity() > 0 && !self.decoder.is_mid_frame() {
            // Idle connections keep no read buffer.
            self.rbuf = BytesMut::new();
        }
        Ok(frame)
    }

    /// True once the peer has closed its side and every buffered frame is
    /// consumed.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// Whether more output is queued than the client may leave unread.
    pub fn overloaded(&self) -> bool {
        self.out.len() > self.max_outbound
    }

    /// Whether reading should pause until the client drains its output
    /// (it must read its own replies before sending more commands).
    pub fn backlogged(&self) -> bool {
        self.out.len() > self.max_outbound / 2
    }

    /// Logs (protocol trace, `debug`) every line queued since the last
    /// call. The driver calls it after each command and each event, so the
    /// trace keeps the order of events; writing calls it too, so that no
    /// line leaves untraced, whoever queued it.
    pub fn trace_output(&mut self) {
        let len = self.out.len();
        let traced = self.traced as usize;
        if traced < len {
            trace::outgoing(&self.out, traced);
        }
        self.traced = u32::try_from(len).unwrap_or(u32::MAX);
    }

    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Waits until `io` has input (if `read`) or takes queued output, then
    /// moves what it can. Returns the bytes read; [`Conn::at_eof`] tells
    /// whether the peer closed.
    pub async fn pump<T: Transport>(&mut self, io: &mut T, read: bool) -> io::Result<usize> {
        let write = self.has_output() || self.unflushed;
        if !read && !write {
            return std::future::pending().await;
        }
        std::future::poll_fn(|cx| {
            let mut progressed = false;
            if write {
                let before = self.out.len();
                match self.poll_write_out(io, cx) {
                    Poll::Ready(Ok(())) => progressed = true,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => progressed = self.out.len() != before,
                }
            }
            if read {
                match self.poll_read_in(io, cx) {
                    Poll::Ready(Ok(0)) => {
                        self.eof = true;
                        return Poll::Ready(Ok(0));
                    }
                    Poll::Ready(result) => return Poll::Ready(result),
                    Poll::Pending => {}
                }
            }
            if progressed {
                Poll::Ready(Ok(0))
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Reads once. Without room already reserved (idle connections have
    /// none), it reads into a stack buffer and keeps only what arrived.
    fn poll_read_in<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() >= READ_CHUNK {
            return tokio_util::io::poll_read_buf(Pin::new(io), cx, &mut self.rbuf);
        }
        let mut chunk = [0u8; READ_CHUNK];
        let mut buf = ReadBuf::new(&mut chunk);
        ready!(Pin::new(io).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        // Data arrived: the connection is busy. Room for the next read
        // now, so the rest of a burst is read in place, not copied.
        self.rbuf.reserve(n + READ_CHUNK);
        self.rbuf.extend_from_slice(buf.filled());
        Poll::Ready(Ok(n))
    }

    /// Writes queued output until it is all written and flushed (`Ready`)
    /// or the transport takes no more (`Pending`).
    fn poll_write_out<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.trace_output();
        while !self.out.is_empty() {
            match ready!(Pin::new(&mut *io).poll_write(cx, self.out.bytes()))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => {
                    self.out.buffer().advance(n);
                    self.traced = self
                        .traced
                        .saturating_sub(u32::try_from(n).unwrap_or(u32::MAX));
                    self.unflushed = true;
                }
            }
        }
        if self.unflushed {
            ready!(Pin::new(&mut *io).poll_flush(cx))?;
            self.unflushed = false;
        }
        if self.out.buffer().capacity() > 0 {
            // Idle connections keep no write buffer.
            self.out = Out::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Writes as much buffered output as `io` takes without waiting.
    pub fn try_flush<T: Transport>(&mut self, io: &mut T) -> io::Result<()> {
        if !self.has_output() && !self.unflushed {
            return Ok(());
        }
        match self.poll_write_out(io, &mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes everything still buffered, giving up after `limit` (used
    /// for the last lines before closing, like `OUT OTH` or `911`).
    pub async fn flush_all<T: Transport>(&mut self, io: &mut T, limit: Duration) {
        let deadline = Instant::now() + limit;
        self.trace_output();
        self.traced = 0;
        let _ = tokio::time::timeout_at(deadline.into(), async {
            let buf = self.out.take();
            let _ = io.write_all(&buf).await;
            let _ = io.flush().await;
        })
        .await;
    }

    /// Flushes, then closes the transport.
    pub async fn close<T: Transport>(mut self, io: &mut T) {
        self.flush_all(io, Duration::from_secs(2)).await;
        let _ = io.shutdown().await;
    }
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_sec: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            tokens: f64::from(burst),
            rate: rate_per_sec,
            burst: f64::from(burst.max(1)),
            last: Instant::now(),
        }
    }

    /// A limiter for `count` events per minute.
    pub fn per_minute(count: u32) -> RateLimiter {
        RateLimiter::new(f64::from(count) / 60.0, count)
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }

    /// Takes a token; false when the rate is exceeded.
    pub fn allow(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Takes a token, possibly on credit: `None` when one was available,
    /// otherwise how long to wait before going on.
    pub fn wait(&mut self) -> Option<Duration> {
        self.refill();
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.rate <= 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(-self.tokens / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let mut r = RateLimiter::new(0.0, 3);
        assert!(r.allow() && r.allow() && r.allow());
        assert!(!r.allow());
    }

    #[test]
    fn bucket_asks_to_wait_beyond_the_burst() {
        let mut r = RateLimiter::new(10.0, 2);
        assert_eq!(r.wait(), None);
        assert_eq!(r.wait(), None);
        let w = r.wait().expect("third token on credit");
        assert!(
            w > Duration::from_millis(50) && w <= Duration::from_millis(100),
            "{w:?}"
        );
        let w2 = r.wait().expect("fourth");
        assert!(w2 > w);
    }
}
