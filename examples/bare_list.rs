//! The yardstick for the admin list's CPU cost (issue #13, "CPU per page"): the same stack
//! (actix-web + askama + sqlx/SQLite) serving the same 50 keyset rows of the same
//! database, with nothing else — no session, no CSRF, no catalogue, no layout, no
//! middleware. `tests/bench/run.sh` runs it beside the app and prints both, so the gap
//! between them is measured on one machine in one run, not remembered from another.
//!
//!   DATABASE_URL=sqlite://path/shoplink.db BIND=127.0.0.1:8099 \
//!     cargo run --release --example bare_list
//!
//! `GET /` answers the 50 most recently changed shops, as the list's first page does.

use actix_web::{web, App, HttpResponse, HttpServer};
use askama::Template;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{FromRow, SqlitePool};
use std::str::FromStr;
use uuid::Uuid;

#[derive(FromRow)]
struct Row {
    id: Uuid,
    name: String,
    state: String,
    its_shop_id: Option<i64>,
    updated_at: i64,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Shops</title></head><body>
<table><thead><tr><th>Name</th><th>State</th><th>ITS</th><th>Updated</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="/admin/shops/{{ r.id }}">{{ r.name }}</a></td><td>{{ r.state }}</td><td>{% if let Some(its) = r.its_shop_id %}{{ its }}{% endif %}</td><td>{{ r.updated_at }}</td></tr>
{% endfor %}</tbody></table></body></html>"#
)]
struct Page {
    rows: Vec<Row>,
}

async fn list(db: web::Data<SqlitePool>) -> HttpResponse {
    let rows: Result<Vec<Row>, _> = sqlx::query_as(
        "SELECT id, name, state, its_shop_id, updated_at FROM shops
         ORDER BY updated_at DESC, id DESC LIMIT 50",
    )
    .fetch_all(db.get_ref())
    .await;
    match rows.map(|rows| Page { rows }.render()) {
        Ok(Ok(html)) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Ok(Err(e)) => HttpResponse::InternalServerError().body(e.to_string()),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL: the seeded database");
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8099".to_owned());
    let options = SqliteConnectOptions::from_str(&url)
        .expect("a sqlite:// URL")
        .read_only(true);
    // The app's read pool has two connections on this two-core machine: the same here.
    let db = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("the database opens");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(db.clone()))
            .route("/", web::get().to(list))
    })
    .bind(bind)?
    .run()
    .await
}
