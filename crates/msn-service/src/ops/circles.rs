//! Circles (MSNP18 group conversations): creating one, inviting,
//! answering an invitation, leaving or removing a member, deleting it
//! (the address-book SOAP calls), and its conversation on the NS: joining
//! it (`PUT`), messages to every member in it (`SDG`), leaving it when an
//! endpoint signs out.
//!
//! Every rule lives here: only an accepted member whose endpoint
//! presented the account's circle ticket (`USR SHA A`) may join the
//! conversation or write to it; only an admin (or assistant admin)
//! invites; only the admin deletes; a member may leave, and an admin may
//! remove anyone but an admin. Membership is read from the store on each
//! use, so a removal counts at once. Members hear of changes to their
//! circles (`CircleEvent::BookChanged`) and re-read their address book;
//! only MSNP18 endpoints ever receive anything about a circle.

use std::sync::Arc;

use bytes::Bytes;
use msn_core::circle::{Circle, CircleId, CircleRole, MemberState};
use msn_core::handle::Handle;
use msn_core::text;
use msn_store::{CircleCreated, CircleInvited};
use tracing::{info, warn};

use crate::event::{CircleEvent, Event, PresenceNotice};
use crate::{Actor, Service};

/// Limits on circles, from the configuration (`[circles]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircleLimits {
    /// Members of one circle, the invited counted.
    pub max_members: usize,
    /// Circles one user may be in.
    pub max_per_user: usize,
}

impl Default for CircleLimits {
    fn default() -> Self {
        CircleLimits {
            max_members: 20,
            max_per_user: 50,
        }
    }
}

/// Why a circle operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircleError {
    /// No such circle, or the actor is not in it (not told apart, so that
    /// circles are not revealed to outsiders).
    NoSuchCircle,
    /// The actor is in the circle but its role or state does not allow it
    /// (a member inviting, a pending member writing, an admin leaving).
    NotAllowed,
    /// The endpoint has not presented its circle ticket (`USR SHA A`).
    NoTicket,
    /// The invitee is not an account here.
    NoSuchUser,
    /// The invitee is a member already.
    AlreadyMember,
    /// The circle has `max_members`.
    CircleFull,
    /// The creator or invitee is in `max_per_user` circles.
    TooManyCircles,
    /// A name that is empty, too long, or not displayable.
    InvalidName,
    /// The store failed; nothing changed.
    Storage,
}

fn storage(e: msn_store::StoreError) -> CircleError {
    warn!(error = %e, "circle store operation failed");
    CircleError::Storage
}

impl Service {
    /// The circle `id` as the actor may see it: they must be a member
    /// (pending or accepted).
    pub async fn circle(&self, a: &Actor, id: CircleId) -> Result<Circle, CircleError> {
        let circle = self
            .store
            .circle(id)
            .await
            .map_err(storage)?
            .ok_or(CircleError::NoSuchCircle)?;
        if circle.member(a.handle().as_str()).is_none() {
            return Err(CircleError::NoSuchCircle);
        }
        Ok(circle)
    }

    /// The circle `id` if the actor is an accepted member.
    async fn accepted_circle(&self, a: &Actor, id: CircleId) -> Result<Circle, CircleError> {
        let circle = self.circle(a, id).await?;
        if !circle.has_accepted(a.handle().as_str()) {
            return Err(CircleError::NotAllowed);
        }
        Ok(circle)
    }

    /// The actor endpoint presented the account's circle ticket (checked
    /// by the caller): from now on it may take part in circles.
    pub fn accept_circle_ticket(&self, a: &Actor) {
        if let Some(e) = a.state().endpoint_mut(a.endpoint) {
            e.circle_ticket = true;
        }
    }

    /// The circle `id` for conversation traffic from the actor endpoint:
    /// it presented the circle ticket, and the actor is an accepted
    /// member.
    async fn conversation_circle(&self, a: &Actor, id: CircleId) -> Result<Circle, CircleError> {
        let ticket = a
            .state()
            .endpoint(a.endpoint)
            .is_some_and(|e| e.circle_ticket);
        if !ticket {
            return Err(CircleError::NoTicket);
        }
        self.accepted_circle(a, id).await
    }

