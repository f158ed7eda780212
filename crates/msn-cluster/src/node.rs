//! This node in the cluster: the NATS connection, the two KV buckets and
//! their replica, the heartbeat, noticing dead nodes, and answering the
//! other nodes' messages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::StreamExt as _;
use msn_config::ClusterConfig;
use msn_core::handle::Handle;
use msn_service::{Bus, Directory, LocalBus, Service};
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::{debug, info, warn};

use crate::codec::{
    NodeMessage, WireEvent, WireInvitee, WireNotice, WirePresence, decode_answer, encode_answer,
};
use crate::tokens::ClusterTokens;
pub use crate::view::NodeRecord;
use crate::view::{View, parse_user_key, user_key};

/// Why the node could not join its cluster. The NATS URL is never part
/// of the message (it may hold credentials).
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot connect to NATS (cluster.nats_url): {0}")]
    Connect(String),
    #[error("NATS JetStream (needed for the node registry) failed: {0}")]
    JetStream(String),
}

pub(crate) struct Inner {
    pub(crate) client: async_nats::Client,
    /// `msnd.<cluster>`: subjects start with it.
    pub(crate) prefix: String,
    /// This process's id in the registry: the node name and a random
    /// part, so that a node restarted under the same name is not taken
    /// for the one that died.
    pub(crate) id: String,
    name: String,
    js: jetstream::Context,
    users_kv: kv::Store,
    nodes_kv: kv::Store,
    pub(crate) view: RwLock<View>,
    pub(crate) config: ClusterConfig,
    record: Mutex<NodeRecord>,
    service: OnceLock<Arc<Service>>,
    pub(crate) local: OnceLock<Arc<LocalBus>>,
    reconnected: Notify,
    /// The connection dropped since the last heartbeat looked.
    lost: Arc<AtomicBool>,
    shutdown: CancellationToken,
    tasks: Mutex<Vec<AbortOnDropHandle<()>>>,
    pub(crate) tokens: OnceLock<Arc<ClusterTokens>>,
}

impl Inner {
    pub(crate) fn node_subject(&self, node: &str) -> String {
        format!("{}.node.{node}", self.prefix)
    }

    pub(crate) async fn put_user(&self, handle: &Handle) {
        if let Err(e) = self
            .users_kv
            .put(user_key(&self.id, handle), Bytes::new())
            .await
        {
            warn!(error = %e, "cannot record a sign-in in the session directory");
        }
        self.view.write().user_put(&self.id, handle.clone());
    }

    pub(crate) async fn delete_user(&self, handle: &Handle) {
        self.view.write().user_delete(&self.id, handle);
        if let Err(e) = self.users_kv.delete(user_key(&self.id, handle)).await {
            warn!(error = %e, "cannot record a sign-out in the session directory");
        }
    }

    async fn put_record(&self) {
        let record = {
            let mut r = self.record.lock();
            if let Some(s) = self.service.get() {
                r.users = s.directory().online_count();
            }
            r.clone()
        };
        let body = Bytes::from(serde_json::to_vec(&record).expect("serializable"));
        match self.nodes_kv.put(&self.id, body).await {
            Ok(_) => {
                self.view.write().node_put(&self.id, record, Instant::now());
            }
            Err(e) => debug!(error = %e, "heartbeat not recorded"),
        }
    }
}

/// This node's membership in a cluster. Clones share it.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) inner: Arc<Inner>,
}

fn bucket_error(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::JetStream(e.to_string())
}

