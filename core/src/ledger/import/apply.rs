//! Step 3 of an import: what the checks found the file changes goes into the ledger.
//!
//! - A **re-import** stores its changed and new ballots in chunks of [`CHUNK`] rows,
//!   each its own short write transaction, so a scan never waits behind more than
//!   one chunk (the changes first, then the new ballots, in ballot-id order). The
//!   file passed every check before the first chunk, so no chunk can be refused for
//!   what the file says; if the station stops between chunks, the chunks stored are
//!   whole and importing the file again stores the rest (the audit row that says the
//!   import completed is written with the last chunk).
//! - A **bulk first import** (a county's file into an election with no ballots, see
//!   [`bulk`]) is copied in one transaction, with the ballots' indexes dropped and
//!   built again sorted, and checked inside it ([`super::checks`]): the ledger is
//!   locked for that copy, and a refused file is rolled back whole.
//! - A small first import is stored in one short transaction.

use chrono::Utc;
use rusqlite::{Connection, params};
use serde_json::json;
use std::time::Duration;

use super::checks::{Checked, unchanged_since};
use super::{DATA_COLUMNS, Import, ImportCounts, ImportSummary};
use crate::audit::AuditEvent;
use crate::ledger::audit_log::{AuditEntry, append};
use crate::ledger::elections::active_election;
use crate::ledger::open::still_in_place;
use crate::ledger::scans::ballot_record_digest;
use crate::ledger::{LedgerError, Result, format_time};

/// The fewest rows for which a first import rebuilds the ballots' indexes rather
/// than inserting into them: below this the rebuild is not worth its fixed cost.
const BULK_ROWS: u64 = 50_000;

/// The data columns that other indexes than the voter's hold (see [`Import::apply`]).
const KEYS: [&str; 3] = ["voter_id", "return_imb", "outbound_imb"];

/// Rows stored per write transaction of a re-import: about a tenth of a second of
/// a scan's wait on a two-core station with a million ballots.
const CHUNK: i64 = 500;

/// Whether a first import of `rows` rows is a bulk one: many rows, and many beside
/// what the ledger already holds (rebuilding the indexes costs the whole table).
pub(super) fn bulk(conn: &Connection, rows: u64) -> Result<bool> {
    let held: i64 = conn.query_row("SELECT count(*) FROM main.ballots", [], |r| r.get(0))?;
    Ok(rows >= BULK_ROWS && rows >= u64::try_from(held).unwrap_or(u64::MAX))
}

/// The columns a new ballot is inserted with, and the scratch file's values for them.
fn insert_sql(source: &str) -> String {
    let cols = DATA_COLUMNS.join(", ");
    let from = DATA_COLUMNS
        .iter()
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO main.ballots (election_id, ballot_id, {cols}, import_id, source_line)
         SELECT ?1, r.ballot_id, {from}, ?2, r.line FROM {source}"
    )
}

