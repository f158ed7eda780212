//! msnd-load: a load generator for msnd speaking the real protocol over
//! TCP. The binary (`main.rs`) is a command line over the scenarios here;
//! the integration tests drive the same scenarios against an in-process
//! server.

pub mod client;
pub mod http;
pub mod metrics;
pub mod report;
pub mod scenarios;
pub mod sys;