impl Cluster {
    /// Connects to NATS and opens (creating if need be) the cluster's
    /// buckets. Nothing is announced until [`Cluster::serve`].
    pub async fn connect(config: &ClusterConfig) -> Result<Cluster, ClusterError> {
        let name = if config.node_id.is_empty() {
            host_name()
        } else {
            config.node_id.clone()
        };
        let id = format!("{name}-{:08x}", rand::random::<u32>());
        let reconnected = Arc::new(Notify::new());
        let signal = reconnected.clone();
        let lost = Arc::new(AtomicBool::new(false));
        let lost_flag = lost.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("msnd {id}"))
            .connection_timeout(config.request_timeout.max(Duration::from_secs(2)))
            .request_timeout(Some(config.request_timeout))
            // Retried for ever, at most a heartbeat apart: a node back on
            // NATS soon after the server is must not look dead for long.
            .reconnect_delay_callback({
                let most = config.heartbeat;
                move |attempts| {
                    let step = Duration::from_millis(100)
                        .saturating_mul(u32::try_from(attempts).unwrap_or(u32::MAX));
                    step.min(most)
                }
            })
            .event_callback(move |event| {
                let signal = signal.clone();
                let lost = lost_flag.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            info!("NATS connection (re)established");
                            signal.notify_one();
                        }
                        async_nats::Event::Disconnected => {
                            lost.store(true, Ordering::Relaxed);
                            warn!("NATS connection lost");
                        }
                        other => debug!(event = %other, "NATS"),
                    }
                }
            })
            .connect(config.nats_url.trim())
            .await
            .map_err(|e| ClusterError::Connect(e.kind().to_string()))?;
        let js = jetstream::new(client.clone());
        let bucket = |suffix: &str| bucket_name(&config.name, suffix);
        // Records of nodes that left without a word are kept a while for
        // the others to notice, then dropped.
        let nodes_kv = open_bucket(&js, &bucket("nodes"), config.ttl * 4).await?;
        let users_kv = open_bucket(&js, &bucket("users"), Duration::ZERO).await?;
        let secrets = open_bucket(&js, &bucket("secrets"), Duration::ZERO).await?;
        let key = shared_key(&secrets).await?;
        let inner = Arc::new(Inner {
            js,
            client,
            prefix: format!("msnd.{}", config.name),
            id,
            name,
            users_kv,
            nodes_kv,
            view: RwLock::new(View::default()),
            config: config.clone(),
            record: Mutex::new(NodeRecord {
                name: String::new(),
                ns: String::new(),
                sb: String::new(),
                draining: false,
                users: 0,
            }),
            service: OnceLock::new(),
            local: OnceLock::new(),
            reconnected: Notify::new(),
            lost,
            shutdown: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
            tokens: OnceLock::new(),
        });
        inner.record.lock().name = inner.name.clone();
        // The callback's signal, forwarded to the node's own Notify (the
        // callback had to exist before the node did).
        let weak = Arc::downgrade(&inner);
        let forward = tokio::spawn(async move {
            loop {
                reconnected.notified().await;
                match weak.upgrade() {
                    Some(inner) => inner.reconnected.notify_one(),
                    None => break,
                }
            }
        });
        inner.tasks.lock().push(AbortOnDropHandle::new(forward));
        let cluster = Cluster { inner };
        let tokens = Arc::new(ClusterTokens::start(&cluster, key).await?);
        let _ = cluster.inner.tokens.set(tokens);
        info!(node = %cluster.inner.id, cluster = %config.name, "joined the cluster's NATS");
        Ok(cluster)
    }

    /// This process's id in the registry.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The token service every node of the cluster can redeem from.
    pub fn tokens(&self) -> Arc<ClusterTokens> {
        self.inner.tokens.get().expect("set in connect").clone()
    }

    /// The bus for this node's service: `local` delivers to the users
    /// signed in here.
    pub fn bus(&self, local: LocalBus, directory: Arc<Directory>) -> Arc<crate::bus::NatsBus> {
        let local = Arc::new(local);
        let _ = self.inner.local.set(local.clone());
        Arc::new(crate::bus::NatsBus::new(self.clone(), local, directory))
    }

    /// Starts answering the other nodes and following the registry and
    /// the directory, for `service` (whose bus is [`Cluster::bus`]'s).
    pub async fn serve(&self, service: Arc<Service>) -> Result<(), ClusterError> {
        let _ = self.inner.service.set(service);
        let sub = self
            .inner
            .client
            .subscribe(self.inner.node_subject(&self.inner.id))
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let mut tasks = vec![
            tokio::spawn(receive(self.inner.clone(), sub)),
            tokio::spawn(heartbeat(self.inner.clone())),
        ];
        tasks.extend(start_watches(&self.inner));
        self.inner
            .tasks
            .lock()
            .extend(tasks.into_iter().map(AbortOnDropHandle::new));
        Ok(())
    }

    /// Announces this node with the addresses clients are given.
    pub async fn announce(&self, ns: &str, sb: &str) {
        {
            let mut r = self.inner.record.lock();
            r.ns = ns.to_owned();
            r.sb = sb.to_owned();
        }
        self.inner.put_record().await;
    }

    /// The Dispatch Server's choice of NS for `handle`: the node where
    /// the user is signed in already, else [`View::pick`]'s; `None`
    /// before any node is known.
    pub fn refer(&self, handle: &str) -> Option<String> {
        let view = self.inner.view.read();
        Handle::parse(handle)
            .ok()
            .and_then(|h| view.home(&h, ""))
            .or_else(|| view.pick(handle))
    }

    /// The NS of another live, non-draining node where `handle` is
    /// signed in now.
    pub fn home_elsewhere(&self, handle: &str) -> Option<String> {
        let h = Handle::parse(handle).ok()?;
        self.inner.view.read().home(&h, &self.inner.id)
    }

    /// Whether the NATS connection is up now.
    pub fn connected(&self) -> bool {
        self.inner.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The live nodes as this node sees them.
    pub fn live_nodes(&self) -> Vec<(String, NodeRecord)> {
        self.inner.view.read().live()
    }

    /// Stops taking new users (SIGTERM): the Dispatch Servers send nobody
    /// here any more.
    pub async fn drain(&self) {
        self.inner.record.lock().draining = true;
        self.inner.put_record().await;
        info!("draining: no new users are sent here");
    }

    /// Leaves the cluster after the sessions closed: the node's record
    /// and any directory entries left go.
    pub async fn leave(&self) {
        self.inner.shutdown.cancel();
        let mine: Vec<Handle> = {
            let mut view = self.inner.view.write();
            view.remove_node(&self.inner.id).0
        };
        for handle in mine {
            let _ = self
                .inner
                .users_kv
                .delete(user_key(&self.inner.id, &handle))
                .await;
        }
        let _ = self.inner.nodes_kv.delete(&self.inner.id).await;
        let _ = self.inner.client.flush().await;
        self.inner.tasks.lock().clear();
        info!("left the cluster");
    }
}

