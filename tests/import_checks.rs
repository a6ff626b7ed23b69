//! The checks across rows of a mail ballot file, made by the ledger's indexes rather
//! than by holding the file's keys in memory, on both paths an import takes: a bulk
//! first import (the indexes dropped and built again after the rows) and a re-import
//! (every row looked up). Through the real binary, on files in scattered order.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::path::{Path, PathBuf};

const HEADER: &str = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,return_imb\n";

/// One row of ballot `i` (voter `voter`, its return envelope's serial `serial`).
fn row(i: u64, voter: u64, status: &str, serial: u64) -> String {
    format!(
        "2026-GEN,B{i:06},V{voter:07},\"Núñez, Jr.\",Zoë,80202,101,S1,{status},N,0004012345{serial:010}80202\n"
    )
}

/// `rows` ballots in scattered order (a county's file is never sorted by ballot id);
/// `edit` may replace the text of the row at each position.
fn write(dir: &Path, name: &str, rows: u64, edit: impl Fn(u64, String) -> String) -> PathBuf {
    let mut text = String::from(HEADER);
    for j in 0..rows {
        let i = j * 7919 % rows;
        text.push_str(&edit(j, row(i, i, "ACTIVE", i)));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(s: &Station, path: &Path) -> common::Run {
    s.run(&["import", path.to_str().unwrap()])
}

#[test]
fn a_bulk_first_import_names_each_repeat_with_its_first_line() {
    let s = Station::upcoming();
    let dir = tempfile::tempdir().unwrap();
    let rows = 60_000;
    // Line = position + 2. Position 100 repeats the ballot at position 10; position
    // 59,999 (the last line) gives the voter of position 20 a second ACTIVE ballot;
    // position 30,000 reuses the return envelope of position 40.
    let at = |j: u64| j * 7919 % rows;
    let path = write(dir.path(), "bulk-bad.csv", rows, |j, text| match j {
        100 => row(at(10), at(10), "ACTIVE", 900_000),
        59_999 => row(900_001, at(20), "ACTIVE", 900_001),
        30_000 => row(at(30_000), at(30_000), "ACTIVE", at(40)),
        _ => text,
    });
    let before = s.ballots_digest();
    let r = import(&s, &path);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for expected in [
        format!(
            "line 102, column ballot_id: \"B{:06}\" appears twice in the file (first on line 12)",
            at(10)
        ),
        "line 30002, column return_imb: its tracking code is also on line 42; each return envelope needs its own".to_string(),
        format!(
            "line 60001, column voter_id: voter \"V{:07}\" already has an ACTIVE ballot on line 22; at most one ACTIVE ballot per voter",
            at(20)
        ),
    ] {
        assert!(r.stderr.contains(&expected), "{expected}\n{}", r.stderr);
    }
    assert!(r.stderr.contains("3 error(s)"), "{}", r.stderr);
    // Listed in line order.
    let l102 = r.stderr.find("line 102,").unwrap();
    let l30002 = r.stderr.find("line 30002,").unwrap();
    let l60001 = r.stderr.find("line 60001,").unwrap();
    assert!(l102 < l30002 && l30002 < l60001, "{}", r.stderr);
    assert_eq!(s.ballots_digest(), before, "nothing was imported");
}

#[test]
fn a_reimport_changes_only_the_rows_that_changed() {
    let s = Station::upcoming();
    let dir = tempfile::tempdir().unwrap();
    // Enough rows for a bulk first import, and enough changes that the re-import
    // stores them in several chunks.
    let rows = 60_000;
    let first = write(dir.path(), "first.csv", rows, |_, t| t);
    assert_eq!(import(&s, &first).code, 0);
    let before = s.ballot_rows();
    // The update: every ballot with i % 10 == 7 VOID, each reissued to its voter as
    // a new ballot (6,000 changed, 6,000 added), the rows in another order.
    let mut text = String::from(HEADER);
    let mut reissues = Vec::new();
    for j in 0..rows {
        let i = j * 1009 % rows;
        if i % 10 == 7 {
            text.push_str(&row(i, i, "VOID", i));
            reissues.push(i);
        } else if i % 10 == 3 {
            // A new return envelope printed for the ballot: the envelope's index
            // changes too (the other path of the update).
            text.push_str(&row(i, i, "ACTIVE", 700_000 + i));
        } else {
            text.push_str(&row(i, i, "ACTIVE", i));
        }
    }
    for (k, i) in reissues.iter().enumerate() {
        text.push_str(&row(500_000 + k as u64, *i, "ACTIVE", 500_000 + k as u64));
    }
    let update = dir.path().join("update.csv");
    std::fs::write(&update, text).unwrap();
    let r = import(&s, &update);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("66000 rows read, 6000 added, 12000 updated, 48000 unchanged"),
        "{}",
        r.stdout
    );
    let after = s.ballot_rows();
    assert_eq!(after.len(), before.len() + 6000);
    let mut changed = 0;
    for (old, new) in before.iter().zip(&after) {
        if old != new {
            changed += 1;
            // Only the status (or the envelope), the import and the line that set
            // the row differ.
            let diff: Vec<usize> = (0..old.len()).filter(|&c| old[c] != new[c]).collect();
            assert!(diff.len() <= 4, "{diff:?}: {old:?} -> {new:?}");
        }
    }
    assert_eq!(changed, 12000);
    // The new envelopes are found by their tracking codes.
    let found: i64 = s
        .sqlite()
        .query_row(
            "SELECT count(*) FROM ballots INDEXED BY ballots_by_return_tracking
              WHERE return_imb IS NOT NULL
                AND return_tracking BETWEEN '00040123450000700000' AND '00040123450000759999'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 6000);
    // The new ballots, each its voter's one ACTIVE ballot, set by this file's lines.
    let db = s.sqlite();
    let active: i64 = db
        .query_row(
            "SELECT count(*) FROM ballots WHERE status = 'ACTIVE'
              GROUP BY voter_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(active, 1);
    assert_eq!(s.ok(&["verify"]).code, 0);
    // The same file again changes nothing.
    let r = import(&s, &update);
    assert!(
        r.stdout.contains("0 added, 0 updated, 66000 unchanged"),
        "{}",
        r.stdout
    );
    assert_eq!(s.ballot_rows().len(), after.len());
}

#[test]
fn a_reimport_names_a_ballot_twice_and_an_envelope_of_another_ballot() {
    let s = Station::upcoming();
    let dir = tempfile::tempdir().unwrap();
    let rows = 500;
    let first = write(dir.path(), "first.csv", rows, |_, t| t);
    assert_eq!(import(&s, &first).code, 0);
    let before = s.ballots_digest();
    let at = |j: u64| j * 7919 % rows;
    // Position 3 repeats position 1 (a ballot the ledger holds, unchanged); a new
    // ballot reuses the return envelope of a ballot from the first file, which this
    // file leaves out (a file may: nothing is ever deleted).
    let path = write(dir.path(), "again.csv", rows, |j, text| match j {
        3 => row(at(1), at(1), "ACTIVE", at(1)),
        7 => format!("{text}{}", row(777_777, 777_777, "ACTIVE", at(50))),
        50 => String::new(),
        _ => text,
    });
    let r = import(&s, &path);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "line 5, column ballot_id: \"B{:06}\" appears twice in the file (first on line 3)",
            at(1)
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "line 10, column return_imb: its tracking code is already ballot \"B{:06}\"'s return envelope",
            at(50)
        )),
        "{}",
        r.stderr
    );
    assert_eq!(s.ballots_digest(), before, "nothing was imported");
}

