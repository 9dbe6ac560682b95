//! The built-in ITS sandbox: a real HTTP server that behaves like the ITS provider as
//! described in the provider's contract (same paths, bodies, errors, ids as strings, the login
//! redirect), so the app can be developed, demoed and tested on one machine.
//!
//! It shares no code with the app's ITS client, store or services; its state lives in its
//! own SQLite file. Routes:
//!
//! - `POST /v1/partner.Shop/AuthorizeShop`, `.Shop/CurrentShop`, `.Misc/CurrentAccount`: the API.
//! - `GET /login?token=…`, `POST /login`: the provider's login/approve page.
//! - `GET /shops`, `POST /shops/{id}/{unlink|close|reopen}`, `POST /faults`: the operator's page.
//! - `GET /static/sandbox.css`.
//! - `POST /v1/partner.Zalo/{Method}`: the seven `Zalo/*` methods, with a shop key (`zalo_api.rs`).
//! - `GET /zalo`, `POST /zalo/oas/{id}/{action}`, `POST /zalo/apps/{id}/{action}`: the
//!   operator's Zalo page (quality, quota, expiry, a wrong app secret).
//!
//! Beside it, on another port of the same address and under the host name `localhost`, a
//! **fake Zalo** (`zalo.rs`): the OA permission page `GET|POST /v4/oa/permission` and the
//! test phone `GET /phone` where every ZNS sent through the sandbox appears.

mod api;
mod pages;
mod secret;
mod store;
mod zalo;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use anyhow::Context;

use store::Store;
pub use store::{KnownOa, KnownShop, SEEDED_APP_ID};

/// Makes shops known to the sandbox whose database is at `database_path` (created if
/// missing), as if they had logged in and linked: `shoplink seed` uses it so that seeded
/// "connected" shops stay connected when the app verifies them against the sandbox. Safe
/// while the sandbox runs (SQLite, WAL). Answers how many relations were added. The shops'
/// Zalo OAs come along, so `ListOA` answers what the partner stored; `redirect_uri` is the
/// partner's OA callback, where a renewal (`RefreshToken`) of such an OA sends Zalo back.
///
/// Nothing is committed before `commit` answers true; when it answers false, nothing is
/// added (`shoplink seed` passes whether its own transaction committed).
pub async fn import_known_shops(
    database_path: &std::path::Path,
    shops: &[KnownShop],
    redirect_uri: &str,
    commit: impl std::future::Future<Output = bool>,
) -> anyhow::Result<u64> {
    let store = Store::open(database_path).await?;
    let added = store
        .import_known_shops(shops, redirect_uri, commit)
        .await
        .context("adding the seeded shops to the sandbox database");
    store.close().await;
    added
}

/// How the sandbox is started.
pub struct SandboxSettings {
    /// The partner api_key the sandbox accepts as `Bearer`.
    pub api_key: String,
    /// The sandbox's own SQLite file, created if missing.
    pub database_path: PathBuf,
    /// The initial fault injection.
    pub faults: Faults,
    /// Shown on the login page and by `Misc/CurrentAccount`.
    pub partner_name: String,
    /// Whether the partner is white-label. Off (the provider's default): `external_user_id`
    /// is refused with "external_user_id is removed", as the provider's server does.
    pub white_label: bool,
    /// The partner's registered redirect URLs. Empty: any allowed `redirect_url` passes;
    /// otherwise `redirect_url` must equal one of them exactly, query included.
    pub registered_redirect_urls: Vec<String>,
}

/// Trouble the sandbox adds to every API call (not to its pages).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Waited before answering.
    pub latency: Duration,
    /// Share (0.0..=1.0) of API calls answered 503 `unavailable`.
    pub failure_rate: f64,
}

/// The longest latency the sandbox will add.
const MAX_LATENCY: Duration = Duration::from_secs(60);

impl Faults {
    /// The same faults with the rate clamped into 0..=1 (NaN counts as 0) and the latency
    /// capped at a minute.
    fn sanitised(self) -> Faults {
        let failure_rate = if self.failure_rate.is_nan() {
            0.0
        } else {
            self.failure_rate.clamp(0.0, 1.0)
        };
        Faults {
            latency: self.latency.min(MAX_LATENCY),
            failure_rate,
        }
    }
}

/// The partner's account set-up at the (fake) provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartnerSetup {
    pub white_label: bool,
    pub registered_redirect_urls: Vec<String>,
}

