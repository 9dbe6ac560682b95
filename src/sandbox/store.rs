//! The sandbox's own SQLite database: every SQL statement of the sandbox lives here.
//! Times are Unix seconds passed in by the caller, so the rules are testable without a clock.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::secret;

/// The sandbox's tables, behind a small pool.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pool: SqlitePool,
}

/// A sandbox shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shop {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub closed: bool,
}

/// A shop as listed on `/shops`, with the state of its link.
#[derive(Debug, Clone)]
pub(crate) struct ListedShop {
    pub shop: Shop,
    pub linked: bool,
}

/// What a `shop_request` remembers about the call that issued it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewRequest {
    pub shop_id: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub shop_name: Option<String>,
    pub external_shop_id: Option<String>,
    pub external_user_id: Option<String>,
    pub redirect_url: Option<String>,
}

/// A stored, still usable request (not expired, not consumed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingRequest {
    pub fields: NewRequest,
    pub expires_at: i64,
}

/// How the approving shop is chosen.
#[derive(Debug, Clone)]
pub(crate) enum ShopChoice {
    /// The request named a shop: use it (the form's fields are not used).
    FromRequest,
    /// A shop owner typed their details: reuse the shop with this email or phone, or create one.
    Details {
        shop_name: String,
        owner_name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    },
}

/// The result of an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Approved {
    pub shop_id: i64,
    pub shop_name: String,
    pub redirect_url: Option<String>,
}

/// Why an approval did not happen; nothing was written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApproveError {
    #[error("the request token is unknown, expired or used")]
    TokenInvalid,
    #[error("the shop does not exist")]
    ShopMissing,
    #[error("the shop's account is closed")]
    AccountClosed,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Whether the partner may get a shop key for a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// The shop does not exist, or never linked to the partner.
    NeverLinked,
    /// The shop's account is closed.
    Closed,
    /// Linked once, then unlinked: the shop must log in again.
    Unlinked,
    /// Linked: this is the key.
    Active { shop_key: String },
}

const SHOP_COLUMNS: &str = "s.id, s.name, s.email, s.phone, s.closed_at IS NOT NULL AS closed";

/// What a consumed authorisation request carries into the approval.
struct ConsumedRequest {
    shop_id: Option<i64>,
    external_shop_id: Option<String>,
    external_user_id: Option<String>,
    redirect_url: Option<String>,
}

