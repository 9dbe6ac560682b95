//! What an owner reads before and around "Kết nối Zalo" (issue 11): the card (what you
//! get, what to prepare, how long), the technical details tucked away, the partner's own
//! name and contacts (`PARTNER_*`), and a link that stopped working made urgent.

use reqwest::StatusCode;

use crate::helpers::*;

/// `html` with every `<details>` element removed: what a reader sees without opening one.
fn without_details(html: &str) -> String {
    let mut out = html.to_owned();
    while let (Some(start), Some(end)) = (out.find("<details"), out.find("</details>")) {
        out.replace_range(start..end + "</details>".len(), "");
    }
    out
}

const ZALO_LINKS: [&str; 5] = [
    "https://oa.zalo.me",
    "https://developers.zalo.me/createapp",
    "https://developers.zalo.me/apps",
    "https://zalo.cloud/blog/huong-dan-lien-ket-app-id-vao-tai-khoan-zalo-cloud-account-zca/",
    "https://oa.zalo.me/home/resources/policy/",
];

fn assert_card(html: &str, page: &str) {
    let card = text_of(html, ".zalo-card");
    for words in [
        "Kết nối Zalo mang lại gì cho cửa hàng?",
        "thông báo Zalo (ZNS)",
        "xác nhận đơn hàng",
        "Zalo OA",
        "ứng dụng Zalo",
        "đã kích hoạt",
        "Zalo Cloud (ZCA)",
        "gói OA trả phí",
        "Mất bao lâu?",
    ] {
        assert!(
            card.contains(words),
            "{page}: the card says {words:?}: {card}"
        );
    }
    for link in ZALO_LINKS {
        assert!(
            html.contains(&format!("href=\"{link}")),
            "{page}: the card links to {link}"
        );
    }
}

#[tokio::test]
async fn the_card_shows_on_the_empty_list_the_add_page_and_a_new_shops_page() {
    let app = spawn_app().await;
    app.login_owner().await;
    assert_card(&app.get_html("/shops").await, "/shops (empty)");
    assert_card(&app.get_html("/shops/new").await, "/shops/new");
    let shop = app.add_shop("Cửa hàng Hoa Mai").await;
    assert_card(&app.get_html(&format!("/shops/{shop}")).await, "new shop");
}

#[tokio::test]
async fn key_and_provider_id_sit_behind_technical_details_and_jargon_is_gone() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Hoa Mai").await;
    let (_, r) = app.connect_through_its(&shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let its_id = app.its_shop_id(&shop).await.unwrap().to_string();
    let html = app.get_html(&format!("/shops/{shop}")).await;

    let details = text_of(&html, "details.tech-details");
    assert!(details.contains("Chi tiết kỹ thuật"), "{details}");
    assert!(details.contains("Khoá cửa hàng"), "{details}");
    assert!(details.contains(&its_id), "the ITS id is in the details");
    assert!(
        !html.contains("<details class=\"tech-details\" open"),
        "closed until the owner opens it"
    );

    let everyday = text_of(&without_details(&html), "main");
    for jargon in ["Khoá cửa hàng", "Mã cửa hàng ITS", "Kết nối ITS"] {
        assert!(
            !everyday.contains(jargon),
            "{jargon:?} outside the technical details: {everyday}"
        );
    }
    assert!(
        !everyday.contains(&its_id),
        "the ITS id only in the details"
    );
    assert!(everyday.contains("Kết nối Zalo"), "{everyday}");
    // Once connected the card is no longer in the way: only the Zalo OA step's checklist
    // holds it, collapsed.
    assert!(text_of(&without_details(&html), ".zalo-card").is_empty());
    assert!(html.contains("<details class=\"zalo-checklist\">"));
    let list = app.get_html("/shops").await;
    assert!(!text_of(&list, "main").contains("Cửa hàng trên ITS"));
}

/// A tiny PNG (1×1, transparent).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

