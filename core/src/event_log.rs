//! The audit log as an Election Event Log in the JSON format of NIST SP 1500-101
//! (`EventLogging.ElectionEventLog`), with its companion documentation file
//! (`EventLogging.ElectionEventLogDocumentation`) describing every event id and type
//! the station writes; both signed with the station's key.
//!
//! An auditor reads these without this program. So each event carries, besides
//! NIST's fields, everything its row's hash covers (in `Details`, as JSON), and the
//! device's `Details` says how the hash is computed: the chain can be recomputed
//! from the file alone.
//!
//! The log is written one row at a time, so a station's whole season (a row per
//! scan) never has to fit in memory. The same log and documentation are written in
//! NIST's XML form too (`xml.rs`), for readers and validators that take XML.

mod xml;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, AuditRow};
use crate::export::{ExportError, io_err};
use crate::ledger::{Ledger, LedgerError, User};

/// How the station's audit-row hash is computed, in words for the reader of the log.
pub const HASH_RULE: &str = "Each Event's Hash is the lower-case hex SHA-256 of an encoding of \
a list of fields, each written as one byte 0 when absent (null), else as one byte 1, its length \
in bytes as 8 bytes big-endian, and its UTF-8 bytes. The fields, in order: the text \
\"ballot-intake/audit/v1\", Sequence, TimeStamp, Id, Details.event, Type, Disposition, UserId, \
Details.role, Details.station_id, Details.election_id, Details.subject_seq, \
Details.subject_digest, Details.detail, Details.prev_hash; numbers as decimal text. \
Details.prev_hash is the previous row's Hash (64 zeros before the first row), so a changed, \
missing or reordered row breaks the chain at the first row touched.";

/// The device as both forms name it.
const MANUFACTURER: &str = "ballot-intake project";
const MODEL: &str = "ballot-intake";
/// NIST lists no intake station among its device types: "other", and this.
const DEVICE_KIND: &str = "mail-ballot-envelope-intake";

/// The two event types the station writes, with what each means.
const TYPES: [(&str, &str); 2] = [
    (
        "user-action",
        "Done by a person: a signed-in user, or a user named and checked by PIN (UserId).",
    ),
    (
        "system-action",
        "Done by the station on its own (a schema upgrade, a lock after wrong PINs, the sync's answers).",
    ),
];

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLogExport {
    /// The event log.
    pub log: PathBuf,
    /// Its documentation file.
    pub documentation: PathBuf,
    /// The same log in NIST's XML form.
    pub log_xml: PathBuf,
    /// The same documentation in XML.
    pub documentation_xml: PathBuf,
    /// The detached signatures of the two.
    pub signatures: Vec<PathBuf>,
    /// Audit rows in the log.
    pub entries: u64,
    /// The first and last sequence numbers, if any rows.
    pub first_seq: Option<i64>,
    /// The last sequence number.
    pub last_seq: Option<i64>,
}

/// What a row's hash covers beyond NIST's own fields, as the JSON text both forms
/// carry in the event's `Details`.
fn details(row: &AuditRow) -> String {
    json!({
        "event": row.event,
        "role": row.role,
        "station_id": row.station_id,
        "election_id": row.election_id,
        "subject_seq": row.subject_seq,
        "subject_digest": row.subject_digest,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
    })
    .to_string()
}

/// One audit row as a NIST `EventLogging.Event`, with its `Details` (from
/// [`details`]).
fn nist_event(row: &AuditRow, details: &str) -> serde_json::Value {
    let mut event = json!({
        "@type": "EventLogging.Event",
        "Id": row.event_id.to_string(),
        "Type": row.kind,
        "Sequence": row.seq.to_string(),
        "TimeStamp": row.at,
        "Disposition": row.disposition,
        "Description": row.event,
        "Hash": row.hash,
        "Details": details,
    });
    if let Some(user) = &row.user_name {
        event["UserId"] = json!(user);
    }
    event
}

