//! The settings screen through `App::update`, with its tasks run for real (the
//! ledger thread, `config.json` in a temporary folder), and the sounds the window
//! asks for.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::intake::Outcome;
use ballot_intake_window::app::{App, Message, Over, Screen};
use ballot_intake_window::screen::scan;
use ballot_intake_window::screen::settings::{self, Detected};
use ballot_intake_window::sound::{Cue, Sounds};
use ballot_intake_window::worker::LedgerWorker;
use iced::keyboard::key::Named;
use iced_test::simulator;
use std::time::Instant;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{demo_ledger, drive, header, keys};

fn settings(app: &App) -> &settings::State {
    match app.screen() {
        Screen::Over {
            over: Over::Settings(s),
            ..
        } => s,
        _ => panic!("not on the settings screen"),
    }
}

/// Ctrl+S, with the save run to its end.
fn save(app: &mut App) {
    let task = app.update(Message::Ctrl('s'));
    drive(app, task);
}

fn set(app: &mut App, m: settings::Message) {
    let task = app.update(Message::Settings(m));
    drive(app, task);
}

#[test]
fn settings_are_for_admins_shown_tested_saved_audited_and_in_force() {
    let (dir, mut ledger) = demo_ledger();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let path = env.ledger_path();
    let (mut app, _) = App::new(LedgerWorker::open(&path).unwrap(), header(), None, None);
    app.configure(Some(env.clone()), Config::default(), Sounds::silent());

    // A supervisor's F10 does nothing.
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&sup).unwrap();
    let _ = app.update(Message::SignedIn(Ok((sup, Some(batch)))));
    let _ = app.update(Message::Shortcut(Named::F10));
    assert!(matches!(app.screen(), Screen::Scan(_)));

    let admin = ledger
        .sign_in("demo-admin", "555555", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&admin).unwrap();
    let _ = app.update(Message::SignedIn(Ok((admin, Some(batch)))));
    let task = app.update(Message::Shortcut(Named::F10));
    drive(&mut app, task); // the scanner search runs and reports
    let _ = settings(&app);
    let events_before = ledger.verify().unwrap().events;

    // A test scan from the wedge is shown, as the station reads it, and not recorded.
    keys(&mut app, "D000001\n", Instant::now(), 2);
    let shown = settings(&app).test_scan().unwrap();
    assert_eq!(shown.reading(), "the ballot id D000001");
    simulator(app.view())
        .find("Read from wedge:keyboard: D000001")
        .unwrap();
    let imb = "0027012345678901234580202";
    keys(&mut app, &format!("{imb}\n"), Instant::now(), 2);
    assert!(
        settings(&app)
            .test_scan()
            .unwrap()
            .reading()
            .starts_with("an Intelligent Mail barcode: tracking 00270123456789012345")
    );
    assert_eq!(ledger.verify().unwrap().events, events_before);

    // Scanners: a detected one is added by its button, a typed one by Enter; a bad
    // spec and a second copy are refused in words.
    set(
        &mut app,
        settings::Message::Detected(vec![Detected {
            spec: "serial:/dev/ttyACM3".into(),
            description: "0c2e:0b61  Honeywell".into(),
        }]),
    );
    let _ = app.update(Message::CtrlDigit(1)); // its button says "Add (Ctrl+1)"
    set(&mut app, settings::Message::AddDetected(0));
    assert_eq!(
        settings(&app).error.as_deref(),
        Some("serial:/dev/ttyACM3@9600 is already in the list")
    );
    set(&mut app, settings::Message::Spec("bogus:thing".into()));
    keys(&mut app, "\n", Instant::now(), 200);
    assert!(
        settings(&app)
            .error
            .as_deref()
            .unwrap()
            .starts_with("\"bogus:thing\" is not a scanner")
    );
    set(
        &mut app,
        settings::Message::Spec("serial:/dev/ttyUSB9@19200".into()),
    );
    keys(&mut app, "\n", Instant::now(), 200);
    assert_eq!(settings(&app).error, None);

    // The idle time must be whole minutes; nothing is saved until it is.
    set(&mut app, settings::Message::Idle("ten".into()));
    save(&mut app);
    assert!(
        settings(&app)
            .error
            .as_deref()
            .unwrap()
            .contains("give whole minutes from 0 (never) to 1440")
    );
    assert!(!Config::path(&env).exists());

    set(&mut app, settings::Message::Idle("5".into()));
    set(&mut app, settings::Message::Sounds(false));
    set(&mut app, settings::Message::Volume(40));
    save(&mut app);
    simulator(app.view())
        .find("Saved. The scanners and settings are in force.")
        .unwrap();

    // On disk, in force, and in the audit log.
    let saved = Config::load(&env);
    assert_eq!(
        saved
            .scanners
            .iter()
            .map(|s| s.spec.as_str())
            .collect::<Vec<_>>(),
        ["serial:/dev/ttyACM3@9600", "serial:/dev/ttyUSB9@19200"]
    );
    assert_eq!(saved.scanners[1].serial.baud, 19_200);
    assert_eq!(
        (saved.ui.idle_minutes, saved.ui.sounds, saved.ui.volume),
        (5, false, 40)
    );
    assert_eq!(app.scanners().len(), 2);
    let audit = ledger.recent_audit(5).unwrap();
    let row = audit
        .iter()
        .find(|r| r.event == "settings-changed")
        .unwrap();
    assert_eq!(row.user_name.as_deref(), Some("demo-admin"));
    let detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap();
    assert_eq!(
        detail["idle_minutes"],
        serde_json::json!({"old": 15, "new": 5})
    );
    assert_eq!(detail["scanners"]["new"][1], "serial:/dev/ttyUSB9@19200");
    assert!(ledger.verify().unwrap().ok());

    // Saving again with nothing changed writes nothing more.
    save(&mut app);
    simulator(app.view()).find("Nothing changed.").unwrap();

    // Removing a scanner stops reading it as soon as it is saved.
    set(&mut app, settings::Message::Remove(0));
    save(&mut app);
    assert_eq!(app.scanners().len(), 1);
    assert!(app.scanners()[0].contains("/dev/ttyUSB9"));
    assert_eq!(Config::load(&env).scanners.len(), 1);

    // A write that fails changes nothing in force and is said; Save tries again.
    let path = Config::path(&env);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap(); // a folder where the file should go
    set(&mut app, settings::Message::Volume(10));
    save(&mut app);
    assert!(
        settings(&app)
            .error
            .as_deref()
            .unwrap()
            .starts_with("NOT saved: could not write"),
        "{:?}",
        settings(&app).error
    );
    std::fs::remove_dir(&path).unwrap();
    save(&mut app);
    assert_eq!(settings(&app).error, None);
    assert_eq!(Config::load(&env).ui.volume, 10);

    // The test buttons play even with sounds off; results choose their cue.
    set(&mut app, settings::Message::Play(Cue::SetAside));
    assert_eq!(app.last_cue(), Some(Cue::SetAside));
    let _ = app.update(Message::Shortcut(Named::Escape));
    let mut accepted = ui_common::scan_result(Outcome::Accepted);
    let _ = app.update(Message::Scan(scan::Message::Recorded(Box::new(Ok(
        accepted.clone(),
    )))));
    assert_eq!(app.last_cue(), Some(Cue::Accepted));
    accepted.outcome = Outcome::Late;
    let _ = app.update(Message::Scan(scan::Message::Recorded(Box::new(Ok(
        accepted,
    )))));
    assert_eq!(app.last_cue(), Some(Cue::SetAside));
}

#[test]
fn the_ledger_refuses_a_settings_change_by_anyone_but_an_admin() {
    let (_dir, mut ledger) = demo_ledger();
    let sup = ledger
        .sign_in("demo-supervisor", "999999", chrono::Utc::now())
        .unwrap();
    let err = ledger
        .record_settings_change(&sup, serde_json::json!({"volume": {"old": 80, "new": 0}}))
        .unwrap_err();
    assert!(
        err.to_string().contains("change the station's settings"),
        "{err}"
    );
    let last = &ledger.recent_audit(1).unwrap()[0];
    assert_eq!(
        (last.event.as_str(), last.user_name.as_deref()),
        ("permission-denied", Some("demo-supervisor"))
    );
}
