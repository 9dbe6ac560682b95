use std::time::Duration;

use reqwest::StatusCode;
use shoplink::sandbox::Faults;

use crate::helpers::*;

#[tokio::test]
async fn a_wrong_api_key_is_shown_as_a_configuration_problem() {
    let app = spawn_app_with(AppOptions {
        api_key: "not-the-partner-key".into(),
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Cấu Hình").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    assert_eq!(app.shop_state(&shop).await, "failed");
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(
        html.contains("lỗi cấu hình"),
        "says it is a configuration problem"
    );
    assert!(
        html.contains("Vui lòng kiểm tra lại request"),
        "shows the provider's own msg"
    );
    // Read as text: a random shop id or CSRF token in the markup may hold "401".
    let text = text_of(&html, "main");
    assert!(
        !text.contains("unauthenticated") && !text.contains("401"),
        "the codes and statuses are for the admin's page: {text}"
    );
    assert!(
        !html.contains("not-the-partner-key"),
        "never shows the api key"
    );
}

#[tokio::test]
async fn an_its_outage_leaves_the_shop_retryable() {
    let app = spawn_app_with(AppOptions {
        faults: Faults {
            latency: Duration::ZERO,
            failure_rate: 1.0,
        },
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Sự Cố").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    assert_eq!(app.shop_state(&shop).await, "failed");
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(html.contains("ITS đang gặp sự cố"), "a plain-words reason");
    assert!(html.contains("Thử kết nối lại"), "a retry button");

    app.set_faults(Faults::default());
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    assert_eq!(app.shop_state(&shop).await, "connected");
}

#[tokio::test]
async fn a_slow_its_times_out_and_the_shop_stays_retryable() {
    // ITS holds the call until released; the client gives up after 3 s.
    let app = spawn_app_with(AppOptions {
        its_timeout_secs: 3,
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Chậm").await;
    app.sandbox.hold();

    // Other pages answer while ITS keeps the connect request waiting.
    let slow = {
        let client = app.client.clone();
        let url = app.url(&format!("/shops/{shop}/connect"));
        let csrf = csrf_in(&app.get_html(&format!("/shops/{shop}")).await);
        tokio::spawn(async move {
            client
                .post(url)
                .form(&[("csrf_token", csrf)])
                .send()
                .await
                .unwrap()
        })
    };
    app.sandbox.wait_until_held(1).await;
    assert_eq!(app.get("/shops").await.status(), StatusCode::OK);
    assert!(
        !slow.is_finished(),
        "the list answered while the connect request still waited on ITS"
    );

    // ITS never answers this call: only the client's timeout ends it.
    let r = slow.await.unwrap();
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(
        html.contains("ITS không trả lời kịp"),
        "says ITS did not answer in time"
    );
    assert!(
        !html.contains("ITS trả lời:") && !html.contains("did not answer"),
        "our own client's words are not presented as the provider's"
    );

    app.sandbox.release();
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

#[tokio::test]
async fn a_closed_its_account_fails_with_a_clear_reason() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đóng").await;
    app.connect_through_its(&shop).await;
    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "close").await;
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(html.contains("đã bị đóng"), "{html}");
}

#[tokio::test]
async fn a_stalling_provider_blocks_neither_fifty_writers_nor_the_admin_list() {
    // The app would wait on ITS for a minute: only the gate decides when ITS answers.
    let app = spawn_app_with(AppOptions {
        its_timeout_secs: 60,
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let mut stalled = Vec::new();
    for i in 0..5 {
        stalled.push(app.add_shop(&format!("Cửa hàng Chờ {i}")).await);
    }
    let csrf = csrf_in(&app.get_html("/shops/new").await);
    let admin = app.logged_in_browser(&app.admin_email).await;
    // ITS stalls until the test lets it go.
    app.sandbox.hold();

    // Five connections wait on ITS…
    let waiting: Vec<_> = stalled
        .iter()
        .map(|shop| {
            let client = app.client.clone();
            let url = app.url(&format!("/shops/{shop}/connect"));
            let csrf = csrf.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .form(&[("csrf_token", csrf)])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    app.sandbox.wait_until_held(stalled.len()).await;

    // …while fifty writers add shops at once and the admin reads the list.
    let writers: Vec<_> = (0..50)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/shops");
            let csrf = csrf.clone();
            tokio::spawn(async move {
                let name = format!("Cửa hàng Ghi {i}");
                client
                    .post(url)
                    .form(&[("csrf_token", csrf.as_str()), ("name", name.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let list = admin.get(app.url("/admin/shops")).send().await.unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "the admin list answered while every connection still waited on ITS"
    );
    for w in writers {
        assert_eq!(
            w.await.unwrap(),
            StatusCode::SEE_OTHER,
            "every writer succeeds: no 'database is locked'"
        );
    }
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "the writers finished while every connection still waited on ITS"
    );
    let added: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE name LIKE 'Cửa hàng Ghi %'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(added, 50);
    app.sandbox.release();
    for w in waiting {
        assert_eq!(w.await.unwrap(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a_full_database_answers_503_changes_nothing_and_recovers_when_space_returns() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("DATABASE_MAX_MB", "2".into())],
        ..Default::default()
    })
    .await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đầy").await;
    // Fill the database to its cap with history rows, big ones first, then ever smaller.
    let mut filled = false;
    for size in [32 * 1024, 1024, 64, 1] {
        let filler = "x".repeat(size);
        for _ in 0..2_000 {
            let result = sqlx::query(
                "INSERT INTO shop_events (shop_id, at, actor, to_state, reason) VALUES (?, 0, 'filler', 'not_connected', ?)",
            )
            .bind(uuid::Uuid::parse_str(&shop).unwrap())
            .bind(&filler)
            .execute(&app.db)
            .await;
            if let Err(e) = result {
                assert!(e.to_string().contains("full"), "{e}");
                filled = true;
                break;
            }
        }
    }
    assert!(filled, "the cap was reached");

    let r = app
        .post_from("/shops/new", "/shops", &[("name", "Không còn chỗ")])
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.text().await.unwrap().contains("không lưu được dữ liệu"),
        "a clear page"
    );
    assert_eq!(
        app.get("/shops").await.status(),
        StatusCode::OK,
        "reading still works"
    );
    let r = app.press_connect(&shop).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.shop_state(&shop).await,
        "not_connected",
        "nothing half-started"
    );

    // Space returns: the same requests work again without a restart.
    sqlx::query("DELETE FROM shop_events WHERE actor = 'filler'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .post_from("/shops/new", "/shops", &[("name", "Đã có chỗ")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

/// Puts every pooled connection in (or out of) read-only mode, as a disk remounted
/// read-only would: SQLite then refuses writes with SQLITE_READONLY.
async fn set_read_only(app: &TestApp, on: bool) {
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = app.db.acquire().await.unwrap();
        sqlx::query(if on {
            "PRAGMA query_only = 1"
        } else {
            "PRAGMA query_only = 0"
        })
        .execute(&mut *conn)
        .await
        .unwrap();
        held.push(conn);
    }
}

#[tokio::test]
async fn a_read_only_database_answers_503_and_recovers_when_writable_again() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Chỉ Đọc").await;
    let csrf = csrf_in(&app.get_html("/shops/new").await);

    set_read_only(&app, true).await;
    let r = app
        .post_form(
            "/shops",
            &[("csrf_token", &csrf), ("name", "Không ghi được")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("không lưu được dữ liệu"));
    let r = app
        .post_form(&format!("/shops/{shop}/connect"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/shops").await.status(),
        StatusCode::OK,
        "reading still works"
    );

    set_read_only(&app, false).await;
    assert_eq!(
        app.shop_state(&shop).await,
        "not_connected",
        "nothing was marked"
    );
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
}

/// Issue 9 §2: a new attempt that fails leaves a working connection exactly as it was.
#[tokio::test]
async fn an_its_outage_during_a_reconnect_leaves_a_connected_shop_and_its_key_as_they_were() {
    let app = crate::api_support::spawn_api_app(&[]).await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Đang Chạy").await;
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    let key = app.create_key("đọc khoá", &["keys:read"]).await;
    let path = format!("/api/v1/shops/{shop}/key");
    assert_eq!(app.api_get(&key, &path).await.status(), StatusCode::OK);
    let stored = |db: sqlx::SqlitePool, id: String| async move {
        sqlx::query_as::<_, (String, Option<Vec<u8>>, Option<i64>)>(
            "SELECT state, key_ciphertext, its_shop_id FROM shops WHERE id = ?",
        )
        .bind(uuid::Uuid::parse_str(&id).unwrap())
        .fetch_one(&db)
        .await
        .unwrap()
    };
    let before = stored(app.db.clone(), shop.clone()).await;

    app.set_faults(Faults {
        latency: Duration::ZERO,
        failure_rate: 1.0,
    });
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    assert_eq!(
        stored(app.db.clone(), shop.clone()).await,
        before,
        "state and key unchanged"
    );
    assert_eq!(app.shop_state(&shop).await, "connected");
    assert_eq!(app.api_get(&key, &path).await.status(), StatusCode::OK);
    let html = app.get_html(&format!("/shops/{shop}?outcome=failed")).await;
    assert!(
        html.contains("kết nối hiện có vẫn giữ nguyên"),
        "the page says so"
    );
    assert!(html.contains("ITS đang gặp sự cố"), "and why");

    // The same for a shop that needs a new login: it stays needs_reauth.
    sqlx::query("UPDATE shops SET state = 'needs_reauth' WHERE id = ?")
        .bind(uuid::Uuid::parse_str(&shop).unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.press_connect(&shop).await;
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=failed"));
    assert_eq!(app.shop_state(&shop).await, "needs_reauth");
}
