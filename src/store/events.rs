use std::ops::DerefMut;

use sqlx::{FromRow, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use super::outbox;
use crate::domain::ConnectionState;

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub at: i64,
    pub actor: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
}

/// Appends one entry to a shop's history and queues the webhooks it announces. Called
/// inside the transaction that changes the state, so the history and the state never
/// disagree.
///
/// A change to connected, needs_reauth, failed or disconnected also writes the webhook
/// outbox (the event and its deliveries) in the same transaction: an announced change
/// always happened, and a change that happened is always announced. Pass the connection
/// of the transaction (`&mut *tx`). No savepoint is used: SQLite may roll a whole
/// transaction back on a full disk, and a savepoint left behind would then poison the
/// pooled connection.
pub async fn record_and_queue(
    mut conn: impl DerefMut<Target = SqliteConnection>,
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
    .execute(&mut *conn)
    .await?;
    if from != Some(to) {
        if let Some(event_type) = outbox::event_type(to) {
            outbox::enqueue(&mut conn, shop_id, event_type, to, now).await?;
        }
    }
    Ok(())
}

/// A history entry that tells the partner's systems nothing new (no webhook): a shop
/// returning to the state it was in before an attempt that expired, which they saw then.
pub async fn record_restored(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    now: i64,
    actor: &str,
    from: ConnectionState,
    to: ConnectionState,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shop_events (shop_id, at, actor, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(shop_id)
    .bind(now)
    .bind(actor)
    .bind(from.as_str())
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
