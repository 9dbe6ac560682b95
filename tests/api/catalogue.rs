//! Every page, walked in Vietnamese: no English catalogue string may show on it (visible
//! text, the title, and the attributes a reader meets: placeholder, title, aria-label, alt).
//! Strings the two languages share ("Email", "ITS") are not English leaks; the provider's
//! own text (`.provider-text`) is shown as given and not checked.

use std::collections::{HashMap, HashSet};

use reqwest::StatusCode;
use scraper::{ElementRef, Html, Node};
use shoplink::i18n::Messages;
use shoplink::sandbox::Faults;

use crate::helpers::*;

/// English fragments to look for: each English value (split at its `{}` placeholders)
/// that is not also a Vietnamese value.
fn english_only() -> Vec<(&'static str, String)> {
    let vi: HashSet<&str> = Messages::VI.entries().into_iter().map(|(_, v)| v).collect();
    let vi_by_key: HashMap<&str, &str> = Messages::VI.entries().into_iter().collect();
    let mut out = Vec::new();
    for (key, en) in Messages::EN.entries() {
        if vi.contains(en) || vi_by_key.get(key) == Some(&en) {
            continue;
        }
        for part in en.split("{}") {
            let part = part.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == ',');
            if part.chars().filter(|c| c.is_alphabetic()).count() >= 3 && !vi.contains(part) {
                out.push((key, part.to_owned()));
            }
        }
    }
    out
}

/// What a reader meets on the page, one piece per text node or attribute.
fn readable_text(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut out = Vec::new();
    collect(doc.root_element(), &mut out);
    out
}

fn collect(element: ElementRef<'_>, out: &mut Vec<String>) {
    let e = element.value();
    if matches!(e.name(), "script" | "style") || e.classes().any(|c| c == "provider-text") {
        return;
    }
    for attr in ["placeholder", "title", "aria-label", "alt"] {
        if let Some(v) = e.attr(attr) {
            out.push(v.to_owned());
        }
    }
    if e.name() == "input" && matches!(e.attr("type"), Some("submit" | "button")) {
        out.extend(e.attr("value").map(str::to_owned));
    }
    for child in element.children() {
        match child.value() {
            Node::Text(t) => {
                let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
                if !t.is_empty() {
                    out.push(t);
                }
            }
            Node::Element(_) => collect(ElementRef::wrap(child).unwrap(), out),
            _ => {}
        }
    }
}

