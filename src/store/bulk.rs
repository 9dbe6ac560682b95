//! The bulk loads behind `shoplink seed`: multi-row INSERTs of `ROWS_PER_STATEMENT` rows
//! (the statement text is the same for every full batch, so sqlx prepares it once per
//! connection), and the indexes and search trigger set aside during a load (`BulkLoad`).
//! Only the seed command uses these; the app never does.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::error::BoxDynError;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Sqlite, SqliteConnection, SqlitePool, Transaction};
use uuid::Uuid;

use crate::crypto::SealedKey;
use crate::domain::ConnectionState;

/// Rows per multi-row INSERT.
pub const ROWS_PER_STATEMENT: usize = 500;

/// The largest ITS shop id stored, if any.
pub async fn max_its_shop_id(db: &SqlitePool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(its_shop_id) FROM shops")
        .fetch_one(db)
        .await
}

/// A seeded shop that ITS knows (connected, needs re-auth or disconnected), for telling
/// the built-in sandbox about it.
#[derive(Debug, sqlx::FromRow)]
pub struct SeededLink {
    pub seq: i64,
    pub id: Uuid,
    pub owner_id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub its_shop_id: i64,
    pub its_shop_name: Option<String>,
    pub state: String,
    pub key_ciphertext: Option<Vec<u8>>,
    pub key_nonce: Option<Vec<u8>>,
    pub key_id: Option<String>,
    pub updated_at: i64,
}

impl SeededLink {
    pub fn sealed_key(&self) -> Option<SealedKey> {
        SealedKey::from_columns(&self.key_ciphertext, &self.key_nonce, &self.key_id)
    }
}

/// A seeded shop's Zalo OA, for telling the built-in sandbox about it.
#[derive(Debug, sqlx::FromRow)]
pub struct SeededOa {
    pub shop_id: Uuid,
    pub oa_id: String,
    pub name: String,
    pub is_verified: bool,
    pub status: String,
    pub daily_quota: i64,
    pub remaining_quota: i64,
    pub current_quality: String,
    pub last_week_quality: String,
    pub expires_at: Option<i64>,
    pub connected_at: i64,
}

/// The OAs of the shops with `after_seq < seq <= last_seq` (a page of `seeded_links_after`):
/// the shops' primary key, then each shop's OAs by `zalo_oas_by_shop`.
pub async fn seeded_oas_between(
    db: &SqlitePool,
    after_seq: i64,
    last_seq: i64,
) -> Result<Vec<SeededOa>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.shop_id, o.oa_id, o.name, o.is_verified, o.status, o.daily_quota,
                o.remaining_quota, o.current_quality, o.last_week_quality, o.expires_at,
                o.connected_at
         FROM shops s JOIN zalo_oas o ON o.shop_id = s.id
         WHERE s.seq > ?1 AND s.seq <= ?2
         ORDER BY s.seq, o.oa_id",
    )
    .bind(after_seq)
    .bind(last_seq)
    .fetch_all(db)
    .await
}

/// The next `limit` shops after `after_seq` (in insertion order, by the primary key, so the
/// walk reads the table once however many pages it takes) whose ITS id is in `its_ids`.
pub async fn seeded_links_after(
    db: &SqlitePool,
    after_seq: i64,
    its_ids: (i64, i64),
    limit: i64,
) -> Result<Vec<SeededLink>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, id, owner_id, email, phone, its_shop_id, its_shop_name, state,
                key_ciphertext, key_nonce, key_id, updated_at
         FROM shops
         WHERE seq > ?1 AND its_shop_id BETWEEN ?2 AND ?3
         ORDER BY seq LIMIT ?4",
    )
    .bind(after_seq)
    .bind(its_ids.0)
    .bind(its_ids.1)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The emails of the users whose email is `LIKE` the pattern.
pub async fn emails_like(db: &SqlitePool, pattern: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE email LIKE ?")
        .bind(pattern)
        .fetch_all(db)
        .await
}

/// The settings of the connection a bulk load runs on, read before the load and put back
/// after it (each is the connection's own, and none can change inside a transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSettings {
    /// `PRAGMA cache_size`: pages, or KiB when negative.
    pub cache_size: i64,
    /// `PRAGMA temp_store`: 0 default, 1 file, 2 memory.
    pub temp_store: i64,
    /// `PRAGMA foreign_keys` (fixed for a transaction: setting it inside one does nothing).
    pub foreign_keys: bool,
    /// `PRAGMA threads`: the worker threads a statement's sorter may use besides its own.
    pub threads: i64,
}

impl LoadSettings {
    pub async fn read(conn: &mut SqliteConnection) -> Result<LoadSettings, sqlx::Error> {
        Ok(LoadSettings {
            cache_size: pragma(conn, "cache_size").await?,
            temp_store: pragma(conn, "temp_store").await?,
            foreign_keys: pragma(conn, "foreign_keys").await? != 0,
            threads: pragma(conn, "threads").await?,
        })
    }

