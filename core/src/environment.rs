//! The one place that knows where the station keeps its files.
//!
//! Locations come from the platform conventions (the `directories` crate) unless
//! overridden with `--data-dir` or `BALLOT_INTAKE_DATA_DIR`, for a portable install
//! on a removable drive, for tests, or for a demo kept apart from the real station.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "BALLOT_INTAKE_DATA_DIR";

/// The ledger's file name inside the data directory.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// Where this station's files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Holds the ledger (and, later, exports and the sync spool).
    pub data_dir: PathBuf,
    /// Holds the station's configuration file.
    pub config_dir: PathBuf,
    /// Holds log files.
    pub log_dir: PathBuf,
    /// Whether the location came from an override.
    pub overridden: bool,
}

impl Environment {
    /// Resolves the locations. An override puts config and logs under the data
    /// directory too, so one folder holds the whole station.
    pub fn resolve(data_dir_override: Option<&Path>) -> Result<Environment, String> {
        if let Some(dir) = data_dir_override {
            return Ok(Environment {
                data_dir: dir.to_path_buf(),
                config_dir: dir.join("config"),
                log_dir: dir.join("logs"),
                overridden: true,
            });
        }
        let dirs = directories::ProjectDirs::from("us", "ballot-intake", "ballot-intake").ok_or_else(
            || format!("no home directory is known for this user; pass --data-dir DIR or set {DATA_DIR_ENV}"),
        )?;
        Ok(Environment {
            data_dir: dirs.data_dir().to_path_buf(),
            config_dir: dirs.config_dir().to_path_buf(),
            log_dir: dirs.data_local_dir().join("logs"),
            overridden: false,
        })
    }

    /// The ledger file.
    pub fn ledger_path(&self) -> PathBuf {
        self.data_dir.join(LEDGER_FILE)
    }

    /// The demo station's own environment, a folder inside this one, so that demo
    /// data can never mix with a real station's ledger.
    pub fn demo(&self) -> Environment {
        let dir = self.data_dir.join("demo");
        Environment {
            config_dir: dir.join("config"),
            log_dir: dir.join("logs"),
            data_dir: dir,
            overridden: self.overridden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_keeps_everything_in_one_folder() {
        let env = Environment::resolve(Some(Path::new("/media/usb/station"))).unwrap();
        assert_eq!(
            env.ledger_path(),
            Path::new("/media/usb/station/ledger.sqlite3")
        );
        assert!(env.config_dir.starts_with("/media/usb/station"));
        assert!(env.log_dir.starts_with("/media/usb/station"));
        assert!(env.overridden);
    }
}
