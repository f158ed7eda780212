//! Helpers shared by the targets: feeding a decoder in chunks, the
//! properties every decoded frame must have, and checking that rendered
//! server output frames back into exactly the lines that were rendered.

use bytes::{Bytes, BytesMut};
use msn_wire::{Decoder, Direction, Frame, Limits, Out, WireError};

/// Commands a client follows with a payload (mirrors `msn_wire::decoder`,
/// whose table is private; the protocol README lists the same).
pub const CLIENT_PAYLOAD_COMMANDS: &[&str] = &[
    "MSG", "QRY", "SDC", "PAG", "UUX", "ADL", "RML", "FQY", "UUN", "UUM",
];
/// Commands a server follows with a payload when their last parameter is a
/// number.
pub const SERVER_PAYLOAD_COMMANDS: &[&str] = &[
    "MSG", "NOT", "IPG", "UBX", "GCF", "ADL", "RML", "FQY", "UBN", "UBM",
];

/// Limits large enough never to trigger (as the server's protocol trace
/// uses them).
pub const HUGE: Limits = Limits {
    max_line: usize::MAX / 4,
    max_payload: usize::MAX / 4,
};

/// SplitMix64: a tiny deterministic generator for chunk plans.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `1..=max`.
    pub fn upto(&mut self, max: usize) -> usize {
        1 + (self.next_u64() % max.max(1) as u64) as usize
    }

    /// A chunk size: mostly tiny, sometimes large, so that splits land
    /// inside terminators, inside payload counts and inside payloads.
    pub fn chunk(&mut self) -> usize {
        match self.next_u64() % 4 {
            0 => 1,
            1 => self.upto(8),
            2 => self.upto(64),
            _ => self.upto(4096),
        }
    }
}

/// Everything observable about decoding one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub frames: Vec<Frame>,
    /// The error that ended decoding, if any.
    pub error: Option<WireError>,
    /// Bytes left in the buffer at the end (0 after an error).
    pub leftover: usize,
    /// `Decoder::is_mid_frame` at the end (`false` after an error).
    pub mid_frame: bool,
}

/// Feeds `stream` to a new decoder in chunks of the sizes `chunks` yields
/// (a size of 0 counts as 1), decoding after every chunk as a server does
/// after every read. Stops at the first error.
pub fn feed(
    direction: Direction,
    limits: Limits,
    stream: &[u8],
    mut chunks: impl FnMut() -> usize,
) -> Outcome {
    let mut dec = Decoder::new(direction, limits);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut pos = 0;
    loop {
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    check_frame(&frame, direction, dec.limits());
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(error) => {
                    // After an error the connection is closed; how much was
                    // buffered then depends on the chunking, so it is not
                    // part of the outcome.
                    return Outcome {
                        frames,
                        error: Some(error),
                        leftover: 0,
                        mid_frame: false,
                    };
                }
            }
        }
        if pos == stream.len() {
            break;
        }
        let n = chunks().clamp(1, stream.len() - pos);
        buf.extend_from_slice(&stream[pos..pos + n]);
        pos += n;
    }
    let mid_frame = dec.is_mid_frame();
    assert!(
        buf.is_empty() || mid_frame,
        "{} bytes left over but the decoder is not mid-frame",
        buf.len()
    );
    Outcome {
        frames,
        error: None,
        leftover: buf.len(),
        mid_frame,
    }
}

/// Decodes all of `stream` at once; the frames up to the first error.
pub fn decode_all(direction: Direction, limits: Limits, stream: &[u8]) -> Vec<Frame> {
    let mut once = Some(stream.len());
    feed(direction, limits, stream, || once.take().unwrap_or(1)).frames
}

