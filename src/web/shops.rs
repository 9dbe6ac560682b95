//! An owner's shops: the list, adding one, its page, connecting and disconnecting.
//! Every query goes through `find_for_owner`, so another owner's shop answers 404.

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::auth::redirect;
use super::context::{html, Chrome, Ctx, CurrentUser};
use super::csrf::{CsrfForm, NoFields};
use super::error::AppError;
use super::views::{EventView, FieldErrors, OutcomeQuery, ShopView};
use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::services::connect::{self, StartOutcome};
use crate::services::shops::{self as shop_service, AddShopError, NewShopInput, ShopDetailsInput};
use crate::services::{user_actor, ServiceError};
use crate::store::{events, shops};

#[derive(Template)]
#[template(path = "shops/list.html")]
struct ListPage {
    c: Chrome,
    m: &'static Messages,
    shops: Vec<ShopView>,
}

pub async fn list(ctx: Ctx, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let svc = &ctx.state.services;
    let mut rows = shops::list_for_owner(&svc.db, user.0.id, 500).await?;
    // A shop still "waiting for you to sign in" whose attempt ran out goes back first.
    let mut restored = 0;
    for row in rows
        .iter()
        .filter(|r| r.state() == ConnectionState::Pending)
    {
        restored += connect::expire_attempts(svc, Some(row.id)).await?;
    }
    if restored > 0 {
        rows = shops::list_for_owner(&svc.db, user.0.id, 500).await?;
    }
    html(&ListPage {
        c: ctx.chrome(ctx.m.shops_title),
        m: ctx.m,
        shops: rows.iter().map(|r| ShopView::new(r, ctx.m)).collect(),
    })
}

#[derive(Template)]
#[template(path = "shops/new.html")]
struct NewPage {
    c: Chrome,
    m: &'static Messages,
    form: NewShopInput,
    errors: FieldErrors,
}

