use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct ConsumedAttempt {
    pub id: Uuid,
    pub shop_id: Uuid,
    pub relogins: i64,
    /// The ITS shop the attempt asked about; `None`: confirmed through our own id.
    pub its_shop_id: Option<i64>,
    /// Where the shop was before the attempt moved it to `pending` (see `Previous`).
    #[sqlx(flatten)]
    pub previous: Previous,
}

/// Where an attempt's shop was before the attempt moved it to `pending`: its state and,
/// for `failed`, the reason. All `None` when the attempt did not move the shop.
#[derive(Debug, Clone, Default, FromRow, PartialEq, Eq)]
pub struct Previous {
    pub previous_state: Option<String>,
    pub previous_failure_code: Option<String>,
    pub previous_failure_detail: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub user_id: Uuid,
    pub state: String,
    pub expires_at: i64,
    pub session_hash: Option<String>,
    pub outcome: Option<String>,
}

/// One press of "Kết nối Zalo" (or a follow-up login ITS asked for).
pub struct NewAttempt<'a> {
    pub shop_id: Uuid,
    pub user_id: Uuid,
    /// The SHA-256 of the session that started it.
    pub session_hash: &'a str,
    pub token_hash: &'a str,
    pub relogins: i64,
    /// The ITS shop id the attempt asks about, if the shop had one.
    pub its_shop_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Where the shop was before this attempt (or the one it follows) moved it to `pending`.
    pub previous: &'a Previous,
}

pub async fn insert(db: impl SqliteExecutor<'_>, a: &NewAttempt<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO connect_attempts (id, shop_id, user_id, session_hash, token_hash, state, relogins, its_shop_id, created_at, expires_at,
                                       previous_state, previous_failure_code, previous_failure_detail)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(a.shop_id)
    .bind(a.user_id)
    .bind(a.session_hash)
    .bind(a.token_hash)
    .bind(a.relogins)
    .bind(a.its_shop_id)
    .bind(a.created_at)
    .bind(a.expires_at)
    .bind(&a.previous.previous_state)
    .bind(&a.previous.previous_failure_code)
    .bind(&a.previous.previous_failure_detail)
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn count_pending_for_user(
    db: impl SqliteExecutor<'_>,
    user_id: Uuid,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM connect_attempts WHERE user_id = ? AND state = 'pending' AND expires_at > ?")
        .bind(user_id)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Cancels the shop's earlier pending attempts: only the newest press of the button counts.
/// Attempts younger than `grace_ms` stay valid, so a double click does not strand the
/// first request's browser on ITS with a cancelled token.
pub async fn cancel_pending_for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    now: i64,
    grace_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connect_attempts SET state = 'cancelled', consumed_at = ?, outcome = 'superseded'
         WHERE shop_id = ? AND state = 'pending' AND created_at < ?",
    )
    .bind(now)
    .bind(shop_id)
    .bind(now - grace_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Consumes a pending, unexpired attempt of this user in one statement: exactly one
/// caller gets the row, however many arrive at once with the same token. It must come
/// from the session that started the attempt, or from a new session of the same user
/// once that one has ended.
pub async fn consume(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
    user_id: Uuid,
    session_hash: &str,
    now: i64,
) -> Result<Option<ConsumedAttempt>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE connect_attempts SET state = 'consumed', consumed_at = ?
         WHERE token_hash = ? AND user_id = ? AND state = 'pending' AND expires_at > ?
           AND (session_hash IS NULL OR session_hash = ?
                OR NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id_hash = connect_attempts.session_hash))
         RETURNING id, shop_id, relogins, its_shop_id, previous_state, previous_failure_code, previous_failure_detail",
    )
    .bind(now)
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(session_hash)
    .fetch_optional(db)
    .await
}

