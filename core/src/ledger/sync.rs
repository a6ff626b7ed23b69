//! The ledger side of the sync: forming batches from the outbox, recording what the
//! backend answered, and the counts `status` shows.
//!
//! A batch is formed in one transaction (its events are marked with its id and its
//! exact payload stored), so a retry after a crash sends the same bytes under the
//! same batch id. Acknowledging a batch marks all its events in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::{Ledger, LedgerError, Result, User, format_time, parse_time};
use crate::audit::AuditEvent;
use crate::sync::hub::HubConflict;
use crate::sync::payload::{ChainHead, Payload, PayloadEvent};

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 500;
/// Oldest an unbatched event may get before a batch is formed anyway (the default;
/// the sync's configuration may shorten it).
pub const MAX_BATCH_AGE_SECS: u64 = 30;
/// Marks outbox rows that were withheld at send time because their voter has since
/// become confidential.
const WITHHELD: &str = "withheld";

/// A formed batch, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncBatch {
    /// UUID, sent as the batch id and the Idempotency-Key.
    pub batch_id: String,
    /// Events in it.
    pub events: i64,
    /// The JSON body to send, byte for byte.
    pub payload: Vec<u8>,
    /// Sends tried so far.
    pub attempts: i64,
}

/// Where the outbox stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SyncCounts {
    /// Events not yet in a batch.
    pub pending: i64,
    /// Events in batches formed but not yet acknowledged.
    pub in_flight: i64,
    /// Events in batches the backend refused, waiting for a supervisor.
    pub held: i64,
    /// Events the backend acknowledged.
    pub acknowledged: i64,
    /// Events kept back because their voter became confidential after the scan.
    pub withheld: i64,
    /// Held or retrying batches' last error, newest first.
    pub last_error: Option<String>,
    /// When the backend last acknowledged a batch (UTC).
    pub last_success: Option<String>,
}

impl SyncCounts {
    /// Events that still have to reach the backend.
    pub fn outstanding(&self) -> i64 {
        self.pending + self.in_flight + self.held
    }
}

impl Ledger {
    /// The next batch to send at `now`: a formed batch whose retry time has come, or
    /// else a new one from the outbox: at once when `max_age` is `None`, otherwise
    /// when [`MAX_BATCH_EVENTS`] are waiting or the oldest has waited `max_age`.
    pub fn next_sync_batch(
        &mut self,
        now: DateTime<Utc>,
        max_age: Option<std::time::Duration>,
    ) -> Result<Option<SyncBatch>> {
        let due: Option<SyncBatch> = self
            .conn
            .query_row(
                "SELECT batch_id, events, payload, attempts FROM sync_batches
                 WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
                 ORDER BY created_at LIMIT 1",
                [format_time(now)],
                |r| {
                    Ok(SyncBatch {
                        batch_id: r.get(0)?,
                        events: r.get(1)?,
                        payload: r.get(2)?,
                        attempts: r.get(3)?,
                    })
                },
            )
            .optional()?;
        if due.is_some() {
            return Ok(due);
        }
        self.form_batch(now, max_age)
    }

