//! `presence`: signed-in users toggle their status (`CHG NLN`/`CHG AWY`)
//! and their watchers (the users with them on their forward list, learnt
//! from the reverse list in `SYN`) time how long the `NLN` takes to arrive.
//!
//! Each changer waits until every online watcher saw its change (or
//! `--change-timeout-ms` passed) before the next one, so the load is
//! closed-loop: as many changes in flight as there are changers.
//!
//! With `--ns-other` (a second node of a cluster), the users at odd
//! positions sign in there, and the latency is reported apart for
//! watchers on the changer's node and on the other one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{Target, Usage, check_fd_budget, sign_in};
use crate::client::{self, Accounts, Conn};
use crate::metrics::{Errors, Latency, now_nanos};
use crate::report::{Report, round};
use crate::sys::Machine;

#[derive(Args, Debug, Clone)]
pub struct PresenceArgs {
    #[command(flatten)]
    pub target: Target,
    /// Users signed in (all of them watch).
    #[arg(long)]
    pub users: usize,
    /// Status changes per changing user.
    #[arg(long, default_value_t = 10)]
    pub changes: u32,
    /// How many of the users change status (the first ones); default all.
    #[arg(long)]
    pub changers: Option<usize>,
    /// Logins in progress at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Give up waiting for a change's notifications after this long.
    #[arg(long, default_value_t = 5000)]
    pub change_timeout_ms: u64,
    /// Least time between two changes of one changer (0: back to back).
    /// The changers' first changes are spread over one interval, so the
    /// offered load is about changers / interval changes per second.
    #[arg(long, default_value_t = 0)]
    pub interval_ms: u64,
    /// Another node's Notification Server, HOST:PORT: the users at odd
    /// positions sign in there (cross-node fan-out).
    #[arg(long)]
    pub ns_other: Option<String>,
}

/// Status codes as stored in `expect`.
const NONE: u8 = 0;
const NLN: u8 = 1;
const AWY: u8 = 2;

fn code(status: &str) -> u8 {
    match status {
        "NLN" => NLN,
        "AWY" => AWY,
        _ => NONE,
    }
}

/// What every session task shares, indexed by the user's position in the
/// run (account `first + k`).
struct Board {
    accounts: Accounts,
    first: usize,
    online: Vec<AtomicBool>,
    /// The status of the change in flight (NONE: none).
    expect: Vec<AtomicU8>,
    sent_at: Vec<AtomicU64>,
    got: Vec<AtomicU32>,
    wake: Vec<Notify>,
    stale: AtomicU64,
    missing: AtomicU64,
    expected_total: AtomicU64,
    finished: AtomicUsize,
    all_finished: Notify,
    /// Users at odd positions are on another node (`--ns-other`).
    two_nodes: bool,
}

impl Board {
    fn slot(&self, handle: &str) -> Option<usize> {
        let i = self.accounts.index_of(handle)?;
        let k = i.checked_sub(self.first)?;
        (k < self.online.len()).then_some(k)
    }
}

struct Outcome {
    latency: Latency,
    /// Notifications from a changer on the other node (`--ns-other`).
    cross_node: Latency,
    received: u64,
    /// This watcher's position.
    me: usize,
}

