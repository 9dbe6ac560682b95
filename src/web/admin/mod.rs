//! The partner admins' dashboard, under `/admin`. Every handler takes `AdminUser`, so an
//! owner gets 403 and an anonymous visitor the login page.

mod api_keys;
mod export;
mod jobs;
mod overview;
mod settings;
mod shops;
mod users;
mod webhooks;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    overview::routes(cfg);
    shops::routes(cfg);
    export::routes(cfg);
    users::routes(cfg);
    settings::routes(cfg);
    jobs::routes(cfg);
    api_keys::routes(cfg);
    webhooks::routes(cfg);
}
