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

use crate::event::{CircleEvent, Event};
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

/// The longest circle name, in characters (a friendly name's limit).
const MAX_NAME_CHARS: usize = 129;

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
        text::validate_name(name, MAX_NAME_CHARS).map_err(|_| CircleError::InvalidName)?;
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
        let was_present = self.bus.in_conversation(member, id).await;
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
    /// Returns everyone in it now (the actor included), for the actor's
    /// full roster; the others are told of the newcomer.
    pub async fn join_circle_conversation(
        &self,
        a: &Actor,
        id: CircleId,
    ) -> Result<Vec<Handle>, CircleError> {
        let circle = self.conversation_circle(a, id).await?;
        let newcomer = {
            let mut st = a.state();
            let first = !st.in_conversation(id);
            if let Some(e) = st.endpoint_mut(a.endpoint)
                && !e.circles.contains(&id)
            {
                e.circles.push(id);
            }
            first
        };
        let mut present = Vec::new();
        for m in circle.accepted() {
            if &m.handle == a.handle() || self.bus.in_conversation(&m.handle, id).await {
                present.push(m.handle.clone());
            }
        }
        if newcomer {
            for m in circle.accepted().filter(|m| &m.handle != a.handle()) {
                self.tell(
                    &m.handle,
                    CircleEvent::Roster {
                        circle: id,
                        full: false,
                        present: vec![a.handle().clone()],
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
            let _ = self.bus.publish(&m.handle, Event::Circle(event.clone())).await;
        }
        Ok(())
    }

    /// The conversations `circles` lose the user of `handle` if none of
    /// their endpoints is in them any more (after a sign-out): the other
    /// members there are told (`NFY DEL`).
    pub(crate) async fn leave_conversations(&self, handle: &Handle, circles: Vec<CircleId>) {
        for id in circles {
            if self.bus.in_conversation(handle, id).await {
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
