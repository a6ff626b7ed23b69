//! Import benchmark: `ballot-intake import` of a generated mail ballot file against
//! the `sqlite3` shell's `.import` of the same file into a table with the same
//! indexes, in the same run (the machine is shared and noisy, so only the ratio
//! means anything). Target: no slower than sqlite3.
//!
//! The file's rows are in scattered order, as a county's are (never sorted by ballot
//! id). Run: `cargo bench --bench import` (BENCH_ROWS=N to change the 1,000,000 rows).
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod support;

use std::process::Command;
use std::time::Instant;

/// Runs a script (with dot-commands) through the sqlite3 shell on its standard input.
fn sqlite3(db: &std::path::Path, script: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn main() {
    let rows = support::env_count("BENCH_ROWS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ballots.csv");
    let t = Instant::now();
    support::write_ballot_file(&csv, rows).unwrap();
    let size = std::fs::metadata(&csv).unwrap().len();
    println!(
        "generated {rows} rows, {:.1} MB, in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    if Command::new("sqlite3").arg("--version").output().is_err() {
        eprintln!("the baseline needs the sqlite3 shell: apt-get install -y sqlite3");
        std::process::exit(1);
    }

    // ballot-intake, through the real binary.
    let bin = env!("CARGO_BIN_EXE_ballot-intake");
    let data = dir.path().join("station");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env("BALLOT_INTAKE_DATA_DIR", &data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&support::INIT_ARGS);

    // sqlite3 shell: same durability, same indexes, the whole file in one transaction.
    let base = dir.path().join("baseline.sqlite3");
    let script = format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE ballots ({cols},
                               UNIQUE (election_id, ballot_id));
         CREATE INDEX b_id ON ballots (ballot_id);
         CREATE INDEX b_voter ON ballots (election_id, voter_id);
         CREATE INDEX b_track ON ballots (substr(return_imb, 1, 20)) WHERE return_imb IS NOT NULL;
BEGIN;
.import --csv --skip 1 {csv} ballots
COMMIT;
SELECT count(*) FROM ballots;
",
        cols = support::HEADER
            .split(',')
            .map(|c| format!("{c} TEXT"))
            .collect::<Vec<_>>()
            .join(", "),
        csv = csv.display()
    );

    // sqlite3 shell's other way: the indexes built after the rows are in (what a
    // bulk load should do), in the same transaction. The faster of the two ways is
    // the baseline that counts.
    let cols = support::HEADER
        .split(',')
        .map(|c| format!("{c} TEXT"))
        .collect::<Vec<_>>()
        .join(", ");
    let after = format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE ballots ({cols}, UNIQUE (election_id, ballot_id));
BEGIN;
.import --csv --skip 1 {csv} ballots
CREATE INDEX b_id ON ballots (ballot_id);
CREATE INDEX b_voter ON ballots (election_id, voter_id);
CREATE INDEX b_track ON ballots (substr(return_imb, 1, 20)) WHERE return_imb IS NOT NULL;
COMMIT;
SELECT count(*) FROM ballots;
",
        csv = csv.display()
    );
    let mut theirs_after = Vec::new();

    // Alternate the two so that both see the same machine; best of each.
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..2 {
        let _ = std::fs::remove_file(&base);
        let _ = std::fs::remove_file(base.with_extension("sqlite3-wal"));
        let t = Instant::now();
        let out = sqlite3(&base, &after);
        assert!(
            out.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        theirs_after.push(t.elapsed().as_secs_f64());
        let _ = std::fs::remove_file(&base);
        let _ = std::fs::remove_file(base.with_extension("sqlite3-wal"));
        let t = Instant::now();
        let out = sqlite3(&base, &script);
        assert!(
            out.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        theirs.push(t.elapsed().as_secs_f64());
        if round == 0 {
            let t = Instant::now();
            let summary = run(&["import", csv.to_str().unwrap()]);
            ours.push(t.elapsed().as_secs_f64());
            println!("ballot-intake: {}", summary.trim());
        } else {
            // The second import of the same file: every row compared, nothing written.
            let t = Instant::now();
            let summary = run(&["import", csv.to_str().unwrap()]);
            println!(
                "ballot-intake re-import of the same file: {:.2} s ({})",
                t.elapsed().as_secs_f64(),
                summary.trim()
            );
        }
    }
    let ours = ours[0];
    let theirs = theirs.iter().cloned().fold(f64::INFINITY, f64::min);
    let after = theirs_after.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "import of {rows} rows: ballot-intake {ours:.2} s ({:.0} rows/s); sqlite3 .import into live indexes {theirs:.2} s, with the indexes built after {after:.2} s",
        rows as f64 / ours,
    );
    let best = theirs.min(after);
    println!(
        "ratio ballot-intake / sqlite3 (live indexes) = {:.2}; / sqlite3 (indexes after) = {:.2}; against the faster (target <= 1.00): {}",
        ours / theirs,
        ours / after,
        if ours <= best { "MET" } else { "NOT MET" }
    );
}
