//! Webhooks against a real local HTTP receiver that checks every signature: retries with
//! the same event id, a restart between two attempts that loses nothing, order per shop,
//! a failing endpoint paused and flagged, and a resend from the dashboard.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;

use crate::api_support::*;
use crate::helpers::{csrf_in, location};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    event_id: String,
    signature_ok: bool,
    body: Value,
    raw: String,
    answered: u16,
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    /// Statuses to answer, in order; 200 once empty (or `always` if set).
    script: VecDeque<u16>,
    always: Option<u16>,
    received: Vec<Received>,
}

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Inner>>);

impl Receiver {
    fn set_secret(&self, secret: &str) {
        self.0.lock().unwrap().secret = Some(secret.to_owned());
    }
    fn script(&self, statuses: &[u16]) {
        self.0.lock().unwrap().script = statuses.iter().copied().collect();
    }
    fn always(&self, status: Option<u16>) {
        self.0.lock().unwrap().always = status;
    }
    fn received(&self) -> Vec<Received> {
        self.0.lock().unwrap().received.clone()
    }
}

/// Checks `t=<ts>,v1=<hex>` as the README tells receivers to: HMAC-SHA256 of
/// `"<ts>.<body>"` under the secret, and a timestamp within five minutes.
fn verify_signature(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&v1).is_ok()
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let header = req
        .headers()
        .get("shoplink-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut inner = state.0.lock().unwrap();
    let signature_ok = inner
        .secret
        .as_deref()
        .is_some_and(|s| verify_signature(s, &header, &raw));
    let answered = inner
        .always
        .or_else(|| inner.script.pop_front())
        .unwrap_or(200);
    let parsed: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    inner.received.push(Received {
        event_id: parsed["id"].as_str().unwrap_or("").to_owned(),
        signature_ok,
        body: parsed,
        raw,
        answered,
    });
    let status = actix_web::http::StatusCode::from_u16(answered).unwrap();
    let text = if signature_ok {
        "thanks"
    } else {
        "bad signature"
    };
    HttpResponse::build(status).body(format!("{text} ({answered})"))
}

/// A local HTTP receiver; returns its URL.
fn start_receiver(receiver: &Receiver) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = web::Data::new(receiver.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}/hooks/shoplink")
}

