//! Snapshot tests: the main screens drawn headless (tiny-skia) at the smallest size the
//! station supports, 1280x800, compared pixel for pixel (by SHA-256) with the
//! reviewed drawing in `tests/snapshots/`. A change to any screen's look fails here
//! until someone has looked at it.
//!
//! On a mismatch the new drawing is written to `target/snapshots/NAME.png`; if the
//! change is intended, run with `UPDATE_SNAPSHOTS=1` to record it, and commit the new
//! `.sha256` files with the change that caused them. `SAVE_SNAPSHOTS=1` writes every
//! drawing to `target/snapshots/` to look at.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::config::UiConfig;
use ballot_intake_core::intake::Outcome;
use ballot_intake_core::ledger::{BatchClose, LedgerError, User};
use ballot_intake_window::screen::flag::{self, Kind};
use ballot_intake_window::screen::{Scanned, open_batch, scan, settings, sign_in};
use ballot_intake_window::station::Station;
use ballot_intake_window::theme;
use iced::Element;
use iced_test::Simulator;
use std::path::{Path, PathBuf};

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{demo_ledger, header, scan_result, station};

fn snapshot<M: Clone>(name: &str, element: Element<'_, M>) {
    let mut ui = Simulator::with_size(Default::default(), (1280.0, 800.0), element);
    let snap = ui.snapshot(&theme::THEME).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = dir.join("tests/snapshots").join(name);
    let recorded = dir.join(format!("tests/snapshots/{name}-tiny-skia.sha256"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let _ = std::fs::remove_file(&recorded);
    }
    // matches_hash records a missing file and says "match": only allowed on purpose.
    assert!(
        recorded.exists() || std::env::var_os("UPDATE_SNAPSHOTS").is_some(),
        "{} is missing: run with UPDATE_SNAPSHOTS=1 (and ICED_TEST_BACKEND=tiny-skia) to record it",
        recorded.display()
    );
    let out: PathBuf = dir.join("target/snapshots").join(name);
    let save = || {
        let _ = std::fs::remove_file(out.with_file_name(format!("{name}-tiny-skia.png")));
        snap.matches_image(&out).unwrap();
    };
    if std::env::var_os("SAVE_SNAPSHOTS").is_some() {
        save();
    }
    if !snap.matches_hash(&expected).unwrap() {
        save();
        panic!(
            "the {name} screen looks different: see target/snapshots/{name}-tiny-skia.png; \
             if that is intended, rerun with UPDATE_SNAPSHOTS=1"
        );
    }
}

fn users() -> (
    tempfile::TempDir,
    Station,
    User,
    ballot_intake_core::ledger::Batch,
) {
    let (dir, mut ledger) = demo_ledger();
    let user = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&user).unwrap();
    let station = station(&dir);
    (dir, station, user, batch)
}

// The screens are drawn from hand-made answers, not the ledger's: a drawing compared
// pixel for pixel must not carry the clock's times or a fresh batch's number.
#[test]
fn sign_in_and_open_batch() {
    let (_dir, station, user, mut batch) = users();
    let mut state = sign_in::State::new(Some(
        "Demo users: demo-clerk (PIN 111111), demo-supervisor (PIN 999999)".into(),
    ));
    let wrong = LedgerError::WrongPin { user: "ana".into() };
    let _ = state.update(sign_in::Message::Checked(Box::new(Err(wrong))), &station);
    snapshot("sign-in", state.view());
    batch.batch_id = 3;
    batch.declared_count = Some(200);
    batch.accepted_count = 198;
    let closed = BatchClose {
        batch,
        discrepancy: true,
    };
    let state = open_batch::State::after_close(user, &closed);
    snapshot("open-batch", state.view());
}

#[test]
fn scanning_with_an_accepted_and_a_set_aside_banner() {
    let (_dir, station, user, batch) = users();
    let mut state = scan::State::new(user, batch);
    let mut first = scan_result(Outcome::Accepted);
    first.barcode = "D000001".into();
    let _ = state.update(scan::Message::Recorded(Box::new(Ok(first))), &station);
    snapshot(
        "scan-accepted",
        state.view(&header(), &scan::Live::default()),
    );
    let mut second = scan_result(Outcome::Voided);
    second.barcode = "D000003".into();
    second.ballot_id = Some("D000003".into());
    second.seq = 8;
    second.instruction = "SET ASIDE: replaced or surrendered ballot".into();
    let _ = state.update(scan::Message::Recorded(Box::new(Ok(second))), &station);
    snapshot(
        "scan-set-aside",
        state.view(&header(), &scan::Live::default()),
    );
}

#[test]
fn undeliverable_mode_and_settings() {
    let (_dir, station, user, _) = users();
    let state = flag::State::new(user.clone(), Kind::Undeliverable);
    snapshot("undeliverable", state.view());
    let (mut state, _) = settings::State::new(user, &UiConfig::default(), &[]);
    let detected = vec![settings::Detected {
        spec: "serial:/dev/ttyACM0".into(),
        description: "0c2e:0b61  Honeywell Xenon".into(),
    }];
    let _ = state.update(settings::Message::Detected(detected), &station);
    state.scanned(Scanned {
        source: "serial:/dev/ttyACM0".into(),
        raw: b"D000001".to_vec(),
        symbology: Some("]C0".into()),
        typed: false,
    });
    snapshot("settings", state.view("working"));
}

/// A busy afternoon's dashboard, with fixed numbers: the charts drawn on the canvas.
fn afternoon() -> ballot_intake_core::ledger::Dashboard {
    use ballot_intake_core::ledger::{Dashboard, HourReceipts};
    let counts = |pairs: &[(&str, i64)]| -> std::collections::BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let today = [0, 120, 310, 402, 388, 0, 275, 340];
    let yesterday = [35, 150, 280, 360, 410, 190, 260, 300];
    Dashboard {
        today: counts(&[("accepted", 1835), ("duplicate", 12), ("voided", 3)]),
        election: counts(&[("accepted", 20412), ("duplicate", 96), ("voided", 31)]),
        receipts_by_hour: (0..8)
            .map(|i| HourReceipts {
                hour: 8 + i as u32,
                today: today[i],
                yesterday: yesterday[i],
            })
            .collect(),
        batch_outcomes: (41..=46)
            .map(|b| {
                (
                    b,
                    counts(&[
                        ("accepted", 180 + 7 * b % 40),
                        ("duplicate", b % 4),
                        ("reversed", i64::from(b == 44)),
                    ]),
                )
            })
            .collect(),
        ..Dashboard::default()
    }
}

#[test]
fn the_dashboards_charts() {
    use ballot_intake_window::screen::dashboard;
    let mut state = dashboard::State::default();
    state.update(dashboard::Message::Loaded(Box::new(Ok(afternoon()))));
    snapshot("dashboard", state.view());
}
