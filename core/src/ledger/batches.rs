//! Batches (trays or sealed containers): the chain-of-custody record of Colorado
//! Election Rule 20. Two people close a batch, and a declared count that differs from
//! what was scanned holds the batch for a supervisor.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{AuditEntry, append};
use super::elections::active_election;
use super::{Ledger, LedgerError, Result, User, format_time};
use crate::audit::AuditEvent;

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Being scanned into.
    Open,
    /// Closed with a matching count.
    Closed,
    /// Closed with a count that differs; waits for a supervisor.
    Discrepancy,
    /// A supervisor resolved the discrepancy with a note.
    Resolved,
}

impl BatchStatus {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "open" => BatchStatus::Open,
            "closed" => BatchStatus::Closed,
            "discrepancy" => BatchStatus::Discrepancy,
            "resolved" => BatchStatus::Resolved,
            other => return Err(LedgerError::Sqlite(format!("bad batch status {other:?}"))),
        })
    }

    /// The word stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Open => "open",
            BatchStatus::Closed => "closed",
            BatchStatus::Discrepancy => "discrepancy",
            BatchStatus::Resolved => "resolved",
        }
    }
}

/// A batch record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// Station-local batch number.
    pub batch_id: i64,
    /// The election its envelopes belong to.
    pub election_id: String,
    /// The station that opened it.
    pub station_id: String,
    /// Container or tray label, if recorded.
    pub container_id: Option<String>,
    /// Seal numbers, if recorded.
    pub seals: Vec<String>,
    /// Who opened it.
    pub opened_by: String,
    /// When (UTC).
    pub opened_at: String,
    /// When its envelopes were received, if recorded (UTC).
    pub received_at: Option<String>,
    /// Its state.
    pub status: BatchStatus,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// The second person who verified the count.
    pub verified_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<String>,
    /// The physical count declared at close.
    pub declared_count: Option<i64>,
    /// Envelopes accepted into it (not reversed), live while open, fixed at close.
    pub accepted_count: i64,
    /// Every scan recorded in it, whatever the outcome.
    pub scans: i64,
    /// Supervisor's resolution note, if any.
    pub resolution_note: Option<String>,
}

/// What a clerk records when opening a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBatch {
    /// Container or tray label.
    pub container: Option<String>,
    /// Seal numbers on the container.
    pub seals: Vec<String>,
    /// When the county received the container's envelopes (a drop box's collection
    /// time), if they were received before they are scanned.
    pub received_at: Option<DateTime<Utc>>,
    /// The supervisor who confirmed a `received_at` more than
    /// [`RECEIVED_AT_GRACE_MINUTES`] before the batch is opened (signed in by the
    /// caller with their own PIN). A clerk alone cannot date envelopes back: the
    /// time decides which envelopes are late.
    pub confirmed_by: Option<User>,
}

/// How far before now a clerk may date a batch's receipt without a supervisor: the
/// walk from the drop box to the station.
pub const RECEIVED_AT_GRACE_MINUTES: i64 = 10;

/// The result of closing a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchClose {
    /// The batch as closed.
    pub batch: Batch,
    /// Whether the declared count differs from the accepted count.
    pub discrepancy: bool,
}

const BATCH_SELECT: &str =
    "SELECT b.batch_id, b.election_id, b.station_id, b.container_id, b.seals,
        uo.name, b.opened_at, b.status, uc.name, uv.name, b.closed_at, b.declared_count,
        b.scanned_count, b.resolution_note,
        (SELECT count(*) FROM events e WHERE e.batch_id = b.batch_id AND e.kind = 'scan'),
        b.received_at
     FROM batches b
     JOIN users uo ON uo.user_id = b.opened_by
     LEFT JOIN users uc ON uc.user_id = b.closed_by
     LEFT JOIN users uv ON uv.user_id = b.verified_by";

type BatchRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
);

fn batch_row(r: &Row<'_>) -> rusqlite::Result<BatchRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
    ))
}

/// Envelopes accepted into a batch and not reversed: what should be in the tray.
pub(crate) fn accepted_in_batch(conn: &Connection, batch_id: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM events e
         WHERE e.batch_id = ?1 AND e.kind = 'scan' AND e.outcome = 'accepted'
           AND NOT EXISTS (SELECT 1 FROM events c WHERE c.corrects = e.seq)",
        [batch_id],
        |r| r.get(0),
    )?)
}

fn to_batch(conn: &Connection, row: BatchRow) -> Result<Batch> {
    let status = BatchStatus::parse(&row.7)?;
    let accepted_count = match (status, row.12) {
        (BatchStatus::Open, _) | (_, None) => accepted_in_batch(conn, row.0)?,
        (_, Some(n)) => n,
    };
    Ok(Batch {
        batch_id: row.0,
        election_id: row.1,
        station_id: row.2,
        container_id: row.3,
        seals: serde_json::from_str(&row.4).unwrap_or_default(),
        opened_by: row.5,
        opened_at: row.6,
        received_at: row.15,
        status,
        closed_by: row.8,
        verified_by: row.9,
        closed_at: row.10,
        declared_count: row.11,
        accepted_count,
        scans: row.14,
        resolution_note: row.13,
    })
}

