//! The sync: the outbox, in batches, to the notification backend, exactly once.
//!
//! The engine loops: take the next batch the ledger offers (a formed one whose retry
//! time has come, or a new one), send it, record the answer. A batch is never changed
//! once formed, so a retry is the same bytes under the same id, and the backend's
//! idempotency makes "at least once" into "exactly once". Failures back off
//! exponentially with jitter (honouring Retry-After); a refused batch is held and the
//! ones after it go on. Scanning never waits for any of this: the sync only reads the
//! outbox and runs in its own process or thread.

pub mod hub;
pub mod payload;
pub mod setup;
pub mod transport;

use chrono::Utc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::{SyncConfig, SyncTransport};
use crate::environment::Environment;
use crate::ledger::{Ledger, LedgerError, SyncBatch, SyncCounts};
use transport::{Directory, Https, SendOutcome, SetupError, Transport};

/// Why the sync stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The transport could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The wait ran out with events still to send.
    #[error("{} event(s) not yet acknowledged after {waited:?}: {} pending, {} in flight, {} held{}",
        .counts.outstanding(), .counts.pending, .counts.in_flight, .counts.held,
        .counts.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    StillPending {
        /// Where things stand.
        counts: SyncCounts,
        /// How long it tried.
        waited: Duration,
    },
    /// Stopped by a signal before everything was acknowledged: the batch in flight
    /// is sent again (same id, so the backend keeps it once) by the next sync.
    #[error("stopped with {} event(s) not yet acknowledged: {} pending, {} in flight, {} held; the next sync sends them",
        .counts.outstanding(), .counts.pending, .counts.in_flight, .counts.held)]
    Stopped {
        /// Where things stand.
        counts: SyncCounts,
    },
    /// Batches the backend refused wait for a supervisor.
    #[error("{} event(s) in held batches (the backend refused them{}); fix the cause, then `ballot-intake sync retry BATCH --user SUPERVISOR`",
        .counts.held,
        .counts.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    Held {
        /// Where things stand.
        counts: SyncCounts,
    },
}

/// How the engine runs.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Keep running, forming batches by count and age (the station's background sync);
    /// otherwise send everything now and return once nothing is left.
    pub watch: bool,
    /// Give up after this long (one-shot mode).
    pub max_wait: Option<Duration>,
    /// First retry wait; doubles per attempt up to a minute.
    pub retry_base: Duration,
    /// In watch mode, the longest an event waits for its batch to fill.
    pub max_batch_age: Duration,
}

/// What happened to one batch, for progress messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// The batch.
    pub batch_id: String,
    /// Its events.
    pub events: i64,
    /// The answer.
    pub outcome: SendOutcome,
}

/// The transport the configuration names.
pub fn transport_for(
    env: &Environment,
    config: &SyncConfig,
) -> Result<Box<dyn Transport>, SetupError> {
    Ok(match &config.transport {
        SyncTransport::Directory { path } => Box::new(Directory::new(
            &path
                .clone()
                .unwrap_or_else(|| env.data_dir.join("outgoing")),
        )?),
        SyncTransport::Https {
            url,
            token_file,
            ca_file,
        } => Box::new(Https::new(
            url,
            token_file,
            ca_file.as_deref(),
            Duration::from_secs(config.timeout_secs.max(1)),
        )?),
    })
}

/// The wait before retry number `attempt` (0-based): base x 2^attempt, at most a
/// minute, plus up to a quarter more at random so that many stations coming back
/// online do not retry in step.
pub fn backoff(base: Duration, attempt: i64, jitter_seed: u64) -> Duration {
    let exp = u32::try_from(attempt.clamp(0, 16)).unwrap_or(16);
    let wait = base
        .saturating_mul(1u32 << exp)
        .min(Duration::from_secs(60));
    let quarter = wait / 4;
    let jitter = if quarter.is_zero() {
        Duration::ZERO
    } else {
        let nanos = u64::try_from(quarter.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(splitmix(jitter_seed) % nanos)
    };
    wait + jitter
}

/// The next value of a SplitMix64 sequence: enough to spread retries apart (not for
/// secrets). Shared by the station's sync and the hub's relay.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A starting value for `splitmix` that differs between processes and runs.
pub fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(0) ^ u64::from(std::process::id())
}

