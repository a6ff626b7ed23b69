//! The window under real hands: a real window under Xvfb driven with xdotool as a
//! clerk and a supervisor drive it, a person typing at 40 ms a key and a
//! keyboard-wedge scanner at 4 ms a key (with Shift around capitals, as xdotool
//! sends them); the ledger is read afterwards. Each case is something that wrote a
//! wrong record in ordinary use before it was fixed (issue "The window under real
//! hands").
//!
//! The cases run one at a time (a lock): each starts its own display and window,
//! and two cores do not run several of those well at once.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
#[path = "common/desktop.rs"]
mod desktop;
use desktop::Desktop;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

static ONE_WINDOW_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_WINDOW_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `ballot-intake --data-dir DEMO ARGS` with these PINs, as another terminal at the
/// station would run it while the window is open.
fn cli(desk: &Desktop, args: &[&str], pin: &str, verifier_pin: &str) -> String {
    let out = Command::new(common::BIN)
        .args(["--data-dir", desk.demo().to_str().unwrap()])
        .args(args)
        .env("BALLOT_INTAKE_PIN", pin)
        .env("BALLOT_INTAKE_VERIFIER_PIN", verifier_pin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const EVENTS: &str =
    "SELECT normalized || ' ' || COALESCE(outcome, kind) || ' ' || source FROM events ORDER BY seq";

#[test]
fn a_clerks_day_from_sign_in_to_a_recounted_close() {
    let _one = one_at_a_time();
    let desk = Desktop::start(0, |_| {});
    // A scan on the sign-in screen (the name field has the cursor) lands nowhere:
    // the name typed afterwards signs in as typed.
    desk.scan("D000001");
    // A wrong PIN sends the cursor back to the PIN, not the name: the right PIN
    // typed next signs in.
    desk.screenshot("window-hands-sign-in-scan.png");
    desk.sign_in("demo-clerk", "000000");
    desk.screenshot("window-hands-wrong-pin.png");
    desk.xdotool(&["type", "--delay", "80", "111111"]);
    desk.key("Return");
    std::thread::sleep(Duration::from_secs(2));
    desk.wait_for_rows(
        "SELECT event || ' ' || COALESCE(user_name, '') FROM audit_log WHERE event LIKE 'sign-in%' ORDER BY seq",
        &["sign-in-failed demo-clerk", "sign-in demo-clerk"],
    );
    // The open-batch form: a container label scanned fills the container; the
    // first envelope of the tray opens the batch and is recorded in it.
    desk.scan("TRAY-9");
    desk.scan("D000001");
    desk.wait_for_rows(EVENTS, &["D000001 accepted wedge:keyboard"]);
    assert_eq!(
        desk.rows("SELECT container_id FROM batches"),
        ["TRAY-9"],
        "the label, not the envelope, is the container"
    );
    // Capitals inside a code: the Shift a wedge sends around them is part of it.
    desk.scan("AB000401");
    // A person typing 40 ms a key into the manual field: keyed in, not scanned.
    desk.type_slowly("D000002");
    desk.key("Return");
    desk.wait_for_rows(
        EVENTS,
        &[
            "D000001 accepted wedge:keyboard",
            "AB000401 unknown wedge:keyboard",
            "D000002 accepted keyed",
        ],
    );
    // Closing: the count is blind; an envelope scanned into the count field is
    // taken back out (and not recorded); a count that differs gets a recount.
    desk.key("F2");
    desk.type_slowly("3");
    desk.scan("D000005");
    desk.key("Return");
    desk.screenshot("window-hands-recount.png");
    desk.type_slowly("3");
    desk.key("Tab");
    desk.type_slowly("demo-supervisor");
    desk.key("Tab");
    desk.type_slowly("999999");
    desk.key("Return");
    std::thread::sleep(Duration::from_secs(2));
    desk.screenshot("window-hands-discrepancy.png");
    desk.wait_for_rows(
        "SELECT status || ' ' || declared_count FROM batches",
        &["discrepancy 3"],
    );
    assert_eq!(
        desk.rows(EVENTS).len(),
        3,
        "the scan into the count was not recorded"
    );
    // The verifier's PIN is a confirmation, not a sign-in.
    assert_eq!(
        desk.rows(
            "SELECT user_name FROM audit_log WHERE event = 'second-person-confirmed' ORDER BY seq"
        ),
        ["demo-supervisor"]
    );
    // Signing out is audited.
    desk.key("F12");
    desk.wait_for_rows(
        "SELECT user_name FROM audit_log WHERE event = 'sign-out'",
        &["demo-clerk"],
    );
}

#[test]
fn a_drop_box_received_before_the_deadline_is_dated_with_a_supervisor() {
    let _one = one_at_a_time();
    let desk = Desktop::start(1, |_| {});
    desk.sign_in("demo-clerk", "111111");
    let tz = chrono_tz::America::Denver;
    let thirty_ago = (chrono::Utc::now() - chrono::Duration::minutes(30))
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    // Container, seals, received at (30 minutes ago: a supervisor confirms).
    desk.type_slowly("DROPBOX-3");
    desk.key("Tab");
    desk.key("Tab");
    desk.type_slowly(&thirty_ago);
    desk.key("Tab");
    desk.type_slowly("demo-supervisor");
    desk.key("Tab");
    desk.type_slowly("999999");
    desk.screenshot("window-hands-received-at.png");
    desk.key("Return");
    std::thread::sleep(Duration::from_secs(2));
    let received = desk.rows("SELECT received_at FROM batches");
    assert_eq!(received.len(), 1, "one batch opened");
    assert!(!received[0].is_empty(), "its receipt time recorded");
    desk.wait_for_rows(
        "SELECT user_name FROM audit_log WHERE event = 'second-person-confirmed'",
        &["demo-supervisor"],
    );
}

#[test]
fn a_supervisor_resolves_a_discrepancy_without_opening_a_batch_and_a_scan_commits_no_note() {
    let _one = one_at_a_time();
    let desk = Desktop::start(2, |_| {});
    // A discrepancy batch closed at another terminal of the station.
    cli(
        &desk,
        &["batch", "open", "--user", "demo-clerk"],
        "111111",
        "",
    );
    cli(
        &desk,
        &[
            "batch",
            "close",
            "--user",
            "demo-clerk",
            "--verifier",
            "demo-supervisor",
            "--count",
            "3",
        ],
        "111111",
        "999999",
    );
    let batch = desk.rows("SELECT CAST(batch_id AS TEXT) FROM batches")[0].clone();
    desk.sign_in("demo-admin", "555555");
    // From the open-batch form, F6: no receiving batch is opened for this.
    desk.key("F6");
    desk.type_slowly(&batch);
    desk.key("Tab");
    desk.type_slowly("tray had");
    // An envelope scanned in the middle of the note: nothing resolved, nothing
    // recorded, and its keys are not in the note.
    desk.scan("D000123");
    assert_eq!(
        desk.rows(
            "SELECT status FROM batches WHERE batch_id = (SELECT MIN(batch_id) FROM batches)"
        ),
        ["discrepancy"]
    );
    desk.type_slowly(" a flyer");
    desk.key("Return");
    desk.wait_for_rows(
        "SELECT status || ': ' || resolution_note FROM batches",
        &["resolved: tray had a flyer"],
    );
    assert!(desk.rows(EVENTS).is_empty());
    desk.key("Escape");
    assert_eq!(
        desk.rows("SELECT CAST(batch_id AS TEXT) FROM batches"),
        [batch],
        "no batch opened"
    );
}

#[test]
fn flags_take_capitals_and_a_ctrl_digit_leaves_the_note_alone() {
    let _one = one_at_a_time();
    let desk = Desktop::start(3, |_| {});
    desk.sign_in("demo-supervisor", "999999");
    desk.key("Return"); // the open-batch form: no container
    // Undeliverable mode: NOPE2 (Shift around four capitals) is one scan, refused
    // on the banner and in the audit log.
    desk.key("F3");
    desk.scan("NOPE2");
    desk.wait_for_rows(
        "SELECT json_extract(detail, '$.barcode') FROM audit_log WHERE event = 'flag-refused'",
        &["NOPE2"],
    );
    desk.key("Escape");
    // Needs attention: a note, Ctrl+5 (Other), an envelope: the note is the note.
    desk.key("F4");
    desk.type_slowly("torn");
    desk.key("ctrl+5");
    desk.scan("D000030");
    desk.screenshot("window-hands-needs-attention.png");
    desk.wait_for_rows(
        "SELECT reason FROM events WHERE kind = 'needs_attention'",
        &["other: torn"],
    );
}

#[test]
fn ctrl_p_leaves_a_note_ending_in_p_whole() {
    // Ctrl with a letter reaches a text field as a control character, which it
    // drops; the window took the letter back anyway and cut the note's own last
    // letter: "found a clip" was resolved as "found a cli".
    let _one = one_at_a_time();
    let desk = Desktop::start(4, |_| {});
    cli(
        &desk,
        &["batch", "open", "--user", "demo-clerk"],
        "111111",
        "",
    );
    cli(
        &desk,
        &[
            "batch",
            "close",
            "--user",
            "demo-clerk",
            "--verifier",
            "demo-supervisor",
            "--count",
            "2",
        ],
        "111111",
        "999999",
    );
    let batch = desk.rows("SELECT CAST(batch_id AS TEXT) FROM batches")[0].clone();
    // Not the supervisor who verified the close: another one resolves it.
    desk.sign_in("demo-admin", "555555");
    desk.key("F6");
    desk.type_slowly(&batch);
    desk.key("Tab");
    desk.type_slowly("found a clip");
    desk.key("ctrl+p");
    std::thread::sleep(Duration::from_secs(2));
    desk.key("Return");
    desk.wait_for_rows(
        "SELECT status || ': ' || resolution_note FROM batches",
        &["resolved: found a clip"],
    );
}
