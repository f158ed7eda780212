//! A client of the HTTP gateway (`/gateway/gateway.dll`) as libpurple's
//! `httpconn.c` is one: a keep-alive HTTP/1.1 connection, requests in
//! absolute form (as written for a proxy), one request in flight, the
//! session id and `GW-IP` taken from every answer, `Session=close` ending
//! the session. Answers are parsed strictly: the exact status line,
//! `Content-Length` and no chunked encoding, as the clients need.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use msn_wire::{Decoder, Direction, Frame, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::WAIT;

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status_line: String,
    /// Header lines as sent (name and value, spelling kept).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of the header spelled exactly `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn status(&self) -> u16 {
        self.status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// `X-MSN-Messenger`'s items (`SessionID`, `GW-IP`, `Session`), split
    /// as libpurple splits them: on `"; "`, then each on its first `=`.
    pub fn messenger(&self) -> Vec<(String, String)> {
        let value = self
            .header("X-MSN-Messenger")
            .unwrap_or_else(|| panic!("no X-MSN-Messenger header: {self:?}"));
        value
            .split("; ")
            .map(|item| {
                let (k, v) = item.split_once('=').expect("key=value");
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    pub fn messenger_item(&self, key: &str) -> Option<String> {
        self.messenger()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn closes_session(&self) -> bool {
        self.messenger_item("Session").as_deref() == Some("close")
    }
}

/// A keep-alive HTTP/1.1 connection to the gateway's listener.
pub struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl HttpConn {
    pub async fn connect(http: SocketAddr) -> HttpConn {
        let stream = TcpStream::connect(http).await.expect("connect to HTTP");
        HttpConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects from the local address `from` (any of 127/8).
    pub async fn connect_from(from: [u8; 4], http: SocketAddr) -> HttpConn {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let stream = socket.connect(http).await.expect("connect to HTTP");
        HttpConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// `POST <target>` with libpurple's headers and `body`; the answer.
    pub async fn post(&mut self, target: &str, host: &str, body: &[u8]) -> Answer {
        let mut request = format!(
            "POST {target} HTTP/1.1\r\nAccept: */*\r\nAccept-Language: en-us\r\n\
             User-Agent: MSMSGS\r\nHost: {host}\r\nProxy-Connection: Keep-Alive\r\n\
             Connection: Keep-Alive\r\nPragma: no-cache\r\n\
             Content-Type: application/x-msn-messenger\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.stream.write_all(&request).await.expect("send request");
        self.answer()
            .await
            .unwrap_or_else(|| panic!("no answer to POST {target}"))
    }

    /// Writes raw bytes (a request of one's own making).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Reads one response; `None` if the connection closes first.
    pub async fn answer(&mut self) -> Option<Answer> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if !self.fill(deadline).await {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("ASCII head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(": ").expect("header line");
                (n.to_owned(), v.to_owned())
            })
            .collect();
        assert!(
            !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")),
            "chunked answers break the clients: {head}"
        );
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "Content-Length")
            .unwrap_or_else(|| panic!("no Content-Length: {head}"))
            .1
            .parse()
            .unwrap();
        self.buf.drain(..head_end + 4);
        while self.buf.len() < length {
            assert!(self.fill(deadline).await, "body cut short: {head}");
        }
        let body = self.buf.drain(..length).collect();
        Some(Answer {
            status_line,
            headers,
            body,
        })
    }

    /// Whether the server closed the connection (reads to the end).
    pub async fn closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if !self.fill(deadline).await {
                return true;
            }
        }
    }

    async fn fill(&mut self, deadline: tokio::time::Instant) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => panic!("the HTTP server neither answered nor closed"),
        }
    }
}

/// One gateway session, carrying an MSN protocol stream.
pub struct GatewayClient {
    pub conn: HttpConn,
    /// The latest `SessionID`.
    pub id: String,
    /// The latest `GW-IP`.
    pub gw_ip: String,
    /// `Session=close` was received.
    pub closed: bool,
    /// Every answer's status line and headers were checked.
    pub answers: usize,
    inbox: BytesMut,
    decoder: Decoder,
    pub next_trid: u32,
    pub label: String,
}

impl GatewayClient {
    /// `Action=open&Server=<server>&IP=<ip>` with the first commands; the
    /// answer is checked and its output kept for [`GatewayClient::recv`].
    pub async fn open(http: SocketAddr, server: &str, ip: &str, first: &[u8]) -> GatewayClient {
        Self::open_over(HttpConn::connect(http).await, server, ip, first).await
    }

    pub async fn open_over(
        mut conn: HttpConn,
        server: &str,
        ip: &str,
        first: &[u8],
    ) -> GatewayClient {
        let target = format!(
            "http://gateway.messenger.hotmail.com/gateway/gateway.dll?Action=open&Server={server}&IP={ip}"
        );
        let answer = conn
            .post(&target, "gateway.messenger.hotmail.com", first)
            .await;
        Self::from_answer(conn, answer, &format!("gateway {server}"))
    }

