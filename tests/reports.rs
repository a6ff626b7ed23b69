//! Custody sheets and day reconciliations as PDF, through the real binary: read back
//! as text with pdftotext and drawn with pdftoppm, as an auditor's tools see them.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, have};
use std::path::Path;
use std::process::Command;

fn run(s: &Station, args: &[&str], pin: &str, verifier: &str) -> common::Run {
    s.run_with(
        args,
        b"",
        &[
            ("BALLOT_INTAKE_PIN", pin),
            ("BALLOT_INTAKE_VERIFIER_PIN", verifier),
        ],
    )
}

fn pdf_text(pdf: &Path) -> String {
    assert!(
        have("pdftotext"),
        "poppler-utils is installed by scripts/deps.sh"
    );
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Draws the first page in grey at 40 dpi and returns the share of its pixels that
/// are ink (not white): a page that drew nothing, or only a line, is caught.
fn ink(pdf: &Path) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let ok = Command::new("pdftoppm")
        .args(["-gray", "-r", "40", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let pgm = std::fs::read(file).unwrap();
    // Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    let pixels = &pgm[at + 1..];
    pixels.iter().filter(|p| **p < 128).count() as f64 / pixels.len() as f64
}

/// With BALLOT_INTAKE_SCREENSHOTS set, the first page as a PNG there (for the README).
fn picture(pdf: &Path, name: &str) {
    let Some(dir) = std::env::var_os("BALLOT_INTAKE_SCREENSHOTS") else {
        return;
    };
    let ok = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-singlefile", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(Path::new(&dir).join(name))
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_batch_custody_sheet_and_the_days_reconciliation_print_what_happened() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let r = run(
        &s,
        &[
            "batch",
            "open",
            "--user",
            "ana",
            "--container",
            "TRAY-7",
            "--seal",
            "S-001",
            "--seal",
            "S-002",
        ],
        "314159",
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, results) = s.scan("ana", "314159", "B0001\nB0002\nB0001\nNOPE\n");
    let b2 = results[1]["seq"].as_i64().unwrap().to_string();
    let r = run(
        &s,
        &[
            "batch",
            "close",
            "--user",
            "ana",
            "--verifier",
            "ben",
            "--count",
            "3",
        ],
        "314159",
        "271828",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &s,
        &[
            "batch",
            "resolve",
            "1",
            "--user",
            "sam",
            "--note",
            "third envelope was a B0001 duplicate",
        ],
        "161803",
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &s,
        &[
            "reverse",
            &b2,
            "--user",
            "sam",
            "--reason",
            "envelope from the wrong tray",
        ],
        "161803",
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let sheet = s.dir.path().join("batch-1.pdf");
    let r = run(
        &s,
        &[
            "report",
            "batch",
            "1",
            "--user",
            "sam",
            "--out",
            sheet.to_str().unwrap(),
        ],
        "161803",
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = pdf_text(&sheet);
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Batch custody sheet: batch 1",
        "Station S1",
        "Container or tray TRAY-7",
        "Seals S-001, S-002",
        "Opened by ana",
        "Closed by ana",
        "Count verified by ben",
        "Declared (counted by hand) 3",
        "Accepted (scanned, at close) 2",
        "Accepted 1",
        "Scans recorded 4",
        "Duplicate 1",
        "Unknown 1",
        "Reversed 1",
        "Resolution third envelope was a B0001 duplicate",
        "Count verified by (print name and sign)",
        "Page 1 of 1",
    ] {
        assert!(
            squeezed.contains(want),
            "{want:?} not on the sheet:\n{text}"
        );
    }
    for name in ["Núñez", "O'Brien", "Larimer"] {
        assert!(!text.contains(name), "{name} is on the sheet");
    }
    picture(&sheet, "custody-sheet");
    let drawn = ink(&sheet);
    assert!(drawn > 0.01 && drawn < 0.5, "ink {drawn}");
    // Signed like every file the station gives out.
    let public = std::fs::read_to_string(
        s.status()["signing_key"]["public_key_file"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let sig = ballot_intake_core::signing::signature_path(&sheet);
    ballot_intake_core::signing::verify_file(&sheet, &sig, &public).unwrap();
    let r = s.run(&["verify-file", sheet.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("OK "), "{}", r.stdout);
    // One byte of the PDF changed: refused.
    let mut bytes = std::fs::read(&sheet).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    let changed = s.dir.path().join("changed.pdf");
    std::fs::write(&changed, &bytes).unwrap();
    std::fs::copy(&sig, format!("{}.sig", changed.display())).unwrap();
    let r = s.run(&["verify-file", changed.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("NOT VERIFIED"), "{}", r.stderr);

    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive()
        .to_string();
    let day = s.dir.path().join("day.pdf");
    let r = run(
        &s,
        &[
            "report",
            "day",
            &today,
            "--user",
            "ana",
            "--out",
            day.to_str().unwrap(),
        ],
        "314159",
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = pdf_text(&day);
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Daily reconciliation:",
        "Accepted 2",
        "Duplicate 1",
        "Unknown 1",
        "Correction 1",
        "TRAY-7",
        "+1",
        "Batch 1: +1; resolution: third envelope was a B0001 duplicate",
        "reverses S1-",
        "envelope from the wrong tray",
        "Reviewed by, supervisor (print name and sign)",
    ] {
        assert!(
            squeezed.contains(want),
            "{want:?} not in the report:\n{text}"
        );
    }
    assert!(ink(&day) > 0.01);
    picture(&day, "day-reconciliation");

    // Both writings are in the audit log.
    let log = s.sqlite();
    let n: i64 = log
        .query_row(
            "SELECT count(*) FROM audit_log WHERE event = 'report-written'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
    // A batch that does not exist: said so, nothing written.
    let none = s.dir.path().join("none.pdf");
    let r = run(
        &s,
        &[
            "report",
            "batch",
            "99",
            "--user",
            "sam",
            "--out",
            none.to_str().unwrap(),
        ],
        "161803",
        "",
    );
    assert_eq!(r.code, 1);
    assert!(!none.exists());
}