    /// The circles the actor is in, invited or accepted.
    pub async fn circles(&self, a: &Actor) -> Result<Vec<Circle>, CircleError> {
        self.store
            .circles_of(a.user.user_id())
            .await
            .map_err(storage)
    }

    /// Creates a circle named `name` with the actor as its admin.
    pub async fn create_circle(&self, a: &Actor, name: &str) -> Result<CircleId, CircleError> {
        let name = name.trim();
        text::validate_name(name, msn_core::circle::MAX_NAME_CHARS)
            .map_err(|_| CircleError::InvalidName)?;
        let id = CircleId::generate();
        let limits = self.settings.circles;
        match self
            .store
            .create_circle(id, name, a.user.user_id(), limits.max_per_user)
            .await
            .map_err(storage)?
        {
            CircleCreated::Created => {}
            CircleCreated::CreatorFull => return Err(CircleError::TooManyCircles),
        }
        info!(user = %a.handle(), circle = %id, "circle created");
        self.tell(a.handle(), CircleEvent::BookChanged).await;
        Ok(id)
    }

    /// The actor invites `invitee` into circle `id` (as a pending member,
    /// until they accept). The invitee's WLM 2009 hears of it.
    pub async fn invite_to_circle(
        &self,
        a: &Actor,
        id: CircleId,
        invitee: &Handle,
    ) -> Result<(), CircleError> {
        let circle = self.accepted_circle(a, id).await?;
        let inviter = circle
            .member(a.handle().as_str())
            .ok_or(CircleError::NoSuchCircle)?;
        if !inviter.role.invites() {
            return Err(CircleError::NotAllowed);
        }
        let record = self
            .store
            .user(invitee.as_str())
            .await
            .map_err(storage)?
            .ok_or(CircleError::NoSuchUser)?;
        let limits = self.settings.circles;
        match self
            .store
            .invite_to_circle(
                id,
                record.id,
                a.user.user_id(),
                limits.max_members,
                limits.max_per_user,
            )
            .await
            .map_err(storage)?
        {
            CircleInvited::Invited => {}
            CircleInvited::AlreadyMember => return Err(CircleError::AlreadyMember),
            CircleInvited::CircleFull => return Err(CircleError::CircleFull),
            CircleInvited::InviteeFull => return Err(CircleError::TooManyCircles),
            CircleInvited::NoSuchCircle => return Err(CircleError::NoSuchCircle),
        }
        info!(user = %a.handle(), circle = %id, %invitee, "invited to circle");
        self.tell(invitee, CircleEvent::BookChanged).await;
        self.tell(a.handle(), CircleEvent::BookChanged).await;
        Ok(())
    }

    /// The actor answers their invitation to circle `id`: accepting makes
    /// them a member, declining takes them off its list.
    pub async fn answer_circle_invitation(
        &self,
        a: &Actor,
        id: CircleId,
        accept: bool,
    ) -> Result<(), CircleError> {
        let circle = self.circle(a, id).await?;
        let me = circle
            .member(a.handle().as_str())
            .ok_or(CircleError::NoSuchCircle)?;
        if me.state != MemberState::Pending {
            // Accepting twice changes nothing; declining a circle one is
            // in is leaving, a different call.
            return if accept {
                Ok(())
            } else {
                Err(CircleError::NotAllowed)
            };
        }
        let user_id = a.user.user_id();
        let done = if accept {
            self.store
                .set_circle_member_state(id, user_id, MemberState::Accepted)
                .await
        } else {
            self.store.remove_circle_member(id, user_id).await
        }
        .map_err(storage)?;
        if !done {
            return Err(CircleError::NoSuchCircle);
        }
        info!(user = %a.handle(), circle = %id, accept, "circle invitation answered");
        for m in circle.accepted() {
            self.tell(&m.handle, CircleEvent::BookChanged).await;
        }
        self.tell(a.handle(), CircleEvent::BookChanged).await;
        Ok(())
    }

