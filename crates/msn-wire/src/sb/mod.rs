//! Switchboard commands: typed client commands and the server lines of
//! every dialect.

use bytes::Bytes;

use crate::dialect::Dialect;
use crate::frame::{Frame, parse_trid};
use crate::line;
use crate::ns::ParseError;
use crate::out::Out;
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
        if !matches!(command, "USR" | "ANS" | "CAL" | "MSG") {
            return Err(ParseError::Unknown {
                command: command.to_owned(),
            });
        }
        let trid = tokens
            .get(1)
            .and_then(|t| parse_trid(t))
            .ok_or_else(malformed)?;
        let cmd = match (command, &tokens[2..]) {
            ("USR", [handle, cookie]) => SbCommand::Usr {
                trid,
                handle: (*handle).to_owned(),
                cookie: (*cookie).to_owned(),
            },
            ("ANS", [handle, cookie, session]) => SbCommand::Ans {
                trid,
                handle: (*handle).to_owned(),
                cookie: (*cookie).to_owned(),
                session: (*session).to_owned(),
            },
            ("CAL", [handle]) => SbCommand::Cal {
                trid,
                handle: (*handle).to_owned(),
            },
            ("MSG", [mode, _len]) => SbCommand::Msg {
                trid,
                mode: AckMode::parse(mode).ok_or_else(malformed)?,
                payload: frame.payload().cloned().ok_or_else(malformed)?,
            },
            _ => return Err(malformed()),
        };
        Ok(cmd)
    }
}

/// A participant as listed in `IRO`/`JOI`.
#[derive(Clone, Copy, Debug)]
pub struct RosterEntry<'a> {
    pub handle: &'a str,
    pub name: &'a str,
    /// Client capabilities from the participant's NS `CHG` (`None`: its
    /// dialect has none, listed as `0` to MSNP12+ receivers).
    pub capabilities: Option<&'a str>,
}

/// `USR TrID OK handle name`.
pub fn usr_ok(out: &mut Out, trid: u32, handle: &str, name: &str) {
    line!(out, "USR {trid} OK {handle} {name}");
}

/// `CAL TrID RINGING session`.
pub fn cal_ringing(out: &mut Out, trid: u32, session: &str) {
    line!(out, "CAL {trid} RINGING {session}");
}

/// `IRO TrID index count handle name[ caps]` for a receiver of `dialect`.
pub fn iro(
    out: &mut Out,
    trid: u32,
    dialect: Dialect,
    index: usize,
    count: usize,
    p: RosterEntry<'_>,
) {
    if dialect.sb_roster_has_capabilities() {
        line!(
            out,
            "IRO {trid} {index} {count} {} {} {}",
            p.handle,
            p.name,
            p.capabilities.unwrap_or("0")
        );
    } else {
        line!(out, "IRO {trid} {index} {count} {} {}", p.handle, p.name);
    }
}

/// `ANS TrID OK`.
pub fn ans_ok(out: &mut Out, trid: u32) {
    line!(out, "ANS {trid} OK");
}

/// `JOI handle name[ caps]` for a receiver of `dialect`.
pub fn joi(out: &mut Out, dialect: Dialect, p: RosterEntry<'_>) {
    if dialect.sb_roster_has_capabilities() {
        line!(
            out,
            "JOI {} {} {}",
            p.handle,
            p.name,
            p.capabilities.unwrap_or("0")
        );
    } else {
        line!(out, "JOI {} {}", p.handle, p.name);
    }
}

/// `BYE handle` (left) or `BYE handle 1` (removed by the server).
pub fn bye(out: &mut Out, handle: &str, removed_by_server: bool) {
    if removed_by_server {
        line!(out, "BYE {handle} 1");
    } else {
        line!(out, "BYE {handle}");
    }
}

/// The relayed message: `MSG sender name len` + the payload unchanged,
/// encoded once into bytes that every recipient's connection shares (the
/// form is the same in every dialect).
pub fn relayed_msg(sender: &str, name: &str, payload: &[u8]) -> Bytes {
    use bytes::BufMut;
    let head = format!("MSG {sender} {name} {}\r\n", payload.len());
    let mut encoded = bytes::BytesMut::with_capacity(head.len() + payload.len());
    encoded.put_slice(head.as_bytes());
    encoded.put_slice(payload);
    encoded.freeze()
}

pub fn ack(out: &mut Out, trid: u32) {
    line!(out, "ACK {trid}");
}

pub fn nak(out: &mut Out, trid: u32) {
    line!(out, "NAK {trid}");
}

#[cfg(test)]
mod tests {
    use super::*;

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
