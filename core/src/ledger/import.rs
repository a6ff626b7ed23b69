//! The ledger side of a mail ballot import: one transaction for the whole file, so a
//! rejected file leaves the ballots exactly as they were.

use chrono::Utc;
use chrono::{Datelike, NaiveDate};
use rusqlite::types::ValueRef;
use rusqlite::{
    OptionalExtension, Statement, ToSql, Transaction, TransactionBehavior, params, params_from_iter,
};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::{Ledger, Result, Station, format_time};
use crate::audit::AuditEvent;
use crate::ballot_row::{MailBallotRow, RowError};
use crate::intake::BallotStatus;

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

/// Whether a stored column holds `want` (text, or NULL for `None`).
fn text_is(v: ValueRef<'_>, want: Option<&str>) -> bool {
    match (v, want) {
        (ValueRef::Null, None) => true,
        (ValueRef::Text(b), Some(w)) => b == w.as_bytes(),
        _ => false,
    }
}

/// A date as the ledger stores it (`YYYY-MM-DD`), without allocating.
fn iso_date(d: NaiveDate) -> [u8; 10] {
    let mut out = *b"0000-00-00";
    let year = u32::try_from(d.year()).unwrap_or(0).min(9999);
    for (i, digit) in [year / 1000, year / 100 % 10, year / 10 % 10, year % 10]
        .into_iter()
        .enumerate()
    {
        out[i] = b'0' + u8::try_from(digit).unwrap_or(0);
    }
    out[5] = b'0' + u8::try_from(d.month() / 10).unwrap_or(0);
    out[6] = b'0' + u8::try_from(d.month() % 10).unwrap_or(0);
    out[8] = b'0' + u8::try_from(d.day() / 10).unwrap_or(0);
    out[9] = b'0' + u8::try_from(d.day() % 10).unwrap_or(0);
    out
}

/// Compares a stored ballot (columns 1..=17 of the lookup, in [`DATA_COLUMNS`]
/// order) with a row of the file. Returns (same voter, same in every column). Reads
/// the stored values in place: a re-import compares every row of a county's file.
fn compare(r: &rusqlite::Row<'_>, row: &MailBallotRow<'_>) -> rusqlite::Result<(bool, bool)> {
    let flag = |v: ValueRef<'_>, want: bool| v == ValueRef::Integer(i64::from(want));
    let date = row.issued_date.map(iso_date);
    let date = date.as_ref().and_then(|d| std::str::from_utf8(d).ok());
    let same_voter = text_is(r.get_ref(1)?, Some(row.voter_id));
    let same = same_voter
        && text_is(r.get_ref(2)?, Some(row.last_name))
        && text_is(r.get_ref(3)?, Some(row.first_name))
        && text_is(r.get_ref(4)?, row.middle_name)
        && text_is(r.get_ref(5)?, Some(row.residential_zip))
        && text_is(r.get_ref(6)?, Some(row.precinct))
        && text_is(r.get_ref(7)?, Some(row.ballot_style))
        && text_is(r.get_ref(8)?, Some(row.status.as_str()))
        && flag(r.get_ref(9)?, row.confidential)
        && flag(r.get_ref(10)?, row.uocava)
        && text_is(r.get_ref(11)?, row.mailing_address)
        && text_is(r.get_ref(12)?, row.mailing_city)
        && text_is(r.get_ref(13)?, row.mailing_state)
        && text_is(r.get_ref(14)?, row.mailing_zip)
        && text_is(r.get_ref(15)?, date)
        && text_is(r.get_ref(16)?, row.return_imb)
        && text_is(r.get_ref(17)?, row.outbound_imb);
    Ok((same_voter, same))
}

/// The stored word of a status, as a parameter that outlives the row.
fn status_param(status: BallotStatus) -> &'static dyn ToSql {
    match status {
        BallotStatus::Active => &"ACTIVE",
        BallotStatus::Void => &"VOID",
    }
}

