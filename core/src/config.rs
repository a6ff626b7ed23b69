//! The station's configuration file (`config.json` in the config directory): the
//! scanners it reads and their settings.
//!
//! Loading falls back field by field to defaults: a damaged or partial file never
//! keeps the station from starting; what could not be read is logged. Saving writes
//! a temporary file, syncs it and renames it over the old one, so a crash leaves
//! either the old file or the new one.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::environment::Environment;
use crate::scanner::ScannerSpec;
use crate::scanner::hidpos::{self, ReportLayout};
use crate::scanner::serial::SerialSettings;

/// One configured scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScannerConfig {
    /// `serial:PATH[@BAUD]` or `usb:VID:PID`.
    pub spec: String,
    /// Line and framing settings, for a serial scanner (its path and baud come from
    /// the spec).
    pub serial: SerialSettings,
    /// Report layout, for a USB HID-POS scanner (default: the known model's).
    pub layout: Option<ReportLayout>,
}

impl ScannerConfig {
    /// A scanner with default settings for `spec`.
    pub fn for_spec(spec: &ScannerSpec) -> Self {
        let mut c = ScannerConfig {
            spec: spec.to_string(),
            ..ScannerConfig::default()
        };
        if let ScannerSpec::Serial { path, baud } = spec {
            c.serial = SerialSettings::new(path, *baud);
        }
        c
    }

    /// The serial settings with the spec's path and baud applied.
    pub fn serial_settings(&self, path: &str, baud: u32) -> SerialSettings {
        SerialSettings {
            path: path.to_string(),
            baud,
            ..self.serial.clone()
        }
    }

    /// The USB report layout: configured, else the known model's, else length-prefixed.
    pub fn usb_layout(&self, vid: u16, pid: u16) -> ReportLayout {
        self.layout
            .or_else(|| hidpos::known(vid, pid).map(|k| k.layout))
            .unwrap_or_default()
    }
}

/// Where the sync sends the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "transport")]
pub enum SyncTransport {
    /// JSON batch files written atomically into a folder (a share, a USB drive). The
    /// default until a backend URL is configured; `None` means `<data dir>/outgoing`.
    Directory {
        /// The folder.
        path: Option<PathBuf>,
    },
    /// The notification backend's HTTPS API.
    Https {
        /// Base URL (`https://...`, or `http://` on a loopback address only).
        url: String,
        /// File holding the bearer token (readable by the station's user only).
        token_file: PathBuf,
        /// A CA certificate (PEM) to trust instead of the public roots.
        ca_file: Option<PathBuf>,
    },
}

/// The sync's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncConfig {
    /// Where batches go.
    pub transport: SyncTransport,
    /// Seconds a request may take before it counts as failed (and is retried).
    pub timeout_secs: u64,
    /// First retry wait in milliseconds; it doubles per attempt up to a minute.
    pub retry_base_ms: u64,
    /// In `sync --watch`, the longest an event waits for its batch to fill (seconds).
    pub max_batch_age_secs: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            transport: SyncTransport::Directory { path: None },
            timeout_secs: 30,
            retry_base_ms: 1000,
            max_batch_age_secs: crate::ledger::MAX_BATCH_AGE_SECS,
        }
    }
}

/// The desktop application's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiConfig {
    /// Sign the user out after this many minutes without a key or a scan (0: never).
    pub idle_minutes: u64,
    /// Play the accepted and set-aside sounds.
    pub sounds: bool,
    /// Their loudness, 0 to 100.
    pub volume: u8,
    /// The longest gap, in milliseconds, between two keys of a keyboard-wedge
    /// scanner's burst (see `scanner::wedge`): raise it for a scanner set to type
    /// slowly, lower it if a fast typist is taken for a scanner.
    pub wedge_max_gap_ms: u64,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            idle_minutes: 15,
            sounds: true,
            volume: 80,
            wedge_max_gap_ms: crate::scanner::wedge::DEFAULT_MAX_GAP_MS,
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    /// The desktop application.
    pub ui: UiConfig,
    /// The scanners `listen` (and the desktop application) read.
    pub scanners: Vec<ScannerConfig>,
    /// The sync to the notification backend.
    pub sync: SyncConfig,
}

impl Config {
    /// The file's path in `env`.
    pub fn path(env: &Environment) -> PathBuf {
        env.config_dir.join("config.json")
    }

