//! The OpenAPI document checked by an independent validator (`openapi-spec-validator`,
//! from PyPI; `.ci/run` installs it). Without it the test says so loudly and passes
//! locally; under CI it fails.

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_passes_the_official_validator() {
    let has_validator = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_validator {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install openapi-spec-validator (pip install openapi-spec-validator)"
        );
        eprintln!("SKIPPED: the OpenAPI validator needs `pip install openapi-spec-validator`");
        return;
    }
    let app = spawn_app().await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), 200);
    let path = app.dir.path().join("openapi.json");
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the validator refused the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether a Python tool is importable; without it the test says so loudly and passes
/// locally, and fails under CI (which must install it: `.ci/run`).
fn python_tool(module: &str, package: &str) -> bool {
    let present = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {package} (pip install {package})"
        );
        eprintln!("SKIPPED: this test needs `pip install {package}`");
    }
    present
}

/// The document is exact: Schemathesis generates requests from it (valid ones, and ones
/// that break a stated constraint: a length, a bound, a pattern, a type, a missing field)
/// against a live app with a key holding every scope, and checks every answer: no 5xx,
/// a status the document lists for the operation, the listed content type and headers,
/// a body matching its schema, every request that breaks the document refused with a
/// 4xx, a request without the key refused, and an undocumented method answered 405 with
/// `Allow`. A bounded number of examples per operation and a fixed seed keep it short
/// and repeatable.
#[tokio::test]
async fn generated_requests_get_exactly_the_answers_the_openapi_document_states() {
    if !python_tool("schemathesis", "schemathesis") {
        return;
    }
    // Limits high enough that key reads and verifications answer with their bodies (the
    // 429s have tests of their own).
    let app = crate::api_support::spawn_api_app(&[
        ("API_KEY_READS_PER_MINUTE", "10000"),
        ("API_VERIFY_PER_MINUTE", "10000"),
    ])
    .await;
    let key = app
        .create_key(
            "Schemathesis",
            &["shops:read", "keys:read", "connect:write"],
        )
        .await;
    // Shops to find, one connected and one not: half of the generated shop ids name a
    // real shop, so answers include 200s and 409s with bodies to check, not only 404s.
    let connected = app.connect_via_link(&key, "u-schema", "s-schema").await;
    app.connect_link(&key, "u-schema", "s-schema-2").await;
    let not_connected = app.shop_id_of("s-schema-2").await;
    let config = app.dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "[dictionaries.shops]\n\
             values = [\"{connected}\", \"{not_connected}\", \"ext:s-schema\"]\n\n\
             [parameters]\n\
             \"path.id\" = {{ dictionary = \"shops\", probability = 0.5 }}\n"
        ),
    )
    .unwrap();
    let doc = app.get("/api/openapi.json").await;
    assert_eq!(doc.status(), 200);
    let path = app.dir.path().join("openapi.json");
    std::fs::write(&path, doc.bytes().await.unwrap()).unwrap();
    let reports = app.dir.path().join("schemathesis-report");
    let started = std::time::Instant::now();
    let mut command = std::process::Command::new("python3");
    command
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(&config)
        .arg("run")
        .arg(&path)
        .args(["--url", &app.address])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance,\
             negative_data_rejection,missing_required_header,unsupported_method,\
             allow_header_conformance,ignored_auth",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20261130",
            "--workers",
            "2",
        ])
        .args(["--request-timeout", "10", "--no-color"])
        .arg("--report-dir")
        .arg(&reports)
        .env("SCHEMATHESIS_HOOKS", "")
        // Its cache (`.schemathesis/`, which replays earlier failures) goes to the
        // temporary folder, not the source tree: every run starts from the same state.
        .current_dir(app.dir.path());
    // On a blocking thread: the app answers on this test's runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "schemathesis took {:.1} s:\n{stdout}\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "Schemathesis found answers the document does not state (see above)"
    );
    assert!(
        stdout.contains("passed"),
        "Schemathesis ran no test case:\n{stdout}"
    );
}
