//! `NFY` (MSNP18, server only): the circle conversation's roster, in the
//! routing envelope (msnp13-18.md §3.12). `NFY PUT` lists members present
//! (`NotifType: Full` for the one who just joined, `Partial` for a
//! newcomer told to the others), `NFY DEL` says one left. The forms are
//! the ones msnp-sharp 3.x parses (`OnNFYReceived`: `From` the circle,
//! `Content-Type: application/circles+xml`, `NotifType`, the roster under
//! `/circle/roster/user/id`, `Uri: /circle/roster(IM)/user(1:…)` for a
//! departure).

use crate::out::Out;

/// The routing and reliability blocks from circle `circle` (its
/// `9:<id>@live.com`) to `to` (`1:<email>`).
fn envelope(circle: &str, to: &str) -> String {
    format!("Routing: 1.0\r\nTo: {to}\r\nFrom: {circle}\r\n\r\nReliability: 1.0\r\n\r\n")
}

/// `NFY PUT len`: `members` (`1:<email>` each) are in the conversation.
pub fn nfy_put(out: &mut Out, circle: &str, to: &str, full: bool, members: &[&str]) {
    let mut xml = String::from("<circle><roster><id>IM</id>");
    for m in members {
        xml.push_str("<user><id>");
        xml.push_str(m);
        xml.push_str("</id></user>");
    }
    xml.push_str("</roster></circle>");
    let body = format!(
        "{}Notification: 1.0\r\nNotifNum: 0\r\nUri: /circle\r\nNotifType: {}\r\n\
         Content-Type: application/circles+xml\r\nContent-Length: {}\r\n\r\n{xml}",
        envelope(circle, to),
        if full { "Full" } else { "Partial" },
        xml.len()
    );
    out.payload(format_args!("NFY PUT"), body.as_bytes());
}

/// `NFY DEL len`: `member` (`1:<email>`) left the conversation.
pub fn nfy_del(out: &mut Out, circle: &str, to: &str, member: &str) {
    let body = format!(
        "{}Notification: 1.0\r\nNotifNum: 0\r\nUri: /circle/roster(IM)/user({member})\r\n\
         NotifType: Partial\r\nContent-Type: application/circles+xml\r\nContent-Length: 0\r\n\r\n",
        envelope(circle, to)
    );
    out.payload(format_args!("NFY DEL"), body.as_bytes());
}

/// `NLN NLN 1:<me>;via=9:<id>@live.com <name> 0:0 0`: the circle is
/// online for its member `member` (`1:<email>`). msnp-sharp 3.x answers
/// this line (its own account, capabilities `0:0`) by joining the
/// conversation with `PUT`; sent after the member's `ADL` of the circle.
pub fn circle_presence(out: &mut Out, member: &str, circle: &str, encoded_name: &str) {
    crate::line!(out, "NLN NLN {member};via={circle} {encoded_name} 0:0 0");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_lengths_are_exact() {
        let mut out = Out::new();
        nfy_put(
            &mut out,
            "9:00000000-0000-0000-0009-0123456789ab@live.com",
            "1:bob@example.com",
            true,
            &["1:alice@example.com", "1:bob@example.com"],
        );
        let text = String::from_utf8(out.bytes().to_vec()).unwrap();
        let (line, payload) = text.split_once("\r\n").unwrap();
        let len: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(payload.len(), len);
        assert!(line.starts_with("NFY PUT "));
        let xml = payload.rsplit("\r\n").next().unwrap();
        assert_eq!(
            xml,
            "<circle><roster><id>IM</id><user><id>1:alice@example.com</id></user>\
             <user><id>1:bob@example.com</id></user></roster></circle>"
        );
        assert!(payload.contains("NotifType: Full\r\n"));
        let mut out = Out::new();
        nfy_del(
            &mut out,
            "9:x@live.com",
            "1:bob@example.com",
            "1:alice@example.com",
        );
        let text = String::from_utf8(out.bytes().to_vec()).unwrap();
        assert!(text.contains("Uri: /circle/roster(IM)/user(1:alice@example.com)\r\n"));
    }
}
