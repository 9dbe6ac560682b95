//! `shoplink seed`: fills a database with many realistic shops (Vietnamese names, phones,
//! mixed connection states, real sealed keys, histories) for trying the admin pages and
//! for the benchmark in `tests/bench/`.
//!
//! It is built for speed: one argon2 hash shared by every seeded owner, multi-row INSERTs
//! (`store::bulk`, which holds its SQL) and one transaction for the whole run, with shops
//! made `SHOPS_PER_BATCH` at a time on a thread of their own while the previous batch is
//! inserted. It only ever adds rows: owners are numbered after the ones already seeded and
//! ITS shop ids after the largest one stored.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::configuration::Settings;
use crate::crypto::{KeySealer, SecretKey};
use crate::domain::{fold_for_search, ConnectionState, ShopKey, UserRole};
use crate::password::Hasher;
use crate::services::reasons::{EventNote, FailureCode, Reason};
use crate::store;
use crate::store::bulk::{self, BoundRows, SeedEvent, SeedShop};

/// Shops made in memory at a time (all of them go into one transaction).
const SHOPS_PER_BATCH: usize = 10_000;
/// The seeding connection's page cache, in KiB (the pool's connections keep SQLite's 2 MiB):
/// a million shops' tables and indexes are written once, at the commit, instead of pages
/// being spilled to the WAL and written again.
const SEED_CACHE_KIB: i64 = 1024 * 1024;
/// The first ITS shop id handed out (ITS ids are large 64-bit numbers).
const ITS_SHOP_ID_BASE: i64 = 1_052_570_182_707_778_180;
/// More than this in one run is surely a typo.
pub const MAX_SHOPS: u64 = 10_000_000;
pub const ADMIN_EMAIL: &str = "admin@seed.shoplink.local";
const OWNER_EMAIL_PREFIX: &str = "owner";
const OWNER_EMAIL_DOMAIN: &str = "@seed.shoplink.local";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What a seeding run wrote.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub shops: u64,
    pub owners: u64,
    /// The number of the first and last owner created (`owner{n}@seed.shoplink.local`).
    pub owner_numbers: Option<(u64, u64)>,
    pub events: u64,
    /// Zalo OAs given to the connected shops.
    pub oas: u64,
    /// Shops per state, in `ConnectionState::ALL` order.
    pub per_state: Vec<(ConnectionState, u64)>,
    /// The password of every owner created by this run (they share one hash).
    pub owner_password: String,
    /// The seeded admin's password, when this run created the admin.
    pub admin_password: Option<String>,
    pub elapsed: Duration,
    /// Where `elapsed` went, in order (printed by `shoplink seed` with `RUST_LOG=info`).
    pub phases: Vec<(&'static str, Duration)>,
    /// The first and last ITS shop id this run handed out (for `sandbox_known_shops`).
    pub its_ids: Option<(i64, i64)>,
}

impl SeedReport {
    pub fn count(&self, state: ConnectionState) -> u64 {
        self.per_state
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

/// `shoplink seed`: settings from the environment, `--database` overriding `DATABASE_URL`.
pub async fn run_cli(
    settings: Settings,
    shops: u64,
    owners: Option<u64>,
    database: Option<PathBuf>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_SHOPS).contains(&shops),
        "--shops must be between 1 and {MAX_SHOPS}"
    );
    let owners = owners.unwrap_or((shops / 20).max(1));
    anyhow::ensure!(
        (1..=shops).contains(&owners),
        "--owners must be between 1 and the number of shops ({shops})"
    );
    let started = Instant::now();
    let database_path = database.unwrap_or_else(|| settings.database_path.clone());
    let secret = match &settings.secret_key {
        Some(secret) => secret.clone(),
        None => crate::startup::load_or_create_secret(&settings.data_dir)?,
    };
    let db = store::connect(&database_path).await?;
    println!(
        "Seeding {shops} shops for {owners} new owners into {} …",
        database_path.display()
    );
    // With the built-in sandbox, the sandbox learns the seeded shops too: otherwise the first
    // verification finds their keys unknown and turns every "connected" shop into "needs
    // re-auth", and the demo is no longer true. What it learns is made with the shops
    // (what `sandbox_known_shops` would read back); it is imported while the app's
    // transaction builds its indexes (the two databases' work runs on two threads), and
    // committed only if the app's transaction committed.
    let (report, sandbox_known, sandbox_took) = if settings.is_sandbox() {
        let path = settings.data_dir.join("sandbox.db");
        // Where a renewal of a seeded OA sends Zalo back: the app's OA callback.
        let redirect_uri = crate::startup::public_url(&settings, settings.bind.port())?
            .join("zalo/callback")?
            .to_string();
        let (known_tx, known_rx) = tokio::sync::oneshot::channel();
        let (committed_tx, committed_rx) = tokio::sync::oneshot::channel::<bool>();
        let mut seeded_at = None;
        let seeding = async {
            let report = seed_inner(&db, &secret, shops, owners, Some(known_tx)).await;
            let _ = committed_tx.send(report.is_ok());
            seeded_at = Some(Instant::now());
            report
        };
        let importing = async {
            // No shops when the seed failed before every row was in.
            let known = known_rx.await.unwrap_or_default();
            if known.is_empty() {
                return anyhow::Ok(None);
            }
            let committed = async { committed_rx.await.unwrap_or(false) };
            let added = seed_sandbox(&path, &known, &redirect_uri, committed).await?;
            Ok(Some(added))
        };
        let (report, imported) = tokio::join!(seeding, importing);
        let report = report?;
        // What the sandbox added to the command's time: its import after the app's commit.
        let tail = seeded_at.map_or(Duration::ZERO, |at| at.elapsed());
        (report, imported?.map(|added| (added, path)), tail)
    } else {
        (
            seed(&db, &secret, shops, owners).await?,
            None,
            Duration::ZERO,
        )
    };
    for (phase, took) in &report.phases {
        tracing::info!("seed: {phase} took {:.2} s", took.as_secs_f64());
    }
    db.close().await;

