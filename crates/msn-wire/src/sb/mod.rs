//! Switchboard commands: typed client commands ([`SbCommand`]), parsed and
//! rendered by one module per command ([`cmd`]; the server lines are
//! re-exported here).

pub mod cmd;

pub use cmd::ans::{ans_ok, iro};
pub use cmd::bye::bye;
pub use cmd::cal::{cal_ringing, joi};
pub use cmd::msg::{ack, nak, relayed_msg};
pub use cmd::usr::usr_ok;

use bytes::Bytes;

use crate::frame::{Frame, parse_trid};
use crate::ns::ParseError;
use crate::vocab::AckMode;

/// A command sent by a client to the Switchboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SbCommand {
    Usr {
        trid: u32,
        handle: String,
        cookie: String,
    },
    Ans {
        trid: u32,
        handle: String,
        cookie: String,
        session: String,
    },
    Cal {
        trid: u32,
        handle: String,
    },
    Msg {
        trid: u32,
        mode: AckMode,
        payload: Bytes,
    },
    Out,
}

impl SbCommand {
    pub fn parse(frame: &Frame) -> Result<SbCommand, ParseError> {
        let tokens: Vec<&str> = frame.tokens().collect();
        let command = tokens.first().copied().unwrap_or("");
        let malformed = || ParseError::Malformed {
            command: command.to_owned(),
        };
        if command == "OUT" {
            return Ok(SbCommand::Out);
        }
        let parse = match command {
            "USR" => cmd::usr::parse,
            "ANS" => cmd::ans::parse,
            "CAL" => cmd::cal::parse,
            "MSG" => cmd::msg::parse,
            _ => {
                return Err(ParseError::Unknown {
                    command: command.to_owned(),
                });
            }
        };
        let trid = tokens
            .get(1)
            .and_then(|t| parse_trid(t))
            .ok_or_else(malformed)?;
        parse(trid, &tokens[2..], frame).ok_or_else(malformed)
    }
}

/// A participant as listed in `IRO`/`JOI`.
#[derive(Clone, Copy, Debug)]
pub struct RosterEntry<'a> {
    /// `email`, or for one endpoint of an MSNP16+ user `email;{guid}`.
    pub handle: &'a str,
    pub name: &'a str,
    /// Client capabilities from the participant's NS `CHG` (`None`: its
    /// dialect has none, listed as `0` to MSNP12+ receivers).
    pub capabilities: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::out::Out;

    fn parse(line: &str, payload: Option<&'static [u8]>) -> Result<SbCommand, ParseError> {
        SbCommand::parse(&Frame::new(line, payload.map(Bytes::from_static)))
    }

    #[test]
    fn parses_sb_commands() {
        assert_eq!(
            parse("USR 1 alice@hotmail.com 17262740.1050826919.32308", None).unwrap(),
            SbCommand::Usr {
                trid: 1,
                handle: "alice@hotmail.com".into(),
                cookie: "17262740.1050826919.32308".into()
            }
        );
        assert_eq!(
            parse("ANS 1 bob@hotmail.com 849102291.520491113 11752013", None).unwrap(),
            SbCommand::Ans {
                trid: 1,
                handle: "bob@hotmail.com".into(),
                cookie: "849102291.520491113".into(),
                session: "11752013".into()
            }
        );
        assert_eq!(
            parse("CAL 2 bob@hotmail.com", None).unwrap(),
            SbCommand::Cal {
                trid: 2,
                handle: "bob@hotmail.com".into()
            }
        );
        assert_eq!(
            parse("MSG 3 U 2", Some(b"hi")).unwrap(),
            SbCommand::Msg {
                trid: 3,
                mode: AckMode::Unacknowledged,
                payload: Bytes::from_static(b"hi")
            }
        );
        assert_eq!(parse("OUT", None).unwrap(), SbCommand::Out);
    }

    #[test]
    fn rejects_malformed_and_server_commands() {
        for line in [
            "MSG 3 a 2",
            "CAL 2",
            "USR 1 a@b.com",
            "ANS 1 a b",
            "USR x a b",
        ] {
            assert!(
                matches!(parse(line, Some(b"hi")), Err(ParseError::Malformed { .. })),
                "{line}"
            );
        }
        for line in ["ACK 1", "JOI a b", "SYN 1 0", "BYE a"] {
            assert!(
                matches!(parse(line, None), Err(ParseError::Unknown { .. })),
                "{line}"
            );
        }
    }

    #[test]
    fn roster_forms() {
        let p = RosterEntry {
            handle: "dan@hotmail.com",
            name: "Dan",
            capabilities: None,
        };
        let mut out = Out::new();
        iro(&mut out, 1, Dialect::new(7).unwrap(), 1, 1, p);
        iro(&mut out, 1, Dialect::new(12).unwrap(), 1, 1, p);
        joi(&mut out, Dialect::new(12).unwrap(), p);
        joi(&mut out, Dialect::new(2).unwrap(), p);
        bye(&mut out, "dan@hotmail.com", true);
        assert_eq!(
            String::from_utf8(out.take().to_vec()).unwrap(),
            "IRO 1 1 1 dan@hotmail.com Dan\r\nIRO 1 1 1 dan@hotmail.com Dan 0\r\n\
             JOI dan@hotmail.com Dan 0\r\nJOI dan@hotmail.com Dan\r\nBYE dan@hotmail.com 1\r\n"
        );
    }
}
