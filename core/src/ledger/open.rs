//! Opening, creating and migrating the ledger file.
//!
//! Migrations are keyed on `PRAGMA user_version` and run in one transaction, so a
//! ledger is either at the old version or the new one, never between. A ledger newer
//! than this build is refused rather than guessed at. Pragmas are set outside the
//! transaction because SQLite ignores `journal_mode` changes inside one.

use chrono::Utc;
use chrono_tz::Tz;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use std::path::Path;

use super::audit_log::{AuditEntry, append};
use super::checkpoint::{AUTOCHECKPOINT_BACKSTOP_PAGES, Checkpointer};
use super::elections::{NewElection, insert_election};
use super::{Ledger, LedgerError, Result, Station, format_time};
use crate::audit::AuditEvent;

/// The ledger schema, embedded in the binary.
const SCHEMA_V1: &str = include_str!("../../schema.sql");

/// Version 2: the ballots' uniqueness as indexes a bulk import can rebuild, and
/// each ballot's line in its file.
const SCHEMA_V2: &str = include_str!("../../migrations/v2.sql");

/// Version 3: the county hub's conflicts and receipts feed.
const SCHEMA_V3: &str = include_str!("../../migrations/v3.sql");

/// Version 4: users disabled and enabled again.
const SCHEMA_V4: &str = include_str!("../../migrations/v4.sql");

/// Each entry takes the ledger from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

/// The schema version this build writes.
#[allow(clippy::cast_possible_wrap)] // a handful of migrations, never near i64::MAX
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What `init` needs to set up a station.
#[derive(Debug, Clone)]
pub struct StationSetup {
    /// Short station id.
    pub station_id: String,
    /// County name.
    pub county: String,
    /// IANA time zone name of the county.
    pub timezone: String,
    /// The first election, made active.
    pub election: NewElection,
    /// A demo station (its events never enter the outbox).
    pub demo: bool,
}

fn configure(conn: &Connection) -> Result<()> {
    // WAL lets readers (status, the GUI) run while a scan commits; FULL makes each
    // commit durable before it returns, which is what "accepted" promises.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Checkpoints run in a background thread (see checkpoint.rs); SQLite's own is
    // only a backstop.
    conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_BACKSTOP_PAGES)?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::Sqlite(format!(
            "could not switch the ledger to WAL mode (got {mode}); is it on a network share?"
        )));
    }
    Ok(())
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction. Returns the version
/// found before.
///
/// Foreign keys are off while it runs (SQLite ignores the pragma inside a
/// transaction, so it is set around it): a migration that rebuilds a table others
/// refer to must drop the old one first. They are checked before COMMIT instead, and
/// switched back on whatever happened.
fn migrate(conn: &mut Connection, path: &Path) -> Result<i64> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = migrate_in_one_transaction(conn, path);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

fn migrate_in_one_transaction(conn: &mut Connection, path: &Path) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(LedgerError::Sqlite(format!(
            "the ledger {} has a negative schema version {found}",
            path.display()
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        log::info!("migrating ledger {} to version {}", path.display(), i + 1);
        tx.execute_batch(sql)?;
    }
    if found < SCHEMA_VERSION {
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(LedgerError::Sqlite(format!(
                "migrating {} would leave a row of {table} referring to nothing; the ledger was left as it was",
                path.display()
            )));
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(found)
}

fn read_station(conn: &Connection) -> Result<Option<Station>> {
    let row: Option<(String, String, String, bool, bool)> = conn
        .query_row(
            "SELECT station_id, county, timezone, demo, hub FROM station WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    row.map(|(station_id, county, tz, demo, hub)| {
        let timezone = tz
            .parse::<Tz>()
            .map_err(|_| LedgerError::Sqlite(format!("stored time zone {tz:?} is unknown")))?;
        Ok(Station {
            station_id,
            county,
            timezone,
            demo,
            hub,
        })
    })
    .transpose()
}

/// Makes the data folder readable by the station's account only (0700), creating
/// it if need be, when a station is set up in it: the ledger holds confidential
/// voters' names and addresses and the PIN hashes.
fn private_dir(dir: &Path) -> Result<()> {
    let failed =
        |e: std::io::Error| LedgerError::Invalid(format!("cannot create {}: {e}", dir.display()));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// Creates the ledger file readable by the station's account only (0600) before
/// SQLite opens it; SQLite gives its WAL and shared-memory files the same mode.
fn private_file(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|e| LedgerError::Invalid(format!("cannot create {}: {e}", path.display())))
}

/// The (device, inode) of the file at `path`, where the system has them.
pub(super) fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        path.exists().then_some((0, 0))
    }
}

