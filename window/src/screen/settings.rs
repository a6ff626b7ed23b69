//! Settings (administrators, F10): the scanners the station reads, a test scan, the
//! sounds and the idle sign-out.
//!
//! Nothing here touches the ledger's records: a scan read on this screen is shown
//! (bytes, source, symbology and how the station would read it) and NOT recorded,
//! which is what an administrator checking a new scanner wants. Changes are kept in
//! the form until Save (Ctrl+S), which writes `config.json` atomically and audits the
//! change; the scanners start or stop at once, without a restart.

use iced::futures::channel::oneshot;
use iced::widget::{Id, checkbox, column, row, scrollable, slider, text};
use iced::{Element, Fill, Task};
use serde_json::json;

use ballot_intake_core::barcode;
use ballot_intake_core::config::{Config, ScannerConfig, UiConfig};
use ballot_intake_core::ledger::{CHANGE_SETTINGS, LedgerError, User};
use ballot_intake_core::scanner::{ScannerSpec, serial, usb};

use super::Scanned;
use crate::sound::Cue;
use crate::station::Station;
use crate::{theme, widget};

/// The idle-minutes field's id (focused when the screen opens).
pub const IDLE_FIELD: &str = "settings-idle";
/// The wedge key-gap field's id.
pub const GAP_FIELD: &str = "settings-wedge-gap";
/// The add-a-scanner field's id.
pub const SPEC_FIELD: &str = "settings-spec";

/// A scanner found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// What goes into the configuration (`serial:PATH` or `usb:VID:PID`).
    pub spec: String,
    /// What the system says it is.
    pub description: String,
}

/// A scan read on this screen (never recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestScan {
    /// Which scanner.
    pub source: String,
    /// Its bytes, exactly as they came.
    pub raw: Vec<u8>,
    /// The AIM symbology identifier, when the scanner sent one.
    pub symbology: Option<String>,
}

impl TestScan {
    /// How the station reads it: a ballot id, an outbound IMb, or why it cannot.
    pub fn reading(&self) -> String {
        match barcode::normalize(&self.raw) {
            Err(reason) => format!("unreadable: {}", reason.describe()),
            Ok(code) => match barcode::Imb::parse(&code) {
                Some(imb) => format!(
                    "an Intelligent Mail barcode: tracking {}, mailer {}",
                    imb.tracking,
                    imb.mailer_id()
                ),
                None => format!("the ballot id {code}"),
            },
        }
    }

    /// The bytes with anything unprintable shown as `\xNN`, so a stray prefix,
    /// suffix or terminator is visible.
    pub fn shown_bytes(&self) -> String {
        self.raw.escape_ascii().to_string()
    }
}

/// "Remove (Alt+N)" for the first nine scanners configured, so that removing one
/// needs no mouse either.
fn remove_label(i: usize) -> &'static str {
    const LABELS: [&str; 9] = [
        "Remove (Alt+1)",
        "Remove (Alt+2)",
        "Remove (Alt+3)",
        "Remove (Alt+4)",
        "Remove (Alt+5)",
        "Remove (Alt+6)",
        "Remove (Alt+7)",
        "Remove (Alt+8)",
        "Remove (Alt+9)",
    ];
    LABELS.get(i).copied().unwrap_or("Remove")
}

