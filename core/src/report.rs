//! Printable records for the county's paper log, as PDF: a batch's custody sheet and
//! a station's reconciliation of one local day. Each is signed like the nightly files
//! (`<file>.sig`), and writing one is audited. They hold ids, counts and the staff's
//! names, never a voter's name or address.

pub mod sheet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::export::{ExportError, io_err};
use crate::ledger::{Batch, DayEvent, Ledger, User};
use sheet::Sheet;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// The PDF.
    pub pdf: PathBuf,
    /// Its detached signature.
    pub signature: PathBuf,
    /// Pages.
    pub pages: usize,
}

/// A stored UTC time in the county's local time, as a person reads it.
fn local(at: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_string(),
        |t| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    )
}

fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

fn label(kind: &str) -> String {
    let s = kind.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn header(sheet: &mut Sheet, ledger: &Ledger) {
    let station = ledger.station();
    sheet.field("Station", &station.station_id);
    sheet.field("County", &station.county);
    if let Ok(s) = ledger.status() {
        sheet.field(
            "Election",
            &format!(
                "{} ({}, {})",
                s.election.name, s.election.election_id, s.election.date
            ),
        );
    }
}

/// Batch `batch_id`'s custody sheet.
pub fn batch_sheet(ledger: &Ledger, batch: &Batch) -> Result<(Vec<u8>, usize), ExportError> {
    let tz = ledger.station().timezone;
    let outcomes = ledger.batch_outcomes(batch.batch_id)?;
    let printed = Utc::now().with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
    let mut sheet = Sheet::new(
        &format!("Batch {} custody sheet", batch.batch_id),
        &format!(
            "ballot-intake - station {} - batch {} custody sheet - printed {printed}",
            batch.station_id, batch.batch_id
        ),
    );
    sheet.heading(&format!("Batch custody sheet: batch {}", batch.batch_id));
    header(&mut sheet, ledger);
    sheet.section("Container");
    sheet.field("Container or tray", &or_dash(batch.container_id.as_deref()));
    sheet.field(
        "Seals",
        &if batch.seals.is_empty() {
            "-".to_string()
        } else {
            batch.seals.join(", ")
        },
    );
    sheet.field(
        "Envelopes received",
        &batch
            .received_at
            .as_deref()
            .map_or_else(|| "-".into(), |t| local(t, tz)),
    );
    sheet.section("Custody");
    sheet.field("Opened by", &batch.opened_by);
    sheet.field("Opened at", &local(&batch.opened_at, tz));
    sheet.field("Status", batch.status.as_str());
    sheet.field("Closed by", &or_dash(batch.closed_by.as_deref()));
    sheet.field("Count verified by", &or_dash(batch.verified_by.as_deref()));
    sheet.field(
        "Closed at",
        &batch
            .closed_at
            .as_deref()
            .map_or_else(|| "-".into(), |t| local(t, tz)),
    );
    sheet.section("Counts");
    sheet.field(
        "Declared (counted by hand)",
        &batch
            .declared_count
            .map_or_else(|| "-".into(), |n| n.to_string()),
    );
    sheet.field(
        if batch.closed_at.is_some() {
            "Accepted (scanned, at close)"
        } else {
            "Accepted (scanned, so far)"
        },
        &batch.accepted_count.to_string(),
    );
    sheet.field("Scans recorded", &batch.scans.to_string());
    sheet.text("Its entries now, by outcome (a scan reversed since counts as reversed):");
    for (kind, n) in outcomes.iter().filter(|(_, n)| **n > 0) {
        sheet.field(&format!("  {}", label(kind)), &n.to_string());
    }
    let discrepancy = batch
        .declared_count
        .map(|d| d - batch.accepted_count)
        .filter(|d| *d != 0);
    sheet.field(
        "Discrepancy",
        &discrepancy.map_or_else(
            || "none".to_string(),
            |d| format!("{d:+} (declared minus accepted)"),
        ),
    );
    sheet.field("Resolution", &or_dash(batch.resolution_note.as_deref()));
    sheet.section("Signatures");
    sheet.signature("Opened by (print name and sign)");
    sheet.signature("Closed by (print name and sign)");
    sheet.signature("Count verified by (print name and sign)");
    sheet.signature("Received into secure storage by (print name and sign)");
    let pages = sheet.page_count();
    Ok((sheet.finish(), pages))
}

/// A day's events and batches, gathered for its reconciliation.
#[derive(Default)]
struct Day {
    counts: BTreeMap<String, i64>,
    corrections: Vec<DayEvent>,
    conflicts: Vec<DayEvent>,
}

/// The station's reconciliation of local day `date`.
pub fn day_report(ledger: &Ledger, date: NaiveDate) -> Result<(Vec<u8>, usize), ExportError> {
    let tz = ledger.station().timezone;
    let (start, end) = crate::local_time::day_bounds(date, tz)
        .ok_or_else(|| io_err(Path::new("."), &format!("{date} has no midnight in {tz}")))?;
    let (from, to) = (
        crate::ledger::format_time(start),
        crate::ledger::format_time(end),
    );
    let mut day = Day::default();
    ledger.for_each_day_event(&from, &to, |e| {
        let key = match (&e.kind[..], &e.outcome) {
            ("scan", Some(o)) => o.clone(),
            (k, _) => k.to_string(),
        };
        *day.counts.entry(key).or_default() += 1;
        if e.kind == "correction" {
            day.corrections.push(e.clone());
        }
        Ok(())
    })?;
    ledger.for_each_day_hub_entry(&from, &to, |e| {
        day.conflicts.push(e.clone());
        Ok(())
    })?;
    let batches: Vec<Batch> = ledger
        .batches()?
        .into_iter()
        .filter(|b| {
            let within = |t: &str| t >= from.as_str() && t < to.as_str();
            within(&b.opened_at)
                || b.closed_at.as_deref().is_some_and(within)
                || (b.opened_at.as_str() < from.as_str() && b.closed_at.is_none())
        })
        .collect();

    let printed = Utc::now().with_timezone(&tz).format("%Y-%m-%d %H:%M %Z");
    let station = &ledger.station().station_id;
    let mut sheet = Sheet::new(
        &format!("Reconciliation {date}"),
        &format!(
            "ballot-intake - station {station} - reconciliation of {date} - printed {printed}"
        ),
    );
    sheet.heading(&format!(
        "Daily reconciliation: {}",
        date.format("%A %-d %B %Y")
    ));
    header(&mut sheet, ledger);
    sheet.field("Local day", &format!("{date} ({tz})"));
    sheet.section("Entries by outcome, as scanned (corrections listed below)");
    if day.counts.is_empty() {
        sheet.text("No entries on this day.");
    }
    for (kind, n) in &day.counts {
        sheet.field(&label(kind), &n.to_string());
    }
    sheet.section("Batches");
    let cols = [0.0, 45.0, 150.0, 250.0, 330.0, 380.0, 430.0];
    sheet.row(
        &[
            (cols[0], "Batch"),
            (cols[1], "Container"),
            (cols[2], "Opened"),
            (cols[3], "Closed"),
            (cols[4], "Declared"),
            (cols[5], "Accepted"),
            (cols[6], "Discrepancy"),
        ],
        true,
    );
    let short = |t: Option<&str>| {
        t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(
                || "-".into(),
                |t| t.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
            )
    };
    let mut discrepancies = Vec::new();
    for b in &batches {
        let gap = b
            .declared_count
            .map(|d| d - b.accepted_count)
            .filter(|d| *d != 0);
        if let Some(g) = gap {
            discrepancies.push((b.batch_id, g, b.resolution_note.clone()));
        }
        sheet.row(
            &[
                (cols[0], &b.batch_id.to_string()),
                (cols[1], &or_dash(b.container_id.as_deref())),
                (cols[2], &short(Some(&b.opened_at))),
                (cols[3], &short(b.closed_at.as_deref())),
                (
                    cols[4],
                    &b.declared_count
                        .map_or_else(|| "-".into(), |n| n.to_string()),
                ),
                (cols[5], &b.accepted_count.to_string()),
                (
                    cols[6],
                    &gap.map_or_else(|| "none".into(), |g| format!("{g:+}")),
                ),
            ],
            false,
        );
    }
    if batches.is_empty() {
        sheet.text("No batch was open on this day.");
    }
    sheet.section("Discrepancies");
    if discrepancies.is_empty() {
        sheet.text("None.");
    }
    for (batch, gap, note) in &discrepancies {
        sheet.text(&format!(
            "Batch {batch}: {gap:+}; resolution: {}",
            or_dash(note.as_deref())
        ));
    }
    sheet.section("Corrections");
    if day.corrections.is_empty() {
        sheet.text("None.");
    }
    for c in &day.corrections {
        sheet.text(&format!(
            "{}-{} reverses {}-{}: {}",
            c.station_id,
            c.seq,
            c.station_id,
            c.corrects.unwrap_or_default(),
            or_dash(c.reason.as_deref())
        ));
    }
    sheet.section("Cross-station duplicates (county hub)");
    if day.conflicts.is_empty() {
        sheet.text("None.");
    }
    for c in &day.conflicts {
        sheet.text(&format!(
            "{}-{}{}: ballot {}; {}",
            c.station_id,
            c.seq,
            c.suffix,
            or_dash(c.ballot_id.as_deref()),
            or_dash(c.reason.as_deref())
        ));
    }
    sheet.section("Signatures");
    sheet.signature("Prepared by (print name and sign)");
    sheet.signature("Reviewed by, supervisor (print name and sign)");
    let pages = sheet.page_count();
    Ok((sheet.finish(), pages))
}

/// Writes `pdf` to `path` (atomically), signs it, and audits it as `what`.
pub fn write(
    ledger: &mut Ledger,
    (pdf, pages): (Vec<u8>, usize),
    path: &Path,
    what: &str,
    by: Option<&User>,
) -> Result<Written, ExportError> {
    crate::files::write_atomically(path, &pdf).map_err(|e| io_err(path, &e))?;
    let key = crate::signing::station_key(ledger)?;
    let signature = key.sign_file(path).map_err(|e| io_err(path, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ledger.record_report(&name, what, by)?;
    Ok(Written {
        pdf: path.to_path_buf(),
        signature,
        pages,
    })
}

/// A report written for printing: where it is, and what it is in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToPrint {
    /// The signed PDF.
    pub pdf: PathBuf,
    /// "The custody sheet of batch 4", "The reconciliation of 2026-11-03".
    pub what: String,
}

impl ToPrint {
    /// Where the file is, for the screen, before the printer has answered.
    pub fn written(&self) -> String {
        format!("{} is in {} (signed).", self.what, self.pdf.display())
    }
}

/// Writes into `folder` the custody sheet of batch `batch`, or, without one, the
/// reconciliation of the station's current local day; signs and audits it. Printing
/// it ([`send_to_printer`]) is left to the caller, off the ledger's thread: a slow
/// or stuck printing system must never hold a scan up.
pub fn write_for_printing(
    ledger: &mut Ledger,
    batch: Option<i64>,
    folder: &Path,
    by: &User,
) -> Result<ToPrint, ExportError> {
    std::fs::create_dir_all(folder).map_err(|e| io_err(folder, &e))?;
    let station = crate::export::file_safe(&ledger.station().station_id);
    let (pdf, path, what) = match batch {
        Some(n) => {
            let b = ledger.batch(n)?;
            (
                batch_sheet(ledger, &b)?,
                folder.join(format!("ballot-intake_{station}_batch-{n}.pdf")),
                format!("The custody sheet of batch {n}"),
            )
        }
        None => {
            let tz = ledger.station().timezone;
            let today = Utc::now().with_timezone(&tz).date_naive();
            (
                day_report(ledger, today)?,
                folder.join(format!("ballot-intake_{station}_day-{today}.pdf")),
                format!("The reconciliation of {today}"),
            )
        }
    };
    let written = write(ledger, pdf, &path, &what.to_lowercase(), Some(by))?;
    Ok(ToPrint {
        pdf: written.pdf,
        what,
    })
}

/// Hands `pdf` to the printing system (CUPS's `lp`, the default printer) and says
/// what came of it; a station without one keeps the file to print from elsewhere.
pub fn send_to_printer(pdf: &Path) -> String {
    match std::process::Command::new("lp")
        .arg("--")
        .arg(pdf)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => "Sent to the default printer.".to_string(),
        Ok(out) => format!(
            "The printer refused it ({}): print the file from that folder.",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(_) => {
            "This station has no printing system (lp): print the file from that folder.".to_string()
        }
    }
}
