//! All SQL lives here, one module per aggregate. Functions take a pool or a transaction
//! (`impl SqliteExecutor`) and return plain rows; multi-row writes are done inside one
//! transaction by the caller (`services`), and no transaction is ever held across an ITS call.

pub mod api_shops;
pub mod attempts;
pub mod bulk;
pub mod connect_links;
pub mod events;
pub mod jobs;
pub mod login_throttle;
pub mod oa_summary;
pub mod outbox;
pub mod overview;
pub mod read_pool;
pub mod sealed;
pub mod service_keys;
pub mod sessions;
pub mod shop_list;
pub mod shops;
pub mod users;
pub mod webhooks;
pub mod zalo_apps;
pub mod zalo_grants;
pub mod zalo_oas;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Whether the database answers (the health check).
pub async fn ping(db: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(db)
        .await?;
    Ok(())
}

/// Opens (creating if needed) the app's database and applies the embedded migrations.
/// WAL lets readers work while one writer writes; `busy_timeout` makes a writer wait for
/// the lock instead of failing; `synchronous=FULL` because a stored key must survive a
/// power loss.
pub async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    connect_limited(path, None).await
}

/// Like `connect`, with an optional cap on the database's size (`DATABASE_MAX_MB`): past
/// it, writes fail as on a full disk (and the app answers 503) while reads go on, and
/// writes work again as soon as rows are deleted.
pub async fn connect_limited(path: &Path, max_bytes: Option<u64>) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    create_private_file(path)?;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // Rows travel from SQLite's worker thread to the request through a bounded channel;
        // room for a whole list page (51 rows) means the worker never stops half-way.
        .row_buffer_size(256);
    let options = match max_bytes {
        // SQLite's default page size is 4096 bytes.
        Some(bytes) => options.pragma("max_page_count", (bytes / 4096).max(1).to_string()),
        None => options,
    };
    // WAL is a property of the file, set once here. Setting it on every pooled connection
    // would take an exclusive lock that `busy_timeout` cannot wait for: a new connection
    // opened while others write would fail with "database is locked".
    {
        use sqlx::ConnectOptions;
        let first = options
            .clone()
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await?;
        sqlx::Connection::close(first).await?;
    }
    let pool = SqlitePoolOptions::new()
        // Each connection is a thread of its own; on a small machine more of them only add
        // switching (measured with tests/bench: 4 beat 8 on 2 cores).
        .max_connections(4)
        // No ping before each use: the connection is SQLite in this process, which cannot
        // have hung up, and the ping is a round trip to the connection's thread that cost
        // more than a counter read (sqlx pings by default, for network databases).
        .test_before_acquire(false)
        // After a full disk or an I/O error SQLite rolls the transaction back by itself;
        // sqlx's own ROLLBACK then fails and the connection still counts as inside a
        // transaction, so every later `BEGIN` on it would fail. Such a connection is closed
        // instead of going back to the pool: the app recovers as soon as space returns.
        .after_release(|conn, _| {
            Box::pin(async move {
                use sqlx::Connection;
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/app")
        .run(&pool)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the database at {} could not be migrated: {e}",
                path.display()
            )
        })?;
    Ok(pool)
}

/// How long one use of a read connection (an admin page, an export chunk) may run before
/// SQLite interrupts it (`read_pool`). A search the index serves takes milliseconds; one
/// that walks many matches to fill a page of a rare state is stopped here instead of
/// holding a connection and a core.
pub const READ_STATEMENT_LIMIT: Duration = Duration::from_secs(2);

/// Whether an error is SQLite's "interrupted": a read-pool statement ran out of time.
pub fn is_interrupted(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "9")
}

/// Creates `dir` and any missing parent readable by this user only (0700): it holds the
/// database, `sandbox.db` and `secret.key`. A folder that exists is left as it is (the
/// operator chose its mode).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a consistent copy of the whole database to `target` (`VACUUM INTO`).
pub async fn vacuum_into(db: &SqlitePool, target: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(db)
        .await?;
    Ok(())
}

/// Creates an empty data file readable by this user only (0600), unless it exists.
/// SQLite opens an empty file as a new database and gives its `-wal` and `-shm` files the
/// database file's mode, so they are 0600 too (left to SQLite, all three would be 0644:
/// owners' emails and phones, sandbox keys in plain text).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes the write lock up front,
/// so `busy_timeout` applies: a deferred transaction that read first and then tries to
/// write after another writer committed fails at once with "database is locked"
/// (SQLITE_BUSY_SNAPSHOT), whatever the timeout.
pub async fn begin_write(
    db: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Now, in unix epoch milliseconds (the unit of every time column).
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether an error is a UNIQUE violation on the given `table.column`.
pub fn is_unique_violation(err: &sqlx::Error, column: &str) -> bool {
    err.as_database_error()
        .map(|e| e.is_unique_violation() && e.message().contains(column))
        .unwrap_or(false)
}