    pub async fn apply(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        // Values, not text: each is a number this type holds.
        let sql = format!(
            "PRAGMA cache_size = {}; PRAGMA temp_store = {}; PRAGMA foreign_keys = {}; \
             PRAGMA threads = {}",
            self.cache_size,
            self.temp_store,
            i64::from(self.foreign_keys),
            self.threads,
        );
        sqlx::raw_sql(&sql).execute(&mut *conn).await?;
        Ok(())
    }
}

async fn pragma(conn: &mut SqliteConnection, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("PRAGMA {name}"))
        .fetch_one(&mut *conn)
        .await
}

/// A write transaction on one connection (`BEGIN IMMEDIATE`, like `store::begin_write`).
pub async fn begin_immediate(
    conn: &mut SqliteConnection,
) -> Result<Transaction<'_, Sqlite>, sqlx::Error> {
    sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await
}

/// Folds the WAL back into the database file and empties it.
pub async fn checkpoint(db: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await?;
    Ok(())
}

/// What a bulk load set aside, to put back once the rows are in: the ordinary (non-UNIQUE)
/// indexes of `shops`, `shop_events` and `zalo_oas`, built afterwards in one sorted pass
/// each instead of one random insert per row; the search index's insert trigger, replaced
/// by one `INSERT … SELECT` over the new rows; the per-row counter triggers (states, OA
/// flags and expiry days), replaced by one set-based statement each; and the OA summary's
/// triggers, whose work the loader does in memory (`SeedOaSummary`, each shop is written
/// with its summary). What is set aside is read from the schema itself, so a later
/// migration's indexes or trigger text are put back exactly as they were; a trigger whose
/// text or shape is not the one its replacement was written for is simply left in place
/// (slower, still right).
/// Everything happens inside the caller's transaction: other connections never see the
/// tables without their indexes.
pub struct BulkLoad {
    indexes: Vec<String>,
    search_trigger: Option<(String, String)>,
    /// The state counters' insert trigger (`STATE_COUNTS_TRIGGER`), when set aside.
    state_counts: Option<String>,
    /// The OA summary's per-row triggers, when set aside (see `OA_SUMMARY_TRIGGERS`): the
    /// new shops then carry their summary (`SeedOaSummary`) and `finish` adds their flags.
    oa_summary: Option<Vec<String>>,
    first_seq: i64,
    /// Whether the load adds at least one shop for every `SET_ASIDE_FROM` already there:
    /// then the indexes are set aside and built again, and the search index is merged
    /// whole; else the indexes stay and FTS5 merges the fill's segment in its own time.
    large: bool,
}

const SEARCH_TRIGGER: &str = "shops_search_after_insert";

/// The triggers that keep the shops' OA summary (migrations 20261201000002/3) row by row:
/// every seeded OA recomputed its shop's summary, which rewrote the shop's filter flags and
/// expiry-day counter — about fifteen statements per OA, most of a million-shop seed — and
/// every seeded shop got its `none` flag and six counter updates. A bulk load sets them
/// aside: the new shops are written with their summary (`SeedOaSummary`), and `finish`
/// adds their flags and expiry days once per table (`OA_SUMMARY_FINISH`). The triggers
/// with a text here are set aside only when their text is this one, the one the
/// replacement was written for; the update triggers have nothing to replace (no shop is
/// updated during the load).
const OA_SUMMARY_TRIGGERS: [(&str, Option<&str>); 5] = [
    (
        "zalo_oas_summary_after_insert",
        Some(OA_SUMMARY_INSERT_TRIGGER),
    ),
    ("shop_oa_flags_after_update", None),
    ("shop_oa_expiry_days_after_update", None),
    ("shop_oa_flags_after_insert", Some(OA_FLAGS_INSERT_TRIGGER)),
    (
        "shop_oa_expiry_days_after_insert",
        Some(OA_EXPIRY_DAYS_INSERT_TRIGGER),
    ),
];

/// `shop_oa_expiry_days_after_insert` as migration 20261201000003 creates it.
const OA_EXPIRY_DAYS_INSERT_TRIGGER: &str = "CREATE TRIGGER shop_oa_expiry_days_after_insert
AFTER INSERT ON shops WHEN new.oa_expires_at IS NOT NULL BEGIN
    INSERT INTO shop_oa_expiry_days (day, n) VALUES (new.oa_expires_at / 86400000, 1)
    ON CONFLICT (day) DO UPDATE SET n = n + 1;
END";

