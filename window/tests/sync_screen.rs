//! The sync page (administrators: Ctrl+B on the settings page) through
//! `App::update`, with the real ledger thread, a real folder and a real HTTP server
//! on loopback (the test backend the command line's tests use): the form said
//! wrong in words, "test connection" reporting what it found without sending an
//! event, and a save written to `config.json`, audited, and the header following a
//! county hub.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ballot_intake_core::config::{Config, SyncTransport};
use ballot_intake_core::environment::Environment;
use ballot_intake_window::app::{Message, Page, PageMessage, Shortcut};
use ballot_intake_window::screen::sync;
use ballot_intake_window::sound::Sounds;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::Rig;

#[path = "../../tests/common/receiver.rs"]
#[allow(dead_code)]
mod receiver;
use receiver::{Behaviour, Receiver};

const TOKEN: &str = "window-test-token-24680";

fn page(rig: &Rig) -> &sync::State {
    match rig.page() {
        Page::Sync(s) => s,
        _ => panic!("not on the sync page"),
    }
}

fn send(rig: &mut Rig, m: sync::Message) {
    rig.send(Message::Page(PageMessage::Sync(m)));
}

fn said(rig: &Rig) -> Result<String, String> {
    page(rig).outcome().cloned().unwrap()
}

/// A demo station whose window can save settings, at the sync page as its
/// administrator.
fn at_sync_page() -> (Rig, Environment) {
    let mut rig = Rig::new(None);
    let env = Environment::resolve(Some(rig.dir.path())).unwrap();
    rig.app
        .configure(Some(env.clone()), Config::default(), Sounds::silent());
    rig.sign_in("demo-admin", "555555");
    rig.press(Shortcut::Function(10));
    rig.press(Shortcut::Letter('b'));
    (rig, env)
}

fn fill(rig: &mut Rig, url: &str, token: &str, ca: &str, folder: &str) {
    send(rig, sync::Message::Url(url.into()));
    send(rig, sync::Message::TokenFile(token.into()));
    send(rig, sync::Message::CaFile(ca.into()));
    send(rig, sync::Message::Folder(folder.into()));
}

fn token_file(dir: &Path) -> String {
    let p = dir.join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.display().to_string()
}

fn audited(rig: &Rig, event: &str) -> usize {
    rig.ledger()
        .recent_audit(500)
        .unwrap()
        .into_iter()
        .filter(|a| a.event == event)
        .count()
}

#[test]
fn a_folder_is_tried_then_saved_and_audited() {
    let (mut rig, env) = at_sync_page();
    assert_eq!(
        page(&rig).current(),
        env.data_dir.join("outgoing").display().to_string()
    );

    // Said wrong, in words, nothing saved.
    let share = rig.dir.path().join("share");
    let share_text = share.display().to_string();
    fill(&mut rig, "", "", "", "");
    rig.press(Shortcut::Save);
    assert!(
        said(&rig)
            .unwrap_err()
            .starts_with("Type the backend's URL")
    );
    fill(&mut rig, "https://notify.example.org", "", "", &share_text);
    rig.press(Shortcut::Save);
    assert!(said(&rig).unwrap_err().contains("not both"));
    fill(&mut rig, "https://notify.example.org", "", "", "");
    rig.press(Shortcut::Letter('t'));
    assert!(
        said(&rig)
            .unwrap_err()
            .contains("the file that holds the token")
    );
    // A folder typed where the address goes is said so.
    fill(&mut rig, &share_text, "", "", "");
    rig.press(Shortcut::Save);
    assert!(said(&rig).unwrap_err().contains("is not a web address"));
    assert_eq!(audited(&rig, "sync-configured"), 0);

    // Enter in the folder field tries it; nothing is left in the folder.
    fill(&mut rig, "", "", "", &share_text);
    rig.enter(sync::FOLDER_FIELD);
    let tried = said(&rig).unwrap();
    assert!(tried.contains("is writable"), "{tried}");
    assert_eq!(std::fs::read_dir(&share).unwrap().count(), 0);
    assert_eq!(audited(&rig, "sync-configured"), 0);

    rig.press(Shortcut::Save);
    assert_eq!(
        said(&rig),
        Ok(format!(
            "Saved: batches go to {share_text}. The sync service follows at once."
        ))
    );
    assert_eq!(page(&rig).current(), share_text);
    assert_eq!(
        Config::load(&env).sync.transport,
        SyncTransport::Directory {
            path: Some(share.clone())
        }
    );
    assert_eq!(audited(&rig, "sync-configured"), 1);
}