    /// Loads the configuration; missing or unreadable parts take their defaults.
    pub fn load(env: &Environment) -> Config {
        let path = Config::path(env);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Config::default(),
            Err(e) => {
                log::warn!("cannot read {}: {e}; using defaults", path.display());
                return Config::default();
            }
        };
        Config::parse(&text, &path)
    }

    /// The configuration in `text` (the file at `path`, named in warnings): what is
    /// unreadable takes its default, nothing in it stops the station.
    pub fn parse(text: &str, path: &Path) -> Config {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => Config::from_value(&value, path),
            Err(e) => {
                log::warn!("{} is not valid JSON ({e}); using defaults", path.display());
                Config::default()
            }
        }
    }

    /// Field by field: a bad scanner entry is skipped, the others kept.
    fn from_value(value: &serde_json::Value, path: &Path) -> Config {
        let mut config = Config::default();
        if let Some(ui) = value.get("ui") {
            match serde_json::from_value::<UiConfig>(ui.clone()) {
                Ok(u) => config.ui = u,
                Err(e) => log::warn!(
                    "{}: the ui settings are unreadable ({e}); using defaults",
                    path.display()
                ),
            }
        }
        if let Some(sync) = value.get("sync") {
            match serde_json::from_value::<SyncConfig>(sync.clone()) {
                Ok(s) => config.sync = s,
                Err(e) => log::warn!(
                    "{}: the sync settings are unreadable ({e}); using the default folder transport",
                    path.display()
                ),
            }
        }
        if let Some(list) = value.get("scanners").and_then(|v| v.as_array()) {
            for (i, item) in list.iter().enumerate() {
                match serde_json::from_value::<ScannerConfig>(item.clone()) {
                    Ok(s) if s.spec.parse::<ScannerSpec>().is_ok() => config.scanners.push(s),
                    Ok(s) => log::warn!(
                        "{}: scanner {i} has a bad spec {:?}; skipped",
                        path.display(),
                        s.spec
                    ),
                    Err(e) => log::warn!(
                        "{}: scanner {i} is unreadable ({e}); skipped",
                        path.display()
                    ),
                }
            }
        }
        config
    }

    /// The configured scanner for `spec`, or a default one.
    pub fn scanner(&self, spec: &ScannerSpec) -> ScannerConfig {
        let text = spec.to_string();
        self.scanners
            .iter()
            .find(|s| {
                s.spec
                    .parse::<ScannerSpec>()
                    .is_ok_and(|p| p.to_string() == text)
            })
            .cloned()
            .unwrap_or_else(|| ScannerConfig::for_spec(spec))
    }

    /// Saves atomically.
    pub fn save(&self, env: &Environment) -> std::io::Result<()> {
        let path = Config::path(env);
        crate::files::write_atomically(
            &path,
            &serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &Path) -> Environment {
        Environment::resolve(Some(dir)).unwrap()
    }

    #[test]
    fn missing_file_is_defaults_and_save_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        assert_eq!(Config::load(&env), Config::default());
        let spec: ScannerSpec = "serial:/dev/ttyACM0@115200".parse().unwrap();
        let c = Config {
            scanners: vec![ScannerConfig::for_spec(&spec)],
            ..Config::default()
        };
        c.save(&env).unwrap();
        assert_eq!(Config::load(&env), c);
        assert_eq!(c.scanner(&spec).serial.baud, 115_200);
    }

    #[test]
    fn damaged_entries_fall_back_without_losing_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        std::fs::create_dir_all(&env.config_dir).unwrap();
        std::fs::write(
            Config::path(&env),
            r#"{"scanners": [{"spec": "serial:/dev/ttyUSB0", "serial": {"framing": {"terminator": "crlf"}}},
                              {"spec": "bogus"}, 42, {"spec": "usb:0c2e:0b61", "layout": "symbology-first"}],
                "unknown": true}"#,
        )
        .unwrap();
        let c = Config::load(&env);
        assert_eq!(c.scanners.len(), 2);
        assert_eq!(
            c.scanners[0].serial.framing.terminator,
            crate::scanner::framing::Terminator::CrLf
        );
        assert_eq!(c.scanners[0].serial.baud, 9600, "defaults fill the rest");
        assert_eq!(
            c.scanners[1].usb_layout(0x0c2e, 0x0b61),
            ReportLayout::SymbologyFirst
        );
        std::fs::write(Config::path(&env), "{ not json").unwrap();
        assert_eq!(Config::load(&env), Config::default());
    }
}
