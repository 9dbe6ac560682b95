//! 1. An owner logs in, adds a shop, connects it through the sandbox's approve page, and
//!    sees "Đã kết nối" with the ITS shop name.

use fantoccini::key::Key;
use shoplink::i18n::Messages;

use super::*;

pub async fn run(mut s: Session) {
    // A first visit goes to the login page, in Vietnamese (the browser asks for vi-VN).
    s.goto("/").await;
    s.wait_for_path("the login page", |p| p.starts_with("/login"))
        .await;
    assert_eq!(s.lang().await, "vi");
    assert_eq!(s.text("h1").await, VI.login_title);
    s.shot("login").await;

    // By keyboard: the first Tab shows the skip link; every focus is visibly outlined.
    s.key(Key::Tab).await;
    let focus = s.focused().await;
    assert_eq!(focus["class"], "skip", "{focus}");
    assert_eq!(focus["visible"], true, "the skip link shows when focused");
    assert_eq!(focus["outline"], true, "a visible focus ring");
    for _ in 0..6 {
        if s.focused().await["id"] == "email" {
            break;
        }
        s.key(Key::Tab).await;
        assert_eq!(s.focused().await["outline"], true, "a visible focus ring");
    }
    assert_eq!(s.focused().await["id"], "email", "Tab reaches the form");
    s.shot("login-keyboard").await;

    // A wrong password, typed and sent with Enter: a clear message, the email kept.
    s.find("#email")
        .await
        .send_keys(&s.app.owner_email)
        .await
        .unwrap();
    s.key(Key::Tab).await;
    s.find("#password")
        .await
        .send_keys("không phải mật khẩu")
        .await
        .unwrap();
    s.key(Key::Enter).await;
    assert_eq!(s.text("[role=alert]").await, VI.error_login_failed);
    assert_eq!(
        s.attr("#email", "value").await.as_deref(),
        Some(s.app.owner_email.as_str())
    );
    s.shot("login-failed").await;

    s.login(&s.app.owner_email.clone()).await;
    assert_eq!(s.path().await, "/shops");
    assert_eq!(s.text("h1").await, VI.shops_title);
    assert!(
        s.text(".empty").await.contains(VI.shops_empty),
        "empty state"
    );
    assert_eq!(
        s.attr("nav a[aria-current=page]", "href").await.as_deref(),
        Some("/shops")
    );
    s.shot("shops-empty").await;

    // The empty state's button leads to the form; a missing name is explained at the field.
    s.click(".empty a.button").await;
    s.find("#name").await;
    s.shot("new-shop").await;
    s.press(VI.save_shop).await;
    assert_eq!(s.text("#name-error").await, VI.error_shop_name_empty);
    assert_eq!(
        s.attr("#name", "aria-invalid").await.as_deref(),
        Some("true")
    );
    s.shot("new-shop-invalid").await;

    // A double click on "Lưu cửa hàng" adds one shop, not two.
    s.fill("#name", "Cửa hàng Hoa Mai").await;
    s.fill("#phone", "0912 345 678").await;
    s.fill("#email", "hoamai@example.vn").await;
    s.script(
        "const b = document.querySelector('form.form button[type=submit]'); b.click(); b.click();",
        vec![],
    )
    .await;
    s.wait_for_path("the new shop's page", |p| p.ends_with("?outcome=created"))
        .await;
    let shop = shop_id_here(&s).await;
    assert_eq!(s.app.shop_count().await, 1, "a double click adds one shop");

    // The shop's page: a flash, the state in words, where the owner is, what happens next.
    assert_eq!(s.text(".flash").await, VI.flash_shop_created);
    assert_eq!(s.text(".page-head .badge").await, VI.state_not_connected);
    assert!(s
        .text("li[aria-current=step]")
        .await
        .contains(VI.step_your_shop));
    assert_eq!(s.text(".state-text").await, VI.connect_explainer);
    assert!(s
        .c
        .title()
        .await
        .unwrap()
        .starts_with("Cửa hàng Hoa Mai · "));
    s.shot("shop-added").await;

    // "Kết nối Zalo" leads to the ITS login, pre-filled with the shop's details.
    s.press(VI.connect_zalo).await;
    s.wait_for_sandbox().await;
    assert_eq!(
        s.attr("#shop_name", "value").await.as_deref(),
        Some("Cửa hàng Hoa Mai")
    );
    s.shot("its-login").await;
    s.click("button[name=action][value=approve]").await;
    s.wait_for_path("the shop's page", |p| {
        p == format!("/shops/{shop}?outcome=connected")
    })
    .await;

    // Back: connected, with the ITS shop's name, the journey done, and a way back.
    let (its_id, its_name) = s.app.its_shop(shop).await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_connected);
    assert_eq!(
        s.text(".flash p").await,
        Messages::fill(VI.flash_connected, &[&its_name])
    );
    let facts = s.text("#connection-heading + .steps ~ .facts").await;
    assert!(facts.contains(&its_name), "{facts}");
    // The ITS id and the masked key wait behind "Chi tiết kỹ thuật" until it is opened.
    s.find(".tech-details summary")
        .await
        .click()
        .await
        .expect("open the technical details");
    let tech = s.text(".tech-details .facts").await;
    assert!(tech.contains(&its_id.to_string()), "{tech}");
    assert!(s.text("li[aria-current=step]").await.contains(VI.step_done));
    assert_eq!(
        s.texts("#connection-heading + .steps .step-done")
            .await
            .len(),
        3,
        "every step done"
    );
    assert!(
        s.text(".facts code").await.starts_with("****"),
        "the key masked"
    );
    s.shot("shop-connected").await;

    // The back button to the ITS page and forward again does no harm.
    s.c.back().await.unwrap();
    s.c.forward().await.unwrap();
    assert_eq!(s.app.shop_state(shop).await, "connected");

    s.follow(VI.flash_back_to_shops).await;
    s.wait_for_path("the list", |p| p == "/shops").await;
    assert_eq!(s.text(".shop-item .badge").await, VI.state_connected);
    assert!(s.text(".shop-item").await.contains(&its_name));
    assert!(
        s.text(".shop-item time").await.contains(VI.time_just_now),
        "a relative time"
    );
    s.shot("shops-list").await;

    // An owner who tries an admin page gets the 403 page in the same look.
    s.goto("/admin").await;
    assert_eq!(s.text("h1").await, VI.error_heading_forbidden);
    s.shot("forbidden").await;
    s.goto("/khong-co-trang-nay").await;
    assert_eq!(s.text("h1").await, VI.error_heading_not_found);
    assert!(s.text(".status-code").await.contains("404"));
    s.shot("not-found").await;
}