pub(crate) fn get_batch(conn: &Connection, batch_id: i64) -> Result<Batch> {
    let row = conn
        .query_row(
            &format!("{BATCH_SELECT} WHERE b.batch_id = ?1"),
            [batch_id],
            batch_row,
        )
        .optional()?
        .ok_or_else(|| LedgerError::Batch(format!("no batch {batch_id} in this ledger")))?;
    to_batch(conn, row)
}

/// The user's open batch in the active election, if any.
pub(crate) fn open_batch_of(
    tx: &Connection,
    user: &User,
    election_id: &str,
) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT batch_id FROM batches WHERE opened_by = ?1 AND election_id = ?2 AND status = 'open'",
            params![user.user_id, election_id],
            |r| r.get(0),
        )
        .optional()?)
}

fn open_in(
    tx: &Transaction<'_>,
    station: &super::Station,
    user: &User,
    batch: &NewBatch,
) -> Result<i64> {
    let election = active_election(tx)?;
    let now = Utc::now();
    if let Some(at) = batch.received_at
        && at > now
    {
        return Err(LedgerError::Invalid(format!(
            "the received time {} is in the future; give the time the container was collected",
            at.with_timezone(&station.timezone).format("%Y-%m-%d %H:%M")
        )));
    }
    let confirmer = match batch.received_at {
        Some(at) if now - at > chrono::Duration::minutes(RECEIVED_AT_GRACE_MINUTES) => {
            let by = [batch.confirmed_by.as_ref(), Some(user)]
                .into_iter()
                .flatten()
                .find(|u| u.role.can_supervise());
            let Some(by) = by else {
                return Err(LedgerError::Invalid(format!(
                    "a receipt time more than {RECEIVED_AT_GRACE_MINUTES} minutes ago ({}) must be confirmed by a supervisor",
                    at.with_timezone(&station.timezone).format("%Y-%m-%d %H:%M")
                )));
            };
            Some(by.name.clone())
        }
        _ => None,
    };
    if let Some(existing) = open_batch_of(tx, user, &election.election_id)? {
        return Err(LedgerError::Batch(format!(
            "{} already has batch {existing} open; close it before opening another",
            user.name
        )));
    }
    let seals_json = serde_json::to_string(&batch.seals).unwrap_or_else(|_| "[]".into());
    let received = batch.received_at.map(format_time);
    tx.execute(
        "INSERT INTO batches (election_id, station_id, container_id, seals, opened_by, opened_at,
             received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            election.election_id,
            station.station_id,
            batch.container,
            seals_json,
            user.user_id,
            format_time(now),
            received
        ],
    )?;
    let batch_id = tx.last_insert_rowid();
    append(
        tx,
        station,
        &AuditEntry::user(AuditEvent::BatchOpened, Some(user))
            .election(&election.election_id)
            .detail(json!({
                "batch": batch_id,
                "container": batch.container,
                "seals": batch.seals,
                "received_at": received,
                "received_at_confirmed_by": confirmer,
            })),
    )?;
    Ok(batch_id)
}

impl Ledger {
    /// Opens a batch for `user` in the active election.
    pub fn open_batch(&mut self, user: &User, batch: &NewBatch) -> Result<Batch> {
        let id = self.write(|tx, station| open_in(tx, station, user, batch))?;
        get_batch(&self.conn, id)
    }

    /// The user's open batch, opening one (with no container or seals) if none is open.
    pub fn open_or_current_batch(&mut self, user: &User) -> Result<Batch> {
        let id = self.write(|tx, station| {
            let election = active_election(tx)?;
            match open_batch_of(tx, user, &election.election_id)? {
                Some(id) => Ok(id),
                None => open_in(tx, station, user, &NewBatch::default()),
            }
        })?;
        get_batch(&self.conn, id)
    }

    /// The user's open batch in the active election, if any.
    pub fn current_batch(&self, user: &User) -> Result<Option<Batch>> {
        let election = self.active_election()?;
        open_batch_of(&self.conn, user, &election.election_id)?
            .map(|id| get_batch(&self.conn, id))
            .transpose()
    }

    /// One batch.
    pub fn batch(&self, batch_id: i64) -> Result<Batch> {
        get_batch(&self.conn, batch_id)
    }

    /// Every batch of the active election, newest first.
    pub fn batches(&self) -> Result<Vec<Batch>> {
        let election = self.active_election()?;
        let mut stmt = self.conn.prepare(&format!(
            "{BATCH_SELECT} WHERE b.election_id = ?1 ORDER BY b.batch_id DESC"
        ))?;
        let rows = stmt
            .query_map([&election.election_id], batch_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|r| to_batch(&self.conn, r)).collect()
    }

