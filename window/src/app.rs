//! The desktop application (iced): which screen is up, and the routing of messages,
//! scans, keys and the clock to it. The screens do their own work (`crate::screen`);
//! this module moves between them when one says so (signed in, batch opened, batch
//! closed, Esc, a function key) and keeps what outlives a screen: the wedge decoder,
//! the NOT RECORDED strip, the scanners' and the sync's state, sounds, idle sign-out.

mod boot;
mod keys;
mod page;

pub use boot::{APP_ID, Boot, boot, run};
pub use keys::{Shortcut, focus_step};
pub use page::{Event as PageEvent, Message as PageMessage, Page};

use iced::widget::{column, container, operation, text};
use iced::{Element, Fill, Subscription, Task};
use std::time::{Duration, Instant};

use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Batch, ConflictRow, SyncCounts, User};
use ballot_intake_core::scanner::DeviceMessage;
use ballot_intake_core::scanner::wedge::{Key, WedgeConfig, WedgeDecoder, WedgeEvent};

use crate::screen::{Scanned, open_batch, scan, sign_in};
use crate::sound::{Cue, Sounds};
use crate::station::{Header, Station};
use crate::theme;
use crate::worker::LedgerWorker;

/// The source recorded for a keyboard-wedge scan.
pub const WEDGE_SOURCE: &str = "wedge:keyboard";
/// How often (in clock ticks, seconds) the sync's counts are read for the header.
const SYNC_STATUS_TICKS: u64 = 5;
/// The cross-station duplicates' strip: one line, whatever it says.
const CONFLICT_STRIP_HEIGHT: f32 = 44.0;

/// Where the application is.
// One screen at a time, replaced only when a person moves between screens: the
// size of the largest does not matter; boxing each would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Screen {
    /// Signing in.
    SignIn(sign_in::State),
    /// Opening a batch (boxed: it travels under a page too).
    OpenBatch(Box<open_batch::State>),
    /// Scanning (boxed: by far the largest screen).
    Scan(Box<scan::State>),
    /// A page opened with a function key from scanning or from the open-batch form
    /// (supervisors need no batch to reach their screens); the screen it was opened
    /// from is kept to go back to (Esc).
    Page {
        /// The screen left.
        under: Under,
        /// What is shown instead.
        page: Page,
    },
}

/// The screen a page was opened from, kept as it was.
pub enum Under {
    /// Scanning (boxed: by far the largest screen).
    Scan(Box<scan::State>),
    /// The open-batch form (boxed, like scanning).
    OpenBatch(Box<open_batch::State>),
}

/// Everything the application reacts to.
#[derive(Debug, Clone)]
pub enum Message {
    /// For the sign-in screen.
    SignIn(sign_in::Message),
    /// For the open-batch screen.
    OpenBatch(open_batch::Message),
    /// For the scan screen.
    Scan(scan::Message),
    /// For the page open over scanning.
    Page(page::Message),
    /// A key from the window, for the keyboard-wedge decoder, with when it came.
    Key(Key, Instant),
    /// Tab (or Shift-Tab): the next (previous) field.
    Tab {
        /// Shift held.
        back: bool,
    },
    /// A person pressed Enter with the cursor in this field (the window's answer to
    /// "which field has focus?").
    Entered(iced::widget::Id),
    /// A function key, Esc or a Ctrl shortcut.
    Shortcut(Shortcut),
    /// Once a second: the idle sign-out, the dashboard, the sync's counts.
    Tick,
    /// A serial or USB scanner reported something.
    Device(DeviceMessage),
    /// The sync's counts, for the header.
    SyncStatus(Option<SyncCounts>),
    /// The county hub's cross-station duplicates still to pull, for the red banner.
    Conflicts(Vec<ConflictRow>),
}

