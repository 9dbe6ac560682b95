//! `/admin/shops.csv`: the current filtered list as CSV, streamed page by page so a
//! hundred thousand shops never sit in memory. UTF-8 with a BOM so Excel shows Vietnamese
//! correctly. Never a shop key. Cells that a spreadsheet would run as a formula are
//! prefixed with `'` (CSV injection).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use futures_util::stream;

use super::shops::ListQuery;
use crate::i18n::Messages;
use crate::store::shop_list::{self, ShopFilter, ShopListRow};
use crate::web::context::{AdminUser, Ctx};
use crate::web::error::AppError;
use crate::web::views::format_time;

const CHUNK: i64 = 1_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/shops.csv", web::get().to(export));
}

async fn export(
    ctx: Ctx,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let mut filter = query.filter()?;
    filter.after = None;
    filter.before = None;
    filter.columns = shop_list::Columns::Export;
    // The list shows the hint instead of running a search too short for the index; an
    // export of that address would be every shop, which is not what was asked for.
    if filter.search() == shop_list::Search::TooShort {
        return Err(AppError::BadRequest(
            crate::i18n::MsgKey::admin_search_too_short,
        ));
    }
    let m = ctx.m;
    let db = ctx.state.services.read_db.clone();
    let header_row = csv_line(&[
        m.csv_shop_id,
        m.field_shop_name,
        m.csv_owner,
        m.field_phone,
        m.field_email,
        m.field_external_id,
        m.field_owner_ref,
        m.csv_state,
        m.its_shop_id_label,
        m.its_shop_label,
        m.last_verified_label,
        m.updated_label,
    ]);
    let mut first = b"\xEF\xBB\xBF".to_vec();
    first.extend_from_slice(&header_row);

    // State: the filter of the next chunk, or None when done.
    let body = stream::unfold((Some(filter), Some(first)), move |(filter, head)| {
        let db = db.clone();
        async move {
            if let Some(head) = head {
                return Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(head)),
                    (filter, None),
                ));
            }
            let mut filter: ShopFilter = filter?;
            // A connection per chunk: the read pool's statement limit is armed per chunk, and
            // other admins' reads get their turn between chunks.
            let chunk = match db.acquire().await {
                Ok(mut conn) => shop_list::fetch_page(&mut conn, &filter, CHUNK).await,
                Err(e) => Err(e),
            };
            match chunk {
                Ok(page) => {
                    let mut out = Vec::with_capacity(page.rows.len() * 160);
                    for row in &page.rows {
                        out.extend_from_slice(&row_line(row, m));
                    }
                    let next = page.next.map(|cursor| {
                        filter.after = Some(cursor);
                        filter
                    });
                    Some((Ok(web::Bytes::from(out)), (next, None)))
                }
                Err(e) => {
                    // The status line is already sent. Ending the stream here would end the
                    // file cleanly and a truncated export would look complete: yield an error
                    // instead, which aborts the transfer (no final chunk), so the download
                    // fails visibly. The stream ends after it (the state is spent).
                    tracing::error!(error = %e, "CSV export aborted: the database failed mid-way");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError(
                            "the export stopped before its end",
                        )),
                        (None, None),
                    ))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"shoplink-shops.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

fn row_line(row: &ShopListRow, m: &'static Messages) -> Vec<u8> {
    let state = crate::domain::ConnectionState::parse(&row.state)
        .map(|s| crate::web::views::state_label(s, m))
        .unwrap_or("?");
    let its_id = row.its_shop_id.map(|v| v.to_string()).unwrap_or_default();
    let verified = row.last_verified_at.map(format_time).unwrap_or_default();
    let id = row.id.to_string();
    let updated = format_time(row.updated_at);
    csv_line(&[
        &id,
        &row.name,
        &row.owner_email,
        row.phone.as_deref().unwrap_or(""),
        row.email.as_deref().unwrap_or(""),
        row.external_shop_id.as_deref().unwrap_or(""),
        row.owner_ref.as_deref().unwrap_or(""),
        state,
        &its_id,
        row.its_shop_name.as_deref().unwrap_or(""),
        &verified,
        &updated,
    ])
}

/// One CSV record (quoted as needed by the `csv` crate), formula-looking cells defused.
fn csv_line(cells: &[&str]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let safe: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{c}")
            } else {
                (*c).to_owned()
            }
        })
        .collect();
    writer.write_record(&safe).expect("writing to memory");
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::csv_line;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let line = String::from_utf8(csv_line(&["a,b", "say \"hi\"", "=1+2", "Cửa hàng"])).unwrap();
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\",'=1+2,Cửa hàng\r\n");
    }
}
