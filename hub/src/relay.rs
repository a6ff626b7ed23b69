//! The relay: the hub's outbox to the notification backend, with the station's rules.
//!
//! Relay batches are formed from the outbox in hub order (so each ballot's events
//! reach the backend in the order the hub stored them), at most 500 of one election,
//! stored with their exact bytes before the first send, and sent again under the same
//! id until acknowledged: the backend's idempotency makes it exactly once, across a
//! hub killed between sending and recording the answer. Retries back off as the
//! station's do (`ballot_intake_core::sync::backoff`, Retry-After honoured); a batch
//! the backend refuses is held and the ones after it go on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballot_intake_core::sync::payload::{Payload, PayloadEvent};
use ballot_intake_core::sync::transport::{Directory, Https, SendOutcome, Transport};
use ballot_intake_core::sync::{backoff, seed, splitmix};
use chrono::Utc;
use deadpool_postgres::Pool;
use tokio::sync::Notify;

use crate::model::MAX_EVENTS;
use crate::{HubError, format_time};

/// Where the relay sends.
#[derive(Debug, Clone)]
pub enum Target {
    /// The backend's HTTPS API (plain http only on loopback).
    Https {
        /// Its base URL.
        url: String,
        /// The hub's bearer token for it.
        token_file: PathBuf,
        /// A CA to trust in place of the public roots.
        ca_file: Option<PathBuf>,
    },
    /// A folder (a share the backend's importer reads).
    Directory(PathBuf),
}

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Where to.
    pub target: Target,
    /// The oldest an event waits for its relay batch to fill.
    pub max_age: Duration,
    /// The first retry's wait (doubles up to a minute).
    pub retry_base: Duration,
    /// One request's time limit.
    pub timeout: Duration,
}

impl RelayOptions {
    /// The transport, checked as the station checks its own (URL, token file, CA).
    pub fn transport(&self) -> Result<Box<dyn Transport>, HubError> {
        let t: Box<dyn Transport> = match &self.target {
            Target::Https {
                url,
                token_file,
                ca_file,
            } => Box::new(
                Https::new(url, token_file, ca_file.as_deref(), self.timeout)
                    .map_err(|e| HubError::Refused(e.to_string()))?,
            ),
            Target::Directory(dir) => {
                Box::new(Directory::new(dir).map_err(|e| HubError::Refused(e.to_string()))?)
            }
        };
        Ok(t)
    }
}

/// A relay batch ready to send.
struct Due {
    batch_id: String,
    events: i32,
    payload: Vec<u8>,
    attempts: i32,
}

/// Runs the relay until the process ends. `wake` is notified when a batch put events
/// in the outbox.
pub async fn run(pool: Pool, options: RelayOptions, wake: Arc<Notify>) {
    let mut transport = match options.transport() {
        Ok(t) => Some(t),
        Err(e) => {
            log::error!("the relay cannot start: {e}");
            return;
        }
    };
    let mut jitter: u64 = seed();
    loop {
        let step = relay_once(&pool, &options, &mut transport, &mut jitter).await;
        let nap = match step {
            Ok(true) => continue,
            Ok(false) => Duration::from_millis(250),
            Err(e) => {
                log::warn!("relay: {e}");
                Duration::from_secs(1)
            }
        };
        let _ = tokio::time::timeout(nap, wake.notified()).await;
    }
}

/// Sends one batch if one is due; returns whether it did anything.
async fn relay_once(
    pool: &Pool,
    options: &RelayOptions,
    transport: &mut Option<Box<dyn Transport>>,
    jitter: &mut u64,
) -> Result<bool, HubError> {
    let mut client = pool.get().await?;
    let Some(due) = next_batch(&mut client, options.max_age).await? else {
        return Ok(false);
    };
    let Some(mut t) = transport.take() else {
        return Ok(false);
    };
    let (id, bytes) = (due.batch_id.clone(), due.payload.clone());
    let events = usize::try_from(due.events).unwrap_or(0);
    let sent = tokio::task::spawn_blocking(move || {
        let outcome = t.send(&id, &bytes, events, None);
        (t, outcome)
    })
    .await;
    let outcome = match sent {
        Ok((t, outcome)) => {
            *transport = Some(t);
            outcome
        }
        Err(e) => {
            log::error!("the relay's send failed: {e}");
            *transport = options.transport().ok();
            return Ok(false);
        }
    };
    match outcome {
        SendOutcome::Acked { .. } => {
            client
                .execute(
                    "UPDATE relay_batches SET state = 'acked', acked_at = now(),
                         attempts = attempts + 1, last_error = NULL
                     WHERE batch_id = $1 AND state <> 'acked'",
                    &[&due.batch_id],
                )
                .await?;
            log::info!("relayed batch {} ({} events)", due.batch_id, due.events);
        }
        SendOutcome::Retry { reason, after } => {
            *jitter = splitmix(*jitter);
            let wait = after
                .unwrap_or_else(|| backoff(options.retry_base, i64::from(due.attempts), *jitter));
            let next =
                Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            log::warn!(
                "relay batch {}: {reason}; retrying in {wait:?}",
                due.batch_id
            );
            client
                .execute(
                    "UPDATE relay_batches SET attempts = attempts + 1, last_error = $2,
                         next_attempt_at = $3 WHERE batch_id = $1 AND state = 'pending'",
                    &[&due.batch_id, &reason, &next],
                )
                .await?;
        }
        SendOutcome::Rejected { reason } => {
            log::error!(
                "relay batch {} refused by the backend: {reason}; held",
                due.batch_id
            );
            client
                .execute(
                    "UPDATE relay_batches SET state = 'held', attempts = attempts + 1,
                         last_error = $2 WHERE batch_id = $1 AND state = 'pending'",
                    &[&due.batch_id, &reason],
                )
                .await?;
        }
    }
    Ok(true)
}

