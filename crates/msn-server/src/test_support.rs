//! For unit tests: a [`Shared`] without listeners, and a line client over
//! an in-memory transport.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use msn_auth::{ConnectionGate, LoginThrottle, MemoryTokens, PasswordVerifier, Slot};
use msn_store::StoreOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::context::{PublicAddrs, Shared, Stats};
use crate::sb::registry::Switchboards;

/// Everything a session needs, on a fresh database in `dir`.
pub(crate) async fn shared(dir: &Path, switchboards: Switchboards) -> Arc<Shared> {
    let config = Config::for_tests(dir);
    let store = msn_store::open(&config.database_url(), &StoreOptions::default())
        .await
        .expect("store");
    let service = Arc::new(msn_service::Service::local(
        store.clone(),
        crate::server::service_settings(&config),
    ));
    Arc::new(Shared {
        gate: ConnectionGate::new(config.connection_gate()),
        login_throttle: Arc::new(LoginThrottle::new(config.login_throttle())),
        passwords: Arc::new(PasswordVerifier::new(
            config.http.max_concurrent_hashes,
            config.http.max_pending_logins,
        )),
        config,
        store,
        service,
        switchboards,
        tokens: Arc::new(MemoryTokens::new()),
        referral: None,
        addrs: PublicAddrs::default(),
        shutdown: CancellationToken::new(),
        stats: Stats::default(),
    })
}

pub(crate) fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 40000))
}

/// A connection slot for [`peer`].
pub(crate) fn slot(shared: &Shared) -> Slot {
    shared.gate.admit(peer().ip()).expect("a free slot")
}

/// The client end of an in-memory connection.
pub(crate) struct LineClient {
    read: BufReader<ReadHalf<DuplexStream>>,
    write: WriteHalf<DuplexStream>,
}

impl LineClient {
    /// A connected pair: the client, and the server's end to serve.
    pub(crate) fn pair() -> (LineClient, DuplexStream) {
        LineClient::pair_with(64 * 1024)
    }

    /// A pair whose pipe holds at most `capacity` bytes each way.
    pub(crate) fn pair_with(capacity: usize) -> (LineClient, DuplexStream) {
        let (client, server) = tokio::io::duplex(capacity);
        let (read, write) = tokio::io::split(client);
        let client = LineClient {
            read: BufReader::new(read),
            write,
        };
        (client, server)
    }

    pub(crate) async fn send(&mut self, bytes: &str) {
        self.write.write_all(bytes.as_bytes()).await.expect("write");
    }

    /// The next line without its CR LF; `None` at end of stream.
    pub(crate) async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.read.read_line(&mut line),
        )
        .await
        .expect("a line in time")
        .expect("read");
        (read > 0).then(|| line.trim_end_matches("\r\n").to_owned())
    }

    /// Exactly `len` bytes (a payload).
    pub(crate) async fn payload(&mut self, len: usize) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0; len];
        self.read.read_exact(&mut buf).await.expect("payload");
        buf
    }
}