/// Marks the request with this token used, if it is unused and not expired.
async fn consume_request(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: i64,
) -> Result<Option<ConsumedRequest>, sqlx::Error> {
    let consumed = sqlx::query(
        "UPDATE sandbox_requests SET consumed_at = ?1
         WHERE token_hash = ?2 AND consumed_at IS NULL AND expires_at > ?1
         RETURNING shop_id, external_shop_id, external_user_id, redirect_url",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    consumed
        .map(|row| {
            Ok(ConsumedRequest {
                shop_id: row.try_get("shop_id")?,
                external_shop_id: row.try_get("external_shop_id")?,
                external_user_id: row.try_get("external_user_id")?,
                redirect_url: row.try_get("redirect_url")?,
            })
        })
        .transpose()
}

async fn find_shop(conn: &mut SqliteConnection, id: i64) -> Result<Option<Shop>, sqlx::Error> {
    let sql = format!("SELECT {SHOP_COLUMNS} FROM sandbox_shops s WHERE s.id = ?1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(shop_from_row).transpose()
}

/// The oldest shop with the typed email or phone, or a new shop with the typed details.
async fn shop_by_details(
    conn: &mut SqliteConnection,
    choice: &ShopChoice,
    now: i64,
) -> Result<Shop, ApproveError> {
    let ShopChoice::Details {
        shop_name,
        owner_name,
        email,
        phone,
    } = choice
    else {
        return Err(ApproveError::ShopMissing);
    };
    let sql = format!(
        "SELECT {SHOP_COLUMNS} FROM sandbox_shops s
         WHERE (?1 IS NOT NULL AND s.email = ?1) OR (?2 IS NOT NULL AND s.phone = ?2)
         ORDER BY s.created_at, s.id LIMIT 1"
    );
    let existing = sqlx::query(&sql)
        .bind(email)
        .bind(phone)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(shop) = existing.as_ref().map(shop_from_row).transpose()? {
        return Ok(shop);
    }
    for _ in 0..8 {
        let id = secret::new_large_id();
        let inserted = sqlx::query(
            "INSERT INTO sandbox_shops (id, name, owner_name, email, phone, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(shop_name)
        .bind(owner_name)
        .bind(email)
        .bind(phone)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Shop {
                id,
                name: shop_name.clone(),
                email: email.clone(),
                phone: phone.clone(),
                closed: false,
            });
        }
    }
    Err(ApproveError::Db(sqlx::Error::Protocol(
        "could not find a free shop id".into(),
    )))
}

/// Makes the shop's link active. An active link keeps its key; a new link, or a re-link
/// after an unlink, gets a new key.
async fn activate_link(
    conn: &mut SqliteConnection,
    shop_id: i64,
    request: &ConsumedRequest,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sandbox_links (shop_id, shop_key, active, external_shop_id, external_user_id, linked_at)
         VALUES (?1, ?2, 1, ?3, ?4, ?5)
         ON CONFLICT (shop_id) DO UPDATE SET
             shop_key = CASE WHEN active = 1 THEN shop_key ELSE excluded.shop_key END,
             linked_at = CASE WHEN active = 1 THEN linked_at ELSE excluded.linked_at END,
             active = 1,
             unlinked_at = NULL,
             external_shop_id = COALESCE(excluded.external_shop_id, external_shop_id),
             external_user_id = COALESCE(excluded.external_user_id, external_user_id)",
    )
    .bind(shop_id)
    .bind(secret::new_shop_key(shop_id))
    .bind(&request.external_shop_id)
    .bind(&request.external_user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn shop_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Shop, sqlx::Error> {
    Ok(Shop {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        closed: row.try_get("closed")?,
    })
}

/// A shop the provider already knows, with its relation to the partner: what a demo
/// database made elsewhere (`shoplink seed`) tells the sandbox, so the sandbox answers for it
/// as it would for a shop that logged in on its page.
#[derive(Debug, Clone)]
pub struct KnownShop {
    pub shop_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The partner's id for the shop (`external_shop_id`).
    pub external_shop_id: String,
    /// `Some`: an active relation with this key. `None`: a relation that was unlinked (its
    /// old key no longer works; a new login makes a new one).
    pub shop_key: Option<String>,
    /// Unix seconds.
    pub linked_at: i64,
    /// The Zalo OAs ITS has connected for the shop (only for a linked shop).
    pub oas: Vec<KnownOa>,
}

/// A Zalo OA the partner's database already holds for a shop, so `ListOA` answers what the
/// partner stored (`shoplink seed`). Its connection belongs to `SEEDED_APP_ID`.
#[derive(Debug, Clone)]
pub struct KnownOa {
    pub oa_id: i64,
    pub name: String,
    pub is_verified: bool,
    /// `P` or `N`.
    pub status: String,
    pub daily_quota: i64,
    pub remaining_quota: i64,
    pub current_quality: String,
    pub last_week_quality: String,
    /// Unix seconds: when the refresh token expires.
    pub expires_at: i64,
    /// Unix seconds.
    pub connected_at: i64,
}

/// The Zalo app the imported OA connections belong to. Its secret is a random value
/// nobody holds, so it can never be used for a new grant; renewing such an OA
/// (`RefreshToken`) only names the OA.
pub const SEEDED_APP_ID: i64 = 3_099_999_999_999_999_999;

/// Rows per multi-row INSERT of `import_known_shops` (at most 7 values a row, well under
/// SQLite's 32,766 bound parameters).
const IMPORT_ROWS_PER_STATEMENT: usize = 500;

/// The importing connection's page cache, in KiB, while it imports (the pool's connections
/// keep SQLite's 2 MiB): the random-keyed unique index of the shop keys stays in memory at a
/// million shops instead of being read back page by page.
const IMPORT_CACHE_KIB: i64 = 256 * 1024;

/// The tables an import writes. Their ordinary (non-UNIQUE) indexes are dropped inside the
/// import's transaction and built again after its rows, in one sorted pass each, instead of
/// one insert at a random place per row: the emails, phones and the partner's ids are in no
/// order. With the sqlite3 CLI, copying a million-shop seed's 750,138 shops and 686,426 OAs
/// into a new sandbox database took 12.4 s with the indexes in place and 8.3 s without
/// them and built afterwards (their builds included).
///
/// Only when the import adds at least one shop for every `IMPORT_SET_ASIDE_FROM` already
/// there: an index built again costs time for every row of its table (the app's seed does
/// the same, `store::bulk`).
const IMPORTED_TABLES: &str =
    "'sandbox_shops', 'sandbox_links', 'sandbox_zalo_oas', 'sandbox_zalo_connections'";

const IMPORT_SET_ASIDE_FROM: i64 = 8;

/// `INSERT … VALUES (row), (row), …` for `rows` rows, then `tail`.
fn multi_row_insert(head: &str, row: &str, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 1) + tail.len() + 1);
    sql.push_str(head);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// The importing connection's own settings that an import changes, read before it and put
/// back after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConnectionPragmas {
    cache_size: i64,
    foreign_keys: bool,
}