/// `zalo_oas_summary_after_insert` as migration 20261201000002 creates it: the rules
/// `SeedOaSummary::add` follows.
const OA_SUMMARY_INSERT_TRIGGER: &str = "CREATE TRIGGER zalo_oas_summary_after_insert AFTER INSERT ON zalo_oas BEGIN
    UPDATE shops SET (oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) =
        (SELECT COUNT(*), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
                COALESCE(SUM(o.current_quality = 'LOW'), 0),
                COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
                MIN(o.expires_at)
         FROM zalo_oas o WHERE o.shop_id = new.shop_id)
    WHERE id = new.shop_id;
END";

/// `shop_oa_flags_after_insert` as migration 20261201000002 creates it (compared with
/// runs of whitespace made one space).
const OA_FLAGS_INSERT_TRIGGER: &str = "CREATE TRIGGER shop_oa_flags_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'none', 0, new.seq WHERE new.oa_count = 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'connected', 0, new.seq WHERE new.oa_connected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'disconnected', 0, new.seq WHERE new.oa_disconnected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quality_low', 0, new.seq WHERE new.oa_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quota_low', 0, new.seq WHERE new.oa_quota_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'expires', new.oa_expires_at, new.seq WHERE new.oa_expires_at IS NOT NULL;
    UPDATE shop_oa_counts SET n = n + CASE flag
        WHEN 'none' THEN new.oa_count = 0
        WHEN 'connected' THEN new.oa_connected > 0
        WHEN 'disconnected' THEN new.oa_disconnected > 0
        WHEN 'quality_low' THEN new.oa_low > 0
        WHEN 'quota_low' THEN new.oa_quota_low > 0
        WHEN 'expires' THEN new.oa_expires_at IS NOT NULL
        ELSE 0 END;
END";

/// After the summary of the new shops (`?1`: the first new `seq`) is set: their filter flags
/// (what their insert trigger and then the update trigger would have left) and their expiry
/// days. The same rules as the triggers of migrations 20261201000002 and 20261201000003;
/// `tests/seed.rs` and `tests/api/admin_oa.rs` compare the result with a recount.
const OA_SUMMARY_FINISH: [&str; 7] = [
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'none', 0, seq FROM shops WHERE seq >= ?1 AND oa_count = 0",
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'connected', 0, seq FROM shops WHERE seq >= ?1 AND oa_connected > 0",
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'disconnected', 0, seq FROM shops WHERE seq >= ?1 AND oa_disconnected > 0",
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'quality_low', 0, seq FROM shops WHERE seq >= ?1 AND oa_low > 0",
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'quota_low', 0, seq FROM shops WHERE seq >= ?1 AND oa_quota_low > 0",
    "INSERT INTO shop_oa_flags (flag, key, shop_seq)
         SELECT 'expires', oa_expires_at, seq FROM shops WHERE seq >= ?1 AND oa_expires_at IS NOT NULL",
    "INSERT INTO shop_oa_expiry_days (day, n)
         SELECT day, c FROM (SELECT oa_expires_at / 86400000 AS day, COUNT(*) AS c FROM shops
                             WHERE seq >= ?1 AND oa_expires_at IS NOT NULL GROUP BY 1) WHERE true
         ON CONFLICT (day) DO UPDATE SET n = n + excluded.n",
];

/// Then the per-filter counters, recounted from the flags (a count of each flag's range of
/// the primary key).
const OA_COUNTS_RECOUNT: &str = "UPDATE shop_oa_counts
    SET n = (SELECT COUNT(*) FROM shop_oa_flags f WHERE f.flag = shop_oa_counts.flag)";

/// The shops per state (migration 20261130000004): one UPSERT per inserted shop, set aside
/// when its text is `STATE_COUNTS_TRIGGER_SQL`'s, and `STATE_COUNTS_FINISH` adds the new
/// shops (`seq >= ?1`) per state once instead.
const STATE_COUNTS_TRIGGER: &str = "shop_state_counts_after_insert";
const STATE_COUNTS_TRIGGER_SQL: &str =
    "CREATE TRIGGER shop_state_counts_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shop_state_counts (state, n) VALUES (new.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END";
const STATE_COUNTS_FINISH: &str = "INSERT INTO shop_state_counts (state, n)
    SELECT state, c FROM (SELECT state, COUNT(*) AS c FROM shops WHERE seq >= ?1 GROUP BY state)
    WHERE true
    ON CONFLICT (state) DO UPDATE SET n = n + excluded.n";

/// `sql` with every run of whitespace made one space, for comparing a trigger's stored
/// text with the one a set-based statement was written for.
fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The stored `CREATE TRIGGER` text of `name`, if the trigger exists.
async fn trigger_sql(
    tx: &mut Transaction<'_, Sqlite>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await
}

