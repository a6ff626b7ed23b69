//! The first run through `Shell::update`, on a real data folder: the demo or the
//! setup, each step checked in words as it is left, nothing written before Ctrl+Y,
//! then the station opened with its new administrator signed in at the import
//! screen.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use iced::Task;

use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::Ledger;
use ballot_intake_window::app::{Page, Screen};
use ballot_intake_window::screen::first_run::{self, Step, field};
use ballot_intake_window::shell::{Message, Shell};
use ballot_intake_window::sound::Sounds;

#[path = "common/ui.rs"]
mod ui_common;

fn drive(shell: &mut Shell, task: Task<Message>) {
    ui_common::run_tasks(task, |m| shell.update(m));
}

fn send(shell: &mut Shell, m: first_run::Message) {
    let task = shell.update(Message::FirstRun(m));
    drive(shell, task);
}

fn edit(shell: &mut Shell, id: &'static str, value: &str) {
    send(shell, first_run::Message::Edit(id, value.into()));
}

fn state(shell: &Shell) -> &first_run::State {
    shell.first_run().expect("the first run is up")
}

fn fresh() -> (tempfile::TempDir, Environment, Shell) {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let (shell, _) = Shell::new(&env, Sounds::silent()).unwrap();
    (dir, env, shell)
}

#[test]
fn the_setup_checks_each_step_and_writes_only_when_confirmed() {
    let (_dir, env, mut shell) = fresh();
    assert_eq!(state(&shell).step(), Step::Welcome);
    send(&mut shell, first_run::Message::Next);
    assert_eq!(state(&shell).step(), Step::Station);

    // The station: each fault said, the step kept.
    send(&mut shell, first_run::Message::Next);
    assert!(state(&shell).error().unwrap().contains("station id"));
    edit(&mut shell, field::STATION, "INTAKE-1");
    edit(&mut shell, field::COUNTY, "Gilpin County");
    edit(&mut shell, field::ZONE, "Mountain Standard");
    send(&mut shell, first_run::Message::Next);
    assert!(
        state(&shell)
            .error()
            .unwrap()
            .contains("is not a time zone")
    );
    assert_eq!(state(&shell).step(), Step::Station);
    // Found by typing, picked by number (the digit the field also got ignored).
    edit(&mut shell, field::ZONE, "new york");
    send(&mut shell, first_run::Message::Pick(1));
    edit(&mut shell, field::ZONE, "America/New_York1");
    assert_eq!(state(&shell).zone_typed(), "America/New_York");
    // One zone found by a word is the zone.
    edit(&mut shell, field::ZONE, "denver");
    send(&mut shell, first_run::Message::Next);
    assert_eq!(state(&shell).step(), Step::Election);
    assert_eq!(state(&shell).zone_typed(), "America/Denver");

    // The election.
    edit(&mut shell, field::ELECTION, "2027-COORD");
    edit(&mut shell, field::NAME, "2027 Coordinated");
    edit(&mut shell, field::DATE, "11/02/2027");
    send(&mut shell, first_run::Message::Next);
    assert!(state(&shell).error().unwrap().contains("is not a date"));
    edit(&mut shell, field::DATE, "2027-11-02");
    send(&mut shell, first_run::Message::Next);
    assert_eq!(state(&shell).step(), Step::Admin);

    // The administrator: PINs that differ, an obvious one.
    edit(&mut shell, field::ADMIN, "maria");
    edit(&mut shell, field::PIN, "482913");
    edit(&mut shell, field::AGAIN, "482931");
    send(&mut shell, first_run::Message::Next);
    assert!(state(&shell).error().unwrap().contains("two PINs differ"));
    edit(&mut shell, field::PIN, "111111");
    edit(&mut shell, field::AGAIN, "111111");
    send(&mut shell, first_run::Message::Next);
    assert!(
        state(&shell)
            .error()
            .unwrap()
            .contains("first a guesser tries")
    );
    edit(&mut shell, field::PIN, "482913");
    edit(&mut shell, field::AGAIN, "482913");
    send(&mut shell, first_run::Message::Next);
    assert_eq!(state(&shell).step(), Step::Confirm);

    // Back and on again keeps what was typed; nothing is written yet.
    send(&mut shell, first_run::Message::Back);
    assert_eq!(state(&shell).step(), Step::Admin);
    send(&mut shell, first_run::Message::Next);
    assert_eq!(state(&shell).step(), Step::Confirm);
    assert!(!env.ledger_path().exists());
    assert!(std::fs::read_dir(&env.data_dir).map_or(0, Iterator::count) == 0);

    send(&mut shell, first_run::Message::Confirm);
    let app = shell.station().expect("the station opened");
    assert!(!app.header().demo);
    assert_eq!(app.header().station, "INTAKE-1");
    assert_eq!(app.header().election, "2027 Coordinated (2027-COORD)");
    assert!(
        matches!(app.screen(), Screen::Page { .. }) && matches!(app.page(), Some(Page::Import(_))),
        "the new administrator is at the import screen"
    );
    let mut ledger = Ledger::open(&env.ledger_path()).unwrap();
    assert_eq!(ledger.station().county, "Gilpin County");
    let admin = ledger
        .sign_in("maria", "482913", chrono::Utc::now())
        .unwrap();
    assert!(admin.require_admin("check").is_ok());
    assert!(!env.demo().ledger_path().exists(), "no demo was made");
}

#[test]
fn the_demo_is_one_key_away() {
    let (_dir, env, mut shell) = fresh();
    send(&mut shell, first_run::Message::Demo);
    let app = shell.station().expect("the demo opened");
    assert!(app.header().demo);
    assert!(matches!(app.screen(), Screen::SignIn(_)));
    assert!(env.demo().ledger_path().exists());
    assert!(!env.ledger_path().exists());
    // The next start goes straight to the demo.
    let (again, _) = Shell::new(&env, Sounds::silent()).unwrap();
    assert!(again.station().is_some());
}

#[test]
fn time_zones_are_found_by_any_word_us_first() {
    let found = first_run::zones("new york", 9);
    assert_eq!(found, ["America/New_York"]);
    let pacific = first_run::zones("pacific", 9);
    assert!(pacific.contains(&"US/Pacific"), "{pacific:?}");
    assert!(pacific[0].starts_with("US/") || pacific[0].starts_with("America/"));
    assert!(first_run::zones("", 9).len() == 9);
    assert!(first_run::zones("xyzzy", 9).is_empty());
}
