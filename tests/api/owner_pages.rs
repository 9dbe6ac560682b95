//! Owner-facing polish (issue 11): malformed addresses get the styled page, pending
//! attempts that expired end, each failure has its own next step, and the shop edit page.

use reqwest::StatusCode;

use crate::api_support::spawn_api_app;
use crate::helpers::csrf_in;

/// Words of actix's, serde's or uuid's own errors that must never reach a reader.
const RUST_ERROR_TEXT: [&str; 5] = [
    "UUID parsing failed",
    "invalid length",
    "deserialize error",
    "invalid digit",
    "can not parse",
];

fn no_rust_error_text(url: &str, body: &str) {
    for needle in RUST_ERROR_TEXT {
        assert!(
            !body.to_lowercase().contains(&needle.to_lowercase()),
            "{url}: the answer shows {needle:?}: {body}"
        );
    }
}

#[tokio::test]
async fn malformed_ids_paths_and_queries_get_the_styled_page_or_json() {
    let app = spawn_api_app(&[]).await;
    let owner = app.logged_in_browser(&app.owner_email).await;
    let admin = app.admin_browser().await;
    let shop = uuid::Uuid::new_v4();
    let token = csrf_in(&app.html_as(&owner, "/shops").await);

    // (who, method, path, status, the catalogue string the page must hold)
    let vi_not_found = "Không tìm thấy trang này.";
    let en_not_found = "This page does not exist.";
    let vi_bad_query = "Địa chỉ trang có tham số không hợp lệ.";
    let cases: Vec<(&reqwest::Client, &str, String, StatusCode, &str)> = vec![
        (
            &owner,
            "GET",
            "/shops/abc".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &owner,
            "GET",
            "/shops/abc/disconnect".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &owner,
            "POST",
            "/shops/abc/connect".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &owner,
            "POST",
            "/shops/abc/disconnect".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &owner,
            "GET",
            format!("/shops/{}", &shop.to_string()[..20]),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &owner,
            "GET",
            format!("/shops/{shop}?outcome=a&outcome=b"),
            StatusCode::BAD_REQUEST,
            vi_bad_query,
        ),
        (
            &admin,
            "GET",
            "/admin/shops/abc".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &admin,
            "POST",
            "/admin/shops/abc/verify".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &admin,
            "GET",
            "/admin/users/%20".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &admin,
            "GET",
            "/admin/jobs/nope/progress".into(),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &admin,
            "POST",
            format!("/admin/webhooks/{shop}/deliveries/x/resend"),
            StatusCode::NOT_FOUND,
            vi_not_found,
        ),
        (
            &admin,
            "GET",
            "/admin/shops?q=a&q=b".into(),
            StatusCode::BAD_REQUEST,
            vi_bad_query,
        ),
        (
            &admin,
            "GET",
            "/admin/users?after=a&after=b".into(),
            StatusCode::BAD_REQUEST,
            vi_bad_query,
        ),
        (
            &owner,
            "GET",
            "/connect/callback?shop_id=abc".into(),
            StatusCode::BAD_REQUEST,
            "Đường dẫn trả về từ ITS bị thiếu hoặc sai thông tin.",
        ),
        (
            &owner,
            "GET",
            "/connect/callback?token=x&token=y&shop_id=1".into(),
            StatusCode::BAD_REQUEST,
            "Đường dẫn trả về từ ITS bị thiếu hoặc sai thông tin.",
        ),
        (
            &owner,
            "GET",
            "/connect-links/abc".into(),
            StatusCode::NOT_FOUND,
            "Không tìm thấy liên kết này.",
        ),
        // In the reader's language (this one also sets the owner's language cookie).
        (
            &owner,
            "GET",
            "/shops/abc?lang=en".into(),
            StatusCode::NOT_FOUND,
            en_not_found,
        ),
    ];
    for (client, method, path, status, text) in cases {
        let request = if method == "POST" {
            client
                .post(app.url(&path))
                .form(&[("csrf_token", token.as_str())])
        } else {
            client.get(app.url(&path))
        };
        let r = request.send().await.unwrap();
        let got = r.status();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = r.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(
            content_type.starts_with("text/html"),
            "{method} {path}: {content_type}"
        );
        assert!(
            body.contains(text),
            "{method} {path} lacks {text:?}: {body}"
        );
        assert!(
            body.contains("<main"),
            "{method} {path}: not the styled page"
        );
        no_rust_error_text(&path, &body);
    }

    // Under /api every answer is JSON {code, message}.
    let key = app.create_key("Đọc", &["shops:read", "keys:read"]).await;
    for (path, status, code) in [
        (
            "/api/v1/shops/abc",
            StatusCode::BAD_REQUEST,
            "invalid_shop_id",
        ),
        (
            "/api/v1/shops/abc/key",
            StatusCode::BAD_REQUEST,
            "invalid_shop_id",
        ),
        (
            "/api/v1/shops?limit=x",
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            "/api/v1/shops?limit=1&limit=2",
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            "/api/v1/shops?status=sleeping",
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        ("/api/v1/nope/abc", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let r = app.api_get(&key, path).await;
        assert_eq!(r.status(), status, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let body = r.text().await.unwrap();
        no_rust_error_text(path, &body);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], code, "{path}: {body}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }
}

/// Moves the shop's pending attempts' expiry into the past, as 15 minutes would.
async fn expire_pending_attempts(app: &crate::helpers::TestApp, shop: &str) {
    sqlx::query(
        "UPDATE connect_attempts SET expires_at = expires_at - 16 * 60 * 1000
         WHERE shop_id = ? AND state = 'pending'",
    )
    .bind(uuid::Uuid::parse_str(shop).unwrap())
    .execute(&app.db)
    .await
    .unwrap();
}

async fn failure_code(app: &crate::helpers::TestApp, shop: &str) -> Option<String> {
    sqlx::query_scalar("SELECT failure_code FROM shops WHERE id = ?")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_attempt_the_owner_walked_away_from_returns_the_shop_to_where_it_was() {
    let app = crate::helpers::spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Tiệm bánh Hạnh").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let auth_url = crate::helpers::location(&r);
    assert_eq!(app.shop_state(&shop).await, "pending");
    let html = app.get_html(&format!("/shops/{shop}")).await;
    assert!(
        html.contains("Chờ bạn đăng nhập ITS"),
        "named for whom it waits"
    );
    assert!(!html.contains("Đang chờ ITS"));

    // Still within its 15 minutes: reading the page changes nothing.
    app.get_html("/shops").await;
    assert_eq!(app.shop_state(&shop).await, "pending");

    // The owner walked away; the time passed. Reading the shop ends the attempt.
    expire_pending_attempts(&app, &shop).await;
    let html = app.get_html(&format!("/shops/{shop}")).await;
    assert_eq!(app.shop_state(&shop).await, "not_connected");
    assert!(
        html.contains("Yêu cầu kết nối hết hạn sau 15 phút"),
        "the history says what happened"
    );
    let (state, outcome): (String, Option<String>) =
        sqlx::query_as("SELECT state, outcome FROM connect_attempts WHERE shop_id = ?")
            .bind(uuid::Uuid::parse_str(&shop).unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), outcome.as_deref()),
        ("finished", Some("expired"))
    );
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shop_events WHERE shop_id = ? AND reason = 'event_connect_expired'
           AND from_state = 'pending' AND to_state = 'not_connected' AND actor = 'system'",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(events, 1, "recorded once");
    // Reading again records nothing more.
    app.get_html(&format!("/shops/{shop}")).await;
    app.get_html("/shops").await;
    let again: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shop_events WHERE shop_id = ? AND reason = 'event_connect_expired'",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(again, 1);

    // Coming back from ITS late is told as expired, not as "already handled".
    let callback = app.approve_on_its(&auth_url).await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("Yêu cầu kết nối đã hết hạn"), "{body}");
    assert_eq!(app.shop_state(&shop).await, "not_connected");
}

#[tokio::test]
async fn an_expired_attempt_on_a_failed_shop_brings_back_the_failure_and_its_reason() {
    let app = crate::helpers::spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Quán cà phê Gió").await;
    app.set_faults(shoplink::sandbox::Faults {
        latency: std::time::Duration::ZERO,
        failure_rate: 1.0,
    });
    app.press_connect(&shop).await;
    assert_eq!(app.shop_state(&shop).await, "failed");
    let reason = failure_code(&app, &shop).await;
    assert_eq!(reason.as_deref(), Some("error_its_unavailable"));

    app.set_faults(shoplink::sandbox::Faults::default());
    // Pressed twice (a retry while the first is still open): the second inherits where
    // the shop was before the first, not "pending".
    app.press_connect(&shop).await;
    app.press_connect(&shop).await;
    assert_eq!(app.shop_state(&shop).await, "pending");
    expire_pending_attempts(&app, &shop).await;
    app.get_html("/shops").await;
    assert_eq!(app.shop_state(&shop).await, "failed");
    assert_eq!(failure_code(&app, &shop).await, reason);
    let html = app.get_html(&format!("/shops/{shop}")).await;
    assert!(
        html.contains("ITS đang gặp sự cố"),
        "the reason is shown again"
    );
}

#[tokio::test]
async fn the_scheduler_ends_expired_attempts_no_one_looks_at() {
    // Scheduled re-verification off: the tick still ends expired attempts.
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        extra_env: vec![
            ("VERIFY_INTERVAL_SECS", "0".into()),
            ("VERIFY_TICK_SECS", "1".into()),
        ],
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Nhà sách Phương Nam").await;
    app.press_connect(&shop).await;
    assert_eq!(app.shop_state(&shop).await, "pending");
    expire_pending_attempts(&app, &shop).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.shop_state(&shop).await == "pending" {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler did not end the attempt"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.shop_state(&shop).await, "not_connected");
}

#[tokio::test]
async fn a_closed_its_account_is_reported_as_closed_and_offers_whom_to_contact_not_a_retry() {
    let app = crate::helpers::spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đóng").await;
    app.connect_through_its(&shop).await;
    assert_eq!(app.shop_state(&shop).await, "connected");
    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "close").await;

    // The admin's "Kiểm tra ngay" says the account is closed, not "needs re-login".
    let admin = app.logged_in_browser(&app.admin_email).await;
    let page = app.url(&format!("/admin/shops/{shop}"));
    let token = csrf_in(&admin.get(&page).send().await.unwrap().text().await.unwrap());
    let r = admin
        .post(format!("{page}/verify"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::location(&r),
        format!("/admin/shops/{shop}?outcome=account_closed")
    );
    let html = admin
        .get(format!("{page}?outcome=account_closed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("tài khoản ITS của cửa hàng đã bị đóng"),
        "{html}"
    );
    assert!(!html.contains("ITS không còn chấp nhận khoá này: cửa hàng cần đăng nhập lại"));
    assert_eq!(app.shop_state(&shop).await, "failed");
    assert_eq!(
        failure_code(&app, &shop).await.as_deref(),
        Some("error_its_account_closed")
    );

    // The owner is told whom to contact; no "Thử kết nối lại", only a way back once reopened.
    let html = app.get_html(&format!("/shops/{shop}")).await;
    assert!(
        html.contains("Hãy liên hệ bộ phận chăm sóc khách hàng của ITS"),
        "{html}"
    );
    assert!(!html.contains("Thử kết nối lại</button>"), "{html}");
    assert!(html.contains("Tài khoản đã mở lại? Kết nối lại"));
    // It still holds the old key: disconnecting (deleting it) stays possible.
    assert!(html.contains(&format!("href=\"/shops/{shop}/disconnect\"")));

    // Reopened: the same button connects.
    app.sandbox_shop_action(its_id, "reopen").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.shop_state(&shop).await, "connected");
}

#[tokio::test]
async fn a_temporary_failure_offers_a_retry_and_no_disconnect_for_a_shop_that_never_had_a_key() {
    let app = crate::helpers::spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Mới").await;
    app.set_faults(shoplink::sandbox::Faults {
        latency: std::time::Duration::ZERO,
        failure_rate: 1.0,
    });
    app.press_connect(&shop).await;
    assert_eq!(app.shop_state(&shop).await, "failed");
    let html = app.get_html(&format!("/shops/{shop}")).await;
    assert!(html.contains("Đây thường là sự cố tạm thời"), "{html}");
    assert!(html.contains("Thử kết nối lại</button>"));
    assert!(
        !html.contains(&format!("/shops/{shop}/disconnect")),
        "nothing to disconnect on a shop that never had a key"
    );
    assert!(html.contains(&format!("href=\"/shops/{shop}/edit\"")));
}

#[tokio::test]
async fn an_owner_edits_a_shops_name_phone_and_email() {
    let app = crate::helpers::spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Tiệm hoa Cúc").await;
    let edit = format!("/shops/{shop}/edit");
    let html = app.get_html(&edit).await;
    assert!(html.contains("value=\"Tiệm hoa Cúc\""));

    // Invalid input: 422, each problem beside its field, an error summary, nothing stored.
    let r = app
        .post_from(
            &edit,
            &edit,
            &[
                ("name", "  "),
                ("phone", "12"),
                ("email", "không-phải-email"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("role=\"alert\""));
    assert!(
        body.contains("<title>Có lỗi"),
        "the title says an error happened"
    );
    assert!(body.contains("Vui lòng nhập tên cửa hàng."));
    assert!(body.contains("Số điện thoại không hợp lệ"));
    assert!(body.contains("Địa chỉ email không hợp lệ."));
    let name: String = sqlx::query_scalar("SELECT name FROM shops WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&shop).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Tiệm hoa Cúc");

    // Without the form's token: refused.
    let r = app
        .post_form(&edit, &[("name", "Khác"), ("phone", ""), ("email", "")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Another owner cannot see or change it.
    let other = app.logged_in_browser(&app.other_owner_email).await;
    let r = other.get(app.url(&edit)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let other_token = csrf_in(&app.html_as(&other, "/shops").await);
    let r = other
        .post(app.url(&edit))
        .form(&[
            ("csrf_token", other_token.as_str()),
            ("name", "Chiếm"),
            ("phone", ""),
            ("email", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Valid: saved, the page says so, the history records it.
    let r = app
        .post_from(
            &edit,
            &edit,
            &[
                ("name", "Tiệm hoa Cúc Vàng"),
                ("phone", "0912 345 678"),
                ("email", "cuc@example.vn"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::helpers::location(&r),
        format!("/shops/{shop}?outcome=edited")
    );
    let (name, phone, email): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT name, phone, email FROM shops WHERE id = ?")
            .bind(uuid::Uuid::parse_str(&shop).unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(name, "Tiệm hoa Cúc Vàng");
    assert!(phone.is_some_and(|p| p.contains("912")));
    assert_eq!(email.as_deref(), Some("cuc@example.vn"));
    let html = app.get_html(&format!("/shops/{shop}?outcome=edited")).await;
    assert!(html.contains("Đã lưu thông tin cửa hàng."));
    assert!(html.contains("Sửa thông tin cửa hàng"));
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shop_events WHERE shop_id = ? AND reason = 'event_shop_edited'",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(events, 1);
    // The admin's search finds it by its new name.
    let admin = app.logged_in_browser(&app.admin_email).await;
    let list = app.html_as(&admin, "/admin/shops?q=cuc+vang").await;
    assert!(list.contains("Tiệm hoa Cúc Vàng"));
}
