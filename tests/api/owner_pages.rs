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
    let token = csrf_in(
        &owner
            .get(app.url("/shops"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );

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