/// Changes a running sandbox's behaviour (shared with its request handlers).
#[derive(Clone)]
pub struct SandboxControl {
    faults: Arc<RwLock<Faults>>,
    partner: Arc<RwLock<PartnerSetup>>,
    gate: Arc<Gate>,
}

/// A stall that lasts exactly as long as its holder wants: while held, every API call
/// waits at the gate (after the latency, before the answer) until it is released. Tests
/// use it instead of a long latency, so that "X happened while ITS was stalled" is an
/// event they can wait for and check, not a wall-clock margin.
struct Gate {
    held: tokio::sync::watch::Sender<bool>,
    /// How many API calls are waiting at the gate right now.
    waiting: tokio::sync::watch::Sender<usize>,
}

/// Counts a call as waiting at the gate until it passes or is dropped (its client gone).
struct Waiting<'a>(&'a tokio::sync::watch::Sender<usize>);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl SandboxControl {
    fn new(faults: Faults) -> SandboxControl {
        SandboxControl {
            faults: Arc::new(RwLock::new(faults.sanitised())),
            partner: Arc::new(RwLock::new(PartnerSetup::default())),
            gate: Arc::new(Gate {
                held: tokio::sync::watch::channel(false).0,
                waiting: tokio::sync::watch::channel(0).0,
            }),
        }
    }

    /// Changes the partner's set-up (white-label flag, registered redirect URLs) for every
    /// following API call.
    pub fn set_partner(&self, setup: PartnerSetup) {
        *self.partner.write().unwrap_or_else(PoisonError::into_inner) = setup;
    }

    pub fn partner(&self) -> PartnerSetup {
        self.partner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Holds every API call from now on at the gate until [`release`](Self::release).
    pub fn hold(&self) {
        self.gate.held.send_replace(true);
    }

    /// Lets every held API call (and every later one) through.
    pub fn release(&self) {
        self.gate.held.send_replace(false);
    }

    /// Waits until at least `n` API calls are held at the gate.
    pub async fn wait_until_held(&self, n: usize) {
        let mut waiting = self.gate.waiting.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = waiting.wait_for(|w| *w >= n).await;
    }

    /// How many API calls are held at the gate right now.
    pub fn held_calls(&self) -> usize {
        *self.gate.waiting.borrow()
    }

    /// Waits while the gate is held (called by every API call).
    pub(crate) async fn pass_gate(&self) {
        let mut held = self.gate.held.subscribe();
        if !*held.borrow_and_update() {
            return;
        }
        self.gate.waiting.send_modify(|n| *n += 1);
        let _counted = Waiting(&self.gate.waiting);
        let _ = held.wait_for(|h| !*h).await;
    }

    /// Sets the faults of every following API call. The rate is clamped into 0..=1.
    pub fn set_faults(&self, f: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = f.sanitised();
    }

    pub fn faults(&self) -> Faults {
        *self.faults.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for SandboxControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxControl")
            .field("faults", &self.faults())
            .field("partner", &self.partner())
            .field("held", &*self.gate.held.borrow())
            .finish()
    }
}

/// A sandbox ready to serve. The server is not spawned: the caller does `tokio::spawn(server)`.
pub struct RunningSandbox {
    pub port: u16,
    /// `http://127.0.0.1:{port}` (or the address it is bound to, if that is another one).
    pub origin: String,
    /// `{origin}/v1/partner`: methods are at `{base_url}.Shop/AuthorizeShop`.
    pub base_url: String,
    pub server: actix_web::dev::Server,
    pub control: SandboxControl,
    /// The fake Zalo's origin, `http://localhost:{port}`: where `Zalo/AuthorizeOA`'s permission
    /// page is (the OAuth host to allow in sandbox mode) and the test phone (`/phone`). It runs
    /// as long as `server` does.
    pub zalo_origin: String,
}

/// What every handler shares. Holds the api_key: no `Debug`.
pub(crate) struct SandboxState {
    pub store: Store,
    pub control: SandboxControl,
    pub api_key: String,
    pub partner_name: String,
    pub partner_id: i64,
    pub origin: String,
}

/// Opens the sandbox's database and builds its server on `listener`.
pub async fn start(
    settings: SandboxSettings,
    listener: TcpListener,
) -> anyhow::Result<RunningSandbox> {
    let api_key = settings.api_key.trim().to_owned();
    anyhow::ensure!(!api_key.is_empty(), "the sandbox api_key must not be empty");
    anyhow::ensure!(
        api_key.chars().all(|c| c.is_ascii_graphic()),
        "the sandbox api_key must be printable ASCII without spaces"
    );
    let partner_name = match settings.partner_name.trim() {
        "" => "Sandbox partner".to_owned(),
        name => name.to_owned(),
    };

    let store = Store::open(&settings.database_path).await?;
    let partner_id = store.partner_id().await?;

    let address = listener
        .local_addr()
        .context("reading the sandbox listener's address")?;
    let origin = origin_of(address);
    let control = SandboxControl::new(settings.faults);
    control.set_partner(PartnerSetup {
        white_label: settings.white_label,
        registered_redirect_urls: settings.registered_redirect_urls,
    });
    let state = web::Data::new(SandboxState {
        store,
        control: control.clone(),
        api_key,
        partner_name,
        partner_id,
        origin: origin.clone(),
    });

    let (zalo_config, zalo_guard) =
        zalo::start_fake_zalo(zalo::zalo_bind_ip(address), state.clone())?;
    let zalo_origin = zalo_config.origin.clone();
    // Only the sandbox's own server holds the guard: when it stops, the fake Zalo stops.
    let zalo_guard = web::Data::new(zalo_guard);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(zalo_config.clone())
            .app_data(zalo_guard.clone())
            .configure(routes)
    })
    .workers(2)
    .shutdown_timeout(5)
    .listen(listener)
    .context("listening for the sandbox")?
    .run();

    tracing::info!(%origin, "ITS sandbox ready");
    Ok(RunningSandbox {
        port: address.port(),
        base_url: format!("{origin}/v1/partner"),
        origin,
        server,
        control,
        zalo_origin,
    })
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(pages::form_config())
        // Before `/v1/…`: the Zalo methods have their own dispatcher.
        .service(web::resource("/v1/partner.Zalo/{method}").to(api::zalo::dispatch))
        .service(web::resource("/v1/{tail:.*}").to(api::dispatch))
        .service(
            web::resource("/login")
                .route(web::get().to(pages::login_page))
                .route(web::post().to(pages::login_submit)),
        )
        .service(web::resource("/shops").route(web::get().to(pages::shops_page)))
        .service(web::resource("/shops/{id}/{action}").route(web::post().to(pages::shop_action)))
        .service(web::resource("/faults").route(web::post().to(pages::set_faults)))
        .configure(pages::zalo::operator_routes)
        .service(web::resource("/static/sandbox.css").route(web::get().to(pages::stylesheet)))
        .service(web::resource("/").route(web::get().to(pages::home)))
        .default_service(web::to(pages::not_found));
}

