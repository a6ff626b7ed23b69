//! `verify-file` and the signing key's line in `status`: the station's signed files
//! from the command line.

use anyhow::{Result, anyhow};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

use super::output::print_json;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::signing::{PUBLIC_KEY_FILE, StationKey};

/// The station's signing key as `status` shows it.
#[derive(Serialize)]
pub struct KeyLine {
    /// `SHA256:` and the hex digest of the public key.
    pub fingerprint: String,
    /// The public key's file (PEM).
    pub public_key_file: String,
}

/// The station's key, if it has one (`status` never makes one: it only looks).
pub fn key_line(env: &Environment) -> Option<KeyLine> {
    if !env
        .data_dir
        .join(ballot_intake_core::signing::KEY_FILE)
        .exists()
    {
        return None;
    }
    match StationKey::load(&env.data_dir) {
        Ok(k) => Some(KeyLine {
            fingerprint: k.fingerprint(),
            public_key_file: k.public_path().display().to_string(),
        }),
        Err(e) => {
            note!("warning: signing key: {e}");
            None
        }
    }
}

/// `verify-file FILE [--public-key PEM]`.
pub fn verify_file(
    env: &Environment,
    file: &Path,
    public_key: Option<&Path>,
    json: bool,
) -> Result<ExitCode> {
    let key_path = public_key.map_or_else(|| env.data_dir.join(PUBLIC_KEY_FILE), Path::to_path_buf);
    let pem = std::fs::read_to_string(&key_path).map_err(|e| {
        anyhow!(
            "cannot read the public key {}: {e}; give the station's public key with --public-key FILE \
             (`ballot-intake status` on the station names it)",
            key_path.display()
        )
    })?;
    match ballot_intake_core::verify_file::verify(file, &pem) {
        Ok(v) => {
            if json {
                print_json(&v)?;
            } else {
                out!(
                    "OK {}: {} rows of station {} for {}, sha256 {}, as its manifest says; \
                     the manifest is signed by {}",
                    v.csv.display(),
                    v.rows,
                    v.station_id,
                    v.date,
                    v.sha256,
                    v.signed_by
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            note!("NOT VERIFIED {}: {e}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}
