//! Circles on SQLite (migration 0008): `circles` and `circle_members`.
//! Limits are counted inside the writing transaction, so two concurrent
//! invitations cannot both take the last place.

use msn_core::circle::{Circle, CircleId, CircleMember, CircleRole, MemberState};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::{Db, SqliteStore, commit, corrupt, now_unix, parse_handle};
use crate::values::{circle_role, member_state};
use crate::{CircleCreated, CircleInvited, Result};

/// Members with their handle and current name, and the inviter's handle.
const MEMBERS: &str = "SELECT m.circle_id, m.user_id, u.handle, u.friendly_name, m.role, m.state, \
     i.handle AS inviter FROM circle_members m JOIN users u ON u.id = m.user_id \
     LEFT JOIN users i ON i.id = m.inviter_id";

impl SqliteStore {
    pub(super) async fn create_circle_impl(
        &self,
        id: CircleId,
        name: &str,
        creator_id: i64,
        max_circles: usize,
    ) -> Result<CircleCreated> {
        let mut tx = self.begin().await?;
        if circles_count(&mut tx, creator_id).await? >= max_circles {
            return Ok(CircleCreated::CreatorFull);
        }
        sqlx::query("INSERT INTO circles (id, name, created_at) VALUES (?, ?, ?)")
            .bind(id.to_string())
            .bind(name)
            .bind(now_unix())
            .execute(&mut *tx)
            .await
            .db()?;
        insert_member(
            &mut tx,
            id,
            creator_id,
            CircleRole::Admin,
            MemberState::Accepted,
            None,
        )
        .await?;
        commit(tx).await?;
        Ok(CircleCreated::Created)
    }

    pub(super) async fn circle_impl(&self, id: CircleId) -> Result<Option<Circle>> {
        let head: Option<(String, i64)> =
            sqlx::query_as("SELECT name, created_at FROM circles WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await
                .db()?;
        let Some((name, created_at)) = head else {
            return Ok(None);
        };
        let rows = sqlx::query(&format!("{MEMBERS} WHERE m.circle_id = ? ORDER BY m.seq"))
            .bind(id.to_string())
            .fetch_all(&self.read)
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

    pub(super) async fn circles_of_impl(&self, user_id: i64) -> Result<Vec<Circle>> {
        let heads: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.name, c.created_at FROM circles c \
             JOIN circle_members m ON m.circle_id = c.id WHERE m.user_id = ? ORDER BY c.id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await
        .db()?;
        let rows = sqlx::query(&format!(
            "{MEMBERS} WHERE m.circle_id IN \
             (SELECT circle_id FROM circle_members WHERE user_id = ?) ORDER BY m.seq"
        ))
        .bind(user_id)
        .fetch_all(&self.read)
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

    pub(super) async fn invite_to_circle_impl(
        &self,
        id: CircleId,
        user_id: i64,
        inviter_id: i64,
        max_members: usize,
        max_circles: usize,
    ) -> Result<CircleInvited> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM circles WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_none() {
            return Ok(CircleInvited::NoSuchCircle);
        }
        let member: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM circle_members WHERE circle_id = ? AND user_id = ?")
                .bind(id.to_string())
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if member.is_some() {
            return Ok(CircleInvited::AlreadyMember);
        }
        let members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM circle_members WHERE circle_id = ?")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if usize::try_from(members).unwrap_or(usize::MAX) >= max_members {
            return Ok(CircleInvited::CircleFull);
        }
        if circles_count(&mut tx, user_id).await? >= max_circles {
            return Ok(CircleInvited::InviteeFull);
        }
        insert_member(
            &mut tx,
            id,
            user_id,
            CircleRole::Member,
            MemberState::Pending,
            Some(inviter_id),
        )
        .await?;
        commit(tx).await?;
        Ok(CircleInvited::Invited)
    }

    pub(super) async fn set_circle_member_state_impl(
        &self,
        id: CircleId,
        user_id: i64,
        state: MemberState,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE circle_members SET state = ? WHERE circle_id = ? AND user_id = ?")
                .bind(i64::from(state.code()))
                .bind(id.to_string())
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
        commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn remove_circle_member_impl(
        &self,
        id: CircleId,
        user_id: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM circle_members WHERE circle_id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
        commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn delete_circle_impl(&self, id: CircleId) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM circles WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .db()?;
        commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The circles `handle` is the admin of go with their account (nobody
/// would be left to invite or to delete them); their other members lose
/// them. Called in the account deletion's transaction.
pub(super) async fn delete_administered(
    tx: &mut Transaction<'static, Sqlite>,
    handle: &str,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM circles WHERE id IN (SELECT m.circle_id FROM circle_members m \
         JOIN users u ON u.id = m.user_id WHERE u.handle = ? AND m.role = ?)",
    )
    .bind(handle)
    .bind(i64::from(CircleRole::Admin.code()))
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

async fn circles_count(tx: &mut Transaction<'static, Sqlite>, user_id: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM circle_members WHERE user_id = ?")
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await
        .db()?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

async fn insert_member(
    tx: &mut Transaction<'static, Sqlite>,
    id: CircleId,
    user_id: i64,
    role: CircleRole,
    state: MemberState,
    inviter_id: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO circle_members (circle_id, user_id, role, state, inviter_id, seq) \
         VALUES (?, ?, ?, ?, ?, \
         (SELECT COALESCE(MAX(seq), 0) + 1 FROM circle_members WHERE circle_id = ?))",
    )
    .bind(id.to_string())
    .bind(user_id)
    .bind(i64::from(role.code()))
    .bind(i64::from(state.code()))
    .bind(inviter_id)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

fn member(row: &SqliteRow) -> Result<CircleMember> {
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
