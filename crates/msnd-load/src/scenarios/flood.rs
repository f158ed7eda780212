//! `flood`: clients sending wrong passwords to the HTTP logins — Passport
//! 1.4's login (`GET /login2.srf`, found through the nexus) and RST.srf —
//! as fast as they are answered, in rounds with a pause between them.
//! Reports how the server answered (refused as a wrong password, refused
//! as busy, anything else is an error) and the server's memory (VmRSS)
//! before, at its peak during, right after and after the pause of every
//! round: the figures that show whether the memory of a flood comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use super::{Target, Usage, check_fd_budget, server_rss};
use crate::client::ClientError;
use crate::http::{self, Url};
use crate::metrics::{Errors, Latency};
use crate::report::{Report, round};
use crate::sys::Machine;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Endpoints {
    /// Every client alternates between login2.srf and RST.srf.
    Both,
    /// Passport 1.4 login only.
    Login2,
    /// RST.srf only.
    Rst,
}

#[derive(Args, Debug, Clone)]
pub struct FloodArgs {
    #[command(flatten)]
    pub target: Target,
    /// The Passport nexus, e.g. http://127.0.0.1:8080/rdr/pprdr.asp; the
    /// login URL it names is flooded, and RST.srf on the same host.
    #[arg(long)]
    pub nexus: String,
    /// Accounts whose names are sent (existing ones, from `seed`).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Clients sending at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds of each round.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Rounds.
    #[arg(long, default_value_t = 2)]
    pub rounds: u32,
    /// Seconds of quiet after each round before memory is read again.
    #[arg(long, default_value_t = 15)]
    pub pause: u64,
    /// Which login services are flooded.
    #[arg(long, value_enum, default_value_t = Endpoints::Both)]
    pub endpoints: Endpoints,
}

/// How the server answered.
#[derive(Default)]
struct Counts {
    /// Checked and refused: 401 on login2.srf, the authentication fault on
    /// RST.srf.
    wrong: AtomicU64,
    /// Not checked, refused as busy: 503 on login2.srf, the Server Busy
    /// fault on RST.srf.
    busy: AtomicU64,
    /// Not checked, refused by the failed-login throttle: 429 on
    /// login2.srf, the authentication fault with `Retry-After` on RST.srf.
    throttled: AtomicU64,
}

/// RSS samples of the server during a round.
struct Round {
    peak_kib: u64,
    after_kib: Option<u64>,
    settled_kib: Option<u64>,
    wrong: u64,
    busy: u64,
    throttled: u64,
}

