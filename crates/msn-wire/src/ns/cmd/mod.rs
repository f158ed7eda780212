//! One module per command: how the client's form is parsed and how each
//! dialect's server lines look, side by side.

pub mod adc;
pub mod add;
pub mod adg;
pub mod blp;
pub mod bpr;
pub mod chg;
pub mod chl;
pub mod cvr;
pub mod fnd;
pub mod gcf;
pub mod gtc;
pub mod ims;
pub mod inf;
pub mod lsg;
pub mod lst;
pub mod msg;
pub mod not;
pub mod out;
pub mod pag;
pub mod png;
pub mod prp;
pub mod rea;
pub mod reg;
pub mod rem;
pub mod rmg;
pub mod rng;
pub mod sbp;
pub mod sdc;
pub mod snd;
pub mod syn;
pub mod url;
pub mod usr;
pub mod uux;
pub mod ver;
pub mod xfr;
