//! Failing writes and fsyncs injected with libfiu (`fiu-run`, Debian's fiu-utils;
//! `scripts/test` installs it) into the real `scan`: a write or sync the system
//! refuses is NOT RECORDED and stops the program, and every result it printed is in
//! the ledger afterwards, whose chain stays intact.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::io::Write;
use std::process::{Command, Stdio};

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
        let mut child = Command::new("fiu-run")
            .args([
                "-x",
                "-c",
                "enable_random name=posix/io/rw/*,probability=0.02",
                "-c",
                "enable_random name=posix/io/sync/*,probability=0.05",
            ])
            .arg(common::BIN)
            .args(["scan", "--user", "ana", "--json"])
            .env("BALLOT_INTAKE_DATA_DIR", s.dir.path())
            .env("BALLOT_INTAKE_PIN", "314159")
            .env_remove("BALLOT_INTAKE_USER")
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
