//! Shared by the API, connect-link and webhook tests: an app with the API's settings
//! (a return-URL allow-list, quick webhook retries) that can be stopped and started again
//! on the same database, service keys made through the dashboard, and JSON calls.

use reqwest::{Response, StatusCode};
use scraper::{Html, Selector};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::helpers::{browser, csrf_in, spawn_app_running, start_app, AppOptions, TestApp};

pub const RETURN_ORIGIN: &str = "https://partner.example.vn";

/// A test app whose process can be "restarted": stopped, and built again from the same
/// settings on the same database file.
pub struct ApiApp {
    pub app: TestApp,
    running: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::ops::Deref for ApiApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn spawn_api_app(extra: &[(&'static str, &str)]) -> ApiApp {
    let api_settings = [
        ("RETURN_URL_ORIGINS", RETURN_ORIGIN),
        ("WEBHOOK_RETRY_BASE_SECS", "1"),
        ("WEBHOOK_TIMEOUT_SECS", "3"),
        ("VERIFY_INTERVAL_SECS", "0"),
        // The test receivers listen on 127.0.0.1; the refusal tests turn this off.
        ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"),
    ];
    let (app, handle) = spawn_app_running(AppOptions {
        extra_env: api_settings
            .iter()
            .chain(extra)
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect(),
        ..AppOptions::default()
    })
    .await;
    ApiApp {
        app,
        running: Some(handle),
    }
}

impl ApiApp {
    /// Stops the app's process (its background workers with it).
    pub async fn stop(&mut self) {
        if let Some(handle) = self.running.take() {
            handle.abort();
            let _ = handle.await;
        }
    }

    /// Changes a setting for the next `start_again` (as an operator would between restarts).
    #[allow(dead_code)] // the webhook tests use it
    pub fn set_var(&mut self, name: &str, value: &str) {
        self.app.vars.insert(name.to_owned(), value.to_owned());
    }

    /// Builds a new app on the same database file and settings, as a restart would.
    pub async fn start_again(&mut self) {
        assert!(self.running.is_none(), "stop first");
        let (address, _db, handle) = start_app(&self.app.vars).await;
        self.app.address = address;
        self.running = Some(handle);
    }

    /// Logs a fresh browser in as the admin.
    pub async fn admin_browser(&self) -> reqwest::Client {
        self.logged_in_browser(&self.admin_email).await
    }

    /// Creates a service key on the dashboard and returns its secret.
    pub async fn create_key(&self, name: &str, scopes: &[&str]) -> String {
        let admin = self.admin_browser().await;
        let page = get_text(&admin, &self.url("/admin/api-keys")).await;
        let token = csrf_in(&page);
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token), ("name", name)];
        for s in scopes {
            form.push(("scope", s));
        }
        let r = admin
            .post(self.url("/admin/api-keys"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "the key is created");
        assert_eq!(r.headers()["cache-control"], "no-store");
        input_value(&r.text().await.unwrap(), "secret")
    }

    pub async fn api_get(&self, key: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn api_post(&self, key: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A connect link for a new partner user and shop, returning its URL.
    pub async fn connect_link(&self, key: &str, user: &str, shop: &str) -> String {
        let r = self
            .api_post(
                key,
                "/api/v1/connect-links",
                &serde_json::json!({
                    "external_user_id": user,
                    "external_shop_id": shop,
                    "shop_name": format!("Cửa hàng {shop}"),
                    "email": format!("{shop}@example.vn"),
                    "phone": "0912345678",
                    "return_url": format!("{RETURN_ORIGIN}/zalo/done"),
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Opens a connect link in a fresh browser and presses its button. Returns the
    /// browser and where the app sent it (the ITS login page).
    pub async fn open_link(&self, link: &str) -> (reqwest::Client, Response) {
        let owner = browser();
        let page = owner.get(link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the link's page opens");
        let token = csrf_in(&page.text().await.unwrap());
        let r = owner
            .post(link)
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        (owner, r)
    }

    /// The whole journey from a link to connected; returns our shop id.
    pub async fn connect_via_link(&self, key: &str, user: &str, shop: &str) -> String {
        let link = self.connect_link(key, user, shop).await;
        let (owner, r) = self.open_link(&link).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let callback = self.approve_on_its(&crate::helpers::location(&r)).await;
        let r = owner.get(&callback).send().await.unwrap();
        assert_eq!(
            crate::helpers::location(&r),
            format!("{RETURN_ORIGIN}/zalo/done?status=connected&shop={shop}")
        );
        self.shop_id_of(shop).await
    }

    pub async fn shop_id_of(&self, external_shop_id: &str) -> String {
        let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM shops WHERE external_shop_id = ?")
            .bind(external_shop_id)
            .fetch_one(&self.db)
            .await
            .unwrap();
        id.to_string()
    }
}

pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    let r = client.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {url}");
    r.text().await.unwrap()
}

/// The value of the input with this id.
pub fn input_value(html: &str, id: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("input#{id}")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no input #{id}"))
        .to_owned()
}

/// Asserts a JSON error with this status and code, and returns its message.
pub async fn expect_error(r: Response, status: StatusCode, code: &str) -> String {
    assert_eq!(r.status(), status, "status for {code}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "JSON, not {content_type}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    body["message"].as_str().expect("a message").to_owned()
}
