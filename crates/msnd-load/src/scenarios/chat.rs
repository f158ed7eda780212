//! `chat`: P pairs of users, each pair in its own switchboard session
//! (`XFR SB` → `USR` → `CAL` → `RNG` → `ANS`), the first user sending
//! `MSG t U|A size` to the second. Every payload carries its send time, so
//! the receiver measures the delivery latency.
//!
//! Without `--rate` each pair runs closed-loop with a window of unanswered
//! messages (mode A: awaiting `ACK`/`NAK`; mode U: not yet received, so the
//! receiver's switchboard queue is never overrun). With `--rate R` the pairs
//! offer R messages/s in total on a fixed schedule (open loop).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{Target, Usage, check_fd_budget, keep_alive, sign_in};
use crate::client::{self, Accounts, ClientError, Conn};
use crate::metrics::{Errors, Latency, nanos_of, now_nanos};
use crate::report::{Report, round};
use crate::sys::Machine;

#[derive(Args, Debug, Clone)]
pub struct ChatArgs {
    #[command(flatten)]
    pub target: Target,
    /// Sender/receiver pairs (accounts first+2p and first+2p+1).
    #[arg(long)]
    pub pairs: usize,
    /// Acknowledgement mode: U (none) or A (ACK/NAK for every message).
    #[arg(long, default_value = "U", value_parser = parse_mode)]
    pub mode: char,
    /// Payload bytes per message (MIME headers included; at least 80).
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// Offered messages per second over all pairs (open loop); without it
    /// every pair sends as fast as its window allows.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds of sending before measuring.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Messages a pair may have in flight (default 256 for U, 32 for A;
    /// 1000 with --rate, where going over it counts as a skipped send).
    #[arg(long)]
    pub window: Option<usize>,
    /// Pairs being set up at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Another node's Notification Server, HOST:PORT: the receivers sign
    /// in there, so that each chat's invitation crosses nodes (the
    /// switchboard session stays on the sender's node).
    #[arg(long)]
    pub ns_other: Option<String>,
}

fn parse_mode(s: &str) -> Result<char, String> {
    match s {
        "U" | "u" => Ok('U'),
        "A" | "a" => Ok('A'),
        _ => Err("mode must be U or A".into()),
    }
}

/// The MIME head of every message; the body starts with `t=<16 hex>`.
const MIME_HEAD: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n";
const TS_LEN: usize = 16;

/// A message payload with a slot for the send time.
#[derive(Clone, Debug)]
pub struct Payload {
    bytes: Vec<u8>,
    ts_at: usize,
}

impl Payload {
    pub fn new(size: usize) -> Result<Payload, String> {
        let min = MIME_HEAD.len() + 2 + TS_LEN;
        if size < min {
            return Err(format!("--size must be at least {min}"));
        }
        let mut bytes = MIME_HEAD.to_vec();
        bytes.extend_from_slice(b"t=");
        let ts_at = bytes.len();
        bytes.resize(size, b'x');
        bytes[ts_at..ts_at + TS_LEN].fill(b'0');
        if ts_at + TS_LEN < size {
            bytes[ts_at + TS_LEN] = b' ';
        }
        Ok(Payload { bytes, ts_at })
    }

    /// Appends `MSG trid mode len` + the payload stamped with `ts`.
    pub fn encode(&self, out: &mut Vec<u8>, trid: u32, mode: char, ts: u64) {
        let _ = write!(out, "MSG {trid} {mode} {}\r\n", self.bytes.len());
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        write_hex(
            &mut out[start + self.ts_at..start + self.ts_at + TS_LEN],
            ts,
        );
    }

    /// The send time stamped into a received payload.
    pub fn timestamp(&self, payload: &[u8]) -> Option<u64> {
        read_hex(payload.get(self.ts_at..self.ts_at + TS_LEN)?)
    }
}

