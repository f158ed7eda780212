//! `NOT` (MSNP5+): an MSN Alert.

use crate::out::Out;

/// `NOT len` + an XML `<NOTIFICATION>` document.
pub fn not(out: &mut Out, document: &[u8]) {
    out.payload(format_args!("NOT"), document);
}

/// An operator's notice to one user, as an MSN Alert: the clients show
/// `text` in a toast (MSN Messenger 3.0+) and open `url` when it is
/// clicked (nothing when empty). The shape is that of the alert in
/// `transcripts/msnp5-login.txt`; `to` and `puid` name the receiver as the
/// real service's alerts did.
pub fn alert_document(id: u32, to: &str, puid: u64, text: &str, url: &str) -> String {
    let (high, low) = (puid >> 32, puid & 0xffff_ffff);
    let mut s = format!(r#"<NOTIFICATION ver="1" id="{id}" siteid="0" siteurl=""#);
    crate::xml::push_escaped(&mut s, url);
    s.push_str(&format!(r#""><TO pid="0x{high:08x}:0x{low:08x}" name=""#));
    crate::xml::push_escaped(&mut s, to);
    s.push_str(r#""/><MSG id="0"><ACTION url=""/><SUBSCR url=""/><BODY lang="1033"><TEXT>"#);
    crate::xml::push_escaped(&mut s, text);
    s.push_str("</TEXT></BODY></MSG></NOTIFICATION>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_escapes_its_text_and_names_its_receiver() {
        let doc = alert_document(7, "alice@hotmail.com", 0x1_0000_0002, "Tea & <cake>", "");
        assert_eq!(
            doc,
            r#"<NOTIFICATION ver="1" id="7" siteid="0" siteurl=""><TO pid="0x00000001:0x00000002" name="alice@hotmail.com"/><MSG id="0"><ACTION url=""/><SUBSCR url=""/><BODY lang="1033"><TEXT>Tea &amp; &lt;cake&gt;</TEXT></BODY></MSG></NOTIFICATION>"#
        );
    }
}