impl BulkLoad {
    /// `adding`: how many shops the load will add.
    pub async fn start(tx: &mut Transaction<'_, Sqlite>, adding: u64) -> anyhow::Result<BulkLoad> {
        let first_seq: i64 = sqlx::query_scalar("SELECT coalesce(MAX(seq), 0) + 1 FROM shops")
            .fetch_one(&mut **tx)
            .await?;
        // An index built again costs time for every row of its table, one kept for every
        // new row: a few shops added to many keep them (see `SET_ASIDE_FROM`).
        let existing = u64::try_from(first_seq - 1).unwrap_or(0);
        let large = is_large(adding, existing);
        let indexes: Vec<(String, String)> = if large {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name IN ('shops', 'shop_events', 'zalo_oas')
                   AND sql IS NOT NULL
                   AND upper(sql) NOT LIKE 'CREATE UNIQUE%'",
            )
            .fetch_all(&mut **tx)
            .await?
        } else {
            Vec::new()
        };
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut **tx)
                .await?;
        }
        let trigger: Option<String> =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
                .bind(SEARCH_TRIGGER)
                .fetch_optional(&mut **tx)
                .await?;
        let search_trigger = match trigger {
            Some(create) => match search_fill_sql(&create) {
                Some(fill) => {
                    sqlx::query(&format!("DROP TRIGGER {SEARCH_TRIGGER}"))
                        .execute(&mut **tx)
                        .await?;
                    Some((create, fill))
                }
                None => None,
            },
            None => None,
        };
        let state_counts = match trigger_sql(tx, STATE_COUNTS_TRIGGER).await? {
            Some(sql) if one_line(&sql) == one_line(STATE_COUNTS_TRIGGER_SQL) => {
                sqlx::query(&format!("DROP TRIGGER {STATE_COUNTS_TRIGGER}"))
                    .execute(&mut **tx)
                    .await?;
                Some(sql)
            }
            _ => None,
        };
        let oa_summary = set_aside_oa_summary(tx).await?;
        Ok(BulkLoad {
            indexes: indexes.into_iter().map(|(_, sql)| sql).collect(),
            search_trigger,
            state_counts,
            oa_summary,
            first_seq,
            large,
        })
    }

    /// Puts back what `start` set aside; answers where the time went.
    pub async fn finish(
        self,
        tx: &mut Transaction<'_, Sqlite>,
    ) -> anyhow::Result<Vec<(&'static str, Duration)>> {
        let mut phases = Vec::new();
        let mut started = Instant::now();
        let mut lap = |phases: &mut Vec<(&'static str, Duration)>, what: &'static str| {
            phases.push((what, started.elapsed()));
            started = Instant::now();
        };
        if let Some(create) = &self.state_counts {
            sqlx::query(STATE_COUNTS_FINISH)
                .bind(self.first_seq)
                .execute(&mut **tx)
                .await
                .context("counting the new shops per state")?;
            sqlx::query(create).execute(&mut **tx).await?;
        }
        lap(&mut phases, "the state counters");
        if let Some(creates) = &self.oa_summary {
            for sql in OA_SUMMARY_FINISH {
                sqlx::query(sql)
                    .bind(self.first_seq)
                    .execute(&mut **tx)
                    .await
                    .with_context(|| format!("the OA filters of the new shops: {sql}"))?;
            }
            sqlx::query(OA_COUNTS_RECOUNT).execute(&mut **tx).await?;
            for create in creates {
                sqlx::query(create).execute(&mut **tx).await?;
            }
            lap(&mut phases, "the OA filters and counters");
        }
        // The index builds spill the load's page cache (`INDEX_BUILD`), so the statements
        // above, which read every new shop, go first: after the builds they took 3.7–4.8 s
        // instead of 2.9–3.1 (whole seeds at a million shops, two runs each order). The
        // search index's fill comes after them: before, it took 11.7 s instead of 9.2.
        if !self.indexes.is_empty() {
            let load = LoadSettings::read(tx).await?;
            INDEX_BUILD
                .with_foreign_keys(load.foreign_keys)
                .apply(tx)
                .await?;
            let built = async {
                for sql in &self.indexes {
                    sqlx::query(sql)
                        .execute(&mut **tx)
                        .await
                        .with_context(|| format!("re-creating an index: {sql}"))?;
                }
                anyhow::Ok(())
            }
            .await;
            load.apply(tx).await?;
            built?;
            lap(&mut phases, "the indexes");
        }
        if let Some((create, fill)) = &self.search_trigger {
            // FTS5 keeps new index entries in a memory buffer of `hashsize` bytes (1 MiB by
            // default) and writes a segment, merged with the others later, each time it is
            // full: with a larger buffer for the fill, filling a million shops took 16 s
            // instead of 27 (sqlite3 CLI). The setting is stored in the index's config
            // table: it is put back as it was, in the same transaction.
            let hashsize: Option<i64> =
                sqlx::query_scalar("SELECT v FROM shops_search_config WHERE k = 'hashsize'")
                    .fetch_optional(&mut **tx)
                    .await?;
            set_search_hashsize(tx, SEARCH_FILL_HASHSIZE).await?;
            sqlx::query(fill)
                .bind(self.first_seq)
                .execute(&mut **tx)
                .await
                .context("filling the search index")?;
            lap(&mut phases, "the search index");
            set_search_hashsize(tx, hashsize.unwrap_or(FTS5_DEFAULT_HASHSIZE)).await?;
            if hashsize.is_none() {
                sqlx::query("DELETE FROM shops_search_config WHERE k = 'hashsize'")
                    .execute(&mut **tx)
                    .await?;
            }
            // The fill leaves several segments, and a search walks each one for every
            // trigram it looks for: merged into one, a name search's page at a million
            // shops took 0.22 ms of SQLite's time instead of 0.65 (sqlite3 CLI, 8 segments
            // before). The merge cost 1.1–1.3 s at a million shops, once per seed; it rewrites
            // the whole index, so a small load leaves its one segment to FTS5's own merges.
            if self.large {
                sqlx::query("INSERT INTO shops_search (shops_search) VALUES ('optimize')")
                    .execute(&mut **tx)
                    .await
                    .context("merging the search index")?;
            }
            sqlx::query(create).execute(&mut **tx).await?;
            lap(&mut phases, "the search index's merge");
        }
        Ok(phases)
    }
}

