use sqlx::SqliteExecutor;

/// The latest time until which any of `subjects` is locked, if any is.
pub async fn locked_until(
    db: impl SqliteExecutor<'_>,
    subjects: &[String; 2],
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(locked_until) FROM login_throttle WHERE subject IN (?, ?) AND locked_until > ?",
    )
    .bind(&subjects[0])
    .bind(&subjects[1])
    .bind(now)
    .fetch_one(db)
    .await
}

/// Counts one failure for `subject` and returns the failures in the current window.
/// A window older than `window_ms` starts again from one.
pub async fn record_failure(
    db: impl SqliteExecutor<'_>,
    subject: &str,
    now: i64,
    window_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO login_throttle (subject, failures, window_start, locked_until) VALUES (?, 1, ?, 0)
         ON CONFLICT (subject) DO UPDATE SET
             failures = CASE WHEN window_start < ? THEN 1 ELSE failures + 1 END,
             window_start = CASE WHEN window_start < ? THEN ? ELSE window_start END
         RETURNING failures",
    )
    .bind(subject)
    .bind(now)
    .bind(now - window_ms)
    .bind(now - window_ms)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn lock(
    db: impl SqliteExecutor<'_>,
    subject: &str,
    until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_throttle SET locked_until = ? WHERE subject = ?")
        .bind(until)
        .bind(subject)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn clear(db: impl SqliteExecutor<'_>, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE subject = ?")
        .bind(subject)
        .execute(db)
        .await?;
    Ok(())
}