/// A formed batch whose retry time has come, else a new one from the outbox: when
/// [`MAX_EVENTS`] wait or the oldest has waited `max_age`.
async fn next_batch(
    client: &mut tokio_postgres::Client,
    max_age: Duration,
) -> Result<Option<Due>, HubError> {
    if let Some(r) = client
        .query_opt(
            "SELECT batch_id, events, payload, attempts FROM relay_batches
             WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
             ORDER BY created_at, first_seq LIMIT 1",
            &[],
        )
        .await?
    {
        return Ok(Some(Due {
            batch_id: r.get(0),
            events: r.get(1),
            payload: r.get(2),
            attempts: r.get(3),
        }));
    }
    // A batch still waiting for its retry time holds back everything after it, so
    // that a ballot's later event never overtakes its earlier one.
    let waiting: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM relay_batches WHERE state = 'pending')",
            &[],
        )
        .await?
        .get(0);
    if waiting {
        return Ok(None);
    }
    form(client, max_age).await
}

/// An advisory-lock key of the hub's own, held while a relay batch is formed, so
/// that two hubs on one database never form two batches of the same rows.
const RELAY_LOCK: i64 = 0x6261_6c6c_6f74_0003;

async fn form(
    client: &mut tokio_postgres::Client,
    max_age: Duration,
) -> Result<Option<Due>, HubError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&RELAY_LOCK])
        .await?;
    // Where the last batch ended: the outbox is read on from there, in (txid, seq)
    // order and only below the oldest running transaction (as the feed is).
    let (txid, seq): (String, i64) = tx
        .query_opt(
            // Ordered by the xid8 column itself, not the text made of it (an
            // output column of the same name would win, and "997" sort after "1000").
            "SELECT b.last_txid::text AS last_txid_text, b.last_seq FROM relay_batches b
             ORDER BY b.last_txid DESC, b.last_seq DESC LIMIT 1",
            &[],
        )
        .await?
        .map_or_else(|| ("0".to_string(), 0), |r| (r.get(0), r.get(1)));
    let limit = i64::try_from(MAX_EVENTS).unwrap_or(500);
    let rows = tx
        .query(
            "SELECT o.txid::text AS txid_text, o.seq, o.election_id, e.event_id, e.type, e.ballot_id,
                    e.voter_id, e.occurred_at, e.reason, e.corrects, e.county, e.stored_at
             FROM outbox o JOIN events e ON e.event_id = o.event_id
             WHERE (o.txid, o.seq) > ($1::text::xid8, $2)
               AND o.txid < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY o.txid, o.seq LIMIT $3",
            &[&txid, &seq, &limit],
        )
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let election: String = first.get(2);
    let county: String = first.get(10);
    let oldest: chrono::DateTime<Utc> = first.get(11);
    let rows: Vec<_> = rows
        .iter()
        .take_while(|r| r.get::<_, String>(2) == election)
        .collect();
    let old_enough =
        oldest <= Utc::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    if !old_enough && rows.len() < MAX_EVENTS {
        return Ok(None);
    }
    let batch_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let created_at = format_time(now);
    let events: Vec<PayloadEvent> = rows
        .iter()
        .map(|r| PayloadEvent {
            event_id: r.get(3),
            kind: r.get(4),
            ballot_id: r.get(5),
            voter_id: r.get(6),
            occurred_at: format_time(r.get(7)),
            reason: r.get(8),
            corrects: r.get(9),
            batch: None,
            confidential: false,
        })
        .collect();
    let payload = Payload {
        batch_id: &batch_id,
        station_id: "hub",
        county: &county,
        election_id: &election,
        created_at: &created_at,
        events,
        chain_head: None,
    }
    .to_bytes()
    .map_err(HubError::Refused)?;
    let n = i32::try_from(rows.len()).unwrap_or(i32::MAX);
    let (first_txid, first_seq): (String, i64) = (rows[0].get(0), rows[0].get(1));
    let last = rows[rows.len() - 1];
    let (last_txid, last_seq): (String, i64) = (last.get(0), last.get(1));
    tx.execute(
        "INSERT INTO relay_batches (batch_id, election_id, created_at, events, first_txid,
             first_seq, last_txid, last_seq, payload)
         VALUES ($1, $2, $3, $4, $5::text::xid8, $6, $7::text::xid8, $8, $9)",
        &[
            &batch_id,
            &election,
            &now,
            &n,
            &first_txid,
            &first_seq,
            &last_txid,
            &last_seq,
            &payload,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Due {
        batch_id,
        events: n,
        payload,
        attempts: 0,
    }))
}
