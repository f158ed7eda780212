//! Dispatch and Notification Server commands: typed client commands
//! ([`NsCommand`]), parsed and rendered by one module per command
//! ([`cmd`]); [`render`] gathers every server line for the sessions.

pub mod cmd;
pub mod render;

use bytes::Bytes;

use crate::frame::{Frame, parse_trid};
use crate::vocab::{AddAlert, ListKind, Privacy, Status};

/// A command sent by a client to the Dispatch or Notification Server.
/// Parsing is dialect-agnostic; whether a command exists in the negotiated
/// dialect is decided by the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NsCommand {
    Ver {
        trid: u32,
        offered: Vec<String>,
    },
    Inf {
        trid: u32,
    },
    /// `CVR` (and `CVQ`): the raw parameters after the TrID.
    Cvr {
        trid: u32,
        args: Vec<String>,
    },
    Cvq {
        trid: u32,
        args: Vec<String>,
    },
    Usr {
        trid: u32,
        auth: UsrAuth,
    },
    Syn {
        trid: u32,
        cached: Vec<String>,
    },
    Gtc {
        trid: u32,
        value: AddAlert,
    },
    Blp {
        trid: u32,
        value: Privacy,
    },
    Lst {
        trid: u32,
        list: ListKind,
    },
    Lsg {
        trid: u32,
    },
    Add {
        trid: u32,
        list: ListKind,
        handle: String,
        name: String,
        group: Option<String>,
    },
    Adc {
        trid: u32,
        list: ListKind,
        target: AdcTarget,
    },
    Rem {
        trid: u32,
        list: ListKind,
        target: String,
        group: Option<String>,
    },
    Rea {
        trid: u32,
        handle: String,
        name: String,
    },
    Adg {
        trid: u32,
        name: String,
    },
    Rmg {
        trid: u32,
        group: String,
    },
    Reg {
        trid: u32,
        group: String,
        name: String,
    },
    Chg {
        trid: u32,
        status: Status,
        capabilities: Option<String>,
        msn_object: Option<String>,
    },
    Prp {
        trid: u32,
        property: String,
        value: Option<String>,
    },
    Sbp {
        trid: u32,
        contact: String,
        property: String,
        value: Option<String>,
    },
    Xfr {
        trid: u32,
        target: String,
    },
    Url {
        trid: u32,
        service: String,
        param: Option<String>,
    },
    Fnd {
        trid: u32,
        fields: Vec<String>,
    },
    Snd {
        trid: u32,
        args: Vec<String>,
    },
    Sdc {
        trid: u32,
        args: Vec<String>,
        note: Bytes,
    },
    Pag {
        trid: u32,
        target: String,
        payload: Bytes,
    },
    Ims {
        trid: u32,
        on: bool,
    },
    Qry {
        trid: u32,
        client_id: String,
        response: Bytes,
    },
    Uux {
        trid: u32,
        payload: Bytes,
    },
    Gcf {
        trid: u32,
        name: String,
    },
    /// `ADL`/`RML`/`FQY` (MSNP13+): an `<ml>` document as sent.
    Adl {
        trid: u32,
        payload: Bytes,
    },
    Rml {
        trid: u32,
        payload: Bytes,
    },
    Fqy {
        trid: u32,
        payload: Bytes,
    },
    /// `UUM TrID target network type len` (MSNP14+).
    Uum {
        trid: u32,
        target: String,
        network: u8,
        kind: u16,
        payload: Bytes,
    },
    /// `UUN TrID target type len` (MSNP13+).
    Uun {
        trid: u32,
        target: String,
        kind: u16,
        payload: Bytes,
    },
    /// `PUT TrID len` (MSNP18): a publication into a circle.
    Put {
        trid: u32,
        payload: Bytes,
    },
    /// `SDG TrID len` (MSNP18): a message to a circle.
    Sdg {
        trid: u32,
        payload: Bytes,
    },
    /// A client asking for a challenge (listed by YW, unused by clients).
    Chl {
        trid: u32,
    },
    /// A client `MSG` on the NS: never valid, the connection is closed.
    Msg,
    Png,
    Out,
}

/// The security-package step of `USR` on the NS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsrAuth {
    Md5Initial {
        handle: String,
    },
    Md5Response {
        hash: String,
    },
    CtpInitial {
        handle: String,
    },
    CtpPassword {
        password: String,
    },
    TwnInitial {
        handle: String,
    },
    TwnTicket {
        ticket: String,
    },
    SsoInitial {
        handle: String,
    },
    /// The ticket, the base64 `MBI_KEY_OLD` proof, and from MSNP16 the
    /// machine GUID (`{…}`).
    SsoProof {
        ticket: String,
        proof: String,
        machine_guid: Option<String>,
    },
    /// MSNP18, after sign-in: `USR t SHA A <base64 circle ticket>`, the
    /// client presenting the `CircleTicket` of its address book so that it
    /// may take part in its circles.
    ShaCircleTicket {
        ticket: String,
    },
}

