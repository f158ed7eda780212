//! `sb_parser`: client bytes framed by the decoder (default limits, stop at
//! the first framing error) and every frame parsed with `SbCommand::parse`;
//! for every parsed command, switchboard lines built from the parsed values
//! are rendered with `msn_wire::sb` in every dialect 2..=12 and framed back.
//!
//! Properties checked: no panic; errors name the frame's command; the TrID
//! is the line's; `MSG` carries the frame's payload, whose length is the
//! line's count; parsing only depends on the tokens; rendered output frames
//! back into exactly the rendered lines (relayed payloads byte for byte).

use msn_core::Handle;
use msn_wire::frame::parse_trid;
use msn_wire::ns::ParseError;
use msn_wire::sb::{self, RosterEntry, SbCommand};
use msn_wire::{Dialect, Direction, Frame, Limits};

use crate::common::{Rendered, decode_all};

pub fn run(data: &[u8]) {
    for frame in decode_all(Direction::FromClient, Limits::default(), data) {
        let parsed = SbCommand::parse(&frame);
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

fn check_parse(frame: &Frame, parsed: &Result<SbCommand, ParseError>) {
    let trid = frame.tokens().nth(1).and_then(parse_trid);
    match parsed {
        Ok(SbCommand::Out) => assert_eq!(frame.command(), "OUT"),
        Ok(
            SbCommand::Usr { trid: t, .. }
            | SbCommand::Ans { trid: t, .. }
            | SbCommand::Cal { trid: t, .. },
        ) => assert_eq!(Some(*t), trid),
        Ok(SbCommand::Msg {
            trid: t, payload, ..
        }) => {
            assert_eq!(Some(*t), trid);
            assert_eq!(Some(payload), frame.payload());
            let count: u128 = frame
                .tokens()
                .last()
                .and_then(|c| c.parse().ok())
                .expect("MSG count");
            assert_eq!(count, payload.len() as u128);
        }
        Err(ParseError::Malformed { command } | ParseError::Unknown { command }) => {
            assert_eq!(command, frame.command());
        }
    }
    let normalised = Frame::new(
        frame.tokens().collect::<Vec<_>>().join(" "),
        frame.payload().cloned(),
    );
    assert_eq!(&SbCommand::parse(&normalised), parsed, "{:?}", frame.line());
}

fn render_replies(r: &mut Rendered, cmd: &SbCommand, d: Dialect) {
    match cmd {
        SbCommand::Usr {
            trid,
            handle,
            cookie,
        } => {
            let shown = Handle::parse(handle).map(|h| h.to_string());
            let shown = shown.as_deref().unwrap_or(handle);
            sb::usr_ok(&mut r.out, *trid, shown, cookie);
            r.expect("USR");
        }
        SbCommand::Ans {
            trid,
            handle,
            cookie,
            session,
        } => {
            let p = RosterEntry {
                handle,
                name: cookie,
                capabilities: Some(session),
            };
            sb::iro(&mut r.out, *trid, d, 1, 2, p);
            sb::ans_ok(&mut r.out, *trid);
            sb::joi(
                &mut r.out,
                d,
                RosterEntry {
                    capabilities: None,
                    ..p
                },
            );
            for command in ["IRO", "ANS", "JOI"] {
                r.expect(command);
            }
        }
        SbCommand::Cal { trid, handle } => {
            sb::cal_ringing(&mut r.out, *trid, handle);
            sb::bye(&mut r.out, handle, trid % 2 == 0);
            r.expect("CAL");
            r.expect("BYE");
        }
        SbCommand::Msg {
            trid,
            mode,
            payload,
        } => {
            r.out
                .raw(&sb::relayed_msg("alice@hotmail.com", "Alice", payload));
            r.expect_payload("MSG", payload);
            if mode.acks_success() {
                sb::ack(&mut r.out, *trid);
                r.expect("ACK");
            }
            if mode.naks_failure() {
                sb::nak(&mut r.out, *trid);
                r.expect("NAK");
            }
        }
        SbCommand::Out => {
            sb::bye(&mut r.out, "alice@hotmail.com", false);
            r.expect("BYE");
        }
    }
}
