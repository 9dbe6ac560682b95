//! Builds the application on a given listener (port 0 in tests) and, in sandbox mode,
//! starts the built-in ITS sandbox beside it.

use std::net::TcpListener;
use std::path::Path;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use sqlx::SqlitePool;
use tracing_actix_web::TracingLogger;
use url::Url;

use crate::configuration::{ItsMode, Settings, VerifySettings};
use crate::crypto::{KeySealer, SecretKey};
use crate::its::{ApiKey, ItsClient, ItsClientSettings};
use crate::sandbox;
use crate::services::Services;
use crate::store;
use crate::web::AppState;

pub struct Application {
    port: u16,
    public_url: Url,
    server: Server,
    sandbox: Option<sandbox::RunningSandbox>,
    db: SqlitePool,
    services: Services,
    verify: VerifySettings,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db =
            store::connect_limited(&settings.database_path, settings.database_max_bytes).await?;
        let read_db = store::read_pool::ReadPool::connect(
            &settings.database_path,
            store::READ_STATEMENT_LIMIT,
        )
        .await?;
        // A bulk job that was running when the last process stopped cannot resume.
        crate::services::jobs::interrupt_leftovers(&db).await?;
        let secret = app_secret(&settings)?;

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let public_url = public_url(&settings, port)?;

        let (running_sandbox, base_url, api_key) = its_endpoint(&settings, &secret).await?;

        let base_url_shown = base_url.clone();
        let api_key = ApiKey::new(api_key);
        let api_key_masked = api_key.masked();
        let mut its_settings = ItsClientSettings::new(base_url, api_key);
        its_settings.timeout = settings.its_timeout;
        let its = ItsClient::new(its_settings)
            .map_err(|e| anyhow::anyhow!("cannot build the ITS client: {e}"))?;

        let mut zalo = settings.zalo.clone();
        if let Some(sandbox) = &running_sandbox {
            // The fake Zalo's permission page is on its own host: allowed in sandbox mode.
            if let Some(host) = Url::parse(&sandbox.zalo_origin)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            {
                if !zalo.oauth_hosts.contains(&host) {
                    zalo.oauth_hosts.push(host);
                }
            }
            if zalo.app.is_none() {
                let (id, secret) = secret.sandbox_zalo_app();
                zalo.sandbox_app = crate::its::AppId::parse(&id)
                    .ok()
                    .zip(crate::its::ZaloAppSecret::parse(&secret).ok());
            }
        }
        let services = Services {
            db: db.clone(),
            read_db,
            its,
            sealer: KeySealer::new(&secret).with_previous(settings.secret_key_previous.as_ref()),
            public_url: public_url.clone(),
            auth_hosts: settings.its_auth_hosts.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            api: settings.api.clone(),
            its_partner: settings.its_partner,
            sessions: Default::default(),
            passwords: Default::default(),
            zalo,
        };
        let state = web::Data::new(AppState {
            services: services.clone(),
            cookie_secure: public_url.scheme() == "https",
            public_origin: public_url.origin().ascii_serialization(),
            sandbox_url: running_sandbox
                .as_ref()
                .map(|s| format!("{}/shops", s.origin)),
            its_view: crate::web::ItsView {
                sandbox: running_sandbox.is_some(),
                base_url: base_url_shown,
                api_key_masked,
            },
            verify: settings.verify,
            partner: std::sync::Arc::new(settings.partner.clone()),
        });

        let server = serve(listener, state, settings.request_body_timeout)?;

