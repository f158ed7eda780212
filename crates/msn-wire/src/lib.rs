//! Wire format of the MSN Messenger protocol (MSNP2 and later): incremental
//! framing, the vocabulary shared by all services, per-dialect facts, and the
//! typed client commands of the Notification and Switchboard services.
//!
//! Nothing in this crate performs I/O; the server feeds bytes in and takes
//! encoded lines out, which keeps every rule here testable byte by byte.

#![forbid(unsafe_code)]

pub mod decoder;
pub mod dialect;
pub mod frame;
pub mod mail_data;
pub mod mime;
pub mod name;
pub mod ns;
pub mod out;
pub mod routing;
pub mod sb;
pub mod vocab;
mod xml;

pub use decoder::{Decoder, Direction, Limits, WireError};
pub use dialect::{Dialect, Negotiation};
pub use frame::Frame;
pub use out::Out;
