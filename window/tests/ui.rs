//! The desktop application's screens, headless: iced_test's simulator for the forms,
//! and `App::update` driven as the runtime would, every task it returns run through
//! the real ledger thread until its answer is back on screen. The ledger is read
//! afterwards to see what was recorded.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::intake::{Outcome, Receipt};
use ballot_intake_core::ledger::{BatchStatus, MASKED, ScanInput, UspsReason};
use ballot_intake_window::app::{Message, Page, PageMessage, Screen, Shortcut};
use ballot_intake_window::screen::flag::{self, Kind};
use ballot_intake_window::screen::{
    audit, batches, close_batch, dashboard, import, open_batch, review, scan, sign_in,
};
use ballot_intake_window::sound::Cue;
use iced::keyboard::key::Named;
use iced_test::selector::id;
use iced_test::simulator;
use std::time::{Duration, Instant};

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{Rig, demo_ledger, header, station};

/// The rows the ledger holds: barcode, outcome (or flag kind) and source.
fn events(rig: &Rig) -> Vec<(String, String, String)> {
    rusqlite::Connection::open(rig.path())
        .unwrap()
        .prepare("SELECT normalized, COALESCE(outcome, kind), source FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn row(code: &str, outcome: &str, source: &str) -> (String, String, String) {
    (code.into(), outcome.into(), source.into())
}

/// Seeds scans straight into the ledger (as another session at this station did).
fn seed(rig: &Rig, user: &str, pin: &str, codes: &[&str]) -> i64 {
    let mut ledger = rig.ledger();
    let u = ledger.sign_in(user, pin, chrono::Utc::now()).unwrap();
    let batch = ledger.open_or_current_batch(&u).unwrap();
    for code in codes {
        let input = ScanInput {
            raw: code.as_bytes(),
            source: "test",
            symbology: None,
            at: chrono::Utc::now(),
            original_len: None,
        };
        ledger.record_scan(&u, batch.batch_id, &input).unwrap();
    }
    batch.batch_id
}

#[test]
fn sign_in_by_keyboard_alone() {
    let mut rig = Rig::new(None);
    let mut form = sign_in::State::new(Some("Demo users: demo-clerk (PIN 111111)".into()));
    let mut ui = simulator(form.view());
    ui.find("Demo users: demo-clerk (PIN 111111)").unwrap();
    ui.click(id(sign_in::USER_FIELD)).unwrap();
    let _ = ui.typewrite("demo-clerk");
    ui.click(id(sign_in::PIN_FIELD)).unwrap();
    let _ = ui.typewrite("111111");
    // The field itself submits nothing on Enter (a scanner's Enter must not): the
    // application asks which field has focus and the screen says what Enter does.
    let _ = ui.tap_key(Named::Enter);
    let messages: Vec<sign_in::Message> = ui.into_messages().collect();
    assert!(!messages.contains(&sign_in::Message::Submit));
    // The same keystrokes into the application: the ledger checks the PIN, and a
    // clerk with no open batch gets the open-batch form.
    for m in messages {
        rig.send(Message::SignIn(m.clone()));
        let _ = form.update(m, &station(&rig.dir));
    }
    rig.enter(sign_in::PIN_FIELD);
    assert!(matches!(rig.app.screen(), Screen::OpenBatch(_)));
}

#[test]
fn a_wrong_pin_is_said_plainly_and_the_pin_is_not_kept() {
    let mut rig = Rig::new(None);
    rig.send(Message::SignIn(sign_in::Message::Submit));
    simulator(rig.app.view())
        .find("Type your name and your PIN.")
        .unwrap();
    rig.sign_in("demo-clerk", "000000");
    let Screen::SignIn(state) = rig.app.screen() else {
        panic!("still signing in")
    };
    assert!(!state.busy);
    simulator(rig.app.view())
        .find("wrong name or PIN for \"demo-clerk\"; after 5 wrong PINs in a row the account is locked")
        .unwrap();
    // The PIN field was emptied: Enter alone asks for it again.
    rig.send(Message::SignIn(sign_in::Message::Submit));
    simulator(rig.app.view())
        .find("Type your name and your PIN.")
        .unwrap();
}

#[test]
fn open_batch_form_submits_on_enter_and_scanning_starts() {
    let mut rig = Rig::new(None);
    rig.sign_in("demo-clerk", "111111");
    let Screen::OpenBatch(form) = rig.app.screen() else {
        panic!("the open-batch form")
    };
    let mut ui = simulator(form.view());
    ui.click(id(open_batch::CONTAINER_FIELD)).unwrap();
    let _ = ui.typewrite("TRAY-7");
    let _ = ui.tap_key(Named::Enter);
    for m in ui.into_messages().collect::<Vec<_>>() {
        rig.send(Message::OpenBatch(m));
    }
    rig.enter(open_batch::CONTAINER_FIELD);
    assert_eq!(rig.scan().batch.container_id.as_deref(), Some("TRAY-7"));
    assert_eq!(rig.scan().user.name, "demo-clerk");
}

#[test]
fn every_outcome_has_its_own_word_and_instruction_on_the_banner() {
    // Drawn from hand-made results: a late or wrong-election envelope cannot be
    // produced on a demo station two weeks before its election.
    let (dir, mut ledger) = demo_ledger();
    let station = station(&dir);
    let user = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&user).unwrap();
    let words = [
        (Outcome::Accepted, "✔  ACCEPTED", "Put in tray"),
        (
            Outcome::Duplicate,
            "✖  DUPLICATE",
            "SET ASIDE: already received 11/02 10:14 at station 2, batch 17",
        ),
        (
            Outcome::Voided,
            "✖  REPLACED",
            "SET ASIDE: replaced or surrendered ballot",
        ),
        (
            Outcome::WrongElection,
            "✖  WRONG ELECTION",
            "SET ASIDE: ballot of another election",
        ),
        (Outcome::Unknown, "✖  UNKNOWN", "SET ASIDE: no such ballot"),
        (Outcome::Invalid, "↻  RESCAN", "RESCAN: unreadable barcode"),
        (
            Outcome::Late,
            "✖  LATE",
            "SET ASIDE: received after the deadline",
        ),
    ];
    let mut seen_words = std::collections::HashSet::new();
    for (outcome, word, line) in words {
        let mut state = scan::State::new(user.clone(), batch.clone());
        let mut r = ui_common::scan_result(outcome);
        r.instruction = line.into();
        if outcome == Outcome::Duplicate {
            r.first_receipt = Some(Receipt {
                event_seq: 1,
                at: chrono::Utc::now(),
                station: "2".into(),
                batch: Some(17),
            });
        }
        let (_, event) = state.update(scan::Message::Recorded(Box::new(Ok(r))), &station);
        assert_eq!(event, Some(scan::Event::Sound(Cue::for_outcome(outcome))));
        let mut ui = simulator(state.view(&header(), &scan::Live::default()));
        ui.find(word)
            .unwrap_or_else(|e| panic!("{outcome}: {word}: {e:?}"));
        ui.find(line)
            .unwrap_or_else(|e| panic!("{outcome}: {line}: {e:?}"));
        assert!(seen_words.insert(word), "each outcome has its own word");
        assert_eq!(state.accepted, i64::from(outcome == Outcome::Accepted));
    }
}

