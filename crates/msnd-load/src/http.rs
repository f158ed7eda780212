//! The client side of Passport 1.4 (auth-services.md §2): the nexus
//! (`PassportURLs: DALogin=…`) and the login request whose
//! `Authentication-Info` carries the ticket. Plain HTTP/1.1 only, one
//! request per connection — just enough to drive the login service.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{ClientError, Result, resolve};

/// An `http://host[:port]/path` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// `host:port`
    pub authority: String,
    pub host: String,
    pub path: String,
}

impl Url {
    /// Parses a URL. A URL without a scheme is taken as HTTP (`DALogin` may
    /// omit it; real clients would then use HTTPS, which this client lacks).
    pub fn parse(text: &str) -> Result<Url> {
        let rest = if let Some(r) = text.strip_prefix("http://") {
            r
        } else if text.starts_with("https://") {
            return Err(ClientError::Http(format!(
                "{text}: HTTPS is not supported; run the login service over plain HTTP"
            )));
        } else {
            text
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(ClientError::Http(format!("{text}: no host")));
        }
        let (host, authority) = match authority.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                (h.to_owned(), authority.to_owned())
            }
            _ => (authority.to_owned(), format!("{authority}:80")),
        };
        Ok(Url {
            authority,
            host,
            path: path.to_owned(),
        })
    }
}