    // The whole command's time, the sandbox's import included (`tests/bench/run.sh` reads
    // this line); its parts on the next.
    println!();
    println!(
        "Seeded {} shops, {} owners and {} history entries in {:.1} s.",
        report.shops,
        report.owners,
        report.events,
        started.elapsed().as_secs_f64()
    );
    match &sandbox_known {
        Some(_) => println!(
            "(the app's database {:.1} s; the built-in sandbox's import, alongside, then {:.1} s more)",
            report.elapsed.as_secs_f64(),
            sandbox_took.as_secs_f64()
        ),
        None => println!("(the app's database {:.1} s)", report.elapsed.as_secs_f64()),
    }
    println!();
    println!("| state         | shops   |");
    println!("|---------------|---------|");
    for (state, n) in &report.per_state {
        println!("| {:<13} | {n:>7} |", state.as_str());
    }
    println!("| total         | {:>7} |", report.shops);
    println!();
    if let Some((n, path)) = sandbox_known {
        println!(
            "The built-in ITS sandbox ({}) now knows {n} of these shops, so connected ones stay connected.",
            path.display()
        );
        println!();
    }
    if let Some((first, last)) = report.owner_numbers {
        println!(
            "Owners {OWNER_EMAIL_PREFIX}{first}{OWNER_EMAIL_DOMAIN} … {OWNER_EMAIL_PREFIX}{last}{OWNER_EMAIL_DOMAIN}  password: {}",
            report.owner_password
        );
        println!(
            "  (one argon2 hash of this password is shared by all of them, so seeding stays fast)"
        );
    }
    match &report.admin_password {
        Some(password) => println!("Admin  {ADMIN_EMAIL}  password: {password}"),
        None => println!("Admin  {ADMIN_EMAIL} already existed; its password is unchanged"),
    }
    Ok(())
}

/// Adds `shops` shops spread over `owners` new owners (and the seed admin if missing).
pub async fn seed(
    db: &SqlitePool,
    secret: &SecretKey,
    shops: u64,
    owners: u64,
) -> anyhow::Result<SeedReport> {
    seed_inner(db, secret, shops, owners, None).await
}

/// `seed`, also answering what the built-in sandbox must learn about the shops it made
/// (what `sandbox_known_shops` would read back from the database, ordered by ITS id),
/// made from the generated rows themselves: reading a million shops back and opening
/// their sealed keys took about 28 s.
pub async fn seed_for_sandbox(
    db: &SqlitePool,
    secret: &SecretKey,
    shops: u64,
    owners: u64,
) -> anyhow::Result<(SeedReport, Vec<crate::sandbox::KnownShop>)> {
    let (known_tx, known_rx) = tokio::sync::oneshot::channel();
    let report = seed_inner(db, secret, shops, owners, Some(known_tx)).await?;
    let known = known_rx.await.unwrap_or_default();
    Ok((report, known))
}

