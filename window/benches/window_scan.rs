//! What the window adds to a scan: a keyboard-wedge burst fed key by key into
//! `App::update`, decoded, sent to the ledger thread, committed, and its result
//! message handled and the screen's view built again, against `record_scan` called
//! directly on the same ledger file in the same run (blocks of the two alternate, so
//! both see the same machine and disk). Both commit with synchronous=FULL.
//!
//! Run: `cargo bench --bench window_scan` (BENCH_SCANS to change the 3,000 scans).
#![allow(clippy::unwrap_used, clippy::pedantic)]

#[path = "../../benches/support/mod.rs"]
mod support;

#[path = "../tests/common/ui.rs"]
mod ui_common;

use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::ScanInput;
use ballot_intake_core::scanner::wedge::Key;
use ballot_intake_window::app::{App, Message, Screen};
use ballot_intake_window::screen::sign_in;
use ballot_intake_window::worker::LedgerWorker;
use std::time::{Duration, Instant};

fn main() {
    let scans = (support::env_count("BENCH_SCANS", 3_000) as usize).min(3_000);
    // One demo station (3,001 ballots). The window's ledger thread and a second
    // connection for the direct calls write to the same file, so both pay the same
    // fsyncs; the window scans the odd ballot ids, the direct calls the even ones.
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let mut direct_ledger = ballot_intake_core::demo::open_or_create(&env).unwrap();
    let clerk = direct_ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = direct_ledger.open_or_current_batch(&clerk).unwrap();
    let (mut app, _) = App::new(
        LedgerWorker::open(&env.ledger_path()).unwrap(),
        ui_common::header(),
        None,
        None,
    );
    // Signed in as a clerk would be: name, PIN, Enter, checked on the ledger thread.
    for m in [
        sign_in::Message::User("demo-clerk".into()),
        sign_in::Message::Pin("111111".into()),
        sign_in::Message::Submit,
    ] {
        let task = app.update(Message::SignIn(m));
        ui_common::drive(&mut app, task);
    }

    let codes: Vec<(String, String)> = (0..scans / 2)
        .map(|i| (format!("D{:06}", 2 * i + 1), format!("D{:06}", 2 * i + 2)))
        .collect();
    let mut window = Vec::with_capacity(scans);
    let mut direct = Vec::with_capacity(scans);
    // The wedge decoder reads the keys' own times: 2 ms apart, as a scanner types,
    // and bursts well apart.
    let mut clock = Instant::now();
    for block in codes.chunks(50) {
        for (_, code) in block {
            let t = Instant::now();
            direct_ledger
                .record_scan(
                    &clerk,
                    batch.batch_id,
                    &ScanInput {
                        raw: code.as_bytes(),
                        source: "wedge:keyboard",
                        symbology: None,
                        at: chrono::Utc::now(),
                        original_len: None,
                    },
                )
                .unwrap();
            direct.push(t.elapsed().as_secs_f64() * 1e6);
        }
        for (code, _) in block {
            clock += Duration::from_secs(1);
            let t = Instant::now();
            for c in code.chars() {
                let task = app.update(Message::Key(Key::Char(c), clock));
                ui_common::drive(&mut app, task);
                clock += Duration::from_millis(2);
            }
            let task = app.update(Message::Key(Key::Enter, clock));
            ui_common::drive(&mut app, task); // returns once the result is on screen
            std::hint::black_box(app.view());
            window.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let Screen::Scan(state) = app.screen() else {
        panic!("left the scan screen")
    };
    assert_eq!(state.pending, 0, "every scan answered");
    let status = direct_ledger.status().unwrap();
    let recorded: i64 = status.outcomes.values().sum();
    assert_eq!(
        recorded as usize,
        window.len() + direct.len(),
        "every scan committed"
    );
    window.sort_by(|a, b| a.total_cmp(b));
    direct.sort_by(|a, b| a.total_cmp(b));
    let p = |v: &[f64], q| support::percentile(v, q);
    println!(
        "{} scans through the window, {} direct, into one ledger; outcomes {:?}",
        window.len(),
        direct.len(),
        status.outcomes
    );
    println!(
        "window (keys -> ledger thread -> result on screen): p50 {:.0} us, p99 {:.0} us",
        p(&window, 50.0),
        p(&window, 99.0)
    );
    println!(
        "record_scan called directly:                        p50 {:.0} us, p99 {:.0} us",
        p(&direct, 50.0),
        p(&direct, 99.0)
    );
    println!(
        "the window adds p50 {:.0} us, p99 {:.0} us (p99 ratio {:.2})",
        p(&window, 50.0) - p(&direct, 50.0),
        p(&window, 99.0) - p(&direct, 99.0),
        p(&window, 99.0) / p(&direct, 99.0)
    );
}
