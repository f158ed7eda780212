//! `msnd`: run the server, manage accounts, print the default configuration.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use msn_config::{Config, DEFAULT_CONFIG};
use msnd::accounts::{self, AccountSpec};
use msnd::{App, open_store, open_store_read_only};
use tracing::info;

/// jemalloc instead of glibc's malloc, so that memory freed after a burst
/// of logins goes back to the system.
///
/// A login checked with argon2id at the default cost writes 19 MiB of work
/// memory. glibc serves the first such block with `mmap`, then raises its
/// mmap threshold to that size (up to 32 MiB) and serves the next ones from
/// its heaps, which it trims only from the top and keeps per thread arena:
/// 32 clients guessing passwords for 20 s left msnd at 849 MB of RSS for
/// good (1,044 MB after a second flood), and 400 sign-ins at 859 MiB.
/// jemalloc serves allocations of 8 MiB and more from a dedicated arena
/// that, without background threads (the crate's default, kept on
/// purpose), gives their pages back as soon as they are freed; other
/// freed pages go back over about 10 s of allocator activity. Its size
/// classes also keep the many small per-session allocations compact
/// (README, "Performance": memory per idle session). mimalloc was the other
/// candidate; jemalloc's return of large blocks is documented, immediate
/// and does not depend on which thread allocates next. The argon2 buffers
/// themselves are reused while logins are being checked and freed when
/// none are ([`msn_auth::PasswordVerifier`]).
///
/// Only the binary sets it: the library crates, the tests and the load
/// generator use the system allocator.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "msnd",
    version,
    about = "An MSN Messenger server (MSN Messenger 1.0 to Windows Live Messenger 2009)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage accounts (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Invitation codes for the sign-up page (`[signup] invite_only`).
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// TLS certificates for the Passport HTTPS service.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Sign in to the running server as a client would (MSNP12 with a
    /// Passport ticket), print the account's contact list and sign out: a
    /// smoke test.
    Probe(ProbeArgs),
    /// Ask the running server whether it is ready (GET /readyz on its
    /// HTTP listener, found from the configuration like `serve` does):
    /// exit status 0 if so, 1 with a short message otherwise. For container
    /// health probes.
    Healthcheck {
        /// HTTP listener address (default: the configured bind address, or
        /// 127.0.0.1 when it binds every address, and the HTTP port).
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
        /// Give up after this long.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
        #[command(flatten)]
        location: Location,
    },
    /// Operate the running server through its admin API: who is online,
    /// kick, disable/enable, broadcast a notice, announced shutdown.
    Admin {
        #[command(subcommand)]
        command: msnd::admin::AdminCommand,
        /// HTTP listener address (default: as for `healthcheck`).
        #[arg(long, global = true)]
        http: Option<std::net::SocketAddr>,
        /// The admin token (default: admin.token, or the one the server
        /// wrote to its data directory).
        #[arg(long, global = true, env = "MSND_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(flatten)]
        location: Location,
    },
    /// Write a consistent copy of the database (works while the server
    /// runs; the copy includes changes not yet checkpointed from the WAL).
    Backup {
        /// File to write the copy to; it must not exist.
        dest: PathBuf,
        #[command(flatten)]
        location: Location,
    },
    /// Write every account (lists, groups, settings, password hashes,
    /// waiting offline messages) as JSON lines (docs/export-format.md).
    /// Works while the server runs. The file holds password hashes: it is
    /// created readable by its owner only.
    Export {
        /// File to write (it must not exist), or `-` for standard output.
        #[arg(long, short, default_value = "-")]
        output: PathBuf,
        #[command(flatten)]
        location: Location,
    },
    /// Import a file written by `msnd export`, all or nothing: every
    /// problem is listed with its line number, and accounts that exist
    /// already are refused.
    Import {
        /// The export file, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        location: Location,
    },
    /// Import the accounts, friendly names, contact lists and groups of an
    /// Escargot server's SQLite database (README "Moving data").
    ImportEscargot {
        /// Escargot's database file (read only).
        db: PathBuf,
        /// Read and check everything, print what would be imported, write
        /// nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        location: Location,
    },
}