/// `needle` in `hay` as whole words (not "Shop" inside "Shopee").
fn contains_words(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The English strings on a Vietnamese page, with their catalogue keys.
fn english_on(html: &str, english: &[(&'static str, String)]) -> Vec<String> {
    let pieces = readable_text(html);
    let all = pieces.join(" \u{1} ");
    let mut found = Vec::new();
    for (key, text) in english {
        if contains_words(&all, text) {
            found.push(format!("{key}: {text:?}"));
        }
    }
    found
}

struct Walk {
    english: Vec<(&'static str, String)>,
    pages: usize,
    problems: Vec<String>,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            english: english_only(),
            pages: 0,
            problems: Vec::new(),
        }
    }

    fn check(&mut self, name: &str, html: &str) {
        self.pages += 1;
        let doc = Html::parse_document(html);
        let lang = doc
            .root_element()
            .value()
            .attr("lang")
            .unwrap_or("")
            .to_owned();
        if lang != "vi" {
            self.problems.push(format!("{name}: <html lang={lang:?}>"));
        }
        for leak in english_on(html, &self.english) {
            self.problems.push(format!("{name}: {leak}"));
        }
    }

    /// GETs a page (any status but a redirect) and checks it.
    async fn page(&mut self, app: &TestApp, path: &str) {
        let r = app.get(path).await;
        assert!(
            !r.status().is_redirection(),
            "GET {path} redirects to {:?}",
            r.headers().get("location")
        );
        let html = r.text().await.unwrap();
        self.check(path, &html);
    }

    /// Checks the page a form's answer shows (the answer itself, or where it redirects).
    async fn answer(&mut self, app: &TestApp, name: &str, r: reqwest::Response) {
        if r.status().is_redirection() {
            let to = location(&r);
            let path = to.strip_prefix(&app.address).unwrap_or(&to).to_owned();
            self.page(app, &path).await;
        } else {
            let html = r.text().await.unwrap();
            self.check(name, &html);
        }
    }
}

#[test]
fn the_leak_finder_finds_english_and_ignores_shared_words() {
    let english = english_only();
    assert!(english.iter().any(|(k, _)| *k == "connect_zalo"));
    assert!(
        !english.iter().any(|(k, _)| *k == "field_email"),
        "Email is both"
    );
    let vi_page =
        "<html lang=vi><title>Cửa hàng · shoplink</title><body><p>Email: a@b.vn · ITS</p>\
                   <span class=provider-text>Connect Zalo</span><p>Shopee</p></body></html>";
    assert_eq!(english_on(vi_page, &english), Vec::<String>::new());
    let leaky = "<html lang=vi><body><button>Connect Zalo</button>\
                 <input placeholder=\"Name, phone, email, shop id, ITS id\"><p>5 minutes ago</p></body></html>";
    let found = english_on(leaky, &english);
    assert!(
        found.iter().any(|f| f.starts_with("connect_zalo")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("admin_search_placeholder")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("time_minutes_ago")),
        "{found:?}"
    );
}

#[tokio::test]
async fn no_page_shows_english_to_a_vietnamese_reader() {
    let app = spawn_app().await;
    let mut walk = Walk::new();

    // Anonymous: login (and a failed login), a missing page, a broken callback.
    walk.page(&app, "/login").await;
    let token = csrf_in(&app.get_html("/login").await);
    let r = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", &app.owner_email),
                ("password", "sai mật khẩu rồi"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    walk.answer(&app, "failed login", r).await;
    walk.page(&app, "/khong-co-trang-nay").await;
    walk.page(&app, "/forgot-password").await;
    walk.page(&app, "/connect/callback?token=abc").await;

    // The owner: empty list, the form and its errors, every state of a shop.
    app.login_owner().await;
    walk.page(&app, "/shops").await;
    walk.page(&app, "/shops/new").await;
    let r = app
        .post_from(
            "/shops/new",
            "/shops",
            &[("name", ""), ("phone", "12"), ("email", "không-phải-email")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    walk.answer(&app, "invalid new shop", r).await;
    let r = app
        .post_form("/shops", &[("csrf_token", "sai"), ("name", "Cửa hàng")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    walk.answer(&app, "CSRF refusal", r).await;

    let connected = app.add_shop("Cửa hàng Hoa Mai").await;
    walk.page(&app, &format!("/shops/{connected}?outcome=created"))
        .await;
    let (callback, r) = app.connect_through_its(&connected).await;
    walk.answer(&app, "connected", r).await;
    let r = app.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    walk.answer(&app, "used callback", r).await;
    let forged = replace_param(&callback, "token", &"A".repeat(43));
    let r = app.client.get(&forged).send().await.unwrap();
    walk.answer(&app, "unknown callback", r).await;
    walk.page(&app, "/shops").await;

    let pending = app.add_shop("Tiệm bánh Minh Anh").await;
    assert_eq!(
        app.press_connect(&pending).await.status(),
        StatusCode::SEE_OTHER
    );
    walk.page(&app, &format!("/shops/{pending}")).await;
    // The edit page, and its answer to invalid input.
    let edit = format!("/shops/{pending}/edit");
    walk.page(&app, &edit).await;
    let r = app
        .post_from(
            &edit,
            &edit,
            &[("name", " "), ("phone", "12"), ("email", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    walk.answer(&app, "invalid shop edit", r).await;

    // A browser's way back from ITS: the "Đang hoàn tất kết nối…" page.
    let finishing = app.add_shop("Tiệm hoa Lan").await;
    let r = app.press_connect(&finishing).await;
    let back = app.approve_on_its(&location(&r)).await;
    let r = app
        .client
        .get(&back)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    walk.answer(&app, "finishing", r).await;

    let gone = app.add_shop("Quán phở Thìn").await;
    app.connect_through_its(&gone).await;
    walk.page(&app, &format!("/shops/{gone}/disconnect")).await;
    let r = app
        .post_from(
            &format!("/shops/{gone}"),
            &format!("/shops/{gone}/disconnect"),
            &[],
        )
        .await;
    walk.answer(&app, "disconnected", r).await;

    // ITS asks for another login on the way back: the login-again page.
    let again = app.add_shop("Nhà sách Phương Nam").await;
    let r = app.press_connect(&again).await;
    let back = app.approve_on_its(&location(&r)).await;
    let its_id: i64 = shop_id_param(&back).parse().unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let r = app.client.get(&back).send().await.unwrap();
    walk.answer(&app, "callback answer after an unlink", r)
        .await;

    app.set_faults(Faults {
        failure_rate: 1.0,
        ..Default::default()
    });
    let failed = app.add_shop("Nhà thuốc Hoà Bình").await;
    let r = app.press_connect(&failed).await;
    walk.answer(&app, "failed", r).await;
    app.set_faults(Faults::default());

    let reauth = app.add_shop("Cửa hàng điện máy Đức Trí").await;
    app.connect_through_its(&reauth).await;
    let reauth_its = app.its_shop_id(&reauth).await.unwrap();
    app.sandbox_shop_action(reauth_its, "unlink").await;
    walk.page(&app, "/admin").await; // 403 for an owner
    app.logout().await;

    // The admin: every admin page, every outcome of a shop's page.
    let r = app.login_as(&app.admin_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in [
        "/admin",
        "/admin/shops",
        "/admin/shops?q=hoa+binh",
        "/admin/shops?q=khong+co+gi&state=failed",
        "/admin/shops?state=connected&sort=name",
        "/admin/users",
        "/admin/users/new",
        "/admin/settings",
        "/admin/jobs",
        "/admin/api-keys",
        "/admin/webhooks",
    ] {
        walk.page(&app, path).await;
    }
    // Forms sent back with errors: the summary and the title's "Có lỗi:" in Vietnamese too.
    for (page, action, fields) in [
        ("/admin/webhooks", "/admin/webhooks", &[("url", "x")][..]),
        ("/admin/api-keys", "/admin/api-keys", &[("name", "")][..]),
        ("/admin/users/new", "/admin/users", &[("email", "x")][..]),
    ] {
        let r = app.post_from(page, action, fields).await;
        walk.answer(&app, action, r).await;
    }
    let owner_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(&app.owner_email)
        .fetch_one(&app.db)
        .await
        .unwrap();
    walk.page(&app, &format!("/admin/users/{owner_id}")).await;
    walk.page(&app, &format!("/admin/users/{owner_id}/disable"))
        .await;
    for shop in [&connected, &pending, &gone, &failed] {
        walk.page(&app, &format!("/admin/shops/{shop}")).await;
    }
    walk.page(&app, &format!("/admin/shops/{connected}/disconnect"))
        .await;
    for shop in [&connected, &pending, &reauth] {
        let r = app
            .post_from(
                &format!("/admin/shops/{shop}"),
                &format!("/admin/shops/{shop}/verify"),
                &[],
            )
            .await;
        walk.answer(&app, "verify", r).await;
    }
    app.set_faults(Faults {
        failure_rate: 1.0,
        ..Default::default()
    });
    let r = app
        .post_from(
            &format!("/admin/shops/{connected}"),
            &format!("/admin/shops/{connected}/verify"),
            &[],
        )
        .await;
    walk.answer(&app, "verify while ITS fails", r).await;
    app.set_faults(Faults::default());
    let r = app
        .post_from(
            &format!("/admin/shops/{connected}"),
            &format!("/admin/shops/{connected}/disconnect"),
            &[],
        )
        .await;
    walk.answer(&app, "admin disconnect", r).await;
    app.logout().await;

    // The owner sees the re-auth state the verify found.
    app.login_owner().await;
    walk.page(&app, &format!("/shops/{reauth}")).await;
    walk.page(&app, "/shops").await;

    assert!(walk.pages >= 35, "walked {} pages", walk.pages);
    assert!(
        walk.problems.is_empty(),
        "English on Vietnamese pages:\n{}",
        walk.problems.join("\n")
    );
}

#[tokio::test]
async fn the_sandbox_banner_is_vietnamese_too() {
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            dir.path().join("app.db").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = shoplink::configuration::Settings::from_vars(&vars).unwrap();
    let app = shoplink::startup::Application::build(settings)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let html = browser()
        .get(format!("{address}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(Messages::VI.sandbox_badge));
    let mut walk = Walk::new();
    walk.check("/login in sandbox mode", &html);
    assert!(walk.problems.is_empty(), "{:?}", walk.problems);
}

/// A failure code or history reason this version does not know (written by another
/// version) reads as a generic message: the page still answers, in the catalogue's words,
/// never a bare "?" or the stored name.
#[tokio::test]
async fn unknown_stored_reasons_read_as_a_generic_message() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Tương Lai").await;
    let id = uuid::Uuid::parse_str(&shop).unwrap();
    sqlx::query(
        "UPDATE shops SET state = 'failed', failure_code = 'error_from_a_later_version' WHERE id = ?",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO shop_events (shop_id, at, actor, from_state, to_state, reason) \
         VALUES (?, 1, 'its', 'pending', 'failed', 'event_from_a_later_version | detail')",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    let r = app.get(&format!("/shops/{shop}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let m = &Messages::VI;
    assert!(html.contains(m.reason_unknown), "history: {html}");
    assert!(html.contains(m.error_its_unknown), "failure: {html}");
    assert!(!html.contains("a_later_version"), "{html}");
}

#[tokio::test]
async fn the_zalo_oa_pages_are_vietnamese_too() {
    use crate::zalo_oa::*;
    let app = spawn_zalo_app().await;
    let mut walk = Walk::new();
    let shop = connected_shop(&app, "Cửa hàng Hoa Mai").await;
    walk.page(&app, &format!("/shops/{shop}")).await;
    // Every outcome the shop page can show after a redirect.
    for code in [
        "connected",
        "renewed",
        "app_saved",
        "app_removed",
        "no_app",
        "app_unreadable",
        "shop_not_connected",
        "key_rejected",
        "app_refused",
        "host_refused",
        "its_down",
        "its_bad_answer",
        "denied",
        "callback_malformed",
        "state_unknown",
        "state_used",
        "state_expired",
        "state_foreign",
        "code_reused",
        "renew_other_oa",
        "oa_of_another_shop",
        "connect_refused",
        "no_package",
        "oa_not_found",
        "renew_not_due",
        "quota_exhausted",
        "oa_disconnected",
        "oa_expired",
        "template_unavailable",
        "send_refused",
        "send_failed",
        "its_refused",
    ] {
        walk.page(&app, &format!("/shops/{shop}?oa={code}")).await;
    }
    let (_, r) = connect_oa(&app, &shop, 1).await;
    walk.answer(&app, "no package", r).await;
    let (_, r) = connect_oa(&app, &shop, 0).await;
    walk.answer(&app, "connected", r).await;
    let oa: String = sqlx::query_scalar("SELECT oa_id FROM zalo_oas")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let test = format!("/shops/{shop}/zalo/oas/{oa}/test");
    walk.page(&app, &test).await;
    walk.page(&app, &format!("{test}?template=231500")).await;
    let r = send_test_message(&app, &test, "231501", &[("phone", "12")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    walk.answer(&app, "test form errors", r).await;
    let r = send_test_message(
        &app,
        &test,
        "231501",
        &[("phone", "0912345678"), ("p_customer_name", "Chị Mai")],
    )
    .await;
    walk.answer(&app, "test sent", r).await;
    let r = app
        .post_from(
            &format!("/shops/{shop}"),
            &format!("/shops/{shop}/zalo/app"),
            &[("app_id", "x")],
        )
        .await;
    walk.answer(&app, "own app refused", r).await;
    let r = app.get("/zalo/callback?code=x&oa_id=1&state=99").await;
    walk.answer(&app, "unknown state", r).await;
    let r = app.get("/zalo/callback?state=1").await;
    walk.answer(&app, "malformed callback", r).await;
    app.logout().await;

    login_admin(&app).await;
    walk.page(&app, "/admin/settings").await;
    let r = app
        .post_from("/admin/settings", "/admin/settings/zalo-app/test", &[])
        .await;
    walk.answer(&app, "zalo app check", r).await;
    let r = app
        .post_from(
            "/admin/settings",
            "/admin/settings/zalo-app",
            &[("app_id", "1"), ("app_secret", "x")],
        )
        .await;
    walk.answer(&app, "zalo app from env", r).await;

    assert!(walk.pages >= 45, "walked {} pages", walk.pages);
    assert!(
        walk.problems.is_empty(),
        "English on Vietnamese pages:\n{}",
        walk.problems.join("\n")
    );
}