#[test]
fn a_scan_the_ledger_could_not_record_says_not_recorded() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    // The ledger file is made read-only underneath the station: the commit fails.
    let conn = rusqlite::Connection::open(rig.path()).unwrap();
    conn.execute_batch("PRAGMA query_only = 0; BEGIN EXCLUSIVE;")
        .unwrap();
    let started = Instant::now();
    rig.keys("D000001\n", Instant::now(), 2);
    let state = rig.scan();
    assert!(state.banner().is_none(), "nothing shown as recorded");
    assert_eq!(state.pending, 0);
    assert!(started.elapsed() < Duration::from_secs(30));
    let view = format!("{:?}", rig.app.last_cue());
    assert_eq!(view, "Some(SetAside)");
    simulator(rig.app.view())
        .find(format!(
            "NOT RECORDED: {}. Scan the envelope again.",
            ballot_intake_core::ledger::LedgerError::Busy
        ))
        .unwrap();
    conn.execute_batch("ROLLBACK").unwrap();
    assert!(events(&rig).is_empty());
}

#[test]
fn wedge_bursts_are_scans_and_typing_is_not() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    let t = rig.keys("D000001\n", Instant::now(), 2);
    // The same burst again at once is a double read, not a second envelope.
    let t = rig.keys("D000001\n", t + Duration::from_millis(10), 2);
    // A person typing an id slowly into the manual field (the field's own messages
    // carry the text): the Enter submits it as keyed in, not as a scan.
    rig.send(Message::Scan(scan::Message::Manual("D000002".into())));
    let t = rig.keys("D000002\n", t + Duration::from_secs(1), 120);
    rig.enter(scan::MANUAL_FIELD);
    std::thread::sleep(Duration::from_millis(800));
    rig.keys("D000003\n", t + Duration::from_secs(2), 2);
    assert_eq!(
        events(&rig),
        [
            row("D000001", "accepted", "wedge:keyboard"),
            row("D000002", "accepted", "keyed"),
            row("D000003", "voided", "wedge:keyboard"),
        ]
    );
    let state = rig.scan();
    assert_eq!(state.pending, 0, "every answer came back");
    assert_eq!(state.accepted, 2);
    assert_eq!(state.banner().unwrap().outcome, Outcome::Voided);
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
    simulator(rig.app.view()).find("✖  REPLACED").unwrap();
}

