//! The settings screen through `App::update`, with its tasks run for real (the
//! ledger thread, `config.json` in a temporary folder), and the sounds the window
//! asks for.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_window::app::{Message, Page, PageMessage, Screen, Shortcut};
use ballot_intake_window::screen::settings::{self, Detected};
use ballot_intake_window::sound::{Cue, Sounds};
use iced_test::simulator;
use std::time::Instant;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{Rig, demo_ledger};

/// A demo station whose window saves its settings in the station's folder.
fn rig() -> (Rig, Environment) {
    let mut rig = Rig::new(None);
    let env = Environment::resolve(Some(rig.dir.path())).unwrap();
    rig.app
        .configure(Some(env.clone()), Config::default(), Sounds::silent());
    (rig, env)
}

/// The administrator on the settings screen (the scanner search run and reported).
fn on_settings() -> (Rig, Environment) {
    let (mut rig, env) = rig();
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    let _ = settings(&rig);
    (rig, env)
}

fn settings(rig: &Rig) -> &settings::State {
    match rig.page() {
        Page::Settings(s) => s,
        _ => panic!("not on the settings screen"),
    }
}

fn set(rig: &mut Rig, m: settings::Message) {
    rig.send(Message::Page(PageMessage::Settings(m)));
}

#[test]
fn settings_are_for_administrators_only() {
    let (mut rig, _env) = rig();
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(10));
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
    simulator(rig.app.view())
        .find("That key opens a screen for an administrator: ask one to sign in at this station.")
        .unwrap();
}

#[test]
fn a_test_scan_is_shown_as_the_station_reads_it_and_not_recorded() {
    let (mut rig, _env) = on_settings();
    let events_before = rig.ledger().verify().unwrap().events;
    rig.keys("D000001\n", Instant::now(), 2);
    let shown = settings(&rig).test_scan().unwrap();
    assert_eq!(shown.reading(), "the ballot id D000001");
    simulator(rig.app.view())
        .find("Read from wedge:keyboard: D000001")
        .unwrap();
    let imb = "0027012345678901234580202";
    rig.keys(&format!("{imb}\n"), Instant::now(), 2);
    assert!(
        settings(&rig)
            .test_scan()
            .unwrap()
            .reading()
            .starts_with("an Intelligent Mail barcode: tracking 00270123456789012345")
    );
    assert_eq!(rig.ledger().verify().unwrap().events, events_before);
    assert_eq!(rig.app.notice(), None, "shown here, not refused");
}

#[test]
fn scanners_are_added_by_shortcut_or_enter_and_bad_ones_refused_in_words() {
    let (mut rig, _env) = on_settings();
    set(
        &mut rig,
        settings::Message::Detected(vec![Detected {
            spec: "serial:/dev/ttyACM3".into(),
            description: "0c2e:0b61  Honeywell".into(),
        }]),
    );
    rig.press(Shortcut::Pick(1)); // its button says "Add (Ctrl+1)"
    set(&mut rig, settings::Message::AddDetected(0));
    assert_eq!(
        settings(&rig).error.as_deref(),
        Some("serial:/dev/ttyACM3@9600 is already in the list")
    );
    set(&mut rig, settings::Message::Spec("bogus:thing".into()));
    rig.enter(settings::SPEC_FIELD);
    assert!(
        settings(&rig)
            .error
            .as_deref()
            .unwrap()
            .starts_with("\"bogus:thing\" is not a scanner")
    );
    set(
        &mut rig,
        settings::Message::Spec("serial:/dev/ttyUSB9@19200".into()),
    );
    rig.enter(settings::SPEC_FIELD);
    assert_eq!(settings(&rig).error, None);
}

