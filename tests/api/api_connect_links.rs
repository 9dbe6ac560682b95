//! Connect links: the partner's system asks for one, the shop owner opens it without a
//! password, connects that shop only, and is sent back to an allowed `return_url` with
//! the outcome. A link works once, for 30 minutes.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shoplink::sandbox::Faults;

use crate::api_support::*;
use crate::helpers::{location, PASSWORD};

#[tokio::test]
async fn api_the_journey_from_a_link_to_connected_to_reading_the_key() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key(
            "Nền tảng bán hàng",
            &["connect:write", "shops:read", "keys:read"],
        )
        .await;
    let r = app
        .api_post(
            &key,
            "/api/v1/connect-links",
            &json!({
                "external_user_id": "u-1001",
                "external_shop_id": "shop-42",
                "shop_name": "Cửa hàng Hoa Mai",
                "email": "hoamai@example.vn",
                "phone": "0912 345 678",
                "return_url": format!("{RETURN_ORIGIN}/zalo/done?from=shoplink"),
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    let link = body["url"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/connect-links/", app.address)),
        "{link}"
    );
    let expires = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let minutes = (expires - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((29..=30).contains(&minutes), "{minutes}");
    let shop_id = body["shop_id"].as_str().unwrap().to_owned();

    // The user and the shop exist, found by their external ids; no password works for them.
    let shop: Value = app
        .api_get(&key, "/api/v1/shops/ext:shop-42")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shop["id"], shop_id);
    assert_eq!(shop["external_user_id"], "u-1001");
    assert_eq!(shop["status"], "not_connected");
    assert_eq!(shop["name"], "Cửa hàng Hoa Mai");
    let r = app.login_with("hoamai@example.vn", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no password login");

    // The owner opens the link: a page with the shop and a button, never cached.
    let owner = crate::helpers::browser();
    let page = owner.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("Cửa hàng Hoa Mai") && html.contains("Kết nối Zalo"));
    let token = crate::helpers::csrf_in(&html);
    let r = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let auth_url = location(&r);
    assert!(
        auth_url.starts_with(&app.sandbox_origin),
        "to ITS: {auth_url}"
    );
    assert_eq!(app.shop_state(&shop_id).await, "pending");

    let callback = app.approve_on_its(&auth_url).await;
    let r = owner.get(&callback).send().await.unwrap();
    assert_eq!(
        location(&r),
        format!("{RETURN_ORIGIN}/zalo/done?from=shoplink&status=connected&shop=shop-42")
    );
    assert_eq!(app.shop_state(&shop_id).await, "connected");
    // The link's session ended with the flow.
    let r = owner
        .get(app.url(&format!("/shops/{shop_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "back to login");

    let r = app.api_get(&key, "/api/v1/shops/ext:shop-42/key").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let its_id = app.its_shop_id(&shop_id).await.unwrap();
    assert_eq!(body["its_shop_id"], its_id.to_string());
    assert_eq!(body["shop_id"], shop_id);
    assert!(body["shop_key"].as_str().unwrap().starts_with("shop"));
}

#[tokio::test]
async fn api_a_connect_link_works_once() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let link = app.connect_link(&key, "u-once", "s-once").await;
    let owner = crate::helpers::browser();
    let html = get_text(&owner, &link).await;
    let token = crate::helpers::csrf_in(&html);
    let first = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);

    // Again, from the same browser or another one: gone.
    let again = owner.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("Liên kết này đã được dùng"));
    let (_, r) = {
        let other = crate::helpers::browser();
        let page = other.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::GONE);
        (other, page)
    };
    assert_eq!(r.headers()["cache-control"], "no-store");
    let replay = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await;
    // The first POST replaced the browser's session, so the old form token is refused
    // (403) before the link is even looked at; either way nothing opens.
    assert!(matches!(
        replay.unwrap().status(),
        StatusCode::GONE | StatusCode::FORBIDDEN
    ));
    let used: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE scope_shop_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(used, 1, "one session opened");

    // An unknown token: not found.
    let r = owner
        .get(app.url("/connect-links/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_an_expired_connect_link_is_refused() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let link = app.connect_link(&key, "u-late", "s-late").await;
    let owner = crate::helpers::browser();
    let token = crate::helpers::csrf_in(&get_text(&owner, &link).await);
    sqlx::query("UPDATE connect_links SET expires_at = expires_at - 31 * 60 * 1000")
        .execute(&app.db)
        .await
        .unwrap();
    let r = owner.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("Liên kết đã hết hạn"));
    let r = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    let sessions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE scope_shop_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(sessions, 0, "no session opened");
}

#[tokio::test]
async fn api_a_connect_link_opens_its_own_shop_only() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    // Two shops of the same partner user, and another owner's shop.
    app.connect_link(&key, "u-two", "s-other").await;
    let link = app.connect_link(&key, "u-two", "s-mine").await;
    let mine = app.shop_id_of("s-mine").await;
    let other = app.shop_id_of("s-other").await;
    app.login_owner().await;
    let strangers = app.add_shop("Cửa hàng Người Khác").await;

    let (owner, r) = app.open_link(&link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ok = owner
        .get(app.url(&format!("/shops/{mine}")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let html = ok.text().await.unwrap();
    let token = crate::helpers::csrf_in(&html);

    for path in [
        format!("/shops/{other}"),
        format!("/shops/{strangers}"),
        "/shops".to_owned(),
        "/shops/new".to_owned(),
        format!("/shops/{mine}/disconnect"),
        "/admin".to_owned(),
    ] {
        // Any other page leads back to the link's own shop; nothing else is shown.
        let r = owner.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("/shops/{mine}"),
            "GET {path}"
        );
    }
    for path in [
        format!("/shops/{other}/connect"),
        format!("/shops/{strangers}/connect"),
    ] {
        let r = owner
            .post(app.url(&path))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    assert_eq!(app.shop_state(&other).await, "not_connected");
    assert_eq!(app.shop_state(&strangers).await, "not_connected");
    // Its own shop's button works (a second try of the flow).
    let r = owner
        .post(app.url(&format!("/shops/{mine}/connect")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with(&app.sandbox_origin));
}

#[tokio::test]
async fn api_a_return_url_outside_the_allow_list_is_refused() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Liên kết", &["connect:write", "shops:read"])
        .await;
    for bad in [
        "https://evil.example/steal",
        "https://partner.example.vn.evil.example/",
        "http://partner.example.vn/zalo",
        "https://user@partner.example.vn/zalo",
        "javascript:alert(1)",
        "/relative",
    ] {
        let r = app
            .api_post(
                &key,
                "/api/v1/connect-links",
                &json!({"external_user_id": "u-x", "external_shop_id": "s-x", "shop_name": "X", "return_url": bad}),
            )
            .await;
        expect_error(
            r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "return_url_not_allowed",
        )
        .await;
    }
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE external_user_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(users, 0, "nothing was created");

    // With no allow-list at all, every return_url is refused.
    let strict = spawn_api_app(&[("RETURN_URL_ORIGINS", "")]).await;
    let key = strict.create_key("Liên kết", &["connect:write"]).await;
    let r = strict
        .api_post(
            &key,
            "/api/v1/connect-links",
            &json!({"external_user_id": "u", "external_shop_id": "s", "shop_name": "X",
                    "return_url": format!("{RETURN_ORIGIN}/done")}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "return_url_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn api_links_find_the_same_user_and_shop_and_refuse_contradictions() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let create = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move { app.api_post(&key, "/api/v1/connect-links", &body).await }
    };
    let first: Value = create(
        json!({"external_user_id": "u-a", "external_shop_id": "s-a", "shop_name": "Cửa hàng A"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let again: Value = create(
        json!({"external_user_id": "u-a", "external_shop_id": "s-a", "shop_name": "Cửa hàng A"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(first["shop_id"], again["shop_id"], "the same shop");
    assert_ne!(first["url"], again["url"], "a new link each time");
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE external_user_id = 'u-a'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(users, 1);

    // Another user cannot take the shop.
    let r = create(
        json!({"external_user_id": "u-b", "external_shop_id": "s-a", "shop_name": "Cửa hàng A"}),
    )
    .await;
    expect_error(r, StatusCode::CONFLICT, "shop_belongs_to_another_user").await;
    // Bad fields are named.
    let r = create(
        json!({"external_user_id": "", "external_shop_id": "s-c", "shop_name": " ",
                          "email": "not-an-email", "phone": "12"}),
    )
    .await;
    let message = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    for field in ["external_user_id", "shop_name", "email", "phone"] {
        assert!(message.contains(field), "{message}");
    }
    let r = create(json!({"external_user_id": "u-c", "shop_name": "C"})).await;
    expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn api_a_failed_flow_returns_failed_to_the_return_url() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let link = app.connect_link(&key, "u-f", "s-f").await;
    app.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    let (_, r) = app.open_link(&link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("{RETURN_ORIGIN}/zalo/done?status=failed&shop=s-f")
    );
    assert_eq!(app.shop_state(&app.shop_id_of("s-f").await).await, "failed");
}

/// The link page's form token, read before anything changes, so the `POST` below is the
/// one a browser that opened the page earlier would send.
async fn open_page(link: &str) -> (reqwest::Client, String) {
    let owner = crate::helpers::browser();
    let token = crate::helpers::csrf_in(&get_text(&owner, link).await);
    (owner, token)
}

async fn link_sessions(app: &ApiApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE scope_shop_id IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn api_a_connect_link_stops_working_when_its_service_key_is_revoked() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Sắp thu hồi", &["connect:write"]).await;
    let link = app.connect_link(&key, "u-rev", "s-rev").await;
    let (owner, token) = open_page(&link).await;
    // A link of the same key already used: its session ends with the key.
    let used = app.connect_link(&key, "u-rev2", "s-rev2").await;
    let (early, r) = app.open_link(&used).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let used_shop = app.shop_id_of("s-rev2").await;
    let page = early
        .get(app.url(&format!("/shops/{used_shop}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the link's session works");

    let admin = app.admin_browser().await;
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM service_keys WHERE name = 'Sắp thu hồi'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = get_text(&admin, &app.url("/admin/api-keys")).await;
    let r = admin
        .post(app.url(&format!("/admin/api-keys/{id}/revoke")))
        .form(&[("csrf_token", crate::helpers::csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The page says so, and the button uses nothing.
    let r = owner.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("Liên kết này đã bị thu hồi"), "{html}");
    assert!(
        !html.contains("Cửa hàng s-rev"),
        "nothing of the shop is shown"
    );
    let r = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Liên kết này đã bị thu hồi"));
    let shop = app.shop_id_of("s-rev").await;
    assert_eq!(app.shop_state(&shop).await, "not_connected");
    let used_at: Option<i64> =
        sqlx::query_scalar("SELECT used_at FROM connect_links WHERE shop_id = ?")
            .bind(uuid::Uuid::parse_str(&shop).unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(used_at, None, "the link was not used");
    assert_eq!(
        link_sessions(&app).await,
        0,
        "no session opened, the old one ended"
    );
    let r = early
        .get(app.url(&format!("/shops/{used_shop}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "back to the login page");
}

#[tokio::test]
async fn api_a_connect_link_stops_working_when_its_user_is_disabled() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let link = app.connect_link(&key, "u-off", "s-off").await;
    let (owner, token) = open_page(&link).await;
    let user: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE external_user_id = 'u-off'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let admin = app.admin_browser().await;
    let confirm = get_text(&admin, &app.url(&format!("/admin/users/{user}/disable"))).await;
    let r = admin
        .post(app.url(&format!("/admin/users/{user}/disable")))
        .form(&[("csrf_token", crate::helpers::csrf_in(&confirm))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let r = owner.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("Tài khoản của bạn đã bị khoá"), "{html}");
    let r = owner
        .post(&link)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(link_sessions(&app).await, 0, "no session opened");
    assert_eq!(
        app.shop_state(&app.shop_id_of("s-off").await).await,
        "not_connected"
    );
}

#[tokio::test]
async fn api_external_ids_with_bidi_or_control_characters_are_refused() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    for (field, bad) in [
        ("external_shop_id", "shop\u{202E}gpj.exe"),
        ("external_shop_id", "\u{2066}shop-1"),
        ("external_shop_id", "shop\u{200F}1"),
        ("external_user_id", "u\u{202E}1"),
        ("external_user_id", "u\u{0007}1"),
        ("external_user_id", "u-\u{2069}"),
    ] {
        let mut body = json!({"external_user_id": "u-ok", "external_shop_id": "s-ok",
                              "shop_name": "Cửa hàng"});
        body[field] = json!(bad);
        let r = app.api_post(&key, "/api/v1/connect-links", &body).await;
        let message = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(message.contains(field), "{bad:?}: {message}");
    }
    let (users, shops): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users WHERE external_user_id IS NOT NULL),
                (SELECT COUNT(*) FROM shops)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((users, shops), (0, 0), "nothing was created");
}

#[tokio::test]
async fn api_field_lengths_are_counted_as_sent() {
    // The document's maxLength counts the characters sent; white space trimmed later must
    // not let a longer value through.
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Liên kết", &["connect:write"]).await;
    let padded = |n: usize, s: &str| format!("{}{s}", " ".repeat(n));
    for (field, value) in [
        ("external_user_id", padded(100, "u")),
        ("external_shop_id", padded(100, "s")),
        ("shop_name", padded(200, "Cửa hàng")),
        ("email", padded(254, "a@example.vn")),
        ("phone", padded(20, "0912345678")),
    ] {
        let mut body = json!({"external_user_id": "u-len", "external_shop_id": "s-len",
                              "shop_name": "Cửa hàng"});
        body[field] = json!(value);
        let r = app.api_post(&key, "/api/v1/connect-links", &body).await;
        let message = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(message.contains(field), "{message}");
    }
    let r = app
        .api_post(
            &key,
            "/api/v1/connect-links",
            &json!({"external_user_id": "u-len", "external_shop_id": "s-len", "shop_name": "X",
                    "return_url": padded(2_000, &format!("{RETURN_ORIGIN}/done"))}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "return_url_not_allowed",
    )
    .await;
}