#[derive(Subcommand)]
enum CertCommand {
    /// Write a self-signed certificate and key for the Microsoft host names
    /// the clients use (nexus.passport.com, login.live.com, …).
    Generate {
        /// Directory for msnd-cert.pem and msnd-key.pem.
        #[arg(long, default_value = "data/tls")]
        out: PathBuf,
        /// Further host names or addresses to include.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Replace an existing certificate and key (clients that trust the
        /// old certificate must import the new one).
        #[arg(long)]
        force: bool,
        /// Key type: ecdsa (P-256), or rsa (2048 bits), which Windows XP
        /// clients need; rsa needs a build with --features legacy-tls.
        #[arg(long, value_enum, default_value_t = KeyTypeArg::Ecdsa)]
        key_type: KeyTypeArg,
    },
}

/// `msnd cert generate --key-type`.
#[derive(Clone, Copy, ValueEnum)]
enum KeyTypeArg {
    Ecdsa,
    Rsa,
}

/// Where the configuration and data are.
#[derive(Args, Clone)]
struct Location {
    /// TOML configuration file (see `msnd config default`).
    /// `MSND_<SECTION>__<KEY>` environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Directory holding the database (overrides the file).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    location: Location,
    /// Address to listen on.
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Dispatch Server port (0: any free port).
    #[arg(long)]
    ds_port: Option<u16>,
    /// Notification Server port.
    #[arg(long)]
    ns_port: Option<u16>,
    /// Switchboard port.
    #[arg(long)]
    sb_port: Option<u16>,
    /// HTTP (Passport) port.
    #[arg(long)]
    http_port: Option<u16>,
    /// Host name or address clients are sent to.
    #[arg(long)]
    public_host: Option<String>,
    /// Log filter (e.g. "debug" for a protocol trace).
    #[arg(long)]
    log_level: Option<String>,
}

#[derive(Args)]
struct ProbeArgs {
    /// E-mail address of the account to sign in with.
    email: String,
    /// Its password.
    #[arg(long, env = "MSND_PASSWORD")]
    password: String,
    /// Notification Server address (default: 127.0.0.1 and the configured
    /// NS port).
    #[arg(long)]
    ns: Option<std::net::SocketAddr>,
    /// HTTP service address (default: 127.0.0.1 and the configured HTTP
    /// port).
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    #[command(flatten)]
    location: Location,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        /// E-mail address of the account (its sign-in name).
        email: String,
        /// The password.
        #[arg(long, env = "MSND_PASSWORD")]
        password: String,
        /// Display name (default: the e-mail address).
        #[arg(long)]
        name: Option<String>,
        /// Allow the MD5 login of MSN Messenger 1.0-4.7 (MSNP2-MSNP7). It
        /// needs the server to keep the password itself, not only a hash.
        #[arg(long)]
        legacy_md5: bool,
        #[command(flatten)]
        location: Location,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        location: Location,
    },
    /// Change a password (the MD5 opt-in stays as it is unless asked).
    Passwd {
        /// E-mail address of the account.
        email: String,
        /// The new password.
        #[arg(long, env = "MSND_PASSWORD")]
        password: String,
        /// Allow the MD5 login of MSN Messenger 1.0-4.7 (MSNP2-MSNP7) from
        /// now on (default: keep the account's current setting).
        #[arg(long, conflicts_with = "no_legacy_md5")]
        legacy_md5: bool,
        /// Refuse the MD5 login from now on and forget the kept password.
        #[arg(long)]
        no_legacy_md5: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Disable an account: it cannot sign in, and a running server ends
    /// its sessions within seconds. Lists and messages are kept.
    Disable {
        /// E-mail address of the account.
        email: String,
        #[command(flatten)]
        location: Location,
    },
    /// Enable a disabled account again.
    Enable {
        /// E-mail address of the account.
        email: String,
        #[command(flatten)]
        location: Location,
    },
    /// Delete an account and its lists.
    Del {
        /// E-mail address of the account.
        email: String,
        #[command(flatten)]
        location: Location,
    },
}