    /// `member` leaves circle `id`: the actor themself (leaving; an admin
    /// must delete the circle instead), or a member the actor, an admin,
    /// removes. Those in the conversation see them leave it.
    pub async fn remove_from_circle(
        &self,
        a: &Actor,
        id: CircleId,
        member: &Handle,
    ) -> Result<(), CircleError> {
        let circle = self.circle(a, id).await?;
        let me = circle
            .member(a.handle().as_str())
            .ok_or(CircleError::NoSuchCircle)?;
        let target = circle
            .member(member.as_str())
            .ok_or(CircleError::NoSuchUser)?;
        let allowed = if member == a.handle() {
            target.role != CircleRole::Admin
        } else {
            me.role == CircleRole::Admin
                && me.state == MemberState::Accepted
                && target.role != CircleRole::Admin
        };
        if !allowed {
            return Err(CircleError::NotAllowed);
        }
        if !self
            .store
            .remove_circle_member(id, target.user_id)
            .await
            .map_err(storage)?
        {
            return Err(CircleError::NoSuchUser);
        }
        info!(user = %a.handle(), circle = %id, %member, "left circle");
        let was_present = self.bus.in_conversation(member, id).await.is_some();
        self.tell(member, CircleEvent::Removed { circle: id }).await;
        self.tell(member, CircleEvent::BookChanged).await;
        for m in circle.accepted().filter(|m| &m.handle != member) {
            if was_present {
                self.tell(
                    &m.handle,
                    CircleEvent::Left {
                        circle: id,
                        member: member.clone(),
                    },
                )
                .await;
            }
            self.tell(&m.handle, CircleEvent::BookChanged).await;
        }
        Ok(())
    }

    /// The admin deletes circle `id`; every member loses it.
    pub async fn delete_circle(&self, a: &Actor, id: CircleId) -> Result<(), CircleError> {
        let circle = self.circle(a, id).await?;
        let me = circle
            .member(a.handle().as_str())
            .ok_or(CircleError::NoSuchCircle)?;
        if me.role != CircleRole::Admin {
            return Err(CircleError::NotAllowed);
        }
        if !self.store.delete_circle(id).await.map_err(storage)? {
            return Err(CircleError::NoSuchCircle);
        }
        info!(user = %a.handle(), circle = %id, "circle deleted");
        for m in &circle.members {
            self.tell(&m.handle, CircleEvent::Removed { circle: id })
                .await;
            self.tell(&m.handle, CircleEvent::BookChanged).await;
        }
        Ok(())
    }

    /// The actor endpoint joins circle `id`'s conversation (`PUT`).
    /// Returns everyone in it now (the actor included) with the presence
    /// they publish to the circle, for the actor's full roster; the others
    /// are told of the newcomer.
    pub async fn join_circle_conversation(
        &self,
        a: &Actor,
        id: CircleId,
    ) -> Result<Vec<Arc<PresenceNotice>>, CircleError> {
        let circle = self.conversation_circle(a, id).await?;
        let (newcomer, mine) = {
            let mut st = a.state();
            let first = !st.in_conversation(id);
            if let Some(e) = st.endpoint_mut(a.endpoint)
                && !e.circles.contains(&id)
            {
                e.circles.push(id);
            }
            (first, st.notice())
        };
        let mut present = Vec::new();
        for m in circle.accepted() {
            if &m.handle == a.handle() {
                present.push(mine.clone());
            } else if let Some(notice) = self.bus.in_conversation(&m.handle, id).await {
                present.push(notice);
            }
        }
        if newcomer {
            for m in circle.accepted().filter(|m| &m.handle != a.handle()) {
                self.tell(
                    &m.handle,
                    CircleEvent::Roster {
                        circle: id,
                        full: false,
                        present: vec![mine.clone()],
                        only: None,
                    },
                )
                .await;
            }
        }
        Ok(present)
    }

    /// A message from the actor endpoint to circle `id` (`SDG`), passed on
    /// as `payload` to every endpoint in the conversation but the sender's
    /// (the sender's other machines included). The actor must be an
    /// accepted member; the message is delivered to whoever is in the
    /// conversation now, and to nobody else.
    pub async fn send_circle_message(
        &self,
        a: &Actor,
        id: CircleId,
        payload: Bytes,
    ) -> Result<(), CircleError> {
        let circle = self.conversation_circle(a, id).await?;
        let event = Arc::new(CircleEvent::Message {
            circle: id,
            sender_endpoint: a.endpoint,
            payload,
        });
        for m in circle.accepted() {
            let _ = self
                .bus
                .publish(&m.handle, Event::Circle(event.clone()))
                .await;
        }
        Ok(())
    }

