//! The ledger side of a county hub: the cross-station duplicates the hub named
//! (each a new entry, audited, resolved by a supervisor with a note), and the
//! county's receipts from the hub's feed, which the scan consults so that an
//! envelope received at another station is a duplicate here without the network.

use chrono::Utc;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::{Ledger, LedgerError, Result, Station, User, format_time};
use crate::audit::AuditEvent;
use crate::sync::hub::{FeedPage, HubConflict};

/// A cross-station duplicate, as the station's supervisors see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictRow {
    /// This station's event (the duplicate receipt).
    pub event_seq: i64,
    /// The ballot.
    pub ballot_id: String,
    /// The tray (intake batch) the envelope is in here.
    pub batch: Option<i64>,
    /// When it was scanned here (UTC).
    pub scanned_at: String,
    /// The station that received it first.
    pub first_station: String,
    /// Its tray there.
    pub first_batch: Option<i64>,
    /// When it was received there (UTC).
    pub first_at: String,
    /// When the hub told this station.
    pub reported_at: String,
    /// The resolution's note, once a supervisor resolved it.
    pub resolution: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
}

/// The hub's part of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HubCounts {
    /// The sync goes to a county hub.
    pub enabled: bool,
    /// Cross-station duplicates waiting for a supervisor.
    pub conflicts_open: i64,
    /// Resolved ones.
    pub conflicts_resolved: i64,
    /// Receipts of other stations known here.
    pub county_receipts: i64,
    /// When the feed was last read (UTC).
    pub feed_pulled_at: Option<String>,
}

/// Records the conflicts a hub's acknowledgement of `batch_id` named: each once
/// (a retried batch names them again), each audited. A conflict naming an event that
/// is not this station's, or not in the batch, is logged and ignored.
pub(super) fn record_conflicts(
    tx: &Transaction<'_>,
    station: &Station,
    batch_id: &str,
    conflicts: &[HubConflict],
) -> Result<usize> {
    let prefix = format!("{}-", station.station_id);
    let now = format_time(Utc::now());
    let mut recorded = 0;
    for c in conflicts {
        let seq = c
            .event_id
            .strip_prefix(&prefix)
            .and_then(|s| s.parse::<i64>().ok());
        let in_batch = match seq {
            Some(seq) => tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE event_seq = ?1 AND sync_batch = ?2
                                      AND event_type = 'received')",
                )?
                .query_row(params![seq, batch_id], |r| r.get::<_, bool>(0))?,
            None => false,
        };
        let Some(seq) = seq.filter(|_| in_batch) else {
            log::warn!(
                "the hub named a conflict for event {} that is not a receipt of batch {batch_id}; ignored",
                c.event_id
            );
            continue;
        };
        let added = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO hub_conflicts (event_seq, sync_batch, first_station,
                     first_tray, first_at, first_event_id, reported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                seq,
                batch_id,
                c.first.station_id,
                c.first.batch,
                c.first.occurred_at,
                c.first.event_id,
                now
            ])?;
        if added == 0 {
            continue;
        }
        let election: String = tx.query_row(
            "SELECT election_id FROM events WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )?;
        append(
            tx,
            station,
            &AuditEntry::system(AuditEvent::HubConflictReported)
                .election(&election)
                .detail(json!({
                    "event": seq, "ballot": c.ballot_id, "sync_batch": batch_id,
                    "first_station": c.first.station_id, "first_batch": c.first.batch,
                    "first_at": c.first.occurred_at, "first_event": c.first.event_id,
                })),
        )?;
        recorded += 1;
    }
    Ok(recorded)
}

