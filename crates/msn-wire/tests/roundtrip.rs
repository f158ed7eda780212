//! Property tests of the framing layer as a whole:
//! * frames written with `Out` (`line!`, `Out::error`, `Out::payload`) and
//!   read back by `Decoder`, with the bytes split at arbitrary points, come
//!   back unchanged, in both directions;
//! * `Out::payload` always announces the exact byte count;
//! * `Dialect::negotiate` picks the highest offered dialect that is both
//!   supported and known, and reports `CVR0`.

use bytes::{Bytes, BytesMut};
use msn_wire::{Decoder, Dialect, Direction, Frame, Limits, Negotiation, Out, line};
use proptest::prelude::*;
use proptest::sample::Index;

/// Commands a client follows with a payload (protocol README).
const CLIENT_PAYLOAD: &[&str] = &[
    "MSG", "QRY", "SDC", "PAG", "UUX", "ADL", "RML", "FQY", "UUN", "UUM",
];
/// Commands a server follows with a payload when the last parameter is a
/// number.
const SERVER_PAYLOAD: &[&str] = &[
    "MSG", "NOT", "IPG", "UBX", "GCF", "ADL", "RML", "FQY", "UBN", "UBM",
];

fn payload_commands(direction: Direction) -> &'static [&'static str] {
    match direction {
        Direction::FromClient => CLIENT_PAYLOAD,
        Direction::FromServer => SERVER_PAYLOAD,
    }
}

/// A parameter: printable ASCII, no space.
fn token() -> impl Strategy<Value = String> {
    "[!-~]{1,12}"
}

/// One unit to write and expect back.
#[derive(Clone, Debug)]
enum Spec {
    /// `command params…` written with `line!`.
    Line {
        command: String,
        params: Vec<String>,
    },
    /// `NNN TrID` written with `Out::error`.
    Error { code: u16, trid: u32 },
    /// `command params… length` + payload written with `Out::payload`.
    Payload {
        command: String,
        params: Vec<String>,
        payload: Vec<u8>,
    },
}

impl Spec {
    fn write(&self, out: &mut Out) {
        match self {
            Spec::Line { command, params } if params.is_empty() => line!(out, "{command}"),
            Spec::Line { command, params } => line!(out, "{command} {}", params.join(" ")),
            Spec::Error { code, trid } => out.error(*code, *trid),
            Spec::Payload {
                command,
                params,
                payload,
            } => {
                let mut head = command.clone();
                for p in params {
                    head.push(' ');
                    head.push_str(p);
                }
                out.payload(format_args!("{head}"), payload);
            }
        }
    }

    fn expected(&self) -> Frame {
        match self {
            Spec::Line { command, params } => {
                let mut line = command.clone();
                for p in params {
                    line.push(' ');
                    line.push_str(p);
                }
                Frame::new(line, None)
            }
            Spec::Error { code, trid } => Frame::new(format!("{code} {trid}"), None),
            Spec::Payload {
                command,
                params,
                payload,
            } => {
                let mut line = command.clone();
                for p in params {
                    line.push(' ');
                    line.push_str(p);
                }
                line.push_str(&format!(" {}", payload.len()));
                Frame::new(line, Some(Bytes::from(payload.clone())))
            }
        }
    }
}

fn spec(direction: Direction) -> impl Strategy<Value = Spec> {
    let payload_set = payload_commands(direction);
    let plain_command = prop_oneof!["[A-Z]{3}", token()]
        .prop_filter("not a payload command", move |c| {
            !payload_set.contains(&c.as_str())
        });
    prop_oneof![
        4 => (plain_command, prop::collection::vec(token(), 0..6))
            .prop_map(|(command, params)| Spec::Line { command, params }),
        1 => (100u16..1000, any::<u32>()).prop_map(|(code, trid)| Spec::Error { code, trid }),
        3 => (
            prop::sample::select(payload_set),
            prop::collection::vec(token(), 0..4),
            prop::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(command, params, payload)| Spec::Payload {
                command: command.to_owned(),
                params,
                payload,
            }),
    ]
}

fn frames_and_splits(direction: Direction) -> impl Strategy<Value = (Vec<Spec>, Vec<Index>)> {
    (
        prop::collection::vec(spec(direction), 0..12),
        prop::collection::vec(any::<Index>(), 0..10),
    )
}

/// Feeds `wire` cut at `splits`, decoding after every part.
fn decode_split(direction: Direction, wire: &[u8], splits: &[Index]) -> Vec<Frame> {
    let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(wire.len() + 1)).collect();
    cuts.push(wire.len());
    cuts.sort_unstable();
    let mut dec = Decoder::new(direction, Limits::default());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut from = 0;
    for cut in cuts {
        buf.extend_from_slice(&wire[from..cut]);
        from = cut;
        while let Some(frame) = dec.decode(&mut buf).expect("valid framing") {
            frames.push(frame);
        }
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    assert!(!dec.is_mid_frame());
    frames
}

