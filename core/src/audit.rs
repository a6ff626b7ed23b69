//! The audit event catalogue and the hash chain.
//!
//! VVSG 2.0 asks for every user action, system action and error to be logged with an
//! event id, a type, the user's role, a disposition and the time, and for the log to
//! be permanent. The catalogue below is the only place event ids are defined, so an id
//! never changes meaning. Each audit row carries the previous row's hash and its own,
//! computed over a canonical encoding, so that an edit, a deletion or a reordering
//! breaks the chain at the first row touched.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Whether a person or the station itself did the thing logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// Done by a signed-in (or named) user.
    UserAction,
    /// Done by the station on its own.
    SystemAction,
}

impl AuditKind {
    /// The word stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::UserAction => "user-action",
            AuditKind::SystemAction => "system-action",
        }
    }
}

/// Whether the logged action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// It happened.
    Success,
    /// It was attempted and refused or failed.
    Failure,
}

impl Disposition {
    /// The word stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Success => "success",
            Disposition::Failure => "failure",
        }
    }
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $name:literal, $kind:ident, $disp:ident; )*) => {
        /// Every kind of audit event the station writes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditEvent {
            $( $(#[$doc])* $variant, )*
        }

        impl AuditEvent {
            /// The whole catalogue, for documentation and tests.
            pub const ALL: &'static [AuditEvent] = &[$(AuditEvent::$variant),*];

            /// The permanent numeric id.
            pub fn id(self) -> u16 {
                match self { $(AuditEvent::$variant => $id,)* }
            }

            /// The permanent name.
            pub fn name(self) -> &'static str {
                match self { $(AuditEvent::$variant => $name,)* }
            }

            /// User or system action.
            pub fn kind(self) -> AuditKind {
                match self { $(AuditEvent::$variant => AuditKind::$kind,)* }
            }

            /// Success or failure.
            pub fn disposition(self) -> Disposition {
                match self { $(AuditEvent::$variant => Disposition::$disp,)* }
            }

            /// What the event means, in the catalogue's own words (its doc comment),
            /// for the event log's documentation file.
            pub fn description(self) -> String {
                let lines: &[&str] = match self { $(AuditEvent::$variant => &[$(stringify!($doc)),*],)* };
                doc_text(lines)
            }
        }
    };
}

