use reqwest::StatusCode;

use crate::helpers::*;

/// Starts a connection and approves it on ITS, but does not follow the callback yet.
async fn pending_callback(app: &TestApp, name: &str) -> (String, String) {
    app.login_owner().await;
    let shop = app.add_shop(name).await;
    let r = app.press_connect(&shop).await;
    let callback = app.approve_on_its(&location(&r)).await;
    (shop, callback)
}

async fn events_of(app: &TestApp, shop: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM shop_events WHERE shop_id = ?")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forged_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Giả").await;
    let before = events_of(&app, &shop).await;
    let forged = replace_param(
        &callback,
        "token",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let r = app.client.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy yêu cầu kết nối này"));
    assert_eq!(app.shop_state(&shop).await, "pending");
    assert_eq!(events_of(&app, &shop).await, before, "no history entry");
}

#[tokio::test]
async fn malformed_and_duplicated_parameters_are_refused() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Sai").await;
    let dup_token = format!("{callback}&token=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    let bad_id = replace_param(&callback, "shop_id", "-5");
    let no_id = callback.split("&shop_id").next().unwrap().to_owned();
    for url in [dup_token, bad_id, no_id] {
        let r = app.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
    }
    assert_eq!(app.shop_state(&shop).await, "pending");
    // The real callback still works afterwards.
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn a_used_token_cannot_be_replayed() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Một Lần").await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    let before = events_of(&app, &shop).await;

    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("đã được xử lý rồi"),
        "a friendly 'already done' page"
    );
    assert!(
        html.contains(&format!("/shops/{shop}")),
        "with a way to the shop"
    );
    assert_eq!(events_of(&app, &shop).await, before);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Hết Hạn").await;
    sqlx::query("UPDATE connect_attempts SET expires_at = 0")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("đã hết hạn"));
    assert_eq!(app.shop_state(&shop).await, "pending");
}

#[tokio::test]
async fn another_users_token_is_refused_like_an_unknown_one() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Của Tôi").await;
    app.logout().await;
    let r = app.login_as(&app.other_owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy yêu cầu kết nối này"));
    assert_eq!(app.shop_state(&shop).await, "pending");

    // The rightful owner can still finish.
    app.logout().await;
    app.login_owner().await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn a_callback_after_the_session_ended_asks_for_login_then_finishes() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Quay Lại").await;
    app.logout().await;

    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let login = location(&r);
    assert!(
        login.starts_with("/login?next=%2Fconnect%2Fcallback"),
        "{login}"
    );
    assert_eq!(
        app.shop_state(&shop).await,
        "pending",
        "nothing happens before login"
    );

    let page = app.get_html(&login).await;
    let (_, fields) = form_in(&page, "/login");
    let next = fields.iter().find(|(k, _)| k == "next").unwrap().1.clone();
    let token = csrf_in(&page);
    let r = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", &app.owner_email),
                ("password", PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = location(&r);
    assert!(back.starts_with("/connect/callback?token="), "{back}");
    let r = app.get(&back).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    assert_eq!(app.shop_state(&shop).await, "connected");
}

#[tokio::test]
async fn many_simultaneous_callbacks_with_one_token_connect_once() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Đông Khách").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let url = callback.clone();
        tasks.push(tokio::spawn(async move {
            client.get(&url).send().await.unwrap().status()
        }));
    }
    let mut connected = 0;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            status == StatusCode::SEE_OTHER || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
        if status == StatusCode::SEE_OTHER {
            connected += 1;
        }
    }
    assert_eq!(connected, 1, "exactly one callback did the exchange");
    assert_eq!(app.shop_state(&shop).await, "connected");
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM shop_events WHERE to_state = 'connected'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_token_opened_in_another_live_browser_of_the_same_user_is_refused() {
    let app = spawn_app().await;
    let (shop, callback) = pending_callback(&app, "Cửa hàng Hai Trình Duyệt").await;
    // The same owner, logged in on a second browser, while the first session is still live.
    let other = app.logged_in_browser(&app.owner_email).await;
    let before = events_of(&app, &shop).await;
    let r = other.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("trình duyệt khác"));
    assert_eq!(app.shop_state(&shop).await, "pending");
    assert_eq!(events_of(&app, &shop).await, before);

    // The browser that started it finishes it.
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn one_user_may_have_only_a_handful_of_unfinished_attempts() {
    let app = spawn_app().await;
    app.login_owner().await;
    for i in 0..5 {
        let shop = app.add_shop(&format!("Cửa hàng Dở Dang {i}")).await;
        assert_eq!(
            app.press_connect(&shop).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let shop = app.add_shop("Cửa hàng Thứ Sáu").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        app.shop_state(&shop).await,
        "not_connected",
        "nothing started"
    );
}

/// Issue 9 §1, first attack: owner B approved on ITS but B's callback never arrived (ITS
/// keeps the link, no shop here holds it). Owner A finishes a connect of their own with
/// B's ITS `shop_id` edited into A's valid callback.
#[tokio::test]
async fn an_edited_callback_with_another_owners_its_shop_id_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    app.login_as(&app.other_owner_email).await;
    let shop_b = app.add_shop("Cửa hàng của B").await;
    let r = app.press_connect(&shop_b).await;
    let callback_b = app.approve_on_its(&location(&r)).await;
    let its_b = shop_id_param(&callback_b);
    app.logout().await;

    app.login_owner().await;
    let shop_a = app.add_shop("Cửa hàng của A").await;
    let r = app.press_connect(&shop_a).await;
    let callback_a = app.approve_on_its(&location(&r)).await;
    let forged = replace_param(&callback_a, "shop_id", &its_b);
    let r = app.client.get(&forged).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop_a}?outcome=failed"));
    assert_eq!(app.shop_state(&shop_a).await, "failed");
    assert_eq!(
        app.its_shop_id(&shop_a).await,
        None,
        "B's ITS shop is not stored"
    );
    let key: Option<Vec<u8>> = sqlx::query_scalar("SELECT key_ciphertext FROM shops WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&shop_a).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(key.is_none(), "no key stored for A");
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM shop_events WHERE shop_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(uuid::Uuid::parse_str(&shop_a).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        reason.starts_with("error_callback_not_confirmed"),
        "the history says so: {reason}"
    );
    let page = app
        .get_html(&format!("/shops/{shop_a}?outcome=failed"))
        .await;
    assert!(page.contains("ITS không xác nhận"), "a clear message");
    assert!(!page.contains(&its_b), "nothing of B's shop");
    assert!(!page.contains(&shop_b), "nothing of B's shop");
    app.logout().await;

    // B's own late callback still works, with B's shop.
    app.login_as(&app.other_owner_email).await;
    let r = app.client.get(&callback_b).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop_b}?outcome=connected"));
    assert_eq!(
        app.its_shop_id(&shop_b).await.map(|v| v.to_string()),
        Some(its_b)
    );
}

