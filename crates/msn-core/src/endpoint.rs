//! Machines of MSNP16+ users (multiple points of presence): a machine is
//! named by a GUID in braces (`{F26D1F07-…}`), and one machine of a user
//! by `email;{guid}` (`USR`/`ANS` on the switchboard, `UUN`, `UBN`, `IRO`,
//! `JOI`, `BYE`). One parser and one writer for every place that reads or
//! writes them.

use uuid::Uuid;

use crate::handle::Handle;

/// A machine GUID as the clients send it: `{…}` around a UUID, any case.
pub fn parse_machine_guid(text: &str) -> Option<Uuid> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    Uuid::parse_str(inner).ok()
}

/// A machine GUID as the server writes it: `{…}`, upper case, as WLM does.
pub fn machine_guid_text(guid: Uuid) -> String {
    format!(
        "{{{}}}",
        guid.hyphenated().encode_upper(&mut Uuid::encode_buffer())
    )
}

/// `email` or `email;{guid}`: the user, and the machine if one is named.
pub fn parse_endpoint(raw: &str) -> Option<(Handle, Option<Uuid>)> {
    let (handle, guid) = match raw.split_once(';') {
        Some((handle, guid)) => (handle, Some(parse_machine_guid(guid)?)),
        None => (raw, None),
    };
    Some((Handle::parse(handle).ok()?, guid))
}

/// `email;{GUID}` for one machine of `handle`, or `email` for none.
pub fn endpoint_text(handle: &Handle, guid: Option<Uuid>) -> String {
    match guid {
        Some(g) => format!("{handle};{}", machine_guid_text(g)),
        None => handle.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_read_and_written() {
        let g = parse_machine_guid("{b171be3e-1402-4fbc-b017-36f5a52d2c11}").unwrap();
        assert_eq!(
            machine_guid_text(g),
            "{B171BE3E-1402-4FBC-B017-36F5A52D2C11}"
        );
        assert_eq!(
            parse_machine_guid("b171be3e-1402-4fbc-b017-36f5a52d2c11"),
            None
        );
        assert_eq!(parse_machine_guid("{nope}"), None);
        let (h, m) =
            parse_endpoint("Alice@Example.com;{b171be3e-1402-4fbc-b017-36f5a52d2c11}").unwrap();
        assert_eq!(
            endpoint_text(&h, m),
            "alice@example.com;{B171BE3E-1402-4FBC-B017-36F5A52D2C11}"
        );
        assert_eq!(endpoint_text(&h, None), "alice@example.com");
        assert_eq!(parse_endpoint("alice@example.com;junk"), None);
        assert_eq!(parse_endpoint("not a handle"), None);
    }
}
