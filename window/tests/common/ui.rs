//! Helpers for the window's tests (included by `tests/ui.rs` and `tests/settings.rs`).
#![allow(dead_code)] // each test file uses its own share of them

use ballot_intake_core::intake::Outcome;
use ballot_intake_core::ledger::{Ledger, ScanResult};
use ballot_intake_core::scanner::wedge::Key;
use ballot_intake_window::app::{App, Message};
use ballot_intake_window::screen::scan;
use iced::Task;
use iced::futures::StreamExt;
use std::time::{Duration, Instant};

/// The header of a made-up station.
pub fn header() -> scan::Header {
    scan::Header {
        station: "S1".into(),
        election: "2026 General (2026-GEN)".into(),
        demo: false,
        timezone: chrono_tz::America::Denver,
    }
}

/// A demo station's ledger in a new folder.
pub fn demo_ledger() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let env = ballot_intake_core::environment::Environment::resolve(Some(dir.path())).unwrap();
    let ledger = ballot_intake_core::demo::open_or_create(&env).unwrap();
    (dir, ledger)
}

/// Key events as a scanner types them (2 ms apart) or a person (120 ms apart).
pub fn keys(app: &mut App, text: &str, start: Instant, gap_ms: u64) -> Instant {
    let mut t = start;
    for c in text.chars() {
        let key = if c == '\n' { Key::Enter } else { Key::Char(c) };
        let _ = app.update(Message::Key(key, t));
        t += Duration::from_millis(gap_ms);
    }
    t
}

/// A recorded scan with this outcome, as the ledger thread would answer.
pub fn scan_result(outcome: Outcome) -> ScanResult {
    ScanResult {
        barcode: "D000001".into(),
        outcome,
        ballot_id: Some("D000001".into()),
        batch: 1,
        seq: 7,
        at: "2026-11-03T17:00:00.000000Z".into(),
        source: "wedge:keyboard".into(),
        symbology: None,
        reason: None,
        first_receipt: None,
        instruction: "Put in tray".into(),
        confidential: false,
    }
}

/// Runs `task` as the runtime would (its futures to completion, on the real ledger
/// thread) and feeds each message it yields back into `app`, until nothing is left.
/// Widget operations (focus) have no window here and are dropped.
pub fn drive(app: &mut App, task: Task<Message>) {
    let mut queue = vec![task];
    let mut rounds = 0;
    while let Some(task) = queue.pop() {
        rounds += 1;
        assert!(rounds < 200, "tasks keep making tasks");
        let Some(stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        let actions: Vec<_> = iced::futures::executor::block_on(stream.collect());
        for action in actions {
            if let iced_runtime::Action::Output(m) = action {
                queue.push(app.update(m));
            }
        }
    }
}
