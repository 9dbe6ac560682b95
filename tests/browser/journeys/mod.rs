//! The five journeys of issue 5, the Zalo OA journey of issue 12, and the steps they share.

pub mod admin;
pub mod connect;
pub mod faults;
pub mod language;
pub mod reauth;
pub mod zalo_oa;

use shoplink::i18n::Messages;
use uuid::Uuid;

use crate::browser::Session;

pub const VI: &Messages = &Messages::VI;
pub const EN: &Messages = &Messages::EN;

/// The shop's id, from its page's address.
pub async fn shop_id_here(s: &Session) -> Uuid {
    let url = s.url().await;
    let id = url
        .path()
        .strip_prefix("/shops/")
        .or_else(|| url.path().strip_prefix("/admin/shops/"))
        .unwrap_or_else(|| panic!("not on a shop's page: {url}"));
    Uuid::parse_str(id).expect("a shop id in the address")
}

/// As the logged-in owner: the new-shop form, filled and sent; returns the shop's id.
pub async fn add_shop(s: &Session, name: &str, phone: &str, email: &str) -> Uuid {
    s.goto("/shops/new").await;
    s.fill("#name", name).await;
    s.fill("#phone", phone).await;
    s.fill("#email", email).await;
    s.press(VI.save_shop).await;
    s.wait_for_path("the new shop's page", |p| p.ends_with("?outcome=created"))
        .await;
    shop_id_here(s).await
}

/// On the ITS sandbox's login page: approve, and wait to be back on the shop's page.
pub async fn approve_on_its(s: &Session) {
    s.wait_for_sandbox().await;
    s.click("button[name=action][value=approve]").await;
    s.wait_for_path("the shop's page after ITS", |p| p.starts_with("/shops/"))
        .await;
}

/// From the shop's page: connect through the sandbox and check the shop is connected.
pub async fn connect_from_shop_page(s: &Session, button: &str) -> Uuid {
    let shop = shop_id_here(s).await;
    s.press(button).await;
    approve_on_its(s).await;
    s.find(".badge-connected").await;
    assert_eq!(s.app.shop_state(shop).await, "connected");
    shop
}