    /// The actor endpoint leaves the conversations of `circles` (the
    /// circle's `RML`); the members there see the user leave if no other
    /// endpoint of theirs is still in it.
    pub async fn leave_circle_conversations(&self, a: &Actor, circles: Vec<CircleId>) {
        let left: Vec<CircleId> = {
            let mut st = a.state();
            let Some(e) = st.endpoint_mut(a.endpoint) else {
                return;
            };
            let left: Vec<CircleId> = circles
                .into_iter()
                .filter(|id| e.circles.contains(id))
                .collect();
            e.circles.retain(|c| !left.contains(c));
            left
        };
        self.leave_conversations(a.handle(), left).await;
    }

    /// The actor's presence changed: the members of every circle whose
    /// conversation one of the actor's endpoints is in are shown it.
    pub(crate) async fn announce_in_circles(&self, a: &Actor, notice: &Arc<PresenceNotice>) {
        let mut circles: Vec<CircleId> = {
            let st = a.state();
            st.endpoints
                .iter()
                .flat_map(|e| e.circles.iter().copied())
                .collect()
        };
        if circles.is_empty() {
            return;
        }
        circles.sort_unstable();
        circles.dedup();
        for id in circles {
            let Ok(Some(circle)) = self.store.circle(id).await else {
                continue;
            };
            for m in circle.accepted().filter(|m| &m.handle != a.handle()) {
                self.tell(
                    &m.handle,
                    CircleEvent::Presence {
                        circle: id,
                        notice: notice.clone(),
                    },
                )
                .await;
            }
        }
    }

    /// The conversations `circles` lose the user of `handle` if none of
    /// their endpoints is in them any more (after a sign-out): the other
    /// members there are told (`NFY DEL`).
    pub(crate) async fn leave_conversations(&self, handle: &Handle, circles: Vec<CircleId>) {
        for id in circles {
            if self.bus.in_conversation(handle, id).await.is_some() {
                continue;
            }
            let Ok(Some(circle)) = self.store.circle(id).await else {
                continue;
            };
            for m in circle.accepted().filter(|m| &m.handle != handle) {
                self.tell(
                    &m.handle,
                    CircleEvent::Left {
                        circle: id,
                        member: handle.clone(),
                    },
                )
                .await;
            }
        }
    }

    /// Publishes a circle event to `to` (offline users simply find the
    /// change in their next address book).
    async fn tell(&self, to: &Handle, event: CircleEvent) {
        let _ = self.bus.publish(to, Event::Circle(Arc::new(event))).await;
    }
}

#[cfg(test)]
mod tests {
    //! On the service layer's shared fixture (`crate::tests`), with the
    //! circle helpers added here.

    use std::sync::Arc;

    use bytes::Bytes;
    use msn_core::circle::CircleId;
    use msn_core::handle::Handle;
    use msn_wire::vocab::Status;
    use uuid::Uuid;

    use super::CircleError;
    use crate::event::{CircleEvent, Event};
    use crate::tests::{Client, Fixture, h};

    impl Client {
        fn circle_events(&self) -> Vec<Arc<CircleEvent>> {
            let mut v = Vec::new();
            self.mailbox.drain(&mut v);
            v.into_iter()
                .filter_map(|e| match e {
                    Event::Circle(c) => Some(c),
                    _ => None,
                })
                .collect()
        }