/// The connection's settings while `finish` builds the indexes set aside. SQLite sorts an
/// index's keys before writing them. With temporary files allowed it cuts them into runs
/// the size of the page cache, sorts each run on a worker thread while it reads on, and
/// merges the runs; with `temp_store = MEMORY` it sorts all the keys as one list on the
/// statement's own thread. Measured with the sqlite3 CLI on a million-shop database, the
/// ten indexes of `shops` and `shop_events` built in the transaction that wrote the rows:
/// 16.2–16.7 s sorted as one list each; 14.7 s in 16 MiB runs without a worker; 11.4–11.8 s
/// in 16 MiB runs with one worker (with two, no faster); 10.3 s in 4 MiB runs with one. The
/// small cache spills the load's dirty pages to the WAL as the indexes need pages: the
/// commit would have written them there.
const INDEX_BUILD: LoadSettings = LoadSettings {
    cache_size: -4 * 1024,
    temp_store: 1,
    foreign_keys: false,
    threads: 1,
};

impl LoadSettings {
    /// The same settings with `foreign_keys` as given: it cannot change inside a
    /// transaction, so settings applied inside one keep the transaction's.
    const fn with_foreign_keys(self, foreign_keys: bool) -> LoadSettings {
        LoadSettings {
            foreign_keys,
            ..self
        }
    }
}

/// A load is large (`BulkLoad::large`) when it adds at least one shop for every
/// `SET_ASIDE_FROM` already there (counted by the largest `seq`, which deletions only make
/// larger: a load is then small a little more often). Measured at a million shops (about
/// 1,002,000 in the database, the whole command): 1,000 shops more took 16.4 s as a large
/// load (9.96 s of it the index builds, 2.73 s the search index's merge), 1.6 and
/// 0.9 s as a small one (the previous code: 21.8 s).
const SET_ASIDE_FROM: u64 = 8;

fn is_large(adding: u64, existing: u64) -> bool {
    adding.saturating_mul(SET_ASIDE_FROM) >= existing
}

/// The search index's buffer while a bulk load fills it, and SQLite's default.
const SEARCH_FILL_HASHSIZE: i64 = 256 * 1024 * 1024;
const FTS5_DEFAULT_HASHSIZE: i64 = 1024 * 1024;

