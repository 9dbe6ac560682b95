//! Grants in flight (`zalo_oa_grants`): one row per press of "Kết nối Zalo OA" or
//! "Gia hạn". Only the SHA-256 of ITS's `state` is stored; one UPDATE consumes it, bound to
//! the user and the session that started it, so it works once, until `expires_at`.

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

/// What starting a grant stores.
pub struct NewGrant<'a> {
    pub shop_id: Uuid,
    pub user_id: Uuid,
    pub session_hash: &'a str,
    pub state_hash: &'a str,
    pub app_row_id: Option<Uuid>,
    pub app_id: &'a str,
    pub renew_oa_id: Option<&'a str>,
    pub expires_at: i64,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    grant: &NewGrant<'_>,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO zalo_oa_grants (id, shop_id, user_id, session_hash, state_hash, app_row_id, app_id,
                                     renew_oa_id, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
    )
    .bind(id)
    .bind(grant.shop_id)
    .bind(grant.user_id)
    .bind(grant.session_hash)
    .bind(grant.state_hash)
    .bind(grant.app_row_id)
    .bind(grant.app_id)
    .bind(grant.renew_oa_id)
    .bind(now)
    .bind(grant.expires_at)
    .execute(db)
    .await?;
    Ok(id)
}

/// A grant the callback consumed.
#[derive(Debug, Clone, FromRow)]
pub struct ConsumedGrant {
    pub id: Uuid,
    pub shop_id: Uuid,
    pub user_id: Uuid,
    pub app_row_id: Option<Uuid>,
    pub app_id: String,
    pub renew_oa_id: Option<String>,
}

/// Consumes the pending, unexpired grant with this state hash, started by this user in this
/// session (or in a session that no longer exists: the user logged in again on the same
/// browser, as the ITS callback allows), and records the code's hash — in ONE statement, so
/// two callbacks racing with the same `state` cannot both pass. A `code` already recorded
/// on another grant fails with a UNIQUE violation on `zalo_oa_grants.code_hash`.
pub async fn consume(
    db: impl SqliteExecutor<'_>,
    state_hash: &str,
    user_id: Uuid,
    session_hash: &str,
    code_hash: &str,
    now: i64,
) -> Result<Option<ConsumedGrant>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE zalo_oa_grants SET status = 'consumed', consumed_at = ?1, code_hash = ?2
         WHERE state_hash = ?3 AND user_id = ?4 AND status = 'pending' AND expires_at > ?1
           AND (session_hash = ?5
                OR NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id_hash = zalo_oa_grants.session_hash))
         RETURNING id, shop_id, user_id, app_row_id, app_id, renew_oa_id",
    )
    .bind(now)
    .bind(code_hash)
    .bind(state_hash)
    .bind(user_id)
    .bind(session_hash)
    .fetch_optional(db)
    .await
}

/// What a grant that could not be consumed looks like, to tell the owner why.
#[derive(Debug, Clone, FromRow)]
pub struct GrantLookup {
    pub shop_id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub expires_at: i64,
}