#[test]
fn a_clerks_supervisor_key_says_why_nothing_opened() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    rig.press(Shortcut::Function(5));
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
    simulator(rig.app.view())
        .find("That key opens a screen for a supervisor: ask one to sign in at this station.")
        .unwrap();
    rig.press(Shortcut::Function(3));
    assert!(
        rig.app.page().is_none(),
        "no undeliverable mode for a clerk"
    );
}

#[test]
fn close_batch_by_two_people_from_the_keyboard() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    let batch = rig.scan().batch.batch_id;
    // F2 opens the form; Esc goes back; F2 again.
    rig.press(Shortcut::Function(2));
    assert!(matches!(rig.page(), Page::CloseBatch(_)));
    rig.press(Shortcut::Back);
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
    rig.press(Shortcut::Function(2));
    // A blind count: the form does not say how many the station accepted.
    assert!(
        simulator(rig.app.view())
            .find("The station accepted 0 envelopes into this batch.")
            .is_err()
    );
    // Counted 2 (the station has 0): one recount, which says 2 again.
    for m in [
        close_batch::Message::Count("2".into()),
        close_batch::Message::Verifier("demo-supervisor".into()),
        close_batch::Message::Pin("999999".into()),
        close_batch::Message::Submit,
    ] {
        rig.send(Message::Page(PageMessage::CloseBatch(m)));
    }
    let Page::CloseBatch(form) = rig.page() else {
        panic!("a recount, not a close")
    };
    assert!(form.recounting);
    assert_eq!(rig.ledger().batch(batch).unwrap().status, BatchStatus::Open);
    simulator(rig.app.view())
        .find("RECOUNT: count the envelopes in the tray again")
        .unwrap();
    for m in [
        close_batch::Message::Count("2".into()),
        close_batch::Message::Submit,
    ] {
        rig.send(Message::Page(PageMessage::CloseBatch(m)));
    }
    // Declared 2, accepted 0: a discrepancy, said plainly on the next tray's form.
    let closed = rig.ledger().batch(batch).unwrap();
    assert_eq!(closed.status, BatchStatus::Discrepancy);
    assert_eq!(closed.verified_by.as_deref(), Some("demo-supervisor"));
    assert!(matches!(rig.app.screen(), Screen::OpenBatch(_)));
    simulator(rig.app.view())
        .find(format!(
            "DISCREPANCY: batch {batch} closed with 2 counted and 0 accepted. It goes to a supervisor."
        ))
        .unwrap();
}

#[test]
fn closing_with_a_wrong_verifier_pin_stays_on_the_form() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    rig.press(Shortcut::Function(2));
    for m in [
        close_batch::Message::Count("0".into()),
        close_batch::Message::Verifier("demo-supervisor".into()),
        close_batch::Message::Pin("123456".into()),
        close_batch::Message::Submit,
    ] {
        rig.send(Message::Page(PageMessage::CloseBatch(m)));
    }
    let Page::CloseBatch(form) = rig.page() else {
        panic!("still closing")
    };
    assert!(!form.busy);
    assert!(
        form.error
            .as_deref()
            .unwrap()
            .starts_with("wrong name or PIN for \"demo-supervisor\""),
        "{:?}",
        form.error
    );
    assert_eq!(
        rig.ledger()
            .batch(rig.scan().batch.batch_id)
            .unwrap()
            .status,
        BatchStatus::Open
    );
}

#[test]
fn idle_sign_out() {
    let mut rig = Rig::new(Some(Duration::from_millis(200)));
    rig.scanning("demo-clerk", "111111");
    std::thread::sleep(Duration::from_millis(250));
    rig.send(Message::Tick);
    let Screen::SignIn(state) = rig.app.screen() else {
        panic!("signed out when idle")
    };
    assert_eq!(
        state.error.as_deref(),
        Some("Signed out after a time without activity.")
    );
}

