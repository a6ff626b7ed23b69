//! The station's signing key (Ed25519) and the detached signatures it puts on the
//! files that leave the station (a nightly file's manifest, and what else an auditor
//! is given).
//!
//! A SHA-256 in a manifest shows a file was not damaged, but anyone who can edit
//! the file can also recompute the hash. A signature shows the manifest came from
//! this station: only the station's account can read its private key. The key is
//! kept as PKCS#8 PEM and the public half as SPKI PEM, and each signature is the raw
//! 64 bytes in `<file>.sig`. So an auditor can check a file with openssl and the
//! public key alone, without this program:
//!
//! ```text
//! openssl pkeyutl -verify -pubin -inkey station-signing-key.pub.pem -rawin \
//!     -in FILE.manifest.json -sigfile FILE.manifest.json.sig
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The private key's file, beside the ledger, readable by the station's account only.
pub const KEY_FILE: &str = "station-signing-key.pem";
/// The public key's file, beside it: what `status` shows and an auditor is given.
pub const PUBLIC_KEY_FILE: &str = "station-signing-key.pub.pem";

/// The station's key, beside its ledger (made there if there is none yet).
pub fn station_key(
    ledger: &crate::ledger::Ledger,
) -> Result<StationKey, crate::export::ExportError> {
    let dir = ledger
        .path()
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    StationKey::load_or_create(&dir).map_err(|e| crate::export::io_err(&dir, &e))
}

/// Why a key could not be had or a signature made or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SigningError(pub String);

/// The station's key pair.
pub struct StationKey {
    key: SigningKey,
    dir: PathBuf,
}

impl std::fmt::Debug for StationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key, not even in a log.
        f.debug_struct("StationKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl StationKey {
    /// The station's key in `dir` (the ledger's folder), made there if there is none
    /// yet (at `init`, or on first use by a station set up before keys existed).
    pub fn load_or_create(dir: &Path) -> Result<StationKey, SigningError> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            return Self::load(dir);
        }
        let key = SigningKey::generate(&mut password_hash::rand_core::OsRng);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SigningError(format!("cannot encode the station's key: {e}")))?;
        write_new(&path, pem.as_bytes(), 0o600)?;
        let station = StationKey {
            key,
            dir: dir.to_path_buf(),
        };
        station.write_public()?;
        log::info!(
            "made the station's signing key {} ({})",
            path.display(),
            station.fingerprint()
        );
        Ok(station)
    }

    /// The station's key in `dir`; refused if others can read it.
    pub fn load(dir: &Path) -> Result<StationKey, SigningError> {
        let path = dir.join(KEY_FILE);
        let meta = std::fs::metadata(&path)
            .map_err(|e| SigningError(format!("{}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(SigningError(format!(
                    "{} can be read by other accounts: a signature made with it proves nothing; \
                     run `chmod 600 {}` if it was never exposed, else make a new key",
                    path.display(),
                    path.display()
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| SigningError(format!("{}: {e}", path.display())))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| SigningError(format!("{} is not an Ed25519 key: {e}", path.display())))?;
        let station = StationKey {
            key,
            dir: dir.to_path_buf(),
        };
        if !dir.join(PUBLIC_KEY_FILE).exists() {
            station.write_public()?;
        }
        Ok(station)
    }

    fn write_public(&self) -> Result<(), SigningError> {
        let path = self.dir.join(PUBLIC_KEY_FILE);
        write_replacing(&path, self.public_pem().as_bytes())
    }

    /// The public key as SPKI PEM.
    pub fn public_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// The public key's fingerprint: `SHA256:` and the hex SHA-256 of its 32 bytes,
    /// short enough to read out over the phone to the county.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key.verifying_key())
    }

    /// Where the public key is.
    pub fn public_path(&self) -> PathBuf {
        self.dir.join(PUBLIC_KEY_FILE)
    }

    /// Signs `file`'s bytes into `<file>.sig` (written atomically); returns its path.
    pub fn sign_file(&self, file: &Path) -> Result<PathBuf, SigningError> {
        let bytes =
            std::fs::read(file).map_err(|e| SigningError(format!("{}: {e}", file.display())))?;
        let signature = self.key.sign(&bytes);
        let sig_path = signature_path(file);
        write_replacing(&sig_path, &signature.to_bytes())?;
        Ok(sig_path)
    }
}

/// `<file>.sig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The fingerprint of a public key given as SPKI PEM.
pub fn fingerprint_of_pem(public_pem: &str) -> Result<String, SigningError> {
    VerifyingKey::from_public_key_pem(public_pem)
        .map(|k| fingerprint(&k))
        .map_err(|e| SigningError(format!("not an Ed25519 public key (SPKI PEM): {e}")))
}

fn fingerprint(key: &VerifyingKey) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// Checks that `sig_file` is a signature of `file`'s bytes by the key in
/// `public_pem`; returns the key's fingerprint.
pub fn verify_file(file: &Path, sig_file: &Path, public_pem: &str) -> Result<String, SigningError> {
    let key = VerifyingKey::from_public_key_pem(public_pem)
        .map_err(|e| SigningError(format!("not an Ed25519 public key (SPKI PEM): {e}")))?;
    let bytes =
        std::fs::read(file).map_err(|e| SigningError(format!("{}: {e}", file.display())))?;
    let raw = std::fs::read(sig_file).map_err(|e| {
        SigningError(format!(
            "{}: {e} (every file the station signs has its signature beside it)",
            sig_file.display()
        ))
    })?;
    let signature = Signature::from_slice(&raw).map_err(|_| {
        SigningError(format!(
            "{} is not an Ed25519 signature ({} bytes, not 64)",
            sig_file.display(),
            raw.len()
        ))
    })?;
    key.verify(&bytes, &signature).map_err(|_| {
        SigningError(format!(
            "{} was not signed by the key {} (or was changed after it was signed)",
            file.display(),
            fingerprint(&key)
        ))
    })?;
    Ok(fingerprint(&key))
}

/// Writes a new file with `mode`, synced; never replaces one.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SigningError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options
        .open(path)
        .map_err(|e| SigningError(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| SigningError(format!("cannot write {}: {e}", path.display())))
}

fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    crate::files::write_atomically(path, bytes)
        .map_err(|e| SigningError(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_file_verifies_and_a_changed_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let key = StationKey::load_or_create(dir.path()).unwrap();
        let again = StationKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.fingerprint(), again.fingerprint(), "the key is kept");
        let file = dir.path().join("day.manifest.json");
        std::fs::write(&file, b"{\"rows\": 3}\n").unwrap();
        let sig = key.sign_file(&file).unwrap();
        let public = std::fs::read_to_string(key.public_path()).unwrap();
        assert_eq!(
            verify_file(&file, &sig, &public).unwrap(),
            key.fingerprint()
        );
        std::fs::write(&file, b"{\"rows\": 4}\n").unwrap();
        let e = verify_file(&file, &sig, &public).unwrap_err();
        assert!(e.0.contains("was not signed by the key"), "{e}");
        // Another station's key does not vouch for this station's file.
        let other = tempfile::tempdir().unwrap();
        let other = StationKey::load_or_create(other.path()).unwrap();
        key.sign_file(&file).unwrap();
        assert!(verify_file(&file, &sig, &other.public_pem()).is_err());
        assert!(verify_file(&file, &sig, &public).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_private_key_is_the_accounts_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        StationKey::load_or_create(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = StationKey::load(dir.path()).unwrap_err();
        assert!(e.0.contains("can be read by other accounts"), "{e}");
    }
}
