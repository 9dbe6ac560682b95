//! `shoplink seed` through its library function, on a temporary database.

use shoplink::crypto::{KeySealer, SealedKey, SecretKey};
use shoplink::domain::{fold_for_search, ConnectionState};
use shoplink::seed::{seed, ADMIN_EMAIL};
use shoplink::store;
use std::collections::BTreeSet;

use sqlx::SqlitePool;
use uuid::Uuid;

#[path = "support/oa_recount.rs"]
mod oa_recount;

/// id, owner_id, state, name, its_shop_id, key_ciphertext, key_nonce, key_id
type KeyRow = (
    Uuid,
    Uuid,
    String,
    String,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<String>,
);

async fn count(db: &SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// `PRAGMA integrity_check` runs on a connection of its own: on a pooled connection that
/// has read the search index before other connections wrote to it, SQLite 3.46's check of
/// FTS5 tables can report a "malformed inverted index" that a fresh connection (and FTS5's
/// own 'integrity-check' command) finds fine — a stale per-connection cache, not damage.
async fn assert_database_is_sound(db: &SqlitePool, path: &std::path::Path) {
    use sqlx::Connection;
    let mut fresh = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut fresh)
        .await
        .unwrap();
    sqlx::query("INSERT INTO shops_search (shops_search) VALUES ('integrity-check')")
        .execute(&mut fresh)
        .await
        .expect("the search index agrees with its rows");
    fresh.close().await.unwrap();
    assert_eq!(integrity, vec!["ok".to_owned()]);
    let fk_problems = count(db, "SELECT COUNT(*) FROM pragma_foreign_key_check").await;
    assert_eq!(fk_problems, 0, "foreign key violations");
}

