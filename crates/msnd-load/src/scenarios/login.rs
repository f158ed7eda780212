//! `login`: back-to-back MD5 logins (MSNP7 `VER`/`INF`/`USR I`/`USR S`),
//! each followed by `OUT`. The MD5 path checks `md5(salt ‖ password)`
//! against the stored clear password: no password hash is computed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::{Target, Usage, check_fd_budget};
use crate::client;
use crate::metrics::{Errors, Latency};
use crate::report::{Report, round};
use crate::sys::Machine;

#[derive(Args, Debug, Clone)]
pub struct LoginArgs {
    #[command(flatten)]
    pub target: Target,
    /// Accounts to cycle through (at least --concurrency; each worker uses
    /// its own accounts so no login replaces another).
    #[arg(long)]
    pub users: usize,
    /// Logins in progress at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
    /// Also download the lists (`SYN 0`) and go online (`CHG NLN`) in each
    /// login.
    #[arg(long)]
    pub syn: bool,
}

struct Worker {
    latency: Latency,
    done: u64,
}

pub async fn run(args: LoginArgs, machine: Machine) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.users >= args.concurrency && args.concurrency > 0,
        "--users must be at least --concurrency (each worker needs its own accounts)"
    );
    check_fd_budget(args.concurrency * 2)?;
    let ns = args.target.ns_addr().await?;
    let accounts = args.target.accounts();
    let timeout = args.target.timeout();
    let errors = Arc::new(Errors::default());
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.seconds);

    let usage_slot = Arc::new(std::sync::Mutex::new(None::<Usage>));
    {
        let slot = usage_slot.clone();
        let pid = args.target.server_pid;
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Usage::start(pid));
        });
    }

    let mut set = tokio::task::JoinSet::new();
    for w in 0..args.concurrency {
        let mine: Vec<usize> = (w..args.users)
            .step_by(args.concurrency)
            .map(|k| args.target.first + k)
            .collect();
        let (accounts, errors, syn) = (accounts.clone(), errors.clone(), args.syn);
        set.spawn(async move {
            let mut me = Worker {
                latency: Latency::new(),
                done: 0,
            };
            let mut j = 0usize;
            while Instant::now() < end {
                let i = mine[j % mine.len()];
                j += 1;
                let t0 = Instant::now();
                let result = async {
                    let mut c = tokio::time::timeout(
                        timeout,
                        client::md5_login(ns, &accounts.handle(i), &client::Accounts::password(i)),
                    )
                    .await
                    .map_err(|_| client::ClientError::Timeout("login"))??;
                    c.timeout = timeout;
                    if syn {
                        client::sync_lists(&mut c).await?;
                        client::set_status(&mut c, "NLN").await?;
                    }
                    Ok::<_, client::ClientError>(c)
                }
                .await;
                let t1 = Instant::now();
                match result {
                    Ok(c) => {
                        if t0 >= measure_from && t1 <= end {
                            me.latency.record(t1 - t0);
                            me.done += 1;
                        }
                        c.sign_out().await;
                    }
                    Err(e) => {
                        errors.add(e.category());
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            me
        });
    }
    let mut latency = Latency::new();
    let mut done = 0u64;
    while let Some(w) = set.join_next().await {
        let w = w?;
        latency.merge(&w.latency);
        done += w.done;
    }
    let measured = (end - measure_from).as_secs_f64();

    let mut r = Report::new("login", machine);
    args.target.describe(&mut r);
    r.param("users", args.users as u64)
        .param("concurrency", args.concurrency as u64)
        .param("seconds", args.seconds)
        .param("warmup_secs", args.warmup)
        .param(
            "login",
            if args.syn {
                "MSNP7 VER/INF/USR MD5 I/USR MD5 S/SYN 0/CHG NLN, then OUT"
            } else {
                "MSNP7 VER/INF/USR MD5 I/USR MD5 S, then OUT"
            },
        );
    r.result("logins_measured", done)
        .result("measured_secs", round(measured, 2))
        .rate("logins_per_sec", done, measured);
    if let Some(u) = usage_slot
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        u.finish(&mut r, "");
    }
    let timed = if args.syn {
        "login (connect to CHG echo)"
    } else {
        "login (connect to USR OK)"
    };
    r.latency(timed, latency.summary());
    r.errors(errors.snapshot());
    r.note("a cycle is connect, login, OUT, and waiting for the server to close (the server holds TIME_WAIT); only the login part is timed");
    Ok(r)
}
