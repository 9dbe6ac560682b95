//! What templates show of a shop and its history, already translated and formatted, and
//! what every form page shares: its fields' problems and the `?outcome=` of the last action.

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::ConnectionState;
use crate::i18n::{Lang, Messages, MsgKey};
use crate::services::reasons::{FailureCode, Reason};
use crate::store::events::EventRow;
use crate::store::shops::ShopRow;

/// `?outcome=…`: the result of the action that redirected to a page, shown as a flash.
#[derive(Deserialize)]
pub struct OutcomeQuery {
    pub outcome: Option<String>,
}

/// A form's problems, each field's message already translated. Templates ask
/// `errors.get("field")`.
#[derive(Default)]
pub struct FieldErrors(Vec<(&'static str, &'static str)>);

impl FieldErrors {
    /// From (field, message) pairs.
    pub fn new(m: &'static Messages, errors: &[(&'static str, MsgKey)]) -> FieldErrors {
        FieldErrors(
            errors
                .iter()
                .map(|&(field, key)| (field, m.text(key)))
                .collect(),
        )
    }

    /// Whether any field has a problem.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The message for `field`, if it has a problem.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|&(_, text)| text)
    }
}

pub struct ShopView {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_shop_id: Option<String>,
    pub owner_ref: Option<String>,
    pub state: ConnectionState,
    pub state_label: &'static str,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub failure: Option<&'static str>,
    pub failure_detail: Option<String>,
    pub last_verified: Option<Moment>,
    pub updated: Moment,
}

impl ShopView {
    pub fn new(row: &ShopRow, m: &'static Messages) -> ShopView {
        let state = row.state();
        let now = crate::store::now_ms();
        ShopView {
            id: row.id,
            name: row.name.clone(),
            phone: row.phone.clone(),
            email: row.email.clone(),
            external_shop_id: row.external_shop_id.clone(),
            owner_ref: row.owner_ref.clone(),
            state,
            state_label: state_label(state, m),
            its_shop_id: row.its_shop_id,
            its_shop_name: row.its_shop_name.clone(),
            failure: row
                .failure_code
                .as_deref()
                .filter(|_| state == ConnectionState::Failed)
                .map(|code| m.text(FailureCode::parse_stored(code).msg_key())),
            failure_detail: row
                .failure_detail
                .clone()
                .filter(|_| state == ConnectionState::Failed),
            last_verified: row.last_verified_at.map(|t| Moment::new(t, now, m)),
            updated: Moment::new(row.updated_at, now, m),
        }
    }

