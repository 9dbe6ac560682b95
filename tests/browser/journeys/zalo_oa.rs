//! 6. An owner connects ITS, reads the checklist, connects the shop's Zalo OA on the fake
//!    Zalo permission page, sees the OA's card, sends a test ZNS and finds it on the
//!    sandbox's test phone.

use super::*;

pub async fn run(mut s: Session) {
    s.login(&s.app.owner_email.clone()).await;
    add_shop(&s, "Cửa hàng Hoa Sen", "0912 345 679", "hoasen@example.vn").await;
    let shop = connect_from_shop_page(&s, VI.connect_zalo).await;

    // Step ②: the checklist waits, collapsed, before the button; opened, it links Zalo's pages.
    let step = s.text("#zalo-oa").await;
    assert!(step.contains(VI.oa_step_intro), "{step}");
    assert!(
        s.exists("#zalo-oa details.zalo-checklist:not([open])")
            .await
    );
    s.find("#zalo-oa details.zalo-checklist summary")
        .await
        .click()
        .await
        .expect("open the checklist");
    let checklist = s.text("#zalo-oa .zalo-checklist").await;
    assert!(
        checklist.contains(VI.zalo_card_prepare_package),
        "{checklist}"
    );
    assert_eq!(
        s.attr(
            "#zalo-oa .zalo-checklist a[href^='https://oa.zalo.me']",
            "target"
        )
        .await
        .as_deref(),
        Some("_blank")
    );
    s.shot("oa-step-checklist").await;

    // "Kết nối Zalo OA" → the fake Zalo's permission page, on another host.
    s.press(VI.oa_connect).await;
    let zalo = s.url().await;
    assert!(
        zalo.as_str().starts_with("http://localhost:"),
        "sent to the fake Zalo: {zalo}"
    );
    let zalo_origin = zalo.origin().ascii_serialization();
    s.shot("zalo-permission").await;
    // The ready OA comes first and is picked already.
    assert!(s.exists("input[name=oa_id]:checked").await);
    s.click("button[name=action][value=allow]").await;
    s.wait_for_path("the shop's page after Zalo", |p| {
        p == format!("/shops/{shop}?oa=connected")
    })
    .await;

    // The OA's card.
    assert_eq!(s.text("#zalo-oa .flash").await, VI.flash_oa_connected);
    let card = s.text(".oa-card").await;
    assert!(card.contains(VI.oa_status_connected), "{card}");
    assert!(
        card.contains("còn 89 ngày") || card.contains("còn 90 ngày"),
        "{card}"
    );
    assert!(s.exists(".oa-card meter.oa-quota").await);
    s.shot("oa-card").await;

    // "Gửi tin thử": pick the order template, fill its form, send.
    s.follow(VI.oa_send_test).await;
    s.wait_for_path("the test page", |p| p.ends_with("/test"))
        .await;
    s.press(VI.zns_test_choose).await;
    s.fill("#p_customer_name", "Chị Lan").await;
    s.fill("#p_order_code", "DH-2048").await;
    s.fill("#p_amount", "350000").await;
    s.fill("#p_order_date", "30/11/2026").await;
    s.fill("#zns-phone", "0912345679").await;
    s.shot("zns-test-form").await;
    s.press(VI.zns_test_send).await;
    assert_eq!(s.text("h1").await, VI.zns_result_sent_heading);
    assert!(s.text("dl").await.contains(VI.zns_delivery_received));
    s.shot("zns-test-sent").await;

    // On the sandbox's test phone: the message as the recipient reads it.
    s.goto(&format!("{zalo_origin}/phone")).await;
    let phone = s.text("body").await;
    assert!(phone.contains("DH-2048"), "{phone}");
    s.shot("zalo-phone").await;
}
