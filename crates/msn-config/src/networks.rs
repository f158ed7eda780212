//! Lists of networks in the configuration (`[limits] exempt_networks`):
//! each written as a network ("127.0.0.0/8", "2001:db8::/32") or a single
//! address ("::1", meaning /32 or /128). Written back as networks.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};

pub fn serialize<S: Serializer>(nets: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(nets.len()))?;
    for net in nets {
        seq.serialize_element(&net.to_string())?;
    }
    seq.end()
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    d.deserialize_seq(NetworksVisitor)
}

/// One network or address.
pub fn parse(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        format!("invalid network {text:?}: expected an address or address/prefix-length")
    })
}

struct NetworksVisitor;

impl<'de> Visitor<'de> for NetworksVisitor {
    type Value = Vec<IpNet>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of networks such as [\"127.0.0.0/8\", \"::1\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<IpNet>, A::Error> {
        let mut nets = Vec::new();
        while let Some(text) = seq.next_element::<String>()? {
            nets.push(parse(&text).map_err(de::Error::custom)?);
        }
        Ok(nets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse("127.0.0.0/8").unwrap().to_string(), "127.0.0.0/8");
        assert_eq!(parse("::1").unwrap().to_string(), "::1/128");
        assert_eq!(parse(" 192.0.2.1 ").unwrap().to_string(), "192.0.2.1/32");
        assert!(parse("localhost").is_err());
        assert!(parse("10.0.0.0/33").is_err());
    }
}