    fn form_batch(
        &mut self,
        now: DateTime<Utc>,
        max_age: Option<std::time::Duration>,
    ) -> Result<Option<SyncBatch>> {
        self.write(|tx, station| {
            // Batches take outbox rows in sequence order and stop where the election
            // changes, so every row up to the last batch's last row is batched: the
            // rows to look at start after it. (An index on unbatched rows would do the
            // same at the cost of a page written by every scan.)
            let cursor: i64 = tx.query_row(
                "SELECT coalesce(max(last_seq), 0) FROM sync_batches",
                [],
                |r| r.get(0),
            )?;
            // Voters who became confidential after their receipt entered the outbox
            // are never sent to a notification backend. (A county hub gets them,
            // marked, by ballot id: it never forwards them.)
            if !station.hub {
                tx.execute(
                "UPDATE outbox SET sync_batch = ?1 WHERE event_seq IN (
                     SELECT o.event_seq FROM outbox o JOIN events e ON e.seq = o.event_seq
                     JOIN ballots b ON b.ballot_pk = e.ballot_pk
                     WHERE o.event_seq > ?2 AND o.sync_batch IS NULL AND b.confidential = 1)",
                    params![WITHHELD, cursor],
                )?;
            }
            let oldest: Option<(String, String)> = tx
                .query_row(
                    "SELECT o.created_at, e.election_id FROM outbox o JOIN events e ON e.seq = o.event_seq
                     WHERE o.event_seq > ?1 AND o.sync_batch IS NULL ORDER BY o.event_seq LIMIT 1",
                    [cursor],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((oldest_at, election_id)) = oldest else {
                return Ok(None);
            };
            let mut stmt = tx.prepare(
                "SELECT o.event_seq, o.event_type, b.ballot_id, b.voter_id, e.occurred_at,
                        e.reason, e.corrects, e.election_id, e.batch_id,
                        coalesce(b.confidential, 0)
                 FROM outbox o JOIN events e ON e.seq = o.event_seq
                 LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
                 WHERE o.event_seq > ?1 AND o.sync_batch IS NULL
                 ORDER BY o.event_seq LIMIT ?2",
            )?;
            let limit = i64::try_from(MAX_BATCH_EVENTS).unwrap_or(500);
            let rows = stmt
                .query_map(params![cursor, limit], |r| {
                    let confidential: bool = r.get(9)?;
                    let seq: i64 = r.get(0)?;
                    let corrects: Option<i64> = r.get(6)?;
                    let sid = &station.station_id;
                    Ok((
                        seq,
                        PayloadEvent {
                            event_id: format!("{sid}-{seq}"),
                            kind: r.get(1)?,
                            ballot_id: r.get(2)?,
                            // Never a confidential voter's id, whoever receives it.
                            voter_id: if confidential { None } else { r.get(3)? },
                            occurred_at: r.get(4)?,
                            reason: r.get(5)?,
                            corrects: corrects.map(|c| format!("{sid}-{c}")),
                            batch: if station.hub { r.get(8)? } else { None },
                            confidential,
                        },
                        r.get::<_, String>(7)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            // One election per batch: stop at the first row of another.
            let rows: Vec<(i64, PayloadEvent)> = rows
                .into_iter()
                .take_while(|(_, _, e)| *e == election_id)
                .map(|(seq, event, _)| (seq, event))
                .collect();
            let old_enough = match max_age {
                None => true,
                Some(age) => {
                    parse_time(&oldest_at)?
                        <= now - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX)
                }
            };
            if !(old_enough || rows.len() >= MAX_BATCH_EVENTS) {
                return Ok(None);
            }
            let batch_id = uuid::Uuid::new_v4().to_string();
            let created_at = format_time(now);
            // A hub keeps each batch's audit-chain head, and so can tell when this
            // ledger later comes back without its newest rows.
            let chain_head = if station.hub {
                tx.query_row(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| {
                        Ok(ChainHead {
                            seq: r.get(0)?,
                            hash: r.get(1)?,
                        })
                    },
                )
                .optional()?
            } else {
                None
            };
            let seqs: Vec<i64> = rows.iter().map(|(seq, _)| *seq).collect();
            let payload = Payload {
                batch_id: &batch_id,
                station_id: &station.station_id,
                county: &station.county,
                election_id: &election_id,
                created_at: &created_at,
                events: rows.into_iter().map(|(_, e)| e).collect(),
                chain_head,
            }
            .to_bytes()
            .map_err(LedgerError::Sqlite)?;
            let n = i64::try_from(seqs.len()).unwrap_or(i64::MAX);
            let first_seq = seqs.first().copied().unwrap_or(0);
            let last_seq = seqs.last().copied().unwrap_or(0);
            tx.execute(
                "INSERT INTO sync_batches (batch_id, election_id, created_at, events, first_seq,
                     last_seq, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![batch_id, election_id, created_at, n, first_seq, last_seq, payload],
            )?;
            let mut mark = tx.prepare("UPDATE outbox SET sync_batch = ?1 WHERE event_seq = ?2")?;
            for seq in &seqs {
                mark.execute(params![batch_id, seq])?;
            }
            Ok(Some(SyncBatch {
                batch_id,
                events: n,
                payload,
                attempts: 0,
            }))
        })
    }

    /// Records the backend's acknowledgement of a whole batch, with the
    /// cross-station duplicates a county hub named in it.
    pub fn ack_sync_batch(
        &mut self,
        batch_id: &str,
        accepted: i64,
        duplicates: i64,
        conflicts: &[HubConflict],
    ) -> Result<()> {
        let now = format_time(Utc::now());
        self.write(|tx, station| {
            let n = tx.execute(
                "UPDATE sync_batches SET state = 'acked', acked_at = ?2, accepted = ?3,
                     duplicates = ?4, attempts = attempts + 1, last_error = NULL
                 WHERE batch_id = ?1 AND state <> 'acked'",
                params![batch_id, now, accepted, duplicates],
            )?;
            if n == 0 {
                return Ok(());
            }
            let named = super::hub::record_conflicts(tx, station, batch_id, conflicts)?;
            // The batch's rows lie between its first and last sequence numbers: a
            // range on the primary key, not a scan of the whole outbox.
            tx.execute(
                "UPDATE outbox SET acked_at = ?2
                 WHERE event_seq BETWEEN
                       (SELECT first_seq FROM sync_batches WHERE batch_id = ?1)
                   AND (SELECT last_seq FROM sync_batches WHERE batch_id = ?1)
                   AND sync_batch = ?1",
                params![batch_id, now],
            )?;
            append(
                tx,
                station,
                &AuditEntry::system(AuditEvent::SyncBatchAcked).detail(json!({
                    "batch": batch_id, "accepted": accepted, "duplicates": duplicates,
                    "conflicts": named,
                })),
            )?;
            Ok(())
        })
    }

    /// Records a failed attempt to be retried at `next_at`.
    pub fn retry_sync_batch(
        &mut self,
        batch_id: &str,
        error: &str,
        next_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_batches SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
             WHERE batch_id = ?1 AND state = 'pending'",
            params![batch_id, error, format_time(next_at)],
        )?;
        Ok(())
    }

    /// Holds a batch the backend refused; later batches go on.
    pub fn hold_sync_batch(&mut self, batch_id: &str, error: &str) -> Result<()> {
        self.write(|tx, station| {
            tx.execute(
                "UPDATE sync_batches SET state = 'held', attempts = attempts + 1, last_error = ?2
                 WHERE batch_id = ?1 AND state = 'pending'",
                params![batch_id, error],
            )?;
            append(
                tx,
                station,
                &AuditEntry::system(AuditEvent::SyncBatchHeld)
                    .detail(json!({"batch": batch_id, "error": error})),
            )?;
            Ok(())
        })
    }

    /// A supervisor sends a held batch again (same id, same events) once the cause
    /// is fixed.
    pub fn release_sync_batch(&mut self, supervisor: &User, batch_id: &str) -> Result<()> {
        self.require_supervisor(supervisor, "release a held sync batch")?;
        self.write(|tx, station| {
            let n = tx.execute(
                "UPDATE sync_batches SET state = 'pending', next_attempt_at = NULL
                 WHERE batch_id = ?1 AND state = 'held'",
                [batch_id],
            )?;
            if n == 0 {
                return Err(LedgerError::Invalid(format!(
                    "no held sync batch {batch_id}"
                )));
            }
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::SyncBatchReleased, Some(supervisor))
                    .detail(json!({ "batch": batch_id })),
            )?;
            Ok(())
        })
    }

