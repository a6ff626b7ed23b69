//! The desktop application (iced): routing between screens and the calls to the
//! ledger thread. Screens own their state and view; this module turns their actions
//! into ledger jobs (never on the UI thread) and their answers back into messages.

mod boot;
mod clerk;
mod jobs;
mod keys;
mod settings_jobs;

pub use boot::{Boot, boot, run};
use boot::{scanner_stream, ticks};

use iced::futures::channel::oneshot;
use iced::widget::{column, container, operation, text};
use iced::{Element, Fill, Subscription, Task, keyboard};
use std::time::{Duration, Instant};

use crate::screen::{
    audit, batches, close_batch, dashboard, export, import, needs_attention, open_batch, review,
    scan, settings, sign_in, undeliverable,
};
use crate::sound::{Cue, Sounds};
use crate::theme;
use crate::worker::LedgerWorker;
use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Batch, BatchClose, Ledger, SyncCounts, User};
use ballot_intake_core::scanner::DeviceMessage;
use ballot_intake_core::scanner::wedge::{Key, WedgeConfig, WedgeDecoder};

/// Where the application is.
pub enum Screen {
    /// Signing in.
    SignIn(sign_in::State),
    /// Opening a batch.
    OpenBatch {
        /// Who is signed in.
        user: User,
        /// The form.
        state: open_batch::State,
    },
    /// Scanning (boxed: by far the largest screen).
    Scan(Box<scan::State>),
    /// A screen opened over the scan screen, which is kept to go back to (Esc).
    Over {
        /// The scan screen left.
        scan: Box<scan::State>,
        /// What is shown instead.
        over: Over,
    },
}

/// The screens opened over the scan screen: closing the batch, and the supervisors'.
pub enum Over {
    /// Closing the batch.
    CloseBatch(close_batch::State),
    /// Undeliverable mode (supervisors).
    Undeliverable(undeliverable::State),
    /// Needs-attention mode (supervisors).
    NeedsAttention(needs_attention::State),
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
    /// The nightly batch file.
    Export(export::State),
}

impl Over {
    /// Whether a file is being read or written (import, export): the screen waits
    /// for it before it can be left.
    fn busy(&self) -> bool {
        match self {
            Over::Import(state) => state.busy(),
            Over::Export(state) => state.busy(),
            _ => false,
        }
    }
}

/// Everything the application reacts to.
#[derive(Debug, Clone)]
pub enum Message {
    /// The sign-in screen.
    SignIn(sign_in::Message),
    /// The open-batch screen.
    OpenBatch(open_batch::Message),
    /// The scan screen.
    Scan(scan::Message),
    /// A key from the window, for the keyboard-wedge decoder, with when it came.
    Key(Key, Instant),
    /// Tab (or Shift-Tab): the next (previous) field.
    Tab {
        /// Shift held.
        back: bool,
    },
    /// The ledger answered a sign-in: the user and their open batch, if any.
    SignedIn(Result<(User, Option<Batch>), String>),
    /// The ledger answered an open-batch.
    BatchOpened(Result<Batch, String>),
    /// The close-batch screen.
    CloseBatch(close_batch::Message),
    /// The ledger answered a close-batch.
    BatchClosed(Result<BatchClose, String>),
    /// A function key: F2 closes the batch, Escape goes back.
    Shortcut(keyboard::key::Named),
    /// Undeliverable mode.
    Undeliverable(undeliverable::Message),
    /// Needs-attention mode.
    NeedsAttention(needs_attention::Message),
    /// Review and corrections.
    Review(review::Message),
    /// Batches.
    Batches(batches::Message),
    /// The audit log.
    Audit(audit::Message),
    /// The dashboard.
    Dashboard(dashboard::Message),
    /// The import screen.
    Import(import::Message),
    /// The settings screen.
    Settings(settings::Message),
    /// The nightly batch file screen.
    Export(export::Message),
    /// Ctrl and a letter: S saves the settings, O opens the import's file dialog.
    Ctrl(char),
    /// The settings were written and audited; they take effect.
    SettingsSaved(Box<Config>),
    /// Ctrl and a digit (the endorsement shortcuts).
    CtrlDigit(usize),
    /// Once a second: the idle sign-out, and now and then the sync status.
    Tick,
    /// A serial or USB scanner reported something.
    Device(DeviceMessage),
    /// The sync's counts, for the header.
    SyncStatus(Option<SyncCounts>),
}

