#!/usr/bin/env bash
# Load test of the admin pages at 100,000 shops: seeds a fresh database, starts the release
# build, logs in as the seeded admin and runs wrk against the shop list (first page and a
# deep page reached through the "next" links), a state filter, a name search and a shop's
# detail page. Prints a Markdown table and the server's peak RSS; exits non-zero when a
# target is missed (after printing the table). See tests/bench/README.md.
#
#   tests/bench/run.sh                      # the full run: 100,000 shops, 15 s per page
#   SHOPS=1000000 tests/bench/run.sh        # a million shops (seeding takes about a minute)
#   SHOPS=5000 DURATION=3 tests/bench/run.sh   # a quick one
#
# Besides the pages one at a time it measures the overview, a 2-character search (which
# must answer with the "type at least 3 characters" hint, not a scan) and a mixed run:
# overview, list, search and an owner's page loaded at the same time.
set -euo pipefail

SHOPS=${SHOPS:-100000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
DEEP_PAGES=${DEEP_PAGES:-200}
SEARCH=${SEARCH:-hoa mai}
SHORT_SEARCH=${SHORT_SEARCH:-ab}
TARGET_P99_MS=${TARGET_P99_MS:-25}
TARGET_RPS=${TARGET_RPS:-2000}
TARGET_RSS_MB=${TARGET_RSS_MB:-150}
# From this many shops on, issue 13's targets: the req/s target holds for the overview only
# (every page keeps the p99 target) and the seed must take at most TARGET_SEED_S. Below it,
# the first benchmark's: every page at TARGET_RPS or more.
LARGE_SHOPS=${LARGE_SHOPS:-1000000}
TARGET_SEED_S=${TARGET_SEED_S:-60}
# "A deep page costs the same as the first": its p99 and req/s within this factor.
DEEP_FACTOR=${DEEP_FACTOR:-1.5}

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
log() { printf '== %s\n' "$*" >&2; }
die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}

# --- tools -----------------------------------------------------------------------------
need_install=()
command -v wrk >/dev/null 2>&1 || need_install+=(wrk)
command -v curl >/dev/null 2>&1 || need_install+=(curl)
if ((${#need_install[@]})); then
    log "installing ${need_install[*]} with apt-get"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_install[@]}" >/dev/null
fi

log "cargo build --release (the app and the bare yardstick page, examples/bare_list.rs)"
cargo build --release --quiet --bin shoplink --example bare_list
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/shoplink
BARE_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/bare_list
[ -x "$BIN" ] || die "no binary at $BIN"
[ -x "$BARE_BIN" ] || die "no binary at $BARE_BIN"

# --- a fresh database and a free port ---------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoplink-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    for pid in "$SERVER_PID" "${BARE_PID:-}" "${APP_PID:-}"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ "${KEEP:-0}" = 1 ]; then
        printf 'bench: kept %s\n' "$WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if port_is_free "$candidate"; then
        PORT=$candidate
        break
    fi
done
[ -n "$PORT" ] || die "no free port found"
BASE="http://127.0.0.1:$PORT"

export DATABASE_URL="sqlite://$WORK/shoplink.db"
export DATA_DIR="$WORK"
export BIND="127.0.0.1:$PORT"
SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export SECRET_KEY
# Sandbox mode on plain http: no real provider, no https-only cookie names.
export ITS_BASE_URL="" ITS_API_KEY="" PUBLIC_URL="" LOG_FORMAT=pretty
# Run from the temporary folder so that no `.env` of the work tree is read.
cd "$WORK"

# --- seed -------------------------------------------------------------------------------
log "seeding $SHOPS shops"
RUST_LOG=warn "$BIN" seed --shops "$SHOPS" | tee "$WORK/seed.log" >&2
SEED_SECONDS=$(sed -n 's/^Seeded .* in \([0-9.]*\) s\.$/\1/p' "$WORK/seed.log")
ADMIN_EMAIL=admin@seed.shoplink.local
ADMIN_PASSWORD=$(sed -n "s/^Admin  $ADMIN_EMAIL  password: \(.*\)$/\1/p" "$WORK/seed.log")
[ -n "$ADMIN_PASSWORD" ] || die "the seed did not print the admin's password"
OWNER_EMAIL=$(sed -n 's/^Owners \([^ ]*\) … .*$/\1/p' "$WORK/seed.log")
OWNER_PASSWORD=$(sed -n 's/^Owners .*  password: \(.*\)$/\1/p' "$WORK/seed.log")
[ -n "$OWNER_EMAIL" ] && [ -n "$OWNER_PASSWORD" ] || die "the seed did not print an owner's login"

# --- serve ------------------------------------------------------------------------------
log "starting the server on $BASE"
RUST_LOG=warn "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || {
        cat "$WORK/server.log" >&2
        die "the server stopped"
    }
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE/healthz" || die "the server did not answer /healthz"

# --- log in the way a browser does --------------------------------------------------------
# login EMAIL PASSWORD JAR: prints the session cookie's value.
login() {
    local email=$1 password=$2 jar=$3 csrf status session
    curl -fsS -c "$jar" -b "$jar" -o "$WORK/login.html" "$BASE/login"
    csrf=$(grep -o 'name="csrf_token" value="[^"]*"' "$WORK/login.html" | head -n1 | sed 's/.*value="\([^"]*\)"/\1/')
    [ -n "$csrf" ] || die "no csrf_token field on /login"
    status=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        -H "Origin: $BASE" -H "Sec-Fetch-Site: same-origin" \
        --data-urlencode "email=$email" \
        --data-urlencode "password=$password" \
        --data-urlencode "csrf_token=$csrf" \
        "$BASE/login")
    case "$status" in 2* | 3*) ;; *) die "login of $email answered $status" ;; esac
    session=$(awk '$6 == "shoplink_session" { print $7 }' "$jar" | tail -n1)
    [ -n "$session" ] || die "no shoplink_session cookie after logging in as $email"
    printf '%s' "$session"
}
SESSION=$(login "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$WORK/cookies.txt")
COOKIE="Cookie: shoplink_session=$SESSION"
OWNER_SESSION=$(login "$OWNER_EMAIL" "$OWNER_PASSWORD" "$WORK/owner-cookies.txt")
OWNER_COOKIE="Cookie: shoplink_session=$OWNER_SESSION"

