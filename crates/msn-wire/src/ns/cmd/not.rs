//! `NOT` (MSNP5+): an MSN Alert.

use crate::out::Out;

/// `NOT len` + the address book's change notice (msnp13-18.md §3.11):
/// the client re-reads its address book (`ABFindContactsPaged`), which is
/// how a circle invitation, acceptance or deletion reaches WLM 2009 and
/// msnp-sharp (`ABChangeNotifyAlert`). `cid` is the receiver's CID, `puid`
/// its PUID.
pub fn abch_changed(out: &mut Out, email: &str, puid: u64, cid: i64, modified: &str) {
    let (low, high) = (puid as u32, (puid >> 32) as u32);
    let data = format!(
        "&lt;NotificationData xmlns:xsd=&quot;http://www.w3.org/2001/XMLSchema&quot; \
         xmlns:xsi=&quot;http://www.w3.org/2001/XMLSchema-instance&quot;&gt;\
         &lt;Service&gt;ABCHInternal&lt;/Service&gt;&lt;CID&gt;{cid}&lt;/CID&gt;\
         &lt;LastModifiedDate&gt;{modified}&lt;/LastModifiedDate&gt;\
         &lt;HasNewItem&gt;false&lt;/HasNewItem&gt;&lt;/NotificationData&gt;"
    );
    let document = format!(
        "<NOTIFICATION id=\"0\" siteid=\"45705\" siteurl=\"http://contacts.msn.com\">\
         <TO pid=\"0x{low:08x}:0x{high:08x}\" name=\"{email}\"><VIA agent=\"messenger\"/></TO>\
         <MSG id=\"0\"><SUBSCR url=\"s.htm\"/><ACTION url=\"a.htm\"/><BODY>{data}</BODY></MSG>\
         </NOTIFICATION>"
    );
    not(out, document.as_bytes());
}

/// `NOT len` + an XML `<NOTIFICATION>` document.
pub fn not(out: &mut Out, document: &[u8]) {
    out.payload(format_args!("NOT"), document);
}
