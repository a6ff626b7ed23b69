//! What the running `listen` knows about its scanners, written to a small file so
//! that `status` (another process) can show connected / disconnected / last code.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One scanner's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScannerState {
    /// Whether the device is open and being read.
    pub connected: bool,
    /// When it connected or disconnected last (UTC).
    pub since: String,
    /// Why it is disconnected, when it is.
    pub reason: Option<String>,
    /// When its last code arrived (UTC).
    pub last_code_at: Option<String>,
    /// Codes received since the listener started.
    pub codes: u64,
}

/// The file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ListenerState {
    /// The listening process, while it runs (absent once it stopped).
    pub pid: Option<u32>,
    /// When the file was written (UTC).
    pub updated_at: String,
    /// Per source (`serial:/dev/ttyACM0`, `usb:0c2e:0b61`).
    pub scanners: BTreeMap<String, ScannerState>,
}

impl ListenerState {
    /// The file in the data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("scanner-state.json")
    }

    /// Reads the file; nothing known when it is missing or unreadable.
    pub fn load(data_dir: &Path) -> ListenerState {
        std::fs::read(ListenerState::path(data_dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the file atomically.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::files::write_atomically(&ListenerState::path(data_dir), &bytes)
    }

    /// Whether the process that wrote the file still runs (Linux checks /proc; other
    /// systems trust the file).
    pub fn listener_alive(&self) -> bool {
        match self.pid {
            None => false,
            Some(pid) if cfg!(target_os = "linux") => Path::new(&format!("/proc/{pid}")).exists(),
            Some(_) => true,
        }
    }
}