fn write_hex(dst: &mut [u8], v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in dst.iter_mut().enumerate() {
        *b = DIGITS[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
}

fn read_hex(src: &[u8]) -> Option<u64> {
    src.iter().try_fold(0u64, |acc, &b| {
        let d = (b as char).to_digit(16)?;
        Some(acc << 4 | u64::from(d))
    })
}

/// How a sender paces itself.
#[derive(Clone, Copy, Debug)]
enum Pace {
    /// Keep up to `window` messages in flight.
    Closed { window: u64 },
    /// One message every `period`, at most `cap` in flight.
    Open { period: Duration, cap: u64 },
}

/// Counters one pair's sender and receiver share.
#[derive(Default)]
struct Progress {
    received: AtomicU64,
    moved: Notify,
}

/// The measured window, in [`crate::metrics::epoch`] nanoseconds.
#[derive(Clone, Copy)]
struct Window {
    from: u64,
    to: u64,
}

impl Window {
    fn contains(&self, ts: u64) -> bool {
        ts >= self.from && ts < self.to
    }
}

#[derive(Default)]
struct SendOutcome {
    sent: u64,
    sent_measured: u64,
    acks: u64,
    naks: u64,
    skipped: u64,
    ack_latency: Latency,
    lag: Latency,
}

#[derive(Default)]
struct RecvOutcome {
    received: u64,
    received_measured: u64,
    latency: Latency,
}

struct Pair {
    sender_ns: Conn,
    receiver_ns: Conn,
    sender_sb: Conn,
    receiver_sb: Conn,
}

/// Signs both users in (the receiver at `receiver_ns`) and puts them in
/// one switchboard session.
async fn open_pair(
    (ns, receiver_ns): (std::net::SocketAddr, std::net::SocketAddr),
    accounts: &Accounts,
    s: usize,
    r: usize,
    timeout: Duration,
) -> client::Result<Pair> {
    let (a, b) = tokio::join!(
        sign_in(ns, accounts, s, false, "NLN", timeout),
        sign_in(receiver_ns, accounts, r, false, "NLN", timeout)
    );
    let (mut sender_ns, mut receiver_ns) = (a?.conn, b?.conn);
    let (sender, receiver) = (accounts.handle(s), accounts.handle(r));
    let (sb, cookie) = client::request_switchboard(&mut sender_ns).await?;
    let mut sender_sb = client::sb_open(sb, &sender, &cookie).await?;
    sender_sb.timeout = timeout;
    client::sb_call(&mut sender_sb, &receiver).await?;
    let rng = receiver_ns
        .wait_for("RNG", |f| f.command() == "RNG")
        .await?;
    let ring = client::parse_rng(rng.line()).ok_or(ClientError::Unexpected {
        what: "RNG",
        line: rng.line().to_owned(),
    })?;
    let mut receiver_sb = client::sb_answer(&ring, &receiver).await?;
    receiver_sb.timeout = timeout;
    sender_sb.wait_for("JOI", |f| f.command() == "JOI").await?;
    sender_sb.clear_backlog();
    receiver_sb.clear_backlog();
    Ok(Pair {
        sender_ns,
        receiver_ns,
        sender_sb,
        receiver_sb,
    })
}

pub async fn run(args: ChatArgs, machine: Machine) -> anyhow::Result<Report> {
    let p = args.pairs;
    anyhow::ensure!(p > 0, "--pairs must be positive");
    check_fd_budget(4 * p)?;
    let payload = Arc::new(Payload::new(args.size).map_err(anyhow::Error::msg)?);
    let ns = args.target.ns_addr().await?;
    let receiver_ns = match &args.ns_other {
        Some(other) => client::resolve(other)
            .await
            .map_err(|e| anyhow::anyhow!("cannot resolve {other}: {e}"))?,
        None => ns,
    };
    let accounts = args.target.accounts();
    let timeout = args.target.timeout();
    let errors = Arc::new(Errors::default());
    let pace = match args.rate {
        Some(rate) => {
            anyhow::ensure!(rate > 0.0, "--rate must be positive");
            Pace::Open {
                period: Duration::from_secs_f64(p as f64 / rate),
                cap: args.window.unwrap_or(1000) as u64,
            }
        }
        None => Pace::Closed {
            window: args
                .window
                .unwrap_or(if args.mode == 'A' { 32 } else { 256 }) as u64,
        },
    };

    // Setup.
    let setup_started = Instant::now();
    let permits = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut setups = tokio::task::JoinSet::new();
    for k in 0..p {
        let (accounts, permits) = (accounts.clone(), permits.clone());
        let (s, r) = (args.target.first + 2 * k, args.target.first + 2 * k + 1);
        setups.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            open_pair((ns, receiver_ns), &accounts, s, r, timeout).await
        });
    }
    let mut pairs = Vec::with_capacity(p);
    while let Some(done) = setups.join_next().await {
        match done? {
            Ok(pair) => pairs.push(pair),
            Err(e) => errors.add(format!("setup: {}", e.category())),
        }
    }
    let setup_secs = setup_started.elapsed().as_secs_f64();
    anyhow::ensure!(
        !pairs.is_empty(),
        "no pair could be set up: {:?}",
        errors.snapshot()
    );

    // Run.
    let stop_ns = CancellationToken::new();
    let stop_rx = CancellationToken::new();
    let start = Instant::now() + Duration::from_millis(100);
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.seconds);
    let window = Window {
        from: nanos_of(measure_from),
        to: nanos_of(end),
    };
    let mut keepers = tokio::task::JoinSet::new();
    let mut senders = tokio::task::JoinSet::new();
    let mut receivers = tokio::task::JoinSet::new();
    let progress: Vec<Arc<Progress>> = (0..pairs.len()).map(|_| Arc::default()).collect();
    let live_pairs = pairs.len();
    for (k, pair) in pairs.into_iter().enumerate() {
        let Pair {
            sender_ns,
            receiver_ns,
            sender_sb,
            receiver_sb,
        } = pair;
        for mut c in [sender_ns, receiver_ns] {
            let (stop, errors) = (stop_ns.clone(), errors.clone());
            keepers.spawn(async move {
                if keep_alive(&mut c, Duration::from_secs(50), &stop, &errors).await {
                    c.sign_out().await;
                }
            });
        }
        let phase = k as f64 / live_pairs as f64;
        {
            let (prog, payload, errors) = (progress[k].clone(), payload.clone(), errors.clone());
            let plan = Plan {
                mode: args.mode,
                pace,
                phase,
                start,
                end,
                window,
            };
            senders.spawn(async move {
                match send(sender_sb, &payload, plan, &prog).await {
                    Ok((o, c)) => {
                        c.sign_out().await;
                        o
                    }
                    Err((o, e)) => {
                        errors.add(format!("sender: {}", e.category()));
                        o
                    }
                }
            });
        }
        let (prog, payload, errors, stop) = (
            progress[k].clone(),
            payload.clone(),
            errors.clone(),
            stop_rx.clone(),
        );
        receivers.spawn(async move {
            let (o, c) = receive(receiver_sb, &payload, window, &prog, &stop).await;
            match c {
                Ok(c) => c.sign_out().await,
                Err(e) => errors.add(format!("receiver: {}", e.category())),
            }
            o
        });
    }

    tokio::time::sleep_until(measure_from.into()).await;
    let usage = Usage::start(args.target.server_pid);
    let mut sent = SendOutcome::default();
    while let Some(o) = senders.join_next().await {
        let o = o?;
        sent.sent += o.sent;
        sent.sent_measured += o.sent_measured;
        sent.acks += o.acks;
        sent.naks += o.naks;
        sent.skipped += o.skipped;
        sent.ack_latency.merge(&o.ack_latency);
        sent.lag.merge(&o.lag);
    }
    let mut r = Report::new("chat", machine);
    usage.finish(&mut r, "");
    // Let the last messages arrive, then stop the receivers.
    let drain_until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < drain_until
        && progress
            .iter()
            .map(|p| p.received.load(Ordering::Relaxed))
            .sum::<u64>()
            < sent.sent
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_rx.cancel();
    let mut recv = RecvOutcome::default();
    while let Some(o) = receivers.join_next().await {
        let o = o?;
        recv.received += o.received;
        recv.received_measured += o.received_measured;
        recv.latency.merge(&o.latency);
    }
    stop_ns.cancel();
    while keepers.join_next().await.is_some() {}

    let measured = (end - measure_from).as_secs_f64();
    args.target.describe(&mut r);
    if let Some(other) = &args.ns_other {
        r.param("receivers_on", other.clone());
    }
    r.param("pairs", p as u64)
        .param("mode", args.mode.to_string())
        .param("payload_bytes", args.size as u64)
        .param("seconds", args.seconds)
        .param("warmup_secs", args.warmup);
    match pace {
        Pace::Closed { window } => {
            r.param("pacing", "closed loop (as fast as possible)")
                .param("window_per_pair", window);
        }
        Pace::Open { cap, .. } => {
            r.param("pacing", "open loop (fixed schedule)")
                .param("offered_msg_per_sec", args.rate.unwrap_or(0.0))
                .param("max_in_flight_per_pair", cap);
        }
    }
    r.result("pairs_ready", live_pairs as u64)
        .result("setup_secs", round(setup_secs, 2))
        .result("messages_sent_measured", sent.sent_measured)
        .result("messages_received_measured", recv.received_measured)
        .rate("relayed_msg_per_sec", recv.received_measured, measured)
        .result("messages_sent_total", sent.sent)
        .result("messages_received_total", recv.received)
        .result("not_delivered", sent.sent.saturating_sub(recv.received));
    if args.mode == 'A' {
        r.result("acks", sent.acks).result("naks", sent.naks);
    }
    if let Pace::Open { .. } = pace {
        r.result("skipped_sends_window_full", sent.skipped);
    }
    r.latency(
        "delivery (sender write to receiver read)",
        recv.latency.summary(),
    );
    if args.mode == 'A' {
        r.latency("ACK round trip", sent.ack_latency.summary());
    }
    if let Pace::Open { .. } = pace {
        r.latency("sender lag behind schedule", sent.lag.summary());
    }
    r.errors(errors.snapshot());
    r.note("timestamps are taken just before each write; latency counts only messages sent inside the measured window");
    Ok(r)
}