pub async fn new_form(ctx: Ctx, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    html(&NewPage {
        c: ctx.chrome(ctx.m.new_shop_title),
        m: ctx.m,
        form: NewShopInput::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    ctx: Ctx,
    user: CurrentUser,
    form: CsrfForm<NewShopInput>,
) -> Result<HttpResponse, AppError> {
    // A double click sends the form twice: `add_shop` answers the second with the shop the
    // first added.
    match shop_service::add_shop(&ctx.state.services, user.0.id, &form.0).await {
        Ok(id) => Ok(redirect(&format!("/shops/{id}?outcome=created"))),
        Err(AddShopError::Invalid(errors)) => {
            let page = NewPage {
                c: ctx.chrome(ctx.m.new_shop_title),
                m: ctx.m,
                form: form.0,
                errors: FieldErrors::new(ctx.m, &errors),
            };
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Err(AddShopError::Service(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "shops/show.html")]
struct ShowPage {
    c: Chrome,
    m: &'static Messages,
    shop: ShopView,
    masked_key: Option<String>,
    key_unreadable: bool,
    events: Vec<EventView>,
    flash: Option<Flash>,
    /// What to do about the shop's failure, when it has one.
    next_step: Option<NextStep>,
    /// Step ② (the Zalo OA), on a shop connected to ITS.
    zalo: Option<super::zalo::ZaloStep>,
}

pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

pub async fn show(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    query: web::Query<OutcomeQuery>,
    oa_query: web::Query<super::zalo::OaOutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let svc = &ctx.state.services;
    let shop_id = path.into_inner();
    let mut row = shops::find_for_owner(&svc.db, shop_id, user.0.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.state() == ConnectionState::Pending
        && connect::expire_attempts(svc, Some(row.id)).await? > 0
    {
        row = shops::find_for_owner(&svc.db, shop_id, user.0.id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let shop = ShopView::new(&row, ctx.m);
    let stored = crate::services::shops::stored_key(&svc.sealer, &row);
    let (masked_key, key_unreadable) = (stored.masked(), stored.is_unreadable());
    let m = ctx.m;
    let flash = match query.outcome.as_deref() {
        Some("connected") if shop.is_connected() => Some(Flash {
            kind: "success",
            text: Messages::fill(
                m.flash_connected,
                &[shop.its_shop_name.as_deref().unwrap_or("")],
            ),
        }),
        Some("failed") => match shop.failure {
            Some(f) => Some(Flash {
                kind: "error",
                text: f.to_owned(),
            }),
            // A new attempt failed on a shop whose connection still works: say both.
            None if shop.state.has_key() => {
                let reason = crate::store::attempts::last_outcome(&svc.db, row.id)
                    .await?
                    .filter(|code| code.starts_with("error_"));
                let mut text = m.flash_attempt_failed_kept.to_owned();
                if let Some(code) = reason {
                    text.push(' ');
                    text.push_str(&Messages::fill(
                        m.flash_attempt_failed_reason,
                        &[m.get(&code)],
                    ));
                }
                Some(Flash {
                    kind: "error",
                    text,
                })
            }
            None => None,
        },
        Some("edited") => Some(Flash {
            kind: "success",
            text: m.flash_shop_edited.to_owned(),
        }),
        Some("created") => Some(Flash {
            kind: "success",
            text: m.flash_shop_created.to_owned(),
        }),
        Some("disconnected") if shop.state == ConnectionState::Disconnected => Some(Flash {
            kind: "success",
            text: m.flash_disconnected.to_owned(),
        }),
        _ => None,
    };
    let events = events::for_shop(&svc.db, row.id, 50)
        .await?
        .iter()
        .map(|e| EventView::seen_by(e, m, Some(user.0.id)).without_detail())
        .collect();
    let next_step = row
        .failure_code
        .as_deref()
        .filter(|_| shop.failure.is_some())
        .map(|code| next_step(code, m));
    let zalo = super::zalo::step_for(&ctx, &row, oa_query.oa.as_deref()).await?;
    let mut response = html(&ShowPage {
        c: ctx.chrome(m.shop_title),
        m,
        next_step,
        zalo,
        shop,
        masked_key,
        key_unreadable,
        events,
        flash,
    })?;
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

pub async fn connect(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let shop_id = path.into_inner();
    let outcome = connect::start(
        &ctx.state.services,
        user.0.id,
        &user.0.session_hash,
        shop_id,
        &user_actor(user.0.id),
    )
    .await?;
    // A flow opened by a connect link ends at the partner's `return_url` instead.
    let done = matches!(outcome, StartOutcome::Connected | StartOutcome::Failed(_));
    if done {
        let connected = matches!(outcome, StartOutcome::Connected);
        if let Some(back) = super::connect_links::return_to(&ctx, connected).await? {
            return Ok(back);
        }
    }
    Ok(match outcome {
        StartOutcome::GoToIts { auth_url } => redirect(&auth_url),
        StartOutcome::Connected => redirect(&format!("/shops/{shop_id}?outcome=connected")),
        StartOutcome::Failed(_) => redirect(&format!("/shops/{shop_id}?outcome=failed")),
    })
}

/// The confirmation before a disconnect, for an owner or an admin.
#[derive(Template)]
#[template(path = "disconnect.html")]
pub(crate) struct DisconnectPage {
    pub c: Chrome,
    pub m: &'static Messages,
    pub shop: ShopView,
    /// Where the shop's pages are: `/shops` for its owner, `/admin/shops` for an admin.
    pub shops_url: &'static str,
}

/// The confirmation step before a disconnect: a page of its own, so it works without JavaScript.
pub async fn disconnect_confirm(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let row = shops::find_for_owner(&ctx.state.services.db, path.into_inner(), user.0.id)
        .await?
        .ok_or(AppError::NotFound)?;
    html(&DisconnectPage {
        c: ctx.chrome(ctx.m.disconnect_title),
        m: ctx.m,
        shop: ShopView::new(&row, ctx.m),
        shops_url: "/shops",
    })
}

pub async fn disconnect(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let shop_id = path.into_inner();
    match shop_service::disconnect(
        &ctx.state.services,
        shop_id,
        Some(user.0.id),
        &user_actor(user.0.id),
    )
    .await
    {
        // A second click (or a resent form) finds the shop already disconnected: same answer.
        Ok(()) | Err(ServiceError::Refused("error_nothing_to_disconnect")) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/shops/{shop_id}?outcome=disconnected")))
}

/// What an owner can do about a failure: each reason its own next step.
pub struct NextStep {
    pub text: &'static str,
    /// Whether pressing connect again is the way forward (the primary button). When not,
    /// the button stays, secondary, under `connect_label` (e.g. once a closed account
    /// has been reopened).
    pub retry: bool,
    pub connect_label: Option<&'static str>,
    /// Whether the shop's details (phone, email) are the thing to fix.
    pub edit: bool,
}

pub fn next_step(code: &str, m: &'static Messages) -> NextStep {
    let step = |text, retry, edit| NextStep {
        text,
        retry,
        connect_label: None,
        edit,
    };
    match code {
        "error_its_account_closed" => NextStep {
            text: m.next_step_account_closed,
            retry: false,
            connect_label: Some(m.connect_after_reopen),
            edit: false,
        },
        "error_its_invalid_argument" => step(m.next_step_check_details, true, true),
        "error_its_api_key"
        | "error_its_bad_route"
        | "error_its_redirect_not_registered"
        | "error_its_auth_url_refused" => step(m.next_step_partner_setup, false, false),
        "error_its_shop_taken" => step(m.next_step_shop_taken, true, false),
        "error_its_permission_denied"
        | "error_callback_shop_not_linked"
        | "error_callback_not_confirmed"
        | "error_shop_id_mismatch" => step(m.next_step_own_account, true, false),
        "error_its_unavailable"
        | "error_its_timeout"
        | "error_its_unreachable"
        | "error_its_bad_answer" => step(m.next_step_retry_later, true, false),
        "error_its_relogin_loop" | "error_its_failed_precondition" | "error_its_unknown" => {
            step(m.next_step_retry_or_contact_its, true, false)
        }
        _ => step(m.next_step_retry, true, false),
    }
}

#[derive(Template)]
#[template(path = "shops/edit.html")]
struct EditPage {
    c: Chrome,
    m: &'static Messages,
    shop_id: Uuid,
    shop_name: String,
    form: ShopDetailsInput,
    errors: FieldErrors,
}

pub async fn edit_form(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let row = shops::find_for_owner(&ctx.state.services.db, path.into_inner(), user.0.id)
        .await?
        .ok_or(AppError::NotFound)?;
    html(&EditPage {
        c: ctx.chrome(ctx.m.edit_shop_title),
        m: ctx.m,
        shop_id: row.id,
        shop_name: row.name.clone(),
        form: ShopDetailsInput {
            name: row.name,
            phone: row.phone.unwrap_or_default(),
            email: row.email.unwrap_or_default(),
        },
        errors: FieldErrors::default(),
    })
}

pub async fn edit(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    form: CsrfForm<ShopDetailsInput>,
) -> Result<HttpResponse, AppError> {
    let shop_id = path.into_inner();
    let svc = &ctx.state.services;
    match shop_service::update_details(svc, user.0.id, shop_id, &form.0).await {
        Ok(()) => Ok(redirect(&format!("/shops/{shop_id}?outcome=edited"))),
        Err(AddShopError::Invalid(errors)) => {
            let row = shops::find_for_owner(&svc.db, shop_id, user.0.id)
                .await?
                .ok_or(AppError::NotFound)?;
            let mut c = ctx.chrome(ctx.m.edit_shop_title);
            c.title = ctx.m.edit_shop_title_error;
            let page = EditPage {
                c,
                m: ctx.m,
                shop_id,
                shop_name: row.name,
                form: form.0,
                errors: FieldErrors::new(ctx.m, &errors),
            };
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Err(AddShopError::Service(e)) => Err(e.into()),
    }
}
