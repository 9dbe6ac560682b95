//! The owner's Zalo OA journey over HTTP (issue 12): step ② on a connected shop, the fake
//! Zalo permission page of the sandbox, our callback, the OA card, "Gia hạn", "Gửi tin
//! thử", and every failure with its words and next step.

use reqwest::StatusCode;
use shoplink::sandbox::Faults;

use crate::helpers::*;

pub const ZALO_APP_ID: &str = "4143453445419930001";
pub const ZALO_APP_SECRET: &str = "testZaloAppSecret01";

/// An app whose partner Zalo app is set by the environment and whose allow-list takes the
/// sandbox's fake Zalo (`localhost`).
pub async fn spawn_zalo_app() -> TestApp {
    spawn_app_with(zalo_options()).await
}

pub fn zalo_options() -> AppOptions {
    AppOptions {
        extra_env: vec![
            ("ZALO_OAUTH_HOSTS", "localhost".into()),
            ("ZALO_APP_ID", ZALO_APP_ID.into()),
            ("ZALO_APP_SECRET", ZALO_APP_SECRET.into()),
        ],
        ..Default::default()
    }
}

/// Logs the owner in and returns a shop connected to ITS.
pub async fn connected_shop(app: &TestApp, name: &str) -> String {
    app.login_owner().await;
    let shop = app.add_shop(name).await;
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.shop_state(&shop).await, "connected");
    shop
}

/// Presses "Kết nối Zalo OA".
pub async fn press_oa_connect(app: &TestApp, shop: &str) -> reqwest::Response {
    app.post_from(
        &format!("/shops/{shop}"),
        &format!("/shops/{shop}/zalo/connect"),
        &[],
    )
    .await
}

/// The OA ids on the fake Zalo's permission page (the ready OA first).
pub async fn oas_on_page(app: &TestApp, url: &str) -> Vec<String> {
    oas_on_zalo_page(&app.client, url).await
}

/// Presses "Cho phép" (`allow`, with an OA) or "Từ chối" (`deny`) on the permission page
/// at `url`; returns where Zalo sends the browser back.
pub async fn answer_on_zalo(app: &TestApp, url: &str, action: &str, oa_id: &str) -> String {
    answer_on_zalo_page(&app.client, url, action, oa_id).await
}

