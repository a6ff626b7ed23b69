//! `verify`: recomputes the audit chain and checks the events against it.
//!
//! The checks, each naming the first row that fails:
//! 1. SQLite's own `integrity_check`;
//! 2. the append-only triggers are still in place;
//! 3. the audit chain: sequence numbers 1, 2, 3 ..., each row's `prev_hash` equal to
//!    the previous row's hash, each hash equal to the recomputed one;
//! 4. every event has exactly one audit row whose digest matches the event as stored,
//!    events are numbered without gaps, and no audit row vouches for a missing event;
//! 5. the outbox holds exactly the events that may be sent, and a row is marked
//!    acknowledged only through a batch whose acknowledgement the chain records;
//! 6. every user was added by an audited action, and their id, name, role and PIN
//!    hash are what that row vouches for;
//! 7. every scanned ballot's id, voter and confidential flag are what the newest
//!    audit row vouching for it (its scan's, or a later import's) says.
//!
//! What it cannot see: removing the newest event together with the newest audit rows
//! leaves a shorter chain that is still consistent. The head hash printed by `verify`
//! (and, with the sync issue, sent off the station) is the anchor against that.

use serde::Serialize;

use super::audit_log::{AUDIT_COLUMNS, AuditEntry, audit_row};
use super::events::{EVENT_COLUMNS, EventRow};
use super::scans::ballot_record_digest;
use super::users::user_record_digest;
use super::{Ledger, Result};
use crate::audit::{AuditEvent, GENESIS_HASH};

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyProblem {
    /// The table concerned.
    pub table: &'static str,
    /// The row's sequence number, when one is to blame.
    pub seq: Option<i64>,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "{} row {seq}: {}", self.table, self.what),
            None => write!(f, "{}: {}", self.table, self.what),
        }
    }
}

/// What `verify` checked and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Audit rows checked.
    pub audit_rows: i64,
    /// Events checked.
    pub events: i64,
    /// The hash at the head of the chain.
    pub head_hash: String,
    /// Problems, the first of each check (empty when intact).
    pub problems: Vec<VerifyProblem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn problem(table: &'static str, seq: Option<i64>, what: impl Into<String>) -> VerifyProblem {
    VerifyProblem {
        table,
        seq,
        what: what.into(),
    }
}

impl Ledger {
    /// Checks the ledger; when intact, records that it was verified.
    pub fn verify(&mut self) -> Result<VerifyReport> {
        let mut report = self.check()?;
        if report.ok() {
            self.audit_now(&AuditEntry::user(AuditEvent::LedgerVerified, None).detail(
                serde_json::json!({"audit_rows": report.audit_rows, "events": report.events, "head": report.head_hash}),
            ))?;
            report.audit_rows += 1;
        }
        Ok(report)
    }

