//! Protocol dialects (MSNP2, MSNP3, …) as data: every "which version does
//! what" question is answered here, so the rest of the server never compares
//! version numbers itself.

use std::fmt;
use std::ops::RangeInclusive;

/// A negotiated protocol dialect, `MSNPn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dialect(u8);

/// Outcome of `VER` negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// A common dialect; `cvr0` tells whether the client listed `CVR0`.
    Chosen { dialect: Dialect, cvr0: bool },
    /// Only the `CVR0` pseudo-dialect matched.
    OnlyCvr0,
    /// Nothing matched.
    NoMatch,
}

/// How the client authenticates on the Notification Server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// `USR … MD5` (MSNP2–MSNP7).
    Md5,
    /// `USR … TWN`, Passport 1.4 tickets (MSNP8–MSNP14).
    Tweener,
    /// `USR … SSO` (MSNP15+).
    Sso,
}

/// How contact lists are downloaded and edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListModel {
    /// MSNP2–MSNP7: one `LST` line per list entry, list versions everywhere.
    PerList,
    /// MSNP8–MSNP9: one `LST` per contact with list bits, numeric groups.
    Bits,
    /// MSNP10–MSNP12: contact GUIDs, GUID groups, timestamps in `SYN`.
    Guid,
    /// MSNP13+: the lists live in the SOAP address book and membership
    /// services; the NS only takes `ADL`/`RML` (`SYN`, `LST`, `ADC`,
    /// `REM`, `ADG`, … are gone).
    AddressBook,
}

/// Which challenge algorithm `CHL`/`QRY` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeKind {
    /// No challenges before MSNP6.
    None,
    /// `md5(challenge ‖ key)`, MSNP6–MSNP10.
    Md5,
    /// The product-key algorithm, MSNP11+.
    ProductKey,
}

impl Dialect {
    /// Lowest dialect any official client used.
    pub const MIN: u8 = 2;
    /// Highest dialect this crate knows the forms of.
    pub const MAX: u8 = 18;
    /// Highest dialect the server offers unless configured otherwise. WLM
    /// 8.5 offers only MSNP15–13 and WLM 2009 only MSNP18–16, so anything
    /// lower would leave them unable to sign in.
    pub const DEFAULT_MAX: u8 = Self::MAX;

    pub const MSNP2: Dialect = Dialect(2);

    pub fn new(n: u8) -> Option<Dialect> {
        (Self::MIN..=Self::MAX).contains(&n).then_some(Dialect(n))
    }

    /// Parses `MSNPn`.
    pub fn parse(token: &str) -> Option<Dialect> {
        let digits = token.strip_prefix("MSNP")?;
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Dialect::new(digits.parse().ok()?)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Picks the highest dialect in `supported` that the client offered.
    pub fn negotiate<'a>(
        offered: impl IntoIterator<Item = &'a str>,
        supported: RangeInclusive<u8>,
    ) -> Negotiation {
        let mut best: Option<Dialect> = None;
        let mut cvr0 = false;
        for token in offered {
            if token == "CVR0" {
                cvr0 = true;
            } else if let Some(d) = Dialect::parse(token)
                && supported.contains(&d.0)
                && best.is_none_or(|b| d > b)
            {
                best = Some(d);
            }
        }
        match (best, cvr0) {
            (Some(dialect), cvr0) => Negotiation::Chosen { dialect, cvr0 },
            (None, true) => Negotiation::OnlyCvr0,
            (None, false) => Negotiation::NoMatch,
        }
    }

    /// Whether the `VER` reply repeats `CVR0` after the chosen dialect.
    /// MSNP2–MSNP7: yes when the client listed it (early third-party clients
    /// insist on it); MSNP8+: never (msnp11-sdk reads the third field as the
    /// dialect).
    pub fn ver_echoes_cvr0(self) -> bool {
        self.0 <= 7
    }

    /// Whether one account may be signed in from several machines at once
    /// (multiple points of presence, MSNP16+); older dialects end the older
    /// session with `OUT OTH`.
    pub fn has_multiple_endpoints(self) -> bool {
        self.0 >= 16
    }

    pub fn auth(self) -> AuthScheme {
        match self.0 {
            ..=7 => AuthScheme::Md5,
            8..=14 => AuthScheme::Tweener,
            _ => AuthScheme::Sso,
        }
    }

    /// `INF` exists before MSNP8 only.
    pub fn has_inf(self) -> bool {
        self.0 <= 7
    }