/// The application.
pub struct App {
    worker: LedgerWorker,
    header: scan::Header,
    demo_hint: Option<String>,
    screen: Screen,
    wedge: WedgeDecoder,
    /// The last code sent to the ledger from the keyboard, and when: the same code
    /// again within the double-read window is one envelope (a wedge burst typed into
    /// the focused manual field arrives both as keys and as the field's Enter).
    last_keyboard_code: Option<(String, Instant)>,
    /// Sign out after this long without a key or a scan (`None`: never).
    idle_limit: Option<Duration>,
    last_activity: Instant,
    live: scan::Live,
    ticks: u64,
    /// A scan that arrived where it cannot be recorded (signed out, or a supervisor
    /// screen that does not take scans): said on a red strip over any screen until
    /// the screen changes, so a scanner's beep is never taken for a recorded envelope.
    notice: Option<String>,
    /// Where `config.json` is written from the settings screen (`None`: the settings
    /// cannot be saved, as in tests that need no files).
    env: Option<Environment>,
    /// The settings in force.
    config: Config,
    sounds: Sounds,
    /// The last sound asked for (for tests: the device may be silent).
    last_cue: Option<Cue>,
}

/// Runs `f` on the ledger thread; the future resolves with its result (or `None` if
/// the ledger thread is gone).
fn ask<T: Send + 'static>(
    worker: &LedgerWorker,
    f: impl FnOnce(&mut Ledger) -> T + Send + 'static,
) -> impl Future<Output = Option<T>> + Send + 'static {
    let (tx, rx) = oneshot::channel();
    worker.run(f, move |r| {
        let _ = tx.send(r);
    });
    async move { rx.await.ok() }
}

const GONE: &str = "the ledger stopped; restart ballot-intake";

/// The sound for a result coming back from the ledger: the scan's outcome, whether a
/// flag was recorded, and the set-aside sound for anything NOT recorded.
fn result_cue(message: &Message) -> Option<Cue> {
    let ok = |recorded: bool| {
        if recorded {
            Cue::Accepted
        } else {
            Cue::SetAside
        }
    };
    match message {
        Message::Scan(scan::Message::Recorded(r)) => Some(match r.as_ref() {
            Ok(result) => Cue::for_outcome(result.outcome),
            Err(_) => Cue::SetAside,
        }),
        Message::Undeliverable(undeliverable::Message::Recorded(r))
        | Message::NeedsAttention(needs_attention::Message::Recorded(r)) => Some(ok(r.is_ok())),
        _ => None,
    }
}

impl App {
    /// The application on an open ledger.
    pub fn new(
        worker: LedgerWorker,
        header: scan::Header,
        demo_hint: Option<String>,
        idle_limit: Option<Duration>,
    ) -> (App, Task<Message>) {
        let app = App {
            worker,
            header,
            screen: Screen::SignIn(sign_in::State::new(demo_hint.clone())),
            demo_hint,
            wedge: WedgeDecoder::new(WedgeConfig::default()),
            last_keyboard_code: None,
            idle_limit,
            last_activity: Instant::now(),
            live: scan::Live::default(),
            ticks: 0,
            notice: None,
            env: None,
            config: Config::default(),
            sounds: Sounds::silent(),
            last_cue: None,
        };
        (app, operation::focus(sign_in::State::focus_id()))
    }

    /// Puts the station's settings in force: the scanners to read, the sounds and the
    /// idle sign-out; `env` is where the settings screen saves them.
    pub fn configure(&mut self, env: Option<Environment>, config: Config, sounds: Sounds) {
        self.apply(config);
        self.env = env;
        self.sounds = sounds;
    }

