//! The SQL of the sandbox's Zalo side (a child of `store`, so every statement of the
//! sandbox stays in its store). Times are Unix seconds passed in by the caller.

use sqlx::Row;

use super::super::secret;
use super::super::zalo::{quota_day, DAILY_QUOTA};
use super::Store;

/// How an app's id/secret pair was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppCheck {
    Accepted,
    /// Another secret than the registered one, or the operator made every secret wrong.
    WrongSecret,
}

/// An OA, with its ITS connection if it has one.
#[derive(Debug, Clone)]
pub(crate) struct OaRow {
    pub oa_id: i64,
    pub shop_id: i64,
    pub shop_name: String,
    pub name: String,
    pub description: String,
    pub is_verified: bool,
    pub has_package: bool,
    pub daily_quota: i64,
    /// Left today (a new day starts again from `daily_quota`).
    pub remaining_quota: i64,
    pub current_quality: String,
    pub last_week_quality: String,
    pub created_at: i64,
    pub connection: Option<ConnectionRow>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConnectionRow {
    pub app_id: i64,
    pub connection_id: i64,
    pub status: String,
    pub expires_at: i64,
    pub redirect_uri: String,
    pub webhook_url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A grant in flight.
#[derive(Debug, Clone)]
pub(crate) struct GrantRow {
    pub state: i64,
    pub shop_id: i64,
    pub app_id: i64,
    pub redirect_uri: String,
    /// Set for a RefreshToken grant: only this OA may be picked.
    pub oa_id: Option<i64>,
    pub expires_at: i64,
    pub chosen_oa_id: Option<i64>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub code_used_at: Option<i64>,
    pub denied_at: Option<i64>,
}

impl GrantRow {
    /// The permission page may still be answered: not expired, not denied, no code yet.
    pub fn is_open(&self, now: i64) -> bool {
        self.expires_at > now && self.denied_at.is_none() && self.code_hash.is_none()
    }
}

/// A ZNS message on the phone page.
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub msg_id: String,
    pub oa_name: String,
    pub phone: String,
    pub template_id: i64,
    pub rendered: String,
    pub tracking_id: String,
    pub is_development: bool,
    pub sent_at: i64,
}

/// A message to record.
pub(crate) struct NewMessage<'a> {
    pub shop_id: i64,
    pub oa_id: i64,
    pub phone: &'a str,
    pub template_id: i64,
    pub template_data: &'a str,
    pub rendered: &'a str,
    pub tracking_id: &'a str,
    pub is_development: bool,
}

/// A Zalo app on the operator's page.
#[derive(Debug, Clone)]
pub(crate) struct AppRow {
    pub app_id: i64,
    pub secret_rejected: bool,
}

/// What ListOA may filter on.
#[derive(Debug, Clone, Default)]
pub(crate) struct OaFilter {
    pub app_id: Option<i64>,
    pub oa_id: Option<i64>,
    pub name: Option<String>,
    pub date_from: Option<i64>,
    pub date_to: Option<i64>,
    /// Only OAs with an id greater than this (the paging cursor).
    pub after: Option<i64>,
}

const OA_COLUMNS: &str = "o.oa_id, o.shop_id, s.name AS shop_name, o.name, o.description,
    o.is_verified, o.has_package, o.daily_quota,
    CASE WHEN o.quota_day = ?1 THEN o.remaining_quota ELSE o.daily_quota END AS remaining_quota,
    o.current_quality, o.last_week_quality, o.created_at,
    c.app_id, c.connection_id, c.status, c.expires_at, c.redirect_uri, c.webhook_url,
    c.created_at AS c_created_at, c.updated_at AS c_updated_at";

const OA_FROM: &str = "sandbox_zalo_oas o JOIN sandbox_shops s ON s.id = o.shop_id
    LEFT JOIN sandbox_zalo_connections c ON c.oa_id = o.oa_id";

fn oa_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<OaRow, sqlx::Error> {
    let connection_id: Option<i64> = row.try_get("connection_id")?;
    let connection = match connection_id {
        Some(connection_id) => Some(ConnectionRow {
            app_id: row.try_get("app_id")?,
            connection_id,
            status: row.try_get("status")?,
            expires_at: row.try_get("expires_at")?,
            redirect_uri: row.try_get("redirect_uri")?,
            webhook_url: row.try_get("webhook_url")?,
            created_at: row.try_get("c_created_at")?,
            updated_at: row.try_get("c_updated_at")?,
        }),
        None => None,
    };
    Ok(OaRow {
        oa_id: row.try_get("oa_id")?,
        shop_id: row.try_get("shop_id")?,
        shop_name: row.try_get("shop_name")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_verified: row.try_get("is_verified")?,
        has_package: row.try_get("has_package")?,
        daily_quota: row.try_get("daily_quota")?,
        remaining_quota: row.try_get("remaining_quota")?,
        current_quality: row.try_get("current_quality")?,
        last_week_quality: row.try_get("last_week_quality")?,
        created_at: row.try_get("created_at")?,
        connection,
    })
}

