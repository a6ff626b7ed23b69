//! The ledger side of a mail ballot import, in three steps so that scanning never
//! waits on a county's file:
//!
//! 1. **Stage** (`stage`): the file's rows go into a scratch SQLite file beside the
//!    ledger (attached as `staging`), not into the ledger. Nothing in the ledger is
//!    locked; the scratch file is deleted however the import ends.
//! 2. **Check** (`checks`): against a read snapshot of the ledger (WAL readers block
//!    no writer), the checks across rows (a ballot id twice, a ballot id of another
//!    voter, two ACTIVE ballots for a voter, a return envelope's tracking code twice)
//!    and the difference: which rows are new, which changed, which are as stored.
//!    The scratch file's indexes are built sorted, and the ledger is read in ballot-id
//!    order, so a 6,000,000-row file costs no random B-tree descent per row.
//! 3. **Apply** (`apply`): one short write transaction stores only the difference
//!    (and the import's record and audit row). A refused file never reaches this
//!    step: the ledger is left byte for byte as it was.
//!
//! Scans take the ledger's write lock for a few milliseconds each; only step 3 holds
//! it, and for a re-import (the busy-day case) only for the rows that changed.

use rusqlite::Connection;
use serde::Serialize;
use std::path::PathBuf;

use super::{Ledger, LedgerError, Result, Station, User};
use crate::ballot_row::RowError;

mod apply;
mod checks;
mod difference;
mod stage;

pub use stage::Importer;

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
    fn new(limit: usize) -> Self {
        CrossRowErrors {
            limit,
            ..CrossRowErrors::default()
        }
    }

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

/// The page cache (KiB, as SQLite's negative `cache_size`) of the ledger and of the
/// scratch file while an import runs: the index builds and sorts spill to temporary
/// files beyond it. Bounded, because a station's memory must not grow with the
/// county (two of these, and SQLite's sorter, stay well under 200 MB).
const IMPORT_CACHE_KIB: i64 = 24_576;

/// SQLite's own default page cache (2 MB), restored once the import is over.
const NORMAL_CACHE_KIB: i64 = 2_000;

/// An import in progress: the scratch file attached to the ledger's connection. Dropped
/// without [`Import::commit`] (a refused file, an error), it leaves the ledger as it
/// was and deletes the scratch file.
pub struct Import<'l> {
    conn: &'l Connection,
    /// The ledger's path and the identity of the file opened there: checked before
    /// each commit, as every write of the ledger is.
    ledger: (&'l std::path::Path, Option<(u64, u64)>),
    station: &'l Station,
    staging: PathBuf,
    file_name: String,
    election_id: String,
    /// Whether the election held ballots when the import began: a first import has
    /// nothing to compare with.
    had_ballots: bool,
    /// What the checks found, for the apply step.
    checked: Option<checks::Checked>,
    /// A bulk first import's record, once its rows are copied into the ledger.
    bulk_record: Option<i64>,
    /// The ledger's write transaction is open (a bulk first import between its
    /// checks and its commit); dropped, it is rolled back.
    writing: bool,
    /// Who imports (a supervisor or administrator), named in the audit row; `None`
    /// only for the demo station's own file.
    by: Option<User>,
    /// Held for the whole import: one import at a time on a station (they share the
    /// scratch file, and a re-import's chunks assume no other import between them).
    _lock: std::fs::File,
}

impl Drop for Import<'_> {
    fn drop(&mut self) {
        // A transaction left open by an error is rolled back before the detach.
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        if let Err(e) = self.conn.execute_batch("DETACH DATABASE staging") {
            log::warn!("could not detach the import's scratch file: {e}");
        }
        stage::remove(&self.staging);
    }
}