#[derive(Subcommand)]
enum InviteCommand {
    /// Create invitation codes and print them, one a line. Each lets one
    /// person create one account on the sign-up page.
    Create {
        /// How many codes to create.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
        count: u16,
        #[command(flatten)]
        location: Location,
    },
    /// List the invitation codes and who used them.
    List {
        #[command(flatten)]
        location: Location,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the annotated default configuration.
    Default,
    /// Check a configuration as `msnd serve` loads it (the file, then the
    /// MSND_<SECTION>__<KEY> environment variables), with its TLS
    /// certificate and key; print "ok" and a summary, or the problem and
    /// exit with status 1.
    Check {
        /// Configuration file (without one: the defaults and the
        /// environment).
        file: Option<PathBuf>,
    },
}

/// The file (if any), then the `MSND_<SECTION>__<KEY>` environment
/// variables, then `--data-dir`.
fn load_config(location: &Location) -> anyhow::Result<Config> {
    if let Some(path) = &location.config {
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    let mut config = Config::load(location.config.as_deref()).map_err(|e| {
        let source = match &location.config {
            Some(path) => format!("{} or the environment", path.display()),
            None => "the environment".to_owned(),
        };
        // figment names keys with its profile first ("default.http.port").
        let e = e.to_string().replace("key \"default.", "key \"");
        anyhow::anyhow!("invalid configuration in {source}: {e}")
    })?;
    if let Some(dir) = &location.data_dir {
        config.server.data_dir = dir.clone();
    }
    Ok(config)
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    // The database driver logs every statement at debug level; keep it
    // quiet unless asked for by name.
    let level = if config.log.level.contains("sqlx") {
        config.log.level.clone()
    } else {
        format!("{},sqlx=warn", config.log.level)
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = load_config(&args.location)?;
    if let Some(bind) = args.bind {
        config.server.bind = bind;
    }
    if let Some(p) = args.ds_port {
        config.dispatch.port = p;
    }
    if let Some(p) = args.ns_port {
        config.notification.port = p;
    }
    if let Some(p) = args.sb_port {
        config.switchboard.port = p;
    }
    if let Some(p) = args.http_port {
        config.http.port = p;
    }
    if let Some(h) = args.public_host {
        config.server.public_host = h;
    }
    if let Some(level) = args.log_level {
        config.log.level = level;
    }
    config.validate().map_err(anyhow::Error::msg)?;
    init_logging(&config);
    check_file_limit(config.limits.max_connections);
    let mut signals = Signals::install()?;
    let store = open_store(&config).await?;
    let warning = config.server.shutdown_warning;
    let grace = config.server.shutdown_grace;
    let app = App::start(config, store).await?;
    msnd::systemd::ready(&app);
    let signalled = tokio::select! {
        () = signals.recv() => true,
        // `msnd admin shutdown`: its warning was sent when it was asked.
        () = app.stop_requested() => false,
    };
    msnd::systemd::stopping(if signalled { warning + grace } else { grace });
    if signalled && !warning.is_zero() {
        // Whole minutes, rounded up: what the clients' dialog says.
        let minutes = u32::try_from(warning.as_secs().div_ceil(60).max(1)).unwrap_or(u32::MAX);
        app.warn_shutdown(minutes).await;
        tokio::select! {
            _ = tokio::time::sleep(warning) => {}
            () = signals.recv() => info!("shutting down without waiting"),
        }
    }
    app.shutdown().await;
    Ok(())
}

/// Raises the soft open-file limit to the hard one (each connection is a
/// file descriptor) and warns when `max_connections` still does not fit.
fn check_file_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        let Ok((soft, hard)) = rlimit::Resource::NOFILE.get() else {
            return;
        };
        let mut current = soft;
        if soft < hard && rlimit::Resource::NOFILE.set(hard, hard).is_ok() {
            current = hard;
        }
        // Listeners, the database and the log need a few descriptors too.
        let usable = usize::try_from(current)
            .unwrap_or(usize::MAX)
            .saturating_sub(64);
        if max_connections > usable {
            tracing::warn!(
                max_connections,
                open_files = current,
                "limits.max_connections exceeds what the open-file limit allows; \
                 connections beyond it will fail to be accepted"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}

/// Completes on SIGTERM or Ctrl-C.
/// SIGTERM and Ctrl-C, caught from the moment this is made: made before
/// the listeners open, so that a signal arriving while the server starts
/// is a graceful shutdown, not the default abrupt exit.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate()).context("cannot catch SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot catch SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => info!("SIGTERM received"),
            _ = self.interrupt.recv() => info!("interrupt received"),
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            password,
            name,
            legacy_md5,
            location,
        } => {
            let config = load_config(&location)?;
            let store = open_store(&config).await?;
            let spec = AccountSpec {
                email: &email,
                password: &password,
                name: name.as_deref(),
                legacy_md5,
            };
            accounts::create(&*store, &spec, config.hash_cost()).await?;
            store.close().await;
            println!(
                "created {}{}",
                email.to_ascii_lowercase(),
                if legacy_md5 {
                    " (MD5 login allowed)"
                } else {
                    ""
                }
            );
        }
        UserCommand::List { location } => {
            let config = load_config(&location)?;
            let store = open_store_read_only(&config).await?;
            let users = store.list_users().await?;
            store.close().await;
            println!(
                "{:<40} {:>8} {:>4} {:>8}  NAME",
                "HANDLE", "CONTACTS", "MD5", "STATE"
            );
            for u in users {
                println!(
                    "{:<40} {:>8} {:>4} {:>8}  {}",
                    u.handle,
                    u.contacts,
                    if u.legacy_md5 { "yes" } else { "no" },
                    if u.disabled { "disabled" } else { "active" },
                    u.friendly_name
                );
            }
        }
        UserCommand::Passwd {
            email,
            password,
            legacy_md5,
            no_legacy_md5,
            location,
        } => {
            let config = load_config(&location)?;
            let store = open_store(&config).await?;
            let wanted = match (legacy_md5, no_legacy_md5) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let result =
                accounts::set_password(&*store, &email, &password, wanted, config.hash_cost())
                    .await;
            store.close().await;
            let allowed = result?;
            let md5 = match (wanted, allowed) {
                (None, true) => "MD5 login still allowed",
                (None, false) => "MD5 login still refused",
                (Some(_), true) => "MD5 login now allowed",
                (Some(_), false) => "MD5 login now refused",
            };
            println!(
                "password changed for {} ({md5})",
                email.to_ascii_lowercase()
            );
        }
        UserCommand::Disable { email, location } => set_disabled(&email, &location, true).await?,
        UserCommand::Enable { email, location } => set_disabled(&email, &location, false).await?,
        UserCommand::Del { email, location } => {
            let config = load_config(&location)?;
            let store = open_store(&config).await?;
            let result = accounts::delete(&*store, &email).await;
            store.close().await;
            result?;
            println!("deleted {}", email.to_ascii_lowercase());
        }
    }
    Ok(())
}

/// `msnd invite create|list`.
async fn invite(command: InviteCommand) -> anyhow::Result<()> {
    match command {
        InviteCommand::Create { count, location } => {
            let config = load_config(&location)?;
            let store = open_store(&config).await?;
            let result = accounts::create_invites(&*store, usize::from(count)).await;
            store.close().await;
            for code in result? {
                println!("{code}");
            }
            if !config.signup.invite_only {
                eprintln!(
                    "note: [signup] invite_only is off: the sign-up page does not ask for a code"
                );
            }
        }
        InviteCommand::List { location } => {
            let config = load_config(&location)?;
            let store = open_store_read_only(&config).await?;
            let invites = store.invites().await;
            store.close().await;
            println!("{:<24} {:<8} USED BY", "CODE", "STATE");
            for invite in invites? {
                let (state, by) = match &invite.used_by {
                    Some(by) => ("used", by.as_str()),
                    None => ("unused", ""),
                };
                println!("{:<24} {:<8} {by}", invite.code, state);
            }
        }
    }
    Ok(())
}

/// `msnd user disable|enable`: through the store, like `del`, so that it
/// works while the server runs (the server follows the change log).
async fn set_disabled(email: &str, location: &Location, disable: bool) -> anyhow::Result<()> {
    let config = load_config(location)?;
    let store = open_store(&config).await?;
    let handle = email.to_ascii_lowercase();
    let found = store.set_disabled(&handle, disable).await?;
    store.close().await;
    anyhow::ensure!(found, "no account named {handle}");
    println!("{} {handle}", if disable { "disabled" } else { "enabled" });
    Ok(())
}

async fn probe(args: ProbeArgs) -> anyhow::Result<()> {
    let config = load_config(&args.location)?;
    let local = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let ns = args.ns.unwrap_or(local(config.notification.port));
    let http = args.http.unwrap_or(local(config.http.port));
    let report = msnd::probe::probe(
        ns,
        http,
        &args.email,
        &args.password,
        std::time::Duration::from_secs(10),
    )
    .await?;
    println!(
        "signed in at {ns} as {} ({}): {} contacts, {} groups",
        args.email.to_ascii_lowercase(),
        report.friendly_name,
        report.contacts.len(),
        report.groups
    );
    for c in report.contacts {
        println!("  {:<40} lists {:>2}  {}", c.handle, c.lists, c.name);
    }
    Ok(())
}

/// `msnd config check [FILE]`: loaded as `serve` loads it, then checked.
fn config_check(file: Option<PathBuf>) -> anyhow::Result<()> {
    let name = file.as_ref().map(|path| path.display().to_string());
    let location = Location {
        config: file,
        data_dir: None,
    };
    let config = load_config(&location)?;
    let env = msnd::config_check::environment_overrides();
    let checked = msnd::config_check::check(&config).map_err(|e| {
        let source = match (&name, env.is_empty()) {
            (Some(name), true) => name.clone(),
            (Some(name), false) => format!("{name} or the environment"),
            (None, _) => "the environment".to_owned(),
        };
        anyhow::anyhow!("invalid configuration in {source}: {e:#}")
    })?;
    let name = name.unwrap_or_else(|| "the defaults".to_owned());
    let mut report = if env.is_empty() {
        format!("ok: {name}\n")
    } else {
        format!("ok: {name}, with {} from the environment\n", env.join(", "))
    };
    report.push_str(&checked.summary);
    for warning in checked.warnings {
        report.push_str(&format!("warning: {warning}\n"));
    }
    // Written, not printed: a closed pipe (`| head`) is an error, not a panic.
    std::io::Write::write_all(&mut std::io::stdout().lock(), report.as_bytes())
        .context("cannot write the report")
}

/// Errors are printed alone (no backtrace, whatever `RUST_BACKTRACE` says)
/// and the process exits with status 1.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::User(command) => user(command).await,
        Command::Invite(command) => invite(command).await,
        Command::Probe(args) => probe(args).await,
        Command::Healthcheck {
            http,
            timeout,
            location,
        } => {
            let addr = match http {
                Some(addr) => addr,
                None => msnd::healthcheck::http_address(&load_config(&location)?)?,
            };
            msnd::healthcheck::check(addr, timeout).await?;
            println!("ready");
            Ok(())
        }
        Command::Admin {
            command,
            http,
            token,
            location,
        } => {
            let config = load_config(&location)?;
            let addr = match http {
                Some(addr) => addr,
                None => msnd::healthcheck::http_address(&config)?,
            };
            let token = msnd::admin::client_token(&config, token)?;
            let client = msnd::admin::AdminClient::new(addr, token)?;
            print!("{}", msnd::admin::run(command, &client).await?);
            Ok(())
        }
        Command::Backup { dest, location } => {
            let config = load_config(&location)?;
            msn_store::backup(&config.database_url(), &dest)
                .await
                .context("backup failed")?;
            println!("database copied to {}", dest.display());
            Ok(())
        }
        Command::Export { output, location } => {
            let config = load_config(&location)?;
            let store = open_store_read_only(&config).await?;
            let result = msnd::export::export_file(&*store, &output).await;
            store.close().await;
            let counts = result?;
            eprintln!(
                "exported {} accounts ({} groups, {} contacts, {} offline messages, {} circles){}",
                counts.accounts,
                counts.groups,
                counts.contacts,
                counts.oims,
                counts.circles,
                if output.as_os_str() == "-" {
                    String::new()
                } else {
                    format!(" to {}", output.display())
                }
            );
            Ok(())
        }
        Command::Import { file, location } => {
            let config = load_config(&location)?;
            let store = open_store(&config).await?;
            let result = msnd::export::import_file(&*store, &file).await;
            store.close().await;
            let counts = result?;
            println!(
                "imported {} accounts ({} groups, {} contacts, {} offline messages, {} circles)",
                counts.accounts, counts.groups, counts.contacts, counts.oims, counts.circles
            );
            Ok(())
        }
        Command::ImportEscargot {
            db,
            dry_run,
            location,
        } => {
            let config = load_config(&location)?;
            let report = if !dry_run {
                let store = open_store(&config).await?;
                let result = msnd::escargot::import(&*store, &db).await;
                store.close().await;
                result?
            } else if config.database_path().exists()
                || matches!(
                    msn_store::DatabaseUrl::parse(&config.database_url()),
                    Ok(msn_store::DatabaseUrl::Postgres(_))
                )
            {
                // Only to see which addresses are taken: nothing is written.
                let store = open_store_read_only(&config).await?;
                let result = msnd::escargot::dry_run(Some(&*store), &db).await;
                store.close().await;
                result?
            } else {
                msnd::escargot::dry_run(None, &db).await?
            };
            print!("{report}");
            Ok(())
        }
        Command::Config(ConfigCommand::Default) => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file }) => config_check(file),
        Command::Cert(CertCommand::Generate {
            out,
            hosts,
            force,
            key_type,
        }) => {
            let existing = [msn_http::cert::CERT_FILE, msn_http::cert::KEY_FILE]
                .map(|f| out.join(f))
                .into_iter()
                .find(|p| p.exists());
            if let (Some(path), false) = (existing, force) {
                anyhow::bail!(
                    "{} already exists; pass --force to replace the certificate and key",
                    path.display()
                );
            }
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let key_type = match key_type {
                KeyTypeArg::Ecdsa => msn_http::cert::KeyType::Ecdsa,
                KeyTypeArg::Rsa => msn_http::cert::KeyType::Rsa,
            };
            let (cert, key) = msn_http::cert::generate_self_signed_with(&out, &hosts, key_type)?;
            println!(
                "certificate: {}\nprivate key: {}",
                cert.display(),
                key.display()
            );
            // An RSA key is for the Windows XP clients: the OpenSSL backend.
            let backend = match key_type {
                msn_http::cert::KeyType::Rsa => "tls_backend = \"openssl\"\n",
                msn_http::cert::KeyType::Ecdsa => "",
            };
            println!(
                "\nTo serve HTTPS, add to the configuration file:\n\n[http]\nhttps_port = 443\n{backend}tls_cert = {:?}\ntls_key = {:?}\n\n\
                 Client machines must trust this certificate (import it as a trusted root).",
                cert.display().to_string(),
                key.display().to_string()
            );
            Ok(())
        }
    }
}
