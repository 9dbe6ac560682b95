use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn logins_are_throttled_after_five_failures_whatever_forwarded_for_says() {
    let app = spawn_app().await;
    for i in 0..5 {
        let r = app
            .login_with(&app.owner_email, "wrong password, still wrong")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    // Even the right password waits now, and a made-up client address changes nothing.
    let page = app.get_html("/login").await;
    let token = csrf_in(&page);
    let r = app
        .client
        .post(app.url("/login"))
        .header("X-Forwarded-For", "203.0.113.99")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", &app.owner_email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "a short wait first: {wait}");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("quá nhiều lần đăng nhập sai"));
    // The count is in the database, so a restart does not reset it.
    let locked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM login_throttle WHERE locked_until > 0")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(locked, 2, "the account and the address are both locked");

    // When the lock has passed, the right password works and clears the account's count.
    sqlx::query("UPDATE login_throttle SET locked_until = 0")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.login_as(&app.owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn redirect_url_comes_from_public_url_not_from_host_headers() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Host").await;
    let csrf = csrf_in(&app.get_html(&format!("/shops/{shop}")).await);
    let r = app
        .client
        .post(app.url(&format!("/shops/{shop}/connect")))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let callback = app.approve_on_its(&location(&r)).await;
    assert!(
        callback.starts_with(&format!("{}/connect/callback?", app.address)),
        "{callback}"
    );
    assert!(!callback.contains("evil"));
}

#[tokio::test]
async fn an_auth_url_outside_the_allowed_hosts_is_not_followed() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("ITS_AUTH_HOSTS", "auth.etelecom.vn".into())],
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Lạ").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(
        location(&r),
        format!("/shops/{shop}?outcome=failed"),
        "the browser is not sent there"
    );
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(html.contains("địa chỉ đăng nhập không được phép"));
}