/// Whether `token` is a decimal number as the decoder reads byte counts.
fn is_decimal(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

/// The properties of every frame the decoder returns.
pub fn check_frame(frame: &Frame, direction: Direction, limits: Limits) {
    let line = frame.line();
    assert!(!line.is_empty(), "empty line returned as a frame");
    assert!(
        !line.contains(['\r', '\n']),
        "line contains CR or LF: {line:?}"
    );
    assert!(
        line.len() <= limits.max_line,
        "line of {} bytes over the limit {}",
        line.len(),
        limits.max_line
    );
    assert!(
        !line.starts_with([' ', '\t']) && !line.ends_with([' ', '\t']),
        "line keeps leading or trailing blanks: {line:?}"
    );
    let tokens: Vec<&str> = frame.tokens().collect();
    let command = frame.command();
    let last = tokens.get(1..).and_then(|rest| rest.last()).copied();
    let expects_payload = match direction {
        Direction::FromClient => CLIENT_PAYLOAD_COMMANDS.contains(&command),
        Direction::FromServer => {
            SERVER_PAYLOAD_COMMANDS.contains(&command) && last.is_some_and(is_decimal)
        }
    };
    match frame.payload() {
        Some(payload) => {
            assert!(expects_payload, "unexpected payload after {line:?}");
            assert!(
                payload.len() <= limits.max_payload,
                "payload of {} bytes over the limit {}",
                payload.len(),
                limits.max_payload
            );
            let count = last.expect("payload command without a count");
            assert!(is_decimal(count), "payload count {count:?} not decimal");
            let announced: u128 = count.parse().unwrap_or(u128::MAX);
            assert_eq!(
                announced,
                payload.len() as u128,
                "payload length differs from the count in {line:?}"
            );
        }
        None => assert!(!expects_payload, "payload missing after {line:?}"),
    }
}

/// Collects rendered server output together with what it must frame back
/// into: one line per render call, starting with the given command, and
/// the payload for payload lines.
#[derive(Debug, Default)]
pub struct Rendered {
    pub out: Out,
    expected: Vec<(String, Option<Bytes>)>,
}

impl Rendered {
    pub fn new() -> Rendered {
        Rendered::default()
    }

    /// Records that the last render call wrote one `command` line.
    pub fn expect(&mut self, command: &str) {
        self.expected.push((command.to_owned(), None));
    }

    /// Records that the last render call wrote one payload line.
    pub fn expect_payload(&mut self, command: &str, payload: &[u8]) {
        self.expected
            .push((command.to_owned(), Some(Bytes::copy_from_slice(payload))));
    }

    /// Decodes everything rendered as a client would and compares it with
    /// the expectations: no line may have been split or merged by a value
    /// (CR/LF injection, a stray byte count), and every line must be strict
    /// (single spaces, no blanks around it).
    pub fn verify(mut self) {
        let bytes = self.out.take();
        let mut wire = bytes.clone();
        let mut dec = Decoder::new(Direction::FromServer, HUGE);
        let mut got = Vec::new();
        loop {
            match dec.decode(&mut wire) {
                Ok(Some(frame)) => got.push(frame),
                Ok(None) => break,
                Err(e) => panic!("rendered output does not frame: {e}; {bytes:?}"),
            }
        }
        assert!(wire.is_empty(), "rendered output ends mid-frame: {bytes:?}");
        assert!(
            bytes.is_empty()
                || bytes.ends_with(b"\r\n")
                || got.last().is_some_and(|f| f.payload().is_some()),
            "rendered output does not end with CRLF: {bytes:?}"
        );
        let lines: Vec<_> = got.iter().map(|f| f.line()).collect();
        assert_eq!(
            got.len(),
            self.expected.len(),
            "rendered lines {lines:?}, expected commands {:?}",
            self.expected
        );
        for (frame, (command, payload)) in got.iter().zip(&self.expected) {
            assert_eq!(frame.command(), command, "in {:?}", frame.line());
            assert_eq!(frame.payload(), payload.as_ref(), "in {:?}", frame.line());
            assert!(
                frame.line().split(' ').all(|t| !t.is_empty()),
                "rendered line is not single-spaced: {:?}",
                frame.line()
            );
        }
    }
}