    /// Clear-text passwords (`CTP`) exist in MSNP2 only.
    pub fn has_ctp(self) -> bool {
        self.0 == 2
    }

    /// Number of parameters after the TrID in the DS `XFR … NS` reply:
    /// 1 (MSNP2: address), 2 (MSNP3–6: `0`), 3 (MSNP7+: current server).
    pub fn xfr_ns_params(self) -> u8 {
        match self.0 {
            2 => 1,
            3..=6 => 2,
            _ => 3,
        }
    }

    /// `USR … OK` carries the friendly name (MSNP2–MSNP9).
    pub fn usr_ok_has_name(self) -> bool {
        self.0 <= 9
    }

    /// `USR … OK` carries the verified flag (MSNP6+).
    pub fn usr_ok_has_verified(self) -> bool {
        self.0 >= 6
    }

    /// `USR … OK` carries the restricted-account flag (MSNP8+).
    pub fn usr_ok_has_restricted(self) -> bool {
        self.0 >= 8
    }

    /// The initial profile has the Passport fields (MSNP3+).
    pub fn profile_has_passport_fields(self) -> bool {
        self.0 >= 3
    }

    /// The initial profile has `ClientIP`/`ClientPort` (MSNP8+).
    pub fn profile_has_client_address(self) -> bool {
        self.0 >= 8
    }

    /// The initial profile has `ABCHMigrated: 1` (MSNP10+).
    pub fn profile_has_abch(self) -> bool {
        self.0 >= 10
    }

    /// `SBS 0 null` follows `USR … OK` (MSNP11+).
    pub fn sends_sbs(self) -> bool {
        self.0 >= 11
    }

    /// Phone properties (`PRP`/`BPR`) exist (MSNP5+).
    pub fn has_phone_properties(self) -> bool {
        self.0 >= 5
    }

    /// Contact groups exist (MSNP7+).
    pub fn has_groups(self) -> bool {
        self.0 >= 7
    }

    /// Groups are edited on the NS (`ADG`/`RMG`/`REG`, MSNP7–12; later
    /// over SOAP).
    pub fn has_group_commands(self) -> bool {
        self.has_groups() && self.has_ns_lists()
    }

    pub fn list_model(self) -> ListModel {
        match self.0 {
            ..=7 => ListModel::PerList,
            8..=9 => ListModel::Bits,
            10..=12 => ListModel::Guid,
            _ => ListModel::AddressBook,
        }
    }

    /// The NS list commands of MSNP2–12 (`SYN`, `GTC`, `REM`, and with
    /// groups `ADG`/`RMG`/`REG`): gone in MSNP13, where the SOAP services
    /// and `ADL`/`RML` replace them.
    pub fn has_ns_lists(self) -> bool {
        self.0 <= 12
    }

    /// `FQY`, the network lookup (MSNP14+).
    pub fn has_fqy(self) -> bool {
        self.0 >= 14
    }

    /// Policies pushed as `GCF 0` during sign-in (MSNP13+); the client's
    /// own `GCF TrID file` request is MSNP11–12 only.
    pub fn pushes_policies(self) -> bool {
        self.0 >= 13
    }

    /// `XFR … NS addr U D` (MSNP13+) rather than `… 0 current-server`.
    pub fn xfr_ns_ud(self) -> bool {
        self.0 >= 13
    }

    /// Presence lines carry the contact's network id after the handle
    /// (MSNP14–17: `NLN NLN bob@x.com 1 Bob …`); MSNP18 prefixes the
    /// handle instead (`1:bob@x.com`).
    pub fn presence_has_network_field(self) -> bool {
        (14..=17).contains(&self.0)
    }

    /// Contact handles in presence lines are `<network>:<email>` (MSNP18).
    pub fn prefixes_network_id(self) -> bool {
        self.0 >= 18
    }

    /// The profile names the Passport key version (`kv`) of the Tweener
    /// ticket; SSO logins (MSNP15+) have no such ticket, and the live
    /// service left the field out (transcripts/msnp15-sso-login.txt).
    pub fn profile_has_key_version(self) -> bool {
        self.0 < 15
    }

    /// The client may present its circle ticket with `USR SHA A` once
    /// signed in (MSNP18).
    pub fn has_circle_ticket(self) -> bool {
        self.0 >= 18
    }

    /// Circles (MSNP18): circle contacts in the address book, `PUT`/`NFY`
    /// for the conversation's roster and `SDG` for its messages. Older
    /// dialects never see anything of a circle.
    pub fn has_circles(self) -> bool {
        self.0 >= 18
    }

