//! Client addresses as the per-address rules count them
//! ([`crate::throttle`], [`crate::gate`]), and the networks exempt from
//! those rules.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

/// The address a per-address rule counts `ip` under.
///
/// An IPv4 address is itself (an IPv4-mapped IPv6 address is its IPv4
/// address). An IPv6 address counts as its /64 network: a single host is
/// usually given a whole /64 and can pick any address in it, so counting
/// per /128 would limit nobody.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Networks whose addresses are exempt from the per-address rules (for
/// example a TLS-terminating proxy in front of the HTTP port, through
/// which every client arrives from one address). `[limits]
/// exempt_networks`; by default loopback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exempt(Vec<IpNet>);

impl Exempt {
    pub fn new(networks: Vec<IpNet>) -> Exempt {
        Exempt(networks)
    }

    /// Whether `ip` (or, for an IPv4-mapped IPv6 address, its IPv4
    /// address) lies in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        self.0.iter().any(|net| net.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(address_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
    }

    #[test]
    fn exemptions() {
        let exempt = Exempt::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        assert!(exempt.contains("127.0.0.2".parse().unwrap()));
        assert!(exempt.contains("::1".parse().unwrap()));
        assert!(exempt.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!exempt.contains("192.0.2.1".parse().unwrap()));
        assert!(!Exempt::default().contains("127.0.0.1".parse().unwrap()));
    }
}
