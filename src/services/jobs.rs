//! Re-verifying many stored keys: the admin's bulk job ("Verify all connected shops") and
//! the scheduler that re-checks each connected shop once per `VERIFY_INTERVAL_SECS`.
//!
//! Both call [`verify_shop`] with at most `VERIFY_CONCURRENCY` ITS calls in flight, so a
//! hundred thousand shops never mean a hundred thousand requests at once, and every
//! outcome lands in the shop's history through `verify_shop` itself.
//!
//! A bulk job's progress is a row of `verify_jobs`, updated after every shop: a page reload
//! or another admin sees it, a cancel is a flag on that row read between shops, and the
//! database refuses a second running job (partial unique index).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::verify::verify_shop;
use super::{ServiceError, Services};
use crate::configuration::VerifySettings;
use crate::store::{self, jobs};

/// The answer to "Verify all connected shops".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        id: Uuid,
        total: i64,
    },
    /// Another job is running; nothing was started.
    AlreadyRunning,
}

/// Who a job's verifications are recorded as in the shops' history.
pub fn job_actor(job_id: Uuid) -> String {
    format!("job:{job_id}")
}

/// Starts a bulk re-verification of every connected (or needs-reauth) shop in the
/// background and returns at once.
pub async fn start_bulk(
    svc: &Services,
    started_by: Uuid,
    concurrency: usize,
) -> Result<StartOutcome, ServiceError> {
    if jobs::running(&svc.db).await?.is_some() {
        return Ok(StartOutcome::AlreadyRunning);
    }
    let ids = jobs::shops_to_verify(&svc.db).await?;
    let total = ids.len() as i64;
    let id = match jobs::insert_running(&svc.db, started_by, total, store::now_ms()).await {
        Ok(id) => id,
        // Two admins pressed at the same moment: the index let only one through.
        Err(e) if jobs::is_already_running(&e) => return Ok(StartOutcome::AlreadyRunning),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(job = %id, total, by = %started_by, "bulk re-verification started");
    let svc = svc.clone();
    // The work runs in its own task so that a panic in it still ends the job's row.
    let work = tokio::spawn(run_job(svc.clone(), id, ids, concurrency));
    tokio::spawn(async move {
        let state = match work.await {
            Ok(Ok(state)) => state,
            Ok(Err(e)) => {
                tracing::error!(job = %id, error = %e, "bulk re-verification stopped by an error");
                "interrupted"
            }
            Err(e) => {
                tracing::error!(job = %id, error = %e, "bulk re-verification task failed");
                "interrupted"
            }
        };
        if let Err(e) = jobs::finish(&svc.db, id, state, store::now_ms()).await {
            tracing::error!(job = %id, error = %e, "could not record the end of a bulk job");
        }
    });
    Ok(StartOutcome::Started { id, total })
}

/// Verifies `ids` for job `id`, recording progress after each shop, until done or
/// cancelled. Returns the state the job ends in.
async fn run_job(
    svc: Services,
    id: Uuid,
    ids: Vec<Uuid>,
    concurrency: usize,
) -> Result<&'static str, sqlx::Error> {
    let actor = job_actor(id);
    let stop = Arc::new(AtomicBool::new(false));
    let cut_short = AtomicBool::new(false);
    let progress_error: Arc<std::sync::Mutex<Option<sqlx::Error>>> = Default::default();
    let svc_ref = &svc;
    let actor_ref = actor.as_str();
    stream::iter(ids)
        // Read between shops: nothing new starts once a cancel (or a failure to record
        // progress) is seen; the calls already in flight finish and are counted.
        .take_while(|_| {
            let go_on = !stop.load(Ordering::Relaxed);
            if !go_on {
                cut_short.store(true, Ordering::Relaxed);
            }
            async move { go_on }
        })
        .map(|shop_id| {
            let stop = stop.clone();
            let progress_error = progress_error.clone();
            async move {
                let failed = verify_one(svc_ref, shop_id, actor_ref).await;
                match jobs::record_progress(&svc_ref.db, id, failed).await {
                    Ok(Some(false)) => {}
                    Ok(Some(true)) | Ok(None) => stop.store(true, Ordering::Relaxed),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        *progress_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .for_each(|()| async {})
        .await;
    if let Some(e) = progress_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(e);
    }
    // A cancel that came after the last shop started changes nothing: the job finished.
    let cancelled =
        cut_short.load(Ordering::Relaxed) && jobs::cancel_requested(&svc.db, id).await?;
    let state = if cancelled { "cancelled" } else { "finished" };
    tracing::info!(job = %id, state, "bulk re-verification ended");
    Ok(state)
}

/// Verifies one shop; returns whether it counts as a failure.
async fn verify_one(svc: &Services, shop_id: Uuid, actor: &str) -> bool {
    match verify_shop(svc, shop_id, actor).await {
        Ok(outcome) => outcome.is_failure(),
        Err(ServiceError::NotFound) => {
            tracing::info!(shop = %shop_id, "a shop to verify was deleted meanwhile");
            true
        }
        Err(e) => {
            tracing::error!(shop = %shop_id, error = %e, "verifying a shop failed");
            true
        }
    }
}

/// Asks a running job to stop. `false`: the job is not running (ended, or unknown).
pub async fn cancel(svc: &Services, id: Uuid) -> Result<bool, ServiceError> {
    Ok(jobs::request_cancel(&svc.db, id).await?)
}

/// At start: a job left running by a previous process is marked interrupted.
pub async fn interrupt_leftovers(db: &sqlx::SqlitePool) -> Result<u64, sqlx::Error> {
    let n = jobs::interrupt_all_running(db, store::now_ms()).await?;
    if n > 0 {
        tracing::warn!(
            jobs = n,
            "a bulk re-verification was running when the app last stopped; marked interrupted"
        );
    }
    Ok(n)
}

/// Starts the scheduler: every `tick`, connection attempts that ran out of time end (see
/// `connect::expire_attempts`), and, unless scheduled re-verification is off, a share of
/// the connected shops whose last verification is older than `interval` is verified
/// again, as actor `system`.
pub fn spawn_scheduler(svc: Services, settings: VerifySettings) -> Option<JoinHandle<()>> {
    Some(tokio::spawn(async move {
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + settings.tick, settings.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // Attempts the owners walked away from end here even if no one looks.
            match super::connect::expire_attempts(&svc, None).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(shops = n, "expired connection attempts ended"),
                Err(e) => tracing::error!(error = %e, "ending expired connection attempts failed"),
            }
            let Some(interval) = settings.interval else {
                continue;
            };
            match scheduler_tick(&svc, interval, settings.tick, settings.concurrency).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(shops = n, "scheduled re-verification"),
                Err(e) => tracing::error!(error = %e, "scheduled re-verification failed"),
            }
        }
    }))
}