/// "Add (Ctrl+N)" for the first nine scanners found, so that adding one needs no mouse.
fn shortcut_label(i: usize) -> &'static str {
    const LABELS: [&str; 9] = [
        "Add (Ctrl+1)",
        "Add (Ctrl+2)",
        "Add (Ctrl+3)",
        "Add (Ctrl+4)",
        "Add (Ctrl+5)",
        "Add (Ctrl+6)",
        "Add (Ctrl+7)",
        "Add (Ctrl+8)",
        "Add (Ctrl+9)",
    ];
    LABELS.get(i).copied().unwrap_or("Add")
}

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// Who is changing the settings.
    pub user: User,
    saved: (UiConfig, Vec<ScannerConfig>),
    /// What is being written; it becomes `saved` when the write succeeded.
    saving: Option<(UiConfig, Vec<ScannerConfig>)>,
    idle: String,
    gap: String,
    sounds: bool,
    volume: u8,
    scanners: Vec<ScannerConfig>,
    spec: String,
    detected: Option<Vec<Detected>>,
    test: Option<TestScan>,
    /// What went wrong with the last change (shown in red).
    pub error: Option<String>,
    notice: Option<String>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The wedge key-gap field changed.
    Gap(String),
    /// The idle minutes field changed.
    Idle(String),
    /// Sounds on or off.
    Sounds(bool),
    /// The volume slider moved.
    Volume(u8),
    /// Play a cue at the chosen volume.
    Play(Cue),
    /// The add-a-scanner field changed.
    Spec(String),
    /// Add the typed scanner.
    AddSpec,
    /// Add the n-th detected scanner.
    AddDetected(usize),
    /// Remove the n-th configured scanner.
    Remove(usize),
    /// Look for scanners again.
    Detect,
    /// The scanners found.
    Detected(Vec<Detected>),
    /// Save (Ctrl+S).
    Save,
    /// The save finished: the settings now in force, or why nothing changed.
    Saved(Result<Box<Config>, SaveError>),
}

/// Why the settings were NOT saved (nothing changed: the old file and the old
/// settings stay in force).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// A window started without a station folder (tests) has nowhere to save.
    #[error("this window has no configuration folder to save to")]
    NoFolder,
    /// The ledger refused (not an administrator: the refusal is audited).
    #[error("{0}")]
    Refused(LedgerError),
    /// `config.json` could not be written.
    #[error("could not write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The change could not be audited, so the old file was put back.
    #[error("the audit log could not record it ({0})")]
    NotAudited(LedgerError),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Play `cue` at this volume (0.0..=1.0), even with sounds turned off: that is
    /// how an administrator checks the speakers before turning them on.
    Play(Cue, f32),
    /// These settings were written and audited: they take effect now.
    Saved(Box<Config>),
}

/// The serial ports and HID-POS scanners present. Runs on its own thread: USB
/// enumeration opens devices and can take a while.
fn detect() -> Task<Message> {
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("scanner-detect".into())
        .spawn(move || {
            let serial = serial::list().into_iter().map(|p| Detected {
                spec: p.spec(),
                description: p.description(),
            });
            let usb = usb::list().into_iter().map(|u| Detected {
                spec: u.spec(),
                description: u.description(),
            });
            let _ = tx.send(serial.chain(usb).collect());
        });
    if spawned.is_err() {
        return Task::done(Message::Detected(Vec::new()));
    }
    Task::perform(rx, |r| Message::Detected(r.unwrap_or_default()))
}

/// Writes `config.json` with the new `ui` and `scanners` and audits `changes`, on
/// the ledger thread. The file is read afresh first, so that what the command line
/// changed meanwhile (the sync settings) is kept.
fn save(
    station: &Station,
    user: User,
    ui: UiConfig,
    scanners: Vec<ScannerConfig>,
    changes: serde_json::Value,
) -> Task<Message> {
    let Some(env) = station.env.clone() else {
        return Task::done(Message::Saved(Err(SaveError::NoFolder)));
    };
    station
        .worker
        .task(move |l| {
            // Refused (and the refusal audited) before anything is written.
            l.require_admin(&user, CHANGE_SETTINGS)
                .map_err(SaveError::Refused)?;
            let before = Config::load(&env);
            let after = Config {
                ui,
                scanners,
                ..before.clone()
            };
            after.save(&env).map_err(|e| SaveError::Write {
                path: Config::path(&env).display().to_string(),
                message: e.to_string(),
            })?;
            if let Err(e) = l.record_settings_change(&user, changes) {
                // Not audited, not in force: put the old file back.
                let _ = before.save(&env);
                return Err(SaveError::NotAudited(e));
            }
            Ok(Box::new(after))
        })
        .map(Message::Saved)
}

