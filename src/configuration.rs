//! Settings from environment variables (and a `.env` file, loaded by `main`), validated
//! once at start so a mistake stops the process with a readable message instead of
//! surfacing later as a runtime surprise. Every setting is documented in the README and
//! in `.env.example`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::crypto::SecretKey;

/// How the app reaches ITS.
#[derive(Debug, Clone)]
pub enum ItsMode {
    /// No `ITS_BASE_URL`: the process also serves the built-in sandbox and talks to it
    /// over real HTTP.
    Sandbox {
        bind: SocketAddr,
        latency: Duration,
        failure_rate: f64,
        /// The sandbox's own partner set-up (`SANDBOX_WHITE_LABEL`,
        /// `SANDBOX_REGISTERED_REDIRECT_URLS`), to try both provider set-ups locally.
        white_label: bool,
        registered_redirect_urls: Vec<String>,
    },
    /// A real provider endpoint.
    Remote { base_url: String, api_key: String },
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// The address people use to reach the app; `redirect_url` is built from it, never
    /// from a request's `Host`. `None`: derived from the bound address at start.
    pub public_url: Option<Url>,
    pub database_path: PathBuf,
    pub data_dir: PathBuf,
    pub its: ItsMode,
    /// `None` in sandbox mode when unset: `startup` then generates one in the data dir.
    pub secret_key: Option<SecretKey>,
    /// Hosts the browser may be sent to for the ITS login (`auth_url`).
    pub its_auth_hosts: Vec<String>,
    pub its_timeout: Duration,
    /// How long a request's body may take to arrive after its headers
    /// (`REQUEST_BODY_TIMEOUT_SECS`); a slower body gets 408 and the connection is closed.
    pub request_body_timeout: Duration,
    pub log_format: LogFormat,
    pub verify: VerifySettings,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`); nobody else's is.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The secret before the last `rotate-key` (`SECRET_KEY_PREVIOUS`): keys it sealed still open.
    pub secret_key_previous: Option<SecretKey>,
    /// A cap on the database's size in bytes (`DATABASE_MAX_MB`), so a runaway never fills the disk.
    pub database_max_bytes: Option<u64>,
    /// The JSON API, connect links and webhooks (see `ApiSettings`).
    pub api: ApiSettings,
    /// How the partner's ITS account is set up (`ITS_WHITE_LABEL`, `ITS_REDIRECT_MODE`).
    pub its_partner: ItsPartnerSettings,
    /// The partner's own name, logo and support contacts, shown to owners (`PARTNER_*`).
    pub partner: PartnerSettings,
    /// The partner's Zalo app and where Zalo's permission page may be (`ZALO_*`).
    pub zalo: ZaloSettings,
}

/// The Zalo OA step (`ZALO_APP_ID`, `ZALO_APP_SECRET`, `ZALO_OAUTH_HOSTS`).
#[derive(Debug, Clone, Default)]
pub struct ZaloSettings {
    /// The partner's one Zalo app for all its shops, from the environment: it takes the
    /// place of the one saved on /admin/settings (which then shows it read-only).
    pub app: Option<(crate::its::AppId, crate::its::ZaloAppSecret)>,
    /// In sandbox mode with no app configured: an app made up from `SECRET_KEY` (stable
    /// with the generated secret), which the sandbox learns at its first use. Set by `startup`.
    pub sandbox_app: Option<(crate::its::AppId, crate::its::ZaloAppSecret)>,
    /// Hosts the browser may be sent to for Zalo's OA permission page. `startup` adds the
    /// sandbox's fake Zalo host in sandbox mode.
    pub oauth_hosts: Vec<String>,
}

/// The partner who runs this app, as its shop owners know it: shown in the header, the
/// footer, error pages and "Quên mật khẩu?", so an owner always knows whom to contact.
#[derive(Debug, Clone, Default)]
pub struct PartnerSettings {
    /// `PARTNER_NAME`: the brand in the header; `None` shows the app's own name.
    pub name: Option<String>,
    /// `PARTNER_LOGO_FILE`: read once at start and served at `/partner-logo` from our own
    /// origin (the CSP allows images from no other); `None` shows the name as a text mark.
    pub logo: Option<PartnerLogo>,
    /// `PARTNER_SUPPORT_PHONE`: the hotline as people write it, e.g. `1900 6868`.
    pub support_phone: Option<String>,
    /// `PARTNER_SUPPORT_URL`: an http(s) or `mailto:` link to the partner's support.
    pub support_url: Option<String>,
    /// `PARTNER_HELP_URL`: an http(s) link to the partner's help pages.
    pub help_url: Option<String>,
}

impl PartnerSettings {
    /// The hotline for a `tel:` link: its digits and a leading `+` only.
    pub fn support_tel(&self) -> Option<String> {
        self.support_phone.as_deref().map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect()
        })
    }

    /// Whether any way to reach the partner is set.
    pub fn has_contact(&self) -> bool {
        self.support_phone.is_some() || self.support_url.is_some()
    }
}

#[derive(Clone)]
pub struct PartnerLogo {
    pub content_type: &'static str,
    pub bytes: std::sync::Arc<Vec<u8>>,
}

impl std::fmt::Debug for PartnerLogo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PartnerLogo({}, {} bytes)",
            self.content_type,
            self.bytes.len()
        )
    }
}

/// The largest logo file accepted: a header logo needs far less.
pub const PARTNER_LOGO_MAX_BYTES: usize = 256 * 1024;

/// How the partner's account at the provider is set up; both change what `AuthorizeShop`
/// may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItsPartnerSettings {
    /// A white-label partner (`ITS_WHITE_LABEL=true`) may send `external_user_id`; the
    /// provider refuses that field from every other partner ("external_user_id is removed").
    pub white_label: bool,
    pub redirect_mode: RedirectMode,
}

/// Which `redirect_url` the connect flow sends (`ITS_REDIRECT_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedirectMode {
    /// `PUBLIC_URL/connect/callback?token=<per-attempt token>`: for a partner with no
    /// redirect URL registered at the provider (what the guide suggests).
    #[default]
    Token,
    /// Always exactly `PUBLIC_URL/connect/callback`: for a partner whose provider account
    /// has registered URLs (the provider compares them by plain string equality, query
    /// included). The callback is tied to the attempt through the browser's session.
    Fixed,
}

/// Re-verification of stored shop keys: the bulk job and the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySettings {
    /// How many `CurrentShop` calls run at once (`VERIFY_CONCURRENCY`).
    pub concurrency: usize,
    /// A connected shop is verified again this long after its last verification
    /// (`VERIFY_INTERVAL_SECS`); `None` (0) turns the scheduler off.
    pub interval: Option<Duration>,
    /// How often the scheduler looks for due shops (`VERIFY_TICK_SECS`).
    pub tick: Duration,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            concurrency: 4,
            interval: Some(Duration::from_secs(86_400)),
            tick: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Settings {
    pub fn is_sandbox(&self) -> bool {
        matches!(self.its, ItsMode::Sandbox { .. })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_vars(&std::env::vars().collect())
    }

    /// Reads settings from a map of variables; every problem is collected, not just the first.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let bind = parse_addr(
            &get("BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            "BIND",
            &mut problems,
        );

        let public_url = get("PUBLIC_URL").and_then(|raw| match Url::parse(&raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                problems.push(format!(
                    "PUBLIC_URL must be an absolute http(s) URL such as https://shoplink.example.vn, got {raw:?}"
                ));
                None
            }
        });

