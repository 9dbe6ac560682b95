//! Integration tests: the app and the ITS sandbox each on a random port, driven over HTTP
//! the way a browser would (cookies kept, redirects looked at one by one).

mod access;
mod add_shop;
mod admin_jobs;
pub mod admin_oa;
mod admin_settings;
mod admin_shops;
mod admin_users;
mod api_auth;
mod api_connect_links;
mod api_shops;
mod api_support;
mod auth;
mod callback;
mod catalogue;
mod connect;
mod hardening;
mod hardening_web;
mod helpers;
mod its_faults;
mod maintenance;
#[path = "../support/oa_recount.rs"]
mod oa_recount;
mod openapi_schema;
mod owner_card;
mod owner_pages;
mod route_table;
mod startup;
mod webhooks;
mod zalo_oa;