        Ok(Application {
            port,
            public_url,
            server,
            sandbox: running_sandbox,
            db,
            services,
            verify: settings.verify,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    pub fn db(&self) -> &SqlitePool {
        &self.db
    }

    /// The built-in sandbox's address, in sandbox mode.
    pub fn sandbox_origin(&self) -> Option<&str> {
        self.sandbox.as_ref().map(|s| s.origin.as_str())
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests are drained first. The
    /// re-verification scheduler runs alongside and stops with the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some(sandbox) = self.sandbox {
            tokio::spawn(sandbox.server);
        }
        // Webhook delivery; the guard stops the worker when this future ends or is dropped.
        let _webhooks = crate::services::webhooks::spawn_worker(self.services.clone());
        let scheduler = crate::services::jobs::spawn_scheduler(self.services, self.verify);
        let result = self.server.await;
        if let Some(scheduler) = scheduler {
            scheduler.abort();
        }
        // A bulk job dies with the process: say so now rather than at the next start.
        if let Err(e) = crate::services::jobs::interrupt_leftovers(&self.db).await {
            tracing::error!(error = %e, "could not mark a running bulk job interrupted");
        }
        result
    }
}

/// The HTTP server on `listener`: the middleware stack (compression, the body deadline,
/// the page context, request spans) around the routes.
fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    request_body_timeout: std::time::Duration,
) -> std::io::Result<Server> {
    let body_deadline = crate::web::body_guard::BodyDeadline(request_body_timeout);
    Ok(HttpServer::new(move || {
        App::new()
            .wrap(Compress::default())
            // Inside the context middleware, which renders its refusals as pages.
            .wrap(from_fn(crate::web::body_guard::middleware))
            .wrap(from_fn(crate::web::context::middleware))
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
            .app_data(state.clone())
            .app_data(web::Data::new(body_deadline))
            .app_data(web::PayloadConfig::new(crate::web::MAX_BODY_BYTES))
            .configure(crate::web::routes)
    })
    .listen(listener)?
    .shutdown_timeout(20)
    .run())
}

/// The app's public base URL: `PUBLIC_URL`, or the address it listens on; always ending in
/// `/`, since `join` treats a base without a trailing slash as a file.
pub(crate) fn public_url(settings: &Settings, port: u16) -> anyhow::Result<Url> {
    let public_url = match &settings.public_url {
        Some(url) => url.clone(),
        None => {
            let host = if settings.bind.ip().is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                settings.bind.ip().to_string()
            };
            Url::parse(&format!("http://{host}:{port}/"))?
        }
    };
    Ok(if public_url.path().ends_with('/') {
        public_url
    } else {
        let mut url = public_url.clone();
        url.set_path(&format!("{}/", public_url.path()));
        url
    })
}

/// Where the ITS client goes: the remote provider, or the built-in sandbox, started here
/// (with its own private SQLite file). Returns the sandbox if started, the base URL and
/// the api key.
async fn its_endpoint(
    settings: &Settings,
    secret: &SecretKey,
) -> anyhow::Result<(Option<sandbox::RunningSandbox>, String, String)> {
    Ok(match &settings.its {
        ItsMode::Remote { base_url, api_key } => (None, base_url.clone(), api_key.clone()),
        ItsMode::Sandbox {
            bind,
            latency,
            failure_rate,
            white_label,
            registered_redirect_urls,
        } => {
            let api_key = secret.sandbox_api_key();
            // The sandbox keeps its shop keys in plain text: a private file from the start.
            store::create_private_dir(&settings.data_dir)?;
            store::create_private_file(&settings.data_dir.join("sandbox.db"))?;
            let listener = TcpListener::bind(bind)
                .with_context(|| format!("the sandbox cannot listen on {bind}"))?;
            let running = sandbox::start(
                sandbox::SandboxSettings {
                    api_key: api_key.clone(),
                    database_path: settings.data_dir.join("sandbox.db"),
                    faults: sandbox::Faults {
                        latency: *latency,
                        failure_rate: *failure_rate,
                    },
                    partner_name: "shoplink (sandbox)".into(),
                    white_label: *white_label,
                    registered_redirect_urls: registered_redirect_urls.clone(),
                },
                listener,
            )
            .await?;
            let base_url = running.base_url.clone();
            (Some(running), base_url, api_key)
        }
    })
}

/// `SECRET_KEY`, or in sandbox mode without it the generated one in the data directory.
pub fn app_secret(settings: &Settings) -> anyhow::Result<SecretKey> {
    match &settings.secret_key {
        Some(secret) => Ok(secret.clone()),
        None => load_or_create_secret(&settings.data_dir),
    }
}

/// In sandbox mode without `SECRET_KEY`: a secret generated once and kept in the data
/// directory (mode 0600), so stored keys still open after a restart.
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<SecretKey> {
    let path = data_dir.join("secret.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return SecretKey::parse(&text).map_err(|_| {
            anyhow::anyhow!(
                "{} does not hold a valid secret (64 hex characters)",
                path.display()
            )
        });
    }
    store::create_private_dir(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = SecretKey::generate();
    write_private(&path, &secret.to_hex())?;
    tracing::info!(path = %path.display(), "generated a new SECRET_KEY for sandbox mode");
    Ok(secret)
}

#[cfg(unix)]
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot create {}", path.display()))
}