impl Ledger {
    /// Starts an import into the active election: attaches a new scratch file beside
    /// the ledger. Takes no lock on the ledger.
    pub fn begin_import(&mut self, file_name: &str, by: Option<&User>) -> Result<Import<'_>> {
        match by {
            Some(user) => user.require_supervisor("import a mail ballot file")?,
            None if self.station.demo => {}
            None => {
                return Err(LedgerError::Invalid(
                    "a mail ballot file is imported by a supervisor or administrator (--user NAME)"
                        .into(),
                ));
            }
        }
        let election = self.active_election()?;
        let had_ballots: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM ballots WHERE election_id = ?1)",
            [&election.election_id],
            |r| r.get(0),
        )?;
        let staging = stage::path_for(&self.path);
        let lock = stage::lock(&staging)?;
        if let Err(e) = stage::attach(&self.conn, &staging) {
            // Nothing to drop yet: undo by hand what was made (a full disk, say).
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            let _ = self.conn.execute_batch("DETACH DATABASE staging");
            stage::remove(&staging);
            return Err(e);
        }
        self.conn
            .pragma_update(Some("main"), "cache_size", -IMPORT_CACHE_KIB)?;
        // The index builds and the checks sort; a helper thread for SQLite's sorter
        // uses the station's second core for them.
        self.conn.pragma_update(None, "threads", 2)?;
        Ok(Import {
            conn: &self.conn,
            ledger: (&self.path, self.identity),
            station: &self.station,
            staging,
            file_name: file_name.to_string(),
            election_id: election.election_id,
            had_ballots,
            checked: None,
            bulk_record: None,
            writing: false,
            by: by.cloned(),
            _lock: lock,
        })
    }

    /// Gives the page cache back once an import is over (committed or not).
    pub fn end_import(&mut self) {
        if let Err(e) = self
            .conn
            .pragma_update(Some("main"), "cache_size", -NORMAL_CACHE_KIB)
            .and_then(|()| self.conn.pragma_update(None, "threads", 0))
        {
            log::warn!("could not restore the page cache after an import: {e}");
        }
    }

    /// Audits a refused import (nothing of it reached the ledger).
    pub fn record_rejected_import(
        &mut self,
        by: Option<&User>,
        file: &str,
        sha256: &str,
        rows: u64,
        errors: usize,
    ) -> Result<()> {
        let election = self.active_election()?;
        self.audit_now(
            &super::audit_log::AuditEntry::user(crate::audit::AuditEvent::ImportRejected, by)
                .election(&election.election_id)
                .detail(serde_json::json!({"file": file, "sha256": sha256, "rows": rows, "errors": errors})),
        )?;
        Ok(())
    }
}

/// One stored value of a ballot's data columns, as the digest sees it.
#[derive(Clone, Copy)]
enum Stored<'a> {
    Null,
    Text(&'a [u8]),
    Int(i64),
    /// A type the import never writes (a hand-edited ledger): never equal.
    Other,
}

impl<'a> From<rusqlite::types::ValueRef<'a>> for Stored<'a> {
    fn from(v: rusqlite::types::ValueRef<'a>) -> Self {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Stored::Null,
            ValueRef::Text(t) => Stored::Text(t),
            ValueRef::Integer(i) => Stored::Int(i),
            ValueRef::Real(_) | ValueRef::Blob(_) => Stored::Other,
        }
    }
}

/// A 128-bit digest of a ballot's [`DATA_COLUMNS`] as stored: what lets a re-import
/// tell an unchanged row from a changed one by reading the file's rows through a
/// small sorted index instead of fetching each whole row. Two SipHash streams with
/// different prefixes (the standard library's, deterministic within this program,
/// which is all a comparison inside one import needs); a changed row going unseen
/// would take a 128-bit collision. `None` for a value of a type the import never
/// writes: such a row is always a change.
fn digest<'a>(values: impl IntoIterator<Item = Stored<'a>>) -> Option<[u8; 16]> {
    use std::hash::{DefaultHasher, Hasher};
    let mut a = DefaultHasher::new();
    let mut b = DefaultHasher::new();
    a.write_u8(0xA5);
    b.write_u8(0x5A);
    for v in values {
        for h in [&mut a, &mut b] {
            match v {
                Stored::Null => h.write_u8(0),
                Stored::Text(t) => {
                    h.write_u8(1);
                    h.write_usize(t.len());
                    h.write(t);
                }
                Stored::Int(i) => {
                    h.write_u8(2);
                    h.write_i64(i);
                }
                Stored::Other => return None,
            }
        }
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.finish().to_le_bytes());
    out[8..].copy_from_slice(&b.finish().to_le_bytes());
    Some(out)
}

/// A row error at `line`.
fn row_error(line: u64, column: &str, message: String) -> RowError {
    RowError {
        line,
        column: column.to_string(),
        message,
    }
}
