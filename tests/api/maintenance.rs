use std::time::Duration;

use shoplink::crypto::{KeySealer, SealedKey, SecretKey};
use shoplink::services::maintenance::{backup, rotate_keys};
use shoplink::store;

use crate::helpers::*;

async fn connected_shops(app: &TestApp, names: &[&str]) {
    app.login_owner().await;
    for name in names {
        let shop = app.add_shop(name).await;
        let (_, r) = app.connect_through_its(&shop).await;
        assert_eq!(r.status(), 303);
    }
}

async fn open_all(db: &sqlx::SqlitePool, sealer: &KeySealer) -> Result<usize, String> {
    let rows = store::shops::all_stored_keys(db).await.unwrap();
    for row in &rows {
        let sealed = SealedKey {
            ciphertext: row.key_ciphertext.clone(),
            nonce: row.key_nonce.clone(),
            key_id: row.key_id.clone(),
        };
        sealer
            .open(&sealed, row.id, row.owner_id)
            .map_err(|e| format!("{}: {e}", row.id))?;
    }
    Ok(rows.len())
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_with_every_key_readable() {
    let app = spawn_app().await;
    connected_shops(&app, &["Cửa hàng Sao Lưu 1", "Cửa hàng Sao Lưu 2"]).await;

    // Traffic while the backup runs.
    let busy = {
        let client = app.client.clone();
        let url = app.url("/shops");
        tokio::spawn(async move {
            for _ in 0..30 {
                assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
            }
        })
    };
    let target = app.dir.path().join("backup.db");
    backup(&app.db, &target).await.expect("backup");
    busy.await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the backup holds owners' emails and phones: 0600"
        );
    }
    assert!(
        backup(&app.db, &target).await.is_err(),
        "an existing file is never overwritten"
    );

    // The restore drill: open the copy as the app would, check it, read every key.
    let restored = store::connect(&target)
        .await
        .expect("the backup opens and migrates");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let shops: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE state = 'connected'")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(shops, 2);
    let sealer = KeySealer::new(&SecretKey::parse(&app.secret_hex).unwrap());
    assert_eq!(open_all(&restored, &sealer).await, Ok(2));
    let bytes = std::fs::read(&target).unwrap();
    assert!(
        !bytes.windows(64).any(|w| w == app.secret_hex.as_bytes()),
        "the secret is not in the backup"
    );
}

#[tokio::test]
async fn rotation_reseals_every_key_and_refuses_when_one_is_tampered() {
    let app = spawn_app().await;
    connected_shops(
        &app,
        &["Cửa hàng Xoay 1", "Cửa hàng Xoay 2", "Cửa hàng Xoay 3"],
    )
    .await;
    let old_secret = SecretKey::parse(&app.secret_hex).unwrap();
    let old = KeySealer::new(&old_secret);
    let new_secret = SecretKey::generate();
    let new = KeySealer::new(&new_secret);

    // One row's ciphertext overwritten: the rotation stops, names the row, and changes nothing.
    sqlx::query("UPDATE shops SET key_ciphertext = CAST(zeroblob(length(key_ciphertext)) AS BLOB) WHERE name = 'Cửa hàng Xoay 2'")
        .execute(&app.db)
        .await
        .unwrap();
    let err = rotate_keys(&app.db, &old, &new)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nothing was changed") && err.contains("1 stored secret"),
        "{err}"
    );
    let still_old: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE key_id = ?")
        .bind(old.key_id())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(still_old, 3);

    // Without the damaged row, every key moves to the new secret in one go.
    sqlx::query("UPDATE shops SET state = 'disconnected', key_ciphertext = NULL, key_nonce = NULL, key_id = NULL WHERE name = 'Cửa hàng Xoay 2'")
        .execute(&app.db)
        .await
        .unwrap();
    let report = rotate_keys(&app.db, &old, &new).await.unwrap();
    assert_eq!(report.resealed, 2);
    assert_eq!(open_all(&app.db, &new).await, Ok(2));
    assert!(
        open_all(&app.db, &old).await.is_err(),
        "the old secret no longer opens them"
    );
    // The previous secret is still accepted while both are configured.
    let both = KeySealer::new(&new_secret).with_previous(Some(&old_secret));
    assert_eq!(open_all(&app.db, &both).await, Ok(2));
}

#[tokio::test]
async fn a_changed_applied_migration_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let db = store::connect(&path).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 20261123000001")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let err = store::connect(&path).await.unwrap_err().to_string();
    assert!(
        err.contains("could not be migrated") && err.contains("modified"),
        "{err}"
    );
}