        let database_path = get("DATABASE_URL")
            .map(|raw| {
                let path = raw
                    .strip_prefix("sqlite://")
                    .or_else(|| raw.strip_prefix("sqlite:"))
                    .unwrap_or(&raw);
                let path = path.split('?').next().unwrap_or(path);
                PathBuf::from(path)
            })
            .unwrap_or_else(|| PathBuf::from("data/shoplink.db"));
        let data_dir = get("DATA_DIR").map(PathBuf::from).unwrap_or_else(|| {
            database_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
        });

        let its = match (get("ITS_BASE_URL"), get("ITS_API_KEY")) {
            (None, _) => ItsMode::Sandbox {
                bind: parse_addr(
                    &get("SANDBOX_BIND").unwrap_or_else(|| "127.0.0.1:0".into()),
                    "SANDBOX_BIND",
                    &mut problems,
                ),
                latency: Duration::from_millis(parse_number(
                    get("SANDBOX_LATENCY_MS"),
                    "SANDBOX_LATENCY_MS",
                    0,
                    &mut problems,
                )),
                failure_rate: parse_number(
                    get("SANDBOX_FAILURE_PERCENT"),
                    "SANDBOX_FAILURE_PERCENT",
                    0,
                    &mut problems,
                )
                .min(100) as f64
                    / 100.0,
                white_label: parse_bool(
                    get("SANDBOX_WHITE_LABEL"),
                    "SANDBOX_WHITE_LABEL",
                    &mut problems,
                ),
                registered_redirect_urls: get("SANDBOX_REGISTERED_REDIRECT_URLS")
                    .map(|list| {
                        list.split(',')
                            .map(str::trim)
                            .filter(|u| !u.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            (Some(base_url), api_key) => {
                match Url::parse(&base_url) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") => {}
                    _ => problems.push(format!(
                        "ITS_BASE_URL must be an http(s) URL such as https://api.example.vn/v1/partner, got {base_url:?}"
                    )),
                }
                if api_key.is_none() {
                    problems.push(
                        "ITS_API_KEY is required when ITS_BASE_URL is set (the partner api_key from ITS)".into(),
                    );
                }
                ItsMode::Remote {
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    api_key: api_key.unwrap_or_default(),
                }
            }
        };

        let secret_key = match get("SECRET_KEY") {
            Some(raw) => match SecretKey::parse(&raw) {
                Ok(key) => Some(key),
                Err(_) => {
                    problems.push(
                        "SECRET_KEY must be 64 hexadecimal characters (32 random bytes); make one with `openssl rand -hex 32`"
                            .into(),
                    );
                    None
                }
            },
            None => {
                if matches!(its, ItsMode::Remote { .. }) {
                    problems.push(
                        "SECRET_KEY is required when ITS_BASE_URL is set; make one with `openssl rand -hex 32`".into(),
                    );
                }
                None
            }
        };

        let its_auth_hosts = match get("ITS_AUTH_HOSTS") {
            Some(list) => list
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            None => match &its {
                // The provider serves its API on `api.…` and its login page on `auth.…`.
                ItsMode::Remote { base_url, .. } => Url::parse(base_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .map(|host| {
                        let auth = host
                            .strip_prefix("api.")
                            .map(|rest| format!("auth.{rest}"))
                            .unwrap_or_else(|| host.clone());
                        vec![auth, host]
                    })
                    .unwrap_or_default(),
                ItsMode::Sandbox { .. } => vec!["127.0.0.1".into(), "localhost".into()],
            },
        };

        let its_timeout = Duration::from_secs(
            parse_number(
                get("ITS_TIMEOUT_SECS"),
                "ITS_TIMEOUT_SECS",
                15,
                &mut problems,
            )
            .max(1),
        );

        let request_body_timeout = Duration::from_secs(
            parse_number(
                get("REQUEST_BODY_TIMEOUT_SECS"),
                "REQUEST_BODY_TIMEOUT_SECS",
                10,
                &mut problems,
            )
            .max(1),
        );

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push(format!(
                    "LOG_FORMAT must be `pretty` or `json`, got {other:?}"
                ));
                LogFormat::Pretty
            }
        };

        let verify = parse_verify(&get, &mut problems);

        let secret_key_previous =
            get("SECRET_KEY_PREVIOUS").and_then(|raw| match SecretKey::parse(&raw) {
                Ok(key) => Some(key),
                Err(_) => {
                    problems.push(
                        "SECRET_KEY_PREVIOUS must be 64 hexadecimal characters, like SECRET_KEY"
                            .into(),
                    );
                    None
                }
            });

        let database_max_bytes = get("DATABASE_MAX_MB").map(|_| {
            parse_number(get("DATABASE_MAX_MB"), "DATABASE_MAX_MB", 0, &mut problems).max(1)
                * 1024
                * 1024
        });

        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .filter_map(|p| match p.parse() {
                        Ok(ip) => Some(ip),
                        Err(_) => {
                            problems
                                .push(format!("TRUSTED_PROXIES must list IP addresses, got {p:?}"));
                            None
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();

        let api = parse_api(&get, &mut problems);

        let its_partner = ItsPartnerSettings {
            white_label: parse_bool(get("ITS_WHITE_LABEL"), "ITS_WHITE_LABEL", &mut problems),
            redirect_mode: match get("ITS_REDIRECT_MODE").as_deref() {
                None | Some("token") => RedirectMode::Token,
                Some("fixed") => RedirectMode::Fixed,
                Some(other) => {
                    problems.push(format!(
                        "ITS_REDIRECT_MODE must be `token` (a per-attempt token in redirect_url) or \
                         `fixed` (always PUBLIC_URL/connect/callback, for a provider account with \
                         registered redirect URLs), got {other:?}"
                    ));
                    RedirectMode::Token
                }
            },
        };

        let partner = parse_partner(&get, &mut problems);

        let zalo = parse_zalo(&get, &mut problems);

        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Settings {
            bind,
            public_url,
            database_path,
            data_dir,
            its,
            secret_key,
            its_auth_hosts,
            its_timeout,
            request_body_timeout,
            log_format,
            verify,
            trusted_proxies,
            secret_key_previous,
            database_max_bytes,
            api,
            its_partner,
            partner,
            zalo,
        })
    }
}

/// `ZALO_*`: both halves of the app or neither; the secret is never echoed in a problem.
fn parse_zalo(get: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> ZaloSettings {
    let app_id = get("ZALO_APP_ID").and_then(|raw| match crate::its::AppId::parse(&raw) {
        Ok(id) => Some(id),
        Err(_) => {
            problems.push(format!(
                "ZALO_APP_ID must be the Zalo app's numeric id (developers.zalo.me), got {raw:?}"
            ));
            None
        }
    });
    let secret = get("ZALO_APP_SECRET").and_then(|raw| {
        crate::its::ZaloAppSecret::parse(&raw)
            .map_err(|_| {
                problems.push(
                    "ZALO_APP_SECRET must be the app's secret key: printable characters without spaces"
                        .into(),
                )
            })
            .ok()
    });
    let app = match (get("ZALO_APP_ID"), get("ZALO_APP_SECRET")) {
        (Some(_), None) | (None, Some(_)) => {
            problems.push("ZALO_APP_ID and ZALO_APP_SECRET are set together or not at all".into());
            None
        }
        _ => app_id.zip(secret),
    };
    let oauth_hosts = get("ZALO_OAUTH_HOSTS")
        .map(|list| {
            list.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_else(|| vec!["oauth.zaloapp.com".to_owned()]);
    ZaloSettings {
        app,
        sandbox_app: None,
        oauth_hosts,
    }
}

/// `PARTNER_*`: each value is checked here so a typo stops the start instead of showing a
/// broken link to every owner.
fn parse_partner(
    get: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> PartnerSettings {
    let name = get("PARTNER_NAME").and_then(|n| {
        if n.chars().count() > 60 || n.chars().any(char::is_control) {
            problems.push(format!(
                "PARTNER_NAME must be at most 60 characters without control characters, got {n:?}"
            ));
            None
        } else {
            Some(n)
        }
    });
    let support_phone = get("PARTNER_SUPPORT_PHONE").and_then(|p| {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let allowed = p
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-') || (c == '+' && i == 0));
        if allowed && (3..=15).contains(&digits) {
            Some(p)
        } else {
            problems.push(format!(
                "PARTNER_SUPPORT_PHONE must be a phone number such as 1900 6868 or +84 28 1234 5678 \
                 (digits, spaces, dots, dashes, a leading +), got {p:?}"
            ));
            None
        }
    });
    let web_url = |name: &str, mailto: bool, problems: &mut Vec<String>| {
        get(name).and_then(|raw| match Url::parse(&raw) {
            Ok(url)
                if (matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.username().is_empty()
                    && url.password().is_none())
                    || (mailto && url.scheme() == "mailto" && url.path().contains('@')) =>
            {
                Some(url.to_string())
            }
            _ => {
                let what = if mailto {
                    "an absolute http(s) URL or a mailto: address"
                } else {
                    "an absolute http(s) URL"
                };
                problems.push(format!("{name} must be {what}, got {raw:?}"));
                None
            }
        })
    };
    let support_url = web_url("PARTNER_SUPPORT_URL", true, problems);
    let help_url = web_url("PARTNER_HELP_URL", false, problems);
    let logo = get("PARTNER_LOGO_FILE").and_then(|path| {
        let lower = path.to_ascii_lowercase();
        let content_type = if lower.ends_with(".png") {
            "image/png"
        } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
            "image/jpeg"
        } else if lower.ends_with(".webp") {
            "image/webp"
        } else if lower.ends_with(".svg") {
            "image/svg+xml"
        } else {
            problems.push(format!(
                "PARTNER_LOGO_FILE must be a .png, .jpg, .webp or .svg file, got {path:?}"
            ));
            return None;
        };
        match std::fs::read(&path) {
            Ok(bytes) if bytes.is_empty() || bytes.len() > PARTNER_LOGO_MAX_BYTES => {
                problems.push(format!(
                    "PARTNER_LOGO_FILE must hold between 1 byte and {} KiB, {path:?} has {} bytes",
                    PARTNER_LOGO_MAX_BYTES / 1024,
                    bytes.len()
                ));
                None
            }
            Ok(bytes) => Some(PartnerLogo {
                content_type,
                bytes: std::sync::Arc::new(bytes),
            }),
            Err(e) => {
                problems.push(format!("PARTNER_LOGO_FILE {path:?} cannot be read: {e}"));
                None
            }
        }
    });
    PartnerSettings {
        name,
        logo,
        support_phone,
        support_url,
        help_url,
    }
}

fn parse_verify(
    get: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> VerifySettings {
    let defaults = VerifySettings::default();
    let mut in_range = |name: &str, default: u64, min: u64, max: u64, what: &str| {
        let before = problems.len();
        let value = parse_number(get(name), name, default, problems);
        if problems.len() == before && !(min..=max).contains(&value) {
            problems.push(format!(
                "{name} must be between {min} and {max} ({what}), got {value}"
            ));
            return default;
        }
        value
    };
    let concurrency = in_range(
        "VERIFY_CONCURRENCY",
        defaults.concurrency as u64,
        1,
        64,
        "ITS calls at once while re-verifying shop keys",
    ) as usize;
    let tick = in_range(
        "VERIFY_TICK_SECS",
        60,
        1,
        3_600,
        "seconds between two runs of the re-verification scheduler",
    );
    let before = problems.len();
    let interval = parse_number(
        get("VERIFY_INTERVAL_SECS"),
        "VERIFY_INTERVAL_SECS",
        86_400,
        problems,
    );
    let interval = if problems.len() > before {
        defaults.interval
    } else if interval == 0 {
        None
    } else if interval < 60 || interval < tick {
        problems.push(format!(
            "VERIFY_INTERVAL_SECS must be 0 (scheduled re-verification off) or at least 60 seconds \
             and at least VERIFY_TICK_SECS ({tick}), got {interval}"
        ));
        defaults.interval
    } else {
        Some(Duration::from_secs(interval))
    };
    VerifySettings {
        concurrency,
        interval,
        tick: Duration::from_secs(tick),
    }
}

fn parse_bool(raw: Option<String>, name: &str, problems: &mut Vec<String>) -> bool {
    match raw.map(|r| r.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") | Some("no") => false,
        Some("true") | Some("1") | Some("yes") => true,
        Some(other) => {
            problems.push(format!("{name} must be `true` or `false`, got {other:?}"));
            false
        }
    }
}

fn parse_addr(raw: &str, name: &str, problems: &mut Vec<String>) -> SocketAddr {
    raw.parse().unwrap_or_else(|_| {
        problems.push(format!(
            "{name} must be an address and port such as 127.0.0.1:8080, got {raw:?}"
        ));
        SocketAddr::from(([127, 0, 0, 1], 0))
    })
}

fn parse_number(raw: Option<String>, name: &str, default: u64, problems: &mut Vec<String>) -> u64 {
    match raw {
        None => default,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            problems.push(format!("{name} must be a whole number, got {raw:?}"));
            default
        }),
    }
}

/// The partner's systems: the JSON API, connect links and webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// Origins (`scheme://host[:port]`) a connect link's `return_url` may point to
    /// (`RETURN_URL_ORIGINS`, comma separated); empty: every `return_url` is refused.
    pub return_url_origins: Vec<String>,
    /// Shop keys one service key may read per minute (`API_KEY_READS_PER_MINUTE`).
    pub key_reads_per_minute: u32,
    /// `POST /api/v1/shops/{id}/verify` calls (each one an ITS call) one service key may
    /// make per minute (`API_VERIFY_PER_MINUTE`).
    pub verify_per_minute: u32,
    /// Total time for one webhook request (`WEBHOOK_TIMEOUT_SECS`).
    pub webhook_timeout: Duration,
    /// The first retry delay; each next one doubles, up to a day (`WEBHOOK_RETRY_BASE_SECS`).
    pub webhook_retry_base: Duration,
    /// After this many failed attempts at one delivery the endpoint is paused
    /// (`WEBHOOK_MAX_ATTEMPTS`).
    pub webhook_max_attempts: u32,
    /// Lets webhooks go to loopback, private and other non-public addresses
    /// (`WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`), for receivers on the same network.
    pub webhook_allow_private_networks: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            return_url_origins: Vec::new(),
            key_reads_per_minute: 60,
            verify_per_minute: 30,
            webhook_timeout: Duration::from_secs(10),
            webhook_retry_base: Duration::from_secs(60),
            webhook_max_attempts: 12,
            webhook_allow_private_networks: false,
        }
    }
}

fn parse_api(get: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> ApiSettings {
    let defaults = ApiSettings::default();
    let return_url_origins = get("RETURN_URL_ORIGINS")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .filter_map(|raw| match Url::parse(raw) {
                    Ok(url)
                        if matches!(url.scheme(), "http" | "https")
                            && url.host().is_some()
                            && url.path() == "/"
                            && url.query().is_none() =>
                    {
                        Some(url.origin().ascii_serialization())
                    }
                    _ => {
                        problems.push(format!(
                            "RETURN_URL_ORIGINS must list origins such as https://shop.example.vn, got {raw:?}"
                        ));
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut in_range = |name: &str, default: u64, min: u64, max: u64| {
        let before = problems.len();
        let value = parse_number(get(name), name, default, problems);
        if problems.len() == before && !(min..=max).contains(&value) {
            problems.push(format!(
                "{name} must be between {min} and {max}, got {value}"
            ));
            return default;
        }
        value
    };
    ApiSettings {
        return_url_origins,
        key_reads_per_minute: in_range(
            "API_KEY_READS_PER_MINUTE",
            defaults.key_reads_per_minute.into(),
            1,
            100_000,
        ) as u32,
        verify_per_minute: in_range(
            "API_VERIFY_PER_MINUTE",
            defaults.verify_per_minute.into(),
            1,
            100_000,
        ) as u32,
        webhook_timeout: Duration::from_secs(in_range("WEBHOOK_TIMEOUT_SECS", 10, 1, 60)),
        webhook_retry_base: Duration::from_secs(in_range("WEBHOOK_RETRY_BASE_SECS", 60, 1, 3_600)),
        webhook_max_attempts: in_range("WEBHOOK_MAX_ATTEMPTS", 12, 1, 50) as u32,
        webhook_allow_private_networks: match get("WEBHOOK_ALLOW_PRIVATE_NETWORKS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problems.push(format!(
                    "WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false, got {other:?}"
                ));
                false
            }
        },
    }
}

/// Every problem found in the configuration, one per line.
#[derive(Debug)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "the configuration has {} problem(s):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_settings_at_all_means_sandbox_mode_on_local_defaults() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert!(s.is_sandbox());
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_path, PathBuf::from("data/shoplink.db"));
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert!(s.secret_key.is_none());
    }

