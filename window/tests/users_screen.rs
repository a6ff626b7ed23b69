//! The users page (administrators: Ctrl+U on the settings page) through
//! `App::update`, with the real ledger thread: add a user, disable and enable one,
//! set a forgotten PIN, and the refusals said in words with nothing changed.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_window::app::{Message, Page, PageMessage, Shortcut};
use ballot_intake_window::screen::users::{self, Action};
use iced_test::simulator;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::Rig;

fn page(rig: &Rig) -> &users::State {
    match rig.page() {
        Page::Users(s) => s,
        _ => panic!("not on the users page"),
    }
}

fn send(rig: &mut Rig, m: users::Message) {
    rig.send(Message::Page(PageMessage::Users(m)));
}

fn said(rig: &Rig) -> Result<String, String> {
    page(rig).outcome().cloned().unwrap()
}

fn fill(rig: &mut Rig, name: &str, role: &str, pin: &str, again: &str) {
    send(rig, users::Message::Name(name.into()));
    send(rig, users::Message::Role(role.into()));
    send(rig, users::Message::Pin(pin.into()));
    send(rig, users::Message::PinAgain(again.into()));
}

#[test]
fn an_administrator_adds_disables_enables_and_resets_a_pin_from_the_window() {
    let mut rig = Rig::new(None);
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('u'));
    assert!(page(&rig).users().iter().any(|u| u.name == "demo-clerk"));

    // Refusals: a name not listed, two PINs that differ, a role not known.
    fill(&mut rig, "nobody", "", "", "");
    rig.press(Shortcut::Letter('d'));
    assert_eq!(
        said(&rig),
        Err("Type the name of one of the users listed.".into())
    );
    fill(&mut rig, "ana", "clerk", "507193", "507194");
    rig.press(Shortcut::Letter('n'));
    assert_eq!(
        said(&rig),
        Err("The two new PINs differ: type them again.".into())
    );
    fill(&mut rig, "ana", "boss", "507193", "507193");
    rig.press(Shortcut::Letter('n'));
    assert_eq!(
        said(&rig),
        Err("Type the role: clerk, supervisor or admin.".into())
    );
    assert!(!page(&rig).users().iter().any(|u| u.name == "ana"));

    fill(&mut rig, "ana", "clerk", "507193", "507193");
    rig.press(Shortcut::Letter('n'));
    assert_eq!(said(&rig), Ok("ana is added as clerk.".into()));
    let ana = page(&rig)
        .users()
        .iter()
        .find(|u| u.name == "ana")
        .cloned()
        .unwrap();
    assert_eq!(ana.role.to_string(), "clerk");
    rig.ledger()
        .sign_in("ana", "507193", chrono::Utc::now())
        .unwrap();

    send(&mut rig, users::Message::Name("ana".into()));
    rig.press(Shortcut::Letter('d'));
    assert_eq!(said(&rig), Ok("ana is disabled.".into()));
    simulator(rig.app.view()).find("ana is disabled.").unwrap();
    let err = rig
        .ledger()
        .sign_in("ana", "507193", chrono::Utc::now())
        .unwrap_err();
    assert!(err.to_string().contains("is disabled"), "{err}");
    rig.press(Shortcut::Letter('e'));
    assert_eq!(said(&rig), Ok("ana is enabled again.".into()));

    // A forgotten PIN: the new one typed twice, Enter in the field.
    fill(&mut rig, "ana", "", "602718", "602718");
    send(&mut rig, users::Message::Act(Action::ResetPin));
    assert_eq!(said(&rig), Ok("ana has a new PIN.".into()));
    rig.ledger()
        .sign_in("ana", "602718", chrono::Utc::now())
        .unwrap();

    // The administrator cannot disable their own account.
    send(&mut rig, users::Message::Name("demo-admin".into()));
    rig.press(Shortcut::Letter('d'));
    assert!(
        said(&rig)
            .unwrap_err()
            .contains("cannot disable their own account")
    );

    let events: Vec<String> = rig
        .ledger()
        .recent_audit(200)
        .unwrap()
        .into_iter()
        .map(|a| a.event)
        .collect();
    for e in ["user-added", "user-disabled", "user-enabled", "pin-reset"] {
        assert!(events.iter().any(|x| x == e), "{e} not audited: {events:?}");
    }
}

#[test]
fn a_name_ending_in_the_shortcuts_letter_is_the_user_acted_on() {
    // "anne" and "ann": Ctrl+E on "anne" enables anne, not ann (the window once took
    // the shortcut's letter back off the end of the fields).
    let mut rig = Rig::new(None);
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('u'));
    for name in ["ann", "anne"] {
        fill(&mut rig, name, "clerk", "507193", "507193");
        rig.press(Shortcut::Letter('n'));
        assert_eq!(said(&rig), Ok(format!("{name} is added as clerk.")));
        send(&mut rig, users::Message::Name(name.into()));
        rig.press(Shortcut::Letter('d'));
        assert_eq!(said(&rig), Ok(format!("{name} is disabled.")));
    }
    send(&mut rig, users::Message::Name("anne".into()));
    rig.press(Shortcut::Letter('e'));
    assert_eq!(said(&rig), Ok("anne is enabled again.".into()));
    let state = |n: &str| {
        page(&rig)
            .users()
            .iter()
            .find(|u| u.name == n)
            .unwrap()
            .disabled
    };
    assert!(!state("anne"));
    assert!(state("ann"));
}

#[test]
fn a_scan_into_a_half_filled_pin_leaves_the_pin_as_typed() {
    // The PIN fields keep digits only, so a scan's digits are what reached them:
    // those are taken back, and the PIN typed before stays whole.
    let mut rig = Rig::new(None);
    rig.scanning("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('u'));
    // The field as it stands once the scan's digits reached it; then the scan's keys.
    fill(&mut rig, "anne", "clerk", "507193000001", "");
    rig.keys("D000001\n", std::time::Instant::now(), 2);
    send(&mut rig, users::Message::PinAgain("507193".into()));
    rig.press(Shortcut::Letter('n'));
    assert_eq!(said(&rig), Ok("anne is added as clerk.".into()));
}