    /// Closes `batch_id` with the physical count, by `closer` and verified by a second,
    /// different signed-in user. A count that differs from the accepted count marks the
    /// batch `discrepancy`.
    pub fn close_batch(
        &mut self,
        batch_id: i64,
        closer: &User,
        verifier: &User,
        declared: i64,
    ) -> Result<BatchClose> {
        if closer.user_id == verifier.user_id {
            return Err(LedgerError::Batch(
                "a batch is closed by two people: the verifier must be a different user".into(),
            ));
        }
        if declared < 0 {
            return Err(LedgerError::Invalid(
                "the declared count cannot be negative".into(),
            ));
        }
        let discrepancy = self.write(|tx, station| {
            let batch = get_batch(tx, batch_id)?;
            if batch.status != BatchStatus::Open {
                return Err(LedgerError::Batch(format!(
                    "batch {batch_id} is {}, not open",
                    batch.status.as_str()
                )));
            }
            let accepted = accepted_in_batch(tx, batch_id)?;
            let discrepancy = accepted != declared;
            let status = if discrepancy { "discrepancy" } else { "closed" };
            tx.execute(
                "UPDATE batches SET status = ?1, closed_by = ?2, verified_by = ?3, closed_at = ?4,
                     declared_count = ?5, scanned_count = ?6
                 WHERE batch_id = ?7",
                params![
                    status,
                    closer.user_id,
                    verifier.user_id,
                    format_time(Utc::now()),
                    declared,
                    accepted,
                    batch_id
                ],
            )?;
            let event = if discrepancy {
                AuditEvent::BatchDiscrepancy
            } else {
                AuditEvent::BatchClosed
            };
            append(
                tx,
                station,
                &AuditEntry::user(event, Some(closer))
                    .election(&batch.election_id)
                    .detail(json!({
                        "batch": batch_id,
                        "declared": declared,
                        "accepted": accepted,
                        "verified_by": verifier.name,
                    })),
            )?;
            Ok(discrepancy)
        })?;
        Ok(BatchClose {
            batch: get_batch(&self.conn, batch_id)?,
            discrepancy,
        })
    }

    /// A supervisor resolves a batch's discrepancy with a note.
    pub fn resolve_batch(&mut self, batch_id: i64, supervisor: &User, note: &str) -> Result<Batch> {
        self.require_supervisor(supervisor, "resolve a batch discrepancy")?;
        let note = note.trim();
        if note.is_empty() {
            return Err(LedgerError::Invalid(
                "a resolution needs a note saying what was found".into(),
            ));
        }
        self.write(|tx, station| {
            let batch = get_batch(tx, batch_id)?;
            if batch.status != BatchStatus::Discrepancy {
                return Err(LedgerError::Batch(format!(
                    "batch {batch_id} is {}, not in discrepancy",
                    batch.status.as_str()
                )));
            }
            // The people whose count is in question do not judge it.
            let involved = [
                Some(batch.opened_by.as_str()),
                batch.closed_by.as_deref(),
                batch.verified_by.as_deref(),
            ];
            if involved.contains(&Some(supervisor.name.as_str())) {
                return Err(LedgerError::Batch(format!(
                    "{} opened, closed or verified batch {batch_id}; a different supervisor resolves its discrepancy",
                    supervisor.name
                )));
            }
            tx.execute(
                "UPDATE batches SET status = 'resolved', resolved_by = ?1, resolved_at = ?2,
                     resolution_note = ?3 WHERE batch_id = ?4",
                params![supervisor.user_id, format_time(Utc::now()), note, batch_id],
            )?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::BatchResolved, Some(supervisor))
                    .election(&batch.election_id)
                    .detail(json!({"batch": batch_id, "note": note})),
            )?;
            Ok(())
        })?;
        get_batch(&self.conn, batch_id)
    }

    /// Fails (and audits the refusal) unless `user` may supervise.
    pub(crate) fn require_supervisor(&mut self, user: &User, action: &str) -> Result<()> {
        let allowed = user.require_supervisor(action);
        self.audit_refusal(user, action, allowed)
    }

    /// Fails (and audits the refusal) unless `user` is an administrator.
    pub fn require_admin(&mut self, user: &User, action: &str) -> Result<()> {
        let allowed = user.require_admin(action);
        self.audit_refusal(user, action, allowed)
    }

    /// Passes `allowed` on, writing a refusal to the audit log first.
    fn audit_refusal(&mut self, user: &User, action: &str, allowed: Result<()>) -> Result<()> {
        if let Err(e) = allowed {
            self.audit_now(
                &AuditEntry::user(AuditEvent::PermissionDenied, Some(user))
                    .detail(json!({ "action": action })),
            )?;
            return Err(e);
        }
        Ok(())
    }
}