/// A response: status and headers (names as sent); the body is read and
/// dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// A header by exact name (Passport clients match `PassportURLs`
    /// case-sensitively, so this does too).
    pub fn header_exact(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET url` with extra headers; `Connection: close`.
pub async fn get(url: &Url, headers: &[(&str, &str)], timeout: Duration) -> Result<Response> {
    request("GET", url, headers, "", timeout)
        .await
        .map(|(resp, _)| resp)
}

/// `POST url` with extra headers and `body`; `Connection: close`. Returns
/// the response and its body (read to `Content-Length`, else to the end).
pub async fn post(
    url: &Url,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<(Response, Vec<u8>)> {
    request("POST", url, headers, body, timeout).await
}

async fn request(
    method: &str,
    url: &Url,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Result<(Response, Vec<u8>)> {
    tokio::time::timeout(timeout, async {
        let addr = resolve(&url.authority).await?;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(ClientError::Connect)?;
        stream.set_nodelay(true).map_err(ClientError::Connect)?;
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            url.path, url.authority
        );
        for (n, v) in headers {
            req.push_str(n);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).await?;
        let mut buf = Vec::with_capacity(2048);
        loop {
            if let Some(end) = find_head_end(&buf) {
                let resp = parse_head(&buf[..end])?;
                let body = read_body(&mut stream, &resp, buf.split_off(end)).await?;
                return Ok((resp, body));
            }
            if buf.len() > 64 * 1024 {
                return Err(ClientError::Http("response head too large".into()));
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(ClientError::Http(
                    "connection closed before the response".into(),
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .map_err(|_| ClientError::Timeout("HTTP response"))?
}

/// Reads the rest of the body (so the server is not reset): to
/// `Content-Length`, or without one to the end of the connection. At most
/// 1 MiB is kept.
async fn read_body(stream: &mut TcpStream, resp: &Response, mut body: Vec<u8>) -> Result<Vec<u8>> {
    let declared = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut chunk = [0u8; 4096];
    while declared.is_none_or(|len| body.len() < len) {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        if body.len() < 1 << 20 {
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(body)
}

/// The offset just past the blank line ending the response head.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Status line and headers.
pub fn parse_head(head: &[u8]) -> Result<Response> {
    let text = std::str::from_utf8(head).map_err(|_| ClientError::Http("non-UTF-8 head".into()))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split(' ');
    let version = parts.next().unwrap_or("");
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| ClientError::Http(format!("bad status line {status_line:?}")))?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Response { status, headers })
}

/// `DALogin` out of a `PassportURLs` value (`DARealm=…,DALogin=host/path,…`).
pub fn da_login(passport_urls: &str) -> Option<&str> {
    passport_urls
        .split(',')
        .find_map(|item| item.trim().strip_prefix("DALogin="))
        .filter(|v| !v.is_empty())
}

/// Characters escaped in `sign-in`/`pwd`: everything but letters and digits
/// (the real client escapes `@` as `%40`).
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The `Authorization` header value of the login request.
pub fn authorization(email: &str, password: &str, twn_string: &str) -> String {
    format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},{}",
        utf8_percent_encode(email, FORM),
        utf8_percent_encode(password, FORM),
        twn_string
    )
}

/// The ticket: the text between `from-PP='` and the next `'`.
pub fn ticket(authentication_info: &str) -> Option<&str> {
    let start = authentication_info.find("from-PP='")? + "from-PP='".len();
    let rest = &authentication_info[start..];
    let end = rest.find('\'')?;
    Some(&rest[..end]).filter(|t| !t.is_empty())
}

/// What one Passport login took.
#[derive(Clone, Debug)]
pub struct PassportLogin {
    pub ticket: String,
    pub nexus: Duration,
    pub login: Duration,
}

/// Nexus, then the login request (following up to three redirects).
pub async fn passport_login(
    nexus: &Url,
    email: &str,
    password: &str,
    twn_string: &str,
    timeout: Duration,
) -> Result<PassportLogin> {
    let t0 = std::time::Instant::now();
    let resp = get(nexus, &[], timeout).await?;
    if resp.status != 200 {
        return Err(ClientError::Http(format!("nexus answered {}", resp.status)));
    }
    let urls = resp
        .header_exact("PassportURLs")
        .ok_or_else(|| ClientError::Http("nexus sent no PassportURLs header".into()))?;
    let mut login_url = Url::parse(
        da_login(urls).ok_or_else(|| ClientError::Http("PassportURLs has no DALogin".into()))?,
    )?;
    let t1 = std::time::Instant::now();
    let auth = authorization(email, password, twn_string);
    for _ in 0..4 {
        let resp = get(&login_url, &[("Authorization", &auth)], timeout).await?;
        match resp.status {
            200 => {
                let info = resp
                    .header("Authentication-Info")
                    .ok_or_else(|| ClientError::Http("200 without Authentication-Info".into()))?;
                let ticket = ticket(info).ok_or_else(|| {
                    ClientError::Http("Authentication-Info has no from-PP".into())
                })?;
                return Ok(PassportLogin {
                    ticket: ticket.to_owned(),
                    nexus: t1 - t0,
                    login: t1.elapsed(),
                });
            }
            302 => {
                let to = resp
                    .header("Location")
                    .ok_or_else(|| ClientError::Http("302 without Location".into()))?;
                login_url = Url::parse(to)?;
            }
            401 => return Err(ClientError::Http("401 wrong credentials".into())),
            other => return Err(ClientError::Http(format!("login answered {other}"))),
        }
    }
    Err(ClientError::Http("too many redirects".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Url::parse("http://127.0.0.1:8080/rdr/pprdr.asp").unwrap(),
            Url {
                authority: "127.0.0.1:8080".into(),
                host: "127.0.0.1".into(),
                path: "/rdr/pprdr.asp".into()
            }
        );
        let u = Url::parse("login.example.net/login2.srf").unwrap();
        assert_eq!(
            (u.authority.as_str(), u.path.as_str()),
            ("login.example.net:80", "/login2.srf")
        );
        assert_eq!(Url::parse("http://h:1").unwrap().path, "/");
        assert!(Url::parse("https://login.live.com/x").is_err());
        assert!(Url::parse("http:///x").is_err());
    }

    #[test]
    fn response_heads() {
        let r = parse_head(
            b"HTTP/1.1 200 OK\r\nPassportURLs: DARealm=Passport.Net,DALogin=127.0.0.1:8080/login2.srf,DAReg=x\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            da_login(r.header_exact("PassportURLs").unwrap()),
            Some("127.0.0.1:8080/login2.srf")
        );
        assert_eq!(r.header_exact("passporturls"), None, "exact match only");
        assert_eq!(r.header("content-length"), Some("0"));
        assert!(parse_head(b"SSH-2.0-x\r\n\r\n").is_err());
        assert_eq!(
            da_login("DALogin=https://login.example.net/login"),
            Some("https://login.example.net/login")
        );
        assert_eq!(da_login("DARealm=x"), None);
    }

    #[test]
    fn authorization_and_ticket() {
        assert_eq!(
            authorization("alice@example.com", "p@ss w,rd", "lc=1033,id=507"),
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
             sign-in=alice%40example.com,pwd=p%40ss%20w%2Crd,lc=1033,id=507"
        );
        let info = "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,\
                    from-PP='t=abc$$&p=def',ru=http://messenger.msn.com";
        assert_eq!(ticket(info), Some("t=abc$$&p=def"));
        assert_eq!(
            ticket("Passport1.4 da-status=success,from-PP='tok'"),
            Some("tok")
        );
        assert_eq!(ticket("Passport1.4 da-status=failed"), None);
        assert_eq!(ticket("from-PP=''"), None);
    }
}
