//! The app as `cargo run` starts it — sandbox mode, with its built-in ITS sandbox — on
//! random ports, with its data in a temporary folder, plus an owner and an admin.

use std::collections::HashMap;

use shoplink::configuration::Settings;
use shoplink::domain::UserRole;
use shoplink::services::accounts;
use shoplink::startup::Application;
use sqlx::SqlitePool;
use tempfile::TempDir;
use uuid::Uuid;

pub const PASSWORD: &str = "mật khẩu đủ dài 2026";

pub struct TestApp {
    /// `http://127.0.0.1:{port}`
    pub address: String,
    /// The built-in sandbox, `http://127.0.0.1:{port}`.
    pub sandbox: String,
    pub db: SqlitePool,
    pub owner_email: String,
    pub admin_email: String,
    _dir: TempDir,
}

pub async fn spawn() -> TestApp {
    let dir = tempfile::tempdir().expect("a temp dir");
    let vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            dir.path().join("shoplink.db").display().to_string(),
        ),
        ("DATA_DIR", dir.path().display().to_string()),
        ("SANDBOX_BIND", "127.0.0.1:0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = Settings::from_vars(&vars).expect("valid settings");
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let sandbox = app
        .sandbox_origin()
        .expect("sandbox mode starts the sandbox")
        .to_owned();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());

    let owner_email = "lan.nguyen@example.vn".to_owned();
    let admin_email = "quan.tran@example.vn".to_owned();
    for (email, name, role) in [
        (&owner_email, "Nguyễn Thị Lan", UserRole::Owner),
        (&admin_email, "Trần Minh Quân", UserRole::Admin),
    ] {
        accounts::create_user(
            &db,
            &shoplink::password::Hasher::default(),
            email,
            name,
            role,
            PASSWORD,
        )
        .await
        .expect("user created");
    }
    TestApp {
        address,
        sandbox,
        db,
        owner_email,
        admin_email,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn shop_state(&self, shop: Uuid) -> String {
        sqlx::query_scalar("SELECT state FROM shops WHERE id = ?")
            .bind(shop)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub async fn its_shop(&self, shop: Uuid) -> (i64, String) {
        sqlx::query_as("SELECT its_shop_id, its_shop_name FROM shops WHERE id = ?")
            .bind(shop)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub async fn shop_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM shops")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Adds shops straight into the database, as other owners would have.
    pub async fn insert_shops(&self, names: &[&str]) {
        let owner = accounts::create_user(
            &self.db,
            &shoplink::password::Hasher::default(),
            "other.owner@example.vn",
            "Lê Văn Bình",
            UserRole::Owner,
            PASSWORD,
        )
        .await
        .expect("another owner");
        let now = shoplink::store::now_ms();
        for (i, name) in names.iter().enumerate() {
            sqlx::query(
                "INSERT INTO shops (id, owner_id, name, search_name, phone, state, updated_at, created_at)
                 VALUES (?, ?, ?, ?, ?, 'not_connected', ?, ?)",
            )
            .bind(Uuid::new_v4())
            .bind(owner)
            .bind(name)
            .bind(shoplink::domain::fold_for_search(name))
            .bind(format!("09{:08}", 12_345_670 + i))
            .bind(now - 3_600_000 * (i as i64 + 1))
            .bind(now - 86_400_000 * 3)
            .execute(&self.db)
            .await
            .unwrap();
        }
    }

    /// A webhook endpoint whose deliveries about `shop` have all failed (answers 500 and no
    /// answer), their next attempts far ahead so the worker leaves them: the endpoint's page
    /// as an admin finds it when a receiver is down. Returns the endpoint's id.
    pub async fn insert_failing_webhook(&self, shop: Uuid) -> Uuid {
        let endpoint = Uuid::new_v4();
        let now = shoplink::store::now_ms();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, description, event_types, secret_ciphertext,
                 secret_nonce, secret_key_id, secret_prefix, created_at)
             VALUES (?, 'https://hooks.example.vn/shoplink/receive', 'Hệ thống bán hàng',
                 'connection.connected connection.disconnected', x'00', x'00', 'k', 'whsec_Ab12', ?)",
        )
        .bind(endpoint)
        .bind(now - 86_400_000)
        .execute(&self.db)
        .await
        .unwrap();
        for (i, kind) in ["connection.connected", "connection.disconnected"]
            .iter()
            .enumerate()
        {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_events (id, type, shop_id, status, occurred_at)
                 VALUES (?, ?, ?, 'x', ?) RETURNING seq",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(kind)
            .bind(shop)
            .bind(now - 600_000 + i as i64)
            .fetch_one(&self.db)
            .await
            .unwrap();
            let delivery: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (event_seq, endpoint_id, shop_id, state, attempts,
                     next_attempt_at, created_at)
                 VALUES (?, ?, ?, 'pending', 2, ?, ?) RETURNING id",
            )
            .bind(seq)
            .bind(endpoint)
            .bind(shop)
            .bind(now + 86_400_000)
            .bind(now - 600_000)
            .fetch_one(&self.db)
            .await
            .unwrap();
            for (status, excerpt) in [
                (Some(500), Some("Internal Server Error: upstream timed out")),
                (None, None),
            ] {
                sqlx::query(
                    "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, excerpt)
                     VALUES (?, ?, ?, 840, ?)",
                )
                .bind(delivery)
                .bind(now - 300_000)
                .bind(status)
                .bind(excerpt)
                .execute(&self.db)
                .await
                .unwrap();
            }
        }
        endpoint
    }
}
