//! The byte stream between a gateway session and the protocol session it
//! carries: an in-memory duplex pipe. The protocol session gets a
//! [`SessionStream`] and runs exactly as over TCP; the gateway keeps the
//! [`ClientEnd`], writes each request's body into it and answers with what
//! the session has written back.
//!
//! An answer should carry the replies to the request's commands, so the
//! gateway must know when the session has handled them. It cannot see the
//! session, but it sees its reads: a session only asks for more input
//! once it has handled every complete command it has (and queued its
//! replies), so a read that finds the pipe empty, after every byte given
//! to it was read, means "done with all you sent". [`SessionStream`]
//! publishes how many bytes it had read at each such read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf, ReadHalf, WriteHalf,
};
use tokio::sync::watch;
use tracing::debug;

/// A new pipe whose each direction holds at most `capacity` bytes not yet
/// read.
pub(crate) fn pipe(capacity: usize) -> (ClientEnd, SessionStream) {
    let (client, session) = tokio::io::duplex(capacity);
    let (idle_tx, idle_rx) = watch::channel(0);
    let (reader, writer) = tokio::io::split(client);
    (
        ClientEnd {
            reader,
            writer,
            written: 0,
            pending: BytesMut::new(),
            idle: idle_rx,
        },
        SessionStream {
            inner: session,
            read: 0,
            idle: idle_tx,
        },
    )
}

/// A pipe whose client end is a plain byte stream, for transports that
/// need no "replies are queued" signal (the web client's WebSocket,
/// `crate::web::socket`).
pub(crate) fn plain_pipe(capacity: usize) -> (DuplexStream, SessionStream) {
    let (client, session) = tokio::io::duplex(capacity);
    let (idle, _) = watch::channel(0);
    (
        client,
        SessionStream {
            inner: session,
            read: 0,
            idle,
        },
    )
}

/// The protocol session's end of a gateway session: an ordinary byte
/// stream (`msn_server::conn::Transport`). Dropping it (the session
/// ended) closes the pipe: the gateway reads what is left, then the end.
pub struct SessionStream {
    inner: DuplexStream,
    /// Bytes the session has read so far.
    read: u64,
    /// `read` as of the session's last read that found nothing to read.
    idle: watch::Sender<u64>,
}

impl AsyncRead for SessionStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                self.read += (buf.filled().len() - before) as u64;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let read = self.read;
                self.idle.send_if_modified(|idle| {
                    let changed = *idle != read;
                    *idle = read;
                    changed
                });
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for SessionStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The gateway's end of the pipe.
pub(crate) struct ClientEnd {
    reader: ReadHalf<DuplexStream>,
    writer: WriteHalf<DuplexStream>,
    /// Bytes handed to the session so far.
    written: u64,
    /// Bytes of the client's requests the session has not taken yet.
    pending: BytesMut,
    idle: watch::Receiver<u64>,
}

/// What one request got back.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    /// The session's output since the last request.
    pub output: Vec<u8>,
    /// The session has ended (everything it wrote is in `output`).
    pub closed: bool,
}

/// Bytes read from the pipe per call.
const READ_CHUNK: usize = 8192;

impl ClientEnd {
    /// Hands `body` to the session and collects its output, at most
    /// `max_output` bytes (the rest stays queued for the next request).
    ///
    /// With input to deliver, it waits until the session has handled all
    /// of it (see the module documentation), has ended, the answer is
    /// full, or `wait` has passed, reading the output meanwhile so that a
    /// session writing a lot never waits for the gateway. Input the
    /// session has not taken by then waits for the next request, as bytes
    /// in a socket buffer do; more than `max_input` of it waiting means
    /// the client sends faster than the session handles, and the answer
    /// closes the session. Without input (a poll), it answers at once with
    /// what is already there.
    pub async fn exchange(
        &mut self,
        body: &[u8],
        wait: Duration,
        max_input: usize,
        max_output: usize,
    ) -> Exchange {
        let mut out = Exchange::default();
        if self.pending.len() + body.len() > max_input {
            debug!("gateway client sends faster than its session reads");
            out.closed = true;
            return out;
        }
        self.pending.extend_from_slice(body);
        let mut chunk = vec![0u8; READ_CHUNK.min(max_output.max(1))];
        if !self.pending.is_empty() {
            self.deliver(&mut out, &mut chunk, wait, max_output).await;
            if out.closed {
                return out;
            }
        }
        self.drain(&mut out, &mut chunk, max_output).await;
        out
    }

