//! Failing writes and fsyncs injected with libfiu (`fiu-run`, Debian's fiu-utils;
//! `scripts/test` installs it) into the real `scan`, `import` and `export`: a write
//! or sync the system refuses is NOT RECORDED and stops the program, every result it
//! printed is in the ledger afterwards, whose chain stays intact; an import stores
//! all or whole chunks; an export never mistakes its own half-written file for an
//! edited one.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::io::Write;
use std::process::Stdio;

#[test]
fn failing_writes_and_syncs_never_leave_a_printed_result_unrecorded() {
    assert!(
        common::have("fiu-run"),
        "fiu-run is missing: apt-get install -y fiu-utils (scripts/test does this)"
    );
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let codes: Vec<String> = (0..600).map(|i| format!("X{i:06}")).collect();
    let mut next = 0;
    let mut printed: Vec<serde_json::Value> = Vec::new();
    let mut refused = 0;
    for _ in 0..40 {
        if next >= codes.len() {
            break;
        }
        let mut child = s
            .wrapped(
                &[&["fiu-run"], &common::FAULTS[..]].concat(),
                &["scan", "--user", "ana", "--json"],
            )
            .env("BALLOT_INTAKE_PIN", "314159")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input: String = codes[next..].iter().map(|c| format!("{c}\n")).collect();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        let _ = feeder.join();
        // Only whole lines count as printed (a fault can cut the last one short).
        let text = String::from_utf8_lossy(&out.stdout);
        let whole = text.rfind('\n').map_or("", |end| &text[..end]);
        let lines: Vec<serde_json::Value> = whole
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if !out.status.success() {
            // (What it said is not checked: the faults also fail writes to stderr.)
            refused += 1;
        }
        next += lines.len();
        printed.extend(lines);
    }
    eprintln!(
        "{refused} runs stopped by an injected fault, {} results printed of {} codes",
        printed.len(),
        codes.len()
    );
    assert!(refused > 0, "no fault was ever injected");
    assert!(!printed.is_empty(), "nothing was ever recorded");
    // Read without faults: every printed result is there, as printed.
    let db = s.sqlite();
    for p in &printed {
        let (barcode, outcome): (String, String) = db
            .query_row(
                "SELECT normalized, outcome FROM events WHERE seq = ?1",
                [p["seq"].as_i64().unwrap()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("printed {p} is not in the ledger: {e}"));
        assert_eq!(barcode, p["barcode"].as_str().unwrap());
        assert_eq!(outcome, p["outcome"].as_str().unwrap());
    }
    let r = s.run(&["verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// A mail ballot file of `n` ballots in scattered order; from `void_from` on, every
/// tenth ballot is VOID (the update's replaced ballots).
fn ballot_file(path: &std::path::Path, n: u64, void_from: u64) {
    let mut text = String::from(
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n",
    );
    for j in 0..n {
        let i = j * 7919 % n;
        let status = if i >= void_from && i.is_multiple_of(10) {
            "VOID"
        } else {
            "ACTIVE"
        };
        text.push_str(&format!(
            "2026-GEN,F{i:06},V{i:06},\"Peña, Jr.\",Zoë,80202,101,S1,{status},N\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Every ballot's data as stored, in ballot-id order (not which import stored it:
/// a failed import uses up an import id).
fn ballots(s: &Station) -> Vec<(String, String, String)> {
    let db = s.sqlite();
    let mut stmt = db
        .prepare("SELECT ballot_id, voter_id, status FROM ballots ORDER BY ballot_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Imports under failing writes and fsyncs, until one succeeds: a first import that
/// failed stored nothing; a re-import that failed stored whole chunks of the update
/// (each ballot as the first file or the second had it), and importing again
/// completes it. At the end the ledger holds what a station without faults holds.
#[test]
fn imports_under_failing_writes_store_all_or_whole_chunks() {
    assert!(common::have("fiu-run"), "fiu-run is missing");
    let dir = tempfile::tempdir().unwrap();
    let (first, update) = (dir.path().join("first.csv"), dir.path().join("update.csv"));
    ballot_file(&first, 3000, u64::MAX);
    ballot_file(&update, 3600, 0);
    let clean = Station::upcoming();
    clean.ok(&["import", first.to_str().unwrap()]);
    let after_first = ballots(&clean);
    clean.ok(&["import", update.to_str().unwrap()]);
    let after_update = ballots(&clean);

    let s = Station::upcoming();
    let mut failed = 0;
    for (file, before, after) in [
        (&first, Vec::new(), &after_first),
        (&update, after_first.clone(), &after_update),
    ] {
        let mut done = false;
        for _ in 0..40 {
            let r = s.under_faults(&["import", file.to_str().unwrap()]);
            let now = ballots(&s);
            if r.code == 0 {
                assert_eq!(&now, after, "a successful import under faults");
                done = true;
                break;
            }
            failed += 1;
            if before.is_empty() {
                assert!(
                    now.is_empty(),
                    "a failed first import stored {} ballots",
                    now.len()
                );
            } else {
                // Each ballot as one of the two files has it.
                for row in &now {
                    let id = &row.0;
                    let was = before.iter().find(|b| &b.0 == id);
                    let will = after.iter().find(|b| &b.0 == id);
                    assert!(
                        was == Some(row) || will == Some(row),
                        "ballot {id} is {row:?}"
                    );
                }
            }
        }
        if !done {
            s.ok(&["import", file.to_str().unwrap()]);
            assert_eq!(&ballots(&s), after);
        }
    }
    assert!(failed > 0, "no fault was ever injected");
    eprintln!("{failed} imports stopped by an injected fault");
    let integrity: String = s
        .sqlite()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let v = s.run(&["verify"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// The nightly file exported under failing writes and fsyncs, each try into a
/// folder of its own, then again without faults: an export stopped by a fault
/// never makes the next one set its own file aside as "edited" (it did when the file
/// was written and its manifest was not), and the folder ends with the same bytes
/// as a station that never failed.
#[test]
fn exports_under_failing_writes_never_set_their_own_file_aside() {
    assert!(common::have("fiu-run"), "fiu-run is missing");
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (r, _) = s.scan("ana", "314159", "B0001\nB0002\nB0003\nNOPE\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let day = chrono::Local::now().date_naive().to_string();
    let reference = s.dir.path().join("reference");
    s.ok(&[
        "export",
        "--date",
        &day,
        "--out",
        reference.to_str().unwrap(),
    ]);
    let names = |dir: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mut failed = 0;
    for i in 0..40 {
        let out = s.dir.path().join(format!("out-{i}"));
        let args = ["export", "--date", &day, "--out", out.to_str().unwrap()];
        if s.under_faults(&args).code == 0 {
            continue;
        }
        failed += 1;
        s.ok(&args);
        assert_eq!(names(&out), names(&reference), "after a failed export");
        for name in names(&reference) {
            if name.ends_with(".csv") {
                assert_eq!(
                    std::fs::read(out.join(&name)).unwrap(),
                    std::fs::read(reference.join(&name)).unwrap(),
                    "{name}"
                );
            }
        }
    }
    assert!(failed > 0, "no fault was ever injected");
    eprintln!("{failed} exports stopped by an injected fault, each completed after");
}
