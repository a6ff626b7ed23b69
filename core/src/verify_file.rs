//! Checking a nightly file as an auditor would: the CSV against its manifest's
//! SHA-256 and row count, and the manifest against the station's signature, with
//! only the station's public key. Editing a CSV and recomputing the hash in the
//! manifest is caught by the signature; editing the manifest, by the signature too.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::export::Manifest;
use crate::signing::{SigningError, signature_path, verify_file};

/// A file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The CSV.
    pub csv: PathBuf,
    /// Its manifest.
    pub manifest: PathBuf,
    /// The station the manifest names.
    pub station_id: String,
    /// The day.
    pub date: String,
    /// Data rows.
    pub rows: u64,
    /// The CSV's SHA-256.
    pub sha256: String,
    /// The fingerprint of the key that signed the manifest.
    pub signed_by: String,
}

/// The manifest of `file` (a nightly CSV or its `.manifest.json`).
pub fn manifest_of(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".manifest.json") {
        return file.to_path_buf();
    }
    let stem = name.strip_suffix(".csv").unwrap_or(&name);
    file.with_file_name(format!("{stem}.manifest.json"))
}

/// Checks `file` (the CSV or its manifest) with the public key `public_pem`.
pub fn verify(file: &Path, public_pem: &str) -> Result<Verified, SigningError> {
    let manifest_path = manifest_of(file);
    let signed_by = verify_file(&manifest_path, &signature_path(&manifest_path), public_pem)?;
    let bytes = std::fs::read(&manifest_path)
        .map_err(|e| SigningError(format!("{}: {e}", manifest_path.display())))?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        SigningError(format!(
            "{} is signed but is not a manifest: {e}",
            manifest_path.display()
        ))
    })?;
    // The file the manifest names, beside it (never a path it might smuggle in).
    let name = Path::new(&manifest.file)
        .file_name()
        .ok_or_else(|| SigningError(format!("the manifest names no file: {:?}", manifest.file)))?;
    let csv = manifest_path.with_file_name(name);
    let data = std::fs::read(&csv).map_err(|e| SigningError(format!("{}: {e}", csv.display())))?;
    let sha256 = hex::encode(Sha256::digest(&data));
    if sha256 != manifest.sha256 {
        return Err(SigningError(format!(
            "{} has changed since it was written: its SHA-256 is {sha256}, the signed manifest says {}",
            csv.display(),
            manifest.sha256
        )));
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(&data[..]);
    let mut rows = 0u64;
    for record in reader.records() {
        record.map_err(|e| SigningError(format!("{}: {e}", csv.display())))?;
        rows += 1;
    }
    if rows != manifest.rows {
        return Err(SigningError(format!(
            "{} holds {rows} rows, the signed manifest says {}",
            csv.display(),
            manifest.rows
        )));
    }
    Ok(Verified {
        csv,
        manifest: manifest_path,
        station_id: manifest.station_id,
        date: manifest.date,
        rows,
        sha256,
        signed_by,
    })
}