    pub fn state_class(&self) -> &'static str {
        self.state.as_str()
    }

    pub fn is_connected(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    /// The "what you get, what to prepare" card: until the shop has been connected once
    /// (a connected owner has no use for it on every visit).
    pub fn shows_zalo_card(&self) -> bool {
        !matches!(
            self.state,
            ConnectionState::Connected | ConnectionState::NeedsReauth
        )
    }

    /// The shop's link stopped working: its Zalo messages are not being sent.
    pub fn needs_reauth(&self) -> bool {
        self.state == ConnectionState::NeedsReauth
    }

    pub fn can_disconnect(&self) -> bool {
        self.state.can_become(ConnectionState::Disconnected)
    }

    /// The label of the connect button: first time, again after a link ended, or a retry.
    pub fn connect_label(&self, m: &'static Messages) -> &'static str {
        match self.state {
            ConnectionState::NotConnected => m.connect_zalo,
            ConnectionState::Connected
            | ConnectionState::NeedsReauth
            | ConnectionState::Disconnected => m.reconnect_zalo,
            ConnectionState::Pending | ConnectionState::Failed => m.connect_again,
        }
    }

    /// What the owner reads above the connect button, for states without a failure.
    pub fn explainer(&self, m: &'static Messages) -> &'static str {
        match self.state {
            ConnectionState::Connected => m.connected_explainer,
            ConnectionState::NeedsReauth => m.needs_reauth_explainer,
            ConnectionState::Pending => m.pending_explainer,
            ConnectionState::Disconnected => m.disconnected_explainer,
            ConnectionState::NotConnected | ConnectionState::Failed => m.connect_explainer,
        }
    }

    /// The connect journey's step indicator for this shop's state.
    pub fn steps(&self, m: &'static Messages) -> Vec<Step> {
        connect_steps(self.state, m)
    }
}

/// How many of these shops (one owner's own list) need their owner to log in again.
pub fn needing_reauth(shops: &[ShopView]) -> usize {
    shops.iter().filter(|s| s.needs_reauth()).count()
}

/// One step of the connect journey: your shop → ITS login → done.
pub struct Step {
    pub number: usize,
    pub label: &'static str,
    pub done: bool,
    pub current: bool,
}

/// Where the owner is in the connect journey: on their shop's page until they leave for
/// ITS, at the ITS login while a request is pending, done once connected.
pub fn connect_steps(state: ConnectionState, m: &'static Messages) -> Vec<Step> {
    let current = match state {
        ConnectionState::Pending => 1,
        ConnectionState::Connected => 2,
        _ => 0,
    };
    let all_done = state == ConnectionState::Connected;
    [m.step_your_shop, m.step_its_login, m.step_done]
        .into_iter()
        .enumerate()
        .map(|(i, label)| Step {
            number: i + 1,
            label,
            done: i < current || all_done,
            current: i == current,
        })
        .collect()
}

/// The language switch's link: the same page (path and query) in the other language.
/// A callback URL carries a single-use token, so its switch leads to the shop list instead.
/// The path is the request's as typed (a 404 shows it), so it is normalised first: a
/// browser reads `\` as `/`, and `//host` or `/\host` would be a link to another site.
pub fn lang_switch_href(path: &str, query: &str, target: Lang) -> String {
    let lang = ("lang", target.code());
    let path = same_site_path(path);
    let path = path.as_str();
    if path == "/connect/callback" || path == super::callback::FINISH_PATH {
        let q = serde_urlencoded::to_string([lang]).unwrap_or_default();
        return format!("/shops?{q}");
    }
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push((lang.0.to_owned(), lang.1.to_owned()));
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{path}?{q}")
}

/// `path` as a path on this site: every run of `/` and `\\` becomes one `/`, and it starts
/// with one.
fn same_site_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    let mut after_separator = false;
    for c in path.chars() {
        let separator = c == '/' || c == '\\';
        if !(separator && after_separator) {
            out.push(if separator { '/' } else { c });
        }
        after_separator = separator;
    }
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

pub fn state_label(state: ConnectionState, m: &'static Messages) -> &'static str {
    match state {
        ConnectionState::NotConnected => m.state_not_connected,
        ConnectionState::Pending => m.state_pending,
        ConnectionState::Connected => m.state_connected,
        ConnectionState::NeedsReauth => m.state_needs_reauth,
        ConnectionState::Failed => m.state_failed,
        ConnectionState::Disconnected => m.state_disconnected,
    }
}

pub struct EventView {
    pub at: Moment,
    pub actor: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<&'static str>,
    pub detail: Option<String>,
}

impl EventView {
    pub fn new(row: &EventRow, m: &'static Messages) -> EventView {
        EventView::seen_by(row, m, None)
    }

    /// For an owner: the raw detail (codes, statuses, ids of other shops) is for admins
    /// and the log only.
    pub fn without_detail(mut self) -> EventView {
        self.detail = None;
        self
    }

    /// As `viewer` reads it: their own actions are "Bạn" (you).
    pub fn seen_by(row: &EventRow, m: &'static Messages, viewer: Option<Uuid>) -> EventView {
        let parse = |s: &str| {
            ConnectionState::parse(s)
                .map(|st| state_label(st, m))
                .unwrap_or("?")
        };
        let (reason, detail) = match row.reason.as_deref().map(Reason::parse_stored) {
            Some((reason, detail)) => (Some(m.text(reason.msg_key())), detail.map(str::to_owned)),
            None => (None, None),
        };
        let actor = match row.actor.as_str() {
            "its" => m.actor_its.to_owned(),
            "system" => m.actor_system.to_owned(),
            other => {
                if let Some(id) = other.strip_prefix("user:") {
                    let me = viewer.is_some_and(|v| Uuid::try_parse(id) == Ok(v));
                    if me { m.actor_you } else { m.actor_user }.to_owned()
                } else if other.starts_with("job:") {
                    m.actor_job.to_owned()
                } else if let Some(key) = other.strip_prefix("api:") {
                    Messages::fill(m.actor_api, &[key])
                } else {
                    other.to_owned()
                }
            }
        };
        EventView {
            at: Moment::new(row.at, crate::store::now_ms(), m),
            actor,
            from: row.from_state.as_deref().map(parse),
            to: parse(&row.to_state),
            reason,
            detail,
        }
    }
}

/// Vietnam's time: `Asia/Ho_Chi_Minh` is UTC+7 all year (no daylight saving).
fn vietnam_time(ms: i64) -> Option<time::OffsetDateTime> {
    let offset = time::UtcOffset::from_hms(7, 0, 0).ok()?;
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.checked_to_offset(offset))
}

/// A count with its thousands grouped as the reader writes them: "2.000" in Vietnamese,
/// "2,000" in English.
pub fn format_count(n: u64, lang: crate::i18n::Lang) -> String {
    let sep = match lang {
        crate::i18n::Lang::Vi => '.',
        crate::i18n::Lang::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(d);
    }
    out
}

/// Vietnam's time (UTC+7, no daylight saving), `dd/mm/yyyy HH:MM`.
pub fn format_time(ms: i64) -> String {
    absolute(vietnam_time(ms))
}

/// `dd/mm/yyyy HH:MM`, written digit by digit: a list page writes two moments per row, and
/// `format!` with its padding (and `time`'s RFC 3339 formatter for `Moment::iso`) took 7 %
/// of the list's instructions (callgrind, 1,000,000 shops). A year outside 1000–9999
/// (never, from our own clock) is written as `format!` would.
fn absolute(local: Option<time::OffsetDateTime>) -> String {
    let Some(t) = local else {
        return "?".to_owned();
    };
    let mut out = String::with_capacity(16);
    push_two_digits(&mut out, t.day());
    out.push('/');
    push_two_digits(&mut out, u8::from(t.month()));
    out.push('/');
    push_year(&mut out, t.year());
    out.push(' ');
    push_clock(&mut out, t);
    out
}

/// RFC 3339 as the `time` crate writes it (`2026-11-24T00:30:05.12+07:00`: the fraction
/// only when there is one, without trailing zeros), for `<time datetime>`; `None` for a
/// year RFC 3339 cannot hold.
fn rfc3339(t: time::OffsetDateTime) -> Option<String> {
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    let mut out = String::with_capacity(29);
    push_four_digits(&mut out, t.year() as u16); // 0–9999
    out.push('-');
    push_two_digits(&mut out, u8::from(t.month()));
    out.push('-');
    push_two_digits(&mut out, t.day());
    out.push('T');
    push_clock(&mut out, t);
    out.push(':');
    push_two_digits(&mut out, t.second());
    let nanos = t.nanosecond();
    if nanos != 0 {
        out.push('.');
        let mut digits = [0u8; 9];
        let mut rest = nanos;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let mut shown = 9;
        while digits[shown - 1] == b'0' {
            shown -= 1; // stops at a digit that is not 0: `nanos` is not 0
        }
        out.extend(digits[..shown].iter().map(|&d| char::from(d)));
    }
    out.push_str("+07:00");
    Some(out)
}

fn push_two_digits(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10 % 10));
    out.push(char::from(b'0' + n % 10));
}

