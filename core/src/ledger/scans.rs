//! Recording a scan: the lookup, the decision and the three inserts (event, outbox,
//! audit) happen in one IMMEDIATE transaction, so two scanners or two processes can
//! never both accept one envelope, and the outcome exists only once it is committed.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::events::{EVENT_COLUMNS, EventRow};
use super::{BatchStatus, Ledger, LedgerError, Result, User, format_time, parse_time};
use crate::audit::AuditEvent;
use crate::barcode::Barcode;
use crate::intake::{self, BallotFacts, BallotStatus, Found, Outcome, Receipt};

/// What the clerk is told about one scan, after it committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanResult {
    /// The barcode as read (lossy UTF-8 of the raw bytes).
    pub barcode: String,
    /// The outcome.
    pub outcome: Outcome,
    /// The matched ballot's id, if any.
    pub ballot_id: Option<String>,
    /// The batch it was recorded in.
    pub batch: i64,
    /// The ledger sequence number of the scan.
    pub seq: i64,
    /// When it was scanned (UTC).
    pub at: String,
    /// Where it came from.
    pub source: String,
    /// The AIM symbology identifier the scanner sent, if any.
    pub symbology: Option<String>,
    /// Why it is invalid, when it is.
    pub reason: Option<String>,
    /// The first receipt, for a duplicate.
    pub first_receipt: Option<Receipt>,
    /// What the clerk does with the envelope.
    pub instruction: String,
    /// Whether the voter is confidential (their name must be masked).
    pub confidential: bool,
}

/// One code to record, as the scanner delivered it.
#[derive(Debug, Clone, Copy)]
pub struct ScanInput<'a> {
    /// The code's bytes (line terminator removed).
    pub raw: &'a [u8],
    /// Where it came from (`stdin`, `serial:/dev/ttyACM0`, `usb:0c2e:0b61` ...).
    pub source: &'a str,
    /// The AIM symbology identifier the scanner sent, if any.
    pub symbology: Option<&'a str>,
    /// When the scanner delivered it.
    pub at: DateTime<Utc>,
    /// The length the code had before the reader cut it to what it keeps (a line
    /// without an end, a stuck scanner), if it did: recorded with the invalid scan.
    pub original_len: Option<u64>,
}

/// The most bytes of one scan the ledger stores: anything longer than a barcode
/// ([`crate::barcode::MAX_BARCODE_LEN`]) is invalid, and four times that is
/// enough to see what it was. The event's reason gives the length it had.
pub const MAX_STORED_RAW: usize = 4 * crate::barcode::MAX_BARCODE_LEN;

/// The result of reversing an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reversal {
    /// The correction entry's sequence number.
    pub seq: i64,
    /// The event it reverses.
    pub corrects: i64,
    /// Why.
    pub reason: String,
}

pub(crate) struct Hit {
    pub(crate) ballot_pk: i64,
    pub(crate) ballot_id: String,
    pub(crate) status: BallotStatus,
    pub(crate) uocava: bool,
    pub(crate) confidential: bool,
    pub(crate) voter_id: String,
}

const HIT_COLUMNS: &str = "ballot_pk, ballot_id, status, uocava, confidential, voter_id";

type HitRow = (i64, String, String, bool, bool, String);

fn hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<HitRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_hit(row: HitRow) -> Result<Hit> {
    Ok(Hit {
        ballot_pk: row.0,
        ballot_id: row.1,
        status: row.2.parse().map_err(LedgerError::Sqlite)?,
        uocava: row.3,
        confidential: row.4,
        voter_id: row.5,
    })
}

/// The digest of what decides whose receipt a scan is (the ballot's key, id, voter
/// and confidential flag): the scan's audit row vouches for it (and an import that
/// later changes a scanned ballot vouches again), so that `verify` names an edit
/// that would make the receipt another voter's, or send a confidential voter's.
pub(crate) fn ballot_record_digest(
    ballot_pk: i64,
    ballot_id: &str,
    voter_id: &str,
    confidential: bool,
) -> String {
    super::audit_log::record_digest(&[
        &ballot_pk.to_string(),
        ballot_id,
        voter_id,
        if confidential { "1" } else { "0" },
    ])
}

/// Which of a ballot's two envelopes an IMb is matched against: the return
/// envelope (receiving) or the outbound packet (undeliverable returns). Never both:
/// the two must not be confused (Denver, 2010).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// The voter's return envelope.
    Return,
    /// The packet mailed to the voter.
    Outbound,
}

