//! The mail ballot file, imported through the real binary into a real ledger.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, fixture};

#[test]
fn awkward_names_bom_and_crlf_are_stored_exactly() {
    let s = Station::upcoming();
    let r = s.import("mail-ballots/small.csv");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("10 rows read, 10 added, 0 updated, 0 unchanged"),
        "{}",
        r.stdout
    );
    let conn = s.sqlite();
    let name = |id: &str| -> (String, String, Option<String>) {
        conn.query_row(
            "SELECT last_name, first_name, mailing_address FROM ballots WHERE ballot_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(
        name("B0001"),
        (
            "Núñez".into(),
            "José".into(),
            Some("1200 Larimer St, Apt 4".into())
        )
    );
    assert_eq!(
        name("B0002"),
        (
            "O'Brien, Jr.".into(),
            "Siobhán".into(),
            Some("PO Box 12, \"Rear\"".into())
        )
    );
    assert_eq!(name("B0003").0, "Smith \"Smitty\"");
    assert_eq!(name("B0010").0, "Line\r\nBreak");
    let (status, confidential, uocava, imb): (String, bool, bool, Option<String>) = conn
        .query_row(
            "SELECT status, confidential, uocava, return_tracking FROM ballots WHERE ballot_id = 'B0008'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), confidential, uocava, imb.as_deref()),
        ("ACTIVE", false, false, Some("00040123456200800001"))
    );
    let flags: (bool, bool) = conn
        .query_row(
            "SELECT (SELECT confidential FROM ballots WHERE ballot_id = 'B0006'),
                    (SELECT uocava FROM ballots WHERE ballot_id = 'B0007')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(flags, (true, true));
    assert_eq!(s.status()["ballots"], 10);
}

#[test]
fn reimport_is_idempotent_and_updates_never_delete() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let before = s.ballots_digest();
    let again = s.import("mail-ballots/small.csv");
    assert!(
        again
            .stdout
            .contains("10 rows read, 0 added, 0 updated, 10 unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(
        s.ballots_digest(),
        before,
        "same file twice changed the ballots"
    );

    // Scan B0003, then load the newer file that voids it in favour of B0011.
    let (_, results) = s.scan("ana", "314159", "B0003\n");
    assert_eq!(results[0]["outcome"], "accepted");
    let upd = s.import("mail-ballots/small-update.csv");
    assert!(
        upd.stdout
            .contains("11 rows read, 1 added, 2 updated, 8 unchanged"),
        "{}",
        upd.stdout
    );
    let conn = s.sqlite();
    let status: String = conn
        .query_row(
            "SELECT status FROM ballots WHERE ballot_id = 'B0003'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "VOID");
    let scans: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(scans, 1, "the scan survives the re-import");
    assert_eq!(s.status()["ballots"], 11);
    // The first receipt still stands: scanning B0003 again is a duplicate.
    let (_, results) = s.scan("ana", "314159", "B0003\nB0011\n");
    assert_eq!(results[0]["outcome"], "duplicate");
    assert_eq!(results[1]["outcome"], "accepted");
}

/// Each malformed file is refused whole, with the line and column named, exit 1,
/// and the ballots exactly as before.
#[test]
fn every_kind_of_bad_file_is_refused_whole() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let before = s.ballots_digest();
    let cases = [
        (
            "bad-missing-column.csv",
            "line 1, column ballot_status: required column is missing",
        ),
        ("bad-missing-value.csv", "line 3, column voter_id: is empty"),
        (
            "bad-flag.csv",
            "line 3, column confidential: must be Y or N, not \"MAYBE\"",
        ),
        (
            "bad-status.csv",
            "line 3, column ballot_status: must be ACTIVE or VOID",
        ),
        (
            "bad-duplicate-ballot.csv",
            "line 4, column ballot_id: \"B0101\" appears twice in the file (first on line 2)",
        ),
        (
            "bad-second-active.csv",
            "line 3, column voter_id: voter \"V200001\" already has an ACTIVE ballot on line 2",
        ),
        (
            "bad-wrong-election.csv",
            "line 3, column election_id: ballot of election \"2024-GEN\"",
        ),
        (
            "bad-field-count.csv",
            "line 3, column -: has 4 fields but the header has 10",
        ),
        (
            "bad-imb.csv",
            "line 2, column return_imb: \"1234567890\" is not an Intelligent Mail barcode",
        ),
        (
            "bad-date.csv",
            "line 2, column issued_date: \"2026-13-40\" is not a date",
        ),
        (
            "bad-not-utf8.csv",
            "line 2, column last_name: is not valid UTF-8",
        ),
    ];
    for (file, expected) in cases {
        let r = s.import(&format!("mail-ballots/{file}"));
        assert_eq!(r.code, 1, "{file}: {}", r.stderr);
        assert!(
            r.stderr.contains(expected),
            "{file}: wanted {expected:?} in\n{}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was imported"), "{file}");
        assert_eq!(s.ballots_digest(), before, "{file} changed the ledger");
    }
    // A re-import that would leave a voter with two ACTIVE ballots (the new one added
    // without voiding the old) is refused too, naming the line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reissue-without-void.csv");
    std::fs::write(
        &path,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n\
         2026-GEN,B0001,V100001,Núñez,José,80202,101,S1,ACTIVE,N\n\
         2026-GEN,B0099,V100001,Núñez,José,80202,101,S1,ACTIVE,N\n",
    )
    .unwrap();
    let r = s.run(&["import", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("line 3, column voter_id"), "{}", r.stderr);
    std::fs::write(
        &path,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n\
         2026-GEN,B0099,V100002,O'Brien,Siobhán,80203,102,S1,ACTIVE,N\n",
    )
    .unwrap();
    let r = s.run(&["import", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("line 2, column voter_id: voter \"V100002\" would have more than one ACTIVE ballot (B0002, B0099)"),
        "{}",
        r.stderr
    );
    assert_eq!(s.ballots_digest(), before);
    // The refusals are in the audit log.
    let rejected: i64 = s
        .sqlite()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE event = 'import-rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rejected, 13);
}

#[test]
fn only_the_first_fifty_errors_are_listed() {
    let s = Station::upcoming();
    let r = s.import("mail-ballots/bad-many-errors.csv");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("60 error(s); nothing was imported"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("column ballot_status").count(), 50);
    assert!(r.stderr.contains("line 51, column ballot_status"));
    assert!(!r.stderr.contains("line 52,"));
    assert!(
        r.stderr.trim_end().ends_with("... and 10 more"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_digit_is_enforced_for_a_luhn_election() {
    let s = Station::upcoming();
    s.ok(&[
        "election",
        "add",
        "--election",
        "LUHN-2026",
        "--election-name",
        "Luhn test",
        "--election-date",
        "2099-11-03",
        "--check-digit",
        "luhn",
        "--activate",
    ]);
    let r = s.import("mail-ballots/bad-check-digit.csv");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "line 3, column ballot_id: \"79927398710\" fails the election's luhn check digit"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("line 2,"),
        "the valid id on line 2 is not reported"
    );
    assert_eq!(s.status()["ballots"], 0);
}

#[test]
fn unreadable_file_is_named() {
    let s = Station::upcoming();
    let missing = fixture("mail-ballots/does-not-exist.csv");
    let r = s.run(&["import", missing.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does-not-exist.csv"), "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let r = s.run(&["import", empty.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("empty.csv") && r.stderr.contains("header row is required"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_file_of_another_election_says_so_once_not_on_every_row() {
    let s = Station::upcoming();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("primary.csv");
    let mut csv = String::from(
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n",
    );
    for i in 1..=5 {
        csv.push_str(&format!(
            "2024-GEN,B{i:04},V{i:06},Able,Amy,80202,101,S1,ACTIVE,N\n"
        ));
    }
    std::fs::write(&path, csv).unwrap();
    let r = s.run(&["import", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.matches("column election_id").count(),
        1,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("5 error(s)"), "{}", r.stderr);
}

#[test]
fn error_lines_are_exact_whatever_the_line_endings() {
    let s = Station::upcoming();
    let dir = tempfile::tempdir().unwrap();
    let header = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential";
    let rows = [
        "2026-GEN,B0001,V1,Able,Amy,80202,101,S1,LOST,N",
        "2026-GEN,B0002,V2,\"Baker\nJr\",Bob,80202,101,S1,ACTIVE,N",
        "2026-GEN,B0003,V3,Cole,Cy,80202,101,S1,ACTIVE,N",
        "2026-GEN,B0004,V4,Dunn,Di,80202,101,S1,ACTIVE,MAYBE",
    ];
    for (name, end) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        for (bom, blank) in [(false, false), (true, false), (false, true), (true, true)] {
            // The quoted line break spans two lines, and is written with the file's
            // own line ending. With `blank`, two blank lines before the last row
            // (found by fuzzing: they named it one line early).
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(header);
            text.push_str(end);
            for (i, r) in rows.iter().enumerate() {
                if blank && i == rows.len() - 1 {
                    text.push_str(end);
                    text.push_str(end);
                }
                text.push_str(&r.replace('\n', end));
                text.push_str(end);
            }
            let last = if blank { 8 } else { 6 };
            let path = dir.path().join(format!("{name}-{bom}-{blank}.csv"));
            std::fs::write(&path, text).unwrap();
            let r = s.run(&["import", path.to_str().unwrap()]);
            assert_eq!(r.code, 1, "{name} bom={bom}: {}", r.stderr);
            // The first data row is line 2; the last starts on line 6 (8 after the
            // blank lines), because the quoted name on line 3 spans lines 3 and 4.
            assert!(
                r.stderr.contains("line 2, column ballot_status"),
                "{name} bom={bom}: {}",
                r.stderr
            );
            assert!(
                r.stderr
                    .contains(&format!("line {last}, column confidential")),
                "{name} bom={bom} blank={blank}: {}",
                r.stderr
            );
        }
    }
}

/// The ballots table's declared indexes, as the schema holds them.
fn ballot_indexes(s: &Station) -> Vec<String> {
    rusqlite::Connection::open(s.ledger_path())
        .unwrap()
        .prepare(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ballots'
               AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_bulk_first_import_leaves_the_indexes_as_the_schema_has_them_and_a_refused_one_too() {
    let s = Station::upcoming();
    let before = ballot_indexes(&s);
    assert_eq!(before.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let header = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,return_imb\n";
    let rows = 60_000u64;
    // Scattered order, as a county writes it; the last row is bad in the refused copy.
    let write = |name: &str, bad_last: bool| {
        let mut text = String::from(header);
        for j in 0..rows {
            let i = j * 7919 % rows;
            let status = if bad_last && j == rows - 1 {
                "LOST"
            } else {
                "ACTIVE"
            };
            text.push_str(&format!(
                "2026-GEN,B{i:06},V{i:07},Núñez,Ana,80202,101,S1,{status},N,0004012345{i:010}\n"
            ));
        }
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let bad = write("bad.csv", true);
    let r = s.run(&["import", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        ballot_indexes(&s),
        before,
        "a refused file leaves the indexes"
    );
    let good = write("good.csv", false);
    let r = s.run(&["import", good.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ballot_indexes(&s),
        before,
        "rebuilt exactly as the schema has them"
    );
    assert_eq!(s.ok(&["verify"]).code, 0);
    // The indexes are there and used: a scan by the return IMb finds its ballot.
    let (_, scanned) = s.scan("ana", "314159", "0004012345000000424280202\n");
    assert_eq!(scanned[0]["ballot_id"], "B004242", "{:?}", scanned);
}

/// Input without line ends is bounded: `/dev/zero` (one endless row) and a quote
/// left open (a "field" swallowing the file) are refused at the row's line after
/// 64 KiB, not read into memory; an overlong field and ids that are spreadsheet
/// formulas are row errors. Nothing is imported.
#[test]
fn endless_rows_long_fields_and_formula_ids_are_refused() {
    let s = Station::upcoming();
    let before = s.ballots_digest();
    let r = s.run(&["import", "/dev/zero"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("/dev/zero")
            && r.stderr.contains("line 1: a row longer than 65536 bytes"),
        "{}",
        r.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let header = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n";
    let open_quote = dir.path().join("open-quote.csv");
    let mut text = String::from(header);
    text.push_str("2026-GEN,B0001,V1,\"Smith,Ann,80202,101,S1,ACTIVE,N\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "2026-GEN,B{i:05},V{i},Lee,Kim,80202,101,S1,ACTIVE,N\n"
        ));
    }
    std::fs::write(&open_quote, text).unwrap();
    let r = s.run(&["import", open_quote.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("open-quote.csv") && r.stderr.contains("line 2: a row longer than"),
        "{}",
        r.stderr
    );
    let odd = dir.path().join("odd.csv");
    let long_name = "N".repeat(10_000);
    std::fs::write(
        &odd,
        format!(
            "{header}2026-GEN,=1+1,V1,Lee,Kim,80202,101,S1,ACTIVE,N\n\
             2026-GEN,B0002,\"=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\",Lee,Kim,80202,101,S1,ACTIVE,N\n\
             2026-GEN,B0003,V3,\"{long_name}\",Kim,80202,101,S1,ACTIVE,N\n"
        ),
    )
    .unwrap();
    let r = s.run(&["import", odd.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    for expected in [
        "line 2, column ballot_id: \"=1+1\" does not start with a letter or a digit",
        "line 3, column voter_id: \"=HYPERLINK(",
        "line 4, column last_name: is 10000 bytes long; a field of a mail ballot file holds at most 200",
    ] {
        assert!(r.stderr.contains(expected), "{expected}\n{}", r.stderr);
    }
    assert_eq!(s.ballots_digest(), before, "nothing was imported");
}
