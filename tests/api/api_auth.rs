//! Service keys: made on the dashboard, shown once, stored as hashes, revoked; every API
//! route refuses a missing, wrong or revoked key (401) and a key without its scope (403);
//! errors are JSON, never a page; the OpenAPI document describes every route.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_support::*;
use crate::helpers::csrf_in;

/// Every route with the scope it needs.
fn routes(shop: &str) -> Vec<(Method, String, &'static str)> {
    vec![
        (
            Method::POST,
            "/api/v1/connect-links".into(),
            "connect:write",
        ),
        (Method::GET, "/api/v1/shops".into(), "shops:read"),
        (Method::GET, format!("/api/v1/shops/{shop}"), "shops:read"),
        (
            Method::GET,
            format!("/api/v1/shops/{shop}/key"),
            "keys:read",
        ),
        (
            Method::POST,
            format!("/api/v1/shops/{shop}/verify"),
            "shops:read",
        ),
    ]
}

fn link_body() -> Value {
    json!({"external_user_id": "u-auth", "external_shop_id": "s-auth", "shop_name": "Cửa hàng Khoá"})
}

async fn call(app: &ApiApp, method: &Method, path: &str, auth: Option<&str>) -> reqwest::Response {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if *method == Method::POST {
        request = request.json(&link_body());
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn api_routes_refuse_missing_wrong_and_revoked_keys() {
    let app = spawn_api_app(&[]).await;
    let all = app
        .create_key("Mọi quyền", &["shops:read", "keys:read", "connect:write"])
        .await;
    let shop = app.connect_link(&all, "u-auth", "s-auth").await;
    assert!(!shop.is_empty());
    let shop_id = app.shop_id_of("s-auth").await;

    for (method, path, _) in routes(&shop_id) {
        for auth in [
            None,
            Some("Bearer"),
            Some("Bearer slk_not-a-real-key"),
            Some("Basic dXNlcjpwYXNz"),
            Some(&*format!("Bearer {}x", all)),
        ] {
            let r = call(&app, &method, &path, auth).await;
            assert_eq!(
                r.headers()["www-authenticate"],
                "Bearer realm=\"shoplink\"",
                "{method} {path}"
            );
            expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
    }

    // A revoked key stops working at once.
    let doomed = app.create_key("Sắp thu hồi", &["shops:read"]).await;
    assert_eq!(
        app.api_get(&doomed, "/api/v1/shops").await.status(),
        StatusCode::OK
    );
    let admin = app.admin_browser().await;
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM service_keys WHERE name = 'Sắp thu hồi'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = get_text(&admin, &app.url("/admin/api-keys")).await;
    let r = admin
        .post(app.url(&format!("/admin/api-keys/{id}/revoke")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = get_text(&admin, &app.url("/admin/api-keys?outcome=revoked")).await;
    assert!(page.contains("Đã thu hồi khoá"));
    expect_error(
        app.api_get(&doomed, "/api/v1/shops").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn api_routes_refuse_a_key_without_their_scope() {
    let app = spawn_api_app(&[]).await;
    let all = app
        .create_key("Mọi quyền", &["shops:read", "keys:read", "connect:write"])
        .await;
    app.connect_link(&all, "u-auth", "s-auth").await;
    let shop_id = app.shop_id_of("s-auth").await;
    let mut keys = Vec::new();
    for scope in ["shops:read", "keys:read", "connect:write"] {
        keys.push((scope, app.create_key(scope, &[scope]).await));
    }
    for (method, path, needed) in routes(&shop_id) {
        for (scope, key) in &keys {
            let r = call(&app, &method, &path, Some(&format!("Bearer {key}"))).await;
            if *scope == needed {
                assert_ne!(
                    r.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path} with {scope}"
                );
                assert_ne!(
                    r.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {scope}"
                );
            } else {
                let message = expect_error(r, StatusCode::FORBIDDEN, "insufficient_scope").await;
                assert!(message.contains(needed), "{message}");
            }
        }
    }
}

#[tokio::test]
async fn api_key_secrets_are_shown_once_and_stored_only_as_hashes() {
    let app = spawn_api_app(&[]).await;
    let secret = app
        .create_key("Hệ thống bán hàng", &["shops:read", "keys:read"])
        .await;
    assert!(secret.starts_with("slk_") && secret.len() > 40, "{secret}");

    let (hash, prefix, scopes, last_used): (String, String, String, Option<i64>) = sqlx::query_as(
        "SELECT secret_hash, prefix, scopes, last_used_at FROM service_keys WHERE name = 'Hệ thống bán hàng'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(hash, shoplink::crypto::token_hash(&secret), "SHA-256 only");
    assert!(secret.starts_with(&prefix) && prefix.len() < 16);
    assert_eq!(scopes, "shops:read keys:read");
    assert_eq!(last_used, None);
    let dump: String = sqlx::query_scalar(
        "SELECT group_concat(hex(id) || name || prefix || secret_hash || scopes) FROM service_keys",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        !dump.contains(&secret[prefix.len()..]),
        "the secret is not stored"
    );

    // The list shows the key, when it was last used, and never the secret.
    assert_eq!(
        app.api_get(&secret, "/api/v1/shops").await.status(),
        StatusCode::OK
    );
    let admin = app.admin_browser().await;
    let page = get_text(&admin, &app.url("/admin/api-keys")).await;
    assert!(page.contains("Hệ thống bán hàng") && page.contains(&prefix));
    assert!(!page.contains(&secret));
    assert!(!page.contains("Chưa dùng"), "last use is shown");

    // A name and a scope are required; an owner cannot reach the page.
    let token = csrf_in(&page);
    let r = admin
        .post(app.url("/admin/api-keys"))
        .form(&[("csrf_token", token.as_str()), ("name", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Vui lòng đặt tên khoá") && html.contains("Hãy chọn ít nhất một quyền"));
    app.login_owner().await;
    assert_eq!(
        app.get("/admin/api-keys").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/admin/webhooks").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn api_errors_are_json_never_html() {
    let app = spawn_api_app(&[]).await;
    let key = app
        .create_key("Mọi quyền", &["shops:read", "connect:write"])
        .await;
    expect_error(
        app.api_get(&key, "/api/v2/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.api_get(&key, "/api/v1/shops/ext:nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.api_get(&key, "/api/v1/shops/12345").await,
        StatusCode::BAD_REQUEST,
        "invalid_shop_id",
    )
    .await;
    let r = app
        .client
        .delete(app.url("/api/v1/shops"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    for (body, content_type, status, code) in [
        (
            "{not json",
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "{}",
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            r#"{"external_user_id": 5}"#,
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        let r = app
            .client
            .post(app.url("/api/v1/connect-links"))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(r, status, code).await;
    }
    let big = format!(r#"{{"shop_name": "{}"}}"#, "x".repeat(20_000));
    let r = app
        .client
        .post(app.url("/api/v1/connect-links"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    expect_error(
        app.api_get(&key, "/api/v1/shops?limit=0").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    expect_error(
        app.api_get(&key, "/api/v1/shops?status=sleeping").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    expect_error(
        app.api_get(&key, "/api/v1/shops?cursor=garbage").await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
}

/// Collects every `$ref` in a JSON value.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn api_openapi_document_describes_every_route_and_is_consistent() {
    let app = spawn_api_app(&[]).await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "shoplink API");
    let scheme = &doc["components"]["securitySchemes"]["service_key"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");

    let expected: HashSet<(String, String)> = routes("{id}")
        .into_iter()
        .map(|(m, p, _)| (m.as_str().to_ascii_lowercase(), p))
        .collect();
    let mut found = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            found.insert((method.clone(), path.clone()));
            let security = op["security"]
                .as_array()
                .expect("each operation names its scope");
            assert!(security[0]["service_key"].as_array().unwrap().len() == 1);
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} documents {status}"
                );
            }
            if path.contains("{id}") {
                assert!(
                    op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == "id" && p["in"] == "path"),
                    "{method} {path} documents its id"
                );
            }
        }
    }
    assert_eq!(found, expected);

    // Every reference resolves to a schema of the document.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a local schema reference");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} resolves"
        );
    }
    // The key never appears in a shop, only in the key's own answer.
    let shop = doc["components"]["schemas"]["Shop"]["properties"]
        .as_object()
        .unwrap();
    assert!(!shop.contains_key("shop_key"));
    assert!(shop.contains_key("its_shop_id") && shop.contains_key("last_verified_at"));
    // Error codes are the API's own stable names, each listed; never a catalogue key.
    let codes: Vec<&str> = doc["components"]["schemas"]["ApiCode"]["enum"]
        .as_array()
        .expect("the error codes are an enum of the document")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "insufficient_scope",
        "not_connected",
        "rate_limited",
        "nothing_to_disconnect",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert!(codes.iter().all(|c| !c.starts_with("error_")), "{codes:?}");
}

/// Sends `body` with `content_type` to `POST /api/v1/connect-links` with `auth`.
async fn post_raw(app: &ApiApp, auth: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/connect-links"))
        .header("authorization", auth)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn api_authenticates_then_authorises_then_reads_the_input() {
    let app = spawn_api_app(&[]).await;
    let reader = app.create_key("Chỉ đọc", &["shops:read"]).await;
    let writer_without_read = app.create_key("Chỉ tạo", &["connect:write"]).await;
    let unknown = format!("slk_{}", "A".repeat(43));
    let big = format!(r#"{{"shop_name": "{}"}}"#, "x".repeat(20_000));
    let bad_bodies: Vec<(&str, String)> = vec![
        ("application/json", "{".into()),
        ("text/plain", "{}".into()),
        ("application/json", r#"{"external_user_id": 5}"#.into()),
        ("application/json", big),
    ];
    // Repeated: the answer must not depend on which part of the request is read first.
    for _ in 0..5 {
        for (content_type, body) in &bad_bodies {
            // An unknown key: 401 whatever the body (not 400, 413, 415 or 422).
            let r = post_raw(
                &app,
                &format!("Bearer {unknown}"),
                content_type,
                body.clone(),
            )
            .await;
            expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
            // A known key without connect:write: 403 whatever the body.
            let r = post_raw(
                &app,
                &format!("Bearer {reader}"),
                content_type,
                body.clone(),
            )
            .await;
            expect_error(r, StatusCode::FORBIDDEN, "insufficient_scope").await;
        }
        for query in ["limit=x", "limit=0", "status=sleeping", "cursor=garbage"] {
            let path = format!("/api/v1/shops?{query}");
            expect_error(
                app.api_get(&unknown, &path).await,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
            .await;
            expect_error(
                app.api_get(&writer_without_read, &path).await,
                StatusCode::FORBIDDEN,
                "insufficient_scope",
            )
            .await;
        }
        for path in ["/api/v1/shops/12345/key", "/api/v1/shops/12345"] {
            expect_error(
                app.api_get(&unknown, path).await,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
            .await;
        }
    }
    // With the scope, the input is read and judged.
    let r = post_raw(
        &app,
        &format!("Bearer {writer_without_read}"),
        "application/json",
        "{".into(),
    )
    .await;
    expect_error(r, StatusCode::BAD_REQUEST, "invalid_json").await;
    expect_error(
        app.api_get(&reader, "/api/v1/shops?limit=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn api_a_wrong_method_gets_405_with_allow() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Đọc", &["shops:read"]).await;
    let id = uuid::Uuid::new_v4();
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/shops".to_owned(), "GET"),
        (Method::PUT, format!("/api/v1/shops/{id}"), "GET"),
        (Method::POST, format!("/api/v1/shops/{id}/key"), "GET"),
        (Method::GET, format!("/api/v1/shops/{id}/verify"), "POST"),
        (Method::GET, "/api/v1/connect-links".to_owned(), "POST"),
        (Method::POST, "/api/openapi.json".to_owned(), "GET"),
    ] {
        // With a key and without one: a method is not a credential.
        for auth in [Some(&key), None] {
            let mut request = app.client.request(method.clone(), app.url(&path));
            if let Some(key) = auth {
                request = request.bearer_auth(key);
            }
            let r = request.send().await.unwrap();
            assert_eq!(
                r.headers().get("allow").map(|v| v.to_str().unwrap()),
                Some(allow),
                "{method} {path}"
            );
            expect_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
        }
    }
}

#[tokio::test]
async fn api_a_too_long_query_is_answered_in_json() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Đọc", &["shops:read"]).await;
    let long = "x".repeat(2_100);
    for path in [
        format!("/api/v1/shops?external_user_id={long}"),
        format!("/api/v1/shops/ext:a?q={long}"),
        format!("/api/nothing?q={long}"),
    ] {
        let r = app.api_get(&key, &path).await;
        let message = expect_error(r, StatusCode::BAD_REQUEST, "query_too_long").await;
        assert!(message.contains("2048"), "{message}");
    }
    // The pages keep their own page.
    let r = app.get(&format!("/login?q={long}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}