pub async fn run(args: FloodArgs, machine: Machine) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.users > 0 && args.concurrency > 0,
        "--users and --concurrency must be positive"
    );
    check_fd_budget(args.concurrency * 2)?;
    let nexus = Url::parse(&args.nexus).map_err(|e| anyhow::anyhow!("--nexus: {e}"))?;
    let timeout = args.target.timeout();
    let response = http::get(&nexus, &[], timeout).await?;
    let login = response
        .header_exact("PassportURLs")
        .and_then(http::da_login)
        .ok_or_else(|| anyhow::anyhow!("the nexus names no DALogin"))?;
    let login = Url::parse(login).map_err(|e| anyhow::anyhow!("DALogin: {e}"))?;
    let rst = Url {
        path: "/RST.srf".into(),
        ..nexus.clone()
    };
    let accounts = args.target.accounts();
    let pid = args.target.server_pid;
    let errors = Arc::new(Errors::default());
    let mut latency = Latency::default();
    let before_kib = server_rss(pid);
    let usage = Usage::start(pid);
    let mut rounds = Vec::new();
    let mut sent_total = 0u64;
    let started = Instant::now();

    for _ in 0..args.rounds {
        let counts = Arc::new(Counts::default());
        let end = Instant::now() + Duration::from_secs(args.seconds);
        let mut set = tokio::task::JoinSet::new();
        for w in 0..args.concurrency {
            let (accounts, errors, counts, login, rst) = (
                accounts.clone(),
                errors.clone(),
                counts.clone(),
                login.clone(),
                rst.clone(),
            );
            let first = args.target.first;
            let (users, endpoints) = (args.users, args.endpoints);
            set.spawn(async move {
                let mut latency = Latency::default();
                let mut sent = 0u64;
                let mut i = w;
                while Instant::now() < end {
                    let handle = accounts.handle(first + i % users);
                    let use_rst = match endpoints {
                        Endpoints::Both => i % 2 == 1,
                        Endpoints::Login2 => false,
                        Endpoints::Rst => true,
                    };
                    i += 1;
                    let t0 = Instant::now();
                    let outcome = if use_rst {
                        rst_attempt(&rst, &handle, timeout).await
                    } else {
                        login2_attempt(&login, &handle, timeout).await
                    };
                    latency.record(t0.elapsed());
                    sent += 1;
                    match outcome {
                        Ok(Answer::Wrong) => counts.wrong.fetch_add(1, Ordering::Relaxed),
                        Ok(Answer::Busy) => counts.busy.fetch_add(1, Ordering::Relaxed),
                        Ok(Answer::Throttled) => counts.throttled.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            errors.add(e);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            0
                        }
                    };
                }
                (latency, sent)
            });
        }
        // Sample the server's memory while the round runs.
        let mut peak_kib = server_rss(pid).unwrap_or(0);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while !set.is_empty() {
            tokio::select! {
                joined = set.join_next() => {
                    if let Some(joined) = joined {
                        let (l, sent) = joined?;
                        latency.merge(&l);
                        sent_total += sent;
                    }
                }
                _ = tick.tick() => {
                    peak_kib = peak_kib.max(server_rss(pid).unwrap_or(0));
                }
            }
        }
        let after_kib = server_rss(pid);
        tokio::time::sleep(Duration::from_secs(args.pause)).await;
        rounds.push(Round {
            peak_kib: peak_kib.max(after_kib.unwrap_or(0)),
            after_kib,
            settled_kib: server_rss(pid),
            wrong: counts.wrong.load(Ordering::Relaxed),
            busy: counts.busy.load(Ordering::Relaxed),
            throttled: counts.throttled.load(Ordering::Relaxed),
        });
    }
    let elapsed = started.elapsed().as_secs_f64();

    let mut r = Report::new("flood", machine);
    args.target.describe(&mut r);
    r.param("nexus", args.nexus.clone())
        .param("login_url", format!("{}{}", login.authority, login.path))
        .param("endpoints", format!("{:?}", args.endpoints).to_lowercase())
        .param("users", args.users as u64)
        .param("concurrency", args.concurrency as u64)
        .param("seconds", args.seconds)
        .param("rounds", u64::from(args.rounds))
        .param("pause_secs", args.pause);
    r.result("requests_sent", sent_total);
    if let Some(kib) = before_kib {
        r.result("server_rss_before_kib", kib);
    }
    for (n, round_) in rounds.iter().enumerate() {
        let n = n + 1;
        let secs = args.seconds as f64;
        r.rate(
            &format!("round{n}_wrong_password_per_sec"),
            round_.wrong,
            secs,
        )
        .rate(&format!("round{n}_busy_per_sec"), round_.busy, secs)
        .rate(
            &format!("round{n}_throttled_per_sec"),
            round_.throttled,
            secs,
        );
        if pid.is_some() {
            r.result(&format!("round{n}_server_rss_peak_kib"), round_.peak_kib);
        }
        if let Some(kib) = round_.after_kib {
            r.result(&format!("round{n}_server_rss_after_kib"), kib);
        }
        if let Some(kib) = round_.settled_kib {
            r.result(&format!("round{n}_server_rss_after_pause_kib"), kib);
        }
    }
    r.result("elapsed_secs", round(elapsed, 1));
    usage.finish(&mut r, "");
    r.latency("answer", latency.summary());
    r.errors(errors.snapshot());
    r.note("wrong: checked and refused (401, or the RST authentication fault); busy: refused unchecked (503, or the RST Server Busy fault); throttled: refused unchecked by the failed-login throttle (429, or the RST fault with Retry-After) — set [login_throttle] max_failures_per_account = 0 on the server to measure hashing alone");
    Ok(r)
}

enum Answer {
    Wrong,
    Busy,
    Throttled,
}

/// The password every attempt sends; no account has it.
const WRONG_PASSWORD: &str = "not-the-password";

async fn login2_attempt(login: &Url, handle: &str, timeout: Duration) -> Result<Answer, String> {
    let auth = http::authorization(handle, WRONG_PASSWORD, TWN_STRING);
    let resp = http::get(login, &[("Authorization", &auth)], timeout)
        .await
        .map_err(|e| category(&e))?;
    match resp.status {
        401 => Ok(Answer::Wrong),
        429 => Ok(Answer::Throttled),
        503 => Ok(Answer::Busy),
        other => Err(format!("login2.srf answered {other}")),
    }
}

async fn rst_attempt(rst: &Url, handle: &str, timeout: Duration) -> Result<Answer, String> {
    let body = rst_request(handle, WRONG_PASSWORD);
    let (resp, body) = http::post(
        rst,
        &[("Content-Type", "text/xml; charset=utf-8")],
        &body,
        timeout,
    )
    .await
    .map_err(|e| category(&e))?;
    let body = String::from_utf8_lossy(&body);
    let failed = body.contains("<faultcode>wsse:FailedAuthentication</faultcode>");
    if resp.status == 200 && failed && resp.header("Retry-After").is_some() {
        Ok(Answer::Throttled)
    } else if resp.status == 200 && failed {
        Ok(Answer::Wrong)
    } else if body.contains("<faultstring>Server Busy</faultstring>") {
        Ok(Answer::Busy)
    } else {
        Err(format!(
            "RST.srf answered {} without a known fault",
            resp.status
        ))
    }
}

fn category(e: &ClientError) -> String {
    format!("http: {}", e.category())
}

/// What `USR TWN I` hands MSNP8–11 clients to forward (any will do here).
const TWN_STRING: &str = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619";

/// An RST request as MSN 7.5 sends it (soap/rst.md), asking for the
/// Passport and Messenger tokens.
pub fn rst_request(handle: &str, password: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust">"#,
            r#"<Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>{handle}</wsse:Username><wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></Header>"#,
            r#"<Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">"#,
            r#"<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>"#,
            r#"<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messenger.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="?id=507"></wsse:PolicyReference></wst:RequestSecurityToken>"#,
            r#"</ps:RequestMultipleSecurityTokens></Body></Envelope>"#,
        ),
        handle = xml_escape(handle),
        password = xml_escape(password),
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