/// What a sender does and when.
#[derive(Clone, Copy)]
struct Plan {
    mode: char,
    pace: Pace,
    /// This pair's offset into the schedule, 0..1 of a period (open loop),
    /// so that the pairs do not all send in the same instant.
    phase: f64,
    start: Instant,
    end: Instant,
    window: Window,
}

/// The sender of one pair.
async fn send(
    mut sb: Conn,
    payload: &Payload,
    plan: Plan,
    prog: &Progress,
) -> Result<(SendOutcome, Conn), (SendOutcome, ClientError)> {
    let Plan {
        mode,
        pace,
        phase,
        start,
        end,
        window,
    } = plan;
    let mut o = SendOutcome::default();
    sb.set_read_chunk(16 * 1024);
    let limit = match pace {
        Pace::Closed { window } => window,
        Pace::Open { cap, .. } => cap,
    };
    // Send times by TrID, for the ACK round trip: never more than `limit`
    // messages are unanswered, so slots are not reused too early.
    let mut sent_at = vec![0u64; limit.next_power_of_two().max(1) as usize];
    let mut next = match pace {
        Pace::Open { period, .. } => start + period.mul_f64(phase),
        Pace::Closed { .. } => start,
    };
    let in_flight = |o: &SendOutcome| {
        if mode == 'A' {
            o.sent - o.acks - o.naks
        } else {
            o.sent.saturating_sub(prog.received.load(Ordering::Acquire))
        }
    };
    let stamp = |sb: &mut Conn, o: &mut SendOutcome, sent_at: &mut [u64]| {
        let ts = now_nanos();
        let trid = sb.next_trid();
        payload.encode(sb.output(), trid, mode, ts);
        sent_at[trid as usize % sent_at.len()] = ts;
        o.sent += 1;
        o.sent_measured += u64::from(window.contains(ts));
    };
    tokio::time::sleep_until(start.into()).await;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let mut batch = 0;
        match pace {
            Pace::Closed { window } => {
                while in_flight(&o) < window && batch < 64 {
                    stamp(&mut sb, &mut o, &mut sent_at);
                    batch += 1;
                }
            }
            Pace::Open { period, cap } => {
                while next <= now && batch < 1024 {
                    if in_flight(&o) >= cap {
                        o.skipped += 1;
                    } else {
                        stamp(&mut sb, &mut o, &mut sent_at);
                        o.lag.record(now - next);
                        batch += 1;
                    }
                    next += period;
                }
            }
        }
        if batch > 0
            && let Err(e) = sb.flush().await
        {
            return Err((o, e));
        }
        let window_full = match pace {
            Pace::Closed { window } => in_flight(&o) >= window,
            Pace::Open { .. } => false,
        };
        if mode == 'U' && matches!(pace, Pace::Closed { .. }) && !window_full {
            continue;
        }
        let wake_at = match pace {
            Pace::Open { .. } => next.min(end),
            Pace::Closed { .. } => end,
        };
        tokio::select! {
            r = sb.read_more(), if mode == 'A' => {
                if let Err(e) = r.and_then(|_| acks(&mut sb, &mut o, &sent_at)) {
                    return Err((o, e));
                }
            }
            () = prog.moved.notified(), if mode == 'U' && window_full => {}
            () = tokio::time::sleep_until(wake_at.into()) => {}
        }
    }
    // Mode A: collect the outstanding acknowledgements.
    if mode == 'A' {
        let deadline = Instant::now() + Duration::from_secs(5);
        while o.sent > o.acks + o.naks {
            match tokio::time::timeout_at(deadline.into(), sb.read_more()).await {
                Ok(Ok(_)) => {
                    if let Err(e) = acks(&mut sb, &mut o, &sent_at) {
                        return Err((o, e));
                    }
                }
                Ok(Err(e)) => return Err((o, e)),
                Err(_) => break,
            }
        }
    }
    Ok((o, sb))
}

