//! The sandbox's Zalo side speaks the contract (its-contract.md, "The shop's Zalo Official
//! Account"), driven through the app's real ITS client against the real sandbox over HTTP,
//! and its fake Zalo permission page and test phone through plain HTTP as a browser would.

use std::time::Duration;

use reqwest::{header, redirect, Client, StatusCode};
use shoplink::domain::{ShopId, ShopKey};
use shoplink::its::{
    ApiKey, AppId, Authorization, AuthorizeOaRequest, AuthorizeShopRequest, ConnectOaRequest,
    ErrorCode, ItsClient, ItsClientSettings, ItsError, ListOaFilter, ListOaRequest,
    ListTemplatesFilter, ListTemplatesRequest, OaId, OaStatus, Quality, RefreshTokenRequest,
    SendZnsRequest, UpdateShopOaRequest, ZaloAppSecret, ZaloCode, ZaloOa, ZaloState, ZnsMode,
};
use shoplink::sandbox::{self, Faults, SandboxControl, SandboxSettings};

const API_KEY: &str = "partner-test-key-0123456789";
const REDIRECT_URI: &str = "http://127.0.0.1:8080/zalo/callback";
const APP_ID: &str = "4143453445419930001";
const APP_SECRET: &str = "ZaloAppSecret0123456789";
const ORDER_TEMPLATE: i64 = 231_500;

struct Sandbox {
    origin: String,
    zalo_origin: String,
    control: SandboxControl,
    its: ItsClient,
    browser: Client,
    _dir: tempfile::TempDir,
}

/// What the fake Zalo sent the browser back with.
struct Callback {
    code: String,
    oa_id: String,
    state: String,
}