fn grant_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<GrantRow, sqlx::Error> {
    Ok(GrantRow {
        state: row.try_get("state")?,
        shop_id: row.try_get("shop_id")?,
        app_id: row.try_get("app_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        oa_id: row.try_get("oa_id")?,
        expires_at: row.try_get("expires_at")?,
        chosen_oa_id: row.try_get("chosen_oa_id")?,
        code_hash: row.try_get("code_hash")?,
        code_expires_at: row.try_get("code_expires_at")?,
        code_used_at: row.try_get("code_used_at")?,
        denied_at: row.try_get("denied_at")?,
    })
}

impl Store {
    /// Registers an unknown app with this secret, or checks the secret of a known one.
    pub async fn zalo_check_app(
        &self,
        app_id: i64,
        secret_hash: &str,
        now: i64,
    ) -> Result<AppCheck, sqlx::Error> {
        sqlx::query(
            "INSERT INTO sandbox_zalo_apps (app_id, secret_hash, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (app_id) DO NOTHING",
        )
        .bind(app_id)
        .bind(secret_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT secret_hash, secret_rejected FROM sandbox_zalo_apps WHERE app_id = ?1",
        )
        .bind(app_id)
        .fetch_one(&self.pool)
        .await?;
        let stored: String = row.try_get("secret_hash")?;
        let rejected: bool = row.try_get("secret_rejected")?;
        Ok(
            if !rejected && secret::constant_time_eq(stored.as_bytes(), secret_hash.as_bytes()) {
                AppCheck::Accepted
            } else {
                AppCheck::WrongSecret
            },
        )
    }

    /// Whether the operator made the app's secret wrong (an unknown app counts as wrong).
    pub async fn zalo_app_rejected(&self, app_id: i64) -> Result<bool, sqlx::Error> {
        let rejected: Option<bool> =
            sqlx::query_scalar("SELECT secret_rejected FROM sandbox_zalo_apps WHERE app_id = ?1")
                .bind(app_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(rejected.unwrap_or(true))
    }

    /// Gives a shop its two OAs the first time: one ready for ZNS, one without a package.
    pub async fn zalo_ensure_oas(
        &self,
        shop_id: i64,
        shop_name: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        // IMMEDIATE: a read that decides a write must not race another writer.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_zalo_oas WHERE shop_id = ?1")
                .bind(shop_id)
                .fetch_one(&mut *tx)
                .await?;
        if existing == 0 {
            let day = quota_day(now);
            let oas = [
                (format!("{shop_name} OA"), true, DAILY_QUOTA),
                (format!("{shop_name} (chưa có gói)"), false, 0),
            ];
            for (name, ready, quota) in oas {
                sqlx::query(
                    "INSERT INTO sandbox_zalo_oas (oa_id, shop_id, name, description, is_verified,
                         has_package, daily_quota, remaining_quota, quota_day, current_quality,
                         last_week_quality, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?6, ?7, 'UNDEFINED', 'UNDEFINED', ?8)",
                )
                .bind(secret::new_large_id())
                .bind(shop_id)
                .bind(&name)
                .bind(format!("Official Account của {shop_name}"))
                .bind(ready)
                .bind(quota)
                .bind(day)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    }

    /// The shop's OAs, oldest first (the ready one first).
    pub async fn zalo_shop_oas(&self, shop_id: i64, now: i64) -> Result<Vec<OaRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OA_COLUMNS} FROM {OA_FROM} WHERE o.shop_id = ?2 ORDER BY o.created_at, o.has_package DESC, o.oa_id"
        );
        let rows = sqlx::query(&sql)
            .bind(quota_day(now))
            .bind(shop_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(oa_from_row).collect()
    }

    /// One OA, with its connection.
    pub async fn zalo_oa(&self, oa_id: i64, now: i64) -> Result<Option<OaRow>, sqlx::Error> {
        let sql = format!("SELECT {OA_COLUMNS} FROM {OA_FROM} WHERE o.oa_id = ?2");
        let row = sqlx::query(&sql)
            .bind(quota_day(now))
            .bind(oa_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(oa_from_row).transpose()
    }

    /// The shop's connected OAs (any status) matching `filter`, by id, at most `limit`.
    pub async fn zalo_list_connected(
        &self,
        shop_id: i64,
        filter: &OaFilter,
        limit: i64,
        now: i64,
    ) -> Result<Vec<OaRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OA_COLUMNS} FROM {OA_FROM}
             WHERE c.shop_id = ?2
               AND (?3 IS NULL OR c.app_id = ?3)
               AND (?4 IS NULL OR o.oa_id = ?4)
               AND (?5 IS NULL OR instr(lower(o.name), lower(?5)) > 0)
               AND (?6 IS NULL OR c.created_at >= ?6)
               AND (?7 IS NULL OR c.created_at <= ?7)
               AND (?8 IS NULL OR o.oa_id > ?8)
             ORDER BY o.oa_id LIMIT ?9"
        );
        let rows = sqlx::query(&sql)
            .bind(quota_day(now))
            .bind(shop_id)
            .bind(filter.app_id)
            .bind(filter.oa_id)
            .bind(&filter.name)
            .bind(filter.date_from)
            .bind(filter.date_to)
            .bind(filter.after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(oa_from_row).collect()
    }

    /// Every OA, newest shop first, for the operator's page.
    pub async fn zalo_all_oas(&self, limit: i64, now: i64) -> Result<Vec<OaRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OA_COLUMNS} FROM {OA_FROM}
             ORDER BY o.created_at DESC, o.shop_id, o.has_package DESC, o.oa_id LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(quota_day(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(oa_from_row).collect()
    }

    /// Records a new grant (and forgets grants that ended more than a day ago).
    #[allow(clippy::too_many_arguments)]
    pub async fn zalo_insert_grant(
        &self,
        state: i64,
        shop_id: i64,
        app_id: i64,
        redirect_uri: &str,
        oa_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sandbox_zalo_grants WHERE expires_at < ?1 AND (code_expires_at IS NULL OR code_expires_at < ?1)")
            .bind(now - 86_400)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sandbox_zalo_grants (state, shop_id, app_id, redirect_uri, oa_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(state)
        .bind(shop_id)
        .bind(app_id)
        .bind(redirect_uri)
        .bind(oa_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn zalo_grant(&self, state: i64) -> Result<Option<GrantRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM sandbox_zalo_grants WHERE state = ?1")
            .bind(state)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// The OA admin allowed: stores the code's hash for the chosen OA, once. False when the
    /// grant was already answered or expired meanwhile.
    pub async fn zalo_issue_code(
        &self,
        state: i64,
        chosen_oa_id: i64,
        code_hash: &str,
        now: i64,
        code_expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_grants SET chosen_oa_id = ?2, code_hash = ?3, code_expires_at = ?5
             WHERE state = ?1 AND code_hash IS NULL AND denied_at IS NULL AND expires_at > ?4",
        )
        .bind(state)
        .bind(chosen_oa_id)
        .bind(code_hash)
        .bind(now)
        .bind(code_expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The OA admin denied. False when the grant was already answered or expired.
    pub async fn zalo_deny(&self, state: i64, now: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_grants SET denied_at = ?2
             WHERE state = ?1 AND code_hash IS NULL AND denied_at IS NULL AND expires_at > ?2",
        )
        .bind(state)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses the code (once, atomically) and connects the OA to the shop, in one
    /// transaction. False when the code was used, expired or does not match meanwhile.
    pub async fn zalo_connect(
        &self,
        grant: &GrantRow,
        code_hash: &str,
        oa_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        // IMMEDIATE: a read that decides a write must not race another writer.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let used = sqlx::query(
            "UPDATE sandbox_zalo_grants SET code_used_at = ?1
             WHERE state = ?2 AND shop_id = ?3 AND code_hash = ?4 AND chosen_oa_id = ?5
               AND code_used_at IS NULL AND code_expires_at > ?1",
        )
        .bind(now)
        .bind(grant.state)
        .bind(grant.shop_id)
        .bind(code_hash)
        .bind(oa_id)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO sandbox_zalo_connections (oa_id, shop_id, app_id, connection_id, status,
                 expires_at, redirect_uri, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'P', ?5, ?6, ?7, ?7)
             ON CONFLICT (oa_id) DO UPDATE SET shop_id = excluded.shop_id, app_id = excluded.app_id,
                 status = 'P', expires_at = excluded.expires_at,
                 redirect_uri = excluded.redirect_uri, updated_at = excluded.updated_at",
        )
        .bind(oa_id)
        .bind(grant.shop_id)
        .bind(grant.app_id)
        .bind(secret::new_large_id())
        .bind(expires_at)
        .bind(&grant.redirect_uri)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets a connected OA's webhook. False when the OA is not connected to the shop.
    pub async fn zalo_set_webhook(
        &self,
        shop_id: i64,
        oa_id: i64,
        webhook_url: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_connections SET webhook_url = ?3, updated_at = ?4
             WHERE shop_id = ?1 AND oa_id = ?2",
        )
        .bind(shop_id)
        .bind(oa_id)
        .bind(webhook_url)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes one send from today's quota and records the message, in one transaction: the
    /// message's id and msg_id, or `None` (nothing written) when the quota is used up.
    pub async fn zalo_send(
        &self,
        message: &NewMessage<'_>,
        now: i64,
    ) -> Result<Option<(i64, String)>, sqlx::Error> {
        let day = quota_day(now);
        // IMMEDIATE: a read that decides a write must not race another writer.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let taken = sqlx::query(
            "UPDATE sandbox_zalo_oas
             SET remaining_quota = (CASE WHEN quota_day = ?2 THEN remaining_quota ELSE daily_quota END) - 1,
                 quota_day = ?2
             WHERE oa_id = ?1 AND (CASE WHEN quota_day = ?2 THEN remaining_quota ELSE daily_quota END) > 0",
        )
        .bind(message.oa_id)
        .bind(day)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        let id = secret::new_large_id();
        // Zalo's message ids are 32 hex characters.
        let msg_id = secret::hash_token(&format!("zns:{id}"))[..32].to_owned();
        sqlx::query(
            "INSERT INTO sandbox_zalo_messages (id, msg_id, shop_id, oa_id, phone, template_id,
                 template_data, rendered, tracking_id, is_development, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(id)
        .bind(&msg_id)
        .bind(message.shop_id)
        .bind(message.oa_id)
        .bind(message.phone)
        .bind(message.template_id)
        .bind(message.template_data)
        .bind(message.rendered)
        .bind(message.tracking_id)
        .bind(message.is_development)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((id, msg_id)))
    }

    /// The newest messages, at most `limit`.
    pub async fn zalo_messages(&self, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.id, m.msg_id, o.name AS oa_name, m.phone, m.template_id, m.rendered,
                    m.tracking_id, m.is_development, m.sent_at
             FROM sandbox_zalo_messages m JOIN sandbox_zalo_oas o ON o.oa_id = m.oa_id
             ORDER BY m.sent_at DESC, m.id DESC LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MessageRow {
                    id: row.try_get("id")?,
                    msg_id: row.try_get("msg_id")?,
                    oa_name: row.try_get("oa_name")?,
                    phone: row.try_get("phone")?,
                    template_id: row.try_get("template_id")?,
                    rendered: row.try_get("rendered")?,
                    tracking_id: row.try_get("tracking_id")?,
                    is_development: row.try_get("is_development")?,
                    sent_at: row.try_get("sent_at")?,
                })
            })
            .collect()
    }

    // --- the operator's switches ---

    pub async fn zalo_set_quality(
        &self,
        oa_id: i64,
        current: &str,
        last_week: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_oas SET current_quality = ?2, last_week_quality = ?3 WHERE oa_id = ?1",
        )
        .bind(oa_id)
        .bind(current)
        .bind(last_week)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets what is left of today's quota: 0 uses it up, `daily_quota` refills it.
    pub async fn zalo_set_remaining(
        &self,
        oa_id: i64,
        refill: bool,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_oas
             SET remaining_quota = CASE WHEN ?2 THEN daily_quota ELSE 0 END, quota_day = ?3
             WHERE oa_id = ?1",
        )
        .bind(oa_id)
        .bind(refill)
        .bind(quota_day(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a connected OA's refresh-token expiry. False when it is not connected.
    pub async fn zalo_set_expiry(
        &self,
        oa_id: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_connections SET expires_at = ?2, updated_at = ?3 WHERE oa_id = ?1",
        )
        .bind(oa_id)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a connected OA disconnected (`N`). False when it is not connected.
    pub async fn zalo_disconnect(&self, oa_id: i64, now: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_zalo_connections SET status = 'N', updated_at = ?2 WHERE oa_id = ?1",
        )
        .bind(oa_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn zalo_apps(&self) -> Result<Vec<AppRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT app_id, secret_rejected FROM sandbox_zalo_apps ORDER BY created_at DESC, app_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AppRow {
                    app_id: row.try_get("app_id")?,
                    secret_rejected: row.try_get("secret_rejected")?,
                })
            })
            .collect()
    }

    pub async fn zalo_set_secret_rejected(
        &self,
        app_id: i64,
        rejected: bool,
    ) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE sandbox_zalo_apps SET secret_rejected = ?2 WHERE app_id = ?1")
                .bind(app_id)
                .bind(rejected)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}
