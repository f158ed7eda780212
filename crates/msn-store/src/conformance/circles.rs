//! Conformance cases for circles (migration 0008 on SQLite).

use msn_core::circle::{CircleId, CircleRole, MemberState};

use super::{h, new_user};
use crate::Store;

/// A circle is created with its creator as accepted admin; an invitee is
/// pending until accepted; members are listed in joining order with
/// their current names; leaving removes only that member.
pub async fn circle_membership_round_trip(store: &dyn Store) {
    use crate::{CircleCreated, CircleInvited};
    let alice = new_user(store, "alice@example.com", None).await;
    let bob = new_user(store, "bob@example.com", None).await;
    let id = CircleId::generate();
    assert_eq!(store.circle(id).await.unwrap(), None);
    assert_eq!(
        store
            .create_circle(id, "Friends ✓", alice, 10)
            .await
            .unwrap(),
        CircleCreated::Created
    );
    let c = store.circle(id).await.unwrap().expect("circle");
    assert_eq!(c.name, "Friends ✓");
    assert_eq!(c.members.len(), 1);
    assert_eq!(c.members[0].handle, h("alice@example.com"));
    assert_eq!(c.members[0].role, CircleRole::Admin);
    assert_eq!(c.members[0].state, MemberState::Accepted);
    assert_eq!(c.members[0].inviter, None);
    assert_eq!(
        store
            .invite_to_circle(id, bob, alice, 10, 10)
            .await
            .unwrap(),
        CircleInvited::Invited
    );
    assert_eq!(
        store
            .invite_to_circle(id, bob, alice, 10, 10)
            .await
            .unwrap(),
        CircleInvited::AlreadyMember
    );
    let c = store.circle(id).await.unwrap().unwrap();
    let b = c.member("bob@example.com").expect("bob listed");
    assert_eq!(
        (b.role, b.state),
        (CircleRole::Member, MemberState::Pending)
    );
    assert_eq!(b.inviter, Some(h("alice@example.com")));
    assert_eq!(b.name, "bob");
    assert!(!c.has_accepted("bob@example.com"));
    assert!(
        store
            .set_circle_member_state(id, bob, MemberState::Accepted)
            .await
            .unwrap()
    );
    let listed = store.circles_of(bob).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].has_accepted("bob@example.com"));
    assert_eq!(
        listed[0]
            .members
            .iter()
            .map(|m| m.handle.as_str())
            .collect::<Vec<_>>(),
        ["alice@example.com", "bob@example.com"]
    );
    assert!(store.remove_circle_member(id, bob).await.unwrap());
    assert!(!store.remove_circle_member(id, bob).await.unwrap());
    assert!(store.circles_of(bob).await.unwrap().is_empty());
    assert_eq!(store.circles_of(alice).await.unwrap().len(), 1);
    assert_eq!(
        store
            .invite_to_circle(CircleId::generate(), bob, alice, 10, 10)
            .await
            .unwrap(),
        CircleInvited::NoSuchCircle
    );
}

/// Members per circle and circles per user are limited in the writing
/// transaction.
pub async fn circle_limits_are_checked(store: &dyn Store) {
    use crate::{CircleCreated, CircleInvited};
    let alice = new_user(store, "alice@example.com", None).await;
    let bob = new_user(store, "bob@example.com", None).await;
    let carol = new_user(store, "carol@example.com", None).await;
    let one = CircleId::generate();
    let two = CircleId::generate();
    assert_eq!(
        store.create_circle(one, "one", alice, 1).await.unwrap(),
        CircleCreated::Created
    );
    assert_eq!(
        store.create_circle(two, "two", alice, 1).await.unwrap(),
        CircleCreated::CreatorFull
    );
    assert_eq!(store.circle(two).await.unwrap(), None);
    assert_eq!(
        store.invite_to_circle(one, bob, alice, 2, 5).await.unwrap(),
        CircleInvited::Invited
    );
    assert_eq!(
        store
            .invite_to_circle(one, carol, alice, 2, 5)
            .await
            .unwrap(),
        CircleInvited::CircleFull
    );
    assert_eq!(
        store.create_circle(two, "two", carol, 5).await.unwrap(),
        CircleCreated::Created
    );
    assert_eq!(
        store.invite_to_circle(two, bob, carol, 5, 1).await.unwrap(),
        CircleInvited::InviteeFull
    );
}

/// Deleting a circle deletes its members' rows; deleting an account takes
/// it out of its circles, and deletes those it was the admin of.
pub async fn circles_go_with_their_members_and_their_deletion(store: &dyn Store) {
    let alice = new_user(store, "alice@example.com", None).await;
    let bob = new_user(store, "bob@example.com", None).await;
    let carol = new_user(store, "carol@example.com", None).await;
    let carols = CircleId::generate();
    store.create_circle(carols, "c", carol, 10).await.unwrap();
    store
        .invite_to_circle(carols, alice, carol, 10, 10)
        .await
        .unwrap();
    assert!(store.delete_user("carol@example.com").await.unwrap());
    assert_eq!(store.circle(carols).await.unwrap(), None);
    assert!(store.circles_of(alice).await.unwrap().is_empty());
    let id = CircleId::generate();
    store.create_circle(id, "c", alice, 10).await.unwrap();
    store
        .invite_to_circle(id, bob, alice, 10, 10)
        .await
        .unwrap();
    assert!(store.delete_user("bob@example.com").await.unwrap());
    let c = store.circle(id).await.unwrap().unwrap();
    assert_eq!(c.members.len(), 1);
    assert!(store.delete_circle(id).await.unwrap());
    assert!(!store.delete_circle(id).await.unwrap());
    assert_eq!(store.circle(id).await.unwrap(), None);
    assert!(store.circles_of(alice).await.unwrap().is_empty());
}
