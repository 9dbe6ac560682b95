//! axe-core in the browser: every page a journey photographs is scanned at 1280 and 390 px,
//! and a critical or serious finding fails the journey, listed in the failure message.
//!
//! axe-core comes from the npm registry at test time (`npm install` into
//! `target/axe`, the version pinned below), never from a CDN and never copied into
//! `static/`. `.ci/run` installs npm and runs the same install first, so CI always scans;
//! elsewhere a machine without npm (or offline) skips the scan and says so.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The axe-core release the scan runs (bump on purpose, and read its changelog).
pub const AXE_VERSION: &str = "4.14.1";

/// `target/axe`: where `npm install --prefix` puts axe-core.
fn prefix() -> PathBuf {
    crate::browser::screenshot_dir()
        .parent()
        .expect("the target dir")
        .join("axe")
}

/// `axe.min.js`'s text, installing it on first use; `None` (after saying why) outside CI
/// when npm cannot get it.
pub fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let prefix = prefix();
            let file = prefix.join("node_modules/axe-core/axe.min.js");
            let installed =
                std::fs::read_to_string(prefix.join("node_modules/axe-core/package.json"))
                    .is_ok_and(|p| p.contains(&format!("\"version\": \"{AXE_VERSION}\"")));
            let mut why = String::new();
            if !installed {
                let _ = std::fs::create_dir_all(&prefix);
                match Command::new("npm")
                    .args([
                        "install",
                        "--no-save",
                        "--no-audit",
                        "--no-fund",
                        "--prefix",
                    ])
                    .arg(&prefix)
                    .arg(format!("axe-core@{AXE_VERSION}"))
                    .output()
                {
                    Ok(out) if out.status.success() => {}
                    Ok(out) => {
                        why = format!(
                            "npm install axe-core@{AXE_VERSION} failed: {}",
                            String::from_utf8_lossy(&out.stderr).trim()
                        )
                    }
                    Err(e) => why = format!("npm could not be started ({e})"),
                }
            }
            match std::fs::read_to_string(&file) {
                Ok(text) => Some(text),
                Err(e) => {
                    let reason = format!("{why} {}: {e}", file.display());
                    assert!(
                        !crate::browser::in_ci(),
                        "CI is set but axe-core is missing, so the accessibility scan cannot \
                         run: {reason} (.ci/run installs npm and axe-core)"
                    );
                    eprintln!(
                        "\n*** the axe-core scan is SKIPPED: {reason}\n*** install npm (apt-get \
                         install npm) to run it; CI installs it and fails without it\n"
                    );
                    None
                }
            }
        })
        .as_deref()
}

/// Runs axe on the page as it is laid out now; answers the critical and serious findings,
/// one line each, with up to three of the elements concerned.
pub const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  resultTypes: ['violations'],
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
}).then(
  (r) => done(r.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)),
  (e) => done([`axe did not run: ${e}`]),
);
"#;
