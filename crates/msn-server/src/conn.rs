//! Socket I/O shared by every service: one task owns the socket, reads and
//! decodes into frames, and writes from a bounded output buffer without ever
//! blocking on a client that does not read.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use msn_wire::{Decoder, Direction, Frame, Limits, Out, WireError};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;

/// Bytes read per system call at most.
const READ_CHUNK: usize = 4096;

/// One client connection.
pub struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Encoded lines waiting to be written.
    pub out: Out,
    max_outbound: usize,
    /// Set when the peer closed its sending side.
    eof: bool,
}

impl Conn {
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        limits: Limits,
        max_outbound: usize,
        send_buffer: usize,
    ) -> Conn {
        let _ = stream.set_nodelay(true);
        if send_buffer > 0 {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(send_buffer);
        }
        Conn {
            stream,
            peer,
            rbuf: BytesMut::new(),
            decoder: Decoder::new(Direction::FromClient, limits),
            out: Out::new(),
            max_outbound,
            eof: false,
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

    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Waits until the socket is readable (if `read`) or can take queued
    /// output, then reads and writes what it can. Returns the bytes read;
    /// [`Conn::at_eof`] tells whether the peer closed.
    pub async fn pump(&mut self, read: bool) -> io::Result<usize> {
        let write = self.has_output();
        let interest = match (read, write) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, true) => Interest::WRITABLE,
            (false, false) => return std::future::pending().await,
        };
        let ready = self.stream.ready(interest).await?;
        if write && ready.is_writable() {
            self.try_flush()?;
        }
        if read && (ready.is_readable() || ready.is_read_closed()) {
            self.rbuf.reserve(READ_CHUNK);
            match self.stream.try_read_buf(&mut self.rbuf) {
                Ok(0) => self.eof = true,
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(0)
    }

    /// Writes as much buffered output as the socket takes without waiting.
    pub fn try_flush(&mut self) -> io::Result<()> {
        while !self.out.is_empty() {
            match self.stream.try_write(self.out.buffer()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out.buffer().advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if self.out.buffer().capacity() > 0 {
            self.out = Out::new();
        }
        Ok(())
    }

    /// Writes everything still buffered, giving up after `limit` (used
    /// for the last lines before closing, like `OUT OTH` or `911`).
    pub async fn flush_all(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let _ = tokio::time::timeout_at(deadline.into(), async {
            let buf = self.out.take();
            let _ = self.stream.write_all(&buf).await;
            let _ = self.stream.flush().await;
        })
        .await;
    }

    /// Flushes and closes the socket.
    pub async fn close(mut self) {
        self.flush_all(Duration::from_secs(2)).await;
        let _ = self.stream.shutdown().await;
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
