use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn an_owner_connects_a_new_shop_through_the_its_approve_page() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Hòa Mai").await;
    assert_eq!(app.shop_state(&shop).await, "not_connected");

    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let auth_url = location(&r);
    assert!(
        auth_url.starts_with(&format!("{}/login?token=request", app.sandbox_origin)),
        "{auth_url}"
    );
    assert_eq!(app.shop_state(&shop).await, "pending");

    let callback = app.approve_on_its(&auth_url).await;
    assert!(
        callback.starts_with(&format!("{}/connect/callback?token=", app.address)),
        "{callback}"
    );
    let its_id = shop_id_param(&callback);

    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/shops/{shop}?outcome=connected"),
        "a clean URL without the token"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");

    assert_eq!(app.shop_state(&shop).await, "connected");
    assert_eq!(
        app.its_shop_id(&shop).await.map(|v| v.to_string()),
        Some(its_id)
    );
    let page = app
        .get_html(&format!("/shops/{shop}?outcome=connected"))
        .await;
    assert!(page.contains("Đã kết nối"), "the page says connected");
    assert!(
        page.contains("Đã kết nối với ITS: Cửa hàng Hòa Mai"),
        "the ITS shop name is shown"
    );
    assert!(page.contains("****"), "the key is shown masked");
}

#[tokio::test]
async fn the_stored_key_is_encrypted_in_the_database_file() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Tiệm bánh An").await;
    let (callback, _) = app.connect_through_its(&shop).await;
    let its_id = shop_id_param(&callback);

    // Ask ITS for the key the way the app does, then look for it in the raw database file.
    let key = its_key(&app, &its_id).await;
    assert!(key.starts_with(&format!("shop{its_id}:")), "{key}");
    sqlx::query("PRAGMA wal_checkpoint(FULL)")
        .execute(&app.db)
        .await
        .unwrap();
    let bytes = std::fs::read(app.dir.path().join("app.db")).unwrap();
    let secret_part = key.split(':').nth(1).unwrap().as_bytes();
    assert!(
        !bytes.windows(secret_part.len()).any(|w| w == secret_part),
        "the plaintext key is not in the file"
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT key_ciphertext FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!stored.is_empty());

    // And the page never shows it in full.
    let page = app.get_html(&format!("/shops/{shop}")).await;
    assert!(!page.contains(&key));
    assert!(page.contains(&format!("****{}", &key[key.len() - 4..])));
}