/// Registers the receiver on the dashboard and gives it the secret shown once.
async fn register(app: &ApiApp, receiver: &Receiver, url: &str, events: &[&str]) -> String {
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url("/admin/webhooks")).await;
    let token = csrf_in(&page);
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf_token", &token),
        ("url", url),
        ("description", "Hệ thống ZNS"),
    ];
    for e in events {
        form.push(("event_type", e));
    }
    let r = admin
        .post(app.url("/admin/webhooks"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let secret = input_value(&html, "secret");
    assert!(secret.starts_with("whsec_"));
    receiver.set_secret(&secret);
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE url = ?")
        .bind(url)
        .fetch_one(&app.db)
        .await
        .unwrap();
    // Shown once: neither the list nor the endpoint's page shows it again.
    assert!(!get_text(&admin, &app.url("/admin/webhooks"))
        .await
        .contains(&secret));
    assert!(
        !get_text(&admin, &app.url(&format!("/admin/webhooks/{id}")))
            .await
            .contains(&secret)
    );
    id.to_string()
}

const ALL: [&str; 4] = [
    "connection.connected",
    "connection.needs_reauth",
    "connection.failed",
    "connection.disconnected",
];

async fn wait_until<F: Fn(&[Received]) -> bool>(receiver: &Receiver, what: &str, done: F) {
    for _ in 0..150 {
        if done(&receiver.received()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}: {:#?}", receiver.received());
}

/// Polls the database (at most 15 s) until `query` answers 1.
async fn wait_for_db(app: &ApiApp, what: &str, query: &str) {
    for _ in 0..300 {
        let yes: i64 = sqlx::query_scalar(query).fetch_one(&app.db).await.unwrap();
        if yes == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Until the (only) pending delivery's next attempt is due.
async fn wait_for_due_retry(app: &ApiApp) {
    wait_for_db(
        app,
        "the retry to fall due",
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'pending'
           AND next_attempt_at <= CAST(unixepoch('subsec') * 1000 AS INTEGER))",
    )
    .await;
}

/// Until no delivery is pending any more.
async fn wait_for_delivered(app: &ApiApp) {
    wait_for_db(
        app,
        "every delivery to be delivered",
        "SELECT NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'pending')",
    )
    .await;
}

async fn attempts_recorded(app: &ApiApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_attempts")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_survive_a_restart() {
    let mut app = spawn_api_app(&[]).await;
    let receiver = Receiver::default();
    receiver.script(&[500, 200]);
    let url = start_receiver(&receiver);
    let endpoint = register(&app, &receiver, &url, &ALL).await;
    let key = app
        .create_key("Webhook", &["connect:write", "keys:read"])
        .await;
    let shop = app.connect_via_link(&key, "u-w", "s-w").await;
    let shop_key: Value = app
        .api_get(&key, &format!("/api/v1/shops/{shop}/key"))
        .await
        .json()
        .await
        .unwrap();
    let shop_key = shop_key["shop_key"].as_str().unwrap().to_owned();

    // The first attempt is answered 500 and recorded…
    wait_until(&receiver, "the first attempt", |r| !r.is_empty()).await;
    for _ in 0..50 {
        if attempts_recorded(&app).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(attempts_recorded(&app).await, 1);
    // …then the app stops before the retry (due a second later); the retry falls due
    // while it is down.
    app.stop().await;
    wait_for_due_retry(&app).await;

    // A new process on the same database delivers it.
    let restarted_at = shoplink::store::now_ms();
    app.start_again().await;
    wait_until(&receiver, "the retry", |r| r.len() >= 2).await;
    wait_for_delivered(&app).await;
    let retried_at: i64 =
        sqlx::query_scalar("SELECT at FROM webhook_attempts ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        retried_at >= restarted_at,
        "the retry was sent by the new process, none while stopped"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2, "delivered once after the 500: {got:#?}");
    let (first, second) = (&got[0], &got[1]);
    assert_eq!((first.answered, second.answered), (500, 200));
    assert!(
        first.signature_ok && second.signature_ok,
        "signed: {got:#?}"
    );
    assert_eq!(first.event_id, second.event_id, "the same event id");
    assert_eq!(first.raw, second.raw, "the same body");
    assert!(first.event_id.starts_with("evt_"));

    let body = &second.body;
    assert_eq!(body["type"], "connection.connected");
    assert_eq!(body["shop"]["id"], shop);
    assert_eq!(body["shop"]["external_shop_id"], "s-w");
    assert_eq!(body["shop"]["status"], "connected");
    let its_id = app.its_shop_id(&shop).await.unwrap();
    assert_eq!(body["shop"]["its_shop_id"], its_id.to_string());
    assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(!second.raw.contains(&shop_key), "never the key");
    assert!(
        !second.raw.contains("key"),
        "no key field at all: {}",
        second.raw
    );

    let (state, attempts): (String, i64) =
        sqlx::query_as("SELECT state, attempts FROM webhook_deliveries")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("delivered", 2));

    // The dashboard shows the delivery: status, latency, the answer's first bytes.
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/webhooks/{endpoint}"))).await;
    assert!(page.contains(&first.event_id));
    assert!(page.contains("<code>200</code>") && page.contains(" ms"));
    assert!(page.contains("thanks (200)"));
    assert!(
        page.contains("<code>500</code>") && !page.contains("bad signature"),
        "both attempts are listed, each signed"
    );
    assert!(page.contains("Đã nhận"));
}

#[tokio::test]
async fn webhooks_arrive_in_order_per_shop_for_each_kind_of_change() {
    let app = spawn_api_app(&[]).await;
    let receiver = Receiver::default();
    let url = start_receiver(&receiver);
    register(&app, &receiver, &url, &ALL).await;
    let key = app
        .create_key("Thứ tự", &["connect:write", "shops:read"])
        .await;
    let shop = app.connect_via_link(&key, "u-o", "s-o").await;
    // needs_reauth: ITS stops accepting the key.
    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let r = app
        .api_post(&key, &format!("/api/v1/shops/{shop}/verify"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // disconnected, by an admin.
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/shops/{shop}/disconnect"))).await;
    let r = admin
        .post(app.url(&format!("/admin/shops/{shop}/disconnect")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // failed: a new attempt that ITS cannot serve.
    app.set_faults(shoplink::sandbox::Faults {
        failure_rate: 1.0,
        ..Default::default()
    });
    let link = app.connect_link(&key, "u-o", "s-o").await;
    let (_, r) = app.open_link(&link).await;
    assert!(location(&r).contains("status=failed"));

    wait_until(&receiver, "four events", |r| r.len() >= 4).await;
    let got = receiver.received();
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "connection.connected",
            "connection.needs_reauth",
            "connection.disconnected",
            "connection.failed"
        ]
    );
    assert!(got.iter().all(|r| r.signature_ok));
    let statuses: Vec<&str> = got
        .iter()
        .map(|r| r.body["shop"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["connected", "needs_reauth", "disconnected", "failed"]
    );
    // Each change wrote exactly one outbox event, with the history entry.
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 4);
}

#[tokio::test]
async fn webhooks_only_subscribed_events_are_sent() {
    let app = spawn_api_app(&[]).await;
    let receiver = Receiver::default();
    let url = start_receiver(&receiver);
    register(&app, &receiver, &url, &["connection.disconnected"]).await;
    let key = app.create_key("Lọc", &["connect:write"]).await;
    let shop = app.connect_via_link(&key, "u-s", "s-s").await;
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/shops/{shop}/disconnect"))).await;
    admin
        .post(app.url(&format!("/admin/shops/{shop}/disconnect")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    wait_until(&receiver, "the disconnect", |r| !r.is_empty()).await;
    // Deliveries go out in order per shop: had the earlier "connected" been queued, it
    // would have arrived first. And nothing else is queued for this endpoint.
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 1, "only the subscribed event was queued");
    assert_eq!(got[0].body["type"], "connection.disconnected");
}

#[tokio::test]
async fn webhooks_a_failing_endpoint_is_paused_flagged_resumed_and_resent() {
    let app = spawn_api_app(&[("WEBHOOK_MAX_ATTEMPTS", "2")]).await;
    let receiver = Receiver::default();
    receiver.always(Some(503));
    let url = start_receiver(&receiver);
    let endpoint = register(&app, &receiver, &url, &ALL).await;
    let key = app.create_key("Lỗi", &["connect:write"]).await;
    app.connect_via_link(&key, "u-p", "s-p").await;

    wait_until(&receiver, "two failed attempts", |r| r.len() >= 2).await;
    let mut paused = None;
    for _ in 0..50 {
        paused = sqlx::query_scalar("SELECT pause_reason FROM webhook_endpoints")
            .fetch_one(&app.db)
            .await
            .unwrap();
        if paused.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason: String = paused.expect("the endpoint is paused");
    assert!(reason.contains("503"), "{reason}");
    // Once its next attempt is due, the worker's query for due deliveries passes over
    // the paused endpoint, and nothing more has arrived.
    wait_for_due_retry(&app).await;
    assert!(
        shoplink::store::outbox::due(&app.db, shoplink::store::now_ms(), 100)
            .await
            .unwrap()
            .is_empty(),
        "a paused endpoint's delivery is never due"
    );
    assert_eq!(receiver.received().len(), 2, "nothing is sent while paused");

    let admin = app.admin_browser().await;
    let list = get_text(&admin, &app.url("/admin/webhooks")).await;
    assert!(list.contains("Tạm dừng"), "flagged in the list");
    let page = get_text(&admin, &app.url(&format!("/admin/webhooks/{endpoint}"))).await;
    assert!(page.contains("Đã tạm dừng gửi"), "flagged on its page");
    assert!(page.contains("<code>503</code>"));

    // Resumed, the waiting delivery goes out at once.
    receiver.always(None);
    let r = admin
        .post(app.url(&format!("/admin/webhooks/{endpoint}/resume")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/admin/webhooks/{endpoint}?outcome=resumed")
    );
    wait_until(&receiver, "the delivery after resuming", |r| {
        r.last().is_some_and(|x| x.answered == 200)
    })
    .await;

    // Resend it from the dashboard: the same event again.
    let page = get_text(&admin, &app.url(&format!("/admin/webhooks/{endpoint}"))).await;
    assert!(!page.contains("Đã tạm dừng gửi"));
    let delivery: i64 = sqlx::query_scalar("SELECT id FROM webhook_deliveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r = admin
        .post(app.url(&format!(
            "/admin/webhooks/{endpoint}/deliveries/{delivery}/resend"
        )))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let before = receiver.received().len();
    wait_until(&receiver, "the resend", |r| r.len() > before).await;
    let got = receiver.received();
    assert_eq!(got.last().unwrap().event_id, got[0].event_id);
    assert!(got.iter().all(|r| r.signature_ok));
}

/// Submits the registration form; returns the status and the page.
async fn try_register(app: &ApiApp, admin: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let page = get_text(admin, &app.url("/admin/webhooks")).await;
    let token = csrf_in(&page);
    let r = admin
        .post(app.url("/admin/webhooks"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("url", url),
            ("description", ""),
            ("event_type", "connection.connected"),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn endpoint_count(app: &ApiApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn webhooks_to_the_servers_own_network_are_refused_in_every_spelling() {
    let app = spawn_api_app(&[("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")]).await;
    let admin = app.admin_browser().await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/",
        "http://172.20.1.1/",
        "http://192.168.1.10/",
        "http://100.64.1.1/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.251/",
        "http://255.255.255.255/",
    ] {
        let (status, page) = try_register(&app, &admin, url).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(
            page.contains("trỏ vào mạng nội bộ") && page.contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            "{url}: the form says why"
        );
    }
    assert_eq!(endpoint_count(&app).await, 0, "nothing was registered");

    // A public address (no DNS needed) is accepted.
    let (status, page) = try_register(&app, &admin, "https://93.184.216.34/hooks").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(endpoint_count(&app).await, 1);
}

async fn refused_attempts(app: &ApiApp) -> Vec<(Option<i64>, String)> {
    sqlx::query_as("SELECT status_code, excerpt FROM webhook_attempts ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn webhooks_are_not_sent_to_an_address_that_became_private_after_registration() {
    // Registered while private networks were allowed: a name that resolves to loopback
    // and a literal loopback address (as a name whose DNS changed would be)…
    let mut app = spawn_api_app(&[]).await;
    let receiver = Receiver::default();
    let url = start_receiver(&receiver);
    let by_name = url.replace("127.0.0.1", "localhost");
    let by_name_id = register(&app, &receiver, &by_name, &ALL).await;
    register(&app, &receiver, &url, &ALL).await;
    // …then the setting is turned off and the app restarted.
    app.stop().await;
    app.set_var("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false");
    app.start_again().await;

    let key = app.create_key("SSRF", &["connect:write"]).await;
    app.connect_via_link(&key, "u-r", "s-r").await;
    let mut attempts = Vec::new();
    for _ in 0..150 {
        attempts = refused_attempts(&app).await;
        if attempts.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(attempts.len() >= 2, "both attempts recorded: {attempts:?}");
    for (status, excerpt) in &attempts {
        assert_eq!(*status, None, "no answer: nothing was sent");
        assert!(
            excerpt == "address_refused 127.0.0.1" || excerpt == "address_refused ::1",
            "{excerpt}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "the receiver got nothing: {:#?}",
        receiver.received()
    );
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(pending, 2, "a failed attempt: retried later, not delivered");

    // The dashboard says why, in words.
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/webhooks/{by_name_id}"))).await;
    assert!(
        page.contains("Không gửi: địa chỉ 127.0.0.1 không phải địa chỉ công khai")
            || page.contains("Không gửi: địa chỉ ::1 không phải địa chỉ công khai"),
        "{page}"
    );
}

/// Waits (up to 15 s) until `want` deliveries are recorded as delivered; returns how many are.
async fn delivered_count(app: &ApiApp, want: i64) -> i64 {
    let mut count = 0;
    for _ in 0..150 {
        count =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'")
                .fetch_one(&app.db)
                .await
                .unwrap();
        if count >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    count
}

#[tokio::test]
async fn webhooks_stay_signed_after_rotate_key_once_the_previous_secret_is_dropped() {
    use shoplink::crypto::{KeySealer, SecretKey};
    let mut app = spawn_api_app(&[]).await;
    let (current, legacy) = (Receiver::default(), Receiver::default());
    let current_url = start_receiver(&current);
    let legacy_url = start_receiver(&legacy);
    register(&app, &current, &current_url, &ALL).await;
    let legacy_id: uuid::Uuid = register(&app, &legacy, &legacy_url, &ALL)
        .await
        .parse()
        .unwrap();
    let old_secret = SecretKey::parse(&app.secret_hex).unwrap();
    let old = KeySealer::new(&old_secret);

    // The second endpoint's secret sealed as releases before this one did: as a shop key
    // of a made-up owner.
    let legacy_secret = legacy.0.lock().unwrap().secret.clone().unwrap();
    let made_up_owner = uuid::Uuid::from_u128(0x7768_7365_635f_7765_6268_6f6f_6b73_0001);
    let sealed = old.seal(
        &shoplink::domain::ShopKey::parse(&legacy_secret).unwrap(),
        legacy_id,
        made_up_owner,
    );
    sqlx::query(
        "UPDATE webhook_endpoints SET secret_ciphertext = ?, secret_nonce = ? WHERE id = ?",
    )
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(legacy_id)
    .execute(&app.db)
    .await
    .unwrap();

    let key = app
        .create_key("Xoay khoá", &["connect:write", "keys:read"])
        .await;
    let before = app.connect_via_link(&key, "u-k1", "s-k1").await;
    for r in [&current, &legacy] {
        wait_until(r, "the first event", |got| !got.is_empty()).await;
        assert!(r.received()[0].signature_ok, "the old seal opens");
    }

    // Both recorded as delivered before the stop (an attempt cut off mid-way would wait
    // for its lease to end, and the next event of the shop behind it).
    assert_eq!(delivered_count(&app, 2).await, 2);

    // rotate-key, then the new secret alone (no SECRET_KEY_PREVIOUS).
    app.stop().await;
    let new_secret = SecretKey::generate();
    let report =
        shoplink::services::maintenance::rotate_keys(&app.db, &old, &KeySealer::new(&new_secret))
            .await
            .unwrap();
    assert_eq!(
        report.resealed_by_table,
        vec![("shops", 1), ("webhook_endpoints", 2), ("zalo_apps", 0)]
    );
    app.set_var("SECRET_KEY", &new_secret.to_hex());
    app.start_again().await;
    // The shop key sealed before the rotation still reads…
    let r = app
        .api_get(&key, &format!("/api/v1/shops/{before}/key"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // …and the next event (an admin disconnects the shop) reaches both endpoints, signed.
    let admin = app.admin_browser().await;
    let page = get_text(
        &admin,
        &app.url(&format!("/admin/shops/{before}/disconnect")),
    )
    .await;
    let r = admin
        .post(app.url(&format!("/admin/shops/{before}/disconnect")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(delivered_count(&app, 4).await, 4);
    for r in [&current, &legacy] {
        wait_until(r, "the event after the rotation", |got| got.len() >= 2).await;
        let got = r.received();
        assert!(
            got.iter().all(|x| x.signature_ok && x.answered == 200),
            "signed with the original whsec: {got:#?}"
        );
    }
    let paused: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE paused_at IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(paused, 0);
}

/// An endpoint whose every recent delivery fails is not a green "Đang gửi": its status says
/// so in words (and red), in the list and on its page, while it is still being retried.
#[tokio::test]
async fn an_endpoint_whose_recent_deliveries_all_fail_is_not_shown_as_active() {
    let app = spawn_api_app(&[("WEBHOOK_MAX_ATTEMPTS", "10")]).await;
    let receiver = Receiver::default();
    receiver.always(Some(500));
    let url = start_receiver(&receiver);
    let endpoint = register(&app, &receiver, &url, &ALL).await;
    let admin = app.admin_browser().await;
    // The endpoint's own badge: in its page's head, or in the list's status column.
    let status = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let sel =
            scraper::Selector::parse(".page-head .badge, td[data-label=\"Trạng thái\"] .badge")
                .unwrap();
        doc.select(&sel)
            .map(|e| {
                (
                    e.text().collect::<String>(),
                    e.value().attr("class").unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let page_url = app.url(&format!("/admin/webhooks/{endpoint}"));
    // Nothing sent yet: active.
    let page = get_text(&admin, &page_url).await;
    assert_eq!(
        status(&page),
        vec![("Đang gửi".to_owned(), "badge badge-connected".to_owned())]
    );

    let key = app.create_key("Lỗi", &["connect:write"]).await;
    app.connect_via_link(&key, "u-f", "s-f").await;
    wait_for_db(
        &app,
        "a failed attempt",
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE attempts > 0 AND state = 'pending')",
    )
    .await;
    let page = get_text(&admin, &page_url).await;
    assert_eq!(
        status(&page),
        vec![("Không gửi được".to_owned(), "badge badge-failed".to_owned())]
    );
    assert!(page.contains("Các lần gửi gần đây tới địa chỉ này đều không thành công"));
    let list = get_text(&admin, &app.url("/admin/webhooks")).await;
    assert_eq!(
        status(&list),
        vec![("Không gửi được".to_owned(), "badge badge-failed".to_owned())]
    );
    assert!(!list.contains("Đang gửi"));
}

/// Issue 12: a verification re-reads the shop's OAs (`ListOA`) and each change is a history
/// entry and a signed `zalo_oa.*` webhook with the OA in it, in order per shop; the
/// expiring notice comes once per expiry however often the OA is re-read.
#[tokio::test]
async fn webhooks_zalo_oa_changes_found_by_verification_are_announced_once_in_order() {
    let app = spawn_api_app(&[]).await;
    let receiver = Receiver::default();
    let url = start_receiver(&receiver);
    let oa_types = [
        "zalo_oa.connected",
        "zalo_oa.disconnected",
        "zalo_oa.quality_low",
        "zalo_oa.expiring",
        "zalo_oa.expired",
    ];
    register(&app, &receiver, &url, &oa_types).await;
    let key = app.create_key("OA", &["connect:write", "shops:read"]).await;
    let shop = app.connect_via_link(&key, "u-oa", "s-oa").await;
    let its_id = app.its_shop_id(&shop).await.unwrap();
    let zalo = crate::admin_oa::SandboxZalo::new(&app);
    let oa_id = zalo.connect_ready_oa(its_id).await;
    let verify = || async {
        let r = app
            .api_post(&key, &format!("/api/v1/shops/{shop}/verify"), &Value::Null)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    };
    verify().await;
    zalo.operator(
        &oa_id,
        "quality",
        &[("current_quality", "LOW"), ("last_week_quality", "MEDIUM")],
    )
    .await;
    verify().await;
    zalo.operator(&oa_id, "expire-soon", &[]).await;
    verify().await;
    verify().await; // the same expiry again: no second notice
    zalo.operator(&oa_id, "expire", &[]).await;
    verify().await;
    zalo.operator(&oa_id, "disconnect", &[]).await;
    verify().await;

    let want = [
        "zalo_oa.connected",
        "zalo_oa.quality_low",
        "zalo_oa.expiring",
        "zalo_oa.expired",
        "zalo_oa.disconnected",
    ];
    wait_until(&receiver, "five OA events", |r| r.len() >= want.len()).await;
    let got = receiver.received();
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, want);
    assert!(got.iter().all(|r| r.signature_ok));
    for r in &got {
        assert_eq!(r.body["shop"]["id"], shop.as_str(), "{}", r.raw);
        assert_eq!(r.body["oa"]["oa_id"], oa_id.as_str(), "{}", r.raw);
        assert!(!r.raw.contains("shop_key"), "{}", r.raw);
    }
    assert_eq!(got[0].body["oa"]["status"], "P");
    assert_eq!(got[1].body["oa"]["current_quality"], "LOW");
    assert!(got[2].body["oa"]["expires_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(got[4].body["oa"]["status"], "N");
    // The history has the same entries, and the shop stays connected throughout.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM zalo_oa_events WHERE oa_id = ? ORDER BY id")
            .bind(&oa_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        kinds,
        [
            "connected",
            "quality_low",
            "expiring",
            "expired",
            "disconnected"
        ]
    );
    assert_eq!(app.shop_state(&shop).await, "connected");
    // The admin's shop page: the OA's card (without the owner's buttons) and its history.
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/shops/{shop}?lang=en"))).await;
    let m = &shoplink::i18n::Messages::EN;
    assert!(page.contains("class=\"oa-card\""), "{page}");
    assert!(page.contains(&oa_id));
    assert!(!page.contains(&format!("/zalo/oas/{oa_id}/renew")));
    for label in [
        m.oa_event_connected,
        m.oa_event_quality_low,
        m.oa_event_expiring,
        m.oa_event_expired,
        m.oa_event_disconnected,
    ] {
        assert!(page.contains(label), "{label}");
    }
}
