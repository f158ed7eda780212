//! Which network a contact belongs to (MSNP13+ `t=`/network ids in `ADL`,
//! `UUN`, `UBX`, address-book memberships). Before MSNP13 every contact is
//! a Passport (Messenger) contact, and that is what every stored entry is
//! unless it says otherwise.

use std::fmt;
use std::str::FromStr;

/// A contact's network, by its wire code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkId {
    /// `1`: a Messenger (Passport / Windows Live ID) account.
    #[default]
    Passport,
    /// `4`: a phone number (`tel:` handles, mobile contacts).
    Phone,
    /// `9`: a circle (group conversation, MSNP18).
    Circle,
    /// `32`: an e-mail contact (Yahoo! interop and plain e-mail addresses).
    Email,
}

/// A network code that names no known network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownNetwork(pub String);

impl fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown network id {:?}", self.0)
    }
}

impl std::error::Error for UnknownNetwork {}

impl NetworkId {
    pub const ALL: [NetworkId; 4] = [
        NetworkId::Passport,
        NetworkId::Phone,
        NetworkId::Circle,
        NetworkId::Email,
    ];

    /// The wire (and stored) code.
    pub fn code(self) -> u8 {
        match self {
            NetworkId::Passport => 1,
            NetworkId::Phone => 4,
            NetworkId::Circle => 9,
            NetworkId::Email => 32,
        }
    }

    pub fn from_code(code: u8) -> Option<NetworkId> {
        NetworkId::ALL.into_iter().find(|n| n.code() == code)
    }

    /// Parses the decimal wire form (`1`, `4`, `9`, `32`); nothing else is
    /// accepted (no sign, no leading zeros, no spaces).
    pub fn parse(s: &str) -> Option<NetworkId> {
        if s.is_empty()
            || s.len() > 2
            || s.starts_with('0')
            || !s.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        s.parse::<u8>().ok().and_then(NetworkId::from_code)
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl FromStr for NetworkId {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NetworkId::parse(s).ok_or_else(|| UnknownNetwork(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for n in NetworkId::ALL {
            assert_eq!(NetworkId::parse(&n.to_string()), Some(n));
            assert_eq!(NetworkId::from_code(n.code()), Some(n));
        }
        assert_eq!(NetworkId::default(), NetworkId::Passport);
        assert_eq!(NetworkId::Email.to_string(), "32");
        assert_eq!("4".parse::<NetworkId>(), Ok(NetworkId::Phone));
    }

    #[test]
    fn rejects_other_forms() {
        for bad in ["", "0", "2", "01", "+1", " 1", "1 ", "320", "x", "-1"] {
            assert_eq!(NetworkId::parse(bad), None, "{bad:?}");
        }
        assert!("99".parse::<NetworkId>().is_err());
    }
}
