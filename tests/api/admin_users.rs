use reqwest::StatusCode;

use crate::helpers::*;

const NEW_PASSWORD: &str = "Mây-trắng-bay-2026";

async fn user_id(app: &TestApp, email: &str) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Logs in with a browser of its own (another person on another device).
async fn login_elsewhere(
    app: &TestApp,
    email: &str,
    password: &str,
) -> (reqwest::Client, StatusCode) {
    let client = browser();
    let page = app.html_as(&client, "/login").await;
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_in(&page).as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    (client, r.status())
}

async fn get_status(app: &TestApp, client: &reqwest::Client, path: &str) -> StatusCode {
    client.get(app.url(path)).send().await.unwrap().status()
}

#[tokio::test]
async fn an_owner_gets_403_on_every_user_page_and_action() {
    let app = spawn_app().await;
    let admin = user_id(&app, &app.admin_email).await;
    app.login_owner().await;
    for path in [
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{admin}"),
        format!("/admin/users/{admin}/disable"),
        format!("/admin/users/{admin}/sessions/end"),
    ] {
        assert_eq!(
            app.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let csrf = csrf_in(&app.get_html("/shops").await);
    for path in [
        "/admin/users".to_owned(),
        format!("/admin/users/{admin}/disable"),
        format!("/admin/users/{admin}/enable"),
        format!("/admin/users/{admin}/password"),
        format!("/admin/users/{admin}/sessions/end"),
    ] {
        let r = app
            .post_form(
                &path,
                &[
                    ("csrf_token", &csrf),
                    ("email", "x@example.vn"),
                    ("role", "admin"),
                    ("password", NEW_PASSWORD),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let disabled: Option<i64> = sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = ?")
        .bind(admin)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(disabled, None, "nothing changed");
    app.logout().await;
    login_admin(&app).await;
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_from_every_admin_page() {
    let app = spawn_app().await;
    let job = uuid::Uuid::new_v4();
    for path in [
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{job}"),
        "/admin/settings".to_owned(),
        "/admin/jobs".to_owned(),
        format!("/admin/jobs/{job}/progress"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert!(location(&r).starts_with("/login?next="), "GET {path}");
    }
}

#[tokio::test]
async fn the_user_list_shows_every_user_with_role_status_and_shop_count() {
    let app = spawn_app().await;
    app.login_owner().await;
    app.add_shop("Cửa hàng Một").await;
    app.add_shop("Cửa hàng Hai").await;
    app.logout().await;
    login_admin(&app).await;
    let html = app.get_html("/admin/users").await;
    let doc = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    let cells = scraper::Selector::parse("td").unwrap();
    let table: Vec<Vec<String>> = doc
        .select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| c.text().collect::<String>().trim().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(table.len(), 3, "{table:?}");
    let row_of = |email: &str| {
        table
            .iter()
            .find(|r| r[0].starts_with(email))
            .unwrap()
            .clone()
    };
    let owner = row_of(&app.owner_email);
    assert_eq!(owner[2], "Chủ cửa hàng");
    assert_eq!(owner[3], "Đang hoạt động");
    assert_eq!(owner[4], "2", "the owner's two shops");
    assert_eq!(row_of(&app.other_owner_email)[4], "0");
    let admin = row_of(&app.admin_email);
    assert_eq!(admin[2], "Quản trị viên");
    assert!(admin[0].contains("(bạn)"), "the admin's own row is marked");

    let found = app
        .get_html(&format!("/admin/users?q={}", &app.other_owner_email[..10]))
        .await;
    assert!(found.contains(&app.other_owner_email));
    assert!(
        !found.contains(&app.owner_email),
        "the search filters the list"
    );
}

#[tokio::test]
async fn an_admin_creates_an_owner_who_can_then_log_in() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let r = app
        .post_from(
            "/admin/users/new",
            "/admin/users",
            &[
                ("email", "Lan.Nguyen@Example.vn"),
                ("name", "Nguyễn Thị Lan"),
                ("role", "owner"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = location(&r);
    assert!(
        page.starts_with("/admin/users/") && page.ends_with("?outcome=created"),
        "{page}"
    );
    let html = app.get_html(&page).await;
    assert!(html.contains("Đã tạo người dùng"), "a flash says so");
    assert!(html.contains("Nguyễn Thị Lan"));
    assert!(
        html.contains("lan.nguyen@example.vn"),
        "the email is stored normalised"
    );

    let (_, status) = login_elsewhere(&app, "lan.nguyen@example.vn", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the new owner logs in");
}

#[tokio::test]
async fn a_taken_email_is_refused_beside_the_field_with_422() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let r = app
        .post_from(
            "/admin/users/new",
            "/admin/users",
            &[
                ("email", &app.owner_email.to_uppercase()),
                ("name", "Trùng email"),
                ("role", "admin"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let error = scraper::Selector::parse("#email-error").unwrap();
    let text: String = doc
        .select(&error)
        .next()
        .expect("an error beside the email")
        .text()
        .collect();
    assert!(text.contains("Email này đã có tài khoản"), "{text}");
    assert!(html.contains("Trùng email"), "what was typed is kept");
    assert!(!html.contains(NEW_PASSWORD), "but never the password");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 3, "no user was added");
}

#[tokio::test]
async fn a_short_password_or_a_bad_role_is_refused_and_nothing_is_created() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let r = app
        .post_from(
            "/admin/users/new",
            "/admin/users",
            &[
                ("email", "moi@example.vn"),
                ("name", ""),
                ("role", "root"),
                ("password", "ngắn"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Mật khẩu cần ít nhất 10 ký tự."),
        "the password's problem"
    );
    assert!(
        html.contains("Vai trò không hợp lệ."),
        "and the role's, at once"
    );
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'moi@example.vn'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_at_once_and_blocks_their_login() {
    let app = spawn_app().await;
    let (owner_browser, status) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let owner_shop_page = get_status(&app, &owner_browser, "/shops").await;
    assert_eq!(owner_shop_page, StatusCode::OK, "the owner is working");
    sqlx::query("INSERT INTO shops (id, owner_id, name, search_name, state, updated_at, created_at) VALUES (?, ?, 'Giữ lại', 'giu lai', 'not_connected', 1, 1)")
        .bind(uuid::Uuid::new_v4())
        .bind(user_id(&app, &app.owner_email).await)
        .execute(&app.db)
        .await
        .unwrap();

    login_admin(&app).await;
    let owner = user_id(&app, &app.owner_email).await;
    let page = format!("/admin/users/{owner}");
    let html = app.get_html(&page).await;
    assert!(
        html.contains(&format!("href=\"/admin/users/{owner}/disable\"")),
        "a link to the confirmation"
    );
    assert_eq!(
        html.matches("<tbody>").count(),
        1,
        "one live session is listed"
    );
    let confirm = app.get_html(&format!("{page}/disable")).await;
    assert!(confirm.contains("Khoá tài khoản này?"));
    let r = app
        .post_from(&format!("{page}/disable"), &format!("{page}/disable"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{page}?outcome=disabled"));

    let r = owner_browser.get(app.url("/shops")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the owner's session ended at once"
    );
    assert!(location(&r).starts_with("/login"));
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = ?")
        .bind(owner)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the session rows are gone, not just ignored");
    let (_, status) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled user cannot log in"
    );
    let shops: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE owner_id = ?")
        .bind(owner)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(shops, 1, "their shops stay");

    let html = app.get_html(&format!("{page}?outcome=disabled")).await;
    assert!(html.contains("Đã khoá tài khoản"), "flash");
    assert!(html.contains("Đã khoá từ"), "the status says since when");
    let r = app.post_from(&page, &format!("{page}/enable"), &[]).await;
    assert_eq!(location(&r), format!("{page}?outcome=enabled"));
    let (_, status) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "enabled again, the owner logs in"
    );
}

#[tokio::test]
async fn an_admin_cannot_disable_themself() {
    let app = spawn_app().await;
    login_admin(&app).await;
    let me = user_id(&app, &app.admin_email).await;
    let html = app.get_html(&format!("/admin/users/{me}")).await;
    assert!(
        !html.contains(&format!("/admin/users/{me}/disable")),
        "no disable button on one's own page"
    );
    assert!(html.contains("bạn không thể tự khoá"));
    assert_eq!(
        app.get(&format!("/admin/users/{me}/disable"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let r = app
        .post_from("/admin/users", &format!("/admin/users/{me}/disable"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Bạn không thể tự khoá tài khoản của mình."));
    assert_eq!(
        app.get("/admin/users").await.status(),
        StatusCode::OK,
        "still logged in"
    );
}

#[tokio::test]
async fn resetting_a_password_ends_old_sessions_and_the_new_password_works() {
    let app = spawn_app().await;
    let (owner_browser, _) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    login_admin(&app).await;
    let owner = user_id(&app, &app.owner_email).await;
    let page = format!("/admin/users/{owner}");

    // Without the confirmation box nothing happens.
    let r = app
        .post_from(
            &page,
            &format!("{page}/password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Hãy đánh dấu ô xác nhận"));
    assert_eq!(
        get_status(&app, &owner_browser, "/shops").await,
        StatusCode::OK,
        "still logged in"
    );
    // Too short: refused beside the field.
    let r = app
        .post_from(
            &page,
            &format!("{page}/password"),
            &[("password", "ngắn"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"password-error\""));

    let r = app
        .post_from(
            &page,
            &format!("{page}/password"),
            &[("password", NEW_PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{page}?outcome=password"));
    assert_eq!(
        get_status(&app, &owner_browser, "/shops").await,
        StatusCode::SEE_OTHER,
        "the old session ended"
    );
    let (_, old) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    assert_eq!(
        old,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    let (_, new) = login_elsewhere(&app, &app.owner_email, NEW_PASSWORD).await;
    assert_eq!(new, StatusCode::SEE_OTHER, "the new one does");
}

#[tokio::test]
async fn end_all_sessions_logs_the_user_out_everywhere_but_keeps_the_admins_own() {
    let app = spawn_app().await;
    let (first, _) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    let (second, _) = login_elsewhere(&app, &app.owner_email, PASSWORD).await;
    login_admin(&app).await;
    let owner = user_id(&app, &app.owner_email).await;
    let page = format!("/admin/users/{owner}");
    let html = app.get_html(&page).await;
    let doc = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    assert_eq!(
        doc.select(&rows).count(),
        2,
        "two live sessions, with times"
    );

    let confirm = app.get_html(&format!("{page}/sessions/end")).await;
    assert!(confirm.contains("Đăng xuất người dùng này khỏi mọi thiết bị?"));
    let r = app
        .post_from(
            &format!("{page}/sessions/end"),
            &format!("{page}/sessions/end"),
            &[],
        )
        .await;
    assert_eq!(location(&r), format!("{page}?outcome=sessions_ended"));
    for client in [&first, &second] {
        assert_eq!(
            get_status(&app, client, "/shops").await,
            StatusCode::SEE_OTHER
        );
    }
    let html = app
        .get_html(&format!("{page}?outcome=sessions_ended"))
        .await;
    assert!(html.contains("Không có phiên đăng nhập nào đang mở."));

    // On one's own account, the session in use survives.
    let me = user_id(&app, &app.admin_email).await;
    let (other_device, _) = login_elsewhere(&app, &app.admin_email, PASSWORD).await;
    let mine = format!("/admin/users/{me}/sessions/end");
    let r = app.post_from(&mine, &mine, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get_status(&app, &other_device, "/admin").await,
        StatusCode::SEE_OTHER,
        "the other device is out"
    );
    assert_eq!(
        app.get("/admin/users").await.status(),
        StatusCode::OK,
        "this one is not"
    );
}
