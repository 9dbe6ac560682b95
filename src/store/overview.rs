//! The admin overview (`/admin`) in two statements whatever the number of shops: the
//! counters the triggers keep (shops per connection state, `shop_state_counts`; per OA
//! filter, `shop_oa_counts` and the per-day expiry counters) in one, and the newest
//! problems, each state seeking its own index, in the other. Each statement is a round
//! trip to SQLite's worker thread, which cost more than the statements themselves
//! (perf at a million shops: a third of the overview's CPU in thread wake-ups when it
//! took five).

use sqlx::{FromRow, SqlitePool};
use uuid::Uuid;

use crate::domain::ConnectionState;
use crate::store::oa_summary::oa_expiring_count_sql;

/// Every counter of the overview, one row each: `('state', state, n)`, `('oa', flag, n)`
/// and `('oa', 'expiring', n)` for the shops whose OA expires before `?1` (public so the
/// plan test can `EXPLAIN QUERY PLAN` it).
pub const COUNTS: &str = concat!(
    "SELECT 'state', state, n FROM shop_state_counts
 UNION ALL SELECT 'oa', flag, n FROM shop_oa_counts
 UNION ALL SELECT 'oa', 'expiring', ",
    oa_expiring_count_sql!()
);

/// The overview's counters: shops per connection state and per OA filter (by the filter's
/// name in `OaFilter::NAMES`).
#[derive(Debug, Default)]
pub struct Counts {
    pub states: Vec<(String, i64)>,
    pub oa: Vec<(String, i64)>,
}

impl Counts {
    pub fn state(&self, state: ConnectionState) -> i64 {
        find(&self.states, state.as_str())
    }

    pub fn oa(&self, name: &str) -> i64 {
        find(&self.oa, name)
    }

    pub fn total(&self) -> i64 {
        self.states.iter().map(|(_, n)| n).sum()
    }
}

fn find(rows: &[(String, i64)], name: &str) -> i64 {
    rows.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, n)| *n)
        .sum()
}

/// The counters, with the OA expiry window ending at `expiring_before`
/// (`oa_summary::expiring_before`).
pub async fn counts(db: &SqlitePool, expiring_before: i64) -> Result<Counts, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(COUNTS)
        .bind(expiring_before)
        .fetch_all(db)
        .await?;
    let mut counts = Counts::default();
    for (kind, name, n) in rows {
        match kind.as_str() {
            "state" => counts.states.push((name, n)),
            _ => counts.oa.push((name, n)),
        }
    }
    Ok(counts)
}

#[derive(Debug, Clone, FromRow)]
pub struct ProblemRow {
    pub id: Uuid,
    pub name: String,
    pub state: String,
    pub updated_at: i64,
}

/// The newest problems (public so the plan test can check it): the `limit` newest shops
/// that failed and the `limit` newest waiting for a new login, each from the state's own
/// `(state, updated_at, id)` index, merged newest first.
pub const NEWEST_PROBLEMS: &str = "SELECT * FROM (
    SELECT id, name, state, updated_at FROM shops WHERE state = ?1
    ORDER BY updated_at DESC, id DESC LIMIT ?3)
  UNION ALL SELECT * FROM (
    SELECT id, name, state, updated_at FROM shops WHERE state = ?2
    ORDER BY updated_at DESC, id DESC LIMIT ?3)
  ORDER BY updated_at DESC, id DESC LIMIT ?3";

/// The `limit` newest shops that failed or wait for a new login, newest first.
pub async fn newest_problems(db: &SqlitePool, limit: i64) -> Result<Vec<ProblemRow>, sqlx::Error> {
    sqlx::query_as(NEWEST_PROBLEMS)
        .bind(ConnectionState::Failed.as_str())
        .bind(ConnectionState::NeedsReauth.as_str())
        .bind(limit)
        .fetch_all(db)
        .await
}
