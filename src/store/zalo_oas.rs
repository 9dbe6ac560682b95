//! The shop's Zalo Official Accounts as ITS last described them (`zalo_oas`) and the OA
//! side of a shop's history (`zalo_oa_events`). Every owner-scoped lookup takes the shop id.

use std::ops::DerefMut;

use sqlx::{FromRow, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use crate::its::{Quality, ZaloOa};

/// One `zalo_oas` row, as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StoredOa {
    pub oa_id: String,
    pub shop_id: Uuid,
    pub name: String,
    pub avatar_url: Option<String>,
    pub is_verified: bool,
    pub app_id: Option<String>,
    /// The provider's letter (`Z`, `P`, `N`) or its other text.
    pub status: String,
    pub daily_quota: i64,
    pub remaining_quota: i64,
    /// `HIGH`, `MEDIUM`, `LOW`, `UNDEFINED` or `unknown`.
    pub current_quality: String,
    pub last_week_quality: String,
    /// When the refresh token expires (ms).
    pub expires_at: Option<i64>,
    pub expiring_notified_for: Option<i64>,
    pub expired_notified_for: Option<i64>,
    pub connected_at: i64,
    pub last_read_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "oa_id, shop_id, name, avatar_url, is_verified, app_id, status, daily_quota, \
     remaining_quota, current_quality, last_week_quality, expires_at, expiring_notified_for, \
     expired_notified_for, connected_at, last_read_at, updated_at";

/// What an `upsert` changed, so the caller can record events (and queue webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaChange {
    pub oa_id: String,
    /// The row as it was (None: the OA is new to this shop).
    pub previous: Option<StoredOa>,
    /// The status letter before and after, when it changed (or `None` → new status).
    pub status: Option<(Option<String>, String)>,
    /// The 48-hour quality became LOW (from anything else, or on a new OA).
    pub quality_dropped_to_low: bool,
    /// The refresh-token expiry before and after, when it moved.
    pub expiry: Option<(Option<i64>, Option<i64>)>,
}

impl OaChange {
    pub fn is_new(&self) -> bool {
        self.previous.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    /// The OA is stored for another shop: an OA sends ZNS for one shop only. Nothing written.
    #[error("the OA belongs to another shop")]
    OtherShop,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn ms(at: Option<time::OffsetDateTime>) -> Option<i64> {
    at.map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Inserts or updates one OA from a provider answer (ConnectOA, ListOA). Run it in the
/// caller's write transaction (`&mut *tx`) with the events it leads to. An OA already
/// stored for another shop is refused (`UpsertError::OtherShop`) and left unchanged.
pub async fn upsert(
    conn: &mut SqliteConnection,
    shop_id: Uuid,
    oa: &ZaloOa,
    now: i64,
) -> Result<OaChange, UpsertError> {
    let previous: Option<StoredOa> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM zalo_oas WHERE oa_id = ?"))
            .bind(oa.oa_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    if previous.as_ref().is_some_and(|p| p.shop_id != shop_id) {
        return Err(UpsertError::OtherShop);
    }
    let status = oa.status.code().to_owned();
    let expires_at = ms(oa.expires_at);
    sqlx::query(
        "INSERT INTO zalo_oas (oa_id, shop_id, name, avatar_url, is_verified, app_id, status, daily_quota,
                               remaining_quota, current_quality, last_week_quality, expires_at,
                               connected_at, last_read_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13)
         ON CONFLICT (oa_id) DO UPDATE SET name = excluded.name, avatar_url = excluded.avatar_url,
             is_verified = excluded.is_verified, app_id = COALESCE(excluded.app_id, zalo_oas.app_id),
             status = excluded.status, daily_quota = excluded.daily_quota,
             remaining_quota = excluded.remaining_quota, current_quality = excluded.current_quality,
             last_week_quality = excluded.last_week_quality, expires_at = excluded.expires_at,
             last_read_at = excluded.last_read_at, updated_at = excluded.updated_at
         WHERE zalo_oas.shop_id = excluded.shop_id",
    )
    .bind(oa.oa_id.as_str())
    .bind(shop_id)
    .bind(oa.name.chars().take(200).collect::<String>())
    .bind(oa.avatar.as_deref())
    .bind(oa.is_verified)
    .bind(oa.app_id.as_ref().map(|a| a.as_str()))
    .bind(&status)
    .bind(oa.daily_quota)
    .bind(oa.remaining_quota)
    .bind(oa.current_quality.as_str())
    .bind(oa.last_week_quality.as_str())
    .bind(expires_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let was_low = previous
        .as_ref()
        .is_some_and(|p| p.current_quality == Quality::Low.as_str());
    let status_change = match &previous {
        Some(p) if p.status == status => None,
        Some(p) => Some((Some(p.status.clone()), status)),
        None => Some((None, status)),
    };
    let expiry = match &previous {
        Some(p) if p.expires_at == expires_at => None,
        Some(p) => Some((p.expires_at, expires_at)),
        None => None,
    };
    Ok(OaChange {
        oa_id: oa.oa_id.as_str().to_owned(),
        status: status_change,
        quality_dropped_to_low: oa.current_quality == Quality::Low && !was_low,
        expiry,
        previous,
    })
}

/// The shop's OAs, oldest connection first.
pub async fn for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
) -> Result<Vec<StoredOa>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM zalo_oas WHERE shop_id = ? ORDER BY connected_at, oa_id"
    ))
    .bind(shop_id)
    .fetch_all(db)
    .await
}

