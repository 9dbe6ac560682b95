use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn an_owner_gets_403_on_the_settings_page_and_its_test_button() {
    let app = spawn_app().await;
    app.login_owner().await;
    assert_eq!(
        app.get("/admin/settings").await.status(),
        StatusCode::FORBIDDEN
    );
    let csrf = csrf_in(&app.get_html("/shops").await);
    let r = app
        .post_form("/admin/settings/test", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(!body.contains("Test partner"), "ITS was not asked");
}

#[tokio::test]
async fn the_settings_page_shows_the_mode_the_base_url_and_only_the_masked_key() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let r = app.get("/admin/settings").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Production: ITS thật"),
        "a configured endpoint is production mode"
    );
    assert!(html.contains(&app.sandbox_base_url), "the base URL");
    let tail = &PARTNER_KEY[PARTNER_KEY.len() - 4..];
    assert!(html.contains(&format!("****{tail}")), "the key, masked");
    assert!(!html.contains(PARTNER_KEY), "never the key in full");
    assert!(!html.contains(&PARTNER_KEY[..12]), "nor its beginning");
    assert!(
        html.contains("Số cửa hàng kiểm tra cùng lúc"),
        "the re-verification settings"
    );
    assert!(html.contains("1 ngày"), "the default interval, readable");
}

#[tokio::test]
async fn test_credentials_shows_the_partner_name() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let r = app
        .post_from("/admin/settings", "/admin/settings/test", &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("ITS chấp nhận khoá API. Tài khoản đối tác: Test partner"),
        "{html}"
    );
    assert!(!html.contains(PARTNER_KEY));
}

#[tokio::test]
async fn test_credentials_with_a_wrong_api_key_shows_the_exact_error() {
    let wrong = "wrong-partner-key-abcdef123456";
    let app = spawn_app_with(AppOptions {
        api_key: wrong.into(),
        ..AppOptions::default()
    })
    .await;
    login_admin(&app).await;
    let html = app.get_html("/admin/settings").await;
    assert!(html.contains("****3456") && !html.contains(wrong));
    let r = app
        .post_from("/admin/settings", "/admin/settings/test", &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let alert = scraper::Selector::parse("[role=alert]").unwrap();
    let text: String = doc
        .select(&alert)
        .next()
        .expect("the failure is announced")
        .text()
        .collect();
    assert!(text.contains("Kiểm tra không thành công"), "{text}");
    assert!(
        text.contains("ITS không chấp nhận khoá API của đối tác"),
        "the catalogue's explanation: {text}"
    );
    assert!(
        text.contains("unauthenticated"),
        "the provider's own code: {text}"
    );
    assert!(!html.contains(wrong), "the wrong key is not echoed either");
}