    fn check(&self) -> Result<VerifyReport> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(problem(
                "sqlite",
                None,
                format!("integrity_check: {integrity}"),
            ));
        }
        for (trigger, table) in [
            ("events_no_update", "events"),
            ("events_no_delete", "events"),
            ("audit_no_update", "audit_log"),
            ("audit_no_delete", "audit_log"),
        ] {
            let present: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?1
                   AND tbl_name = ?2 AND sql LIKE '%RAISE(ABORT%')",
                [trigger, table],
                |r| r.get(0),
            )?;
            if !present {
                problems.push(problem(
                    "schema",
                    None,
                    format!("the append-only trigger {trigger} on {table} is missing or altered"),
                ));
            }
        }
        let (audit_rows, head_hash) = self.check_chain(&mut problems)?;
        let events = self.check_events(&mut problems)?;
        self.check_outbox(&mut problems)?;
        self.check_users(&mut problems)?;
        self.check_ballots(&mut problems)?;
        Ok(VerifyReport {
            audit_rows,
            events,
            head_hash,
            problems,
        })
    }

    fn check_chain(&self, problems: &mut Vec<VerifyProblem>) -> Result<(i64, String)> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
        ))?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1;
        let mut prev = GENESIS_HASH.to_string();
        let mut count = 0;
        while let Some(r) = rows.next()? {
            let row = audit_row(r)?;
            count += 1;
            if row.seq != expected_seq {
                let what = if row.seq > expected_seq {
                    "is missing: audit rows were deleted".to_string()
                } else {
                    format!("is out of order (found after row {})", expected_seq - 1)
                };
                problems.push(problem("audit_log", Some(expected_seq), what));
                return Ok((count, prev));
            }
            let what = if row.prev_hash != prev {
                Some(
                    "does not chain to the row before it: a row before it was removed or altered"
                        .to_string(),
                )
            } else if row.compute_hash() != row.hash {
                Some("its contents do not match its hash: the row was edited".to_string())
            } else {
                None
            };
            if let Some(what) = what {
                problems.push(problem("audit_log", Some(row.seq), what));
                return Ok((count, prev));
            }
            prev = row.hash;
            expected_seq += 1;
        }
        Ok((count, prev))
    }

    fn check_events(&self, problems: &mut Vec<VerifyProblem>) -> Result<i64> {
        let doubled: Option<i64> = rusqlite::OptionalExtension::optional(self.conn.query_row(
            "SELECT subject_seq FROM audit_log WHERE subject_seq IS NOT NULL
             GROUP BY subject_seq HAVING count(*) > 1 ORDER BY subject_seq LIMIT 1",
            [],
            |r| r.get(0),
        ))?;
        if let Some(seq) = doubled {
            problems.push(problem(
                "events",
                Some(seq),
                "more than one audit row vouches for this event: its number was reused",
            ));
            return Ok(self
                .conn
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?);
        }
        let cols = EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {cols}, a.seq, a.subject_digest FROM events e
             LEFT JOIN audit_log a ON a.subject_seq = e.seq ORDER BY e.seq"
        ))?;
        let mut rows = stmt.query([])?;
        let mut expected = 1;
        let mut count = 0;
        let mut found = false;
        while let Some(r) = rows.next()? {
            let event = EventRow::from_row(r)?;
            let audit_seq: Option<i64> = r.get(16)?;
            let digest: Option<String> = r.get(17)?;
            count += 1;
            if found {
                continue;
            }
            if event.seq != expected {
                problems.push(problem(
                    "events",
                    Some(expected),
                    "is missing: events were deleted",
                ));
                found = true;
                continue;
            }
            let what = if audit_seq.is_none() {
                Some("no audit row vouches for this event: it was inserted behind the station's back".to_string())
            } else if digest.as_deref() != Some(event.digest().as_str()) {
                Some(format!(
                    "does not match the digest in audit row {}: the event was edited",
                    audit_seq.unwrap_or_default()
                ))
            } else {
                None
            };
            if let Some(what) = what {
                problems.push(problem("events", Some(event.seq), what));
                found = true;
            }
            expected += 1;
        }
        if !found {
            let orphan: Option<(i64, i64)> =
                rusqlite::OptionalExtension::optional(self.conn.query_row(
                    "SELECT a.seq, a.subject_seq FROM audit_log a
                 WHERE a.subject_seq IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = a.subject_seq)
                 ORDER BY a.seq LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ))?;
            if let Some((audit, event)) = orphan {
                problems.push(problem(
                    "events",
                    Some(event),
                    format!(
                        "is missing, but audit row {audit} vouches for it: the event was deleted"
                    ),
                ));
            }
        }
        Ok(count)
    }

    /// Every user was added by an audited row, and where that row (or a newer PIN
    /// reset) vouches for the user's record (id, name, role, PIN hash), the record is
    /// unchanged; and a user is disabled exactly when the newest audited word on it
    /// (user-disabled, user-enabled) says so. Users added
    /// before records were vouched for are judged by the row alone.
    fn check_users(&self, problems: &mut Vec<VerifyProblem>) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT u.user_id, u.name, u.role, u.pin_hash,
                    (SELECT json_extract(a.detail, '$.record') FROM audit_log a
                      WHERE a.event IN ('user-added', 'pin-reset')
                        AND coalesce(json_extract(a.detail, '$.user'), a.user_name) = u.name
                      ORDER BY a.seq DESC LIMIT 1),
                    EXISTS (SELECT 1 FROM audit_log a WHERE a.event = 'user-added'
                        AND coalesce(json_extract(a.detail, '$.user'), a.user_name) = u.name),
                    u.disabled,
                    coalesce((SELECT a.event = 'user-disabled' FROM audit_log a
                      WHERE a.event IN ('user-disabled', 'user-enabled')
                        AND json_extract(a.detail, '$.user') = u.name
                      ORDER BY a.seq DESC LIMIT 1), 0)
               FROM users u ORDER BY u.user_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, name, role, hash): (i64, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let vouched: Option<String> = r.get(4)?;
            let added: bool = r.get(5)?;
            let (disabled, audited_disabled): (bool, bool) = (r.get(6)?, r.get(7)?);
            let what = if !added {
                format!("user {name:?} was never added by an audited action")
            } else if disabled != audited_disabled {
                format!(
                    "user {name:?} is {} but the audit log's newest word on it says {}",
                    if disabled { "disabled" } else { "enabled" },
                    if audited_disabled {
                        "disabled"
                    } else {
                        "enabled"
                    }
                )
            } else if vouched.is_some_and(|v| v != user_record_digest(id, &name, &role, &hash)) {
                format!(
                    "user {name:?}'s role or PIN hash differs from what the audit log vouches for"
                )
            } else {
                continue;
            };
            problems.push(problem("users", Some(id), what));
            break;
        }
        Ok(())
    }

    /// Each scanned ballot's key, id, voter and confidential flag are what the
    /// newest audit row vouching for it says (its scan's, or an import's that changed
    /// it since): an edit that would make a receipt another voter's, or send a
    /// confidential voter's, is named. Scans from before these were vouched for are
    /// judged by nothing here.
    fn check_ballots(&self, problems: &mut Vec<VerifyProblem>) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "WITH vouch AS (
                 SELECT e.ballot_pk AS pk, a.seq AS aseq, json_extract(a.detail, '$.ballot_record') AS d
                   FROM audit_log a JOIN events e ON e.seq = a.subject_seq
                  WHERE e.ballot_pk IS NOT NULL AND json_extract(a.detail, '$.ballot_record') IS NOT NULL
                 UNION ALL
                 SELECT CAST(j.key AS INTEGER), a.seq, j.value
                   FROM audit_log a, json_each(a.detail, '$.revouched') j
                  WHERE a.event = 'import-completed'),
             latest AS (
                 SELECT pk, d, row_number() OVER (PARTITION BY pk ORDER BY aseq DESC) AS n
                   FROM vouch)
             SELECT l.pk, l.d, b.ballot_id, b.voter_id, b.confidential
               FROM latest l LEFT JOIN ballots b ON b.ballot_pk = l.pk
              WHERE l.n = 1 ORDER BY l.pk",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (pk, vouched): (i64, String) = (r.get(0)?, r.get(1)?);
            let now: Option<(String, String, bool)> = match r.get::<_, Option<String>>(2)? {
                Some(id) => Some((id, r.get(3)?, r.get(4)?)),
                None => None,
            };
            let same = now.as_ref().is_some_and(|(id, voter, confidential)| {
                ballot_record_digest(pk, id, voter, *confidential) == vouched
            });
            if !same {
                let name = now.map_or_else(|| "(gone)".to_string(), |(id, _, _)| id);
                problems.push(problem(
                    "ballots",
                    Some(pk),
                    format!(
                        "scanned ballot {name}'s voter or confidential flag differs from what the audit log vouches for"
                    ),
                ));
                break;
            }
        }
        Ok(())
    }

    fn check_outbox(&self, problems: &mut Vec<VerifyProblem>) -> Result<()> {
        let first = |sql: &str| -> Result<Option<i64>> {
            Ok(rusqlite::OptionalExtension::optional(self.conn.query_row(
                sql,
                [],
                |r| r.get(0),
            ))?)
        };
        // Only accepted scans and flags of voters who were not confidential when
        // they were recorded, and corrections of events that were in the outbox, may
        // be there. "When they were recorded" is the event's audit row (`queued`,
        // under the hash chain): a voter may join or leave the confidential program
        // after the scan. Ledgers written before the audit rows said so are judged
        // by the voter's flag today. (The audit log is joined, not looked up row by
        // row, so that SQLite indexes `subject_seq` for the query.)
        if let Some(seq) = first(
            "SELECT o.event_seq FROM outbox o LEFT JOIN events e ON e.seq = o.event_seq
             LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
             LEFT JOIN audit_log a ON a.subject_seq = o.event_seq
             WHERE o.sync_batch IS NOT 'withheld'
               AND NOT coalesce(
                     (((o.event_type = 'received' AND e.kind = 'scan' AND e.outcome = 'accepted')
                       OR (o.event_type = e.kind AND e.kind IN ('undeliverable', 'needs_attention')))
                      AND coalesce(json_extract(a.detail, '$.queued'), 1 - b.confidential) = 1)
                     OR (o.event_type = 'correction' AND e.kind = 'correction'
                         AND e.corrects IN (SELECT event_seq FROM outbox)),
                     0)
             ORDER BY o.event_seq LIMIT 1",
        )? {
            problems.push(problem(
                "outbox",
                Some(seq),
                "holds an event that must not be sent (not an accepted receipt, or a confidential voter's)",
            ));
        }
        // Acknowledged only through a batch the backend acknowledged, as the chain
        // records it: an outbox row marked acknowledged by hand would never be sent.
        if let Some(seq) = first(
            "WITH vouched AS MATERIALIZED (
                 SELECT json_extract(detail, '$.batch') AS batch FROM audit_log
                  WHERE event = 'sync-batch-acked')
             SELECT o.event_seq FROM outbox o
               LEFT JOIN sync_batches s ON s.batch_id = o.sync_batch
              WHERE o.acked_at IS NOT NULL
                AND (s.batch_id IS NULL OR s.state <> 'acked'
                     OR s.batch_id NOT IN (SELECT batch FROM vouched))
              ORDER BY o.event_seq LIMIT 1",
        )? {
            problems.push(problem(
                "outbox",
                Some(seq),
                "is marked acknowledged, but no acknowledged batch in the audit log holds it: it was never sent",
            ));
        }
        if self.station.demo {
            // A demo station sends nothing, so its outbox stays empty.
            return Ok(());
        }
        // Missing: what was queued when it was recorded (for older ledgers: what
        // belongs to a voter who is not confidential now).
        let sql = "WITH missing AS MATERIALIZED (
                SELECT e.seq AS seq, b.confidential AS confidential
                FROM events e JOIN ballots b ON b.ballot_pk = e.ballot_pk
                WHERE ((e.kind = 'scan' AND e.outcome = 'accepted')
                       OR e.kind IN ('undeliverable', 'needs_attention'))
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_seq = e.seq))
            SELECT m.seq FROM missing m LEFT JOIN audit_log a ON a.subject_seq = m.seq
            WHERE coalesce(json_extract(a.detail, '$.queued'), 1 - m.confidential) = 1
            ORDER BY m.seq LIMIT 1";
        if let Some(seq) = first(sql)? {
            problems.push(problem(
                "outbox",
                Some(seq),
                "an accepted receipt or a flag is missing from the outbox: the voter would never be told",
            ));
        }
        Ok(())
    }
}
