//! `msnd-load`: a load generator for msnd that speaks the real protocol
//! over TCP. See README.md for the scenarios, how to run them, and the
//! numbers measured so far.

use clap::{Parser, Subcommand};
use msnd_load::scenarios::{
    self, chat::ChatArgs, flood::FloodArgs, idle::IdleArgs, login::LoginArgs,
};
use msnd_load::scenarios::{presence::PresenceArgs, seed::SeedArgs, twn::TwnArgs, web::WebArgs};
use msnd_load::{metrics, sys};

#[derive(Parser)]
#[command(name = "msnd-load", version, about = "Load generator for msnd")]
struct Cli {
    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Worker threads of the generator's runtime (default: one per core).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create benchmark accounts with ring-shaped contact lists in a data
    /// directory (run before starting the server on it).
    Seed(SeedArgs),
    /// Sign many users in and keep them connected; server memory per session.
    Idle(IdleArgs),
    /// Repeated MD5 logins followed by OUT; logins/s and login latency.
    Login(LoginArgs),
    /// Status changes and the latency of the NLN their watchers receive.
    Presence(PresenceArgs),
    /// Switchboard messages between pairs; MSG/s and delivery latency.
    Chat(ChatArgs),
    /// MSNP11 logins through the Passport 1.4 nexus and login service.
    TwnLogin(TwnArgs),
    /// Wrong passwords to login2.srf and RST.srf in rounds; how they are
    /// answered and the server's memory before, during and after.
    Flood(FloodArgs),
    /// Web Messenger sessions (sign-in API + MSNP over a WebSocket):
    /// server memory per web session, message latency web → TCP.
    Web(WebArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Before any socket exists: the soft limit is often far below the hard.
    let _ = sys::raise_nofile_limit();
    metrics::epoch();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = cli.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build()?;
    let machine = sys::Machine::detect();
    let report = rt.block_on(async move {
        match cli.command {
            Command::Seed(a) => scenarios::seed::run(a, machine).await,
            Command::Idle(a) => scenarios::idle::run(a, machine).await,
            Command::Login(a) => scenarios::login::run(a, machine).await,
            Command::Presence(a) => scenarios::presence::run(a, machine).await,
            Command::Chat(a) => scenarios::chat::run(a, machine).await,
            Command::TwnLogin(a) => scenarios::twn::run(a, machine).await,
            Command::Flood(a) => scenarios::flood::run(a, machine).await,
            Command::Web(a) => scenarios::web::run(a, machine).await,
        }
    })?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_table());
    }
    // Connections still closing in the background are not waited for.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}
