//! Step 1 of an import: the file's rows into a scratch SQLite file beside the ledger.
//!
//! The scratch file is the import's own: no fsync and its rollback journal in memory
//! (if the station stops, the file is thrown away and the import run again; a
//! statement that fails, such as the unique index that finds a ballot id twice, is
//! still undone), created readable by
//! the station's account only (it holds voters' names and addresses), and deleted
//! when the import ends.

use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, Statement, ToSql, params_from_iter};
use std::path::{Path, PathBuf};

use super::{DATA_COLUMNS, IMPORT_CACHE_KIB, Import, Stored, digest};
use crate::ballot_row::MailBallotRow;
use crate::intake::BallotStatus;
use crate::ledger::{LedgerError, Result};

/// The scratch file of an import into the ledger at `ledger`.
pub(super) fn path_for(ledger: &Path) -> PathBuf {
    let mut name = ledger.file_name().unwrap_or_default().to_os_string();
    name.push(".import");
    ledger.with_file_name(name)
}

/// Deletes a scratch file (and SQLite's companions, should any exist).
pub(super) fn remove(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("could not delete {}: {e}", Path::new(&p).display()),
        }
    }
}

/// Takes the station's import lock (a file beside the scratch file, locked for as
/// long as the returned handle lives; the system releases it if the program dies).
pub(super) fn lock(staging: &Path) -> Result<std::fs::File> {
    let mut name = staging.as_os_str().to_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|e| {
        LedgerError::Invalid(format!(
            "cannot open the import lock {}: {e}",
            path.display()
        ))
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Invalid(
            "another import is running on this station; wait for it to finish, then import again"
                .into(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(LedgerError::Invalid(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// Creates the scratch file afresh (a leftover of a stopped import is replaced) and
/// attaches it as `staging`, with the table the rows go into.
pub(super) fn attach(conn: &Connection, path: &Path) -> Result<()> {
    remove(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| {
        LedgerError::Invalid(format!(
            "cannot create the import's scratch file {}: {e}",
            path.display()
        ))
    })?;
    let name = path.to_str().ok_or_else(|| {
        LedgerError::Invalid(format!(
            "the ledger's folder {} is not a UTF-8 path",
            path.display()
        ))
    })?;
    conn.execute("ATTACH DATABASE ?1 AS staging", [name])?;
    conn.pragma_update(Some("staging"), "journal_mode", "MEMORY")?;
    conn.pragma_update(Some("staging"), "synchronous", "OFF")?;
    conn.pragma_update(Some("staging"), "cache_size", -IMPORT_CACHE_KIB)?;
    let cols = DATA_COLUMNS
        .iter()
        .map(|c| match *c {
            "confidential" | "uocava" => format!("{c} INTEGER NOT NULL"),
            "middle_name" | "mailing_address" | "mailing_city" | "mailing_state"
            | "mailing_zip" | "issued_date" | "return_imb" | "outbound_imb" => format!("{c} TEXT"),
            _ => format!("{c} TEXT NOT NULL"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_batch(&format!(
        "CREATE TABLE staging.rows (line INTEGER NOT NULL, ballot_id TEXT NOT NULL, {cols},
             return_tracking TEXT, digest BLOB NOT NULL);
         BEGIN;"
    ))?;
    Ok(())
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

/// A text value as the digest sees it.
fn text(t: Option<&str>) -> Stored<'_> {
    t.map_or(Stored::Null, |t| Stored::Text(t.as_bytes()))
}

/// Stores the file's rows in the scratch file, with its statement prepared once: a
/// million-row file must not pay for SQL text or allocation per row.
pub struct Importer<'a, 'l> {
    pub(super) import: &'a mut Import<'l>,
    pub(super) insert: Statement<'l>,
}

impl<'l> Import<'l> {
    /// Prepares the statement that stores rows.
    pub fn rows(&mut self) -> Result<Importer<'_, 'l>> {
        let marks = (1..=21)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = self.conn.prepare(&format!(
            "INSERT INTO staging.rows (line, ballot_id, {}, return_tracking, digest)
             VALUES ({marks})",
            DATA_COLUMNS.join(", ")
        ))?;
        Ok(Importer {
            import: self,
            insert,
        })
    }
}

impl Importer<'_, '_> {
    /// Stores one row that passed the file's own checks; the checks across rows come
    /// once every row is in ([`Importer::finish`]).
    pub fn store(&mut self, row: &MailBallotRow<'_>) -> Result<()> {
        let line = i64::try_from(row.line).unwrap_or(i64::MAX);
        let date = row.issued_date.map(iso_date);
        let issued = date.as_ref().and_then(|d| std::str::from_utf8(d).ok());
        let status = match row.status {
            BallotStatus::Active => "ACTIVE",
            BallotStatus::Void => "VOID",
        };
        let digest = digest([
            text(Some(row.voter_id)),
            text(Some(row.last_name)),
            text(Some(row.first_name)),
            text(row.middle_name),
            text(Some(row.residential_zip)),
            text(Some(row.precinct)),
            text(Some(row.ballot_style)),
            text(Some(status)),
            Stored::Int(i64::from(row.confidential)),
            Stored::Int(i64::from(row.uocava)),
            text(row.mailing_address),
            text(row.mailing_city),
            text(row.mailing_state),
            text(row.mailing_zip),
            text(issued),
            text(row.return_imb),
            text(row.outbound_imb),
        ])
        .unwrap_or_default();
        // The tracking code is the IMb's first 20 digits (as the ledger's generated
        // column has it).
        let tracking = row.return_imb.map(|imb| imb.get(..20).unwrap_or(imb));
        let values: [&dyn ToSql; 21] = [
            &line,
            &row.ballot_id,
            &row.voter_id,
            &row.last_name,
            &row.first_name,
            &row.middle_name,
            &row.residential_zip,
            &row.precinct,
            &row.ballot_style,
            &status,
            &row.confidential,
            &row.uocava,
            &row.mailing_address,
            &row.mailing_city,
            &row.mailing_state,
            &row.mailing_zip,
            &issued,
            &row.return_imb,
            &row.outbound_imb,
            &tracking,
            &digest.as_slice(),
        ];
        self.insert.execute(params_from_iter(values.iter()))?;
        Ok(())
    }
}