fn push_four_digits(out: &mut String, n: u16) {
    push_two_digits(out, (n / 100 % 100) as u8);
    push_two_digits(out, (n % 100) as u8);
}

/// `HH:MM`.
fn push_clock(out: &mut String, t: time::OffsetDateTime) {
    push_two_digits(out, t.hour());
    out.push(':');
    push_two_digits(out, t.minute());
}

fn push_year(out: &mut String, year: i32) {
    if (1000..=9999).contains(&year) {
        push_four_digits(out, year as u16);
    } else {
        out.push_str(&year.to_string());
    }
}

/// A moment as a page shows it: relative when recent ("5 phút trước", "hôm qua, 14:05"),
/// else the date; the exact local time is always there for a `title`, and ISO 8601 for
/// the `<time datetime>` attribute. Written as text (`{{ t }}`) it is the exact time.
pub struct Moment {
    pub iso: SafeText,
    pub absolute: SafeText,
    pub relative: Option<String>,
}

/// Text a page writes as it is, not through askama's escaper, byte by byte: a date this
/// module wrote (`date`), or catalogue text escaped once for a page that repeats it on
/// every row (`escaped`: a list's seven `data-label`s). A list page writes three dates per
/// row: with the UUIDs and the column labels, the escaper was a tenth of the list's
/// instructions (callgrind at 1,000,000 shops).
pub struct SafeText(String);

