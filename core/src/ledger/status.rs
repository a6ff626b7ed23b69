//! The station's status summary (`ballot-intake status`).

use serde::Serialize;
use std::collections::BTreeMap;

use super::{Election, Ledger, Result, SCHEMA_VERSION, SyncCounts};
use crate::intake::Outcome;

/// An open batch, as listed in the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenBatch {
    /// Batch number.
    pub batch: i64,
    /// Who opened it.
    pub opened_by: String,
    /// When.
    pub opened_at: String,
    /// Envelopes accepted into it so far.
    pub accepted: i64,
}

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Station id.
    pub station: String,
    /// County.
    pub county: String,
    /// The county's time zone.
    pub timezone: String,
    /// A demo station (nothing it records is ever sent).
    pub demo: bool,
    /// The active election.
    pub election: Election,
    /// Ballots of the active election loaded from mail ballot files.
    pub ballots: i64,
    /// Scans of the active election per outcome (every outcome listed, zeros too).
    /// Reversed scans are still counted here: this is what happened at the station.
    pub outcomes: BTreeMap<&'static str, i64>,
    /// Scans reversed by a correction.
    pub reversed: i64,
    /// Open batches of the active election.
    pub open_batches: Vec<OpenBatch>,
    /// Events that still have to reach the notification backend.
    pub outbox_pending: i64,
    /// The sync's counts: pending, in flight, held, acknowledged, last error.
    pub sync: SyncCounts,
    /// The county hub: whether the sync goes to one, its cross-station duplicates
    /// (open and resolved) and the other stations' receipts known here.
    pub hub: super::HubCounts,
    /// The ledger's schema version.
    pub schema_version: i64,
}

impl Ledger {
    /// Summarizes the active election's state.
    pub fn status(&self) -> Result<Status> {
        let election = self.active_election()?;
        let id = &election.election_id;
        let ballots: i64 = self.conn.query_row(
            "SELECT count(*) FROM ballots WHERE election_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let mut outcomes: BTreeMap<&'static str, i64> =
            Outcome::ALL.iter().map(|o| (o.as_str(), 0)).collect();
        let mut stmt = self.conn.prepare(
            "SELECT outcome, count(*) FROM events
             WHERE election_id = ?1 AND kind = 'scan' GROUP BY outcome",
        )?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (outcome, n) in rows {
            if let Ok(o) = outcome.parse::<Outcome>() {
                outcomes.insert(o.as_str(), n);
            }
        }
        let reversed: i64 = self.conn.query_row(
            "SELECT count(*) FROM events WHERE election_id = ?1 AND kind = 'correction'",
            [id],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT b.batch_id, u.name, b.opened_at FROM batches b JOIN users u ON u.user_id = b.opened_by
             WHERE b.election_id = ?1 AND b.status = 'open' ORDER BY b.batch_id",
        )?;
        let open = stmt
            .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
        let open_batches = open
            .into_iter()
            .map(|(batch, opened_by, opened_at)| {
                Ok(OpenBatch {
                    accepted: super::batches::accepted_in_batch(&self.conn, batch)?,
                    batch,
                    opened_by,
                    opened_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sync = self.sync_counts()?;
        Ok(Status {
            station: self.station.station_id.clone(),
            county: self.station.county.clone(),
            timezone: self.station.timezone.name().to_string(),
            demo: self.station.demo,
            election,
            ballots,
            outcomes,
            reversed,
            open_batches,
            outbox_pending: sync.outstanding(),
            sync,
            hub: self.hub_counts()?,
            schema_version: SCHEMA_VERSION,
        })
    }
}