/// `seed`; with `sandbox`, the known shops are sent there (ordered by ITS id) as soon as
/// every row is in, before the indexes are built and the transaction commits.
async fn seed_inner(
    db: &SqlitePool,
    secret: &SecretKey,
    shops: u64,
    owners: u64,
    mut sandbox: Option<tokio::sync::oneshot::Sender<Vec<crate::sandbox::KnownShop>>>,
) -> anyhow::Result<SeedReport> {
    let for_sandbox = sandbox.is_some();
    anyhow::ensure!(shops <= MAX_SHOPS, "at most {MAX_SHOPS} shops per run");
    anyhow::ensure!(owners >= 1 || shops == 0, "shops need at least one owner");
    let started = Instant::now();
    let sealer = KeySealer::new(secret);
    let mut rng = StdRng::from_entropy();
    let now = store::now_ms();
    let hasher = Hasher::default();

    // The admin, only when missing.
    let admin_password = if store::users::find_by_email(db, ADMIN_EMAIL)
        .await?
        .is_none()
    {
        let password = random_password(&mut rng);
        let hash = hasher.hash(password.clone()).await?;
        store::users::insert(
            db,
            ADMIN_EMAIL,
            "Quản trị viên (seed)",
            UserRole::Admin.as_str(),
            &hash,
            now,
        )
        .await?;
        Some(password)
    } else {
        None
    };

    // Owners: numbered after the ones a previous run created, one shared hash.
    let owner_password = random_password(&mut rng);
    let owner_hash = hasher.hash(owner_password.clone()).await?;
    let first_number = next_owner_number(db).await?;
    let owner_ids: Vec<Uuid> = (0..owners).map(|_| Uuid::new_v4()).collect();
    let owner_rows = owner_rows(&owner_ids, first_number, now, &mut rng);
    bulk::insert_owners(db, &owner_rows, &owner_hash).await?;
    let mut phases = vec![(
        "the admin and owners (two argon2 hashes)",
        started.elapsed(),
    )];
    let mut phase_started = Instant::now();

    // Shops, made SHOPS_PER_BATCH at a time.
    let max_its = bulk::max_its_shop_id(db).await?;
    let next_its_id = match max_its {
        Some(max) if max >= ITS_SHOP_ID_BASE => max
            .checked_add(1)
            .context("no ITS shop ids are left above the largest stored one")?,
        _ => ITS_SHOP_ID_BASE,
    };
    let first_its_id = next_its_id;
    let mut oas_written = 0u64;

    let mut events_written = 0u64;
    // The shops are made on a thread of their own, a batch ahead of the inserts: making
    // them (random values, sealed keys, histories) took 7 s of a million-shop seed, the
    // inserts 20 s on the database's thread, and the machine has a core for each.
    let maker = Maker {
        rng: StdRng::from_rng(&mut rng)?,
        sealer: sealer.clone(),
        owner_ids,
        run_tag: format!("{:04X}", rng.gen_range(0..0x10000u32)),
        next_its_id,
        next_oa_id: bulk::next_seed_oa_id(db, SEED_OA_ID_BASE).await?,
        now,
        per_state: [0; 6],
        known: for_sandbox.then(Vec::new),
        done: 0,
        making: Duration::ZERO,
    };
    let (batches_tx, mut batches) = tokio::sync::mpsc::channel::<Batch>(1);
    let making = tokio::task::spawn_blocking(move || maker.make_all(shops, &batches_tx));
    // One connection with a large page cache, one transaction for the whole run, and the
    // indexes and the search index built after the rows (see `BulkLoad`): inserting into a
    // dozen random-keyed B-trees and the trigram index row by row is what made a million
    // shops take 24 times as long as a hundred thousand.
    let mut conn = db.acquire().await?;
    let settings_before = bulk::LoadSettings::read(&mut conn).await?;
    bulk::LoadSettings {
        cache_size: -SEED_CACHE_KIB,
        // The statement journals (one per multi-row INSERT, in case a row breaks a
        // constraint) and the index builds' sort runs: in memory, not temporary files
        // (perf at a million shops: a tenth of the seed's time was in their writes).
        temp_store: 2,
        // The rows are made consistent: every shop's owner, every event's and OA's shop
        // is one this run inserted before it (`tests/seed.rs` runs `foreign_key_check`).
        // Checking each reference cost one seek of a random-keyed index per row.
        foreign_keys: false,
        // Only the index builds sort, and they set their own (`BulkLoad::finish`).
        threads: 0,
    }
    .apply(&mut conn)
    .await?;
    let result = async {
        let mut tx = bulk::begin_immediate(&mut conn).await?;
        let set_aside = bulk::BulkLoad::start(&mut tx, shops).await?;
        while let Some(batch) = batches.recv().await {
            events_written += batch.events.rows() as u64;
            oas_written += batch.oas.rows() as u64;
            batch.rows.insert(&mut tx).await?;
            batch.events.insert(&mut tx).await?;
            batch.oas.insert(&mut tx).await?;
        }
        // The maker's error, if it stopped early; else its tallies.
        let mut made = making.await.context("the thread making the shops")??;
        if let (Some(sandbox), Some(mut known)) = (sandbox.take(), made.known.take()) {
            known.sort_unstable_by_key(|k| k.shop_id);
            // A receiver that is gone wants nothing more.
            let _ = sandbox.send(known);
        }
        phases.push((
            "making the shops, their keys and histories (alongside the inserts)",
            made.making,
        ));
        phases.push(("inserting them", phase_started.elapsed()));
        phases.extend(set_aside.finish(&mut tx).await?);
        phase_started = Instant::now();
        tx.commit().await?;
        phases.push(("commit", phase_started.elapsed()));
        anyhow::Ok(made)
    }
    .await;
    let restored = settings_before.apply(&mut conn).await;
    let made = result?;
    restored?;
    drop(conn);
    let (per_state, next_its_id) = (made.per_state, made.next_its_id);

    // Leave a small WAL behind for whoever opens the database next.
    let checkpoint_started = Instant::now();
    bulk::checkpoint(db).await?;
    phases.push(("checkpoint", checkpoint_started.elapsed()));

    let report = SeedReport {
        shops,
        owners,
        owner_numbers: (owners > 0).then(|| (first_number, first_number + owners - 1)),
        events: events_written,
        oas: oas_written,
        per_state: ConnectionState::ALL
            .into_iter()
            .map(|s| (s, per_state[state_index(s)]))
            .collect(),
        owner_password,
        admin_password,
        elapsed: started.elapsed(),
        phases,
        its_ids: (next_its_id > first_its_id).then(|| (first_its_id, next_its_id - 1)),
    };
    Ok(report)
}

/// A batch of made shops, with their histories and OAs, for the inserting side.
struct Batch {
    rows: BoundRows<SeedShop>,
    events: BoundRows<SeedEvent>,
    oas: BoundRows<bulk::SeedOa>,
}

/// Makes the shops, `SHOPS_PER_BATCH` at a time, on a thread of its own; keeps what the
/// report and the sandbox need.
struct Maker {
    rng: StdRng,
    sealer: KeySealer,
    owner_ids: Vec<Uuid>,
    run_tag: String,
    next_its_id: i64,
    next_oa_id: i64,
    now: i64,
    per_state: [u64; 6],
    /// What the sandbox must learn, when seeding for it.
    known: Option<Vec<crate::sandbox::KnownShop>>,
    done: u64,
    /// Time spent making (on this thread, alongside the inserts).
    making: Duration,
}

