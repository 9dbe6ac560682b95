//! The real binary as a process: killed with SIGKILL in the middle of a connection, and
//! stopped with SIGTERM while a request is in flight.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{browser, create_test_user, csrf_in, form_in, location, log_in_at, PARTNER_KEY};
use shoplink::sandbox::{self, Faults, SandboxControl};

struct Setup {
    dir: tempfile::TempDir,
    sandbox: SandboxControl,
    sandbox_origin: String,
    env: Vec<(String, String)>,
    address: String,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let running = sandbox::start(
        sandbox::SandboxSettings {
            api_key: PARTNER_KEY.into(),
            database_path: dir.path().join("sandbox.db"),
            faults: Faults::default(),
            partner_name: "Test partner".into(),
            white_label: false,
            registered_redirect_urls: Vec::new(),
        },
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await
    .unwrap();
    tokio::spawn(running.server);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db_path = dir.path().join("app.db");
    let db = shoplink::store::connect(&db_path).await.unwrap();
    create_test_user(&db, "owner@example.vn", shoplink::domain::UserRole::Owner).await;
    db.close().await;
    let env = vec![
        ("BIND".to_owned(), format!("127.0.0.1:{port}")),
        ("DATABASE_URL".to_owned(), db_path.display().to_string()),
        ("ITS_BASE_URL".to_owned(), running.base_url.clone()),
        ("ITS_API_KEY".to_owned(), PARTNER_KEY.to_owned()),
        ("SECRET_KEY".to_owned(), "ab".repeat(32)),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ];
    Setup {
        dir,
        sandbox: running.control,
        sandbox_origin: running.origin,
        env,
        address: format!("http://127.0.0.1:{port}"),
    }
}

/// The app's process; killed when dropped, so a failing test leaves no server behind.
struct Running(Option<Child>);

impl Running {
    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    fn id(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    fn wait_with_output(mut self) -> std::process::Output {
        self.0.take().expect("running").wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start(setup: &Setup) -> Running {
    Running(Some(
        Command::new(env!("CARGO_BIN_EXE_shoplink"))
            .arg("serve")
            .envs(setup.env.iter().cloned())
            .current_dir(setup.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ))
}

async fn wait_healthy(address: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(r) = reqwest::get(format!("{address}/healthz")).await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the app did not become healthy");
}

/// Waits (at most 20 s) until the app no longer answers new connections.
async fn wait_not_accepting(address: &str) {
    let probe = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if probe
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the app kept accepting connections after SIGTERM");
}

/// Logs in, adds a shop, presses connect and approves on ITS; returns the shop id and the callback URL.
async fn approved_callback(client: &reqwest::Client, setup: &Setup) -> (String, String) {
    let a = &setup.address;
    log_in_at(client, a, "owner@example.vn").await;
    let csrf = csrf_in(
        &client
            .get(format!("{a}/shops/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = client
        .post(format!("{a}/shops"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Cửa hàng Bền Bỉ"),
            ("email", "ben@example.vn"),
        ])
        .send()
        .await
        .unwrap();
    let shop = location(&r)
        .trim_start_matches("/shops/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let r = client
        .post(format!("{a}/shops/{shop}/connect"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let callback = approve_on_its(client, setup, &location(&r)).await;
    (shop, callback)
}

/// Approves on the sandbox's login page; returns where ITS sends the browser back.
async fn approve_on_its(client: &reqwest::Client, setup: &Setup, auth_url: &str) -> String {
    let html = client
        .get(auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, mut fields) = form_in(&html, "/login");
    fields.push(("action".into(), "approve".into()));
    let r = client
        .post(format!("{}{}", setup.sandbox_origin, action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    location(&r)
}

async fn db_state(setup: &Setup) -> sqlx::SqlitePool {
    shoplink::store::connect(&setup.dir.path().join("app.db"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sigkill_in_the_middle_of_a_connection_leaves_nothing_half_done() {
    let setup = setup().await;
    let mut app = start(&setup);
    wait_healthy(&setup.address).await;
    let client = browser();
    let (shop, callback) = approved_callback(&client, &setup).await;

    // ITS now holds its answer: the callback is waiting on it when the process dies.
    setup.sandbox.hold();
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.get(&callback).send().await }
    });
    setup.sandbox.wait_until_held(1).await;
    app.kill();
    assert!(
        pending.await.unwrap().is_err(),
        "the request died with the process"
    );

    let db = db_state(&setup).await;
    let half: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM shops WHERE (state IN ('connected', 'needs_reauth') AND key_ciphertext IS NULL)
            OR (key_ciphertext IS NOT NULL AND state NOT IN ('connected', 'needs_reauth', 'failed', 'pending'))",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        half, 0,
        "no connected shop without its key, no key without its shop"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM shops")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(state, "pending");
    db.close().await;

    // After a restart the owner simply tries again.
    setup.sandbox.release();
    let mut app = start(&setup);
    wait_healthy(&setup.address).await;
    let a = &setup.address;
    let csrf = csrf_in(
        &client
            .get(format!("{a}/shops/{shop}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = client
        .post(format!("{a}/shops/{shop}/connect"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    // ITS kept the approval, so it may hand the key over at once (no second login).
    let mut next = location(&r);
    if !next.starts_with('/') {
        let callback = approve_on_its(&client, &setup, &next).await;
        let r = client.get(callback).send().await.unwrap();
        next = location(&r);
    }
    assert_eq!(next, format!("/shops/{shop}?outcome=connected"));
    app.kill();
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_before_exiting() {
    let setup = setup().await;
    let app = start(&setup);
    wait_healthy(&setup.address).await;
    let client = browser();
    let (shop, callback) = approved_callback(&client, &setup).await;

    // ITS holds its answer: the callback is in flight, waiting on it, when SIGTERM comes.
    setup.sandbox.hold();
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.get(&callback).send().await }
    });
    setup.sandbox.wait_until_held(1).await;
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(app.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    // ITS answers only once the app has begun to shut down (it no longer accepts
    // connections), so the request is truly in flight across the signal.
    wait_not_accepting(&setup.address).await;
    assert!(!in_flight.is_finished(), "still waiting on ITS");
    setup.sandbox.release();

    let answer = in_flight
        .await
        .unwrap()
        .expect("the in-flight request got its answer");
    assert_eq!(answer.status(), 303);
    assert_eq!(
        location(&answer),
        format!("/shops/{shop}?outcome=connected")
    );
    let output = app.wait_with_output();
    assert!(output.status.success(), "a clean exit: {:?}", output.status);
}

/// A figure (in kB) from the process's `/proc/<pid>/status`.
#[cfg(target_os = "linux")]
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The attack from the review: small gzip bodies that decode to tens of megabytes each,
/// no login needed. They are refused unread, so the server's peak memory (VmHWM, which
/// only ever grows) stays where it was. Without the refusal every request decoded its
/// whole body before the size limit applied: hundreds of megabytes for these sixteen.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn gzip_bombs_are_refused_without_the_server_growing() {
    use std::io::Write;

    let setup = setup().await;
    let app = start(&setup);
    wait_healthy(&setup.address).await;
    // 60 MB of zeros, gzipped: about 60 KB, under every body limit.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..60 {
        encoder.write_all(&block).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());

    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/login", setup.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let before = proc_status_kb(app.id(), "VmHWM");
    let sent: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/login", setup.address);
            let bomb = bomb.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("content-encoding", "gzip")
                    .body(bomb)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in sent {
        statuses.push(request.await.unwrap().unwrap());
    }
    let after = proc_status_kb(app.id(), "VmHWM");
    let grown_mb = after.saturating_sub(before) / 1024;
    assert!(
        grown_mb < 32,
        "peak memory grew by {grown_mb} MB ({before} kB → {after} kB)"
    );
    println!("peak memory grew by {grown_mb} MB");
    assert!(statuses.iter().all(|s| *s == 415), "{statuses:?}");
}
