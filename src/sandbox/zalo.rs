//! The sandbox's Zalo side, shared by its parts: the fake Zalo server (its own address, so
//! the app's OAuth-host allow-list and the cross-site redirect are real), the ZNS templates
//! every ready OA has, and the rules' constants.
//!
//! The parts live beside the code they extend: `zalo_api.rs` (the seven `Zalo/*` methods, a
//! child of `api`), `zalo_pages.rs` (the permission page, the phone page and the operator's
//! Zalo page, a child of `pages`), `zalo_store.rs` (the SQL, a child of `store`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use actix_web::{web, App, HttpServer};
use anyhow::Context;

use super::SandboxState;

/// ITS's `state` lives this long (like the ITS request token).
pub(crate) const STATE_TTL_SECONDS: i64 = 900;
/// Zalo's authorization `code` lives this long, and is single use.
pub(crate) const CODE_TTL_SECONDS: i64 = 600;
/// An OA's refresh token lasts this long after a grant (Zalo's three months).
pub(crate) const REFRESH_TOKEN_SECONDS: i64 = 90 * 86_400;
/// ZNS sends per day of a ready OA.
pub(crate) const DAILY_QUOTA: i64 = 500;
/// Zalo counts quotas by the day in Vietnam (UTC+7).
const VIETNAM_OFFSET_SECONDS: i64 = 7 * 3600;

/// The day (since the epoch, in Vietnam) a quota belongs to.
pub(crate) fn quota_day(now: i64) -> i64 {
    (now + VIETNAM_OFFSET_SECONDS).div_euclid(86_400)
}

/// What the Zalo handlers need besides `SandboxState`.
pub(crate) struct ZaloConfig {
    /// `http://localhost:{port}`: the fake Zalo's origin (another host than the sandbox's
    /// and the app's `127.0.0.1`, so a redirect there is cross-site, as with Zalo).
    pub origin: String,
}

/// Stops the fake Zalo server when the sandbox's own server lets go of it.
pub(crate) struct FakeZaloGuard(tokio::task::JoinHandle<std::io::Result<()>>);

impl Drop for FakeZaloGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the fake Zalo on a free port of `ip`, serving `state`; runs until the guard drops.
pub(crate) fn start_fake_zalo(
    ip: IpAddr,
    state: web::Data<SandboxState>,
) -> anyhow::Result<(web::Data<ZaloConfig>, FakeZaloGuard)> {
    let listener =
        TcpListener::bind(SocketAddr::new(ip, 0)).context("the fake Zalo cannot listen")?;
    let address = listener
        .local_addr()
        .context("reading the fake Zalo listener's address")?;
    let config = web::Data::new(ZaloConfig {
        origin: zalo_origin_of(address),
    });
    let server_config = config.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(server_config.clone())
            .configure(super::pages::zalo::fake_zalo_routes)
    })
    .workers(1)
    .shutdown_timeout(1)
    .listen(listener)
    .context("listening for the fake Zalo")?
    .run();
    tracing::info!(origin = %config.origin, "fake Zalo ready");
    Ok((config, FakeZaloGuard(tokio::spawn(server))))
}

/// `http://localhost:{port}` for a loopback or unspecified address, else the address itself.
fn zalo_origin_of(address: SocketAddr) -> String {
    let port = address.port();
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() || ip.is_loopback() => {
            format!("http://localhost:{port}")
        }
        IpAddr::V6(ip) if ip.is_unspecified() || ip.is_loopback() => {
            format!("http://localhost:{port}")
        }
        IpAddr::V4(ip) => format!("http://{ip}:{port}"),
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
    }
}

/// The address the fake Zalo binds: the sandbox's own IP (a wildcard bind stays a wildcard).
pub(crate) fn zalo_bind_ip(sandbox: SocketAddr) -> IpAddr {
    match sandbox.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ip => ip,
    }
}

/// One parameter of a template.
pub(crate) struct ParamDef {
    pub name: &'static str,
    /// `STRING`, `NUMBER` or `DATE`, as Zalo names them.
    pub kind: &'static str,
    pub require: bool,
    pub min_length: usize,
    pub max_length: usize,
    pub accept_null: bool,
}

/// A ZNS template "approved on Zalo's side". The body is the shop's own content (data, like
/// a shop's name), so it is not in the message catalogue.
pub(crate) struct TemplateDef {
    pub id: i64,
    pub name: &'static str,
    /// `ENABLE` (approved) or `PENDING_REVIEW`.
    pub status: &'static str,
    pub quality: &'static str,
    pub tag: &'static str,
    pub body: &'static str,
    pub params: &'static [ParamDef],
}