impl Maker {
    /// Makes `shops` shops and sends them in batches; stops early, without an error, when
    /// the inserting side has gone (it failed, and says why).
    fn make_all(
        mut self,
        shops: u64,
        batches: &tokio::sync::mpsc::Sender<Batch>,
    ) -> anyhow::Result<Maker> {
        while self.done < shops {
            let started = Instant::now();
            let n = (shops - self.done).min(SHOPS_PER_BATCH as u64);
            let batch = self.batch(n)?;
            self.done += n;
            self.making += started.elapsed();
            if batches.blocking_send(batch).is_err() {
                break;
            }
        }
        Ok(self)
    }

    fn batch(&mut self, n: u64) -> anyhow::Result<Batch> {
        let mut made = Vec::with_capacity(n as usize);
        let mut events = Vec::with_capacity(n as usize * 4);
        for i in 0..n {
            let owner_id = self.owner_ids[self.rng.gen_range(0..self.owner_ids.len())];
            let (shop, plain_key) = make_shop(
                &mut self.rng,
                &self.sealer,
                owner_id,
                self.done + i,
                &self.run_tag,
                &mut self.next_its_id,
                self.now,
                &mut events,
            )?;
            self.per_state[state_index(shop.state)] += 1;
            made.push((shop, plain_key));
        }
        // The one index kept during the load is the UNIQUE one on the random id:
        // rows in id order visit its pages in order.
        made.sort_unstable_by_key(|(r, _)| r.id);
        let (mut rows, plain_keys): (Vec<SeedShop>, Vec<Option<ShopKey>>) =
            made.into_iter().unzip();
        let oas = seed_oas(&mut self.rng, &rows, &mut self.next_oa_id, self.now);
        for oa in &oas {
            let at = rows
                .binary_search_by_key(&oa.shop_id, |r| r.id)
                .map_err(|_| anyhow::anyhow!("a seeded OA's shop is not in its batch"))?;
            rows[at].oa.add(oa);
        }
        if let Some(known) = &mut self.known {
            known_shops(&rows, &plain_keys, &oas, known);
        }
        Ok(Batch {
            rows: BoundRows::bind(rows)?,
            events: BoundRows::bind(events)?,
            oas: BoundRows::bind(oas)?,
        })
    }
}

/// What the sandbox knows of a batch's shops that have an ITS id: as `sandbox_known_shops`
/// reads them back (a connected shop's relation active with its key and with its OAs, the others
/// unlinked), appended to `known`.
fn known_shops(
    rows: &[SeedShop],
    plain_keys: &[Option<ShopKey>],
    oas: &[bulk::SeedOa],
    known: &mut Vec<crate::sandbox::KnownShop>,
) {
    let mut by_shop: std::collections::HashMap<Uuid, Vec<crate::sandbox::KnownOa>> =
        std::collections::HashMap::new();
    for oa in oas {
        let Ok(oa_id) = oa.oa_id.parse::<i64>() else {
            continue;
        };
        let (expires_at, connected_at) = sandbox_oa_times(oa.expires_at, oa.connected_at);
        by_shop
            .entry(oa.shop_id)
            .or_default()
            .push(crate::sandbox::KnownOa {
                oa_id,
                name: oa.name.clone(),
                is_verified: oa.is_verified,
                status: oa.status.to_owned(),
                daily_quota: oa.daily_quota,
                remaining_quota: oa.remaining_quota,
                current_quality: oa.current_quality.to_owned(),
                last_week_quality: oa.last_week_quality.to_owned(),
                expires_at,
                connected_at,
            });
    }
    for (shop, plain_key) in rows.iter().zip(plain_keys) {
        let Some(its_shop_id) = shop.its_shop_id else {
            continue;
        };
        let shop_key = match shop.state {
            ConnectionState::Connected => plain_key.as_ref().map(|k| k.expose_secret().to_owned()),
            _ => None,
        };
        known.push(crate::sandbox::KnownShop {
            shop_id: its_shop_id,
            name: shop.its_shop_name.clone().unwrap_or_default(),
            email: shop.email.clone(),
            phone: shop.phone.clone(),
            external_shop_id: shop.id.to_string(),
            oas: if shop_key.is_some() {
                by_shop.remove(&shop.id).unwrap_or_default()
            } else {
                Vec::new()
            },
            shop_key,
            linked_at: shop.updated_at / 1000,
        });
    }
}

/// A seeded OA's expiry and connection time as the sandbox keeps them: in seconds, and
/// always an expiry (a seeded OA without one gets 90 days).
fn sandbox_oa_times(expires_at_ms: Option<i64>, connected_at_ms: i64) -> (i64, i64) {
    let connected_at = connected_at_ms / 1000;
    (
        expires_at_ms
            .map(|ms| ms / 1000)
            .unwrap_or(connected_at + 90 * 86_400),
        connected_at,
    )
}

fn state_index(state: ConnectionState) -> usize {
    ConnectionState::ALL
        .iter()
        .position(|s| *s == state)
        .unwrap_or(0)
}

