//! Per-scan latency with 1,000,000 ballots loaded, against a bare SQLite
//! insert + commit with the same durability (WAL, synchronous=FULL) on the same disk
//! in the same run. Blocks of the two alternate so that both see the same machine.
//! Target: ballot-intake's p99 within 1.5x of the bare commit's p99.
//! The station checkpoints its WAL from a background thread (src/ledger/checkpoint.rs);
//! the bare baseline keeps SQLite's automatic checkpoint, as a plain program would.
//!
//! Run: `cargo bench --bench scan_latency` (BENCH_ROWS, BENCH_SCANS to change sizes).
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod support;

use ballot_intake_core::barcode::CheckDigit;
use ballot_intake_core::ledger::{Ledger, NewElection, ScanInput, StationSetup};
use chrono::{NaiveDate, Utc};
use std::time::Instant;

fn main() {
    let rows = support::env_count("BENCH_ROWS", 1_000_000);
    let scans = support::env_count("BENCH_SCANS", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ballots.csv");
    support::write_ballot_file(&csv, rows).unwrap();

    let mut ledger = Ledger::create(
        &dir.path().join("ledger.sqlite3"),
        &StationSetup {
            station_id: "B1".into(),
            county: "Bench".into(),
            timezone: "America/Denver".into(),
            election: NewElection {
                election_id: support::ELECTION.into(),
                name: "Bench".into(),
                date: NaiveDate::from_ymd_opt(2099, 11, 3).unwrap(),
                check_digit: CheckDigit::None,
            },
            demo: false,
        },
    )
    .unwrap();
    let admin = ledger
        .add_user(
            None,
            "admin",
            ballot_intake_core::auth::Role::Admin,
            "864209",
        )
        .unwrap();
    let t = Instant::now();
    let summary =
        ballot_intake_core::mail_ballot::import_file(&mut ledger, &csv, Some(&admin), |_, _| {})
            .unwrap();
    println!(
        "loaded {} ballots in {:.1} s",
        summary.added,
        t.elapsed().as_secs_f64()
    );
    let user = ledger
        .add_user(
            Some(&admin),
            "bench",
            ballot_intake_core::auth::Role::Clerk,
            "314159",
        )
        .unwrap();
    let batch = ledger
        .open_batch(&user, &ballot_intake_core::ledger::NewBatch::default())
        .unwrap();

    let bare = rusqlite::Connection::open(dir.path().join("bare.sqlite3")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch("CREATE TABLE scans (id INTEGER PRIMARY KEY, code TEXT, at TEXT)")
        .unwrap();

    // Codes spread over the whole file, some repeated (duplicates) and some unknown.
    let step = (rows / scans.max(1)).max(1);
    let codes: Vec<String> = (0..scans)
        .map(|i| match i % 20 {
            7 => support::ballot_id((i.saturating_sub(7)) * step % rows),
            13 => format!("NOPE{i}"),
            _ => support::ballot_id(i * step % rows),
        })
        .collect();
    let mut ours = Vec::with_capacity(codes.len());
    let mut theirs = Vec::with_capacity(codes.len());
    let mut outcomes = std::collections::BTreeMap::new();
    for block in codes.chunks(500) {
        for code in block {
            let t = Instant::now();
            bare.execute_batch("BEGIN IMMEDIATE").unwrap();
            bare.execute(
                "INSERT INTO scans (code, at) VALUES (?1, ?2)",
                (code, Utc::now().to_rfc3339()),
            )
            .unwrap();
            bare.execute_batch("COMMIT").unwrap();
            theirs.push(t.elapsed().as_secs_f64() * 1e6);
        }
        for code in block {
            let t = Instant::now();
            let r = ledger
                .record_scan(
                    &user,
                    batch.batch_id,
                    &ScanInput {
                        raw: code.as_bytes(),
                        source: "bench",
                        symbology: None,
                        at: Utc::now(),
                        original_len: None,
                    },
                )
                .unwrap();
            ours.push(t.elapsed().as_secs_f64() * 1e6);
            *outcomes.entry(r.outcome.as_str()).or_insert(0) += 1;
        }
    }
    ours.sort_by(|a, b| a.total_cmp(b));
    theirs.sort_by(|a, b| a.total_cmp(b));
    let (p50, p99) = (
        support::percentile(&ours, 50.0),
        support::percentile(&ours, 99.0),
    );
    let (b50, b99) = (
        support::percentile(&theirs, 50.0),
        support::percentile(&theirs, 99.0),
    );
    println!("{scans} scans with {rows} ballots loaded; outcomes {outcomes:?}");
    println!("ballot-intake record_scan: p50 {p50:.0} us, p99 {p99:.0} us");
    println!("bare insert+commit:        p50 {b50:.0} us, p99 {b99:.0} us");
    println!(
        "p99 ratio = {:.2} (target <= 1.50): {}; p50 ratio = {:.2}",
        p99 / b99,
        if p99 <= 1.5 * b99 { "MET" } else { "NOT MET" },
        p50 / b50
    );
}