/// The whole grant: press the button, pick the OA at `index` on Zalo's page (allow), and
/// follow the callback. Returns the callback URL and our answer to it.
pub async fn connect_oa(app: &TestApp, shop: &str, index: usize) -> (String, reqwest::Response) {
    let r = press_oa_connect(app, shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = location(&r);
    assert!(
        url.starts_with("http://localhost:"),
        "sent to the fake Zalo: {url}"
    );
    let oas = oas_on_page(app, &url).await;
    let back = answer_on_zalo(app, &url, "allow", &oas[index]).await;
    let answer = app.client.get(&back).send().await.unwrap();
    (back, answer)
}

async fn oa_ids(app: &TestApp, shop: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT oa_id FROM zalo_oas WHERE shop_id = ? ORDER BY oa_id")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_all(&app.db)
        .await
        .unwrap()
}

async fn oa_events(app: &TestApp, shop: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT kind || coalesce(':' || reason, '') FROM zalo_oa_events WHERE shop_id = ? ORDER BY id")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_all(&app.db)
        .await
        .unwrap()
}

fn outcome_of(r: &reqwest::Response, shop: &str) -> String {
    let loc = location(r);
    let prefix = format!("/shops/{shop}?oa=");
    assert!(loc.starts_with(&prefix), "back on the shop page: {loc}");
    loc[prefix.len()..].trim_end_matches("#zalo-oa").to_owned()
}

async fn shop_page(app: &TestApp, shop: &str, outcome: &str) -> String {
    app.get_html(&format!("/shops/{shop}?oa={outcome}")).await
}

/// Checks that `r` sent the browser back to the shop page with `outcome`, and returns the
/// text of the failure the OA step shows there.
async fn failure_shown(app: &TestApp, r: &reqwest::Response, shop: &str, outcome: &str) -> String {
    assert_eq!(outcome_of(r, shop), outcome);
    text_of(&shop_page(app, shop, outcome).await, "#zalo-oa .failure")
}

/// Presses an operator's button on the sandbox's Zalo page: `oas/{oa}/exhaust`,
/// `apps/{app_id}/reject`…
async fn sandbox_zalo_action(app: &TestApp, action: &str) {
    let r = app
        .client
        .post(format!("{}/zalo/{action}", app.sandbox_origin))
        .form(&[("lang", "vi")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection(),
        "sandbox zalo {action}: {}",
        r.status()
    );
}

/// How many OA grants (pending or used) the app holds.
async fn grant_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM zalo_oa_grants")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_owner_connects_the_ready_oa_and_sees_its_card() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Hoa Sen").await;

    // Step ②: the checklist (collapsed) before the button, with Zalo's own pages.
    let page = app.get_html(&format!("/shops/{shop}")).await;
    let step = text_of(&page, "#zalo-oa");
    assert!(step.contains("Kết nối Zalo OA"), "{step}");
    assert!(page.contains("<details class=\"zalo-checklist\">"));
    assert!(page.contains("https://oa.zalo.me") && page.contains("https://developers.zalo.me"));
    assert!(step.contains("ứng dụng Zalo chung"), "{step}");

    let (callback, r) = connect_oa(&app, &shop, 0).await;
    assert!(
        callback.starts_with(&app.url("/zalo/callback?")),
        "{callback}"
    );
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(
        outcome_of(&r, &shop),
        "connected",
        "a clean URL, no code or state"
    );

    let ids = oa_ids(&app, &shop).await;
    assert_eq!(ids.len(), 1);
    assert_eq!(oa_events(&app, &shop).await, vec!["connected".to_owned()]);
    let status: String = sqlx::query_scalar("SELECT status FROM zalo_oa_grants")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "finished");

    let page = shop_page(&app, &shop, "connected").await;
    let card = text_of(&page, ".oa-card");
    assert!(text_of(&page, "#zalo-oa .flash").contains("Đã kết nối Zalo OA"));
    assert!(card.contains("Đang kết nối"), "status in words: {card}");
    assert!(card.contains("Đã xác thực") || !card.is_empty());
    assert!(
        card.contains("còn 89 ngày") || card.contains("còn 90 ngày"),
        "{card}"
    );
    assert!(card.contains("Đã gửi 0 · còn 500 trên 500 tin"), "{card}");
    assert!(card.contains(&ids[0]));
    assert!(page.contains("<meter class=\"oa-quota\""));
    assert!(!card.contains("Gia hạn"), "not offered 89 days ahead");
    assert!(card.contains("Gửi tin thử"));
    assert!(!page.contains(ZALO_APP_SECRET));

    // Several OAs on one shop: one card each (a second one as ListOA would have stored it,
    // with LOW quality: what it means and what to do is said).
    sqlx::query(
        "INSERT INTO zalo_oas (oa_id, shop_id, name, is_verified, status, daily_quota, remaining_quota,
                               current_quality, last_week_quality, expires_at, connected_at, last_read_at, updated_at)
         VALUES ('77', ?, 'Hoa Sen Chi nhánh 2', 0, 'N', 100, 0, 'LOW', 'MEDIUM', 1, 1, 1, 1)",
    )
    .bind(uuid::Uuid::parse_str(&shop).unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    let page = app.get_html(&format!("/shops/{shop}")).await;
    let cards = text_of(&page, ".oa-card");
    assert_eq!(page.matches("<article class=\"oa-card\"").count(), 2);
    assert!(
        cards.contains("Hoa Sen Chi nhánh 2") && cards.contains("Đã ngắt kết nối"),
        "{cards}"
    );
    assert!(
        cards.contains("Thấp") && cards.contains("Chất lượng thấp nghĩa là"),
        "{cards}"
    );
    assert!(cards.contains("đã hết hạn: cần gia hạn"), "{cards}");
    assert!(
        page.contains(&format!("/shops/{shop}/zalo/oas/77/renew")),
        "renew offered after expiry"
    );
    assert!(
        !page.contains(&format!("/shops/{shop}/zalo/oas/77/test")),
        "no test on a disconnected OA"
    );
    sqlx::query("DELETE FROM zalo_oas WHERE oa_id = '77'")
        .execute(&app.db)
        .await
        .unwrap();

    // The same callback again: the grant is used; nothing is connected twice.
    let again = app.client.get(&callback).send().await.unwrap();
    assert_eq!(outcome_of(&again, &shop), "state_used");
    let page = shop_page(&app, &shop, "state_used").await;
    assert!(text_of(&page, "#zalo-oa .failure").contains("Đường dẫn này đã được dùng rồi"));
    assert_eq!(oa_events(&app, &shop).await.len(), 1);
}