fn bucket_name(cluster: &str, suffix: &str) -> String {
    format!("msnd_{cluster}_{suffix}")
}

/// Opens a KV bucket (one value per key), creating it if need be. The
/// bucket's stream is made here rather than by `create_key_value`, which
/// reads account fields (reserved memory and storage) that nats-server
/// 2.9 does not send.
async fn open_bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
) -> Result<kv::Store, ClusterError> {
    use jetstream::stream;
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        discard: stream::DiscardPolicy::New,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        max_age,
        ..Default::default()
    })
    .await
    .map_err(bucket_error)?;
    js.get_key_value(name).await.map_err(bucket_error)
}

/// The key every node signs circle tickets with: the first node makes it.
async fn shared_key(secrets: &kv::Store) -> Result<[u8; 32], ClusterError> {
    let fresh: [u8; 32] = rand::random();
    if secrets
        .create("signing-key", Bytes::copy_from_slice(&fresh))
        .await
        .is_ok()
    {
        return Ok(fresh);
    }
    let stored = secrets
        .get("signing-key")
        .await
        .map_err(bucket_error)?
        .ok_or_else(|| ClusterError::JetStream("the shared signing key vanished".into()))?;
    <[u8; 32]>::try_from(stored.as_ref())
        .map_err(|_| ClusterError::JetStream("the shared signing key is malformed".into()))
}

fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if name.is_empty() { "node".into() } else { name }
}

/// Watches both buckets into the replica, from their whole current
/// content on.
fn start_watches(inner: &Arc<Inner>) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(watch_nodes(inner.clone())),
        tokio::spawn(watch_users(inner.clone())),
    ]
}

