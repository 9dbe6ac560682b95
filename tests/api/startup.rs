use std::collections::HashMap;

use reqwest::StatusCode;
use shoplink::configuration::Settings;
use shoplink::startup::Application;

use crate::helpers::browser;

#[tokio::test]
async fn with_no_its_configured_the_app_runs_its_own_sandbox_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL".to_owned(),
            dir.path().join("app.db").display().to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_vars(&vars).unwrap();
    assert!(settings.is_sandbox());
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let sandbox = app.sandbox_origin().unwrap().to_owned();
    tokio::spawn(app.run_until_stopped());

    // The secret was generated once, readable only by its owner.
    let secret = dir.path().join("secret.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&secret).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let client = browser();
    let page = client.get(format!("{address}/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Chế độ thử nghiệm (sandbox)"),
        "the sandbox marker is on the page"
    );
    assert!(html.contains(&format!("{sandbox}/shops")));

    let health = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let sandbox_page = client.get(format!("{sandbox}/shops")).send().await.unwrap();
    assert_eq!(sandbox_page.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = crate::helpers::spawn_app().await;
    for path in ["/login", "/healthz", "/no-such-page", "/static/app.css"] {
        let r = app.get(path).await;
        let csp = r
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy trang này."));
}

#[tokio::test]
async fn english_is_one_click_away_and_remembered() {
    let app = crate::helpers::spawn_app().await;
    let html = app.get_html("/login?lang=en").await;
    assert!(html.contains("Log in"), "English on request");
    let html = app.get_html("/login").await;
    assert!(
        html.contains("<html lang=\"en\">"),
        "remembered in a cookie"
    );
    let html = app.get_html("/login?lang=vi").await;
    assert!(html.contains("Đăng nhập"));
}