# fetch PATH FILE: the page into FILE; fails unless the answer is 200.
fetch() {
    local code
    code=$(curl -sS -o "$2" -w '%{http_code}' -H "$COOKIE" "$BASE$1")
    [ "$code" = 200 ] || die "GET $1 answered $code"
}
html_unescape() {
    sed -e 's/&#x2[fF];/\//g' -e 's/&#47;/\//g' -e 's/&#x3[dD];/=/g' -e 's/&#61;/=/g' \
        -e 's/&quot;/"/g' -e 's/&#x27;/'"'"'/g' -e 's/&#39;/'"'"'/g' -e 's/&amp;/\&/g' -e 's/&#38;/\&/g'
}
# next_link FILE: the href of the page's <a rel="next">, as a path; empty at the end.
next_link() {
    local href
    href=$(grep -o '<a [^>]*rel="next"[^>]*>' "$1" | head -n1 | grep -o 'href="[^"]*"' |
        sed 's/^href="\(.*\)"$/\1/' | html_unescape || true)
    case "$href" in
        "") ;;
        http://* | https://*) href="/${href#*://*/}" ;;
        \?*) href="/admin/shops$href" ;;
    esac
    printf '%s' "$href"
}

# --- the pages ----------------------------------------------------------------------------
FIRST=/admin/shops
fetch "$FIRST" "$WORK/first.html"
DETAIL_ID=$(grep -o 'href="/admin/shops/[0-9a-fA-F-]\{36\}"' "$WORK/first.html" | head -n1 |
    sed 's/.*\/\([0-9a-fA-F-]*\)"$/\1/' || true)
[ -n "$DETAIL_ID" ] || die "no shop link on the first list page"
DETAIL="/admin/shops/$DETAIL_ID"

log "following the next links up to $DEEP_PAGES times"
DEEP=$FIRST
page=1
cp "$WORK/first.html" "$WORK/page.html"
while [ "$page" -le "$DEEP_PAGES" ]; do
    next=$(next_link "$WORK/page.html")
    [ -n "$next" ] || break
    DEEP=$next
    fetch "$DEEP" "$WORK/page.html"
    page=$((page + 1))
done
DEEP_PAGE_NO=$page
[ "$DEEP" != "$FIRST" ] || log "warning: the list has a single page; the deep page is the first"

STATE_FILTER="/admin/shops?state=failed"
SEARCH_PATH="/admin/shops?q=$(printf '%s' "$SEARCH" | sed 's/ /+/g')"
fetch "$SEARCH_PATH" "$WORK/search.html"
grep -q 'href="/admin/shops/[0-9a-fA-F-]\{36\}"' "$WORK/search.html" ||
    log "warning: the search for \"$SEARCH\" found no shop"
