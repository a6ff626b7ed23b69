//! The desktop application's screens, headless (iced_test's simulator, no display),
//! and the keyboard-wedge path through `App::update` with a real ledger thread.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::intake::{Outcome, Receipt};
use ballot_intake_core::ledger::ScanResult;
use ballot_intake_window::app::{App, Message, Over, Screen};
use ballot_intake_window::screen::{open_batch, scan, sign_in};
use ballot_intake_window::worker::LedgerWorker;
use iced::keyboard::key::Named;
use iced_test::selector::id;
use iced_test::simulator;
use std::time::{Duration, Instant};

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{demo_ledger, header, keys};

#[test]
fn sign_in_by_keyboard_alone() {
    let mut state = sign_in::State::new(Some("Demo users: demo-clerk (PIN 111111)".into()));
    let mut ui = simulator(state.view());
    ui.find("Demo users: demo-clerk (PIN 111111)").unwrap();
    ui.click(id(sign_in::USER_FIELD)).unwrap();
    let _ = ui.typewrite("ana");
    ui.click(id(sign_in::PIN_FIELD)).unwrap();
    let _ = ui.typewrite("123456");
    let _ = ui.tap_key(Named::Enter);
    let actions: Vec<sign_in::Action> = ui.into_messages().map(|m| state.update(m)).collect();
    assert_eq!(
        actions.last(),
        Some(&sign_in::Action::SignIn {
            user: "ana".into(),
            pin: "123456".into()
        })
    );
    // A wrong PIN is shown plainly.
    state.failed("wrong PIN for \"ana\" (4 tries left before the account is locked)".into());
    let mut ui = simulator(state.view());
    ui.find("wrong PIN for \"ana\" (4 tries left before the account is locked)")
        .unwrap();
}

#[test]
fn open_batch_form_submits_on_enter() {
    let mut state = open_batch::State::default();
    let mut ui = simulator(state.view());
    ui.click(id(open_batch::CONTAINER_FIELD)).unwrap();
    let _ = ui.typewrite("TRAY-7");
    let _ = ui.tap_key(Named::Enter);
    let actions: Vec<open_batch::Action> = ui.into_messages().map(|m| state.update(m)).collect();
    assert_eq!(
        actions.last(),
        Some(&open_batch::Action::Open {
            container: Some("TRAY-7".into()),
            seals: vec![]
        })
    );
}

fn result(outcome: Outcome, instruction: &str) -> ScanResult {
    let mut r = ui_common::scan_result(outcome);
    r.instruction = instruction.into();
    r
}

#[test]
fn every_outcome_has_its_own_word_and_instruction_on_the_banner() {
    let (_dir, mut ledger) = demo_ledger();
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
        let mut r = result(outcome, line);
        if outcome == Outcome::Duplicate {
            r.first_receipt = Some(Receipt {
                event_seq: 1,
                at: chrono::Utc::now(),
                station: "2".into(),
                batch: Some(17),
            });
        }
        state.update(scan::Message::Recorded(Box::new(Ok(r))));
        let mut ui = simulator(state.view(&header(), &scan::Live::default()));
        ui.find(word)
            .unwrap_or_else(|e| panic!("{outcome}: {word}: {e:?}"));
        ui.find(line)
            .unwrap_or_else(|e| panic!("{outcome}: {line}: {e:?}"));
        assert!(seen_words.insert(word), "each outcome has its own word");
        assert_eq!(state.accepted, i64::from(outcome == Outcome::Accepted));
    }
    // A failure to record is said plainly, never shown as a result.
    let mut state = scan::State::new(user, batch);
    state.update(scan::Message::Recorded(Box::new(Err(
        "the disk holding the ledger is full".into(),
    ))));
    assert!(state.banner().is_none());
    let mut ui = simulator(state.view(&header(), &scan::Live::default()));
    ui.find("NOT RECORDED: the disk holding the ledger is full. Scan the envelope again.")
        .unwrap();
}

