//! Bulk re-verification jobs (`verify_jobs`) and the shop queries the job and the
//! scheduler run.

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub started_by: Option<Uuid>,
    /// The starter's email (joined), if the user still exists.
    pub started_by_email: Option<String>,
    pub state: String,
    pub cancel_requested: bool,
    pub total: i64,
    pub done: i64,
    pub failures: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str =
    "j.id, j.started_by, u.email AS started_by_email, j.state, j.cancel_requested, \
     j.total, j.done, j.failures, j.created_at, j.finished_at";

/// Inserts a running job. Fails with a UNIQUE violation on `verify_jobs.state` when
/// another job is running (see [`is_already_running`]).
pub async fn insert_running(
    db: impl SqliteExecutor<'_>,
    started_by: Uuid,
    total: i64,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO verify_jobs (id, started_by, state, total, created_at) VALUES (?, ?, 'running', ?, ?)",
    )
    .bind(id)
    .bind(started_by)
    .bind(total)
    .bind(now)
    .execute(db)
    .await?;
    Ok(id)
}

/// Whether an insert failed because a job is already running.
pub fn is_already_running(err: &sqlx::Error) -> bool {
    crate::store::is_unique_violation(err, "verify_jobs.state")
}

pub async fn find(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM verify_jobs j LEFT JOIN users u ON u.id = j.started_by WHERE j.id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The running job, if any.
pub async fn running(db: impl SqliteExecutor<'_>) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM verify_jobs j LEFT JOIN users u ON u.id = j.started_by WHERE j.state = 'running'"
    ))
    .fetch_optional(db)
    .await
}

/// The newest jobs first.
pub async fn recent(db: impl SqliteExecutor<'_>, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM verify_jobs j LEFT JOIN users u ON u.id = j.started_by
         ORDER BY j.created_at DESC, j.id DESC LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Counts one verified shop. Returns whether a cancel was asked for meanwhile (`None`: the
/// job is no longer running).
pub async fn record_progress(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    failed: bool,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE verify_jobs SET done = done + 1, failures = failures + ?
         WHERE id = ? AND state = 'running' RETURNING cancel_requested",
    )
    .bind(failed as i64)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Asks a running job to stop. Returns whether the job was running.
pub async fn request_cancel(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE verify_jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether a cancel was asked for (false for an unknown or ended job).
pub async fn cancel_requested(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar(
        "SELECT cancel_requested FROM verify_jobs WHERE id = ? AND state = 'running'",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .unwrap_or(false))
}

/// Ends a running job in `state` (`finished`, `cancelled` or `interrupted`).
pub async fn finish(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    state: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE verify_jobs SET state = ?, finished_at = ? WHERE id = ? AND state = 'running'",
    )
    .bind(state)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// At start: jobs a previous process left running can no longer progress.
pub async fn interrupt_all_running(
    db: impl SqliteExecutor<'_>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE verify_jobs SET state = 'interrupted', finished_at = ? WHERE state = 'running'",
    )
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// The shops the bulk job verifies: every shop holding a key that should work.
pub async fn shops_to_verify(db: impl SqliteExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM shops WHERE state IN ('connected', 'needs_reauth') ORDER BY last_verified_at, id",
    )
    .fetch_all(db)
    .await
}

/// How many connected shops were last verified before `before` (due for the scheduler).
pub async fn count_due(db: impl SqliteExecutor<'_>, before: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM shops WHERE state = 'connected' AND (last_verified_at IS NULL OR last_verified_at < ?)",
    )
    .bind(before)
    .fetch_one(db)
    .await
}

/// The `limit` connected shops verified longest ago, if before `before`.
pub async fn due_shops(
    db: impl SqliteExecutor<'_>,
    before: i64,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM shops WHERE state = 'connected' AND (last_verified_at IS NULL OR last_verified_at < ?)
         ORDER BY last_verified_at LIMIT ?",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}
