//! Webhook endpoints as admins manage them, and what the dashboard shows of their
//! deliveries. The worker's queries are in `outbox`.

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

use crate::crypto::SealedKey;

#[derive(Debug, Clone, FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub secret_prefix: String,
    pub paused_at: Option<i64>,
    pub pause_reason: Option<String>,
    pub created_at: i64,
    /// Deliveries waiting (joined).
    pub pending: i64,
    /// Deliveries that reached the endpoint (joined).
    pub delivered: i64,
}

const COLUMNS: &str = "e.id, e.url, e.description, e.event_types, e.secret_prefix, e.paused_at, e.pause_reason, e.created_at, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') AS pending, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'delivered') AS delivered";

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a str,
    pub secret: &'a SealedKey,
    pub secret_prefix: &'a str,
    pub created_by: Uuid,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    e: &NewEndpoint<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, secret_ciphertext, secret_nonce,
                                        secret_key_id, secret_prefix, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(&e.secret.ciphertext)
    .bind(&e.secret.nonce)
    .bind(&e.secret.key_id)
    .bind(e.secret_prefix)
    .bind(e.created_by)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints e ORDER BY e.created_at DESC LIMIT 200"
    ))
    .fetch_all(db)
    .await
}

/// Of an endpoint's `n` newest deliveries that were tried at least once: how many reached it
/// and how many are still failing (waiting for another attempt).
pub async fn recent_outcomes(
    db: impl SqliteExecutor<'_>,
    endpoint: Uuid,
    n: i64,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(state = 'delivered'), 0), COALESCE(SUM(state = 'pending'), 0)
         FROM (SELECT state FROM webhook_deliveries
               WHERE endpoint_id = ?1 AND (attempts > 0 OR state = 'delivered')
               ORDER BY id DESC LIMIT ?2)",
    )
    .bind(endpoint)
    .bind(n)
    .fetch_one(db)
    .await
}

pub async fn find(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints e WHERE e.id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Pauses an endpoint (its deliveries wait). Returns whether it was running.
pub async fn pause(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE webhook_endpoints SET paused_at = ?, pause_reason = ? WHERE id = ? AND paused_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Resumes a paused endpoint. Returns whether it was paused.
pub async fn resume(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE webhook_endpoints SET paused_at = NULL, pause_reason = NULL WHERE id = ? AND paused_at IS NOT NULL",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Makes an endpoint's waiting deliveries due now, with a fresh count of attempts (after
/// a resume, the backoff starts over).
pub async fn retry_pending_now(
    db: impl SqliteExecutor<'_>,
    endpoint_id: Uuid,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = ?, attempts = 0
         WHERE endpoint_id = ? AND state = 'pending'",
    )
    .bind(now)
    .bind(endpoint_id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// A delivery as the dashboard lists it, with its latest attempt.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub shop_id: Uuid,
    pub shop_name: Option<String>,
    pub state: String,
    /// Every attempt made, resends included.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub last_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_excerpt: Option<String>,
}

/// The newest deliveries of an endpoint first, each with its latest attempt.
pub async fn deliveries(
    db: impl SqliteExecutor<'_>,
    endpoint_id: Uuid,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, v.id AS event_id, v.type AS event_type, v.shop_id, s.name AS shop_name, d.state,
                (SELECT COUNT(*) FROM webhook_attempts x WHERE x.delivery_id = d.id) AS attempts,
                d.next_attempt_at, d.created_at, d.delivered_at,
                a.at AS last_at, a.status_code AS last_status, a.latency_ms AS last_latency_ms,
                a.excerpt AS last_excerpt
         FROM webhook_deliveries d
         JOIN webhook_events v ON v.seq = d.event_seq
         LEFT JOIN shops s ON s.id = v.shop_id
         LEFT JOIN webhook_attempts a ON a.id = (SELECT MAX(id) FROM webhook_attempts WHERE delivery_id = d.id)
         WHERE d.endpoint_id = ?
         ORDER BY d.id DESC LIMIT ?",
    )
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub excerpt: Option<String>,
}

/// Every attempt of an endpoint's newest deliveries, newest first.
pub async fn attempts(
    db: impl SqliteExecutor<'_>,
    endpoint_id: Uuid,
    limit: i64,
) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.delivery_id, a.at, a.status_code, a.latency_ms, a.excerpt
         FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.endpoint_id = ? ORDER BY a.id DESC LIMIT ?",
    )
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Sends a delivery again (same event, same id): back to pending, due now, with a fresh
/// backoff (its earlier attempts stay listed).
pub async fn resend(
    db: impl SqliteExecutor<'_>,
    endpoint_id: Uuid,
    delivery_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, delivered_at = NULL, attempts = 0
         WHERE id = ? AND endpoint_id = ?",
    )
    .bind(now)
    .bind(delivery_id)
    .bind(endpoint_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