fn random_password(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// One more than the largest `owner{n}@seed.shoplink.local` already stored.
async fn next_owner_number(db: &SqlitePool) -> anyhow::Result<u64> {
    let emails =
        bulk::emails_like(db, &format!("{OWNER_EMAIL_PREFIX}%{OWNER_EMAIL_DOMAIN}")).await?;
    let max = emails
        .iter()
        .filter_map(|e| {
            e.strip_prefix(OWNER_EMAIL_PREFIX)?
                .strip_suffix(OWNER_EMAIL_DOMAIN)?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    Ok(max + 1)
}

/// The seeded owners' rows: numbered emails from `first_number`, Vietnamese names.
fn owner_rows(
    ids: &[Uuid],
    first_number: u64,
    now: i64,
    rng: &mut StdRng,
) -> Vec<(Uuid, String, String, i64)> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let email = format!(
                "{OWNER_EMAIL_PREFIX}{}{OWNER_EMAIL_DOMAIN}",
                first_number + i as u64
            );
            let name = format!(
                "{} {} {}",
                pick(rng, FAMILY_NAMES),
                pick(rng, MIDDLE_NAMES),
                pick(rng, GIVEN_NAMES)
            );
            let created_at = now - rng.gen_range(91 * DAY_MS..2 * 365 * DAY_MS);
            (*id, email, name, created_at)
        })
        .collect()
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

/// The state mix: 55 % connected, 10 % each of not_connected, failed, needs_reauth and
/// disconnected, 5 % pending.
fn pick_state(rng: &mut StdRng) -> ConnectionState {
    match rng.gen_range(0..100) {
        0..=54 => ConnectionState::Connected,
        55..=64 => ConnectionState::NotConnected,
        65..=74 => ConnectionState::Failed,
        75..=84 => ConnectionState::NeedsReauth,
        85..=94 => ConnectionState::Disconnected,
        _ => ConnectionState::Pending,
    }
}

fn shop_name(rng: &mut StdRng, core: &str) -> String {
    let prefix = pick(rng, PREFIXES);
    match rng.gen_range(0..10) {
        0..=3 => format!("{prefix} {core}"),
        4..=6 => format!("{prefix} {core} {}", pick(rng, PLACES)),
        7 => format!("{prefix} {core} - {}", pick(rng, PLACES)),
        8 => format!("{prefix} {core} {}", rng.gen_range(1..=99)),
        _ => format!("{prefix} {core} - Chi nhánh {}", rng.gen_range(1..=12)),
    }
}

fn phone(rng: &mut StdRng) -> String {
    let second = [b'3', b'5', b'7', b'8', b'9'][rng.gen_range(0..5)] as char;
    format!("0{second}{:08}", rng.gen_range(0..100_000_000u32))
}

fn random_secret_part(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Tells the built-in sandbox (its database at `sandbox_db`) about the shops a seed run
/// made that ITS would know (`seed_for_sandbox`'s list): a connected shop's relation is
/// active with the very key the app holds, a shop needing re-auth or disconnected has one
/// that was unlinked. Shops and relations the sandbox already has are left alone. Nothing
/// is committed before `commit` answers true. Answers how many relations were added.
pub async fn seed_sandbox(
    sandbox_db: &std::path::Path,
    known: &[crate::sandbox::KnownShop],
    redirect_uri: &str,
    commit: impl std::future::Future<Output = bool>,
) -> anyhow::Result<u64> {
    // The sandbox keeps shop keys in plain text: a private file, as at start-up.
    if let Some(dir) = sandbox_db.parent() {
        store::create_private_dir(dir)?;
    }
    store::create_private_file(sandbox_db)?;
    crate::sandbox::import_known_shops(sandbox_db, known, redirect_uri, commit).await
}

/// What the sandbox is told, read back from the app's database instead: the shops with an
/// ITS id in `its_ids`, by insertion order, with their keys opened. The seed makes that
/// list from the generated rows (reading a million back took about 28 s); this slower,
/// independent reading is what `tests/seed.rs` checks the generated list against.
pub async fn sandbox_known_shops(
    db: &SqlitePool,
    secret: &SecretKey,
    its_ids: (i64, i64),
) -> anyhow::Result<Vec<crate::sandbox::KnownShop>> {
    let sealer = KeySealer::new(secret);
    let mut known = Vec::new();
    let mut after = 0;
    loop {
        let page = bulk::seeded_links_after(db, after, its_ids, 5_000).await?;
        let Some(last) = page.last() else { break };
        let mut oas: std::collections::HashMap<Uuid, Vec<crate::sandbox::KnownOa>> =
            std::collections::HashMap::new();
        for oa in bulk::seeded_oas_between(db, after, last.seq).await? {
            let Ok(oa_id) = oa.oa_id.parse::<i64>() else {
                continue;
            };
            let (expires_at, connected_at) = sandbox_oa_times(oa.expires_at, oa.connected_at);
            oas.entry(oa.shop_id)
                .or_default()
                .push(crate::sandbox::KnownOa {
                    oa_id,
                    name: oa.name,
                    is_verified: oa.is_verified,
                    status: oa.status,
                    daily_quota: oa.daily_quota,
                    remaining_quota: oa.remaining_quota,
                    current_quality: oa.current_quality,
                    last_week_quality: oa.last_week_quality,
                    expires_at,
                    connected_at,
                });
        }
        after = last.seq;
        for link in page {
            let state = ConnectionState::parse(&link.state).unwrap_or(ConnectionState::Failed);
            let shop_key = match (state, link.sealed_key()) {
                (ConnectionState::Connected, Some(sealed)) => Some(
                    sealer
                        .open(&sealed, link.id, link.owner_id)
                        .with_context(|| {
                            format!("the seeded key of shop {} does not open", link.id)
                        })?
                        .expose_secret()
                        .to_owned(),
                ),
                _ => None,
            };
            known.push(crate::sandbox::KnownShop {
                shop_id: link.its_shop_id,
                name: link.its_shop_name.unwrap_or_default(),
                email: link.email,
                phone: link.phone,
                external_shop_id: link.id.to_string(),
                oas: if shop_key.is_some() {
                    oas.remove(&link.id).unwrap_or_default()
                } else {
                    Vec::new()
                },
                shop_key,
                linked_at: link.updated_at / 1000,
            });
        }
    }
    Ok(known)
}

#[allow(clippy::too_many_arguments)]
fn make_shop(
    rng: &mut StdRng,
    sealer: &KeySealer,
    owner_id: Uuid,
    index: u64,
    run_tag: &str,
    next_its_id: &mut i64,
    now: i64,
    events: &mut Vec<SeedEvent>,
) -> anyhow::Result<(SeedShop, Option<ShopKey>)> {
    use ConnectionState::*;

    let id = Uuid::new_v4();
    let core = pick(rng, CORE_NAMES);
    let name = shop_name(rng, core);
    let search_name = fold_for_search(&name);
    let state = pick_state(rng);

    let phone = (rng.gen_range(0..10) < 9).then(|| phone(rng));
    let email = (rng.gen_range(0..10) < 7).then(|| {
        let local: String = fold_for_search(core)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        format!(
            "{local}{}@{}",
            rng.gen_range(1..10_000),
            pick(rng, EMAIL_DOMAINS)
        )
    });
    // An owner-typed reference (`owner_ref`); owners are new in every run, so a run-tagged
    // index is unique per owner.
    let external_shop_id =
        (rng.gen_range(0..10) < 4).then(|| format!("KH-{run_tag}-{:07}", index + 1));

    // Times: the last change within 90 days (a pending attempt is minutes old), the shop
    // itself older than its last change.
    let updated_at = if state == Pending {
        now - rng.gen_range(0..30 * 60 * 1000)
    } else {
        now - rng.gen_range(0..90 * DAY_MS)
    };
    let created_at = updated_at - rng.gen_range(DAY_MS / 24..365 * DAY_MS);

    let (its_shop_id, its_shop_name) = if matches!(state, Connected | NeedsReauth | Disconnected) {
        let its_id = *next_its_id;
        *next_its_id = next_its_id
            .checked_add(1)
            .context("ran out of ITS shop ids")?;
        let its_name = if rng.gen_bool(0.7) {
            name.clone()
        } else {
            core.to_uppercase()
        };
        (Some(its_id), Some(its_name))
    } else {
        (None, None)
    };

    let key = match (state, its_shop_id) {
        (Connected | NeedsReauth, Some(its_id)) => {
            let key = ShopKey::parse(&format!("shop{its_id}:{}", random_secret_part(rng)))
                .map_err(|e| anyhow::anyhow!("a generated shop key is invalid: {e}"))?;
            Some(key)
        }
        _ => None,
    };
    let plain_key = key;
    let key = plain_key.as_ref().map(|k| sealer.seal(k, id, owner_id));

    let (failure_code, failure_detail) = if state == Failed {
        let (code, detail) = FAILURES[rng.gen_range(0..FAILURES.len())];
        (Some(code.name()), detail)
    } else {
        (None, None)
    };

    let user = crate::services::user_actor(owner_id);
    let steps = history(rng, state, &user, failure_code, failure_detail);
    let connected_at = spread_history(rng, events, id, steps, created_at, updated_at);

    let last_verified_at = match state {
        // Verified since the last change (verifying a connected shop keeps `updated_at`).
        Connected => Some(updated_at + rng.gen_range(0..(now - updated_at).max(1))),
        // The verification that found the key rejected.
        NeedsReauth => Some(updated_at),
        Disconnected => Some(connected_at),
        _ => None,
    };

    let shop = SeedShop {
        id,
        owner_id,
        name,
        search_name,
        phone,
        email,
        external_shop_id,
        its_shop_id,
        its_shop_name,
        state,
        failure_code,
        failure_detail,
        key,
        last_verified_at,
        updated_at,
        created_at,
        oa: bulk::SeedOaSummary::default(),
    };
    Ok((shop, plain_key))
}

/// One entry of a seeded history: from, to, who, why.
type Step<'a> = (Option<ConnectionState>, ConnectionState, &'a str, String);

/// A shop's history, oldest first: every entry starts where the previous one ended and
/// the last one ends in the shop's `state`.
fn history<'a>(
    rng: &mut StdRng,
    state: ConnectionState,
    user: &'a str,
    failure_code: Option<&'static str>,
    failure_detail: Option<&'static str>,
) -> Vec<Step<'a>> {
    use ConnectionState::*;

    let created = (
        None,
        NotConnected,
        user,
        EventNote::ShopCreated.name().to_owned(),
    );
    let started = (
        Some(NotConnected),
        Pending,
        user,
        EventNote::ConnectStarted.name().to_owned(),
    );
    let forgotten = (
        Some(Pending),
        Pending,
        "its",
        EventNote::ItsShopIdForgotten.name().to_owned(),
    );
    let connected_from_pending = (
        Some(Pending),
        Connected,
        "its",
        EventNote::Connected.name().to_owned(),
    );
    match state {
        NotConnected => vec![
            created,
            started,
            (
                Some(Pending),
                NotConnected,
                "system",
                EventNote::ConnectExpired.name().to_owned(),
            ),
        ],
        Pending => {
            if rng.gen_bool(0.5) {
                vec![created, started]
            } else {
                vec![
                    created,
                    started,
                    (
                        Some(Pending),
                        Failed,
                        "its",
                        Reason::from(FailureCode::ItsTimeout)
                            .stored(Some("the request to ITS timed out")),
                    ),
                    (
                        Some(Failed),
                        Pending,
                        user,
                        EventNote::ConnectStarted.name().to_owned(),
                    ),
                ]
            }
        }
        Connected => {
            if rng.gen_bool(0.7) {
                vec![created, started, connected_from_pending]
            } else {
                vec![created, started, forgotten, connected_from_pending]
            }
        }
        Failed => {
            let reason = match failure_detail {
                Some(d) => format!(
                    "{} | {d}",
                    failure_code.unwrap_or(FailureCode::ItsUnknown.name())
                ),
                None => failure_code
                    .unwrap_or(FailureCode::ItsUnknown.name())
                    .to_owned(),
            };
            let failed = (Some(Pending), Failed, "its", reason);
            if rng.gen_bool(0.7) {
                vec![created, started, failed]
            } else {
                vec![created, started, forgotten, failed]
            }
        }
        NeedsReauth => vec![
            created,
            started,
            connected_from_pending,
            (
                Some(Connected),
                NeedsReauth,
                "system",
                EventNote::KeyRejected.name().to_owned(),
            ),
        ],
        Disconnected => vec![
            created,
            started,
            connected_from_pending,
            (
                Some(Connected),
                Disconnected,
                user,
                EventNote::Disconnected.name().to_owned(),
            ),
        ],
    }
}