impl SafeText {
    /// Digits and `- : . + T / ␣ ?` only, none of which HTML treats specially.
    fn date(text: String) -> SafeText {
        debug_assert!(
            text.bytes()
                .all(|b| b.is_ascii_digit() || b"-:.+T/ ?".contains(&b)),
            "{text:?}"
        );
        SafeText(text)
    }

    pub fn escaped(text: &str) -> SafeText {
        let Ok(escaped) = askama::filters::escape(text, askama::filters::Html);
        SafeText(escaped.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SafeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SafeText {}

/// A UUID in a page (hex digits and hyphens): written as it is, like `SafeText`.
#[derive(Debug, Clone, Copy)]
pub struct UuidText(pub Uuid);

impl std::fmt::Display for UuidText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl askama::filters::HtmlSafe for UuidText {}

impl Moment {
    pub fn new(ms: i64, now_ms: i64, m: &'static Messages) -> Moment {
        let local = vietnam_time(ms);
        Moment {
            iso: SafeText::date(local.and_then(rfc3339).unwrap_or_default()),
            absolute: SafeText::date(absolute(local)),
            relative: relative_time(ms, local, now_ms, m),
        }
    }

    /// What a list shows: the relative time when there is one, else the date.
    pub fn text(&self) -> &str {
        self.relative.as_deref().unwrap_or(self.absolute.as_str())
    }
}

impl std::fmt::Display for Moment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.absolute.as_str())
    }
}