        fn messages(&self) -> Vec<Bytes> {
            self.circle_events()
                .iter()
                .filter_map(|e| match &**e {
                    CircleEvent::Message { payload, .. } => Some(payload.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    impl Fixture {
        /// Signs `handle` in with dialect `n` on a machine of its own,
        /// online, and (MSNP18) with the circle ticket presented.
        async fn member_online(&mut self, handle: &str, n: u8) -> Client {
            let c = self.sign_in_on(handle, n, Some(Uuid::new_v4())).await;
            self.service
                .set_presence(&c.actor, Status::Online, None, None)
                .await;
            if n >= 18 {
                self.service.accept_circle_ticket(&c.actor);
            }
            c.circle_events();
            c
        }

        /// A circle of `admin` that `members` accepted.
        async fn circle(&self, admin: &Client, members: &[&Client]) -> CircleId {
            let s = &self.service;
            let id = s.create_circle(&admin.actor, "Friends").await.unwrap();
            for m in members {
                s.invite_to_circle(&admin.actor, id, m.actor.handle())
                    .await
                    .unwrap();
                s.answer_circle_invitation(&m.actor, id, true)
                    .await
                    .unwrap();
            }
            id
        }
    }

    #[tokio::test]
    async fn only_inviters_invite_and_only_accepted_members_talk() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
        let alice = f.member_online("alice@x.com", 18).await;
        let bob = f.member_online("bob@x.com", 18).await;
        let carol = f.member_online("carol@x.com", 18).await;
        let s = &f.service;
        let id = s.create_circle(&alice.actor, "Friends").await.unwrap();
        s.invite_to_circle(&alice.actor, id, &h("bob@x.com"))
            .await
            .unwrap();
        assert!(matches!(&*bob.circle_events()[0], CircleEvent::BookChanged));
        // Pending: no conversation yet.
        assert_eq!(
            s.join_circle_conversation(&bob.actor, id).await.err(),
            Some(CircleError::NotAllowed)
        );
        s.answer_circle_invitation(&bob.actor, id, true)
            .await
            .unwrap();
        // A member does not invite; an outsider sees no circle at all.
        assert_eq!(
            s.invite_to_circle(&bob.actor, id, &h("carol@x.com")).await,
            Err(CircleError::NotAllowed)
        );
        assert_eq!(
            s.send_circle_message(&carol.actor, id, Bytes::from_static(b"x"))
                .await,
            Err(CircleError::NoSuchCircle)
        );
        assert_eq!(
            s.invite_to_circle(&alice.actor, id, &h("nobody@x.com"))
                .await,
            Err(CircleError::NoSuchUser)
        );
        assert_eq!(
            s.create_circle(&alice.actor, "  ").await,
            Err(CircleError::InvalidName)
        );
        // Nobody but the admin deletes, and the admin does not leave.
        assert_eq!(
            s.delete_circle(&bob.actor, id).await,
            Err(CircleError::NotAllowed)
        );
        assert_eq!(
            s.remove_from_circle(&alice.actor, id, &h("alice@x.com"))
                .await,
            Err(CircleError::NotAllowed)
        );
        assert_eq!(
            s.remove_from_circle(&bob.actor, id, &h("alice@x.com"))
                .await,
            Err(CircleError::NotAllowed)
        );
        s.delete_circle(&alice.actor, id).await.unwrap();
        assert_eq!(
            s.join_circle_conversation(&bob.actor, id).await.err(),
            Some(CircleError::NoSuchCircle)
        );
    }

    #[tokio::test]
    async fn limits_come_from_the_settings() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
        f.service.settings.circles = super::CircleLimits {
            max_members: 2,
            max_per_user: 1,
        };
        let alice = f.member_online("alice@x.com", 18).await;
        let s = &f.service;
        let id = s.create_circle(&alice.actor, "one").await.unwrap();
        assert_eq!(
            s.create_circle(&alice.actor, "two").await,
            Err(CircleError::TooManyCircles)
        );
        s.invite_to_circle(&alice.actor, id, &h("bob@x.com"))
            .await
            .unwrap();
        assert_eq!(
            s.invite_to_circle(&alice.actor, id, &h("carol@x.com"))
                .await,
            Err(CircleError::CircleFull)
        );
    }

    #[tokio::test]
    async fn messages_reach_every_endpoint_in_the_conversation_but_the_senders() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
        let home = f.member_online("alice@x.com", 18).await;
        let work = f.member_online("alice@x.com", 18).await;
        let bob = f.member_online("bob@x.com", 18).await;
        let carol = f.member_online("carol@x.com", 18).await;
        let id = f.circle(&home, &[&bob, &carol]).await;
        let s = &f.service;
        for c in [&home, &work, &bob, &carol] {
            c.circle_events();
        }
        for c in [&home, &work, &bob] {
            s.join_circle_conversation(&c.actor, id).await.unwrap();
        }
        // Bob joined after Alice: he sees her in the roster.
        let present = s.join_circle_conversation(&bob.actor, id).await.unwrap();
        let present: Vec<&Handle> = present.iter().map(|p| &p.handle).collect();
        assert_eq!(present, [&h("alice@x.com"), &h("bob@x.com")]);
        let payload = Bytes::from_static("Grüße".as_bytes());
        s.send_circle_message(&home.actor, id, payload.clone())
            .await
            .unwrap();
        assert!(home.messages().is_empty());
        assert_eq!(work.messages(), std::slice::from_ref(&payload));
        assert_eq!(bob.messages(), std::slice::from_ref(&payload));
        // Carol is a member but did not join the conversation.
        assert!(carol.messages().is_empty());
    }

    #[tokio::test]
    async fn older_dialects_hear_nothing_of_circles() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com"]).await;
        let alice = f.member_online("alice@x.com", 18).await;
        let old = f.member_online("bob@x.com", 12).await;
        let s = &f.service;
        let id = s.create_circle(&alice.actor, "Friends").await.unwrap();
        s.invite_to_circle(&alice.actor, id, &h("bob@x.com"))
            .await
            .unwrap();
        assert!(old.circle_events().is_empty());
        // An MSNP12 endpoint never presented a circle ticket.
        s.answer_circle_invitation(&old.actor, id, true)
            .await
            .unwrap();
        assert_eq!(
            s.join_circle_conversation(&old.actor, id).await.err(),
            Some(CircleError::NoTicket)
        );
    }