    /// The settings in `config` take effect: the scanners' subscriptions follow the
    /// list, the idle limit and sounds change at once.
    fn apply(&mut self, config: Config) {
        self.idle_limit = (config.ui.idle_minutes > 0)
            .then(|| Duration::from_secs(config.ui.idle_minutes.saturating_mul(60)));
        self.config = config;
    }

    /// What the NOT RECORDED strip says, if it is up.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The last sound the application asked for.
    pub fn last_cue(&self) -> Option<Cue> {
        self.last_cue
    }

    /// The scanners read, each as its configuration in JSON: what identifies its
    /// subscription, so that a changed setting restarts the reader.
    pub fn scanners(&self) -> Vec<String> {
        self.config
            .scanners
            .iter()
            .filter_map(|s| serde_json::to_string(s).ok())
            .collect()
    }

    /// Plays `cue` if the station has sounds turned on.
    fn cue(&mut self, cue: Cue) {
        self.last_cue = Some(cue);
        if self.config.ui.sounds {
            self.sounds
                .play(cue, f32::from(self.config.ui.volume.min(100)) / 100.0);
        }
    }

    /// The current screen (for tests and the title).
    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// Always the light theme, whatever the desktop prefers: every colour's contrast
    /// is checked against its white page (`theme.rs`), and every station in an
    /// office should look the same to the clerks moving between them.
    pub fn theme(&self) -> iced::Theme {
        theme::THEME
    }

    /// The window title.
    pub fn title(&self) -> String {
        format!(
            "ballot-intake: station {}{}",
            self.header.station,
            if self.header.demo { " (DEMO)" } else { "" }
        )
    }

    fn sign_out(&mut self) -> Task<Message> {
        self.screen = Screen::SignIn(sign_in::State::new(self.demo_hint.clone()));
        operation::focus(sign_in::State::focus_id())
    }

    /// A scan arrived where it cannot be recorded: the strip says so, with the
    /// set-aside sound, so that the scanner's own beep is not taken for a record.
    fn refuse_scan(&mut self, what: &str) {
        self.notice = Some(self.not_recorded(what));
        self.cue(Cue::SetAside);
    }

    /// What the strip says of a scan that arrived where it cannot be recorded, and
    /// what to do about it on this screen.
    fn not_recorded(&self, what: &str) -> String {
        let todo = match self.screen {
            Screen::SignIn(_) => "Sign in and open a batch, then scan it again.",
            Screen::OpenBatch { .. } => "Open the batch, then scan it again.",
            Screen::Scan(_) | Screen::Over { .. } => {
                "Press Esc to go back to scanning, then scan it again."
            }
        };
        format!("NOT RECORDED: {what}. {todo}")
    }

    /// The scan screen, taken back from whichever screen was opened over it.
    fn take_scan(&mut self) -> Option<Box<scan::State>> {
        match std::mem::replace(&mut self.screen, Screen::SignIn(sign_in::State::default())) {
            Screen::Scan(scan) | Screen::Over { scan, .. } => Some(scan),
            other => {
                self.screen = other;
                None
            }
        }
    }

