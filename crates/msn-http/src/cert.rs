//! TLS certificates: generating a self-signed one for the host names the
//! clients have compiled in (ECDSA, or RSA for Windows XP), and loading
//! PEM files into a rustls server configuration.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// Host names MSN Messenger 5.0 – Windows Live Messenger contact by name
/// (auth-services.md §1). Redirect them to this server (hosts file or DNS)
/// and have the clients trust the certificate.
pub const MICROSOFT_HOSTS: &[&str] = &[
    "nexus.passport.com",
    "login.passport.com",
    "loginnet.passport.com",
    "login.live.com",
    "msnia.login.live.com",
    "messenger.hotmail.com",
    "contacts.msn.com",
    "storage.msn.com",
    "rsi.hotmail.com",
    "ows.messenger.msn.com",
    "config.messenger.msn.com",
    "gateway.messenger.hotmail.com",
];

/// File names written by [`generate_self_signed`].
pub const CERT_FILE: &str = "msnd-cert.pem";
pub const KEY_FILE: &str = "msnd-key.pem";

/// How long a generated certificate is valid.
const VALIDITY_DAYS: i64 = 3650;

/// The kind of key [`generate_self_signed_with`] makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA P-256: rustls, and every client from Windows Vista on.
    #[default]
    Ecdsa,
    /// RSA, 2048 bits: what Windows XP's TLS 1.0 suites need (RSA key
    /// exchange), served by the OpenSSL backend. Generated with OpenSSL
    /// (`ring` cannot), so only in builds with the `legacy-tls` feature.
    Rsa,
}

/// Bits of a generated RSA key: what XP accepts and current clients expect.
#[cfg(feature = "legacy-tls")]
const RSA_BITS: u32 = 2048;

/// Writes a self-signed ECDSA certificate and its key: see
/// [`generate_self_signed_with`].
pub fn generate_self_signed(
    dir: &Path,
    extra_hosts: &[String],
) -> anyhow::Result<(PathBuf, PathBuf)> {
    generate_self_signed_with(dir, extra_hosts, KeyType::Ecdsa)
}

