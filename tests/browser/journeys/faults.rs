//! 5. A failing provider (the sandbox's fault injection) shows the reason in plain words
//!    and a retry, which works once the provider is back.

use super::*;

/// On the sandbox's page: the share of API calls that fail, in percent.
async fn set_failure_percent(s: &mut Session, percent: &str, shot: Option<&str>) {
    s.click(".sandbox-banner a").await;
    s.wait_for_sandbox().await;
    s.fill("#failure_rate", percent).await;
    s.fill("#latency_ms", "0").await;
    if let Some(name) = shot {
        s.shot(name).await;
    }
    s.click("form[action='/faults'] button[type=submit]").await;
}

pub async fn run(mut s: Session) {
    let owner = s.app.owner_email.clone();
    s.login(&owner).await;
    let shop = add_shop(
        &s,
        "Nhà thuốc Hoà Bình",
        "0911 222 333",
        "hoabinh@example.vn",
    )
    .await;
    let page = format!("/shops/{shop}");

    set_failure_percent(&mut s, "100", Some("sandbox-faults")).await;
    s.goto(&page).await;
    s.press(VI.connect_zalo).await;
    s.wait_for_path("the failure, its address cleaned", |p| p == page)
        .await;

    // The reason in plain words, the provider's own text as given, one obvious next step.
    assert_eq!(s.text(".page-head .badge").await, VI.state_failed);
    let failure = s.text(".failure[role=alert]").await;
    assert!(failure.contains(VI.failure_heading), "{failure}");
    assert!(failure.contains(VI.error_its_unavailable), "{failure}");
    assert!(!s.text(".provider-text").await.is_empty(), "what ITS said");
    assert_eq!(
        s.texts(".actions .button.primary").await,
        vec![VI.connect_again],
        "one obvious next action"
    );
    assert_eq!(s.app.shop_state(shop).await, "failed");
    s.shot("shop-failed").await;

    // Still failing: the retry fails the same way, and nothing breaks.
    s.press(VI.connect_again).await;
    s.wait_for_path("the failure, its address cleaned", |p| p == page)
        .await;
    assert!(s.text(".failure").await.contains(VI.error_its_unavailable));

    // ITS is back: the same button connects.
    s.goto(&page).await;
    set_failure_percent(&mut s, "0", None).await;
    s.goto(&page).await;
    connect_from_shop_page(&s, VI.connect_again).await;
    assert!(!s.exists(".failure").await, "the failure is gone");
    assert!(
        s.text(".timeline").await.contains(VI.error_its_unavailable),
        "and kept in the history"
    );
    s.shot("shop-connected-after-retry").await;
}