#[test]
fn settings_are_saved_audited_and_in_force() {
    let (mut rig, env) = on_settings();
    for spec in ["serial:/dev/ttyACM3", "serial:/dev/ttyUSB9@19200"] {
        set(&mut rig, settings::Message::Spec(spec.into()));
        set(&mut rig, settings::Message::AddSpec);
    }
    // The idle time must be whole minutes; nothing is saved until it is.
    set(&mut rig, settings::Message::Idle("ten".into()));
    rig.press(Shortcut::Save);
    assert!(
        settings(&rig)
            .error
            .as_deref()
            .unwrap()
            .contains("give whole minutes from 0 (never) to 1440")
    );
    assert!(!Config::path(&env).exists());

    set(&mut rig, settings::Message::Idle("5".into()));
    set(&mut rig, settings::Message::Sounds(false));
    set(&mut rig, settings::Message::Volume(40));
    rig.press(Shortcut::Save);
    simulator(rig.app.view())
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
    assert_eq!(rig.app.scanners().len(), 2);
    let mut ledger = rig.ledger();
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
    rig.press(Shortcut::Save);
    simulator(rig.app.view()).find("Nothing changed.").unwrap();

    // Removing a scanner stops reading it as soon as it is saved.
    set(&mut rig, settings::Message::Remove(0));
    rig.press(Shortcut::Save);
    assert_eq!(rig.app.scanners().len(), 1);
    assert!(rig.app.scanners()[0].contains("/dev/ttyUSB9"));
    assert_eq!(Config::load(&env).scanners.len(), 1);
}

#[test]
fn a_failed_write_changes_nothing_in_force_and_save_tries_again() {
    let (mut rig, env) = on_settings();
    let path = Config::path(&env);
    std::fs::create_dir_all(&path).unwrap(); // a folder where the file should go
    set(&mut rig, settings::Message::Volume(10));
    rig.press(Shortcut::Save);
    assert!(
        settings(&rig)
            .error
            .as_deref()
            .unwrap()
            .starts_with("NOT saved: could not write"),
        "{:?}",
        settings(&rig).error
    );
    std::fs::remove_dir(&path).unwrap();
    rig.press(Shortcut::Save);
    assert_eq!(settings(&rig).error, None);
    assert_eq!(Config::load(&env).ui.volume, 10);
}

#[test]
fn test_buttons_play_even_with_sounds_off_and_results_choose_their_cue() {
    let (mut rig, _env) = on_settings();
    set(&mut rig, settings::Message::Sounds(false));
    set(&mut rig, settings::Message::Play(Cue::SetAside));
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
    rig.press(Shortcut::Back);
    let t = rig.keys("D000001\n", Instant::now(), 2);
    assert_eq!(rig.app.last_cue(), Some(Cue::Accepted));
    rig.keys("NOPE-1\n", t + std::time::Duration::from_secs(1), 2);
    assert_eq!(rig.app.last_cue(), Some(Cue::SetAside));
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

#[test]
fn every_setting_is_reachable_from_the_keyboard() {
    let (mut rig, _env) = on_settings();
    for spec in ["serial:/dev/ttyACM3", "serial:/dev/ttyUSB9"] {
        set(&mut rig, settings::Message::Spec(spec.into()));
        rig.enter(settings::SPEC_FIELD);
    }
    // Alt+1 removes the first scanner listed (its button says so).
    simulator(rig.app.view()).find("Remove (Alt+1)").unwrap();
    rig.press(Shortcut::Remove(1));
    // Ctrl+M turns the sounds off; Ctrl+Down lowers the volume by ten.
    rig.press(Shortcut::Letter('m'));
    rig.press(Shortcut::Next);
    // Ctrl+P plays the accepted sound even with sounds off.
    rig.press(Shortcut::Letter('p'));
    assert_eq!(rig.app.last_cue(), Some(Cue::Accepted));
    let s = settings(&rig);
    assert!(!s.sounds_on());
    assert_eq!(s.volume(), 70);
    rig.press(Shortcut::Save);
    assert_eq!(rig.app.scanners().len(), 1);
    assert!(rig.app.scanners()[0].contains("/dev/ttyUSB9"));
}
