//! `/api/v1/shops`: the list (filters, cursor pages), one shop by id or external id, its
//! key (history entry, rate limit per service key) and verification now.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::api_support::*;

#[tokio::test]
async fn api_the_shop_list_filters_and_pages_by_cursor() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Đọc", &["shops:read", "connect:write", "keys:read"])
        .await;
    for shop in ["s1", "s2", "s3"] {
        app.connect_link(&key, "u-one", shop).await;
    }
    app.connect_link(&key, "u-two", "s4").await;
    let connected = app.connect_via_link(&key, "u-two", "s5").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/shops?limit=2&cursor={c}"),
            None => "/api/v1/shops?limit=2".to_owned(),
        };
        let page: Value = app.api_get(&key, &path).await.json().await.unwrap();
        pages += 1;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|s| s["external_shop_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        ["s1", "s2", "s3", "s4", "s5"],
        "oldest first, no gaps, no repeats"
    );

    let page: Value = app
        .api_get(&key, "/api/v1/shops?external_user_id=u-one")
        .await
        .json()
        .await
        .unwrap();
    let names: HashSet<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["external_shop_id"].as_str().unwrap())
        .collect();
    assert_eq!(names, HashSet::from(["s1", "s2", "s3"]));
    assert!(page["next_cursor"].is_null());

    let page: Value = app
        .api_get(&key, "/api/v1/shops?status=connected")
        .await
        .json()
        .await
        .unwrap();
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let shop = &data[0];
    assert_eq!(shop["id"], connected);
    assert_eq!(shop["status"], "connected");
    assert!(shop["its_shop_id"].is_string(), "ids as strings: {shop}");
    assert!(shop["its_shop_name"].is_string());
    assert!(shop["last_verified_at"].as_str().unwrap().ends_with('Z'));
    assert!(shop.get("shop_key").is_none() && !shop.to_string().contains("shop_key"));
}