/// The indexes and triggers, as `sqlite_master` holds them (type, name, text), and the
/// search index's settings (a bulk load changes one while it fills the index).
async fn schema(db: &SqlitePool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')
         UNION ALL SELECT 'fts5 config', k, CAST(v AS TEXT) FROM shops_search_config
         ORDER BY 1, 2",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

async fn rows<T>(db: &SqlitePool, sql: &str) -> BTreeSet<T>
where
    T: Ord + Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    sqlx::query_as::<_, T>(sql)
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Everything a seed's bulk load sets aside and redoes once at the end (`store::bulk`)
/// equals a full recount made the slow way: the counters per state, each shop's OA summary,
/// the OA filter flags and their counters, the expiry days, the search index's rows; and
/// the indexes and triggers are the migrations' own again.
async fn assert_counters_equal_a_recount(
    db: &SqlitePool,
    migrated: &[(String, String, Option<String>)],
) {
    assert_eq!(schema(db).await, migrated, "indexes and triggers put back");

    let kept: BTreeSet<(String, i64)> =
        rows(db, "SELECT state, n FROM shop_state_counts WHERE n > 0").await;
    let recount: BTreeSet<(String, i64)> =
        rows(db, "SELECT state, COUNT(*) FROM shops GROUP BY state").await;
    assert_eq!(kept, recount, "shop_state_counts");

    let kept: BTreeSet<oa_recount::Summary> = rows(
        db,
        "SELECT seq, oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at
         FROM shops",
    )
    .await;
    let recount: BTreeSet<oa_recount::Summary> = rows(db, oa_recount::SUMMARY_RECOUNT).await;
    assert_eq!(kept, recount, "each shop's OA summary");
    // The flags, their counters and the expiry days, against the same recount the
    // randomised test of `tests/api/admin_oa.rs` uses.
    assert_eq!(
        oa_recount::kept(db).await,
        oa_recount::recount(db).await,
        "shop_oa_flags, shop_oa_counts, shop_oa_expiry_days"
    );

    // The search index holds every shop once, with the text its triggers would write.
    let kept: BTreeSet<(i64, String)> = rows(db, "SELECT -rowid, haystack FROM shops_search").await;
    let recount: BTreeSet<(i64, String)> = rows(
        db,
        "SELECT seq, search_name || ' ' || coalesce(phone, '') || ' ' || coalesce(lower(email), '') || ' '
                || coalesce(lower(external_shop_id), '') || ' ' || coalesce(lower(owner_ref), '') || ' '
                || coalesce(its_shop_id, '')
         FROM shops",
    )
    .await;
    assert_eq!(kept.len(), recount.len(), "search index rows");
    assert!(
        kept == recount,
        "the search index's rows differ from the shops'"
    );
}

#[tokio::test]
async fn seeding_writes_consistent_shops_keys_and_histories_and_can_add_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("seed.db")).await.unwrap();
    let secret = SecretKey::generate();
    let migrated = schema(&db).await;

    let report = seed(&db, &secret, 500, 25).await.unwrap();
    assert_counters_equal_a_recount(&db, &migrated).await;
    assert_eq!(report.shops, 500);
    assert_eq!(report.owners, 25);
    assert_eq!(report.owner_numbers, Some((1, 25)));
    assert_eq!(report.per_state.iter().map(|(_, n)| n).sum::<u64>(), 500);
    assert!(report.admin_password.is_some());
    assert!(report.count(ConnectionState::Connected) > 150, "{report:?}");

    // The counts per state match the table.
    for (state, n) in &report.per_state {
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE state = ?")
            .bind(state.as_str())
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(stored as u64, *n, "{state}");
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM shops").await, 500);

    // Zalo OAs (issue 12): one or two per connected shop, none elsewhere; some LOW, some
    // out of or nearly out of quota, some near or past expiry; the OA summary's counters
    // equal a recount.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM zalo_oas").await as u64,
        report.oas
    );
    let connected = report.count(ConnectionState::Connected) as i64;
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT shop_id) FROM zalo_oas").await,
        connected
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM zalo_oas o JOIN shops s ON s.id = o.shop_id WHERE s.state <> 'connected'").await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM (SELECT shop_id FROM zalo_oas GROUP BY shop_id HAVING COUNT(*) > 2)").await,
        0
    );
    let now = shoplink::store::now_ms();
    for (what, sql) in [
        ("LOW", "SELECT COUNT(*) FROM zalo_oas WHERE current_quality = 'LOW'".to_owned()),
        ("out of quota", "SELECT COUNT(*) FROM zalo_oas WHERE remaining_quota = 0".to_owned()),
        ("under 10 %", "SELECT COUNT(*) FROM zalo_oas WHERE remaining_quota > 0 AND remaining_quota * 10 < daily_quota".to_owned()),
        ("expired", format!("SELECT COUNT(*) FROM zalo_oas WHERE expires_at <= {now}")),
        ("expiring", format!("SELECT COUNT(*) FROM zalo_oas WHERE expires_at > {now} AND expires_at < {now} + 14 * 86400000")),
        ("disconnected", "SELECT COUNT(*) FROM zalo_oas WHERE status = 'N'".to_owned()),
    ] {
        assert!(count(&db, &sql).await > 0, "no seeded OA is {what}");
    }
    for (flag, sql) in [
        (
            "none",
            "SELECT COUNT(*) FROM shops WHERE id NOT IN (SELECT shop_id FROM zalo_oas)",
        ),
        (
            "quality_low",
            "SELECT COUNT(DISTINCT shop_id) FROM zalo_oas WHERE current_quality = 'LOW'",
        ),
        (
            "connected",
            "SELECT COUNT(DISTINCT shop_id) FROM zalo_oas WHERE status = 'P'",
        ),
    ] {
        let kept: i64 = sqlx::query_scalar("SELECT n FROM shop_oa_counts WHERE flag = ?")
            .bind(flag)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(kept, count(&db, sql).await, "{flag}");
    }
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users WHERE role = 'owner'").await,
        25
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users WHERE role = 'admin'").await,
        1
    );

    // Every shop with a key opens it, the key names the shop's ITS id; only connected and
    // needs_reauth shops have one.
    let sealer = KeySealer::new(&secret);
    let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, owner_id, state, name, its_shop_id, key_ciphertext, key_nonce, key_id FROM shops",
        )
        .fetch_all(&db)
        .await
        .unwrap();
    for (id, owner, state, name, its_id, ciphertext, nonce, key_id) in rows {
        let state = ConnectionState::parse(&state).unwrap();
        match (ciphertext, nonce, key_id) {
            (Some(ciphertext), Some(nonce), Some(key_id)) => {
                assert!(state.has_key(), "{state} with a key");
                let key = sealer
                    .open(
                        &SealedKey {
                            ciphertext,
                            nonce,
                            key_id,
                        },
                        id,
                        owner,
                    )
                    .expect("a seeded key opens");
                let prefix = format!("shop{}:", its_id.unwrap());
                assert!(key.expose_secret().starts_with(&prefix));
            }
            (None, None, None) => assert!(!state.has_key(), "{state} without a key"),
            _ => panic!("a half-stored key"),
        }
        let search: String = sqlx::query_scalar("SELECT search_name FROM shops WHERE id = ?")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(search, fold_for_search(&name));
    }

    // Every shop has 2 to 4 history entries, and the newest one is the shop's state.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM shops s WHERE (SELECT COUNT(*) FROM shop_events e WHERE e.shop_id = s.id) NOT BETWEEN 2 AND 4"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM shops s WHERE s.state IS NOT
                (SELECT e.to_state FROM shop_events e WHERE e.shop_id = s.id ORDER BY e.id DESC LIMIT 1)"
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM shop_events").await as u64,
        report.events
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM shops WHERE state = 'failed' AND failure_code IS NULL"
        )
        .await,
        0
    );
    // Every seeded reason and failure code is one the app reads back (not "reason unknown").
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT reason FROM shop_events WHERE reason IS NOT NULL")
            .fetch_all(&db)
            .await
            .unwrap();
    for stored in &reasons {
        let (reason, _) = shoplink::services::reasons::Reason::parse_stored(stored);
        assert_ne!(
            reason,
            shoplink::services::reasons::Reason::Unknown,
            "{stored}"
        );
    }
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT failure_code FROM shops WHERE failure_code IS NOT NULL",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    for code in &codes {
        assert!(
            shoplink::services::reasons::FailureCode::from_name(code).is_some(),
            "{code}"
        );
    }
    assert_database_is_sound(&db, &dir.path().join("seed.db")).await;

    // The seeded accounts log in with the printed passwords.
    let owner = shoplink::services::accounts::authenticate(
        &db,
        &shoplink::password::Hasher::default(),
        "owner7@seed.shoplink.local",
        &report.owner_password,
    )
    .await
    .unwrap();
    assert!(owner.is_some());
    let admin = shoplink::services::accounts::authenticate(
        &db,
        &shoplink::password::Hasher::default(),
        ADMIN_EMAIL,
        report.admin_password.as_deref().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(admin.unwrap().role, "admin");

    // A second run adds to what is there: new owners, fresh ITS ids, the admin kept.
    let again = seed(&db, &secret, 120, 4).await.unwrap();
    assert_eq!(again.owner_numbers, Some((26, 29)));
    assert!(again.admin_password.is_none());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM shops").await, 620);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users WHERE role = 'owner'").await,
        29
    );
    assert_database_is_sound(&db, &dir.path().join("seed.db")).await;
    // Into a database that already had shops, the counters still equal a recount.
    assert_counters_equal_a_recount(&db, &migrated).await;

    // A few more shops than that keep the indexes (`BulkLoad::start`), row by row.
    seed(&db, &secret, 20, 1).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM shops").await, 640);
    assert_database_is_sound(&db, &dir.path().join("seed.db")).await;
    assert_counters_equal_a_recount(&db, &migrated).await;
}

