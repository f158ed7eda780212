//! The OpenSSL backend (cargo feature `legacy-tls`): TLS 1.0 to 1.3, for
//! the clients rustls will never serve. MSN Messenger 5.0 – 7.5 and WLM
//! 8.x on Windows XP get their Passport tickets through SChannel, which
//! speaks TLS 1.0 with RSA key exchange and 3DES or RC4 only; Windows 7
//! clients speak TLS 1.0 by default too (with AES). OpenSSL 3 refuses TLS
//! 1.0 and SHA-1 at its default security level, so this context runs at
//! level 0 with an explicit cipher list (`[http] tls_ciphers`, default
//! [`msn_config::DEFAULT_TLS_CIPHERS`]) that puts the strong suites first
//! and lets the server choose.

use std::fs;
use std::io;
use std::path::Path;
use std::pin::Pin;

use anyhow::Context as _;
use openssl::pkey::{Id, PKey};
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslVersion,
};
use openssl::x509::X509;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

/// The suite Windows XP's SChannel prefers among those still worth
/// offering (`TLS_RSA_WITH_3DES_EDE_CBC_SHA`).
pub const XP_CIPHER: &str = "DES-CBC3-SHA";

/// A configured OpenSSL server context.
#[derive(Clone)]
pub struct LegacyAcceptor {
    context: SslContext,
    warnings: Vec<String>,
}

impl LegacyAcceptor {
    /// A context serving the PEM certificate chain `cert` with the private
    /// key `key`, TLS 1.0 and later, `ciphers` (an OpenSSL cipher list) for
    /// TLS 1.0–1.2 and OpenSSL's own suites for TLS 1.3.
    pub fn new(cert: &Path, key: &Path, ciphers: &str) -> anyhow::Result<LegacyAcceptor> {
        let mut builder =
            SslContextBuilder::new(SslMethod::tls_server()).context("cannot set up OpenSSL")?;
        // SslOptions::ALL keeps DONT_INSERT_EMPTY_FRAGMENTS: the empty
        // records OpenSSL would otherwise send before TLS 1.0 CBC data (a
        // browser-side BEAST defence) break old Microsoft clients.
        builder.set_options(
            SslOptions::ALL
                | SslOptions::NO_COMPRESSION
                | SslOptions::NO_SSLV2
                | SslOptions::NO_SSLV3
                | SslOptions::CIPHER_SERVER_PREFERENCE
                | SslOptions::NO_RENEGOTIATION,
        );
        // Non-blocking use: tokio may retry a write with another buffer.
        builder.set_mode(
            SslMode::AUTO_RETRY
                | SslMode::ACCEPT_MOVING_WRITE_BUFFER
                | SslMode::ENABLE_PARTIAL_WRITE
                | SslMode::RELEASE_BUFFERS,
        );
        // Before the cipher list, which may raise it again (`@SECLEVEL=n`).
        builder.set_security_level(0);
        builder
            .set_min_proto_version(Some(SslVersion::TLS1))
            .context("cannot enable TLS 1.0")?;
        builder
            .set_cipher_list(ciphers)
            .with_context(|| format!("http.tls_ciphers: OpenSSL knows none of {ciphers:?}"))?;
        // Read here, not by OpenSSL, so that a missing file is reported
        // plainly rather than as OpenSSL's error queue.
        let pem = fs::read(cert)
            .with_context(|| format!("cannot read certificates from {}", cert.display()))?;
        let mut chain = X509::stack_from_pem(&pem)
            .with_context(|| format!("cannot read certificates from {}", cert.display()))?
            .into_iter();
        let leaf = chain
            .next()
            .with_context(|| format!("no certificate in {}", cert.display()))?;
        builder.set_certificate(&leaf)?;
        for extra in chain {
            builder.add_extra_chain_cert(extra)?;
        }
        let pem = fs::read(key)
            .with_context(|| format!("cannot read a private key from {}", key.display()))?;
        let private = PKey::private_key_from_pem(&pem)
            .with_context(|| format!("cannot read a private key from {}", key.display()))?;
        builder.set_private_key(&private)?;
        builder.check_private_key().with_context(|| {
            format!(
                "{} and {} do not form a usable certificate and key",
                cert.display(),
                key.display()
            )
        })?;

        let context = builder.build();
        let mut warnings = Vec::new();
        if context.private_key().map(|k| k.id()) != Some(Id::RSA) {
            warnings.push(format!(
                "{} is not an RSA key: Windows XP clients cannot use it \
                 (`msnd cert generate --key-type rsa` makes one)",
                key.display()
            ));
        }
        if !library_has(XP_CIPHER) {
            warnings.push(format!(
                "{} has no {XP_CIPHER} (TLS_RSA_WITH_3DES_EDE_CBC_SHA; built without \
                 weak SSL ciphers): Windows XP clients cannot connect, TLS 1.0 with AES \
                 (Windows Vista and later) still works",
                openssl::version::version()
            ));
        }
        Ok(LegacyAcceptor { context, warnings })
    }

    /// What the listener speaks, e.g. "OpenSSL 3.0.19 27 Jan 2026, TLS 1.0 to 1.3".
    pub fn describe(&self) -> String {
        format!("{}, TLS 1.0 to 1.3", openssl::version::version())
    }

    /// What clients this set-up will fail (logged at start, printed by
    /// `msnd config check`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(crate) async fn accept(&self, stream: TcpStream) -> io::Result<SslStream<TcpStream>> {
        let ssl = Ssl::new(&self.context).map_err(io::Error::other)?;
        let mut stream = SslStream::new(ssl, stream).map_err(io::Error::other)?;
        Pin::new(&mut stream)
            .accept()
            .await
            .map_err(|e| e.into_io_error().unwrap_or_else(io::Error::other))?;
        Ok(stream)
    }
}

/// Whether the linked OpenSSL has the cipher suite `name` at all
/// (distributions build it without 3DES and RC4 in TLS).
pub fn library_has(name: &str) -> bool {
    SslContextBuilder::new(SslMethod::tls_server())
        .and_then(|mut b| {
            b.set_security_level(0);
            b.set_cipher_list(name)
        })
        .is_ok()
}
