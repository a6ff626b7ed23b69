//! Appending to and reading the audit log inside ledger transactions.

use chrono::Utc;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::{Ledger, Result, Station, format_time};
use crate::audit::{AuditEvent, AuditRow, GENESIS_HASH};
use crate::ledger::User;

/// What a caller says about an audited action; the chain fields are filled in by
/// [`append`].
pub(crate) struct AuditEntry<'a> {
    event: AuditEvent,
    user_name: Option<&'a str>,
    role: Option<&'a str>,
    election_id: Option<&'a str>,
    subject: Option<(i64, String)>,
    detail: Value,
}

impl<'a> AuditEntry<'a> {
    /// An action by `user` (or by an unnamed operator at the command line).
    pub fn user(event: AuditEvent, user: Option<&'a User>) -> Self {
        AuditEntry {
            event,
            user_name: user.map(|u| u.name.as_str()),
            role: user.map(|u| u.role.as_str()),
            election_id: None,
            subject: None,
            detail: Value::Object(serde_json::Map::new()),
        }
    }

    /// An action the station took on its own.
    pub fn system(event: AuditEvent) -> Self {
        Self::user(event, None)
    }

    /// Names a user who is not (or not yet) signed in, such as a failed sign-in.
    pub fn named(mut self, name: &'a str) -> Self {
        self.user_name = Some(name);
        self
    }

    /// The election concerned.
    pub fn election(mut self, election_id: &'a str) -> Self {
        self.election_id = Some(election_id);
        self
    }

    /// The ledger event this row vouches for, with its digest.
    pub fn subject(mut self, seq: i64, digest: String) -> Self {
        self.subject = Some((seq, digest));
        self
    }

    /// Free detail.
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// The SHA-256 (hex) of a record's fields, each ended by a NUL: the digest an audit
/// row vouches for when the record's table is not append-only (a user, a scanned
/// ballot), so that `verify` can name an edit by recomputing it.
pub(crate) fn record_digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Appends one row to the chain inside the write transaction open on `tx`. Returns
/// its sequence number.
pub(crate) fn append(
    tx: &rusqlite::Connection,
    station: &Station,
    entry: &AuditEntry<'_>,
) -> Result<i64> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
    let mut row = AuditRow {
        seq: prev_seq + 1,
        at: format_time(Utc::now()),
        event_id: i64::from(entry.event.id()),
        event: entry.event.name().to_string(),
        kind: entry.event.kind().as_str().to_string(),
        disposition: entry.event.disposition().as_str().to_string(),
        user_name: entry.user_name.map(str::to_string),
        role: entry.role.map(str::to_string),
        station_id: station.station_id.clone(),
        election_id: entry.election_id.map(str::to_string),
        subject_seq: entry.subject.as_ref().map(|s| s.0),
        subject_digest: entry.subject.as_ref().map(|s| s.1.clone()),
        detail: entry.detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = row.compute_hash();
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, event_id, event, kind, disposition, user_name, role,
             station_id, election_id, subject_seq, subject_digest, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        row.seq,
        row.at,
        row.event_id,
        row.event,
        row.kind,
        row.disposition,
        row.user_name,
        row.role,
        row.station_id,
        row.election_id,
        row.subject_seq,
        row.subject_digest,
        row.detail,
        row.prev_hash,
        row.hash
    ])?;
    Ok(row.seq)
}

/// The columns of `audit_log` in [`AuditRow`] order.
pub(crate) const AUDIT_COLUMNS: &str = "seq, at, event_id, event, kind, disposition, user_name, role, \
     station_id, election_id, subject_seq, subject_digest, detail, prev_hash, hash";

/// Reads a row selected with [`AUDIT_COLUMNS`].
pub(crate) fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        event_id: r.get(2)?,
        event: r.get(3)?,
        kind: r.get(4)?,
        disposition: r.get(5)?,
        user_name: r.get(6)?,
        role: r.get(7)?,
        station_id: r.get(8)?,
        election_id: r.get(9)?,
        subject_seq: r.get(10)?,
        subject_digest: r.get(11)?,
        detail: r.get(12)?,
        prev_hash: r.get(13)?,
        hash: r.get(14)?,
    })
}

impl Ledger {
    /// The newest `limit` audit rows, newest first.
    pub fn recent_audit(&self, limit: usize) -> Result<Vec<AuditRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Calls `f` with every audit row written at or after `from` and before `to`
    /// (UTC instants as stored; either may be open), in sequence order, one row in
    /// memory at a time.
    pub fn for_each_audit(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        mut f: impl FnMut(&AuditRow) -> Result<()>,
    ) -> Result<u64> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) ORDER BY seq"
        ))?;
        let mut rows = stmt.query(rusqlite::params![from, to])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            f(&audit_row(r)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Records an export of the audit log as an event log.
    pub fn record_event_log_export(
        &mut self,
        file: &str,
        entries: u64,
        by: Option<&User>,
    ) -> Result<()> {
        self.audit_now(
            &AuditEntry::user(AuditEvent::EventLogExported, by)
                .detail(serde_json::json!({ "file": file, "entries": entries })),
        )?;
        Ok(())
    }

    /// Records a report (PDF) written.
    pub fn record_report(&mut self, file: &str, what: &str, by: Option<&User>) -> Result<()> {
        self.audit_now(
            &AuditEntry::user(AuditEvent::ReportWritten, by)
                .detail(serde_json::json!({ "file": file, "report": what })),
        )?;
        Ok(())
    }

    /// Writes a standalone audit row in its own transaction (for failures, which must
    /// be logged even though the action itself was rolled back).
    pub(crate) fn audit_now(&mut self, entry: &AuditEntry<'_>) -> Result<i64> {
        self.write(|tx, station| append(tx, station, entry))
    }
}
