//! `decoder`: arbitrary bytes through `msn_wire::Decoder`, in both
//! directions, with small and default limits, fed whole, byte by byte and
//! in pseudo-random chunks.
//!
//! Input layout: 4 header bytes, then the stream.
//! * byte 0: `max_line` of the small limits (mod 64),
//! * byte 1: `max_payload` of the small limits (mod 64),
//! * bytes 2–3: seed of the chunk plan (little endian).
//!
//! Inputs shorter than the header are used whole as the stream, with small
//! limits 16/16 and seed 0. Properties checked:
//! * no panic, and every frame passes [`check_frame`](crate::common::check_frame)
//!   (UTF-8 line without CR/LF, within `max_line`, no surrounding blanks,
//!   payload exactly as announced and within `max_payload`);
//! * split invariance: frames, final error, leftover bytes and
//!   `is_mid_frame` do not depend on how the stream was chunked;
//! * changing the limits between chunks (`Decoder::set_limits`) never
//!   panics and frames respect the limits in force when they were decoded.

use msn_wire::{Decoder, Direction, Limits};

use crate::common::{Rng, check_frame, feed};

pub fn run(data: &[u8]) {
    let (small, seed, stream) = match data {
        [line, payload, s0, s1, stream @ ..] => (
            Limits {
                max_line: usize::from(*line % 64),
                max_payload: usize::from(*payload % 64),
            },
            u64::from(u16::from_le_bytes([*s0, *s1])),
            stream,
        ),
        _ => (
            Limits {
                max_line: 16,
                max_payload: 16,
            },
            0,
            data,
        ),
    };
    let seed = seed ^ ((stream.len() as u64) << 16);
    for direction in [Direction::FromClient, Direction::FromServer] {
        for limits in [small, Limits::default()] {
            let mut once = Some(stream.len());
            let whole = feed(direction, limits, stream, || once.take().unwrap_or(1));
            let bytewise = feed(direction, limits, stream, || 1);
            assert_eq!(bytewise, whole, "byte-by-byte feed differs ({direction:?})");
            let mut rng = Rng::new(seed);
            let chunked = feed(direction, limits, stream, || rng.chunk());
            assert_eq!(chunked, whole, "chunked feed differs ({direction:?})");
        }
        switching_limits(direction, small, seed, stream);
    }
}

/// Changes the limits between some chunks, as `Conn::set_limits` may.
fn switching_limits(direction: Direction, small: Limits, seed: u64, stream: &[u8]) {
    let mut rng = Rng::new(seed.rotate_left(32) ^ 0x5eed);
    let mut dec = Decoder::new(direction, Limits::default());
    let mut buf = bytes::BytesMut::new();
    let widest = Limits {
        max_line: small.max_line.max(Limits::default().max_line),
        max_payload: small.max_payload.max(Limits::default().max_payload),
    };
    let mut pos = 0;
    while pos < stream.len() {
        if rng.next_u64().is_multiple_of(3) {
            let limits = if rng.next_u64().is_multiple_of(2) {
                small
            } else {
                Limits::default()
            };
            dec.set_limits(limits);
        }
        let n = rng.chunk().min(stream.len() - pos);
        buf.extend_from_slice(&stream[pos..pos + n]);
        pos += n;
        loop {
            let limits = dec.limits();
            match dec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    // A payload frame's line (and its count) was admitted in
                    // an earlier call, possibly under the wider limits; a
                    // plain line was taken under the limits in force now.
                    let applied = if frame.payload().is_some() {
                        widest
                    } else {
                        Limits {
                            max_line: limits.max_line,
                            max_payload: widest.max_payload,
                        }
                    };
                    check_frame(&frame, direction, applied);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