impl Ledger {
    /// The cross-station duplicates of the active election, open ones first (oldest
    /// first), then the resolved.
    pub fn hub_conflicts(&self) -> Result<Vec<ConflictRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.event_seq, b.ballot_id, e.batch_id, e.occurred_at, c.first_station,
                    c.first_tray, c.first_at, c.reported_at, r.note, u.name
             FROM hub_conflicts c
             JOIN events e ON e.seq = c.event_seq
             JOIN elections el ON el.election_id = e.election_id AND el.active = 1
             LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
             LEFT JOIN hub_conflict_resolutions r ON r.event_seq = c.event_seq
             LEFT JOIN users u ON u.user_id = r.user_id
             ORDER BY r.event_seq IS NOT NULL, c.event_seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ConflictRow {
                    event_seq: r.get(0)?,
                    ballot_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    batch: r.get(2)?,
                    scanned_at: r.get(3)?,
                    first_station: r.get(4)?,
                    first_batch: r.get(5)?,
                    first_at: r.get(6)?,
                    reported_at: r.get(7)?,
                    resolution: r.get(8)?,
                    resolved_by: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A supervisor resolves a cross-station duplicate (the envelope pulled from its
    /// tray, and what was done with it), with a note. A new entry; the conflict stays.
    pub fn resolve_hub_conflict(
        &mut self,
        supervisor: &User,
        event_seq: i64,
        note: &str,
    ) -> Result<()> {
        self.require_supervisor(supervisor, "resolve a cross-station duplicate")?;
        let note = note.trim();
        if note.is_empty() {
            return Err(LedgerError::Invalid(
                "say what was done with the envelope: a resolution needs a note".into(),
            ));
        }
        let now = format_time(Utc::now());
        self.write(|tx, station| {
            let known: Option<bool> = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_conflict_resolutions WHERE event_seq = ?1)
                     FROM hub_conflicts WHERE event_seq = ?1",
                    [event_seq],
                    |r| r.get(0),
                )
                .optional()?;
            match known {
                None => {
                    return Err(LedgerError::Invalid(format!(
                        "event {event_seq} is not a cross-station duplicate the hub reported"
                    )));
                }
                Some(true) => {
                    return Err(LedgerError::Invalid(format!(
                        "the duplicate of event {event_seq} is already resolved"
                    )));
                }
                Some(false) => {}
            }
            tx.execute(
                "INSERT INTO hub_conflict_resolutions (event_seq, user_id, resolved_at, note)
                 VALUES (?1, ?2, ?3, ?4)",
                params![event_seq, supervisor.user_id, now, note],
            )?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::HubConflictResolved, Some(supervisor))
                    .detail(json!({ "event": event_seq, "note": note })),
            )?;
            Ok(())
        })
    }

    /// Where the hub's feed was read up to.
    pub fn feed_cursor(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT cursor FROM hub_feed WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| crate::sync::hub::FEED_START.to_string()))
    }

    /// Keeps a page of the hub's feed: the receipts made at other stations (this
    /// station's own are in its ledger already), and the cursor, in one transaction.
    pub fn take_feed(&mut self, page: &FeedPage) -> Result<usize> {
        let now = format_time(Utc::now());
        self.write(|tx, station| {
            let mut kept = 0;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO county_receipts (election_id, ballot_id, station_id,
                         tray, occurred_at, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                // A released receipt (its station corrected it) is dropped from the
                // copy: the ballot is free here too. The copy is a cache of the
                // hub's, not a record of this station's.
                let mut drop = tx.prepare_cached(
                    "DELETE FROM county_receipts
                     WHERE election_id = ?1 AND ballot_id = ?2 AND event_id = ?3",
                )?;
                for r in page
                    .receipts
                    .iter()
                    .filter(|r| r.station_id != station.station_id)
                {
                    if r.released {
                        drop.execute(params![r.election_id, r.ballot_id, r.event_id])?;
                        continue;
                    }
                    kept += insert.execute(params![
                        r.election_id,
                        r.ballot_id,
                        r.station_id,
                        r.batch,
                        r.occurred_at,
                        r.event_id
                    ])?;
                }
            }
            tx.execute(
                "INSERT INTO hub_feed (id, cursor, pulled_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor,
                     pulled_at = excluded.pulled_at",
                params![page.next, now],
            )?;
            Ok(kept)
        })
    }

    /// The hub's part of `status`.
    pub fn hub_counts(&self) -> Result<HubCounts> {
        let (open, resolved, receipts): (i64, i64, i64) = self.conn.query_row(
            "SELECT
               (SELECT count(*) FROM hub_conflicts c
                  WHERE NOT EXISTS (SELECT 1 FROM hub_conflict_resolutions r WHERE r.event_seq = c.event_seq)),
               (SELECT count(*) FROM hub_conflict_resolutions),
               (SELECT count(*) FROM county_receipts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let pulled: Option<String> = self
            .conn
            .query_row("SELECT pulled_at FROM hub_feed WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(HubCounts {
            enabled: self.station.hub,
            conflicts_open: open,
            conflicts_resolved: resolved,
            county_receipts: receipts,
            feed_pulled_at: pulled,
        })
    }
}
