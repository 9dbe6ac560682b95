//! 2. The owner's shop is unlinked on the sandbox; the admin presses "Verify now"; the
//!    owner sees "Cần đăng nhập lại" and reconnects.

use super::*;

pub async fn run(mut s: Session) {
    let owner = s.app.owner_email.clone();
    let admin = s.app.admin_email.clone();
    s.login(&owner).await;
    add_shop(
        &s,
        "Tiệm bánh Minh Anh",
        "0987 654 321",
        "minhanh@example.vn",
    )
    .await;
    let shop = connect_from_shop_page(&s, VI.connect_zalo).await;
    let (its_id, _) = s.app.its_shop(shop).await;

    // The sandbox banner leads to the sandbox's own page, where the shop is unlinked.
    s.click(".sandbox-banner a").await;
    s.wait_for_sandbox().await;
    let unlink = format!("form[action='/shops/{its_id}/unlink'] button");
    s.find(&unlink).await;
    s.shot("sandbox-shops").await;
    s.click(&unlink).await;
    assert!(!s.exists(&unlink).await, "unlinked on ITS");

    // The app does not know yet: the admin re-checks the key.
    s.goto("/shops").await;
    s.logout().await;
    s.login(&admin).await;
    assert_eq!(s.path().await, "/admin");
    assert_eq!(s.text("h1").await, VI.admin_overview_title);
    s.shot("admin-overview").await;
    s.goto(&format!("/admin/shops/{shop}")).await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_connected);
    s.shot("admin-shop").await;
    s.press(VI.admin_verify_now).await;
    s.wait_for_path("the verify outcome, its address cleaned", |p| {
        p == format!("/admin/shops/{shop}")
    })
    .await;
    assert_eq!(s.text(".flash").await, VI.flash_verify_needs_reauth);
    assert_eq!(s.attr(".flash", "role").await.as_deref(), Some("alert"));
    assert_eq!(s.text(".page-head .badge").await, VI.state_needs_reauth);
    assert!(s.text(".timeline").await.contains(VI.event_key_rejected));
    s.shot("admin-verify-needs-reauth").await;
    s.logout().await;

    // The owner sees it in the list and on the shop's page, with one obvious action.
    s.login(&owner).await;
    assert_eq!(s.text(".shop-item .badge").await, VI.state_needs_reauth);
    s.shot("shops-needs-reauth").await;
    s.click(".shop-item a.shop-name").await;
    s.find(".state-text").await;
    assert_eq!(s.text(".state-text").await, VI.needs_reauth_explainer);
    assert_eq!(s.text(".actions button.primary").await, VI.reconnect_zalo);
    s.shot("shop-needs-reauth").await;

    // Reconnect: ITS knows the shop and asks for a login again.
    s.press(VI.reconnect_zalo).await;
    s.wait_for_sandbox().await;
    s.find("button[name=action][value=approve]").await;
    s.shot("its-login-again").await;
    approve_on_its(&s).await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_connected);
    assert_eq!(s.app.shop_state(shop).await, "connected");
    assert_eq!(
        s.app.its_shop(shop).await.0,
        its_id,
        "the same ITS shop again"
    );
    s.shot("shop-reconnected").await;
}