/// Counts the `ACK`/`NAK` lines buffered on the sender's connection.
fn acks(sb: &mut Conn, o: &mut SendOutcome, sent_at: &[u64]) -> client::Result<()> {
    let now = now_nanos();
    while let Some(f) = sb.poll_frame()? {
        let trid = f.tokens().nth(1).and_then(|t| t.parse::<u32>().ok());
        match (f.command(), trid) {
            ("ACK", Some(t)) => {
                o.acks += 1;
                o.ack_latency
                    .record_nanos(now.saturating_sub(sent_at[t as usize % sent_at.len()]));
            }
            ("NAK", Some(_)) => o.naks += 1,
            ("BYE", _) => return Err(ClientError::PeerLeft(f.line().to_owned())),
            _ => {}
        }
    }
    Ok(())
}

/// The receiver of one pair: times every `MSG` until `stop`.
async fn receive(
    mut sb: Conn,
    payload: &Payload,
    window: Window,
    prog: &Progress,
    stop: &CancellationToken,
) -> (RecvOutcome, client::Result<Conn>) {
    let mut o = RecvOutcome::default();
    sb.set_read_chunk(64 * 1024);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return (o, Ok(sb)),
            r = sb.read_more() => {
                if let Err(e) = r {
                    return (o, Err(e));
                }
            }
        }
        let now = now_nanos();
        let mut n = 0;
        loop {
            let f = match sb.poll_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return (o, Err(e)),
            };
            if f.command() != "MSG" {
                continue;
            }
            n += 1;
            if let Some(ts) = f.payload().and_then(|p| payload.timestamp(p))
                && window.contains(ts)
            {
                o.latency.record_nanos(now.saturating_sub(ts));
                o.received_measured += 1;
            }
        }
        if n > 0 {
            o.received += n;
            prog.received.fetch_add(n, Ordering::Release);
            prog.moved.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        let p = Payload::new(100).unwrap();
        let mut out = Vec::new();
        p.encode(&mut out, 7, 'U', 0x0123_4567_89ab_cdef);
        let head = b"MSG 7 U 100\r\n";
        assert!(out.starts_with(head));
        let body = &out[head.len()..];
        assert_eq!(body.len(), 100);
        assert!(body.starts_with(MIME_HEAD));
        assert_eq!(
            &body[MIME_HEAD.len()..MIME_HEAD.len() + 19],
            b"t=0123456789abcdef "
        );
        assert_eq!(p.timestamp(body), Some(0x0123_4567_89ab_cdef));
        // Reusing the buffer stamps each message anew.
        out.clear();
        p.encode(&mut out, 8, 'A', 42);
        assert_eq!(p.timestamp(&out[b"MSG 8 A 100\r\n".len()..]), Some(42));
    }

    #[test]
    fn payload_limits_and_garbage() {
        assert!(Payload::new(79).is_err());
        let p = Payload::new(80).unwrap();
        assert_eq!(p.bytes.len(), 80);
        assert_eq!(p.timestamp(b"short"), None);
        let mut bad = p.bytes.clone();
        bad[p.ts_at] = b'z';
        assert_eq!(p.timestamp(&bad), None);
        assert_eq!(parse_mode("a"), Ok('A'));
        assert!(parse_mode("N").is_err());
    }
}