#[tokio::test]
async fn a_database_filled_at_the_first_schema_migrates_with_every_row_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // The first migration only, as a database of the first release would be.
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true);
        let db = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut migrator = sqlx::migrate!("./migrations/app");
        let first: Vec<_> = migrator
            .migrations
            .iter()
            .filter(|m| m.version == 20261123000001)
            .cloned()
            .collect();
        migrator.migrations = std::borrow::Cow::Owned(first);
        migrator.run(&db).await.unwrap();
        let owner = shoplink::services::accounts::create_user(
            &db,
            &shoplink::password::Hasher::default(),
            "old@example.vn",
            "Cũ",
            shoplink::domain::UserRole::Owner,
            "an old long password",
        )
        .await
        .unwrap();
        for i in 0..40 {
            let name = format!("Cửa hàng Hòa Mai {i}");
            let id = uuid::Uuid::new_v4();
            sqlx::query("INSERT INTO shops (id, owner_id, name, search_name, state, updated_at, created_at) VALUES (?, ?, ?, ?, 'not_connected', ?, 0)")
                .bind(id)
                .bind(owner)
                .bind(&name)
                .bind(shoplink::domain::fold_for_search(&name))
                .bind(i as i64)
                .execute(&db)
                .await
                .unwrap();
            sqlx::query("INSERT INTO shop_events (shop_id, at, actor, to_state) VALUES (?, 0, 'system', 'not_connected')")
                .bind(id)
                .execute(&db)
                .await
                .unwrap();
        }
        db.close().await;
    }
    let db = store::connect(&path).await.expect("later migrations apply");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM shops").await, 40);
    assert_eq!(
        count("SELECT COUNT(*) FROM shop_events").await,
        40,
        "no cascade lost the history"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM shops_search WHERE haystack MATCH '\"hoa mai\"'").await,
        40,
        "old rows are searchable"
    );
    let fk: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(fk.is_empty());
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Every column that looks like it holds a sealed value, in the migrated schema: a
/// `*_ciphertext` or `*_sealed` column (or a `*_nonce`, which only a seal needs).
async fn sealed_looking_columns(db: &sqlx::SqlitePool) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(db)
                .await
                .unwrap();
        for column in columns {
            if ["_ciphertext", "_sealed", "_nonce"]
                .iter()
                .any(|suffix| column.ends_with(suffix))
            {
                found.push((table.clone(), column));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_sealed_column_in_the_schema_is_in_the_registry_rotate_key_walks() {
    use shoplink::store::sealed::SEALED_COLUMNS;
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("app.db")).await.unwrap();
    let registered: Vec<(String, String)> = SEALED_COLUMNS
        .iter()
        .flat_map(|c| {
            [
                (c.table.to_owned(), c.ciphertext.to_owned()),
                (c.table.to_owned(), c.nonce.to_owned()),
            ]
        })
        .collect();
    for found in sealed_looking_columns(&db).await {
        assert!(
            registered.contains(&found),
            "{}.{} looks sealed but is not in store::sealed::SEALED_COLUMNS: rotate-key would leave it behind",
            found.0,
            found.1
        );
    }
    // And every registered column exists (a typo would make rotate-key fail at run time).
    for c in SEALED_COLUMNS {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {} IS NULL AND {} IS NULL AND {} IS NULL",
            c.table, c.ciphertext, c.nonce, c.key_id
        );
        sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&db)
            .await
            .unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }
}

/// Runs the real binary in `dir` (nothing else in its environment) with `DATABASE_URL`.
fn run_cli(
    dir: &std::path::Path,
    database: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoplink"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", database)
        .env("DATA_DIR", dir.join("data"))
        .env("SECRET_KEY", "ab".repeat(32))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn backup_and_rotate_key_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("wrong").join("shoplink.db");
    let new_secret = "cd".repeat(32);
    for args in [&["backup", "copy.db"][..], &["rotate-key"][..]] {
        let out = run_cli(dir.path(), &missing, args, &new_secret);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail: {stderr}");
        assert!(
            stderr.contains("there is no database at")
                && stderr.contains(&missing.display().to_string()),
            "{args:?} names the path it looked at: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} created nothing: {left:?}");
    }

    // Where the database is, the backup is written.
    let present = dir.path().join("shoplink.db");
    store::connect(&present).await.unwrap().close().await;
    let out = run_cli(dir.path(), &present, &["backup", "copy.db"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("copy.db").is_file());
}

#[tokio::test]
async fn rotation_reseals_zalo_app_secrets_bound_to_their_rows() {
    use shoplink::its::ZaloAppSecret;
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Ứng Dụng Zalo").await;
    let shop_id = uuid::Uuid::parse_str(&shop).unwrap();
    let old_secret = SecretKey::parse(&app.secret_hex).unwrap();
    let old = KeySealer::new(&old_secret);
    let new = KeySealer::new(&SecretKey::generate());
    let partner_secret = ZaloAppSecret::parse("partnerAppSecret01").unwrap();
    let own_secret = ZaloAppSecret::parse("ownAppSecret02").unwrap();
    let (partner_row, own_row) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    store::zalo_apps::set(
        &app.db,
        partner_row,
        None,
        "4143453445419930001",
        &old.seal_zalo_app_secret(&partner_secret, partner_row, None),
        1,
    )
    .await
    .unwrap();
    store::zalo_apps::set(
        &app.db,
        own_row,
        Some(shop_id),
        "4143453445419930002",
        &old.seal_zalo_app_secret(&own_secret, own_row, Some(shop_id)),
        1,
    )
    .await
    .unwrap();

    let report = rotate_keys(&app.db, &old, &new).await.unwrap();
    assert!(
        report.resealed_by_table.contains(&("zalo_apps", 2)),
        "{report:?}"
    );
    let partner = store::zalo_apps::partner(&app.db).await.unwrap().unwrap();
    assert_eq!(partner.secret_key_id, new.key_id());
    assert_eq!(
        new.open_zalo_app_secret(&partner.sealed_secret(), partner_row, None)
            .unwrap(),
        partner_secret
    );
    let own = store::zalo_apps::for_shop(&app.db, shop_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        new.open_zalo_app_secret(&own.sealed_secret(), own_row, Some(shop_id))
            .unwrap(),
        own_secret
    );
    assert!(old
        .open_zalo_app_secret(&own.sealed_secret(), own_row, Some(shop_id))
        .is_err());
}
