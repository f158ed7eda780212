//! `NOT` (MSNP5+): an MSN Alert.

use crate::out::Out;

/// `NOT len` + the address book's change notice (msnp13-18.md §3.11):
/// the client re-reads its address book (`ABFindContactsPaged`), which is
/// how a circle invitation, acceptance or deletion reaches WLM 2009 and
/// msnp-sharp (`ABChangeNotifyAlert`). `cid` is the receiver's CID, `puid`
/// its PUID.
pub fn abch_changed(out: &mut Out, email: &str, puid: u64, cid: i64, modified: &str) {
    let pid = pid(puid);
    let data = format!(
        "&lt;NotificationData xmlns:xsd=&quot;http://www.w3.org/2001/XMLSchema&quot; \
         xmlns:xsi=&quot;http://www.w3.org/2001/XMLSchema-instance&quot;&gt;\
         &lt;Service&gt;ABCHInternal&lt;/Service&gt;&lt;CID&gt;{cid}&lt;/CID&gt;\
         &lt;LastModifiedDate&gt;{modified}&lt;/LastModifiedDate&gt;\
         &lt;HasNewItem&gt;false&lt;/HasNewItem&gt;&lt;/NotificationData&gt;"
    );
    let document = format!(
        "<NOTIFICATION id=\"0\" siteid=\"45705\" siteurl=\"http://contacts.msn.com\">\
         <TO pid=\"{pid}\" name=\"{email}\"><VIA agent=\"messenger\"/></TO>\
         <MSG id=\"0\"><SUBSCR url=\"s.htm\"/><ACTION url=\"a.htm\"/><BODY>{data}</BODY></MSG>\
         </NOTIFICATION>"
    );
    not(out, document.as_bytes());
}

/// A receiver's PUID as `<TO pid>` writes it: high half first, as in the
/// MSNP5/MSNP6 alert captures (yellows111's wiki shows `MemberIdHigh: 1`,
/// `MemberIdLow: 2` and `pid="0x00000001:0x00000002"` for one account).
/// msnp13-18.md §3.11 writes `0x<low>:0x<high>`; msnp-sharp takes the CID
/// from the body rather than this attribute.
fn pid(puid: u64) -> String {
    format!("0x{:08x}:0x{:08x}", puid >> 32, puid & 0xffff_ffff)
}

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
    let mut s = format!(r#"<NOTIFICATION ver="1" id="{id}" siteid="0" siteurl=""#);
    crate::xml::push_escaped(&mut s, url);
    s.push_str(&format!(r#""><TO pid="{}" name=""#, pid(puid)));
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