    /// Handles a message. The NOT RECORDED strip belongs to the screen it was shown
    /// on: it goes when the screen changes.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        let before = self.screen_kind();
        let task = self.route(message);
        if self.screen_kind() != before {
            self.notice = None;
        }
        task
    }

    /// Which screen is up (and which is open over scanning), without its contents.
    fn screen_kind(
        &self,
    ) -> (
        std::mem::Discriminant<Screen>,
        Option<std::mem::Discriminant<Over>>,
    ) {
        let over = match &self.screen {
            Screen::Over { over, .. } => Some(std::mem::discriminant(over)),
            _ => None,
        };
        (std::mem::discriminant(&self.screen), over)
    }

    fn route(&mut self, message: Message) -> Task<Message> {
        if !matches!(
            message,
            Message::Tick | Message::SyncStatus(_) | Message::Device(_)
        ) {
            self.last_activity = Instant::now();
        }
        if let Some(cue) = result_cue(&message) {
            self.cue(cue);
        }
        match message {
            Message::SyncStatus(counts) => {
                self.live.sync = counts;
                Task::none()
            }
            Message::Device(m) => self.device(m),
            Message::Tick => {
                self.ticks += 1;
                let idle = self
                    .idle_limit
                    .is_some_and(|l| self.last_activity.elapsed() >= l);
                if idle && !matches!(self.screen, Screen::SignIn(_)) {
                    log::info!("signed out after {:?} idle", self.idle_limit);
                    let task = self.sign_out();
                    if let Screen::SignIn(s) = &mut self.screen {
                        s.error = Some("Signed out after a time without activity.".into());
                    }
                    return task;
                }
                // The dashboard and the sync's counts every five seconds.
                if self.ticks % 5 == 1
                    && matches!(
                        self.screen,
                        Screen::Over {
                            over: Over::Dashboard(_),
                            ..
                        }
                    )
                {
                    return self.load_dashboard();
                }
                if self.ticks % 5 == 1 {
                    return Task::perform(ask(&self.worker, |l| l.sync_counts().ok()), |c| {
                        Message::SyncStatus(c.flatten())
                    });
                }
                Task::none()
            }
            Message::Undeliverable(m) => {
                if let Screen::Over {
                    over: Over::Undeliverable(state),
                    ..
                } = &mut self.screen
                {
                    state.update(m);
                }
                Task::none()
            }
            Message::NeedsAttention(m) => {
                if let Screen::Over {
                    over: Over::NeedsAttention(state),
                    ..
                } = &mut self.screen
                {
                    state.update(m);
                }
                Task::none()
            }
            Message::Import(m) => {
                let Screen::Over {
                    over: Over::Import(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.import_action(action)
            }
            Message::Settings(m) => {
                let Screen::Over {
                    over: Over::Settings(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.settings_action(action)
            }
            Message::Ctrl('s') => self.update(Message::Settings(settings::Message::Save)),
            Message::Ctrl('o') => match &self.screen {
                Screen::Over {
                    over: Over::Import(_),
                    ..
                } => self.update(Message::Import(import::Message::Browse)),
                Screen::Over {
                    over: Over::Export(_),
                    ..
                } => self.update(Message::Export(export::Message::Browse)),
                _ => Task::none(),
            },
            Message::Export(m) => {
                let Screen::Over {
                    over: Over::Export(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.export_action(action)
            }
            Message::Ctrl(_) => Task::none(),
            Message::SettingsSaved(config) => self.settings_saved(*config),
            Message::Dashboard(m) => {
                if let Screen::Over {
                    over: Over::Dashboard(state),
                    ..
                } = &mut self.screen
                {
                    state.update(m);
                }
                Task::none()
            }
            Message::Audit(m) => {
                let Screen::Over {
                    over: Over::Audit(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.audit_action(action)
            }
            Message::Batches(m) => {
                let Screen::Over {
                    over: Over::Batches(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.batches_action(action)
            }
            Message::Review(m) => {
                let Screen::Over {
                    over: Over::Review(state),
                    ..
                } = &mut self.screen
                else {
                    return Task::none();
                };
                let action = state.update(m);
                self.review_action(action)
            }
            Message::CtrlDigit(n) => {
                match &mut self.screen {
                    Screen::Over {
                        over: Over::Undeliverable(state),
                        ..
                    } => {
                        state.update(undeliverable::Message::Shortcut(n));
                    }
                    Screen::Over {
                        over: Over::NeedsAttention(state),
                        ..
                    } => {
                        state.update(needs_attention::Message::Shortcut(n));
                    }
                    Screen::Over {
                        over: Over::Review(state),
                        ..
                    } => {
                        let action = state.update(review::Message::Select(n));
                        return self.review_action(action);
                    }
                    Screen::Over {
                        over: Over::Settings(state),
                        ..
                    } if n > 0 => {
                        state.update(settings::Message::AddDetected(n - 1));
                    }
                    _ => {}
                }
                Task::none()
            }
            Message::Shortcut(key) => self.shortcut(key),
            Message::CloseBatch(m) => self.close_batch_message(m),
            Message::BatchClosed(result) => self.batch_closed(result),

            Message::Key(key, at) => self.key(key, at),
            Message::Tab { back } => self.tab(back),
            Message::SignIn(m) => self.sign_in_message(m),
            Message::SignedIn(result) => match (result, &mut self.screen) {
                (Ok((user, Some(batch))), _) => {
                    self.screen = Screen::Scan(Box::new(scan::State::new(user, batch)));
                    operation::focus(scan::State::focus_id())
                }
                (Ok((user, None)), _) => {
                    self.screen = Screen::OpenBatch {
                        user,
                        state: open_batch::State::default(),
                    };
                    operation::focus(open_batch::State::focus_id())
                }
                (Err(e), Screen::SignIn(state)) => {
                    state.failed(e);
                    operation::focus(sign_in::State::focus_id())
                }
                (Err(_), _) => Task::none(),
            },
            Message::OpenBatch(m) => self.open_batch_message(m),
            Message::BatchOpened(result) => self.batch_opened(result),
            Message::Scan(m) => self.scan_message(m),
        }
    }

    /// Draws the current screen, under the DEMO banner on a demo station.
    pub fn view(&self) -> Element<'_, Message> {
        let screen = match &self.screen {
            Screen::SignIn(s) => s.view().map(Message::SignIn),
            Screen::OpenBatch { state, .. } => state.view().map(Message::OpenBatch),
            Screen::Scan(s) => s.view(&self.header, &self.live).map(Message::Scan),
            Screen::Over {
                over: Over::CloseBatch(state),
                ..
            } => state.view().map(Message::CloseBatch),
            Screen::Over {
                over: Over::Undeliverable(state),
                ..
            } => state.view().map(Message::Undeliverable),
            Screen::Over {
                over: Over::NeedsAttention(state),
                ..
            } => state.view().map(Message::NeedsAttention),
            Screen::Over {
                over: Over::Review(state),
                ..
            } => state.view(self.header.timezone).map(Message::Review),
            Screen::Over {
                over: Over::Batches(state),
                ..
            } => state.view().map(Message::Batches),
            Screen::Over {
                over: Over::Audit(state),
                ..
            } => state.view(self.header.timezone).map(Message::Audit),
            Screen::Over {
                over: Over::Dashboard(state),
                ..
            } => state.view().map(Message::Dashboard),
            Screen::Over {
                over: Over::Import(state),
                ..
            } => state.view().map(Message::Import),
            Screen::Over {
                over: Over::Settings(state),
                ..
            } => state.view(&self.sound_status()).map(Message::Settings),
            Screen::Over {
                over: Over::Export(state),
                ..
            } => state.view().map(Message::Export),
        };
        let demo = self.header.demo.then(|| {
            container(text("DEMO STATION: not a real election; nothing here is ever sent").size(24))
                .center_x(Fill)
                .padding(8)
                .style(theme::panel(theme::DEMO))
        });
        let notice = self.notice.as_ref().map(|n| {
            container(text(n.as_str()).size(24))
                .center_x(Fill)
                .padding(8)
                .style(theme::panel(theme::ERROR))
        });
        column![].push(demo).push(notice).push(screen).into()
    }

    /// Every key pressed in the window, captured by a field or not: a wedge scanner
    /// types into whatever has focus, and must still be read as a scanner.
    pub fn subscription(&self) -> Subscription<Message> {
        let devices = self
            .scanners()
            .into_iter()
            .map(|cfg| Subscription::run_with(cfg, scanner_stream));
        Subscription::batch(
            [Subscription::run(ticks), Self::keys()]
                .into_iter()
                .chain(devices),
        )
    }
}
