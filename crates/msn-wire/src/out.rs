//! Encoding of server lines. Every line written here ends in `\r\n`, uses
//! single spaces, and payload commands get their exact byte count.

use std::fmt::{self, Write as _};

use bytes::{BufMut, BytesMut};

/// An output buffer that protocol lines are appended to.
#[derive(Debug, Default)]
pub struct Out {
    buf: BytesMut,
}

/// Appends one formatted line: `line!(out, "VER {} {}", trid, dialect)`.
#[macro_export]
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

impl Out {
    pub fn new() -> Self {
        Out::default()
    }

    /// Appends a line and its terminator.
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        self.buf
            .write_fmt(args)
            .expect("writing to memory cannot fail");
        self.buf.put_slice(b"\r\n");
    }

    /// Appends `NNN TrID`.
    pub fn error(&mut self, code: u16, trid: u32) {
        self.line(format_args!("{code} {trid}"));
    }

    /// Appends `head length\r\n` followed by the payload bytes.
    pub fn payload(&mut self, head: fmt::Arguments<'_>, payload: &[u8]) {
        self.buf
            .write_fmt(head)
            .expect("writing to memory cannot fail");
        self.line(format_args!(" {}", payload.len()));
        self.buf.put_slice(payload);
    }

    /// Appends already encoded bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// The buffered bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The buffered bytes, for writing to a socket.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Takes everything written so far.
    pub fn take(&mut self) -> BytesMut {
        self.buf.split()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_payloads() {
        let mut out = Out::new();
        line!(out, "VER {} {}", 1, "MSNP7");
        out.error(911, 7);
        out.payload(format_args!("MSG {} {}", "Hotmail", "Hotmail"), b"ab\r\n");
        assert_eq!(
            &out.take()[..],
            b"VER 1 MSNP7\r\n911 7\r\nMSG Hotmail Hotmail 4\r\nab\r\n"
        );
        assert!(out.is_empty());
    }
}
