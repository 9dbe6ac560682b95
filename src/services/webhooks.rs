//! Webhooks: endpoints registered by admins, and the worker that delivers the outbox.
//!
//! Each event is sent as a JSON POST signed with the endpoint's secret:
//! `Shoplink-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The body
//! names the shop and its new status, never its key. Delivery is at least once (the same
//! event id on every attempt), in order per shop and endpoint, with a timeout and an
//! exponential backoff (`WEBHOOK_RETRY_BASE_SECS`, doubling, at most a day). After
//! `WEBHOOK_MAX_ATTEMPTS` failed attempts at one delivery the endpoint is paused and
//! flagged; its deliveries wait for an admin to resume it. Everything the worker knows is
//! in the database, so a restart loses nothing.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;
use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::{random_token, SealedKey};
use crate::domain::ShopKey;
use crate::store::outbox::{self, ClaimedDelivery, EVENT_TYPES};
use crate::store::webhooks::{self, NewEndpoint};
use crate::store::{self};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Shoplink-Signature";
/// Signing secrets start with this.
pub const SECRET_PREFIX: &str = "whsec_";
/// Sealed secrets are bound to their endpoint's id and to this fixed "owner", which no
/// user has, so a sealed webhook secret can never open as a shop key or the reverse.
const SECRET_OWNER: Uuid = Uuid::from_u128(0x7768_7365_635f_7765_6268_6f6f_6b73_0001);
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);
/// How often the worker looks for due deliveries when it has nothing to do.
const POLL: Duration = Duration::from_secs(1);
/// Deliveries attempted at once.
const CONCURRENCY: usize = 8;
/// How much of an answer is kept for the dashboard.
const EXCERPT_CHARS: usize = 200;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EndpointInput {
    pub url: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub event_types: Vec<String>,
}

#[derive(Debug)]
pub enum EndpointError {
    Invalid(Vec<(&'static str, &'static str)>),
    Service(ServiceError),
}

impl From<sqlx::Error> for EndpointError {
    fn from(e: sqlx::Error) -> Self {
        EndpointError::Service(e.into())
    }
}

/// An absolute http(s) URL without credentials.
pub fn endpoint_url_ok(raw: &str) -> bool {
    raw.len() <= 2_000
        && Url::parse(raw).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        })
}

/// Registers an endpoint; returns its id and its signing secret (shown once).
pub async fn create_endpoint(
    svc: &Services,
    created_by: Uuid,
    input: &EndpointInput,
) -> Result<(Uuid, String), EndpointError> {
    let mut errors = Vec::new();
    let url = input.url.trim();
    if !endpoint_url_ok(url) {
        errors.push(("url", "error_webhook_url"));
    }
    let description = input.description.trim();
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        errors.push(("description", "error_webhook_description"));
    }
    let types: Vec<&str> = EVENT_TYPES
        .iter()
        .copied()
        .filter(|t| input.event_types.iter().any(|x| x == t))
        .collect();
    if types.is_empty()
        || input
            .event_types
            .iter()
            .any(|t| !EVENT_TYPES.contains(&t.as_str()))
    {
        errors.push(("event_types", "error_webhook_event_types"));
    }
    if !errors.is_empty() {
        return Err(EndpointError::Invalid(errors));
    }
    let id = Uuid::new_v4();
    let secret = format!("{SECRET_PREFIX}{}", random_token());
    let sealed = seal_secret(svc, id, &secret);
    let prefix: String = secret.chars().take(SECRET_PREFIX.len() + 4).collect();
    webhooks::insert(
        &svc.db,
        id,
        &NewEndpoint {
            url,
            description,
            event_types: &types.join(" "),
            secret: &sealed,
            secret_prefix: &prefix,
            created_by,
        },
        store::now_ms(),
    )
    .await?;
    tracing::info!(endpoint = %id, "webhook endpoint registered");
    Ok((id, secret))
}

fn seal_secret(svc: &Services, endpoint_id: Uuid, secret: &str) -> SealedKey {
    let as_key = ShopKey::parse(secret).expect("a generated secret is a valid token");
    svc.sealer.seal(&as_key, endpoint_id, SECRET_OWNER)
}

