//! What supervisors look up: a ballot by barcode, voter id, or name and ZIP, and its
//! whole history. Confidential voters' names are masked here, at the source, so no
//! screen can show them by mistake.

use rusqlite::params;
use serde::Serialize;

use super::elections::active_election;
use super::{Ledger, Result};
use crate::barcode::{self, Barcode};

/// What stands in for a confidential voter's name.
pub const MASKED: &str = "(confidential voter)";

/// A ballot as the review screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BallotView {
    /// Ledger key.
    pub ballot_pk: i64,
    /// The ballot id.
    pub ballot_id: String,
    /// The voter id.
    pub voter_id: String,
    /// "Last, First", or [`MASKED`].
    pub name: String,
    /// Residential ZIP, or [`MASKED`].
    pub zip: String,
    /// ACTIVE or VOID.
    pub status: String,
    /// Address-confidential voter.
    pub confidential: bool,
}

/// One event in a ballot's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// Ledger sequence number (what `reverse` takes).
    pub seq: i64,
    /// scan, undeliverable, needs_attention or correction.
    pub kind: String,
    /// The intake outcome, for scans.
    pub outcome: Option<String>,
    /// When (UTC).
    pub occurred_at: String,
    /// Station.
    pub station_id: String,
    /// Who.
    pub user: String,
    /// Batch, if any.
    pub batch: Option<i64>,
    /// Reason, if any.
    pub reason: Option<String>,
    /// The event a correction reverses.
    pub corrects: Option<i64>,
    /// The correction that reversed this event, if one did.
    pub reversed_by: Option<i64>,
}

const VIEW_COLUMNS: &str =
    "ballot_pk, ballot_id, voter_id, last_name, first_name, residential_zip, status, confidential";

fn view_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BallotView> {
    let confidential: bool = r.get(7)?;
    let (last, first, zip): (String, String, String) = (r.get(3)?, r.get(4)?, r.get(5)?);
    Ok(BallotView {
        ballot_pk: r.get(0)?,
        ballot_id: r.get(1)?,
        voter_id: r.get(2)?,
        name: if confidential {
            MASKED.into()
        } else {
            format!("{last}, {first}")
        },
        zip: if confidential { MASKED.into() } else { zip },
        status: r.get(6)?,
        confidential,
    })
}

/// A name as the search compares it: transliterated to ASCII (a well-kept table,
/// `deunicode`), lower case, spaces trimmed.
fn fold(name: &str) -> String {
    deunicode::deunicode(name.trim()).to_lowercase()
}

impl Ledger {
    /// Ballots of the active election matching `query`: a barcode (ballot id, return
    /// or outbound IMb), a voter id, or "name ZIP" (last name, a space, the ZIP; the
    /// name's case and accents are ignored). At most 50.
    pub fn find_ballots(&self, query: &str) -> Result<Vec<BallotView>> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let election = active_election(&self.conn)?;
        let e = &election.election_id;
        let mut found: Vec<BallotView> = Vec::new();
        let mut push = |rows: Vec<BallotView>| {
            for r in rows {
                if !found.iter().any(|f| f.ballot_pk == r.ballot_pk) {
                    found.push(r);
                }
            }
        };
        let run = |sql: &str, a: &str, b: &str| -> Result<Vec<BallotView>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt
                .query_map(params![a, b], view_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        };
        if let Ok(Barcode::Imb(imb)) = barcode::classify(q, crate::barcode::CheckDigit::None) {
            push(run(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM ballots WHERE election_id = ?1 AND
                     ((return_imb IS NOT NULL AND return_tracking = ?2)
                      OR (outbound_imb IS NOT NULL AND outbound_tracking = ?2))
                     ORDER BY ballot_pk"
                ),
                e,
                &imb.tracking,
            )?);
        }
        push(run(
            &format!(
                "SELECT {VIEW_COLUMNS} FROM ballots WHERE election_id = ?1 AND (ballot_id = ?2 OR voter_id = ?2)
                 ORDER BY ballot_pk"
            ),
            e,
            q,
        )?);
        if let Some((name, zip)) = q.rsplit_once(' ') {
            // Names are compared folded (accents and case ignored: "Garcia" finds
            // "García", "NUNEZ" finds "Núñez"), which SQLite cannot do, so the
            // ZIP's ballots are read and their names folded here.
            let wanted = fold(name);
            let mut stmt = self.conn.prepare(
                "SELECT ballot_pk, last_name FROM ballots WHERE election_id = ?1
                 AND residential_zip = ?2 AND confidential = 0 ORDER BY ballot_pk",
            )?;
            let pks = stmt
                .query_map(params![e, zip.trim()], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .filter_map(|row| match row {
                    Ok((pk, last)) => (fold(&last) == wanted).then_some(Ok(pk)),
                    Err(err) => Some(Err(err)),
                })
                .take(50)
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            let mut by_pk = self.conn.prepare(&format!(
                "SELECT {VIEW_COLUMNS} FROM ballots WHERE ballot_pk = ?1"
            ))?;
            for pk in pks {
                push(vec![by_pk.query_row([pk], view_row)?]);
            }
        }
        found.truncate(50);
        Ok(found)
    }

    /// Every event of a ballot, oldest first, with what reversed what.
    pub fn ballot_history(&self, ballot_pk: i64) -> Result<Vec<HistoryRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT e.seq, e.kind, e.outcome, e.occurred_at, e.station_id, u.name, e.batch_id,
                    e.reason, e.corrects,
                    (SELECT c.seq FROM events c WHERE c.corrects = e.seq)
             FROM events e JOIN users u ON u.user_id = e.user_id
             WHERE e.ballot_pk = ?1 ORDER BY e.seq",
        )?;
        let rows = stmt
            .query_map([ballot_pk], |r| {
                Ok(HistoryRow {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    outcome: r.get(2)?,
                    occurred_at: r.get(3)?,
                    station_id: r.get(4)?,
                    user: r.get(5)?,
                    batch: r.get(6)?,
                    reason: r.get(7)?,
                    corrects: r.get(8)?,
                    reversed_by: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
