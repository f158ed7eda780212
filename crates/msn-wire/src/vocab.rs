//! Protocol vocabulary shared by every service: statuses, list names,
//! privacy and alert settings, acknowledgement modes.

use std::fmt;

/// A presence status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Online,
    Busy,
    Idle,
    BeRightBack,
    Away,
    OnPhone,
    OutToLunch,
    Hidden,
    Offline,
}

impl Status {
    /// Parses a status code as a client sends it in `CHG`.
    pub fn parse(code: &str) -> Option<Status> {
        Some(match code {
            "NLN" => Status::Online,
            "BSY" => Status::Busy,
            "IDL" => Status::Idle,
            "BRB" => Status::BeRightBack,
            "AWY" => Status::Away,
            "PHN" => Status::OnPhone,
            "LUN" => Status::OutToLunch,
            "HDN" => Status::Hidden,
            "FLN" => Status::Offline,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Status::Online => "NLN",
            Status::Busy => "BSY",
            Status::Idle => "IDL",
            Status::BeRightBack => "BRB",
            Status::Away => "AWY",
            Status::OnPhone => "PHN",
            Status::OutToLunch => "LUN",
            Status::Hidden => "HDN",
            Status::Offline => "FLN",
        }
    }

    /// Whether other users may see this status (hidden looks offline).
    pub fn is_visible(self) -> bool {
        !matches!(self, Status::Hidden | Status::Offline)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One of the per-account lists. `Pending` exists from MSNP10 on only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    Forward,
    Allow,
    Block,
    Reverse,
    Pending,
}

impl ListKind {
    pub fn parse(name: &str) -> Option<ListKind> {
        Some(match name {
            "FL" => ListKind::Forward,
            "AL" => ListKind::Allow,
            "BL" => ListKind::Block,
            "RL" => ListKind::Reverse,
            "PL" => ListKind::Pending,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            ListKind::Forward => "FL",
            ListKind::Allow => "AL",
            ListKind::Block => "BL",
            ListKind::Reverse => "RL",
            ListKind::Pending => "PL",
        }
    }

    /// The bit used in MSNP8+ `LST` lines and in storage.
    pub fn bit(self) -> u8 {
        match self {
            ListKind::Forward => 1,
            ListKind::Allow => 2,
            ListKind::Block => 4,
            ListKind::Reverse => 8,
            ListKind::Pending => 16,
        }
    }

    /// The lists of MSNP2–MSNP7 `SYN`, in download order.
    pub const CLASSIC: [ListKind; 4] = [
        ListKind::Forward,
        ListKind::Allow,
        ListKind::Block,
        ListKind::Reverse,
    ];
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `BLP`: who may see me when they are on neither AL nor BL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Privacy {
    /// `AL`: everyone not blocked.
    AllowAll,
    /// `BL`: only people on my allow list.
    BlockAll,
}

impl Privacy {
    pub fn parse(code: &str) -> Option<Privacy> {
        match code {
            "AL" => Some(Privacy::AllowAll),
            "BL" => Some(Privacy::BlockAll),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Privacy::AllowAll => "AL",
            Privacy::BlockAll => "BL",
        }
    }
}

impl fmt::Display for Privacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `GTC`: whether the client asks me when someone adds me.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddAlert {
    Ask,
    DontAsk,
}

impl AddAlert {
    pub fn parse(code: &str) -> Option<AddAlert> {
        match code {
            "A" => Some(AddAlert::Ask),
            "N" => Some(AddAlert::DontAsk),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            AddAlert::Ask => "A",
            AddAlert::DontAsk => "N",
        }
    }
}

impl fmt::Display for AddAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Switchboard `MSG` acknowledgement mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// `U`: never acknowledged.
    Unacknowledged,
    /// `N`: `NAK` on failure only.
    NakOnly,
    /// `A`: `ACK` or `NAK`.
    Always,
    /// `D`: data (P2P) message, MSNP9+; `ACK` or `NAK`.
    Data,
}

impl AckMode {
    /// Parses the mode letter; the letter is case-sensitive.
    pub fn parse(code: &str) -> Option<AckMode> {
        match code {
            "U" => Some(AckMode::Unacknowledged),
            "N" => Some(AckMode::NakOnly),
            "A" => Some(AckMode::Always),
            "D" => Some(AckMode::Data),
            _ => None,
        }
    }

    /// Whether a successful delivery is answered with `ACK`.
    pub fn acks_success(self) -> bool {
        matches!(self, AckMode::Always | AckMode::Data)
    }

    /// Whether a failed delivery is answered with `NAK`.
    pub fn naks_failure(self) -> bool {
        !matches!(self, AckMode::Unacknowledged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for code in [
            "NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN", "FLN",
        ] {
            assert_eq!(Status::parse(code).unwrap().code(), code);
        }
        assert_eq!(Status::parse("HOT"), None);
        assert_eq!(Status::parse("nln"), None);
        assert!(!Status::Hidden.is_visible());
        assert!(Status::Away.is_visible());
    }

    #[test]
    fn list_bits_are_distinct() {
        let bits: Vec<u8> = [
            ListKind::Forward,
            ListKind::Allow,
            ListKind::Block,
            ListKind::Reverse,
            ListKind::Pending,
        ]
        .iter()
        .map(|l| l.bit())
        .collect();
        assert_eq!(bits, [1, 2, 4, 8, 16]);
        assert_eq!(ListKind::parse("RL"), Some(ListKind::Reverse));
        assert_eq!(ListKind::parse("XL"), None);
    }

    #[test]
    fn ack_modes() {
        assert_eq!(AckMode::parse("a"), None);
        assert!(AckMode::parse("A").unwrap().acks_success());
        assert!(!AckMode::parse("N").unwrap().acks_success());
        assert!(AckMode::parse("N").unwrap().naks_failure());
        assert!(!AckMode::parse("U").unwrap().naks_failure());
        assert!(AckMode::parse("D").unwrap().acks_success());
    }

    #[test]
    fn settings_parse() {
        assert_eq!(Privacy::parse("BL"), Some(Privacy::BlockAll));
        assert_eq!(Privacy::parse("XX"), None);
        assert_eq!(AddAlert::parse("N"), Some(AddAlert::DontAsk));
        assert_eq!(AddAlert::parse("Y"), None);
    }
}
