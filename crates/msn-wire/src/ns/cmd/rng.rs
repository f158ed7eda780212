//! `RNG`: an invitation to a switchboard session.

use crate::dialect::Dialect;
use crate::line;
use crate::out::Out;

/// `RNG` to an invitee (same form MSNP2–MSNP12).
pub fn rng(
    out: &mut Out,
    dialect: Dialect,
    session_id: &str,
    sb_addr: &str,
    cookie: &str,
    inviter: &str,
    inviter_name: &str,
) {
    let inviter_name = crate::name::encode(inviter_name);
    line!(
        out,
        "RNG {session_id} {sb_addr} CKI {cookie} {inviter} {inviter_name}{}",
        dialect.sb_referral_tail("messenger.hotmail.com")
    );
}
