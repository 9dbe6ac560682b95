use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use shoplink::configuration::Settings;
use shoplink::sandbox::Faults;
use shoplink::startup::Application;

use crate::helpers::*;

/// Like `spawn_app`, with extra settings (e.g. a one-second scheduler tick).
async fn spawn_app_with_env(extra: &[(&'static str, &str)]) -> TestApp {
    spawn_app_with(AppOptions {
        extra_env: extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        ..AppOptions::default()
    })
    .await
}

/// The owner adds and connects `names` through the sandbox (each with its own phone and
/// email, so the sandbox sees different shops); then the admin logs in.
async fn connected_shops(app: &TestApp, names: &[&str]) -> Vec<String> {
    app.login_owner().await;
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let phone = format!("09123400{i:02}");
        let email = format!("shop{i}@example.vn");
        let r = app
            .post_from(
                "/shops/new",
                "/shops",
                &[("name", name), ("phone", &phone), ("email", &email)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "shop created");
        let id = location(&r)
            .trim_start_matches("/shops/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        app.connect_through_its(&id).await;
        assert_eq!(app.shop_state(&id).await, "connected");
        ids.push(id);
    }
    app.logout().await;
    login_admin(app).await;
    ids
}

/// Presses "Verify all connected shops" and returns the job's id from the page.
async fn start_job(app: &TestApp) -> String {
    let r = app
        .post_from("/admin/jobs", "/admin/jobs/verify", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/jobs?outcome=started");
    let html = app.get_html("/admin/jobs?outcome=started").await;
    let doc = scraper::Html::parse_document(&html);
    let job = scraper::Selector::parse("[data-job-id]").unwrap();
    doc.select(&job)
        .next()
        .and_then(|e| e.value().attr("data-job-id"))
        .expect("the page shows the job")
        .to_owned()
}

async fn progress(app: &TestApp, job: &str) -> Value {
    let r = app.get(&format!("/admin/jobs/{job}/progress")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    r.json().await.unwrap()
}

/// Polls the progress JSON, as the page's script does, until the job is no longer running.
async fn wait_until_ended(app: &TestApp, job: &str) -> Value {
    let start = Instant::now();
    loop {
        let p = progress(app, job).await;
        if p["running"] == false {
            return p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job ends: {p}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn last_verified(app: &TestApp, shop: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT last_verified_at FROM shops WHERE id = ?")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn events_by(app: &TestApp, shop: &str, actor: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT to_state FROM shop_events WHERE shop_id = ? AND actor = ? ORDER BY id",
    )
    .bind(uuid::Uuid::parse_str(shop).unwrap())
    .bind(actor)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_owner_gets_403_on_the_jobs_page_and_its_actions() {
    let app = spawn_app().await;
    let job = uuid::Uuid::new_v4();
    app.login_owner().await;
    for path in [
        "/admin/jobs".to_owned(),
        format!("/admin/jobs/{job}/progress"),
    ] {
        assert_eq!(
            app.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let csrf = csrf_in(&app.get_html("/shops").await);
    for path in [
        "/admin/jobs/verify".to_owned(),
        format!("/admin/jobs/{job}/cancel"),
    ] {
        let r = app.post_form(&path, &[("csrf_token", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verify_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "no job was started");
}

#[tokio::test]
async fn verify_all_checks_every_connected_shop_and_records_each_outcome() {
    let app = spawn_app().await;
    let shops = connected_shops(&app, &["Cửa hàng Lúa", "Cửa hàng Ngô", "Cửa hàng Khoai"]).await;
    let its_id = app.its_shop_id(&shops[1]).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let before = last_verified(&app, &shops[0]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let job = start_job(&app).await;
    let p = wait_until_ended(&app, &job).await;
    assert_eq!(p["state"], "finished", "{p}");
    assert_eq!(p["total"], 3);
    assert_eq!(p["done"], 3);
    assert_eq!(p["failures"], 1, "the unlinked shop");
    assert_eq!(p["state_label"], "Đã xong");

    assert_eq!(app.shop_state(&shops[1]).await, "needs_reauth");
    assert_eq!(
        events_by(&app, &shops[1], &format!("job:{job}")).await,
        vec!["needs_reauth"],
        "the shop's history names the job"
    );
    for shop in [&shops[0], &shops[2]] {
        assert_eq!(app.shop_state(shop).await, "connected");
        assert!(
            last_verified(&app, shop).await.unwrap() > before,
            "re-verified"
        );
    }
    let html = app.get_html("/admin/jobs").await;
    assert!(html.contains("<progress"), "a progress bar");
    assert!(
        html.contains("/admin/shops?state=needs_reauth"),
        "a way to the failures"
    );
    let history = app.get_html(&format!("/admin/shops/{}", shops[1])).await;
    assert!(
        history.contains("ITS từ chối khoá (401)"),
        "the admin sees why in the history"
    );

    // A second run also re-checks the shop that needs re-auth (and counts it again).
    let again = start_job(&app).await;
    assert_ne!(again, job);
    let p = wait_until_ended(&app, &again).await;
    assert_eq!(
        (p["total"].as_i64(), p["failures"].as_i64()),
        (Some(3), Some(1))
    );
}

#[tokio::test]
async fn a_second_job_while_one_runs_is_refused_and_the_page_updates_itself() {
    let app = spawn_app().await;
    connected_shops(&app, &["Cửa hàng Chậm", "Cửa hàng Chậm Hai"]).await;
    app.set_faults(Faults {
        latency: Duration::from_millis(1_500),
        failure_rate: 0.0,
    });
    let job = start_job(&app).await;

    let r = app
        .post_from("/admin/jobs", "/admin/jobs/verify", &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Đang có một lượt kiểm tra hàng loạt chạy"),
        "a clear message"
    );
    // The start button is disabled while the run is in progress, on the answer to the
    // refused start as on the page, and says why.
    let start_button_disabled = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let sel = scraper::Selector::parse("form[action='/admin/jobs/verify'] button").unwrap();
        let button = doc.select(&sel).next().expect("the start button");
        button.value().attr("disabled").is_some()
    };
    assert!(start_button_disabled(&html), "disabled on the 409 page");
    let running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM verify_jobs WHERE state = 'running'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(running, 1);
    // The database itself refuses a second running job.
    let second = sqlx::query(
        "INSERT INTO verify_jobs (id, state, total, created_at) VALUES (?, 'running', 0, 0)",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(&app.db)
    .await;
    assert!(
        second.is_err(),
        "one running job at a time, enforced by the schema"
    );

    // While it runs: the script's hooks, a no-JavaScript refresh link, and nothing inline.
    let page = app.get_html("/admin/jobs").await;
    assert!(page.contains(&format!("data-job-progress=\"/admin/jobs/{job}/progress\"")));
    assert!(
        page.contains("data-job-refresh"),
        "a refresh link without JavaScript"
    );
    assert!(page.contains("Đang chạy"));
    assert!(page.contains(&format!("action=\"/admin/jobs/{job}/cancel\"")));
    assert!(!page.contains("style="), "no inline styles (CSP)");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the external app.js"
    );
    let script = app.get("/static/app.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    let script = script.text().await.unwrap();
    assert!(script.contains("data-job-progress") && script.contains("data-copy-target"));

    let p = progress(&app, &job).await;
    assert_eq!(p["running"], true);
    assert_eq!(p["total"], 2);
    // The percentage and the time left, in words from the catalogue.
    let percent = p["percent_text"].as_str().unwrap();
    assert!(["Đã xong 0%", "Đã xong 50%"].contains(&percent), "{p}");
    let eta = p["eta"].as_str().expect("a time left while running");
    assert!(
        eta.starts_with("Đang ước tính") || eta.starts_with("còn "),
        "{eta}"
    );
    assert!(start_button_disabled(&page), "disabled while running");
    assert!(page.contains("id=\"jobs-start-busy\""), "says why");

    let p = wait_until_ended(&app, &job).await;
    assert_eq!(p["done"], 2);
    assert_eq!(p["failures"], 0);
    assert_eq!(p["percent_text"], "Đã xong 100%");
    assert_eq!(p["eta"], Value::Null, "no time left once ended");
    assert_eq!(p["outcome"], "ok");
    let page = app.get_html("/admin/jobs").await;
    assert!(
        !start_button_disabled(&page),
        "enabled again once the run ended"
    );
    assert!(
        page.contains("badge-connected"),
        "green only when nothing failed"
    );
}

#[tokio::test]
async fn a_run_where_every_check_failed_ends_with_the_counts_and_a_warning_not_a_green_tick() {
    let app = spawn_app().await;
    let shops = connected_shops(&app, &["Cửa hàng Một", "Cửa hàng Hai"]).await;
    for shop in &shops {
        let its_id = app.its_shop_id(shop).await.unwrap();
        app.sandbox_shop_action(its_id, "unlink").await;
    }
    let job = start_job(&app).await;
    let p = wait_until_ended(&app, &job).await;
    assert_eq!(p["state"], "finished", "{p}");
    assert_eq!(
        (p["done"].as_i64(), p["failures"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(p["outcome"], "mostly_failed");
    assert_eq!(p["state_label"], "Đã xong, phần lớn không đạt");
    assert_eq!(p["summary"], "0 cửa hàng đạt, 2 cửa hàng không đạt.");

    let html = app.get_html("/admin/jobs").await;
    let doc = scraper::Html::parse_document(&html);
    let badge = scraper::Selector::parse("[data-job-id] .badge").unwrap();
    let badge = doc.select(&badge).next().expect("the state badge");
    let class = badge.value().attr("class").unwrap();
    assert!(!class.contains("badge-connected"), "not green: {class}");
    assert!(class.contains("badge-needs_reauth"), "a warning: {class}");
    assert!(
        html.contains("0 cửa hàng đạt, 2 cửa hàng không đạt."),
        "the counts"
    );
    assert!(html.contains("job-outcome-mostly_failed"));
    assert!(
        html.contains("nguyên nhân thường nằm ở phía ITS"),
        "what to check first"
    );

    // One failure out of three is not "mostly": the run is done, not green, not amber.
    let app = spawn_app().await;
    let shops = connected_shops(&app, &["Cửa hàng Ba", "Cửa hàng Bốn", "Cửa hàng Năm"]).await;
    let its_id = app.its_shop_id(&shops[0]).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let job = start_job(&app).await;
    let p = wait_until_ended(&app, &job).await;
    assert_eq!(p["outcome"], "some_failed");
    assert_eq!(p["state_label"], "Đã xong");
    assert_eq!(p["summary"], "2 cửa hàng đạt, 1 cửa hàng không đạt.");
    let html = app.get_html("/admin/jobs").await;
    assert!(html.contains("badge-not_connected"));
    assert!(!html.contains("job-warning"));
}

#[tokio::test]
async fn hidden_wins_over_a_class_display_in_the_stylesheet() {
    // `.button{display:inline-flex}` used to show the "reload" link the script had hidden.
    let app = spawn_app().await;
    let css = app.get("/static/app.css").await.text().await.unwrap();
    assert!(css.contains("[hidden] { display: none !important; }"));
}

#[tokio::test]
async fn cancelling_a_job_stops_it_before_the_remaining_shops() {
    let app = spawn_app_with_env(&[("VERIFY_CONCURRENCY", "1")]).await;
    connected_shops(&app, &["Cửa hàng A", "Cửa hàng B", "Cửa hàng C"]).await;
    app.set_faults(Faults {
        latency: Duration::from_millis(1_000),
        failure_rate: 0.0,
    });
    let job = start_job(&app).await;
    let r = app
        .post_from("/admin/jobs", &format!("/admin/jobs/{job}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/jobs?outcome=cancel_requested");
    let html = app.get_html("/admin/jobs?outcome=cancel_requested").await;
    assert!(html.contains("Đã yêu cầu dừng"), "flash");
    let p = progress(&app, &job).await;
    assert!(
        p["running"] == false || p["state_label"] == "Đang dừng…",
        "{p}"
    );

    let p = wait_until_ended(&app, &job).await;
    assert_eq!(p["state"], "cancelled", "{p}");
    assert_eq!(p["total"], 3);
    assert!(p["done"].as_i64().unwrap() < 3, "stopped early: {p}");
    let html = app.get_html("/admin/jobs").await;
    assert!(html.contains("Đã dừng theo yêu cầu"));
    assert!(!html.contains("data-job-progress"), "nothing left to poll");

    // Cancelling an ended job changes nothing and says so.
    let r = app
        .post_from("/admin/jobs", &format!("/admin/jobs/{job}/cancel"), &[])
        .await;
    assert_eq!(location(&r), "/admin/jobs?outcome=not_running");
    let r = app
        .post_from(
            "/admin/jobs",
            &format!("/admin/jobs/{}/cancel", uuid::Uuid::new_v4()),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_job_left_running_by_a_stopped_process_is_marked_interrupted_at_start() {
    let app = spawn_app().await;
    let job = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO verify_jobs (id, state, total, done, created_at) VALUES (?, 'running', 10, 4, 1)",
    )
    .bind(job)
    .execute(&app.db)
    .await
    .unwrap();
    // A new process on the same database.
    let settings = Settings::from_vars(&app.vars).expect("the app's own settings");
    let restarted = Application::build(settings).await.unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM verify_jobs WHERE id = ?")
        .bind(job)
        .fetch_one(restarted.db())
        .await
        .unwrap();
    assert_eq!(state, "interrupted");
    login_admin(&app).await;
    let html = app.get_html("/admin/jobs").await;
    assert!(html.contains("Bị gián đoạn vì ứng dụng khởi động lại"));
    assert!(!html.contains("data-job-progress"));
    let p = progress(&app, &job.to_string()).await;
    assert_eq!(
        (p["done"].as_i64(), p["total"].as_i64()),
        (Some(4), Some(10))
    );
}

#[tokio::test]
async fn the_scheduler_verifies_due_shops_by_itself() {
    let app =
        spawn_app_with_env(&[("VERIFY_TICK_SECS", "1"), ("VERIFY_INTERVAL_SECS", "60")]).await;
    let shops = connected_shops(
        &app,
        &["Cửa hàng Đến Hạn", "Cửa hàng Gỡ Liên Kết", "Cửa hàng Mới"],
    )
    .await;
    let its_id = app.its_shop_id(&shops[1]).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let two_days_ago = shoplink::store::now_ms() - 2 * 86_400_000;
    for shop in &shops[..2] {
        sqlx::query("UPDATE shops SET last_verified_at = ? WHERE id = ?")
            .bind(two_days_ago)
            .bind(uuid::Uuid::parse_str(shop).unwrap())
            .execute(&app.db)
            .await
            .unwrap();
    }
    let fresh = last_verified(&app, &shops[2]).await;
    let html = app.get_html("/admin/jobs").await;
    assert!(
        html.contains("Kiểm tra định kỳ"),
        "the page explains the schedule"
    );

    let start = Instant::now();
    loop {
        let a = last_verified(&app, &shops[0]).await.unwrap();
        let b = last_verified(&app, &shops[1]).await.unwrap();
        if a > two_days_ago && b > two_days_ago {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the scheduler reached both due shops"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.shop_state(&shops[0]).await, "connected");
    assert_eq!(app.shop_state(&shops[1]).await, "needs_reauth");
    assert_eq!(
        events_by(&app, &shops[1], "system").await,
        vec!["needs_reauth"],
        "recorded as the system"
    );
    assert_eq!(
        last_verified(&app, &shops[2]).await,
        fresh,
        "a shop that is not due is left alone"
    );
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verify_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "the scheduler is not a bulk job");
}

/// The demo: `shoplink seed` with the built-in sandbox tells the sandbox about the shops it
/// made, so verifying them (here: "Verify all" over HTTP) keeps the connected ones connected
/// instead of turning them into "needs re-auth".
#[tokio::test]
async fn seeded_connected_shops_stay_connected_when_verified_against_the_sandbox() {
    let app = spawn_app().await;
    let secret = shoplink::crypto::SecretKey::parse(&app.secret_hex).unwrap();
    let (report, known) = shoplink::seed::seed_for_sandbox(&app.db, &secret, 60, 3)
        .await
        .unwrap();
    let sandbox_db = app.dir.path().join("sandbox.db");
    let redirect_uri = "http://127.0.0.1:9/zalo/callback";
    let added = shoplink::seed::seed_sandbox(&sandbox_db, &known, redirect_uri, async { true })
        .await
        .unwrap();
    let connected = report.count(shoplink::domain::ConnectionState::Connected);
    let needs_reauth = report.count(shoplink::domain::ConnectionState::NeedsReauth);
    assert!(connected >= 5, "the seed made connected shops: {connected}");
    assert!(
        added >= connected,
        "{added} relations for {connected} connected shops"
    );
    // A second run adds nothing and changes nothing.
    let again = shoplink::seed::seed_sandbox(&sandbox_db, &known, redirect_uri, async { true })
        .await
        .unwrap();
    assert_eq!(again, 0);
    // The seeded shops' Zalo OAs, as the app holds them before verification re-reads them.
    let oas = || {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, String, i64, i64, String, String, Option<i64>)>(
                "SELECT oa_id, status, daily_quota, remaining_quota, current_quality,
                        last_week_quality, expires_at FROM zalo_oas ORDER BY oa_id",
            )
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    let oas_before = oas().await;
    assert!(!oas_before.is_empty(), "the seed gave connected shops OAs");

    login_admin(&app).await;
    let job = start_job(&app).await;
    let ended = wait_until_ended(&app, &job).await;
    // The job checks connected shops and those needing re-auth: the latter stay refused (their
    // relation was unlinked), every connected one passes.
    assert_eq!(ended["done"], connected + needs_reauth, "{ended}");
    assert_eq!(ended["failures"], needs_reauth, "{ended}");
    let count = |state: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM shops WHERE state = ?")
                .bind(state)
                .fetch_one(&db)
                .await
                .unwrap() as u64
        }
    };
    assert_eq!(
        count("connected").await,
        connected,
        "every connected shop stays connected"
    );
    assert_eq!(count("needs_reauth").await, needs_reauth);
    // And each was really checked: a fresh verification time on every connected shop.
    let unverified: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shops WHERE state = 'connected' AND last_verified_at < ?",
    )
    .bind(shoplink::store::now_ms() - 60_000)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(unverified, 0);
    // The sandbox knew the seeded OAs too: ListOA answered what the app stored, so no OA
    // was marked disconnected or changed by the re-read.
    assert_eq!(oas().await, oas_before);
    let changes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM zalo_oa_events WHERE kind IN ('disconnected', 'status_changed')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(changes, 0, "no OA changed state on the re-read");
}
