//! Circles on PostgreSQL (migration 0002): `circles` and `circle_members`.
//! Limits are counted inside the writing transaction under row locks (the
//! user's row for their number of circles, then the circle's row for its
//! members), so two nodes cannot both take the last place.

use msn_core::circle::{Circle, CircleId, CircleMember, CircleRole, MemberState};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::values::{Db, circle_role, corrupt, member_state, now_unix, parse_handle};
use crate::{CircleCreated, CircleInvited, Result};

/// Members with their handle and current name, and the inviter's handle.
const MEMBERS: &str = "SELECT m.circle_id, m.user_id, u.handle, u.friendly_name, m.role, m.state, \
     i.handle AS inviter FROM circle_members m JOIN users u ON u.id = m.user_id \
     LEFT JOIN users i ON i.id = m.inviter_id";

pub(super) async fn create(
    tx: &mut PgConnection,
    id: CircleId,
    name: &str,
    creator_id: i64,
    max_circles: usize,
) -> Result<CircleCreated> {
    lock_user(tx, creator_id).await?;
    if circles_count(tx, creator_id).await? >= max_circles {
        return Ok(CircleCreated::CreatorFull);
    }
    sqlx::query("INSERT INTO circles (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(name)
        .bind(now_unix())
        .execute(&mut *tx)
        .await
        .db()?;
    insert_member(
        tx,
        id,
        creator_id,
        CircleRole::Admin,
        MemberState::Accepted,
        None,
    )
    .await?;
    Ok(CircleCreated::Created)
}

pub(super) async fn circle(conn: &mut PgConnection, id: CircleId) -> Result<Option<Circle>> {
    let head: Option<(String, i64)> =
        sqlx::query_as("SELECT name, created_at FROM circles WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .db()?;
    let Some((name, created_at)) = head else {
        return Ok(None);
    };
    let rows = sqlx::query(&format!("{MEMBERS} WHERE m.circle_id = $1 ORDER BY m.seq"))
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .db()?;
    let members = rows.iter().map(member).collect::<Result<Vec<_>>>()?;
    Ok(Some(Circle {
        id,
        name,
        created_at,
        members,
    }))
}

pub(super) async fn circles_of(conn: &mut PgConnection, user_id: i64) -> Result<Vec<Circle>> {
    let heads: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, c.created_at FROM circles c \
         JOIN circle_members m ON m.circle_id = c.id WHERE m.user_id = $1 ORDER BY c.id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .db()?;
    let rows = sqlx::query(&format!(
        "{MEMBERS} WHERE m.circle_id IN \
         (SELECT circle_id FROM circle_members WHERE user_id = $1) ORDER BY m.seq"
    ))
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .db()?;
    let mut circles = Vec::with_capacity(heads.len());
    for (id, name, created_at) in heads {
        let id = CircleId::parse(&id).ok_or_else(|| corrupt(format!("bad circle id {id}")))?;
        circles.push(Circle {
            id,
            name,
            created_at,
            members: Vec::new(),
        });
    }
    for row in &rows {
        let circle: String = row.try_get("circle_id").db()?;
        if let Some(c) = circles.iter_mut().find(|c| c.id.to_string() == circle) {
            c.members.push(member(row)?);
        }
    }
    Ok(circles)
}

pub(super) async fn invite(
    tx: &mut PgConnection,
    id: CircleId,
    user_id: i64,
    inviter_id: i64,
    max_members: usize,
    max_circles: usize,
) -> Result<CircleInvited> {
    // The invitee's row, then the circle's: the order every circle write
    // and account deletion takes them in.
    lock_user(tx, user_id).await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM circles WHERE id = $1 FOR UPDATE")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
    if exists.is_none() {
        return Ok(CircleInvited::NoSuchCircle);
    }
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM circle_members WHERE circle_id = $1 AND user_id = $2",
    )
    .bind(id.to_string())
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    if member.is_some() {
        return Ok(CircleInvited::AlreadyMember);
    }
    let members: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM circle_members WHERE circle_id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await
            .db()?;
    if usize::try_from(members).unwrap_or(usize::MAX) >= max_members {
        return Ok(CircleInvited::CircleFull);
    }
    if circles_count(tx, user_id).await? >= max_circles {
        return Ok(CircleInvited::InviteeFull);
    }
    insert_member(
        tx,
        id,
        user_id,
        CircleRole::Member,
        MemberState::Pending,
        Some(inviter_id),
    )
    .await?;
    Ok(CircleInvited::Invited)
}

pub(super) async fn set_member_state(
    tx: &mut PgConnection,
    id: CircleId,
    user_id: i64,
    state: MemberState,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE circle_members SET state = $1 WHERE circle_id = $2 AND user_id = $3")
            .bind(i64::from(state.code()))
            .bind(id.to_string())
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn remove_member(
    tx: &mut PgConnection,
    id: CircleId,
    user_id: i64,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM circle_members WHERE circle_id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete(tx: &mut PgConnection, id: CircleId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM circles WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(done.rows_affected() == 1)
}

/// The circles `handle` is the admin of go with their account (nobody
/// would be left to invite or to delete them); their other members lose
/// them. Called in the account deletion's transaction, after it locked the
/// account's row.
pub(super) async fn delete_administered(tx: &mut PgConnection, handle: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM circles WHERE id IN (SELECT m.circle_id FROM circle_members m \
         JOIN users u ON u.id = m.user_id WHERE u.handle = $1 AND m.role = $2)",
    )
    .bind(handle)
    .bind(i64::from(CircleRole::Admin.code()))
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

async fn lock_user(tx: &mut PgConnection, user_id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    Ok(())
}

async fn circles_count(tx: &mut PgConnection, user_id: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM circle_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

async fn insert_member(
    tx: &mut PgConnection,
    id: CircleId,
    user_id: i64,
    role: CircleRole,
    state: MemberState,
    inviter_id: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO circle_members (circle_id, user_id, role, state, inviter_id, seq) \
         VALUES ($1, $2, $3, $4, $5, \
         (SELECT COALESCE(MAX(seq), 0) + 1 FROM circle_members WHERE circle_id = $1))",
    )
    .bind(id.to_string())
    .bind(user_id)
    .bind(i64::from(role.code()))
    .bind(i64::from(state.code()))
    .bind(inviter_id)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

fn member(row: &PgRow) -> Result<CircleMember> {
    let inviter: Option<String> = row.try_get("inviter").db()?;
    Ok(CircleMember {
        user_id: row.try_get("user_id").db()?,
        handle: parse_handle(row.try_get("handle").db()?)?,
        name: row.try_get("friendly_name").db()?,
        role: circle_role(row.try_get("role").db()?)?,
        state: member_state(row.try_get("state").db()?)?,
        inviter: inviter.as_deref().map(parse_handle).transpose()?,
    })
}