    /// Writes the pending input while reading the output, until the
    /// session has handled all of it or ended, the answer is full, or
    /// `wait` has passed.
    async fn deliver(
        &mut self,
        out: &mut Exchange,
        chunk: &mut [u8],
        wait: Duration,
        max_output: usize,
    ) {
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        let ClientEnd {
            reader,
            writer,
            written,
            pending,
            idle,
        } = self;
        loop {
            let room = max_output.saturating_sub(out.output.len()).min(chunk.len());
            if room == 0 {
                // The answer is full: the rest goes out with the next one.
                return;
            }
            let target = *written + pending.len() as u64;
            tokio::select! {
                read = reader.read(&mut chunk[..room]) => match read {
                    Ok(n) if n > 0 => out.output.extend_from_slice(&chunk[..n]),
                    _ => {
                        out.closed = true;
                        pending.clear();
                        return;
                    }
                },
                wrote = writer.write(pending), if !pending.is_empty() => match wrote {
                    Ok(n) if n > 0 => {
                        pending.advance(n);
                        *written += n as u64;
                    }
                    _ => {
                        // The session is gone; what it wrote is still to
                        // be read.
                        pending.clear();
                        return;
                    }
                },
                // `Err`: the session is gone; read what it left.
                _ = idle.wait_for(|&read| read >= target), if pending.is_empty() => return,
                () = &mut deadline => return,
            }
        }
    }

    /// Reads what is already in the pipe, without waiting for more.
    async fn drain(&mut self, out: &mut Exchange, chunk: &mut [u8], max_output: usize) {
        loop {
            let room = max_output.saturating_sub(out.output.len()).min(chunk.len());
            if room == 0 {
                return;
            }
            let mut buf = ReadBuf::new(&mut chunk[..room]);
            let reader = &mut self.reader;
            let ready = std::future::poll_fn(|cx| {
                Poll::Ready(match Pin::new(&mut *reader).poll_read(cx, &mut buf) {
                    Poll::Ready(result) => Some(result),
                    Poll::Pending => None,
                })
            })
            .await;
            match ready {
                None => return,
                Some(Ok(())) if !buf.filled().is_empty() => {
                    out.output.extend_from_slice(buf.filled());
                }
                Some(_) => {
                    out.closed = true;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in session: answers each complete line with `echo <line>`,
    /// the way a protocol session handles all of its input before reading
    /// again; `quit` ends it.
    async fn echo(mut io: SessionStream) {
        let mut pending = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = io.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if line == b"quit\n" {
                    io.write_all(b"bye\n").await.unwrap();
                    io.shutdown().await.unwrap();
                    return;
                }
                // Handling takes a while: the answer must wait for it.
                tokio::time::sleep(Duration::from_millis(20)).await;
                io.write_all(b"echo ").await.unwrap();
                io.write_all(&line).await.unwrap();
            }
        }
    }

    const LONG: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn an_answer_carries_the_replies_to_its_commands() {
        let (mut client, session) = pipe(1024);
        tokio::spawn(echo(session));
        let got = client.exchange(b"a\nb\n", LONG, 4096, 4096).await;
        assert_eq!(got.output, b"echo a\necho b\n");
        assert!(!got.closed);
        // Half a line: nothing to answer, and the answer does not wait.
        let got = client.exchange(b"c", LONG, 4096, 4096).await;
        assert_eq!(got.output, b"");
        let got = client.exchange(b"\n", LONG, 4096, 4096).await;
        assert_eq!(got.output, b"echo c\n");
        let got = client.exchange(b"", LONG, 4096, 4096).await;
        assert_eq!(got.output, b"");
        let got = client.exchange(b"quit\n", LONG, 4096, 4096).await;
        assert_eq!(got.output, b"bye\n");
        assert!(got.closed);
    }

    #[tokio::test]
    async fn output_beyond_the_cap_waits_for_the_next_request() {
        let (mut client, session) = pipe(16);
        tokio::spawn(echo(session));
        // More than the pipe holds: written while the output is read.
        let body = b"0123456789\n".repeat(8);
        let got = client.exchange(&body, LONG, 4096, 40).await;
        assert_eq!(got.output.len(), 40);
        assert!(!got.closed);
        let mut all = got.output;
        while all.len() < 16 * 8 {
            // Polls take the rest of the output, and deliver the rest of
            // the input the session had no room for.
            let got = client.exchange(b"", LONG, 4096, 40).await;
            assert!(!got.closed);
            all.extend(got.output);
            tokio::task::yield_now().await;
        }
        assert_eq!(all, b"echo 0123456789\n".repeat(8));
    }

    #[tokio::test]
    async fn a_client_far_ahead_of_its_session_is_cut_off() {
        let (mut client, session) = pipe(16);
        // A session that never reads.
        let _session = session;
        let mut send = async || {
            client
                .exchange(b"0123456789", Duration::from_millis(10), 16, 64)
                .await
                .closed
        };
        // 10 bytes into the pipe; 6 more and 4 waiting; 14 waiting.
        assert!(!send().await && !send().await && !send().await);
        // 24 would be waiting.
        let closed = send().await;
        assert!(closed, "more than max_input waiting");
    }
}
