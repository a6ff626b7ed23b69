//! Scanning through the real binary: every outcome, the JSON contract, the outbox,
//! batches, roles, lockout, corrections and refusals.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, fixture, init_args};

/// A station with the small file in its upcoming election and the primary's ballots
/// held in a second (inactive) election.
fn loaded(date: Option<&str>) -> Station {
    let s = match date {
        Some(d) => Station::with_election_on(d),
        None => Station::upcoming(),
    };
    s.ok(&[
        "election",
        "add",
        "--election",
        "PRIMARY-2026",
        "--election-name",
        "2026 Primary",
        "--election-date",
        "2026-06-30",
        "--activate",
    ]);
    assert_eq!(s.import("mail-ballots/primary.csv").code, 0);
    s.ok(&["election", "activate", "2026-GEN"]);
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s
}

#[test]
fn every_outcome_from_the_fixture_stream() {
    let s = loaded(None);
    let input = std::fs::read(fixture("scans/every-outcome.txt")).unwrap();
    let r = s.run_with(
        &["scan", "--user", "ana", "--json"],
        &input,
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let results: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, &str, Option<&str>)> = results
        .iter()
        .map(|v| {
            (
                v["barcode"].as_str().unwrap(),
                v["outcome"].as_str().unwrap(),
                v["ballot_id"].as_str(),
            )
        })
        .collect();
    let long = "7".repeat(65);
    let expected: Vec<(&str, &str, Option<&str>)> = vec![
        ("B0001", "accepted", Some("B0001")),
        ("B0001", "duplicate", Some("B0001")),
        ("B0004", "voided", Some("B0004")),
        ("P0001", "wrong_election", None),
        ("NOPE-1", "unknown", None),
        ("\u{1}\u{2}", "invalid", None),
        (&long, "invalid", None),
        ("0004012345620080000180208", "accepted", Some("B0008")),
        ("00040123456200800002", "accepted", Some("B0009")),
        ("B0006", "accepted", Some("B0006")),
        ("  B0007", "accepted", Some("B0007")), // CRLF stripped, spaces kept as read
        ("B00\u{fffd}1", "invalid", None),
    ];
    assert_eq!(
        got, expected,
        "blank lines are skipped, every other line answered"
    );
    // Every line names the batch; the duplicate names the first receipt.
    assert!(results.iter().all(|v| v["batch"] == results[0]["batch"]));
    let dup = &results[1];
    assert_eq!(dup["first_receipt"]["event_seq"], results[0]["seq"]);
    assert_eq!(dup["first_receipt"]["station"], "S1");
    assert_eq!(dup["first_receipt"]["batch"], results[0]["batch"]);
    assert!(
        dup["instruction"]
            .as_str()
            .unwrap()
            .starts_with("SET ASIDE: already received")
    );
    assert_eq!(results[6]["reason"], "longer than 64 characters");
    assert_eq!(results[11]["reason"], "characters outside printable ASCII");

    let status = s.status();
    assert_eq!(status["ballots"], 10);
    let o = &status["outcomes"];
    assert_eq!(
        (
            o["accepted"].as_i64(),
            o["duplicate"].as_i64(),
            o["voided"].as_i64()
        ),
        (Some(5), Some(1), Some(1))
    );
    assert_eq!(
        (
            o["wrong_election"].as_i64(),
            o["unknown"].as_i64(),
            o["invalid"].as_i64(),
            o["late"].as_i64()
        ),
        (Some(1), Some(1), Some(3), Some(0))
    );
    // Four accepted receipts may be sent; the confidential voter's (B0006) may not.
    let conn = s.sqlite();
    let outbox: Vec<String> = conn
        .prepare(
            "SELECT b.ballot_id FROM outbox o JOIN events e ON e.seq = o.event_seq
             JOIN ballots b ON b.ballot_pk = e.ballot_pk ORDER BY o.event_seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(outbox, ["B0001", "B0008", "B0009", "B0007"]);
    assert_eq!(status["outbox_pending"], 4);
    // Raw bytes are kept exactly, including the invalid byte.
    let raw: Vec<u8> = conn
        .query_row(
            "SELECT raw FROM events WHERE seq = ?1",
            [results[11]["seq"].as_i64().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, b"B00\xff1");
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn late_after_19_00_on_election_day_but_uocava_has_eight_more_days() {
    let three_days_ago = (chrono::Utc::now().date_naive() - chrono::Days::new(3)).to_string();
    let s = loaded(Some(&three_days_ago));
    let (r, results) = s.scan("ana", "314159", "B0001\nB0007\nB0001\nB0004\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let outcomes: Vec<&str> = results
        .iter()
        .map(|v| v["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["late", "accepted", "duplicate", "voided"]);
    assert!(
        results[0]["instruction"]
            .as_str()
            .unwrap()
            .contains("after the deadline")
    );
    // A late envelope is recorded, set aside, and not sent as "received".
    assert_eq!(s.status()["outbox_pending"], 1);
}

#[test]
fn a_container_received_before_the_deadline_is_timely_when_scanned_later() {
    let three_days_ago = chrono::Utc::now().date_naive() - chrono::Days::new(3);
    let s = loaded(Some(&three_days_ago.to_string()));
    let open = |received: &str| {
        s.run_with(
            &[
                "batch",
                "open",
                "--user",
                "ana",
                "--container",
                "DROPBOX-12",
                "--seal",
                "A77",
                "--received-at",
                received,
                "--confirmed-by",
                "sam",
                "--json",
            ],
            b"",
            &[
                ("BALLOT_INTAKE_PIN", "314159"),
                ("BALLOT_INTAKE_VERIFIER_PIN", "161803"),
            ],
        )
    };
    // A clerk alone cannot date a batch's receipt days back.
    let r = s.run_with(
        &[
            "batch",
            "open",
            "--user",
            "ana",
            "--received-at",
            &format!("{three_days_ago} 18:59"),
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("must be confirmed by a supervisor"),
        "{}",
        r.stderr
    );
    let close = |count: &str| {
        let r = s.run_with(
            &[
                "batch",
                "close",
                "--user",
                "ana",
                "--verifier",
                "sam",
                "--count",
                count,
            ],
            b"",
            &[
                ("BALLOT_INTAKE_PIN", "314159"),
                ("BALLOT_INTAKE_VERIFIER_PIN", "161803"),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    // The drop box was emptied at 18:59 on election day: its envelopes are timely.
    let r = open(&format!("{three_days_ago} 18:59"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let batch: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(batch["received_at"].as_str().is_some());
    let (_, results) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(results[0]["outcome"], "accepted");
    close("1");
    // Collected at 19:00: late.
    assert_eq!(open(&format!("{three_days_ago} 19:00")).code, 0);
    let (_, results) = s.scan("ana", "314159", "B0002\n");
    assert_eq!(results[0]["outcome"], "late");
    close("0");
    // A receipt time in the future, or not a time, is refused.
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    let r = open(&format!("{tomorrow} 08:00"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is in the future"), "{}", r.stderr);
    let r = open("election night");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("YYYY-MM-DD HH:MM"), "{}", r.stderr);
    // Without a receipt time, the scan time decides: late.
    let (_, results) = s.scan("ana", "314159", "B0003\n");
    assert_eq!(results[0]["outcome"], "late");
}

#[test]
fn text_output_and_usage_errors() {
    let s = loaded(None);
    let r = s.run_with(
        &["scan", "--user", "ana"],
        b"B0001\nB0001\n",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("ACCEPTED") && lines[0].contains("Put in tray"),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].starts_with("DUPLICATE") && lines[1].contains("SET ASIDE"),
        "{}",
        r.stdout
    );
    for bad in [
        &["scan"][..],
        &["frobnicate"],
        &["init", "--station", "S9"],
        &["user", "add", "x", "--role", "root"],
        &[
            "election",
            "add",
            "--election",
            "X",
            "--election-name",
            "X",
            "--election-date",
            "11/03/2026",
        ],
    ] {
        assert_eq!(s.run(bad).code, 2, "{bad:?}");
    }
}

/// Forty wrong PINs started at once: each is counted, and the lock checked, before
/// its hash is compared, so five are counted and the rest refused as locked; a
/// right PIN started after them is refused too.
#[test]
fn forty_wrong_pins_at_once_count_five_and_lock_the_right_one_out() {
    use std::process::Stdio;
    let s = loaded(None);
    let children: Vec<_> = (0..40)
        .map(|_| {
            s.command(&["scan", "--user", "ana", "--json"])
                .env("BALLOT_INTAKE_PIN", "000000")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(!c.wait().unwrap().success());
    }
    let (r, _) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is locked"), "{}", r.stderr);
    let conn = s.sqlite();
    let count = |event: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM audit_log WHERE event = ?1 AND user_name = 'ana'",
            [event],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count("sign-in-failed"), 5);
    assert_eq!(count("user-locked"), 1);
    assert_eq!(count("sign-in-while-locked"), 36);
    assert_eq!(count("sign-in"), 0);
}

#[test]
fn sign_in_failures_lock_the_user_and_are_audited() {
    let s = loaded(None);
    for _ in 1..=4 {
        let (r, results) = s.scan("ana", "000000", "B0001\n");
        assert_eq!(r.code, 1);
        assert!(results.is_empty(), "nothing is scanned without a sign-in");
        assert!(
            r.stderr.contains("wrong name or PIN for \"ana\""),
            "{}",
            r.stderr
        );
        // Said once, not twice.
        assert_eq!(
            r.stderr.matches("wrong name or PIN").count(),
            1,
            "{}",
            r.stderr
        );
    }
    let (r, _) = s.scan("ana", "000000", "B0001\n");
    assert!(r.stderr.contains("\"ana\" is locked"), "{}", r.stderr);
    // Even the right PIN is refused while locked.
    let (r, _) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is locked"), "{}", r.stderr);
    // An unknown name is refused in the words of a wrong PIN: the refusal does not
    // tell which names exist.
    let (r, _) = s.scan("nobody", "314159", "B0001\n");
    assert!(
        r.stderr.contains("wrong name or PIN for \"nobody\""),
        "{}",
        r.stderr
    );
    let conn = s.sqlite();
    let count = |event: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM audit_log WHERE event = ?1",
            [event],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count("sign-in-failed"), 6);
    assert_eq!(count("user-locked"), 1);
    assert_eq!(count("sign-in-while-locked"), 1);
    assert_eq!(s.status()["outcomes"]["accepted"], 0);
    // Other users are unaffected.
    let (r, results) = s.scan("ben", "271828", "B0001\n");
    assert_eq!(r.code, 0);
    assert_eq!(results[0]["outcome"], "accepted");
}

#[test]
fn weak_pins_and_duplicate_users_are_refused() {
    let s = Station::upcoming();
    let r = s.run_with(&["user", "add", "zoe", "--role", "clerk"], b"12345\n", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("at least 6 digits"), "{}", r.stderr);
    // The PINs a guesser tries first are refused on a real station.
    for obvious in ["000000", "123456", "654321", "121212"] {
        let r = s.run_with(
            &["user", "add", "zoe", "--role", "clerk"],
            format!("{obvious}\n").as_bytes(),
            &[],
        );
        assert_eq!(r.code, 1, "{obvious}");
        // Said once (it was printed twice: the error and again as its cause).
        assert_eq!(
            r.stderr.matches("among the first a guesser tries").count(),
            1,
            "{}",
            r.stderr
        );
    }
    let r = s.run_with(&["user", "add", "ana", "--role", "clerk"], b"918273\n", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    // The PIN is stored only as an Argon2id hash with at least OWASP's parameters.
    let hash: String = s
        .sqlite()
        .query_row("SELECT pin_hash FROM users WHERE name = 'ana'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("314159"));
}

#[test]
fn batch_close_by_two_people_with_a_discrepancy_for_a_supervisor() {
    let s = loaded(None);
    let pins = |a: &str, b: &str| {
        vec![
            ("BALLOT_INTAKE_PIN", a.to_string()),
            ("BALLOT_INTAKE_VERIFIER_PIN", b.to_string()),
        ]
    };
    let run = |args: &[&str], vars: Vec<(&str, String)>| {
        let v: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.run_with(args, b"", &v)
    };
    let r = run(
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
            "--json",
        ],
        pins("314159", ""),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let batch: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(batch["container_id"], "TRAY-7");
    assert_eq!(batch["seals"], serde_json::json!(["S-001", "S-002"]));
    let id = batch["batch_id"].as_i64().unwrap();
    let (_, results) = s.scan("ana", "314159", "B0001\nB0002\nB0001\nNOPE\n");
    assert!(
        results.iter().all(|v| v["batch"] == id),
        "scan uses the open batch"
    );
    // One person cannot close alone.
    let r = run(
        &[
            "batch",
            "close",
            "--user",
            "ana",
            "--verifier",
            "ana",
            "--count",
            "2",
        ],
        pins("314159", "314159"),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("two people"), "{}", r.stderr);
    // Declared 3, accepted 2: discrepancy.
    let r = run(
        &[
            "batch",
            "close",
            "--user",
            "ana",
            "--verifier",
            "ben",
            "--count",
            "3",
            "--json",
        ],
        pins("314159", "271828"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let closed: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(closed["discrepancy"], true);
    assert_eq!(closed["batch"]["status"], "discrepancy");
    assert_eq!(closed["batch"]["accepted_count"], 2);
    assert_eq!(closed["batch"]["declared_count"], 3);
    assert_eq!(closed["batch"]["verified_by"], "ben");
    // Scanning into a closed batch is impossible: the next scan opens a new batch.
    let (_, results) = s.scan("ana", "314159", "B0003\n");
    assert_ne!(results[0]["batch"], id);
    // Only a supervisor resolves it, and with a note.
    let r = run(
        &[
            "batch",
            "resolve",
            &id.to_string(),
            "--user",
            "ben",
            "--note",
            "found it",
        ],
        pins("271828", ""),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is a clerk and may not resolve"),
        "{}",
        r.stderr
    );
    let r = run(
        &[
            "batch",
            "resolve",
            &id.to_string(),
            "--user",
            "sam",
            "--note",
            " ",
        ],
        pins("161803", ""),
    );
    assert_eq!(r.code, 1);
    let r = run(
        &[
            "batch",
            "resolve",
            &id.to_string(),
            "--user",
            "sam",
            "--note",
            "third envelope was a B0001 duplicate",
            "--json",
        ],
        pins("161803", ""),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let resolved: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(resolved["status"], "resolved");
    let list = s.ok(&["batch", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // A matching count closes cleanly.
    let r = run(
        &[
            "batch",
            "close",
            "--user",
            "ana",
            "--verifier",
            "sam",
            "--count",
            "1",
            "--json",
        ],
        pins("314159", "161803"),
    );
    let closed: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(closed["batch"]["status"], "closed");
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn reversal_is_a_new_entry_by_a_supervisor() {
    let s = loaded(None);
    let (_, results) = s.scan("ana", "314159", "B0001\n");
    let seq = results[0]["seq"].as_i64().unwrap().to_string();
    let r = s.run_with(
        &["reverse", &seq, "--user", "ana", "--reason", "wrong tray"],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("may not reverse a scan"), "{}", r.stderr);
    let r = s.run_with(
        &[
            "reverse",
            &seq,
            "--user",
            "sam",
            "--reason",
            "scanned from the wrong county's tray",
            "--json",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rev["corrects"].as_i64().unwrap().to_string(), seq);
    // Twice is refused.
    let r = s.run_with(
        &["reverse", &seq, "--user", "sam", "--reason", "again"],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already reversed"), "{}", r.stderr);
    // The original row is untouched; the receipt no longer counts, so the envelope
    // can be received again; the voter is sent the correction.
    let conn = s.sqlite();
    let (outcome, kinds): (String, String) = conn
        .query_row(
            "SELECT (SELECT outcome FROM events WHERE seq = ?1),
                    (SELECT group_concat(event_type) FROM outbox)",
            [&seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (outcome.as_str(), kinds.as_str()),
        ("accepted", "received,correction")
    );
    let (_, again) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(again[0]["outcome"], "accepted");
    assert_eq!(s.status()["reversed"], 1);
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn events_and_audit_rows_refuse_update_and_delete() {
    let s = loaded(None);
    s.scan("ana", "314159", "B0001\n");
    let conn = s.sqlite();
    for sql in [
        "UPDATE events SET outcome = 'duplicate'",
        "DELETE FROM events",
        "UPDATE audit_log SET detail = '{}'",
        "DELETE FROM audit_log",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn ledger_settings_and_refusals() {
    let s = Station::empty();
    let r = s.run(&["status"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no station is set up"), "{}", r.stderr);
    let s = Station::upcoming();
    let conn = s.sqlite();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
    // A second init is refused.
    let r = s.run(&init_args("S2", "2026-11-03", "America/Denver"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already set up"), "{}", r.stderr);
    // A ledger written by a newer ballot-intake is refused, untouched.
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let r = s.run(&["status"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("schema version 99, newer than this program understands (4)"),
        "{}",
        r.stderr
    );
    // An unknown time zone is refused at init.
    let t = Station::empty();
    let r = t.run(&init_args("S2", "2026-11-03", "Mars/Olympus"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("\"Mars/Olympus\" is not a time zone"),
        "{}",
        r.stderr
    );
}

#[test]
fn demo_station_is_separate_and_never_fills_the_outbox() {
    let s = Station::empty();
    let r = s.run_with(
        &["demo", "--json"],
        b"D000001\nD000001\nD000003\nD000004\nNOPE-1\n",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let outcomes: Vec<String> = r
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        outcomes,
        ["accepted", "duplicate", "voided", "accepted", "unknown"]
    );
    // The real station's ledger was not created; the demo lives in its own folder.
    assert!(!s.ledger_path().exists());
    let demo_dir = s.dir.path().join("demo");
    let status = std::process::Command::new(common::BIN)
        .args(["--data-dir", demo_dir.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["demo"], true);
    assert_eq!(status["ballots"], 3001);
    assert_eq!(
        status["outbox_pending"], 0,
        "demo data never leaves the station"
    );
    // A second run reuses the demo station (the receipt is remembered).
    let r = s.run_with(&["demo", "--json"], b"D000001\n", &[]);
    assert!(r.stdout.contains("\"duplicate\""), "{}", r.stdout);
    let v = std::process::Command::new(common::BIN)
        .args(["--data-dir", demo_dir.to_str().unwrap(), "verify"])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    // `ballot-intake status | head -1`, with the reader gone before the first line.
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = s
        .command(&["status"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A scan's result is printed after its commit: the first one is in the ledger
    // although its line could not be written, and the command stopped there.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = s
        .command(&["scan", "--user", "ana"])
        .env("BALLOT_INTAKE_PIN", "314159")
        .stdin(std::process::Stdio::piped())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"B0001\nB0002\n");
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.status()["outcomes"]["accepted"], 1);
}

/// A line without an end is read in bounded memory: 10 MB of NUL bytes is one
/// invalid scan, its first 256 bytes stored and its length in the reason.
#[test]
fn a_ten_megabyte_line_is_one_invalid_scan_cut_to_what_is_stored() {
    let s = loaded(None);
    let mut input = vec![0u8; 10_000_000];
    input.extend_from_slice(b"\nB0001\n");
    let r = s.run_with(
        &["scan", "--user", "ana", "--json"],
        &input,
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let results: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{}", r.stdout);
    assert_eq!(results[0]["outcome"], "invalid");
    assert_eq!(results[1]["outcome"], "accepted");
    let (raw_len, reason): (i64, String) = s
        .sqlite()
        .query_row(
            "SELECT length(raw), reason FROM events WHERE outcome = 'invalid'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(raw_len, 256);
    assert!(
        reason.contains("10000001 bytes, the first 256 stored"),
        "{reason}"
    );
}