fn open_secret(svc: &Services, d: &ClaimedDelivery) -> Option<String> {
    let sealed = SealedKey {
        ciphertext: d.secret_ciphertext.clone(),
        nonce: d.secret_nonce.clone(),
        key_id: d.secret_key_id.clone(),
    };
    match svc.sealer.open(&sealed, d.endpoint_id, SECRET_OWNER) {
        Ok(key) => Some(key.expose_secret().to_owned()),
        Err(err) => {
            tracing::error!(endpoint = %d.endpoint_id, error = %err, "a webhook secret does not open");
            None
        }
    }
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signature header's value.
pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// RFC 3339 in UTC, as every time in the API and in webhooks.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(serde::Serialize)]
struct Payload<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    occurred_at: String,
    shop: PayloadShop<'a>,
}

#[derive(serde::Serialize)]
struct PayloadShop<'a> {
    id: Uuid,
    external_shop_id: Option<&'a str>,
    /// A string: ITS ids do not fit a JavaScript number.
    its_shop_id: Option<String>,
    status: &'a str,
}

/// The body of a delivery: the same bytes on every attempt.
pub fn payload(d: &ClaimedDelivery) -> String {
    serde_json::to_string(&Payload {
        id: &d.event_id,
        event_type: &d.event_type,
        occurred_at: rfc3339(d.occurred_at),
        shop: PayloadShop {
            id: d.shop_id,
            external_shop_id: d.external_shop_id.as_deref(),
            its_shop_id: d.its_shop_id.map(|id| id.to_string()),
            status: &d.status,
        },
    })
    .expect("the payload serialises")
}

/// The wait after `attempts` failed attempts: base, 2×base, 4×base… at most a day.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 40) as u32 - 1;
    base.checked_mul(1u32 << doublings.min(30))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

/// Stops the worker when dropped.
pub struct WorkerGuard(tokio::task::JoinHandle<()>);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the delivery worker.
pub fn spawn_worker(svc: Services) -> WorkerGuard {
    WorkerGuard(tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(svc.api.webhook_timeout)
            .connect_timeout(svc.api.webhook_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("shoplink-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(error = %err, "the webhook worker cannot build its HTTP client");
                return;
            }
        };
        loop {
            match run_once(&svc, &client).await {
                // A full batch: there may be more right away.
                Ok(n) if n >= CONCURRENCY * 4 => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "the webhook worker failed; retrying"),
            }
            tokio::time::sleep(POLL).await;
        }
    }))
}

/// Attempts every delivery that is due now. Returns how many were attempted.
pub async fn run_once(svc: &Services, client: &reqwest::Client) -> Result<usize, ServiceError> {
    let now = store::now_ms();
    let due = outbox::due(&svc.db, now, (CONCURRENCY * 4) as i64).await?;
    let count = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(CONCURRENCY, |d| async move {
            if let Err(err) = attempt(svc, client, d.id).await {
                tracing::error!(delivery = d.id, error = %err, "a webhook delivery could not be recorded");
            }
        })
        .await;
    Ok(count)
}