fn round_trip(direction: Direction, specs: &[Spec], splits: &[Index]) {
    let mut out = Out::new();
    for s in specs {
        s.write(&mut out);
    }
    let wire = out.take();
    let expected: Vec<Frame> = specs.iter().map(Spec::expected).collect();
    assert_eq!(decode_split(direction, &wire, splits), expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn client_frames_round_trip((specs, splits) in frames_and_splits(Direction::FromClient)) {
        round_trip(Direction::FromClient, &specs, &splits);
    }

    #[test]
    fn server_frames_round_trip((specs, splits) in frames_and_splits(Direction::FromServer)) {
        round_trip(Direction::FromServer, &specs, &splits);
    }

    #[test]
    fn payload_writes_the_exact_byte_count(
        before in prop::collection::vec(token(), 0..4),
        head in prop::collection::vec(token(), 1..5),
        payload in prop::collection::vec(any::<u8>(), 0..5000),
    ) {
        let mut out = Out::new();
        for t in &before {
            line!(out, "{t}");
        }
        let mark = out.len();
        let head = head.join(" ");
        out.payload(format_args!("{head}"), &payload);
        let bytes = out.take();
        let written = &bytes[mark..];
        let end = written
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("line terminator");
        let line = std::str::from_utf8(&written[..end]).unwrap();
        let (line_head, count) = line.rsplit_once(' ').unwrap();
        prop_assert_eq!(line_head, head.as_str());
        prop_assert_eq!(count.parse::<usize>().unwrap(), payload.len());
        prop_assert_eq!(&written[end + 2..], &payload[..]);
    }

    #[test]
    fn negotiate_picks_the_highest_supported_offered_dialect(
        offered in prop::collection::vec(offer(), 0..10),
        low in 0u8..=20,
        high in 0u8..=20,
    ) {
        let tokens: Vec<String> = offered.iter().map(Offer::token).collect();
        let supported = low..=high;
        let best = offered
            .iter()
            .filter_map(|o| match o {
                Offer::Dialect(n) => Some(*n),
                _ => None,
            })
            .filter(|n| supported.contains(n) && (Dialect::MIN..=Dialect::MAX).contains(n))
            .max();
        let cvr0 = offered.iter().any(|o| matches!(o, Offer::Cvr0));
        let expected = match (best, cvr0) {
            (Some(n), cvr0) => Negotiation::Chosen {
                dialect: Dialect::new(n).unwrap(),
                cvr0,
            },
            (None, true) => Negotiation::OnlyCvr0,
            (None, false) => Negotiation::NoMatch,
        };
        let got = Dialect::negotiate(tokens.iter().map(String::as_str), supported.clone());
        prop_assert_eq!(got, expected);
        let reversed = Dialect::negotiate(tokens.iter().rev().map(String::as_str), supported);
        prop_assert_eq!(reversed, expected, "order of the offer matters");
    }
}

/// One token of a `VER` offer.
#[derive(Clone, Debug)]
enum Offer {
    Dialect(u8),
    Cvr0,
    Other(String),
}

impl Offer {
    fn token(&self) -> String {
        match self {
            Offer::Dialect(n) => format!("MSNP{n}"),
            Offer::Cvr0 => "CVR0".to_owned(),
            Offer::Other(t) => t.clone(),
        }
    }
}

fn offer() -> impl Strategy<Value = Offer> {
    prop_oneof![
        4 => (0u8..=30).prop_map(Offer::Dialect),
        1 => Just(Offer::Cvr0),
        1 => token()
            .prop_filter("not a dialect", |t| !t.starts_with("MSNP") && t != "CVR0")
            .prop_map(Offer::Other),
    ]
}

#[test]
fn examples_round_trip() {
    let specs = [
        Spec::Line {
            command: "VER".into(),
            params: vec!["1".into(), "MSNP8".into(), "CVR0".into()],
        },
        Spec::Payload {
            command: "MSG".into(),
            params: vec!["1".into(), "A".into()],
            payload: b"MIME-Version: 1.0\r\n\r\nhi\r\n".to_vec(),
        },
        Spec::Error { code: 911, trid: 7 },
        Spec::Payload {
            command: "UUX".into(),
            params: vec!["2".into()],
            payload: Vec::new(),
        },
    ];
    round_trip(Direction::FromClient, &specs, &[]);
}