async fn set_search_hashsize(
    tx: &mut Transaction<'_, Sqlite>,
    bytes: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO shops_search (shops_search, rank) VALUES ('hashsize', ?)")
        .bind(bytes)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Drops the OA summary's per-row triggers when all of them are there, each with the text
/// its replacement was written for (`OA_SUMMARY_TRIGGERS`); answers their `CREATE`
/// statements.
async fn set_aside_oa_summary(
    tx: &mut Transaction<'_, Sqlite>,
) -> anyhow::Result<Option<Vec<String>>> {
    let mut creates = Vec::new();
    for (name, expected) in OA_SUMMARY_TRIGGERS {
        match trigger_sql(tx, name).await? {
            Some(sql) if expected.is_none_or(|text| one_line(text) == one_line(&sql)) => {
                creates.push(sql)
            }
            _ => return Ok(None),
        }
    }
    for (name, _) in OA_SUMMARY_TRIGGERS {
        sqlx::query(&format!("DROP TRIGGER {name}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(Some(creates))
}

/// From the search index's insert trigger (`… BEGIN INSERT INTO shops_search (rowid,
/// haystack) VALUES (-new.seq, <expr>); END`), the same insert for every shop from `?1` on,
/// newest shop first: the index's rowid is the shop's `seq` negated (migration
/// `20261202000001_search_newest_first`), and FTS5 writes its buffer out as a segment
/// whenever a rowid is not greater than the one before, so the fill goes in ascending rowid.
fn search_fill_sql(create_trigger: &str) -> Option<String> {
    let upper = create_trigger.to_ascii_uppercase();
    let body = create_trigger[upper.find(" BEGIN")? + 6..upper.rfind("END")?].trim();
    let body = body.strip_suffix(';')?.trim();
    if body.contains(';') {
        return None; // more than one statement
    }
    let words: Vec<&str> = body.split_whitespace().collect();
    let head = "INSERT INTO shops_search (rowid, haystack) VALUES";
    let head_words: Vec<&str> = head.split_whitespace().collect();
    if words.len() <= head_words.len()
        || !words
            .iter()
            .zip(&head_words)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        return None;
    }
    let values_at = body.to_ascii_uppercase().find("VALUES")? + "VALUES".len();
    let values = body[values_at..].trim();
    let inner = values.strip_prefix('(')?.strip_suffix(')')?;
    // Every `new.` is the inserted row: here, the outer `shops` row of the SELECT.
    let select = inner.replace("new.", "shops.").replace("NEW.", "shops.");
    Some(format!(
        "INSERT INTO shops_search (rowid, haystack) SELECT {select} FROM shops WHERE shops.seq >= ?1 \
         ORDER BY shops.seq DESC"
    ))
}

/// Inserts owners (id, email, name, created at) sharing one password hash, in one
/// transaction.
pub async fn insert_owners(
    db: &SqlitePool,
    rows: &[(Uuid, String, String, i64)],
    hash: &str,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row_insert(
            "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ",
            "(?, ?, ?, 'owner', ?, ?)",
            batch.len(),
        );
        let mut query = sqlx::query(&sql);
        for (id, email, name, created_at) in batch {
            query = query
                .bind(*id)
                .bind(email)
                .bind(name)
                .bind(hash)
                .bind(*created_at);
        }
        query
            .execute(&mut *tx)
            .await
            .context("inserting seed owners")?;
    }
    tx.commit().await?;
    Ok(())
}

fn multi_row_insert(head: &str, row: &str, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 1));
    sql.push_str(head);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql
}

pub struct SeedShop {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub search_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_shop_id: Option<String>,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub state: ConnectionState,
    pub failure_code: Option<&'static str>,
    pub failure_detail: Option<&'static str>,
    pub key: Option<SealedKey>,
    pub last_verified_at: Option<i64>,
    pub updated_at: i64,
    pub created_at: i64,
    /// Its OAs' summary (the OAs are inserted after it, in the same load).
    pub oa: SeedOaSummary,
}

pub struct SeedEvent {
    pub shop_id: Uuid,
    pub at: i64,
    pub actor: String,
    pub from_state: Option<ConnectionState>,
    pub to_state: ConnectionState,
    pub reason: String,
}

/// A seeded shop's Zalo OA (issue 12: every admin OA view can be tried and benchmarked).
pub struct SeedOa {
    pub oa_id: String,
    pub shop_id: Uuid,
    pub name: String,
    pub is_verified: bool,
    pub status: &'static str,
    pub daily_quota: i64,
    pub remaining_quota: i64,
    pub current_quality: &'static str,
    pub last_week_quality: &'static str,
    pub expires_at: Option<i64>,
    pub connected_at: i64,
}

/// A new shop's OA summary (`shops.oa_count` … `oa_expires_at`), written with the shop:
/// what `OA_SUMMARY_INSERT_TRIGGER` leaves after its OAs are inserted, made in memory
/// instead (the trigger's set-based `UPDATE` of half a million just-written shops took 6 s
/// of a million-shop seed). `tests/seed.rs` compares every seeded shop's with a recount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedOaSummary {
    pub count: i64,
    pub connected: i64,
    pub disconnected: i64,
    pub low: i64,
    pub quota_low: i64,
    pub expires_at: Option<i64>,
}