/// Fails with [`LedgerError::Moved`] if the file at `path` is gone or is another
/// file than the one opened (`opened`).
pub(super) fn still_in_place(path: &Path, opened: Option<(u64, u64)>) -> Result<()> {
    if opened.is_some() && identity(path) != opened {
        return Err(LedgerError::Moved(path.to_path_buf()));
    }
    Ok(())
}

/// Says (as a warning) when the ledger or its folder can be read by other accounts
/// of the machine: an existing station is not changed behind its owner's back, but
/// the owner is told the command that closes it.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = path.parent().unwrap_or(Path::new("."));
        for (what, p, want) in [("folder", dir, 0o700), ("ledger", path, 0o600)] {
            if let Ok(meta) = std::fs::metadata(p) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    log::warn!(
                        "the station's {what} {} can be read by other accounts (mode {mode:o}); it holds voters' names and the PIN hashes: chmod {want:o} {}",
                        p.display(),
                        p.display()
                    );
                }
            }
        }
    }
}

impl Ledger {
    /// Opens an existing station's ledger, upgrading its schema if it is older.
    pub fn open(path: &Path) -> Result<Ledger> {
        if !path.exists() {
            return Err(LedgerError::NotInitialized(path.to_path_buf()));
        }
        warn_if_readable_by_others(path);
        let cannot = |e: rusqlite::Error| match LedgerError::from(e) {
            LedgerError::Sqlite(e) => LedgerError::Sqlite(format!(
                "cannot open the ledger {}: {e} (is its disk full, or can this account not write to the file and its folder {}?)",
                path.display(),
                path.parent().unwrap_or(Path::new(".")).display()
            )),
            other => other,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(cannot)?;
        // Refuse a newer ledger before touching it in any way.
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(cannot)?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        configure(&conn).map_err(|e| match e {
            LedgerError::Sqlite(e) => LedgerError::Sqlite(format!(
                "cannot open the ledger {}: {e} (is its disk full, or can this account not write to the file and its folder?)",
                path.display()
            )),
            other => other,
        })?;
        let before = migrate(&mut conn, path)?;
        let station =
            read_station(&conn)?.ok_or_else(|| LedgerError::NotInitialized(path.to_path_buf()))?;
        let mut ledger = Ledger {
            conn,
            identity: identity(path),
            path: path.to_path_buf(),
            station,
            _checkpointer: Checkpointer::start(path),
        };
        if before < SCHEMA_VERSION {
            ledger.write(|tx, station| {
                append(
                    tx,
                    station,
                    &AuditEntry::system(AuditEvent::LedgerMigrated)
                        .detail(json!({"from": before, "to": SCHEMA_VERSION})),
                )
            })?;
        }
        Ok(ledger)
    }

    /// Creates a station's ledger with its first (active) election.
    pub fn create(path: &Path, setup: &StationSetup) -> Result<Ledger> {
        let timezone = setup.timezone.parse::<Tz>().map_err(|_| {
            LedgerError::Invalid(format!(
                "unknown time zone {:?}: use an IANA name such as America/Denver",
                setup.timezone
            ))
        })?;
        if setup.station_id.is_empty() || setup.station_id.len() > 64 {
            return Err(LedgerError::Invalid(
                "the station id must be 1 to 64 characters".into(),
            ));
        }
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        private_file(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&mut conn, path)?;
        if read_station(&conn)?.is_some() {
            return Err(LedgerError::AlreadyInitialized(path.to_path_buf()));
        }
        let station = Station {
            station_id: setup.station_id.clone(),
            county: setup.county.clone(),
            timezone,
            demo: setup.demo,
            hub: false,
        };
        let mut ledger = Ledger {
            conn,
            identity: identity(path),
            path: path.to_path_buf(),
            station,
            _checkpointer: Checkpointer::start(path),
        };
        ledger.write(|tx, station| {
            tx.execute(
                "INSERT INTO station (id, station_id, county, timezone, demo, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                params![
                    station.station_id,
                    station.county,
                    setup.timezone,
                    station.demo,
                    format_time(Utc::now())
                ],
            )?;
            append(
                tx,
                station,
                &AuditEntry::user(AuditEvent::StationInitialized, None).detail(json!({
                    "county": station.county,
                    "timezone": setup.timezone,
                    "demo": setup.demo,
                    "schema_version": SCHEMA_VERSION,
                })),
            )?;
            insert_election(tx, station, &setup.election, true, None)
        })?;
        Ok(ledger)
    }

    /// Runs `f` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so two
    /// stations' processes serialize instead of failing mid-way) and commits it.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &Station) -> Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, &self.station)?;
        still_in_place(&self.path, self.identity)?;
        tx.commit()?;
        Ok(out)
    }
}