#[tokio::test]
async fn denying_on_zalo_and_an_oa_without_a_package_each_say_what_to_do() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Từ Chối").await;

    let r = press_oa_connect(&app, &shop).await;
    let url = location(&r);
    let oas = oas_on_page(&app, &url).await;
    assert_eq!(oas.len(), 2, "one ready OA and one without a package");
    let back = answer_on_zalo(&app, &url, "deny", "").await;
    assert!(back.contains("error=access_denied"), "{back}");
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let text = failure_shown(&app, &r, &shop, "denied").await;
    assert!(
        text.contains("Từ chối") && text.contains("Cho phép"),
        "{text}"
    );

    let (_, r) = connect_oa(&app, &shop, 1).await;
    let text = failure_shown(&app, &r, &shop, "no_package").await;
    assert!(
        text.contains("gói dịch vụ OA trả phí") && text.contains("oa.zalo.me"),
        "{text}"
    );
    assert!(
        text.contains("ITS/Zalo"),
        "the provider's own words are quoted: {text}"
    );
    assert!(oa_ids(&app, &shop).await.is_empty());
    let events = oa_events(&app, &shop).await;
    assert!(events[0].starts_with("connect_failed:denied"), "{events:?}");
    assert!(
        events[1].starts_with("connect_failed:no_package"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_callback_is_bound_to_its_user_session_and_time() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Ràng Buộc").await;
    let r = press_oa_connect(&app, &shop).await;
    let url = location(&r);
    let oas = oas_on_page(&app, &url).await;
    let back = answer_on_zalo(&app, &url, "allow", &oas[0]).await;

    // Another owner's browser: refused, and nothing of the shop is revealed.
    let other = app.logged_in_browser(&app.other_owner_email).await;
    let r = other.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("trình duyệt hoặc tài khoản khác"), "{body}");
    assert!(!body.contains(&shop) && !body.contains("Ràng Buộc"));

    // The owner in another live session of theirs: refused too.
    let second = app.logged_in_browser(&app.owner_email).await;
    let r = second.get(&back).send().await.unwrap();
    assert_eq!(outcome_of(&r, &shop), "state_foreign");
    assert!(oa_ids(&app, &shop).await.is_empty());

    // Past its 15 minutes: expired.
    sqlx::query("UPDATE zalo_oa_grants SET expires_at = 0")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(outcome_of(&r, &shop), "state_expired");

    // The next press ends grants past their time: the old one is cancelled, not pending.
    press_oa_connect(&app, &shop).await;
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM zalo_oa_grants ORDER BY created_at")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(statuses, vec!["cancelled".to_owned(), "pending".to_owned()]);

    // A state nobody issued, a malformed query.
    let forged = back.replace(&query_param(&back, "state").unwrap(), "12345");
    let r = app.client.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy lượt kết nối"));
    let r = app.get("/zalo/callback?code=x&state=1").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("không đầy đủ"));
    assert!(oa_ids(&app, &shop).await.is_empty());
}

