//! Nightly batch files: every ledger entry of one local day, as CSV, with a manifest.
//!
//! One row per scan (whatever its outcome), flag and correction, with ids only: no
//! name or address ever appears, so the file may go wherever the state's process
//! sends it. The CSV is a pure function of the ledger and the day, so exporting a
//! day again gives the same bytes; when the file on disk already has them, neither it
//! nor its manifest is touched. Files are written to a temporary name, synced and
//! renamed, so a reader never sees half a file.

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ledger::{Ledger, LedgerError, format_time};

/// The CSV's columns, in order.
pub const COLUMNS: [&str; 11] = [
    "event_id",
    "station_id",
    "election_id",
    "ballot_id",
    "voter_id",
    "event_type",
    "outcome",
    "occurred_at",
    "batch",
    "reason",
    "corrects",
];

/// Why an export failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A file could not be written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// The manifest written beside the CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The CSV's file name.
    pub file: String,
    /// The local day exported.
    pub date: String,
    /// The station.
    pub station_id: String,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// SHA-256 of the CSV's bytes.
    pub sha256: String,
    /// The first event's id, if any.
    pub first_event: Option<String>,
    /// The last event's id, if any.
    pub last_event: Option<String>,
    /// Rows per event type (scans also per outcome, as `scan:accepted` ...).
    pub counts: BTreeMap<String, u64>,
    /// When the files were written (UTC).
    pub created_at: String,
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportResult {
    /// The CSV.
    pub csv: PathBuf,
    /// The manifest.
    pub manifest_path: PathBuf,
    /// The manifest's contents.
    pub manifest: Manifest,
    /// The manifest's detached signature (`<manifest>.sig`, the station's key).
    pub signature: PathBuf,
    /// Whether the files already held exactly this export and were left alone.
    pub unchanged: bool,
    /// Where a file of the same name was moved, when it was not as the station wrote
    /// it (edited since, or without its manifest): kept, never silently replaced.
    pub set_aside: Option<PathBuf>,
}

/// The files' base name: sorts by day, and two stations never collide.
pub fn base_name(date: NaiveDate, station_id: &str) -> String {
    format!("ballot-intake_{date}_{}", file_safe(station_id))
}