impl ConnectionPragmas {
    async fn read(conn: &mut SqliteConnection) -> Result<ConnectionPragmas, sqlx::Error> {
        let (cache_size, foreign_keys) = sqlx::query_as(
            "SELECT (SELECT cache_size FROM pragma_cache_size),
                    (SELECT foreign_keys FROM pragma_foreign_keys)",
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(ConnectionPragmas {
            cache_size,
            foreign_keys,
        })
    }

    /// Outside a transaction: inside one, SQLite ignores `foreign_keys`.
    async fn apply(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        // Numbers this type holds, not text.
        let sql = format!(
            "PRAGMA cache_size = {}; PRAGMA foreign_keys = {}",
            self.cache_size,
            i64::from(self.foreign_keys),
        );
        sqlx::raw_sql(&sql).execute(&mut *conn).await?;
        Ok(())
    }
}

impl Store {
    /// Adds shops and relations the sandbox does not have yet, all in one transaction; a
    /// shop or relation it already has is left as it is (someone may have changed it on
    /// purpose on the operator's page). Answers how many relations were added.
    ///
    /// Multi-row INSERTs on one connection with a large page cache: row by row, in 5,000-shop
    /// transactions on SQLite's 2 MiB cache, the 751,061 shops of a million-shop seed took
    /// about ten minutes.
    ///
    /// The transaction commits once `commit` answers true (and rolls back, adding nothing,
    /// when it answers false): `shoplink seed` imports while the app's own transaction is
    /// still building its indexes, and the sandbox must not learn shops the app then drops.
    pub async fn import_known_shops(
        &self,
        shops: &[KnownShop],
        redirect_uri: &str,
        commit: impl std::future::Future<Output = bool>,
    ) -> Result<u64, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let before = ConnectionPragmas::read(&mut conn).await?;
        // Every row's parents are rows of this import or already there (a shop before its
        // relation and OAs, an OA before its connection, the seeded app first): checking
        // each reference would cost a seek per row. `foreign_keys` is fixed for a
        // transaction, so it is set here, outside it.
        ConnectionPragmas {
            cache_size: -IMPORT_CACHE_KIB,
            foreign_keys: false,
        }
        .apply(&mut conn)
        .await?;
        let imported =
            Self::import_in_one_transaction(&mut conn, shops, redirect_uri, commit).await;
        let restored = before.apply(&mut conn).await;
        let added = imported?;
        restored?;
        Ok(added)
    }