    /// The session an `Action=open` request made, from its answer.
    pub fn from_answer(conn: HttpConn, answer: Answer, label: &str) -> GatewayClient {
        assert_eq!(answer.status_line, "HTTP/1.1 200 OK", "{answer:?}");
        let mut c = GatewayClient {
            conn,
            id: String::new(),
            gw_ip: String::new(),
            closed: false,
            answers: 0,
            inbox: BytesMut::new(),
            decoder: Decoder::new(
                Direction::FromServer,
                Limits {
                    max_line: 1 << 20,
                    max_payload: 1 << 24,
                },
            ),
            next_trid: 1,
            label: label.to_owned(),
        };
        c.take(answer);
        c
    }

    /// Checks an answer the way the clients read it and keeps its output.
    fn take(&mut self, answer: Answer) {
        assert_eq!(
            answer.status_line, "HTTP/1.1 200 OK",
            "[{}] {answer:?}",
            self.label
        );
        assert_eq!(
            answer.header("Content-Type"),
            Some("application/x-msn-messenger")
        );
        let id = answer.messenger_item("SessionID").expect("SessionID");
        let (a, b) = id.split_once('.').expect("session id <digits>.<digits>");
        assert!(
            !a.is_empty()
                && !b.is_empty()
                && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit()),
            "session id {id}"
        );
        self.gw_ip = answer.messenger_item("GW-IP").expect("GW-IP");
        if answer.closes_session() {
            self.closed = true;
        } else {
            self.id = id;
        }
        self.answers += 1;
        self.inbox.extend_from_slice(&answer.body);
    }

    /// A request on the session (`SessionID=…`, or `Action=poll&…` when
    /// `poll`), checked and taken in; the raw answer is returned too.
    pub async fn request(&mut self, poll: bool, body: &[u8]) -> Answer {
        assert!(!self.closed, "[{}] the session was closed", self.label);
        let action = if poll { "Action=poll&" } else { "" };
        let target = format!(
            "http://{}/gateway/gateway.dll?{action}SessionID={}",
            self.gw_ip, self.id
        );
        let host = self.gw_ip.clone();
        let answer = self.conn.post(&target, &host, body).await;
        let copy = Answer {
            status_line: answer.status_line.clone(),
            headers: answer.headers.clone(),
            body: answer.body.clone(),
        };
        self.take(answer);
        copy
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> Answer {
        self.request(false, bytes).await
    }

    pub async fn send(&mut self, line: &str) -> Answer {
        self.send_raw(format!("{line}\r\n").as_bytes()).await
    }

    pub async fn send_payload(&mut self, head: &str, payload: &[u8]) -> Answer {
        let mut bytes = format!("{head} {}\r\n", payload.len()).into_bytes();
        bytes.extend_from_slice(payload);
        self.send_raw(&bytes).await
    }

    pub async fn poll(&mut self) -> Answer {
        self.request(true, b"").await
    }

    /// The next frame of the session's output, polling (every 50 ms, where
    /// clients wait 2 s) until it arrives; `None` once the session is
    /// closed and everything it sent is read.
    pub async fn try_recv(&mut self) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.inbox)
                .expect("server framing")
            {
                return Some(frame);
            }
            if self.closed {
                return None;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "[{}] nothing from the server",
                self.label
            );
            let answer = self.poll().await;
            if answer.body.is_empty() && !self.closed {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    pub async fn recv(&mut self) -> Frame {
        match self.try_recv().await {
            Some(f) => f,
            None => panic!("[{}] the session closed", self.label),
        }
    }

    pub async fn expect(&mut self, line: &str) {
        let got = self.recv().await;
        assert_eq!(got.line(), line, "[{}] unexpected line", self.label);
    }

    /// Reads until `pred` holds (others are dropped).
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Frame) -> bool) -> Frame {
        loop {
            match self.try_recv().await {
                Some(f) if pred(&f) => return f,
                Some(_) => {}
                None => panic!("[{}] closed before {what}", self.label),
            }
        }
    }

    /// The lines the server sends until it closes the session.
    pub async fn expect_close(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(f) = self.try_recv().await {
            lines.push(f.line().to_owned());
        }
        lines
    }

    pub fn trid(&mut self) -> u32 {
        let t = self.next_trid;
        self.next_trid += 1;
        t
    }

    /// Sends a command (`{}` is a fresh TrID) and returns its reply: the
    /// first frame with that TrID.
    pub async fn call(&mut self, template: &str) -> Frame {
        let trid = self.trid();
        let line = template.replacen("{}", &trid.to_string(), 1);
        self.send(&line).await;
        let want = trid.to_string();
        self.wait_for(&line, |f| f.tokens().nth(1) == Some(want.as_str()))
            .await
    }

    /// Drops everything the server sent so far (NS only: `PNG` → `QNG`).
    pub async fn barrier(&mut self) {
        self.send("PNG").await;
        self.wait_for("QNG", |f| f.command() == "QNG").await;
    }
}
