//! Adding a shop from the owner's form: a double click adds one shop.

use reqwest::StatusCode;

use crate::helpers::{csrf_in, location, spawn_app, unique_email, unique_phone};

async fn shops_named(app: &crate::helpers::TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM shops WHERE name = ?")
        .bind(name)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_double_click_on_save_adds_one_shop_and_both_answers_show_it() {
    let app = spawn_app().await;
    app.login_owner().await;
    let token = csrf_in(&app.get_html("/shops/new").await);
    let (phone, email) = (unique_phone(), unique_email());
    let form = [
        ("csrf_token", token.as_str()),
        ("name", "Tiệm bấm hai lần"),
        ("phone", phone.as_str()),
        ("email", email.as_str()),
    ];
    // Both sent at once, the way a double click sends them.
    let (first, second) = tokio::join!(
        app.post_form("/shops", &form),
        app.post_form("/shops", &form)
    );
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&first),
        location(&second),
        "both show the one shop"
    );
    assert_eq!(shops_named(&app, "Tiệm bấm hai lần").await, 1);

    // Another owner may well pick the same name: that is a shop of theirs.
    app.logout().await;
    let r = app.login_as(&app.other_owner_email).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.add_shop("Tiệm bấm hai lần").await;
    assert_eq!(shops_named(&app, "Tiệm bấm hai lần").await, 2);
}
