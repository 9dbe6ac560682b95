//! The web layer's own defences (issue 9, sections 4, 5 and 8): compressed and slow request
//! bodies, no-store on pages behind a login, private data files, the 404 page's language
//! link, a CSV export that breaks mid-way, a password check that cannot be made.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::api_support::{expect_error, spawn_api_app};
use crate::helpers::*;

/// `n` zero bytes, gzipped: about a thousandth of their size.
fn gzip_bomb(n: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let take = left.min(block.len());
        encoder.write_all(&block[..take]).unwrap();
        left -= take;
    }
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_compressed_request_body_is_refused_unread_and_responses_are_still_compressed() {
    let app = spawn_app().await;
    let bomb = gzip_bomb(10 << 20);
    assert!(bomb.len() < 64 * 1024, "a small body: {} bytes", bomb.len());
    let r = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        r.text().await.unwrap().contains("ở dạng nén"),
        "a clear page"
    );

    // Every spelling and list counts; only `identity` (no encoding) passes.
    for encoding in ["GZIP", "identity, gzip", "deflate", "br", "zstd"] {
        let r = app
            .client
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-encoding", encoding)
            .body("email=a")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{encoding}");
    }
    let page = app.get_html("/login").await;
    let r = app
        .client
        .post(app.url("/login"))
        .header("content-encoding", "identity")
        .form(&[
            ("csrf_token", csrf_in(&page).as_str()),
            ("email", app.owner_email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "identity is no encoding");

    // Answers are still compressed for a browser that accepts it.
    let r = app
        .client
        .get(app.url("/shops"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn an_api_json_body_is_never_decompressed() {
    let app = spawn_api_app(&[]).await;
    let key = app.create_key("Nén", &["connect:write"]).await;
    let body = serde_json::to_vec(&json!({
        "external_user_id": "gz-user",
        "external_shop_id": "gz-shop",
        "shop_name": "Cửa hàng Nén",
    }))
    .unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&body).unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/connect-links"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(encoder.finish().unwrap())
        .send()
        .await
        .unwrap();
    expect_error(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let shops: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shops")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(shops, 0, "the decoded body was never acted on");
}

/// Sends `head` on a raw connection, then one body byte (`chunk(b)`) every 100 ms until the
/// server closes the connection or 30 s pass; returns everything the server sent.
async fn trickle(address: &str, head: String, chunk: fn(u8) -> Vec<u8>) -> String {
    let stream = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        for i in 0u32.. {
            if write
                .write_all(&chunk(b'a' + (i % 26) as u8))
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read_all = tokio::time::timeout(Duration::from_secs(30), read.read_to_end(&mut answer));
    let closed = read_all.await;
    writer.abort();
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the server still held the connection after 30 s; it sent {:?}",
        String::from_utf8_lossy(&answer)
    );
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_trickled_byte_by_byte_gets_408_and_the_connection_is_closed() {
    let app = spawn_app_with(AppOptions {
        extra_env: vec![("REQUEST_BODY_TIMEOUT_SECS", "1".into())],
        ..AppOptions::default()
    })
    .await;
    let host = app.address.trim_start_matches("http://").to_owned();
    // 60,000 bytes at ten a second would take well over an hour.
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
    );
    let answer = trickle(&app.address, head, |b| vec![b]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("quá chậm"), "a clear page: {answer}");

    // The same with a chunked body.
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let answer = trickle(&app.address, head, |b| {
        format!("1\r\n{}\r\n", b as char).into_bytes()
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // The API answers in JSON.
    let head = format!(
        "POST /api/v1/connect-links HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
    );
    let answer = trickle(&app.address, head, |b| vec![b]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");

    // A body sent at once is read as always.
    app.login_owner().await;
}

#[tokio::test]
async fn every_page_behind_a_login_is_never_stored() {
    let app = spawn_app().await;
    app.login_owner().await;
    let shop = app.add_shop("Cửa hàng Riêng Tư").await;
    let mut pages = vec![
        "/".to_owned(),
        "/shops".to_owned(),
        "/shops/new".to_owned(),
        format!("/shops/{shop}"),
        format!("/shops/{shop}/disconnect"),
        "/no-such-page".to_owned(),
    ];
    for page in &pages {
        let r = app.get(page).await;
        assert_eq!(r.headers()["cache-control"], "no-store", "owner: {page}");
    }
    let admin = app.logged_in_browser(&app.admin_email).await;
    pages = vec![
        "/admin".into(),
        "/admin/shops".into(),
        format!("/admin/shops/{shop}"),
        "/admin/shops.csv".into(),
        "/admin/users".into(),
        "/admin/users/new".into(),
        "/admin/jobs".into(),
        "/admin/settings".into(),
        "/admin/api-keys".into(),
        "/admin/webhooks".into(),
    ];
    for page in &pages {
        let r = admin.get(app.url(page)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "admin: {page}");
        assert_eq!(r.headers()["cache-control"], "no-store", "admin: {page}");
    }
    // Static files keep their own caching, logged in or not.
    let r = app.get("/static/app.css").await;
    assert_ne!(r.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_404_pages_language_link_stays_on_this_site() {
    let app = spawn_app().await;
    // reqwest would clean the path up itself: send it as a browser's address bar might.
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET /\\evil.example HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let html = &answer[answer.find("\r\n\r\n").unwrap()..];
    let doc = Html::parse_document(html);
    let hrefs: Vec<&str> = doc
        .select(&Selector::parse("a[href*='lang=']").unwrap())
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(hrefs, ["/evil.example?lang=en"]);
}

#[tokio::test]
async fn a_database_error_in_the_middle_of_the_csv_export_breaks_the_download() {
    let app = spawn_app().await;
    let secret = shoplink::crypto::SecretKey::parse(&app.secret_hex).unwrap();
    shoplink::seed::seed(&app.db, &secret, 1_500, 5)
        .await
        .unwrap();
    let admin = app.logged_in_browser(&app.admin_email).await;
    let whole = app.html_as(&admin, "/admin/shops.csv").await;
    assert_eq!(whole.lines().count(), 1_501, "the header and every shop");

    // The shop exported last (oldest change) now holds a name that is not UTF-8:
    // the first thousand rows go out, the second page fails.
    sqlx::query(
        "UPDATE shops SET name = name || CAST(x'ff' AS TEXT)
          WHERE id = (SELECT id FROM shops ORDER BY updated_at, id LIMIT 1)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let r = admin.get(app.url("/admin/shops.csv")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the status line went out first");
    let body = r.bytes().await;
    assert!(
        body.is_err(),
        "the transfer must break, not end like a complete file ({} bytes)",
        body.map(|b| b.len()).unwrap_or(0)
    );
}

#[tokio::test]
async fn a_password_check_that_cannot_be_made_is_a_500_not_a_wrong_password() {
    let app = spawn_app().await;
    // A hash that parses but holds no output: the check cannot be made.
    sqlx::query(
        "UPDATE users SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ'
          WHERE email = ?",
    )
    .bind(&app.owner_email)
    .execute(&app.db)
    .await
    .unwrap();
    let r = app.login_as(&app.owner_email).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let failures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_throttle")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(failures, 0, "not counted as a failed login");
}

#[cfg(unix)]
#[tokio::test]
async fn a_fresh_data_folder_and_every_file_in_it_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // Sandbox mode, nothing configured: the app creates the folder, its database, the
    // sandbox's database and the generated secret.
    let vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            data.join("shoplink.db").display().to_string(),
        ),
        ("VERIFY_INTERVAL_SECS", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = shoplink::configuration::Settings::from_vars(&vars).unwrap();
    let app = shoplink::startup::Application::build(settings)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let server = tokio::spawn(app.run_until_stopped());
    // A write through the app, so the write-ahead log exists.
    shoplink::services::accounts::create_user(
        &db,
        &shoplink::password::Hasher::default(),
        "modes@example.vn",
        "Chủ",
        shoplink::domain::UserRole::Owner,
        PASSWORD,
    )
    .await
    .unwrap();
    let r = reqwest::get(format!("{address}/login")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(mode(&path), 0o600, "{name}");
        names.push(name);
    }
    names.sort();
    for expected in [
        "sandbox.db",
        "secret.key",
        "shoplink.db",
        "shoplink.db-shm",
        "shoplink.db-wal",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    server.abort();
}
