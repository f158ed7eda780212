//! `msnd probe`: sign in to a running server the way MSN Messenger 7.5
//! does (MSNP12, a Passport 1.4 ticket from the HTTP service), download the
//! contact list and sign out — a smoke test an operator can run after
//! starting the server, and a check that the NS and HTTP services work
//! together.
//!
//! It is a deliberately small client: plain HTTP, one connection, strict
//! about the replies it expects, and it reports the first thing that went
//! wrong in words.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A contact as the probe's list download showed it.
#[derive(Debug, PartialEq, Eq)]
pub struct ProbeContact {
    pub handle: String,
    pub name: String,
    /// The list bits of `LST` (1 FL, 2 AL, 4 BL, 8 RL, 16 PL).
    pub lists: u32,
}

/// What a successful probe saw.
#[derive(Debug)]
pub struct ProbeReport {
    pub friendly_name: String,
    pub contacts: Vec<ProbeContact>,
    pub groups: usize,
}

/// Signs `email` in at the NS `ns`, getting its ticket from the Passport
/// login service at `http`, lists its contacts and signs out. Every step
/// must finish within `timeout`.
pub async fn probe(
    ns: SocketAddr,
    http: SocketAddr,
    email: &str,
    password: &str,
    timeout: Duration,
) -> anyhow::Result<ProbeReport> {
    tokio::time::timeout(timeout, run(ns, http, email, password))
        .await
        .map_err(|_| anyhow::anyhow!("the server did not answer within {timeout:?}"))?
}

async fn run(
    ns: SocketAddr,
    http: SocketAddr,
    email: &str,
    password: &str,
) -> anyhow::Result<ProbeReport> {
    let stream = TcpStream::connect(ns)
        .await
        .with_context(|| format!("cannot connect to the notification server at {ns}"))?;
    let (read, write) = stream.into_split();
    let mut ns = Lines {
        read: BufReader::new(read),
        write,
    };
    ns.send("VER 1 MSNP12 CVR0").await?;
    ns.expect("VER 1 MSNP12").await?;
    ns.send(&format!(
        "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs {email}"
    ))
    .await?;
    ns.expect("CVR 2").await?;
    ns.send(&format!("USR 3 TWN I {email}")).await?;
    let challenge = ns.expect("USR 3 TWN S ").await?;
    let challenge = challenge["USR 3 TWN S ".len()..].to_owned();
    let ticket = passport_ticket(http, email, password, &challenge).await?;
    ns.send(&format!("USR 4 TWN S {ticket}")).await?;
    ns.expect("USR 4 OK ").await?;
    ns.send("SYN 5 0 0").await?;
    let syn = ns.expect("SYN 5 ").await?;
    let counts: Vec<usize> = syn
        .split(' ')
        .skip(4)
        .map(|n| n.parse().context("SYN counts"))
        .collect::<anyhow::Result<_>>()?;
    let [contacts, groups] = counts[..] else {
        bail!("unexpected SYN reply: {syn}");
    };
    let mut report = ProbeReport {
        friendly_name: String::new(),
        contacts: Vec::with_capacity(contacts),
        groups,
    };
    // Everything the server sends before the answer to a ping belongs to
    // the list download.
    ns.send("PNG").await?;
    loop {
        let line = ns.line().await?;
        if line.starts_with("QNG") {
            break;
        }
        if let Some(lst) = line.strip_prefix("LST ") {
            report.contacts.push(parse_lst(lst)?);
        } else if let Some(name) = line.strip_prefix("PRP MFN ") {
            report.friendly_name = msn_core::text::decode(name);
        }
    }
    if report.contacts.len() != contacts {
        bail!(
            "SYN announced {contacts} contacts, the server listed {}",
            report.contacts.len()
        );
    }
    ns.send("OUT").await?;
    Ok(report)
}

