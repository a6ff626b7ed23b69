//! Setting up where the sync sends, and trying it: shared by `sync setup` on the
//! command line and the sync page in the window, so both check the same things and
//! say the same words.
//!
//! "Test connection" sends no events: for a folder it writes and removes a probe
//! file; for a backend it asks the address something that changes nothing there
//! (the hub's receipts feed, which also proves the token; a backend's batches
//! endpoint by GET, which proves the address, the TLS certificate and that a web
//! server answers). What it found is said in words, whatever it was.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::transport::{SetupError, check_token_file, check_url};
use crate::config::{SyncConfig, SyncTransport};
use crate::environment::Environment;

/// Where the sync sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The notification backend, or the county hub.
    Backend {
        /// Base URL (`https://`; `http://` only on loopback).
        url: String,
        /// The bearer token's file (readable by the station's account only).
        token_file: PathBuf,
        /// A CA certificate (PEM) to trust instead of the public roots.
        ca_file: Option<PathBuf>,
    },
    /// JSON batch files into a folder (a share, a USB drive).
    Folder(PathBuf),
}

/// Puts `dest` into `config` after checking it (the URL, the token file's
/// permissions, the CA file, the folder), and builds the transport once so that a
/// bad CA or URL is reported now rather than at the first send. With `hub`, a
/// receipt goes within a second (until it is at the hub another station can accept
/// the same envelope; docs/hub.md). Returns the destination in words; `config` is
/// unchanged on an error.
pub fn configure(
    env: &Environment,
    config: &mut SyncConfig,
    dest: Destination,
    hub: bool,
) -> Result<String, SetupError> {
    if hub && matches!(dest, Destination::Folder(_)) {
        return Err(SetupError(
            "a county hub is reached by its URL, not through a folder: type the hub's URL, \
             or turn the hub off for a folder"
                .into(),
        ));
    }
    let mut next = config.clone();
    next.transport = match dest {
        Destination::Backend {
            url,
            token_file,
            ca_file,
        } => {
            let url = url.trim().to_string();
            check_url(&url)?;
            check_token_file(&token_file)?;
            if let Some(ca) = &ca_file {
                std::fs::metadata(ca).map_err(|e| {
                    SetupError(format!("cannot read the CA file {}: {e}", ca.display()))
                })?;
            }
            SyncTransport::Https {
                url,
                token_file,
                ca_file,
            }
        }
        Destination::Folder(dir) => {
            if dir.as_os_str().is_empty() {
                return Err(SetupError("name the folder the batch files go to".into()));
            }
            std::fs::create_dir_all(&dir)
                .map_err(|e| SetupError(format!("cannot create {}: {e}", dir.display())))?;
            SyncTransport::Directory { path: Some(dir) }
        }
    };
    if hub {
        next.max_batch_age_secs = 1;
    } else if next.max_batch_age_secs <= 1 {
        next.max_batch_age_secs = crate::ledger::MAX_BATCH_AGE_SECS;
    }
    super::transport_for(env, &next)?;
    *config = next;
    Ok(describe(env, &config.transport))
}

/// The destination in words: the URL, or the folder.
pub fn describe(env: &Environment, transport: &SyncTransport) -> String {
    match transport {
        SyncTransport::Https { url, .. } => url.clone(),
        SyncTransport::Directory { path } => path
            .clone()
            .unwrap_or_else(|| env.data_dir.join("outgoing"))
            .display()
            .to_string(),
    }
}

/// Tries `config`'s destination without sending an event; `Ok` says what worked,
/// `Err` what did not, each in words an administrator can act on.
pub fn test_connection(
    env: &Environment,
    config: &SyncConfig,
    hub: bool,
) -> Result<String, String> {
    match &config.transport {
        SyncTransport::Directory { path } => {
            let dir = path
                .clone()
                .unwrap_or_else(|| env.data_dir.join("outgoing"));
            probe_folder(&dir)
        }
        SyncTransport::Https {
            url,
            token_file,
            ca_file,
        } => probe_url(
            url,
            token_file,
            ca_file.as_deref(),
            Duration::from_secs(config.timeout_secs.clamp(1, 30)),
            hub,
        ),
    }
}