#[test]
fn wedge_bursts_are_scans_and_typing_is_not() {
    let (dir, mut ledger) = demo_ledger();
    let user = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&user).unwrap();
    drop(ledger);
    let path = dir.path().join("ledger.sqlite3");
    let worker = LedgerWorker::open(&path).unwrap();
    let (mut app, _) = App::new(worker, header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((user, Some(batch)))));
    assert!(matches!(app.screen(), Screen::Scan(_)));

    // A clerk's F5 opens nothing, and says why.
    let _ = app.update(Message::Shortcut(Named::F5));
    assert!(matches!(app.screen(), Screen::Scan(_)));
    simulator(app.view())
        .find("That key opens a screen for a supervisor: ask one to sign in at this station.")
        .unwrap();
    let t = keys(&mut app, "D000001\n", Instant::now(), 2);
    // The same burst again at once is a double read, not a second envelope.
    let t = keys(&mut app, "D000001\n", t + Duration::from_millis(10), 2);
    // A person typing an id slowly into the manual field (the field's own messages
    // carry the text): the Enter submits it as keyed in, not as a scan.
    let _ = app.update(Message::Scan(scan::Message::Manual("D000002".into())));
    let t = keys(&mut app, "D000002\n", t + Duration::from_secs(1), 120);
    let Screen::Scan(state) = app.screen() else {
        panic!()
    };
    assert_eq!(
        state.pending, 2,
        "one scan and one keyed entry sent to the ledger"
    );
    std::thread::sleep(Duration::from_millis(800));
    keys(&mut app, "D000003\n", t + Duration::from_secs(2), 2);
    // The ledger thread records what was sent (the answers would come back as tasks).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let started = Instant::now();
    loop {
        let rows: Vec<(String, String, String)> = conn
            .prepare("SELECT normalized, outcome, source FROM events ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if rows.len() >= 3 || started.elapsed() > Duration::from_secs(10) {
            assert_eq!(
                rows,
                [
                    (
                        "D000001".to_string(),
                        "accepted".to_string(),
                        "wedge:keyboard".to_string()
                    ),
                    ("D000002".into(), "accepted".into(), "keyed".into()),
                    ("D000003".into(), "voided".into(), "wedge:keyboard".into()),
                ]
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn close_batch_by_two_people_from_the_keyboard_and_idle_sign_out() {
    use ballot_intake_window::screen::close_batch;
    let (dir, mut ledger) = demo_ledger();
    let user = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&user).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let worker = LedgerWorker::open(&path).unwrap();
    let (mut app, _) = App::new(worker, header(), None, Some(Duration::from_millis(200)));
    let _ = app.update(Message::SignedIn(Ok((user, Some(batch.clone())))));
    // F2 opens the form; Escape goes back; F2 again.
    let _ = app.update(Message::Shortcut(Named::F2));
    assert!(matches!(
        app.screen(),
        Screen::Over {
            over: Over::CloseBatch(_),
            ..
        }
    ));
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(matches!(app.screen(), Screen::Scan(_)));
    let _ = app.update(Message::Shortcut(Named::F2));
    for m in [
        close_batch::Message::Count("2".into()),
        close_batch::Message::Verifier("demo-supervisor".into()),
        close_batch::Message::Pin("999999".into()),
        close_batch::Message::Submit,
    ] {
        let _ = app.update(Message::CloseBatch(m));
    }
    // The ledger thread closes it: declared 2, accepted 0 -> discrepancy.
    let started = Instant::now();
    let closed = loop {
        let b = ledger.batch(batch.batch_id).unwrap();
        if b.status != ballot_intake_core::ledger::BatchStatus::Open {
            break b;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not closed");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        closed.status,
        ballot_intake_core::ledger::BatchStatus::Discrepancy
    );
    assert_eq!(closed.verified_by.as_deref(), Some("demo-supervisor"));
    let _ = app.update(Message::BatchClosed(Ok(
        ballot_intake_core::ledger::BatchClose {
            batch: closed,
            discrepancy: true,
        },
    )));
    let Screen::OpenBatch { state, .. } = app.screen() else {
        panic!("the next tray's form follows")
    };
    {
        let mut ui = simulator(state.view());
        ui.find(format!(
            "Batch {} closed with a DISCREPANCY: 2 counted, 0 accepted. It goes to a supervisor.",
            batch.batch_id
        ))
        .unwrap();
    }
    // No key for longer than the idle limit: signed out.
    std::thread::sleep(Duration::from_millis(250));
    let _ = app.update(Message::Tick);
    let Screen::SignIn(state) = app.screen() else {
        panic!("signed out when idle")
    };
    assert_eq!(
        state.error.as_deref(),
        Some("Signed out after a time without activity.")
    );
}

#[test]
fn undeliverable_mode_is_for_supervisors_and_flags_with_the_chosen_endorsement() {
    use ballot_intake_window::screen::undeliverable;
    let (dir, mut ledger) = demo_ledger();
    let clerk = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let clerk_batch = ledger.open_or_current_batch(&clerk).unwrap();
    let sup_batch = ledger.open_or_current_batch(&sup).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    // A clerk's F3 does nothing.
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((clerk, Some(clerk_batch)))));
    let _ = app.update(Message::Shortcut(Named::F3));
    assert!(matches!(app.screen(), Screen::Scan(_)));
    // A supervisor's F3 switches modes; Ctrl+3 chooses "Vacant".
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(sup_batch)))));
    let _ = app.update(Message::Shortcut(Named::F3));
    let Screen::Over {
        over: Over::Undeliverable(state),
        ..
    } = app.screen()
    else {
        panic!("undeliverable mode")
    };
    {
        let mut ui = simulator(state.view());
        ui.find("UNDELIVERABLE MODE: returned outbound packets (Esc: back to receiving)")
            .unwrap();
    }
    let _ = app.update(Message::CtrlDigit(3));
    let Screen::Over {
        over: Over::Undeliverable(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    assert_eq!(state.reason, ballot_intake_core::ledger::UspsReason::Vacant);
    keys(&mut app, "D000010\n", Instant::now(), 2);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let started = Instant::now();
    let flagged = loop {
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT kind, reason FROM events WHERE kind = 'undeliverable'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        if let Some(r) = row {
            break r;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not flagged");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(flagged, ("undeliverable".to_string(), "vacant".to_string()));
    // The answer shows on the banner; Esc goes back to receiving.
    let result = ballot_intake_core::ledger::FlagResult {
        seq: 1,
        kind: "undeliverable".into(),
        ballot_id: "D000010".into(),
        reason: "vacant".into(),
        at: "2026-11-03T17:00:00.000000Z".into(),
        will_sync: false,
    };
    let _ = app.update(Message::Undeliverable(undeliverable::Message::Recorded(
        Box::new(Ok(result)),
    )));
    let Screen::Over {
        over: Over::Undeliverable(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    {
        let mut ui = simulator(state.view());
        ui.find("Vacant: ballot D000010").unwrap();
    }
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(matches!(app.screen(), Screen::Scan(_)));
}

#[test]
fn needs_attention_mode_flags_with_reason_and_note() {
    use ballot_intake_window::screen::needs_attention;
    let (dir, mut ledger) = demo_ledger();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(batch)))));
    let _ = app.update(Message::Shortcut(Named::F4));
    assert!(matches!(
        app.screen(),
        Screen::Over {
            over: Over::NeedsAttention(_),
            ..
        }
    ));
    // Ctrl+5: "Other"; the note field holds the note and, as a wedge types into the
    // focused field, the scanned code too, which is taken back out.
    let _ = app.update(Message::CtrlDigit(5));
    let _ = app.update(Message::NeedsAttention(needs_attention::Message::Note(
        "torn flapD000030".into(),
    )));
    keys(&mut app, "D000030\n", Instant::now(), 2);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let started = Instant::now();
    let reason: String = loop {
        if let Ok(r) = conn.query_row(
            "SELECT reason FROM events WHERE kind = 'needs_attention'",
            [],
            |r| r.get(0),
        ) {
            break r;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not flagged");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(reason, "other: torn flap");
    let Screen::Over {
        over: Over::NeedsAttention(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    assert_eq!(state.note, "torn flap");
    let mut ui = simulator(state.view());
    ui.find("NEEDS ATTENTION: envelopes the voter must cure (Esc: back to receiving)")
        .unwrap();
    drop(ui);
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(matches!(app.screen(), Screen::Scan(_)));
}

#[test]
fn review_screen_finds_shows_history_and_reverses_by_keyboard() {
    use ballot_intake_window::screen::review;
    let (dir, mut ledger) = demo_ledger();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    for code in ["D000004", "D000004"] {
        ledger
            .record_scan(
                &sup,
                batch.batch_id,
                &ballot_intake_core::ledger::ScanInput {
                    raw: code.as_bytes(),
                    source: "test",
                    symbology: None,
                    at: chrono::Utc::now(),
                },
            )
            .unwrap();
    }
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup.clone(), Some(batch)))));
    let _ = app.update(Message::Shortcut(Named::F5));
    assert!(matches!(
        app.screen(),
        Screen::Over {
            over: Over::Review(_),
            ..
        }
    ));
    // The ledger's answers, fed back as the tasks would.
    let found = ledger.find_ballots("D000004").unwrap();
    let _ = app.update(Message::Review(review::Message::Found(Ok(found.clone()))));
    let history = ledger.ballot_history(found[0].ballot_pk).unwrap();
    let _ = app.update(Message::Review(review::Message::History(Ok(
        history.clone()
    ))));
    let Screen::Over {
        over: Over::Review(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    {
        let mut ui = simulator(state.view(chrono_tz::America::Denver));
        // D000004's voter is confidential in the demo file: masked.
        ui.find(format!(
            "▶ Ctrl+1  D000004  V0000004  {}  {}  ACTIVE",
            ballot_intake_core::ledger::MASKED,
            ballot_intake_core::ledger::MASKED
        ))
        .unwrap();
        ui.find(format!(
            "History of ballot D000004 ({})",
            ballot_intake_core::ledger::MASKED
        ))
        .unwrap();
    }
    // Reverse the duplicate: event number, reason, Enter.
    let dup = history[1].seq;
    let _ = app.update(Message::Review(review::Message::Seq(dup.to_string())));
    let _ = app.update(Message::Review(review::Message::Reason("fed twice".into())));
    let _ = app.update(Message::Review(review::Message::Reverse));
    let started = Instant::now();
    loop {
        let h = ledger.ballot_history(found[0].ballot_pk).unwrap();
        if h.len() == 3 {
            assert_eq!(h[1].reversed_by, Some(h[2].seq));
            assert_eq!(h[2].user, "demo-supervisor");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not reversed");
        std::thread::sleep(Duration::from_millis(20));
    }
    // An event not in this ballot's history is refused before the ledger is asked.
    let _ = app.update(Message::Review(review::Message::Seq("99999".into())));
    let _ = app.update(Message::Review(review::Message::Reason("x".into())));
    let _ = app.update(Message::Review(review::Message::Reverse));
    let Screen::Over {
        over: Over::Review(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    let mut ui = simulator(state.view(chrono_tz::America::Denver));
    ui.find("Event #99999 is not in this ballot's history.")
        .unwrap();
}

#[test]
fn batches_screen_lists_and_resolves_a_discrepancy() {
    use ballot_intake_window::screen::batches;
    let (dir, mut ledger) = demo_ledger();
    let clerk = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let b = ledger.open_or_current_batch(&clerk).unwrap();
    ledger.close_batch(b.batch_id, &clerk, &sup, 3).unwrap();
    let sup_batch = ledger.open_or_current_batch(&sup).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(sup_batch)))));
    let _ = app.update(Message::Shortcut(Named::F6));
    let _ = app.update(Message::Batches(batches::Message::Loaded(Ok(ledger
        .batches()
        .unwrap()))));
    let Screen::Over {
        over: Over::Batches(state),
        ..
    } = app.screen()
    else {
        panic!("batches")
    };
    {
        let mut ui = simulator(state.view());
        ui.find(format!(
            "#{}  DISCREPANCY  opened by demo-clerk: 0 accepted, 3 counted, verified by demo-supervisor",
            b.batch_id
        ))
        .unwrap();
    }
    for m in [
        batches::Message::Number(b.batch_id.to_string()),
        batches::Message::Note("three envelopes were for another county".into()),
        batches::Message::Resolve,
    ] {
        let _ = app.update(Message::Batches(m));
    }
    let started = Instant::now();
    loop {
        if ledger.batch(b.batch_id).unwrap().status
            == ballot_intake_core::ledger::BatchStatus::Resolved
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not resolved");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(matches!(app.screen(), Screen::Scan(_)));
}

#[test]
fn audit_viewer_filters_and_verifies_the_chain() {
    use ballot_intake_window::screen::audit;
    let (dir, mut ledger) = demo_ledger();
    let _ = ledger.sign_in("demo-clerk", "000000", chrono::Utc::now());
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(batch)))));
    let _ = app.update(Message::Shortcut(Named::F7));
    let rows = ledger.recent_audit(500).unwrap();
    let total = rows.len();
    let _ = app.update(Message::Audit(audit::Message::Loaded(Ok(rows))));
    let _ = app.update(Message::Audit(audit::Message::Filter("failed".into())));
    let report = ledger.verify().unwrap();
    let _ = app.update(Message::Audit(audit::Message::Verified(Box::new(Ok(
        report.clone(),
    )))));
    let Screen::Over {
        over: Over::Audit(state),
        ..
    } = app.screen()
    else {
        panic!("audit")
    };
    let mut ui = simulator(state.view(chrono_tz::America::Denver));
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
    use ballot_intake_window::screen::dashboard;
    let (dir, mut ledger) = demo_ledger();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    for code in ["D000001", "D000001", "D000003", "NOPE"] {
        ledger
            .record_scan(
                &sup,
                batch.batch_id,
                &ballot_intake_core::ledger::ScanInput {
                    raw: code.as_bytes(),
                    source: "test",
                    symbology: None,
                    at: chrono::Utc::now(),
                },
            )
            .unwrap();
    }
    let d = ledger.dashboard(chrono::Utc::now()).unwrap();
    assert_eq!(d.today["accepted"], 1);
    assert_eq!(d.election["duplicate"], 1);
    assert_eq!(d.election["voided"], 1);
    assert_eq!(d.election["unknown"], 1);
    assert_eq!(d.per_hour.iter().map(|h| h.1).sum::<i64>(), 4);
    assert_eq!(d.per_batch, [(batch.batch_id, 4, 1)]);
    assert_eq!(d.per_user, [("demo-supervisor".to_string(), 4, 1)]);
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(batch.clone())))));
    let _ = app.update(Message::Shortcut(Named::F8));
    let _ = app.update(Message::Dashboard(dashboard::Message::Loaded(Box::new(
        Ok(d),
    ))));
    let Screen::Over {
        over: Over::Dashboard(state),
        ..
    } = app.screen()
    else {
        panic!("dashboard")
    };
    let mut ui = simulator(state.view());
    ui.find(format!("batch {:<5} {:>6} {:>6}", batch.batch_id, 4, 1))
        .unwrap();
    ui.find(format!("{:<16} {:>6} {:>6}", "demo-supervisor", 4, 1))
        .unwrap();
    drop(ui);
    // A scanner read here (the dashboard takes no scans) is said not to be recorded,
    // over the screen, until the clerk goes back.
    keys(&mut app, "D000005\n", Instant::now(), 2);
    let note =
        "NOT RECORDED: barcode D000005. Press Esc to go back to scanning, then scan it again.";
    simulator(app.view()).find(note).unwrap();
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(simulator(app.view()).find(note).is_err());
}

