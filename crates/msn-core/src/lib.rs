//! The MSN Messenger domain, free of I/O: who a user is ([`handle`]), what
//! their lists hold and how edits to them are checked ([`account`]), who may
//! see whom ([`privacy`]), which network a contact is on ([`network`]),
//! the circles of MSNP18 ([`circle`]), and
//! the secrets of logging in ([`password`], [`challenge`], [`ids`]).

#![forbid(unsafe_code)]

pub mod account;
pub mod challenge;
pub mod circle;
pub mod endpoint;
pub mod handle;
pub mod ids;
pub mod membership_list;
pub mod network;
pub mod password;
pub mod personal_message;
pub mod privacy;
pub mod text;

pub use account::{Account, Change, Contact, Group};
pub use handle::Handle;
pub use network::NetworkId;
