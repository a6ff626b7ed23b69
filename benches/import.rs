//! Import benchmark: `ballot-intake import` of a county's mail ballot file against the
//! `sqlite3` shell's `.import` of the same file into a table with the same indexes, in
//! the same run (the machine is shared and noisy, so only ratios mean anything).
//!
//! The file is what a county produces: rows in random order (never sorted by ballot
//! id), ballot ids, voter ids and tracking codes unrelated to each other, skewed
//! names with accents, quotes and commas, every optional column, 2% VOID reissues.
//! For each size it prints:
//! - the first import against sqlite3 (indexes built after the rows, and, up to
//!   1,000,000 rows, into live indexes; the faster counts), target ratio <= 1.00;
//! - the import's peak memory (target < 200 MB);
//! - the re-import of an updated file (20,000 ballots VOID and reissued), target
//!   within 1.5x of the first import;
//! - at 1,000,000 rows, how long each scan waits for its result while a clerk scans
//!   an envelope every 250 ms through a first import and through a re-import
//!   (target: none over 1 s).
//!
//! At the end, the time per row at 6,000,000 against 1,000,000 (target within 1.3x).
//!
//! Run: `cargo bench --bench import` (1,000,000 rows); `BENCH_6M=1 cargo bench --bench
//! import` adds the 6,000,000-row run (about 1 GB of file, several minutes);
//! `BENCH_ROWS=N` runs one size of N rows instead; `BENCH_DIR=DIR` keeps the files.
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs a script (with dot-commands) through the sqlite3 shell; returns seconds.
fn sqlite3(db: &Path, script: &str) -> f64 {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let t = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed().as_secs_f64()
}

/// What one run of the real binary did.
struct Run {
    seconds: f64,
    peak_mb: f64,
    stdout: String,
}

