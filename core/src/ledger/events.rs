//! The append-only event rows (scans, flags, corrections) and their digests.
//!
//! Each event's audit row stores the SHA-256 of the event's canonical encoding, so an
//! event edited behind the triggers' back no longer matches the chain that vouches for it.

use rusqlite::{Row, Transaction, params};
use serde::Serialize;

use super::Result;
use crate::audit::Canonical;

/// One row of the `events` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// Station sequence number, from 1.
    pub seq: i64,
    /// The election it belongs to.
    pub election_id: String,
    /// scan, undeliverable, needs_attention or correction.
    pub kind: String,
    /// receive or undeliverable (for scans).
    pub mode: Option<String>,
    /// The bytes the scanner sent (without the line terminator).
    #[serde(skip)]
    pub raw: Option<Vec<u8>>,
    /// The barcode after trimming, when well-formed.
    pub normalized: Option<String>,
    /// The intake outcome (scans only).
    pub outcome: Option<String>,
    /// The ballot it concerns, if one matched.
    pub ballot_pk: Option<i64>,
    /// The station that recorded it.
    pub station_id: String,
    /// The user who recorded it.
    pub user_id: i64,
    /// The batch it went into.
    pub batch_id: Option<i64>,
    /// Where it came from (stdin, keyboard, serial:/dev/ttyACM0, keyed ...).
    pub source: String,
    /// The AIM symbology identifier the scanner sent (`]C1` ...), if any.
    pub symbology: Option<String>,
    /// When (UTC).
    pub occurred_at: String,
    /// Reason (invalid barcode, correction reason, USPS endorsement ...).
    pub reason: Option<String>,
    /// The event a correction reverses.
    pub corrects: Option<i64>,
}

/// The columns of `events` in [`EventRow`] order.
pub(crate) const EVENT_COLUMNS: &str = "seq, election_id, kind, mode, raw, normalized, outcome, \
     ballot_pk, station_id, user_id, batch_id, source, symbology, occurred_at, reason, corrects";

impl EventRow {
    /// SHA-256 of the canonical encoding of every column.
    pub fn digest(&self) -> String {
        Canonical::new("ballot-intake/event/v1")
            .int(Some(self.seq))
            .text(Some(&self.election_id))
            .text(Some(&self.kind))
            .text(self.mode.as_deref())
            .bytes(self.raw.as_deref())
            .text(self.normalized.as_deref())
            .text(self.outcome.as_deref())
            .int(self.ballot_pk)
            .text(Some(&self.station_id))
            .int(Some(self.user_id))
            .int(self.batch_id)
            .text(Some(&self.source))
            .text(self.symbology.as_deref())
            .text(Some(&self.occurred_at))
            .text(self.reason.as_deref())
            .int(self.corrects)
            .sha256_hex()
    }

    /// Reads a row selected with [`EVENT_COLUMNS`].
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
        Ok(EventRow {
            seq: r.get(0)?,
            election_id: r.get(1)?,
            kind: r.get(2)?,
            mode: r.get(3)?,
            raw: r.get(4)?,
            normalized: r.get(5)?,
            outcome: r.get(6)?,
            ballot_pk: r.get(7)?,
            station_id: r.get(8)?,
            user_id: r.get(9)?,
            batch_id: r.get(10)?,
            source: r.get(11)?,
            symbology: r.get(12)?,
            occurred_at: r.get(13)?,
            reason: r.get(14)?,
            corrects: r.get(15)?,
        })
    }

    /// Inserts this row (its `seq` is assigned by SQLite and written back) and returns
    /// its digest.
    pub(crate) fn insert(&mut self, tx: &Transaction<'_>) -> Result<String> {
        tx.prepare_cached(
            "INSERT INTO events (election_id, kind, mode, raw, normalized, outcome, ballot_pk,
                 station_id, user_id, batch_id, source, symbology, occurred_at, reason, corrects)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            self.election_id,
            self.kind,
            self.mode,
            self.raw,
            self.normalized,
            self.outcome,
            self.ballot_pk,
            self.station_id,
            self.user_id,
            self.batch_id,
            self.source,
            self.symbology,
            self.occurred_at,
            self.reason,
            self.corrects
        ])?;
        self.seq = tx.last_insert_rowid();
        Ok(self.digest())
    }
}
