//! The admin shop list: filters, search and keyset pagination. A page is found by seeking
//! an index to the cursor (the last row of the previous page), never by OFFSET, so page
//! 2,000 costs what page 1 costs, and rows that change between pages cause neither
//! duplicates nor gaps among the rows that did not change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, FromRow, QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use crate::domain::{fold_for_search, ConnectionState};
use crate::store::oa_summary::{self, OaFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// By name, A to Z (folded: case and diacritics ignored).
    Name,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "name" => Sort::Name,
            _ => Sort::Updated,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Updated => "updated",
            Sort::Name => "name",
        }
    }
}

/// Where the next page starts: the sort key of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Updated {
        updated_at: i64,
        id: Uuid,
    },
    Name {
        search_name: String,
        id: Uuid,
    },
    /// Search results, newest shop first: the search index hands over its matches in this
    /// order, so a page stops after its rows instead of sorting every match.
    Newest {
        seq: i64,
    },
    /// An expiry filter's rows, soonest refresh-token expiry first (`oa_summary`).
    OaExpiry {
        expires_at: i64,
        seq: i64,
    },
}

impl Cursor {
    pub fn encode(&self) -> String {
        match self {
            Cursor::Updated { updated_at, id } => format!("u.{updated_at}.{}", id.simple()),
            Cursor::Name { search_name, id } => {
                format!("n.{}.{}", URL_SAFE_NO_PAD.encode(search_name), id.simple())
            }
            Cursor::Newest { seq } => format!("s.{seq}"),
            Cursor::OaExpiry { expires_at, seq } => format!("e.{expires_at}.{seq}"),
        }
    }