    /// Records a change of sync transport (audited): `hub` when it is a county hub,
    /// which changes what the batches carry (confidential receipts by ballot id, the
    /// audit-chain head, the tray) from the next batch formed.
    pub fn record_sync_setup(&mut self, by: &User, destination: &str, hub: bool) -> Result<()> {
        by.require_admin("set up the sync")?;
        self.write(|tx, station| {
            tx.execute("UPDATE station SET hub = ?1 WHERE id = 1", [hub])?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::SyncConfigured, Some(by))
                    .detail(json!({ "destination": destination, "hub": hub })),
            )?;
            Ok(())
        })?;
        self.station.hub = hub;
        Ok(())
    }

    /// The held batches: id, events, error.
    pub fn held_sync_batches(&self) -> Result<Vec<(String, i64, Option<String>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT batch_id, events, last_error FROM sync_batches WHERE state = 'held' ORDER BY created_at",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// When the next formed batch may be retried, if one is waiting.
    pub fn next_sync_retry(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM sync_batches WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        at.flatten().as_deref().map(parse_time).transpose()
    }

    /// Where the outbox stands.
    pub fn sync_counts(&self) -> Result<SyncCounts> {
        let (pending, in_flight, held, acknowledged, withheld): (i64, i64, i64, i64, i64) =
            self.conn.query_row(
                "SELECT
                   coalesce(sum(o.sync_batch IS NULL), 0),
                   coalesce(sum(s.state = 'pending'), 0),
                   coalesce(sum(s.state = 'held'), 0),
                   coalesce(sum(o.acked_at IS NOT NULL), 0),
                   coalesce(sum(o.sync_batch = 'withheld'), 0)
                 FROM outbox o LEFT JOIN sync_batches s ON s.batch_id = o.sync_batch",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        let last_error: Option<String> = self
            .conn
            .query_row(
                "SELECT last_error FROM sync_batches WHERE state <> 'acked' AND last_error IS NOT NULL
                 ORDER BY created_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let last_success: Option<String> =
            self.conn
                .query_row("SELECT max(acked_at) FROM sync_batches", [], |r| r.get(0))?;
        Ok(SyncCounts {
            pending,
            in_flight,
            held,
            acknowledged,
            withheld,
            last_error,
            last_success,
        })
    }
}