/// A row's values for [`DATA_COLUMNS`], in that order: the first parameters of both
/// the insert and the update. `issued` is the row's issue date as stored (text).
fn data_params<'a>(row: &'a MailBallotRow<'_>, issued: &'a dyn ToSql) -> [&'a dyn ToSql; 17] {
    [
        &row.voter_id,
        &row.last_name,
        &row.first_name,
        &row.middle_name,
        &row.residential_zip,
        &row.precinct,
        &row.ballot_style,
        status_param(row.status),
        &row.confidential,
        &row.uocava,
        &row.mailing_address,
        &row.mailing_city,
        &row.mailing_state,
        &row.mailing_zip,
        issued,
        &row.return_imb,
        &row.outbound_imb,
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

/// The page cache (KiB, as SQLite's negative `cache_size`) while an import runs: a
/// re-import looks up every row of the file in the ballot-id index, and the index
/// builds sort in it before spilling to temporary files. Bounded, because a station's
/// memory must not grow with the county.
const IMPORT_CACHE_KIB: i64 = 65_536;

/// SQLite's own default page cache (2 MB), restored once the import is over.
const NORMAL_CACHE_KIB: i64 = 2_000;

/// The line of the file on which each ballot touched by a re-import was found, by
/// `ballot_pk`: what tells a ballot id seen twice in the file (the second finds the
/// first's row in the ledger) and names the first line. Four bytes a ballot of the
/// ledger, instead of the file's ids held as strings.
#[derive(Default)]
struct SeenLines {
    dense: Vec<u32>,
    /// Ballots whose key is too large for `dense` (a ledger of many big elections),
    /// or whose line does not fit four bytes.
    sparse: rustc_hash::FxHashMap<i64, u64>,
}

/// The largest `ballot_pk` kept in [`SeenLines::dense`] (64 MB at most).
const DENSE_PKS: usize = 16 << 20;

impl SeenLines {
    fn get(&self, pk: i64) -> Option<u64> {
        let dense = usize::try_from(pk)
            .ok()
            .and_then(|i| self.dense.get(i))
            .filter(|l| **l != 0)
            .map(|l| u64::from(*l));
        dense.or_else(|| self.sparse.get(&pk).copied())
    }

    fn set(&mut self, pk: i64, line: u64) {
        match (usize::try_from(pk), u32::try_from(line)) {
            (Ok(i), Ok(l)) if i < DENSE_PKS && l != 0 => {
                if self.dense.len() <= i {
                    self.dense.resize((i + 1).max(self.dense.len() * 2), 0);
                }
                self.dense[i] = l;
            }
            _ => {
                self.sparse.insert(pk, line);
            }
        }
    }
}

/// Errors found across rows, listing the first `limit` by line and counting all.
#[derive(Debug, Default)]
pub struct CrossRowErrors {
    /// The first errors by line.
    pub listed: Vec<RowError>,
    /// How many there were.
    pub total: usize,
    limit: usize,
}

impl CrossRowErrors {
    fn push(&mut self, e: RowError) {
        self.total += 1;
        self.listed.push(e);
        if self.listed.len() > self.limit.saturating_mul(4).max(64) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.listed.sort_by_key(|e| e.line);
        self.listed.truncate(self.limit);
    }
}

/// An import in progress, holding the write transaction until it is committed or
/// dropped (which rolls everything back).
pub struct ImportTx<'l> {
    tx: Transaction<'l>,
    station: &'l Station,
    file_name: String,
    election_id: String,
    import_id: i64,
    had_ballots: bool,
    /// The ballots table's indexes (name, SQL), dropped for a bulk first import and
    /// built again (sorted, in one pass each) before it commits: inserting a county's
    /// rows, which never come in key order, into live indexes costs a random B-tree
    /// descent per row per index. Dropped and rebuilt inside the import's own
    /// transaction, so a refused file leaves them exactly as they were.
    rebuild: Vec<(String, String)>,
}

/// Applies rows inside an [`ImportTx`], with its statements prepared once: a
/// million-row file must not pay for SQL text hashing or allocation per row.
///
/// The checks across rows (a ballot id twice, two ACTIVE ballots for a voter, a
/// return envelope's tracking code twice) are made by the ledger's own indexes rather
/// than by keeping the file's keys in memory: a 6,000,000-row file's keys alone
/// would take the station's memory past a gigabyte.
pub struct Importer<'t> {
    import: &'t ImportTx<'t>,
    insert: Statement<'t>,
    lookup: Statement<'t>,
    update: Statement<'t>,
    first_line: Statement<'t>,
    counts: ImportCounts,
    seen: SeenLines,
}

