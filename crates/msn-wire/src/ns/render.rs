//! Every server line of the Dispatch and Notification Server, in the form
//! of each dialect, gathered from the command modules ([`super::cmd`]). The
//! session decides *what* to send; these functions decide *how* it looks on
//! the wire for a given dialect.

pub use super::cmd::adc::{adc_forward, adc_group, adc_list};
pub use super::cmd::add::{add, reverse_added};
pub use super::cmd::adg::adg;
pub use super::cmd::adl::{adl_notice, adl_ok};
pub use super::cmd::blp::{blp, syn_blp};
pub use super::cmd::bpr::{bpr_changed, syn_bpr};
pub use super::cmd::chg::{PresenceView, capabilities_for, chg, fln, iln, nln};
pub use super::cmd::chl::{chl, qry_ok};
pub use super::cmd::cvr::cvr;
pub use super::cmd::fqy::fqy;
pub use super::cmd::gcf::{gcf, gcf_policies};
pub use super::cmd::gtc::{gtc, syn_gtc};
pub use super::cmd::ims::ims;
pub use super::cmd::inf::inf;
pub use super::cmd::lsg::{GroupView, lsg};
pub use super::cmd::lst::{lst_contact, lst_empty, lst_entry};
pub use super::cmd::msg::{
    MailData, Profile, hotmail_msg, initial_mail_data_payload, initial_mail_payload,
    oim_notification_payload, oims_deleted_payload, profile_payload, shutdown_warning_payload,
};
pub use super::cmd::nfy::{circle_presence, nfy_del, nfy_put};
pub use super::cmd::not::{abch_changed, not};
pub use super::cmd::out::out_reason;
pub use super::cmd::png::qng;
pub use super::cmd::prp::{prp, prp_friendly_name, syn_friendly_name, syn_prp};
pub use super::cmd::put::put_ok;
pub use super::cmd::rea::rea;
pub use super::cmd::reg::reg;
pub use super::cmd::rem::{rem, reverse_removed};
pub use super::cmd::rmg::rmg;
pub use super::cmd::rml::{rml_notice, rml_ok};
pub use super::cmd::rng::rng;
pub use super::cmd::sbp::sbp;
pub use super::cmd::sdc::sdc_ok;
pub use super::cmd::sdg::{sdg, sdg_ok};
pub use super::cmd::snd::snd_ok;
pub use super::cmd::syn::{syn_current, syn_header};
pub use super::cmd::url::url;
pub use super::cmd::usr::{
    sbs, usr_ctp_ready, usr_md5_salt, usr_ok, usr_sha_ok, usr_sso_nonce, usr_twn_params,
};
pub use super::cmd::uun::{ubn, uun_ok};
pub use super::cmd::uux::{ubx, uux_ok};
pub use super::cmd::ver::{ver, ver_cvr0_only, ver_no_match};
pub use super::cmd::xfr::{xfr_ns, xfr_sb};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::out::Out;
    use crate::vocab::{AddAlert, ListKind, Privacy, Status};

    fn d(n: u8) -> Dialect {
        Dialect::new(n).unwrap()
    }

    fn text(f: impl FnOnce(&mut Out)) -> String {
        let mut out = Out::new();
        f(&mut out);
        String::from_utf8(out.take().to_vec()).unwrap()
    }

    #[test]
    fn ver_forms() {
        assert_eq!(text(|o| ver(o, 1, d(2), true)), "VER 1 MSNP2 CVR0\r\n");
        assert_eq!(text(|o| ver(o, 1, d(7), false)), "VER 1 MSNP7\r\n");
        assert_eq!(text(|o| ver(o, 1, d(8), true)), "VER 1 MSNP8\r\n");
    }

    #[test]
    fn xfr_ns_forms() {
        let x = |n| text(|o| xfr_ns(o, 3, d(n), "10.0.0.2:1864", "10.0.0.1:1863"));
        assert_eq!(x(2), "XFR 3 NS 10.0.0.2:1864\r\n");
        assert_eq!(x(5), "XFR 3 NS 10.0.0.2:1864 0\r\n");
        assert_eq!(x(7), "XFR 3 NS 10.0.0.2:1864 0 10.0.0.1:1863\r\n");
        assert_eq!(x(12), "XFR 3 NS 10.0.0.2:1864 0 10.0.0.1:1863\r\n");
        assert_eq!(x(13), "XFR 3 NS 10.0.0.2:1864 U D\r\n");
        assert_eq!(x(18), "XFR 3 NS 10.0.0.2:1864 U D\r\n");
    }

    #[test]
    fn usr_ok_forms() {
        let u = |n| text(|o| usr_ok(o, 7, d(n), "a@b.com", "A", true));
        assert_eq!(u(5), "USR 7 OK a@b.com A\r\n");
        assert_eq!(u(7), "USR 7 OK a@b.com A 1\r\n");
        assert_eq!(u(8), "USR 7 OK a@b.com A 1 0\r\n");
        assert_eq!(u(10), "USR 7 OK a@b.com 1 0\r\n");
        assert_eq!(u(15), "USR 7 OK a@b.com 1 0\r\n");
        assert_eq!(u(18), "USR 7 OK a@b.com 1 0\r\n");
    }

    #[test]
    fn msnp2_profile_is_95_bytes() {
        let p = Profile {
            login_time: 1013928520,
            email_enabled: false,
            member_id_high: 1,
            member_id_low: 2,
            lcid: 1033,
            preferred_email: "",
            country: "",
            flags: 1027,
            kv: 2,
            mspauth: "x",
            client_ip: "127.0.0.1",
            client_port: 1071,
        };
        assert_eq!(profile_payload(d(2), &p).len(), 95);
        let p8 = profile_payload(d(8), &p);
        assert!(p8.contains("ClientPort: 12036\r\n"), "{p8}");
        assert!(p8.contains("PostalCode:\r\n"));
        assert!(!p8.contains("ABCHMigrated"));
        assert!(profile_payload(d(10), &p).ends_with("ABCHMigrated: 1\r\n\r\n"));
    }

    #[test]
    fn lst_forms() {
        assert_eq!(
            text(|o| lst_contact(o, d(8), "bob@x.com", "Bob", None, 11, Some("1"))),
            "LST bob@x.com Bob 11 1\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(8), "erin@x.com", "Erin", None, 8, None)),
            "LST erin@x.com Erin 8\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(10), "d@x.com", "Dave", Some("g-1"), 3, Some(""))),
            "LST N=d@x.com F=Dave C=g-1 3\r\n"
        );
        assert_eq!(
            text(|o| lst_contact(o, d(12), "b@x.com", "Bob", Some("c"), 11, Some("g"))),
            "LST N=b@x.com F=Bob C=c 11 1 g\r\n"
        );
        assert_eq!(
            text(|o| lst_entry(
                o,
                8,
                ListKind::Forward,
                12,
                1,
                2,
                "b@x.com",
                "Bob",
                Some("0,1")
            )),
            "LST 8 FL 12 1 2 b@x.com Bob 0,1\r\n"
        );
    }

    #[test]
    fn presence_forms() {
        let p = PresenceView {
            status: Status::Busy,
            handle: "c@x.com",
            name: "Carol",
            capabilities: Some("1073791020"),
            msn_object: Some("%3Cmsnobj%2F%3E"),
        };
        assert_eq!(text(|o| iln(o, 9, d(7), &p)), "ILN 9 BSY c@x.com Carol\r\n");
        assert_eq!(
            text(|o| iln(o, 9, d(8), &p)),
            "ILN 9 BSY c@x.com Carol 1073791020\r\n"
        );
        assert_eq!(
            text(|o| nln(o, d(11), &p)),
            "NLN BSY c@x.com Carol 1073791020 %3Cmsnobj%2F%3E\r\n"
        );
        let none = PresenceView {
            capabilities: None,
            msn_object: None,
            ..p
        };
        assert_eq!(
            text(|o| nln(o, d(10), &none)),
            "NLN BSY c@x.com Carol 0\r\n"
        );
    }

    #[test]
    fn group_replies() {
        let g = GroupView {
            id: 2,
            guid: "7d2f",
            name: "Family",
        };
        assert_eq!(
            text(|o| adg(o, 11, d(7), 13, g)),
            "ADG 11 13 Family 2 0\r\n"
        );
        assert_eq!(
            text(|o| adg(o, 7, d(10), 13, g)),
            "ADG 7 1 Family 7d2f 0\r\n"
        );
        assert_eq!(text(|o| rmg(o, 7, d(11), 13, g)), "RMG 7 1 7d2f\r\n");
        assert_eq!(
            text(|o| reg(o, 14, d(7), 16, g)),
            "REG 14 16 2 Family 0\r\n"
        );
        assert_eq!(
            text(|o| reg(o, 11, d(10), 16, g)),
            "REG 11 1 Family 7d2f 0\r\n"
        );
    }

    #[test]
    fn settings_and_reverse() {
        assert_eq!(
            text(|o| blp(o, 16, d(10), 4, Privacy::BlockAll)),
            "BLP 16 BL\r\n"
        );
        assert_eq!(
            text(|o| gtc(o, 12, d(8), 43, AddAlert::DontAsk)),
            "GTC 12 43 N\r\n"
        );
        assert_eq!(
            text(|o| reverse_added(o, d(7), 16, "eve@x.com", "Eve")),
            "ADD 0 RL 16 eve@x.com Eve\r\n"
        );
        assert_eq!(
            text(|o| reverse_added(o, d(10), 16, "h@x.com", "Harry")),
            "ADC 0 RL N=h@x.com F=Harry\r\n"
        );
        assert_eq!(
            text(|o| reverse_removed(o, d(10), 16, "h@x.com")),
            "REM 0 RL h@x.com\r\n"
        );
        assert_eq!(text(|o| qng(o, d(8), 50)), "QNG\r\n");
        assert_eq!(text(|o| qng(o, d(9), 50)), "QNG 50\r\n");
    }

    #[test]
    fn msnp13_18_presence_forms() {
        let p = PresenceView {
            status: Status::Online,
            handle: "bob@x.com",
            name: "Bob",
            capabilities: Some("2789003324:48"),
            msn_object: Some("%3Cmsnobj%2F%3E"),
        };
        let iln = |n| text(|o| iln(o, 8, d(n), &p));
        assert_eq!(
            iln(12),
            "ILN 8 NLN bob@x.com Bob 2789003324 %3Cmsnobj%2F%3E\r\n"
        );
        assert_eq!(
            iln(13),
            "ILN 8 NLN bob@x.com Bob 2789003324 %3Cmsnobj%2F%3E\r\n"
        );
        assert_eq!(
            iln(15),
            "ILN 8 NLN bob@x.com 1 Bob 2789003324 %3Cmsnobj%2F%3E\r\n"
        );
        assert_eq!(
            iln(16),
            "ILN 8 NLN bob@x.com 1 Bob 2789003324:48 %3Cmsnobj%2F%3E\r\n"
        );
        assert_eq!(
            iln(18),
            "NLN NLN 1:bob@x.com Bob 2789003324:48 %3Cmsnobj%2F%3E\r\n"
        );
        let old = PresenceView {
            capabilities: Some("1073741824"),
            msn_object: None,
            ..p
        };
        assert_eq!(
            text(|o| nln(o, d(18), &old)),
            "NLN NLN 1:bob@x.com Bob 1073741824:0 0\r\n"
        );
        let fln = |n| text(|o| fln(o, d(n), "bob@x.com"));
        assert_eq!(fln(12), "FLN bob@x.com\r\n");
        assert_eq!(fln(14), "FLN bob@x.com 1 0\r\n");
        assert_eq!(fln(16), "FLN bob@x.com 1 0:0\r\n");
        assert_eq!(fln(18), "FLN 1:bob@x.com 0:0\r\n");
    }

    #[test]
    fn mail_data_notice_is_195_bytes() {
        // The length the reference transcript gives for this payload.
        assert_eq!(initial_mail_data_payload(MailData::List(&[])).len(), 195);
    }
}
