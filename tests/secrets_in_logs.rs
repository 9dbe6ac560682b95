//! Runs a whole connection with every log level of shoplink switched on, captures what is
//! logged, and looks for each secret the run used: the partner api key, the shop key,
//! the session id, the callback token, the password.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_of_a_full_run_appears_in_the_logs() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter("shoplink=trace,tracing_actix_web=trace,reqwest=debug,info")
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    let app = spawn_app().await;
    let login = app.login_as(&app.owner_email).await;
    let session = set_cookie_value(&login, "shoplink_session").expect("a session cookie");
    let shop = app.add_shop("Cửa hàng Bí Mật").await;
    let (callback, answer) = app.connect_through_its(&shop).await;
    assert_eq!(answer.status(), 303);
    // Replays and forgeries log warnings: they must not carry the token either.
    app.client.get(&callback).send().await.unwrap();
    let token = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .into_owned();
    let its_id = shop_id_param(&callback);
    let key: serde_json::Value = reqwest::Client::new()
        .post(format!("{}.Shop/AuthorizeShop", app.sandbox_base_url))
        .bearer_auth(PARTNER_KEY)
        .json(&serde_json::json!({ "shop_id": its_id, "redirect_url": "http://127.0.0.1/x" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shop_key = key["auth_token"].as_str().unwrap().to_owned();
    // A failed login and a logout log too.
    app.logout().await;
    app.login_with(&app.other_owner_email, "a wrong password for the log test")
        .await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("shop connected"),
        "the capture works: {}",
        &text[..text.len().min(2000)]
    );
    let secret_of_key = shop_key.split(':').nth(1).unwrap().to_owned();
    for (what, secret) in [
        ("api key", PARTNER_KEY.to_owned()),
        ("shop key", shop_key.clone()),
        ("shop key secret", secret_of_key),
        ("session id", session),
        ("callback token", token),
        ("password", PASSWORD.to_owned()),
        (
            "wrong password",
            "a wrong password for the log test".to_owned(),
        ),
    ] {
        assert!(!text.contains(&secret), "the {what} appears in the logs");
    }
}