/// Writes `steps` as events spread from `created_at` (the first) to `updated_at` (the
/// last), with a little jitter between. Returns when the shop last became connected
/// (`updated_at` when it never did).
fn spread_history(
    rng: &mut StdRng,
    events: &mut Vec<SeedEvent>,
    id: Uuid,
    steps: Vec<Step<'_>>,
    created_at: i64,
    updated_at: i64,
) -> i64 {
    let span = (updated_at - created_at).max(steps.len() as i64);
    let last = steps.len().saturating_sub(1).max(1) as i64;
    let mut connected_at = updated_at;
    for (i, (from_state, to_state, actor, reason)) in steps.into_iter().enumerate() {
        // Evenly spread, a little jitter, the first at `created_at`, the last at `updated_at`.
        let at = if i == 0 {
            created_at
        } else if i as i64 == last {
            updated_at
        } else {
            created_at + span * i as i64 / last - rng.gen_range(0..(span / last / 4).max(1))
        };
        if to_state == ConnectionState::Connected {
            connected_at = at;
        }
        events.push(SeedEvent {
            shop_id: id,
            at,
            actor: actor.to_owned(),
            from_state,
            to_state,
            reason,
        });
    }
    connected_at
}

/// Failure codes with the provider's words as the app records them.
const FAILURES: &[(FailureCode, Option<&str>)] = &[
    (
        FailureCode::ItsUnavailable,
        Some("unavailable (503): service temporarily unavailable"),
    ),
    (
        FailureCode::ItsUnavailable,
        Some("internal (500): internal error"),
    ),
    (
        FailureCode::ItsTimeout,
        Some("the request to ITS timed out"),
    ),
    (
        FailureCode::ItsPermissionDenied,
        Some("permission_denied (403): shop is not linked with this partner"),
    ),
    (
        FailureCode::ItsAccountClosed,
        Some("account_closed (403): tài khoản đã bị khoá"),
    ),
    (
        FailureCode::ItsInvalidArgument,
        Some("invalid_argument (400): số điện thoại không hợp lệ"),
    ),
    (
        FailureCode::ItsUnreachable,
        Some("could not connect to ITS"),
    ),
    (FailureCode::ItsReloginLoop, None),
    (FailureCode::CallbackShopNotLinked, None),
];