fn probe_folder(dir: &Path) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".ballot-intake-test-{}", std::process::id()));
    let written = std::fs::File::create(&probe)
        .and_then(|mut f| {
            f.write_all(b"a test of the folder; never a batch\n")?;
            f.sync_all()
        })
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()));
    let removed = std::fs::remove_file(&probe);
    written?;
    removed.map_err(|e| {
        format!(
            "wrote a test file in {} but cannot remove it: {e}",
            dir.display()
        )
    })?;
    Ok(format!(
        "{} is writable: a test file was written, synced to disk and removed.",
        dir.display()
    ))
}

fn probe_url(
    url: &str,
    token_file: &Path,
    ca_file: Option<&Path>,
    timeout: Duration,
    hub: bool,
) -> Result<String, String> {
    check_url(url).map_err(|e| e.0)?;
    let token = check_token_file(token_file).map_err(|e| e.0)?;
    let agent = super::transport::agent(ca_file, timeout).map_err(|e| e.0)?;
    let base = url.trim_end_matches('/');
    // The hub's feed proves the token too; a backend has no read endpoint in the
    // protocol, so its batches endpoint is asked by GET, which stores nothing.
    let (target, what) = if hub {
        (
            format!("{base}/v1/receipts?after=0"),
            "the hub's receipts feed",
        )
    } else {
        (format!("{base}/v1/batches"), "the batches endpoint")
    };
    let answer = agent
        .get(&target)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("{target} could not be reached: {e}"))?;
    let status = answer.status().as_u16();
    let secure = if url.starts_with("https") {
        " over TLS, its certificate trusted"
    } else {
        ""
    };
    match status {
        200..=299 if hub => Ok(format!(
            "{base} answered{secure}: the hub knows this station's token ({what}: HTTP {status})."
        )),
        // A backend has no read endpoint: an answer that turns the GET away (not
        // allowed, not a batch) still proves the address, the certificate and a
        // web server that speaks the protocol's paths.
        200..=299 | 400 | 405 | 422 => Ok(format!(
            "{base} answered{secure} ({what}: HTTP {status}). The address and certificate \
             are right; the token is checked with the first batch."
        )),
        401 | 403 => Err(format!(
            "{base} answered{secure} but refused the token (HTTP {status}): check the token file {}.",
            token_file.display()
        )),
        404 => Err(format!(
            "{base} answered{secure} but has no {what} (HTTP 404): check the address."
        )),
        300..=399 => Err(format!(
            "{base} redirects (HTTP {status}); redirects are never followed: use the backend's own address."
        )),
        _ => Err(format!("{base} answered{secure} HTTP {status} ({what}).")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_tried_by_writing_and_removing_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("outgoing");
        let said = probe_folder(&out).unwrap();
        assert!(said.contains("is writable"), "{said}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
        // A path under a file cannot be a folder.
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = probe_folder(&file.join("sub")).unwrap_err();
        assert!(err.starts_with("cannot create"), "{err}");
    }

    #[test]
    fn a_bad_destination_leaves_the_settings_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::resolve(Some(dir.path())).unwrap();
        let mut config = SyncConfig::default();
        let before = config.clone();
        let err = configure(
            &env,
            &mut config,
            Destination::Backend {
                url: "http://backend.example.org".into(),
                token_file: dir.path().join("token"),
                ca_file: None,
            },
            false,
        )
        .unwrap_err();
        assert!(err.0.contains("plain http is allowed only"), "{err}");
        assert_eq!(config, before);
        let share = Destination::Folder(dir.path().join("share"));
        let err = configure(&env, &mut config, share.clone(), true).unwrap_err();
        assert!(err.0.contains("hub is reached by its URL"), "{err}");
        assert_eq!(config, before);
        let said = configure(&env, &mut config, share, false).unwrap();
        assert_eq!(said, dir.path().join("share").display().to_string());
        assert_eq!(config.max_batch_age_secs, crate::ledger::MAX_BATCH_AGE_SECS);
    }
}