    async fn import_in_one_transaction(
        conn: &mut SqliteConnection,
        shops: &[KnownShop],
        redirect_uri: &str,
        commit: impl std::future::Future<Output = bool>,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_shops")
            .fetch_one(&mut *tx)
            .await?;
        let set_aside = i64::try_from(shops.len())
            .unwrap_or(i64::MAX)
            .saturating_mul(IMPORT_SET_ASIDE_FROM)
            >= existing;
        let indexes: Vec<(String, String)> = if set_aside {
            sqlx::query_as(&format!(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name IN ({IMPORTED_TABLES}) AND sql IS NOT NULL
                   AND upper(sql) NOT LIKE 'CREATE UNIQUE%'"
            ))
            .fetch_all(&mut *tx)
            .await?
        } else {
            Vec::new()
        };
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut *tx)
                .await?;
        }
        let mut added = 0;
        for batch in shops.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let sql = multi_row_insert(
                "INSERT INTO sandbox_shops (id, name, email, phone, created_at) VALUES ",
                "(?, ?, ?, ?, ?)",
                batch.len(),
                "ON CONFLICT (id) DO NOTHING",
            );
            let mut query = sqlx::query(&sql);
            for shop in batch {
                query = query
                    .bind(shop.shop_id)
                    .bind(&shop.name)
                    .bind(&shop.email)
                    .bind(&shop.phone)
                    .bind(shop.linked_at);
            }
            query.execute(&mut *tx).await?;
            let sql = multi_row_insert(
                "INSERT INTO sandbox_links (shop_id, shop_key, active, external_shop_id, linked_at, unlinked_at) VALUES ",
                "(?, ?, ?, ?, ?, ?)",
                batch.len(),
                "ON CONFLICT DO NOTHING",
            );
            let mut query = sqlx::query(&sql);
            for shop in batch {
                let key = shop
                    .shop_key
                    .clone()
                    .unwrap_or_else(|| secret::new_shop_key(shop.shop_id));
                query = query
                    .bind(shop.shop_id)
                    .bind(key)
                    .bind(shop.shop_key.is_some())
                    .bind(&shop.external_shop_id)
                    .bind(shop.linked_at)
                    // An unlinked relation ended when it was last changed.
                    .bind(shop.shop_key.is_none().then_some(shop.linked_at));
            }
            added += query.execute(&mut *tx).await?.rows_affected();
        }
        Self::import_known_oas(&mut tx, shops, redirect_uri).await?;
        for (_, create) in &indexes {
            sqlx::query(create).execute(&mut *tx).await?;
        }
        if !commit.await {
            tx.rollback().await?;
            return Ok(0);
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The OAs of `import_known_shops`, in its transaction: each OA with a package and
    /// today's quota as the partner stored it, and its connection (status, expiry); an OA
    /// the sandbox already has is left alone, and so is its connection (only the OAs this
    /// import added, as `RETURNING` names them, get one).
    async fn import_known_oas(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        shops: &[KnownShop],
        redirect_uri: &str,
    ) -> Result<(), sqlx::Error> {
        if shops.iter().all(|s| s.oas.is_empty()) {
            return Ok(());
        }
        let now = super::now();
        sqlx::query(
            "INSERT INTO sandbox_zalo_apps (app_id, secret_hash, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (app_id) DO NOTHING",
        )
        .bind(SEEDED_APP_ID)
        .bind(secret::hash_token(&secret::new_request_token()))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let day = super::zalo::quota_day(now);
        let mut oas: Vec<(i64, &KnownOa)> = shops
            .iter()
            .flat_map(|shop| shop.oas.iter().map(move |oa| (shop.shop_id, oa)))
            .collect();
        // In the order of their primary key (the OA's id, also the connection's), so each
        // row is added at the end of its table rather than at a random place.
        oas.sort_unstable_by_key(|(_, oa)| oa.oa_id);
        for batch in oas.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let sql = multi_row_insert(
                "INSERT INTO sandbox_zalo_oas (oa_id, shop_id, name, description, is_verified,
                     has_package, daily_quota, remaining_quota, quota_day, current_quality,
                     last_week_quality, created_at) VALUES ",
                "(?, ?, ?, '', ?, 1, ?, ?, ?, ?, ?, ?)",
                batch.len(),
                "ON CONFLICT (oa_id) DO NOTHING RETURNING oa_id",
            );
            let mut query = sqlx::query_scalar::<_, i64>(&sql);
            for (shop_id, oa) in batch {
                query = query
                    .bind(oa.oa_id)
                    .bind(*shop_id)
                    .bind(&oa.name)
                    .bind(oa.is_verified)
                    .bind(oa.daily_quota)
                    .bind(oa.remaining_quota)
                    .bind(day)
                    .bind(&oa.current_quality)
                    .bind(&oa.last_week_quality)
                    .bind(oa.connected_at);
            }
            let added: std::collections::HashSet<i64> =
                query.fetch_all(&mut **tx).await?.into_iter().collect();
            let connect: Vec<&(i64, &KnownOa)> = batch
                .iter()
                .filter(|(_, oa)| added.contains(&oa.oa_id))
                .collect();
            if connect.is_empty() {
                continue;
            }
            let sql = multi_row_insert(
                "INSERT INTO sandbox_zalo_connections (oa_id, shop_id, app_id, connection_id,
                     status, expires_at, redirect_uri, created_at, updated_at) VALUES ",
                "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                connect.len(),
                "ON CONFLICT DO NOTHING",
            );
            let mut query = sqlx::query(&sql);
            for (shop_id, oa) in connect {
                query = query
                    .bind(oa.oa_id)
                    .bind(*shop_id)
                    .bind(SEEDED_APP_ID)
                    .bind(oa.oa_id)
                    .bind(&oa.status)
                    .bind(oa.expires_at)
                    .bind(redirect_uri)
                    .bind(oa.connected_at)
                    .bind(oa.connected_at);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Opens (creating if missing) the database file and runs the sandbox's migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the sandbox database {}", path.display()))?;
        sqlx::migrate!("./migrations/sandbox")
            .run(&pool)
            .await
            .context("running the sandbox database migrations")?;
        Ok(Store { pool })
    }

    /// The partner's account id, chosen at random the first time and kept.
    pub async fn partner_id(&self) -> anyhow::Result<i64> {
        let candidate = secret::new_large_id().to_string();
        sqlx::query("INSERT INTO sandbox_settings (name, value) VALUES ('partner_id', ?1) ON CONFLICT (name) DO NOTHING")
            .bind(&candidate)
            .execute(&self.pool)
            .await?;
        let value: String =
            sqlx::query_scalar("SELECT value FROM sandbox_settings WHERE name = 'partner_id'")
                .fetch_one(&self.pool)
                .await?;
        value
            .parse::<i64>()
            .context("the sandbox database holds a partner_id that is not an integer")
    }

    /// Whether the partner may get a key for `shop_id`.
    pub async fn link_state(&self, shop_id: i64) -> Result<LinkState, sqlx::Error> {
        let row = sqlx::query(
            "SELECT s.closed_at IS NOT NULL AS closed, l.active, l.shop_key
             FROM sandbox_shops s JOIN sandbox_links l ON l.shop_id = s.id
             WHERE s.id = ?1",
        )
        .bind(shop_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(LinkState::NeverLinked);
        };
        let closed: bool = row.try_get("closed")?;
        let active: bool = row.try_get("active")?;
        Ok(if closed {
            LinkState::Closed
        } else if active {
            LinkState::Active {
                shop_key: row.try_get("shop_key")?,
            }
        } else {
            LinkState::Unlinked
        })
    }

    /// The relation that recorded this `external_shop_id` (the most recently linked one,
    /// active or not) and its state, as the provider looks a shop up by the partner's id.
    pub async fn link_by_external_id(
        &self,
        external_shop_id: &str,
    ) -> Result<Option<(i64, LinkState)>, sqlx::Error> {
        let shop_id: Option<i64> = sqlx::query_scalar(
            "SELECT shop_id FROM sandbox_links
             WHERE external_shop_id = ?1
             ORDER BY active DESC, linked_at DESC, shop_id DESC LIMIT 1",
        )
        .bind(external_shop_id)
        .fetch_optional(&self.pool)
        .await?;
        match shop_id {
            Some(id) => Ok(Some((id, self.link_state(id).await?))),
            None => Ok(None),
        }
    }

    /// The shop an active shop key belongs to (closed or not: the caller decides).
    pub async fn shop_by_active_key(&self, shop_key: &str) -> Result<Option<Shop>, sqlx::Error> {
        let sql = format!(
            "SELECT {SHOP_COLUMNS} FROM sandbox_links l JOIN sandbox_shops s ON s.id = l.shop_id
             WHERE l.shop_key = ?1 AND l.active = 1"
        );
        let row = sqlx::query(&sql)
            .bind(shop_key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(shop_from_row).transpose()
    }

    pub async fn shop(&self, shop_id: i64) -> Result<Option<Shop>, sqlx::Error> {
        let sql = format!("SELECT {SHOP_COLUMNS} FROM sandbox_shops s WHERE s.id = ?1");
        let row = sqlx::query(&sql)
            .bind(shop_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(shop_from_row).transpose()
    }

    /// Stores a new request under the hash of its token; also forgets requests that
    /// expired more than a day ago.
    pub async fn insert_request(
        &self,
        token_hash: &str,
        request: &NewRequest,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sandbox_requests WHERE expires_at < ?1")
            .bind(now - 86_400)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sandbox_requests (token_hash, shop_id, email, phone, name, shop_name,
                 external_shop_id, external_user_id, redirect_url, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(token_hash)
        .bind(request.shop_id)
        .bind(&request.email)
        .bind(&request.phone)
        .bind(&request.name)
        .bind(&request.shop_name)
        .bind(&request.external_shop_id)
        .bind(&request.external_user_id)
        .bind(&request.redirect_url)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A request that can still be used: known, not expired, not consumed.
    pub async fn pending_request(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT shop_id, email, phone, name, shop_name, external_shop_id, external_user_id,
                    redirect_url, expires_at
             FROM sandbox_requests
             WHERE token_hash = ?1 AND consumed_at IS NULL AND expires_at > ?2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(PendingRequest {
            fields: NewRequest {
                shop_id: row.try_get("shop_id")?,
                email: row.try_get("email")?,
                phone: row.try_get("phone")?,
                name: row.try_get("name")?,
                shop_name: row.try_get("shop_name")?,
                external_shop_id: row.try_get("external_shop_id")?,
                external_user_id: row.try_get("external_user_id")?,
                redirect_url: row.try_get("redirect_url")?,
            },
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Consumes the request, picks or creates the shop and makes its link active, all in one
    /// transaction: either everything is written or nothing is.
    ///
    /// An active link keeps its key; a new link, or a re-link after an unlink, gets a new key.
    pub async fn approve(
        &self,
        token_hash: &str,
        choice: &ShopChoice,
        now: i64,
    ) -> Result<Approved, ApproveError> {
        let mut tx = self.pool.begin().await?;
        let request = consume_request(&mut tx, token_hash, now)
            .await?
            .ok_or(ApproveError::TokenInvalid)?;
        let shop = match (request.shop_id, choice) {
            (Some(id), _) => find_shop(&mut tx, id)
                .await?
                .ok_or(ApproveError::ShopMissing)?,
            (None, ShopChoice::FromRequest) => return Err(ApproveError::ShopMissing),
            (None, ShopChoice::Details { .. }) => shop_by_details(&mut tx, choice, now).await?,
        };
        if shop.closed {
            return Err(ApproveError::AccountClosed);
        }
        activate_link(&mut tx, shop.id, &request, now).await?;
        tx.commit().await?;
        Ok(Approved {
            shop_id: shop.id,
            shop_name: shop.name,
            redirect_url: request.redirect_url,
        })
    }

    /// The newest shops, at most `limit`, with their link state.
    pub async fn list_shops(&self, limit: i64) -> Result<Vec<ListedShop>, sqlx::Error> {
        let sql = format!(
            "SELECT {SHOP_COLUMNS}, COALESCE(l.active, 0) AS linked
             FROM sandbox_shops s LEFT JOIN sandbox_links l ON l.shop_id = s.id
             ORDER BY s.created_at DESC, s.id DESC LIMIT ?1"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(ListedShop {
                    shop: shop_from_row(row)?,
                    linked: row.try_get("linked")?,
                })
            })
            .collect()
    }

    /// Removes the partner link of a shop (its key stops working). False if the shop is unknown.
    pub async fn unlink(&self, shop_id: i64, now: i64) -> Result<bool, sqlx::Error> {
        if self.shop(shop_id).await?.is_none() {
            return Ok(false);
        }
        sqlx::query("UPDATE sandbox_links SET active = 0, unlinked_at = ?2 WHERE shop_id = ?1 AND active = 1")
            .bind(shop_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    /// Closes (`Some(now)`) or reopens (`None`) a shop's account. False if the shop is unknown.
    pub async fn set_closed(
        &self,
        shop_id: i64,
        closed_at: Option<i64>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE sandbox_shops SET closed_at = ?2 WHERE id = ?1")
            .bind(shop_id)
            .bind(closed_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sandbox.db")).await.unwrap();
        (dir, store)
    }

    fn details(email: &str) -> ShopChoice {
        ShopChoice::Details {
            shop_name: "Cửa hàng Hòa Mai".into(),
            owner_name: None,
            email: Some(email.into()),
            phone: None,
        }
    }

    #[tokio::test]
    async fn an_expired_request_can_be_neither_read_nor_approved() {
        let (_dir, store) = store().await;
        store
            .insert_request("h", &NewRequest::default(), 1000, 1900)
            .await
            .unwrap();
        assert!(store.pending_request("h", 1899).await.unwrap().is_some());
        assert!(store.pending_request("h", 1900).await.unwrap().is_none());
        let err = store
            .approve("h", &details("a@b.vn"), 1900)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproveError::TokenInvalid));
    }

    #[tokio::test]
    async fn a_failed_approval_leaves_the_request_usable() {
        let (_dir, store) = store().await;
        let request = NewRequest {
            shop_id: Some(1_234_567_890_123_456_789),
            ..NewRequest::default()
        };
        store
            .insert_request("h", &request, 1000, 1900)
            .await
            .unwrap();
        let err = store
            .approve("h", &ShopChoice::FromRequest, 1001)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproveError::ShopMissing));
        assert!(store.pending_request("h", 1002).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn approving_twice_with_the_same_email_reuses_the_shop_and_keeps_the_key() {
        let (_dir, store) = store().await;
        store
            .insert_request("h1", &NewRequest::default(), 1000, 1900)
            .await
            .unwrap();
        store
            .insert_request("h2", &NewRequest::default(), 1000, 1900)
            .await
            .unwrap();
        let first = store.approve("h1", &details("a@b.vn"), 1001).await.unwrap();
        let LinkState::Active { shop_key: key1 } = store.link_state(first.shop_id).await.unwrap()
        else {
            panic!("not linked")
        };
        let second = store.approve("h2", &details("a@b.vn"), 1002).await.unwrap();
        assert_eq!(first.shop_id, second.shop_id);
        assert!(first.shop_id >= 1_000_000_000_000_000_000);
        let LinkState::Active { shop_key: key2 } = store.link_state(first.shop_id).await.unwrap()
        else {
            panic!("not linked")
        };
        assert_eq!(key1, key2);
    }
}

// The Zalo side's SQL: a child module so it reaches the pool like the rest of the store.
#[path = "zalo_store.rs"]
pub(crate) mod zalo;