    #[test]
    fn the_zalo_app_comes_in_pairs_and_its_secret_is_never_echoed() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert!(s.zalo.app.is_none());
        assert_eq!(s.zalo.oauth_hosts, vec!["oauth.zaloapp.com"]);
        let s = Settings::from_vars(&vars(&[
            ("ZALO_APP_ID", "4143453445419930001"),
            ("ZALO_APP_SECRET", "s3cretZaloValue"),
            ("ZALO_OAUTH_HOSTS", "oauth.zaloapp.com, Oauth.Example.vn"),
        ]))
        .unwrap();
        let (id, secret) = s.zalo.app.clone().unwrap();
        assert_eq!(id.as_str(), "4143453445419930001");
        assert_eq!(secret.expose_secret(), "s3cretZaloValue");
        assert_eq!(
            s.zalo.oauth_hosts,
            vec!["oauth.zaloapp.com", "oauth.example.vn"]
        );
        assert!(!format!("{s:?}").contains("s3cretZaloValue"));
        let text = Settings::from_vars(&vars(&[("ZALO_APP_SECRET", "onlyTheSecret")]))
            .unwrap_err()
            .to_string();
        assert!(text.contains("set together"), "{text}");
        assert!(!text.contains("onlyTheSecret"), "{text}");
        let text = Settings::from_vars(&vars(&[
            ("ZALO_APP_ID", "12ab"),
            ("ZALO_APP_SECRET", "has space"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("ZALO_APP_ID must be") && text.contains("ZALO_APP_SECRET must be"),
            "{text}"
        );
        assert!(!text.contains("has space"), "{text}");
    }

    #[test]
    fn the_verify_rate_limit_has_a_default_and_bounds() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.api.verify_per_minute, 30);
        let s = Settings::from_vars(&vars(&[("API_VERIFY_PER_MINUTE", "5")])).unwrap();
        assert_eq!(s.api.verify_per_minute, 5);
        let text = Settings::from_vars(&vars(&[("API_VERIFY_PER_MINUTE", "0")]))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("API_VERIFY_PER_MINUTE must be between 1 and 100000"),
            "{text}"
        );
    }

    #[test]
    fn a_real_provider_without_api_key_or_secret_is_a_start_up_error() {
        let err = Settings::from_vars(&vars(&[(
            "ITS_BASE_URL",
            "https://api.example.vn/v1/partner",
        )]))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ITS_API_KEY is required"), "{text}");
        assert!(text.contains("SECRET_KEY is required"), "{text}");
    }

    #[test]
    fn the_auth_host_is_derived_from_the_api_host() {
        let s = Settings::from_vars(&vars(&[
            ("ITS_BASE_URL", "https://api.etelecom.vn/v1/partner"),
            ("ITS_API_KEY", "k"),
            ("SECRET_KEY", &"ab".repeat(32)),
        ]))
        .unwrap();
        assert_eq!(
            s.its_auth_hosts,
            vec!["auth.etelecom.vn", "api.etelecom.vn"]
        );
    }

    #[test]
    fn verification_settings_have_defaults_and_readable_limits() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.verify, VerifySettings::default());
        let s = Settings::from_vars(&vars(&[
            ("VERIFY_CONCURRENCY", "8"),
            ("VERIFY_INTERVAL_SECS", "0"),
            ("VERIFY_TICK_SECS", "5"),
        ]))
        .unwrap();
        assert_eq!(s.verify.concurrency, 8);
        assert_eq!(s.verify.interval, None, "0 turns the scheduler off");
        assert_eq!(s.verify.tick, Duration::from_secs(5));

        let err = Settings::from_vars(&vars(&[
            ("VERIFY_CONCURRENCY", "0"),
            ("VERIFY_INTERVAL_SECS", "30"),
            ("VERIFY_TICK_SECS", "soon"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 3, "{text}");
        assert!(
            text.contains("VERIFY_CONCURRENCY must be between 1 and 64"),
            "{text}"
        );
        assert!(text.contains("VERIFY_INTERVAL_SECS must be 0"), "{text}");
        assert!(
            text.contains("VERIFY_TICK_SECS must be a whole number"),
            "{text}"
        );
    }

    #[test]
    fn the_partner_set_up_defaults_to_an_ordinary_partner_with_token_redirects() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.its_partner, ItsPartnerSettings::default());
        assert!(!s.its_partner.white_label);
        assert_eq!(s.its_partner.redirect_mode, RedirectMode::Token);
        let s = Settings::from_vars(&vars(&[
            ("ITS_WHITE_LABEL", "true"),
            ("ITS_REDIRECT_MODE", "fixed"),
        ]))
        .unwrap();
        assert!(s.its_partner.white_label);
        assert_eq!(s.its_partner.redirect_mode, RedirectMode::Fixed);
        let err = Settings::from_vars(&vars(&[
            ("ITS_WHITE_LABEL", "maybe"),
            ("ITS_REDIRECT_MODE", "query"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn malformed_values_are_each_reported() {
        let err = Settings::from_vars(&vars(&[
            ("BIND", "localhost"),
            ("PUBLIC_URL", "shoplink.vn"),
            ("SECRET_KEY", "short"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }

    #[test]
    fn partner_settings_are_optional_and_checked() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert!(s.partner.name.is_none() && s.partner.logo.is_none());
        assert!(!s.partner.has_contact());
        let s = Settings::from_vars(&vars(&[
            ("PARTNER_NAME", "Sao Mai POS"),
            ("PARTNER_SUPPORT_PHONE", "+84 28 1234-5678"),
            ("PARTNER_SUPPORT_URL", "mailto:hotro@saomai.example.vn"),
            ("PARTNER_HELP_URL", "https://saomai.example.vn/huong-dan"),
        ]))
        .unwrap();
        assert_eq!(s.partner.support_tel().as_deref(), Some("+842812345678"));
        assert!(s.partner.has_contact());
        let err = Settings::from_vars(&vars(&[
            ("PARTNER_NAME", &"x".repeat(61)),
            ("PARTNER_SUPPORT_PHONE", "12"),
            ("PARTNER_SUPPORT_URL", "https://user:pw@saomai.example.vn/"),
            ("PARTNER_HELP_URL", "mailto:hotro@saomai.example.vn"),
            ("PARTNER_LOGO_FILE", "logo.gif"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 5, "{err}");
    }
}
