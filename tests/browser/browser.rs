//! Starting Chromium through chromedriver, and what the journeys do with it: click, type,
//! wait, read, take screenshots, check the layout.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::app::{self, TestApp};

/// One browser at a time: the journeys share the machine's cores with the build.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(15);
pub const DESKTOP: u32 = 1280;
pub const PHONE: u32 = 390;
pub const SMALL_PHONE: u32 = 360;

struct Tools {
    driver: PathBuf,
    chromium: PathBuf,
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether this is a CI run (`CI` set and not "", "0" or "false"): missing tools fail there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// chromedriver and Chromium, or `None` (after saying so loudly) when they are missing.
/// In CI a missing browser is a failure, not a skip.
fn tools() -> Option<Tools> {
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_in_path("chromedriver"));
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_in_path("chromium"))
        .or_else(|| find_in_path("chromium-browser"));
    if let (Some(driver), Some(chromium)) = (driver, chromium) {
        return Some(Tools { driver, chromium });
    }
    assert!(
        !in_ci(),
        "CI is set but chromium or chromedriver is missing: the browser tests must run in CI \
         (apt-get install chromium chromium-driver)"
    );
    // Straight to the terminal: the test harness hides what a passing test prints.
    let _ = writeln!(
        std::io::stderr(),
        "\n************************************************************************\n\
         SKIPPED: browser tests need chromium and chromium-driver (apt-get install chromium chromium-driver)\n\
         ************************************************************************"
    );
    None
}

