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
//!
//! Webhooks only go to public addresses: an admin must not be able to aim the worker at the
//! server's own network (loopback, private ranges, link-local such as the cloud metadata
//! address 169.254.169.254…) and read the answer on the dashboard. The host is checked when
//! the endpoint is registered (after the `url` crate has normalised every spelling of an
//! address, and on the addresses a name resolves to), and again at every delivery: the
//! worker's client resolves names through `GuardedResolver`, which refuses non-public
//! answers, so the connection goes to exactly the addresses that were checked even if DNS
//! changed since. `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true` lifts the rule for on-premises
//! receivers.

use crate::i18n::MsgKey;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;
use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::{SealedKey, WebhookSecret};
use crate::store::outbox::{self, ClaimedDelivery, EVENT_TYPES};
use crate::store::webhooks::{self, NewEndpoint};
use crate::store::{self};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Shoplink-Signature";
/// Signing secrets start with this.
pub const SECRET_PREFIX: &str = WebhookSecret::PREFIX;
/// How long a name may take to resolve, at registration and before a delivery.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// What an attempt to a refused address records instead of an answer (no request was
/// sent); the dashboard shows it in words.
pub const REFUSED_EXCERPT_PREFIX: &str = "address_refused ";
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
    Invalid(Vec<(&'static str, MsgKey)>),
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

/// Why a webhook host is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    #[error("{0} is not a public address")]
    NotPublic(IpAddr),
    #[error("the name does not resolve")]
    Unresolvable,
}

/// Why an attempt got no answer.
enum NoAnswer {
    /// Not sent: the address is not public.
    Refused(IpAddr),
    /// Sent (or tried), and failed: timeout, connection failed…
    Failed(&'static str),
}

/// Whether `ip` is a public (globally routable) address. Refused: loopback, private
/// (RFC 1918), shared (CGNAT 100.64/10), link-local (169.254/16, fe80::/10), unique-local
/// (fc00::/7), multicast, unspecified, "this network" (0/8), broadcast and reserved,
/// documentation and benchmarking ranges; IPv6 forms that carry an IPv4 address
/// (mapped, NAT64, 6to4) are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast.
        || a >= 224;
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let v4_at =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(v4_at(s[6], s[7])); // NAT64
    }
    if s[0] == 0x2002 {
        return is_public_v4(v4_at(s[1], s[2])); // 6to4
    }
    // Only global unicast (2000::/3) is public; that excludes ::, ::1, ::/96, fc00::/7,
    // fe80::/10, ff00::/8 and the rest. Within it: IETF protocol assignments (2001::/23,
    // Teredo among them) and documentation (2001:db8::/32, 3fff::/20).
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && s[1] < 0x0200)
        && !(s[0] == 0x2001 && s[1] == 0x0db8)
        && !(s[0] == 0x3fff && s[1] < 0x1000)
}

/// Resolves `host` and checks every address it resolves to (all must be public).
async fn resolve_checked(
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, TargetRefused> {
    let addrs: Vec<SocketAddr> =
        match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 0))).await {
            Ok(Ok(addrs)) => addrs.collect(),
            _ => return Err(TargetRefused::Unresolvable),
        };
    if addrs.is_empty() {
        return Err(TargetRefused::Unresolvable);
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(TargetRefused::NotPublic(bad.ip()));
        }
    }
    Ok(addrs)
}

/// Checks where a (valid) endpoint URL points. The `url` crate has already normalised the
/// host: `2130706433`, `0x7f.1` and `0177.0.0.1` are `127.0.0.1` here, `[::ffff:127.0.0.1]`
/// an IPv6 address whose IPv4 form is judged.
pub async fn check_target(url: &Url, allow_private: bool) -> Result<(), TargetRefused> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public_v4(ip) => {
            Err(TargetRefused::NotPublic(IpAddr::V4(ip)))
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public_v6(ip) => {
            Err(TargetRefused::NotPublic(IpAddr::V6(ip)))
        }
        Some(url::Host::Domain(name)) if !allow_private => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            // RFC 6761: the machine itself, whatever this resolver says (at delivery the
            // resolved addresses are checked anyway).
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(TargetRefused::NotPublic(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            }
            resolve_checked(&name, false).await.map(|_| ())
        }
        _ => Ok(()),
    }
}

