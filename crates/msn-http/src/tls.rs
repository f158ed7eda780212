//! The HTTPS listener's TLS, behind one handshake: rustls (the default,
//! TLS 1.2 and 1.3) or, with the cargo feature `legacy-tls` and `[http]
//! tls_backend = "openssl"`, OpenSSL ([`legacy`]), which also speaks the
//! TLS 1.0 and the RSA/3DES suites of MSN Messenger 5.0 – WLM on Windows
//! XP. The listener only ever sees an [`Acceptor`] and a [`TlsStream`], so
//! serving requests is one code path whichever library did the handshake.

use std::io;

use msn_config::{HttpConfig, TlsBackend};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

#[cfg(feature = "legacy-tls")]
pub mod legacy;

/// Performs server handshakes with the configured library.
#[derive(Clone)]
pub(crate) enum Acceptor {
    Rustls(TlsAcceptor),
    #[cfg(feature = "legacy-tls")]
    OpenSsl(legacy::LegacyAcceptor),
}

/// A connection after its handshake.
pub(crate) enum TlsStream {
    Rustls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    #[cfg(feature = "legacy-tls")]
    OpenSsl(Box<tokio_openssl::SslStream<TcpStream>>),
}

impl Acceptor {
    /// The acceptor `http` asks for, with its certificate and key loaded;
    /// `None` when HTTPS is off (`https_port = 0`).
    pub(crate) fn from_config(http: &HttpConfig) -> anyhow::Result<Option<Acceptor>> {
        // Even with HTTPS off: the configuration asks for what this build
        // lacks.
        #[cfg(not(feature = "legacy-tls"))]
        if http.tls_backend == TlsBackend::Openssl {
            return Err(no_openssl());
        }
        if http.https_port == 0 {
            return Ok(None);
        }
        let (Some(cert), Some(key)) = (&http.tls_cert, &http.tls_key) else {
            anyhow::bail!("http.https_port needs http.tls_cert and http.tls_key");
        };
        match http.tls_backend {
            TlsBackend::Rustls => Ok(Some(Acceptor::Rustls(TlsAcceptor::from(
                crate::cert::server_config(cert, key)?,
            )))),
            #[cfg(feature = "legacy-tls")]
            TlsBackend::Openssl => Ok(Some(Acceptor::OpenSsl(legacy::LegacyAcceptor::new(
                cert,
                key,
                http.tls_ciphers
                    .as_deref()
                    .unwrap_or(msn_config::DEFAULT_TLS_CIPHERS),
            )?))),
            #[cfg(not(feature = "legacy-tls"))]
            TlsBackend::Openssl => Err(no_openssl()),
        }
    }

    /// One line saying what the listener will speak, for logs and `msnd
    /// config check`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Acceptor::Rustls(_) => "rustls, TLS 1.2 and 1.3".to_owned(),
            #[cfg(feature = "legacy-tls")]
            Acceptor::OpenSsl(acceptor) => acceptor.describe(),
        }
    }

    /// Clients this set-up will fail (an XP client and an ECDSA key, …).
    pub(crate) fn warnings(&self) -> Vec<String> {
        match self {
            Acceptor::Rustls(_) => Vec::new(),
            #[cfg(feature = "legacy-tls")]
            Acceptor::OpenSsl(acceptor) => acceptor.warnings().to_vec(),
        }
    }

    /// The server side of a TLS handshake on `stream`.
    pub(crate) async fn handshake(&self, stream: TcpStream) -> io::Result<TlsStream> {
        match self {
            Acceptor::Rustls(acceptor) => acceptor
                .accept(stream)
                .await
                .map(|s| TlsStream::Rustls(Box::new(s))),
            #[cfg(feature = "legacy-tls")]
            Acceptor::OpenSsl(acceptor) => acceptor
                .accept(stream)
                .await
                .map(|s| TlsStream::OpenSsl(Box::new(s))),
        }
    }
}

impl TlsStream {
    /// The negotiated protocol version and cipher suite, for the log.
    pub(crate) fn negotiated(&self) -> (String, String) {
        match self {
            TlsStream::Rustls(s) => {
                let conn = s.get_ref().1;
                let version = conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                let suite = conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default();
                (version, suite)
            }
            #[cfg(feature = "legacy-tls")]
            TlsStream::OpenSsl(s) => {
                let ssl = s.ssl();
                let suite = ssl.current_cipher().map(|c| c.name()).unwrap_or_default();
                (ssl.version_str().to_owned(), suite.to_owned())
            }
        }
    }
}

/// `tls_backend = "openssl"` in a build without it.
#[cfg(not(feature = "legacy-tls"))]
fn no_openssl() -> anyhow::Error {
    anyhow::anyhow!(
        "http.tls_backend = \"openssl\" needs msnd built with the OpenSSL backend \
         (cargo build --release -p msnd --features legacy-tls); this build has rustls only"
    )
}

/// What [`check`] found.
#[derive(Debug)]
pub struct TlsSummary {
    /// The library and protocol versions, e.g. "rustls, TLS 1.2 and 1.3".
    pub description: String,
    /// Clients the set-up will fail.
    pub warnings: Vec<String>,
}

/// Loads the HTTPS listener's TLS set-up as [`crate::start`] does (the
/// backend this build has, the certificate and key, the cipher list) and
/// says what it will speak; `None` when HTTPS is off. For `msnd config
/// check`: a bad certificate is found before the server is restarted.
pub fn check(http: &HttpConfig) -> anyhow::Result<Option<TlsSummary>> {
    let acceptor = Acceptor::from_config(http)?;
    Ok(acceptor.map(|a| TlsSummary {
        description: a.describe(),
        warnings: a.warnings(),
    }))
}
