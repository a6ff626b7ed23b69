//! Signed nightly files through the real binary: the key made at `init`, the
//! manifest's detached signature, `verify-file` with the public key alone, openssl
//! checking the same signature without this program, and a CSV edited with its
//! SHA-256 recomputed in the manifest caught.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, have, run_bare};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn exported(s: &Station) -> (PathBuf, PathBuf) {
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s.scan("ana", "314159", "B0001\nB0002\nB0006\n");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive();
    let out = s.dir.path().join("out");
    let r = s.ok(&[
        "export",
        "--date",
        &today.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(r.stdout.contains("signature "), "{}", r.stdout);
    let csv = out.join(format!("ballot-intake_{today}_S1.csv"));
    let manifest = out.join(format!("ballot-intake_{today}_S1.manifest.json"));
    (csv, manifest)
}

fn public_key(s: &Station) -> PathBuf {
    let status = s.status();
    let key = &status["signing_key"];
    assert!(
        key["fingerprint"].as_str().unwrap().starts_with("SHA256:"),
        "{status}"
    );
    let file = PathBuf::from(key["public_key_file"].as_str().unwrap());
    // The key as `status` prints it is the whole key: wrapped as PEM by hand, it is
    // the file's key, so an auditor can take it from the screen.
    let printed = key["public_key"].as_str().unwrap();
    assert_eq!(
        format!("-----BEGIN PUBLIC KEY-----\n{printed}\n-----END PUBLIC KEY-----\n"),
        std::fs::read_to_string(&file).unwrap()
    );
    file
}

/// `verify-file` as an auditor runs it: no station, only the public key.
fn audit(file: &Path, key: &Path) -> common::Run {
    let elsewhere = tempfile::tempdir().unwrap();
    run_bare(
        elsewhere.path(),
        &[
            "verify-file",
            file.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
        ],
        "",
        &[],
    )
}

#[test]
fn a_nightly_file_is_signed_and_checked_with_the_public_key_alone() {
    let s = Station::upcoming();
    let key = public_key(&s);
    let private = key.with_file_name("station-signing-key.pem");
    let mode = std::fs::metadata(&private).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the private key is the station account's alone"
    );
    let (csv, manifest) = exported(&s);

    for file in [&csv, &manifest] {
        let r = audit(file, &key);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("OK "), "{}", r.stdout);
        assert!(r.stdout.contains("3 rows of station S1"), "{}", r.stdout);
    }
    // On the station itself the key need not be given.
    let r = s.run(&["verify-file", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // openssl checks the same signature with the same public key: an auditor needs
    // nothing of this program's.
    assert!(have("openssl"), "openssl is installed by scripts/deps.sh");
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&key)
        .arg("-rawin")
        .arg("-in")
        .arg(&manifest)
        .arg("-sigfile")
        .arg(format!("{}.sig", manifest.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // One byte of the CSV changed and its SHA-256 recomputed into the manifest: the
    // manifest's signature no longer holds.
    let mut bytes = std::fs::read(&csv).unwrap();
    let at = bytes.iter().position(|b| *b == b'B').unwrap();
    bytes[at + 4] = if bytes[at + 4] == b'1' { b'7' } else { b'1' };
    std::fs::write(&csv, &bytes).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["sha256"] = hex::encode(Sha256::digest(&bytes)).into();
    std::fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let r = audit(&csv, &key);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("NOT VERIFIED"), "{}", r.stderr);
    assert!(
        r.stderr.contains("was not signed by the key"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_changed_file_or_another_stations_key_is_refused() {
    let s = Station::upcoming();
    let (csv, manifest) = exported(&s);
    let key = public_key(&s);
    // The CSV edited, its manifest left alone.
    let original = std::fs::read(&csv).unwrap();
    let mut edited = original.clone();
    edited.extend_from_slice(b"S1-999,S1,2026-GEN,B0009,V1,scan,accepted,x,1,,\r\n");
    std::fs::write(&csv, &edited).unwrap();
    let r = audit(&csv, &key);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("has changed since it was written"),
        "{}",
        r.stderr
    );
    std::fs::write(&csv, &original).unwrap();
    assert_eq!(audit(&csv, &key).code, 0);
    // Another station's key does not vouch for this station's file.
    let other = Station::upcoming();
    let r = audit(&csv, &public_key(&other));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("was not signed by the key"),
        "{}",
        r.stderr
    );
    // No signature beside the manifest: refused, saying so.
    std::fs::remove_file(format!("{}.sig", manifest.display())).unwrap();
    let r = audit(&manifest, &key);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(".sig"), "{}", r.stderr);
    // Exporting the day again signs it again.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive();
    s.ok(&[
        "export",
        "--date",
        &today.to_string(),
        "--out",
        csv.parent().unwrap().to_str().unwrap(),
    ]);
    assert_eq!(audit(&csv, &key).code, 0);
}
