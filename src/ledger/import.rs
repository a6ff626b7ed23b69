//! The ledger side of a mail ballot import: one transaction for the whole file, so a
//! rejected file leaves the ballots exactly as they were.

use chrono::Utc;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::{Ledger, Result, Station, format_time};
use crate::audit::AuditEvent;
use crate::intake::BallotStatus;
use crate::mail_ballot::{MailBallotRow, RowError};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    /// The file's name.
    pub file: String,
    /// The election it was loaded into.
    pub election_id: String,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// New ballots.
    pub added: u64,
    /// Ballots whose details or status changed.
    pub updated: u64,
    /// Ballots already in the ledger exactly as in the file.
    pub unchanged: u64,
    /// Wall-clock time taken.
    pub seconds: f64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The updatable columns of `ballots`, in the order [`values`] produces them.
const DATA_COLUMNS: [&str; 17] = [
    "voter_id",
    "last_name",
    "first_name",
    "middle_name",
    "residential_zip",
    "precinct",
    "ballot_style",
    "status",
    "confidential",
    "uocava",
    "mailing_address",
    "mailing_city",
    "mailing_state",
    "mailing_zip",
    "issued_date",
    "return_imb",
    "outbound_imb",
];

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt(s: Option<&String>) -> Value {
    s.map_or(Value::Null, |v| Value::Text(v.clone()))
}

fn values(row: &MailBallotRow) -> [Value; 17] {
    [
        text(&row.voter_id),
        text(&row.last_name),
        text(&row.first_name),
        opt(row.middle_name.as_ref()),
        text(&row.residential_zip),
        text(&row.precinct),
        text(&row.ballot_style),
        text(row.status.as_str()),
        Value::Integer(i64::from(row.confidential)),
        Value::Integer(i64::from(row.uocava)),
        opt(row.mailing_address.as_ref()),
        opt(row.mailing_city.as_ref()),
        opt(row.mailing_state.as_ref()),
        opt(row.mailing_zip.as_ref()),
        row.issued_date.map_or(Value::Null, |d| {
            Value::Text(d.format("%Y-%m-%d").to_string())
        }),
        opt(row.return_imb.as_ref()),
        opt(row.outbound_imb.as_ref()),
    ]
}

/// An import in progress, holding the write transaction.
pub struct Importer<'l> {
    tx: Transaction<'l>,
    station: &'l Station,
    file_name: String,
    election_id: String,
    import_id: i64,
    had_ballots: bool,
    ids: HashMap<String, u64>,
    active_voters: HashMap<String, u64>,
    tracking: HashMap<String, u64>,
    added: u64,
    updated: u64,
    unchanged: u64,
}

fn row_error(row: &MailBallotRow, column: &str, message: String) -> RowError {
    RowError {
        line: row.line,
        column: column.to_string(),
        message,
    }
}

