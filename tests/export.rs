//! Nightly batch files through the real binary: golden files from the stored v1
//! ledger, the manifest's checksum, byte-identical re-runs, and an empty day.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, fixture};
use sha2::{Digest, Sha256};

/// The stored v1 ledger (made before `init` made an administrator), given its
/// first administrator as such a station is: `user add --role admin` without one.
fn from_v1() -> Station {
    let s = Station::empty();
    let sql = std::fs::read_to_string(fixture("ledger/v1.sql")).unwrap();
    rusqlite::Connection::open(s.ledger_path())
        .unwrap()
        .execute_batch(&sql)
        .unwrap();
    let r = s.run_with(
        &["user", "add", common::ADMIN, "--role", "admin"],
        format!("{}\n", common::ADMIN_PIN).as_bytes(),
        &[("BALLOT_INTAKE_USER", "")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    s
}

#[test]
fn golden_csv_and_manifest() {
    let s = from_v1();
    let day = std::fs::read_to_string(fixture("export/DAY")).unwrap();
    let day = day.trim();
    let out = s.dir.path().join("out");
    let r = s.ok(&[
        "export",
        "--date",
        day,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let manifest: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let name = format!("ballot-intake_{day}_S1.csv");
    let csv = std::fs::read(out.join(&name)).unwrap();
    assert_eq!(
        String::from_utf8(csv.clone()).unwrap(),
        std::fs::read_to_string(fixture(&format!("export/{name}"))).unwrap(),
        "the CSV differs from the golden file"
    );
    assert_eq!(
        manifest["sha256"],
        hex::encode(Sha256::digest(&csv)),
        "the manifest's checksum"
    );
    let mut without = manifest.clone();
    without.as_object_mut().unwrap().remove("created_at");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("export/manifest-without-created-at.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(without, golden);
    // No names or addresses: every column is an id, a code or a time.
    let text = String::from_utf8(csv).unwrap();
    for name in ["Núñez", "O'Brien", "Larimer", "Siobhán"] {
        assert!(!text.contains(name), "{name} in the export");
    }
    // The audit log records the export.
    let audited: i64 = s
        .sqlite()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE event = 'export-written'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
}

#[test]
fn rerunning_a_day_gives_the_same_bytes() {
    let s = from_v1();
    let day = std::fs::read_to_string(fixture("export/DAY")).unwrap();
    let out = s.dir.path().join("out");
    let args = [
        "export",
        "--date",
        day.trim(),
        "--out",
        out.to_str().unwrap(),
    ];
    s.ok(&args);
    let read_all = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = read_all();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let r = s.ok(&args);
    assert!(r.stdout.starts_with("unchanged"), "{}", r.stdout);
    assert_eq!(
        read_all(),
        before,
        "CSV, manifest and signature byte for byte"
    );
    assert_eq!(
        before.len(),
        3,
        "no temporary files left: {:?}",
        before.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
}

#[test]
fn a_day_with_no_events_has_a_header_only() {
    let s = Station::upcoming();
    let out = s.dir.path().join("out");
    let r = s.ok(&[
        "export",
        "--date",
        "2020-01-15",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let manifest: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(manifest["rows"], 0);
    assert!(manifest["first_event"].is_null());
    let csv = std::fs::read_to_string(out.join("ballot-intake_2020-01-15_S1.csv")).unwrap();
    assert_eq!(
        csv,
        "event_id,station_id,election_id,ballot_id,voter_id,event_type,outcome,occurred_at,batch,reason,corrects\r\n"
    );
}

#[test]
fn todays_scans_are_in_todays_file_by_local_day() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s.scan("ana", "314159", "B0001\nB0006\nNOPE\n");
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
        "--json",
    ]);
    let manifest: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(manifest["rows"], 3);
    assert_eq!(manifest["counts"]["scan:accepted"], 2);
    // The confidential voter (B0006) appears by id only, like everyone.
    let csv = std::fs::read_to_string(out.join(format!("ballot-intake_{today}_S1.csv"))).unwrap();
    assert!(csv.contains(",B0006,V100006,scan,accepted,"), "{csv}");
    assert!(!csv.contains("Private"));
}

/// Cells a spreadsheet would run as formulas are written as text, and a nightly
/// file edited since the station wrote it is moved aside, not silently replaced.
#[test]
fn formula_cells_are_text_and_an_edited_file_is_kept_aside() {
    let s = from_v1();
    let day = std::fs::read_to_string(fixture("export/DAY")).unwrap();
    let day = day.trim();
    let out = s.dir.path().join("out");
    let args = ["export", "--date", day, "--out", out.to_str().unwrap()];
    s.ok(&args);
    let name = format!("ballot-intake_{day}_S1.csv");
    let csv = out.join(&name);
    // A ledger holding what the import now refuses (a file loaded before the check):
    // a ballot id and a voter id that are formulas.
    let db = s.sqlite();
    let ballot: i64 = db
        .query_row(
            "SELECT ballot_pk FROM events WHERE ballot_pk IS NOT NULL ORDER BY seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE ballots SET ballot_id = '=1+1', voter_id = '=HYPERLINK(\"http://evil/\",\"x\")'
          WHERE ballot_pk = ?1",
        [ballot],
    )
    .unwrap();
    // Someone edits the file in a spreadsheet.
    let edited = std::fs::read_to_string(&csv)
        .unwrap()
        .replace("duplicate", "DUPLICATE");
    std::fs::write(&csv, &edited).unwrap();
    let r = s.ok(&args);
    assert!(
        r.stderr
            .contains("had been changed since this station wrote it"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.contains(",'=1+1,\"'=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\","),
        "{text}"
    );
    assert!(!text.contains(",=1+1,"), "{text}");
    let kept: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".edited-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(out.join(&kept[0])).unwrap(), edited);
}