/// Records the import (its counts and digest filled in by [`finish_record`]).
pub(super) fn record(conn: &Connection, election_id: &str, file_name: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO main.imports (election_id, file_name, file_sha256, rows_read, added,
             updated, unchanged, imported_at) VALUES (?1, ?2, '', 0, 0, 0, 0, ?3)",
        params![election_id, file_name, format_time(Utc::now())],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Copies every row of the scratch file into the ledger for a bulk first import: the
/// ballots' indexes dropped, the rows inserted in the file's order (read straight
/// through), each index built again in one sorted pass. Returns whether the unique
/// index found a ballot id twice (the transaction must then be rolled back; the
/// other indexes are still built so the other checks can run).
pub(super) fn copy_bulk(conn: &Connection, election_id: &str, import_id: i64) -> Result<bool> {
    let indexes = conn
        .prepare(
            "SELECT name, sql FROM main.sqlite_master
              WHERE type = 'index' AND tbl_name = 'ballots' AND sql IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!(
            "DROP INDEX main.\"{}\"",
            name.replace('"', "\"\"")
        ))?;
    }
    let started = std::time::Instant::now();
    let added = conn.execute(
        &insert_sql("staging.rows r"),
        params![election_id, import_id],
    )?;
    log::debug!("{added} ballots copied in {:.2?}", started.elapsed());
    let mut repeated = false;
    for (name, sql) in indexes {
        let started = std::time::Instant::now();
        // The main schema's own CREATE text: qualified, as a file is attached.
        match conn.execute_batch(&sql.replacen("INDEX ", "INDEX main.", 1)) {
            Ok(()) => log::debug!("index {name} built in {:.2?}", started.elapsed()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                log::info!("index {name} not built: the file repeats a key");
                repeated = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(repeated)
}

impl Import<'_> {
    /// Stores what the checks found the file changes, records the import and its
    /// audit row. Refused (and nothing stored) if the file was not checked, or if
    /// another import or an election change reached the ledger after the checks.
    pub fn commit(
        mut self,
        counts: ImportCounts,
        sha256: &str,
        rows_read: u64,
        took: Duration,
    ) -> Result<ImportSummary> {
        let checked = self.checked.take().ok_or_else(|| {
            LedgerError::Invalid("an import was committed before its rows were checked".into())
        })?;
        let started = std::time::Instant::now();
        if let Some(import_id) = self.bulk_record.filter(|_| self.writing) {
            // A bulk first import: stored and checked in the open transaction.
            self.finish_record(import_id, counts, sha256, rows_read)?;
            still_in_place(self.ledger.0, self.ledger.1)?;
            self.conn.execute_batch("COMMIT")?;
            self.writing = false;
        } else {
            self.apply(&checked, counts, sha256, rows_read)?;
        }
        log::debug!("import stored in {:.2?}", started.elapsed());
        Ok(ImportSummary {
            file: self.file_name.clone(),
            election_id: self.election_id.clone(),
            rows_read,
            added: counts.added,
            updated: counts.updated,
            unchanged: counts.unchanged,
            seconds: (took + started.elapsed()).as_secs_f64(),
            sha256: sha256.to_string(),
        })
    }

    /// The import's record completed, and its audit row.
    fn finish_record(
        &self,
        import_id: i64,
        counts: ImportCounts,
        sha256: &str,
        rows_read: u64,
    ) -> Result<()> {
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.conn.execute(
            "UPDATE main.imports SET file_sha256 = ?1, rows_read = ?2, added = ?3, updated = ?4,
                 unchanged = ?5 WHERE import_id = ?6",
            params![
                sha256,
                to_i64(rows_read),
                to_i64(counts.added),
                to_i64(counts.updated),
                to_i64(counts.unchanged),
                import_id
            ],
        )?;
        let revouched = self.revouched(counts)?;
        append(
            self.conn,
            self.station,
            &AuditEntry::user(AuditEvent::ImportCompleted, self.by.as_ref())
                .election(&self.election_id)
                .detail(json!({
                    "file": self.file_name,
                    "sha256": sha256,
                    "rows": rows_read,
                    "added": counts.added,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "revouched": revouched,
                })),
        )?;
        Ok(())
    }

    /// The changed ballots that were already scanned, each with the digest of its
    /// record as the file leaves it: vouched for again by the import's audit row
    /// (the scan's row vouched for it as it was; see `verify`). Read from the
    /// scratch file, the changes as the outer loop, so it costs a lookup per change.
    fn revouched(
        &self,
        counts: ImportCounts,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut revouched = serde_json::Map::new();
        if !self.had_ballots || counts.updated == 0 {
            return Ok(revouched);
        }
        let mut stmt = self.conn.prepare(
            "SELECT c.ballot_pk, r.ballot_id, r.voter_id, r.confidential
               FROM staging.changes c CROSS JOIN staging.rows r ON r.rowid = c.row
              WHERE c.ballot_pk IS NOT NULL
                AND EXISTS (SELECT 1 FROM main.events e WHERE e.ballot_pk = c.ballot_pk)",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (pk, id, voter, confidential): (i64, String, String, bool) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            revouched.insert(
                pk.to_string(),
                json!(ballot_record_digest(pk, &id, &voter, confidential)),
            );
        }
        Ok(revouched)
    }

    /// Runs `f` in one write transaction of its own (a chunk).
    fn chunk<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let out = f()?;
        still_in_place(self.ledger.0, self.ledger.1)?;
        self.conn.execute_batch("COMMIT")?;
        Ok(out)
    }

    /// A re-import's changes (or a small first import's rows) in chunks.
    fn apply(
        &self,
        checked: &Checked,
        counts: ImportCounts,
        sha256: &str,
        rows_read: u64,
    ) -> Result<()> {
        let conn = self.conn;
        let import_id = self.chunk(|| {
            if !unchanged_since(conn, checked.newest_import)?
                || active_election(conn)?.election_id != self.election_id
            {
                return Err(LedgerError::Invalid(format!(
                    "another import or an election change reached the ledger while {} was being checked; nothing was imported: import the file again",
                    self.file_name
                )));
            }
            record(conn, &self.election_id, &self.file_name)
        })?;
        if !self.had_ballots {
            // A small first import: every row new, in one transaction.
            return self.chunk(|| {
                conn.execute(
                    &insert_sql("staging.rows r INDEXED BY rows_by_id ORDER BY r.ballot_id"),
                    params![self.election_id, import_id],
                )?;
                self.finish_record(import_id, counts, sha256, rows_read)
            });
        }
        // SQLite rewrites every index holding a column an UPDATE sets. Most changes
        // (a ballot voided, a name corrected) leave the voter and both envelopes as
        // they were: those rows are updated without setting them, so only the voter
        // index (which holds the status) is touched, not all four.
        let sets = |cols: &mut dyn Iterator<Item = &&str>| {
            cols.map(|c| format!("{c} = r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let keys_same = KEYS
            .iter()
            .map(|k| format!("ballots.{k} IS r.{k}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let update_keys_same = format!(
            "UPDATE main.ballots SET {}, import_id = ?1, source_line = r.line
               FROM staging.changes c JOIN staging.rows r ON r.rowid = c.row
              WHERE c.rowid BETWEEN ?2 AND ?3 AND c.ballot_pk = ballots.ballot_pk AND {keys_same}",
            sets(&mut DATA_COLUMNS.iter().filter(|c| !KEYS.contains(c)))
        );
        let update_all = format!(
            "UPDATE main.ballots SET {}, import_id = ?1, source_line = r.line
               FROM staging.changes c JOIN staging.rows r ON r.rowid = c.row
              WHERE c.rowid BETWEEN ?2 AND ?3 AND c.ballot_pk = ballots.ballot_pk
                AND NOT ({keys_same})",
            sets(&mut DATA_COLUMNS.iter())
        );
        let insert = insert_sql(
            "staging.changes c JOIN staging.rows r ON r.rowid = c.row
              WHERE c.rowid BETWEEN ?3 AND ?4 AND c.ballot_pk IS NULL ORDER BY c.rowid",
        );
        let last: i64 = conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM staging.changes",
            [],
            |r| r.get(0),
        )?;
        // The changed ballots first (a replaced ballot is voided before its
        // replacement appears), then the new ones; each pass in chunks of rowids.
        for pass in [false, true] {
            let mut from = 1;
            while from <= last {
                let to = from + CHUNK - 1;
                self.chunk(|| {
                    if pass {
                        conn.execute(&insert, params![self.election_id, import_id, from, to])?;
                    } else {
                        // In this order: a row the first updates still matches the
                        // second's condition only if its keys changed.
                        conn.execute(&update_keys_same, params![import_id, from, to])?;
                        conn.execute(&update_all, params![import_id, from, to])?;
                    }
                    Ok(())
                })?;
                from = to + 1;
            }
        }
        self.chunk(|| self.finish_record(import_id, counts, sha256, rows_read))
    }
}