pub async fn lookup(
    db: impl SqliteExecutor<'_>,
    state_hash: &str,
) -> Result<Option<GrantLookup>, sqlx::Error> {
    sqlx::query_as(
        "SELECT shop_id, user_id, status, expires_at FROM zalo_oa_grants WHERE state_hash = ?",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await
}

/// Whether this `code` was already presented with some grant.
pub async fn code_seen(db: impl SqliteExecutor<'_>, code_hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM zalo_oa_grants WHERE code_hash = ?")
        .bind(code_hash)
        .fetch_one(db)
        .await
        .map(|n| n > 0)
}

/// Ends a consumed grant: `finished` (the OA is stored) or `failed`, with a stable outcome.
pub async fn finish(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    ok: bool,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE zalo_oa_grants SET status = ?, outcome = ? WHERE id = ? AND status IN ('pending', 'consumed')",
    )
    .bind(if ok { "finished" } else { "failed" })
    .bind(outcome)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// A pending grant that will never come back (Zalo's "Từ chối"): failed with `outcome`.
pub async fn fail_pending(
    db: impl SqliteExecutor<'_>,
    state_hash: &str,
    user_id: Uuid,
    outcome: &str,
    now: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE zalo_oa_grants SET status = 'failed', outcome = ?, consumed_at = ?
         WHERE state_hash = ? AND user_id = ? AND status = 'pending'
         RETURNING shop_id",
    )
    .bind(outcome)
    .bind(now)
    .bind(state_hash)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Pending grants past their time become `cancelled` (outcome `expired`). Returns how many.
pub async fn expire(db: impl SqliteExecutor<'_>, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE zalo_oa_grants SET status = 'cancelled', outcome = 'expired'
         WHERE status = 'pending' AND expires_at <= ?",
    )
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::zalo_oas::tests::db_with_shops;

    fn grant<'a>(shop: Uuid, user: Uuid, session: &'a str, state: &'a str) -> NewGrant<'a> {
        NewGrant {
            shop_id: shop,
            user_id: user,
            session_hash: session,
            state_hash: state,
            app_row_id: None,
            app_id: "4143453445419930001",
            renew_oa_id: None,
            expires_at: 1_000,
        }
    }

    async fn session(db: &sqlx::SqlitePool, user: Uuid, hash: &str) {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, 'c', 0, 0, 99999)",
        )
        .bind(hash)
        .bind(user)
        .execute(db)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_grant_is_consumed_once_by_its_user_and_session_before_it_expires() {
        let (db, owner, shops) = db_with_shops(1).await;
        session(&db, owner, "sess-a").await;
        session(&db, owner, "sess-b").await;
        insert(&db, &grant(shops[0], owner, "sess-a", "state-1"), 0)
            .await
            .unwrap();

        // Another live session of the same user, another user, too late: refused.
        assert!(consume(&db, "state-1", owner, "sess-b", "code-1", 10)
            .await
            .unwrap()
            .is_none());
        assert!(
            consume(&db, "state-1", Uuid::new_v4(), "sess-a", "code-1", 10)
                .await
                .unwrap()
                .is_none()
        );
        assert!(consume(&db, "state-1", owner, "sess-a", "code-1", 1_000)
            .await
            .unwrap()
            .is_none());

        let got = consume(&db, "state-1", owner, "sess-a", "code-1", 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.shop_id, shops[0]);
        assert!(
            consume(&db, "state-1", owner, "sess-a", "code-2", 11)
                .await
                .unwrap()
                .is_none(),
            "single use"
        );
        assert_eq!(
            lookup(&db, "state-1").await.unwrap().unwrap().status,
            "consumed"
        );
        assert!(code_seen(&db, "code-1").await.unwrap());

        // The same code with another grant: the UNIQUE index refuses it.
        insert(&db, &grant(shops[0], owner, "sess-a", "state-2"), 0)
            .await
            .unwrap();
        let err = consume(&db, "state-2", owner, "sess-a", "code-1", 12)
            .await
            .unwrap_err();
        assert!(
            crate::store::is_unique_violation(&err, "code_hash"),
            "{err}"
        );
        assert_eq!(
            lookup(&db, "state-2").await.unwrap().unwrap().status,
            "pending"
        );

        finish(&db, got.id, true, "connected").await.unwrap();
        assert_eq!(
            lookup(&db, "state-1").await.unwrap().unwrap().status,
            "finished"
        );
    }

    #[tokio::test]
    async fn a_new_login_of_the_same_user_may_finish_and_old_grants_expire() {
        let (db, owner, shops) = db_with_shops(1).await;
        session(&db, owner, "sess-new").await;
        // The session that started it ended (the user logged in again).
        insert(&db, &grant(shops[0], owner, "sess-gone", "state-1"), 0)
            .await
            .unwrap();
        assert!(consume(&db, "state-1", owner, "sess-new", "c", 5)
            .await
            .unwrap()
            .is_some());

        insert(&db, &grant(shops[0], owner, "sess-new", "state-2"), 0)
            .await
            .unwrap();
        insert(&db, &grant(shops[0], owner, "sess-new", "state-3"), 0)
            .await
            .unwrap();
        assert_eq!(
            fail_pending(&db, "state-3", owner, "denied", 5)
                .await
                .unwrap(),
            Some(shops[0])
        );
        assert_eq!(expire(&db, 1_000).await.unwrap(), 1);
        assert_eq!(
            lookup(&db, "state-2").await.unwrap().unwrap().status,
            "cancelled"
        );
        assert_eq!(
            lookup(&db, "state-3").await.unwrap().unwrap().status,
            "failed"
        );
    }
}