/// One OA of this shop (None when it is another shop's or unknown: never tell which).
pub async fn find(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    oa_id: &str,
) -> Result<Option<StoredOa>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM zalo_oas WHERE shop_id = ? AND oa_id = ?"
    ))
    .bind(shop_id)
    .bind(oa_id)
    .fetch_optional(db)
    .await
}

/// Whether this OA is stored for a shop other than `shop_id`.
pub async fn belongs_to_other_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    oa_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM zalo_oas WHERE oa_id = ? AND shop_id != ?")
        .bind(oa_id)
        .bind(shop_id)
        .fetch_one(db)
        .await
        .map(|n| n > 0)
}

/// Kinds of OA history entries (the CHECK of `zalo_oa_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaEventKind {
    Connected,
    Renewed,
    ConnectFailed,
    Disconnected,
    StatusChanged,
    QualityLow,
    Expiring,
    Expired,
    TestSent,
    TestFailed,
}

impl OaEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OaEventKind::Connected => "connected",
            OaEventKind::Renewed => "renewed",
            OaEventKind::ConnectFailed => "connect_failed",
            OaEventKind::Disconnected => "disconnected",
            OaEventKind::StatusChanged => "status_changed",
            OaEventKind::QualityLow => "quality_low",
            OaEventKind::Expiring => "expiring",
            OaEventKind::Expired => "expired",
            OaEventKind::TestSent => "test_sent",
            OaEventKind::TestFailed => "test_failed",
        }
    }

    pub fn parse(s: &str) -> Option<OaEventKind> {
        use OaEventKind::*;
        [
            Connected,
            Renewed,
            ConnectFailed,
            Disconnected,
            StatusChanged,
            QualityLow,
            Expiring,
            Expired,
            TestSent,
            TestFailed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Appends one entry to the shop's OA history. The ONE way OA events are written, so that
/// whatever an event announces (webhooks) can be queued here, in the caller's transaction
/// (`&mut *tx`), for every caller.
pub async fn record_event(
    mut conn: impl DerefMut<Target = SqliteConnection>,
    shop_id: Uuid,
    oa_id: Option<&str>,
    now: i64,
    actor: &str,
    kind: OaEventKind,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO zalo_oa_events (shop_id, oa_id, at, actor, kind, reason) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(shop_id)
    .bind(oa_id)
    .bind(now)
    .bind(actor)
    .bind(kind.as_str())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    // The webhook this entry announces, queued in the same transaction (issue 12): an
    // announced change always happened, and a change that happened is always announced.
    if let Some(oa_id) = oa_id {
        if let Some(event_type) = webhook_type(&mut conn, oa_id, kind).await? {
            super::outbox::enqueue_oa(&mut conn, shop_id, oa_id, event_type, now).await?;
        }
    }
    Ok(())
}

/// The `zalo_oa.*` webhook an entry of this kind announces. A status change is announced
/// by where it went (from the OA's row in this transaction): to `P` as connected, to `N`
/// as disconnected, to anything else not at all.
async fn webhook_type(
    conn: &mut SqliteConnection,
    oa_id: &str,
    kind: OaEventKind,
) -> Result<Option<&'static str>, sqlx::Error> {
    Ok(match kind {
        OaEventKind::Connected | OaEventKind::Renewed => Some("zalo_oa.connected"),
        OaEventKind::Disconnected => Some("zalo_oa.disconnected"),
        OaEventKind::QualityLow => Some("zalo_oa.quality_low"),
        OaEventKind::Expiring => Some("zalo_oa.expiring"),
        OaEventKind::Expired => Some("zalo_oa.expired"),
        OaEventKind::StatusChanged => {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM zalo_oas WHERE oa_id = ?")
                    .bind(oa_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            match status.as_deref() {
                Some("P") => Some("zalo_oa.connected"),
                Some("N") => Some("zalo_oa.disconnected"),
                _ => None,
            }
        }
        OaEventKind::ConnectFailed | OaEventKind::TestSent | OaEventKind::TestFailed => None,
    })
}

/// Which expiry notice to claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryNotice {
    /// Within 14 days of `expires_at` (`expiring_notified_for`).
    Expiring,
    /// Past `expires_at` (`expired_notified_for`).
    Expired,
}

/// Claims the notice for the OA's current `expires_at`: true the first time for this
/// expiry, false ever after (until a renewal moves `expires_at`), so the history entry and
/// its webhook come once per OA per expiry window, however often the OA is re-read.
pub async fn claim_expiry_notice(
    conn: &mut SqliteConnection,
    shop_id: Uuid,
    oa_id: &str,
    notice: ExpiryNotice,
) -> Result<bool, sqlx::Error> {
    let sql = match notice {
        ExpiryNotice::Expiring => {
            "UPDATE zalo_oas SET expiring_notified_for = expires_at
             WHERE shop_id = ? AND oa_id = ? AND expires_at IS NOT NULL
               AND expiring_notified_for IS NOT expires_at"
        }
        ExpiryNotice::Expired => {
            "UPDATE zalo_oas SET expired_notified_for = expires_at
             WHERE shop_id = ? AND oa_id = ? AND expires_at IS NOT NULL
               AND expired_notified_for IS NOT expires_at"
        }
    };
    Ok(sqlx::query(sql)
        .bind(shop_id)
        .bind(oa_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// An OA we hold as connected that a complete `ListOA` answer no longer lists: marked `N`.
/// True when it changed (it was not already `N`).
pub async fn mark_unlisted(
    conn: &mut SqliteConnection,
    shop_id: Uuid,
    oa_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE zalo_oas SET status = 'N', last_read_at = ?1, updated_at = ?1
         WHERE shop_id = ?2 AND oa_id = ?3 AND status <> 'N'",
    )
    .bind(now)
    .bind(shop_id)
    .bind(oa_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

#[derive(Debug, Clone, FromRow)]
pub struct OaEventRow {
    pub at: i64,
    pub oa_id: Option<String>,
    pub actor: String,
    pub kind: String,
    pub reason: Option<String>,
}

/// The newest entries first.
pub async fn events_for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
    limit: i64,
) -> Result<Vec<OaEventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, oa_id, actor, kind, reason FROM zalo_oa_events WHERE shop_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(shop_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[cfg(test)]
pub(crate) mod tests {
    use sqlx::sqlite::SqlitePoolOptions;
    use sqlx::SqlitePool;
    use uuid::Uuid;

    use super::*;

    /// A migrated in-memory database with one owner and `shops` shops.
    pub(crate) async fn db_with_shops(shops: usize) -> (SqlitePool, Uuid, Vec<Uuid>) {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::migrate!("./migrations/app").run(&pool).await.unwrap();
        let owner = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?, 'o@x.vn', 'O', 'owner', 'x', 0)",
        )
        .bind(owner)
        .execute(&pool)
        .await
        .unwrap();
        let mut ids = Vec::new();
        for i in 0..shops {
            let name = format!("Shop {i}");
            let shop = crate::store::shops::NewShop {
                owner_id: owner,
                name: &name,
                search_name: &name,
                phone: None,
                email: None,
                external_shop_id: None,
                owner_ref: None,
            };
            ids.push(crate::store::shops::insert(&pool, &shop, 0).await.unwrap());
        }
        (pool, owner, ids)
    }

    fn oa(json: &str) -> ZaloOa {
        serde_json::from_str(json).unwrap()
    }

    #[tokio::test]
    async fn upsert_reports_new_status_quality_and_expiry_changes() {
        let (db, _, shops) = db_with_shops(1).await;
        let shop = shops[0];
        let first = oa(
            r#"{"oa_id":"1052570182707778180","name":"Hòa Mai","status":"Z",
            "daily_quota":500,"remaining_quota":500,"current_quality":"HIGH",
            "last_week_quality":"UNDEFINED","expires_at":"2027-02-18T08:00:00Z"}"#,
        );
        let mut conn = db.acquire().await.unwrap();
        let change = upsert(&mut conn, shop, &first, 10).await.unwrap();
        assert!(change.is_new());
        assert_eq!(change.status, Some((None, "Z".to_owned())));
        assert!(!change.quality_dropped_to_low);
        assert_eq!(change.expiry, None);

        let same = upsert(&mut conn, shop, &first, 20).await.unwrap();
        assert!(!same.is_new());
        assert_eq!(
            (same.status, same.quality_dropped_to_low, same.expiry),
            (None, false, None)
        );

        let worse = oa(
            r#"{"oa_id":"1052570182707778180","name":"Hòa Mai","status":"P",
            "daily_quota":500,"remaining_quota":12,"current_quality":"LOW",
            "last_week_quality":"MEDIUM","expires_at":"2027-05-18T08:00:00Z"}"#,
        );
        let change = upsert(&mut conn, shop, &worse, 30).await.unwrap();
        assert_eq!(change.status, Some((Some("Z".to_owned()), "P".to_owned())));
        assert!(change.quality_dropped_to_low);
        let (from, to) = change.expiry.unwrap();
        assert!(to.unwrap() > from.unwrap());
        // Still LOW: no second drop.
        assert!(
            !upsert(&mut conn, shop, &worse, 40)
                .await
                .unwrap()
                .quality_dropped_to_low
        );
        drop(conn);

        let stored = find(&db, shop, "1052570182707778180")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.remaining_quota, 12);
        assert_eq!(stored.current_quality, "LOW");
        assert_eq!((stored.connected_at, stored.last_read_at), (10, 40));
        assert_eq!(for_shop(&db, shop).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_oa_of_another_shop_is_refused_and_never_visible_to_it() {
        let (db, _, shops) = db_with_shops(2).await;
        let json = r#"{"oa_id":"77","name":"A","status":"P","current_quality":"HIGH","last_week_quality":"HIGH"}"#;
        let mut conn = db.acquire().await.unwrap();
        upsert(&mut conn, shops[0], &oa(json), 1).await.unwrap();
        let err = upsert(&mut conn, shops[1], &oa(json), 2).await.unwrap_err();
        assert!(matches!(err, UpsertError::OtherShop), "{err:?}");
        drop(conn);
        assert!(find(&db, shops[1], "77").await.unwrap().is_none());
        assert_eq!(
            find(&db, shops[0], "77").await.unwrap().unwrap().shop_id,
            shops[0]
        );
        assert!(belongs_to_other_shop(&db, shops[1], "77").await.unwrap());
        assert!(!belongs_to_other_shop(&db, shops[0], "77").await.unwrap());
    }

    #[tokio::test]
    async fn events_are_recorded_and_read_newest_first() {
        let (db, _, shops) = db_with_shops(1).await;
        let mut conn = db.acquire().await.unwrap();
        record_event(
            &mut *conn,
            shops[0],
            Some("77"),
            1,
            "system",
            OaEventKind::Connected,
            None,
        )
        .await
        .unwrap();
        record_event(
            &mut *conn,
            shops[0],
            Some("77"),
            2,
            "system",
            OaEventKind::TestFailed,
            Some("quota"),
        )
        .await
        .unwrap();
        drop(conn);
        let events = events_for_shop(&db, shops[0], 10).await.unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["test_failed", "connected"]);
        for kind in [
            OaEventKind::Connected,
            OaEventKind::QualityLow,
            OaEventKind::TestSent,
        ] {
            assert_eq!(OaEventKind::parse(kind.as_str()), Some(kind));
        }
    }
}
