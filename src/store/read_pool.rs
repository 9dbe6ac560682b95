//! The admin's expensive reads (the shop list, its search, the CSV export) run on
//! connections of their own, so a burst of them cannot take the connections that
//! `/healthz`, an owner's pages and the ITS callback need: those keep the main pool to
//! themselves. And each use of one of these connections (one admin page, one export
//! chunk) is interrupted after a time limit, so a read that walks far more rows than it
//! shows gives its connection and its core back.
//!
//! Each connection is a one-connection sqlx pool (a "lane") with its own clock: SQLite's
//! progress handler, set once when the connection opens, reads the lane's deadline from an
//! atomic that `acquire` sets. Re-arming the handler at every use instead (sqlx's
//! `lock_handle`) is a hand-over of the connection's lock with its thread, measured at a
//! third of a name search's CPU at a million shops.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Sqlite, SqlitePool};

/// How many connections the admin's reads get.
pub const READ_CONNECTIONS: usize = 2;

/// A lane: one read-only connection and the deadline of its current use, in milliseconds
/// after `ReadPool::epoch`.
struct Lane {
    pool: SqlitePool,
    deadline: Arc<AtomicU64>,
}

/// The read connections (cheap to clone: every clone shares them).
#[derive(Clone)]
pub struct ReadPool {
    lanes: Arc<[Lane]>,
    epoch: Instant,
    limit: Duration,
}

impl ReadPool {
    /// Opens read-only connections on the database `store::connect` already created and
    /// migrated; each use of one is interrupted after `limit` (the progress handler is
    /// checked every few thousand virtual machine steps).
    pub async fn connect(path: &Path, limit: Duration) -> anyhow::Result<ReadPool> {
        let epoch = Instant::now();
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .read_only(true)
            .busy_timeout(Duration::from_secs(10))
            .row_buffer_size(256);
        let mut lanes = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            let deadline = Arc::new(AtomicU64::new(0));
            let armed = Arc::clone(&deadline);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                // No ping before each use (see `store::connect_limited`).
                .test_before_acquire(false)
                // An admin whose read waits behind a slow one hears so in seconds, not in 30.
                .acquire_timeout(limit * 3 + Duration::from_secs(1))
                .after_connect(move |conn, _| {
                    let deadline = Arc::clone(&armed);
                    Box::pin(async move {
                        conn.lock_handle()
                            .await?
                            .set_progress_handler(4_000, move || {
                                since(epoch) <= deadline.load(Ordering::Relaxed)
                            });
                        Ok(())
                    })
                })
                .connect_with(options.clone())
                .await?;
            lanes.push(Lane { pool, deadline });
        }
        Ok(ReadPool {
            lanes: lanes.into(),
            epoch,
            limit,
        })
    }

    /// A connection for one use (a page's statements, an export chunk), its clock started:
    /// a free one if there is one, else the first to free.
    pub async fn acquire(&self) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
        let free = self
            .lanes
            .iter()
            .find_map(|lane| lane.pool.try_acquire().map(|conn| (lane, conn)));
        let (lane, conn) = match free {
            Some(found) => found,
            // Every lane busy (or its connection still on its way back to its pool): wait on
            // all of them and take the first that frees; the other waits are dropped.
            None => {
                let waits = self.lanes.iter().map(|lane| {
                    Box::pin(async move { lane.pool.acquire().await.map(|conn| (lane, conn)) })
                });
                futures_util::future::select_ok(waits).await?.0
            }
        };
        let deadline = since(self.epoch) + self.limit.as_millis() as u64;
        lane.deadline.store(deadline, Ordering::Relaxed);
        Ok(conn)
    }
}

fn since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}
