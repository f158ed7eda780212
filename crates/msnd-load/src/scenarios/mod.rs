//! The load scenarios, one module each, and what they share: the target
//! server, signing users in, and sampling the server process.

pub mod chat;
pub mod flood;
pub mod idle;
pub mod login;
pub mod presence;
pub mod seed;
pub mod twn;
pub mod web;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::client::{self, Accounts, Conn, Lists};
use crate::metrics::Errors;
use crate::report::{Report, round};
use crate::sys::{self, ProcSample};

/// Where the server is and which accounts to use.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// The Notification Server, HOST:PORT (e.g. 127.0.0.1:1864).
    #[arg(long)]
    pub ns: String,
    /// Handle prefix used by `seed`.
    #[arg(long, default_value = "load")]
    pub prefix: String,
    /// Index of the first account to use.
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// The server's process id, to sample its memory (VmRSS) and CPU time.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Longest wait for any single server reply, seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
}

impl Target {
    pub async fn ns_addr(&self) -> anyhow::Result<SocketAddr> {
        client::resolve(&self.ns)
            .await
            .with_context(|| format!("cannot resolve {}", self.ns))
    }

    pub fn accounts(&self) -> Accounts {
        Accounts::new(&self.prefix)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    pub fn describe(&self, r: &mut Report) {
        r.param("ns", self.ns.clone())
            .param("prefix", self.prefix.clone())
            .param("first_account", self.first as u64);
        if let Some(pid) = self.server_pid {
            r.param("server_pid", u64::from(pid));
        }
    }
}

/// A signed-in NS session.
pub struct Online {
    pub conn: Conn,
    pub lists: Option<Lists>,
}

/// MD5 login (MSNP7), optionally `SYN 0`, then `CHG status`.
pub async fn sign_in(
    ns: SocketAddr,
    accounts: &Accounts,
    i: usize,
    syn: bool,
    status: &str,
    timeout: Duration,
) -> client::Result<Online> {
    let handle = accounts.handle(i);
    let mut conn = tokio::time::timeout(
        timeout,
        client::md5_login(ns, &handle, &Accounts::password(i)),
    )
    .await
    .map_err(|_| client::ClientError::Timeout("login"))??;
    conn.timeout = timeout;
    let lists = if syn {
        Some(client::sync_lists(&mut conn).await?)
    } else {
        None
    };
    client::set_status(&mut conn, status).await?;
    Ok(Online { conn, lists })
}

/// Fails early when the open-file limit cannot hold `connections`.
pub fn check_fd_budget(connections: usize) -> anyhow::Result<u64> {
    let limit = sys::raise_nofile_limit().context("cannot read RLIMIT_NOFILE")?;
    let needed = connections as u64 + 64;
    anyhow::ensure!(
        needed <= limit,
        "{connections} connections need about {needed} open files but the limit is {limit}"
    );
    Ok(limit)
}

/// CPU time and memory of the server and of the generator over an interval.
pub struct Usage {
    server_pid: Option<u32>,
    server: Option<ProcSample>,
    generator: Option<ProcSample>,
    machine_busy: Option<f64>,
    started: Instant,
}

impl Usage {
    pub fn start(server_pid: Option<u32>) -> Usage {
        Usage {
            server_pid,
            server: server_pid.and_then(|p| ProcSample::take(p).ok()),
            generator: ProcSample::take(sys::own_pid()).ok(),
            machine_busy: sys::machine_cpu_seconds().ok().map(|(busy, _)| busy),
            started: Instant::now(),
        }
    }

    /// Adds `<prefix>server_cpu_cores` (CPU seconds per wall second), the
    /// generator's, and `<prefix>other_cpu_cores`: what the rest of the
    /// machine used meanwhile (other processes disturb the measurement).
    pub fn finish(&self, r: &mut Report, prefix: &str) {
        let wall = self.started.elapsed().as_secs_f64();
        // CPU times tick in 10 ms steps: too short an interval says nothing.
        if wall < 0.5 {
            r.note("measured interval too short for CPU shares");
            return;
        }
        let mut ours = 0.0;
        if let (Some(pid), Some(before)) = (self.server_pid, self.server)
            && let Ok(after) = ProcSample::take(pid)
        {
            let cores = (after.cpu_secs - before.cpu_secs) / wall;
            ours += cores;
            r.result(&format!("{prefix}server_cpu_cores"), round(cores, 2));
        }
        if let Some(before) = self.generator
            && let Ok(after) = ProcSample::take(sys::own_pid())
        {
            let cores = (after.cpu_secs - before.cpu_secs) / wall;
            ours += cores;
            r.result(&format!("{prefix}generator_cpu_cores"), round(cores, 2));
        }
        if let Some(before) = self.machine_busy
            && let Ok((after, _)) = sys::machine_cpu_seconds()
        {
            let other = ((after - before) / wall - ours).max(0.0);
            r.result(&format!("{prefix}other_cpu_cores"), round(other, 2));
        }
    }
}

/// The server's VmRSS in KiB, when its pid is known.
pub fn server_rss(pid: Option<u32>) -> Option<u64> {
    pid.and_then(|p| sys::rss_kib(p).ok())
}

/// Keeps a session open until `cancel`, pinging every `ping`; false when
/// the server dropped it.
pub async fn keep_alive(
    conn: &mut Conn,
    ping: Duration,
    cancel: &CancellationToken,
    errors: &Errors,
) -> bool {
    conn.clear_backlog();
    conn.shrink();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + ping, ping);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return true,
            r = conn.read_more() => {
                let drained = r.and_then(|_| {
                    while conn.poll_frame()?.is_some() {}
                    Ok(())
                });
                if let Err(e) = drained {
                    errors.add(format!("idle session: {}", e.category()));
                    return false;
                }
                conn.shrink();
            }
            _ = tick.tick() => {
                conn.queue_line(format_args!("PNG"));
                if let Err(e) = conn.flush().await {
                    errors.add(format!("ping: {}", e.category()));
                    return false;
                }
                conn.shrink();
            }
        }
    }
}
