//! The ledger side of the nightly files: the day's events with their ballot's ids.

use rusqlite::params;
use serde_json::json;

use super::audit_log::AuditEntry;
use super::{Ledger, Result, User};
use crate::audit::AuditEvent;

/// One event as the nightly file shows it (ids only, never names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayEvent {
    /// Ledger sequence number.
    pub seq: i64,
    /// Station.
    pub station_id: String,
    /// Election.
    pub election_id: String,
    /// The ballot's id, when the event concerns a known ballot.
    pub ballot_id: Option<String>,
    /// The voter's id, likewise.
    pub voter_id: Option<String>,
    /// scan, undeliverable, needs_attention or correction.
    pub kind: String,
    /// The intake outcome, for scans.
    pub outcome: Option<String>,
    /// When (UTC).
    pub occurred_at: String,
    /// The batch (tray), if any.
    pub batch: Option<i64>,
    /// The reason, if any.
    pub reason: Option<String>,
    /// The event a correction reverses, or the receipt a hub entry is about.
    pub corrects: Option<i64>,
    /// How the entry's id ends after the sequence number: nothing for an event,
    /// `-conflict` and `-resolved` for the county hub's entries about one, which
    /// are not events of their own.
    pub suffix: &'static str,
}

impl Ledger {
    /// Calls `f` for every event with `start <= occurred_at < end`, in ledger order.
    /// The events table carries no time index (it would cost every scan a page), so
    /// this reads the table once from start to end.
    pub fn for_each_day_event(
        &self,
        start: &str,
        end: &str,
        mut f: impl FnMut(&DayEvent) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT e.seq, e.station_id, e.election_id, b.ballot_id, b.voter_id, e.kind, e.outcome,
                    e.occurred_at, e.batch_id, e.reason, e.corrects
             FROM events e LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
             WHERE e.occurred_at >= ?1 AND e.occurred_at < ?2 ORDER BY e.seq",
        )?;
        let mut rows = stmt.query(params![start, end])?;
        while let Some(r) = rows.next()? {
            f(&DayEvent {
                seq: r.get(0)?,
                station_id: r.get(1)?,
                election_id: r.get(2)?,
                ballot_id: r.get(3)?,
                voter_id: r.get(4)?,
                kind: r.get(5)?,
                outcome: r.get(6)?,
                occurred_at: r.get(7)?,
                batch: r.get(8)?,
                reason: r.get(9)?,
                corrects: r.get(10)?,
                suffix: "",
            })?;
        }
        Ok(())
    }

    /// Calls `f` for the county hub's entries of the day, after the events: each
    /// cross-station duplicate reported (`hub_conflict`, its reason naming the first
    /// receipt) and each resolution written (`hub_conflict_resolved`, the note), by
    /// when that happened. A conflict reported after its scan's day is in the file of
    /// the day it was reported, so a day's file never changes once the day is over.
    pub fn for_each_day_hub_entry(
        &self,
        start: &str,
        end: &str,
        mut f: impl FnMut(&DayEvent) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM (
               SELECT c.event_seq, e.station_id, e.election_id, b.ballot_id, b.voter_id,
                      'hub_conflict' AS kind, c.reported_at AS at, e.batch_id,
                      'first received at station ' || c.first_station
                        || coalesce(' batch ' || c.first_tray, '') || ' at ' || c.first_at
                        || ' (' || c.first_event_id || ')' AS reason,
                      0 AS part
               FROM hub_conflicts c JOIN events e ON e.seq = c.event_seq
               LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
               WHERE c.reported_at >= ?1 AND c.reported_at < ?2
               UNION ALL
               SELECT r.event_seq, e.station_id, e.election_id, b.ballot_id, b.voter_id,
                      'hub_conflict_resolved', r.resolved_at, e.batch_id, r.note, 1
               FROM hub_conflict_resolutions r JOIN events e ON e.seq = r.event_seq
               LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
               WHERE r.resolved_at >= ?1 AND r.resolved_at < ?2)
             ORDER BY at, event_seq, part",
        )?;
        let mut rows = stmt.query(params![start, end])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let kind: String = r.get(5)?;
            f(&DayEvent {
                seq,
                station_id: r.get(1)?,
                election_id: r.get(2)?,
                ballot_id: r.get(3)?,
                voter_id: r.get(4)?,
                suffix: if kind == "hub_conflict" {
                    "-conflict"
                } else {
                    "-resolved"
                },
                kind,
                outcome: None,
                occurred_at: r.get(6)?,
                batch: r.get(7)?,
                reason: r.get(8)?,
                corrects: Some(seq),
            })?;
        }
        Ok(())
    }

    /// Audits an export.
    pub fn record_export(
        &mut self,
        file: &str,
        sha256: &str,
        rows: u64,
        unchanged: bool,
        by: Option<&User>,
    ) -> Result<()> {
        self.audit_now(
            &AuditEntry::user(AuditEvent::ExportWritten, by).detail(json!({
                "file": file, "sha256": sha256, "rows": rows, "unchanged": unchanged,
            })),
        )?;
        Ok(())
    }
}