#[test]
fn test_connection_reports_what_the_backend_said_and_sends_no_event() {
    let (mut rig, env) = at_sync_page();
    let rx = Receiver::start(TOKEN, Behaviour::default());
    let token = token_file(rig.dir.path());
    fill(&mut rig, &rx.url, &token, "", "");
    rig.press(Shortcut::Letter('t'));
    let tried = said(&rig).unwrap();
    assert!(
        tried.starts_with(&format!("{} answered", rx.url)),
        "{tried}"
    );
    {
        let stored = rx.stored.lock().unwrap();
        assert_eq!(stored.requests, 1);
        assert!(stored.events.is_empty() && stored.batches.is_empty());
    }

    // A backend that knows another token: said, naming the file.
    let other = Receiver::start("some-other-token-13579", Behaviour::default());
    fill(&mut rig, &other.url, &token, "", "");
    rig.press(Shortcut::Letter('t'));
    let refused = said(&rig).unwrap_err();
    assert!(refused.contains("refused the token"), "{refused}");
    assert!(refused.contains(&token), "{refused}");

    // A CA file that holds no certificate is refused before anything is tried.
    let ca = rig.dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    fill(&mut rig, &rx.url, &token, ca.to_str().unwrap(), "");
    rig.press(Shortcut::Letter('t'));
    assert!(said(&rig).unwrap_err().contains("holds no PEM certificate"));
    assert_eq!(rx.stored.lock().unwrap().requests, 1);

    // Trying changed nothing on disk or in the ledger.
    assert_eq!(Config::load(&env), Config::default());
    assert_eq!(audited(&rig, "sync-configured"), 0);
}

#[test]
fn a_county_hub_is_saved_and_the_header_follows() {
    let (mut rig, env) = at_sync_page();
    assert!(!rig.app.header().hub);
    let token = token_file(rig.dir.path());
    // The hub is reached by URL, never through a folder.
    let folder = rig.dir.path().join("x").display().to_string();
    fill(&mut rig, "", "", "", &folder);
    rig.press(Shortcut::Letter('h'));
    assert!(page(&rig).hub());
    rig.press(Shortcut::Save);
    assert!(
        said(&rig)
            .unwrap_err()
            .contains("hub is reached by its URL")
    );

    // Plain http is refused away from this machine.
    fill(&mut rig, "http://hub.county.example:8080", &token, "", "");
    rig.press(Shortcut::Save);
    assert!(said(&rig).unwrap_err().contains("plain http"));
    assert!(!rig.app.header().hub);

    fill(&mut rig, "http://127.0.0.1:9443", &token, "", "");
    rig.press(Shortcut::Save);
    assert!(
        said(&rig)
            .unwrap()
            .contains("county hub at http://127.0.0.1:9443")
    );
    assert!(rig.app.header().hub);
    assert!(rig.ledger().station().hub);
    let saved = Config::load(&env).sync;
    assert_eq!(saved.max_batch_age_secs, 1);
    assert!(
        matches!(saved.transport, SyncTransport::Https { ref url, .. } if url == "http://127.0.0.1:9443")
    );
    let rows = rig.ledger().recent_audit(50).unwrap();
    let row = rows.iter().find(|a| a.event == "sync-configured").unwrap();
    assert!(row.detail.contains("\"hub\":true"), "{}", row.detail);
}

#[test]
fn a_demo_station_promises_no_sending_when_saved() {
    let (rig, _env) = at_sync_page();
    let user = page(&rig).user.clone();
    let mut demo = ui_common::station(&rig.dir);
    demo.header.demo = true;
    let mut state = sync::State::new(user, &demo);
    let _ = state.update(
        sync::Message::Saved(Ok(("/srv/share".into(), false))),
        &demo,
    );
    assert_eq!(
        state.outcome().cloned(),
        Some(Ok(
            "Saved: batches go to /srv/share. This is a demo station: it sends nothing.".into()
        ))
    );
}