async fn watch_nodes(inner: Arc<Inner>) {
    loop {
        match inner.nodes_kv.watch_with_history(">").await {
            Ok(mut watch) => {
                while let Some(entry) = watch.next().await {
                    let Ok(entry) = entry else { break };
                    match entry.operation {
                        kv::Operation::Put => {
                            let Ok(record) = serde_json::from_slice::<NodeRecord>(&entry.value)
                            else {
                                continue;
                            };
                            // How long ago the record was put, on the
                            // server's clock, counted back on ours.
                            let age = SystemTime::from(entry.created)
                                .elapsed()
                                .unwrap_or_default();
                            let seen = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                            inner.view.write().node_put(&entry.key, record, seen);
                        }
                        kv::Operation::Delete | kv::Operation::Purge => {
                            if entry.key != inner.id {
                                node_gone(&inner, &entry.key, false).await;
                            } else if !inner.shutdown.is_cancelled() {
                                // Another node took this one for dead (a
                                // stall, a link that dropped unnoticed):
                                // tell everyone again who is here.
                                warn!("this node was taken for dead: rejoining");
                                inner.lost.store(true, Ordering::Relaxed);
                                inner.reconnected.notify_one();
                            }
                        }
                    }
                }
            }
            Err(e) => debug!(error = %e, "cannot watch the node registry"),
        }
        if inner.shutdown.is_cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn watch_users(inner: Arc<Inner>) {
    loop {
        match inner.users_kv.watch_with_history(">").await {
            Ok(mut watch) => {
                while let Some(entry) = watch.next().await {
                    let Ok(entry) = entry else { break };
                    let Some((node, handle)) = parse_user_key(&entry.key) else {
                        continue;
                    };
                    let mut view = inner.view.write();
                    match entry.operation {
                        kv::Operation::Put => view.user_put(&node, handle),
                        kv::Operation::Delete | kv::Operation::Purge => {
                            view.user_delete(&node, &handle)
                        }
                    }
                }
            }
            Err(e) => debug!(error = %e, "cannot watch the session directory"),
        }
        if inner.shutdown.is_cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A node left (`died`: stopped beating): it leaves the replica, and this
/// node's users who list one of its users see them offline, unless they
/// are signed in on another live node (or here).
async fn node_gone(inner: &Arc<Inner>, node: &str, died: bool) {
    let (had, mut gone) = inner.view.write().remove_node(node);
    if had.is_empty() && !died {
        return;
    }
    let Some(service) = inner.service.get() else {
        return;
    };
    gone.retain(|h| {
        service
            .directory()
            .get(h.as_str())
            .is_none_or(|u| u.loaded().is_none_or(|st| st.endpoints().is_empty()))
    });
    let told = service.contacts_gone(&gone).await;
    if died {
        warn!(
            node,
            users = had.len(),
            told,
            "node silent for too long: taken for dead"
        );
        // Every node does this; deleting twice is harmless.
        for handle in &had {
            let _ = inner.users_kv.delete(user_key(node, handle)).await;
        }
        let _ = inner.nodes_kv.delete(node).await;
    } else {
        info!(node, users = had.len(), told, "node left");
    }
}

/// Re-puts the node's record every heartbeat, notices silent nodes, and
/// after a lost NATS connection comes back, tells everyone again who is
/// here.
async fn heartbeat(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.config.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut connected = true;
    loop {
        tokio::select! {
            () = inner.shutdown.cancelled() => break,
            _ = tick.tick() => {}
            () = inner.reconnected.notified() => {}
        }
        if inner.client.connection_state() != async_nats::connection::State::Connected {
            // Our silence, not theirs: judge nobody until we hear again.
            connected = false;
            continue;
        }
        if !connected || inner.lost.swap(false, Ordering::Relaxed) {
            connected = true;
            rejoin(&inner).await;
        }
        inner.put_record().await;
        let silent = inner
            .view
            .read()
            .silent(&inner.id, Instant::now(), inner.config.ttl);
        for node in silent {
            node_gone(&inner, &node, true).await;
        }
    }
}

/// After the NATS connection came back: the others may have taken this
/// node for dead (and told their users its users went offline), and this
/// node may have missed events. Re-put everything, re-announce every
/// local user's presence, and refresh what they see of their contacts.
async fn rejoin(inner: &Arc<Inner>) {
    let Some(service) = inner.service.get().cloned() else {
        return;
    };
    info!("rejoining the cluster after a lost connection");
    inner.view.write().refresh_all(Instant::now());
    // A NATS server that lost its JetStream store lost the buckets too.
    for (suffix, max_age) in [("nodes", inner.config.ttl * 4), ("users", Duration::ZERO)] {
        let name = bucket_name(&inner.config.name, suffix);
        if let Err(e) = open_bucket(&inner.js, &name, max_age).await {
            warn!(error = %e, "cannot reopen a cluster bucket");
        }
    }
    inner.put_record().await;
    for user in service.directory().users() {
        let here = user.loaded().is_some_and(|st| !st.endpoints().is_empty());
        if here {
            inner.put_user(&user.handle).await;
        }
    }
    service.announce_all().await;
    service.refresh_contacts().await;
}

/// Answers what other nodes send this one. Events are applied in order
/// (a presence change must not overtake the one before it); questions
/// are answered each in its own task.
async fn receive(inner: Arc<Inner>, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        let (Some(service), Some(local)) =
            (inner.service.get().cloned(), inner.local.get().cloned())
        else {
            continue;
        };
        let Some(message) = NodeMessage::decode(&msg.payload) else {
            debug!("undecodable message from another node dropped");
            continue;
        };
        match message {
            NodeMessage::Event { to, event } => {
                if let (Ok(to), Some(event)) = (Handle::parse(&to), event.decode()) {
                    let _ = local.publish(&to, event).await;
                }
            }
            // In order with the events, like them.
            NodeMessage::Reload { handle } => {
                if let Ok(handle) = Handle::parse(&handle) {
                    service.reload_account(&handle).await;
                }
            }
            question => {
                let Some(reply) = msg.reply.clone() else {
                    continue;
                };
                let client = inner.client.clone();
                tokio::spawn(async move {
                    if let Some(answer) = answer(&service, &local, question).await {
                        let _ = client.publish(reply, answer).await;
                    }
                });
            }
        }
    }
}

async fn answer(service: &Service, local: &LocalBus, question: NodeMessage) -> Option<Bytes> {
    Some(match question {
        NodeMessage::Event { .. } | NodeMessage::Reload { .. } => return None,
        NodeMessage::PresenceFor { target, watcher } => {
            let (target, watcher) = (Handle::parse(&target).ok()?, Handle::parse(&watcher).ok()?);
            let p = local.presence_for(&target, &watcher).await;
            encode_answer(&p.as_ref().map(WirePresence::from))
        }
        NodeMessage::InConversation { user, circle } => {
            let user = Handle::parse(&user).ok()?;
            let circle = msn_core::circle::CircleId::from_uuid(circle)?;
            let n = local.in_conversation(&user, circle).await;
            encode_answer(&n.as_deref().map(WireNotice::encode))
        }
        NodeMessage::Reachable {
            invitee,
            inviter,
            max_sessions,
        } => {
            let (invitee, inviter) = (Handle::parse(&invitee).ok()?, Handle::parse(&inviter).ok()?);
            let i = local.reachable(&invitee, &inviter, max_sessions).await;
            encode_answer(&i.as_ref().map(WireInvitee::from))
        }
        NodeMessage::SignedIn {
            handle,
            shares_account,
            machine,
        } => {
            let handle = Handle::parse(&handle).ok()?;
            let ended = service.end_replaced(&handle, shares_account, machine).await;
            encode_answer(&ended)
        }
    })
}

/// Sends `message` to `node` and waits for its answer (the configured
/// timeout; no answer is `None`).
pub(crate) async fn ask<T: for<'de> serde::Deserialize<'de>>(
    inner: &Inner,
    node: &str,
    message: &NodeMessage,
) -> Option<T> {
    let asked = inner
        .client
        .request(inner.node_subject(node), message.encode());
    match tokio::time::timeout(inner.config.request_timeout, asked).await {
        Ok(Ok(reply)) => decode_answer(&reply.payload),
        _ => {
            debug!(node, "no answer from node");
            None
        }
    }
}

/// Tells the other nodes where `handle` is signed in to read its account
/// again.
pub(crate) async fn send_reload(inner: &Inner, handle: &Handle) {
    let nodes = inner.view.read().nodes_of(handle, &inner.id);
    let body = NodeMessage::Reload {
        handle: handle.to_string(),
    }
    .encode();
    for node in nodes {
        let _ = inner
            .client
            .publish(inner.node_subject(&node), body.clone())
            .await;
    }
}

/// Events to `to` on the other nodes where it is signed in (returns how
/// many nodes it went to).
pub(crate) async fn send_event(inner: &Inner, to: &Handle, event: &msn_service::Event) -> usize {
    let nodes = inner.view.read().nodes_of(to, &inner.id);
    if nodes.is_empty() {
        return 0;
    }
    let body = NodeMessage::Event {
        to: to.to_string(),
        event: WireEvent::from(event),
    }
    .encode();
    let mut sent = 0;
    for node in nodes {
        if inner
            .client
            .publish(inner.node_subject(&node), body.clone())
            .await
            .is_ok()
        {
            sent += 1;
        }
    }
    sent
}