/// Runs the sync until nothing is left (one-shot), the wait runs out, or `stop` is
/// set (watch). `on_batch` hears about every send.
pub fn run(
    ledger: &mut Ledger,
    transport: Box<dyn Transport>,
    options: &SyncOptions,
    stop: &AtomicBool,
    mut on_batch: impl FnMut(&BatchReport),
) -> Result<SyncCounts, SyncError> {
    let started = Instant::now();
    // `--max-wait` is a deadline for the whole command, requests included.
    let deadline = options
        .max_wait
        .filter(|_| !options.watch)
        .map(|m| started + m);
    let mut transport = Some(transport);
    let mut jitter = seed();
    let mut feed_due = Instant::now();
    let mut report_due = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return stopped(ledger);
        }
        if ledger.station().hub
            && options.watch
            && Instant::now() >= report_due
            && let Some(t) = transport.as_mut()
        {
            report_due = Instant::now() + REPORT_EVERY;
            report(ledger, t.as_mut());
        }
        if ledger.station().hub
            && Instant::now() >= feed_due
            && let Some(t) = transport.as_mut()
        {
            feed_due = Instant::now() + FEED_EVERY;
            if pull_feed(ledger, t.as_mut())? {
                // A full page: more are waiting.
                feed_due = Instant::now();
            }
        }
        let now = Utc::now();
        let max_age = options.watch.then_some(options.max_batch_age);
        if let Some(batch) = ledger.next_sync_batch(now, max_age)? {
            let limit = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if limit.is_some_and(|l| l.is_zero()) {
                return Err(SyncError::StillPending {
                    counts: ledger.sync_counts()?,
                    waited: started.elapsed(),
                });
            }
            let Some(t) = transport.take() else {
                return stopped(ledger);
            };
            let (back, outcome) = match send_watched(t, &batch, limit, stop, deadline) {
                Sent::Done(t, outcome) => (t, outcome),
                Sent::Stopped => return stopped(ledger),
                Sent::TimedOut => {
                    return Err(SyncError::StillPending {
                        counts: ledger.sync_counts()?,
                        waited: started.elapsed(),
                    });
                }
            };
            let describe = back.describe();
            transport = Some(back);
            match &outcome {
                SendOutcome::Acked {
                    accepted,
                    duplicates,
                    conflicts,
                } => ledger.ack_sync_batch(&batch.batch_id, *accepted, *duplicates, conflicts)?,
                SendOutcome::Retry { reason, after } => {
                    jitter = splitmix(jitter);
                    let wait = after
                        .unwrap_or_else(|| backoff(options.retry_base, batch.attempts, jitter));
                    let next =
                        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                    log::warn!(
                        "sync batch {} to {describe}: {reason}; retrying in {wait:?}",
                        batch.batch_id,
                    );
                    ledger.retry_sync_batch(&batch.batch_id, reason, next)?;
                }
                SendOutcome::Rejected { reason } => {
                    log::error!(
                        "sync batch {} refused by {describe}: {reason}; held",
                        batch.batch_id,
                    );
                    ledger.hold_sync_batch(&batch.batch_id, reason)?;
                }
            }
            on_batch(&BatchReport {
                batch_id: batch.batch_id,
                events: batch.events,
                outcome,
            });
            continue;
        }
        let counts = ledger.sync_counts()?;
        if !options.watch {
            if counts.pending + counts.in_flight == 0 {
                // A one-shot sync to a hub ends by telling it how the station stands.
                if ledger.station().hub
                    && let Some(t) = transport.as_mut()
                {
                    report(ledger, t.as_mut());
                }
                if counts.held > 0 {
                    return Err(SyncError::Held { counts });
                }
                return Ok(counts);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(SyncError::StillPending {
                    counts,
                    waited: started.elapsed(),
                });
            }
        }
        // Nothing due: wait for the next retry, or poll for new events.
        let until_retry = ledger
            .next_sync_retry()?
            .and_then(|t| (t - Utc::now()).to_std().ok())
            .unwrap_or(Duration::from_secs(1));
        // With a county hub a receipt's journey to the other stations is the window
        // in which two can accept one envelope: the watch looks again four times as
        // often.
        let nap = until_retry.min(Duration::from_millis(
            match (options.watch, ledger.station().hub) {
                (true, false) => 1000,
                (true, true) => 250,
                (false, _) => 200,
            },
        ));
        let wake = deadline.map_or(Instant::now() + nap, |d| d.min(Instant::now() + nap));
        while Instant::now() < wake && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20).min(nap));
        }
    }
}