fn row_error(row: &MailBallotRow<'_>, column: &str, message: String) -> RowError {
    RowError {
        line: row.line,
        column: column.to_string(),
        message,
    }
}

/// A ballot held twice in the file: the message for its later line.
fn twice(ballot_id: &str, first: u64) -> String {
    format!("{ballot_id:?} appears twice in the file (first on line {first})")
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// One ballot in a group that an index says shares a key it must not.
struct Member {
    pk: i64,
    ballot_id: String,
    import_id: i64,
    source_line: Option<i64>,
}

impl ImportTx<'_> {
    /// Prepares the statements for storing rows.
    pub fn rows(&self) -> Result<Importer<'_>> {
        let cols = DATA_COLUMNS.join(", ");
        let marks = (1..=21)
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
                "INSERT INTO ballots ({cols}, election_id, ballot_id, import_id, source_line)
                 VALUES ({marks})"
            ))?,
            lookup: self.tx.prepare(&format!(
                "SELECT ballot_pk, {cols} FROM ballots WHERE ballot_id = ?2 AND election_id = ?1"
            ))?,
            update: self.tx.prepare(&format!(
                "UPDATE ballots SET {sets}, import_id = ?18, source_line = ?19 WHERE ballot_pk = ?20"
            ))?,
            first_line: self.tx.prepare(
                "SELECT source_line FROM ballots WHERE ballot_id = ?2 AND election_id = ?1",
            )?,
            counts: ImportCounts::default(),
            seen: SeenLines::default(),
        })
    }

    /// Records the import and commits every row.
    pub fn commit(
        self,
        counts: ImportCounts,
        sha256: &str,
        rows_read: u64,
        took: Duration,
    ) -> Result<ImportSummary> {
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
    /// ledger contradicts it (a ballot id already held for another voter, or earlier
    /// in the same file). Rows are stored even after the file has failed, so that the
    /// checks across rows still see them; the transaction is rolled back anyway.
    pub fn store(&mut self, row: &MailBallotRow<'_>) -> Result<Option<RowError>> {
        let election_id = &self.import.election_id;
        let line = i64::try_from(row.line).unwrap_or(i64::MAX);
        if self.import.had_ballots {
            let existing = self
                .lookup
                .query_row(params![election_id, row.ballot_id], |r| {
                    Ok((r.get::<_, i64>(0)?, compare(r, row)?))
                })
                .optional()?;
            if let Some((pk, (same_voter, same))) = existing {
                if let Some(first) = self.seen.get(pk) {
                    return Ok(Some(row_error(
                        row,
                        "ballot_id",
                        twice(row.ballot_id, first),
                    )));
                }
                self.seen.set(pk, row.line);
                if !same_voter {
                    return Ok(Some(row_error(
                        row,
                        "voter_id",
                        format!(
                            "ballot {:?} belongs to another voter in the ledger; a ballot id is never reassigned",
                            row.ballot_id
                        ),
                    )));
                }
                if same {
                    self.counts.unchanged += 1;
                } else {
                    let issued = row.issued_date.map(|d| d.to_string());
                    let data = data_params(row, &issued);
                    let extra: [&dyn ToSql; 3] = [&self.import.import_id, &line, &pk];
                    self.update
                        .execute(params_from_iter(data.iter().chain(extra.iter())))?;
                    self.counts.updated += 1;
                }
                return Ok(None);
            }
        }
        let issued = row.issued_date.map(|d| d.to_string());
        let data = data_params(row, &issued);
        let extra: [&dyn ToSql; 4] = [election_id, &row.ballot_id, &self.import.import_id, &line];
        let inserted = self
            .insert
            .execute(params_from_iter(data.iter().chain(extra.iter())));
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                // Only rows of this file are in an election that had no ballots.
                let first: Option<i64> = self
                    .first_line
                    .query_row(params![election_id, row.ballot_id], |r| r.get(0))
                    .optional()?
                    .flatten();
                let first = first.and_then(|l| u64::try_from(l).ok()).unwrap_or(0);
                return Ok(Some(row_error(
                    row,
                    "ballot_id",
                    twice(row.ballot_id, first),
                )));
            }
            Err(e) => return Err(e.into()),
        }
        if self.import.had_ballots {
            self.seen.set(self.import.tx.last_insert_rowid(), row.line);
        }
        self.counts.added += 1;
        Ok(None)
    }

    /// The line of the file a ballot came from, if it is in this file.
    fn file_line(&self, m: &Member) -> Option<u64> {
        self.seen.get(m.pk).or_else(|| {
            (m.import_id == self.import.import_id)
                .then_some(m.source_line)
                .flatten()
                .and_then(|l| u64::try_from(l).ok())
        })
    }

    /// Builds the indexes a bulk import dropped and makes the checks across rows,
    /// once every row is stored. Returns the counts and the errors found (the first
    /// `limit` by line listed); any error means the caller must not commit.
    pub fn finish(self, limit: usize) -> Result<(ImportCounts, CrossRowErrors)> {
        let mut found = CrossRowErrors {
            limit,
            ..CrossRowErrors::default()
        };
        let tx = &self.import.tx;
        for (name, sql) in &self.import.rebuild {
            let started = std::time::Instant::now();
            match tx.execute_batch(sql) {
                Ok(()) => log::debug!("index {name} built in {:.2?}", started.elapsed()),
                Err(e) if is_unique_violation(&e) => {
                    log::info!("index {name} not built: the file repeats a key");
                    self.twice_in_bulk(&mut found)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let started = std::time::Instant::now();
        self.active_voters(&mut found)?;
        log::debug!(
            "one ACTIVE ballot per voter checked in {:.2?}",
            started.elapsed()
        );
        let started = std::time::Instant::now();
        self.tracking_codes(&mut found)?;
        log::debug!("tracking codes checked in {:.2?}", started.elapsed());
        found.trim();
        Ok((self.counts, found))
    }

    /// A bulk import inserts with no unique index in place; when building it finds a
    /// ballot id twice, each later line is named against the first.
    fn twice_in_bulk(&self, found: &mut CrossRowErrors) -> Result<()> {
        let mut stmt = self.import.tx.prepare(
            "SELECT source_line, ballot_id, first FROM (
                 SELECT source_line, ballot_id,
                        min(source_line) OVER (PARTITION BY ballot_id) AS first,
                        count(*) OVER (PARTITION BY ballot_id) AS n
                   FROM ballots WHERE election_id = ?1)
              WHERE n > 1 AND source_line > first",
        )?;
        let mut rows = stmt.query([&self.import.election_id])?;
        while let Some(r) = rows.next()? {
            let (line, id, first): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            found.push(RowError {
                line: u64::try_from(line).unwrap_or(0),
                column: "ballot_id".into(),
                message: twice(&id, u64::try_from(first).unwrap_or(0)),
            });
        }
        Ok(())
    }

    /// The ballots of each key `groups` finds shared, with `members` (its one
    /// parameter the key).
    fn groups(&self, groups: &str, members: &str) -> Result<Vec<(String, Vec<Member>)>> {
        let tx = &self.import.tx;
        let keys = tx
            .prepare(groups)?
            .query_map([&self.import.election_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = tx.prepare(members)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let list = stmt
                .query_map(params![self.import.election_id, key], |r| {
                    Ok(Member {
                        pk: r.get(0)?,
                        ballot_id: r.get(1)?,
                        import_id: r.get(2)?,
                        source_line: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.push((key, list));
        }
        Ok(out)
    }

    /// One ACTIVE ballot per voter, judged on the ledger as the file leaves it: two
    /// in the file are named against the first; one in the file beside one the ledger
    /// already held is named with both ballot ids.
    fn active_voters(&self, found: &mut CrossRowErrors) -> Result<()> {
        let groups = self.groups(
            "SELECT voter_id FROM ballots WHERE election_id = ?1 AND status = 'ACTIVE'
              GROUP BY voter_id HAVING count(*) > 1",
            "SELECT ballot_pk, ballot_id, import_id, source_line FROM ballots
              WHERE election_id = ?1 AND voter_id = ?2 AND status = 'ACTIVE'",
        )?;
        for (voter, mut members) in groups {
            let mut lines: Vec<u64> = members.iter().filter_map(|m| self.file_line(m)).collect();
            lines.sort_unstable();
            if let [first, later @ ..] = &lines[..]
                && !later.is_empty()
            {
                for line in later {
                    found.push(RowError {
                        line: *line,
                        column: "voter_id".into(),
                        message: format!(
                            "voter {voter:?} already has an ACTIVE ballot on line {first}; at most one ACTIVE ballot per voter"
                        ),
                    });
                }
                continue;
            }
            members.sort_by(|a, b| a.ballot_id.cmp(&b.ballot_id));
            let ids: Vec<&str> = members.iter().map(|m| m.ballot_id.as_str()).collect();
            found.push(RowError {
                line: lines.first().copied().unwrap_or(0),
                column: "voter_id".into(),
                message: format!(
                    "voter {voter:?} would have more than one ACTIVE ballot ({}); void the replaced one in the file",
                    ids.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// One return envelope per tracking code in an election: a scan of it must name
    /// one ballot. Codes shared only among ballots of earlier files are left alone
    /// (this file did not make them).
    fn tracking_codes(&self, found: &mut CrossRowErrors) -> Result<()> {
        let groups = self.groups(
            // Named, because the planner otherwise reads every ballot's row for the
            // generated column instead of the index that holds it (4 s against 0.4 s
            // at 1,000,000 ballots).
            "SELECT return_tracking FROM ballots INDEXED BY ballots_by_return_tracking
              WHERE return_imb IS NOT NULL AND election_id = ?1
              GROUP BY return_tracking HAVING count(*) > 1",
            "SELECT ballot_pk, ballot_id, import_id, source_line FROM ballots
              WHERE return_imb IS NOT NULL AND return_tracking = ?2 AND election_id = ?1",
        )?;
        for (_, members) in groups {
            let mut in_file: Vec<(u64, &Member)> = members
                .iter()
                .filter_map(|m| self.file_line(m).map(|l| (l, m)))
                .collect();
            in_file.sort_unstable_by_key(|(l, _)| *l);
            match &in_file[..] {
                [] => {}
                [(line, m)] => {
                    let other = members
                        .iter()
                        .find(|o| o.pk != m.pk)
                        .map_or("", |o| o.ballot_id.as_str());
                    found.push(RowError {
                        line: *line,
                        column: "return_imb".into(),
                        message: format!(
                            "its tracking code is already ballot {other:?}'s return envelope; each return envelope needs its own"
                        ),
                    });
                }
                [(first, _), later @ ..] => {
                    for (line, _) in later {
                        found.push(RowError {
                            line: *line,
                            column: "return_imb".into(),
                            message: format!(
                                "its tracking code is also on line {first}; each return envelope needs its own"
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
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
        tx.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
        if !had_ballots && expected_rows >= BULK_ROWS && expected_rows >= held {
            // Every index of the table is declared (schema v2), the unique one on
            // ballot ids included: building it afterwards is the duplicate check.
            let indexes = tx
                .prepare(
                    "SELECT name, sql FROM sqlite_master
                      WHERE type = 'index' AND tbl_name = 'ballots' AND sql IS NOT NULL",
                )?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (name, sql) in indexes {
                tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
                rebuild.push((name, sql));
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

    /// Gives the page cache back once an import is over (committed or not).
    pub fn end_import(&mut self) {
        if let Err(e) = self
            .conn
            .pragma_update(None, "cache_size", -NORMAL_CACHE_KIB)
        {
            log::warn!("could not restore the page cache after an import: {e}");
        }
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