/// "vừa xong", "5 phút trước", "3 giờ trước", "hôm nay, 08:10", "hôm qua, 14:05"; `None`
/// for older moments (and for the future, which only a wrong clock produces).
/// `local` is `ms` in Vietnam's time, which the caller has already worked out.
fn relative_time(
    ms: i64,
    local: Option<time::OffsetDateTime>,
    now_ms: i64,
    m: &'static Messages,
) -> Option<String> {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    let ago = now_ms - ms;
    if ago < -MINUTE {
        return None;
    }
    if ago < MINUTE {
        return Some(m.time_just_now.to_owned());
    }
    if ago < 2 * MINUTE {
        return Some(m.time_minute_ago.to_owned());
    }
    if ago < HOUR {
        return Some(Messages::fill(
            m.time_minutes_ago,
            &[&(ago / MINUTE).to_string()],
        ));
    }
    if ago < 2 * HOUR {
        return Some(m.time_hour_ago.to_owned());
    }
    if ago < 6 * HOUR {
        return Some(Messages::fill(
            m.time_hours_ago,
            &[&(ago / HOUR).to_string()],
        ));
    }
    let (then, now) = (local?, vietnam_time(now_ms)?);
    let day = if then.date() == now.date() {
        m.time_today
    } else if then.date().next_day() == Some(now.date()) {
        m.time_yesterday
    } else {
        return None;
    };
    let mut clock = String::with_capacity(5);
    push_clock(&mut clock, then);
    Some(Messages::fill(day, &[&clock]))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23 17:30 UTC is 24/11/2026 00:30 in Ho Chi Minh City.
    const T: i64 = 1_795_455_000_000;
    const MIN: i64 = 60_000;

    #[test]
    fn times_are_shown_in_vietnam_time() {
        assert_eq!(format_time(T), "24/11/2026 00:30");
        assert_eq!(
            Moment::new(T, T, &Messages::VI).iso.as_str(),
            "2026-11-24T00:30:00+07:00"
        );
    }

    #[test]
    fn text_escaped_once_is_what_askama_escapes_and_dates_are_plain() {
        let text = "a & <b> \"c\" 'd' Tên cửa hàng";
        let Ok(askama_escaped) = askama::filters::escape(text, askama::filters::Html);
        assert_eq!(
            SafeText::escaped(text).to_string(),
            askama_escaped.to_string()
        );
        assert_eq!(
            SafeText::escaped(text).to_string(),
            "a &#38; &#60;b&#62; &#34;c&#34; &#39;d&#39; Tên cửa hàng"
        );
        let id = Uuid::new_v4();
        assert_eq!(UuidText(id).to_string(), id.to_string());
    }

    /// The digit-by-digit writers say what `time`'s RFC 3339 formatter and `format!` say,
    /// fractions with and without trailing zeros, years with fewer digits included.
    #[test]
    fn written_times_match_the_time_crate() {
        let samples = [
            T,
            T + 5,
            T + 120,
            T + 999,
            T + 1_000,
            T + 59_999,
            T - 7 * 3_600_000,
            0,
            1,
            -1,
            -62_135_596_800_000 + 123,
            253_402_275_599_999,
            1_795_455_000_010,
        ];
        for ms in samples
            .into_iter()
            .chain((0..2_000).map(|i| T + i * 7_919_777))
        {
            let local = vietnam_time(ms).unwrap();
            let expected = local
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            assert_eq!(
                Moment::new(ms, T, &Messages::VI).iso.as_str(),
                expected,
                "{ms}"
            );
            let expected = format!(
                "{:02}/{:02}/{} {:02}:{:02}",
                local.day(),
                u8::from(local.month()),
                local.year(),
                local.hour(),
                local.minute()
            );
            assert_eq!(format_time(ms), expected, "{ms}");
        }
        // The last UTC millisecond `time` holds is past its range in Vietnam: no panic.
        assert_eq!(format_time(253_402_300_799_999), "?");
    }

    #[test]
    fn recent_times_read_as_relative_times() {
        let vi = &Messages::VI;
        let rel = |ago: i64| relative_time(T - ago, vietnam_time(T - ago), T, vi);
        assert_eq!(rel(10_000).as_deref(), Some("vừa xong"));
        assert_eq!(rel(MIN).as_deref(), Some("1 phút trước"));
        assert_eq!(rel(5 * MIN).as_deref(), Some("5 phút trước"));
        assert_eq!(rel(60 * MIN).as_deref(), Some("1 giờ trước"));
        assert_eq!(rel(3 * 60 * MIN).as_deref(), Some("3 giờ trước"));
        // 24/11 00:30 minus 10 hours is 23/11 14:30: yesterday in Vietnam.
        assert_eq!(rel(10 * 60 * MIN).as_deref(), Some("hôm qua, 14:30"));
        assert_eq!(rel(3 * 24 * 60 * MIN), None, "older moments show the date");
        assert_eq!(rel(-5 * MIN), None, "a moment in the future shows the date");
        let later = relative_time(T, vietnam_time(T), T + 8 * 60 * MIN, vi);
        assert_eq!(later.as_deref(), Some("hôm nay, 00:30"));
        let en = relative_time(T - 5 * MIN, vietnam_time(T - 5 * MIN), T, &Messages::EN);
        assert_eq!(en.as_deref(), Some("5 minutes ago"));
        let m = Moment::new(T - 3 * 24 * 60 * MIN, T, vi);
        assert_eq!(m.text(), "21/11/2026 00:30");
    }

    #[test]
    fn counts_group_thousands_the_readers_way() {
        use crate::i18n::Lang;
        assert_eq!(format_count(0, Lang::Vi), "0");
        assert_eq!(format_count(999, Lang::Vi), "999");
        assert_eq!(format_count(2_000, Lang::Vi), "2.000");
        assert_eq!(format_count(1_234_567, Lang::Vi), "1.234.567");
        assert_eq!(format_count(1_234_567, Lang::En), "1,234,567");
    }

    #[test]
    fn the_language_switch_keeps_the_path_and_the_query() {
        assert_eq!(lang_switch_href("/shops", "", Lang::En), "/shops?lang=en");
        assert_eq!(
            lang_switch_href("/admin/shops", "q=hoa+binh&state=failed&lang=vi", Lang::En),
            "/admin/shops?q=hoa+binh&state=failed&lang=en"
        );
        assert_eq!(
            lang_switch_href("/connect/callback", "token=abc&shop_id=1", Lang::En),
            "/shops?lang=en",
            "a single-use token is never repeated in a link"
        );
        // A path that a browser would read as another host stays on this site.
        for raw in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
        ] {
            assert_eq!(
                lang_switch_href(raw, "", Lang::Vi),
                "/evil.example?lang=vi",
                "{raw}"
            );
        }
        assert_eq!(
            lang_switch_href("/shops//x", "", Lang::En),
            "/shops/x?lang=en"
        );
    }

    #[test]
    fn the_step_indicator_follows_the_state() {
        let current = |s| {
            connect_steps(s, &Messages::VI)
                .iter()
                .position(|st| st.current)
                .unwrap()
        };
        assert_eq!(current(ConnectionState::NotConnected), 0);
        assert_eq!(current(ConnectionState::Pending), 1);
        assert_eq!(current(ConnectionState::Connected), 2);
        assert!(connect_steps(ConnectionState::Connected, &Messages::VI)
            .iter()
            .all(|s| s.done));
        assert!(!connect_steps(ConnectionState::Failed, &Messages::VI)[0].done);
    }
}
