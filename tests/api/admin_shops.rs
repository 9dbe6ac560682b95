use std::collections::HashSet;

use reqwest::StatusCode;
use shoplink::store::shop_list::{build_query, Cursor, ShopFilter, Sort};

use crate::helpers::*;

/// Shop ids linked from a list page, in order, and its "next" link.
fn list_page(html: &str) -> (Vec<String>, Option<String>) {
    let doc = scraper::Html::parse_document(html);
    let links = scraper::Selector::parse("a.shop-link").unwrap();
    let next = scraper::Selector::parse("a[rel=next]").unwrap();
    let ids = doc
        .select(&links)
        .map(|a| {
            a.value()
                .attr("href")
                .unwrap()
                .trim_start_matches("/admin/shops/")
                .to_owned()
        })
        .collect();
    let next = doc
        .select(&next)
        .next()
        .map(|a| a.value().attr("href").unwrap().to_owned());
    (ids, next)
}

async fn insert_shops(app: &TestApp, names: &[&str]) {
    let owner: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(&app.owner_email)
        .fetch_one(&app.db)
        .await
        .unwrap();
    for (i, name) in names.iter().enumerate() {
        sqlx::query(
            "INSERT INTO shops (id, owner_id, name, search_name, phone, state, updated_at, created_at)
             VALUES (?, ?, ?, ?, ?, 'not_connected', ?, ?)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(owner)
        .bind(name)
        .bind(shoplink::domain::fold_for_search(name))
        .bind(format!("09{:08}", i))
        .bind(1_000 + i as i64)
        .bind(1_000)
        .execute(&app.db)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn an_owner_gets_403_on_every_admin_page() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Chủ").await;
    for path in [
        "/admin",
        "/admin/shops",
        &format!("/admin/shops/{shop}"),
        "/admin/shops.csv",
        &format!("/admin/shops/{shop}/disconnect"),
    ] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let csrf = csrf_in(&app.get_html("/shops").await);
    for path in [
        format!("/admin/shops/{shop}/verify"),
        format!("/admin/shops/{shop}/disconnect"),
    ] {
        let r = app.post_form(&path, &[("csrf_token", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
}

#[tokio::test]
async fn the_overview_counts_shops_per_state() {
    let app = spawn_app().await;
    app.login_owner().await;
    let a = app.add_shop("Cửa hàng A").await;
    app.add_shop("Cửa hàng B").await;
    app.connect_through_its(&a).await;
    app.logout().await;
    login_admin(&app).await;
    let html = app.get_html("/admin").await;
    assert!(
        html.contains("1 · 50.0%"),
        "one of two shops connected: {html}"
    );
    assert!(html.contains("<svg"), "drawn as bars");
}

#[tokio::test]
async fn search_ignores_case_and_vietnamese_diacritics() {
    let app = spawn_app().await;
    insert_shops(
        &app,
        &[
            "Cửa hàng Hòa Mai",
            "Tiệm bánh Minh Anh",
            "Nhà thuốc Hoà Bình",
        ],
    )
    .await;
    login_admin(&app).await;
    for (query, expected) in [
        ("cua hang hoa", vec!["Cửa hàng Hòa Mai"]),
        ("Hòa", vec!["Cửa hàng Hòa Mai", "Nhà thuốc Hoà Bình"]),
        ("HOA", vec!["Cửa hàng Hòa Mai", "Nhà thuốc Hoà Bình"]),
        ("minh", vec!["Tiệm bánh Minh Anh"]),
        ("ba", vec!["Tiệm bánh Minh Anh"]),
        ("bi", vec!["Nhà thuốc Hoà Bình"]),
        ("0900000001", vec!["Tiệm bánh Minh Anh"]),
    ] {
        let url = format!(
            "/admin/shops?{}",
            serde_urlencoded::to_string([("q", query)]).unwrap()
        );
        let html = app.get_html(&url).await;
        for name in [
            "Cửa hàng Hòa Mai",
            "Tiệm bánh Minh Anh",
            "Nhà thuốc Hoà Bình",
        ] {
            assert_eq!(
                html.contains(name),
                expected.contains(&name),
                "{query:?} and {name:?}"
            );
        }
    }
}

#[tokio::test]
async fn pages_have_no_duplicates_or_gaps_while_rows_change_between_pages() {
    let app = spawn_app().await;
    let names: Vec<String> = (0..130).map(|i| format!("Cửa hàng số {i:03}")).collect();
    insert_shops(&app, &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    login_admin(&app).await;

    let (first, next) = list_page(&app.get_html("/admin/shops").await);
    assert_eq!(first.len(), 50);
    // Between pages: a new shop arrives and a not-yet-seen one changes (moves to the top).
    insert_shops(&app, &["Cửa hàng mới"]).await;
    sqlx::query("UPDATE shops SET updated_at = 999999 WHERE name = 'Cửa hàng số 010'")
        .execute(&app.db)
        .await
        .unwrap();

    let mut seen: Vec<String> = first;
    let mut next = next;
    while let Some(url) = next {
        let (ids, n) = list_page(&app.get_html(&url).await);
        seen.extend(ids);
        next = n;
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no shop appears twice");
    // Every shop that did not change is there exactly once, and so is the new one (it sorts
    // after the cursor); the one that moved before the cursor is on page one now.
    let id_of = |name: &'static str| {
        let db = app.db.clone();
        async move {
            let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM shops WHERE name = ?")
                .bind(name)
                .fetch_one(&db)
                .await
                .unwrap();
            id.to_string()
        }
    };
    assert_eq!(seen.len(), 130, "129 unchanged shops and the new one");
    assert!(seen.contains(&id_of("Cửa hàng mới").await));
    assert!(!seen.contains(&id_of("Cửa hàng số 010").await));
}

#[tokio::test]
async fn the_filter_lives_in_the_url_and_sorting_by_name_pages_too() {
    let app = spawn_app().await;
    let names: Vec<String> = (0..60).map(|i| format!("Shop {i:02}")).collect();
    insert_shops(&app, &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    login_admin(&app).await;
    let (ids, next) = list_page(
        &app.get_html("/admin/shops?sort=name&state=not_connected")
            .await,
    );
    assert_eq!(ids.len(), 50);
    let next = next.expect("a second page");
    assert!(
        next.contains("sort=name") && next.contains("state=not_connected"),
        "{next}"
    );
    let (rest, none) = list_page(&app.get_html(&next).await);
    assert_eq!(rest.len(), 10);
    assert!(none.is_none());
    let html = app.get_html("/admin/shops?state=connected").await;
    assert!(list_page(&html).0.is_empty());
}

#[tokio::test]
async fn verify_now_keeps_a_working_key_and_marks_a_rejected_one_needs_reauth() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Kiểm Tra").await;
    app.connect_through_its(&shop).await;
    app.logout().await;
    login_admin(&app).await;

    let page = format!("/admin/shops/{shop}");
    let r = app.post_from(&page, &format!("{page}/verify"), &[]).await;
    assert_eq!(location(&r), format!("{page}?outcome=verified"));
    assert_eq!(app.shop_state(&shop).await, "connected");

    let its_id = app.its_shop_id(&shop).await.unwrap();
    app.sandbox_shop_action(its_id, "unlink").await;
    let r = app.post_from(&page, &format!("{page}/verify"), &[]).await;
    assert_eq!(location(&r), format!("{page}?outcome=needs_reauth"));
    assert_eq!(app.shop_state(&shop).await, "needs_reauth");
    let html = app.get_html(&format!("{page}?outcome=needs_reauth")).await;
    assert!(
        html.contains("ITS từ chối khoá (401)"),
        "the history says why"
    );
}

#[tokio::test]
async fn an_admin_disconnect_deletes_the_key() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Ngắt").await;
    app.connect_through_its(&shop).await;
    app.logout().await;
    login_admin(&app).await;
    let page = format!("/admin/shops/{shop}/disconnect");
    let confirm = app.get_html(&page).await;
    assert!(
        confirm.contains("Có, ngắt kết nối"),
        "asks for confirmation first"
    );
    let r = app.post_from(&page, &page, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.shop_state(&shop).await, "disconnected");
    let key: Option<Vec<u8>> = sqlx::query_scalar("SELECT key_ciphertext FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(key.is_none());
}

#[tokio::test]
async fn the_export_is_utf8_csv_with_bom_escaped_and_without_keys() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng \"Hòa\", Mai").await;
    app.add_shop("=HYPERLINK(\"http://evil\")").await;
    app.connect_through_its(&shop).await;
    let its_id = app.its_shop_id(&shop).await.unwrap();
    let key = crate::connect::its_key(&app, &its_id.to_string()).await;
    app.logout().await;
    login_admin(&app).await;

    let r = app.get("/admin/shops.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "starts with a BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().any(|r| &r[1] == "Cửa hàng \"Hòa\", Mai"),
        "quotes and commas survive"
    );
    assert!(
        rows.iter().any(|r| r[1].starts_with("'=HYPERLINK")),
        "formulas are defused"
    );
    assert!(
        !text.contains(&key) && !text.contains(key.split(':').nth(1).unwrap()),
        "no shop key"
    );

    let filtered = app
        .get("/admin/shops.csv?state=connected")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        filtered.lines().count(),
        2,
        "header and the one connected shop"
    );
}

#[tokio::test]
async fn list_and_filter_queries_use_indexes_not_full_scans() {
    let app = spawn_app().await;
    let owner = uuid::Uuid::new_v4();
    let cursor = Cursor::Updated {
        updated_at: 5,
        id: owner,
    };
    let filters = [
        ShopFilter::default(),
        ShopFilter {
            after: Some(cursor.clone()),
            ..Default::default()
        },
        ShopFilter {
            state: Some(shoplink::domain::ConnectionState::Failed),
            after: Some(cursor),
            ..Default::default()
        },
        ShopFilter {
            owner: Some(owner),
            ..Default::default()
        },
        ShopFilter {
            sort: Sort::Name,
            ..Default::default()
        },
        ShopFilter {
            query: Some("hoa mai".into()),
            ..Default::default()
        },
    ];
    for filter in filters {
        let mut qb = build_query(&filter, 51);
        let sql = format!("EXPLAIN QUERY PLAN {}", qb.sql());
        // Re-bind the same values: run the plan on the exact query the app runs.
        let _ = &mut qb;
        let plan: Vec<(i64, i64, i64, String)> = {
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
            if let Some(text) = &filter.query {
                q = q.bind(format!("\"{text}\""));
            }
            if let Some(state) = filter.state {
                q = q.bind(state.as_str());
            }
            if let Some(owner) = filter.owner {
                q = q.bind(owner);
            }
            if let Some(Cursor::Updated { updated_at, id }) = &filter.after {
                q = q.bind(*updated_at).bind(*id);
            }
            q.bind(51i64).fetch_all(&app.db).await.unwrap()
        };
        let details: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
        let scans_shops = details
            .iter()
            .any(|d| d.starts_with("SCAN s") && !d.contains("USING"));
        assert!(
            !scans_shops,
            "full scan of shops for {filter:?}: {details:?}"
        );
        assert!(
            !details.iter().any(|d| d.contains("USE TEMP B-TREE")),
            "sorts every match in memory for {filter:?}: {details:?}"
        );
    }
}