impl Importer<'_> {
    /// Checks one valid row against the rest of the file and the ledger and, when
    /// `write` is set, stores it. Returns the row's error, if it has one.
    pub fn apply(&mut self, row: &MailBallotRow, write: bool) -> Result<Option<RowError>> {
        if let Some(first) = self.ids.insert(row.ballot_id.clone(), row.line) {
            self.ids.insert(row.ballot_id.clone(), first);
            return Ok(Some(row_error(
                row,
                "ballot_id",
                format!(
                    "{:?} appears twice in the file (first on line {first})",
                    row.ballot_id
                ),
            )));
        }
        if row.status == BallotStatus::Active
            && let Some(first) = self.active_voters.insert(row.voter_id.clone(), row.line)
        {
            self.active_voters.insert(row.voter_id.clone(), first);
            return Ok(Some(row_error(
                row,
                "voter_id",
                format!(
                    "voter {:?} already has an ACTIVE ballot on line {first}; at most one ACTIVE ballot per voter",
                    row.voter_id
                ),
            )));
        }
        if let Some(imb) = &row.return_imb {
            let tracking = imb[..20].to_string();
            if let Some(first) = self.tracking.insert(tracking.clone(), row.line) {
                self.tracking.insert(tracking, first);
                return Ok(Some(row_error(
                    row,
                    "return_imb",
                    format!(
                        "its tracking code is also on line {first}; each return envelope needs its own"
                    ),
                )));
            }
        }
        if !write {
            return Ok(None);
        }
        let vals = values(row);
        if self.had_ballots {
            let existing = self
                .tx
                .prepare_cached(&format!(
                    "SELECT ballot_pk, {} FROM ballots WHERE election_id = ?1 AND ballot_id = ?2",
                    DATA_COLUMNS.join(", ")
                ))?
                .query_row(params![self.election_id, row.ballot_id], |r| {
                    let pk: i64 = r.get(0)?;
                    let stored = (1..=17)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<Value>>>()?;
                    Ok((pk, stored))
                })
                .optional()?;
            if let Some((pk, stored)) = existing {
                if stored[0] != vals[0] {
                    return Ok(Some(row_error(
                        row,
                        "voter_id",
                        format!(
                            "ballot {:?} belongs to another voter in the ledger; a ballot id is never reassigned",
                            row.ballot_id
                        ),
                    )));
                }
                if stored[..] == vals[..] {
                    self.unchanged += 1;
                } else {
                    let sets = DATA_COLUMNS
                        .iter()
                        .enumerate()
                        .map(|(i, c)| format!("{c} = ?{}", i + 1))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut p: Vec<Value> = vals.to_vec();
                    p.push(Value::Integer(self.import_id));
                    p.push(Value::Integer(pk));
                    self.tx
                        .prepare_cached(&format!(
                            "UPDATE ballots SET {sets}, import_id = ?18 WHERE ballot_pk = ?19"
                        ))?
                        .execute(params_from_iter(p))?;
                    self.updated += 1;
                }
                return Ok(None);
            }
        }
        let mut p: Vec<Value> = Vec::with_capacity(20);
        p.push(text(&self.election_id));
        p.push(text(&row.ballot_id));
        p.extend(vals);
        p.push(Value::Integer(self.import_id));
        let marks = (1..=20)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO ballots (election_id, ballot_id, {}, import_id) VALUES ({marks})",
                DATA_COLUMNS.join(", ")
            ))?
            .execute(params_from_iter(p))?;
        self.added += 1;
        Ok(None)
    }

    /// Voters left with two ACTIVE ballots once the file is merged with what the
    /// ledger held (a new ACTIVE ballot whose predecessor the file did not void).
    pub fn voter_conflicts(&self) -> Result<Vec<RowError>> {
        if !self.had_ballots {
            // Without earlier ballots, the in-file check already saw every voter.
            return Ok(Vec::new());
        }
        let mut stmt = self.tx.prepare(
            "SELECT voter_id, group_concat(ballot_id, ', ') FROM ballots
             WHERE election_id = ?1 AND status = 'ACTIVE'
             GROUP BY voter_id HAVING count(*) > 1 ORDER BY voter_id",
        )?;
        let rows = stmt
            .query_map([&self.election_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(voter, ballots)| RowError {
                line: self.active_voters.get(&voter).copied().unwrap_or(0),
                column: "voter_id".into(),
                message: format!(
                    "voter {voter:?} would have more than one ACTIVE ballot ({ballots}); void the replaced one in the file"
                ),
            })
            .collect())
    }

    /// Records the import and commits every row.
    pub fn commit(self, sha256: &str, rows_read: u64, took: Duration) -> Result<ImportSummary> {
        let summary = ImportSummary {
            file: self.file_name.clone(),
            election_id: self.election_id.clone(),
            rows_read,
            added: self.added,
            updated: self.updated,
            unchanged: self.unchanged,
            seconds: took.as_secs_f64(),
            sha256: sha256.to_string(),
        };
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.tx.execute(
            "UPDATE imports SET file_sha256 = ?1, rows_read = ?2, added = ?3, updated = ?4,
                 unchanged = ?5 WHERE import_id = ?6",
            params![
                sha256,
                to_i64(rows_read),
                to_i64(self.added),
                to_i64(self.updated),
                to_i64(self.unchanged),
                self.import_id
            ],
        )?;
        append(
            &self.tx,
            self.station,
            &AuditEntry::user(AuditEvent::ImportCompleted, None)
                .election(&self.election_id)
                .detail(json!({
                    "file": summary.file,
                    "sha256": sha256,
                    "rows": rows_read,
                    "added": summary.added,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                })),
        )?;
        self.tx.commit()?;
        Ok(summary)
    }
}

impl Ledger {
    /// Starts an import into the active election (takes the write lock until the
    /// importer is committed or dropped).
    pub fn begin_import(&mut self, file_name: &str) -> Result<Importer<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let election = active_election(&tx)?;
        let had_ballots: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM ballots WHERE election_id = ?1)",
            [&election.election_id],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO imports (election_id, file_name, file_sha256, rows_read, added, updated,
                 unchanged, imported_at) VALUES (?1, ?2, '', 0, 0, 0, 0, ?3)",
            params![election.election_id, file_name, format_time(Utc::now())],
        )?;
        let import_id = tx.last_insert_rowid();
        Ok(Importer {
            tx,
            station: &self.station,
            file_name: file_name.to_string(),
            election_id: election.election_id,
            import_id,
            had_ballots,
            ids: HashMap::new(),
            active_voters: HashMap::new(),
            tracking: HashMap::new(),
            added: 0,
            updated: 0,
            unchanged: 0,
        })
    }

    /// Audits a refused import (its transaction was already rolled back).
    pub fn record_rejected_import(
        &mut self,
        file: &str,
        sha256: &str,
        rows: u64,
        errors: usize,
    ) -> Result<()> {
        let election = self.active_election()?;
        self.audit_now(
            &AuditEntry::user(AuditEvent::ImportRejected, None)
                .election(&election.election_id)
                .detail(json!({"file": file, "sha256": sha256, "rows": rows, "errors": errors})),
        )?;
        Ok(())
    }
}
