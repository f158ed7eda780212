//! Passport 1.4 ("Tweener") wire formats: the login request's
//! `Authorization` header and the header values of the nexus and login
//! replies (auth-services.md §2).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use percent_encoding::percent_decode_str;

/// Reply to a failed login. The client shows its sign-in error; there is
/// no ticket. (Microsoft also sent `cburl`/`cbtxt`, which only pointed at
/// its own help pages.)
pub const FAILED: &str = "Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt";

/// The `PassportURLs` value of the nexus reply: `DALogin` alone, because
/// msnp11-sdk strips `DALogin=` from the whole value and uses the rest as
/// the URL; the genuine clients accept the one-field form as well.
pub fn nexus_value(login_url: &str) -> String {
    format!("DALogin={login_url}")
}

/// The `Authentication-Info` value of a successful login. `from-PP` comes
/// last: the genuine clients take the text between its quotes, msnp11-sdk
/// everything after `from-PP='` with the quotes deleted.
pub fn success_value(ticket: &str) -> String {
    format!(
        "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='{ticket}'"
    )
}

/// The login URL for a listener advertised as `host_port` (`host:port`,
/// `http.advertise`) over `scheme`: the port is left out when it is the
/// scheme's default.
pub fn login_url_at(scheme: &str, host_port: &str) -> String {
    format!("{scheme}://{}/login2.srf", authority(scheme, host_port))
}

/// `host_port` without the port when it is `scheme`'s default.
pub fn authority<'a>(scheme: &str, host_port: &'a str) -> &'a str {
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    host_port.strip_suffix(default_port).unwrap_or(host_port)
}

/// The login URL announced by the nexus: the configured one, else the
/// plain HTTP listener's, else the HTTPS listener's.
///
/// Plain HTTP wins when both run so that test set-ups and msnp11-sdk
/// (which trusts only public roots) work out of the box; genuine clients
/// that insist on HTTPS get it by setting `http.login_url` (a value
/// without a scheme makes them use `https://`).
pub fn login_url(
    configured: &str,
    host: &str,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
) -> Option<String> {
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    let (scheme, port, default_port) = match (http, https) {
        (Some(a), _) => ("http", a.port(), 80),
        (None, Some(a)) => ("https", a.port(), 443),
        (None, None) => return None,
    };
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_owned(),
    };
    Some(if port == default_port {
        format!("{scheme}://{host}/login2.srf")
    } else {
        format!("{scheme}://{host}:{port}/login2.srf")
    })
}

/// The sign-in name and password of a login request.
pub struct Credentials {
    /// Percent-decoded `sign-in` (not yet validated as a handle).
    pub sign_in: String,
    /// Percent-decoded `pwd`.
    password: String,
    /// `pwd` exactly as sent, when decoding changed it.
    raw_password: Option<String>,
}