#[tokio::test]
async fn api_a_shop_is_found_by_id_or_by_external_id() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Đọc", &["shops:read", "connect:write"])
        .await;
    app.connect_link(&key, "u-1", "shop-xyz").await;
    let id = app.shop_id_of("shop-xyz").await;
    let by_id: Value = app
        .api_get(&key, &format!("/api/v1/shops/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let by_ext: Value = app
        .api_get(&key, "/api/v1/shops/ext:shop-xyz")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id, by_ext);
    assert_eq!(by_id["status"], "not_connected");
    assert!(by_id["its_shop_id"].is_null());
    expect_error(
        app.api_get(&key, &format!("/api/v1/shops/{}", uuid::Uuid::new_v4()))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // An owner who typed the same text as their own label: it stays outside the API's
    // `ext:` namespace (issue 9), so `ext:` still names the partner's shop alone.
    app.login_owner().await;
    let r = app
        .post_from(
            "/shops/new",
            "/shops",
            &[("name", "Cửa hàng Trùng Mã"), ("owner_ref", "shop-xyz")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.api_get(&key, "/api/v1/shops/ext:shop-xyz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(
        app.api_get(&key, &format!("/api/v1/shops/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_key_reads_are_written_to_the_history_admins_see() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Gửi ZNS", &["shops:read", "connect:write", "keys:read"])
        .await;
    let shop = app.connect_via_link(&key, "u-h", "s-h").await;
    let waiting = {
        app.connect_link(&key, "u-h", "s-waiting").await;
        app.shop_id_of("s-waiting").await
    };
    for _ in 0..2 {
        let r = app
            .api_get(&key, &format!("/api/v1/shops/{shop}/key"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
    let message = expect_error(
        app.api_get(&key, &format!("/api/v1/shops/{waiting}/key"))
            .await,
        StatusCode::CONFLICT,
        "not_connected",
    )
    .await;
    assert!(message.contains("not_connected"), "{message}");

    let prefix: String =
        sqlx::query_scalar("SELECT prefix FROM service_keys WHERE name = 'Gửi ZNS'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let reads: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, to_state FROM shop_events WHERE shop_id = ? AND reason = 'event_key_read_api'",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        reads.len(),
        2,
        "each read, and only reads that returned a key"
    );
    assert!(reads.iter().all(|(actor, state)| actor.contains("Gửi ZNS")
        && actor.contains(&prefix)
        && state == "connected"));
    let none: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shop_events WHERE shop_id = ? AND reason = 'event_key_read_api'",
    )
    .bind(uuid::Uuid::parse_str(&waiting).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(none, 0);

    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url(&format!("/admin/shops/{shop}"))).await;
    assert_eq!(page.matches("Khoá cửa hàng được đọc qua API").count(), 2);
    assert!(page.contains("Gửi ZNS"));
}

#[tokio::test]
async fn api_key_reads_are_rate_limited_per_service_key() {
    let app = spawn_api_app(&[("API_KEY_READS_PER_MINUTE", "3")]).await;
    let key = app
        .create_key("Nhanh", &["shops:read", "connect:write", "keys:read"])
        .await;
    let other = app.create_key("Khác", &["keys:read"]).await;
    let shop = app.connect_via_link(&key, "u-r", "s-r").await;
    let path = format!("/api/v1/shops/{shop}/key");
    for _ in 0..3 {
        assert_eq!(app.api_get(&key, &path).await.status(), StatusCode::OK);
    }
    let r = app.api_get(&key, &path).await;
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another key has its own budget; the refused read left no trace.
    assert_eq!(app.api_get(&other, &path).await.status(), StatusCode::OK);
    let reads: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM shop_events WHERE reason = 'event_key_read_api'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(reads, 4);
    // The window slides: once the oldest read is a minute old, the key may read again.
    sqlx::query("UPDATE key_reads SET at = at - 61000")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(app.api_get(&key, &path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn api_verify_runs_current_shop_now() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Kiểm tra", &["shops:read", "connect:write", "keys:read"])
        .await;
    let shop = app.connect_via_link(&key, "u-v", "s-v").await;
    let r = app
        .api_post(&key, &format!("/api/v1/shops/{shop}/verify"), &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"], "verified");
    assert_eq!(body["shop"]["status"], "connected");

    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let body: Value = app
        .api_post(&key, "/api/v1/shops/ext:s-v/verify", &Value::Null)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"], "needs_reauth");
    assert_eq!(body["shop"]["status"], "needs_reauth");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM shop_events WHERE shop_id = ? AND to_state = 'needs_reauth'",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(actor.contains("Kiểm tra"), "{actor}");
    // A needs_reauth shop's key is not handed out.
    expect_error(
        app.api_get(&key, &format!("/api/v1/shops/{shop}/key"))
            .await,
        StatusCode::CONFLICT,
        "not_connected",
    )
    .await;

    app.connect_link(&key, "u-v", "s-new").await;
    expect_error(
        app.api_post(&key, "/api/v1/shops/ext:s-new/verify", &Value::Null)
            .await,
        StatusCode::CONFLICT,
        "not_connected",
    )
    .await;
}

#[tokio::test]
async fn api_verify_is_rate_limited_per_service_key() {
    let app = spawn_api_app(&[("API_VERIFY_PER_MINUTE", "3")]).await;
    let key = app
        .create_key("Kiểm tra", &["shops:read", "connect:write", "keys:read"])
        .await;
    let other = app.create_key("Khác", &["shops:read"]).await;
    let shop = app.connect_via_link(&key, "u-rl", "s-rl").await;
    let path = format!("/api/v1/shops/{shop}/verify");
    // Ten at once: exactly three reach ITS, the rest are refused before any ITS call.
    let answers =
        futures_util::future::join_all((0..10).map(|_| app.api_post(&key, &path, &Value::Null)))
            .await;
    let mut ok = 0;
    for r in answers {
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
                let message = expect_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
                assert!(message.contains("verifications"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 3, "the limit holds under concurrency");
    // Another key has its own allowance.
    assert_eq!(
        app.api_post(&other, &path, &Value::Null).await.status(),
        StatusCode::OK
    );
    // Requests that never reach a shop (unknown, malformed) do not use it up.
    let fresh = app.create_key("Mới", &["shops:read"]).await;
    for _ in 0..5 {
        expect_error(
            app.api_post(&fresh, "/api/v1/shops/ext:nope/verify", &Value::Null)
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_eq!(
        app.api_post(&fresh, &path, &Value::Null).await.status(),
        StatusCode::OK
    );
}

/// Issue 12: the shops come with their OAs (ids as strings, quotas, qualities, status,
/// expiry in RFC 3339), read by a verification's `ListOA`; `oa_status` filters and pages.
#[tokio::test]
async fn api_shops_carry_their_oas_and_filter_by_oa_status() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("OA", &["shops:read", "connect:write"]).await;
    // Three connected shops, each its own ITS shop (an owner's, with fresh phones and emails).
    app.login_owner().await;
    let mut shops = Vec::new();
    for name in ["Không OA", "OA tốt", "OA kém"] {
        let shop = app.add_shop(name).await;
        app.connect_through_its(&shop).await;
        assert_eq!(app.shop_state(&shop).await, "connected");
        shops.push(shop);
    }
    let (plain, good, low) = (shops[0].clone(), shops[1].clone(), shops[2].clone());
    let zalo = crate::admin_oa::SandboxZalo::new(&app);
    let mut oa_of = std::collections::HashMap::new();
    for shop in [&good, &low] {
        let its = app.its_shop_id(shop).await.unwrap();
        oa_of.insert(shop.clone(), zalo.connect_ready_oa(its).await);
    }
    zalo.operator(
        &oa_of[&low],
        "quality",
        &[("current_quality", "LOW"), ("last_week_quality", "LOW")],
    )
    .await;
    for shop in [&plain, &good, &low] {
        let r = app
            .api_post(&key, &format!("/api/v1/shops/{shop}/verify"), &Value::Null)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    let one: Value = app
        .api_get(&key, &format!("/api/v1/shops/{low}"))
        .await
        .json()
        .await
        .unwrap();
    let oas = one["oas"].as_array().unwrap();
    assert_eq!(oas.len(), 1, "{one}");
    assert_eq!(oas[0]["oa_id"], oa_of[&low].as_str());
    assert!(oas[0]["oa_id"].is_string());
    assert_eq!(oas[0]["status"], "P");
    assert_eq!(oas[0]["current_quality"], "LOW");
    assert!(oas[0]["daily_quota"].as_i64().unwrap() > 0);
    assert!(oas[0]["remaining_quota"].is_i64());
    assert!(oas[0]["is_verified"].is_boolean());
    let expires = oas[0]["expires_at"].as_str().unwrap();
    time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339).unwrap();
    let none: Value = app
        .api_get(&key, &format!("/api/v1/shops/{plain}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["oas"], serde_json::json!([]));

    // Each filter, one shop per page, following the cursors.
    async fn all(app: &ApiApp, key: &str, filter: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/shops?oa_status={filter}&limit=1&cursor={c}"),
                None => format!("/api/v1/shops?oa_status={filter}&limit=1"),
            };
            let r = app.api_get(key, &path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let page: Value = r.json().await.unwrap();
            for s in page["data"].as_array().unwrap() {
                ids.push(s["id"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }
    assert_eq!(all(&app, &key, "none").await, std::slice::from_ref(&plain));
    assert_eq!(
        all(&app, &key, "connected").await,
        [good.clone(), low.clone()]
    );
    assert_eq!(
        all(&app, &key, "quality_low").await,
        std::slice::from_ref(&low)
    );
    assert!(all(&app, &key, "quota_low").await.is_empty());
    assert!(all(&app, &key, "expiring").await.is_empty());
    expect_error(
        app.api_get(&key, "/api/v1/shops?oa_status=asleep").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    // A cursor of the unfiltered list is not one of a filtered list.
    let page: Value = app
        .api_get(&key, "/api/v1/shops?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let c = page["next_cursor"].as_str().unwrap();
    expect_error(
        app.api_get(&key, &format!("/api/v1/shops?oa_status=none&cursor={c}"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
}