/// What an `ADC` names: a new list entry, or an FL contact put in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdcTarget {
    /// `N=handle [F=name]`
    Handle {
        handle: String,
        name: Option<String>,
    },
    /// `C=contact-guid group-guid`
    Group { contact: String, group: String },
}

/// Why a line is not a usable command. The real service closed the
/// connection for every malformed or unknown command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Known command, wrong shape.
    Malformed { command: String },
    /// Not a client command of this service.
    Unknown { command: String },
}

impl NsCommand {
    /// The TrID, for commands that carry one.
    pub fn trid(&self) -> Option<u32> {
        use NsCommand::*;
        match self {
            Ver { trid, .. }
            | Inf { trid }
            | Cvr { trid, .. }
            | Cvq { trid, .. }
            | Usr { trid, .. }
            | Syn { trid, .. }
            | Gtc { trid, .. }
            | Blp { trid, .. }
            | Lst { trid, .. }
            | Lsg { trid }
            | Add { trid, .. }
            | Adc { trid, .. }
            | Rem { trid, .. }
            | Rea { trid, .. }
            | Adg { trid, .. }
            | Rmg { trid, .. }
            | Reg { trid, .. }
            | Chg { trid, .. }
            | Prp { trid, .. }
            | Sbp { trid, .. }
            | Xfr { trid, .. }
            | Url { trid, .. }
            | Fnd { trid, .. }
            | Snd { trid, .. }
            | Sdc { trid, .. }
            | Pag { trid, .. }
            | Ims { trid, .. }
            | Qry { trid, .. }
            | Uux { trid, .. }
            | Gcf { trid, .. }
            | Adl { trid, .. }
            | Rml { trid, .. }
            | Fqy { trid, .. }
            | Uun { trid, .. }
            | Uum { trid, .. }
            | Put { trid, .. }
            | Sdg { trid, .. }
            | Chl { trid } => Some(*trid),
            Msg | Png | Out => None,
        }
    }

    /// Parses a decoded frame.
    pub fn parse(frame: &Frame) -> Result<NsCommand, ParseError> {
        let mut tokens = frame.tokens();
        let command = tokens.next().unwrap_or("");
        let rest: Vec<&str> = tokens.collect();
        let malformed = || ParseError::Malformed {
            command: command.to_owned(),
        };

        // Commands without a TrID.
        match command {
            "PNG" => return Ok(NsCommand::Png),
            "OUT" => return Ok(NsCommand::Out),
            "MSG" => return Ok(NsCommand::Msg),
            _ => {}
        }
        let Some(parse) = parser(command) else {
            return Err(ParseError::Unknown {
                command: command.to_owned(),
            });
        };
        let (&trid_token, args) = rest.split_first().ok_or_else(malformed)?;
        let trid = parse_trid(trid_token).ok_or_else(malformed)?;
        parse(trid, args, frame).ok_or_else(malformed)
    }
}

/// A command's parser: the TrID, the arguments after it, and the frame
/// (for its payload). `None`: malformed.
type Parser = fn(u32, &[&str], &Frame) -> Option<NsCommand>;