#[test]
fn undeliverable_mode_flags_with_the_chosen_endorsement() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(3));
    simulator(rig.app.view())
        .find("UNDELIVERABLE MODE: returned outbound packets (Esc: back to receiving)")
        .unwrap();
    // Ctrl+3 chooses "Vacant"; Ctrl+Down then Ctrl+Up come back to it.
    rig.press(Shortcut::Pick(3));
    rig.press(Shortcut::Next);
    rig.press(Shortcut::Previous);
    let Page::Flag(state) = rig.page() else {
        panic!("undeliverable mode")
    };
    assert_eq!(
        (state.kind, state.usps),
        (Kind::Undeliverable, UspsReason::Vacant)
    );
    rig.keys("D000010\n", Instant::now(), 2);
    let ledger = rig.ledger();
    let reason: String = rusqlite::Connection::open(rig.path())
        .unwrap()
        .query_row(
            "SELECT reason FROM events WHERE kind = 'undeliverable'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(ledger);
    assert_eq!(reason, "vacant");
    // The ledger's answer is on the banner, with the recorded sound.
    simulator(rig.app.view())
        .find("Vacant: ballot D000010")
        .unwrap();
    assert_eq!(rig.app.last_cue(), Some(Cue::Accepted));
    let Page::Flag(state) = rig.page() else {
        panic!()
    };
    assert_eq!(state.pending, 0);
    rig.press(Shortcut::Back);
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
}

#[test]
fn undeliverable_is_refused_for_a_ballot_already_received() {
    let mut rig = Rig::new(None);
    seed(&rig, "demo-clerk", "111111", &["D000011"]);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(3));
    rig.keys("D000011\n", Instant::now(), 2);
    simulator(rig.app.view()).find("✖  NOT FLAGGED").unwrap();
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
    let Page::Flag(state) = rig.page() else {
        panic!()
    };
    assert_eq!(state.pending, 0, "a refusal is an answer too");
}

#[test]
fn needs_attention_mode_flags_with_reason_and_note() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(4));
    let Page::Flag(state) = rig.page() else {
        panic!("needs-attention mode")
    };
    assert_eq!(state.kind, Kind::NeedsAttention);
    // Ctrl+5: "Other"; the note field holds the note and, as a wedge types into the
    // focused field, the scanned code too, which is taken back out.
    rig.press(Shortcut::Pick(5));
    rig.send(Message::Page(PageMessage::Flag(flag::Message::Note(
        "torn flapD000030".into(),
    ))));
    rig.keys("D000030\n", Instant::now(), 2);
    let reason: String = rusqlite::Connection::open(rig.path())
        .unwrap()
        .query_row(
            "SELECT reason FROM events WHERE kind = 'needs_attention'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "other: torn flap");
    let Page::Flag(state) = rig.page() else {
        panic!()
    };
    assert_eq!((state.note.as_str(), state.pending), ("torn flap", 0));
    let mut ui = simulator(rig.app.view());
    ui.find("NEEDS ATTENTION: envelopes the voter must cure (Esc: back to receiving)")
        .unwrap();
    ui.find("Other (see note): torn flap: ballot D000030")
        .unwrap();
    drop(ui);
    rig.press(Shortcut::Back);
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
}

#[test]
fn review_finds_a_scanned_envelope_and_masks_a_confidential_voter() {
    let mut rig = Rig::new(None);
    seed(&rig, "demo-supervisor", "999999", &["D000004", "D000004"]);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(5));
    // Scanning the envelope looks it up; one match opens its history.
    rig.keys("D000004\n", Instant::now(), 2);
    let mut ui = simulator(rig.app.view());
    // D000004's voter is confidential in the demo file: masked.
    ui.find(format!(
        "▶ Ctrl+1  D000004  V0000004  {MASKED}  {MASKED}  ACTIVE"
    ))
    .unwrap();
    ui.find(format!("History of ballot D000004 {MASKED}"))
        .unwrap();
}