OVERVIEW=/admin
SHORT_PATH="/admin/shops?q=$SHORT_SEARCH"
OWNER_PAGE=/shops

# --- load ---------------------------------------------------------------------------------
# Other work on the machine (a build, a test run) takes the CPU the server and wrk need.
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    log "warning: load average $LOAD_BEFORE on $(nproc) CPUs before the run: the numbers will be low"
fi
# to_ms VALUE: wrk's "812.00us", "4.21ms", "1.02s", "1.50m" as milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.2f", n }'
}
# to_bytes VALUE: wrk's "1.23MB" as bytes.
to_bytes() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "KB") n *= 1024; else if (u == "MB") n *= 1048576; else if (u == "GB") n *= 1073741824
        printf "%.0f", n }'
}

# server_ticks: CPU time the server has used (user + system), in clock ticks.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
TICK_MS=$(awk -v t="$(getconf CLK_TCK)" 'BEGIN { print 1000 / t }')

ROWS=()
FAILURES=()
BELOW_RPS=()
declare -A RPS P50 P99 CPU
measure() { # measure NAME PATH
    local name=$1 path=$2 out size
    fetch "$path" "$WORK/check.html"
    size=$(wc -c <"$WORK/check.html")
    log "$name: $path"
    wrk -t1 -c4 -d"${WARMUP}s" -H "$COOKIE" "$BASE$path" >/dev/null
    local ticks_before ticks_after
    ticks_before=$(server_ticks)
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$COOKIE" "$BASE$path")
    ticks_after=$(server_ticks)
    record "$name" "$out" "$size" "$ticks_before" "$ticks_after"
    fetch "$path" "$WORK/check.html" # the session is still good
}

# record NAME WRK_OUTPUT PAGE_SIZE TICKS_BEFORE TICKS_AFTER: checks and stores one wrk run.
record() {
    local name=$1 out=$2 size=$3 ticks_before=$4 ticks_after=$5
    printf '%s\n' "$out" >"$WORK/wrk-${#ROWS[@]}.txt"
    local rps p50 p99 requests bytes non2xx errors
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
    p50=$(to_ms "$(printf '%s\n' "$out" | awk '$1 == "50%" { print $2 }')")
    p99=$(to_ms "$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')")
    requests=$(printf '%s\n' "$out" | awk '/ requests in / { print $1 }')
    bytes=$(to_bytes "$(printf '%s\n' "$out" | awk '/ requests in / { print $5 }' | tr -d ,)")
    non2xx=$(printf '%s\n' "$out" | awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }')
    errors=$(printf '%s\n' "$out" | sed -n 's/^ *Socket errors: *//p')
    if [ -z "$rps" ] || [ -z "$requests" ]; then
        printf '%s\n' "$out" >&2
        die "could not read wrk's output for $name"
    fi
    [ -z "$non2xx" ] || FAILURES+=("$name: $non2xx responses were not 2xx/3xx")
    [ -z "$errors" ] || FAILURES+=("$name: socket errors ($errors)")
    # wrk counts a 3xx as a success: a redirect to /login would make a fast, empty page.
    # The bytes read per answer must match the page (headers add a little).
    if [ "$requests" -gt 0 ] &&
        awk -v r="$bytes" -v n="$requests" -v s="$size" 'BEGIN { exit !(r / n < s / 2) }'; then
        FAILURES+=("$name: answers averaged $((bytes / requests)) bytes, the page has $size: not the page")
    fi
    RPS[$name]=$rps
    CPU[$name]=$(awk -v a="$ticks_before" -v b="$ticks_after" -v n="$requests" -v t="$TICK_MS" \
        'BEGIN { if (n > 0 && a != "") printf "%.3f", (b - a) * t / n; else print "-" }')
    P50[$name]=$p50
    P99[$name]=$p99
    ROWS+=("$name")
}

measure "list, first page" "$FIRST"
measure "list, deep page ($DEEP_PAGE_NO)" "$DEEP"
measure "state filter (failed)" "$STATE_FILTER"
measure "name search \"$SEARCH\"" "$SEARCH_PATH"
measure "shop detail" "$DETAIL"
measure "overview" "$OVERVIEW"
measure "2-character search \"$SHORT_SEARCH\"" "$SHORT_PATH"
grep -q 'Gõ ít nhất 3 ký tự để tìm' "$WORK/check.html" ||
    FAILURES+=("the 2-character search did not answer with the 3-character hint")