#[tokio::test]
async fn a_code_already_used_is_refused_on_our_side() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Một Lần").await;
    let (callback, r) = connect_oa(&app, &shop, 0).await;
    assert_eq!(outcome_of(&r, &shop), "connected");
    // A new grant, answered with the old code: our code_hash stops it before ITS.
    let r = press_oa_connect(&app, &shop).await;
    let url = location(&r);
    let oas = oas_on_page(&app, &url).await;
    let back = answer_on_zalo(&app, &url, "allow", &oas[0]).await;
    let old_code = query_param(&callback, "code").unwrap();
    let replayed = back.replace(&query_param(&back, "code").unwrap(), &old_code);
    let r = app.client.get(&replayed).send().await.unwrap();
    assert_eq!(outcome_of(&r, &shop), "code_reused");
}

#[tokio::test]
async fn a_permission_page_off_the_allow_list_is_never_followed() {
    // No ZALO_OAUTH_HOSTS: only oauth.zaloapp.com is allowed, not the fake Zalo.
    let app = spawn_app_with(AppOptions {
        extra_env: vec![
            ("ZALO_APP_ID", ZALO_APP_ID.into()),
            ("ZALO_APP_SECRET", ZALO_APP_SECRET.into()),
        ],
        ..Default::default()
    })
    .await;
    let shop = connected_shop(&app, "Cửa hàng Danh Sách").await;
    let r = press_oa_connect(&app, &shop).await;
    let text = failure_shown(&app, &r, &shop, "host_refused").await;
    assert!(text.contains("ZALO_OAUTH_HOSTS"), "{text}");
    let pending = grant_count(&app).await;
    assert_eq!(
        pending, 0,
        "no grant stored for a page we did not send the owner to"
    );
}

#[tokio::test]
async fn a_rejected_shop_key_makes_the_link_need_reauth_and_the_oa_step_waits() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Khoá Cũ").await;
    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let r = press_oa_connect(&app, &shop).await;
    assert_eq!(outcome_of(&r, &shop), "key_rejected");
    assert_eq!(
        app.shop_state(&shop).await,
        "needs_reauth",
        "as verification does it"
    );
    let page = shop_page(&app, &shop, "key_rejected").await;
    let step = text_of(&page, "#zalo-oa");
    assert!(step.contains("Đăng nhập lại"), "{step}");
    assert!(step.contains("Bước này đang chờ"), "{step}");
    assert!(
        !page.contains("/zalo/connect"),
        "no OA button while the link waits"
    );
}

#[tokio::test]
async fn its_down_is_said_plainly_and_nothing_is_stored() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Sự Cố").await;
    app.set_faults(Faults {
        failure_rate: 1.0,
        ..Default::default()
    });
    let r = press_oa_connect(&app, &shop).await;
    let text = failure_shown(&app, &r, &shop, "its_down").await;
    assert!(text.contains("vài phút"), "{text}");
    assert_eq!(
        app.shop_state(&shop).await,
        "connected",
        "ITS trouble is not a key problem"
    );
}

async fn test_page_path(app: &TestApp, shop: &str) -> String {
    let oa = oa_ids(app, shop).await.remove(0);
    format!("/shops/{shop}/zalo/oas/{oa}/test")
}

/// Sends the "Gửi tin thử" form of the OA test page at `path` for `template`, from the
/// page that shows that template, with the other `fields`.
pub async fn send_test_message(
    app: &TestApp,
    path: &str,
    template: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("template", template)];
    form.extend_from_slice(fields);
    app.post_from(&format!("{path}?template={template}"), path, &form)
        .await
}