#[test]
fn review_reverses_an_event_with_a_reason() {
    let mut rig = Rig::new(None);
    seed(&rig, "demo-supervisor", "999999", &["D000004", "D000004"]);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(5));
    let review = |m| Message::Page(PageMessage::Review(m));
    rig.send(review(review::Message::Query("D000004".into())));
    rig.send(review(review::Message::Search));
    let pk = rig.ledger().find_ballots("D000004").unwrap()[0].ballot_pk;
    let dup = rig.ledger().ballot_history(pk).unwrap()[1].seq;
    rig.send(review(review::Message::Seq(dup.to_string())));
    rig.send(review(review::Message::Reason("fed twice".into())));
    rig.send(review(review::Message::Reverse));
    let h = rig.ledger().ballot_history(pk).unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[1].reversed_by, Some(h[2].seq));
    assert_eq!(h[2].user, "demo-supervisor");
    let mut ui = simulator(rig.app.view());
    ui.find(format!("Event #{} reverses #{dup}: fed twice", h[2].seq))
        .unwrap();
    drop(ui);
    // An event not in this ballot's history is refused before the ledger is asked.
    rig.send(review(review::Message::Seq("99999".into())));
    rig.send(review(review::Message::Reason("x".into())));
    rig.send(review(review::Message::Reverse));
    simulator(rig.app.view())
        .find("Event #99999 is not in this ballot's history.")
        .unwrap();
    assert_eq!(rig.ledger().ballot_history(pk).unwrap().len(), 3);
}

#[test]
fn review_says_when_nothing_matches() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(5));
    rig.send(Message::Page(PageMessage::Review(review::Message::Query(
        "NOPE-1".into(),
    ))));
    rig.send(Message::Page(PageMessage::Review(review::Message::Search)));
    simulator(rig.app.view())
        .find("No ballot matches \"NOPE-1\".")
        .unwrap();
}

#[test]
fn batches_screen_lists_and_resolves_a_discrepancy() {
    let mut rig = Rig::new(None);
    let b = {
        let mut ledger = rig.ledger();
        let clerk = ledger
            .sign_in("demo-clerk", "111111", chrono::Utc::now())
            .unwrap();
        let sup = ledger
            .sign_in("demo-supervisor", "999999", chrono::Utc::now())
            .unwrap();
        let b = ledger.open_or_current_batch(&clerk).unwrap();
        ledger.close_batch(b.batch_id, &clerk, &sup, 3).unwrap();
        b.batch_id
    };
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(6));
    simulator(rig.app.view())
        .find(format!(
            "#{b}  DISCREPANCY  opened by demo-clerk: 0 accepted, 3 counted, verified by demo-supervisor"
        ))
        .unwrap();
    for m in [
        batches::Message::Number(b.to_string()),
        batches::Message::Note("three envelopes were for another county".into()),
        batches::Message::Resolve,
    ] {
        rig.send(Message::Page(PageMessage::Batches(m)));
    }
    assert_eq!(rig.ledger().batch(b).unwrap().status, BatchStatus::Resolved);
    let mut ui = simulator(rig.app.view());
    ui.find(format!("Batch {b} resolved.")).unwrap();
    // The list was loaded again from the ledger.
    ui.find(format!(
        "#{b}  RESOLVED  opened by demo-clerk: 0 accepted, 3 counted, verified by demo-supervisor, resolved: three envelopes were for another county"
    ))
    .unwrap();
    drop(ui);
    rig.press(Shortcut::Back);
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
}

#[test]
fn audit_viewer_filters_and_verifies_the_chain() {
    let mut rig = Rig::new(None);
    let _ = rig
        .ledger()
        .sign_in("demo-clerk", "000000", chrono::Utc::now());
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(7));
    rig.send(Message::Page(PageMessage::Audit(audit::Message::Verify)));
    rig.send(Message::Page(PageMessage::Audit(audit::Message::Filter(
        "sign-in-failed".into(),
    ))));
    let Page::Audit(state) = rig.page() else {
        panic!("audit")
    };
    let report = state.verified().unwrap().as_ref().unwrap().clone();
    assert!(report.ok());
    // The entries were loaded again after the check (which is itself logged).
    let total = rig.ledger().recent_audit(audit::SHOWN).unwrap().len();
    let mut ui = simulator(rig.app.view());
    ui.find(format!(
        "Chain intact: {} entries, {} events; head {}",
        report.audit_rows, report.events, report.head_hash
    ))
    .unwrap();
    // The filter leaves only the failed sign-in.
    ui.find(format!("1 of the newest {total} entries")).unwrap();
}

