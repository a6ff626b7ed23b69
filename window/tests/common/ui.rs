//! Helpers for the window's tests: a demo station's ledger on a real ledger thread,
//! an `App` driven through `update` with the tasks it returns run to completion
//! (their answers come from the real ledger thread and are fed back in, as the iced
//! runtime would), and a hand-made scan result only where a test draws a screen
//! whose pixels must not depend on the clock.
#![allow(dead_code)] // each test file uses its own share of them

use ballot_intake_core::environment::Environment;
use ballot_intake_core::intake::Outcome;
use ballot_intake_core::ledger::{Ledger, ScanResult};
use ballot_intake_core::scanner::wedge::Key;
use ballot_intake_window::app::{App, Message, Page, Screen, Shortcut};
use ballot_intake_window::screen::{open_batch, scan, sign_in};
use ballot_intake_window::station::{Header, Station};
use ballot_intake_window::worker::LedgerWorker;
use iced::Task;
use iced::futures::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The header of a made-up station.
pub fn header() -> Header {
    Header {
        station: "S1".into(),
        election: "2026 General (2026-GEN)".into(),
        demo: false,
        hub: false,
        timezone: chrono_tz::America::Denver,
    }
}

/// A demo station's ledger in a new folder.
pub fn demo_ledger() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let ledger = ballot_intake_core::demo::open_or_create(&env).unwrap();
    (dir, ledger)
}

/// A screen's view of a demo station: its ledger thread, the made-up header, and
/// its folder.
pub fn station(dir: &tempfile::TempDir) -> Station {
    let env = Environment::resolve(Some(dir.path())).unwrap();
    Station {
        worker: LedgerWorker::open(&env.ledger_path()).unwrap(),
        header: header(),
        env: Some(env),
    }
}

/// Runs `task` as the runtime would (its futures to completion, on the real ledger
/// thread) and feeds each message it yields back into `app`, until nothing is left.
/// Widget operations (focus) have no window here and are dropped.
pub fn drive(app: &mut App, task: Task<Message>) {
    run_tasks(task, |m| app.update(m));
}

/// Runs `task` and every task `update` makes of its messages, to the end: the
/// runtime's part, for any top-level `update` (the station's, the shell's).
pub fn run_tasks<M: 'static>(task: Task<M>, mut update: impl FnMut(M) -> Task<M>) {
    let mut queue = vec![task];
    let mut rounds = 0;
    while let Some(task) = queue.pop() {
        rounds += 1;
        assert!(rounds < 200, "tasks keep making tasks");
        let Some(stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        // Item by item: a widget operation that answers (which field has focus?)
        // waits for a window; dropped at once, its task ends with no answer.
        let mut stream = stream;
        let messages = iced::futures::executor::block_on(async {
            let mut messages = Vec::new();
            while let Some(action) = stream.next().await {
                if let iced_runtime::Action::Output(m) = action {
                    messages.push(m);
                }
            }
            messages
        });
        for m in messages {
            queue.push(update(m));
        }
    }
}

/// A demo station's window at the sign-in screen, driven like a person would.
pub struct Rig {
    /// The station's folder (removed when the rig goes).
    pub dir: tempfile::TempDir,
    /// The application.
    pub app: App,
}

impl Rig {
    /// A fresh demo station, signed out; `idle` is the idle sign-out.
    pub fn new(idle: Option<Duration>) -> Rig {
        let (dir, ledger) = demo_ledger();
        drop(ledger);
        Rig::on(dir, idle)
    }

    /// The window on the station in `dir`.
    pub fn on(dir: tempfile::TempDir, idle: Option<Duration>) -> Rig {
        Rig::on_with(dir, idle, header())
    }

    /// The window on the station in `dir`, with its own header.
    pub fn on_with(dir: tempfile::TempDir, idle: Option<Duration>, header: Header) -> Rig {
        let path = dir.path().join("ledger.sqlite3");
        let (app, _) = App::new(LedgerWorker::open(&path).unwrap(), header, None, idle);
        Rig { dir, app }
    }

    /// Another connection to the station's ledger, to read what was written.
    pub fn ledger(&self) -> Ledger {
        Ledger::open(&self.path()).unwrap()
    }

    /// The ledger file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite3")
    }

    /// Sends `message` and runs what it starts to the end.
    pub fn send(&mut self, message: Message) {
        let task = self.app.update(message);
        drive(&mut self.app, task);
    }

    /// A person's Enter with the cursor in `field` (the window's answer to "which
    /// field has focus?", which has no window to come from here).
    pub fn enter(&mut self, field: &'static str) {
        self.send(Message::Entered(iced::widget::Id::new(field)));
    }

    /// A function key, Esc or a Ctrl shortcut, run to the end.
    pub fn press(&mut self, shortcut: Shortcut) {
        self.send(Message::Shortcut(shortcut));
    }

    /// Name, PIN, Enter on the sign-in screen; the PIN is checked by the ledger.
    pub fn sign_in(&mut self, name: &str, pin: &str) {
        for m in [
            sign_in::Message::User(name.into()),
            sign_in::Message::Pin(pin.into()),
            sign_in::Message::Submit,
        ] {
            self.send(Message::SignIn(m));
        }
    }

    /// Signs in and, if the open-batch form comes up, opens a batch: scanning.
    pub fn scanning(&mut self, name: &str, pin: &str) {
        self.sign_in(name, pin);
        if matches!(self.app.screen(), Screen::OpenBatch(_)) {
            self.send(Message::OpenBatch(open_batch::Message::Submit));
        }
        assert!(matches!(self.app.screen(), Screen::Scan(_)), "not scanning");
    }

    /// Types `text` as key events `gap_ms` apart from `start` (a scanner 2 ms, a
    /// person 120 ms), each key's task run to the end; returns the time after.
    pub fn keys(&mut self, text: &str, start: Instant, gap_ms: u64) -> Instant {
        let mut t = start;
        for c in text.chars() {
            let key = if c == '\n' { Key::Enter } else { Key::Char(c) };
            self.send(Message::Key(key, t));
            t += Duration::from_millis(gap_ms);
        }
        t
    }

    /// The page open over scanning.
    pub fn page(&self) -> &Page {
        self.app.page().expect("a page is open")
    }

    /// The scan screen (up, or kept under a page).
    pub fn scan(&self) -> &scan::State {
        self.app.scan().expect("signed in and scanning")
    }
}

/// A recorded scan with this outcome, made by hand: for drawings compared pixel for
/// pixel, whose times must not be the clock's.
pub fn scan_result(outcome: Outcome) -> ScanResult {
    ScanResult {
        barcode: "D000001".into(),
        outcome,
        ballot_id: Some("D000001".into()),
        batch: 1,
        seq: 7,
        at: "2026-11-03T17:00:00.000000Z".into(),
        source: "wedge:keyboard".into(),
        symbology: None,
        reason: None,
        first_receipt: None,
        instruction: "Put in tray".into(),
        confidential: false,
    }
}
