//! `twn-login`: MSNP11 logins through Passport 1.4 — `VER`/`CVR`/`USR TWN I`
//! on the NS, the nexus and the login request over HTTP (where the server
//! checks the password against its argon2id hash), then `USR TWN S ticket`
//! — each followed by `OUT`. Reports how much of a login the Passport
//! request (and so the password hash) takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::{Target, Usage, check_fd_budget};
use crate::client;
use crate::http::{self, Url};
use crate::metrics::{Errors, Latency};
use crate::report::{Report, round};
use crate::sys::Machine;

#[derive(Args, Debug, Clone)]
pub struct TwnArgs {
    #[command(flatten)]
    pub target: Target,
    /// The Passport nexus, e.g. http://127.0.0.1:8080/rdr/pprdr.asp.
    #[arg(long)]
    pub nexus: String,
    /// Accounts to cycle through (at least --concurrency).
    #[arg(long)]
    pub users: usize,
    /// Logins in progress at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
    /// Stop after this many logins (counted when started; warm-up
    /// included) instead of after --warmup + --seconds.
    #[arg(long)]
    pub count: Option<u64>,
    /// The Passport password `seed` stored for every account.
    #[arg(long, default_value = "passport-pw")]
    pub passport_password: String,
}

#[derive(Default)]
struct Worker {
    total: Latency,
    ns: Latency,
    nexus: Latency,
    login: Latency,
    total_ns: u128,
    login_ns: u128,
    nexus_ns: u128,
    done: u64,
}

pub async fn run(args: TwnArgs, machine: Machine) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.users >= args.concurrency && args.concurrency > 0,
        "--users must be at least --concurrency"
    );
    check_fd_budget(args.concurrency * 3)?;
    let ns = args.target.ns_addr().await?;
    let nexus = Url::parse(&args.nexus).map_err(|e| anyhow::anyhow!("--nexus: {e}"))?;
    let accounts = args.target.accounts();
    let timeout = args.target.timeout();
    let errors = Arc::new(Errors::default());
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.seconds);
    let password = Arc::new(args.passport_password.clone());
    let started = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (end, measure_from) = match args.count {
        // Counted runs measure everything until the count is reached.
        Some(_) => (start + Duration::from_secs(24 * 3600), start),
        None => (end, measure_from),
    };

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
        let (accounts, errors, nexus, password, started) = (
            accounts.clone(),
            errors.clone(),
            nexus.clone(),
            password.clone(),
            started.clone(),
        );
        let count = args.count;
        set.spawn(async move {
            let mut me = Worker::default();
            let mut j = 0usize;
            while Instant::now() < end {
                if count.is_some_and(|n| {
                    started.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= n
                }) {
                    break;
                }
                let handle = accounts.handle(mine[j % mine.len()]);
                j += 1;
                let t0 = Instant::now();
                let result = async {
                    let (mut c, twn) =
                        tokio::time::timeout(timeout, client::twn_start(ns, &handle))
                            .await
                            .map_err(|_| client::ClientError::Timeout("login"))??;
                    c.timeout = timeout;
                    let t1 = Instant::now();
                    let pp =
                        http::passport_login(&nexus, &handle, &password, &twn, timeout).await?;
                    let t2 = Instant::now();
                    client::twn_finish(&mut c, &pp.ticket).await?;
                    Ok::<_, client::ClientError>((c, pp, (t1 - t0) + t2.elapsed()))
                }
                .await;
                let t3 = Instant::now();
                match result {
                    Ok((c, pp, ns_time)) => {
                        if t0 >= measure_from && t3 <= end {
                            let total = t3 - t0;
                            me.total.record(total);
                            me.ns.record(ns_time);
                            me.nexus.record(pp.nexus);
                            me.login.record(pp.login);
                            me.total_ns += total.as_nanos();
                            me.login_ns += pp.login.as_nanos();
                            me.nexus_ns += pp.nexus.as_nanos();
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
    let mut all = Worker::default();
    while let Some(w) = set.join_next().await {
        let w = w?;
        all.total.merge(&w.total);
        all.ns.merge(&w.ns);
        all.nexus.merge(&w.nexus);
        all.login.merge(&w.login);
        all.total_ns += w.total_ns;
        all.login_ns += w.login_ns;
        all.nexus_ns += w.nexus_ns;
        all.done += w.done;
    }
    let measured = match args.count {
        Some(_) => start.elapsed().as_secs_f64(),
        None => (end - measure_from).as_secs_f64(),
    };

    let mut r = Report::new("twn-login", machine);
    args.target.describe(&mut r);
    r.param("nexus", args.nexus.clone())
        .param("users", args.users as u64)
        .param("concurrency", args.concurrency as u64)
        .param("seconds", args.seconds)
        .param("warmup_secs", args.warmup)
        .param("count", args.count.map_or(serde_json::Value::Null, Into::into))
        .param(
            "login",
            "MSNP11 VER/CVR/USR TWN I, GET nexus, GET DALogin (password check), USR TWN S, then OUT",
        );
    r.result("logins_measured", all.done)
        .result("measured_secs", round(measured, 2))
        .rate("logins_per_sec", all.done, measured);
    if all.total_ns > 0 {
        r.result(
            "passport_login_share_of_login_time",
            round(all.login_ns as f64 / all.total_ns as f64, 3),
        )
        .result(
            "nexus_share_of_login_time",
            round(all.nexus_ns as f64 / all.total_ns as f64, 3),
        );
    }
    if let Some(u) = usage_slot
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        u.finish(&mut r, "");
    }
    r.latency("whole login", all.total.summary())
        .latency("NS part (VER..USR OK)", all.ns.summary())
        .latency("GET nexus", all.nexus.summary())
        .latency("GET DALogin (password check)", all.login.summary());
    r.errors(errors.snapshot());
    r.note("the password hash is checked inside the DALogin request; compare runs against databases seeded with different --hash-memory-kib to isolate its cost");
    Ok(r)
}