# The mixed run: the overview, the list, the search and an owner's page at the same time,
# each with a quarter of the connections; each gets its own row.
log "mixed: overview + list + search + owner page at once"
MIXED_C=$(((CONNECTIONS + 3) / 4))
curl -fsS -o "$WORK/owner.html" -H "$OWNER_COOKIE" "$BASE$OWNER_PAGE" || die "the owner's page failed"
OWNER_SIZE=$(wc -c <"$WORK/owner.html")
ticks_before=$(server_ticks)
wrk -t1 -c"$MIXED_C" -d"${DURATION}s" --latency -H "$COOKIE" "$BASE$OVERVIEW" >"$WORK/mixed-overview.txt" &
p1=$!
wrk -t1 -c"$MIXED_C" -d"${DURATION}s" --latency -H "$COOKIE" "$BASE$FIRST" >"$WORK/mixed-list.txt" &
p2=$!
wrk -t1 -c"$MIXED_C" -d"${DURATION}s" --latency -H "$COOKIE" "$BASE$SEARCH_PATH" >"$WORK/mixed-search.txt" &
p3=$!
wrk -t1 -c"$MIXED_C" -d"${DURATION}s" --latency -H "$OWNER_COOKIE" "$BASE$OWNER_PAGE" >"$WORK/mixed-owner.txt" &
p4=$!
wait "$p1" "$p2" "$p3" "$p4"
ticks_after=$(server_ticks)
fetch "$OVERVIEW" "$WORK/check.html"
record "mixed: overview" "$(cat "$WORK/mixed-overview.txt")" "$(wc -c <"$WORK/check.html")" "" ""
fetch "$FIRST" "$WORK/check.html"
record "mixed: list" "$(cat "$WORK/mixed-list.txt")" "$(wc -c <"$WORK/check.html")" "" ""
fetch "$SEARCH_PATH" "$WORK/check.html"
record "mixed: search" "$(cat "$WORK/mixed-search.txt")" "$(wc -c <"$WORK/check.html")" "" ""
record "mixed: owner page" "$(cat "$WORK/mixed-owner.txt")" "$OWNER_SIZE" "" ""
MIXED_CPU=$(awk -v a="$ticks_before" -v b="$ticks_after" -v t="$TICK_MS" 'BEGIN { printf "%.0f", (b - a) * t }')

PEAK_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
NOW_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
PEAK_MB=$(awk -v k="$PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')
NOW_MB=$(awk -v k="$NOW_KB" 'BEGIN { printf "%.1f", k / 1024 }')

# --- the yardstick: a bare page of the same stack over the same database ----------------------
# examples/bare_list.rs: actix-web + askama + sqlx, the same 50 keyset rows, nothing else.
# Measured with the same wrk settings, one after the other, so the ratio of the two is
# taken on one machine in one run (issue #13, "CPU per page").
BARE_PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if [ "$candidate" != "$PORT" ] && port_is_free "$candidate"; then
        BARE_PORT=$candidate
        break
    fi
done
[ -n "$BARE_PORT" ] || die "no free port found for the bare page"
DATABASE_URL="sqlite://$WORK/shoplink.db" BIND="127.0.0.1:$BARE_PORT" "$BARE_BIN" >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$BARE_PORT/" 2>/dev/null; then break; fi
    kill -0 "$BARE_PID" 2>/dev/null || {
        cat "$WORK/bare.log" >&2
        die "the bare page's server stopped"
    }
    sleep 0.1
done
# `measure` reads BASE and SERVER_PID: point them at the bare server for one row.
APP_PID=$SERVER_PID APP_BASE=$BASE
BASE="http://127.0.0.1:$BARE_PORT" SERVER_PID=$BARE_PID
measure "bare: actix + askama + sqlx, 50 rows" "/"
BASE=$APP_BASE SERVER_PID=$APP_PID
kill "$BARE_PID" 2>/dev/null || true
wait "$BARE_PID" 2>/dev/null || true
BARE_PID=""

# --- verdict --------------------------------------------------------------------------------
for name in "${ROWS[@]}"; do
    # The yardstick is not the app: it has no target of its own.
    case "$name" in bare:*) continue ;; esac
    awk -v p="${P99[$name]}" -v t="$TARGET_P99_MS" 'BEGIN { exit !(p > t) }' &&
        FAILURES+=("$name: p99 ${P99[$name]} ms > $TARGET_P99_MS ms")
    # The mixed run's pages share the server: only their latency has a target.
    case "$name" in mixed:*) continue ;; esac
    if [ "$SHOPS" -ge "$LARGE_SHOPS" ] && [ "$name" != overview ]; then
        [ "${RPS[$name]}" -ge "$TARGET_RPS" ] ||
            BELOW_RPS+=("$name: ${RPS[$name]} req/s")
        continue
    fi
    [ "${RPS[$name]}" -ge "$TARGET_RPS" ] ||
        FAILURES+=("$name: ${RPS[$name]} req/s < $TARGET_RPS")
