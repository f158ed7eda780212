//! `msnd admin`: the operators' commands, sent to the running server's
//! admin API (`/admin/api/…`, msn-http's `admin` module), and the token
//! that protects it.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use msn_config::Config;
use serde_json::Value;

/// Where a server whose `admin.token` is empty keeps the token it made.
pub fn token_path(config: &Config) -> PathBuf {
    config.server.data_dir.join("admin.token")
}

/// The token the server accepts: the configured one, or a fresh random
/// one written to [`token_path`] for `msnd admin` on the same machine
/// (readable by the server's user only).
pub fn server_token(config: &Config) -> anyhow::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let token = msn_core::ids::token(40);
    let path = token_path(config);
    write_private(&path, token.as_bytes())
        .with_context(|| format!("cannot write the admin token to {}", path.display()))?;
    Ok(token)
}

/// Writes `contents` to a new file only its owner may read, then moves it
/// over `path`: the token is never readable by others, even briefly.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let staging = path.with_extension("token.new");
    let _ = std::fs::remove_file(&staging);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&staging)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&staging, path)
}

/// The token `msnd admin` presents: given on the command line (or
/// `MSND_ADMIN_TOKEN`), else the configured one, else the one the server
/// wrote to the data directory.
pub fn client_token(config: &Config, given: Option<String>) -> anyhow::Result<String> {
    if let Some(token) = given.filter(|t| !t.is_empty()) {
        return Ok(token);
    }
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let path = token_path(config);
    let token = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no admin token: give --token, set admin.token, or run this as the server's user \
             (cannot read {})",
            path.display()
        )
    })?;
    Ok(token.trim().to_owned())
}

/// A client of one server's admin API.
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    pub fn new(addr: SocketAddr, token: String) -> anyhow::Result<AdminClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(AdminClient {
            http,
            base: format!("http://{addr}/admin/api"),
            token,
        })
    }

    /// `GET /admin/api/online`.
    pub async fn online(&self) -> anyhow::Result<Value> {
        self.send(self.http.get(format!("{}/online", self.base)))
            .await
    }

    /// `POST /admin/api/<action>` with a JSON body.
    pub async fn post(&self, action: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self
            .http
            .post(format!("{}/{action}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("{}: no answer (is the server running?)", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| match status.as_u16() {
                404 => "no admin API here (admin.enabled, admin.allow?)".to_owned(),
                _ => text.trim().to_owned(),
            });
        bail!("{status}: {message}");
    }
}

/// The online list as a table: one line per user, then the count per
/// protocol version.
pub fn format_online(online: &Value) -> String {
    let mut out = String::new();
    let users = online["users"].as_array().cloned().unwrap_or_default();
    if !users.is_empty() {
        out.push_str(&format!("{:<40} {:<6} VERSIONS\n", "USER", "STATUS"));
    }
    for u in &users {
        let dialects: Vec<&str> = u["dialects"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<40} {:<6} {}\n",
            u["user"].as_str().unwrap_or(""),
            u["status"].as_str().unwrap_or(""),
            dialects.join(" ")
        ));
    }
    out.push_str(&format!("{} signed in", users.len()));
    if let Some(by) = online["by_dialect"].as_object().filter(|m| !m.is_empty()) {
        let parts: Vec<String> = by.iter().map(|(d, n)| format!("{d}: {n}")).collect();
        out.push_str(&format!(" ({})", parts.join(", ")));
    }
    out.push('\n');
    out
}

/// `msnd admin …`.
#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Who is signed in, with the protocol version of each session.
    Online {
        /// Print the server's JSON answer instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sign a user out of every session and chat (`OUT OTH`). They may
    /// sign in again; `disable` keeps them out.
    Kick {
        /// E-mail address of the account.
        email: String,
    },
    /// Disable an account and sign it out at once (lists and messages are
    /// kept).
    Disable {
        /// E-mail address of the account.
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// E-mail address of the account.
        email: String,
    },
    /// Show a notice to every signed-in user (an MSN Alert: MSN Messenger
    /// 3.0 and later show it; 1.0-2.0 cannot).
    Broadcast {
        /// The text.
        text: String,
        /// A page opened when the notice is clicked.
        #[arg(long, default_value = "")]
        url: String,
    },
    /// Tell every signed-in user that the server goes down in MINUTES
    /// (the system message the clients show), then shut it down
    /// gracefully. 0: at once, without the message.
    Shutdown {
        /// Minutes until the shutdown.
        #[arg(long = "in", value_name = "MINUTES")]
        minutes: u32,
    },
}

/// Runs one admin command against the server at `addr`; returns what to
/// print.
pub async fn run(command: AdminCommand, client: &AdminClient) -> anyhow::Result<String> {
    use serde_json::json;
    Ok(match command {
        AdminCommand::Online { json } => {
            let online = client.online().await?;
            if json {
                format!("{online:#}\n")
            } else {
                format_online(&online)
            }
        }
        AdminCommand::Kick { email } => {
            client.post("kick", &json!({ "user": email })).await?;
            format!("{email} signed out\n")
        }
        AdminCommand::Disable { email } => {
            client.post("disable", &json!({ "user": email })).await?;
            format!("{email} disabled (and signed out)\n")
        }
        AdminCommand::Enable { email } => {
            client.post("enable", &json!({ "user": email })).await?;
            format!("{email} enabled\n")
        }
        AdminCommand::Broadcast { text, url } => {
            let answer = client
                .post("notice", &json!({ "text": text, "url": url }))
                .await?;
            format!("notice sent to {} users\n", answer["told"])
        }
        AdminCommand::Shutdown { minutes } => {
            let answer = client
                .post("shutdown", &json!({ "minutes": minutes }))
                .await?;
            if minutes == 0 {
                "shutting down now\n".to_owned()
            } else {
                format!(
                    "{} users told; shutting down in {minutes} minute(s)\n",
                    answer["told"]
                )
            }
        }
    })
}