/// A bulk load's DROP INDEX / DROP TRIGGER are in the seed's transaction: a seed that fails
/// halfway leaves every index and trigger in place.
#[tokio::test]
async fn a_bulk_load_that_rolls_back_leaves_the_indexes_and_triggers_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("seed.db")).await.unwrap();
    seed(&db, &SecretKey::generate(), 30, 2).await.unwrap();
    let before = schema(&db).await;
    let mut conn = db.acquire().await.unwrap();
    let mut tx = store::bulk::begin_immediate(&mut conn).await.unwrap();
    let _set_aside = store::bulk::BulkLoad::start(&mut tx, 30).await.unwrap();
    let during: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')
         ORDER BY type, name",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        during.len() + 10 < before.len(),
        "the load set indexes and triggers aside: {} of {}",
        during.len(),
        before.len()
    );
    tx.rollback().await.unwrap();
    drop(conn);
    assert_eq!(schema(&db).await, before);
}

/// `shoplink seed` in sandbox mode tells the sandbox what it made straight from the
/// generated shops; that is exactly what `sandbox_known_shops` reads back from the database
/// (keys opened, OAs joined), also after an earlier run.
#[tokio::test]
async fn the_sandbox_learns_from_the_generated_shops_what_it_would_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("seed.db")).await.unwrap();
    let secret = SecretKey::generate();
    seed(&db, &secret, 40, 3).await.unwrap();
    let (report, known) = shoplink::seed::seed_for_sandbox(&db, &secret, 300, 10)
        .await
        .unwrap();
    let mut read = shoplink::seed::sandbox_known_shops(&db, &secret, report.its_ids.unwrap())
        .await
        .unwrap();
    read.sort_by_key(|k| k.shop_id);
    assert!(known.len() > 150, "{}", known.len());
    assert!(known
        .iter()
        .any(|k| k.shop_key.is_some() && !k.oas.is_empty()));
    assert!(known.iter().any(|k| k.shop_key.is_none()));
    assert_eq!(format!("{known:#?}"), format!("{read:#?}"));
}

