//! msnd on several nodes: one service whose users cannot tell which node
//! they are on.
//!
//! - Accounts, lists and offline messages are in the shared PostgreSQL
//!   database (msn-store); nothing here touches them.
//! - [`NatsBus`] carries the service layer's effects and questions to the
//!   node where a user is signed in (core NATS, one subject per node);
//!   on the receiving node they end in the same [`LocalBus`] as on one
//!   node. Privacy and presence rules stay in msn-service.
//! - [`view`]: the node registry and the session directory, JetStream KV
//!   buckets every node watches into a local replica. A node re-puts its
//!   record every `heartbeat`; one silent for `ttl` is dead, and each
//!   node tells its own users that the dead node's users went offline.
//! - [`ClusterTokens`]: login tickets issued on one node and redeemed on
//!   another.
//! - [`Referral`]: which node the Dispatch Server sends a user to.
//!
//! Switchboard sessions never cross nodes: `XFR SB` and `RNG` name the
//! node hosting the session, whose cookies stay in its memory.

#![forbid(unsafe_code)]

pub mod bus;
pub mod codec;
pub mod node;
pub mod tokens;
pub mod view;

pub use bus::NatsBus;
pub use node::{Cluster, ClusterError, NodeRecord};
pub use tokens::ClusterTokens;

pub use msn_service::LocalBus;