/// A station id as it may appear in a file name.
pub fn file_safe(station_id: &str) -> String {
    station_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `path` could not be written or read, for the reason `e`.
pub(crate) fn io_err(path: &Path, e: &dyn std::fmt::Display) -> ExportError {
    ExportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    crate::files::write_with(path, write).map_err(|e| io_err(path, &e))
}

/// Exports the local day `date` into `out`.
pub fn export_day(
    ledger: &mut Ledger,
    date: NaiveDate,
    out: &Path,
    by: Option<&crate::ledger::User>,
) -> Result<ExportResult, ExportError> {
    let station = ledger.station().clone();
    let (start, end) =
        crate::local_time::day_bounds(date, station.timezone).ok_or_else(|| ExportError::Io {
            path: out.display().to_string(),
            message: format!("{date} has no midnight in {}", station.timezone),
        })?;
    std::fs::create_dir_all(out).map_err(|e| io_err(out, &e))?;
    let base = base_name(date, &station.station_id);
    let csv_path = out.join(format!("{base}.csv"));
    let manifest_path = out.join(format!("{base}.manifest.json"));

    // Render into memory first: a day is at most a few hundred thousand rows, and the
    // bytes are needed to compare with what is on disk.
    let mut hashing = Hashing {
        inner: Vec::with_capacity(1 << 20),
        hasher: Sha256::new(),
    };
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut first, mut last, mut rows) = (None, None, 0u64);
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut hashing);
        let csv_err = |e: csv::Error| io_err(&csv_path, &e);
        w.write_record(COLUMNS).map_err(csv_err)?;
        let mut write = |e: &crate::ledger::DayEvent| -> Result<(), LedgerError> {
            let event_id = format!("{}-{}{}", e.station_id, e.seq, e.suffix);
            let corrects = e.corrects.map(|c| format!("{}-{c}", e.station_id));
            w.write_record([
                cell(&event_id).as_ref(),
                cell(&e.station_id).as_ref(),
                cell(&e.election_id).as_ref(),
                cell(e.ballot_id.as_deref().unwrap_or("")).as_ref(),
                cell(e.voter_id.as_deref().unwrap_or("")).as_ref(),
                e.kind.as_str(),
                e.outcome.as_deref().unwrap_or(""),
                e.occurred_at.as_str(),
                &e.batch.map(|b| b.to_string()).unwrap_or_default(),
                cell(e.reason.as_deref().unwrap_or("")).as_ref(),
                cell(corrects.as_deref().unwrap_or("")).as_ref(),
            ])
            .map_err(|err| LedgerError::Invalid(format!("{}: {err}", csv_path.display())))?;
            *counts.entry(e.kind.clone()).or_insert(0) += 1;
            if let Some(o) = &e.outcome {
                *counts.entry(format!("{}:{o}", e.kind)).or_insert(0) += 1;
            }
            if first.is_none() {
                first = Some(event_id.clone());
            }
            last = Some(event_id);
            rows += 1;
            Ok(())
        };
        let (from, to) = (format_time(start), format_time(end));
        ledger.for_each_day_event(&from, &to, &mut write)?;
        // The county hub's entries of the day (none on a station without a hub).
        ledger.for_each_day_hub_entry(&from, &to, &mut write)?;
        w.flush().map_err(|e| io_err(&csv_path, &e))?;
    }
    let sha256 = hex::encode(hashing.hasher.finalize());
    let bytes = hashing.inner;
    let file = csv_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unchanged = std::fs::read(&csv_path).is_ok_and(|old| old == bytes)
        && std::fs::read(&manifest_path)
            .ok()
            .and_then(|m| serde_json::from_slice::<Manifest>(&m).ok())
            .is_some_and(|m| m.sha256 == sha256);
    // A file there that is not what this station wrote (its bytes do not match its
    // manifest: edited by hand, or by a spreadsheet) is moved aside, never replaced.
    // A file with exactly today's bytes is this station's own, whatever its manifest
    // says: an export stopped between the file and its manifest (a failed write, a
    // full disk) left it so, and it is completed, not set aside as edited.
    let mut set_aside = None;
    if !unchanged && let Ok(old) = std::fs::read(&csv_path) {
        let vouched = old == bytes
            || std::fs::read(&manifest_path)
                .ok()
                .and_then(|m| serde_json::from_slice::<Manifest>(&m).ok())
                .is_some_and(|m| m.sha256 == hex::encode(Sha256::digest(&old)));
        if !vouched {
            let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
            let aside = out.join(format!("{base}.edited-{stamp}.csv"));
            std::fs::rename(&csv_path, &aside).map_err(|e| io_err(&csv_path, &e))?;
            log::warn!(
                "{} did not match its manifest; kept as {}",
                csv_path.display(),
                aside.display()
            );
            set_aside = Some(aside);
        }
    }
    let manifest = if unchanged {
        std::fs::read(&manifest_path)
            .ok()
            .and_then(|m| serde_json::from_slice::<Manifest>(&m).ok())
            .ok_or_else(|| io_err(&manifest_path, &"unreadable"))?
    } else {
        let manifest = Manifest {
            file,
            date: date.to_string(),
            station_id: station.station_id.clone(),
            rows,
            sha256,
            first_event: first,
            last_event: last,
            counts,
            created_at: format_time(Utc::now()),
        };
        write_atomic(&csv_path, |f| f.write_all(&bytes))?;
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(&manifest_path, &e))?;
        write_atomic(&manifest_path, |f| f.write_all(&json))?;
        manifest
    };
    // The manifest is signed with the station's key: its SHA-256 vouches for the
    // CSV, the signature for the manifest. A signature already there that still
    // holds is kept.
    let key = crate::signing::station_key(ledger)?;
    let signature = crate::signing::signature_path(&manifest_path);
    let signed = unchanged
        && crate::signing::verify_file(&manifest_path, &signature, &key.public_pem()).is_ok();
    if !signed {
        key.sign_file(&manifest_path).map_err(|e| ExportError::Io {
            path: signature.display().to_string(),
            message: e.0,
        })?;
    }
    ledger.record_export(
        &manifest.file,
        &manifest.sha256,
        manifest.rows,
        unchanged,
        by,
    )?;
    Ok(ExportResult {
        csv: csv_path,
        manifest_path,
        manifest,
        signature,
        unchanged,
        set_aside,
    })
}

/// A text cell as a spreadsheet will not run it: a value starting with `=`, `+`,
/// `-`, `@`, a tab or a CR is a formula to Excel and LibreOffice (OWASP's "CSV
/// injection"), so it gets a leading `'`, which they show as text. The ids the
/// station writes never start so (the import refuses them); a supervisor's reason
/// or a ledger from before that check can.
fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_written_as_text() {
        for (value, want) in [
            ("=1+1", "'=1+1"),
            (
                "=HYPERLINK(\"http://evil/\",\"x\")",
                "'=HYPERLINK(\"http://evil/\",\"x\")",
            ),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("B0001", "B0001"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(cell(value), want, "{value:?}");
        }
    }

    #[test]
    fn names_sort_by_day_and_carry_the_station() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        assert_eq!(base_name(d, "S1"), "ballot-intake_2026-11-03_S1");
        assert_eq!(base_name(d, "north/2"), "ballot-intake_2026-11-03_north_2");
        assert!(base_name(d, "S1") < base_name(d.succ_opt().unwrap(), "S1"));
    }
}
