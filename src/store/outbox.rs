//! The webhook outbox: events written in the transaction of the state change that caused
//! them (see `events::record_and_queue`), fanned out to one delivery per subscribed endpoint, and
//! the queries the delivery worker runs.

use sqlx::{FromRow, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use crate::domain::ConnectionState;

/// The event type a move to `to` is announced as, if it is announced at all.
pub fn event_type(to: ConnectionState) -> Option<&'static str> {
    match to {
        ConnectionState::Connected => Some("connection.connected"),
        ConnectionState::NeedsReauth => Some("connection.needs_reauth"),
        ConnectionState::Failed => Some("connection.failed"),
        ConnectionState::Disconnected => Some("connection.disconnected"),
        ConnectionState::NotConnected | ConnectionState::Pending => None,
    }
}

pub const EVENT_TYPES: [&str; 9] = [
    "connection.connected",
    "connection.needs_reauth",
    "connection.failed",
    "connection.disconnected",
    "zalo_oa.connected",
    "zalo_oa.disconnected",
    "zalo_oa.quality_low",
    "zalo_oa.expiring",
    "zalo_oa.expired",
];

/// Writes an OA event: like `enqueue`, with the shop's current status and a snapshot of the
/// OA (`webhook_events.oa`) taken from its row in this same transaction. Nothing is queued
/// when the shop or the OA is gone.
pub async fn enqueue_oa(
    conn: &mut SqliteConnection,
    shop_id: Uuid,
    oa_id: &str,
    event_type: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let id = format!("evt_{}", Uuid::new_v4().simple());
    let seq: Option<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_events (id, type, shop_id, external_shop_id, its_shop_id, status, occurred_at, oa)
         SELECT ?1, ?2, s.id, s.external_shop_id, s.its_shop_id, s.state, ?3,
                json_object('oa_id', o.oa_id, 'name', o.name, 'status', o.status,
                            'daily_quota', o.daily_quota, 'remaining_quota', o.remaining_quota,
                            'current_quality', o.current_quality, 'last_week_quality', o.last_week_quality,
                            'expires_at', CASE WHEN o.expires_at IS NULL THEN NULL
                                          ELSE strftime('%Y-%m-%dT%H:%M:%SZ', o.expires_at / 1000, 'unixepoch') END,
                            'is_verified', json(CASE o.is_verified WHEN 1 THEN 'true' ELSE 'false' END))
         FROM shops s JOIN zalo_oas o ON o.shop_id = s.id AND o.oa_id = ?4 WHERE s.id = ?5
         RETURNING seq",
    )
    .bind(&id)
    .bind(event_type)
    .bind(now)
    .bind(oa_id)
    .bind(shop_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(seq) = seq else {
        return Ok(());
    };
    fan_out(conn, seq, shop_id, event_type, now).await
}

/// Writes the event (the shop's ids copied as they are now, inside the caller's
/// transaction) and one pending delivery per endpoint that subscribes to its type.
pub async fn enqueue(
    conn: &mut SqliteConnection,
    shop_id: Uuid,
    event_type: &str,
    status: ConnectionState,
    now: i64,
) -> Result<(), sqlx::Error> {
    let id = format!("evt_{}", Uuid::new_v4().simple());
    let seq: Option<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_events (id, type, shop_id, external_shop_id, its_shop_id, status, occurred_at)
         SELECT ?, ?, id, external_shop_id, its_shop_id, ?, ? FROM shops WHERE id = ?
         RETURNING seq",
    )
    .bind(&id)
    .bind(event_type)
    .bind(status.as_str())
    .bind(now)
    .bind(shop_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(seq) = seq else {
        return Ok(());
    };
    fan_out(conn, seq, shop_id, event_type, now).await
}

/// One pending delivery of event `seq` per endpoint subscribed to its type.
async fn fan_out(
    conn: &mut SqliteConnection,
    seq: i64,
    shop_id: Uuid,
    event_type: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (event_seq, endpoint_id, shop_id, state, next_attempt_at, created_at)
         SELECT ?1, id, ?2, 'pending', ?3, ?3 FROM webhook_endpoints
         WHERE instr(' ' || event_types || ' ', ' ' || ?4 || ' ') > 0",
    )
    .bind(seq)
    .bind(shop_id)
    .bind(now)
    .bind(event_type)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event as it is sent.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub shop_id: Uuid,
    pub external_shop_id: Option<String>,
    pub its_shop_id: Option<i64>,
    pub status: String,
    pub occurred_at: i64,
}

/// A delivery the worker may attempt now: the oldest pending one of its endpoint and shop,
/// due, for an endpoint that is not paused.
#[derive(Debug, Clone, FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub endpoint_id: Uuid,
}

pub async fn due(
    db: impl SqliteExecutor<'_>,
    now: i64,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.endpoint_id FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.paused_at IS NULL
         WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
           AND d.event_seq = (SELECT MIN(x.event_seq) FROM webhook_deliveries x
                              WHERE x.endpoint_id = d.endpoint_id AND x.shop_id = d.shop_id
                                AND x.state = 'pending')
         ORDER BY d.next_attempt_at, d.id LIMIT ?2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// What one attempt needs, read as the delivery is claimed.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub attempts: i64,
    pub endpoint_id: Uuid,
    pub url: String,
    pub secret_ciphertext: Vec<u8>,
    pub secret_nonce: Vec<u8>,
    pub secret_key_id: String,
    pub event_id: String,
    pub event_type: String,
    pub shop_id: Uuid,
    pub external_shop_id: Option<String>,
    pub its_shop_id: Option<i64>,
    pub status: String,
    pub occurred_at: i64,
    /// The OA's snapshot (JSON) for a `zalo_oa.*` event.
    pub oa: Option<String>,
}

/// Claims a due delivery by moving its next attempt past `lease_until`: one worker gets
/// it, and should this process die mid-attempt, it is due again once the lease ends.
pub async fn claim(
    conn: &mut SqliteConnection,
    id: i64,
    now: i64,
    lease_until: i64,
) -> Result<Option<ClaimedDelivery>, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = ?
         WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?",
    )
    .bind(lease_until)
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT d.id, d.attempts, d.endpoint_id, e.url, e.secret_ciphertext, e.secret_nonce, e.secret_key_id,
                v.id AS event_id, v.type AS event_type, v.shop_id, v.external_shop_id, v.its_shop_id,
                v.status, v.occurred_at, v.oa
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id
         JOIN webhook_events v ON v.seq = d.event_seq
         WHERE d.id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

pub struct Attempt<'a> {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub excerpt: Option<&'a str>,
}

pub async fn record_attempt(
    conn: &mut SqliteConnection,
    delivery_id: i64,
    now: i64,
    attempt: &Attempt<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, excerpt) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(delivery_id)
    .bind(now)
    .bind(attempt.status_code)
    .bind(attempt.latency_ms)
    .bind(attempt.excerpt)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn mark_delivered(
    conn: &mut SqliteConnection,
    delivery_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?
         WHERE id = ?",
    )
    .bind(now)
    .bind(delivery_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts a failed attempt and schedules the next one. Returns the attempts made so far.
pub async fn mark_failed(
    conn: &mut SqliteConnection,
    delivery_id: i64,
    next_attempt_at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
         WHERE id = ? RETURNING attempts",
    )
    .bind(next_attempt_at)
    .bind(delivery_id)
    .fetch_one(&mut *conn)
    .await
}
