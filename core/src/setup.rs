//! Setting up a real station: the station, its first election and its first
//! administrator, all at once or not at all. Shared by `init` and the window's
//! first-run screens, so both check the same things and say the same words.
//!
//! A station must never exist without someone who may administer it, so the ledger
//! is built under a temporary name in the data folder, the administrator added, the
//! file closed with its write-ahead log folded in, and only then renamed into place
//! (and the folder synced). A failure at any step leaves no ledger behind, and
//! running the setup again starts clean.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::auth::{Role, check_not_obvious, check_pin_form};
use crate::environment::Environment;
use crate::ledger::{Ledger, StationSetup};
use crate::signing::StationKey;

/// Everything the first run asks for.
#[derive(Debug, Clone)]
pub struct FirstRun {
    /// The station, its county and time zone, and its first election.
    pub station: StationSetup,
    /// The first administrator's name.
    pub admin: String,
    /// Their PIN.
    pub pin: String,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct SetUp {
    /// The ledger file.
    pub ledger: PathBuf,
    /// The station's signing key's fingerprint.
    pub key_fingerprint: String,
    /// Its public key, for the county and auditors.
    pub public_key: PathBuf,
}

/// Why the setup did not happen, in words an administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Checks the station's id, county and time zone; gives the zone.
pub fn check_station(station_id: &str, county: &str, timezone: &str) -> Result<Tz, SetupError> {
    let id = station_id.trim();
    if id.is_empty() || id.len() > 64 || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(SetupError(
            "The station id is 1 to 64 printable characters (no slash), for example INTAKE-1."
                .into(),
        ));
    }
    if county.trim().is_empty() {
        return Err(SetupError(
            "Type the county's name, as it appears on its reports.".into(),
        ));
    }
    timezone.trim().parse::<Tz>().map_err(|_| {
        SetupError(format!(
            "{:?} is not a time zone: choose one from the list, for example America/Denver.",
            timezone.trim()
        ))
    })
}

/// Checks the first administrator's name and PIN (typed twice).
pub fn check_admin(name: &str, pin: &str, again: &str) -> Result<(), SetupError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(SetupError(
            "The administrator's name is 1 to 64 printable characters.".into(),
        ));
    }
    check_pin_form(pin).map_err(|e| SetupError(format!("The PIN: {e}.")))?;
    check_not_obvious(pin).map_err(|e| SetupError(format!("The PIN: {e}.")))?;
    if pin != again {
        return Err(SetupError(
            "The two PINs differ: type the same PIN twice.".into(),
        ));
    }
    Ok(())
}

/// Sets the station up in `env`'s data folder (see the module's comment): refused,
/// with nothing written, if a station is already there or anything is wrong.
pub fn set_up(env: &Environment, first: &FirstRun) -> Result<SetUp, SetupError> {
    let path = env.ledger_path();
    if path.exists() {
        return Err(SetupError(format!(
            "A station is already set up in {}.",
            path.display()
        )));
    }
    let s = &first.station;
    check_station(&s.station_id, &s.county, &s.timezone)?;
    if s.election.election_id.trim().is_empty() || s.election.name.trim().is_empty() {
        return Err(SetupError(
            "The first election needs its id and its name.".into(),
        ));
    }
    check_admin(&first.admin, &first.pin, &first.pin)?;
    let temp = env
        .data_dir
        .join(format!(".ledger-setup-{}.sqlite3", std::process::id()));
    remove_with_journals(&temp);
    let built = build(&temp, first);
    if let Err(e) = built {
        remove_with_journals(&temp);
        return Err(e);
    }
    // The key before the rename: a station in place always has its key.
    let key = match StationKey::load_or_create(&env.data_dir) {
        Ok(key) => key,
        Err(e) => {
            remove_with_journals(&temp);
            return Err(SetupError(format!("cannot make the signing key: {e}")));
        }
    };
    if let Err(e) = std::fs::rename(&temp, &path) {
        remove_with_journals(&temp);
        return Err(SetupError(format!(
            "cannot move the new ledger to {}: {e}",
            path.display()
        )));
    }
    sync_dir(&env.data_dir);
    Ok(SetUp {
        ledger: path,
        key_fingerprint: key.fingerprint(),
        public_key: key.public_path(),
    })
}

/// The ledger with its administrator at `temp`, closed with no write-ahead log
/// beside it, so that renaming the one file moves all of it.
fn build(temp: &Path, first: &FirstRun) -> Result<(), SetupError> {
    let said = |e: crate::ledger::LedgerError| SetupError(e.to_string());
    let mut ledger = Ledger::create(temp, &first.station).map_err(said)?;
    ledger
        .add_user(None, first.admin.trim(), Role::Admin, &first.pin)
        .map_err(said)?;
    drop(ledger);
    let fold = || -> rusqlite::Result<()> {
        let conn = rusqlite::Connection::open(temp)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        Ok(())
    };
    fold().map_err(|e| SetupError(format!("cannot finish the new ledger: {e}")))
}

fn remove_with_journals(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Makes the rename durable; a folder that cannot be synced (some network shares)
/// still holds the file.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::barcode::CheckDigit;
    use crate::ledger::NewElection;

    fn first(admin: &str, pin: &str) -> FirstRun {
        FirstRun {
            station: StationSetup {
                station_id: "INTAKE-1".into(),
                county: "Gilpin".into(),
                timezone: "America/Denver".into(),
                election: NewElection {
                    election_id: "2027-COORD".into(),
                    name: "2027 Coordinated".into(),
                    date: chrono::NaiveDate::from_ymd_opt(2027, 11, 2).unwrap(),
                    check_digit: CheckDigit::None,
                },
                demo: false,
            },
            admin: admin.into(),
            pin: pin.into(),
        }
    }

    #[test]
    fn a_station_is_set_up_whole_with_its_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::resolve(Some(dir.path())).unwrap();
        let made = set_up(&env, &first("maria", "482913")).unwrap();
        assert!(made.public_key.exists());
        let mut ledger = Ledger::open(&made.ledger).unwrap();
        assert_eq!(ledger.station().station_id, "INTAKE-1");
        let admin = ledger
            .sign_in("maria", "482913", chrono::Utc::now())
            .unwrap();
        assert_eq!(admin.role, Role::Admin);
        // Only the ledger and the key are left: no temporary file, no journal.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".ledger-setup"))
            .collect();
        names.sort();
        assert!(names.is_empty(), "{names:?}");
        let again = set_up(&env, &first("maria", "482913")).unwrap_err();
        assert!(again.0.contains("already set up"), "{again}");
    }

    #[test]
    fn nothing_is_written_when_anything_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::resolve(Some(dir.path())).unwrap();
        let err = set_up(&env, &first("maria", "123456")).unwrap_err();
        assert!(err.0.contains("among the first a guesser tries"), "{err}");
        let mut bad_zone = first("maria", "482913");
        bad_zone.station.timezone = "Mountain Time".into();
        let err = set_up(&env, &bad_zone).unwrap_err();
        assert!(err.0.contains("is not a time zone"), "{err}");
        assert!(!env.ledger_path().exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).map_or(0, Iterator::count),
            0,
            "something was written"
        );
        assert!(check_admin("maria", "482913", "482914").is_err());
        assert!(check_station("", "Gilpin", "America/Denver").is_err());
    }
}