/// Calls the sandbox as the partner to read a shop's key (what `AuthorizeShop` returns for a linked shop).
pub async fn its_key(app: &TestApp, its_id: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{}.Shop/AuthorizeShop", app.sandbox_base_url))
        .bearer_auth(PARTNER_KEY)
        .json(&serde_json::json!({ "shop_id": its_id, "redirect_url": "http://127.0.0.1/x" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["type"], "shop_key", "{body}");
    body["auth_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_shop_already_linked_on_its_connects_without_a_detour() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Minh").await;
    app.connect_through_its(&shop).await;
    // Disconnect on our side only: ITS still holds the link.
    let r = app
        .post_from(
            &format!("/shops/{shop}/disconnect"),
            &format!("/shops/{shop}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.shop_state(&shop).await, "disconnected");
    let key: Option<Vec<u8>> = sqlx::query_scalar("SELECT key_ciphertext FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(key.is_none(), "the key is deleted, not hidden");

    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/shops/{shop}?outcome=connected"),
        "no trip to ITS"
    );
    assert_eq!(app.shop_state(&shop).await, "connected");
}

#[tokio::test]
async fn a_shop_unlinked_on_its_logs_in_again_and_reconnects() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Lan").await;
    app.connect_through_its(&shop).await;
    let its_id = app.its_shop_id(&shop).await.unwrap();
    let old_key = its_key(&app, &its_id.to_string()).await;

    app.sandbox_shop_action(its_id, "unlink").await;

    // Pressing connect asks ITS with the stored id: ITS wants a login again.
    let (callback, r) = app.connect_through_its(&shop).await;
    assert_eq!(
        shop_id_param(&callback),
        its_id.to_string(),
        "the same ITS shop comes back"
    );
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    assert_eq!(app.shop_state(&shop).await, "connected");
    let new_key = its_key(&app, &its_id.to_string()).await;
    assert_ne!(old_key, new_key, "the re-link has a new key");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE its_shop_id = ?")
        .bind(its_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1, "one connection per shop");
}

#[tokio::test]
async fn a_stored_shop_id_unknown_to_its_is_forgotten_and_the_flow_starts_over() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Quên").await;
    // A shop id that never linked through this partner.
    sqlx::query("UPDATE shops SET its_shop_id = 1052570182707778180 WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&shop).unwrap())
        .execute(&app.db)
        .await
        .unwrap();

    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&r).starts_with(&app.sandbox_origin),
        "sent to the ITS login after forgetting the id"
    );
    assert_eq!(
        app.its_shop_id(&shop).await,
        None,
        "the unknown id is forgotten"
    );
    let page = app.get_html(&format!("/shops/{shop}")).await;
    assert!(
        page.contains("ITS không nhận mã cửa hàng cũ"),
        "the history says why"
    );
}

#[tokio::test]
async fn a_shop_name_with_markup_is_shown_escaped() {
    let app = spawn_app().await;
    app.login_owner().await;
    let name = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let shop = app.add_shop(name).await;
    for page in ["/shops".to_owned(), format!("/shops/{shop}")] {
        let html = app.get_html(&page).await;
        assert!(
            !html.contains("<script>alert(1)"),
            "{page} shows raw markup"
        );
        assert!(!html.contains("<img src=x"), "{page} shows raw markup");
        // Parsed as a browser would: the name is text, and no element came out of it.
        let doc = scraper::Html::parse_document(&html);
        for tag in ["script:not([src])", "img"] {
            assert_eq!(
                doc.select(&scraper::Selector::parse(tag).unwrap()).count(),
                0,
                "{page} has a <{tag}>"
            );
        }
        let text: String = doc.root_element().text().collect();
        assert!(text.contains(name), "{page} shows the name as typed");
    }
}

/// On the sandbox's login page: approve with some fields typed over (e.g. another email).
pub async fn approve_with(app: &TestApp, auth_url: &str, typed: &[(&str, &str)]) -> String {
    let html = app
        .client
        .get(auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, mut fields) = form_in(&html, "/login");
    for (name, value) in typed {
        fields.retain(|(n, _)| n != name);
        fields.push(((*name).into(), (*value).into()));
    }
    fields.push(("action".into(), "approve".into()));
    let r = app
        .client
        .post(format!("{}{}", app.sandbox_origin, action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "ITS redirects back");
    location(&r)
}

#[tokio::test]
async fn an_its_shop_already_held_by_another_owners_shop_is_refused_without_naming_it() {
    let app = spawn_app().await;
    app.login_owner().await;
    let first = app.add_shop("Cửa hàng Một").await;
    let r = app.press_connect(&first).await;
    let first_email: String = sqlx::query_scalar("SELECT email FROM shops WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&first).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    let callback = app.approve_on_its(&location(&r)).await;
    app.client.get(&callback).send().await.unwrap();
    let its_id = app.its_shop_id(&first).await.unwrap();
    app.logout().await;

    // Another owner logs in on ITS as that same ITS shop (the sandbox finds it by email):
    // ITS confirms it for the second shop, but it is already held here.
    app.login_as(&app.other_owner_email).await;
    let second = app.add_shop("Cửa hàng Hai").await;
    let r = app.press_connect(&second).await;
    let back = approve_with(&app, &location(&r), &[("email", &first_email)]).await;
    assert_eq!(shop_id_param(&back), its_id.to_string());
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{second}?outcome=failed"));
    assert_eq!(app.shop_state(&second).await, "failed");
    assert_eq!(
        app.shop_state(&first).await,
        "connected",
        "the first shop keeps its link"
    );
    let page = app
        .get_html(&format!("/shops/{second}?outcome=failed"))
        .await;
    assert!(
        page.contains("đã được liên kết với một cửa hàng khác"),
        "a clear message"
    );
    assert!(
        !page.contains(&its_id.to_string()),
        "not the other ITS shop's id"
    );
    assert!(!page.contains(&first), "not the other shop's id");
    assert!(
        !page.contains("ITS trả lời:"),
        "nothing presented as the provider's words"
    );
    assert!(!page.contains("held by"), "no English detail");
    // The admin's page has the detail.
    let admin = app.logged_in_browser(&app.admin_email).await;
    let html = app.html_as(&admin, &format!("/admin/shops/{second}")).await;
    assert!(
        html.contains(&format!("is held by shop {first}")),
        "admin sees the detail"
    );
}

#[tokio::test]
async fn a_prefill_the_provider_would_refuse_is_left_out_and_the_shop_still_connects() {
    let app = spawn_app().await;
    app.login_owner().await;
    let r = app
        .post_from(
            "/shops/new",
            "/shops",
            &[
                ("name", "Cửa hàng Cộng"),
                ("email", "an+shop@gmail.com"),
                ("phone", &unique_phone()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let shop = location(&r)
        .trim_start_matches("/shops/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let r = app.press_connect(&shop).await;
    let auth_url = location(&r);
    assert!(
        auth_url.starts_with(&app.sandbox_origin),
        "sent to ITS, not failed: {auth_url}"
    );
    let login = app
        .client
        .get(&auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !login.contains("an+shop@gmail.com"),
        "the refused email is not pre-filled"
    );
    let back = app.approve_on_its(&auth_url).await;
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn an_ordinary_partner_never_sends_external_user_id() {
    // The sandbox refuses it from a non-white-label partner, exactly like the provider:
    // the very first connect of every shop failed before.
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đầu Tiên").await;
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn a_white_label_partner_sends_external_user_id() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("ITS_WHITE_LABEL", "true".into())],
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Nhãn Trắng").await;
    // Not white-label at ITS: the field is refused, which shows it was sent.
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    app.sandbox.set_partner(shoplink::sandbox::PartnerSetup {
        white_label: true,
        ..Default::default()
    });
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

fn fixed_url(app: &TestApp) -> String {
    format!("{}/connect/callback", app.address)
}

#[tokio::test]
async fn with_registered_urls_the_token_mode_is_a_configuration_problem_that_names_the_url() {
    let app = spawn_app().await;
    app.sandbox.set_partner(shoplink::sandbox::PartnerSetup {
        registered_redirect_urls: vec![fixed_url(&app)],
        ..Default::default()
    });
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đăng Ký").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    let page = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(
        page.contains("liên hệ bộ phận hỗ trợ"),
        "a plain message for the owner"
    );
    assert!(
        !page.contains("đăng ký trước"),
        "not the provider's configuration text"
    );
    assert!(!page.contains("/connect/callback"), "no URL for the owner");

    let admin = app.logged_in_browser(&app.admin_email).await;
    let html = app.html_as(&admin, &format!("/admin/shops/{shop}")).await;
    assert!(
        html.contains("Lỗi cấu hình"),
        "a configuration problem for the admin"
    );
    assert!(
        html.contains(&fixed_url(&app)),
        "naming the URL to register"
    );

    // "Test credentials" finds it too.
    let settings = app.html_as(&admin, "/admin/settings").await;
    let r = admin
        .post(app.url("/admin/settings/test"))
        .form(&[("csrf_token", csrf_in(&settings))])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("ITS chấp nhận khoá API"), "the key works");
    assert!(html.contains("Lỗi cấu hình"), "{html}");
    assert!(html.contains(&fixed_url(&app)), "names the URL to register");
}

#[tokio::test]
async fn the_fixed_redirect_mode_connects_through_the_session_and_our_external_id() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("ITS_REDIRECT_MODE", "fixed".into())],
        ..Default::default()
    })
    .await;
    app.sandbox.set_partner(shoplink::sandbox::PartnerSetup {
        registered_redirect_urls: vec![fixed_url(&app)],
        ..Default::default()
    });
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Cố Định").await;
    let (callback, r) = app.connect_through_its(&shop).await;
    assert!(
        callback.starts_with(&format!("{}?shop_id=", fixed_url(&app))),
        "only the provider's shop_id comes back: {callback}"
    );
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    assert_eq!(app.shop_state(&shop).await, "connected");

    // The callback works once.
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A second shop: an edited shop_id is not confirmed by our external id.
    let other = app.add_shop("Cửa hàng Khác").await;
    let r = app.press_connect(&other).await;
    let back = app.approve_on_its(&location(&r)).await;
    let forged = replace_param(&back, "shop_id", &shop_id_param(&callback));
    let r = app.client.get(&forged).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{other}?outcome=failed"));
    assert_eq!(app.its_shop_id(&other).await, None, "nothing stored");

    // "Test credentials" accepts the fixed URL.
    let admin = app.logged_in_browser(&app.admin_email).await;
    let settings = app.html_as(&admin, "/admin/settings").await;
    let html = admin
        .post(app.url("/admin/settings/test"))
        .form(&[("csrf_token", csrf_in(&settings))])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("ITS chấp nhận redirect_url"), "{html}");
}

#[tokio::test]
async fn in_the_fixed_mode_a_new_attempt_supersedes_the_sessions_earlier_one() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("ITS_REDIRECT_MODE", "fixed".into())],
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let a = app.add_shop("Cửa hàng A").await;
    let b = app.add_shop("Cửa hàng B").await;
    let first = location(&app.press_connect(&a).await);
    let second = location(&app.press_connect(&b).await);
    // Approving the first request comes back with A's ITS shop, but the session's pending
    // attempt is B's: B's own id is not what that shop approved, so nothing is stored.
    let back = app.approve_on_its(&first).await;
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{b}?outcome=failed"));
    assert_eq!(app.its_shop_id(&b).await, None);
    assert_eq!(app.its_shop_id(&a).await, None);
    // Starting again and finishing works.
    let _ = second;
    let (_, r) = app.connect_through_its(&b).await;
    assert_eq!(location(&r), format!("/shops/{b}?outcome=connected"));
}

#[tokio::test]
async fn a_double_click_on_connect_leaves_the_first_trip_to_its_valid() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Bấm Hai Lần").await;
    let first = location(&app.press_connect(&shop).await);
    let second = location(&app.press_connect(&shop).await);
    assert_ne!(first, second);
    // The browser follows the first answer (the second one's page never showed).
    let callback = app.approve_on_its(&first).await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}
