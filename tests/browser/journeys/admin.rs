//! 3. An admin searches a shop without diacritics, opens it, disconnects it with the
//!    confirmation, and exports the list.

use super::*;

pub async fn run(mut s: Session) {
    let owner = s.app.owner_email.clone();
    s.app
        .insert_shops(&[
            "Nhà thuốc Hoà Bình",
            "Tiệm bánh Minh Anh",
            "Quán phở Thìn",
            "Cửa hàng điện máy Đức Trí",
        ])
        .await;
    s.login(&owner).await;
    add_shop(&s, "Cửa hàng Hòa Mai", "0912 000 111", "hoamai@example.vn").await;
    let shop = connect_from_shop_page(&s, VI.connect_zalo).await;
    s.logout().await;

    s.login(&s.app.admin_email.clone()).await;
    s.follow(VI.nav_admin_shops).await;
    s.wait_for_path("the shop list", |p| p == "/admin/shops")
        .await;
    assert_eq!(s.texts("a.shop-link").await.len(), 5);
    assert_eq!(s.text(".pager-range").await, "1–5 / 5 cửa hàng");
    assert_eq!(
        s.text("a.chip[aria-current=page]")
            .await
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        format!("{} 5", VI.admin_all_shops)
    );
    // A normal row is compact on a laptop (about 40 px), not a 65 px block.
    s.emulate_width(crate::browser::DESKTOP).await;
    let row = s
        .script(
            "return document.querySelector('table.data-table tbody tr').getBoundingClientRect().height",
            vec![],
        )
        .await
        .as_f64()
        .unwrap();
    assert!(row <= 44.0, "a list row is {row} px high at 1280 px");
    s.cdp(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .await;
    s.shot("admin-shops").await;
    // A chip filters the list by its state.
    s.click("a.chip-connected").await;
    s.wait_for_path("the connected shops", |p| {
        p == "/admin/shops?state=connected"
    })
    .await;
    assert_eq!(
        s.texts("a.shop-link").await,
        vec!["Cửa hàng Hòa Mai".to_owned()]
    );
    s.goto("/admin/shops").await;

    // Without diacritics and in lower case, "cua hang hoa" finds "Cửa hàng Hòa Mai" only.
    s.fill("#q", "cua hang hoa").await;
    s.press(VI.admin_apply_filters).await;
    s.wait_for_path("the search", |p| p.contains("q=cua")).await;
    assert_eq!(s.texts("a.shop-link").await, vec!["Cửa hàng Hòa Mai"]);
    assert_eq!(
        s.attr("#q", "value").await.as_deref(),
        Some("cua hang hoa"),
        "the search stays in the box"
    );
    s.shot("admin-search").await;

    // A search that finds nothing says what to try.
    s.fill("#q", "khong co cua hang nay").await;
    s.press(VI.admin_apply_filters).await;
    s.wait_for_path("the search", |p| p.contains("q=khong"))
        .await;
    assert!(s.text(".empty").await.contains(VI.admin_no_shops_match));
    s.shot("admin-search-empty").await;
    s.c.back().await.unwrap();

    s.follow("Cửa hàng Hòa Mai").await;
    s.wait_for_path("the shop's page", |p| p == format!("/admin/shops/{shop}"))
        .await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_connected);
    s.shot("admin-shop").await;

    // Disconnect asks first; the answer is a flash and the new state.
    s.follow(VI.disconnect).await;
    s.wait_for_path("the confirmation", |p| p.ends_with("/disconnect"))
        .await;
    assert_eq!(s.text("h1").await, VI.disconnect_title);
    s.shot("admin-disconnect-confirm").await;
    s.press(VI.disconnect_confirm).await;
    s.wait_for_path("the shop's page, its address cleaned", |p| {
        p == format!("/admin/shops/{shop}")
    })
    .await;
    assert_eq!(s.text(".flash").await, VI.flash_disconnected);
    assert_eq!(s.text(".page-head .badge").await, VI.state_disconnected);
    assert_eq!(s.app.shop_state(shop).await, "disconnected");
    // Said once: a reload of the cleaned address shows the state, not the message again.
    s.c.refresh().await.unwrap();
    s.wait_for_path("the reloaded page", |p| p == format!("/admin/shops/{shop}"))
        .await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_disconnected);
    assert!(
        !s.exists(".flash").await,
        "the message is not repeated on reload"
    );
    assert!(
        !s.exists("#connection-heading ~ .facts code").await,
        "no key is shown after a disconnect"
    );
    s.shot("admin-disconnected").await;

    // Resending the confirmation (a double click, the back button) changes nothing more.
    s.c.back().await.unwrap();
    s.wait_for_path("the confirmation", |p| p.ends_with("/disconnect"))
        .await;
    s.press(VI.disconnect_confirm).await;
    s.wait_for_path("the shop's page, its address cleaned", |p| {
        p == format!("/admin/shops/{shop}")
    })
    .await;
    assert_eq!(s.text(".page-head .badge").await, VI.state_disconnected);

    // The export: the list as CSV, fetched as the browser would download it.
    s.follow(&format!("← {}", VI.admin_all_shops)).await;
    s.wait_for_path("the list", |p| p == "/admin/shops").await;
    let href = s
        .attr("a[href^='/admin/shops.csv']", "href")
        .await
        .expect("an export link");
    assert_eq!(
        s.text("a[href^='/admin/shops.csv']").await,
        VI.admin_export_csv
    );
    let answer = s
        .c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(async (r) => done([r.status, r.headers.get('content-type'),
               r.headers.get('content-disposition'), await r.text()]), (e) => done([0, '', '', String(e)]));",
            vec![serde_json::Value::String(href)],
        )
        .await
        .expect("the export downloads");
    let (status, kind, disposition, body): (u16, String, String, String) =
        serde_json::from_value(answer).expect("four values");
    assert_eq!(status, 200, "{body}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let mut csv = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let header = csv.headers().unwrap().clone();
    assert_eq!(&header[1], VI.field_shop_name);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5, "every shop");
    let row = rows
        .iter()
        .find(|r| &r[1] == "Cửa hàng Hòa Mai")
        .expect("the shop is in the export");
    let state = header
        .iter()
        .position(|h| h == VI.csv_state)
        .expect("a state column");
    assert_eq!(&row[state], VI.state_disconnected);
    assert!(!body.contains("****"), "never a shop key, not even masked");

    // The admin forms with checkboxes (password reset, API key scopes, webhook events):
    // the page check finds any box that is not beside its label.
    s.goto("/admin/users").await;
    s.follow(&owner).await;
    s.wait_for_path("the owner's page", |p| p.starts_with("/admin/users/"))
        .await;
    assert!(s.exists("label.check input[name=confirm]").await);
    s.shot("admin-user").await;
    s.goto("/admin/api-keys").await;
    assert!(s.exists("label.check input[name=scope]").await);
    s.shot("admin-api-keys").await;
    s.goto("/admin/webhooks").await;
    assert!(s.exists("label.check input[name=event_type]").await);
    s.shot("admin-webhooks").await;
    // An endpoint whose deliveries all fail says so in words and red, not a green "active";
    // its deliveries read as cards on a phone.
    let hook = s.app.insert_failing_webhook(shop).await;
    s.goto("/admin/webhooks").await;
    assert_eq!(s.text("td .badge").await, VI.webhook_failing);
    s.goto(&format!("/admin/webhooks/{hook}")).await;
    assert_eq!(s.text(".page-head .badge").await, VI.webhook_failing);
    assert!(s.exists(".badge-failed").await);
    s.shot("admin-webhook-failing").await;

    // Bulk verify (nothing left connected: it ends at once, 100%, nothing failed). The
    // script reloads the page when a run ends; wait for the page that shows the end.
    s.goto("/admin/jobs").await;
    s.press(VI.jobs_start).await;
    s.wait_for_path("the started run, its address cleaned", |p| {
        p == "/admin/jobs"
    })
    .await;
    let started = std::time::Instant::now();
    while s.exists("[data-job-progress]").await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the run ends"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        s.text("[data-job-field=percent_text]").await,
        shoplink::i18n::Messages::fill(VI.jobs_percent_done, &["100"])
    );
    assert!(
        s.attr("form[action='/admin/jobs/verify'] button", "disabled")
            .await
            .is_none(),
        "the start button works again"
    );
    s.shot("admin-jobs-ended").await;
}