/// The text of doc attributes as `stringify!` gives them (`doc = r" text"`, a raw
/// string, possibly with `#`s).
fn doc_text(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| {
            let value = l.split_once('=').map_or(*l, |(_, v)| v).trim();
            let raw = value.strip_prefix('r').unwrap_or(value);
            let text = raw.trim_matches('#').trim_matches('"');
            let text = if raw.len() == value.len() {
                // An ordinary (escaped) string literal.
                text.replace("\\\"", "\"").replace("\\'", "'")
            } else {
                text.to_string()
            };
            text.trim().to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

catalogue! {
    /// A ledger was created for a station.
    StationInitialized = 1001, "station-initialized", UserAction, Success;
    /// The ledger schema was upgraded.
    LedgerMigrated = 1002, "ledger-migrated", SystemAction, Success;
    /// An election was added to the ledger.
    ElectionAdded = 1101, "election-added", UserAction, Success;
    /// An election became the active one.
    ElectionActivated = 1102, "election-activated", UserAction, Success;
    /// A user was created.
    UserAdded = 1201, "user-added", UserAction, Success;
    /// A user signed in with the right PIN.
    SignIn = 1202, "sign-in", UserAction, Success;
    /// A wrong PIN, or an unknown user name.
    SignInFailed = 1203, "sign-in-failed", UserAction, Failure;
    /// A user was locked after repeated wrong PINs.
    UserLocked = 1204, "user-locked", SystemAction, Failure;
    /// A locked user tried to sign in.
    SignInWhileLocked = 1205, "sign-in-while-locked", UserAction, Failure;
    /// A user tried something their role does not allow.
    PermissionDenied = 1206, "permission-denied", UserAction, Failure;
    /// A second person's PIN was checked to confirm what another user is doing (a
    /// batch's count, an earlier receipt time): not a sign-in.
    SecondPersonConfirmed = 1207, "second-person-confirmed", UserAction, Success;
    /// A user signed out.
    SignOut = 1208, "sign-out", UserAction, Success;
    /// The station signed a user out after a time without activity.
    SignedOutIdle = 1209, "signed-out-idle", SystemAction, Success;
    /// An administrator disabled a user: they can no longer sign in or confirm.
    UserDisabled = 1210, "user-disabled", UserAction, Success;
    /// An administrator enabled a disabled user again.
    UserEnabled = 1211, "user-enabled", UserAction, Success;
    /// An administrator set a new PIN for a user who forgot theirs (which also ends
    /// a lock).
    PinReset = 1212, "pin-reset", UserAction, Success;
    /// An administrator ended a user's lock before its time.
    UserUnlocked = 1213, "user-unlocked", UserAction, Success;
    /// A mail ballot file was imported.
    ImportCompleted = 1301, "import-completed", UserAction, Success;
    /// A mail ballot file was refused; nothing in it was loaded.
    ImportRejected = 1302, "import-rejected", UserAction, Failure;
    /// A batch was opened.
    BatchOpened = 1401, "batch-opened", UserAction, Success;
    /// A batch was closed with a count matching its scans.
    BatchClosed = 1402, "batch-closed", UserAction, Success;
    /// A batch was closed with a count differing from its scans.
    BatchDiscrepancy = 1403, "batch-discrepancy", UserAction, Failure;
    /// A supervisor resolved a batch discrepancy.
    BatchResolved = 1404, "batch-resolved", UserAction, Success;
    /// A scan was recorded (whatever its outcome).
    ScanRecorded = 1501, "scan-recorded", UserAction, Success;
    /// A supervisor reversed an earlier event with a correction entry.
    EventReversed = 1502, "event-reversed", UserAction, Success;
    /// A returned outbound packet was flagged undeliverable.
    FlaggedUndeliverable = 1503, "flagged-undeliverable", UserAction, Success;
    /// An envelope was flagged as needing the voter's attention (cure).
    FlaggedNeedsAttention = 1504, "flagged-needs-attention", UserAction, Success;
    /// A flag was refused (no such ballot, already received, already flagged, ...):
    /// nothing was flagged.
    FlagRefused = 1505, "flag-refused", UserAction, Failure;
    /// `verify` found the ledger intact.
    LedgerVerified = 1601, "ledger-verified", UserAction, Success;
    /// The sync transport was chosen or changed.
    SyncConfigured = 1701, "sync-configured", UserAction, Success;
    /// The backend acknowledged a batch of events.
    SyncBatchAcked = 1702, "sync-batch-acked", SystemAction, Success;
    /// The backend refused a batch; it is held for a supervisor.
    SyncBatchHeld = 1703, "sync-batch-held", SystemAction, Failure;
    /// A supervisor released a held batch to be sent again.
    SyncBatchReleased = 1704, "sync-batch-released", UserAction, Success;
    /// The county hub found one of this station's receipts to be a cross-station
    /// duplicate: the envelope must be pulled from its tray.
    HubConflictReported = 1705, "hub-conflict-reported", SystemAction, Failure;
    /// A supervisor resolved a cross-station duplicate, with a note.
    HubConflictResolved = 1706, "hub-conflict-resolved", UserAction, Success;
    /// A nightly batch file was written.
    ExportWritten = 1801, "export-written", UserAction, Success;
    /// The audit log was exported as a NIST SP 1500-101 election event log.
    EventLogExported = 1802, "event-log-exported", UserAction, Success;
    /// A batch custody sheet or a day's reconciliation report was written (PDF).
    ReportWritten = 1803, "report-written", UserAction, Success;
    /// An administrator changed the station's settings (scanners, sounds, idle time).
    SettingsChanged = 1901, "settings-changed", UserAction, Success;
}

/// The hash before the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An unambiguous byte encoding of a list of fields: each is a presence byte and, when
/// present, its length as 8 big-endian bytes followed by its bytes. No two different
/// field lists encode the same way, whatever the fields contain.
#[derive(Default)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts an encoding tagged with a domain name, so that an event digest can never
    /// equal an audit row hash.
    pub fn new(domain: &str) -> Self {
        let mut c = Canonical(Vec::with_capacity(256));
        c.bytes(Some(domain.as_bytes()));
        c
    }

    /// Appends an optional byte field.
    pub fn bytes(&mut self, v: Option<&[u8]>) -> &mut Self {
        match v {
            None => self.0.push(0),
            Some(b) => {
                self.0.push(1);
                self.0.extend_from_slice(&(b.len() as u64).to_be_bytes());
                self.0.extend_from_slice(b);
            }
        }
        self
    }

    /// Appends an optional text field.
    pub fn text(&mut self, v: Option<&str>) -> &mut Self {
        self.bytes(v.map(str::as_bytes))
    }

    /// Appends an optional integer field (as decimal text).
    pub fn int(&mut self, v: Option<i64>) -> &mut Self {
        let s = v.map(|n| n.to_string());
        self.text(s.as_deref())
    }

    /// The SHA-256 of everything appended, as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.0))
    }
}

