//! The pages a function key opens from the scan screen (closing the batch, the
//! supervisors' screens, settings, the nightly file), and the one place that routes
//! a message, a scan, a shortcut or a clock tick to whichever of them is open.
//! Each page's own file does the work; this only matches page to message.

use iced::Task;
use iced::widget::{Id, operation};

use ballot_intake_core::auth::Role;
use ballot_intake_core::config::Config;
use ballot_intake_core::ledger::{BatchClose, User};

use super::keys::Shortcut;
use crate::screen::flag::{self, Kind};
use crate::screen::{
    Scanned, audit, batches, close_batch, dashboard, elections, export, import, review, scan,
    settings, sync, users,
};
use crate::sound::Cue;
use crate::station::Station;

/// A page open over the scan screen (which is kept, to go back to with Esc).
pub enum Page {
    /// Closing the batch with a second person.
    CloseBatch(close_batch::State),
    /// Undeliverable or needs-attention mode (supervisors).
    Flag(flag::State),
    /// Review and corrections (supervisors).
    Review(review::State),
    /// Batches and discrepancies (supervisors).
    Batches(batches::State),
    /// The dashboard (supervisors).
    Dashboard(dashboard::State),
    /// Importing a mail ballot file (supervisors).
    Import(import::State),
    /// The audit log (supervisors).
    Audit(audit::State),
    /// The station's settings (administrators; boxed: the largest of these).
    Settings(Box<settings::State>),
    /// The nightly batch file (anyone signed in).
    Export(export::State),
    /// The station's users (administrators; Ctrl+U on the settings page).
    Users(users::State),
    /// The ledger's elections (administrators; Ctrl+R on the settings page).
    Elections(elections::State),
    /// Where the sync sends (administrators; Ctrl+B on the settings page).
    Sync(sync::State),
}

/// A message for the page that is open.
#[derive(Debug, Clone)]
pub enum Message {
    /// The close-batch form.
    CloseBatch(close_batch::Message),
    /// A flag mode.
    Flag(flag::Message),
    /// Review and corrections.
    Review(review::Message),
    /// Batches.
    Batches(batches::Message),
    /// The dashboard.
    Dashboard(dashboard::Message),
    /// The import screen.
    Import(import::Message),
    /// The audit log.
    Audit(audit::Message),
    /// Settings.
    Settings(settings::Message),
    /// The nightly batch file.
    Export(export::Message),
    /// The users page.
    Users(users::Message),
    /// The elections page.
    Elections(elections::Message),
    /// The sync page.
    Sync(sync::Message),
}

/// What a page asks of the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The batch was closed: on to the next tray's form.
    BatchClosed(Box<BatchClose>),
    /// Back to scanning.
    Back,
    /// Play a cue (if the station's sounds are on).
    Sound(Cue),
    /// Play a cue whatever the setting (the settings' test buttons).
    Play(Cue, f32),
    /// New settings are saved: they take effect.
    SettingsSaved(Box<Config>),
    /// Another election is active: the header's line for it.
    ElectionChanged(String),
    /// A new sync destination is saved: whether it is a county hub.
    SyncChanged {
        /// The destination is the county hub.
        hub: bool,
    },
}

/// Why a function key opened nothing, said to the person who pressed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A supervisor's screen.
    NeedsSupervisor,
    /// An administrator's screen.
    NeedsAdmin,
}

impl Refusal {
    /// What the scan screen says.
    pub fn said(self) -> String {
        let who = match self {
            Refusal::NeedsSupervisor => "a supervisor",
            Refusal::NeedsAdmin => "an administrator",
        };
        format!("That key opens a screen for {who}: ask one to sign in at this station.")
    }
}