/// The peak resident memory (VmHWM, a high-water mark the kernel keeps) of a running
/// process, in bytes.
fn high_water(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Runs `ballot-intake ARGS` on the station in `data`, reading its peak resident
/// memory while it runs (every 10 ms: the mark only rises, so the last reading is
/// the peak up to 10 ms before the end).
fn station(data: &Path, args: &[&str], stdin: &str, pin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballot-intake"));
    cmd.args(args)
        .env("BALLOT_INTAKE_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The administrative commands run as the station's administrator.
    cmd.env("BALLOT_INTAKE_USER", support::ADMIN)
        .env("BALLOT_INTAKE_PIN", pin.unwrap_or(support::ADMIN_PIN));
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let pipes = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = pipes(Box::new(child.stdout.take().unwrap()));
    let err = pipes(Box::new(child.stderr.take().unwrap()));
    let mut peak = 0.0f64;
    let status = loop {
        if let Some(hwm) = high_water(child.id()) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = t.elapsed().as_secs_f64();
    let stderr = err.join().unwrap();
    assert!(status.success(), "{args:?}: {stderr}");
    Run {
        seconds,
        peak_mb: peak / 1e6,
        stdout: out.join().unwrap(),
    }
}

/// A new station with a clerk, in `dir/name`.
fn new_station(dir: &Path, name: &str) -> PathBuf {
    let data = dir.join(name);
    station(&data, &support::INIT_ARGS, support::INIT_INPUT, None);
    station(
        &data,
        &["user", "add", "clerk", "--role", "clerk"],
        "246810\n",
        None,
    );
    data
}

/// The sqlite3 shell's two ways to load the file: the indexes built after the rows
/// (what a bulk load should do) or the rows inserted into live indexes. Both with the
/// ballot id unique per election, WAL and synchronous=FULL, in one transaction.
fn baseline_scripts(csv: &Path) -> (String, String) {
    let cols = support::HEADER
        .split(',')
        .map(|c| format!("{c} TEXT"))
        .collect::<Vec<_>>()
        .join(", ");
    let indexes = "CREATE INDEX b_id ON ballots (ballot_id);
CREATE INDEX b_voter ON ballots (election_id, voter_id, ballot_status);
CREATE INDEX b_track ON ballots (substr(return_imb, 1, 20)) WHERE return_imb IS NOT NULL;
CREATE INDEX b_out ON ballots (substr(outbound_imb, 1, 20)) WHERE outbound_imb IS NOT NULL;";
    let head = format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
CREATE TABLE ballots ({cols}, UNIQUE (election_id, ballot_id));"
    );
    let import = format!(".import --csv --skip 1 {} ballots", csv.display());
    let after = format!("{head}\nBEGIN;\n{import}\n{indexes}\nCOMMIT;\n");
    let live = format!("{head}\n{indexes}\nBEGIN;\n{import}\nCOMMIT;\n");
    (after, live)
}

/// Figures of one size.
struct Figures {
    rows: u64,
    ours: f64,
    baseline: f64,
}

fn one_size(dir: &Path, rows: u64, measure_scan: bool) -> Figures {
    let csv = dir.join(format!("ballots-{rows}.csv"));
    let updated = dir.join(format!("ballots-{rows}-updated.csv"));
    let t = Instant::now();
    support::write_ballot_file(&csv, rows).unwrap();
    support::write_updated_file(&updated, rows, 20_000).unwrap();
    let size = std::fs::metadata(&csv).unwrap().len();
    println!(
        "\n== {rows} rows ({:.1} MB, random order), generated with the update in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let (after, live) = baseline_scripts(&csv);
    let base = dir.join("baseline.sqlite3");
    let theirs_after = sqlite3(&base, &after);
    let data = new_station(dir, &format!("station-{rows}"));
    let first = station(&data, &["import", csv.to_str().unwrap()], "", None);
    println!("ballot-intake: {}", first.stdout.trim());
    let live_wanted = rows <= 1_000_000 || std::env::var_os("BENCH_LIVE").is_some();
    let theirs_live = live_wanted.then(|| sqlite3(&base, &live));
    let baseline = theirs_live.map_or(theirs_after, |l| l.min(theirs_after));
    println!(
        "first import: ballot-intake {:.2} s ({:.0} rows/s); sqlite3 with the indexes built after {theirs_after:.2} s{}",
        first.seconds,
        rows as f64 / first.seconds,
        theirs_live.map_or(
            " (into live indexes: not run above 1,000,000 rows; BENCH_LIVE=1 runs it)".into(),
            |l| format!(", into live indexes {l:.2} s")
        ),
    );
    let ratio = first.seconds / baseline;
    println!(
        "ratio ballot-intake / sqlite3 (the faster way) = {ratio:.2} (target <= 1.00): {}",
        if ratio <= 1.0 { "MET" } else { "NOT MET" }
    );
    println!(
        "peak memory of the import: {:.0} MB (target < 200 MB): {}",
        first.peak_mb,
        if first.peak_mb < 200.0 {
            "MET"
        } else {
            "NOT MET"
        }
    );

    let again = station(&data, &["import", updated.to_str().unwrap()], "", None);
    let r = again.seconds / first.seconds;
    println!(
        "re-import of the updated file: {:.2} s, {r:.2}x the first import (target <= 1.5): {}; peak {:.0} MB\n  {}",
        again.seconds,
        if r <= 1.5 { "MET" } else { "NOT MET" },
        again.peak_mb,
        again.stdout.trim()
    );

    if measure_scan {
        scans_during_imports(dir, &csv, &updated);
    }
    Figures {
        rows,
        ours: first.seconds,
        baseline,
    }
}

/// A clerk scanning steadily (an envelope every 250 ms, each a different ballot)
/// through a whole import, through one `scan` process signed in before the import
/// starts: how long each scan waits for its printed result. Run for a first import
/// into a new station and for the re-import of the updated file into it.
fn scans_during_imports(dir: &Path, csv: &Path, updated: &Path) {
    let data = new_station(dir, "station-scan");
    for (what, file) in [("first import", csv), ("re-import", updated)] {
        let (answers, imported) = scans_during(&data, file);
        let recorded = answers.iter().filter(|a| a.1).count();
        let waits: Vec<f64> = answers.iter().map(|a| a.0).collect();
        let mut sorted = waits.clone();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
        let over = waits.iter().filter(|w| **w > 1.0).count();
        println!(
            "scans during a {what} ({imported:.1} s): {} scans ({recorded} recorded, {} answered NOT RECORDED: no file in yet), wait p50 {:.3} s, p99 {:.3} s, max {:.3} s; {over} over 1 s (target: none): {}",
            waits.len(),
            waits.len() - recorded,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            if over == 0 { "MET" } else { "NOT MET" }
        );
    }
}

/// Scans every 250 ms while `file` imports into the station in `data`; returns each
/// scan's wait for its result and whether it was recorded, and the import's seconds.
fn scans_during(data: &Path, file: &Path) -> (Vec<(f64, bool)>, f64) {
    use std::io::BufRead;
    let mut scanner = Command::new(env!("CARGO_BIN_EXE_ballot-intake"))
        .args(["scan", "--user", "clerk", "--json"])
        .env("BALLOT_INTAKE_DATA_DIR", data)
        .env("BALLOT_INTAKE_PIN", "246810")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = scanner.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let output = scanner.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            // A scan into an election whose file is not in yet is answered with
            // `"recorded": false` (nothing recorded); the rest are recorded results.
            let recorded = !line.contains("\"recorded\":false");
            if tx.send((Instant::now(), recorded)).is_err() {
                break;
            }
        }
    });
    // Each scan a ballot not scanned before (a repeat would be a quick duplicate).
    let mut serial = 1 + std::process::id() as u64 % 1000 * 1000;
    let mut scan = |input: &mut std::process::ChildStdin| {
        serial += 1;
        let sent = Instant::now();
        writeln!(input, "{}", support::ballot_id(serial)).unwrap();
        input.flush().unwrap();
        sent
    };
    // Signed in and answering before the import starts.
    let sent = scan(&mut input);
    rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let _ = sent;
    let importing = {
        let data = data.to_path_buf();
        let file = file.to_path_buf();
        std::thread::spawn(move || station(&data, &["import", file.to_str().unwrap()], "", None))
    };
    let mut waits = Vec::new();
    while !importing.is_finished() {
        let sent = scan(&mut input);
        let (answered, recorded) = rx.recv_timeout(Duration::from_secs(120)).unwrap();
        waits.push((answered.duration_since(sent).as_secs_f64(), recorded));
        std::thread::sleep(Duration::from_millis(250));
    }
    let imported = importing.join().unwrap().seconds;
    drop(input);
    let _ = scanner.wait();
    let _ = reader.join();
    (waits, imported)
}