/// Finds the ballot a barcode names in `election_id`, or in any election when `None`.
/// An IMb is matched by its tracking code first, then as a ballot id of that length.
pub(crate) fn find(
    tx: &Connection,
    election_id: Option<&str>,
    code: &Barcode,
    text: &str,
    envelope: Envelope,
) -> Result<Option<Hit>> {
    let by_tracking = match envelope {
        Envelope::Return => format!(
            "SELECT {HIT_COLUMNS} FROM ballots WHERE return_imb IS NOT NULL AND return_tracking = ?1
               AND (?2 IS NULL OR election_id = ?2) LIMIT 1"
        ),
        Envelope::Outbound => format!(
            "SELECT {HIT_COLUMNS} FROM ballots WHERE outbound_imb IS NOT NULL AND outbound_tracking = ?1
               AND (?2 IS NULL OR election_id = ?2) LIMIT 1"
        ),
    };
    let by_id = format!(
        "SELECT {HIT_COLUMNS} FROM ballots WHERE ballot_id = ?1
           AND (?2 IS NULL OR election_id = ?2) LIMIT 1"
    );
    if let Barcode::Imb(imb) = code {
        let row = tx
            .prepare_cached(&by_tracking)?
            .query_row(params![imb.tracking, election_id], hit)
            .optional()?;
        if let Some(row) = row {
            return to_hit(row).map(Some);
        }
    }
    tx.prepare_cached(&by_id)?
        .query_row(params![text, election_id], hit)
        .optional()?
        .map(to_hit)
        .transpose()
}

/// The first receipt of a ballot that no correction reversed.
pub(crate) fn first_receipt(tx: &Transaction<'_>, ballot_pk: i64) -> Result<Option<Receipt>> {
    let row: Option<(i64, String, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT e.seq, e.occurred_at, e.station_id, e.batch_id FROM events e
             WHERE e.ballot_pk = ?1 AND e.kind = 'scan' AND e.outcome IN ('accepted', 'late')
               AND NOT EXISTS (SELECT 1 FROM events c WHERE c.corrects = e.seq)
             ORDER BY e.seq LIMIT 1",
        )?
        .query_row([ballot_pk], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(event_seq, at, station, batch)| {
        Ok(Receipt {
            event_seq,
            at: parse_time(&at)?,
            station,
            batch,
        })
    })
    .transpose()
}

/// The county's first receipt of a ballot at another station, from the hub's feed
/// (`county_receipts`): its `event_seq` is that station's, parsed from the event id.
fn county_receipt(
    tx: &Transaction<'_>,
    election_id: &str,
    ballot_id: &str,
) -> Result<Option<Receipt>> {
    let row: Option<(String, String, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT event_id, occurred_at, station_id, tray FROM county_receipts
             WHERE election_id = ?1 AND ballot_id = ?2",
        )?
        .query_row([election_id, ballot_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(event_id, at, station, batch)| {
        let event_seq = event_id
            .rsplit('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(Receipt {
            event_seq,
            at: parse_time(&at)?,
            station,
            batch,
        })
    })
    .transpose()
}

impl Ledger {
    /// Whether `raw` reads as a return envelope: a ballot id of any election in
    /// this ledger, or an Intelligent Mail barcode. What tells an envelope from a
    /// container's label scanned on the open-batch form.
    pub fn is_return_envelope(&self, raw: &[u8]) -> Result<bool> {
        let election = self.active_election()?;
        Ok(match intake::read_barcode(raw, election.check_digit) {
            Err(_) => false,
            Ok((_, Barcode::Imb(_))) => true,
            Ok((normalized, code)) => {
                find(&self.conn, None, &code, &normalized, Envelope::Return)?.is_some()
            }
        })
    }

