//! Elections: a ledger keeps every election it has seen, and exactly one is active.
//! Imports and scans always work on the active one, so a file or an envelope of
//! another election can be recognised and refused instead of being counted.

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::{Ledger, LedgerError, Result, Station, User, format_time};
use crate::audit::AuditEvent;
use crate::barcode::CheckDigit;
use crate::intake::Deadlines;

/// The facts needed to add an election.
#[derive(Debug, Clone)]
pub struct NewElection {
    /// The state's election id, as in the mail ballot file.
    pub election_id: String,
    /// Human name ("2026 General").
    pub name: String,
    /// Election day.
    pub date: NaiveDate,
    /// Ballot id check-digit scheme.
    pub check_digit: CheckDigit,
}

/// An election held in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Election {
    /// The state's election id.
    pub election_id: String,
    /// Human name.
    pub name: String,
    /// Election day.
    pub date: NaiveDate,
    /// Ballot id check-digit scheme.
    #[serde(serialize_with = "ser_check")]
    pub check_digit: CheckDigit,
    /// Whether imports and scans go to this election.
    pub active: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes fields by reference
fn ser_check<S: serde::Serializer>(c: &CheckDigit, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

impl Election {
    /// The election's receipt deadlines in the station's time zone.
    pub fn deadlines(&self, station: &Station) -> Result<Deadlines> {
        Deadlines::for_election(self.date, station.timezone).ok_or_else(|| {
            LedgerError::Invalid(format!(
                "election {} has no 19:00 on {} in {}",
                self.election_id, self.date, station.timezone
            ))
        })
    }
}

fn check_new(e: &NewElection) -> Result<()> {
    if e.election_id.trim().is_empty() || e.election_id.len() > 64 {
        return Err(LedgerError::Invalid(
            "the election id must be 1 to 64 characters".into(),
        ));
    }
    if e.name.trim().is_empty() {
        return Err(LedgerError::Invalid("the election name is empty".into()));
    }
    Ok(())
}

/// Inserts an election inside `tx`, making it the active one if asked.
pub(crate) fn insert_election(
    tx: &Transaction<'_>,
    station: &Station,
    e: &NewElection,
    activate: bool,
    by: Option<&User>,
) -> Result<()> {
    check_new(e)?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM elections WHERE election_id = ?1)",
        [&e.election_id],
        |r| r.get(0),
    )?;
    if exists {
        return Err(LedgerError::ElectionExists(e.election_id.clone()));
    }
    tx.execute(
        "INSERT INTO elections (election_id, name, election_date, check_digit, active, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        params![
            e.election_id,
            e.name,
            e.date.format("%Y-%m-%d").to_string(),
            e.check_digit.as_str(),
            format_time(Utc::now())
        ],
    )?;
    append(
        tx,
        station,
        &AuditEntry::user(AuditEvent::ElectionAdded, by)
            .election(&e.election_id)
            .detail(json!({
                "name": e.name,
                "date": e.date.to_string(),
                "check_digit": e.check_digit.as_str(),
            })),
    )?;
    if activate {
        activate_in(tx, station, &e.election_id, by)?;
    }
    Ok(())
}

fn activate_in(
    tx: &Transaction<'_>,
    station: &Station,
    election_id: &str,
    by: Option<&User>,
) -> Result<()> {
    let previous: Option<String> = tx
        .query_row(
            "SELECT election_id FROM elections WHERE active = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    // A tray open under one election and scanned on under another would hold
    // envelopes of two elections: the tray is closed (counted, second person) first.
    let open: Option<(i64, String)> = tx
        .query_row(
            "SELECT b.batch_id, u.name FROM batches b JOIN users u ON u.user_id = b.opened_by
             WHERE b.status = 'open' ORDER BY b.batch_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((batch, by)) = open
        && previous.as_deref() != Some(election_id)
    {
        return Err(LedgerError::Invalid(format!(
            "batch {batch} (opened by {by}) is still open: close it before changing the active election"
        )));
    }
    tx.execute("UPDATE elections SET active = 0 WHERE active = 1", [])?;
    let n = tx.execute(
        "UPDATE elections SET active = 1 WHERE election_id = ?1",
        [election_id],
    )?;
    if n != 1 {
        return Err(LedgerError::UnknownElection(election_id.to_string()));
    }
    append(
        tx,
        station,
        &AuditEntry::user(AuditEvent::ElectionActivated, by)
            .election(election_id)
            .detail(json!({ "previous": previous })),
    )?;
    Ok(())
}

fn election_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String, bool)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_election(row: (String, String, String, String, bool)) -> Result<Election> {
    let (election_id, name, date, check, active) = row;
    Ok(Election {
        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|e| LedgerError::Sqlite(format!("bad stored date {date:?}: {e}")))?,
        check_digit: check.parse().map_err(LedgerError::Sqlite)?,
        election_id,
        name,
        active,
    })
}

const ELECTION_COLUMNS: &str = "election_id, name, election_date, check_digit, active";

/// The active election, read through any connection or transaction.
pub(crate) fn active_election(conn: &Connection) -> Result<Election> {
    // Read on every scan: keep the prepared statement.
    let row = conn
        .prepare_cached(
            "SELECT election_id, name, election_date, check_digit, active FROM elections WHERE active = 1",
        )?
        .query_row([], election_row)
        .optional()?;
    to_election(row.ok_or(LedgerError::NoActiveElection)?)
}

impl Ledger {
    /// Adds an election (administrators); with `activate`, it becomes the active one.
    pub fn add_election(&mut self, by: &User, e: &NewElection, activate: bool) -> Result<()> {
        by.require_admin("add elections")?;
        self.write(|tx, station| insert_election(tx, station, e, activate, Some(by)))
    }

    /// Makes an existing election the active one (administrators).
    pub fn activate_election(&mut self, by: &User, election_id: &str) -> Result<()> {
        by.require_admin("change the active election")?;
        self.write(|tx, station| activate_in(tx, station, election_id, Some(by)))
    }

    /// The active election.
    pub fn active_election(&self) -> Result<Election> {
        active_election(&self.conn)
    }

    /// Every election, oldest first.
    pub fn elections(&self) -> Result<Vec<Election>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ELECTION_COLUMNS} FROM elections ORDER BY created_at, election_id"
        ))?;
        let rows = stmt
            .query_map([], election_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_election).collect()
    }
}