    /// Capabilities are `caps:capsex` pairs (MSNP16+).
    pub fn has_extended_capabilities(self) -> bool {
        self.0 >= 16
    }

    /// The initial presence dump uses `NLN`, not `ILN TrID` (MSNP18, as
    /// the real clients were served by the revival servers they work with).
    pub fn initial_presence_is_nln(self) -> bool {
        self.0 >= 18
    }

    /// What `XFR … SB` and `RNG` end with: nothing before MSNP13,
    /// `U messenger.msn.com` (`RNG`: `…hotmail.com`) in MSNP13, plus the
    /// direct-connection flag ` 1` from MSNP14.
    pub fn sb_referral_tail(self, host: &str) -> String {
        match self.0 {
            ..=12 => String::new(),
            13 => format!(" U {host}"),
            _ => format!(" U {host} 1"),
        }
    }

    /// After the profile comes the offline-message summary
    /// (`text/x-msmsgsinitialmdatanotification`, MSNP13+) instead of the
    /// e-mail one.
    pub fn has_mail_data(self) -> bool {
        self.0 >= 13
    }

    /// The profile says `MPOPEnabled: 1` (MSNP16+).
    pub fn profile_has_mpop(self) -> bool {
        self.0 >= 16
    }

    /// Replies to list edits and settings carry the list version (≤ MSNP9).
    pub fn has_list_versions(self) -> bool {
        self.0 <= 9
    }

    /// `LST` carries a network id after the list bits (MSNP12).
    pub fn lst_has_network_id(self) -> bool {
        self.0 >= 12
    }

    /// The pending list bit (16) is shown to the client (MSNP11+; earlier
    /// clients derive "pending" themselves from RL without AL/BL).
    pub fn has_pending_list(self) -> bool {
        self.0 >= 11
    }

    /// `CHG`/`ILN`/`NLN` carry client capabilities (MSNP8+).
    pub fn has_capabilities(self) -> bool {
        self.0 >= 8
    }

    /// `CHG`/`ILN`/`NLN` carry an MSNObject (MSNP9+).
    pub fn has_msn_object(self) -> bool {
        self.0 >= 9
    }

