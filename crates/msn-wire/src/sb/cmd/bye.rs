//! `BYE`: a participant left (or was removed). The client's `OUT` has no
//! TrID and is parsed in [`super`].

use crate::line;
use crate::out::Out;

/// `BYE handle` (left) or `BYE handle 1` (removed by the server).
pub fn bye(out: &mut Out, handle: &str, removed_by_server: bool) {
    if removed_by_server {
        line!(out, "BYE {handle} 1");
    } else {
        line!(out, "BYE {handle}");
    }
}