#[tokio::test]
async fn the_partners_name_logo_and_contacts_show_on_every_frame() {
    let logo_dir = tempfile::tempdir().unwrap();
    let logo = logo_dir.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let app = spawn_app_with(AppOptions {
        extra_env: vec![
            ("PARTNER_NAME", "Sao Mai POS".into()),
            ("PARTNER_LOGO_FILE", logo.display().to_string()),
            ("PARTNER_SUPPORT_PHONE", "1900 6868".into()),
            (
                "PARTNER_SUPPORT_URL",
                "https://saomai.example.vn/ho-tro".into(),
            ),
            (
                "PARTNER_HELP_URL",
                "https://saomai.example.vn/huong-dan".into(),
            ),
        ],
        ..Default::default()
    })
    .await;

    // The login page: the logo (from our own origin) in the header, the contacts in the
    // footer, and the way to "Quên mật khẩu?".
    let login = app.get_html("/login").await;
    assert!(
        login.contains(r#"<img class="brand-logo" src="/partner-logo" alt="Sao Mai POS">"#),
        "{login}"
    );
    let foot = text_of(&login, "footer");
    assert!(
        foot.contains("Sao Mai POS") && foot.contains("1900 6868"),
        "{foot}"
    );
    assert!(login.contains(r#"href="tel:19006868""#));
    assert!(login.contains(r#"href="https://saomai.example.vn/ho-tro""#));
    assert!(login.contains(r#"href="https://saomai.example.vn/huong-dan""#));
    assert!(login.contains(r#"href="/forgot-password""#));
    assert!(text_of(&login, "title").contains("Sao Mai POS"));

    let r = app.get("/partner-logo").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // "Quên mật khẩu?" says whom to contact.
    let forgot = app.get_html("/forgot-password").await;
    let main = text_of(&forgot, "main");
    assert!(main.contains("Quên mật khẩu?"), "{main}");
    assert!(main.contains("người quản trị của Sao Mai POS"), "{main}");
    assert!(
        main.contains("1900 6868") && main.contains("Liên hệ hỗ trợ"),
        "{main}"
    );

    // An error page too, in the card itself.
    let r = app.get("/khong-co-trang-nay").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    let card = text_of(&html, ".error-card");
    assert!(card.contains("hãy liên hệ Sao Mai POS"), "{card}");
    assert!(card.contains("1900 6868"), "{card}");

    // And the owner's pages.
    app.login_owner().await;
    let shops = app.get_html("/shops").await;
    assert!(shops.contains(r#"src="/partner-logo""#));
    assert!(text_of(&shops, "footer").contains("1900 6868"));
}

#[tokio::test]
async fn without_partner_settings_the_frame_shows_a_text_mark_and_no_empty_contacts() {
    let app = spawn_app().await;
    let login = app.get_html("/login").await;
    assert_eq!(text_of(&login, "header .brand").trim(), "shoplink");
    assert!(!login.contains("<img"), "no logo without PARTNER_LOGO_FILE");
    assert!(!login.contains("partner-contact"), "no empty contact list");
    assert_eq!(
        app.get("/partner-logo").await.status(),
        StatusCode::NOT_FOUND
    );
    let main = text_of(&app.get_html("/forgot-password").await, "main");
    assert!(main.contains("người quản trị của shoplink"), "{main}");
    assert!(
        main.contains("Hãy liên hệ người đã tạo tài khoản cho bạn."),
        "{main}"
    );
}

#[tokio::test]
async fn a_bad_partner_setting_stops_the_start_with_a_readable_message() {
    let vars = [
        ("PARTNER_SUPPORT_PHONE", "gọi cho chúng tôi"),
        ("PARTNER_SUPPORT_URL", "javascript:alert(1)"),
        ("PARTNER_HELP_URL", "saomai.example.vn"),
        ("PARTNER_LOGO_FILE", "/khong/co/logo.png"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let err = shoplink::configuration::Settings::from_vars(&vars)
        .unwrap_err()
        .to_string();
    for name in [
        "PARTNER_SUPPORT_PHONE",
        "PARTNER_SUPPORT_URL",
        "PARTNER_HELP_URL",
        "PARTNER_LOGO_FILE",
    ] {
        assert!(err.contains(name), "{name} reported: {err}");
    }
}

/// Connects `shop` for the logged-in owner, then has ITS drop the key and an admin's
/// "Kiểm tra ngay" find it: the shop needs its owner to log in again.
async fn break_link(app: &TestApp, admin: &reqwest::Client, shop: &str) {
    let (_, r) = app.connect_through_its(shop).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let its_id = app.its_shop_id(shop).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let page = app.html_as(admin, &format!("/admin/shops/{shop}")).await;
    let r = admin
        .post(app.url(&format!("/admin/shops/{shop}/verify")))
        .form(&[("csrf_token", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.shop_state(shop).await, "needs_reauth");
}

#[tokio::test]
async fn a_broken_link_is_urgent_on_the_list_and_the_shop_page() {
    let app = spawn_app().await;
    let admin = app.logged_in_browser(&app.admin_email).await;

    // Another owner's broken shop never counts in this owner's summary.
    let r = app.login_as(&app.other_owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let theirs = app.add_shop("Cửa hàng của người khác").await;
    break_link(&app, &admin, &theirs).await;
    app.logout().await;

    app.login_owner().await;
    let fine = app.add_shop("Cửa hàng Hoa Mai").await;
    app.connect_through_its(&fine).await;
    let broken = [
        app.add_shop("Tiệm bánh Minh Anh").await,
        app.add_shop("Quán phở Thìn").await,
    ];
    for shop in &broken {
        break_link(&app, &admin, shop).await;
    }

    let list = app.get_html("/shops").await;
    let summary = text_of(&list, ".reauth-summary");
    assert!(
        summary.contains("2 cửa hàng cần đăng nhập lại"),
        "{summary}"
    );
    assert!(list.contains(r#"class="reauth-summary" role="alert""#));
    for shop in &broken {
        assert!(
            list.contains(&format!(r#"action="/shops/{shop}/connect""#)),
            "the list card of {shop} has the log-in-again action"
        );
    }
    assert!(
        !list.contains(&format!(r#"action="/shops/{fine}/connect""#)),
        "a working shop has no such action on the list"
    );
    assert_eq!(
        list.matches("Tin nhắn Zalo đang không gửi được").count(),
        2,
        "each broken shop says what is broken"
    );

    // The action on the list card leaves for ITS at once.
    let (action, fields) = form_in(&list, &format!("/shops/{}/connect", broken[0]));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app.post_form(&action, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&r).starts_with(&app.sandbox_origin),
        "{}",
        location(&r)
    );

    // The shop page: a banner in the owner's words with the action.
    let page = app.get_html(&format!("/shops/{}", broken[1])).await;
    let banner = text_of(&page, ".reauth-banner");
    assert!(
        banner.contains("Tin nhắn Zalo đang không gửi được"),
        "{banner}"
    );
    assert!(banner.contains("Đăng nhập lại"), "{banner}");
    assert!(page.contains(r#"class="reauth-banner" role="alert""#));

    // A working shop's page has no banner; with no broken shop, no summary.
    let ok = app.get_html(&format!("/shops/{fine}")).await;
    assert!(text_of(&ok, ".reauth-banner").is_empty());
    app.logout().await;
    let r = app.login_as(&app.other_owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let theirs_list = app.get_html("/shops").await;
    assert!(text_of(&theirs_list, ".reauth-summary").contains("1 cửa hàng cần đăng nhập lại"));
}

/// The callback as a browser asks for it (an HTML navigation).
async fn browse(app: &TestApp, url: &str) -> reqwest::Response {
    app.client
        .get(url)
        .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap()
}

async fn event_count(app: &TestApp, shop: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM shop_events WHERE shop_id = ?")
        .bind(uuid::Uuid::parse_str(shop).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_return_from_its_answers_at_once_and_finishes_without_javascript() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Hoa Mai").await;
    let r = app.press_connect(&shop).await;
    let callback = app.approve_on_its(&location(&r)).await;
    let token = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("the callback carries a token");
    let events_before = event_count(&app, &shop).await;

    // ITS fails every call now: the waiting page still comes at once, because it calls
    // nobody — the shop has not moved and its history is unchanged.
    app.set_faults(shoplink::sandbox::Faults {
        failure_rate: 1.0,
        ..Default::default()
    });
    let r = browse(&app, &callback).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("shoplink_connect_finish="))
        .expect("the callback's parameters wait in a cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/connect/finish"),
        "{cookie}"
    );
    let html = r.text().await.unwrap();
    assert!(
        text_of(&html, "h1").contains("Đang hoàn tất kết nối…"),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta http-equiv="refresh" content="0;url=/connect/finish">"#),
        "moves on by itself, without JavaScript"
    );
    assert!(
        !html.contains(&token),
        "the token is in no link of the page"
    );
    assert!(!html.contains("<script>"), "no inline script");
    assert_eq!(app.shop_state(&shop).await, "pending");
    assert_eq!(event_count(&app, &shop).await, events_before);
    app.set_faults(shoplink::sandbox::Faults::default());

    // Where the refresh leads: the work, then the shop's page; the cookie is gone.
    let r = browse(&app, &app.url("/connect/finish")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/shops/{shop}?outcome=connected"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(
        set_cookie_value(&r, "shoplink_connect_finish").as_deref(),
        Some("")
    );
    assert_eq!(app.shop_state(&shop).await, "connected");

    // A reload of the finish URL, or of the callback, connects nothing twice.
    let r = browse(&app, &app.url("/connect/finish")).await;
    assert_eq!(location(&r), "/shops");
    let r = browse(&app, &callback).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = browse(&app, &app.url("/connect/finish")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(text_of(&r.text().await.unwrap(), "main").contains("đã được dùng"));
}

#[tokio::test]
async fn a_forged_or_malformed_return_is_refused_on_the_browser_path_too() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Giả").await;
    let r = app.press_connect(&shop).await;
    let callback = app.approve_on_its(&location(&r)).await;

    let malformed = replace_param(&callback, "shop_id", "-5");
    let r = browse(&app, &malformed).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "refused before any waiting page"
    );
    assert!(set_cookie_value(&r, "shoplink_connect_finish").is_none());

    let forged = replace_param(&callback, "token", &"A".repeat(43));
    let r = browse(&app, &forged).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = browse(&app, &app.url("/connect/finish")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy yêu cầu kết nối này"));
    assert_eq!(app.shop_state(&shop).await, "pending");

    // Another browser without the owner's session cannot finish with a copied cookie.
    let r = browse(&app, &callback).await;
    let saved = set_cookie_value(&r, "shoplink_connect_finish").unwrap();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let stranger = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = stranger.get(app.url("/login")).send().await.unwrap();
    let login_token = csrf_in(&login.text().await.unwrap());
    let r = stranger
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", login_token.as_str()),
            ("email", app.other_owner_email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    jar.add_cookie_str(
        &format!("shoplink_connect_finish={saved}; Path=/connect/finish"),
        &app.url("/connect/finish").parse().unwrap(),
    );
    let r = stranger
        .get(app.url("/connect/finish"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "refused: another user's attempt"
    );
    assert_eq!(app.shop_state(&shop).await, "pending");
}

#[tokio::test]
async fn the_connect_button_says_it_is_on_its_way_with_a_static_script() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Hoa Mai").await;
    let html = app.get_html(&format!("/shops/{shop}")).await;
    let (action, _) = form_in(&html, &format!("/shops/{shop}/connect"));
    assert_eq!(action, format!("/shops/{shop}/connect"));
    assert!(
        html.contains(r#"data-busy-form data-busy-label="Đang chuyển sang ITS…""#),
        "{html}"
    );
    assert!(html.contains(r#"<script src="/static/app.js" defer></script>"#));
    assert!(!html.contains("<script>"), "no inline script");
    let js = app.get("/static/app.js").await.text().await.unwrap();
    assert!(js.contains("data-busy-form") && js.contains("data-busy-label"));
}