async fn attempt(
    svc: &Services,
    client: &reqwest::Client,
    delivery_id: i64,
) -> Result<(), ServiceError> {
    let now = store::now_ms();
    // The lease: longer than any attempt can take.
    let lease_until = now + svc.api.webhook_timeout.as_millis() as i64 + 60_000;
    let claimed = {
        let mut conn = svc.db.acquire().await?;
        outbox::claim(&mut conn, delivery_id, now, lease_until).await?
    };
    let Some(d) = claimed else {
        return Ok(()); // another worker has it
    };
    let Some(secret) = open_secret(svc, &d) else {
        // Without its secret nothing can be signed: pause rather than send unsigned.
        webhooks::pause(&svc.db, d.endpoint_id, "secret_unreadable", store::now_ms()).await?;
        return Ok(());
    };
    let body = payload(&d);
    let timestamp = now / 1000;
    let started = Instant::now();
    let answer = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            SIGNATURE_HEADER,
            signature_header(&secret, timestamp, &body),
        )
        .header("Shoplink-Event-Id", &d.event_id)
        .header("Shoplink-Event-Type", &d.event_type)
        .body(body)
        .send()
        .await;
    let (status, excerpt) = match answer {
        Ok(response) => {
            let status = response.status();
            (Some(status), Some(read_excerpt(response).await))
        }
        Err(err) => (None, Some(describe(&err))),
    };
    let latency_ms = started.elapsed().as_millis() as i64;
    let ok = status.is_some_and(|s| s.is_success());
    let done_at = store::now_ms();

    let mut tx = crate::store::begin_write(&svc.db).await?;
    outbox::record_attempt(
        &mut tx,
        d.id,
        done_at,
        &outbox::Attempt {
            status_code: status.map(|s| i64::from(s.as_u16())),
            latency_ms,
            excerpt: excerpt.as_deref(),
        },
    )
    .await?;
    if ok {
        outbox::mark_delivered(&mut tx, d.id, done_at).await?;
    } else {
        let attempts = d.attempts + 1;
        let next = done_at + backoff(svc.api.webhook_retry_base, attempts).as_millis() as i64;
        outbox::mark_failed(&mut tx, d.id, next).await?;
        if attempts >= i64::from(svc.api.webhook_max_attempts) {
            let reason = format!(
                "{attempts} failed attempts in a row (last: {})",
                status
                    .map(|s| s.as_u16().to_string())
                    .unwrap_or_else(|| "no answer".into())
            );
            if webhooks::pause(&mut *tx, d.endpoint_id, &reason, done_at).await? {
                tracing::warn!(endpoint = %d.endpoint_id, %reason, "webhook endpoint paused");
            }
        }
    }
    tx.commit().await?;
    tracing::info!(
        delivery = d.id,
        event = %d.event_id,
        status = status.map(|s| s.as_u16()),
        latency_ms,
        "webhook attempt"
    );
    Ok(())
}

/// The first characters of an answer, without control characters (read at most 4 KiB).
async fn read_excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 4_096 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(EXCERPT_CHARS)
        .collect()
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timeout".into()
    } else if err.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

pub async fn pause(svc: &Services, endpoint_id: Uuid) -> Result<bool, ServiceError> {
    Ok(webhooks::pause(&svc.db, endpoint_id, "paused_by_admin", store::now_ms()).await?)
}

/// Resumes an endpoint; its waiting deliveries are due at once, with a fresh backoff.
pub async fn resume(svc: &Services, endpoint_id: Uuid) -> Result<bool, ServiceError> {
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let resumed = webhooks::resume(&mut *tx, endpoint_id).await?;
    if resumed {
        webhooks::retry_pending_now(&mut *tx, endpoint_id, store::now_ms()).await?;
    }
    tx.commit().await?;
    Ok(resumed)
}

pub async fn resend(
    svc: &Services,
    endpoint_id: Uuid,
    delivery_id: i64,
) -> Result<bool, ServiceError> {
    Ok(webhooks::resend(&svc.db, endpoint_id, delivery_id, store::now_ms()).await?)
}

pub async fn delete(svc: &Services, endpoint_id: Uuid) -> Result<bool, ServiceError> {
    Ok(webhooks::delete(&svc.db, endpoint_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_day() {
        let base = Duration::from_secs(60);
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 2), Duration::from_secs(120));
        assert_eq!(backoff(base, 5), Duration::from_secs(960));
        assert_eq!(backoff(base, 12), MAX_DELAY);
        assert_eq!(backoff(base, 1_000), MAX_DELAY);
    }

    #[test]
    fn the_signature_is_an_hmac_of_timestamp_dot_body() {
        // Checked against: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let header = signature_header("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            header,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(sign("whsec_test", 1, "x"), sign("whsec_test", 2, "x"));
        assert_ne!(sign("whsec_a", 1, "x"), sign("whsec_b", 1, "x"));
    }

    #[test]
    fn endpoint_urls_are_absolute_http_without_credentials() {
        assert!(endpoint_url_ok("https://hooks.example.vn/shoplink"));
        assert!(endpoint_url_ok("http://127.0.0.1:9000/hook"));
        assert!(!endpoint_url_ok("ftp://example.vn/"));
        assert!(!endpoint_url_ok("https://u:p@example.vn/"));
        assert!(!endpoint_url_ok("/relative"));
    }
}