impl Page {
    /// The page function key `f` opens for `user` (from `scan` when scanning: F2
    /// closes its batch), with the task that loads it and puts the cursor in its
    /// first field; `Ok(None)` for a key that opens no page here, `Err` for one
    /// `user` may not use.
    pub fn open(
        f: u8,
        user: &User,
        scan: Option<&scan::State>,
        station: &Station,
        config: &Config,
    ) -> Result<Option<(Page, Task<Message>)>, Refusal> {
        let supervisor = user.role.can_supervise();
        match f {
            3..=9 if !supervisor => return Err(Refusal::NeedsSupervisor),
            10 if user.role != Role::Admin => return Err(Refusal::NeedsAdmin),
            _ => {}
        }
        let user = user.clone();
        let focus = operation::focus;
        Ok(Some(match (f, scan) {
            (2, Some(scan)) => (
                Page::CloseBatch(close_batch::State::new(
                    user,
                    scan.batch.batch_id,
                    scan.accepted,
                )),
                focus(close_batch::State::focus_id()),
            ),
            (3, _) => (
                Page::Flag(flag::State::new(user, Kind::Undeliverable)),
                Task::none(),
            ),
            (4, _) => (
                Page::Flag(flag::State::new(user, Kind::NeedsAttention)),
                focus(flag::State::focus_id()),
            ),
            (5, _) => (
                Page::Review(review::State::new(user)),
                focus(review::State::focus_id()),
            ),
            (6, _) => {
                let (state, load) = batches::State::new(user, station);
                let task = Task::batch([
                    load.map(Message::Batches),
                    focus(batches::State::focus_id()),
                ]);
                return Ok(Some((Page::Batches(state), task)));
            }
            (7, _) => {
                let folder = station
                    .env
                    .as_ref()
                    .map(|e| {
                        e.data_dir
                            .join("exports")
                            .join("audit")
                            .display()
                            .to_string()
                    })
                    .unwrap_or_default();
                let (state, load) = audit::State::new(user, station, folder);
                let task = Task::batch([load.map(Message::Audit), focus(audit::State::focus_id())]);
                return Ok(Some((Page::Audit(state), task)));
            }
            (8, _) => {
                let (state, load) = dashboard::State::new(station);
                return Ok(Some((Page::Dashboard(state), load.map(Message::Dashboard))));
            }
            (9, _) => (
                Page::Import(import::State::new(user.clone())),
                focus(import::State::focus_id()),
            ),
            (10, _) => {
                let (state, detect) = settings::State::new(user, &config.ui, &config.scanners);
                let task = Task::batch([
                    detect.map(Message::Settings),
                    focus(settings::State::focus_id()),
                ]);
                return Ok(Some((Page::Settings(Box::new(state)), task)));
            }
            (11, _) => {
                let tz = station.header.timezone;
                let today = chrono::Utc::now().with_timezone(&tz).date_naive();
                let folder = station
                    .env
                    .as_ref()
                    .map(|e| e.data_dir.join("exports").display().to_string())
                    .unwrap_or_default();
                let state = export::State::new(user, today.pred_opt().unwrap_or(today), folder);
                (Page::Export(state), focus(export::State::focus_id()))
            }
            _ => return Ok(None),
        }))
    }

    /// Whether a file is being read or written (import, export): the page waits
    /// for it before it can be left.
    pub fn busy(&self) -> bool {
        match self {
            Page::Import(state) => state.busy(),
            Page::Export(state) => state.busy(),
            _ => false,
        }
    }