#[tokio::test]
async fn a_callback_for_another_its_shop_than_the_linked_one_is_refused_and_recorded() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Gốc").await;
    app.connect_through_its(&shop).await;
    let linked = app.its_shop_id(&shop).await.unwrap();
    // Unlinked on ITS, so connecting again goes through the ITS login and a callback.
    app.sandbox_shop_action(linked, "unlink").await;

    let r = app.press_connect(&shop).await;
    let auth_url = location(&r);
    assert!(auth_url.starts_with(&app.sandbox_origin), "{auth_url}");
    let callback = app.approve_on_its(&auth_url).await;
    let tampered = replace_param(&callback, "shop_id", &(linked + 1).to_string());
    let r = app.client.get(&tampered).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    assert_eq!(
        app.its_shop_id(&shop).await,
        Some(linked),
        "the link is not replaced"
    );
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM shop_events ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(reason.starts_with("error_shop_id_mismatch"), "{reason}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_or_422_and_changes_nothing() {
    let app = spawn_app().await;
    app.login_owner().await;
    let r = app
        .post_from("/shops/new", "/shops", &[("name", "Tên\u{0}có NUL")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("ký tự điều khiển"));

    let long = "Đ".repeat(10_000);
    let r = app
        .post_from("/shops/new", "/shops", &[("name", &long)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "over the form size limit"
    );
    let long = "a".repeat(500);
    let r = app
        .post_from("/shops/new", "/shops", &[("name", &long)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("dài quá 200 ký tự"));

    let r = app
        .post_from(
            "/shops/new",
            "/shops",
            &[("name", "Cửa hàng \u{202E}đảo chiều")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bidirectional overrides are refused"
    );

    let csrf = csrf_in(&app.get_html("/shops/new").await);
    let mut body = format!("csrf_token={csrf}&name=").into_bytes();
    body.extend_from_slice(&[0xff, 0xfe, 0x41]);
    let r = app
        .client
        .post(app.url("/shops"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "non-UTF-8");

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn under_https_cookies_get_the_host_prefix_and_pages_send_hsts() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("PUBLIC_URL", "https://shoplink.example.vn".into())],
        ..Default::default()
    })
    .await;
    let r = app.get("/login").await;
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    // A browser sends Secure cookies only over https; this test speaks http, so it hands
    // the login cookie back by hand.
    let login_cookie = set_cookie(&r, "shoplink_login_csrf").unwrap();
    assert!(login_cookie.contains("Secure"), "{login_cookie}");
    let token = set_cookie_value(&r, "shoplink_login_csrf").unwrap();
    let value = format!("shoplink_login_csrf={token}");
    let r = browser()
        .post(app.url("/login"))
        .header("Cookie", value)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", &app.owner_email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&r, "__Host-shoplink_session").expect("a session cookie");
    assert!(cookie.starts_with("__Host-shoplink_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

#[tokio::test]
async fn markup_in_the_its_shop_name_is_shown_as_text_on_every_page() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Bình Thường").await;
    let r = app.press_connect(&shop).await;
    let auth_url = location(&r);
    let html = app
        .client
        .get(&auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, fields) = form_in(&html, "/login");
    let evil = "\"><img src=x onerror=alert(1)><script>alert(2)</script>";
    let mut fields: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| {
            if k == "shop_name" {
                (k, evil.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    fields.push(("action".into(), "approve".into()));
    let r = app
        .client
        .post(format!("{}{}", app.sandbox_origin, action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let r = app.client.get(location(&r)).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    let its_name: String = sqlx::query_scalar("SELECT its_shop_name FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(its_name, evil, "stored as ITS sent it");

    let no_markup = |page: String, html: String| {
        let doc = scraper::Html::parse_document(&html);
        for tag in ["script:not([src])", "img"] {
            let found = doc.select(&scraper::Selector::parse(tag).unwrap()).count();
            assert_eq!(found, 0, "{page} has a <{tag}> from the ITS name");
        }
        if !page.starts_with("/admin/shops?") && page != "/admin/shops" {
            assert!(
                doc.root_element()
                    .text()
                    .collect::<String>()
                    .contains("onerror=alert(1)"),
                "{page} shows the name as text"
            );
        }
    };
    for page in [
        format!("/shops/{shop}?outcome=connected"),
        "/shops".to_owned(),
    ] {
        no_markup(page.clone(), app.get_html(&page).await);
    }
    app.logout().await;
    let r = app.login_as(&app.admin_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pages = [format!("/admin/shops/{shop}"), "/admin/shops".to_owned()];
    for page in pages {
        no_markup(page.clone(), app.get_html(&page).await);
    }
}

#[tokio::test]
async fn an_over_long_query_string_gets_a_clear_400() {
    let app = spawn_app().await;
    let long = format!("/login?next=/{}", "a".repeat(3_000));
    let r = app.get(&long).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Địa chỉ trang quá dài."));
}

#[tokio::test]
async fn an_idle_session_ends_and_the_absolute_lifetime_holds() {
    let app = spawn_app().await;
    app.login_owner().await;
    assert_eq!(app.get("/shops").await.status(), StatusCode::OK);
    // A fresh session, not yet read (so not in the app's session cache): the changes below
    // reach the app through the database.
    app.logout().await;
    app.login_owner().await;
    // 25 hours without a request: past an owner's 24 h idle timeout.
    let idle = shoplink::store::now_ms() - 25 * 60 * 60 * 1000;
    sqlx::query("UPDATE sessions SET last_seen_at = ?")
        .bind(idle)
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.get("/shops").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "back to the login page");

    app.login_owner().await;
    sqlx::query("UPDATE sessions SET expires_at = ?")
        .bind(shoplink::store::now_ms() - 1)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.get("/shops").await.status(),
        StatusCode::SEE_OTHER,
        "past the 7-day lifetime"
    );
}

#[tokio::test]
async fn a_hundred_parallel_logins_do_not_stall_other_requests() {
    let app = spawn_app().await;
    let page = app.get_html("/login").await;
    let token = csrf_in(&page);
    let logins: Vec<_> = (0..100)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/login");
            let token = token.clone();
            tokio::spawn(async move {
                let email = format!("nobody{i}@example.vn");
                client
                    .post(url)
                    .form(&[
                        ("csrf_token", token.as_str()),
                        ("email", email.as_str()),
                        ("password", "some long wrong password"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "a page waited for password hashing: {:?}",
        started.elapsed()
    );
    for l in logins {
        let status = l.await.unwrap();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
    }
}
