//! End-to-end tests in a real browser: headless Chromium driven through WebDriver
//! (`chromedriver`, started here on a free port) against the app in sandbox mode, the way
//! a newcomer runs it: the app and its built-in ITS sandbox each on a random port.
//!
//! Each journey saves screenshots of its key pages at 1280 px and 390 px under
//! `target/screenshots/<journey>/`, and checks every app page it shows at 360 and 390 px:
//! no sideways scrolling, tap targets of at least 44 px, a label on every field, every
//! checkbox and radio level with and left of its label's text, no inline style or script,
//! a title that names the page.
//!
//! Without `chromium` and `chromedriver` the journeys say loudly that they were skipped;
//! with the `CI` variable set they fail instead. The journeys run one at a time (one
//! browser each) to spare small machines.

mod app;
mod browser;
mod journeys;

use browser::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_1_an_owner_adds_a_shop_and_connects_it_through_its() {
    run("1-connect", journeys::connect::run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_2_an_unlinked_shop_is_found_by_verify_and_reconnected() {
    run("2-reauth", journeys::reauth::run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_3_an_admin_finds_disconnects_and_exports() {
    run("3-admin", journeys::admin::run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_4_the_language_switch_turns_pages_english_and_back() {
    run("4-language", journeys::language::run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_5_a_failing_provider_shows_the_reason_and_a_retry_that_works() {
    run("5-faults", journeys::faults::run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_6_an_owner_connects_the_zalo_oa_and_sends_a_test_message() {
    run("6-zalo-oa", journeys::zalo_oa::run).await;
}