fn main() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        eprintln!("the baseline needs the sqlite3 shell: apt-get install -y sqlite3");
        std::process::exit(1);
    }
    let sizes: Vec<u64> = match std::env::var("BENCH_ROWS") {
        Ok(_) => vec![support::env_count("BENCH_ROWS", 1_000_000)],
        Err(_) if std::env::var_os("BENCH_6M").is_some() => vec![1_000_000, 6_000_000],
        Err(_) => vec![1_000_000],
    };
    // BENCH_DIR keeps the files and stations there, to look at afterwards.
    let temp = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("BENCH_DIR").map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let figures: Vec<Figures> = sizes
        .iter()
        .enumerate()
        .map(|(k, &rows)| one_size(&dir, rows, k == 0 && rows <= 1_000_000))
        .collect();
    println!();
    for f in &figures {
        println!(
            "{} rows: ratio {:.2}, {:.2} us a row",
            f.rows,
            f.ours / f.baseline,
            f.ours / f.rows as f64 * 1e6
        );
    }
    if let [small, big, ..] = &figures[..] {
        let growth = (big.ours / big.rows as f64) / (small.ours / small.rows as f64);
        println!(
            "time per row at {} against {}: {growth:.2}x (target <= 1.30): {}",
            big.rows,
            small.rows,
            if growth <= 1.3 { "MET" } else { "NOT MET" }
        );
    }
}