#[tokio::test]
async fn a_test_message_is_checked_sent_in_development_mode_and_reaches_the_phone() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Tin Thử").await;
    connect_oa(&app, &shop, 0).await;
    let path = test_page_path(&app, &shop).await;

    let page = app.get_html(&path).await;
    assert!(page.contains("Xác nhận đơn hàng") && page.contains("Cảm ơn khách hàng"));
    assert!(
        !page.contains("Khuyến mãi cuối tuần"),
        "only approved templates"
    );
    let page = app.get_html(&format!("{path}?template=231500")).await;
    for name in [
        "p_customer_name",
        "p_order_code",
        "p_amount",
        "p_order_date",
    ] {
        assert!(page.contains(&format!("name=\"{name}\"")), "{name}");
    }

    // The order confirmation, the same each time but for its order code.
    let order_confirmation = |order_code| {
        [
            ("phone", "0912345678"),
            ("p_customer_name", "Chị Lan"),
            ("p_order_code", order_code),
            ("p_amount", "1250000"),
            ("p_order_date", "30/11/2026"),
        ]
    };
    // A required parameter missing: 422, the error beside its field, nothing sent.
    let r = send_test_message(&app, &path, "231500", &order_confirmation("")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert_eq!(
        text_of(&body, "#p_order_code-error"),
        "Trường này bắt buộc."
    );
    assert!(body.contains("value=\"Chị Lan\""), "what was typed stays");
    assert!(oa_events(&app, &shop)
        .await
        .iter()
        .all(|e| !e.starts_with("test_")));

    let r = send_test_message(&app, &path, "231500", &order_confirmation("DH-1024")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("Đã gửi tin thử"), "{body}");
    assert!(text_of(&body, "dl").contains("Điện thoại đã nhận"));
    let events = oa_events(&app, &shop).await;
    assert!(
        events.last().unwrap().starts_with("test_sent"),
        "{events:?}"
    );

    // On the sandbox phone: the rendered message, marked development.
    let zalo_origin = {
        let r = press_oa_connect(&app, &shop).await;
        url::Url::parse(&location(&r))
            .unwrap()
            .origin()
            .ascii_serialization()
    };
    let phone = app
        .client
        .get(format!("{zalo_origin}/phone"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(phone.contains("đơn hàng DH-1024"), "{phone}");

    // The card shows the quota the send used.
    let card = text_of(&app.get_html(&format!("/shops/{shop}")).await, ".oa-card");
    assert!(card.contains("Đã gửi 1 · còn 499 trên 500 tin"), "{card}");
}

#[tokio::test]
async fn a_used_up_quota_is_named_and_the_next_step_is_tomorrow() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Hết Lượt").await;
    connect_oa(&app, &shop, 0).await;
    let oa = oa_ids(&app, &shop).await.remove(0);
    sandbox_zalo_action(&app, &format!("oas/{oa}/exhaust")).await;
    let path = test_page_path(&app, &shop).await;
    let r = send_test_message(
        &app,
        &path,
        "231501",
        &[("phone", "0912345678"), ("p_customer_name", "Anh Nam")],
    )
    .await;
    let body = r.text().await.unwrap();
    let failure = text_of(&body, ".failure");
    assert!(failure.contains("hết hạn mức gửi ZNS hôm nay"), "{failure}");
    assert!(failure.contains("ngày mai"), "{failure}");
    let events = oa_events(&app, &shop).await;
    assert!(
        events
            .last()
            .unwrap()
            .starts_with("test_failed:quota_exhausted"),
        "{events:?}"
    );
    let card = text_of(&app.get_html(&format!("/shops/{shop}")).await, ".oa-card");
    assert!(card.contains("Đã hết hạn mức hôm nay"), "{card}");
}

#[tokio::test]
async fn renewing_is_offered_near_the_expiry_and_must_come_back_with_the_same_oa() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Gia Hạn").await;
    connect_oa(&app, &shop, 0).await;
    let oa = oa_ids(&app, &shop).await.remove(0);
    // Five days left, as ListOA will tell after a send: store it as read.
    sqlx::query("UPDATE zalo_oas SET expires_at = ?")
        .bind(shoplink::store::now_ms() + 5 * 86_400_000)
        .execute(&app.db)
        .await
        .unwrap();
    let page = app.get_html(&format!("/shops/{shop}")).await;
    let card = text_of(&page, ".oa-card");
    assert!(
        card.contains("còn 4 ngày") || card.contains("còn 5 ngày"),
        "{card}"
    );
    let renew = format!("/shops/{shop}/zalo/oas/{oa}/renew");
    assert!(page.contains(&renew), "Gia hạn is offered");

    let r = app.post_from(&format!("/shops/{shop}"), &renew, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = location(&r);
    let back = answer_on_zalo(&app, &url, "allow", &oa).await;
    let r = app.client.get(&back).send().await.unwrap();
    assert_eq!(outcome_of(&r, &shop), "renewed");
    let events = oa_events(&app, &shop).await;
    assert_eq!(events.last().unwrap(), "renewed");
    let card = text_of(&app.get_html(&format!("/shops/{shop}")).await, ".oa-card");
    assert!(
        card.contains("còn 89 ngày") || card.contains("còn 90 ngày"),
        "{card}"
    );

    // Not due any more: the button is gone and a forged press is refused.
    let r = app.post_from(&format!("/shops/{shop}"), &renew, &[]).await;
    assert_eq!(outcome_of(&r, &shop), "renew_not_due");
}

#[tokio::test]
async fn a_shop_uses_its_own_app_sealed_and_never_shown() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Ứng Dụng Riêng").await;
    let r = app
        .post_from(
            &format!("/shops/{shop}"),
            &format!("/shops/{shop}/zalo/app"),
            &[("app_id", "12ab"), ("app_secret", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("ID ứng dụng là một dãy số") && body.contains("khoá bí mật"));

    let own_secret = "ownShopSecretXyz987";
    let r = app
        .post_from(
            &format!("/shops/{shop}"),
            &format!("/shops/{shop}/zalo/app"),
            &[
                ("app_id", "4143453445419939999"),
                ("app_secret", own_secret),
            ],
        )
        .await;
    assert_eq!(outcome_of(&r, &shop), "app_saved");
    let page = shop_page(&app, &shop, "app_saved").await;
    assert!(
        text_of(&page, "#zalo-oa").contains("ứng dụng Zalo riêng, ID ứng dụng 4143453445419939999")
    );
    assert!(!page.contains(own_secret));
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_ciphertext FROM zalo_apps WHERE shop_id = ?")
            .bind(uuid::Uuid::parse_str(&shop).unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!stored
        .windows(own_secret.len())
        .any(|w| w == own_secret.as_bytes()));

    // The grant goes out with the shop's own app.
    let r = press_oa_connect(&app, &shop).await;
    assert_eq!(
        query_param(&location(&r), "app_id").as_deref(),
        Some("4143453445419939999")
    );

    // Another owner cannot set it.
    let other = app.logged_in_browser(&app.other_owner_email).await;
    let token = csrf_in(&app.html_as(&other, "/shops").await);
    let r = other
        .post(app.url(&format!("/shops/{shop}/zalo/app")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("app_id", "1"),
            ("app_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_app_secret_is_named_with_its_next_step() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Sai Khoá").await;
    // First use teaches the sandbox the app; the operator then makes its secret wrong.
    connect_oa(&app, &shop, 0).await;
    sandbox_zalo_action(&app, &format!("apps/{ZALO_APP_ID}/reject")).await;
    let r = press_oa_connect(&app, &shop).await;
    let text = failure_shown(&app, &r, &shop, "app_refused").await;
    assert!(
        text.contains("khoá bí mật") && text.contains("developers.zalo.me"),
        "{text}"
    );
}

#[tokio::test]
async fn the_admin_saves_the_partner_app_sees_it_masked_and_checks_it() {
    // No app in the environment (and not sandbox mode): the settings page holds it.
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("ZALO_OAUTH_HOSTS", "localhost".into())],
        ..Default::default()
    })
    .await;
    let shop = connected_shop(&app, "Cửa hàng Đối Tác").await;
    // Without any app the OA step says so plainly, with a next step.
    let r = press_oa_connect(&app, &shop).await;
    assert_eq!(outcome_of(&r, &shop), "no_app");

    app.logout().await;
    login_admin(&app).await;
    let page = app.get_html("/admin/settings").await;
    let section = text_of(&page, "#zalo-app");
    assert!(
        section.contains(&app.url("/zalo/callback")),
        "the callback, ready to copy: {section}"
    );
    assert!(section.contains("Chưa cài"), "{section}");

    let r = app
        .post_from(
            "/admin/settings",
            "/admin/settings/zalo-app",
            &[("app_id", "abc"), ("app_secret", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let secret = "partnerSavedSecret42";
    let r = app
        .post_from(
            "/admin/settings",
            "/admin/settings/zalo-app",
            &[("app_id", ZALO_APP_ID), ("app_secret", secret)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "#zalo-app").contains("Đã lưu ứng dụng Zalo"));
    assert!(html.contains(ZALO_APP_ID) && html.contains("Đã lưu ••••••"));
    assert!(!html.contains(secret), "write-only");

    let r = app
        .post_from("/admin/settings", "/admin/settings/zalo-app/test", &[])
        .await;
    let html = r.text().await.unwrap();
    assert!(
        text_of(&html, "#zalo-app").contains(&format!("ITS chấp nhận ứng dụng Zalo {ZALO_APP_ID}")),
        "{}",
        text_of(&html, "#zalo-app")
    );

    // Made wrong at the provider: the check says so, with ITS's own words.
    sandbox_zalo_action(&app, &format!("apps/{ZALO_APP_ID}/reject")).await;
    let r = app
        .post_from("/admin/settings", "/admin/settings/zalo-app/test", &[])
        .await;
    let section = text_of(&r.text().await.unwrap(), "#zalo-app");
    assert!(
        section.contains("Ứng dụng Zalo chưa dùng được")
            && section.contains("Lời nhắn từ ITS/Zalo"),
        "{section}"
    );
}

#[tokio::test]
async fn the_check_without_a_connected_shop_says_so_and_an_env_app_is_read_only() {
    let app = spawn_zalo_app().await;
    login_admin(&app).await;
    let page = app.get_html("/admin/settings").await;
    let section = text_of(&page, "#zalo-app");
    assert!(
        section.contains("ZALO_APP_ID/ZALO_APP_SECRET") && section.contains(ZALO_APP_ID),
        "{section}"
    );
    assert!(
        !page.contains("action=\"/admin/settings/zalo-app\""),
        "no form for an env app"
    );
    assert!(!page.contains(ZALO_APP_SECRET));
    let r = app
        .post_from("/admin/settings", "/admin/settings/zalo-app/test", &[])
        .await;
    let section = text_of(&r.text().await.unwrap(), "#zalo-app");
    assert!(
        section.contains("chưa có cửa hàng nào đã kết nối"),
        "{section}"
    );
    // A forged save is refused while the environment holds the app.
    let r = app
        .post_from(
            "/admin/settings",
            "/admin/settings/zalo-app",
            &[("app_id", "1"), ("app_secret", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM zalo_apps")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

/// `cargo run` on a fresh machine: no ITS, no Zalo app configured. The generated sandbox
/// app and the fake Zalo's host let the whole OA step run.
#[tokio::test]
async fn in_sandbox_mode_the_generated_app_and_the_fake_zalo_just_work() {
    use shoplink::configuration::Settings;
    use shoplink::startup::Application;
    let dir = tempfile::tempdir().unwrap();
    let vars: std::collections::HashMap<String, String> = [
        ("BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL".to_owned(),
            dir.path().join("app.db").display().to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let app = Application::build(Settings::from_vars(&vars).unwrap())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let sandbox = app.sandbox_origin().unwrap().to_owned();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    create_test_user(&db, "fresh@example.vn", shoplink::domain::UserRole::Owner).await;

    let client = browser();
    let get = |path: String| {
        let client = client.clone();
        async move { client.get(path).send().await.unwrap() }
    };
    let post = |url: String, fields: Vec<(String, String)>| {
        let client = client.clone();
        async move { client.post(url).form(&fields).send().await.unwrap() }
    };
    let csrf = |html: String| csrf_in(&html);
    log_in_at(&client, &address, "fresh@example.vn").await;
    let page = get(format!("{address}/shops/new"))
        .await
        .text()
        .await
        .unwrap();
    let r = post(
        format!("{address}/shops"),
        vec![
            ("csrf_token".into(), csrf(page)),
            ("name".into(), "Cửa hàng Máy Mới".into()),
            ("phone".into(), unique_phone()),
            ("email".into(), unique_email()),
        ],
    )
    .await;
    let shop = location(&r)
        .trim_start_matches("/shops/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = get(format!("{address}/shops/{shop}"))
        .await
        .text()
        .await
        .unwrap();
    let token = csrf(page);
    let r = post(
        format!("{address}/shops/{shop}/connect"),
        vec![("csrf_token".into(), token.clone())],
    )
    .await;
    let login_page = get(location(&r)).await.text().await.unwrap();
    let (action, mut fields) = form_in(&login_page, "/login");
    fields.push(("action".into(), "approve".into()));
    let r = post(format!("{sandbox}{action}"), fields).await;
    let r = get(location(&r)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "ITS connected");

    let r = post(
        format!("{address}/shops/{shop}/zalo/connect"),
        vec![("csrf_token".into(), token)],
    )
    .await;
    let url = location(&r);
    assert!(
        url.starts_with("http://localhost:"),
        "the fake Zalo is allowed: {url}"
    );
    let oas = oas_on_zalo_page(&client, &url).await;
    let back = answer_on_zalo_page(&client, &url, "allow", &oas[0]).await;
    let r = get(back).await;
    assert_eq!(location(&r), format!("/shops/{shop}?oa=connected#zalo-oa"));
}

#[tokio::test]
async fn a_session_that_ended_on_zalos_page_logs_in_again_and_finishes() {
    let app = spawn_zalo_app().await;
    let shop = connected_shop(&app, "Cửa hàng Đăng Nhập Lại").await;
    let r = press_oa_connect(&app, &shop).await;
    let url = location(&r);
    let oas = oas_on_page(&app, &url).await;
    let back = answer_on_zalo(&app, &url, "allow", &oas[0]).await;
    // The session ended meanwhile (here: logged out; a timeout deletes it the same way).
    app.logout().await;
    let r = app.client.get(&back).send().await.unwrap();
    let login = location(&r);
    assert!(login.starts_with("/login?next="), "{login}");
    let next: String = url::Url::parse(&app.url(&login))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "next")
        .unwrap()
        .1
        .into_owned();
    assert!(next.starts_with("/zalo/callback?"), "{next}");
    app.login_owner().await;
    let r = app.get(&next).await;
    assert_eq!(
        outcome_of(&r, &shop),
        "connected",
        "the same user, a new login"
    );
    assert_eq!(oa_ids(&app, &shop).await.len(), 1);
}

#[tokio::test]
async fn a_slow_its_is_cut_off_and_said_plainly() {
    let mut options = zalo_options();
    options.its_timeout_secs = 1;
    let app = spawn_app_with(options).await;
    let shop = connected_shop(&app, "Cửa hàng Chậm").await;
    app.set_faults(Faults {
        latency: std::time::Duration::from_secs(3),
        ..Default::default()
    });
    let r = press_oa_connect(&app, &shop).await;
    let text = failure_shown(&app, &r, &shop, "its_down").await;
    assert!(text.contains("quá chậm"), "{text}");
    let grants = grant_count(&app).await;
    assert_eq!(grants, 0);
}