#[test]
fn dashboard_counts_today_the_election_hours_batches_and_users() {
    let mut rig = Rig::new(None);
    let batch = seed(
        &rig,
        "demo-supervisor",
        "999999",
        &["D000001", "D000001", "D000003", "NOPE"],
    );
    let d = rig.ledger().dashboard(chrono::Utc::now()).unwrap();
    assert_eq!(d.today["accepted"], 1);
    assert_eq!(d.election["duplicate"], 1);
    assert_eq!(d.election["voided"], 1);
    assert_eq!(d.election["unknown"], 1);
    assert_eq!(d.per_hour.iter().map(|h| h.1).sum::<i64>(), 4);
    assert_eq!(d.per_batch, [(batch, 4, 1)]);
    assert_eq!(d.per_user, [("demo-supervisor".to_string(), 4, 1)]);
    // The charts' numbers: one receipt this hour, none yesterday; the batch's four
    // entries by what they came to.
    let hours: Vec<(i64, i64)> = d
        .receipts_by_hour
        .iter()
        .map(|h| (h.today, h.yesterday))
        .collect();
    assert_eq!(hours, [(1, 0)]);
    let (b, counts) = &d.batch_outcomes[0];
    assert_eq!(*b, batch);
    let tally = dashboard::charts::BatchTally::of(counts);
    assert_eq!((tally.accepted, tally.set_aside, tally.reversed), (1, 3, 0));
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(8));
    let mut ui = simulator(rig.app.view());
    ui.find(format!("batch {:<5} {:>6} {:>6}", batch, 4, 1))
        .unwrap();
    ui.find(format!("{:<16} {:>6} {:>6}", "demo-supervisor", 4, 1))
        .unwrap();
    drop(ui);
    // It reads the numbers again every few seconds.
    seed(&rig, "demo-supervisor", "999999", &["D000002"]);
    for _ in 0..dashboard::REFRESH_TICKS {
        rig.send(Message::Tick);
    }
    simulator(rig.app.view())
        .find(format!("batch {:<5} {:>6} {:>6}", batch, 5, 2))
        .unwrap();
}

#[test]
fn a_scan_on_a_page_that_takes_none_is_not_recorded_and_the_strip_says_so() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(8));
    rig.keys("D000005\n", Instant::now(), 2);
    let note =
        "NOT RECORDED: barcode D000005. Press Esc to go back to scanning, then scan it again.";
    simulator(rig.app.view()).find(note).unwrap();
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
    assert!(events(&rig).is_empty());
    rig.press(Shortcut::Back);
    assert!(simulator(rig.app.view()).find(note).is_err());
}

#[test]
fn import_screen_runs_the_import_on_the_ledger_thread() {
    let mut rig = Rig::new(None);
    let before = rig.ledger().status().unwrap().ballots;
    let good = rig.dir.path().join("more.csv");
    std::fs::write(
        &good,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n\
         DEMO,D900001,V9000001,Added,Ann,80202,101,S1,ACTIVE,N\n",
    )
    .unwrap();
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(9));
    rig.send(Message::Page(PageMessage::Import(import::Message::Path(
        good.display().to_string(),
    ))));
    // The import's task is held back a moment, as a long import would be.
    let running = rig
        .app
        .update(Message::Page(PageMessage::Import(import::Message::Import)));
    let Page::Import(state) = rig.page() else {
        panic!("import")
    };
    assert!(state.busy());
    // Esc does not leave a running import.
    rig.press(Shortcut::Back);
    assert!(matches!(rig.page(), Page::Import(_)));
    ui_common::drive(&mut rig.app, running);
    let Page::Import(state) = rig.page() else {
        panic!()
    };
    assert!(!state.busy());
    assert_eq!(rig.ledger().status().unwrap().ballots, before + 1);
    let summary = format!(
        "Imported {} into DEMO: 1 rows read, 1 added, 0 updated, 0 unchanged",
        good.file_name().unwrap().to_string_lossy()
    );
    let starts = move |c: iced_test::selector::Candidate<'_>| match c {
        iced_test::selector::Candidate::Text { content, .. } if content.starts_with(&summary) => {
            Some(())
        }
        _ => None,
    };
    simulator(rig.app.view())
        .find(starts)
        .expect("the summary is shown");
}

#[test]
fn import_screen_lists_a_refused_files_errors_by_line_and_column() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(9));
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/mail-ballots/bad-flag.csv"
    );
    rig.send(Message::Page(PageMessage::Import(import::Message::Path(
        bad.into(),
    ))));
    rig.send(Message::Page(PageMessage::Import(import::Message::Import)));
    simulator(rig.app.view())
        .find("line 2, column election_id: ballot of election \"2026-GEN\", but the active election is \"DEMO\"; refusing the whole file")
        .unwrap();
}