    /// The elements of a contact's `<Data>` document this dialect is shown
    /// in `UBX`, in order, each with whether it is written (empty) when the
    /// contact did not send it (msnp13-18.md §3.10; transcripts/
    /// msnp18-login.txt): MSNP11–15 get the personal message, the current
    /// media and the machine GUID if sent; MSNP16+ add the dynamic display
    /// picture and signature sound, MSNP18 the scene and colour scheme.
    /// (The reference names no set for MSNP11–12; they get MSNP13's, whose
    /// machine GUID MSN Messenger 7.x ignores, rather than lose it.)
    pub fn personal_message_elements(self) -> &'static [(&'static str, bool)] {
        const BASE: &[(&str, bool)] = &[
            ("PSM", true),
            ("CurrentMedia", true),
            ("MachineGuid", false),
        ];
        const MSNP16: &[(&str, bool)] = &[
            ("PSM", true),
            ("CurrentMedia", true),
            ("MachineGuid", false),
            ("DDP", true),
            ("SignatureSound", true),
        ];
        const MSNP18: &[(&str, bool)] = &[
            ("PSM", true),
            ("CurrentMedia", true),
            ("MachineGuid", false),
            ("DDP", true),
            ("SignatureSound", true),
            ("Scene", true),
            ("ColorScheme", true),
        ];
        match self.0 {
            18.. => MSNP18,
            16..=17 => MSNP16,
            _ => BASE,
        }
    }

    /// Personal messages (`UUX`/`UBX`) and `GCF` (MSNP11+).
    pub fn has_personal_message(self) -> bool {
        self.0 >= 11
    }

    /// `QNG` carries the seconds until the next ping (MSNP9+).
    pub fn qng_has_interval(self) -> bool {
        self.0 >= 9
    }

    /// `ADD`/`REA` (removed in MSNP10 in favour of `ADC`/`PRP MFN`).
    pub fn has_add_and_rea(self) -> bool {
        self.0 <= 9
    }

    /// `ADC`, `SBP`, `PRP MFN` and the GUID forms of list lines (MSNP10+;
    /// from MSNP13 only `PRP MFN` is left as a command, see
    /// [`Dialect::has_ns_lists`]).
    pub fn has_adc(self) -> bool {
        self.0 >= 10
    }

    /// Unknown-account error code for list additions: 205 up to MSNP9,
    /// 208 from MSNP10.
    pub fn unknown_account_error(self) -> u16 {
        if self.0 <= 9 { 205 } else { 208 }
    }

    /// Switchboard `IRO`/`JOI` carry the participant's capabilities (MSNP12+).
    pub fn sb_roster_has_capabilities(self) -> bool {
        self.0 >= 12
    }

    /// `MSG … D` (P2P data) exists (MSNP9+).
    pub fn has_data_ack_mode(self) -> bool {
        self.0 >= 9
    }

    pub fn challenge(self) -> ChallengeKind {
        match self.0 {
            ..=5 => ChallengeKind::None,
            6..=10 => ChallengeKind::Md5,
            _ => ChallengeKind::ProductKey,
        }
    }

    /// `URL` replies carry the Passport site id (MSNP3+).
    pub fn url_has_site_id(self) -> bool {
        self.0 >= 3
    }

    /// `IMS` exists (MSNP3+).
    pub fn has_ims(self) -> bool {
        self.0 >= 3
    }

    /// `PRP`/`BPR`/`NOT`/`SDC`/`PAG` exist (MSNP5+).
    pub fn has_msnp5_commands(self) -> bool {
        self.0 >= 5
    }

    /// `PAG` exists in MSNP5–MSNP8 only.
    pub fn has_pag(self) -> bool {
        (5..=8).contains(&self.0)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSNP{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_highest_common() {
        let n = Dialect::negotiate("MSNP7 MSNP6 MSNP5 MSNP4 CVR0".split(' '), 2..=7);
        assert_eq!(
            n,
            Negotiation::Chosen {
                dialect: Dialect(7),
                cvr0: true
            }
        );
        let n = Dialect::negotiate("MSNP2 MSNP9".split(' '), 2..=7);
        assert_eq!(
            n,
            Negotiation::Chosen {
                dialect: Dialect(2),
                cvr0: false
            }
        );
        assert_eq!(
            Dialect::negotiate(["MSNP21", "CVR0"], 2..=12),
            Negotiation::OnlyCvr0
        );
        assert_eq!(Dialect::negotiate(["MSNP1"], 2..=12), Negotiation::NoMatch);
        assert_eq!(Dialect::negotiate(["MSNPX"], 2..=12), Negotiation::NoMatch);
    }

    #[test]
    fn version_facts() {
        let d = |n| Dialect::new(n).unwrap();
        assert_eq!(d(2).xfr_ns_params(), 1);
        assert_eq!(d(5).xfr_ns_params(), 2);
        assert_eq!(d(7).xfr_ns_params(), 3);
        assert!(!d(5).usr_ok_has_verified() && d(6).usr_ok_has_verified());
        assert!(d(7).has_groups() && !d(6).has_groups());
        assert_eq!(d(9).unknown_account_error(), 205);
        assert_eq!(d(10).unknown_account_error(), 208);
        assert_eq!(d(5).challenge(), ChallengeKind::None);
        assert_eq!(d(10).challenge(), ChallengeKind::Md5);
        assert_eq!(d(11).challenge(), ChallengeKind::ProductKey);
        assert_eq!(d(8).auth(), AuthScheme::Tweener);
        assert_eq!(d(7).list_model(), ListModel::PerList);
        assert_eq!(d(9).list_model(), ListModel::Bits);
        assert_eq!(d(10).list_model(), ListModel::Guid);
        assert_eq!(d(12).list_model(), ListModel::Guid);
        assert_eq!(d(13).list_model(), ListModel::AddressBook);
        assert!(d(12).has_ns_lists() && !d(13).has_ns_lists());
        assert!(d(12).has_group_commands() && !d(13).has_group_commands());
        assert_eq!(d(14).auth(), AuthScheme::Tweener);
        assert_eq!(d(15).auth(), AuthScheme::Sso);
        assert!(!d(15).profile_has_mpop() && d(16).profile_has_mpop());
        assert_eq!(Dialect::parse("MSNP18").map(Dialect::number), Some(18));
        assert_eq!(Dialect::parse("MSNP19"), None);
        assert_eq!(Dialect::parse("MSNP+7"), None);
        assert_eq!(Dialect::parse("MSNP007"), None);
        assert_eq!(d(12).to_string(), "MSNP12");
    }
}