    /// `None` for anything malformed: a bad cursor shows the first page, never an error.
    pub fn decode(s: &str) -> Option<Cursor> {
        if let Some(seq) = s.strip_prefix("s.") {
            return seq.parse().ok().map(|seq| Cursor::Newest { seq });
        }
        if let Some((at, seq)) = s.strip_prefix("e.").and_then(|r| r.split_once('.')) {
            return Some(Cursor::OaExpiry {
                expires_at: at.parse().ok()?,
                seq: seq.parse().ok()?,
            });
        }
        let mut parts = s.splitn(3, '.');
        let (kind, key, id) = (parts.next()?, parts.next()?, parts.next()?);
        let id = Uuid::try_parse(id).ok()?;
        match kind {
            "u" => Some(Cursor::Updated {
                updated_at: key.parse().ok()?,
                id,
            }),
            "n" => {
                let name = String::from_utf8(URL_SAFE_NO_PAD.decode(key).ok()?).ok()?;
                Some(Cursor::Name {
                    search_name: name,
                    id,
                })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ShopFilter {
    pub state: Option<ConnectionState>,
    pub owner: Option<Uuid>,
    /// As typed; folded before use.
    pub query: Option<String>,
    pub sort: Sort,
    pub after: Option<Cursor>,
    /// The page before this cursor (the "previous" link: the first row shown), read by
    /// walking the same index backwards. Takes precedence over `after`.
    pub before: Option<Cursor>,
    /// The shops' Zalo OAs (`oa_summary`).
    pub oa: Option<OaFilter>,
    /// The columns a row carries.
    pub columns: Columns,
}

/// The columns of a row: the list page's, or every one the CSV export writes. sqlx copies
/// every column of every row out of SQLite (an allocation each), so the page does not
/// read the five it does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Columns {
    #[default]
    List,
    Export,
}

/// The fewest characters the trigram index can look for: with fewer, FTS5 (and any other
/// way of asking "contains") reads every shop, 4 s at a million shops.
pub const MIN_SEARCH_CHARS: usize = 3;

/// What a filter's search text amounts to, once folded the way the index is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    None,
    /// Folded, at least `MIN_SEARCH_CHARS` characters: the index answers it.
    Indexed(String),
    /// Typed, but too short once folded ("ab", "09", a lone diacritic): not run at all.
    TooShort,
}

impl ShopFilter {
    pub fn search(&self) -> Search {
        let Some(typed) = self.query.as_deref().filter(|q| !q.trim().is_empty()) else {
            return Search::None;
        };
        let folded = fold_for_search(typed);
        if folded.chars().count() >= MIN_SEARCH_CHARS {
            Search::Indexed(folded)
        } else {
            Search::TooShort
        }
    }

    fn folded_query(&self) -> Option<String> {
        match self.search() {
            Search::Indexed(q) => Some(q),
            Search::None | Search::TooShort => None,
        }
    }

    /// The order rows come in: a search lists the newest shops first, whatever the sort
    /// asked for. The index hands over its matches in that order, so a page stops after its
    /// rows; by last change or by name it would have to fetch and sort every match first
    /// ("cua" matches most shops).
    pub fn order(&self) -> Order {
        if self.folded_query().is_some() {
            return Order::Newest;
        }
        if let Some(oa) = self.oa_source() {
            return match oa {
                OaFilter::Expiring { .. } => Order::OaExpiry,
                _ => Order::OaNewest,
            };
        }
        match self.sort {
            Sort::Name => Order::Name,
            Sort::Updated => Order::Updated,
        }
    }
}

impl ShopFilter {
    /// The OA filter when its own index drives the page: not under a search (the search
    /// index leads, the OA summary is checked on each match) nor for one owner (their few
    /// shops lead).
    fn oa_source(&self) -> Option<OaFilter> {
        self.oa
            .filter(|_| self.folded_query().is_none() && self.owner.is_none())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Updated,
    Name,
    Newest,
    /// An OA filter's shops, newest shop first (the flags' key order).
    OaNewest,
    /// Shops whose OA expires soonest first.
    OaExpiry,
}

#[derive(Debug, Clone)]
pub struct ShopListRow {
    pub seq: i64,
    pub id: Uuid,
    pub name: String,
    pub search_name: String,
    pub owner_id: Uuid,
    pub owner_email: String,
    pub state: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_shop_id: Option<String>,
    pub owner_ref: Option<String>,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub last_verified_at: Option<i64>,
    pub updated_at: i64,
    /// The OA summary (`oa_summary`).
    pub oa_count: i64,
    pub oa_connected: i64,
    pub oa_low: i64,
    pub oa_quota_low: i64,
    pub oa_expires_at: Option<i64>,
}

/// The columns a page's rows are read from, by position: sqlx's lookup by name hashes the
/// column's name for every column of every row (20 columns of 51 rows: 8 % of the list
/// page's instructions, callgrind at 1,000,000 shops). The export's five come last, so the
/// list reads none of them. `FromRow` below reads them in this order; in a debug build each
/// read checks the column's name, so the API tests catch an order that drifts.
const LIST_COLUMNS: &str = "s.seq, s.id, s.name, s.search_name, s.owner_id, \
     u.email AS owner_email, s.state, s.its_shop_id, s.last_verified_at, s.updated_at, \
     s.oa_count, s.oa_connected, s.oa_low, s.oa_quota_low, s.oa_expires_at";
const LIST_COLUMN_COUNT: usize = 15;
const EXPORT_COLUMNS: &str = ", s.phone, s.email, s.external_shop_id, s.owner_ref, s.its_shop_name";

impl FromRow<'_, SqliteRow> for ShopListRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        let export = row.len() > LIST_COLUMN_COUNT;
        let export_column = |i: usize, name: &str| {
            if export {
                column(row, LIST_COLUMN_COUNT + i, name)
            } else {
                Ok(None)
            }
        };
        Ok(ShopListRow {
            seq: column(row, 0, "seq")?,
            id: column(row, 1, "id")?,
            name: column(row, 2, "name")?,
            search_name: column(row, 3, "search_name")?,
            owner_id: column(row, 4, "owner_id")?,
            owner_email: column(row, 5, "owner_email")?,
            state: column(row, 6, "state")?,
            its_shop_id: column(row, 7, "its_shop_id")?,
            last_verified_at: column(row, 8, "last_verified_at")?,
            updated_at: column(row, 9, "updated_at")?,
            oa_count: column(row, 10, "oa_count")?,
            oa_connected: column(row, 11, "oa_connected")?,
            oa_low: column(row, 12, "oa_low")?,
            oa_quota_low: column(row, 13, "oa_quota_low")?,
            oa_expires_at: column(row, 14, "oa_expires_at")?,
            phone: export_column(0, "phone")?,
            email: export_column(1, "email")?,
            external_shop_id: export_column(2, "external_shop_id")?,
            owner_ref: export_column(3, "owner_ref")?,
            its_shop_name: export_column(4, "its_shop_name")?,
        })
    }
}

/// Column `index` of a row, which a debug build checks is the one called `name`.
fn column<'r, T>(row: &'r SqliteRow, index: usize, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    debug_assert_eq!(row.columns()[index].name(), name, "column {index}");
    row.try_get(index)
}