/// The templates of every OA with a package.
pub(crate) const TEMPLATES: &[TemplateDef] = &[
    TemplateDef {
        id: 231_500,
        name: "Xác nhận đơn hàng",
        status: "ENABLE",
        quality: "HIGH",
        tag: "TRANSACTION",
        body: "Xin chào {{customer_name}}, đơn hàng {{order_code}} trị giá {{amount}} đ đặt ngày {{order_date}} đã được xác nhận. Cảm ơn bạn đã mua sắm!",
        params: &[
            ParamDef {
                name: "customer_name",
                kind: "STRING",
                require: true,
                min_length: 1,
                max_length: 30,
                accept_null: false,
            },
            ParamDef {
                name: "order_code",
                kind: "STRING",
                require: true,
                min_length: 1,
                max_length: 30,
                accept_null: false,
            },
            ParamDef {
                name: "amount",
                kind: "NUMBER",
                require: true,
                min_length: 1,
                max_length: 20,
                accept_null: false,
            },
            ParamDef {
                name: "order_date",
                kind: "DATE",
                require: true,
                min_length: 8,
                max_length: 20,
                accept_null: false,
            },
        ],
    },
    TemplateDef {
        id: 231_501,
        name: "Cảm ơn khách hàng",
        status: "ENABLE",
        quality: "MEDIUM",
        tag: "CUSTOMER_CARE",
        body: "Cảm ơn {{customer_name}} đã ghé cửa hàng. Mã ưu đãi cho lần mua sau: {{voucher_code}}.",
        params: &[
            ParamDef {
                name: "customer_name",
                kind: "STRING",
                require: true,
                min_length: 1,
                max_length: 30,
                accept_null: false,
            },
            ParamDef {
                name: "voucher_code",
                kind: "STRING",
                require: false,
                min_length: 0,
                max_length: 20,
                accept_null: true,
            },
        ],
    },
    TemplateDef {
        id: 231_502,
        name: "Khuyến mãi cuối tuần",
        status: "PENDING_REVIEW",
        quality: "UNDEFINED",
        tag: "PROMOTION",
        body: "{{customer_name}} ơi, cuối tuần này giảm {{discount}}% cho mọi đơn hàng!",
        params: &[
            ParamDef {
                name: "customer_name",
                kind: "STRING",
                require: true,
                min_length: 1,
                max_length: 30,
                accept_null: false,
            },
            ParamDef {
                name: "discount",
                kind: "NUMBER",
                require: true,
                min_length: 1,
                max_length: 3,
                accept_null: false,
            },
        ],
    },
];

pub(crate) fn template(id: i64) -> Option<&'static TemplateDef> {
    TEMPLATES.iter().find(|t| t.id == id)
}

/// Why a template's data was refused: the parameter's name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DataError {
    Missing(&'static str),
    Invalid(&'static str),
}

/// Checks `data` against the template's parameters as Zalo does: required ones present and
/// non-empty (unless they accept null), lengths within bounds, numbers made of digits.
/// Parameters the template does not have are ignored.
pub(crate) fn check_data(
    template: &TemplateDef,
    data: &std::collections::BTreeMap<String, String>,
) -> Result<(), DataError> {
    for param in template.params {
        let value = data.get(param.name).map(|v| v.trim()).unwrap_or("");
        if value.is_empty() {
            if param.require && !param.accept_null {
                return Err(DataError::Missing(param.name));
            }
            continue;
        }
        let chars = value.chars().count();
        let number_ok = param.kind != "NUMBER"
            || value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ','));
        if chars < param.min_length
            || chars > param.max_length
            || !number_ok
            || value.chars().any(char::is_control)
        {
            return Err(DataError::Invalid(param.name));
        }
    }
    Ok(())
}

/// The message as the recipient reads it: every `{{name}}` replaced by its value.
pub(crate) fn render(
    template: &TemplateDef,
    data: &std::collections::BTreeMap<String, String>,
) -> String {
    let mut text = template.body.to_owned();
    for param in template.params {
        let value = data.get(param.name).map(|v| v.trim()).unwrap_or("");
        text = text.replace(&format!("{{{{{}}}}}", param.name), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn template_data_is_checked_against_the_parameters() {
        let order = template(231_500).unwrap();
        let full = data(&[
            ("customer_name", "Chị Lan"),
            ("order_code", "DH-1024"),
            ("amount", "1.250.000"),
            ("order_date", "30/11/2026"),
            ("extra", "ignored"),
        ]);
        assert_eq!(check_data(order, &full), Ok(()));
        assert_eq!(
            render(order, &full),
            "Xin chào Chị Lan, đơn hàng DH-1024 trị giá 1.250.000 đ đặt ngày 30/11/2026 đã được xác nhận. Cảm ơn bạn đã mua sắm!"
        );
        let mut missing = full.clone();
        missing.remove("order_code");
        assert_eq!(
            check_data(order, &missing),
            Err(DataError::Missing("order_code"))
        );
        let mut bad_number = full.clone();
        bad_number.insert("amount".into(), "một triệu".into());
        assert_eq!(
            check_data(order, &bad_number),
            Err(DataError::Invalid("amount"))
        );
        let mut too_long = full;
        too_long.insert("customer_name".into(), "x".repeat(31));
        assert_eq!(
            check_data(order, &too_long),
            Err(DataError::Invalid("customer_name"))
        );
        let thanks = template(231_501).unwrap();
        assert_eq!(
            check_data(thanks, &data(&[("customer_name", "An")])),
            Ok(())
        );
    }

    #[test]
    fn the_quota_day_turns_at_midnight_in_vietnam() {
        // 2026-11-30T16:59:59Z is 23:59:59 in Hanoi; a second later it is the next day.
        let before = 1_796_057_999;
        assert_eq!(quota_day(before) + 1, quota_day(before + 1));
    }

    #[test]
    fn the_fake_zalo_is_on_localhost_when_the_sandbox_is_local() {
        assert_eq!(
            zalo_origin_of("127.0.0.1:9".parse().unwrap()),
            "http://localhost:9"
        );
        assert_eq!(
            zalo_origin_of("192.168.1.5:80".parse().unwrap()),
            "http://192.168.1.5:80"
        );
    }
}
