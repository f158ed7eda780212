//! `ns_parser`: client bytes framed by the decoder (default limits, stop at
//! the first framing error as the server does) and every frame parsed with
//! `NsCommand::parse`. For every parsed command, server lines built from the
//! parsed values are rendered with `msn_wire::ns::render` in every dialect
//! 2..=12 and framed back.
//!
//! Properties checked:
//! * no panic in framing, parsing or rendering;
//! * errors name the frame's command; commands with a TrID report the TrID
//!   of the line; payload commands carry the frame's payload unchanged;
//! * parsing only depends on the tokens (re-joining them with single spaces
//!   parses the same);
//! * rendered output frames back (as a client decodes it) into exactly one
//!   line per render call with the expected command, single-spaced, with
//!   payloads intact: no parsed value can inject a line or a byte count.

use msn_core::{Handle, text};
use msn_wire::dialect::Negotiation;
use msn_wire::frame::parse_trid;
use msn_wire::ns::render::{self, GroupView, PresenceView, Profile};
use msn_wire::ns::{AdcTarget, NsCommand, ParseError, UsrAuth};
use msn_wire::vocab::{ListKind, Status};
use msn_wire::{Dialect, Direction, Frame, Limits};

use crate::common::{Rendered, decode_all};

pub fn run(data: &[u8]) {
    for frame in decode_all(Direction::FromClient, Limits::default(), data) {
        let parsed = NsCommand::parse(&frame);
        check_parse(&frame, &parsed);
        if let Ok(cmd) = parsed {
            let mut r = Rendered::new();
            for n in Dialect::MIN..=Dialect::MAX {
                let dialect = Dialect::new(n).expect("known dialect");
                render_replies(&mut r, &cmd, dialect);
            }
            r.verify();
        }
    }
}

fn check_parse(frame: &Frame, parsed: &Result<NsCommand, ParseError>) {
    match parsed {
        Ok(cmd) => {
            let second = frame.tokens().nth(1);
            match cmd.trid() {
                Some(trid) => assert_eq!(second.and_then(parse_trid), Some(trid)),
                None => assert!(matches!(
                    cmd,
                    NsCommand::Msg | NsCommand::Png | NsCommand::Out
                )),
            }
            let payload = match cmd {
                NsCommand::Sdc { note, .. } => Some(note),
                NsCommand::Pag { payload, .. } | NsCommand::Uux { payload, .. } => Some(payload),
                NsCommand::Qry { response, .. } => Some(response),
                _ => None,
            };
            if let Some(p) = payload {
                assert_eq!(Some(p), frame.payload(), "payload of {:?}", frame.line());
            }
        }
        Err(ParseError::Malformed { command } | ParseError::Unknown { command }) => {
            assert_eq!(command, frame.command());
        }
    }
    let normalised = Frame::new(
        frame.tokens().collect::<Vec<_>>().join(" "),
        frame.payload().cloned(),
    );
    assert_eq!(&NsCommand::parse(&normalised), parsed, "{:?}", frame.line());
}

/// A `GroupView` whose guid and name come from the client.
fn group<'a>(id: u32, guid: &'a str, name: &'a str) -> GroupView<'a> {
    GroupView {
        id: id as u8,
        guid,
        name,
    }
}

fn presence<'a>(
    status: Status,
    handle: &'a str,
    name: &'a str,
    capabilities: Option<&'a str>,
    msn_object: Option<&'a str>,
) -> PresenceView<'a> {
    PresenceView {
        status,
        handle,
        name,
        capabilities,
        msn_object,
    }
}

