//! Cross-site request forgery protection for the pages' forms.
//!
//! Every browser gets a random cookie ([`COOKIE`], HttpOnly,
//! SameSite=Strict); each form carries an HMAC-SHA256 of that cookie's
//! value under a key the process draws at start. A POST is accepted only
//! when the form's token is the HMAC of the cookie it came with, so a page
//! elsewhere can neither read nor compute a token, and a cookie planted by
//! a neighbouring host name is useless without the key. On top of that the
//! `Origin` (or, without one, the `Referer`) header must name this host.
//! A restart changes the key: forms opened before it are refused once and
//! work after a reload.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN, REFERER};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use sha2::Sha256;

/// The cookie whose value the tokens are derived from.
pub(crate) const COOKIE: &str = "msnd_csrf";

/// The key tokens are made with.
pub(crate) struct Csrf {
    key: [u8; 32],
}

impl Csrf {
    pub(crate) fn new() -> Csrf {
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        Csrf { key }
    }

    fn mac(&self, cookie: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(b"msnd form\0");
        mac.update(cookie.as_bytes());
        mac
    }

    /// The token forms carry for a browser with this cookie value.
    pub(crate) fn token(&self, cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(cookie).finalize().into_bytes())
    }

    /// Whether `token` is the one for `cookie` (compared in constant time).
    pub(crate) fn verify(&self, cookie: &str, token: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(token.trim()) {
            Ok(bytes) => self.mac(cookie).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// A new random value for [`COOKIE`] (256 bits).
pub(crate) fn new_cookie_value() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether the request's `Origin` — or, when a browser sends none, its
/// `Referer` — names the host the request was sent to. Requests with
/// neither (tools such as curl) pass here and still need the token.
/// `Origin: null` (a sandboxed or privacy-stripped context) does not pass.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = match (headers.get(ORIGIN), headers.get(REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return true,
    };
    let Ok(source) = source.to_str() else {
        return false;
    };
    authority_of(source)
        .is_some_and(|(scheme, authority)| normalize(scheme, authority) == normalize(scheme, host))
}

/// `("http", "host:port")` of `http://host:port/path…`.
fn authority_of(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!authority.is_empty() && !authority.contains('@')).then_some((scheme, authority))
}

/// An authority in lower case without the scheme's default port.
fn normalize(scheme: &str, authority: &str) -> String {
    let lower = authority.to_ascii_lowercase();
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    match lower.strip_suffix(default) {
        Some(bare) if !default.is_empty() => bare.to_owned(),
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(axum::http::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn tokens_are_bound_to_the_cookie_and_the_key() {
        let csrf = Csrf::new();
        let cookie = new_cookie_value();
        let token = csrf.token(&cookie);
        assert!(csrf.verify(&cookie, &token));
        assert!(!csrf.verify(&new_cookie_value(), &token));
        assert!(!csrf.verify(&cookie, ""));
        assert!(!csrf.verify(&cookie, "not base64!"));
        assert!(!Csrf::new().verify(&cookie, &token));
    }

    #[test]
    fn origin_must_name_this_host() {
        let host = (HOST, "msn.example.net:8080");
        assert!(same_origin(&headers(std::slice::from_ref(&host))));
        assert!(same_origin(&headers(&[
            host.clone(),
            (ORIGIN, "http://MSN.example.net:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (ORIGIN, "http://evil.example:8080")
        ])));
        assert!(!same_origin(&headers(&[host.clone(), (ORIGIN, "null")])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (REFERER, "http://msn.example.net:8080/signup?x")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (REFERER, "http://msn.example.net:8081/signup")
        ])));
        assert!(same_origin(&headers(&[
            (HOST, "msn.example.net"),
            (ORIGIN, "https://msn.example.net:443")
        ])));
        assert!(!same_origin(&headers(&[(
            ORIGIN,
            "http://msn.example.net"
        )])));
    }
}