/// `http://127.0.0.1:{port}` for a loopback or unspecified IPv4 address, else the address itself.
fn origin_of(address: SocketAddr) -> String {
    let port = address.port();
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() || ip.is_loopback() => {
            format!("http://{}:{port}", Ipv4Addr::LOCALHOST)
        }
        IpAddr::V6(ip) if ip.is_unspecified() || ip.is_loopback() => format!("http://[::1]:{port}"),
        IpAddr::V4(ip) => format!("http://{ip}:{port}"),
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
    }
}

/// Now, in Unix seconds.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_uses_127_0_0_1_for_local_and_wildcard_binds() {
        assert_eq!(
            origin_of("0.0.0.0:8081".parse().unwrap()),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            origin_of("127.0.0.1:9".parse().unwrap()),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            origin_of("192.168.1.5:80".parse().unwrap()),
            "http://192.168.1.5:80"
        );
    }

    #[test]
    fn faults_are_clamped_to_a_probability() {
        let control = SandboxControl::new(Faults::default());
        control.set_faults(Faults {
            latency: Duration::from_secs(3600),
            failure_rate: 7.0,
        });
        assert_eq!(control.faults().failure_rate, 1.0);
        assert_eq!(control.faults().latency, MAX_LATENCY);
        control.set_faults(Faults {
            latency: Duration::ZERO,
            failure_rate: f64::NAN,
        });
        assert_eq!(control.faults().failure_rate, 0.0);
    }

    #[tokio::test]
    async fn a_held_gate_keeps_calls_waiting_until_released() {
        let control = SandboxControl::new(Faults::default());
        control.pass_gate().await; // open: passes at once
        control.hold();
        let call = tokio::spawn({
            let control = control.clone();
            async move { control.pass_gate().await }
        });
        control.wait_until_held(1).await;
        assert_eq!(control.held_calls(), 1);
        assert!(!call.is_finished());
        control.release();
        call.await.unwrap();
        assert_eq!(control.held_calls(), 0);
    }
}