/// The parser of a client command; `None` for a command clients do not
/// send.
fn parser(command: &str) -> Option<Parser> {
    use cmd::*;
    Some(match command {
        "VER" => ver::parse,
        "INF" => inf::parse,
        "CVR" => cvr::parse_cvr,
        "CVQ" => cvr::parse_cvq,
        "USR" => usr::parse,
        "SYN" => syn::parse,
        "GTC" => gtc::parse,
        "BLP" => blp::parse,
        "LST" => lst::parse,
        "LSG" => lsg::parse,
        "ADD" => add::parse,
        "ADC" => adc::parse,
        "REM" => rem::parse,
        "REA" => rea::parse,
        "ADG" => adg::parse,
        "RMG" => rmg::parse,
        "REG" => reg::parse,
        "CHG" => chg::parse,
        "PRP" => prp::parse,
        "SBP" => sbp::parse,
        "XFR" => xfr::parse,
        "URL" => url::parse,
        "FND" => fnd::parse,
        "SND" => snd::parse,
        "SDC" => sdc::parse,
        "PAG" => pag::parse,
        "IMS" => ims::parse,
        "QRY" => chl::parse_qry,
        "UUX" => uux::parse,
        "GCF" => gcf::parse,
        "CHL" => chl::parse_chl,
        "ADL" => adl::parse,
        "RML" => rml::parse,
        "FQY" => fqy::parse,
        "UUN" => uun::parse,
        "UUM" => uum::parse,
        "PUT" => put::parse,
        "SDG" => sdg::parse,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<NsCommand, ParseError> {
        NsCommand::parse(&Frame::new(line, None))
    }

    fn parse_with(line: &str, payload: &'static [u8]) -> Result<NsCommand, ParseError> {
        NsCommand::parse(&Frame::new(line, Some(Bytes::from_static(payload))))
    }

    fn malformed(line: &str) {
        assert!(
            matches!(parse(line), Err(ParseError::Malformed { .. })),
            "{line} should be malformed, got {:?}",
            parse(line)
        );
    }

    #[test]
    fn ver_inf_cvr() {
        assert_eq!(
            parse("VER 1 MSNP7 MSNP6 CVR0").unwrap(),
            NsCommand::Ver {
                trid: 1,
                offered: vec!["MSNP7".into(), "MSNP6".into(), "CVR0".into()]
            }
        );
        assert_eq!(parse("INF 2").unwrap(), NsCommand::Inf { trid: 2 });
        malformed("INF 2 x");
        malformed("VER 1");
        let NsCommand::Cvr { trid, args } =
            parse("CVR 10 0x0409 win 4.10 i386 MSMSGS 1.0.0863").unwrap()
        else {
            panic!()
        };
        assert_eq!((trid, args[5].as_str()), (10, "1.0.0863"));
    }

    #[test]
    fn usr_steps() {
        assert_eq!(
            parse("USR 6 MD5 I alice@hotmail.com").unwrap(),
            NsCommand::Usr {
                trid: 6,
                auth: UsrAuth::Md5Initial {
                    handle: "alice@hotmail.com".into()
                }
            }
        );
        assert!(matches!(
            parse("USR 7 TWN S t=abc&p=def").unwrap(),
            NsCommand::Usr {
                auth: UsrAuth::TwnTicket { .. },
                ..
            }
        ));
        malformed("USR 6 XYZ I a@b.com");
        malformed("USR 6 MD5 I");
        malformed("USR x MD5 I a@b.com");
    }

    #[test]
    fn list_commands() {
        assert_eq!(
            parse("ADD 12 FL dave@hotmail.com Dave 0").unwrap(),
            NsCommand::Add {
                trid: 12,
                list: ListKind::Forward,
                handle: "dave@hotmail.com".into(),
                name: "Dave".into(),
                group: Some("0".into())
            }
        );
        assert!(matches!(
            parse("ADD 12 RL dave@hotmail.com Dave").unwrap(),
            NsCommand::Add {
                list: ListKind::Reverse,
                ..
            }
        ));
        malformed("ADD 12 XL dave@hotmail.com Dave");
        malformed("ADD 12 FL dave@hotmail.com");
        malformed("ADD 12 FL a b 1 2");
        assert_eq!(
            parse("REM 13 FL carol@hotmail.com 1").unwrap(),
            NsCommand::Rem {
                trid: 13,
                list: ListKind::Forward,
                target: "carol@hotmail.com".into(),
                group: Some("1".into())
            }
        );
        assert_eq!(
            parse("ADC 8 FL N=gina@hotmail.com F=gina%40hotmail.com").unwrap(),
            NsCommand::Adc {
                trid: 8,
                list: ListKind::Forward,
                target: AdcTarget::Handle {
                    handle: "gina@hotmail.com".into(),
                    name: Some("gina%40hotmail.com".into())
                }
            }
        );
        assert_eq!(
            parse("ADC 9 AL N=gina@hotmail.com").unwrap(),
            NsCommand::Adc {
                trid: 9,
                list: ListKind::Allow,
                target: AdcTarget::Handle {
                    handle: "gina@hotmail.com".into(),
                    name: None
                }
            }
        );
        assert_eq!(
            parse("ADC 10 FL C=abc def").unwrap(),
            NsCommand::Adc {
                trid: 10,
                list: ListKind::Forward,
                target: AdcTarget::Group {
                    contact: "abc".into(),
                    group: "def".into()
                }
            }
        );
        malformed("ADC 10 FL C=abc");
        malformed("ADC 10 FL X=abc");
        malformed("ADC 10 FL N=a@b.com G=x");
    }

    #[test]
    fn groups_and_settings() {
        assert_eq!(
            parse("ADG 11 Coworkers 0").unwrap(),
            NsCommand::Adg {
                trid: 11,
                name: "Coworkers".into()
            }
        );
        assert_eq!(
            parse("ADG 7 Family").unwrap(),
            NsCommand::Adg {
                trid: 7,
                name: "Family".into()
            }
        );
        malformed("ADG 7 Family 1");
        assert_eq!(
            parse("REG 14 2 Work 0").unwrap(),
            NsCommand::Reg {
                trid: 14,
                group: "2".into(),
                name: "Work".into()
            }
        );
        assert_eq!(
            parse("BLP 15 BL").unwrap(),
            NsCommand::Blp {
                trid: 15,
                value: Privacy::BlockAll
            }
        );
        malformed("BLP 15 XX");
        malformed("GTC 16 Y");
        assert_eq!(
            parse("GTC 16 N").unwrap(),
            NsCommand::Gtc {
                trid: 16,
                value: AddAlert::DontAsk
            }
        );
    }

    #[test]
    fn chg_forms() {
        assert_eq!(
            parse("CHG 9 NLN").unwrap(),
            NsCommand::Chg {
                trid: 9,
                status: Status::Online,
                capabilities: None,
                msn_object: None
            }
        );
        assert_eq!(
            parse("CHG 9 BSY 1342177280 %3Cmsnobj%2F%3E").unwrap(),
            NsCommand::Chg {
                trid: 9,
                status: Status::Busy,
                capabilities: Some("1342177280".into()),
                msn_object: Some("%3Cmsnobj%2F%3E".into())
            }
        );
        assert!(matches!(
            parse("CHG 19 FLN").unwrap(),
            NsCommand::Chg {
                status: Status::Offline,
                ..
            }
        ));
        malformed("CHG 9 HOT");
        malformed("CHG 9");
    }

    #[test]
    fn payload_commands() {
        assert_eq!(
            parse_with(
                "QRY 10 msmsgs@msnmsgr.com 32",
                b"3b6666b60157322b6fc6e41a115968f5"
            )
            .unwrap(),
            NsCommand::Qry {
                trid: 10,
                client_id: "msmsgs@msnmsgr.com".into(),
                response: Bytes::from_static(b"3b6666b60157322b6fc6e41a115968f5")
            }
        );
        assert!(matches!(
            parse_with(
                "SDC 12 friend@example.com 0x0409 MSMSGS MSMSGS X X Alice 0",
                b""
            )
            .unwrap(),
            NsCommand::Sdc { trid: 12, .. }
        ));
        assert!(matches!(
            parse_with("UUX 8 60", b"<Data/>").unwrap(),
            NsCommand::Uux { trid: 8, .. }
        ));
        assert_eq!(parse_with("MSG 1 A 0", b"").unwrap(), NsCommand::Msg);
    }

    #[test]
    fn misc_commands() {
        assert_eq!(parse("PNG").unwrap(), NsCommand::Png);
        assert_eq!(parse("OUT").unwrap(), NsCommand::Out);
        assert_eq!(
            parse("XFR 19 SB").unwrap(),
            NsCommand::Xfr {
                trid: 19,
                target: "SB".into()
            }
        );
        assert_eq!(
            parse("IMS 3 OFF").unwrap(),
            NsCommand::Ims { trid: 3, on: false }
        );
        malformed("IMS 3 MAYBE");
        assert_eq!(
            parse("URL 14 INBOX").unwrap(),
            NsCommand::Url {
                trid: 14,
                service: "INBOX".into(),
                param: None
            }
        );
        assert_eq!(
            parse("PRP 15 ABC x").unwrap(),
            NsCommand::Prp {
                trid: 15,
                property: "ABC".into(),
                value: Some("x".into())
            }
        );
        assert!(matches!(parse("FOO 1"), Err(ParseError::Unknown { .. })));
        assert!(matches!(parse("ACK 1"), Err(ParseError::Unknown { .. })));
        assert!(matches!(parse(""), Err(ParseError::Unknown { .. })));
        assert_eq!(parse("SYN 5 0 0").unwrap().trid(), Some(5));
        malformed("SYN 5 0 0 0");
    }

    #[test]
    fn put_and_sdg_carry_their_envelope() {
        let payload = b"Routing: 1.0\r\nTo: 9:x@live.com\r\nFrom: 1:a@b.c\r\n\r\n";
        assert_eq!(
            parse_with("PUT 7 43", payload).unwrap(),
            NsCommand::Put {
                trid: 7,
                payload: Bytes::from_static(payload)
            }
        );
        assert_eq!(
            parse_with("SDG 8 43", payload).unwrap(),
            NsCommand::Sdg {
                trid: 8,
                payload: Bytes::from_static(payload)
            }
        );
        malformed("PUT 7");
        malformed("SDG 8 1 2");
    }
}