/// One row of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When (UTC, RFC 3339 with microseconds).
    pub at: String,
    /// Catalogue id.
    pub event_id: i64,
    /// Catalogue name.
    pub event: String,
    /// user-action or system-action.
    pub kind: String,
    /// success or failure.
    pub disposition: String,
    /// The user named, if any.
    pub user_name: Option<String>,
    /// That user's role, if known.
    pub role: Option<String>,
    /// The station that wrote the row.
    pub station_id: String,
    /// The election the action concerned, if any.
    pub election_id: Option<String>,
    /// The ledger event this row vouches for, if any.
    pub subject_seq: Option<i64>,
    /// The digest of that event's canonical encoding.
    pub subject_digest: Option<String>,
    /// Free detail as compact JSON.
    pub detail: String,
    /// The previous row's hash (or [`GENESIS_HASH`]).
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

impl AuditRow {
    /// Recomputes this row's hash from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        Canonical::new("ballot-intake/audit/v1")
            .int(Some(self.seq))
            .text(Some(&self.at))
            .int(Some(self.event_id))
            .text(Some(&self.event))
            .text(Some(&self.kind))
            .text(Some(&self.disposition))
            .text(self.user_name.as_deref())
            .text(self.role.as_deref())
            .text(Some(&self.station_id))
            .text(self.election_id.as_deref())
            .int(self.subject_seq)
            .text(self.subject_digest.as_deref())
            .text(Some(&self.detail))
            .text(Some(&self.prev_hash))
            .sha256_hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_ids_and_names_are_unique() {
        let ids: HashSet<u16> = AuditEvent::ALL.iter().map(|e| e.id()).collect();
        let names: HashSet<&str> = AuditEvent::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(ids.len(), AuditEvent::ALL.len());
        assert_eq!(names.len(), AuditEvent::ALL.len());
        assert_eq!(AuditEvent::SignInFailed.disposition(), Disposition::Failure);
        assert_eq!(AuditEvent::UserLocked.kind(), AuditKind::SystemAction);
    }

    #[test]
    fn every_event_is_described_in_words() {
        assert_eq!(
            AuditEvent::StationInitialized.description(),
            "A ledger was created for a station."
        );
        assert_eq!(
            AuditEvent::SecondPersonConfirmed.description(),
            "A second person's PIN was checked to confirm what another user is doing (a \
             batch's count, an earlier receipt time): not a sign-in."
        );
        for e in AuditEvent::ALL {
            let d = e.description();
            assert!(d.len() > 10 && !d.contains("doc"), "{}: {d:?}", e.name());
        }
    }

    #[test]
    fn canonical_encoding_is_unambiguous() {
        let a = Canonical::new("t")
            .text(Some("ab"))
            .text(Some("c"))
            .sha256_hex();
        let b = Canonical::new("t")
            .text(Some("a"))
            .text(Some("bc"))
            .sha256_hex();
        let c = Canonical::new("t")
            .text(None)
            .text(Some("abc"))
            .sha256_hex();
        let d = Canonical::new("t")
            .text(Some(""))
            .text(Some("abc"))
            .sha256_hex();
        let all: HashSet<String> = [a, b, c, d].into_iter().collect();
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let row = AuditRow {
            seq: 1,
            at: "2026-11-03T15:00:00.000000Z".into(),
            event_id: 1501,
            event: "scan-recorded".into(),
            kind: "user-action".into(),
            disposition: "success".into(),
            user_name: Some("ana".into()),
            role: Some("clerk".into()),
            station_id: "S1".into(),
            election_id: Some("E1".into()),
            subject_seq: Some(1),
            subject_digest: Some("ab".into()),
            detail: "{}".into(),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        let h = row.compute_hash();
        let variants: Vec<AuditRow> = vec![
            AuditRow {
                seq: 2,
                ..row.clone()
            },
            AuditRow {
                at: "2026-11-03T15:00:00.000001Z".into(),
                ..row.clone()
            },
            AuditRow {
                event_id: 1502,
                ..row.clone()
            },
            AuditRow {
                event: "x".into(),
                ..row.clone()
            },
            AuditRow {
                kind: "system-action".into(),
                ..row.clone()
            },
            AuditRow {
                disposition: "failure".into(),
                ..row.clone()
            },
            AuditRow {
                user_name: None,
                ..row.clone()
            },
            AuditRow {
                role: Some("admin".into()),
                ..row.clone()
            },
            AuditRow {
                station_id: "S2".into(),
                ..row.clone()
            },
            AuditRow {
                election_id: None,
                ..row.clone()
            },
            AuditRow {
                subject_seq: None,
                ..row.clone()
            },
            AuditRow {
                subject_digest: Some("ac".into()),
                ..row.clone()
            },
            AuditRow {
                detail: "{ }".into(),
                ..row.clone()
            },
            AuditRow {
                prev_hash: "1".into(),
                ..row.clone()
            },
        ];
        for v in variants {
            assert_ne!(v.compute_hash(), h, "{v:?}");
        }
    }
}
