//! The ledger side of a mail ballot import: one transaction for the whole file, so a
//! rejected file leaves the ballots exactly as they were.

use chrono::Utc;
use rusqlite::types::Value;
use rusqlite::{
    OptionalExtension, Statement, Transaction, TransactionBehavior, params, params_from_iter,
};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::{Ledger, Result, Station, format_time};
use crate::audit::AuditEvent;
use crate::ballot_row::{MailBallotRow, RowError};

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

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn values(row: &MailBallotRow<'_>) -> [Value; 17] {
    [
        text(row.voter_id),
        text(row.last_name),
        text(row.first_name),
        opt(row.middle_name),
        text(row.residential_zip),
        text(row.precinct),
        text(row.ballot_style),
        text(row.status.as_str()),
        Value::Integer(i64::from(row.confidential)),
        Value::Integer(i64::from(row.uocava)),
        opt(row.mailing_address),
        opt(row.mailing_city),
        opt(row.mailing_state),
        opt(row.mailing_zip),
        row.issued_date.map_or(Value::Null, |d| {
            Value::Text(d.format("%Y-%m-%d").to_string())
        }),
        opt(row.return_imb),
        opt(row.outbound_imb),
    ]
}

/// Counts of what an import did to the ballots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// New ballots.
    pub added: u64,
    /// Ballots whose details or status changed.
    pub updated: u64,
    /// Ballots already in the ledger exactly as in the file.
    pub unchanged: u64,
}

/// The fewest expected rows for which a first import rebuilds the indexes rather
/// than inserting into them: below this the rebuild is not worth its fixed cost.
const BULK_ROWS: u64 = 50_000;

/// An import in progress, holding the write transaction until it is committed or
/// dropped (which rolls everything back).
pub struct ImportTx<'l> {
    tx: Transaction<'l>,
    station: &'l Station,
    file_name: String,
    election_id: String,
    import_id: i64,
    had_ballots: bool,
    /// The ballots table's own indexes, dropped for a bulk first import and built
    /// again (sorted, in one pass each) before it commits: inserting a county's
    /// rows, which never come in key order, into live indexes costs a random B-tree
    /// descent per row per index. Dropped and rebuilt inside the import's own
    /// transaction, so a refused file leaves them exactly as they were.
    rebuild: Vec<String>,
}

/// Applies rows inside an [`ImportTx`], with its statements prepared once: a
/// million-row file must not pay for SQL text hashing or allocation per row.
pub struct Importer<'t> {
    import: &'t ImportTx<'t>,
    insert: Statement<'t>,
    lookup: Statement<'t>,
    update: Statement<'t>,
    counts: ImportCounts,
}

fn row_error(row: &MailBallotRow<'_>, column: &str, message: String) -> RowError {
    RowError {
        line: row.line,
        column: column.to_string(),
        message,
    }
}