/// The application.
pub struct App {
    station: Station,
    demo_hint: Option<String>,
    screen: Screen,
    wedge: WedgeDecoder,
    /// Sign out after this long without a key or a scan (`None`: never).
    idle_limit: Option<Duration>,
    last_activity: Instant,
    live: scan::Live,
    ticks: u64,
    /// A scan that arrived where it cannot be recorded (signed out, or a page that
    /// does not take scans): said on a red strip over any screen until the screen
    /// changes, so a scanner's beep is never taken for a recorded envelope.
    notice: Option<String>,
    /// Envelopes the county hub found were received first at another station, not
    /// yet resolved: a red banner over every screen until a supervisor resolves them.
    conflicts: Vec<ConflictRow>,
    /// The settings in force.
    config: Config,
    sounds: Sounds,
    /// The last sound asked for (for tests: the device may be silent).
    last_cue: Option<Cue>,
}

impl App {
    /// The application on an open ledger, at the sign-in screen.
    pub fn new(
        worker: LedgerWorker,
        header: Header,
        demo_hint: Option<String>,
        idle_limit: Option<Duration>,
    ) -> (App, Task<Message>) {
        let app = App {
            station: Station {
                worker,
                header,
                env: None,
            },
            screen: Screen::SignIn(sign_in::State::new(demo_hint.clone())),
            demo_hint,
            wedge: WedgeDecoder::new(WedgeConfig::default()),
            idle_limit,
            last_activity: Instant::now(),
            live: scan::Live::default(),
            ticks: 0,
            notice: None,
            conflicts: Vec::new(),
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
        self.station.env = env;
        self.sounds = sounds;
    }

    /// The settings in `config` take effect: the scanners' subscriptions follow the
    /// list, the idle limit and sounds change at once.
    fn apply(&mut self, config: Config) {
        let wedge = WedgeConfig::with_max_gap_ms(config.ui.wedge_max_gap_ms);
        if wedge != self.wedge.config() {
            self.wedge = WedgeDecoder::new(wedge);
        }
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

    /// The station facts the header shows.
    pub fn header(&self) -> &Header {
        &self.station.header
    }

    /// The current screen (for tests and the title).
    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// The page open over scanning, if one is.
    pub fn page(&self) -> Option<&Page> {
        match &self.screen {
            Screen::Page { page, .. } => Some(page),
            _ => None,
        }
    }

    /// The scan screen, whether it is up or kept under a page.
    pub fn scan(&self) -> Option<&scan::State> {
        match &self.screen {
            Screen::Scan(scan)
            | Screen::Page {
                under: Under::Scan(scan),
                ..
            } => Some(scan),
            _ => None,
        }
    }

    /// Who is signed in, if anyone.
    pub fn user(&self) -> Option<&User> {
        match &self.screen {
            Screen::SignIn(_) => None,
            Screen::OpenBatch(s)
            | Screen::Page {
                under: Under::OpenBatch(s),
                ..
            } => Some(&s.user),
            Screen::Scan(s)
            | Screen::Page {
                under: Under::Scan(s),
                ..
            } => Some(&s.user),
        }
    }

    /// Always the light theme, whatever the desktop prefers: every colour's contrast
    /// is checked against its white page (`theme.rs`), and every station in an
    /// office should look the same to the clerks moving between them.
    pub fn theme(&self) -> iced::Theme {
        theme::THEME
    }

    /// The window title: the station, and DEMO on a demo station.
    pub fn title(&self) -> String {
        let header = &self.station.header;
        format!(
            "ballot-intake: station {}{}",
            header.station,
            if header.demo { " (DEMO)" } else { "" }
        )
    }

    /// Back to the sign-in screen; the sign-out (by choice, or `idle`) is audited.
    fn sign_out(&mut self, idle: bool) -> Task<Message> {
        let audited = match self.user().cloned() {
            Some(user) => self
                .station
                .worker
                .task(move |l| l.record_sign_out(&user, idle))
                .then(|r| {
                    if let Err(e) = r {
                        log::error!("the sign-out could not be audited: {e}");
                    }
                    Task::none()
                }),
            None => Task::none(),
        };
        let mut form = sign_in::State::new(self.demo_hint.clone());
        if idle {
            form.error = Some("Signed out after a time without activity.".into());
        }
        self.screen = Screen::SignIn(form);
        Task::batch([audited, operation::focus(sign_in::State::focus_id())])
    }

    /// Back to the screen kept under a page, the cursor in its first field.
    fn back(&mut self) -> Task<Message> {
        let screen = std::mem::replace(&mut self.screen, Screen::SignIn(sign_in::State::default()));
        let (screen, focus) = match screen {
            Screen::Page {
                under: Under::Scan(scan),
                ..
            } => (Screen::Scan(scan), scan::State::focus_id()),
            Screen::Page {
                under: Under::OpenBatch(form),
                ..
            } => (Screen::OpenBatch(form), open_batch::State::focus_id()),
            other => (other, sign_in::State::focus_id()),
        };
        self.screen = screen;
        operation::focus(focus)
    }

    /// A scan arrived where it cannot be recorded: the strip says so, with the
    /// set-aside sound, so that the scanner's own beep is not taken for a record.
    /// On the sign-in screen the code is not shown: keys that came as fast as a
    /// scanner's there may have been a PIN.
    fn refuse_scan(&mut self, scan: &Scanned) {
        let what = if matches!(self.screen, Screen::SignIn(_)) && scan.typed {
            "a barcode read on the sign-in screen".to_string()
        } else if scan.typed {
            format!("barcode {}", scan.text())
        } else {
            format!("barcode {} from {}", scan.text(), scan.source)
        };
        let todo = match self.screen {
            Screen::SignIn(_) => "Sign in and open a batch, then scan it again.",
            Screen::OpenBatch(_) => "Open the batch, then scan it again.",
            Screen::Scan(_) => "Scan it again.",
            Screen::Page {
                under: Under::Scan(_),
                ..
            } => "Press Esc to go back to scanning, then scan it again.",
            Screen::Page {
                under: Under::OpenBatch(_),
                ..
            } => "Press Esc, open a batch, then scan it again.",
        };
        self.notice = Some(format!("NOT RECORDED: {what}. {todo}"));
        self.cue(Cue::SetAside);
    }

    /// Routes `message`. The NOT RECORDED strip belongs to the screen it was shown
    /// on: it goes when the screen changes.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        let before = self.screen_kind();
        let task = self.route(message);
        if self.screen_kind() != before {
            self.notice = None;
        }
        task
    }

    /// Which screen is up (and which page), without its contents.
    fn screen_kind(
        &self,
    ) -> (
        std::mem::Discriminant<Screen>,
        Option<std::mem::Discriminant<Page>>,
    ) {
        (
            std::mem::discriminant(&self.screen),
            self.page().map(std::mem::discriminant),
        )
    }

    fn route(&mut self, message: Message) -> Task<Message> {
        if !matches!(
            message,
            Message::Tick | Message::SyncStatus(_) | Message::Conflicts(_) | Message::Device(_)
        ) {
            self.last_activity = Instant::now();
        }
        match message {
            Message::SignIn(m) => {
                let Screen::SignIn(state) = &mut self.screen else {
                    return Task::none();
                };
                let (task, event) = state.update(m, &self.station);
                let task = task.map(Message::SignIn);
                match event {
                    Some(sign_in::Event::SignedIn { user, batch }) => {
                        Task::batch([task, self.signed_in(user, batch)])
                    }
                    None => task,
                }
            }
            Message::OpenBatch(m) => {
                let (Screen::OpenBatch(state)
                | Screen::Page {
                    under: Under::OpenBatch(state),
                    ..
                }) = &mut self.screen
                else {
                    return Task::none();
                };
                let (task, event) = state.update(m, &self.station);
                let task = task.map(Message::OpenBatch);
                match event {
                    Some(open_batch::Event::Opened(opened)) => {
                        let (user, batch, first) = *opened;
                        let scanning = self.signed_in(user, Some(batch));
                        // An envelope scanned on the form: recorded in the new batch,
                        // its result on the banner.
                        let shown = first.map_or_else(Task::none, |r| {
                            self.update(Message::Scan(scan::Message::Recorded(Box::new(Ok(r)))))
                        });
                        Task::batch([task, scanning, shown])
                    }
                    Some(open_batch::Event::Refused(scan)) => {
                        self.refuse_scan(&scan);
                        task
                    }
                    Some(open_batch::Event::SignOut) => self.sign_out(false),
                    None => task,
                }
            }
            Message::Scan(m) => {
                // An answer for a scan screen under a page still reaches it.
                let (Screen::Scan(state)
                | Screen::Page {
                    under: Under::Scan(state),
                    ..
                }) = &mut self.screen
                else {
                    return Task::none();
                };
                let (task, event) = state.update(m, &self.station);
                let task = task.map(Message::Scan);
                match event {
                    Some(scan::Event::Sound(cue)) => {
                        self.cue(cue);
                        // The header's sync count follows each scan, not the clock.
                        Task::batch([task, self.sync_status()])
                    }
                    Some(scan::Event::SignOut) => self.sign_out(false),
                    Some(scan::Event::CloseBatch) => self.open_page(2),
                    None => task,
                }
            }
            Message::Page(m) => {
                let Screen::Page { page, .. } = &mut self.screen else {
                    return Task::none();
                };
                let (task, event) = page.update(m, &self.station);
                Task::batch([task.map(Message::Page), self.page_event(event)])
            }
            Message::Key(key, at) => self.key(key, at),
            Message::Tab { back } => {
                let _ = self.wedge.key(Key::Other, Instant::now());
                keys::focus_step(back)
            }
            Message::Entered(field) => self.entered(&field),
            Message::Shortcut(shortcut) => self.shortcut(shortcut),
            Message::Tick => self.tick(),
            Message::Device(m) => self.device(m),
            Message::SyncStatus(counts) => {
                self.live.sync = counts;
                Task::none()
            }
            Message::Conflicts(open) => {
                self.conflicts = open;
                Task::none()
            }
        }
    }

    /// Signed in (or a batch opened): scanning, or the open-batch form when there
    /// is no open batch.
    fn signed_in(&mut self, user: User, batch: Option<Batch>) -> Task<Message> {
        match batch {
            Some(batch) => {
                let scan = scan::State::new(user, batch);
                let recent = scan.load_recent(&self.station).map(Message::Scan);
                self.screen = Screen::Scan(Box::new(scan));
                Task::batch([recent, operation::focus(scan::State::focus_id())])
            }
            None => {
                self.screen = Screen::OpenBatch(Box::new(open_batch::State::new(user)));
                operation::focus(open_batch::State::focus_id())
            }
        }
    }

    /// What a page asked for.
    fn page_event(&mut self, event: Option<PageEvent>) -> Task<Message> {
        match event {
            None => Task::none(),
            Some(PageEvent::Sound(cue)) => {
                self.cue(cue);
                Task::none()
            }
            Some(PageEvent::Play(cue, volume)) => {
                self.last_cue = Some(cue);
                self.sounds.play(cue, volume);
                Task::none()
            }
            Some(PageEvent::SettingsSaved(config)) => {
                self.apply(*config);
                Task::none()
            }
            Some(PageEvent::ElectionChanged(line)) => {
                self.station.header.election = line;
                Task::none()
            }
            Some(PageEvent::SyncChanged { hub }) => {
                self.station.header.hub = hub;
                Task::none()
            }
            Some(PageEvent::Back) => self.back(),
            Some(PageEvent::BatchClosed(closed)) => {
                let Some(user) = self.scan().map(|s| s.user.clone()) else {
                    return Task::none();
                };
                self.screen =
                    Screen::OpenBatch(Box::new(open_batch::State::after_close(user, &closed)));
                operation::focus(open_batch::State::focus_id())
            }
        }
    }

    /// Opens the page of function key `f` over the scan screen or the open-batch
    /// form, or says on it why not (and puts the cursor back where it was).
    fn open_page(&mut self, f: u8) -> Task<Message> {
        let Some(user) = self.user().cloned() else {
            return Task::none();
        };
        match Page::open(f, &user, self.scan(), &self.station, &self.config) {
            Ok(Some((page, task))) => {
                let screen =
                    std::mem::replace(&mut self.screen, Screen::SignIn(sign_in::State::default()));
                let under = match screen {
                    Screen::Scan(scan) => Under::Scan(scan),
                    Screen::OpenBatch(form) => Under::OpenBatch(form),
                    other => {
                        self.screen = other;
                        return Task::none();
                    }
                };
                self.screen = Screen::Page { under, page };
                task.map(Message::Page)
            }
            Ok(None) => Task::none(),
            // Said, not silently ignored: a clerk pressing F5 should know why
            // nothing opened.
            Err(refusal) => match &mut self.screen {
                Screen::Scan(scan) => {
                    scan.refuse(refusal.said());
                    operation::focus(scan::State::focus_id())
                }
                Screen::OpenBatch(form) => {
                    form.error = Some(refusal.said());
                    operation::focus(open_batch::State::focus_id())
                }
                _ => Task::none(),
            },
        }
    }

    /// Function keys move between screens; Ctrl shortcuts go to the page that is open.
    fn shortcut(&mut self, shortcut: Shortcut) -> Task<Message> {
        self.notice = None;
        match (shortcut, &mut self.screen) {
            // Signing out is one key from the two screens a clerk stands at.
            (Shortcut::Function(12), Screen::Scan(_) | Screen::OpenBatch(_)) => {
                self.sign_out(false)
            }
            (Shortcut::Function(f), Screen::Scan(_) | Screen::OpenBatch(_)) => self.open_page(f),
            // An import or export in progress finishes before the page can be left.
            (Shortcut::Back, Screen::Page { page, .. }) if page.busy() => Task::none(),
            (Shortcut::Back, Screen::Page { .. }) => self.back(),
            (_, Screen::Page { page, .. }) => {
                let (task, event) = page.shortcut(shortcut, &self.station);
                Task::batch([task.map(Message::Page), self.page_event(event)])
            }
            _ => Task::none(),
        }
    }

    /// A key from the window: fed to the wedge decoder; a scan goes where any
    /// scanner's scans go; a person's Enter asks the window which field has focus
    /// (the answer comes back as `Entered`).
    fn key(&mut self, key: Key, at: Instant) -> Task<Message> {
        let mut tasks = Vec::new();
        for event in self.wedge.key(key, at) {
            tasks.push(match event {
                WedgeEvent::Scan(code) => self.scanned(Scanned {
                    raw: code.into_bytes(),
                    source: WEDGE_SOURCE.into(),
                    symbology: None,
                    typed: true,
                }),
                WedgeEvent::Typed(t) if t.ends_with('\n') => keys::focused().map(Message::Entered),
                WedgeEvent::Typed(_) => Task::none(),
            });
        }
        Task::batch(tasks)
    }

    /// A person pressed Enter in `field`: what the screen up says Enter does there.
    fn entered(&mut self, field: &iced::widget::Id) -> Task<Message> {
        let message = match &self.screen {
            Screen::SignIn(s) => s.on_enter(field).map(Message::SignIn),
            Screen::OpenBatch(s) => s.on_enter(field).map(Message::OpenBatch),
            Screen::Scan(s) => s.on_enter(field).map(Message::Scan),
            Screen::Page { page, .. } => page.on_enter(field).map(Message::Page),
        };
        message.map_or_else(Task::none, |m| self.update(m))
    }

    /// A scan from any scanner, wherever the window is: a wedge's keys are first
    /// taken back out of the field they reached (a scan is never a form's text);
    /// then the screen that is up decides what the scan means, and where nothing
    /// can take it the strip says so.
    fn scanned(&mut self, scan: Scanned) -> Task<Message> {
        if scan.typed {
            let code = scan.text();
            match &mut self.screen {
                Screen::SignIn(s) => s.take_back(&code),
                Screen::OpenBatch(s) => s.take_back(&code),
                Screen::Scan(s) => s.take_back(&code),
                Screen::Page { page, .. } => page.take_back(&code),
            }
        }
        match &mut self.screen {
            Screen::Scan(state) => state.scanned(scan, &self.station).map(Message::Scan),
            Screen::Page { page, .. } => match page.scanned(scan, &self.station) {
                Ok(task) => task.map(Message::Page),
                Err(scan) => {
                    self.refuse_scan(&scan);
                    Task::none()
                }
            },
            Screen::OpenBatch(form) => form.scanned(scan, &self.station).map(Message::OpenBatch),
            Screen::SignIn(_) => {
                self.refuse_scan(&scan);
                Task::none()
            }
        }
    }

    /// A serial or USB scanner's news: a scan, or its connection's state.
    fn device(&mut self, m: DeviceMessage) -> Task<Message> {
        match m {
            DeviceMessage::Scan(e) => self.scanned(Scanned {
                raw: e.raw,
                source: e.source.to_string(),
                symbology: e.symbology,
                typed: false,
            }),
            DeviceMessage::Connected(s) => {
                self.live.set_scanner(&s.to_string(), None);
                Task::none()
            }
            DeviceMessage::Disconnected { source, reason } => {
                log::warn!("{source}: disconnected: {reason}");
                self.live
                    .set_scanner(&source.to_string(), Some(reason.clone()));
                Task::none()
            }
            DeviceMessage::DoubleRead { source, raw } => {
                log::info!(
                    "{source}: double read of {:?} suppressed",
                    String::from_utf8_lossy(&raw)
                );
                Task::none()
            }
            DeviceMessage::Garbled { source, what } => {
                log::warn!("{source}: {what}");
                Task::none()
            }
        }
    }

    /// A second passed: the idle sign-out, the page's refresh, now and then the
    /// sync's counts.
    fn tick(&mut self) -> Task<Message> {
        self.ticks += 1;
        let idle = self
            .idle_limit
            .is_some_and(|l| self.last_activity.elapsed() >= l);
        if idle && !matches!(self.screen, Screen::SignIn(_)) {
            log::info!("signed out after {:?} idle", self.idle_limit);
            return self.sign_out(true);
        }
        let page = match &mut self.screen {
            Screen::Page { page, .. } => page.tick(&self.station).map(Message::Page),
            _ => Task::none(),
        };
        if self.ticks % SYNC_STATUS_TICKS != 1 {
            return page;
        }
        Task::batch([page, self.sync_status(), self.open_conflicts()])
    }

    /// Reads the sync's counts for the header.
    fn sync_status(&self) -> Task<Message> {
        self.station
            .worker
            .task(|l| l.sync_counts().map(Some))
            .map(|r| Message::SyncStatus(r.ok().flatten()))
    }

    /// Reads the cross-station duplicates still to pull (the sync, a process of its
    /// own, records them as the hub reports them).
    fn open_conflicts(&self) -> Task<Message> {
        self.station.worker.task(|l| l.hub_conflicts()).map(|r| {
            Message::Conflicts(
                r.unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.resolution.is_none())
                    .collect(),
            )
        })
    }