#[test]
fn a_fast_pin_or_a_scan_on_the_sign_in_screen_is_never_shown() {
    let mut rig = Rig::new(None);
    rig.send(Message::SignIn(sign_in::Message::Pin("111111".into())));
    // A PIN and Enter arriving as fast as a scanner (a busy window catches up on
    // keys in a burst): taken back out of the field, and never shown.
    rig.keys("111111\n", Instant::now(), 2);
    let notice = rig.app.notice().unwrap();
    assert_eq!(
        notice,
        "NOT RECORDED: a barcode read on the sign-in screen. Sign in and open a batch, then scan it again."
    );
    assert!(!notice.contains("111111"));
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
    assert!(events(&rig).is_empty());
}

#[test]
fn an_envelope_scanned_on_the_open_batch_form_opens_the_batch_and_is_recorded() {
    let mut rig = Rig::new(None);
    rig.sign_in("demo-clerk", "111111");
    // A container's label scanned: it becomes the container id, nothing recorded.
    rig.keys("DROPBOX-12\n", Instant::now(), 2);
    assert!(matches!(rig.app.screen(), Screen::OpenBatch(_)));
    assert!(events(&rig).is_empty());
    // The first envelope of the tray: the batch opens with the label, and the
    // envelope is recorded in it, its result on the banner.
    rig.keys("D000001\n", Instant::now() + Duration::from_secs(1), 2);
    let state = rig.scan();
    assert_eq!(state.batch.container_id.as_deref(), Some("DROPBOX-12"));
    assert_eq!(state.banner().unwrap().outcome, Outcome::Accepted);
    assert_eq!(state.accepted, 1);
    assert_eq!(events(&rig), [row("D000001", "accepted", "wedge:keyboard")]);
    assert_eq!(rig.app.notice(), None);
    // F12 signs out.
    rig.press(Shortcut::Function(12));
    assert!(matches!(rig.app.screen(), Screen::SignIn(_)));
}

#[test]
fn signing_back_in_shows_the_batchs_last_scans() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    let t = rig.keys("D000001\n", Instant::now(), 2);
    rig.keys("D000003\n", t + Duration::from_secs(1), 2);
    rig.press(Shortcut::Function(12));
    rig.scanning("demo-clerk", "111111");
    let mut ui = simulator(rig.app.view());
    let listed = |outcome: &'static str, code: &'static str| {
        move |c: iced_test::selector::Candidate<'_>| match c {
            iced_test::selector::Candidate::Text { content, .. }
                if content.contains(outcome) && content.ends_with(code) =>
            {
                Some(())
            }
            _ => None,
        }
    };
    ui.find(listed("accepted", "D000001")).unwrap();
    ui.find(listed("voided", "D000003")).unwrap();
}

#[test]
fn a_disconnected_scanner_says_why_on_screen() {
    use ballot_intake_core::scanner::{DeviceMessage, Source, SourceKind};
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    let source = Source {
        kind: SourceKind::Serial,
        id: "/dev/ttyACM7".into(),
    };
    rig.send(Message::Device(DeviceMessage::Disconnected {
        source,
        reason: "No such file or directory".into(),
    }));
    simulator(rig.app.view())
        .find("serial:/dev/ttyACM7: DISCONNECTED (No such file or directory)")
        .unwrap();
}

#[test]
fn a_scan_in_the_middle_of_a_reversal_reason_reverses_nothing() {
    let mut rig = Rig::new(None);
    seed(&rig, "demo-supervisor", "999999", &["D000004", "D000004"]);
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(5));
    let review = |m| Message::Page(PageMessage::Review(m));
    rig.send(review(review::Message::Query("D000004".into())));
    rig.enter(review::QUERY_FIELD);
    let pk = rig.ledger().find_ballots("D000004").unwrap()[0].ballot_pk;
    let dup = rig.ledger().ballot_history(pk).unwrap()[1].seq;
    rig.send(review(review::Message::Seq(dup.to_string())));
    // "drop box" typed, then an envelope scanned: the scanner's keys reach the
    // reason field too, and its Enter must not reverse anything.
    rig.send(review(review::Message::Reason("drop boxD000001".into())));
    rig.keys("D000001\n", Instant::now(), 2);
    assert_eq!(rig.ledger().ballot_history(pk).unwrap().len(), 2);
    // The scan looked its own envelope up; the reason kept only what was typed.
    rig.send(review(review::Message::Query("D000004".into())));
    rig.enter(review::QUERY_FIELD);
    rig.send(review(review::Message::Seq(dup.to_string())));
    rig.enter(review::REASON_FIELD);
    let h = rig.ledger().ballot_history(pk).unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[2].reason.as_deref(), Some("drop box"));
}

