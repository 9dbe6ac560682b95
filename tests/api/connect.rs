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

#[tokio::test]
async fn an_its_shop_already_held_by_another_of_our_shops_is_refused() {
    let app = spawn_app().await;
    app.login_owner().await;
    let first = app.add_shop("Cửa hàng Một").await;
    let (callback, _) = app.connect_through_its(&first).await;

    // The second shop's attempt comes back with the first shop's ITS id (same login on ITS).
    let second = app.add_shop("Cửa hàng Hai").await;
    let r = app.press_connect(&second).await;
    let auth_url = location(&r);
    let token = url::Url::parse(&auth_url).unwrap();
    let _ = token;
    let back = app.approve_on_its(&auth_url).await;
    let forged = replace_param(&back, "shop_id", &shop_id_param(&callback));
    let r = app.client.get(&forged).send().await.unwrap();
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