/// An import reads and checks its file without holding the ledger: a clerk's scan
/// made while it runs is recorded at once, not after the import. The file is a FIFO
/// that the test writes part of and holds open, so the import is certainly still
/// reading when the scan is made; then the rest, and the import completes.
#[test]
fn a_scan_is_recorded_while_an_import_is_still_reading_its_file() {
    use std::io::Write;
    use std::process::Stdio;
    let s = Station::upcoming();
    s.add_user("clerk", "clerk", "246810");
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("incoming.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let importing = s
        .command(&["import", fifo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening for writing waits until the import has opened the file to read.
    let mut file = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    file.write_all(HEADER.as_bytes()).unwrap();
    for i in 0..3000 {
        file.write_all(row(10_000 + i, 10_000 + i, "ACTIVE", 10_000 + i).as_bytes())
            .unwrap();
    }
    file.flush().unwrap();
    // One import at a time: a second one is refused while this one runs, and
    // changes nothing.
    let second = import(&s, &common::fixture("mail-ballots/small-update.csv"));
    assert_eq!(second.code, 1, "{}", second.stdout);
    assert!(
        second.stderr.contains("another import is running"),
        "{}",
        second.stderr
    );
    // The rows read so far are in the scratch file beside the ledger, which only
    // the station's account can read (it holds names and addresses).
    let scratch = s.ledger_path().with_file_name("ledger.sqlite3.import");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&scratch).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The import cannot finish until the rest is written: a scan that had to wait
    // for it would give up after the ledger's busy timeout and say nothing was
    // recorded.
    let (r, results) = s.scan("clerk", "246810", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted", "{results:?}");
    for i in 3000..6000 {
        file.write_all(row(10_000 + i, 10_000 + i, "ACTIVE", 10_000 + i).as_bytes())
            .unwrap();
    }
    drop(file);
    let out = importing.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("6000 added"), "{stdout}");
    // The scan and the file's ballots are both in the ledger, and the chain holds.
    let db = s.sqlite();
    let scans: i64 = db
        .query_row(
            "SELECT count(*) FROM events e JOIN ballots b USING (ballot_pk) WHERE b.ballot_id = 'B0001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(scans, 1);
    assert_eq!(s.ok(&["verify"]).code, 0);
    assert!(!scratch.exists(), "the scratch file is deleted");
}

/// Before its mail ballot file is in the ledger an election can judge no envelope:
/// a scan is answered at once with NOT RECORDED (not `unknown`, a wrong record of an
/// envelope the county mailed), and the scan goes on to the next barcode. A first
/// import holds the write lock while it copies; the answer needs no write lock, so it
/// comes even while another connection holds it for as long as the test likes.
#[test]
fn a_scan_before_the_file_is_in_is_not_recorded_and_never_waits() {
    let s = Station::upcoming();
    s.add_user("clerk", "clerk", "246810");
    let (r, results) = s.scan("clerk", "246810", "B0001\nB0002\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results.len(), 2, "{results:?}");
    for line in &results {
        assert_eq!(line["recorded"], false, "{line}");
        assert!(line["outcome"].is_null(), "{line}");
        assert!(
            line["reason"]
                .as_str()
                .unwrap()
                .contains("has no mail ballot file in the ledger yet"),
            "{line}"
        );
    }
    // The write lock held, as a first import's copy holds it, by a connection of
    // the test's own once a scanning clerk is signed in (signing in writes): still
    // answered (a scan that waited for the lock would give up after the ledger's
    // busy timeout and stop the command).
    let mut scanning = s.scanning("clerk", "246810");
    assert_eq!(scanning.scan_json("B0003")["recorded"], false);
    let holder = s.sqlite();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held = scanning.scan_json("B0001");
    assert_eq!(held["recorded"], false, "{held}");
    holder.execute_batch("ROLLBACK").unwrap();
    let (_, run) = scanning.finish();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let scans: i64 = holder
        .query_row("SELECT count(*) FROM events WHERE kind = 'scan'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(scans, 0, "nothing was recorded");
    // The file in: the same envelope is accepted.
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (r, results) = s.scan("clerk", "246810", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted", "{results:?}");
    assert_eq!(s.ok(&["verify"]).code, 0);
}