done
if [ "$SHOPS" -ge "$LARGE_SHOPS" ]; then
    if [ -z "$SEED_SECONDS" ]; then
        FAILURES+=("the seed's time was not found in its output")
    else
        awk -v s="$SEED_SECONDS" -v t="$TARGET_SEED_S" 'BEGIN { exit !(s > t) }' &&
            FAILURES+=("seeding $SHOPS shops took $SEED_SECONDS s > $TARGET_SEED_S s")
    fi
fi
first_name=${ROWS[0]}
deep_name=${ROWS[1]}
awk -v d="${P99[$deep_name]}" -v f="${P99[$first_name]}" -v k="$DEEP_FACTOR" \
    'BEGIN { exit !(d > f * k + 1) }' &&
    FAILURES+=("the deep page's p99 (${P99[$deep_name]} ms) is not close to the first page's (${P99[$first_name]} ms)")
awk -v d="${RPS[$deep_name]}" -v f="${RPS[$first_name]}" -v k="$DEEP_FACTOR" \
    'BEGIN { exit !(d * k < f) }' &&
    FAILURES+=("the deep page's req/s (${RPS[$deep_name]}) is not close to the first page's (${RPS[$first_name]})")
awk -v p="$PEAK_MB" -v t="$TARGET_RSS_MB" 'BEGIN { exit !(p > t) }' &&
    FAILURES+=("peak RSS $PEAK_MB MB > $TARGET_RSS_MB MB")

echo
echo "shoplink admin pages: $SHOPS shops, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) CPUs," \
    "load average $LOAD_BEFORE before and $(cut -d' ' -f1 /proc/loadavg) after"
echo
echo "| page | req/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|"
for name in "${ROWS[@]}"; do
    echo "| $name | ${RPS[$name]} | ${P50[$name]} | ${P99[$name]} |"
done
echo
echo "Server CPU time per request (user + system; less sensitive to other load than req/s):"
for name in "${ROWS[@]}"; do
    echo "  $name: ${CPU[$name]} ms"
done
echo
echo "  the whole mixed run: $MIXED_CPU ms of server CPU"
BARE_NAME="bare: actix + askama + sqlx, 50 rows"
echo
echo "The list's first page against the bare page of the same stack (same rows, same machine, same run):"
awk -v a="${RPS[$first_name]}" -v b="${RPS[$BARE_NAME]}" -v ca="${CPU[$first_name]}" -v cb="${CPU[$BARE_NAME]}" \
    'BEGIN { printf "  req/s: %d vs %d (%.2f of the bare page); CPU per request: %s ms vs %s ms\n", a, b, (b > 0 ? a / b : 0), ca, cb }'
echo
echo "Peak RSS of the server (VmHWM): $PEAK_MB MB (at the end: $NOW_MB MB)"
[ -z "$SEED_SECONDS" ] || echo "Seeding $SHOPS shops took $SEED_SECONDS s"
if [ "$SHOPS" -ge "$LARGE_SHOPS" ]; then
    echo "Targets (issue 13, $LARGE_SHOPS shops or more): every page p99 <= $TARGET_P99_MS ms;" \
        "the overview >= $TARGET_RPS req/s; the deep page within ${DEEP_FACTOR}x of the first;" \
        "peak RSS <= $TARGET_RSS_MB MB; the seed in at most $TARGET_SEED_S s"
    if ((${#BELOW_RPS[@]})); then
        echo "Below $TARGET_RPS req/s, the smaller benchmark's target for every page (not a target here):"
        printf '  - %s\n' "${BELOW_RPS[@]}"
    fi
else
    echo "Targets: every page p99 <= $TARGET_P99_MS ms and >= $TARGET_RPS req/s;" \
        "the deep page within ${DEEP_FACTOR}x of the first; peak RSS <= $TARGET_RSS_MB MB"
fi
echo "Pages: first $FIRST | deep $DEEP | filter $STATE_FILTER | search $SEARCH_PATH | detail $DETAIL"
echo
if ((${#FAILURES[@]})); then
    echo "MISSED:"
    printf '  - %s\n' "${FAILURES[@]}"
    exit 1
fi
echo "All targets met."
