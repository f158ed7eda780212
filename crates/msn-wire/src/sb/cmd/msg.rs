//! `MSG`: a message from a participant, relayed byte for byte, and its
//! acknowledgements `ACK`/`NAK`.

use crate::frame::Frame;
use crate::line;
use crate::out::Out;
use crate::sb::SbCommand;
use crate::vocab::AckMode;
use bytes::Bytes;

pub(crate) fn parse(trid: u32, args: &[&str], frame: &Frame) -> Option<SbCommand> {
    match args {
        [mode, _len] => Some(SbCommand::Msg {
            trid,
            mode: AckMode::parse(mode)?,
            payload: frame.payload().cloned()?,
        }),
        _ => None,
    }
}

/// The relayed message: `MSG sender name len` + the payload unchanged,
/// encoded once into bytes that every recipient's connection shares (the
/// form is the same in every dialect).
pub fn relayed_msg(sender: &str, name: &str, payload: &[u8]) -> Bytes {
    use bytes::BufMut;
    let name = crate::name::encode(name);
    let head = format!("MSG {sender} {name} {}\r\n", payload.len());
    let mut encoded = bytes::BytesMut::with_capacity(head.len() + payload.len());
    encoded.put_slice(head.as_bytes());
    encoded.put_slice(payload);
    encoded.freeze()
}

/// `ACK TrID`: delivered.
pub fn ack(out: &mut Out, trid: u32) {
    line!(out, "ACK {trid}");
}

/// `NAK TrID`: not delivered to everyone.
pub fn nak(out: &mut Out, trid: u32) {
    line!(out, "NAK {trid}");
}
