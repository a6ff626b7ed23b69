//! The elections page (administrators: Ctrl+R on the settings page) through
//! `App::update`, with the real ledger thread: add the next election, make it the
//! active one only after a question naming both, the header following; refused
//! while a tray is open, and a form with a wrong date said in words.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_window::app::{Message, Page, PageMessage, Screen, Shortcut};
use ballot_intake_window::screen::elections;
use iced_test::simulator;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::Rig;

fn page(rig: &Rig) -> &elections::State {
    match rig.page() {
        Page::Elections(s) => s,
        _ => panic!("not on the elections page"),
    }
}

fn send(rig: &mut Rig, m: elections::Message) {
    rig.send(Message::Page(PageMessage::Elections(m)));
}

fn said(rig: &Rig) -> Result<String, String> {
    page(rig).outcome().cloned().unwrap()
}

fn fill(rig: &mut Rig, id: &str, name: &str, date: &str, check: &str) {
    send(rig, elections::Message::Id(id.into()));
    send(rig, elections::Message::Name(name.into()));
    send(rig, elections::Message::Date(date.into()));
    send(rig, elections::Message::Check(check.into()));
}

#[test]
fn an_administrator_adds_an_election_and_makes_it_active_after_a_question() {
    let mut rig = Rig::new(None);
    rig.sign_in("demo-admin", "555555");
    assert!(matches!(rig.app.screen(), Screen::OpenBatch(_)));
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('r'));
    assert_eq!(page(&rig).elections().len(), 1);
    assert!(page(&rig).elections()[0].active);

    fill(&mut rig, "2027-COORD", "2027 Coordinated", "2027-13-02", "");
    rig.press(Shortcut::Letter('n'));
    assert_eq!(
        said(&rig),
        Err("\"2027-13-02\" is not a date: type election day as YYYY-MM-DD, for example 2027-11-02.".into())
    );
    fill(
        &mut rig,
        "2027-COORD",
        "2027 Coordinated",
        "2027-11-02",
        "mod11",
    );
    rig.press(Shortcut::Letter('n'));
    assert!(said(&rig).unwrap_err().contains("not a check-digit scheme"));
    assert_eq!(page(&rig).elections().len(), 1);

    fill(
        &mut rig,
        "2027-COORD",
        "2027 Coordinated",
        "2027-11-02",
        "luhn",
    );
    rig.enter(elections::CHECK_FIELD);
    assert_eq!(
        said(&rig),
        Ok(
            "2027 Coordinated (2027-COORD) is added, not active: Ctrl+2 makes it the active one."
                .into()
        )
    );
    let added = &page(&rig).elections()[1];
    assert_eq!(added.election_id, "2027-COORD");
    assert!(!added.active);
    assert_eq!(added.check_digit.as_str(), "luhn");

    // Ctrl+2 asks; nothing changes until Ctrl+Y.
    rig.press(Shortcut::Pick(2));
    let question = page(&rig).question().unwrap();
    assert!(
        question.contains(
            "Make 2027 Coordinated (2027-COORD) the active election in place of Demo General Election (DEMO)?"
        ),
        "{question}"
    );
    simulator(rig.app.view()).find(question.as_str()).unwrap();
    assert_eq!(rig.ledger().active_election().unwrap().election_id, "DEMO");
    // Typing withdraws the question: Ctrl+Y then changes nothing.
    send(&mut rig, elections::Message::Id("x".into()));
    rig.press(Shortcut::Letter('y'));
    assert!(said(&rig).unwrap_err().starts_with("Choose the election"));
    assert_eq!(rig.ledger().active_election().unwrap().election_id, "DEMO");

    rig.press(Shortcut::Pick(2));
    rig.press(Shortcut::Letter('y'));
    assert_eq!(
        said(&rig),
        Ok("2027 Coordinated (2027-COORD) is now the active election.".into())
    );
    assert_eq!(
        rig.ledger().active_election().unwrap().election_id,
        "2027-COORD"
    );
    assert_eq!(rig.app.header().election, "2027 Coordinated (2027-COORD)");
    assert!(page(&rig).elections()[1].active);

    let events: Vec<String> = rig
        .ledger()
        .recent_audit(50)
        .unwrap()
        .into_iter()
        .map(|a| a.event)
        .collect();
    for e in ["election-added", "election-activated"] {
        assert!(events.iter().any(|x| x == e), "{e} not audited: {events:?}");
    }
}

#[test]
fn the_active_election_stays_while_a_tray_is_open() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('r'));
    fill(
        &mut rig,
        "2027-COORD",
        "2027 Coordinated",
        "2027-11-02",
        "none",
    );
    rig.press(Shortcut::Letter('n'));
    rig.press(Shortcut::Pick(2));
    rig.press(Shortcut::Letter('y'));
    let refused = said(&rig).unwrap_err();
    assert!(
        refused.contains(
            "(opened by demo-admin) is still open: close it before changing the active election"
        ),
        "{refused}"
    );
    assert_eq!(rig.ledger().active_election().unwrap().election_id, "DEMO");
    assert_eq!(rig.app.header().election, ui_common::header().election);
}

#[test]
fn a_clerk_cannot_reach_the_elections_page() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-clerk", "111111");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('r'));
    assert!(rig.app.page().is_none());
}