impl Sandbox {
    async fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let running = sandbox::start(
            SandboxSettings {
                api_key: API_KEY.into(),
                database_path: dir.path().join("sandbox.db"),
                faults: Faults::default(),
                partner_name: "Đối tác thử".into(),
                white_label: false,
                registered_redirect_urls: Vec::new(),
            },
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        )
        .await
        .unwrap();
        tokio::spawn(running.server);
        let mut settings =
            ItsClientSettings::new(running.base_url.clone(), ApiKey::new(API_KEY.into()));
        settings.retry_pause = Duration::from_millis(10);
        settings.timeout = Duration::from_secs(10);
        Sandbox {
            origin: running.origin,
            zalo_origin: running.zalo_origin,
            control: running.control,
            its: ItsClient::new(settings).unwrap(),
            browser: Client::builder()
                .redirect(redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    /// Connects a new shop through AuthorizeShop and the sandbox's approve page; its key.
    async fn shop_key(&self, email: &str) -> ShopKey {
        let request = AuthorizeShopRequest {
            email: Some(email.into()),
            redirect_url: Some("http://127.0.0.1:8080/its/callback?token=t".into()),
            ..Default::default()
        };
        let Authorization::ShopRequest {
            auth_url: Some(auth_url),
            ..
        } = self.its.authorize_shop(&request).await.unwrap()
        else {
            panic!("not a shop request")
        };
        let token = query(&auth_url, "token");
        let approved = self
            .post_form(
                &self.origin,
                "/login",
                &[
                    ("token", token.as_str()),
                    ("action", "approve"),
                    ("shop_name", "Cửa hàng Hòa Mai"),
                    ("email", email),
                ],
            )
            .await;
        assert_eq!(approved.status(), StatusCode::SEE_OTHER);
        let shop_id = ShopId::parse(&query(&location(&approved), "shop_id")).unwrap();
        let again = AuthorizeShopRequest {
            shop_id: Some(shop_id),
            ..Default::default()
        };
        match self.its.authorize_shop(&again).await.unwrap() {
            Authorization::ShopKey { shop_key, .. } => shop_key,
            other => panic!("{other:?}"),
        }
    }

    async fn post_form(
        &self,
        origin: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.browser
            .post(format!("{origin}{path}"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn get_text(&self, url: &str) -> (StatusCode, String) {
        let response = self.browser.get(url).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn authorize_oa(&self, key: &ShopKey) -> String {
        self.its
            .zalo_authorize_oa(key, &authorize_request(APP_SECRET))
            .await
            .unwrap()
            .url
    }

    /// The OA ids on a permission page, in order (the ready OA first).
    async fn oas_on_page(&self, url: &str) -> Vec<String> {
        let (status, page) = self.get_text(url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page.split("name=\"oa_id\" value=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    }

    /// Presses a button of the permission page (`allow` with an OA, or `deny`).
    async fn answer(&self, url: &str, action: &str, oa_id: &str) -> reqwest::Response {
        let state = query(url, "state");
        self.post_form(
            &self.zalo_origin,
            "/v4/oa/permission",
            &[("state", &state), ("oa_id", oa_id), ("action", action)],
        )
        .await
    }

    /// Allows `oa_id` on the page at `url`; what came back to the app's callback.
    async fn allow(&self, url: &str, oa_id: &str) -> Callback {
        let response = self.answer(url, "allow", oa_id).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let back = location(&response);
        assert!(back.starts_with(&format!("{REDIRECT_URI}?")), "{back}");
        Callback {
            code: query(&back, "code"),
            oa_id: query(&back, "oa_id"),
            state: query(&back, "state"),
        }
    }

    async fn connect(&self, key: &ShopKey, back: &Callback) -> Result<ZaloOa, ItsError> {
        self.its
            .zalo_connect_oa(
                key,
                &ConnectOaRequest {
                    code: ZaloCode::parse(&back.code).unwrap(),
                    oa_id: OaId::parse(&back.oa_id).unwrap(),
                    state: ZaloState::parse(&back.state).unwrap(),
                },
            )
            .await
    }

    /// A shop with its ready OA connected: (key, oa).
    async fn connected_shop(&self, email: &str) -> (ShopKey, ZaloOa) {
        let key = self.shop_key(email).await;
        let url = self.authorize_oa(&key).await;
        let ready = self.oas_on_page(&url).await[0].clone();
        let back = self.allow(&url, &ready).await;
        let oa = self.connect(&key, &back).await.unwrap();
        (key, oa)
    }

    async fn list_oa(&self, key: &ShopKey) -> Vec<ZaloOa> {
        self.its
            .zalo_list_oa(key, &ListOaRequest::default())
            .await
            .unwrap()
            .accounts
    }

    async fn send(
        &self,
        key: &ShopKey,
        oa: &ZaloOa,
        data: &[(&str, &str)],
    ) -> Result<shoplink::its::ZnsMessage, ItsError> {
        self.its
            .zalo_send_zns(
                key,
                &SendZnsRequest {
                    oa_id: oa.oa_id.clone(),
                    phone: "0912 345 678".into(),
                    template_id: ORDER_TEMPLATE,
                    template_data: data
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    tracking_id: Some("test-send-1".into()),
                    mode: ZnsMode::Development,
                    sending_mode: None,
                },
            )
            .await
    }

    /// Presses an operator's button on the sandbox's Zalo page.
    async fn operator(&self, path: &str, form: &[(&str, &str)]) {
        let response = self.post_form(&self.origin, path, form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

fn authorize_request(secret: &str) -> AuthorizeOaRequest {
    AuthorizeOaRequest {
        app_id: AppId::parse(APP_ID).unwrap(),
        app_secret: ZaloAppSecret::parse(secret).unwrap(),
        redirect_uri: REDIRECT_URI.into(),
    }
}

const ORDER: &[(&str, &str)] = &[
    ("customer_name", "Chị Lan"),
    ("order_code", "DH-1024"),
    ("amount", "250.000"),
    ("order_date", "30/11/2026"),
];

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The one value of `name` in a URL's query.
fn query(url: &str, name: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let values: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(values.len(), 1, "{name} in {url}");
    values[0].clone()
}

fn code_of(err: &ItsError) -> Option<ErrorCode> {
    err.code()
}

#[tokio::test]
async fn authorize_oa_points_to_the_fake_zalo_host_with_the_app_and_a_state() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let parsed = url::Url::parse(&url).unwrap();
    let zalo = url::Url::parse(&sb.zalo_origin).unwrap();
    assert_eq!(parsed.host_str(), Some("localhost"));
    assert_eq!(parsed.port(), zalo.port());
    assert_ne!(
        parsed.host_str(),
        url::Url::parse(&sb.origin).unwrap().host_str(),
        "the fake Zalo must be another host than the sandbox"
    );
    assert_eq!(parsed.path(), "/v4/oa/permission");
    assert_eq!(query(&url, "app_id"), APP_ID);
    assert_eq!(query(&url, "redirect_uri"), REDIRECT_URI);
    let state = query(&url, "state");
    assert!(ZaloState::parse(&state).is_ok(), "{state}");

    // The page offers the shop's two OAs, the one without a package marked as such.
    let (status, page) = sb.get_text(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Cho phép") && page.contains("Từ chối"),
        "{page}"
    );
    assert!(page.contains("Chưa có gói OA trả phí"), "{page}");
    assert_eq!(sb.oas_on_page(&url).await.len(), 2);

    // A second grant has another state; a tampered page URL is refused.
    let other = sb.authorize_oa(&key).await;
    assert_ne!(query(&other, "state"), state);
    let tampered = url.replace("redirect_uri=http", "redirect_uri=https");
    assert_eq!(sb.get_text(&tampered).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn allowing_sends_code_oa_and_state_back_and_connect_oa_connects_the_ready_oa() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let ready = sb.oas_on_page(&url).await[0].clone();
    let back = sb.allow(&url, &ready).await;
    assert_eq!(back.state, query(&url, "state"), "state passes through");
    assert_eq!(back.oa_id, ready);
    assert!(back.code.len() >= 32);

    let oa = sb.connect(&key, &back).await.unwrap();
    assert_eq!(oa.oa_id.as_str(), ready);
    assert_eq!(oa.status, OaStatus::Connected);
    assert_eq!((oa.daily_quota, oa.remaining_quota), (500, 500));
    assert_eq!(oa.current_quality, Quality::Undefined);
    assert_eq!(oa.app_id.as_ref().unwrap().as_str(), APP_ID);
    assert!(oa.is_verified);
    assert!(oa.owner_id.is_some(), "onwer_id is read");
    let days_left = (oa.expires_at.unwrap() - time::OffsetDateTime::now_utc()).whole_days();
    assert!((89..=90).contains(&days_left), "{days_left}");
    assert_eq!(
        oa.shop_id.unwrap().to_string(),
        key.expose_secret()
            .trim_start_matches("shop")
            .split(':')
            .next()
            .unwrap()
    );
}

#[tokio::test]
async fn a_code_is_single_use_and_a_wrong_or_foreign_state_is_refused() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let ready = sb.oas_on_page(&url).await[0].clone();
    let back = sb.allow(&url, &ready).await;

    // Another shop cannot use this shop's state and code.
    let stranger = sb.shop_key("binh@example.vn").await;
    let err = sb.connect(&stranger, &back).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument), "{err:?}");

    let wrong_state = Callback {
        state: (back.state.parse::<u64>().unwrap() - 1).to_string(),
        code: back.code.clone(),
        oa_id: back.oa_id.clone(),
    };
    let err = sb.connect(&key, &wrong_state).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));
    let wrong_code = Callback {
        code: format!("{}x", back.code),
        state: back.state.clone(),
        oa_id: back.oa_id.clone(),
    };
    let err = sb.connect(&key, &wrong_code).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));

    // None of that used the code up: the right call works, once.
    sb.connect(&key, &back).await.unwrap();
    let err = sb.connect(&key, &back).await.unwrap_err();
    let provider = err.provider().unwrap();
    assert_eq!(provider.code, ErrorCode::InvalidArgument);
    assert_eq!(provider.status, 400);
    assert!(provider.msg.contains("code"), "{}", provider.msg);

    // The page cannot be answered twice either.
    assert_eq!(
        sb.answer(&url, "allow", &ready).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn denying_sends_an_error_and_the_state_back_and_ends_the_grant() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let ready = sb.oas_on_page(&url).await[0].clone();
    let response = sb.answer(&url, "deny", "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with(&format!("{REDIRECT_URI}?")), "{back}");
    assert_eq!(query(&back, "error"), "access_denied");
    assert_eq!(query(&back, "state"), query(&url, "state"));
    assert!(!back.contains("code="), "{back}");
    assert_eq!(sb.get_text(&url).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        sb.answer(&url, "allow", &ready).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_permission_form_posted_from_another_site_is_refused() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let ready = sb.oas_on_page(&url).await[0].clone();
    let response = sb
        .browser
        .post(format!("{}/v4/oa/permission", sb.zalo_origin))
        .header(header::ORIGIN, "https://evil.example.com")
        .form(&[
            ("state", query(&url, "state").as_str()),
            ("oa_id", ready.as_str()),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    sb.allow(&url, &ready).await;
}

#[tokio::test]
async fn an_oa_without_a_zns_package_cannot_be_connected() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let no_package = sb.oas_on_page(&url).await[1].clone();
    let back = sb.allow(&url, &no_package).await;
    let err = sb.connect(&key, &back).await.unwrap_err();
    let provider = err.provider().unwrap();
    assert_eq!(provider.code, ErrorCode::FailedPrecondition);
    assert_eq!(provider.status, 400);
    assert!(provider.msg.contains("gói"), "{}", provider.msg);
    assert!(sb.list_oa(&key).await.is_empty());
}

#[tokio::test]
async fn a_shop_key_that_does_not_work_is_unauthenticated_for_every_zalo_method() {
    let sb = Sandbox::start().await;
    let (real, oa) = sb.connected_shop("an@example.vn").await;
    let shop_id = real.expose_secret().split(':').next().unwrap().to_owned();
    let bad = ShopKey::parse(&format!("{shop_id}:not-the-secret")).unwrap();
    let errors = [
        sb.its
            .zalo_authorize_oa(&bad, &authorize_request(APP_SECRET))
            .await
            .map(drop),
        sb.its
            .zalo_list_oa(&bad, &ListOaRequest::default())
            .await
            .map(drop),
        sb.its
            .zalo_refresh_token(
                &bad,
                &RefreshTokenRequest {
                    oa_id: oa.oa_id.clone(),
                },
            )
            .await
            .map(drop),
        sb.send(&bad, &oa, ORDER).await.map(drop),
    ];
    for result in errors {
        let err = result.unwrap_err();
        assert_eq!(code_of(&err), Some(ErrorCode::Unauthenticated), "{err:?}");
        assert_eq!(err.provider().unwrap().status, 401);
    }
    // The partner api_key is not a shop key either.
    let api_key_as_shop_key = ShopKey::parse(&format!("{shop_id}:{API_KEY}")).unwrap();
    let err = sb
        .its
        .zalo_list_oa(&api_key_as_shop_key, &ListOaRequest::default())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::Unauthenticated));
}

#[tokio::test]
async fn the_app_secret_must_match_and_the_operator_can_make_it_wrong() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let err = sb
        .its
        .zalo_authorize_oa(&key, &authorize_request("AnotherSecret999"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));
    let bad_redirect = AuthorizeOaRequest {
        // Only an absolute http(s) URL; the sandbox does not model the Zalo app's own
        // registered callback URL.
        redirect_uri: "javascript:alert(1)".into(),
        ..authorize_request(APP_SECRET)
    };
    let err = sb
        .its
        .zalo_authorize_oa(&key, &bad_redirect)
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));

    // The operator makes the secret wrong after the grant started: ConnectOA refuses too.
    let ready = sb.oas_on_page(&url).await[0].clone();
    let back = sb.allow(&url, &ready).await;
    sb.operator(&format!("/zalo/apps/{APP_ID}/reject"), &[])
        .await;
    let err = sb.connect(&key, &back).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));
    assert!(err.provider().unwrap().msg.contains("app_secret"));
    let err = sb
        .its
        .zalo_authorize_oa(&key, &authorize_request(APP_SECRET))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));