pub async fn run(args: PresenceArgs, machine: Machine) -> anyhow::Result<Report> {
    let n = args.users;
    let changers = args.changers.unwrap_or(n).min(n);
    check_fd_budget(n)?;
    let ns = args.target.ns_addr().await?;
    let ns_other = match &args.ns_other {
        Some(other) => Some(
            client::resolve(other)
                .await
                .map_err(|e| anyhow::anyhow!("cannot resolve {other}: {e}"))?,
        ),
        None => None,
    };
    let timeout = args.target.timeout();
    let errors = Arc::new(Errors::default());
    let board = Arc::new(Board {
        accounts: args.target.accounts(),
        first: args.target.first,
        online: (0..n).map(|_| AtomicBool::new(false)).collect(),
        expect: (0..n).map(|_| AtomicU8::new(NONE)).collect(),
        sent_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        got: (0..n).map(|_| AtomicU32::new(0)).collect(),
        wake: (0..n).map(|_| Notify::new()).collect(),
        stale: AtomicU64::new(0),
        missing: AtomicU64::new(0),
        expected_total: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        all_finished: Notify::new(),
        two_nodes: ns_other.is_some(),
    });
    let permits = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<bool>();
    let (start_tx, start_rx) = watch::channel(false);
    let stop = CancellationToken::new();
    let change_timeout = Duration::from_millis(args.change_timeout_ms);
    let interval = Duration::from_millis(args.interval_ms);

    let mut set = tokio::task::JoinSet::new();
    for k in 0..n {
        let (board, errors, permits, ready_tx, mut start_rx, stop) = (
            board.clone(),
            errors.clone(),
            permits.clone(),
            ready_tx.clone(),
            start_rx.clone(),
            stop.clone(),
        );
        let changes = if k < changers { args.changes } else { 0 };
        set.spawn(async move {
            let permit = permits.acquire_owned().await.expect("never closed");
            let node = match ns_other {
                Some(other) if k % 2 == 1 => other,
                _ => ns,
            };
            let online = sign_in(node, &board.accounts, board.first + k, true, "NLN", timeout).await;
            drop(permit);
            let Ok(online) = online.map_err(|e| errors.add(format!("login: {}", e.category())))
            else {
                let _ = ready_tx.send(false);
                return None;
            };
            board.online[k].store(true, Ordering::Relaxed);
            let _ = ready_tx.send(true);
            drop(ready_tx);
            let watchers: Vec<usize> = online
                .lists
                .map(|l| l.reverse.iter().filter_map(|h| board.slot(h)).collect())
                .unwrap_or_default();
            let mut conn = online.conn;
            // Until the start, read what the other logins cause (ILN, NLN)
            // with the same code that measures, which ignores it.
            let mut out = Outcome {
                latency: Latency::new(),
                cross_node: Latency::new(),
                received: 0,
                me: k,
            };
            loop {
                tokio::select! {
                    r = start_rx.wait_for(|s| *s) => {
                        if r.is_err() {
                            return None;
                        }
                        break;
                    }
                    r = conn.read_more() => {
                        if let Err(e) = r.and_then(|_| take_notifications(&mut conn, &board, &mut out)) {
                            errors.add(format!("session: {}", e.category()));
                            return None;
                        }
                    }
                }
            }
            let expected = watchers
                .iter()
                .filter(|&&w| board.online[w].load(Ordering::Relaxed))
                .count() as u32;
            let offset = interval.mul_f64(k as f64 / changers.max(1) as f64);
            let run = Run {
                me: k,
                changes,
                expected,
                change_timeout,
                interval,
                first_at: tokio::time::Instant::now() + offset,
            };
            match session(&mut conn, run, out, &board, &stop).await {
                Ok(o) => {
                    conn.sign_out().await;
                    Some(o)
                }
                Err(e) => {
                    errors.add(format!("session: {}", e.category()));
                    None
                }
            }
        });
    }
    drop(ready_tx);
    let mut signed_in = 0u64;
    while let Some(ok) = ready_rx.recv().await {
        signed_in += u64::from(ok);
    }
    // Let the notifications caused by the logins themselves pass.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let active_changers = (0..changers)
        .filter(|&k| board.online[k].load(Ordering::Relaxed))
        .count();

    let usage = Usage::start(args.target.server_pid);
    let started = Instant::now();
    let _ = start_tx.send(true);
    while board.finished.load(Ordering::Acquire) < active_changers {
        let wait = board.all_finished.notified();
        if board.finished.load(Ordering::Acquire) >= active_changers {
            break;
        }
        wait.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut r = Report::new("presence", machine);
    usage.finish(&mut r, "");
    stop.cancel();

    let mut latency = Latency::new();
    let mut cross_node = Latency::new();
    let mut received = 0u64;
    while let Some(o) = set.join_next().await {
        if let Some(o) = o? {
            latency.merge(&o.latency);
            cross_node.merge(&o.cross_node);
            received += o.received;
        }
    }
    let changes = active_changers as u64 * u64::from(args.changes);
    args.target.describe(&mut r);
    r.param("users", n as u64)
        .param("changers", changers as u64)
        .param("changes_per_changer", u64::from(args.changes))
        .param("change_timeout_ms", args.change_timeout_ms)
        .param("interval_ms", args.interval_ms)
        .param("status_toggle", "CHG AWY / CHG NLN (MSNP7)");
    r.result("signed_in", signed_in)
        .result("status_changes", changes)
        .result(
            "notifications_expected",
            board.expected_total.load(Ordering::Relaxed),
        )
        .result("notifications_received", received)
        .result(
            "notifications_missing",
            board.missing.load(Ordering::Relaxed),
        )
        .result("notifications_stale", board.stale.load(Ordering::Relaxed))
        .result("elapsed_secs", round(elapsed, 3))
        .rate("changes_per_sec", changes, elapsed)
        .rate("notifications_per_sec", received, elapsed);
    if let Some(other) = &args.ns_other {
        r.param("ns_other", other.clone());
        r.latency("CHG sent to NLN received, same node", latency.summary());
        r.latency("CHG sent to NLN received, other node", cross_node.summary());
    } else {
        r.latency("CHG sent to NLN received", latency.summary());
    }
    r.errors(errors.snapshot());
    r.note("watchers of a user are the online users on its reverse list (from SYN); each changer has one change in flight");
    Ok(r)
}

/// One user's part in the run.
struct Run {
    me: usize,
    changes: u32,
    /// Online watchers of this user.
    expected: u32,
    change_timeout: Duration,
    interval: Duration,
    /// When the first change may go out.
    first_at: tokio::time::Instant,
}

/// Runs one user's session: changes its status `changes` times and records
/// the notifications it receives as a watcher, until `stop`.
async fn session(
    conn: &mut Conn,
    run: Run,
    mut out: Outcome,
    board: &Board,
    stop: &CancellationToken,
) -> client::Result<Outcome> {
    let Run {
        me,
        mut changes,
        expected,
        change_timeout,
        interval,
        first_at,
    } = run;
    let mut next_at = first_at;
    conn.clear_backlog();
    let mut away = false;
    let mut deadline: Option<tokio::time::Instant> = None;
    // Only changers count towards the end of the run.
    let mut reported = changes == 0;
    loop {
        if deadline.is_none() && changes > 0 && tokio::time::Instant::now() >= next_at {
            next_at = tokio::time::Instant::now() + interval;
            away = !away;
            let status = if away { "AWY" } else { "NLN" };
            board.got[me].store(0, Ordering::Relaxed);
            board.sent_at[me].store(now_nanos(), Ordering::Relaxed);
            board.expect[me].store(code(status), Ordering::Release);
            board
                .expected_total
                .fetch_add(u64::from(expected), Ordering::Relaxed);
            let t = conn.next_trid();
            conn.queue_line(format_args!("CHG {t} {status}"));
            conn.flush().await?;
            changes -= 1;
            deadline = Some(tokio::time::Instant::now() + change_timeout);
            if board.got[me].load(Ordering::Acquire) >= expected {
                deadline = None; // nobody online watches this user
                continue;
            }
        }
        if deadline.is_none() && changes == 0 && !reported {
            reported = true;
            finish(board);
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(out),
            r = conn.read_more() => {
                r?;
                take_notifications(conn, board, &mut out)?;
            }
            () = board.wake[me].notified(), if deadline.is_some() => {
                if board.got[me].load(Ordering::Acquire) >= expected {
                    deadline = None;
                }
            }
            () = tokio::time::sleep_until(next_at), if deadline.is_none() && changes > 0 => {}
            () = sleep_until_opt(deadline) => {
                let got = board.got[me].load(Ordering::Acquire);
                board.missing.fetch_add(u64::from(expected.saturating_sub(got)), Ordering::Relaxed);
                deadline = None;
            }
        }
        if deadline.is_some() && board.got[me].load(Ordering::Acquire) >= expected {
            deadline = None;
        }
    }
}

/// Times the buffered `NLN`s that answer a measured change; others (logins,
/// `ILN`, echoes) are skipped.
fn take_notifications(conn: &mut Conn, board: &Board, out: &mut Outcome) -> client::Result<()> {
    while let Some(f) = conn.poll_frame()? {
        let now = now_nanos();
        let Some((status, handle)) = client::parse_nln(f.line()) else {
            continue;
        };
        let Some(t) = board.slot(handle) else {
            continue;
        };
        let want = board.expect[t].load(Ordering::Acquire);
        if want == NONE {
            continue; // a login, not a measured change
        }
        if want != code(status) {
            board.stale.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let sent = board.sent_at[t].load(Ordering::Relaxed);
        let histogram = if board.two_nodes && t % 2 != out.me % 2 {
            &mut out.cross_node
        } else {
            &mut out.latency
        };
        histogram.record_nanos(now.saturating_sub(sent));
        out.received += 1;
        board.got[t].fetch_add(1, Ordering::Release);
        board.wake[t].notify_one();
    }
    Ok(())
}

fn finish(board: &Board) {
    board.finished.fetch_add(1, Ordering::AcqRel);
    board.all_finished.notify_waiters();
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
