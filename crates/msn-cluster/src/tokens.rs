//! [`ClusterTokens`]: login tickets and SOAP tokens any node can redeem.
//! The HTTP node that issues a ticket and the NS node that redeems it may
//! differ, so each node keeps every token in its own [`MemoryTokens`] and
//! tells the others of each token it issues and each single-use token it
//! consumes (core NATS, `msnd.<cluster>.tokens`). Circle tickets are
//! signed with one key the nodes share (a JetStream KV entry the first
//! node makes).
//!
//! A client gets its ticket over HTTPS and then presents it on the NS
//! connection it already holds: the broadcast has that round trip to
//! arrive. Two nodes redeeming the same single-use ticket within the
//! broadcast's delay could both accept it (the ticket is still bound to
//! its account and expires in minutes).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use msn_auth::{Audience, Grant, MemoryTokens, TokenService};
use msn_core::handle::Handle;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;
use tracing::debug;

use crate::codec::TokenMessage;
use crate::node::{Cluster, ClusterError};

pub struct ClusterTokens {
    local: Arc<MemoryTokens>,
    node: String,
    /// [`TokenService::arrival_grace`]: the cluster's request timeout, the
    /// longest a message between nodes is waited for elsewhere too.
    arrival_grace: Duration,
    outbox: mpsc::UnboundedSender<TokenMessage>,
    _tasks: [AbortOnDropHandle<()>; 2],
}

impl ClusterTokens {
    pub(crate) async fn start(
        cluster: &Cluster,
        key: [u8; 32],
    ) -> Result<ClusterTokens, ClusterError> {
        let inner = &cluster.inner;
        let subject = format!("{}.tokens", inner.prefix);
        let local = Arc::new(MemoryTokens::new().with_key(key));
        let mut sub = inner
            .client
            .subscribe(subject.clone())
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let node = inner.id.clone();
        let me = node.clone();
        let store = local.clone();
        let receiving = tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                match TokenMessage::decode(&msg.payload) {
                    Some(TokenMessage::Issued {
                        from,
                        token,
                        handle,
                        user_id,
                        audience,
                        single_use,
                        proof_key,
                        also,
                        ttl_ms,
                    }) if from != me => {
                        if let Some(grant) = TokenMessage::grant(
                            &handle, user_id, &audience, single_use, proof_key, also,
                        ) {
                            store.insert(token, grant, Duration::from_millis(ttl_ms));
                        }
                    }
                    Some(TokenMessage::Redeemed { from, token }) if from != me => {
                        store.mark_redeemed(&token);
                    }
                    Some(_) => {}
                    None => debug!("undecodable token message dropped"),
                }
            }
        });
        let (outbox, mut rx) = mpsc::unbounded_channel::<TokenMessage>();
        let client = inner.client.clone();
        let sending = tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                let _ = client.publish(subject.clone(), m.encode()).await;
            }
        });
        Ok(ClusterTokens {
            local,
            node,
            arrival_grace: inner.config.request_timeout,
            outbox,
            _tasks: [
                AbortOnDropHandle::new(receiving),
                AbortOnDropHandle::new(sending),
            ],
        })
    }
}

impl TokenService for ClusterTokens {
    fn arrival_grace(&self) -> Duration {
        self.arrival_grace
    }

    fn issue(&self, grant: Grant, ttl: Duration) -> String {
        let token = self.local.issue(grant.clone(), ttl);
        let _ = self
            .outbox
            .send(TokenMessage::issued(&self.node, &token, &grant, ttl));
        token
    }

    fn redeem_if(
        &self,
        token: &str,
        audience: Audience,
        handle: &Handle,
        check: &dyn Fn(&Grant) -> bool,
    ) -> Option<Grant> {
        let grant = self.local.redeem_if(token, audience, handle, check)?;
        if grant.single_use {
            let _ = self.outbox.send(TokenMessage::Redeemed {
                from: self.node.clone(),
                token: token.to_owned(),
            });
        }
        Some(grant)
    }

    fn validate(&self, token: &str, audience: Audience) -> Option<Grant> {
        self.local.validate(token, audience)
    }

    fn sweep(&self) {
        self.local.sweep();
    }

    /// Every node follows the shared account change log and revokes on
    /// its own: nothing to tell the others.
    fn revoke_account(&self, handle: &Handle) -> usize {
        self.local.revoke_account(handle)
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.local.sign(data)
    }

    fn verify_signature(&self, data: &[u8], signature: &[u8]) -> bool {
        self.local.verify_signature(data, signature)
    }
}