impl ShopListRow {
    pub fn cursor(&self, order: Order) -> Cursor {
        match order {
            Order::Updated => Cursor::Updated {
                updated_at: self.updated_at,
                id: self.id,
            },
            Order::Name => Cursor::Name {
                search_name: self.search_name.clone(),
                id: self.id,
            },
            Order::Newest | Order::OaNewest => Cursor::Newest { seq: self.seq },
            Order::OaExpiry => Cursor::OaExpiry {
                expires_at: self.oa_expires_at.unwrap_or_default(),
                seq: self.seq,
            },
        }
    }
}

pub struct Page {
    pub rows: Vec<ShopListRow>,
    /// The cursor of the next page, if there is one.
    pub next: Option<Cursor>,
    /// The cursor of the previous page (its `before`), if there is one.
    pub prev: Option<Cursor>,
    /// Whether this is the list's first page (a "previous" walk that reached the start
    /// shows the first page in full, so its numbering starts at 1 again).
    pub first: bool,
}

/// Builds the list query. A search too short for the index is left out (the page says
/// what it needs instead): no query shape here reads the whole table.
pub fn build_query(filter: &ShopFilter, limit: i64) -> QueryBuilder<'static, Sqlite> {
    build_query_after("", filter, limit)
}

/// `EXPLAIN QUERY PLAN` of exactly the query `build_query` makes, with the same values
/// bound, so a test can check every shape's plan.
pub fn explain_query(filter: &ShopFilter, limit: i64) -> QueryBuilder<'static, Sqlite> {
    build_query_after("EXPLAIN QUERY PLAN ", filter, limit)
}

/// What a statement reads besides the view's shops: a page shows each shop's owner, a
/// count reads nothing it does not filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    Page,
    Count,
}

/// The `FROM … WHERE …` of a view, shared by its page and its bounded count so the two
/// can never disagree about which shops it holds: the trigram index for a search, the OA
/// filter's flags when one leads, else the shops table; then the other filters. A count
/// joins no owner, and a search's count no shop unless a filter looks at it: each join is
/// one more B-tree seek per match, up to `COUNT_BOUND` of them (perf at a million shops:
/// most of a name search's CPU).
fn push_source_and_filters(
    qb: &mut QueryBuilder<'static, Sqlite>,
    filter: &ShopFilter,
    reads: Reads,
) {
    let owners = reads == Reads::Page;
    let column_filter = filter.state.is_some()
        || filter.owner.is_some()
        || (filter.oa.is_some() && filter.oa_source().is_none());
    match filter.folded_query() {
        // The trigram index finds the matches; a search too short for it never gets here.
        Some(q) => {
            qb.push("FROM shops_search f");
            if owners || column_filter {
                // The index's rowid is the shop's `seq` negated (newest first, see below).
                qb.push(" JOIN shops s ON s.seq = -f.rowid");
            }
            if owners {
                qb.push(" JOIN users u ON u.id = s.owner_id");
            }
            qb.push(" WHERE f.haystack MATCH ");
            qb.push_bind(format!("\"{}\"", q.replace('"', "\"\"")));
        }
        None => match filter.oa_source() {
            // The OA filter's own rows lead: a seek of `shop_oa_flags`.
            Some(oa) => oa.push_flag_source(qb, owners),
            None if owners => {
                qb.push("FROM shops s JOIN users u ON u.id = s.owner_id WHERE 1 = 1");
            }
            None => {
                qb.push("FROM shops s WHERE 1 = 1");
            }
        },
    }
    if let (Some(oa), None) = (filter.oa, filter.oa_source()) {
        oa.push_column_condition(qb);
    }
    if let Some(state) = filter.state {
        qb.push(" AND s.state = ");
        qb.push_bind(state.as_str());
    }
    if let Some(owner) = filter.owner {
        qb.push(" AND s.owner_id = ");
        qb.push_bind(owner);
    }
}

