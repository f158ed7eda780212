//! The wire form of what crosses nodes: events addressed to a user, the
//! three questions one user's operation asks about another, their
//! answers, and login tickets. JSON, with byte strings in base64.
//!
//! Decoding never trusts the peer: a handle that does not parse or a
//! status that does not exist makes the message invalid (`None`), and it
//! is dropped.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use msn_auth::{Audience, Grant};
use msn_core::account::Property;
use msn_core::circle::CircleId;
use msn_core::handle::Handle;
use msn_service::{
    CircleEvent, ContactPresence, Event, Invitee, KickReason, PeerNotice, PresenceNotice, Ring,
};
use msn_store::StoredOim;
use msn_wire::Dialect;
use msn_wire::vocab::Status;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match b {
                Some(b) => s.serialize_some(&STANDARD.encode(b)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let s = Option::<&str>::deserialize(d)?;
            s.map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

fn handle(s: &str) -> Option<Handle> {
    Handle::parse(s).ok()
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WireNotice {
    handle: String,
    name: String,
    status: String,
    capabilities: Option<String>,
    msn_object: Option<String>,
}

impl WireNotice {
    fn from(n: &PresenceNotice) -> WireNotice {
        WireNotice {
            handle: n.handle.to_string(),
            name: n.name.to_string(),
            status: n.status.code().into(),
            capabilities: n.capabilities.as_deref().map(Into::into),
            msn_object: n.msn_object.as_deref().map(Into::into),
        }
    }

    fn decode(self) -> Option<Arc<PresenceNotice>> {
        Some(Arc::new(PresenceNotice {
            handle: handle(&self.handle)?,
            name: self.name.into(),
            status: Status::parse(&self.status)?,
            capabilities: self.capabilities.map(Into::into),
            msn_object: self.msn_object.map(Into::into),
        }))
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WireOim {
    id: Uuid,
    sender: String,
    sender_name: String,
    run_id: Uuid,
    sequence_num: u32,
    origin: String,
    received_at: i64,
    size: usize,
    text: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum WireCircle {
    BookChanged,
    Removed {
        circle: Uuid,
    },
    Roster {
        circle: Uuid,
        full: bool,
        present: Vec<WireNotice>,
        only: Option<u64>,
    },
    Left {
        circle: Uuid,
        member: String,
    },
    Presence {
        circle: Uuid,
        notice: WireNotice,
    },
    Message {
        circle: Uuid,
        sender_endpoint: u64,
        #[serde(with = "b64")]
        payload: Vec<u8>,
    },
}

/// An [`Event`] as it travels.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum WireEvent {
    Presence(WireNotice),
    ShutdownWarning {
        minutes: u32,
    },
    PersonalMessage {
        handle: String,
        #[serde(with = "b64")]
        document: Vec<u8>,
        #[serde(with = "b64::opt")]
        endpoints: Option<Vec<u8>>,
        #[serde(with = "b64::opt")]
        previous: Option<Vec<u8>>,
        after_presence: bool,
    },
    ReverseAdded {
        handle: String,
        name: String,
        version: u64,
    },
    ReverseRemoved {
        handle: String,
        version: u64,
    },
    Property {
        handle: String,
        property: String,
        value: Option<String>,
        version: u64,
    },
    Ring {
        session_id: String,
        sb_addr: String,
        cookie: String,
        inviter: String,
        inviter_name: String,
        except_machine: Option<Uuid>,
    },
    Alert(#[serde(with = "b64")] Vec<u8>),
    PeerNotice {
        from: String,
        from_machine: Option<Uuid>,
        to_machine: Option<Uuid>,
        kind: u16,
        #[serde(with = "b64")]
        payload: Vec<u8>,
    },
    OfflineMessage(WireOim),
    OfflineMessagesDeleted {
        count: usize,
    },
    Circle(WireCircle),
    Kick(String),
}

fn kick_code(r: KickReason) -> &'static str {
    match r {
        KickReason::OtherLogin => "other-login",
        KickReason::Shutdown => "shutdown",
        KickReason::AccountChanged => "account-changed",
        KickReason::Operator => "operator",
    }
}

fn kick_reason(code: &str) -> Option<KickReason> {
    Some(match code {
        "other-login" => KickReason::OtherLogin,
        "shutdown" => KickReason::Shutdown,
        "account-changed" => KickReason::AccountChanged,
        "operator" => KickReason::Operator,
        _ => return None,
    })
}

impl WireEvent {
    pub fn from(e: &Event) -> WireEvent {
        match e {
            Event::Presence(n) => WireEvent::Presence(WireNotice::from(n)),
            Event::ShutdownWarning { minutes } => WireEvent::ShutdownWarning { minutes: *minutes },
            Event::PersonalMessage {
                handle,
                document,
                endpoints,
                previous,
                after_presence,
            } => WireEvent::PersonalMessage {
                handle: handle.to_string(),
                document: document.to_vec(),
                endpoints: endpoints.as_ref().map(|b| b.to_vec()),
                previous: previous.as_ref().map(|b| b.to_vec()),
                after_presence: *after_presence,
            },
            Event::ReverseAdded {
                handle,
                name,
                version,
            } => WireEvent::ReverseAdded {
                handle: handle.to_string(),
                name: name.to_string(),
                version: *version,
            },
            Event::ReverseRemoved { handle, version } => WireEvent::ReverseRemoved {
                handle: handle.to_string(),
                version: *version,
            },
            Event::Property {
                handle,
                property,
                value,
                version,
            } => WireEvent::Property {
                handle: handle.to_string(),
                property: property.code().into(),
                value: value.as_deref().map(Into::into),
                version: *version,
            },
            Event::Ring(r) => WireEvent::Ring {
                session_id: r.session_id.clone(),
                sb_addr: r.sb_addr.clone(),
                cookie: r.cookie.clone(),
                inviter: r.inviter.to_string(),
                inviter_name: r.inviter_name.to_string(),
                except_machine: r.except_machine,
            },
            Event::Alert(b) => WireEvent::Alert(b.to_vec()),
            Event::PeerNotice(p) => WireEvent::PeerNotice {
                from: p.from.to_string(),
                from_machine: p.from_machine,
                to_machine: p.to_machine,
                kind: p.kind,
                payload: p.payload.to_vec(),
            },
            Event::OfflineMessage(o) => WireEvent::OfflineMessage(WireOim {
                id: o.id,
                sender: o.sender.to_string(),
                sender_name: o.sender_name.clone(),
                run_id: o.run_id,
                sequence_num: o.sequence_num,
                origin: o.origin.clone(),
                received_at: o.received_at,
                size: o.size,
                text: o.text.clone(),
            }),
            Event::OfflineMessagesDeleted { count } => {
                WireEvent::OfflineMessagesDeleted { count: *count }
            }
            Event::Circle(c) => WireEvent::Circle(match &**c {
                CircleEvent::BookChanged => WireCircle::BookChanged,
                CircleEvent::Removed { circle } => WireCircle::Removed {
                    circle: circle.uuid(),
                },
                CircleEvent::Roster {
                    circle,
                    full,
                    present,
                    only,
                } => WireCircle::Roster {
                    circle: circle.uuid(),
                    full: *full,
                    present: present.iter().map(|n| WireNotice::from(n)).collect(),
                    only: *only,
                },
                CircleEvent::Left { circle, member } => WireCircle::Left {
                    circle: circle.uuid(),
                    member: member.to_string(),
                },
                CircleEvent::Presence { circle, notice } => WireCircle::Presence {
                    circle: circle.uuid(),
                    notice: WireNotice::from(notice),
                },
                CircleEvent::Message {
                    circle,
                    sender_endpoint,
                    payload,
                } => WireCircle::Message {
                    circle: circle.uuid(),
                    sender_endpoint: *sender_endpoint,
                    payload: payload.to_vec(),
                },
            }),
            Event::Kick(r) => WireEvent::Kick(kick_code(*r).into()),
        }
    }

    /// The event, or `None` if anything in it is invalid.
    pub fn decode(self) -> Option<Event> {
        let circle = |u: Uuid| CircleId::from_uuid(u);
        Some(match self {
            WireEvent::Presence(n) => Event::Presence(n.decode()?),
            WireEvent::ShutdownWarning { minutes } => Event::ShutdownWarning { minutes },
            WireEvent::PersonalMessage {
                handle: h,
                document,
                endpoints,
                previous,
                after_presence,
            } => Event::PersonalMessage {
                handle: handle(&h)?,
                document: Bytes::from(document),
                endpoints: endpoints.map(Bytes::from),
                previous: previous.map(Bytes::from),
                after_presence,
            },
            WireEvent::ReverseAdded {
                handle: h,
                name,
                version,
            } => Event::ReverseAdded {
                handle: handle(&h)?,
                name: name.into(),
                version,
            },
            WireEvent::ReverseRemoved { handle: h, version } => Event::ReverseRemoved {
                handle: handle(&h)?,
                version,
            },
            WireEvent::Property {
                handle: h,
                property,
                value,
                version,
            } => Event::Property {
                handle: handle(&h)?,
                property: Property::parse(&property)?,
                value: value.map(Into::into),
                version,
            },
            WireEvent::Ring {
                session_id,
                sb_addr,
                cookie,
                inviter,
                inviter_name,
                except_machine,
            } => Event::Ring(Arc::new(Ring {
                session_id,
                sb_addr,
                cookie,
                inviter: handle(&inviter)?,
                inviter_name: inviter_name.into(),
                except_machine,
            })),
            WireEvent::Alert(b) => Event::Alert(Bytes::from(b)),
            WireEvent::PeerNotice {
                from,
                from_machine,
                to_machine,
                kind,
                payload,
            } => Event::PeerNotice(Arc::new(PeerNotice {
                from: handle(&from)?,
                from_machine,
                to_machine,
                kind,
                payload: Bytes::from(payload),
            })),
            WireEvent::OfflineMessage(o) => Event::OfflineMessage(Arc::new(StoredOim {
                id: o.id,
                sender: handle(&o.sender)?,
                sender_name: o.sender_name,
                run_id: o.run_id,
                sequence_num: o.sequence_num,
                origin: o.origin,
                received_at: o.received_at,
                size: o.size,
                text: o.text,
            })),
            WireEvent::OfflineMessagesDeleted { count } => Event::OfflineMessagesDeleted { count },
            WireEvent::Circle(c) => Event::Circle(Arc::new(match c {
                WireCircle::BookChanged => CircleEvent::BookChanged,
                WireCircle::Removed { circle: c } => CircleEvent::Removed { circle: circle(c)? },
                WireCircle::Roster {
                    circle: c,
                    full,
                    present,
                    only,
                } => CircleEvent::Roster {
                    circle: circle(c)?,
                    full,
                    present: present
                        .into_iter()
                        .map(WireNotice::decode)
                        .collect::<Option<_>>()?,
                    only,
                },
                WireCircle::Left { circle: c, member } => CircleEvent::Left {
                    circle: circle(c)?,
                    member: handle(&member)?,
                },
                WireCircle::Presence { circle: c, notice } => CircleEvent::Presence {
                    circle: circle(c)?,
                    notice: notice.decode()?,
                },
                WireCircle::Message {
                    circle: c,
                    sender_endpoint,
                    payload,
                } => CircleEvent::Message {
                    circle: circle(c)?,
                    sender_endpoint,
                    payload: Bytes::from(payload),
                },
            })),
            WireEvent::Kick(code) => Event::Kick(kick_reason(&code)?),
        })
    }
}

/// What one node sends another (subject `msnd.<cluster>.node.<node>`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum NodeMessage {
    /// Deliver to `to`'s endpoints on the receiving node; no answer.
    Event { to: String, event: WireEvent },
    /// [`msn_service::Bus::presence_for`]; answers `Option<WirePresence>`.
    PresenceFor { target: String, watcher: String },
    /// [`msn_service::Bus::in_conversation`]; answers `Option<WireNotice>`.
    InConversation { user: String, circle: Uuid },
    /// [`msn_service::Bus::reachable`]; answers `Option<WireInvitee>`.
    Reachable {
        invitee: String,
        inviter: String,
        max_sessions: usize,
    },
    /// `handle`'s account was changed on the sending node (SOAP): read it
    /// again here; no answer.
    Reload { handle: String },
    /// `handle` signed in on the sending node: end the sessions here that
    /// the sign-in replaces; answers the number ended.
    SignedIn {
        handle: String,
        shares_account: bool,
        machine: Option<Uuid>,
    },
}

impl NodeMessage {
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("serializable"))
    }

    pub fn decode(b: &[u8]) -> Option<NodeMessage> {
        serde_json::from_slice(b).ok()
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WirePresence {
    notice: WireNotice,
    #[serde(with = "b64::opt")]
    personal_message: Option<Vec<u8>>,
    #[serde(with = "b64::opt")]
    endpoints: Option<Vec<u8>>,
}

impl WirePresence {
    pub fn from(p: &ContactPresence) -> WirePresence {
        WirePresence {
            notice: WireNotice::from(&p.notice),
            personal_message: p.personal_message.as_ref().map(|b| b.to_vec()),
            endpoints: p.endpoints.as_ref().map(|b| b.to_vec()),
        }
    }

    pub fn decode(self) -> Option<ContactPresence> {
        Some(ContactPresence {
            notice: self.notice.decode()?,
            personal_message: self.personal_message.map(Bytes::from),
            endpoints: self.endpoints.map(Bytes::from),
        })
    }
}

impl WireNotice {
    pub fn encode(n: &PresenceNotice) -> WireNotice {
        WireNotice::from(n)
    }

    pub fn into_notice(self) -> Option<Arc<PresenceNotice>> {
        self.decode()
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WireInvitee {
    name: String,
    dialect: u8,
    capabilities: Option<String>,
}

impl WireInvitee {
    pub fn from(i: &Invitee) -> WireInvitee {
        WireInvitee {
            name: i.name.to_string(),
            dialect: i.dialect.number(),
            capabilities: i.capabilities.as_deref().map(Into::into),
        }
    }

    pub fn decode(self) -> Option<Invitee> {
        Some(Invitee {
            name: self.name.into(),
            dialect: Dialect::new(self.dialect)?,
            capabilities: self.capabilities.map(Into::into),
        })
    }
}

/// An answer's body.
pub fn encode_answer<T: Serialize>(answer: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(answer).expect("serializable"))
}

/// An answer, `None` when it does not parse.
pub fn decode_answer<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Option<T> {
    serde_json::from_slice(b).ok()
}

fn audience_code(a: Audience) -> &'static str {
    match a {
        Audience::Messenger => "messenger",
        Audience::Contacts => "contacts",
        Audience::Storage => "storage",
        Audience::Spaces => "spaces",
        Audience::MessengerSecure => "messenger-secure",
        Audience::MessengerWeb => "messenger-web",
        Audience::Other => "other",
    }
}

fn audience(code: &str) -> Option<Audience> {
    Some(match code {
        "messenger" => Audience::Messenger,
        "contacts" => Audience::Contacts,
        "storage" => Audience::Storage,
        "spaces" => Audience::Spaces,
        "messenger-secure" => Audience::MessengerSecure,
        "messenger-web" => Audience::MessengerWeb,
        "other" => Audience::Other,
        _ => return None,
    })
}

/// What the token service tells the other nodes (subject
/// `msnd.<cluster>.tokens`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum TokenMessage {
    Issued {
        /// The issuing node, which ignores its own message.
        from: String,
        token: String,
        handle: String,
        user_id: i64,
        audience: String,
        single_use: bool,
        #[serde(with = "b64::opt")]
        proof_key: Option<Vec<u8>>,
        also: Option<(String, u64)>,
        ttl_ms: u64,
    },
    Redeemed {
        from: String,
        token: String,
    },
}

impl TokenMessage {
    pub fn issued(from: &str, token: &str, grant: &Grant, ttl: Duration) -> TokenMessage {
        TokenMessage::Issued {
            from: from.into(),
            token: token.into(),
            handle: grant.handle.to_string(),
            user_id: grant.user_id,
            audience: audience_code(grant.audience).into(),
            single_use: grant.single_use,
            proof_key: grant.proof_key.clone(),
            also: grant.also.map(|(a, ttl)| {
                (
                    audience_code(a).into(),
                    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
                )
            }),
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The grant and lifetime of an `Issued` message.
    pub fn grant(
        handle_text: &str,
        user_id: i64,
        audience_text: &str,
        single_use: bool,
        proof_key: Option<Vec<u8>>,
        also: Option<(String, u64)>,
    ) -> Option<Grant> {
        let also = match also {
            Some((a, ms)) => Some((audience(&a)?, Duration::from_millis(ms))),
            None => None,
        };
        Some(Grant {
            handle: handle(handle_text)?,
            user_id,
            audience: audience(audience_text)?,
            single_use,
            proof_key,
            also,
        })
    }

    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("serializable"))
    }

    pub fn decode(b: &[u8]) -> Option<TokenMessage> {
        serde_json::from_slice(b).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Handle {
        Handle::parse(s).unwrap()
    }

    fn notice() -> Arc<PresenceNotice> {
        Arc::new(PresenceNotice {
            handle: h("alice@example.com"),
            name: "Alice %20 ünïcode".into(),
            status: Status::Away,
            capabilities: Some("268435456".into()),
            msn_object: None,
        })
    }

    /// Encodes, sends through JSON, decodes, and encodes again: the same.
    fn round_trip(e: Event) {
        let wire = WireEvent::from(&e);
        let json = serde_json::to_vec(&wire).unwrap();
        let back: WireEvent = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, wire);
        let decoded = back.decode().expect("decodes");
        assert_eq!(WireEvent::from(&decoded), wire);
    }

    #[test]
    fn every_event_survives_the_wire() {
        let circle = CircleId::generate();
        let events = vec![
            Event::Presence(notice()),
            Event::ShutdownWarning { minutes: 5 },
            Event::PersonalMessage {
                handle: h("bob@example.com"),
                document: Bytes::from_static(b"<Data><PSM>hi \x00\xff</PSM></Data>"),
                endpoints: Some(Bytes::from_static(b"<EndpointData/>")),
                previous: None,
                after_presence: true,
            },
            Event::ReverseAdded {
                handle: h("bob@example.com"),
                name: "Bob".into(),
                version: 7,
            },
            Event::ReverseRemoved {
                handle: h("bob@example.com"),
                version: 8,
            },
            Event::Property {
                handle: h("bob@example.com"),
                property: Property::MobilePhone,
                value: Some("555".into()),
                version: 9,
            },
            Event::Ring(Arc::new(Ring {
                session_id: "123".into(),
                sb_addr: "10.0.0.2:1864".into(),
                cookie: "1.2.3".into(),
                inviter: h("bob@example.com"),
                inviter_name: "Bob".into(),
                except_machine: Some(Uuid::new_v4()),
            })),
            Event::Alert(Bytes::from_static(b"<NOTIFICATION/>")),
            Event::PeerNotice(Arc::new(PeerNotice {
                from: h("bob@example.com"),
                from_machine: None,
                to_machine: Some(Uuid::new_v4()),
                kind: 4,
                payload: Bytes::from_static(b"goawyplzthxbye"),
            })),
            Event::OfflineMessage(Arc::new(StoredOim {
                id: Uuid::new_v4(),
                sender: h("bob@example.com"),
                sender_name: "Bob".into(),
                run_id: Uuid::new_v4(),
                sequence_num: 1,
                origin: "1.2.3.4".into(),
                received_at: 1_700_000_000,
                size: 2,
                text: "hi".into(),
            })),
            Event::OfflineMessagesDeleted { count: 3 },
            Event::Circle(Arc::new(CircleEvent::BookChanged)),
            Event::Circle(Arc::new(CircleEvent::Roster {
                circle,
                full: true,
                present: vec![notice()],
                only: Some(4),
            })),
            Event::Circle(Arc::new(CircleEvent::Left {
                circle,
                member: h("bob@example.com"),
            })),
            Event::Circle(Arc::new(CircleEvent::Message {
                circle,
                sender_endpoint: 2,
                payload: Bytes::from_static(b"\x00\x01"),
            })),
            Event::Kick(KickReason::OtherLogin),
            Event::Kick(KickReason::AccountChanged),
        ];
        for e in events {
            round_trip(e);
        }
    }

    #[test]
    fn invalid_input_is_refused_not_a_panic() {
        assert_eq!(NodeMessage::decode(b"not json"), None);
        assert_eq!(NodeMessage::decode(b"{\"Event\":{}}"), None);
        let bad_handle = WireEvent::ReverseRemoved {
            handle: "not a handle".into(),
            version: 1,
        };
        assert!(bad_handle.decode().is_none());
        let bad_status = WireEvent::Presence(WireNotice {
            handle: "a@b.c".into(),
            name: "a".into(),
            status: "XYZ".into(),
            capabilities: None,
            msn_object: None,
        });
        assert!(bad_status.decode().is_none());
        assert!(WireEvent::Kick("nope".into()).decode().is_none());
        assert!(serde_json::from_str::<WireEvent>("{\"Alert\":\"***not base64\"}").is_err());
        assert!(
            WireInvitee {
                name: "x".into(),
                dialect: 99,
                capabilities: None
            }
            .decode()
            .is_none()
        );
    }

    #[test]
    fn questions_and_tickets_survive_the_wire() {
        let m = NodeMessage::Reachable {
            invitee: "a@b.c".into(),
            inviter: "d@e.f".into(),
            max_sessions: 50,
        };
        assert_eq!(NodeMessage::decode(&m.encode()), Some(m));
        let grant = Grant::messenger(h("alice@example.com"), 7)
            .with_proof_key(vec![1, 2, 3])
            .also_bearer(Audience::MessengerWeb, Duration::from_secs(60));
        let msg = TokenMessage::issued("n1", "t=abc&p=", &grant, Duration::from_secs(30));
        let TokenMessage::Issued {
            handle,
            user_id,
            audience,
            single_use,
            proof_key,
            also,
            ttl_ms,
            ..
        } = TokenMessage::decode(&msg.encode()).unwrap()
        else {
            panic!("not issued");
        };
        assert_eq!(ttl_ms, 30_000);
        let back =
            TokenMessage::grant(&handle, user_id, &audience, single_use, proof_key, also).unwrap();
        assert_eq!(back, grant);
        let p = ContactPresence {
            notice: notice(),
            personal_message: Some(Bytes::from_static(b"<Data/>")),
            endpoints: None,
        };
        let wire = WirePresence::from(&p);
        let back: WirePresence = decode_answer(&encode_answer(&Some(wire.clone())))
            .flatten()
            .unwrap();
        assert_eq!(back, wire);
        assert_eq!(back.decode().unwrap().notice.status, Status::Away);
    }
}
