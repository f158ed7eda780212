//! One module per switchboard command: parsing and the server lines side
//! by side.

pub mod ans;
pub mod bye;
pub mod cal;
pub mod msg;
pub mod usr;
