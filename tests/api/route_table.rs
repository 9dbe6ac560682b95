//! Walks every page and action as four people — nobody, owner A, owner B, an admin —
//! and checks the table of who may do what. A foreign shop answers 404 (its existence is
//! not revealed), an admin page answers 403 to an owner, and nobody is sent to log in.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Served (2xx, a redirect that is not to the login page, or a 400/422 about the input).
    Allowed,
    /// Sent to the login page.
    Login,
    Forbidden,
    NotFound,
}
use Expect::*;

fn classify(status: StatusCode, location: Option<&str>) -> Expect {
    match status {
        StatusCode::FORBIDDEN => Forbidden,
        StatusCode::NOT_FOUND => NotFound,
        s if s.is_redirection() && location.is_some_and(|l| l.starts_with("/login")) => Login,
        s if s.is_success()
            || s.is_redirection()
            || s == StatusCode::BAD_REQUEST
            || s == StatusCode::UNPROCESSABLE_ENTITY
            || s == StatusCode::CONFLICT =>
        {
            Allowed
        }
        other => panic!("unexpected status {other}"),
    }
}

#[tokio::test]
async fn every_route_answers_each_kind_of_visitor_as_the_access_table_says() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng của A").await;
    let owner_a_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(&app.owner_email)
        .fetch_one(&app.db)
        .await
        .unwrap();

    // An OA of shop A, as ConnectOA would have stored it.
    let oa = "1052570182707778180";
    sqlx::query(
        "INSERT INTO zalo_oas (oa_id, shop_id, name, is_verified, status, daily_quota, remaining_quota,
                               current_quality, last_week_quality, connected_at, last_read_at, updated_at)
         VALUES (?, ?, 'OA của A', 1, 'P', 500, 500, 'HIGH', 'HIGH', 0, 0, 0)",
    )
    .bind(oa)
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .execute(&app.db)
    .await
    .unwrap();

    let anonymous = browser();
    let owner_a = app.client.clone();
    let owner_b = app.logged_in_browser(&app.other_owner_email).await;
    let admin = app.logged_in_browser(&app.admin_email).await;
    let csrf_of = |client: reqwest::Client, page: &'static str| {
        let url = app.url(page);
        async move { csrf_in(&client.get(url).send().await.unwrap().text().await.unwrap()) }
    };
    let tokens = [
        String::new(),
        csrf_of(owner_a.clone(), "/shops").await,
        csrf_of(owner_b.clone(), "/shops").await,
        csrf_of(admin.clone(), "/admin").await,
    ];
    let visitors = [
        ("anonymous", &anonymous),
        ("owner A", &owner_a),
        ("owner B", &owner_b),
        ("admin", &admin),
    ];

    let admin_only = [Login, Forbidden, Forbidden, Allowed];
    let signed_in = [Login, Allowed, Allowed, Allowed];
    let a_only = [Login, Allowed, NotFound, NotFound];
    let routes: Vec<(Method, String, [Expect; 4])> = vec![
        (Method::GET, "/".into(), signed_in),
        (Method::GET, "/shops".into(), signed_in),
        // Anyone may learn whom to contact about a forgotten password.
        (Method::GET, "/forgot-password".into(), [Allowed; 4]),
        (Method::GET, "/shops/new".into(), signed_in),
        (Method::GET, format!("/shops/{shop}"), a_only),
        (Method::GET, format!("/shops/{shop}/disconnect"), a_only),
        (Method::GET, format!("/shops/{shop}/edit"), a_only),
        (
            Method::GET,
            "/connect/callback?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&shop_id=1".into(),
            signed_in,
        ),
        (Method::GET, "/admin".into(), admin_only),
        (Method::GET, "/admin/shops".into(), admin_only),
        (Method::GET, "/admin/shops?q=cua+hang".into(), admin_only),
        (Method::GET, "/admin/shops.csv".into(), admin_only),
        (Method::GET, format!("/admin/shops/{shop}"), admin_only),
        (
            Method::GET,
            format!("/admin/shops/{shop}/disconnect"),
            admin_only,
        ),
        (Method::GET, "/admin/users".into(), admin_only),
        (Method::GET, "/admin/users/new".into(), admin_only),
        (
            Method::GET,
            format!("/admin/users/{owner_a_id}"),
            admin_only,
        ),
        (
            Method::GET,
            format!("/admin/users/{owner_a_id}/disable"),
            admin_only,
        ),
        (Method::GET, "/admin/jobs".into(), admin_only),
        (Method::GET, "/admin/settings".into(), admin_only),
        (Method::GET, "/admin/api-keys".into(), admin_only),
        (Method::GET, "/admin/webhooks".into(), admin_only),
        (Method::POST, format!("/shops/{shop}/connect"), a_only),
        (Method::POST, format!("/shops/{shop}/disconnect"), a_only),
        (Method::POST, format!("/shops/{shop}/edit"), a_only),
        (
            Method::GET,
            "/zalo/callback?code=abc&oa_id=1052570182707778180&state=42".into(),
            signed_in,
        ),
        (Method::POST, format!("/shops/{shop}/zalo/connect"), a_only),
        (Method::POST, format!("/shops/{shop}/zalo/app"), a_only),
        (
            Method::POST,
            format!("/shops/{shop}/zalo/app/remove"),
            a_only,
        ),
        (
            Method::POST,
            format!("/shops/{shop}/zalo/oas/{oa}/renew"),
            a_only,
        ),
        (
            Method::GET,
            format!("/shops/{shop}/zalo/oas/{oa}/test"),
            a_only,
        ),
        (
            Method::POST,
            format!("/shops/{shop}/zalo/oas/{oa}/test"),
            a_only,
        ),
        (Method::POST, "/admin/settings/zalo-app".into(), admin_only),
        (
            Method::POST,
            "/admin/settings/zalo-app/test".into(),
            admin_only,
        ),
        (
            Method::POST,
            format!("/admin/shops/{shop}/verify"),
            admin_only,
        ),
        (Method::POST, "/admin/settings/test".into(), admin_only),
        (Method::POST, "/admin/jobs/verify".into(), admin_only),
        (
            Method::POST,
            format!("/admin/shops/{shop}/disconnect"),
            admin_only,
        ),
    ];

    let mut mismatches = Vec::new();
    for (method, path, expected) in &routes {
        for (i, (who, client)) in visitors.iter().enumerate() {
            let request = client.request(method.clone(), app.url(path));
            let request = if *method == Method::POST {
                request.form(&[("csrf_token", tokens[i].as_str())])
            } else {
                request
            };
            let r = request.send().await.unwrap();
            let location = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let got = classify(r.status(), location.as_deref());
            if got != expected[i] {
                mismatches.push(format!(
                    "{method} {path} as {who}: expected {:?}, got {got:?} ({})",
                    expected[i],
                    r.status()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "access table violated:\n{}",
        mismatches.join("\n")
    );
}
