//! Sync and nightly-file benchmarks, through the real binary.
//!
//! 1. `sync` of 100,000 events (BENCH_SYNC) to the loopback test receiver: time,
//!    events/s and the sync process's peak memory (from /usr/bin/time).
//! 2. `export` of a day with 1,000,000 events (BENCH_EXPORT) against the `sqlite3`
//!    shell writing the same columns with `-csv`, in the same run. Target: no slower.
//!
//! Run: `cargo bench --bench sync_export` (needs the sqlite3 shell and /usr/bin/time:
//! `apt-get install sqlite3 time`).
#![allow(clippy::unwrap_used, clippy::pedantic)]

#[path = "../tests/common/receiver.rs"]
#[allow(dead_code)]
mod receiver;
mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Instant;

const TOKEN: &str = "bench-token";

struct Station {
    data: std::path::PathBuf,
}

impl Station {
    fn run(&self, args: &[&str], input: &str, pin: Option<&str>) -> std::process::Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ballot-intake"));
        c.args(args)
            .env("BALLOT_INTAKE_DATA_DIR", &self.data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The administrative commands run as the station's administrator.
        c.env("BALLOT_INTAKE_USER", support::ADMIN)
            .env("BALLOT_INTAKE_PIN", pin.unwrap_or(support::ADMIN_PIN));
        let mut child = c.spawn().unwrap();
        // Feed stdin from another thread: the child's output must be drained at the
        // same time, or both block on full pipes.
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_string();
        let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

fn station(dir: &std::path::Path, ballots: u64) -> Station {
    let s = Station {
        data: dir.join("station"),
    };
    s.run(&support::INIT_ARGS, support::INIT_INPUT, None);
    s.run(
        &["user", "add", "bench", "--role", "clerk"],
        "314159\n",
        None,
    );
    let csv = dir.join("ballots.csv");
    support::write_ballot_file(&csv, ballots).unwrap();
    s.run(&["import", csv.to_str().unwrap()], "", None);
    s
}

fn sync_bench(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let s = station(dir.path(), n);
    let codes: String = (0..n)
        .map(|i| format!("{}\n", support::ballot_id(i)))
        .collect();
    let t = Instant::now();
    s.run(&["scan", "--user", "bench"], &codes, Some("314159"));
    println!(
        "scanned {n} codes through `scan` in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let rx = receiver::Receiver::start(TOKEN, receiver::Behaviour::default());
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    s.run(
        &[
            "sync",
            "setup",
            "--url",
            &rx.url,
            "--token-file",
            token.to_str().unwrap(),
        ],
        "",
        None,
    );
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-kb %M"])
        .arg(env!("CARGO_BIN_EXE_ballot-intake"))
        .arg("sync")
        .env("BALLOT_INTAKE_DATA_DIR", &s.data)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-kb "))
        .unwrap_or("?");
    let stored = rx.stored.lock().unwrap().events.len();
    println!(
        "sync of {stored} events to the loopback receiver: {secs:.2} s ({:.0} events/s), peak memory {peak} KB",
        stored as f64 / secs
    );
}

fn export_bench(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let s = station(dir.path(), 1000);
    // Events straight into the ledger (append-only tables accept inserts): the export
    // only reads them, and scanning a million codes would take minutes.
    let ledger = s.data.join("ledger.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&ledger).unwrap();
        let tx = conn.transaction().unwrap();
        let mut stmt = tx
            .prepare(
                "INSERT INTO events (election_id, kind, mode, raw, normalized, outcome, ballot_pk,
                     station_id, user_id, batch_id, source, occurred_at)
                 VALUES (?1, 'scan', 'receive', ?2, ?3, ?4, ?5, 'B1', 1, NULL, 'bench', ?6)",
            )
            .unwrap();
        for i in 0..n {
            let code = support::ballot_id(i % 1000);
            let outcome = if i < 1000 { "accepted" } else { "duplicate" };
            // All on 2026-11-03, local (MST) afternoon.
            let at = format!(
                "2026-11-03T{:02}:{:02}:{:02}.{:06}Z",
                17 + i / 3_600_000 % 6,
                i / 60_000 % 60,
                i / 1000 % 60,
                i % 1_000_000
            );
            stmt.execute(rusqlite::params![
                support::ELECTION,
                code.as_bytes(),
                code,
                outcome,
                (i % 1000) as i64 + 1,
                at
            ])
            .unwrap();
        }
        drop(stmt);
        tx.commit().unwrap();
    }
    let out_dir = dir.path().join("exports");
    let t = Instant::now();
    s.run(
        &[
            "export",
            "--date",
            "2026-11-03",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        "",
        None,
    );
    let ours = t.elapsed().as_secs_f64();
    let query = "SELECT e.station_id || '-' || e.seq AS event_id, e.station_id, e.election_id, b.ballot_id,
                        b.voter_id, e.kind AS event_type, e.outcome, e.occurred_at, e.batch_id AS batch,
                        e.reason, CASE WHEN e.corrects IS NULL THEN NULL ELSE e.station_id || '-' || e.corrects END AS corrects
                 FROM events e LEFT JOIN ballots b ON b.ballot_pk = e.ballot_pk
                 WHERE e.occurred_at >= '2026-11-03T07:00:00.000000Z' AND e.occurred_at < '2026-11-04T07:00:00.000000Z'
                 ORDER BY e.seq;";
    let base_out = dir.path().join("sqlite3.csv");
    let t = Instant::now();
    let status = Command::new("sqlite3")
        .args(["-csv", "-header", "-readonly"])
        .arg(&ledger)
        .arg(query)
        .stdout(std::fs::File::create(&base_out).unwrap())
        .status()
        .expect("the baseline needs the sqlite3 shell: apt-get install -y sqlite3");
    assert!(status.success());
    let theirs = t.elapsed().as_secs_f64();
    let ours_size = std::fs::metadata(out_dir.join("ballot-intake_2026-11-03_B1.csv"))
        .unwrap()
        .len();
    let their_size = std::fs::metadata(&base_out).unwrap().len();
    println!(
        "export of {n} events: ballot-intake {ours:.2} s ({ours_size} bytes, with SHA-256, manifest and fsync), sqlite3 -csv {theirs:.2} s ({their_size} bytes)"
    );
    println!(
        "ratio ballot-intake / sqlite3 = {:.2} (target <= 1.00): {}",
        ours / theirs,
        if ours <= theirs { "MET" } else { "NOT MET" }
    );
}

fn main() {
    sync_bench(support::env_count("BENCH_SYNC", 100_000));
    export_bench(support::env_count("BENCH_EXPORT", 1_000_000));
}
