//! `NOT` (MSNP5+): an MSN Alert.

use crate::out::Out;

/// `NOT len` + an XML `<NOTIFICATION>` document.
pub fn not(out: &mut Out, document: &[u8]) {
    out.payload(format_args!("NOT"), document);
}