    #[tokio::test]
    async fn a_status_change_reaches_the_conversation() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
        let alice = f.member_online("alice@x.com", 18).await;
        let bob = f.member_online("bob@x.com", 18).await;
        let carol = f.member_online("carol@x.com", 18).await;
        let id = f.circle(&alice, &[&bob, &carol]).await;
        let s = &f.service;
        for c in [&alice, &bob] {
            s.join_circle_conversation(&c.actor, id).await.unwrap();
        }
        for c in [&alice, &bob, &carol] {
            c.circle_events();
        }
        s.set_presence(&alice.actor, Status::Busy, None, None).await;
        let seen: Vec<Status> = bob
            .circle_events()
            .iter()
            .filter_map(|e| match &**e {
                CircleEvent::Presence { notice, .. } => Some(notice.status),
                _ => None,
            })
            .collect();
        assert_eq!(seen, [Status::Busy]);
        // Carol is not in the conversation.
        assert!(carol.circle_events().is_empty());
    }

    #[tokio::test]
    async fn leaving_and_signing_out_leave_the_conversation() {
        let mut f = Fixture::new(&["alice@x.com", "bob@x.com", "carol@x.com"]).await;
        let alice = f.member_online("alice@x.com", 18).await;
        let bob = f.member_online("bob@x.com", 18).await;
        let carol = f.member_online("carol@x.com", 18).await;
        let id = f.circle(&alice, &[&bob, &carol]).await;
        let s = &f.service;
        for c in [&alice, &bob, &carol] {
            s.join_circle_conversation(&c.actor, id).await.unwrap();
        }
        for c in [&alice, &bob, &carol] {
            c.circle_events();
        }
        s.remove_from_circle(&bob.actor, id, &h("bob@x.com"))
            .await
            .unwrap();
        let left = |c: &Client| {
            c.circle_events()
                .iter()
                .filter_map(|e| match &**e {
                    CircleEvent::Left { member, .. } => Some(member.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(left(&alice), ["bob@x.com"]);
        assert_eq!(left(&carol), ["bob@x.com"]);
        s.send_circle_message(&alice.actor, id, Bytes::from_static(b"hi"))
            .await
            .unwrap();
        assert!(bob.messages().is_empty());
        assert_eq!(carol.messages().len(), 1);
        let Client { actor, .. } = carol;
        s.sign_out(actor).await;
        assert_eq!(left(&alice), ["carol@x.com"]);
    }
}