const PREFIXES: &[&str] = &[
    "Cửa hàng",
    "Cửa hàng",
    "Tiệm",
    "Shop",
    "Shop",
    "Nhà thuốc",
    "Quán",
    "Tạp hoá",
    "Siêu thị mini",
    "Cà phê",
    "Tiệm bánh",
    "Nhà sách",
    "Văn phòng phẩm",
    "Thời trang",
    "Điện máy",
    "Mỹ phẩm",
    "Nội thất",
    "Spa",
    "Phở",
    "Bún bò",
];

const CORE_NAMES: &[&str] = &[
    "Hòa Mai",
    "Minh Anh",
    "Thành Đạt",
    "Phúc Lộc",
    "Hưng Thịnh",
    "Ngọc Lan",
    "Bình An",
    "Kim Ngân",
    "Thanh Hương",
    "Đức Trí",
    "Hồng Phát",
    "Tân Tiến",
    "Gia Bảo",
    "Hoàng Long",
    "Mỹ Linh",
    "Quốc Việt",
    "Thu Trang",
    "Phương Nam",
    "Hải Âu",
    "Sao Mai",
    "Trường Sơn",
    "Việt Hưng",
    "An Khang",
    "Thịnh Vượng",
    "Bảo Châu",
    "Lan Chi",
    "Tuấn Kiệt",
    "Ánh Dương",
    "Đông Á",
    "Hạnh Phúc",
    "Xuân Hòa",
    "Mai Anh",
    "Thiên Phú",
    "Vạn Xuân",
    "Hoa Sen",
    "Bích Ngọc",
    "Trúc Lâm",
    "Nguyên Khôi",
    "Khánh Linh",
    "Đại Phát",
];

const PLACES: &[&str] = &[
    "Quận 1",
    "Quận 3",
    "Quận 7",
    "Quận 10",
    "Bình Thạnh",
    "Gò Vấp",
    "Thủ Đức",
    "Tân Bình",
    "Cầu Giấy",
    "Hoàn Kiếm",
    "Đống Đa",
    "Hai Bà Trưng",
    "Long Biên",
    "Hải Châu",
    "Ninh Kiều",
    "Hà Nội",
    "Đà Nẵng",
    "Huế",
    "Cần Thơ",
    "Nha Trang",
    "Vũng Tàu",
    "Biên Hòa",
    "Hải Phòng",
    "Quy Nhơn",
    "Đà Lạt",
    "Buôn Ma Thuột",
];

const EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com.vn",
    "outlook.com",
    "hotmail.com",
    "fpt.vn",
];

const FAMILY_NAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];

const MIDDLE_NAMES: &[&str] = &[
    "Văn", "Thị", "Minh", "Thanh", "Hữu", "Ngọc", "Quốc", "Đức", "Thu", "Gia",
];

const GIVEN_NAMES: &[&str] = &[
    "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan", "Linh",
    "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn",
    "Vy", "Yến",
];

/// Seeded OA ids start here (19 digits, like the provider's), above any real-looking id.
const SEED_OA_ID_BASE: i64 = 3_100_000_000_000_000_000;

/// Realistic OAs for the connected shops of a batch: one (most) or two each; most
/// connected, a few disconnected; a few of LOW quality; some out of (or nearly out of)
/// today's quota; some near or past their authorisation's expiry. In sandbox mode
/// `seed_sandbox` tells the sandbox about them, so `ListOA` answers the same.
fn seed_oas(
    rng: &mut StdRng,
    shops: &[bulk::SeedShop],
    next_oa_id: &mut i64,
    now: i64,
) -> Vec<bulk::SeedOa> {
    const DAY: i64 = 86_400_000;
    let pick = |rng: &mut StdRng, weighted: &[(&'static str, u32)]| -> &'static str {
        let total: u32 = weighted.iter().map(|(_, w)| w).sum();
        let mut roll = rng.gen_range(0..total);
        for (value, weight) in weighted {
            if roll < *weight {
                return value;
            }
            roll -= weight;
        }
        weighted[0].0
    };
    let qualities = [("HIGH", 50), ("MEDIUM", 25), ("UNDEFINED", 17), ("LOW", 8)];
    let mut oas = Vec::new();
    for shop in shops
        .iter()
        .filter(|s| s.state == ConnectionState::Connected)
    {
        let count = if rng.gen_bool(0.25) { 2 } else { 1 };
        for n in 0..count {
            let daily_quota = [500i64, 1000, 2000][rng.gen_range(0..3)];
            let remaining_quota = match rng.gen_range(0..100) {
                0..=4 => 0,
                5..=11 => rng.gen_range(1..daily_quota / 10),
                _ => rng.gen_range(daily_quota / 10..=daily_quota),
            };
            let expires_at = match rng.gen_range(0..100) {
                0..=3 => Some(now - rng.gen_range(1..30) * DAY),
                4..=11 => Some(now + rng.gen_range(0..14) * DAY + rng.gen_range(0..DAY)),
                _ => Some(now + rng.gen_range(14..91) * DAY),
            }
            // Whole seconds, as the provider's RFC 3339 times carry them: a re-read by
            // `ListOA` then finds the same expiry, not one that moved by a few milliseconds.
            .map(|ms| ms / 1000 * 1000);
            oas.push(bulk::SeedOa {
                oa_id: next_oa_id.to_string(),
                shop_id: shop.id,
                name: if n == 0 {
                    format!("{} OA", shop.name)
                } else {
                    format!("{} OA {}", shop.name, n + 1)
                },
                is_verified: rng.gen_bool(0.6),
                status: if rng.gen_bool(0.9) { "P" } else { "N" },
                daily_quota,
                remaining_quota,
                current_quality: pick(rng, &qualities),
                last_week_quality: pick(rng, &qualities),
                expires_at,
                connected_at: shop.created_at,
            });
            *next_oa_id += 1;
        }
    }
    oas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_the_shapes_the_app_accepts() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let p = phone(&mut rng);
            assert_eq!(crate::domain::Phone::parse(&p).unwrap().as_str(), p);
            assert!(matches!(&p[..2], "03" | "05" | "07" | "08" | "09"), "{p}");
            let core = pick(&mut rng, CORE_NAMES);
            let name = shop_name(&mut rng, core);
            assert!(crate::domain::ShopName::parse(&name).is_ok(), "{name}");
            assert!(fold_for_search(&name).is_ascii(), "{name}");
        }
    }

    #[test]
    fn a_history_ends_in_the_shop_state_and_each_step_follows_the_previous() {
        let mut rng = StdRng::seed_from_u64(11);
        let sealer = KeySealer::new(&SecretKey::generate());
        let mut next = ITS_SHOP_ID_BASE;
        let now = store::now_ms();
        for i in 0..2000 {
            let mut events = Vec::new();
            let (shop, plain_key) = make_shop(
                &mut rng,
                &sealer,
                Uuid::new_v4(),
                i,
                "T",
                &mut next,
                now,
                &mut events,
            )
            .unwrap();
            assert_eq!(plain_key.is_some(), shop.key.is_some());
            assert!((2..=4).contains(&events.len()));
            assert_eq!(events.last().unwrap().to_state, shop.state);
            assert_eq!(events.last().unwrap().at, shop.updated_at);
            assert_eq!(events[0].at, shop.created_at);
            for pair in events.windows(2) {
                assert_eq!(pair[1].from_state, Some(pair[0].to_state));
                assert!(pair[0].at <= pair[1].at, "times go forward");
            }
            assert_eq!(shop.key.is_some(), shop.state.has_key());
            assert!(shop.updated_at <= now && shop.updated_at > now - 91 * DAY_MS);
        }
    }
}
