//! 4. The language switch turns a page English and back, keeping the page and its query;
//!    the choice is remembered for the next pages.

use super::*;

pub async fn run(mut s: Session) {
    let owner = s.app.owner_email.clone();
    s.login(&owner).await;
    let shop = add_shop(&s, "Quán phở Thìn", "0903 111 222", "phothin@example.vn").await;
    assert_eq!(s.lang().await, "vi");
    assert_eq!(s.text("a.lang").await, VI.switch_language);

    // English: the same page, the same query (the flash is still there), in English.
    s.click("a.lang").await;
    let path = s
        .wait_for_path("the English page", |p| p.contains("lang=en"))
        .await;
    assert!(
        path.starts_with(&format!("/shops/{shop}?")) && path.contains("lang=en"),
        "the switch keeps the path and the query: {path}"
    );
    assert_eq!(s.lang().await, "en");
    assert_eq!(s.text(".flash").await, EN.flash_shop_created);
    assert_eq!(
        s.text("#connection-heading").await,
        EN.owner_connection_heading
    );
    assert_eq!(s.text(".actions button.primary").await, EN.connect_zalo);
    assert!(s
        .text("li[aria-current=step]")
        .await
        .contains(EN.step_your_shop));
    assert_eq!(s.text("a.lang").await, EN.switch_language);
    assert_eq!(s.attr("a.lang", "lang").await.as_deref(), Some("vi"));
    s.shot("shop-en").await;

    // Remembered: the next pages are English too.
    s.follow(EN.nav_shops).await;
    s.wait_for_path("the list", |p| p == "/shops").await;
    assert_eq!(s.text("h1").await, EN.shops_title);
    assert_eq!(s.text(".shop-item .badge").await, EN.state_not_connected);
    s.shot("shops-en").await;
    s.goto("/shops/new").await;
    assert_eq!(s.text("h1").await, EN.new_shop_title);
    s.shot("new-shop-en").await;
    s.goto("/no-such-page").await;
    assert_eq!(s.text("h1").await, EN.error_heading_not_found);
    assert_eq!(s.lang().await, "en");
    s.shot("not-found-en").await;
    s.goto("/shops").await;
    s.logout().await;
    assert_eq!(s.text("h1").await, EN.login_title);
    s.shot("login-en").await;

    // The admin's pages in English, then back to Vietnamese from a filtered list.
    s.login(&s.app.admin_email.clone()).await;
    assert_eq!(s.text("h1").await, EN.admin_overview_title);
    s.shot("admin-overview-en").await;
    s.goto("/admin/shops?q=pho&state=not_connected").await;
    assert_eq!(s.texts("a.shop-link").await, vec!["Quán phở Thìn"]);
    assert_eq!(s.text(".data-table .badge").await, EN.state_not_connected);
    s.shot("admin-shops-en").await;
    s.goto(&format!("/admin/shops/{shop}")).await;
    assert_eq!(s.text("#main h2").await, EN.connection_heading);
    s.shot("admin-shop-en").await;
    s.goto("/admin/shops?q=pho&state=not_connected").await;
    s.click("a.lang").await;
    let path = s
        .wait_for_path("the Vietnamese page", |p| p.contains("lang=vi"))
        .await;
    assert!(
        path.starts_with("/admin/shops?")
            && path.contains("q=pho")
            && path.contains("state=not_connected"),
        "the switch keeps the search: {path}"
    );
    assert_eq!(s.lang().await, "vi");
    assert_eq!(s.text("h1").await, VI.admin_shops_title);
    assert_eq!(s.attr("#q", "value").await.as_deref(), Some("pho"));
    assert_eq!(s.texts("a.shop-link").await, vec!["Quán phở Thìn"]);
    s.shot("admin-shops-vi").await;
    s.follow(VI.nav_admin_overview).await;
    s.wait_for_path("the overview", |p| p == "/admin").await;
    assert_eq!(s.text("h1").await, VI.admin_overview_title, "remembered");
}