/// Writes a self-signed certificate and its private key (PEM) into `dir`
/// (created if missing; existing files are replaced), valid for
/// [`MICROSOFT_HOSTS`], `localhost`, `127.0.0.1` and `extra_hosts` (names
/// or IP addresses). Returns the certificate and key paths.
///
/// Modern TLS stacks accept either key type; Windows XP's SChannel does
/// not know ECDSA, and speaks only TLS 1.0, which rustls does not: XP
/// clients need an RSA certificate served by the OpenSSL backend (or a
/// TLS-terminating proxy).
pub fn generate_self_signed_with(
    dir: &Path,
    extra_hosts: &[String],
    key_type: KeyType,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut names: Vec<String> = Vec::new();
    let defaults = MICROSOFT_HOSTS.iter().chain(&["localhost", "127.0.0.1"]);
    for name in defaults
        .map(|s| s.to_string())
        .chain(extra_hosts.iter().cloned())
    {
        let name = name.trim().to_ascii_lowercase();
        anyhow::ensure!(!name.is_empty(), "empty host name");
        if !names.contains(&name) {
            names.push(name);
        }
    }

    let mut params = CertificateParams::new(names.clone())
        .with_context(|| format!("invalid host name among {names:?}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "msnd self-signed");
    dn.push(DnType::OrganizationName, "msnd");
    params.distinguished_name = dn;
    let now = OffsetDateTime::now_utc();
    // A day of slack for clients whose clock runs a little behind.
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(VALIDITY_DAYS);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if key_type == KeyType::Rsa {
        // RSA key exchange encrypts the premaster secret to this key.
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

    let key = new_key(key_type)?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;

    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(&cert_path, cert.pem().as_bytes(), false)?;
    Ok((cert_path, key_path))
}

/// A fresh key pair of the requested type.
fn new_key(key_type: KeyType) -> anyhow::Result<KeyPair> {
    match key_type {
        KeyType::Ecdsa => KeyPair::generate().context("cannot generate a key pair"),
        #[cfg(feature = "legacy-tls")]
        KeyType::Rsa => {
            let rsa = openssl::rsa::Rsa::generate(RSA_BITS)
                .and_then(openssl::pkey::PKey::from_rsa)
                .and_then(|key| key.private_key_to_pkcs8())
                .context("cannot generate an RSA key")?;
            // rcgen signs with it (SHA-256) through ring.
            KeyPair::try_from(rsa.as_slice()).context("cannot use the RSA key")
        }
        #[cfg(not(feature = "legacy-tls"))]
        KeyType::Rsa => anyhow::bail!(
            "RSA keys are generated with OpenSSL: build msnd with --features legacy-tls \
             (or make the key and certificate with the openssl command)"
        ),
    }
}

/// Writes `data` to `path`; a private file is readable by its owner only.
fn write_file(path: &Path, data: &[u8], private: bool) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if private {
        // `mode` only applies to new files; tighten an existing one too.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A rustls server configuration (ring crypto, TLS 1.2 and 1.3) serving the
/// certificate chain in `cert` with the private key in `key`.
pub(crate) fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read certificates from {}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "no certificate in {}", cert.display());
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a private key from {}", key.display()))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .with_context(|| {
                format!(
                    "{} and {} do not form a usable certificate and key",
                    cert.display(),
                    key.display()
                )
            })?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_load_and_name_every_host() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tls");
        let extra = vec!["Msn.Example.org".to_owned(), "192.0.2.7".to_owned()];
        let (cert, key) = generate_self_signed(&out, &extra).unwrap();
        assert_eq!(cert, out.join(CERT_FILE));
        assert_eq!(key, out.join(KEY_FILE));
        server_config(&cert, &key).expect("rustls accepts the pair");

        let pem = fs::read_to_string(&cert).unwrap();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        // The SAN entries appear verbatim in the DER (IA5 strings and
        // 4-byte addresses).
        let der = der.as_ref();
        for host in MICROSOFT_HOSTS
            .iter()
            .chain(&["localhost", "msn.example.org"])
        {
            assert!(
                der.windows(host.len()).any(|w| w == host.as_bytes()),
                "{host} missing"
            );
        }
        for ip in [[127u8, 0, 0, 1], [192, 0, 2, 7]] {
            assert!(der.windows(4).any(|w| w == ip), "{ip:?} missing");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Generating again replaces the files with a new key.
        let old_key = fs::read(&key).unwrap();
        generate_self_signed(&out, &[]).unwrap();
        assert_ne!(fs::read(&key).unwrap(), old_key);
    }

    /// An RSA certificate (for Windows XP) loads in both backends and says
    /// it may be used for RSA key exchange.
    #[cfg(feature = "legacy-tls")]
    #[test]
    fn rsa_certificates_load_in_both_backends() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = generate_self_signed_with(dir.path(), &[], KeyType::Rsa).unwrap();
        server_config(&cert, &key).expect("rustls accepts the pair");
        let acceptor =
            crate::tls::legacy::LegacyAcceptor::new(&cert, &key, msn_config::DEFAULT_TLS_CIPHERS)
                .expect("OpenSSL accepts the pair");
        assert!(
            !acceptor
                .warnings()
                .iter()
                .any(|w| w.contains("not an RSA key")),
            "{:?}",
            acceptor.warnings()
        );
        let x509 = openssl::x509::X509::from_pem(&fs::read(&cert).unwrap()).unwrap();
        assert_eq!(x509.public_key().unwrap().bits(), RSA_BITS);
        let text = String::from_utf8(x509.to_text().unwrap()).unwrap();
        assert!(text.contains("Key Encipherment"), "{text}");
        assert!(text.contains("sha256WithRSAEncryption"), "{text}");

        // An ECDSA key loads too, with a warning for XP.
        let (cert, key) = generate_self_signed(&dir.path().join("ec"), &[]).unwrap();
        let acceptor = crate::tls::legacy::LegacyAcceptor::new(&cert, &key, "AES128-SHA").unwrap();
        assert!(
            acceptor
                .warnings()
                .iter()
                .any(|w| w.contains("not an RSA key")),
            "{:?}",
            acceptor.warnings()
        );
        // A cipher list OpenSSL cannot use is a configuration error; so are
        // missing files and a key that is not the certificate's.
        let refused = |cert: &Path, key: &Path, ciphers: &str| {
            let err = crate::tls::legacy::LegacyAcceptor::new(cert, key, ciphers)
                .err()
                .expect("refused");
            format!("{err:#}")
        };
        let err = refused(&cert, &key, "NO-SUCH-CIPHER");
        assert!(err.contains("http.tls_ciphers"), "{err}");
        let missing = dir.path().join("none.pem");
        let err = refused(&missing, &key, "AES128-SHA");
        assert!(err.contains("cannot read certificates from"), "{err}");
        let err = refused(&cert, &missing, "AES128-SHA");
        assert!(err.contains("cannot read a private key from"), "{err}");
        let (_, rsa_key) =
            generate_self_signed_with(&dir.path().join("rsa2"), &[], KeyType::Rsa).unwrap();
        let err = refused(&cert, &rsa_key, "AES128-SHA");
        assert!(
            err.contains("do not form a usable certificate and key"),
            "{err}"
        );
    }

    #[cfg(not(feature = "legacy-tls"))]
    #[test]
    fn rsa_needs_the_openssl_build() {
        let dir = tempfile::tempdir().unwrap();
        let err = generate_self_signed_with(dir.path(), &[], KeyType::Rsa).unwrap_err();
        assert!(err.to_string().contains("legacy-tls"), "{err}");
    }

    #[test]
    fn bad_host_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(generate_self_signed(dir.path(), &["bad host ☃".to_owned()]).is_err());
        assert!(generate_self_signed(dir.path(), &[" ".to_owned()]).is_err());
    }

    #[test]
    fn mismatched_or_missing_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = generate_self_signed(&dir.path().join("a"), &[]).unwrap();
        let (_, other_key) = generate_self_signed(&dir.path().join("b"), &[]).unwrap();
        assert!(server_config(&cert, &other_key).is_err());
        assert!(server_config(&dir.path().join("none.pem"), &other_key).is_err());
        assert!(server_config(&other_key, &other_key).is_err());
    }
}