impl Credentials {
    /// The passwords to try, most likely first. Genuine clients
    /// percent-encode `pwd`; msnp11-sdk sends it as typed, so a password
    /// such as `50%41` only matches undecoded.
    pub fn password_candidates(&self) -> Vec<String> {
        let mut v = vec![self.password.clone()];
        v.extend(self.raw_password.clone());
        v
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("sign_in", &self.sign_in)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reads `sign-in` and `pwd` from an `Authorization` header value such as
/// `Passport1.4 OrgVerb=GET,OrgURL=…,sign-in=alice%40example.com,pwd=…,lc=1033,…`.
///
/// Lenient by design: leading scheme words are skipped (one revision of
/// the documentation shows `Passport1.4` twice), keys compare without
/// regard to case, and an item without `=` continues the previous value —
/// msnp11-sdk does not encode the password, so `pwd=p,w d,lc=1033` means
/// the password `p,w d`. `None` when either field is missing.
pub fn parse_authorization(value: &[u8]) -> Option<Credentials> {
    let value = std::str::from_utf8(value).ok()?;
    let mut rest = value.trim_start();
    // Skip scheme words: leading tokens that are not `key=value` items.
    while let Some(word) = rest.split_ascii_whitespace().next() {
        if word.contains('=') || word.contains(',') {
            break;
        }
        rest = rest[word.len()..].trim_start();
    }

    let mut params: Vec<(&str, String)> = Vec::new();
    for item in rest.split(',') {
        match item.split_once('=') {
            Some((key, raw)) => params.push((key.trim(), raw.to_owned())),
            None => {
                if let Some((_, raw)) = params.last_mut() {
                    raw.push(',');
                    raw.push_str(item);
                }
            }
        }
    }
    let find = |name: &str| {
        params
            .iter()
            .find(|(key, _)| decode(key).eq_ignore_ascii_case(name))
            .map(|(_, raw)| raw.as_str())
    };

    let sign_in = decode(find("sign-in")?).trim().to_owned();
    let raw = find("pwd")?;
    let password = decode(raw);
    let raw_password = (password != raw).then(|| raw.to_owned());
    Some(Credentials {
        sign_in,
        password,
        raw_password,
    })
}

/// Percent-decodes `s` (`+` stays a plus: this is not form encoding).
/// Malformed escapes are kept as they are.
fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Credentials {
        parse_authorization(v.as_bytes()).expect("parses")
    }

    #[test]
    fn genuine_client_request() {
        let c = parse(
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40hotmail.com,pwd=p%40ss%2Cword,lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619",
        );
        assert_eq!(c.sign_in, "alice@hotmail.com");
        assert_eq!(c.password_candidates(), ["p@ss,word", "p%40ss%2Cword"]);
    }

    #[test]
    fn msnp11_sdk_request_is_not_encoded() {
        let c = parse(
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=a@b.c,pwd=p,w d,lc=1033,id=507",
        );
        assert_eq!(c.sign_in, "a@b.c");
        assert_eq!(c.password_candidates(), ["p,w d"]);
        // '=' inside an unencoded password stays in the value.
        let c = parse("Passport1.4 sign-in=a@b.c,pwd=x=y");
        assert_eq!(c.password_candidates(), ["x=y"]);
        // '%' that is not an escape survives decoding; one that is gets a
        // second try undecoded.
        assert_eq!(
            parse("Passport1.4 sign-in=a@b.c,pwd=100%").password_candidates(),
            ["100%"]
        );
        assert_eq!(
            parse("Passport1.4 sign-in=a@b.c,pwd=50%41").password_candidates(),
            ["50A", "50%41"]
        );
        assert_eq!(
            parse("Passport1.4 sign-in=a@b.c,pwd=a+b").password_candidates(),
            ["a+b"]
        );
    }

    #[test]
    fn scheme_words_spacing_and_key_case() {
        let c = parse("  passport1.4 Passport1.4  OrgVerb=GET, SIGN-IN=Bob%40Example.com , PWD=x");
        assert_eq!(c.sign_in, "Bob@Example.com");
        assert_eq!(c.password_candidates(), ["x"]);
        let c = parse("sign-in=a@b.c,pwd=");
        assert_eq!(c.password_candidates(), [""]);
    }

    #[test]
    fn garbage_is_rejected() {
        for v in [
            "",
            "Passport1.4",
            "Passport1.4 OrgVerb=GET,OrgURL=x",
            "Passport1.4 sign-in=a@b.c",
            "Passport1.4 pwd=x",
            "Basic YWxpY2U6cHc=",
        ] {
            assert!(parse_authorization(v.as_bytes()).is_none(), "{v:?}");
        }
        assert!(parse_authorization(b"Passport1.4 sign-in=a@b.c,pwd=\xff").is_none());
    }

    #[test]
    fn debug_hides_the_password() {
        let c = parse("Passport1.4 sign-in=a@b.c,pwd=secret");
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn header_values() {
        assert_eq!(
            nexus_value("http://127.0.0.1:8080/login2.srf"),
            "DALogin=http://127.0.0.1:8080/login2.srf"
        );
        let v = success_value("t=abc$$&p=def$$");
        assert!(v.starts_with("Passport1.4 da-status=success,"));
        assert!(v.ends_with(",from-PP='t=abc$$&p=def$$'"));
    }

    #[test]
    fn login_urls() {
        let a = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(
            login_url("", "127.0.0.1", a("0.0.0.0:8080"), a("0.0.0.0:8443")).unwrap(),
            "http://127.0.0.1:8080/login2.srf"
        );
        assert_eq!(
            login_url("", "msn.example", None, a("0.0.0.0:8443")).unwrap(),
            "https://msn.example:8443/login2.srf"
        );
        assert_eq!(
            login_url("", "msn.example", a("0.0.0.0:80"), None).unwrap(),
            "http://msn.example/login2.srf"
        );
        assert_eq!(
            login_url("", "::1", None, a("[::]:443")).unwrap(),
            "https://[::1]/login2.srf"
        );
        assert_eq!(
            login_url("login.example/login2.srf", "h", a("0.0.0.0:1"), None).unwrap(),
            "login.example/login2.srf"
        );
        assert_eq!(login_url("", "h", None, None), None);
        assert_eq!(
            login_url_at("http", "msn.example:80"),
            "http://msn.example/login2.srf"
        );
        assert_eq!(
            login_url_at("https", "msn.example:8443"),
            "https://msn.example:8443/login2.srf"
        );
        assert_eq!(
            login_url_at("https", "[::1]:443"),
            "https://[::1]/login2.srf"
        );
    }
}
