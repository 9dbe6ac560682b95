use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn an_owner_cannot_see_or_act_on_another_owners_shop() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Riêng").await;
    let csrf = csrf_in(&app.get_html("/shops").await);
    app.logout().await;

    let r = app.login_as(&app.other_owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = app.get_html("/shops").await;
    assert!(
        !list.contains("Cửa hàng Riêng"),
        "not in the other owner's list"
    );
    for path in [
        format!("/shops/{shop}"),
        format!("/shops/{shop}/disconnect"),
    ] {
        assert_eq!(
            app.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    let own_csrf = csrf_in(&app.get_html("/shops").await);
    assert_ne!(own_csrf, csrf, "each session has its own CSRF token");
    for path in [
        format!("/shops/{shop}/connect"),
        format!("/shops/{shop}/disconnect"),
    ] {
        let r = app.post_form(&path, &[("csrf_token", &own_csrf)]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert_eq!(
        app.shop_state(&shop).await,
        "not_connected",
        "nothing changed"
    );
}

#[tokio::test]
async fn pages_need_a_login() {
    let app = spawn_app().await;
    for path in ["/", "/shops", "/shops/new"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&r).starts_with("/login?next="), "{path}");
    }
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.login_owner().await;
    let r = app.post_form("/shops", &[("name", "Không token")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_form("/shops", &[("csrf_token", "wrong"), ("name", "Sai token")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "no shop was added");
}

#[tokio::test]
async fn a_form_from_a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    app.login_owner().await;
    let csrf = csrf_in(&app.get_html("/shops/new").await);
    let r = app
        .client
        .post(app.url("/shops"))
        .header("Origin", "https://evil.example")
        .form(&[("csrf_token", csrf.as_str()), ("name", "Từ trang lạ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(app.url("/shops"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf_token", csrf.as_str()), ("name", "Từ trang lạ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn origin_null_passes_only_when_the_browser_says_same_origin() {
    let app = spawn_app().await;
    app.login_owner().await;
    let csrf = csrf_in(&app.get_html("/shops/new").await);
    let post = |site: &'static str, name: &'static str| {
        app.client
            .post(app.url("/shops"))
            .header("Origin", "null")
            .header("Sec-Fetch-Site", site)
            .form(&[("csrf_token", csrf.as_str()), ("name", name)])
            .send()
    };
    // A page sent with no-referrer (the callback's) posts with Origin: null.
    assert_eq!(
        post("same-origin", "Từ trang gọi lại")
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post("cross-site", "Từ trang lạ").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("none", "Không rõ nguồn").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}