/// Writes the event log of the audit rows of local days `from` to `to` (each
/// optional: the whole log) and its documentation into `out`, signs both, and audits
/// the export.
pub fn export_event_log(
    ledger: &mut Ledger,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    out: &Path,
    by: Option<&User>,
) -> Result<EventLogExport, ExportError> {
    let station = ledger.station().clone();
    let tz = station.timezone;
    let bound = |d: NaiveDate, next: bool| -> Result<String, ExportError> {
        let (start, end) = crate::local_time::day_bounds(d, tz)
            .ok_or_else(|| io_err(out, &format!("{d} has no midnight in {tz}")))?;
        Ok(crate::ledger::format_time(if next { end } else { start }))
    };
    let from_at = from.map(|d| bound(d, false)).transpose()?;
    let to_at = to.map(|d| bound(d, true)).transpose()?;
    let span = match (from, to) {
        (None, None) => "all".to_string(),
        (f, t) => format!(
            "{}_{}",
            f.map_or_else(|| "start".into(), |d| d.to_string()),
            t.map_or_else(|| "now".into(), |d| d.to_string())
        ),
    };
    std::fs::create_dir_all(out).map_err(|e| io_err(out, &e))?;
    let id_part = crate::export::file_safe(&station.station_id);
    let log_path = out.join(format!("ballot-intake_{id_part}_event-log_{span}.json"));
    let doc_path = out.join(format!(
        "ballot-intake_{id_part}_event-log-documentation.json"
    ));
    let election = ledger.status().ok().map(|s| s.election.election_id);
    let generated = crate::ledger::format_time(Utc::now());

    let device_details = format!(
        "Intake station {} of {} County ({tz}); audit log rows {}. {HASH_RULE}",
        station.station_id,
        station.county,
        match (&from, &to) {
            (None, None) => "from the first".to_string(),
            _ => format!("written on local days {span}").replace('_', " to "),
        }
    );
    let log_details = format!(
        "The audit log of ballot-intake station {}.",
        station.station_id
    );

    let log_xml = log_path.with_extension("xml");
    let xml_head = xml::Head {
        details: &log_details,
        device_details: &device_details,
        device_id: &station.station_id,
        election_id: election.as_deref(),
        generated: &generated,
    };
    let mut entries = 0u64;
    let (mut first_seq, mut last_seq) = (None, None);
    // One pass over the rows writes both forms, each through its own temporary file
    // (the XML's outermost, so it is put in place last); a failure is kept with the
    // name of the file it happened to.
    let mut failed: Option<ExportError> = None;
    let written = crate::files::write_with(&log_xml, |xml_file| {
        let mut xml_log = xml::LogWriter::start(std::io::BufWriter::new(xml_file), &xml_head)?;
        crate::files::write_with(&log_path, |file| {
            let mut w = std::io::BufWriter::new(file);
            let device_head = json!({
                "@type": "EventLogging.Device",
                "Id": station.station_id,
                "Type": "other",
                "OtherType": DEVICE_KIND,
                "Manufacturer": MANUFACTURER,
                "Model": MODEL,
                "Version": env!("CARGO_PKG_VERSION"),
                "HashType": "sha-256",
                "Details": device_details,
            });
            let mut head = json!({
                "@type": "EventLogging.ElectionEventLog",
                "GeneratedTime": generated,
                "Details": log_details,
            });
            if let Some(e) = &election {
                head["ElectionId"] = json!(e);
            }
            // The object's fields, then the device's, then its events one by one.
            let head_text = head.to_string();
            let device_text = device_head.to_string();
            w.write_all(head_text.trim_end_matches('}').as_bytes())?;
            w.write_all(b",\"Device\":[")?;
            w.write_all(device_text.trim_end_matches('}').as_bytes())?;
            w.write_all(b",\"Event\":[\n")?;
            let rows = ledger.for_each_audit(from_at.as_deref(), to_at.as_deref(), |row| {
                let sep: &[u8] = if first_seq.is_none() { b"" } else { b",\n" };
                first_seq.get_or_insert(row.seq);
                last_seq = Some(row.seq);
                let details = details(row);
                let json_event = nist_event(row, &details).to_string();
                if let Err(e) = w
                    .write_all(sep)
                    .and_then(|()| w.write_all(json_event.as_bytes()))
                {
                    failed = Some(io_err(&log_path, &e));
                } else if let Err(e) = xml_log.event(row, &details) {
                    failed = Some(io_err(&log_xml, &e));
                }
                match &failed {
                    Some(e) => Err(LedgerError::Invalid(e.to_string())),
                    None => Ok(()),
                }
            });
            entries = rows.map_err(|e| std::io::Error::other(e.to_string()))?;
            w.write_all(b"\n]}]}\n")?;
            w.flush()
        })
        .map_err(|e| {
            let said = e.to_string();
            failed.get_or_insert_with(|| io_err(&log_path, &e));
            std::io::Error::other(said)
        })?;
        xml_log.finish(&xml_head)?.flush()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    written.map_err(|e| io_err(&log_xml, &e))?;

    let documentation = documentation(&station.station_id);
    let doc_bytes = serde_json::to_vec_pretty(&documentation).map_err(|e| io_err(&doc_path, &e))?;
    crate::files::write_atomically(&doc_path, &doc_bytes).map_err(|e| io_err(&doc_path, &e))?;
    let doc_xml = doc_path.with_extension("xml");
    let doc_xml_bytes = xml::documentation(
        &station.station_id,
        &event_ids(),
        &TYPES,
        &Utc::now().date_naive().to_string(),
    )
    .map_err(|e| io_err(&doc_xml, &e))?;
    crate::files::write_atomically(&doc_xml, &doc_xml_bytes).map_err(|e| io_err(&doc_xml, &e))?;

    let key = crate::signing::station_key(ledger)?;
    let mut signatures = Vec::new();
    for f in [&log_path, &doc_path, &log_xml, &doc_xml] {
        signatures.push(key.sign_file(f).map_err(|e| io_err(f, &e))?);
    }
    let name = log_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ledger.record_event_log_export(&name, entries, by)?;
    Ok(EventLogExport {
        log: log_path,
        documentation: doc_path,
        log_xml,
        documentation_xml: doc_xml,
        signatures,
        entries,
        first_seq,
        last_seq,
    })
}

/// Every event id the station can write, with its description.
fn event_ids() -> Vec<(String, String)> {
    AuditEvent::ALL
        .iter()
        .map(|e| {
            (
                e.id().to_string(),
                format!(
                    "{} ({}, {}): {}",
                    e.name(),
                    e.kind().as_str(),
                    e.disposition().as_str(),
                    e.description()
                ),
            )
        })
        .collect()
}

/// The `EventLogging.ElectionEventLogDocumentation`: every event id the station can
/// write and the two types.
pub fn documentation(station_id: &str) -> serde_json::Value {
    let ids: Vec<serde_json::Value> = event_ids()
        .into_iter()
        .map(|(id, description)| {
            json!({
                "@type": "EventLogging.EventIdDescription",
                "Id": id,
                "Description": description,
            })
        })
        .collect();
    let types: Vec<serde_json::Value> = TYPES
        .iter()
        .map(|(kind, description)| {
            json!({
                "@type": "EventLogging.EventTypeDescription",
                "Type": kind,
                "Description": description,
            })
        })
        .collect();
    json!({
        "@type": "EventLogging.ElectionEventLogDocumentation",
        "DeviceId": station_id,
        "DeviceManufacturer": MANUFACTURER,
        "DeviceModel": MODEL,
        "DeviceVersion": env!("CARGO_PKG_VERSION"),
        "GeneratedDate": Utc::now().date_naive().to_string(),
        "EventIdDescription": ids,
        "EventTypeDescription": types,
    })
}