/// chromedriver and the Chromium it started; both are stopped when this is dropped.
struct Driver {
    child: Child,
    chromium_pid: Option<u64>,
    session_closed: bool,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session_closed {
            if let Some(pid) = self.chromium_pid {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_browser(tools: &Tools) -> (Client, Driver) {
    let port = free_port();
    let child = Command::new(&tools.driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a profile dir");
    let mut driver = Driver {
        child,
        chromium_pid: None,
        session_closed: false,
        _profile: profile,
    };
    let webdriver = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        let ready = reqwest::get(format!("{webdriver}/status"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(started.elapsed() < WAIT, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--hide-scrollbars".to_owned(),
        "--force-device-scale-factor=1".to_owned(),
        format!("--window-size={DESKTOP},900"),
        format!("--user-data-dir={}", driver._profile.path().display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": tools.chromium,
            "args": args,
            // A Vietnamese reader's browser: the app picks its language from this on a first visit.
            "prefs": { "intl.accept_languages": "vi-VN,vi" },
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::rustls()
        .expect("a WebDriver connector")
        .capabilities(capabilities)
        .connect(&webdriver)
        .await
        .expect("a Chromium session");
    driver.chromium_pid = client
        .capabilities()
        .and_then(|c| c.get("goog:processID"))
        .and_then(Value::as_u64);
    (client, driver)
}

/// Runs one journey in a fresh app and a fresh browser, closing the browser whatever happens.
pub async fn run<F, Fut>(journey: &'static str, body: F)
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(tools) = tools() else { return };
    // Two rustls crypto providers are compiled in (fantoccini's and reqwest's): pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _turn = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let app = app::spawn().await;
    let (client, mut driver) = start_browser(&tools).await;
    let shots = screenshot_dir().join(journey);
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("the screenshot folder");
    let session = Session {
        c: client.clone(),
        app,
        shots: shots.clone(),
        count: 0,
    };
    let outcome = tokio::spawn(body(session)).await;
    if outcome.is_err() {
        // What the browser showed when the journey failed, for whoever reads the failure.
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(shots.join("FAILED.png"), png);
        }
        if let Ok(html) = client.source().await {
            let _ = std::fs::write(shots.join("FAILED.html"), html);
        }
    }
    if client.close().await.is_ok() {
        driver.session_closed = true;
    }
    drop(driver);
    let _ = writeln!(
        std::io::stderr(),
        "browser journey {journey}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`, for integration tests.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .join("screenshots")
}

/// A journey's browser, app and screenshot folder.
pub struct Session {
    pub c: Client,
    pub app: TestApp,
    shots: PathBuf,
    count: usize,
}

/// What the page checker reports.
const LAYOUT_CHECK: &str = r#"
const problems = [];
const doc = document.documentElement;
if (doc.scrollWidth > doc.clientWidth + 1) {
  problems.push(`scrolls sideways: ${doc.scrollWidth} px wide in ${doc.clientWidth} px`);
}
const name = (el) => `<${el.tagName.toLowerCase()}> "${(el.innerText || el.value || el.name || el.id || '').trim().slice(0, 40)}"`;
for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if (r.width === 0 || r.height === 0 || r.right <= 0 || style.visibility === 'hidden') continue;
  // Links inside a sentence are exempt (WCAG 2.5.8); everything else is at least 44 px high.
  if (el.tagName === 'A' && style.display === 'inline') continue;
  // A checkbox or radio inside its label is tapped through the whole label.
  const wrapper = (el.type === 'checkbox' || el.type === 'radio') ? el.closest('label') : null;
  const target = wrapper ? wrapper.getBoundingClientRect() : r;
  if (target.height < 43.5) problems.push(`tap target ${Math.round(target.height)} px high: ${name(el)}`);
  if (r.right > doc.clientWidth + 1) problems.push(`cut off at the right: ${name(el)}`);
}
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
    problems.push(`a field without a label: ${name(el)}`);
  }
}
// A checkbox or radio sits beside its label: level with the label's first line of text and
// left of it (a box centred above its text reads as belonging to the row above).
for (const el of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  const label = el.labels && el.labels[0];
  if (!label) continue;
  const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
  let first = null;
  for (let node = walker.nextNode(); node && !first; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    first = [...range.getClientRects()].find((q) => q.width > 0) || null;
  }
  if (!first) { problems.push(`a label without text: ${name(label)}`); continue; }
  const middle = (r.top + r.bottom) / 2;
  if (middle < first.top - 1 || middle > first.bottom + 1) {
    problems.push(`a ${el.type} not level with its label (box ${Math.round(r.top)}–${Math.round(r.bottom)} px, text ${Math.round(first.top)}–${Math.round(first.bottom)} px): ${name(label)}`);
  }
  if (r.right > first.left + 1) {
    problems.push(`a ${el.type} not left of its label (box ends at ${Math.round(r.right)} px, text starts at ${Math.round(first.left)} px): ${name(label)}`);
  }
}
// `hidden` must hide, whatever the element's class says about `display`.
for (const el of document.querySelectorAll('[hidden]')) {
  if (getComputedStyle(el).display !== 'none') problems.push(`shown despite hidden: ${name(el)}`);
}
if (document.querySelector('[style]')) problems.push('an inline style attribute');
if ([...document.scripts].some((s) => !s.src)) problems.push('an inline script');
if (!/ · shoplink$/.test(document.title)) problems.push(`title "${document.title}"`);
if (!document.querySelector('h1')) problems.push('no <h1>');
return problems;
"#;

impl Session {
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.app.url(path)
        };
        self.c.goto(&url).await.expect("navigation");
    }

    pub async fn path(&self) -> String {
        let url = self.c.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn url(&self) -> url::Url {
        self.c.current_url().await.expect("the current URL")
    }

    pub async fn find(&self, css: &str) -> Element {
        self.wait_for(Locator::Css(css), css).await
    }

    async fn wait_for(&self, locator: Locator<'_>, what: &str) -> Element {
        match self.c.wait().at_most(WAIT).for_element(locator).await {
            Ok(element) => element,
            Err(e) => panic!("no {what} on {}: {e}", self.path_now().await),
        }
    }

    async fn path_now(&self) -> String {
        self.c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    /// Clicks the button whose visible text is exactly `text`, and waits for the next page.
    pub async fn press(&self, text: &str) {
        let xpath = format!("//button[normalize-space()={}]", xpath_literal(text));
        let button = self
            .wait_for(Locator::XPath(&xpath), &format!("button {text:?}"))
            .await;
        self.mark_page().await;
        button.click().await.expect("click");
        self.wait_for_next_page(text).await;
    }

    /// Follows the link whose visible text is exactly `text`, and waits for the next page.
    pub async fn follow(&self, text: &str) {
        let xpath = format!("//a[normalize-space()={}]", xpath_literal(text));
        let link = self
            .wait_for(Locator::XPath(&xpath), &format!("link {text:?}"))
            .await;
        self.mark_page().await;
        link.click().await.expect("click");
        self.wait_for_next_page(text).await;
    }

    /// Clicks `css` (a link or a button) and waits for the next page to be loaded, even when
    /// it has the same address.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.mark_page().await;
        element.click().await.expect("click");
        self.wait_for_next_page(css).await;
    }

    async fn mark_page(&self) {
        self.script("window.__shoplink_old_page = true;", vec![])
            .await;
    }

    /// Waits until the marked page is gone and the next one is loaded.
    async fn wait_for_next_page(&self, after: &str) {
        let started = Instant::now();
        loop {
            let state = self
                .c
                .execute(
                    "return window.__shoplink_old_page !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if state.is_ok_and(|v| v == Value::Bool(true)) {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "no new page after clicking {after}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses a key on the keyboard (to whatever has the focus).
    pub async fn key(&self, key: Key) {
        let value = char::from(key);
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.c.perform_actions(keys).await.expect("a key press");
    }

    /// What has the focus: its tag, id, class, whether it is on screen, and its outline.
    pub async fn focused(&self) -> Value {
        self.script(
            "const e = document.activeElement; const r = e.getBoundingClientRect();
             const s = getComputedStyle(e);
             return { tag: e.tagName.toLowerCase(), id: e.id, class: e.className,
                      visible: r.left >= 0 && r.top >= 0 && r.width > 0,
                      outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };",
            vec![],
        )
        .await
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("typing");
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.c.find_all(Locator::Css(css)).await.expect("find") {
            out.push(e.text().await.expect("text"));
        }
        out
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    pub async fn lang(&self) -> String {
        self.attr("html", "lang").await.unwrap_or_default()
    }

    /// Waits until the page's path (with its query) satisfies `ok`.
    pub async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if ok(&path) {
                return path;
            }
            assert!(
                started.elapsed() < WAIT,
                "waited for {what}, still on {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is on the sandbox (the ITS login page).
    pub async fn wait_for_sandbox(&self) {
        let started = Instant::now();
        while !self.url().await.as_str().starts_with(&self.app.sandbox) {
            assert!(
                started.elapsed() < WAIT,
                "not sent to the ITS sandbox: {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn script(&self, js: &str, args: Vec<Value>) -> Value {
        self.c.execute(js, args).await.expect("script")
    }

    pub async fn login(&self, email: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", app::PASSWORD).await;
        self.click("form.form button[type=submit]").await;
        self.wait_for_path("the page after login", |p| !p.starts_with("/login"))
            .await;
    }

    pub async fn logout(&self) {
        self.click("form[action='/logout'] button").await;
        self.wait_for_path("the login page", |p| p.starts_with("/login"))
            .await;
    }

    /// A Chrome DevTools command, through chromedriver.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.c
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Lays the page out as on a screen `width` px wide (a phone below 500 px).
    pub async fn emulate_width(&self, width: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 500 }),
        )
        .await;
    }

    /// Saves the whole page (not only the window) at desktop and phone widths, then checks
    /// an app page's layout at 390 and 360 px.
    pub async fn shot(&mut self, name: &str) {
        use base64::Engine as _;
        self.count += 1;
        for (label, width) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.emulate_width(width).await;
            let height = self
                .script(
                    "return Math.ceil(document.documentElement.scrollHeight)",
                    vec![],
                )
                .await
                .as_u64()
                .unwrap_or(800)
                .clamp(200, 10_000);
            let answer = self
                .cdp(
                    "Page.captureScreenshot",
                    json!({
                        "format": "png",
                        "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                    }),
                )
                .await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(answer["data"].as_str().expect("PNG data"))
                .expect("base64 PNG");
            let file = self
                .shots
                .join(format!("{:02}-{name}-{label}.png", self.count));
            std::fs::write(&file, png).expect("the screenshot is saved");
            self.scan_accessibility(name, width).await;
        }
        if self.url().await.as_str().starts_with(&self.app.address) {
            for width in [PHONE, SMALL_PHONE] {
                self.emulate_width(width).await;
                let problems = self.script(LAYOUT_CHECK, vec![]).await;
                let problems: Vec<String> = serde_json::from_value(problems).unwrap_or_default();
                assert!(
                    problems.is_empty(),
                    "{name} at {width} px ({}): {problems:#?}",
                    self.path_now().await
                );
            }
        }
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
    }
}

impl Session {
    /// axe-core over an app page at the current width: no critical or serious finding.
    async fn scan_accessibility(&self, name: &str, width: u32) {
        if !self.url().await.as_str().starts_with(&self.app.address) {
            return;
        }
        let Some(axe) = crate::axe::source() else {
            return;
        };
        let loaded = self
            .script(
                &format!("{axe}\n;return typeof window.axe === 'object';"),
                vec![],
            )
            .await;
        assert_eq!(loaded, Value::Bool(true), "axe-core did not load on {name}");
        let found = self
            .c
            .execute_async(crate::axe::RUN, vec![])
            .await
            .expect("the axe scan");
        let found: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        assert!(
            found.is_empty(),
            "axe-core: {} critical or serious finding(s) on {name} at {width} px ({}):\n{}",
            found.len(),
            self.path_now().await,
            found.join("\n")
        );
    }
}

/// `POST /session/{id}/goog/cdp/execute`: chromedriver's door to the DevTools protocol.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

/// `text` as an XPath string literal.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