fn build_query_after(
    prefix: &'static str,
    filter: &ShopFilter,
    limit: i64,
) -> QueryBuilder<'static, Sqlite> {
    let order = filter.order();
    let mut qb = QueryBuilder::new(prefix);
    qb.push("SELECT ");
    qb.push(LIST_COLUMNS);
    if filter.columns == Columns::Export {
        qb.push(EXPORT_COLUMNS);
    }
    qb.push(" ");
    push_source_and_filters(&mut qb, filter, Reads::Page);
    // Backwards: the same seek with the comparison and the order turned round; the caller
    // puts the rows back in display order.
    let back = filter.before.is_some();
    let cursor = if back { &filter.before } else { &filter.after };
    let (lt, gt) = if back { (" > ", " < ") } else { (" < ", " > ") };
    match (cursor, order) {
        (Some(Cursor::Updated { updated_at, id }), Order::Updated) => {
            qb.push(" AND (s.updated_at, s.id)");
            qb.push(lt);
            qb.push("(");
            qb.push_bind(*updated_at);
            qb.push(", ");
            qb.push_bind(*id);
            qb.push(")");
        }
        (Some(Cursor::Name { search_name, id }), Order::Name) => {
            qb.push(" AND (s.search_name, s.id)");
            qb.push(gt);
            qb.push("(");
            qb.push_bind(search_name.clone());
            qb.push(", ");
            qb.push_bind(*id);
            qb.push(")");
        }
        (Some(Cursor::Newest { seq }), Order::Newest) => {
            // Older than the cursor's shop: a smaller `seq`, a greater rowid. The cursor
            // comes from the URL: `saturating_neg`, since -i64::MIN does not exist.
            qb.push(" AND f.rowid");
            qb.push(gt);
            qb.push_bind(seq.saturating_neg());
        }
        (Some(Cursor::Newest { seq }), Order::OaNewest) => {
            qb.push(" AND g.shop_seq");
            qb.push(lt);
            qb.push_bind(*seq);
        }
        (Some(Cursor::OaExpiry { expires_at, seq }), Order::OaExpiry) => {
            qb.push(" AND (g.key, g.shop_seq)");
            qb.push(gt);
            qb.push("(");
            qb.push_bind(*expires_at);
            qb.push(", ");
            qb.push_bind(*seq);
            qb.push(")");
        }
        _ => {}
    }
    qb.push(match (order, back) {
        (Order::Updated, false) => " ORDER BY s.updated_at DESC, s.id DESC",
        (Order::Updated, true) => " ORDER BY s.updated_at ASC, s.id ASC",
        (Order::Name, false) => " ORDER BY s.search_name ASC, s.id ASC",
        (Order::Name, true) => " ORDER BY s.search_name DESC, s.id DESC",
        // The index's own order, forwards (rowid = -seq: newest shop first; migration
        // `20261202000001_search_newest_first`): it stops after the page's rows.
        (Order::Newest, false) => " ORDER BY f.rowid ASC",
        (Order::Newest, true) => " ORDER BY f.rowid DESC",
        (Order::OaNewest, false) => " ORDER BY g.shop_seq DESC",
        (Order::OaNewest, true) => " ORDER BY g.shop_seq ASC",
        (Order::OaExpiry, false) => " ORDER BY g.key ASC, g.shop_seq ASC",
        (Order::OaExpiry, true) => " ORDER BY g.key DESC, g.shop_seq DESC",
    });
    qb.push(" LIMIT ");
    qb.push_bind(limit);
    qb
}

/// One page of a view. On a connection rather than a pool: the list page reads its page,
/// its counters and its total on one connection of the read pool, which arms that
/// connection's statement limit once (a round trip to its thread) instead of per statement.
pub async fn fetch_page(
    db: &mut SqliteConnection,
    filter: &ShopFilter,
    size: i64,
) -> Result<Page, sqlx::Error> {
    let order = filter.order();
    let mut rows: Vec<ShopListRow> = build_query(filter, size + 1)
        .build_query_as()
        .fetch_all(&mut *db)
        .await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    if filter.before.is_some() {
        if !more {
            // Back at the start: show the first page whole (rows added or removed since
            // the reader went forward would otherwise leave it short).
            let first = ShopFilter {
                before: None,
                after: None,
                ..filter.clone()
            };
            return Box::pin(fetch_page(db, &first, size)).await;
        }
        rows.reverse();
        return Ok(Page {
            next: rows.last().map(|r| r.cursor(order)),
            prev: rows.first().map(|r| r.cursor(order)),
            first: false,
            rows,
        });
    }
    let first = filter.after.is_none();
    Ok(Page {
        next: if more {
            rows.last().map(|r| r.cursor(order))
        } else {
            None
        },
        prev: if first {
            None
        } else {
            rows.first().map(|r| r.cursor(order))
        },
        first,
        rows,
    })
}

