//! Serial intake benchmark: 100,000 codes through a pseudo-terminal into the real
//! `ballot-intake listen`, with the ledger on disk.
//!
//! Phase 1 writes 20,000 codes as fast as the pty takes them and measures the
//! sustained durable rate (codes whose result line was printed, i.e. committed, per
//! second). Phase 2 paces the other 80,000 at BENCH_RATE codes/s (default 2,500) and
//! measures the time from the last byte of each code written to its committed result
//! being read. For context, the same run measures bare durable commits per second on
//! the same disk. Target: at least 2,000 durable scans/s.
//!
//! Run: `cargo bench --bench listen_throughput` (BENCH_CODES, BENCH_RATE to change).
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod support;

use serialport::SerialPort;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let codes_n = support::env_count("BENCH_CODES", 100_000);
    let rate = support::env_count("BENCH_RATE", 2_500).max(1);
    let burst_n = (codes_n / 5) as usize;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ballots.csv");
    support::write_ballot_file(&csv, codes_n).unwrap();
    let bin = env!("CARGO_BIN_EXE_ballot-intake");
    let data = dir.path().join("station");
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(bin)
            .args(args)
            .env("BALLOT_INTAKE_DATA_DIR", &data)
            // The administrative commands run as the station's administrator.
            .env("BALLOT_INTAKE_USER", support::ADMIN)
            .env("BALLOT_INTAKE_PIN", support::ADMIN_PIN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&support::INIT_ARGS, support::INIT_INPUT);
    run(&["user", "add", "bench", "--role", "clerk"], "314159\n");
    run(&["import", csv.to_str().unwrap()], "");

    // Bare durable commits on the same disk, for context.
    let bare = rusqlite::Connection::open(dir.path().join("bare.sqlite3")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT)")
        .unwrap();
    let t = Instant::now();
    for i in 0..5000 {
        bare.execute("INSERT INTO t (code) VALUES (?1)", [format!("B{i}")])
            .unwrap();
    }
    let bare_rate = 5000.0 / t.elapsed().as_secs_f64();

    let (mut master, slave) = serialport::TTYPort::pair().unwrap();
    let slave_name = slave.name().unwrap();
    drop(slave);
    let mut child = Command::new(bin)
        .args(["listen", "--user", "bench", "--json", "--scanner"])
        .arg(format!("serial:{slave_name}@115200"))
        .env("BALLOT_INTAKE_DATA_DIR", &data)
        .env("BALLOT_INTAKE_PIN", "314159")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    events.read_line(&mut line).unwrap();
    assert!(line.contains("connected"), "{line}");
    std::thread::spawn(move || for _ in events.lines() {});

    let results = BufReader::new(child.stdout.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut times = Vec::with_capacity(codes_n as usize);
        let mut outcomes = std::collections::BTreeMap::new();
        for l in results.lines() {
            let l = l.unwrap();
            times.push(Instant::now());
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            *outcomes
                .entry(v["outcome"].as_str().unwrap().to_string())
                .or_insert(0u64) += 1;
        }
        (times, outcomes)
    });

    let codes: Vec<Vec<u8>> = (0..codes_n)
        .map(|i| format!("{}\r", support::ballot_id(i)).into_bytes())
        .collect();
    let mut written = Vec::with_capacity(codes.len());
    // Phase 1: full speed.
    let burst_start = Instant::now();
    for c in &codes[..burst_n] {
        master.write_all(c).unwrap();
        written.push(Instant::now());
    }
    // Phase 2: paced, once phase 1 has drained (so its queue does not count as latency).
    while !phase_one_done(&data, burst_n) {
        assert!(!reader.is_finished(), "the listener stopped early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let step = Duration::from_secs_f64(1.0 / rate as f64);
    let paced_start = Instant::now();
    for (k, c) in codes[burst_n..].iter().enumerate() {
        let due = paced_start + step * k as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        master.write_all(c).unwrap();
        written.push(Instant::now());
    }
    // Let the last results come, then stop the listener.
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let (times, outcomes) = reader.join().unwrap();
    assert_eq!(
        times.len(),
        codes.len(),
        "every code got a result: {outcomes:?}"
    );

    let burst_secs = times[burst_n - 1].duration_since(burst_start).as_secs_f64();
    let burst_rate = burst_n as f64 / burst_secs;
    let mut lat: Vec<f64> = (burst_n..codes.len())
        .map(|i| times[i].duration_since(written[i]).as_secs_f64() * 1e6)
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let paced_secs = times[codes.len() - 1]
        .duration_since(paced_start)
        .as_secs_f64();
    println!(
        "{} codes through a pty into `listen`; outcomes {outcomes:?}",
        codes.len()
    );
    println!(
        "full speed: {burst_n} codes durable in {burst_secs:.2} s = {burst_rate:.0} scans/s (target >= 2000: {})",
        if burst_rate >= 2000.0 {
            "MET"
        } else {
            "NOT MET"
        }
    );
    println!(
        "paced at {rate}/s: {} codes in {paced_secs:.1} s; last byte written -> committed result p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        lat.len(),
        support::percentile(&lat, 50.0),
        support::percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!("same disk, bare WAL+FULL insert+commit: {bare_rate:.0} commits/s");
}

/// Whether the listener has committed the first `n` scans (read from the ledger).
fn phase_one_done(data: &std::path::Path, n: usize) -> bool {
    let conn = rusqlite::Connection::open(data.join("ledger.sqlite3")).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap_or(0);
    count as usize >= n
}