/// The delivery client's resolver: resolves as the system does, then refuses any answer
/// with a non-public address (unless allowed). reqwest connects to the addresses returned
/// here, so what was checked is what is connected to. (Literal addresses never reach a
/// resolver; the worker checks them itself before sending.)
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match resolve_checked(&host, allow_private).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(refused) => Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// The refusal behind a failed request, if our resolver refused the name.
fn refusal_in(err: &reqwest::Error) -> Option<TargetRefused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<TargetRefused>() {
            return Some(refused.clone());
        }
        source = e.source();
    }
    None
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
        errors.push(("url", MsgKey::error_webhook_url));
    } else if let Ok(parsed) = Url::parse(url) {
        match check_target(&parsed, svc.api.webhook_allow_private_networks).await {
            Ok(()) => {}
            Err(TargetRefused::NotPublic(ip)) => {
                tracing::info!(address = %ip, "webhook registration refused: not a public address");
                errors.push(("url", MsgKey::error_webhook_private_address));
            }
            Err(TargetRefused::Unresolvable) => {
                errors.push(("url", MsgKey::error_webhook_unresolvable))
            }
        }
    }
    let description = input.description.trim();
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        errors.push(("description", MsgKey::error_webhook_description));
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
        errors.push(("event_types", MsgKey::error_webhook_event_types));
    }
    if !errors.is_empty() {
        return Err(EndpointError::Invalid(errors));
    }
    let id = Uuid::new_v4();
    let secret = WebhookSecret::generate();
    let sealed = svc.sealer.seal_webhook_secret(&secret, id);
    let prefix: String = secret
        .expose_secret()
        .chars()
        .take(SECRET_PREFIX.len() + 4)
        .collect();
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
    Ok((id, secret.expose_secret().to_owned()))
}

fn open_secret(svc: &Services, d: &ClaimedDelivery) -> Option<WebhookSecret> {
    let sealed = SealedKey {
        ciphertext: d.secret_ciphertext.clone(),
        nonce: d.secret_nonce.clone(),
        key_id: d.secret_key_id.clone(),
    };
    match svc.sealer.open_webhook_secret(&sealed, d.endpoint_id) {
        Ok(secret) => Some(secret),
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
    /// `zalo_oa.*` events: the OA as it was when the change happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    oa: Option<serde_json::Value>,
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
        oa: d.oa.as_deref().and_then(|oa| serde_json::from_str(oa).ok()),
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
            // A proxy would resolve and connect on its own, past the address check.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(GuardedResolver {
                allow_private: svc.api.webhook_allow_private_networks,
            }))
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
    // A literal address never reaches the resolver: check it here (names are checked by
    // `GuardedResolver` as the client resolves them).
    let literal_refusal = match Url::parse(&d.url) {
        Ok(url) => match url.host() {
            Some(url::Host::Domain(_)) => None,
            _ => check_target(&url, svc.api.webhook_allow_private_networks)
                .await
                .err(),
        },
        Err(_) => None,
    };
    let answer = match literal_refusal {
        Some(TargetRefused::NotPublic(ip)) => Err(NoAnswer::Refused(ip)),
        Some(TargetRefused::Unresolvable) => Err(NoAnswer::Failed("name not resolved")),
        None => client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature_header(secret.expose_secret(), timestamp, &body),
            )
            .header("Shoplink-Event-Id", &d.event_id)
            .header("Shoplink-Event-Type", &d.event_type)
            .body(body)
            .send()
            .await
            .map_err(|err| match refusal_in(&err) {
                Some(TargetRefused::NotPublic(ip)) => NoAnswer::Refused(ip),
                Some(TargetRefused::Unresolvable) => NoAnswer::Failed("name not resolved"),
                None => NoAnswer::Failed(describe(&err)),
            }),
    };
    let (status, excerpt, refused) = match answer {
        Ok(response) => {
            let status = response.status();
            (Some(status), read_excerpt(response).await, false)
        }
        Err(NoAnswer::Failed(reason)) => (None, reason.to_owned(), false),
        Err(NoAnswer::Refused(ip)) => {
            // Nothing was sent: the attempt fails with the reason instead of an answer.
            tracing::warn!(endpoint = %d.endpoint_id, address = %ip, "webhook delivery refused: not a public address");
            (None, format!("{REFUSED_EXCERPT_PREFIX}{ip}"), true)
        }
    };
    let excerpt = Some(excerpt);
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
                match status {
                    Some(s) => s.as_u16().to_string(),
                    None if refused => "address refused".into(),
                    None => "no answer".into(),
                }
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

fn describe(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
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

    fn refused(raw: &str) -> bool {
        let url = Url::parse(raw).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        matches!(
            rt.block_on(check_target(&url, false)),
            Err(TargetRefused::NotPublic(_))
        )
    }

    #[test]
    fn every_spelling_of_a_private_address_is_refused() {
        for raw in [
            "http://127.0.0.1:9000/hook",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:10.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:c0a8:0101::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[fc00::1]/",
            "http://[ff02::1]/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://192.0.2.10/",
            "http://[2001:db8::1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "https://127.0.0.1./",
        ] {
            assert!(refused(raw), "{raw} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass_and_the_setting_allows_private_ones() {
        for raw in [
            "https://93.184.216.34/hook",
            "http://8.8.8.8/",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://[2606:4700:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            assert!(!refused(raw), "{raw} is public");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for raw in ["http://127.0.0.1:9/", "http://[::1]/", "http://10.0.0.1/"] {
            let url = Url::parse(raw).unwrap();
            assert_eq!(rt.block_on(check_target(&url, true)), Ok(()), "{raw}");
        }
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
