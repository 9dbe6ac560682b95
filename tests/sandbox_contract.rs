//! The built-in ITS sandbox speaks the provider's contract (its-contract.md): a real server
//! on 127.0.0.1, a real HTTP client, no shortcuts through the sandbox's internals.

use std::time::Duration;

use reqwest::{header, redirect, Client, StatusCode};
use serde_json::{json, Value};
use shoplink::sandbox::{self, Faults, SandboxControl, SandboxSettings};

const API_KEY: &str = "partner-test-key-0123456789";
const PARTNER: &str = "Công ty Đối tác Thử nghiệm";
const REDIRECT: &str = "http://localhost:8080/its/callback?token=partner-correlation-42";

struct Sandbox {
    origin: String,
    base_url: String,
    control: SandboxControl,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    async fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let running = sandbox::start(
            SandboxSettings {
                api_key: API_KEY.into(),
                database_path: dir.path().join("sandbox.db"),
                faults: Faults::default(),
                partner_name: PARTNER.into(),
                white_label: false,
                registered_redirect_urls: Vec::new(),
            },
            listener,
        )
        .await
        .unwrap();
        assert_eq!(running.origin, format!("http://127.0.0.1:{}", running.port));
        assert_eq!(running.base_url, format!("{}/v1/partner", running.origin));
        tokio::spawn(running.server);
        Sandbox {
            origin: running.origin,
            base_url: running.base_url,
            control: running.control,
            client: Client::builder()
                .redirect(redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    /// Calls an API method with a bearer key and a JSON body.
    async fn call(&self, method: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}.{method}", self.base_url))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body)
    }

    async fn authorize(&self, body: Value) -> (StatusCode, Value) {
        self.call("Shop/AuthorizeShop", API_KEY, body).await
    }

    async fn current_shop(&self, shop_key: &str) -> (StatusCode, Value) {
        self.call("Shop/CurrentShop", shop_key, json!({})).await
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.origin))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Approves a request token on the login page with these details; returns the response.
    async fn approve(&self, token: &str, details: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("token", token), ("action", "approve")];
        form.extend_from_slice(details);
        self.post_form("/login", &form).await
    }

    /// Runs the whole first connection of a new shop; returns its id and its shop key.
    async fn connect_new_shop(&self, email: &str) -> (String, String) {
        let (status, body) = self
            .authorize(json!({ "email": email, "redirect_url": REDIRECT }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["auth_token"].as_str().unwrap().to_owned();
        let response = self
            .approve(
                &token,
                &[("shop_name", "Cửa hàng Hòa Mai"), ("email", email)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let shop_id = shop_id_of(&location(&response));
        let (status, body) = self
            .authorize(json!({ "shop_id": shop_id, "redirect_url": REDIRECT }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["type"], "shop_key");
        (shop_id, body["auth_token"].as_str().unwrap().to_owned())
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

fn shop_id_of(callback: &str) -> String {
    let url = url::Url::parse(callback).unwrap();
    let ids: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "shop_id")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{callback}");
    ids[0].clone()
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    assert!(!body["msg"].as_str().unwrap().is_empty(), "{body}");
    assert!(body["meta"].is_object(), "{body}");
}

#[tokio::test]
async fn a_wrong_api_key_is_refused_as_unauthenticated() {
    let sb = Sandbox::start().await;
    let (status, body) = sb
        .call("Shop/AuthorizeShop", "not-the-key", json!({}))
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    let response = sb
        .client
        .post(format!("{}.Misc/CurrentAccount", sb.base_url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_right_api_key_reads_the_partner_account_with_its_id_as_a_string() {
    let sb = Sandbox::start().await;
    let (status, body) = sb.call("Misc/CurrentAccount", API_KEY, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], PARTNER);
    assert_eq!(body["type"], "partner");
    assert!(body["id"].as_str().unwrap().parse::<i64>().unwrap() > 0);
}

#[tokio::test]
async fn a_request_without_the_json_content_type_is_a_bad_route() {
    let sb = Sandbox::start().await;
    let response = sb
        .client
        .post(format!("{}.Shop/AuthorizeShop", sb.base_url))
        .bearer_auth(API_KEY)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_error(
        StatusCode::NOT_FOUND,
        &body,
        StatusCode::NOT_FOUND,
        "bad_route",
    );
}

#[tokio::test]
async fn an_unknown_method_is_a_bad_route() {
    let sb = Sandbox::start().await;
    let (status, body) = sb.call("Shop/DeleteEverything", API_KEY, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "bad_route");
}

#[tokio::test]
async fn malformed_json_is_an_invalid_argument() {
    let sb = Sandbox::start().await;
    let response = sb
        .client
        .post(format!("{}.Shop/AuthorizeShop", sb.base_url))
        .bearer_auth(API_KEY)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"shop_id\": ")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_argument");
}

#[tokio::test]
async fn shop_id_together_with_an_email_or_an_external_id_is_refused() {
    let sb = Sandbox::start().await;
    for body in [
        json!({ "shop_id": "1052570182707778180", "email": "an@example.vn" }),
        json!({ "shop_id": "1052570182707778180", "phone": "0912345678" }),
        json!({ "shop_id": "1052570182707778180", "external_shop_id": "s-1" }),
    ] {
        let (status, answer) = sb.authorize(body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_argument");
    }
}

#[tokio::test]
async fn malformed_contact_details_and_relative_redirect_urls_are_refused() {
    let sb = Sandbox::start().await;
    // With no URL registered, the provider accepts any absolute URL (the contract): an app
    // reached by a LAN address or a public host connects in sandbox mode as with ITS.
    let (status, answer) = sb
        .authorize(json!({ "redirect_url": "https://shop.example.vn/connect/callback?token=abc" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for body in [
        json!({ "email": "not-an-email" }),
        json!({ "phone": "12345" }),
        json!({ "redirect_url": "/relative/cb" }),
        json!({ "shop_id": "-5" }),
    ] {
        let (status, answer) = sb.authorize(body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_argument");
    }
}

#[tokio::test]
async fn an_unknown_shop_id_is_permission_denied() {
    let sb = Sandbox::start().await;
    let (status, body) = sb
        .authorize(json!({ "shop_id": "1052570182707778180", "redirect_url": REDIRECT }))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "permission_denied");
}

#[tokio::test]
async fn a_first_call_gets_a_shop_request_with_a_request_token_and_an_auth_url() {
    let sb = Sandbox::start().await;
    let (status, body) = sb
        .authorize(
            json!({ "email": "an@example.vn", "shop_name": "Hòa Mai", "redirect_url": REDIRECT }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], "ok");
    assert_eq!(body["type"], "shop_request");
    assert_eq!(body["expires_in"], 900);
    let token = body["auth_token"].as_str().unwrap();
    assert!(
        token.starts_with("request:") && token.len() >= 8 + 22,
        "{token}"
    );
    let auth_url = url::Url::parse(body["auth_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        auth_url.as_str().split('?').next().unwrap(),
        format!("{}/login", sb.origin)
    );
    assert_eq!(
        auth_url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .unwrap()
            .1,
        token
    );

    let (_, without_redirect) = sb.authorize(json!({})).await;
    assert_eq!(without_redirect["type"], "shop_request");
    assert!(without_redirect.get("auth_url").is_none());
}

#[tokio::test]
async fn the_login_page_shows_the_partner_and_the_prefilled_details_escaped() {
    let sb = Sandbox::start().await;
    let (_, body) = sb
        .authorize(json!({
            "email": "an@example.vn",
            "shop_name": "<script>alert(1)</script>",
            "redirect_url": REDIRECT,
        }))
        .await;
    let response = sb
        .client
        .get(body["auth_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains(PARTNER));
    assert!(page.contains("sandbox"));
    assert!(page.contains("an@example.vn"));
    assert!(page.contains("alert(1)"), "{page}");
    assert!(!page.contains("<script>"), "the shop name was not escaped");
    assert!(page.contains("Đồng ý"), "Vietnamese by default");

    let english = sb
        .client
        .get(format!("{}&lang=en", body["auth_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Approve and connect"));
}

#[tokio::test]
async fn approving_redirects_to_the_redirect_url_with_its_query_kept_and_the_shop_id_added() {
    let sb = Sandbox::start().await;
    let (_, body) = sb
        .authorize(json!({ "phone": "0912 345 678", "redirect_url": REDIRECT }))
        .await;
    let token = body["auth_token"].as_str().unwrap();
    let response = sb
        .approve(
            token,
            &[("shop_name", "Cửa hàng Hòa Mai"), ("phone", "0912345678")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let callback = location(&response);
    assert!(
        callback.starts_with(&format!("{REDIRECT}&shop_id=")),
        "{callback}"
    );
    let shop_id = shop_id_of(&callback);
    assert_eq!(shop_id.len(), 19, "{shop_id}");
    assert!(shop_id.parse::<i64>().unwrap() >= 1_000_000_000_000_000_000);
}

#[tokio::test]
async fn a_linked_shop_gets_the_same_shop_key_on_every_call_and_current_shop_names_it() {
    let sb = Sandbox::start().await;
    let (shop_id, key) = sb.connect_new_shop("an@example.vn").await;
    assert!(
        key.starts_with(&format!("shop{shop_id}:")),
        "unexpected key shape"
    );

    let (status, again) = sb
        .authorize(json!({ "shop_id": shop_id, "redirect_url": REDIRECT }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["type"], "shop_key");
    assert_eq!(again["expires_in"], -1);
    assert_eq!(again["auth_token"], key.as_str());

    let as_number: i64 = shop_id.parse().unwrap();
    let (_, by_number) = sb.authorize(json!({ "shop_id": as_number })).await;
    assert_eq!(by_number["auth_token"], key.as_str());

    let (status, shop) = sb.current_shop(&key).await;
    assert_eq!(status, StatusCode::OK, "{shop}");
    assert_eq!(shop["id"], Value::String(shop_id.clone()));
    assert_eq!(shop["type"], "shop");
    assert_eq!(shop["name"], "Cửa hàng Hòa Mai");
}

#[tokio::test]
async fn an_external_shop_id_of_an_active_link_gets_the_shop_key_without_a_redirect() {
    let sb = Sandbox::start().await;
    let (_, body) = sb
        .authorize(json!({ "external_shop_id": "partner-shop-7", "redirect_url": REDIRECT }))
        .await;
    assert_eq!(body["type"], "shop_request");
    let response = sb
        .approve(
            body["auth_token"].as_str().unwrap(),
            &[("shop_name", "Tiệm Bảy"), ("email", "bay@example.vn")],
        )
        .await;
    let shop_id = shop_id_of(&location(&response));

    let (_, again) = sb
        .authorize(json!({ "external_shop_id": "partner-shop-7", "redirect_url": REDIRECT }))
        .await;
    assert_eq!(again["type"], "shop_key");
    let (_, shop) = sb.current_shop(again["auth_token"].as_str().unwrap()).await;
    assert_eq!(shop["id"], Value::String(shop_id));
}

#[tokio::test]
async fn a_request_token_is_single_use() {
    let sb = Sandbox::start().await;
    let (_, body) = sb
        .authorize(json!({ "email": "an@example.vn", "redirect_url": REDIRECT }))
        .await;
    let token = body["auth_token"].as_str().unwrap();
    let details = [("shop_name", "Hòa Mai"), ("email", "an@example.vn")];
    assert_eq!(
        sb.approve(token, &details).await.status(),
        StatusCode::SEE_OTHER
    );

    let reused = sb.approve(token, &details).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let page = sb
        .client
        .get(body["auth_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);

    let unknown = sb.approve("request:made-up", &details).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cancelling_links_nothing_and_leaves_the_token_usable() {
    let sb = Sandbox::start().await;
    let (_, body) = sb
        .authorize(json!({ "email": "an@example.vn", "redirect_url": REDIRECT }))
        .await;
    let token = body["auth_token"].as_str().unwrap();
    let cancelled = sb
        .post_form("/login", &[("token", token), ("action", "cancel")])
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert!(cancelled.text().await.unwrap().contains("Đã huỷ"));
    let approved = sb
        .approve(
            token,
            &[("shop_name", "Hòa Mai"), ("email", "an@example.vn")],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_approval_without_email_or_phone_shows_the_form_again_with_an_error() {
    let sb = Sandbox::start().await;
    let (_, body) = sb.authorize(json!({ "redirect_url": REDIRECT })).await;
    let token = body["auth_token"].as_str().unwrap();
    let response = sb.approve(token, &[("shop_name", "Hòa Mai")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Vui lòng nhập email hoặc số điện thoại."));
    let retried = sb
        .approve(token, &[("shop_name", "Hòa Mai"), ("phone", "0912345678")])
        .await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn after_an_unlink_the_shop_must_log_in_again_and_its_old_key_stops_working() {
    let sb = Sandbox::start().await;
    let (shop_id, old_key) = sb.connect_new_shop("an@example.vn").await;

    let response = sb.post_form(&format!("/shops/{shop_id}/unlink"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/shops");

    let (status, body) = sb
        .authorize(json!({ "shop_id": shop_id, "redirect_url": REDIRECT }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["type"], "shop_request");
    let (status, body401) = sb.current_shop(&old_key).await;
    assert_error(
        status,
        &body401,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    // The login page shows the known shop; approving re-links it with a new key.
    let token = body["auth_token"].as_str().unwrap();
    let page = sb
        .client
        .get(body["auth_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&shop_id));
    let response = sb.approve(token, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(shop_id_of(&location(&response)), shop_id);
    let (_, relinked) = sb.authorize(json!({ "shop_id": shop_id })).await;
    assert_eq!(relinked["type"], "shop_key");
    assert_ne!(relinked["auth_token"], old_key.as_str());
    let (status, _) = sb.current_shop(&old_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_closed_account_is_account_closed_and_its_key_stops_working_until_reopened() {
    let sb = Sandbox::start().await;
    let (shop_id, key) = sb.connect_new_shop("an@example.vn").await;

    let response = sb.post_form(&format!("/shops/{shop_id}/close"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, body) = sb.authorize(json!({ "shop_id": shop_id })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "account_closed");
    let (status, _) = sb.current_shop(&key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let response = sb.post_form(&format!("/shops/{shop_id}/reopen"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, _) = sb.current_shop(&key).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_shop_list_shows_every_shop_and_refuses_unknown_ids() {
    let sb = Sandbox::start().await;
    let (shop_id, _) = sb.connect_new_shop("an@example.vn").await;
    let page = sb
        .client
        .get(format!("{}/shops", sb.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&shop_id) && page.contains("an@example.vn"));
    assert!(page.contains("Đã liên kết"));

    let missing = sb.post_form("/shops/12345/close", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let nonsense = sb.post_form("/shops/abc/close", &[]).await;
    assert_eq!(nonsense.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_post_from_another_site_is_refused() {
    let sb = Sandbox::start().await;
    let (shop_id, key) = sb.connect_new_shop("an@example.vn").await;
    let response = sb
        .client
        .post(format!("{}/shops/{shop_id}/unlink", sb.origin))
        .header(header::ORIGIN, "https://evil.example.com")
        .form(&[("lang", "vi")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = sb.current_shop(&key).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_failure_rate_of_one_answers_every_call_503_unavailable() {
    let sb = Sandbox::start().await;
    sb.control.set_faults(Faults {
        latency: Duration::ZERO,
        failure_rate: 1.0,
    });
    let (status, body) = sb.call("Misc/CurrentAccount", API_KEY, json!({})).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    );

    // Pages are not affected, and the faults form turns the failures off again.
    let response = sb
        .post_form("/faults", &[("latency_ms", "0"), ("failure_rate", "0")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(sb.control.faults(), Faults::default());
    let (status, _) = sb.call("Misc/CurrentAccount", API_KEY, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_faults_form_sets_latency_and_rate_and_refuses_nonsense() {
    let sb = Sandbox::start().await;
    let response = sb
        .post_form("/faults", &[("latency_ms", "30"), ("failure_rate", "25")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sb.control.faults(),
        Faults {
            latency: Duration::from_millis(30),
            failure_rate: 0.25
        }
    );
    let refused = sb
        .post_form("/faults", &[("latency_ms", "-3"), ("failure_rate", "250")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sb.control.faults().latency, Duration::from_millis(30));
}

#[tokio::test]
async fn the_stylesheet_is_served() {
    let sb = Sandbox::start().await;
    let response = sb
        .client
        .get(format!("{}/static/sandbox.css", sb.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

// ---------------------------------------------------------------------------------------
// What the provider's own server refuses (its-contract.md, issue 9 §0) and the lookup by
// the partner's id (§1).

#[tokio::test]
async fn external_user_id_is_removed_for_an_ordinary_partner_but_not_for_a_white_label_one() {
    let sb = Sandbox::start().await;
    let body = json!({ "external_user_id": "u-1", "redirect_url": REDIRECT });
    let (status, answer) = sb.authorize(body.clone()).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_argument");
    assert_eq!(answer["msg"], "external_user_id is removed");

    sb.control.set_partner(sandbox::PartnerSetup {
        white_label: true,
        ..Default::default()
    });
    let (status, answer) = sb.authorize(body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["type"], "shop_request");
}

#[tokio::test]
async fn prefills_the_provider_refuses_are_invalid_arguments_with_its_messages() {
    let sb = Sandbox::start().await;
    for (field, value, msg) in [
        ("email", "an+shop@gmail.com", "Giá trị email không hợp lệ"),
        ("email", "an..shop@gmail.com", "Giá trị email không hợp lệ"),
        ("email", "an--shop@gmail.com", "Giá trị email không hợp lệ"),
        ("email", "an.-shop@gmail.com", "Giá trị email không hợp lệ"),
        ("email", "an-.shop@gmail.com", "Giá trị email không hợp lệ"),
        ("phone", "091234567", "Giá trị phone không hợp lệ"),
        ("phone", "+84 912 345 678 901", "Giá trị phone không hợp lệ"),
        (
            "external_shop_id",
            "x",
            "Giá trị external_shop_id không hợp lệ",
        ),
        (
            "external_shop_id",
            "mã có dấu",
            "Giá trị external_shop_id không hợp lệ",
        ),
        (
            "external_shop_id",
            "a/b",
            "Giá trị external_shop_id không hợp lệ",
        ),
    ] {
        let (status, answer) = sb
            .authorize(json!({ field: value, "redirect_url": REDIRECT }))
            .await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_argument");
        assert_eq!(answer["msg"], msg, "{field}={value}");
    }
    // What the rules allow: separators and +84 in a phone, 12 digits, a UUID as the id.
    for (field, value) in [
        ("email", "an.shop_1@gmail.com"),
        ("phone", "+84 912-345-678"),
        ("phone", "0283 823 4567 8"),
        ("external_shop_id", "6f1c2a9e-0d7b-4c55-9a3e-2b8f0c1d4e5a"),
        ("external_shop_id", "KH:01#$._-"),
    ] {
        let (status, answer) = sb
            .authorize(json!({ field: value, "redirect_url": REDIRECT }))
            .await;
        assert_eq!(status, StatusCode::OK, "{field}={value}: {answer}");
    }
}

#[tokio::test]
async fn registered_redirect_urls_are_compared_exactly_including_the_query() {
    let sb = Sandbox::start().await;
    let fixed = "https://shoplink.example.vn/connect/callback";
    sb.control.set_partner(sandbox::PartnerSetup {
        registered_redirect_urls: vec![fixed.into()],
        ..Default::default()
    });
    let (status, answer) = sb.authorize(json!({ "redirect_url": fixed })).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for refused in [
        format!("{fixed}?token=abc"),
        "http://127.0.0.1:8080/connect/callback".to_owned(),
        REDIRECT.to_owned(),
    ] {
        let (status, answer) = sb.authorize(json!({ "redirect_url": refused })).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_argument");
        assert_eq!(
            answer["msg"], "Địa chỉ url cần được đăng ký trước",
            "{refused}"
        );
    }
    // The provider's own exceptions: localhost and 127.0.0.NNN without a port.
    for passes in ["http://localhost/cb?token=x", "http://127.0.0.100/cb"] {
        let (status, answer) = sb.authorize(json!({ "redirect_url": passes })).await;
        assert_eq!(status, StatusCode::OK, "{passes}: {answer}");
    }
}

#[tokio::test]
async fn the_lookup_by_external_shop_id_follows_the_relation_that_recorded_it() {
    let sb = Sandbox::start().await;
    let ext = "6f1c2a9e-0d7b-4c55-9a3e-2b8f0c1d4e5a";
    // No relation carries it: a fresh request, not 403.
    let (status, first) = sb
        .authorize(json!({ "external_shop_id": ext, "redirect_url": REDIRECT }))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["type"], "shop_request");
    let response = sb
        .approve(
            first["auth_token"].as_str().unwrap(),
            &[("shop_name", "Tiệm Tám"), ("email", "tam@example.vn")],
        )
        .await;
    let shop_id = shop_id_of(&location(&response));

    // While linked: the key of the shop that approved this request.
    let (_, linked) = sb.authorize(json!({ "external_shop_id": ext })).await;
    assert_eq!(linked["type"], "shop_key", "{linked}");
    let (_, shop) = sb
        .current_shop(linked["auth_token"].as_str().unwrap())
        .await;
    assert_eq!(shop["id"], Value::String(shop_id.clone()));

    // Another id, never approved: still a fresh request.
    let (_, other) = sb
        .authorize(json!({ "external_shop_id": "another-partner-id" }))
        .await;
    assert_eq!(other["type"], "shop_request");

    // After an unlink: shop_request; a closed account: account_closed.
    let r = sb.post_form(&format!("/shops/{shop_id}/unlink"), &[]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let (status, unlinked) = sb.authorize(json!({ "external_shop_id": ext })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unlinked["type"], "shop_request", "{unlinked}");
    let r = sb.post_form(&format!("/shops/{shop_id}/close"), &[]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let (status, closed) = sb.authorize(json!({ "external_shop_id": ext })).await;
    assert_error(status, &closed, StatusCode::BAD_REQUEST, "account_closed");
}
