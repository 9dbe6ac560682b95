use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use scraper::{Html, Selector};
use shoplink::configuration::Settings;
use shoplink::domain::UserRole;
use shoplink::sandbox::{self, Faults, SandboxControl};
use shoplink::services::accounts;
use shoplink::startup::Application;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tokio::task::JoinHandle;

pub const PARTNER_KEY: &str = "test-partner-api-key-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

/// A running app, its own sandbox, and a browser-like client.
pub struct TestApp {
    pub address: String,
    pub db: SqlitePool,
    pub sandbox: SandboxControl,
    pub sandbox_origin: String,
    pub sandbox_base_url: String,
    /// The app's SECRET_KEY (hex), for tests that open stored keys themselves.
    pub secret_hex: String,
    pub client: reqwest::Client,
    pub owner_email: String,
    pub other_owner_email: String,
    #[allow(dead_code)] // the admin dashboard's tests use it
    pub admin_email: String,
    /// The settings it was built from, for a second process on the same database.
    pub vars: HashMap<String, String>,
    pub dir: TempDir,
}

pub struct AppOptions {
    /// The api key the app sends; the sandbox accepts only `PARTNER_KEY`.
    pub api_key: String,
    pub its_timeout_secs: u64,
    pub faults: Faults,
    /// More settings, e.g. `("PUBLIC_URL", "https://…")`.
    pub extra_env: Vec<(&'static str, String)>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            api_key: PARTNER_KEY.into(),
            its_timeout_secs: 5,
            faults: Faults::default(),
            extra_env: Vec::new(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    spawn_app_running(options).await.0
}

/// Like `spawn_app_with`, and also the server's task, for tests that stop the app (abort
/// the task) and build it again on the same database (`TestApp::vars`).
pub async fn spawn_app_running(options: AppOptions) -> (TestApp, JoinHandle<std::io::Result<()>>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = sandbox::start(
        sandbox::SandboxSettings {
            api_key: PARTNER_KEY.into(),
            database_path: dir.path().join("sandbox.db"),
            faults: options.faults,
            partner_name: "Test partner".into(),
            white_label: false,
            registered_redirect_urls: Vec::new(),
        },
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await
    .expect("the sandbox starts");
    tokio::spawn(running.server);

    let secret_hex = hex_secret();
    let vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            dir.path().join("app.db").display().to_string(),
        ),
        ("ITS_BASE_URL", running.base_url.clone()),
        ("ITS_API_KEY", options.api_key.clone()),
        ("SECRET_KEY", secret_hex.clone()),
        ("ITS_TIMEOUT_SECS", options.its_timeout_secs.to_string()),
    ]
    .into_iter()
    .chain(options.extra_env.iter().cloned())
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let (address, db, handle) = start_app(&vars).await;

    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let owner_email = format!("owner-{}@example.vn", &suffix[..8]);
    let other_owner_email = format!("other-{}@example.vn", &suffix[..8]);
    let admin_email = format!("admin-{}@example.vn", &suffix[..8]);
    for (email, role) in [
        (&owner_email, UserRole::Owner),
        (&other_owner_email, UserRole::Owner),
        (&admin_email, UserRole::Admin),
    ] {
        create_test_user(&db, email, role).await;
    }

    let app = TestApp {
        address,
        db,
        sandbox: running.control,
        sandbox_origin: running.origin,
        sandbox_base_url: running.base_url,
        secret_hex,
        client: browser(),
        owner_email,
        other_owner_email,
        admin_email,
        vars,
        dir,
    };
    (app, handle)
}

/// Builds and starts the app from `vars`; returns its address, its pool and its task.
pub async fn start_app(
    vars: &HashMap<String, String>,
) -> (String, SqlitePool, JoinHandle<std::io::Result<()>>) {
    let settings = Settings::from_vars(vars).expect("valid test settings");
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    (address, db, tokio::spawn(app.run_until_stopped()))
}

/// Creates a user with the test `PASSWORD` straight in the app's database.
pub async fn create_test_user(db: &SqlitePool, email: &str, role: UserRole) -> uuid::Uuid {
    accounts::create_user(
        db,
        &shoplink::password::Hasher::default(),
        email,
        "Người dùng thử",
        role,
        PASSWORD,
    )
    .await
    .expect("user created")
}

/// Logs the browser `client` in as `email` (with the test `PASSWORD`) on the app at
/// `address`, through the login form.
pub async fn log_in_at(client: &reqwest::Client, address: &str, email: &str) {
    let page = client
        .get(format!("{address}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&page);
    let r = client
        .post(format!("{address}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{email} logs in");
}

/// Logs the app's browser in as the admin.
pub async fn login_admin(app: &TestApp) {
    let r = app.login_as(&app.admin_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the admin logs in");
    assert_eq!(location(&r), "/admin", "admins land on their dashboard");
}

fn hex_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A client that keeps cookies and does not follow redirects, like a browser seen one hop at a time.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The whole `Set-Cookie` line that sets `name`, if the response sets it.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&prefix))
        .map(str::to_owned)
}

/// Only the value of the cookie `name` that the response sets.
pub fn set_cookie_value(response: &Response, name: &str) -> Option<String> {
    set_cookie(response, name)
        .map(|c| c.split(';').next().unwrap_or("")[name.len() + 1..].to_owned())
}

/// The value of the first `csrf_token` field in a page.
/// The visible text of the parts of `html` matched by `selector`, joined (what a reader
/// sees: no attribute values, no tokens or ids in URLs).
pub fn text_of(html: &str, selector: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn csrf_in(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf_token]").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("the page has a csrf_token field")
        .to_owned()
}

/// A form of a page: its action and the values its fields hold.
pub fn form_in(html: &str, action_contains: &str) -> (String, Vec<(String, String)>) {
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").unwrap();
    let inputs = Selector::parse("input").unwrap();
    let form = doc
        .select(&forms)
        .find(|f| {
            f.value()
                .attr("action")
                .unwrap_or("")
                .contains(action_contains)
        })
        .unwrap_or_else(|| panic!("no form with action containing {action_contains:?}"));
    let fields = form
        .select(&inputs)
        .filter_map(|i| {
            Some((
                i.value().attr("name")?.to_owned(),
                i.value().attr("value").unwrap_or("").to_owned(),
            ))
        })
        .collect();
    (form.value().attr("action").unwrap().to_owned(), fields)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A page's HTML as another browser (e.g. the admin's) sees it.
    pub async fn html_as(&self, client: &reqwest::Client, path: &str) -> String {
        let response = client.get(self.url(path)).send().await.unwrap();
        response.text().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with the CSRF token of the page the browser would post it from.
    pub async fn post_from(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = csrf_in(&self.get_html(page).await);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    /// A second, separate browser, logged in as `email`.
    pub async fn logged_in_browser(&self, email: &str) -> reqwest::Client {
        let client = browser();
        log_in_at(&client, &self.address, email).await;
        client
    }

    pub async fn login_as(&self, email: &str) -> Response {
        self.login_with(email, PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> Response {
        let page = self.get_html("/login").await;
        let token = csrf_in(&page);
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    pub async fn login_owner(&self) {
        let r = self.login_as(&self.owner_email).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "owner logs in");
    }

    pub async fn logout(&self) {
        let r = self.post_from("/shops", "/logout", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    /// Adds a shop as the logged-in owner and returns its id.
    pub async fn add_shop(&self, name: &str) -> String {
        let r = self
            .post_from(
                "/shops/new",
                "/shops",
                &[
                    ("name", name),
                    ("phone", &unique_phone()),
                    ("email", &unique_email()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "shop created");
        let loc = location(&r);
        loc.trim_start_matches("/shops/")
            .split('?')
            .next()
            .unwrap()
            .to_owned()
    }

    /// Presses "Kết nối Zalo" on the shop's page.
    pub async fn press_connect(&self, shop_id: &str) -> Response {
        self.post_from(
            &format!("/shops/{shop_id}"),
            &format!("/shops/{shop_id}/connect"),
            &[],
        )
        .await
    }

    /// On the sandbox's login page: approve, and return the redirect back to the app.
    pub async fn approve_on_its(&self, auth_url: &str) -> String {
        let page = self.client.get(auth_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the ITS login page opens");
        let html = page.text().await.unwrap();
        let (action, mut fields) = form_in(&html, "/login");
        fields.push(("action".into(), "approve".into()));
        let r = self
            .client
            .post(format!("{}{}", self.sandbox_origin, action))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "ITS redirects back after approval"
        );
        location(&r)
    }

    /// The whole first-time connection: press the button, approve on ITS, follow the callback.
    /// Returns the callback URL and the app's answer to it.
    pub async fn connect_through_its(&self, shop_id: &str) -> (String, Response) {
        let r = self.press_connect(shop_id).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let auth_url = location(&r);
        assert!(
            auth_url.starts_with(&self.sandbox_origin),
            "sent to ITS: {auth_url}"
        );
        let callback = self.approve_on_its(&auth_url).await;
        let answer = self.client.get(&callback).send().await.unwrap();
        (callback, answer)
    }

    pub async fn shop_state(&self, shop_id: &str) -> String {
        sqlx::query_scalar("SELECT state FROM shops WHERE id = ?")
            .bind(uuid::Uuid::parse_str(shop_id).unwrap())
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub async fn its_shop_id(&self, shop_id: &str) -> Option<i64> {
        sqlx::query_scalar("SELECT its_shop_id FROM shops WHERE id = ?")
            .bind(uuid::Uuid::parse_str(shop_id).unwrap())
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Presses a button on the sandbox's shop page (unlink, close, reopen).
    pub async fn sandbox_shop_action(&self, its_shop_id: i64, action: &str) {
        let r = self
            .client
            .post(format!(
                "{}/shops/{its_shop_id}/{action}",
                self.sandbox_origin
            ))
            .form(&[("x", "")])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection() || r.status().is_success(),
            "sandbox {action}: {}",
            r.status()
        );
    }

    pub fn set_faults(&self, faults: Faults) {
        self.sandbox.set_faults(faults);
    }
}

/// A fresh address per shop, so the sandbox's approve page creates a new ITS shop
/// instead of reusing one with the same email or phone.
pub fn unique_email() -> String {
    format!(
        "shop-{}@example.vn",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A fresh Vietnamese mobile number per shop, for the same reason.
pub fn unique_phone() -> String {
    use rand::Rng;
    format!("09{:08}", rand::thread_rng().gen_range(0..100_000_000u32))
}

pub fn shop_id_param(callback_url: &str) -> String {
    url::Url::parse(callback_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "shop_id")
        .map(|(_, v)| v.into_owned())
        .expect("callback carries shop_id")
}

pub fn replace_param(callback_url: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(callback_url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == name {
                (k.into_owned(), value.to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// A query parameter of `url`, if it is there.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The OA ids on the fake Zalo's permission page at `url` (the ready OA first), as the
/// browser `client` sees them.
pub async fn oas_on_zalo_page(client: &reqwest::Client, url: &str) -> Vec<String> {
    let page = client.get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the permission page opens");
    let html = page.text().await.unwrap();
    html.split("name=\"oa_id\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// Presses "Cho phép" (`allow`, with an OA) or "Từ chối" (`deny`) on the fake Zalo's
/// permission page at `url` in the browser `client`; returns where Zalo sends it back.
pub async fn answer_on_zalo_page(
    client: &reqwest::Client,
    url: &str,
    action: &str,
    oa_id: &str,
) -> String {
    let origin = url::Url::parse(url).unwrap().origin().ascii_serialization();
    let state = query_param(url, "state").unwrap();
    let r = client
        .post(format!("{origin}/v4/oa/permission"))
        .form(&[
            ("state", state.as_str()),
            ("oa_id", oa_id),
            ("action", action),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "Zalo sends the browser back"
    );
    location(&r)
}
