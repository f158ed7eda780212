//! `idle`: signs N users in (MD5, `SYN`, `CHG NLN`), keeps them connected
//! with a `PNG` every 50 s, and measures the login rate and the server's
//! memory per signed-in session (VmRSS before and after).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Target, Usage, check_fd_budget, keep_alive, server_rss, sign_in};
use crate::metrics::{Errors, Latency};
use crate::report::{Report, round};
use crate::sys::{self, Machine};

#[derive(Args, Debug, Clone)]
pub struct IdleArgs {
    #[command(flatten)]
    pub target: Target,
    /// Sessions to open.
    #[arg(long)]
    pub users: usize,
    /// Logins in progress at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds to keep every session open after the last login.
    #[arg(long, default_value_t = 10)]
    pub hold: u64,
    /// Seconds between keep-alive pings of each session.
    #[arg(long, default_value_t = 50)]
    pub ping_secs: u64,
    /// Seconds to wait before reading the server's memory after the logins
    /// (and after the sign-outs), so that queued output has drained.
    #[arg(long, default_value_t = 3)]
    pub settle_secs: u64,
}

pub async fn run(args: IdleArgs, machine: Machine) -> anyhow::Result<Report> {
    let fd_limit = check_fd_budget(args.users)?;
    let ns = args.target.ns_addr().await?;
    let accounts = args.target.accounts();
    let timeout = args.target.timeout();
    let pid = args.target.server_pid;
    let errors = Arc::new(Errors::default());
    let alive = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let permits = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let ping = Duration::from_secs(args.ping_secs.max(1));
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Duration>>();

    let rss_before = server_rss(pid);
    let gen_before = sys::rss_kib(sys::own_pid()).ok();
    let usage = Usage::start(pid);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..args.users {
        let i = args.target.first + k;
        let (accounts, errors, alive, cancel, permits, tx) = (
            accounts.clone(),
            errors.clone(),
            alive.clone(),
            cancel.clone(),
            permits.clone(),
            tx.clone(),
        );
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await.expect("never closed");
            let t0 = Instant::now();
            let online = sign_in(ns, &accounts, i, true, "NLN", timeout).await;
            let latency = t0.elapsed();
            drop(permit);
            let mut conn = match online {
                Ok(o) => o.conn,
                Err(e) => {
                    errors.add(format!("login: {}", e.category()));
                    let _ = tx.send(None);
                    return;
                }
            };
            alive.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(Some(latency));
            drop(tx);
            if keep_alive(&mut conn, ping, &cancel, &errors).await {
                conn.sign_out().await;
            }
            alive.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(tx);

    let mut latency = Latency::new();
    let mut failed = 0u64;
    while let Some(r) = rx.recv().await {
        match r {
            Some(d) => latency.record(d),
            None => failed += 1,
        }
    }
    let login_secs = started.elapsed().as_secs_f64();
    let mut r = Report::new("idle", machine);
    usage.finish(&mut r, "login_");
    let signed_in = latency.count();

    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let rss_after = server_rss(pid);
    let gen_after = sys::rss_kib(sys::own_pid()).ok();
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let rss_held = server_rss(pid);
    let still_open = alive.load(Ordering::Relaxed) as u64;

    cancel.cancel();
    while tasks.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let rss_gone = server_rss(pid);

    args.target.describe(&mut r);
    r.param("users", args.users as u64)
        .param("concurrency", args.concurrency as u64)
        .param("hold_secs", args.hold)
        .param("ping_secs", args.ping_secs)
        .param("login", "MSNP7 VER/INF/USR MD5 I/USR MD5 S/SYN 0/CHG NLN")
        .param("open_file_limit", fd_limit);
    r.result("signed_in", signed_in)
        .result("login_failures", failed)
        .result("login_phase_secs", round(login_secs, 2))
        .rate("logins_per_sec", signed_in, login_secs)
        .result("open_at_end_of_hold", still_open)
        .result("dropped_during_hold", signed_in.saturating_sub(still_open));
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        r.result("server_rss_before_kib", before)
            .result("server_rss_signed_in_kib", after);
        if signed_in > 0 {
            let per = (after as f64 - before as f64) * 1024.0 / signed_in as f64;
            r.result("server_rss_per_session_bytes", round(per, 0));
        }
    }
    if let Some(held) = rss_held {
        r.result("server_rss_end_of_hold_kib", held);
    }
    if let Some(gone) = rss_gone {
        r.result("server_rss_after_sign_out_kib", gone);
    }
    if let (Some(before), Some(after)) = (gen_before, gen_after)
        && signed_in > 0
    {
        let per = (after as f64 - before as f64) * 1024.0 / signed_in as f64;
        r.result("generator_rss_per_session_bytes", round(per, 0));
    }
    if pid.is_none() {
        r.note("no --server-pid: server memory was not measured");
    }
    r.latency("login (connect to CHG echo)", latency.summary());
    r.errors(errors.snapshot());
    Ok(r)
}