impl ImportTx<'_> {
    /// Prepares the statements for storing rows.
    pub fn rows(&self) -> Result<Importer<'_>> {
        let cols = DATA_COLUMNS.join(", ");
        let marks = (1..=20)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sets = DATA_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Importer {
            import: self,
            insert: self.tx.prepare(&format!(
                "INSERT INTO ballots (election_id, ballot_id, {cols}, import_id) VALUES ({marks})"
            ))?,
            lookup: self.tx.prepare(&format!(
                "SELECT ballot_pk, {cols} FROM ballots WHERE election_id = ?1 AND ballot_id = ?2"
            ))?,
            update: self.tx.prepare(&format!(
                "UPDATE ballots SET {sets}, import_id = ?18 WHERE ballot_pk = ?19"
            ))?,
            counts: ImportCounts::default(),
        })
    }

    /// Voters left with two ACTIVE ballots once the file is merged with what the
    /// ledger held (a new ACTIVE ballot whose predecessor the file did not void).
    /// `line_of` gives the line of a voter's ACTIVE ballot in the file.
    pub fn voter_conflicts(&self, line_of: impl Fn(&str) -> Option<u64>) -> Result<Vec<RowError>> {
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
                line: line_of(&voter).unwrap_or(0),
                column: "voter_id".into(),
                message: format!(
                    "voter {voter:?} would have more than one ACTIVE ballot ({ballots}); void the replaced one in the file"
                ),
            })
            .collect())
    }

    /// Records the import and commits every row.
    pub fn commit(
        self,
        counts: ImportCounts,
        sha256: &str,
        rows_read: u64,
        took: Duration,
    ) -> Result<ImportSummary> {
        for sql in &self.rebuild {
            self.tx.execute_batch(sql)?;
        }
        let summary = ImportSummary {
            file: self.file_name.clone(),
            election_id: self.election_id.clone(),
            rows_read,
            added: counts.added,
            updated: counts.updated,
            unchanged: counts.unchanged,
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
                to_i64(counts.added),
                to_i64(counts.updated),
                to_i64(counts.unchanged),
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

impl Importer<'_> {
    /// What the rows applied so far did.
    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// Stores one row that passed the file's own checks. Returns its error if the
    /// ledger contradicts it (a ballot id already held for another voter).
    pub fn store(&mut self, row: &MailBallotRow<'_>) -> Result<Option<RowError>> {
        let election_id = &self.import.election_id;
        if self.import.had_ballots {
            let existing = self
                .lookup
                .query_row(params![election_id, row.ballot_id], |r| {
                    let pk: i64 = r.get(0)?;
                    let stored = (1..=17)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<Value>>>()?;
                    Ok((pk, stored))
                })
                .optional()?;
            if let Some((pk, stored)) = existing {
                let vals = values(row);
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
                    self.counts.unchanged += 1;
                } else {
                    let mut p: Vec<Value> = vals.to_vec();
                    p.push(Value::Integer(self.import.import_id));
                    p.push(Value::Integer(pk));
                    self.update.execute(params_from_iter(p))?;
                    self.counts.updated += 1;
                }
                return Ok(None);
            }
        }
        let issued = row.issued_date.map(|d| d.to_string());
        self.insert.execute(params![
            election_id,
            row.ballot_id,
            row.voter_id,
            row.last_name,
            row.first_name,
            row.middle_name,
            row.residential_zip,
            row.precinct,
            row.ballot_style,
            row.status.as_str(),
            row.confidential,
            row.uocava,
            row.mailing_address,
            row.mailing_city,
            row.mailing_state,
            row.mailing_zip,
            issued,
            row.return_imb,
            row.outbound_imb,
            self.import.import_id,
        ])?;
        self.counts.added += 1;
        Ok(None)
    }
}

impl Ledger {
    /// Starts an import into the active election (takes the write lock until the
    /// importer is committed or dropped). `expected_rows` is a guess at the file's
    /// rows: a first import into an election, large beside the ballots the ledger
    /// already holds, drops the ballots' indexes and builds them again at the end.
    pub fn begin_import(&mut self, file_name: &str, expected_rows: u64) -> Result<ImportTx<'_>> {
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
        let held: i64 = tx.query_row("SELECT count(*) FROM ballots", [], |r| r.get(0))?;
        let mut rebuild = Vec::new();
        let held = u64::try_from(held).unwrap_or(u64::MAX);
        if !had_ballots && expected_rows >= BULK_ROWS && expected_rows >= held {
            // Declared indexes only: the UNIQUE constraint's own index stays, for
            // the duplicate check every insert makes.
            let indexes = tx
                .prepare(
                    "SELECT name, sql FROM sqlite_master
                      WHERE type = 'index' AND tbl_name = 'ballots' AND sql IS NOT NULL",
                )?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (name, sql) in indexes {
                tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
                rebuild.push(sql);
            }
        }
        Ok(ImportTx {
            tx,
            station: &self.station,
            file_name: file_name.to_string(),
            election_id: election.election_id,
            import_id,
            had_ballots,
            rebuild,
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
