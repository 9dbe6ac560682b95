//! The partner admins' dashboard, under `/admin`. Every handler takes `AdminUser`, so an
//! owner gets 403 and an anonymous visitor the login page.

mod export;
mod jobs;
mod overview;
mod settings;
mod shops;
mod users;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    overview::routes(cfg);
    shops::routes(cfg);
    export::routes(cfg);
    users::routes(cfg);
    settings::routes(cfg);
    jobs::routes(cfg);
}