    /// The newest `limit` scans of `batch_id`, newest first: what the scan screen
    /// lists when a clerk signs back in to a batch already under way. The first
    /// receipt of a duplicate is not looked up again (the list shows outcomes).
    pub fn batch_scans(&self, batch_id: i64, limit: usize) -> Result<Vec<ScanResult>> {
        let tz = self.station.timezone;
        let mut stmt = self.conn.prepare(
            "SELECT e.seq, e.raw, e.outcome, b.ballot_id, e.source, e.symbology, e.occurred_at,
                    e.reason, COALESCE(b.confidential, 0)
               FROM events e LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
              WHERE e.batch_id = ?1 AND e.kind = 'scan'
              ORDER BY e.seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![batch_id, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, bool>(8)?,
                ))
            },
        )?;
        rows.map(|row| {
            let (seq, raw, outcome, ballot_id, source, symbology, at, reason, confidential) = row?;
            let outcome: Outcome = outcome
                .parse()
                .map_err(|e: String| LedgerError::Sqlite(format!("event {seq}: {e}")))?;
            Ok(ScanResult {
                barcode: String::from_utf8_lossy(&raw).into_owned(),
                outcome,
                ballot_id,
                batch: batch_id,
                seq,
                at,
                source,
                symbology,
                reason,
                instruction: intake::instruction(outcome, None, tz),
                first_receipt: None,
                confidential,
            })
        })
        .collect()
    }

    /// Refuses a scan into an active election that has no ballots yet, judged on a
    /// read snapshot before the write lock is asked for. Without a file every
    /// envelope would be recorded `unknown`, a wrong record of an envelope the
    /// county did mail; and a first import holds the write lock for its whole copy,
    /// so this is also what answers a scan at once while one runs.
    fn require_ballots(&self) -> Result<()> {
        // One indexed lookup on the hot path (no election row built here; the
        // write transaction reads the election it records under).
        let (election_id, any): (String, bool) = self
            .conn
            .prepare_cached(
                "SELECT e.election_id,
                        EXISTS (SELECT 1 FROM ballots b WHERE b.election_id = e.election_id)
                   FROM elections e WHERE e.active = 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(LedgerError::NoActiveElection)?;
        if any {
            Ok(())
        } else {
            Err(LedgerError::NoBallots(election_id))
        }
    }

    /// Records one receive-mode scan into `batch_id` for `user` and returns its
    /// outcome once committed.
    pub fn record_scan(
        &mut self,
        user: &User,
        batch_id: i64,
        input: &ScanInput<'_>,
    ) -> Result<ScanResult> {
        let ScanInput {
            raw,
            source,
            symbology,
            at,
            original_len,
        } = *input;
        let tz = self.station.timezone;
        self.require_ballots()?;
        self.write(|tx, station| {
            let election = active_election(tx)?;
            // Only the three facts needed: the full batch record counts its scans,
            // which would make every scan slower as the batch grows.
            let (status, batch_election, received): (String, String, Option<String>) = tx
                .prepare_cached(
                    "SELECT status, election_id, received_at FROM batches WHERE batch_id = ?1",
                )?
                .query_row([batch_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .ok_or_else(|| LedgerError::Batch(format!("no batch {batch_id} in this ledger")))?;
            if status != BatchStatus::Open.as_str() {
                return Err(LedgerError::Batch(format!(
                    "batch {batch_id} is {status}; open a batch before scanning"
                )));
            }
            if batch_election != election.election_id {
                return Err(LedgerError::Batch(format!(
                    "batch {batch_id} belongs to election {batch_election}, but {} is active; close it and open a new batch",
                    election.election_id
                )));
            }
            let deadlines = election.deadlines(station)?;
            // The deadline is judged on when the county received the envelope: the
            // container's recorded receipt time if there is one, else the scan time.
            let received_at = match received.as_deref().map(parse_time).transpose()? {
                Some(r) if r < at => r,
                _ => at,
            };
            let read = intake::read_barcode(raw, election.check_digit);
            let length = original_len.unwrap_or(raw.len() as u64);
            let (outcome, normalized, hit, receipt, reason) = match read {
                Err(why) if length > MAX_STORED_RAW as u64 => {
                    let why = format!(
                        "{}; {length} bytes, the first {MAX_STORED_RAW} stored",
                        why.describe()
                    );
                    (Outcome::Invalid, None, None, None, Some(why))
                }
                Err(why) => (Outcome::Invalid, None, None, None, Some(why.describe().to_string())),
                Ok((normalized, code)) => {
                    let hit = find(
                        tx,
                        Some(&election.election_id),
                        &code,
                        &normalized,
                        Envelope::Return,
                    )?;
                    let found = match &hit {
                        Some(h) => Found::Ballot(BallotFacts {
                            status: h.status,
                            uocava: h.uocava,
                            // This station's own receipt, else (with a county hub)
                            // another station's from the feed.
                            first_receipt: match first_receipt(tx, h.ballot_pk)? {
                                None if station.hub => {
                                    county_receipt(tx, &election.election_id, &h.ballot_id)?
                                }
                                local => local,
                            },
                        }),
                        None if find(tx, None, &code, &normalized, Envelope::Return)?.is_some() => {
                            Found::OtherElection
                        }
                        None => Found::Nothing,
                    };
                    let receipt = match &found {
                        Found::Ballot(f) => f.first_receipt.clone(),
                        _ => None,
                    };
                    (
                        intake::decide(&found, received_at, &deadlines),
                        Some(normalized),
                        hit,
                        receipt,
                        None,
                    )
                }
            };
            let mut event = EventRow {
                seq: 0,
                election_id: election.election_id.clone(),
                kind: "scan".into(),
                mode: Some("receive".into()),
                raw: Some(raw[..raw.len().min(MAX_STORED_RAW)].to_vec()),
                normalized,
                outcome: Some(outcome.as_str().into()),
                ballot_pk: hit.as_ref().map(|h| h.ballot_pk),
                station_id: station.station_id.clone(),
                user_id: user.user_id,
                batch_id: Some(batch_id),
                source: source.to_string(),
                symbology: symbology.map(str::to_string),
                occurred_at: format_time(at),
                reason: reason.clone(),
                corrects: None,
            };
            let digest = event.insert(tx)?;
            let confidential = hit.as_ref().is_some_and(|h| h.confidential);
            // Confidential voters' receipts never reach the notification backend,
            // and nothing a demo station records leaves it. A county hub gets
            // confidential receipts by ballot id (it never forwards them), so that
            // the county catches their duplicates too.
            let queued =
                outcome == Outcome::Accepted && (!confidential || station.hub) && !station.demo;
            if queued {
                tx.prepare_cached(
                    "INSERT INTO outbox (event_seq, event_type, created_at) VALUES (?1, 'received', ?2)",
                )?
                .execute(params![event.seq, event.occurred_at])?;
            }
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::ScanRecorded, Some(user))
                    .election(&election.election_id)
                    .subject(event.seq, digest)
                    // Whether the receipt entered the outbox is kept with the scan:
                    // the voter may join or leave the confidential program later,
                    // and `verify` must judge the outbox by what was true then.
                    .detail({
                        let mut detail = json!({"outcome": outcome.as_str(), "batch": batch_id});
                        if outcome == Outcome::Accepted {
                            detail["queued"] = json!(queued);
                        }
                        if let Some(h) = &hit {
                            detail["ballot_record"] = json!(ballot_record_digest(
                                h.ballot_pk,
                                &h.ballot_id,
                                &h.voter_id,
                                h.confidential
                            ));
                        }
                        detail
                    }),
            )?;
            Ok(ScanResult {
                barcode: String::from_utf8_lossy(raw).into_owned(),
                outcome,
                ballot_id: hit.as_ref().map(|h| h.ballot_id.clone()),
                batch: batch_id,
                seq: event.seq,
                at: event.occurred_at,
                source: source.to_string(),
                symbology: event.symbology.clone(),
                reason,
                instruction: intake::instruction(outcome, receipt.as_ref(), tz),
                first_receipt: receipt,
                confidential,
            })
        })
    }

    /// A supervisor reverses an earlier event with a reason. The original stays; a new
    /// correction entry names it, and if the original was to be sent to the voter the
    /// correction is sent too.
    pub fn reverse_event(&mut self, supervisor: &User, seq: i64, reason: &str) -> Result<Reversal> {
        self.require_supervisor(supervisor, "reverse a scan")?;
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(LedgerError::Invalid("a correction needs a reason".into()));
        }
        self.write(|tx, station| {
            let original = tx
                .query_row(
                    &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"),
                    [seq],
                    EventRow::from_row,
                )
                .optional()?
                .ok_or_else(|| LedgerError::Invalid(format!("no event {seq} in this ledger")))?;
            if original.kind == "correction" {
                return Err(LedgerError::Invalid(format!(
                    "event {seq} is itself a correction; it cannot be reversed"
                )));
            }
            let already: Option<i64> = tx
                .query_row("SELECT seq FROM events WHERE corrects = ?1", [seq], |r| r.get(0))
                .optional()?;
            if let Some(c) = already {
                return Err(LedgerError::Invalid(format!(
                    "event {seq} was already reversed by event {c}"
                )));
            }
            let mut correction = EventRow {
                seq: 0,
                election_id: original.election_id.clone(),
                kind: "correction".into(),
                mode: None,
                raw: None,
                normalized: original.normalized.clone(),
                outcome: None,
                ballot_pk: original.ballot_pk,
                station_id: station.station_id.clone(),
                user_id: supervisor.user_id,
                batch_id: original.batch_id,
                source: "supervisor".into(),
                symbology: None,
                occurred_at: format_time(Utc::now()),
                reason: Some(reason.clone()),
                corrects: Some(seq),
            };
            let digest = correction.insert(tx)?;
            let was_sent: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE event_seq = ?1)",
                [seq],
                |r| r.get(0),
            )?;
            if was_sent {
                tx.execute(
                    "INSERT INTO outbox (event_seq, event_type, created_at) VALUES (?1, 'correction', ?2)",
                    params![correction.seq, correction.occurred_at],
                )?;
            }
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::EventReversed, Some(supervisor))
                    .election(&original.election_id)
                    .subject(correction.seq, digest)
                    .detail(json!({"corrects": seq, "reason": reason})),
            )?;
            Ok(Reversal {
                seq: correction.seq,
                corrects: seq,
                reason: reason.clone(),
            })
        })
    }
}