/// Renders, in `d`, server lines that carry the values of `cmd`.
fn render_replies(r: &mut Rendered, cmd: &NsCommand, d: Dialect) {
    let v = u64::from(cmd.trid().unwrap_or(0));
    if let Some(trid) = cmd.trid() {
        r.out.error(911, trid);
        r.expect("911");
    }
    match cmd {
        NsCommand::Ver { trid, offered } => {
            match Dialect::negotiate(offered.iter().map(String::as_str), 2..=d.number()) {
                Negotiation::Chosen { dialect, cvr0 } => {
                    let offered_dialects = || offered.iter().filter_map(|o| Dialect::parse(o));
                    assert!(offered_dialects().any(|o| o == dialect));
                    assert!(offered_dialects().all(|o| o <= dialect || o > d));
                    assert_eq!(cvr0, offered.iter().any(|o| o == "CVR0"));
                    render::ver(&mut r.out, *trid, dialect, cvr0);
                    r.expect("VER");
                }
                Negotiation::OnlyCvr0 => assert!(offered.iter().any(|o| o == "CVR0")),
                Negotiation::NoMatch => assert!(!offered.iter().any(|o| o == "CVR0")),
            }
            render::ver(&mut r.out, *trid, d, true);
            r.expect("VER");
        }
        NsCommand::Inf { .. } | NsCommand::Lsg { .. } | NsCommand::Chl { .. } => {
            render::qng(&mut r.out, d, v as u32);
            r.expect("QNG");
        }
        NsCommand::Cvr { trid, args } | NsCommand::Cvq { trid, args } => {
            let first = &args[0];
            let last = args.last().expect("at least one argument");
            render::xfr_ns(&mut r.out, *trid, d, first, last);
            r.expect("XFR");
        }
        NsCommand::Usr { trid, auth } => {
            let value = match auth {
                UsrAuth::Md5Initial { handle }
                | UsrAuth::CtpInitial { handle }
                | UsrAuth::TwnInitial { handle } => handle,
                UsrAuth::Md5Response { hash } => hash,
                UsrAuth::CtpPassword { password } => password,
                UsrAuth::TwnTicket { ticket } => ticket,
            };
            let handle = Handle::parse(value).ok();
            let shown = handle.as_ref().map_or(value.as_str(), Handle::as_str);
            render::usr_ok(&mut r.out, *trid, d, shown, value, true);
            r.expect("USR");
            let profile = render::profile_payload(
                d,
                &Profile {
                    login_time: v,
                    email_enabled: true,
                    member_id_high: *trid,
                    member_id_low: *trid as i32,
                    lcid: 1033,
                    preferred_email: shown,
                    country: value,
                    flags: 1027,
                    kv: 2,
                    mspauth: value,
                    client_ip: value,
                    client_port: *trid as u16,
                },
            );
            render::hotmail_msg(&mut r.out, profile.as_bytes());
            r.expect_payload("MSG", profile.as_bytes());
        }
        NsCommand::Syn { trid, cached } => {
            let first = cached[0].as_str();
            let second = cached.get(1).map_or("0", String::as_str);
            let version = first.parse().unwrap_or(0);
            render::syn_current(&mut r.out, *trid, d, version, (first, second));
            render::syn_header(&mut r.out, *trid, d, version, (first, second), 3, 2);
            r.expect("SYN");
            r.expect("SYN");
        }
        NsCommand::Gtc { trid, value } => {
            render::gtc(&mut r.out, *trid, d, v, *value);
            render::syn_gtc(&mut r.out, *trid, d, v, *value);
            r.expect("GTC");
            r.expect("GTC");
        }
        NsCommand::Blp { trid, value } => {
            render::blp(&mut r.out, *trid, d, v, *value);
            render::syn_blp(&mut r.out, *trid, d, v, *value);
            r.expect("BLP");
            r.expect("BLP");
        }
        NsCommand::Lst { trid, list } => {
            render::lst_empty(&mut r.out, *trid, *list, v);
            r.expect("LST");
        }
        NsCommand::Add {
            trid,
            list,
            handle,
            name,
            group,
        } => {
            render::reverse_added(&mut r.out, d, v, handle, name);
            r.expect(if d.has_adc() { "ADC" } else { "ADD" });
            render::lst_entry(
                &mut r.out,
                *trid,
                *list,
                v,
                1,
                1,
                handle,
                name,
                group.as_deref(),
            );
            r.expect("LST");
            render::lst_contact(
                &mut r.out,
                d,
                handle,
                name,
                None,
                list.bit(),
                group.as_deref(),
            );
            r.expect("LST");
            validate_text(name);
        }
        // `N=`, `F=` and `C=` may be empty: the only parsed values that can
        // be. The server rejects them before rendering anything (handle
        // and name validation, GUID lookup), so nothing is rendered here.
        NsCommand::Adc {
            target: AdcTarget::Handle { handle, name },
            ..
        } if handle.is_empty() || name.as_deref() == Some("") => {
            assert!(Handle::parse("").is_err());
            assert!(text::validate_encoded("", text::MAX_FRIENDLY_NAME).is_err());
        }
        NsCommand::Adc {
            target: AdcTarget::Group { contact, group },
            ..
        } if contact.is_empty() || group.is_empty() => {}
        NsCommand::Adc { list, target, .. } => match target {
            AdcTarget::Handle { handle, name } => {
                let name = name.as_deref().unwrap_or(handle);
                render::lst_contact(&mut r.out, d, handle, name, Some(handle), list.bit(), None);
                render::reverse_added(&mut r.out, d, v, handle, name);
                r.expect("LST");
                r.expect(if d.has_adc() { "ADC" } else { "ADD" });
                validate_text(name);
            }
            AdcTarget::Group { contact, group } => {
                render::lst_contact(
                    &mut r.out,
                    d,
                    contact,
                    contact,
                    Some(contact),
                    ListKind::Forward.bit(),
                    Some(group),
                );
                r.expect("LST");
            }
        },
        NsCommand::Rem { target, group, .. } => {
            render::reverse_removed(&mut r.out, d, v, target);
            r.expect("REM");
            if let Some(g) = group {
                render::lst_contact(&mut r.out, d, target, g, Some(g), 1, Some(g));
                r.expect("LST");
            }
        }
        NsCommand::Rea { trid, handle, name } => {
            render::usr_ok(&mut r.out, *trid, d, handle, name, false);
            render::fln(&mut r.out, handle);
            let p = presence(Status::Away, handle, name, None, None);
            render::iln(&mut r.out, *trid, d, &p);
            render::nln(&mut r.out, d, &p);
            for command in ["USR", "FLN", "ILN", "NLN"] {
                r.expect(command);
            }
            validate_text(name);
        }
        NsCommand::Adg { trid, name } => {
            render::adg(&mut r.out, *trid, d, v, group(*trid, name, name));
            render::lsg(&mut r.out, *trid, d, v, 1, 1, group(*trid, name, name));
            r.expect("ADG");
            r.expect("LSG");
            validate_text(name);
        }
        NsCommand::Rmg { trid, group: g } => {
            render::rmg(&mut r.out, *trid, d, v, group(*trid, g, g));
            r.expect("RMG");
        }
        NsCommand::Reg {
            trid,
            group: g,
            name,
        } => {
            render::reg(&mut r.out, *trid, d, v, group(*trid, g, name));
            r.expect("REG");
            validate_text(name);
        }
        NsCommand::Chg {
            trid,
            status,
            capabilities,
            msn_object,
        } => {
            let p = presence(
                *status,
                "alice@hotmail.com",
                "Alice",
                capabilities.as_deref(),
                msn_object.as_deref(),
            );
            render::iln(&mut r.out, *trid, d, &p);
            render::nln(&mut r.out, d, &p);
            r.expect("ILN");
            r.expect("NLN");
        }
        NsCommand::Prp {
            trid,
            property,
            value,
        } => {
            let value = value.as_deref();
            render::prp(&mut r.out, *trid, d, v, property, value);
            render::syn_prp(&mut r.out, *trid, d, v, property, value);
            r.expect("PRP");
            r.expect("PRP");
            if let Some(value) = value {
                validate_text(value);
            }
        }
        NsCommand::Sbp {
            contact,
            property,
            value,
            ..
        } => {
            let value = value.as_deref();
            render::syn_bpr(&mut r.out, d, v, contact, property, value);
            render::bpr_changed(&mut r.out, d, v, contact, property, value);
            r.expect("BPR");
            r.expect("BPR");
        }
        NsCommand::Xfr { trid, target } => {
            render::xfr_ns(&mut r.out, *trid, d, target, target);
            r.expect("XFR");
        }
        NsCommand::Url {
            trid,
            service,
            param,
        } => {
            let login = param.as_deref().unwrap_or(service);
            render::url(&mut r.out, *trid, d, service, login, *trid);
            r.expect("URL");
        }
        NsCommand::Fnd { fields: args, .. } | NsCommand::Snd { args, .. } => {
            let arg = |i: usize| args[i % args.len()].as_str();
            render::rng(&mut r.out, arg(0), arg(1), arg(2), arg(3), arg(4));
            r.expect("RNG");
        }
        NsCommand::Sdc { note, args, .. } => {
            render::hotmail_msg(&mut r.out, note);
            r.expect_payload("MSG", note);
            if let Some(target) = args.first() {
                render::fln(&mut r.out, target);
                r.expect("FLN");
            }
        }
        NsCommand::Pag {
            target, payload, ..
        } => {
            render::hotmail_msg(&mut r.out, payload);
            render::rng(&mut r.out, target, target, target, target, target);
            r.expect_payload("MSG", payload);
            r.expect("RNG");
        }
        NsCommand::Ims { trid, on } => {
            render::qng(&mut r.out, d, trid.wrapping_add(u32::from(*on)));
            r.expect("QNG");
        }
        NsCommand::Qry {
            client_id,
            response,
            ..
        } => {
            render::hotmail_msg(&mut r.out, response);
            render::fln(&mut r.out, client_id);
            r.expect_payload("MSG", response);
            r.expect("FLN");
        }
        NsCommand::Uux { payload, .. } => {
            render::hotmail_msg(&mut r.out, payload);
            r.expect_payload("MSG", payload);
        }
        NsCommand::Gcf { trid, name } => {
            render::prp(&mut r.out, *trid, d, v, name, None);
            r.expect("PRP");
        }
        NsCommand::Msg | NsCommand::Png | NsCommand::Out => {
            render::qng(&mut r.out, d, 50);
            r.expect("QNG");
        }
    }
}

/// Exercises the text checks on a client-supplied value; whatever they
/// decide, encoding the decoded value must give a safe single token.
fn validate_text(value: &str) {
    let ok = text::validate_encoded(value, text::MAX_FRIENDLY_NAME).is_ok();
    let decoded = text::decode(value);
    let encoded = text::encode(&decoded);
    assert!(encoded.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if ok {
        assert!(!decoded.is_empty() && !decoded.chars().any(char::is_control));
    }
}