/// `N=handle F=name C=guid bits [groups]` (MSNP10+ `LST`).
fn parse_lst(lst: &str) -> anyhow::Result<ProbeContact> {
    let mut contact = ProbeContact {
        handle: String::new(),
        name: String::new(),
        lists: 0,
    };
    let mut lists = None;
    for word in lst.split(' ') {
        if let Some(handle) = word.strip_prefix("N=") {
            contact.handle = handle.to_owned();
        } else if let Some(name) = word.strip_prefix("F=") {
            contact.name = msn_core::text::decode(name);
        } else if lists.is_none() {
            // The first bare number is the list bits; group ids follow.
            lists = word.parse().ok();
        }
    }
    if contact.handle.is_empty() {
        bail!("LST without a handle: {lst}");
    }
    contact.lists = lists.with_context(|| format!("LST without list bits: {lst}"))?;
    Ok(contact)
}

/// The Passport 1.4 login (`GET /login2.srf`), as MSN Messenger 5.0–7.0
/// make it: the credentials and the NS's challenge in `Authorization`, the
/// ticket in `Authentication-Info`'s `from-PP`.
async fn passport_ticket(
    http: SocketAddr,
    email: &str,
    password: &str,
    challenge: &str,
) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(http)
        .await
        .with_context(|| format!("cannot connect to the HTTP service at {http}"))?;
    let request = format!(
        "GET /login2.srf HTTP/1.1\r\nHost: {http}\r\nConnection: close\r\n\
         Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
         sign-in={},pwd={},{challenge}\r\n\r\n",
        utf8_percent_encode(email, NON_ALPHANUMERIC),
        utf8_percent_encode(password, NON_ALPHANUMERIC),
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut response)
        .await
        .context("reading the Passport login response")?;
    let response = String::from_utf8_lossy(&response);
    let status = response.lines().next().unwrap_or_default();
    if status.contains(" 401 ") {
        bail!("the password was refused (401 from /login2.srf)");
    }
    if !status.contains(" 200 ") {
        bail!("/login2.srf answered {status:?}");
    }
    response
        .lines()
        .find_map(|l| l.split_once("from-PP='"))
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(ticket, _)| ticket.to_owned())
        .context("/login2.srf sent no ticket")
}

/// One NS connection, line by line.
struct Lines {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Lines {
    async fn send(&mut self, line: &str) -> anyhow::Result<()> {
        self.write
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        Ok(())
    }

    /// The next command line; the payload of a payload command (`MSG`,
    /// `UBX`, `NOT`, …: its last word is the payload's length) is skipped.
    async fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.read.read_line(&mut line).await? == 0 {
            bail!("the notification server closed the connection");
        }
        let line = line.trim_end().to_owned();
        let command = line.split(' ').next().unwrap_or_default();
        if matches!(command, "MSG" | "UBX" | "NOT" | "GCF" | "IPG") {
            let length: u64 = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("payload command without a length: {line}"))?;
            let copied =
                tokio::io::copy(&mut (&mut self.read).take(length), &mut tokio::io::sink()).await?;
            if copied < length {
                bail!("the notification server closed the connection");
            }
        }
        Ok(line)
    }

    /// The reply starting with `prefix`, skipping what the server sends on
    /// its own meanwhile (`SBS`, the profile `MSG`, presence); an error code
    /// in its place is reported as such.
    async fn expect(&mut self, prefix: &str) -> anyhow::Result<String> {
        let trid = prefix.split(' ').nth(1).unwrap_or_default();
        loop {
            let line = self.line().await?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
            let mut words = line.split(' ');
            let code = words.next().and_then(|c| c.parse::<u16>().ok());
            match code {
                Some(911) => bail!("the notification server refused the sign-in (911)"),
                Some(code) if words.next() == Some(trid) => {
                    bail!("the notification server answered error {code}: {line}")
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst_lines() {
        let c = parse_lst("N=bob@hotmail.com F=Bob%20B C=5a6e 11 1").unwrap();
        assert_eq!(
            c,
            ProbeContact {
                handle: "bob@hotmail.com".into(),
                name: "Bob B".into(),
                lists: 11,
            }
        );
        assert!(parse_lst("F=x 3").is_err());
    }
}