/// How many shops a view holds: exact, or "more than" the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    MoreThan(i64),
}

/// The most shops a search or an owner filter counts before saying "more than": counting
/// stops there, so the count costs at most this many index rows whatever the table holds.
pub const COUNT_BOUND: i64 = 200;

/// The number of shops in a view, never by counting the table: the whole list and a
/// state use the counters the triggers keep (`shop_state_counts`); a search or an owner
/// filter counts its matches up to `COUNT_BOUND` and says "more than" past it.
pub async fn count(db: &mut SqliteConnection, filter: &ShopFilter) -> Result<Total, sqlx::Error> {
    // An OA filter alone has its own counter (the expiring window: the per-day counters);
    // with a state as well it is counted up to the bound, below.
    if let (Some(oa), None, None, None) = (
        filter.oa_source(),
        filter.state,
        filter.folded_query(),
        filter.owner,
    ) {
        return Ok(Total::Exact(oa_summary::count(&mut *db, oa).await?));
    }
    if counted_by_state(filter) {
        let counts = count_by_state(&mut *db).await?;
        return Ok(total_from_state_counts(filter, &counts));
    }
    let n: i64 = build_count_after("", filter, COUNT_BOUND)
        .build_query_scalar()
        .fetch_one(db)
        .await?;
    Ok(if n > COUNT_BOUND {
        Total::MoreThan(COUNT_BOUND)
    } else {
        Total::Exact(n)
    })
}

/// The total of a view the state counters describe (`counted_by_state`), from
/// `count_by_state`'s rows: the whole list, or one state. The list page reads those rows
/// once for its chips and its total.
pub fn total_from_state_counts(filter: &ShopFilter, counts: &[(String, i64)]) -> Total {
    Total::Exact(
        counts
            .iter()
            .filter(|(s, _)| filter.state.is_none_or(|state| s == state.as_str()))
            .map(|(_, n)| *n)
            .sum(),
    )
}

/// Whether the state counters describe a view: the whole list or a state, not a search's,
/// an owner's or an OA filter's shops (a search too short to run shows the whole list).
pub fn counted_by_state(filter: &ShopFilter) -> bool {
    filter.folded_query().is_none() && filter.owner.is_none() && filter.oa.is_none()
}

/// `EXPLAIN QUERY PLAN` of the bounded count `count` runs for a search or an owner filter.
pub fn explain_count(filter: &ShopFilter) -> QueryBuilder<'static, Sqlite> {
    build_count_after("EXPLAIN QUERY PLAN ", filter, COUNT_BOUND)
}

/// Counts at most `bound + 1` matching shops: the inner `LIMIT` stops the index walk.
fn build_count_after(
    prefix: &'static str,
    filter: &ShopFilter,
    bound: i64,
) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(prefix);
    qb.push("SELECT COUNT(*) FROM (SELECT 1 ");
    push_source_and_filters(&mut qb, filter, Reads::Count);
    qb.push(" LIMIT ");
    qb.push_bind(bound + 1);
    qb.push(")");
    qb
}

/// Shops per state, for the overview: the counters the triggers keep in step with every
/// insert, state change and delete (migration `20261130000004_scale`), six rows to read
/// whatever the number of shops.
pub async fn count_by_state(
    db: impl SqliteExecutor<'_>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT state, n FROM shop_state_counts")
        .fetch_all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_read_by_position_are_the_ones_listed() {
        assert_eq!(LIST_COLUMNS.split(',').count(), LIST_COLUMN_COUNT);
        assert_eq!(EXPORT_COLUMNS.split(',').count() - 1, 5);
    }

    #[test]
    fn cursors_round_trip_and_junk_is_ignored() {
        let id = Uuid::new_v4();
        for c in [
            Cursor::Updated {
                updated_at: 1_795_455_000_000,
                id,
            },
            Cursor::Name {
                search_name: "cua hang hoa mai.x".into(),
                id,
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for junk in [
            "",
            "u",
            "u.1",
            "u.x.y",
            "z.1.00000000000000000000000000000000",
            "n.!!.abc",
        ] {
            assert_eq!(Cursor::decode(junk), None, "{junk:?}");
        }
    }
}