impl SeedOaSummary {
    /// The summary with one more of the shop's OAs.
    pub fn add(&mut self, oa: &SeedOa) {
        self.count += 1;
        self.connected += i64::from(oa.status == "P");
        self.disconnected += i64::from(oa.status != "P");
        self.low += i64::from(oa.current_quality == "LOW");
        self.quota_low += i64::from(oa.daily_quota > 0 && oa.remaining_quota * 10 < oa.daily_quota);
        self.expires_at = match (self.expires_at, oa.expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The first OA id above `base` no seeded OA uses yet (seeded ids all have `base`'s number
/// of digits, so the text order is the number order: one seek of the primary key).
pub async fn next_seed_oa_id(db: &SqlitePool, base: i64) -> Result<i64, sqlx::Error> {
    let hi = (base / 100_000_000_000_000_000 + 1) * 100_000_000_000_000_000;
    let max: Option<String> =
        sqlx::query_scalar("SELECT MAX(oa_id) FROM zalo_oas WHERE oa_id >= ? AND oa_id < ?")
            .bind(base.to_string())
            .bind(hi.to_string())
            .fetch_one(db)
            .await?;
    Ok(max
        .and_then(|m| m.parse::<i64>().ok())
        .map_or(base, |m| (m + 1).max(base)))
}

/// A row of a table the seed loads: its multi-row INSERT and its values in that order.
pub trait SeedRow {
    /// `INSERT INTO table (columns) VALUES `.
    const INSERT: &'static str;
    /// One row's placeholders, `(?, ?, …)`.
    const PLACEHOLDERS: &'static str;
    /// Adds the row's values to a statement's, in the INSERT's column order.
    fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), BoxDynError>;
}

/// Rows bound ahead of their inserts, `ROWS_PER_STATEMENT` to a statement. The seed binds
/// them on the thread that makes them, so the side that inserts only sends each statement:
/// binding (sqlx copies every borrowed value it is given into one it owns) ran on that
/// side, one statement after the other with SQLite's work on them.
pub struct BoundRows<T> {
    statements: Vec<(usize, SqliteArguments<'static>)>,
    rows: usize,
    of: PhantomData<fn(T)>,
}

impl<T: SeedRow> BoundRows<T> {
    pub fn bind(rows: Vec<T>) -> anyhow::Result<BoundRows<T>> {
        let count = rows.len();
        let mut statements = Vec::with_capacity(count.div_ceil(ROWS_PER_STATEMENT));
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut args = SqliteArguments::default();
            let mut n = 0;
            for row in rows.by_ref().take(ROWS_PER_STATEMENT) {
                row.bind(&mut args).map_err(|e| anyhow::anyhow!(e))?;
                n += 1;
            }
            statements.push((n, args));
        }
        Ok(BoundRows {
            statements,
            rows: count,
            of: PhantomData,
        })
    }

    /// How many rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Inserts them, in the caller's transaction.
    pub async fn insert(self, tx: &mut Transaction<'_, Sqlite>) -> anyhow::Result<()> {
        for (n, args) in self.statements {
            // The same text for every full statement: sqlx prepares it once per connection.
            let sql = multi_row_insert(T::INSERT, T::PLACEHOLDERS, n);
            sqlx::query_with(&sql, args)
                .execute(&mut **tx)
                .await
                .with_context(|| format!("bulk insert: {}", T::INSERT))?;
        }
        Ok(())
    }
}

impl SeedRow for SeedShop {
    const INSERT: &'static str = "INSERT INTO shops (id, owner_id, name, search_name, phone, \
        email, owner_ref, its_shop_id, its_shop_name, state, failure_code, failure_detail, \
        key_ciphertext, key_nonce, key_id, last_verified_at, updated_at, created_at, oa_count, \
        oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) VALUES ";
    const PLACEHOLDERS: &'static str =
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), BoxDynError> {
        let (ciphertext, nonce, key_id) = match self.key {
            Some(key) => (Some(key.ciphertext), Some(key.nonce), Some(key.key_id)),
            None => (None, None, None),
        };
        args.add(self.id)?;
        args.add(self.owner_id)?;
        args.add(self.name)?;
        args.add(self.search_name)?;
        args.add(self.phone)?;
        args.add(self.email)?;
        args.add(self.external_shop_id)?;
        args.add(self.its_shop_id)?;
        args.add(self.its_shop_name)?;
        args.add(self.state.as_str())?;
        args.add(self.failure_code)?;
        args.add(self.failure_detail)?;
        args.add(ciphertext)?;
        args.add(nonce)?;
        args.add(key_id)?;
        args.add(self.last_verified_at)?;
        args.add(self.updated_at)?;
        args.add(self.created_at)?;
        args.add(self.oa.count)?;
        args.add(self.oa.connected)?;
        args.add(self.oa.disconnected)?;
        args.add(self.oa.low)?;
        args.add(self.oa.quota_low)?;
        args.add(self.oa.expires_at)
    }
}

impl SeedRow for SeedEvent {
    const INSERT: &'static str =
        "INSERT INTO shop_events (shop_id, at, actor, from_state, to_state, reason) VALUES ";
    const PLACEHOLDERS: &'static str = "(?, ?, ?, ?, ?, ?)";

    fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), BoxDynError> {
        args.add(self.shop_id)?;
        args.add(self.at)?;
        args.add(self.actor)?;
        args.add(self.from_state.map(ConnectionState::as_str))?;
        args.add(self.to_state.as_str())?;
        args.add(self.reason)
    }
}

/// Seeded OAs go in with the load's triggers set aside: their shops were written with
/// their summary (`SeedOaSummary`).
impl SeedRow for SeedOa {
    const INSERT: &'static str = "INSERT INTO zalo_oas (oa_id, shop_id, name, is_verified, \
        status, daily_quota, remaining_quota, current_quality, last_week_quality, expires_at, \
        connected_at, last_read_at, updated_at) VALUES ";
    const PLACEHOLDERS: &'static str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    fn bind(self, args: &mut SqliteArguments<'static>) -> Result<(), BoxDynError> {
        args.add(self.oa_id)?;
        args.add(self.shop_id)?;
        args.add(self.name)?;
        args.add(self.is_verified)?;
        args.add(self.status)?;
        args.add(self.daily_quota)?;
        args.add(self.remaining_quota)?;
        args.add(self.current_quality)?;
        args.add(self.last_week_quality)?;
        args.add(self.expires_at)?;
        args.add(self.connected_at)?;
        args.add(self.connected_at)?;
        args.add(self.connected_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A load's settings are the connection's own and go back exactly as they were: the
    /// pool's connections check foreign keys again after a seed.
    #[tokio::test]
    async fn load_settings_are_put_back_as_they_were() {
        use sqlx::Connection;
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::raw_sql("PRAGMA foreign_keys = ON")
            .execute(&mut conn)
            .await
            .unwrap();
        let before = LoadSettings::read(&mut conn).await.unwrap();
        assert!(before.foreign_keys);
        let load = LoadSettings {
            cache_size: -65536,
            temp_store: 2,
            foreign_keys: false,
            threads: 1,
        };
        load.apply(&mut conn).await.unwrap();
        assert_eq!(LoadSettings::read(&mut conn).await.unwrap(), load);
        before.apply(&mut conn).await.unwrap();
        assert_eq!(LoadSettings::read(&mut conn).await.unwrap(), before);
    }

    /// The triggers a bulk load sets aside only when their text is the one its set-based
    /// statements were written for: the migrations' own (else a load silently keeps them).
    #[test]
    fn the_triggers_set_aside_by_text_are_the_migrations_own() {
        for (migration, expected) in [
            (
                include_str!("../../migrations/app/20261130000004_scale.sql"),
                STATE_COUNTS_TRIGGER_SQL,
            ),
            (
                include_str!("../../migrations/app/20261201000002_zalo_oa_summary.sql"),
                OA_FLAGS_INSERT_TRIGGER,
            ),
            (
                include_str!("../../migrations/app/20261201000002_zalo_oa_summary.sql"),
                OA_SUMMARY_INSERT_TRIGGER,
            ),
            (
                include_str!("../../migrations/app/20261201000003_oa_expiry_days.sql"),
                OA_EXPIRY_DAYS_INSERT_TRIGGER,
            ),
        ] {
            let name = expected.split_whitespace().nth(2).unwrap();
            let start = migration
                .match_indices(&format!("CREATE TRIGGER {name}"))
                .map(|(at, _)| at)
                .find(|at| {
                    migration[at + "CREATE TRIGGER ".len() + name.len()..]
                        .starts_with(char::is_whitespace)
                })
                .unwrap();
            let end = start + migration[start..].find("\nEND;").unwrap() + "\nEND".len();
            assert_eq!(
                one_line(&migration[start..end]),
                one_line(expected),
                "{name}"
            );
        }
    }

    /// `tests/seed.rs` seeds 500 shops, then 120 (indexes set aside), then 20 (kept).
    #[test]
    fn a_few_rows_added_to_many_keep_the_indexes() {
        assert!(is_large(500, 0));
        assert!(is_large(120, 500));
        assert!(!is_large(20, 620));
        assert!(!is_large(1_000, 1_002_000));
        assert!(is_large(u64::MAX, u64::MAX));
    }

    #[test]
    fn the_search_fill_is_the_insert_trigger_over_every_new_row() {
        let migration = include_str!("../../migrations/app/20261202000001_search_newest_first.sql");
        let start = migration
            .find("CREATE TRIGGER shops_search_after_insert")
            .unwrap();
        let end = start + migration[start..].find("END;").unwrap() + "END".len();
        let fill = search_fill_sql(&migration[start..end]).expect("the trigger's shape");
        assert!(fill.starts_with(
            "INSERT INTO shops_search (rowid, haystack) SELECT -shops.seq, shops.search_name"
        ));
        assert!(fill.ends_with("FROM shops WHERE shops.seq >= ?1 ORDER BY shops.seq DESC"));
        assert!(!fill.contains("new."));
        // Anything else is left alone (the trigger then stays in place).
        assert_eq!(
            search_fill_sql("CREATE TRIGGER t AFTER INSERT ON shops BEGIN DELETE FROM x; END"),
            None
        );
        assert_eq!(
            search_fill_sql(
                "CREATE TRIGGER t AFTER INSERT ON shops BEGIN INSERT INTO shops_search (rowid, haystack) VALUES (new.seq, 'a'); INSERT INTO y VALUES (1); END"
            ),
            None
        );
    }
}