    /// The strip for the duplicates still to pull, on a hub station: red, naming the
    /// oldest, when there are any; empty otherwise. Always there and always one line
    /// high, so that its coming and going never moves the form being typed in (a
    /// moved form loses the cursor: seen under Xvfb, a name typed at sign-in went
    /// nowhere when the banner appeared).
    fn conflict_strip(&self) -> Option<Element<'_, Message>> {
        if !self.station.header.hub {
            return None;
        }
        let strip = |words: String| {
            container(
                text(words)
                    .size(22)
                    .wrapping(iced::widget::text::Wrapping::None),
            )
            .center_x(Fill)
            .center_y(CONFLICT_STRIP_HEIGHT)
            .clip(true)
        };
        let Some(first) = self.conflicts.first() else {
            return Some(strip(String::new()).into());
        };
        let tz = self.station.header.timezone;
        let at = chrono::DateTime::parse_from_rfc3339(&first.first_at)
            .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
            .unwrap_or_default();
        let more = match self.conflicts.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        Some(
            strip(format!(
                "PULL FROM TRAY: batch {}, ballot {}, first received at station {} {at}{more}; supervisor: F6",
                first.batch.map_or_else(|| "-".into(), |b| b.to_string()),
                first.ballot_id,
                first.first_station,
            ))
            .style(theme::panel(theme::ERROR))
            .into(),
        )
    }

    /// Draws the current screen, under the DEMO banner on a demo station.
    pub fn view(&self) -> Element<'_, Message> {
        let header = &self.station.header;
        let screen = match &self.screen {
            Screen::SignIn(s) => s.view().map(Message::SignIn),
            Screen::OpenBatch(s) => s.view().map(Message::OpenBatch),
            Screen::Scan(s) => s.view(header, &self.live).map(Message::Scan),
            Screen::Page { page, .. } => self.page_view(page).map(Message::Page),
        };
        let demo = header.demo.then(|| {
            container(text("DEMO STATION: not a real election; nothing here is ever sent").size(24))
                .center_x(Fill)
                .padding(8)
                .style(theme::panel(theme::DEMO))
        });
        // The strip's place is kept, empty, when there is nothing to say: a strip
        // appearing above the screen moved the form down, and the field being typed
        // in lost the cursor (seen under Xvfb: a scan on the sign-in screen left the
        // name typed next going nowhere).
        let notice: Element<'_, Message> = match &self.notice {
            Some(n) => container(text(n.as_str()).size(24))
                .center_x(Fill)
                .padding(8)
                .style(theme::panel(theme::ERROR))
                .into(),
            None => container(text("").size(24))
                .center_x(Fill)
                .padding(8)
                .into(),
        };
        column![]
            .push(demo)
            .push(self.conflict_strip())
            .push(notice)
            .push(screen)
            .into()
    }

    /// Draws a page.
    fn page_view<'a>(&'a self, page: &'a Page) -> Element<'a, page::Message> {
        let tz = self.station.header.timezone;
        match page {
            Page::CloseBatch(s) => s.view().map(page::Message::CloseBatch),
            Page::Flag(s) => s.view().map(page::Message::Flag),
            Page::Review(s) => s.view(tz).map(page::Message::Review),
            Page::Batches(s) => s.view(tz).map(page::Message::Batches),
            Page::Audit(s) => s.view(tz).map(page::Message::Audit),
            Page::Dashboard(s) => s.view().map(page::Message::Dashboard),
            Page::Import(s) => s.view().map(page::Message::Import),
            Page::Settings(s) => s.view(&self.sound_status()).map(page::Message::Settings),
            Page::Export(s) => s.view().map(page::Message::Export),
            Page::Users(s) => s.view(tz).map(page::Message::Users),
            Page::Elections(s) => s.view().map(page::Message::Elections),
            Page::Sync(s) => s.view().map(page::Message::Sync),
        }
    }

    /// What the sound device is doing, for the settings screen.
    fn sound_status(&self) -> String {
        match (self.config.ui.sounds, self.sounds.state()) {
            (_, Err(e)) => format!("NOT working: {e}"),
            (true, Ok(Some(_))) => "working".into(),
            (true, Ok(None)) => "open, no sound played yet".into(),
            (false, Ok(_)) => "sounds are off".into(),
        }
    }

    /// The clock, the keyboard, and a stream for each configured scanner.
    pub fn subscription(&self) -> Subscription<Message> {
        let devices = self
            .scanners()
            .into_iter()
            .map(|cfg| Subscription::run_with(cfg, boot::scanner_stream));
        Subscription::batch(
            [Subscription::run(boot::ticks), keys::subscription()]
                .into_iter()
                .chain(devices),
        )
    }
}