/// The fixed redirect mode's callback carries no token: consumes the newest pending,
/// unexpired attempt of this session (or, when the session that started it has ended, of
/// a new session of the same user), in one statement.
pub async fn consume_for_session(
    db: impl SqliteExecutor<'_>,
    user_id: Uuid,
    session_hash: &str,
    now: i64,
) -> Result<Option<ConsumedAttempt>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE connect_attempts SET state = 'consumed', consumed_at = ?1
         WHERE state = 'pending' AND id = (
             SELECT a.id FROM connect_attempts a
             WHERE a.user_id = ?2 AND a.state = 'pending' AND a.expires_at > ?1
               AND (a.session_hash = ?3 OR a.session_hash IS NULL
                    OR NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.id_hash = a.session_hash))
             ORDER BY a.session_hash IS ?3 DESC, a.created_at DESC LIMIT 1)
         RETURNING id, shop_id, relogins, its_shop_id, previous_state, previous_failure_code, previous_failure_detail",
    )
    .bind(now)
    .bind(user_id)
    .bind(session_hash)
    .fetch_optional(db)
    .await
}

/// The fixed redirect mode: a new attempt supersedes every other pending one of the session.
pub async fn cancel_pending_for_session(
    db: impl SqliteExecutor<'_>,
    session_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connect_attempts SET state = 'cancelled', consumed_at = ?, outcome = 'superseded'
         WHERE session_hash = ? AND state = 'pending'",
    )
    .bind(now)
    .bind(session_hash)
    .execute(db)
    .await?;
    Ok(())
}

/// ITS never linked the stored id: the attempt continues as one without it.
pub async fn forget_its_shop_id(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE connect_attempts SET its_shop_id = NULL WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// How the shop's most recent finished attempt ended (a `FailureCode` name when it failed).
pub async fn last_outcome(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT outcome FROM connect_attempts WHERE shop_id = ? AND state = 'finished'
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(shop_id)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}

/// For explaining why a token was refused.
pub async fn find_by_hash(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
) -> Result<Option<AttemptRow>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, state, expires_at, session_hash, outcome FROM connect_attempts WHERE token_hash = ?")
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

pub async fn close(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    state: &str,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE connect_attempts SET state = ?, outcome = ? WHERE id = ?")
        .bind(state)
        .bind(outcome)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn shop_of(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT shop_id FROM connect_attempts WHERE token_hash = ?")
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

/// The outcome of an attempt that ran out of time before its callback.
pub const EXPIRED: &str = "expired";

/// Where the shop was before its newest attempt that moved it to `pending`: a second
/// press while pending (a double click, a retry) inherits it.
pub async fn latest_previous(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
) -> Result<Option<Previous>, sqlx::Error> {
    sqlx::query_as(
        "SELECT previous_state, previous_failure_code, previous_failure_detail FROM connect_attempts
         WHERE shop_id = ? AND previous_state IS NOT NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(shop_id)
    .fetch_optional(db)
    .await
}

/// Shops with a pending attempt past its time (all shops, or just `shop_id`).
pub async fn shops_with_expired(
    db: impl SqliteExecutor<'_>,
    shop_id: Option<Uuid>,
    now: i64,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT shop_id FROM connect_attempts
         WHERE state = 'pending' AND expires_at <= ?1 AND (?2 IS NULL OR shop_id = ?2)
         LIMIT ?3",
    )
    .bind(now)
    .bind(shop_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Ends the shop's pending attempts that are past their time, newest first in the answer.
pub async fn close_expired_for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    now: i64,
) -> Result<Vec<Previous>, sqlx::Error> {
    let mut rows: Vec<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "UPDATE connect_attempts SET state = 'finished', outcome = 'expired', consumed_at = ?1
         WHERE shop_id = ?2 AND state = 'pending' AND expires_at <= ?1
         RETURNING created_at, COALESCE(previous_state, ''), previous_failure_code, previous_failure_detail",
    )
    .bind(now)
    .bind(shop_id)
    .fetch_all(db)
    .await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    Ok(rows
        .into_iter()
        .map(|(_, state, code, detail)| Previous {
            previous_state: Some(state).filter(|s| !s.is_empty()),
            previous_failure_code: code,
            previous_failure_detail: detail,
        })
        .collect())
}

/// Whether the shop still has an attempt in play: one pending and within its time, or one
/// whose callback is being handled right now (consumed within the last `in_flight_ms`).
pub async fn has_live(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    now: i64,
    in_flight_ms: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM connect_attempts WHERE shop_id = ?1
             AND ((state = 'pending' AND expires_at > ?2) OR (state = 'consumed' AND consumed_at > ?3)))",
    )
    .bind(shop_id)
    .bind(now)
    .bind(now - in_flight_ms)
    .fetch_one(db)
    .await
}
