//! Runs a whole connection with every log level of shoplink switched on, captures what is
//! logged, and looks for each secret the run used: the partner api key, the shop key,
//! the session id, the callback token, the password, a connect link's token (visited, and
//! posted to without a CSRF token), a service key, a callback token that arrives
//! without a session, and a Zalo OA grant (the app secret, Zalo's `code`, ITS's `state`,
//! replayed and arriving without a session).

use std::io::Write;
use std::sync::{Arc, Mutex};

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_of_a_full_run_appears_in_the_logs() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter("shoplink=trace,tracing_actix_web=trace,reqwest=debug,info")
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    let app = spawn_app_with(AppOptions {
        extra_env: vec![
            ("ZALO_OAUTH_HOSTS", "localhost".into()),
            ("ZALO_APP_ID", "4143453445419930001".into()),
            ("ZALO_APP_SECRET", ZALO_SECRET.into()),
        ],
        ..Default::default()
    })
    .await;
    let login = app.login_as(&app.owner_email).await;
    let session = set_cookie_value(&login, "shoplink_session").expect("a session cookie");
    let shop = app.add_shop("Cửa hàng Bí Mật").await;
    let (callback, answer) = app.connect_through_its(&shop).await;
    assert_eq!(answer.status(), 303);
    // Replays and forgeries log warnings: they must not carry the token either.
    app.client.get(&callback).send().await.unwrap();

    // A Zalo OA grant: allowed, followed, replayed; and one arriving without a session.
    let zalo_back = zalo_grant(&app, &shop).await;
    let r = app.client.get(&zalo_back).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).ends_with("?oa=connected#zalo-oa"),
        "{}",
        location(&r)
    );
    app.client.get(&zalo_back).send().await.unwrap();
    let zalo_code = query_value(&zalo_back, "code");
    let zalo_state = query_value(&zalo_back, "state");
    let late_zalo = zalo_grant(&app, &shop).await;
    let r = browser().get(&late_zalo).send().await.unwrap();
    assert!(location(&r).starts_with("/login?next="), "{}", location(&r));
    let late_zalo_code = query_value(&late_zalo, "code");
    let token = query_value(&callback, "token");
    let its_id = shop_id_param(&callback);
    let key: serde_json::Value = reqwest::Client::new()
        .post(format!("{}.Shop/AuthorizeShop", app.sandbox_base_url))
        .bearer_auth(PARTNER_KEY)
        .json(&serde_json::json!({ "shop_id": its_id, "redirect_url": "http://127.0.0.1/x" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shop_key = key["auth_token"].as_str().unwrap().to_owned();

    // A callback that arrives in a browser without a session is sent to log in first
    // (its `next` carries the token).
    let second = app.add_shop("Cửa hàng Bí Mật Hai").await;
    let r = app.press_connect(&second).await;
    assert_eq!(r.status(), 303);
    let late_callback = app.approve_on_its(&location(&r)).await;
    let late_token = query_value(&late_callback, "token");
    let r = browser().get(&late_callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next="), "{}", location(&r));

    // A connect link: made through the API, visited, then posted to without a CSRF token.
    let admin = app.logged_in_browser(&app.admin_email).await;
    let csrf = csrf_in(&app.html_as(&admin, "/admin/api-keys").await);
    let r = admin
        .post(app.url("/admin/api-keys"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Log test"),
            ("scope", "connect:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the service key is created");
    let service_key = input_value(&r.text().await.unwrap(), "secret");
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/connect-links"))
        .bearer_auth(&service_key)
        .json(&serde_json::json!({
            "external_user_id": "log-user-1",
            "external_shop_id": "log-shop-1",
            "shop_name": "Cửa hàng Liên Kết",
            "email": "lienket@example.vn",
            "phone": "0912345678",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the connect link is made");
    let link = r.json::<serde_json::Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let link_token = link.rsplit('/').next().unwrap().to_owned();
    let visitor = browser();
    let r = visitor.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200, "the link's page opens");
    let r = visitor
        .post(&link)
        .form(&[("csrf_token", "not the right token")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a post without the page's CSRF token is refused"
    );

    // A failed login and a logout log too.
    app.logout().await;
    app.login_with(&app.other_owner_email, "a wrong password for the log test")
        .await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("shop connected"),
        "the capture works: {}",
        &text[..text.len().min(2000)]
    );
    let secret_of_key = shop_key.split(':').nth(1).unwrap().to_owned();
    let leaked: Vec<&str> = [
        ("api key", PARTNER_KEY.to_owned()),
        ("shop key", shop_key.clone()),
        ("shop key secret", secret_of_key),
        ("session id", session),
        ("callback token", token),
        ("callback token without a session", late_token),
        ("connect link token", link_token),
        ("service key", service_key),
        ("zalo app secret", ZALO_SECRET.to_owned()),
        ("zalo code", zalo_code),
        ("zalo state", zalo_state),
        ("zalo code without a session", late_zalo_code),
        ("password", PASSWORD.to_owned()),
        (
            "wrong password",
            "a wrong password for the log test".to_owned(),
        ),
    ]
    .iter()
    .filter(|(_, secret)| text.contains(secret.as_str()))
    .map(|(what, _)| *what)
    .collect();
    assert!(leaked.is_empty(), "these appear in the logs: {leaked:?}");
}

const ZALO_SECRET: &str = "zaloAppSecretForTheLogTest";

/// Presses "Kết nối Zalo OA", allows the ready OA on the fake Zalo page, and returns the
/// callback URL Zalo sends the browser to (not yet visited).
async fn zalo_grant(app: &TestApp, shop: &str) -> String {
    let r = app
        .post_from(
            &format!("/shops/{shop}"),
            &format!("/shops/{shop}/zalo/connect"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let url = location(&r);
    let oas = oas_on_zalo_page(&app.client, &url).await;
    let oa = oas.first().expect("an OA on the permission page");
    answer_on_zalo_page(&app.client, &url, "allow", oa).await
}

fn query_value(url: &str, name: &str) -> String {
    query_param(url, name).unwrap()
}

/// The value of the input with this id (the service key is shown once, in a read-only field).
fn input_value(html: &str, id: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input#{id}")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no input #{id}"))
        .to_owned()
}