impl From<LedgerError> for SaveError {
    fn from(e: LedgerError) -> Self {
        SaveError::Refused(e)
    }
}

impl State {
    /// The form filled with the settings in force, and the task looking for scanners.
    pub fn new(user: User, ui: &UiConfig, scanners: &[ScannerConfig]) -> (State, Task<Message>) {
        let state = State {
            user,
            saved: (ui.clone(), scanners.to_vec()),
            saving: None,
            idle: ui.idle_minutes.to_string(),
            gap: ui.wedge_max_gap_ms.to_string(),
            sounds: ui.sounds,
            volume: ui.volume.min(100),
            scanners: scanners.to_vec(),
            spec: String::new(),
            detected: None,
            test: None,
            error: None,
            notice: None,
        };
        (state, detect())
    }

    /// What a person's Enter in `field` does: in the add-a-scanner field, add it;
    /// elsewhere nothing (Ctrl+S saves).
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        (*field == Id::new(SPEC_FIELD)).then_some(Message::AddSpec)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.idle, code);
        super::take_back_digits(&mut self.gap, code);
        super::take_back(&mut self.spec, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(IDLE_FIELD)
    }

    /// A scan arrived while this screen is open: shown, not recorded.
    pub fn scanned(&mut self, scan: Scanned) {
        self.test = Some(TestScan {
            source: scan.source,
            raw: scan.raw,
            symbology: scan.symbology,
        });
    }

    /// Whether sounds are on in the form.
    pub fn sounds_on(&self) -> bool {
        self.sounds
    }

    /// The volume in the form, 0 to 100.
    pub fn volume(&self) -> u8 {
        self.volume
    }

    /// The scan last read here.
    pub fn test_scan(&self) -> Option<&TestScan> {
        self.test.as_ref()
    }

    /// The form's fields; Ctrl+S saves on the ledger thread (audited), and the
    /// application puts what was saved in force.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        self.notice = None;
        match message {
            Message::Idle(s) => self.idle = s,
            Message::Gap(s) => self.gap = s.chars().filter(char::is_ascii_digit).collect(),
            Message::Sounds(on) => self.sounds = on,
            Message::Volume(v) => self.volume = v.min(100),
            Message::Play(cue) => {
                let volume = f32::from(self.volume) / 100.0;
                return (Task::none(), Some(Event::Play(cue, volume)));
            }
            Message::Spec(s) => self.spec = s,
            Message::AddSpec if self.spec.trim().is_empty() => {}
            Message::AddSpec => {
                let spec = self.spec.trim().to_string();
                if self.add(&spec) {
                    self.spec.clear();
                }
            }
            Message::AddDetected(i) => {
                if let Some(d) = self.detected.as_ref().and_then(|d| d.get(i)).cloned() {
                    self.add(&d.spec);
                }
            }
            Message::Remove(i) => {
                if i < self.scanners.len() {
                    self.scanners.remove(i);
                }
            }
            Message::Detect => {
                self.detected = None;
                return (detect(), None);
            }
            Message::Detected(list) => self.detected = Some(list),
            Message::Save => {
                let Some((ui, scanners, changes)) = self.changes() else {
                    return (Task::none(), None);
                };
                return (
                    save(station, self.user.clone(), ui, scanners, changes),
                    None,
                );
            }
            Message::Saved(Ok(config)) => {
                if let Some(saved) = self.saving.take() {
                    self.saved = saved;
                }
                self.error = None;
                self.notice = Some("Saved. The scanners and settings are in force.".into());
                return (Task::none(), Some(Event::Saved(config)));
            }
            Message::Saved(Err(e)) => {
                self.saving = None;
                self.error = Some(format!("NOT saved: {e}"));
            }
        }
        (Task::none(), None)
    }

    /// Adds a scanner by its spec unless it is malformed or already there.
    fn add(&mut self, spec: &str) -> bool {
        match spec.parse::<ScannerSpec>() {
            Err(e) => {
                self.error = Some(format!("{spec:?} is not a scanner: {e}"));
                false
            }
            Ok(parsed) => {
                let canonical = parsed.to_string();
                let present = self.scanners.iter().any(|s| {
                    s.spec
                        .parse::<ScannerSpec>()
                        .is_ok_and(|p| p.to_string() == canonical)
                });
                if present {
                    self.error = Some(format!("{canonical} is already in the list"));
                    return false;
                }
                self.error = None;
                self.scanners.push(ScannerConfig::for_spec(&parsed));
                true
            }
        }
    }

    /// Checks the form and, when it is sound and differs from what is saved, gives
    /// the new settings and each changed one's old and new value.
    fn changes(&mut self) -> Option<(UiConfig, Vec<ScannerConfig>, serde_json::Value)> {
        let idle = match self.idle.trim().parse::<u64>() {
            Ok(m) if m <= 24 * 60 => m,
            _ => {
                self.error = Some(format!(
                    "idle sign-out {:?}: give whole minutes from 0 (never) to 1440",
                    self.idle.trim()
                ));
                return None;
            }
        };
        let gap = match self.gap.parse::<u64>() {
            Ok(ms) if (5..=500).contains(&ms) => ms,
            _ => {
                self.error = Some(format!(
                    "scanner key gap {:?}: give whole milliseconds from 5 to 500",
                    self.gap
                ));
                return None;
            }
        };
        let ui = UiConfig {
            idle_minutes: idle,
            sounds: self.sounds,
            volume: self.volume,
            wedge_max_gap_ms: gap,
        };
        let (old_ui, old_scanners) = &self.saved;
        let mut changes = serde_json::Map::new();
        let mut note = |name: &str, old: serde_json::Value, new: serde_json::Value| {
            if old != new {
                changes.insert(name.into(), json!({ "old": old, "new": new }));
            }
        };
        note("idle_minutes", json!(old_ui.idle_minutes), json!(idle));
        note("sounds", json!(old_ui.sounds), json!(ui.sounds));
        note("volume", json!(old_ui.volume), json!(ui.volume));
        note(
            "wedge_max_gap_ms",
            json!(old_ui.wedge_max_gap_ms),
            json!(ui.wedge_max_gap_ms),
        );
        let specs =
            |list: &[ScannerConfig]| json!(list.iter().map(|s| &s.spec).collect::<Vec<_>>());
        note("scanners", specs(old_scanners), specs(&self.scanners));
        if changes.is_empty() {
            self.notice = Some("Nothing changed.".into());
            return None;
        }
        self.error = None;
        // What is saved becomes the new baseline once the write succeeds; a failed
        // write leaves the baseline as it was, so that Save tries again.
        self.saving = Some((ui.clone(), self.scanners.clone()));
        Some((
            ui,
            self.scanners.clone(),
            serde_json::Value::Object(changes),
        ))
    }

    /// Draws the screen; `sound` says whether the sound device works.
    pub fn view(&self, sound: &str) -> Element<'_, Message> {
        let heading = |t: &'static str| text(t).size(24).color(theme::HEADER);
        let mut list = column![].spacing(6);
        if self.scanners.is_empty() {
            list = list.push(
                text("No serial or USB scanner configured (keyboard-wedge scanners need none).")
                    .size(18),
            );
        }
        for (i, s) in self.scanners.iter().enumerate() {
            list = list.push(
                row![
                    text(s.spec.as_str()).size(20).width(520),
                    widget::action(remove_label(i), Some(Message::Remove(i))),
                ]
                .spacing(12)
                .align_y(iced::Center),
            );
        }
        let mut found = column![].spacing(6);
        match &self.detected {
            None => found = found.push(text("Looking for scanners...").size(18)),
            Some(d) if d.is_empty() => {
                found = found.push(
                    text("No serial ports or HID-POS scanners found on this machine.").size(18),
                );
            }
            Some(d) => {
                for (i, det) in d.iter().enumerate() {
                    found = found.push(
                        row![
                            text(format!("{}  {}", det.spec, det.description))
                                .size(18)
                                .width(520),
                            widget::action(shortcut_label(i), Some(Message::AddDetected(i))),
                        ]
                        .spacing(12)
                        .align_y(iced::Center),
                    );
                }
            }
        }
        let test = match &self.test {
            None => column![text("Scan any barcode: it is shown here and NOT recorded.").size(20)],
            Some(t) => column![
                text(format!("Read from {}: {}", t.source, t.shown_bytes())).size(22),
                text(format!(
                    "{} bytes; symbology {}; the station reads it as {}.",
                    t.raw.len(),
                    t.symbology.as_deref().unwrap_or("not sent"),
                    t.reading()
                ))
                .size(20),
                text("NOT recorded (settings screen).").size(18),
            ],
        };
        let body = column![
            heading("Scanners"),
            list,
            row![
                widget::field(
                    "serial:/dev/ttyACM0 or usb:0c2e:0b61",
                    &self.spec,
                    SPEC_FIELD,
                    Message::Spec
                )
                .width(640),
                widget::action("Add", Some(Message::AddSpec)),
            ]
            .spacing(12)
            .align_y(iced::Center),
            row![
                heading("Found on this machine"),
                widget::action("Look again (Ctrl+L)", Some(Message::Detect))
            ]
            .spacing(12)
            .align_y(iced::Center),
            found,
            heading("Test scan"),
            test.spacing(4),
            heading("Sounds"),
            row![
                checkbox(self.sounds)
                    .label("Play a sound for each scan (Ctrl+M)")
                    .on_toggle(Message::Sounds)
                    .size(24)
                    .text_size(20),
                text(format!("Volume {} (Ctrl+Up/Down)", self.volume)).size(20),
                slider(0..=100, self.volume, Message::Volume).width(240),
            ]
            .spacing(16)
            .align_y(iced::Center),
            row![
                widget::action("Play accepted (Ctrl+P)", Some(Message::Play(Cue::Accepted))),
                widget::action(
                    "Play set-aside (Ctrl+E)",
                    Some(Message::Play(Cue::SetAside))
                ),
            ]
            .spacing(16),
            text(format!("Sound device: {sound}")).size(18),
            heading("Idle sign-out"),
            row![
                text("Sign out after").size(20),
                widget::field("15", &self.idle, IDLE_FIELD, Message::Idle).width(120),
                text("minutes without a key or a scan (0: never).").size(20),
            ]
            .spacing(12)
            .align_y(iced::Center),
            heading("Keyboard-wedge scanners"),
            row![
                text("A scanner's keys come at most").size(20),
                widget::field("30", &self.gap, GAP_FIELD, Message::Gap).width(120),
                text("ms apart (a person types slower; raise it for a slow scanner).").size(20),
            ]
            .spacing(12)
            .align_y(iced::Center),
        ]
        .spacing(10)
        .padding([0, 16]);
        // Save and what became of it stay in view however far the form scrolls.
        let mut footer = row![widget::action("Save (Ctrl+S)", Some(Message::Save))]
            .spacing(16)
            .align_y(iced::Center);
        if let Some(n) = &self.notice {
            footer = footer.push(text(n.as_str()).size(22).color(theme::OK));
        }
        if let Some(e) = &self.error {
            footer = footer.push(text(e.as_str()).size(22).color(theme::ERROR));
        }
        column![
            widget::mode_title(
                "SETTINGS (Ctrl+S saves; Ctrl+U: users; Ctrl+R: elections; Ctrl+B: sync; Esc: back to receiving)",
                theme::HEADER
            ),
            scrollable(body).height(Fill),
            footer.padding([8, 16]),
        ]
        .spacing(8)
        .padding([8, 0])
        .into()
    }
}