    /// Hands `message` to the page it is for. An answer for a page that has since
    /// been closed finds nothing, and is dropped.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        let none = (Task::none(), None);
        match (self, message) {
            (Page::CloseBatch(s), Message::CloseBatch(m)) => {
                let (task, event) = s.update(m, station);
                let event = event.map(|e| match e {
                    close_batch::Event::Closed(closed) => Event::BatchClosed(closed),
                    close_batch::Event::Cancel => Event::Back,
                });
                (task.map(Message::CloseBatch), event)
            }
            (Page::Flag(s), Message::Flag(m)) => {
                let event = s.update(m).map(|flag::Event::Sound(cue)| Event::Sound(cue));
                (Task::none(), event)
            }
            (Page::Review(s), Message::Review(m)) => {
                (s.update(m, station).map(Message::Review), None)
            }
            (Page::Batches(s), Message::Batches(m)) => {
                (s.update(m, station).map(Message::Batches), None)
            }
            (Page::Dashboard(s), Message::Dashboard(m)) => {
                s.update(m);
                none
            }
            (Page::Import(s), Message::Import(m)) => {
                (s.update(m, station).map(Message::Import), None)
            }
            (Page::Audit(s), Message::Audit(m)) => (s.update(m, station).map(Message::Audit), None),
            (Page::Settings(s), Message::Settings(m)) => {
                let (task, event) = s.update(m, station);
                let event = event.map(|e| match e {
                    settings::Event::Play(cue, volume) => Event::Play(cue, volume),
                    settings::Event::Saved(config) => Event::SettingsSaved(config),
                });
                (task.map(Message::Settings), event)
            }
            (Page::Export(s), Message::Export(m)) => {
                (s.update(m, station).map(Message::Export), None)
            }
            (Page::Users(s), Message::Users(m)) => (s.update(m, station).map(Message::Users), None),
            (Page::Elections(s), Message::Elections(m)) => {
                let (task, header) = s.update(m, station);
                (
                    task.map(Message::Elections),
                    header.map(Event::ElectionChanged),
                )
            }
            (Page::Sync(s), Message::Sync(m)) => {
                let (task, hub) = s.update(m, station);
                (
                    task.map(Message::Sync),
                    hub.map(|hub| Event::SyncChanged { hub }),
                )
            }
            _ => none,
        }
    }

    /// A scanner read `scan` while this page is open: the flag modes flag it,
    /// review looks it up, settings shows it. `Err` gives it back from a page that
    /// takes no scans, for the NOT RECORDED strip.
    pub fn scanned(&mut self, scan: Scanned, station: &Station) -> Result<Task<Message>, Scanned> {
        match self {
            Page::Flag(s) => Ok(s.scanned(scan, station).map(Message::Flag)),
            Page::Review(s) => Ok(s.scanned(&scan, station).map(Message::Review)),
            Page::Settings(s) => {
                s.scanned(scan);
                Ok(Task::none())
            }
            _ => Err(scan),
        }
    }

    /// What a person's Enter in `field` does on this page, if anything.
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        match self {
            Page::CloseBatch(s) => s.on_enter(field).map(Message::CloseBatch),
            Page::Flag(_) | Page::Dashboard(_) => None,
            Page::Review(s) => s.on_enter(field).map(Message::Review),
            Page::Batches(s) => s.on_enter(field).map(Message::Batches),
            Page::Import(s) => s.on_enter(field).map(Message::Import),
            Page::Audit(s) => s.on_enter(field).map(Message::Audit),
            Page::Settings(s) => s.on_enter(field).map(Message::Settings),
            Page::Export(s) => s.on_enter(field).map(Message::Export),
            Page::Users(s) => s.on_enter(field).map(Message::Users),
            Page::Elections(s) => s.on_enter(field).map(Message::Elections),
            Page::Sync(s) => s.on_enter(field).map(Message::Sync),
        }
    }

    /// A keyboard-wedge scan typed `code` into the focused field: taken back out.
    pub fn take_back(&mut self, code: &str) {
        match self {
            Page::CloseBatch(s) => s.take_back(code),
            Page::Flag(s) => s.take_back(code),
            Page::Review(s) => s.take_back(code),
            Page::Batches(s) => s.take_back(code),
            Page::Import(s) => s.take_back(code),
            Page::Audit(s) => s.take_back(code),
            Page::Settings(s) => s.take_back(code),
            Page::Export(s) => s.take_back(code),
            Page::Users(s) => s.take_back(code),
            Page::Elections(s) => s.take_back(code),
            Page::Sync(s) => s.take_back(code),
            Page::Dashboard(_) => {}
        }
    }

    /// A Ctrl shortcut, for the page that has one: save the settings, open a file
    /// dialog, pick a reason, a match or a found scanner by number.
    pub fn shortcut(
        &mut self,
        shortcut: Shortcut,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        if let Page::Settings(s) = &*self {
            // The settings page leads on to the users and elections pages (function
            // keys are all taken); Esc from there goes back to receiving, as from any
            // page.
            let user = s.user.clone();
            match shortcut {
                Shortcut::Letter('u') => {
                    let (state, load) = users::State::new(user, station);
                    *self = Page::Users(state);
                    let task = Task::batch([
                        load.map(Message::Users),
                        operation::focus(users::State::focus_id()),
                    ]);
                    return (task, None);
                }
                Shortcut::Letter('r') => {
                    let (state, load) = elections::State::new(user, station);
                    *self = Page::Elections(state);
                    let task = Task::batch([
                        load.map(Message::Elections),
                        operation::focus(elections::State::focus_id()),
                    ]);
                    return (task, None);
                }
                Shortcut::Letter('b') => {
                    *self = Page::Sync(sync::State::new(user, station));
                    return (operation::focus(sync::State::focus_id()), None);
                }
                _ => {}
            }
        }
        let message = match (&*self, shortcut) {
            (Page::Users(_), Shortcut::Letter(c @ ('n' | 'd' | 'e' | 'u'))) => {
                Message::Users(users::Message::Act(match c {
                    'n' => users::Action::Add,
                    'd' => users::Action::Disable,
                    'e' => users::Action::Enable,
                    _ => users::Action::Unlock,
                }))
            }
            (Page::Elections(_), Shortcut::Letter('n')) => {
                Message::Elections(elections::Message::Add)
            }
            (Page::Elections(_), Shortcut::Letter('y')) => {
                Message::Elections(elections::Message::Confirm)
            }
            (Page::Elections(_), Shortcut::Pick(n)) => {
                Message::Elections(elections::Message::Choose(n))
            }
            (Page::Sync(_), Shortcut::Save) => Message::Sync(sync::Message::Save),
            (Page::Sync(_), Shortcut::Letter('t')) => Message::Sync(sync::Message::Test),
            (Page::Sync(s), Shortcut::Letter('h')) => Message::Sync(sync::Message::Hub(!s.hub())),
            (Page::Settings(_), Shortcut::Save) => Message::Settings(settings::Message::Save),
            (Page::Import(_), Shortcut::Browse) => Message::Import(import::Message::Browse),
            (Page::Export(_), Shortcut::Browse) => Message::Export(export::Message::Browse),
            (Page::Audit(_), Shortcut::Browse) => Message::Audit(audit::Message::Browse),
            (Page::Batches(_), Shortcut::Letter('p')) => Message::Batches(batches::Message::Print),
            (Page::Flag(_), Shortcut::Pick(n)) => Message::Flag(flag::Message::Pick(n)),
            (Page::Flag(_), Shortcut::Next) => {
                Message::Flag(flag::Message::Cycle { forward: true })
            }
            (Page::Flag(_), Shortcut::Previous) => {
                Message::Flag(flag::Message::Cycle { forward: false })
            }
            (Page::Review(_), Shortcut::Pick(n)) => Message::Review(review::Message::Select(n)),
            (Page::Settings(_), Shortcut::Pick(n)) if n > 0 => {
                Message::Settings(settings::Message::AddDetected(n - 1))
            }
            (Page::Settings(_), Shortcut::Remove(n)) if n > 0 => {
                Message::Settings(settings::Message::Remove(n - 1))
            }
            (Page::Settings(s), Shortcut::Letter('m')) => {
                Message::Settings(settings::Message::Sounds(!s.sounds_on()))
            }
            (Page::Settings(_), Shortcut::Letter('p')) => {
                Message::Settings(settings::Message::Play(Cue::Accepted))
            }
            (Page::Settings(_), Shortcut::Letter('e')) => {
                Message::Settings(settings::Message::Play(Cue::SetAside))
            }
            (Page::Settings(_), Shortcut::Letter('l')) => {
                Message::Settings(settings::Message::Detect)
            }
            (Page::Settings(s), Shortcut::Next | Shortcut::Previous) => {
                let step: i16 = if shortcut == Shortcut::Next { -10 } else { 10 };
                let volume = (i16::from(s.volume()) + step).clamp(0, 100);
                Message::Settings(settings::Message::Volume(u8::try_from(volume).unwrap_or(0)))
            }
            _ => return (Task::none(), None),
        };
        if let Some(c) = shortcut.typed() {
            self.take_back(&c.to_string());
        }
        self.update(message, station)
    }

    /// A second passed (the dashboard refreshes itself).
    pub fn tick(&mut self, station: &Station) -> Task<Message> {
        match self {
            Page::Dashboard(s) => s.tick(station).map(Message::Dashboard),
            _ => Task::none(),
        }
    }
}