/// The county hub reported one of this station's receipts as a cross-station
/// duplicate: a red banner over every screen names the tray and the ballot until a
/// supervisor resolves it on the batches screen (F6), with a note.
#[test]
fn a_cross_station_duplicate_is_bannered_until_a_supervisor_resolves_it() {
    use ballot_intake_core::sync::hub::{FirstReceipt, HubConflict};
    // The demo station made a real one syncing to a hub (what `sync setup --hub`
    // leaves), so its receipts enter the outbox.
    let (dir, ledger) = demo_ledger();
    drop(ledger);
    rusqlite::Connection::open(dir.path().join("ledger.sqlite3"))
        .unwrap()
        .execute("UPDATE station SET demo = 0, hub = 1", [])
        .unwrap();
    let mut rig = Rig::on_with(
        dir,
        None,
        ballot_intake_window::station::Header {
            hub: true,
            ..header()
        },
    );
    let tray = seed(&rig, "demo-clerk", "111111", &["D000001", "D000002"]);
    {
        let mut ledger = rig.ledger();
        let sid = ledger.station().station_id.clone();
        let batch = ledger
            .next_sync_batch(chrono::Utc::now(), None)
            .unwrap()
            .unwrap();
        let first_seq: i64 = rusqlite::Connection::open(rig.path())
            .unwrap()
            .query_row(
                "SELECT min(event_seq) FROM outbox WHERE sync_batch = ?1",
                [&batch.batch_id],
                |r| r.get(0),
            )
            .unwrap();
        let conflict = HubConflict {
            event_id: format!("{sid}-{first_seq}"),
            ballot_id: "D000001".into(),
            first: FirstReceipt {
                station_id: "7".into(),
                batch: Some(12),
                occurred_at: "2026-11-03T17:02:00.000000Z".into(),
                event_id: "7-41".into(),
            },
        };
        ledger
            .ack_sync_batch(&batch.batch_id, 2, 0, &[conflict])
            .unwrap();
    }
    // The banner comes with the clock, on any screen, the sign-in screen too.
    rig.send(Message::Tick);
    simulator(rig.app.view())
        .find(format!(
            "PULL FROM TRAY: batch {tray}, ballot D000001, first received at station 7 10:02; supervisor: F6"
        ))
        .unwrap();
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(6));
    let event = rig.ledger().hub_conflicts().unwrap()[0].event_seq;
    simulator(rig.app.view())
        .find(format!(
            "PULL FROM TRAY: batch {tray}, ballot D000001 (event {event}); first received at station 7 batch 12, 11/03 10:02"
        ))
        .unwrap();
    // Enter with no note says what is missing and writes nothing.
    rig.send(Message::Page(PageMessage::Batches(
        batches::Message::Conflict(event.to_string()),
    )));
    rig.enter(batches::CONFLICT_NOTE_FIELD);
    simulator(rig.app.view())
        .find("Say in the note what was done with the envelope.")
        .unwrap();
    rig.send(Message::Page(PageMessage::Batches(
        batches::Message::ConflictNote("pulled, sent to station 7".into()),
    )));
    rig.enter(batches::CONFLICT_NOTE_FIELD);
    simulator(rig.app.view())
        .find(format!("The duplicate of event {event} is resolved."))
        .unwrap();
    let rows = rig.ledger().hub_conflicts().unwrap();
    assert_eq!(
        rows[0].resolution.as_deref(),
        Some("pulled, sent to station 7")
    );
    assert_eq!(rows[0].resolved_by.as_deref(), Some("demo-supervisor"));
    // The banner goes with the next read.
    for _ in 0..5 {
        rig.send(Message::Tick);
    }
    assert!(
        simulator(rig.app.view())
            .find(format!("PULL FROM TRAY: batch {tray}, ballot D000001, first received at station 7 10:02; supervisor: F6"))
            .is_err()
    );
    assert!(rig.ledger().verify().unwrap().ok());
}