/// Issue 9 §1, second attack: the owner's typed id no longer reaches ITS, so a second
/// owner with the same label gets their own ITS login instead of the first owner's key.
#[tokio::test]
async fn the_same_owner_label_on_two_owners_shops_never_shares_an_its_link() {
    let app = spawn_app().await;
    let add_labelled = |name: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post_from(
                    "/shops/new",
                    "/shops",
                    &[
                        ("name", name),
                        ("phone", &unique_phone()),
                        ("email", &unique_email()),
                        ("owner_ref", "KH-0001"),
                    ],
                )
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            location(&r)
                .trim_start_matches("/shops/")
                .split('?')
                .next()
                .unwrap()
                .to_owned()
        }
    };
    app.login_as(&app.other_owner_email).await;
    let shop_b = add_labelled("Cửa hàng B").await;
    let r = app.press_connect(&shop_b).await;
    let callback_b = app.approve_on_its(&location(&r)).await;
    let its_b = shop_id_param(&callback_b);
    app.logout().await;

    app.login_owner().await;
    let shop_a = add_labelled("Cửa hàng A").await;
    let r = app.press_connect(&shop_a).await;
    assert!(
        location(&r).starts_with(&app.sandbox_origin),
        "A must log in on ITS, not inherit B's link"
    );
    assert_eq!(app.its_shop_id(&shop_a).await, None);
    let back = app.approve_on_its(&location(&r)).await;
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop_a}?outcome=connected"));
    assert_ne!(
        app.its_shop_id(&shop_a).await.map(|v| v.to_string()),
        Some(its_b),
        "A has an ITS shop of its own"
    );
    // The label is the owner's only: not the partner's external id.
    let (ext, label): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT external_shop_id, owner_ref FROM shops WHERE id = ?")
            .bind(uuid::Uuid::parse_str(&shop_a).unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((ext, label.as_deref()), (None, Some("KH-0001")));
    let page = app.get_html(&format!("/shops/{shop_a}")).await;
    assert!(page.contains("Mã tham chiếu") && page.contains("KH-0001"));
}