/// How many of `due` shops one tick takes so that they are all done within one interval:
/// ceil(due / ticks per interval), at least one.
pub fn batch_size(due: i64, interval: Duration, tick: Duration) -> i64 {
    let ticks = (interval.as_secs() / tick.as_secs().max(1)).max(1) as i64;
    if due <= 0 {
        0
    } else {
        ((due + ticks - 1) / ticks).max(1)
    }
}

/// One run of the scheduler. Returns how many shops it verified.
pub async fn scheduler_tick(
    svc: &Services,
    interval: Duration,
    tick: Duration,
    concurrency: usize,
) -> Result<usize, ServiceError> {
    // The bulk job is already checking every shop: no need to add load.
    if jobs::running(&svc.db).await?.is_some() {
        return Ok(0);
    }
    let before = store::now_ms() - interval.as_millis() as i64;
    let due = jobs::count_due(&svc.db, before).await?;
    let batch = batch_size(due, interval, tick);
    if batch == 0 {
        return Ok(0);
    }
    let ids = jobs::due_shops(&svc.db, before, batch).await?;
    let n = ids.len();
    stream::iter(ids)
        .map(|shop_id| async move {
            verify_one(svc, shop_id, "system").await;
        })
        .buffer_unordered(concurrency.max(1))
        .for_each(|()| async {})
        .await;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduler_spreads_due_shops_over_the_interval() {
        let day = Duration::from_secs(86_400);
        let minute = Duration::from_secs(60);
        assert_eq!(batch_size(0, day, minute), 0);
        assert_eq!(
            batch_size(1, day, minute),
            1,
            "at least one when any is due"
        );
        assert_eq!(batch_size(1_440, day, minute), 1);
        assert_eq!(batch_size(100_000, day, minute), 70, "ceil(100000 / 1440)");
        assert_eq!(
            batch_size(5, minute, minute),
            5,
            "one tick per interval: all at once"
        );
    }
}