/// How often the station reads the county hub's receipts feed: the window in which
/// two stations can both accept one envelope is this plus the age a batch may reach
/// before it is sent (docs/hub.md).
pub const FEED_EVERY: Duration = Duration::from_secs(2);

/// How often `sync --watch` tells the county hub how the station stands, for the
/// county's dashboard.
pub const REPORT_EVERY: Duration = Duration::from_secs(30);

/// Sends the station's report to the hub. A report that cannot be made or sent is
/// logged, not fatal: it only feeds the dashboard, and the next one replaces it.
pub fn report(ledger: &Ledger, transport: &mut dyn Transport) {
    let sent = ledger
        .station_report(Utc::now())
        .map_err(|e| e.to_string())
        .and_then(|r| transport.report(&r).unwrap_or(Ok(())));
    if let Err(e) = sent {
        log::warn!("cannot report to the county hub: {e}");
    }
}

/// Reads one page of the hub's receipts feed into the ledger; returns whether the
/// page was full (more to read). A hub that cannot be reached is logged, not fatal:
/// the hub's own conflicts catch what the feed would have.
pub fn pull_feed(ledger: &mut Ledger, transport: &mut dyn Transport) -> Result<bool, SyncError> {
    let after = ledger.feed_cursor()?;
    match transport.feed(&after) {
        None => Ok(false),
        Some(Err(e)) => {
            log::warn!("cannot read the county hub's receipts feed: {e}");
            Ok(false)
        }
        Some(Ok(page)) => {
            let kept = ledger.take_feed(&page)?;
            if kept > 0 {
                log::info!(
                    "{kept} receipt(s) from other stations, feed at {}",
                    page.next
                );
            }
            Ok(i64::try_from(page.receipts.len()).unwrap_or(i64::MAX) >= hub::MAX_FEED_PAGE)
        }
    }
}

/// The counts when a stop signal came: an error if anything is still unacknowledged.
fn stopped(ledger: &Ledger) -> Result<SyncCounts, SyncError> {
    let counts = ledger.sync_counts()?;
    if counts.pending + counts.in_flight > 0 {
        return Err(SyncError::Stopped { counts });
    }
    Ok(counts)
}

/// How a send watched by [`send_watched`] ended.
enum Sent {
    /// The transport answered (and is handed back for the next batch).
    Done(Box<dyn Transport>, SendOutcome),
    /// A stop signal came first; the request is left to the program's exit.
    Stopped,
    /// The command's deadline came first.
    TimedOut,
}

/// Sends on a named helper thread and waits for the answer, a stop signal or the
/// deadline, whichever comes first: a backend that takes the connection and never
/// answers cannot hold the command past its deadline, nor a SIGTERM for the length
/// of a request. An abandoned batch stays in flight in the ledger and is sent
/// again, under the same id, by the next sync.
fn send_watched(
    mut transport: Box<dyn Transport>,
    batch: &SyncBatch,
    limit: Option<Duration>,
    stop: &AtomicBool,
    deadline: Option<Instant>,
) -> Sent {
    let (tx, rx) = std::sync::mpsc::channel();
    let (id, bytes) = (batch.batch_id.clone(), batch.payload.clone());
    let events = usize::try_from(batch.events).unwrap_or(0);
    let spawned = std::thread::Builder::new()
        .name("sync-send".into())
        .spawn(move || {
            let outcome = transport.send(&id, &bytes, events, limit);
            let _ = tx.send((transport, outcome));
        });
    if let Err(e) = spawned {
        log::error!("cannot start the sync's send thread: {e}");
        return Sent::Stopped;
    }
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok((t, outcome)) => return Sent::Done(t, outcome),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Sent::Stopped,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if stop.load(Ordering::Relaxed) {
                    return Sent::Stopped;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Sent::TimedOut;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let base = Duration::from_secs(1);
        let w0 = backoff(base, 0, 1);
        assert!(w0 >= base && w0 <= base * 5 / 4, "{w0:?}");
        let w3 = backoff(base, 3, 1);
        assert!(
            w3 >= Duration::from_secs(8) && w3 <= Duration::from_secs(10),
            "{w3:?}"
        );
        let w20 = backoff(base, 20, 1);
        assert!(
            w20 >= Duration::from_secs(60) && w20 <= Duration::from_secs(75),
            "{w20:?}"
        );
        // Different seeds spread the waits.
        let spread: std::collections::HashSet<Duration> =
            (0..20).map(|s| backoff(base, 2, splitmix(s))).collect();
        assert!(spread.len() > 10);
    }
}