#[test]
fn import_screen_runs_the_import_on_the_ledger_thread_and_lists_errors() {
    use ballot_intake_window::screen::import;
    let (dir, mut ledger) = demo_ledger();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    let before: i64 = ledger.status().unwrap().ballots;
    let good = dir.path().join("more.csv");
    std::fs::write(
        &good,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n\
         DEMO,D900001,V9000001,Added,Ann,80202,101,S1,ACTIVE,N\n",
    )
    .unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    let _ = app.update(Message::SignedIn(Ok((sup, Some(batch)))));
    let _ = app.update(Message::Shortcut(Named::F9));
    let _ = app.update(Message::Import(import::Message::Path(
        good.display().to_string(),
    )));
    let _ = app.update(Message::Import(import::Message::Import));
    let Screen::Over {
        over: Over::Import(state),
        ..
    } = app.screen()
    else {
        panic!("import")
    };
    assert!(state.busy());
    // Esc does not leave a running import.
    let _ = app.update(Message::Shortcut(Named::Escape));
    assert!(matches!(
        app.screen(),
        Screen::Over {
            over: Over::Import(_),
            ..
        }
    ));
    let started = Instant::now();
    while ledger.status().unwrap().ballots == before {
        assert!(started.elapsed() < Duration::from_secs(10), "not imported");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ledger.status().unwrap().ballots, before + 1);
    // A rejected file's errors are listed with their lines and columns.
    let rejected = ballot_intake_core::mail_ballot::import_file(
        &mut ledger,
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/mail-ballots/bad-flag.csv"
        )),
        |_, _| {},
    )
    .unwrap_err();
    let _ = app.update(Message::Import(import::Message::Progress(
        import::Progress::Done(Box::new(Err(rejected))),
    )));
    let Screen::Over {
        over: Over::Import(state),
        ..
    } = app.screen()
    else {
        panic!()
    };
    assert!(!state.busy());
    let mut ui = simulator(state.view());
    ui.find("line 2, column election_id: ballot of election \"2026-GEN\", but the active election is \"DEMO\"; refusing the whole file").unwrap();
}