/// The sandbox's import commits only when told to (`shoplink seed` tells it whether the
/// app's own transaction committed): told no, it adds nothing; a re-run adds nothing twice.
#[tokio::test]
async fn the_sandbox_import_adds_nothing_unless_told_to_commit_and_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("seed.db")).await.unwrap();
    let (_, known) = shoplink::seed::seed_for_sandbox(&db, &SecretKey::generate(), 200, 5)
        .await
        .unwrap();
    let sandbox = dir.path().join("sandbox.db");
    let uri = "http://127.0.0.1:9/zalo/callback";
    let import = |commit: bool| {
        let (sandbox, known) = (sandbox.clone(), known.clone());
        async move {
            shoplink::sandbox::import_known_shops(&sandbox, &known, uri, async move { commit })
                .await
                .unwrap()
        }
    };
    let sandbox_count = |sql: &'static str| {
        let sandbox = sandbox.clone();
        async move {
            use sqlx::Connection;
            let url = format!("sqlite://{}", sandbox.display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            n
        }
    };
    // The import sets the ordinary indexes of the tables it writes aside and builds them
    // again before it commits; rolled back, the drop is too.
    const INDEXES: &str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'";
    assert_eq!(import(false).await, 0);
    assert_eq!(sandbox_count("SELECT COUNT(*) FROM sandbox_links").await, 0);
    let indexes = sandbox_count(INDEXES).await;
    assert!(indexes >= 6, "{indexes}");
    assert_eq!(import(true).await, known.len() as u64);
    assert_eq!(sandbox_count(INDEXES).await, indexes);
    // It checks no reference row by row: every one must hold.
    assert_eq!(
        sandbox_count("SELECT COUNT(*) FROM pragma_foreign_key_check").await,
        0
    );
    assert_eq!(
        sandbox_count(
            "SELECT COUNT(*) FROM sandbox_zalo_oas o INDEXED BY sandbox_zalo_oas_by_shop
             JOIN sandbox_shops s ON s.id = o.shop_id"
        )
        .await,
        known.iter().map(|k| k.oas.len()).sum::<usize>() as i64
    );
    let oas = known.iter().map(|k| k.oas.len()).sum::<usize>() as i64;
    assert!(oas > 0);
    assert_eq!(
        sandbox_count("SELECT COUNT(*) FROM sandbox_zalo_connections").await,
        oas
    );
    assert_eq!(import(true).await, 0, "a re-run adds nothing");
    assert_eq!(
        sandbox_count("SELECT COUNT(*) FROM sandbox_zalo_oas").await,
        oas
    );
}
