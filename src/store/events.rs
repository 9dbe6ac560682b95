use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

use crate::domain::ConnectionState;

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub at: i64,
    pub actor: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
}

/// Appends one entry to a shop's history. Called inside the transaction that changes the
/// state, so the history and the state never disagree.
pub async fn record(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    now: i64,
    actor: &str,
    from: Option<ConnectionState>,
    to: ConnectionState,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shop_events (shop_id, at, actor, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(shop_id)
    .bind(now)
    .bind(actor)
    .bind(from.map(ConnectionState::as_str))
    .bind(to.as_str())
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest entries first.
pub async fn for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, actor, from_state, to_state, reason FROM shop_events WHERE shop_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(shop_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