#[test]
fn a_fast_pin_is_never_shown_and_the_strip_goes_with_its_screen() {
    let (dir, mut ledger) = demo_ledger();
    let clerk = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    // A PIN and Enter arriving as fast as a scanner (a busy window catches up on
    // keys in a burst): typing, never a barcode on the strip.
    keys(&mut app, "111111\n", Instant::now(), 2);
    assert_eq!(app.notice(), None);
    // Signed in with no batch: a scan now is named, and NOT recorded...
    let _ = app.update(Message::SignedIn(Ok((clerk.clone(), None))));
    keys(
        &mut app,
        "D000001\n",
        Instant::now() + Duration::from_secs(1),
        2,
    );
    assert_eq!(
        app.notice(),
        Some("NOT RECORDED: barcode D000001. Open the batch, then scan it again.")
    );
    assert_eq!(
        app.last_cue(),
        Some(ballot_intake_window::sound::Cue::SetAside)
    );
    // ...and the strip goes once the batch is open.
    let batch = ledger.open_or_current_batch(&clerk).unwrap();
    let _ = app.update(Message::BatchOpened(Ok(batch)));
    assert!(matches!(app.screen(), Screen::Scan(_)));
    assert_eq!(app.notice(), None);
    // F12 signs out.
    let _ = app.update(Message::Shortcut(Named::F12));
    assert!(matches!(app.screen(), Screen::SignIn(_)));
}