    sb.operator(&format!("/zalo/apps/{APP_ID}/accept"), &[])
        .await;
    sb.connect(&key, &back).await.unwrap();
}

#[tokio::test]
async fn list_oa_lists_the_shops_connected_oas_only_with_filters_and_paging() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    let (other_key, other_oa) = sb.connected_shop("binh@example.vn").await;

    let mine = sb.list_oa(&key).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].oa_id, oa.oa_id);
    assert_eq!(sb.list_oa(&other_key).await[0].oa_id, other_oa.oa_id);

    let filtered = |oa_id: &OaId| ListOaRequest {
        filter: ListOaFilter {
            oa_id: Some(oa_id.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let foreign = sb
        .its
        .zalo_list_oa(&key, &filtered(&other_oa.oa_id))
        .await
        .unwrap();
    assert!(
        foreign.accounts.is_empty(),
        "another shop's OA is never listed"
    );
    let by_name = ListOaRequest {
        filter: ListOaFilter {
            name: Some("hòa mai oa".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        sb.its
            .zalo_list_oa(&key, &by_name)
            .await
            .unwrap()
            .accounts
            .len(),
        1
    );
    let page = ListOaRequest {
        paging: shoplink::its::Paging {
            limit: Some(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let first = sb.its.zalo_list_oa(&key, &page).await.unwrap();
    assert_eq!(first.accounts.len(), 1);
    assert_eq!(first.paging.next, None);
}

#[tokio::test]
async fn refresh_token_renews_an_expired_oa_through_the_permission_page() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    sb.operator(&format!("/zalo/oas/{}/expire", oa.oa_id), &[])
        .await;
    let expired = &sb.list_oa(&key).await[0];
    assert!(expired.expires_at.unwrap() < time::OffsetDateTime::now_utc());
    let err = sb.send(&key, &oa, ORDER).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::FailedPrecondition));

    let renewal = sb
        .its
        .zalo_refresh_token(
            &key,
            &RefreshTokenRequest {
                oa_id: oa.oa_id.clone(),
            },
        )
        .await
        .unwrap()
        .url;
    assert_eq!(
        sb.oas_on_page(&renewal).await,
        vec![oa.oa_id.to_string()],
        "only that OA"
    );
    let back = sb.allow(&renewal, oa.oa_id.as_str()).await;
    let renewed = sb.connect(&key, &back).await.unwrap();
    assert!(
        renewed.expires_at.unwrap() > time::OffsetDateTime::now_utc() + time::Duration::days(80)
    );
    sb.send(&key, &oa, ORDER).await.unwrap();

    // Another shop cannot renew (nor learn of) this OA.
    let stranger = sb.shop_key("binh@example.vn").await;
    let err = sb
        .its
        .zalo_refresh_token(
            &stranger,
            &RefreshTokenRequest {
                oa_id: oa.oa_id.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::NotFound));
}

#[tokio::test]
async fn update_shop_oa_sets_the_webhook() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    let updated = sb
        .its
        .zalo_update_shop_oa(
            &key,
            &UpdateShopOaRequest {
                oa_id: oa.oa_id.clone(),
                webhook_url: "https://shop.example.vn/zalo/hook".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        updated.webhook_url.as_deref(),
        Some("https://shop.example.vn/zalo/hook")
    );
    let err = sb
        .its
        .zalo_update_shop_oa(
            &key,
            &UpdateShopOaRequest {
                oa_id: oa.oa_id.clone(),
                webhook_url: "not a url".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::InvalidArgument));
}

#[tokio::test]
async fn list_templates_gives_the_oas_templates_with_their_params() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    let request = ListTemplatesRequest {
        filter: ListTemplatesFilter {
            oa_id: Some(oa.oa_id.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let list = sb.its.zalo_list_templates(&key, &request).await.unwrap();
    assert_eq!(list.templates.len(), 3);
    let approved: Vec<i64> = list
        .templates
        .iter()
        .filter(|t| t.is_approved())
        .map(|t| t.template_id)
        .collect();
    assert_eq!(approved, vec![231_500, 231_501]);
    let order = &list.templates[0];
    let names: Vec<&str> = order
        .template_params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["customer_name", "order_code", "amount", "order_date"]
    );
    assert!(order.template_params.iter().all(|p| p.require));
    assert_eq!(order.template_params[0].max_length, Some(30));

    let err = sb
        .its
        .zalo_list_templates(&key, &ListTemplatesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        code_of(&err),
        Some(ErrorCode::InvalidArgument),
        "oa_id is required"
    );
}

#[tokio::test]
async fn a_test_send_reaches_the_phone_page_and_takes_one_from_the_quota() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    let message = sb.send(&key, &oa, ORDER).await.unwrap();
    assert!(message.is_development);
    assert!(!message.is_charged);
    assert_eq!(message.error_code, 0);
    assert_eq!(message.tracking_id.as_deref(), Some("test-send-1"));
    let msg_id = message.msg_id.clone().unwrap();
    assert_eq!(sb.list_oa(&key).await[0].remaining_quota, 499);

    let (status, phone) = sb.get_text(&format!("{}/phone", sb.zalo_origin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        phone.contains("Xin chào Chị Lan, đơn hàng DH-1024 trị giá 250.000 đ đặt ngày 30/11/2026 đã được xác nhận."),
        "{phone}"
    );
    assert!(phone.contains("0912345678"), "the phone, normalised");
    assert!(phone.contains(&msg_id));
    assert!(phone.contains("Tin thử (development)"));
}

#[tokio::test]
async fn a_used_up_quota_refuses_the_send_and_records_nothing() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    sb.operator(&format!("/zalo/oas/{}/exhaust", oa.oa_id), &[])
        .await;
    assert_eq!(sb.list_oa(&key).await[0].remaining_quota, 0);
    let err = sb.send(&key, &oa, ORDER).await.unwrap_err();
    let provider = err.provider().unwrap();
    assert_eq!(provider.code, ErrorCode::FailedPrecondition);
    assert!(provider.msg.contains("hạn mức"), "{}", provider.msg);
    let (_, phone) = sb.get_text(&format!("{}/phone", sb.zalo_origin)).await;
    assert!(!phone.contains("DH-1024"));

    sb.operator(&format!("/zalo/oas/{}/refill", oa.oa_id), &[])
        .await;
    sb.send(&key, &oa, ORDER).await.unwrap();
}

#[tokio::test]
async fn a_missing_or_invalid_template_param_is_named_in_the_error() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    let err = sb.send(&key, &oa, &ORDER[..3]).await.unwrap_err();
    let provider = err.provider().unwrap();
    assert_eq!(provider.code, ErrorCode::InvalidArgument);
    assert!(provider.msg.contains("order_date"), "{}", provider.msg);

    let mut bad_amount = ORDER.to_vec();
    bad_amount[2] = ("amount", "hai trăm");
    let err = sb.send(&key, &oa, &bad_amount).await.unwrap_err();
    assert!(err.provider().unwrap().msg.contains("amount"));
    assert_eq!(
        sb.list_oa(&key).await[0].remaining_quota,
        500,
        "nothing was taken"
    );
}

#[tokio::test]
async fn the_operator_sets_quality_and_disconnects() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    sb.operator(
        &format!("/zalo/oas/{}/quality", oa.oa_id),
        &[("current_quality", "LOW"), ("last_week_quality", "MEDIUM")],
    )
    .await;
    let listed = &sb.list_oa(&key).await[0];
    assert_eq!(
        (listed.current_quality, listed.last_week_quality),
        (Quality::Low, Quality::Medium)
    );
    let (status, page) = sb.get_text(&format!("{}/zalo", sb.origin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(oa.oa_id.as_str()));
    assert!(page.contains("Zalo OA trong sandbox") && page.contains("LOW / MEDIUM"));
    let (_, english) = sb.get_text(&format!("{}/zalo?lang=en", sb.origin)).await;
    assert!(english.contains("Sandbox Zalo OAs") && english.contains("Use up the quota"));
    let (_, shops) = sb.get_text(&format!("{}/shops", sb.origin)).await;
    assert!(
        shops.contains("href=\"/zalo\""),
        "the shop page links the Zalo page"
    );

    sb.operator(&format!("/zalo/oas/{}/disconnect", oa.oa_id), &[])
        .await;
    assert_eq!(sb.list_oa(&key).await[0].status, OaStatus::Disconnected);
    let err = sb.send(&key, &oa, ORDER).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::FailedPrecondition));
    let refused = sb
        .post_form(
            &sb.origin,
            &format!("/zalo/oas/{}/quality", oa.oa_id),
            &[
                ("current_quality", "TERRIBLE"),
                ("last_week_quality", "LOW"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fault_injection_applies_to_the_zalo_methods() {
    let sb = Sandbox::start().await;
    let (key, oa) = sb.connected_shop("an@example.vn").await;
    sb.control.set_faults(Faults {
        latency: Duration::ZERO,
        failure_rate: 1.0,
    });
    let err = sb
        .its
        .zalo_list_oa(&key, &ListOaRequest::default())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::ProviderTrouble));
    assert!(err.is_retryable());
    let err = sb.send(&key, &oa, ORDER).await.unwrap_err();
    assert_eq!(code_of(&err), Some(ErrorCode::ProviderTrouble));

    sb.control.set_faults(Faults {
        latency: Duration::from_millis(300),
        failure_rate: 0.0,
    });
    let started = std::time::Instant::now();
    sb.list_oa(&key).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Pages of the fake Zalo are not affected.
    assert_eq!(
        sb.get_text(&format!("{}/phone", sb.zalo_origin)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn of_many_simultaneous_connect_calls_with_one_code_exactly_one_succeeds() {
    let sb = Sandbox::start().await;
    let key = sb.shop_key("an@example.vn").await;
    let url = sb.authorize_oa(&key).await;
    let ready = sb.oas_on_page(&url).await[0].clone();
    let back = sb.allow(&url, &ready).await;
    let calls = (0..12).map(|_| sb.connect(&key, &back));
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(code_of(err), Some(ErrorCode::InvalidArgument), "{err:?}");
    }
}
