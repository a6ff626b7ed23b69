//! The station's SQLite ledger: the one place a scan becomes durable.
//!
//! Every write is one transaction that holds the record, its outbox row (when it is
//! to be synced) and its audit row, committed with `synchronous=FULL` before anything
//! is shown as done. The submodules group the typed queries by subject.

mod audit_log;
mod batches;
mod checkpoint;
mod dashboard;
mod elections;
mod events;
mod export;
mod flags;
mod hub;
mod import;
mod open;
mod report;
mod review;
mod scans;
mod settings;
mod status;
mod sync;
mod user_admin;
mod users;
mod verify;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

pub use batches::{Batch, BatchClose, BatchStatus, NewBatch, RECEIVED_AT_GRACE_MINUTES};
pub use dashboard::{CHART_BATCHES, Dashboard, HourReceipts};
pub use elections::{Election, NewElection};
pub use events::EventRow;
pub use export::DayEvent;
pub use flags::{AttentionReason, FlagResult, UspsReason};
pub use hub::{ConflictRow, HubCounts};
pub use import::{CrossRowErrors, Import, ImportCounts, ImportSummary, Importer};
pub use open::{SCHEMA_VERSION, StationSetup};
pub use review::{BallotView, HistoryRow, MASKED};
pub use scans::{MAX_STORED_RAW, Reversal, ScanInput, ScanResult};
pub use settings::CHANGE_SETTINGS;
pub use status::{OpenBatch, Status};
pub use sync::{MAX_BATCH_AGE_SECS, MAX_BATCH_EVENTS, SyncBatch, SyncCounts};
pub use user_admin::UserRow;
pub use users::User;
pub use verify::{VerifyProblem, VerifyReport};

use crate::auth::{PinError, Role};

/// What can go wrong with the ledger, worded for the person at the station.
/// Fields are strings so that the error can be cloned into UI messages.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    /// No ledger file yet.
    #[error(
        "no station is set up at {0}: run `ballot-intake init --station ID --county NAME --election ID ...` first"
    )]
    NotInitialized(PathBuf),
    /// `init` on a ledger that already has a station.
    #[error("a station is already set up in {0}; use another --data-dir for a new one")]
    AlreadyInitialized(PathBuf),
    /// The file was written by a newer ballot-intake.
    #[error(
        "the ledger {path} has schema version {found}, newer than this program understands ({supported}); install the newer ballot-intake that wrote it"
    )]
    TooNew {
        /// The ledger file.
        path: PathBuf,
        /// Its user_version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The disk is full; the transaction was rolled back, nothing was recorded.
    #[error("the disk holding the ledger is full: nothing was recorded; free space and retry")]
    DiskFull,
    /// Any other SQLite failure.
    #[error("ledger database error: {0}")]
    Sqlite(String),
    /// No election is active yet.
    #[error("no election is active: add one with `ballot-intake election add ... --activate`")]
    NoActiveElection,
    /// The named election is not in the ledger.
    #[error("no election {0:?} in this ledger")]
    UnknownElection(String),
    /// An election with that id exists already.
    #[error("election {0:?} is already in this ledger")]
    ElectionExists(String),
    /// No user with that name.
    #[error("no user named {0:?} at this station")]
    UnknownUser(String),
    /// A user with that name exists already.
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    /// A wrong PIN, or a name the station does not know: the same words for both,
    /// so that a refusal does not tell which names exist, nor how many tries are left.
    #[error(
        "wrong name or PIN for {user:?}; after {max} wrong PINs in a row the account is locked",
        max = crate::auth::MAX_FAILURES
    )]
    WrongPin {
        /// The name given.
        user: String,
    },
    /// The user is locked after repeated wrong PINs.
    #[error("{user:?} is locked after repeated wrong PINs until {until}; ask a supervisor")]
    Locked {
        /// The user.
        user: String,
        /// When the lock ends (local time).
        until: String,
    },
    /// The user was disabled by an administrator (said only to someone who gave the
    /// right PIN).
    #[error("{user:?} is disabled; ask an administrator to enable the account again")]
    Disabled {
        /// The user.
        user: String,
    },
    /// The user's role does not allow the action.
    #[error("{user:?} is a {role} and may not {action}; a supervisor must do this")]
    NotAllowed {
        /// The user.
        user: String,
        /// Their role.
        role: Role,
        /// What they tried.
        action: String,
    },
    /// A PIN problem (too short, or a damaged stored hash).
    #[error(transparent)]
    Pin(#[from] PinError),
    /// A scan into an election whose mail ballot file is not in the ledger yet: none
    /// imported, or its first import still running (it becomes visible all at once
    /// when that commits). Nothing could be judged, so nothing was recorded; the
    /// envelope is scanned again once the file is in.
    #[error(
        "election {0:?} has no mail ballot file in the ledger yet (none imported, or its first import is still running): keep the envelope and scan it again once the import has finished"
    )]
    NoBallots(String),
    /// A batch problem (not found, not open, wrong election, ...).
    #[error("{0}")]
    Batch(String),
    /// Input that makes no sense for the operation (named in the message).
    #[error("{0}")]
    Invalid(String),
    /// Another program held the ledger's write lock past the wait (an import of a
    /// large mail ballot file holds it until it commits); nothing was recorded.
    #[error(
        "the ledger is busy: another ballot-intake program (an import?) is writing to it; nothing was recorded; try again when it finishes"
    )]
    Busy,
    /// The thread that owns the ledger (the desktop application's) has stopped, so
    /// nothing more can be recorded until the program is started again.
    #[error("the ledger stopped; restart ballot-intake")]
    Stopped,
    /// The file the station opened is no longer the one at its path: writing on
    /// would record into a file nobody will ever read.
    #[error(
        "the ledger {0} was deleted or replaced while the station was running: nothing was recorded; put the station's ledger back and restart ballot-intake"
    )]
    Moved(PathBuf),
}

/// Result alias for ledger operations.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(code, _) = &e
            && code.code == rusqlite::ErrorCode::DiskFull
        {
            return LedgerError::DiskFull;
        }
        if let rusqlite::Error::SqliteFailure(code, _) = &e
            && code.code == rusqlite::ErrorCode::DatabaseBusy
        {
            return LedgerError::Busy;
        }
        LedgerError::Sqlite(e.to_string())
    }
}

/// The station this ledger belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    /// Short station id, unique within the county.
    pub station_id: String,
    /// County name.
    pub county: String,
    /// The county's time zone: deadlines and the nightly day are local.
    pub timezone: Tz,
    /// A demo station: nothing it records is ever sent anywhere.
    pub demo: bool,
    /// Its sync goes to a county hub (`sync setup --hub`).
    pub hub: bool,
}

/// An open ledger file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// The ledger file's identity (device, inode) when it was opened: checked before
    /// every commit, so that a ledger deleted or swapped under a running station
    /// gives NOT RECORDED instead of results that are in no file.
    identity: Option<(u64, u64)>,
    station: Station,
    _checkpointer: Option<checkpoint::Checkpointer>,
}

impl Ledger {
    /// The station this ledger belongs to.
    pub fn station(&self) -> &Station {
        &self.station
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Formats an instant the way the ledger stores it: UTC, microseconds, `Z`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads an instant stored by [`format_time`].
pub fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| LedgerError::Sqlite(format!("bad stored time {s:?}: {e}")))
}

#[cfg(test)]
mod tests;
