//! Settings (administrators, F10): the scanners the station reads, a test scan, the
//! sounds and the idle sign-out.
//!
//! Nothing here touches the ledger's records: a scan read on this screen is shown
//! (bytes, source, symbology and how the station would read it) and NOT recorded,
//! which is what an administrator checking a new scanner wants. Changes are kept in
//! the form until Save (Ctrl+S), which writes `config.json` atomically and audits the
//! change; the scanners start or stop at once, without a restart.

use iced::widget::{Id, checkbox, column, row, scrollable, slider, text};
use iced::{Element, Fill};
use serde_json::json;

use crate::sound::Cue;
use crate::{theme, widget};
use ballot_intake_core::barcode;
use ballot_intake_core::config::{ScannerConfig, UiConfig};
use ballot_intake_core::ledger::User;
use ballot_intake_core::scanner::ScannerSpec;

/// The idle-minutes field's id (focused when the screen opens).
pub const IDLE_FIELD: &str = "settings-idle";
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

/// The screen's state.
#[derive(Debug, Clone)]
pub struct State {
    /// Who is changing the settings.
    pub user: User,
    saved: (UiConfig, Vec<ScannerConfig>),
    /// What is being written; it becomes `saved` when the write succeeded.
    saving: Option<(UiConfig, Vec<ScannerConfig>)>,
    idle: String,
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

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
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
    /// Enter in a field: nothing by itself (a wedge scanner's Enter must not save or
    /// add anything); `app.rs` sends `AddSpec` for a person's Enter.
    Submit,
    /// The save finished.
    Saved(Result<(), String>),
}

/// What `app.rs` should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing.
    None,
    /// Play `cue` at this volume (0.0..=1.0).
    Play(Cue, f32),
    /// List the scanners present (off the UI thread: USB enumeration can be slow).
    Detect,
    /// Write these settings and audit `changes`.
    Save {
        /// The window's settings.
        ui: UiConfig,
        /// The scanners.
        scanners: Vec<ScannerConfig>,
        /// Each changed setting's old and new value.
        changes: serde_json::Value,
    },
}

impl State {
    /// The form filled with the settings in force.
    pub fn new(user: User, ui: &UiConfig, scanners: &[ScannerConfig]) -> (State, Action) {
        let state = State {
            user,
            saved: (ui.clone(), scanners.to_vec()),
            saving: None,
            idle: ui.idle_minutes.to_string(),
            sounds: ui.sounds,
            volume: ui.volume.min(100),
            scanners: scanners.to_vec(),
            spec: String::new(),
            detected: None,
            test: None,
            error: None,
            notice: None,
        };
        (state, Action::Detect)
    }

    /// The field the cursor starts in.
    pub fn focus_id() -> Id {
        Id::new(IDLE_FIELD)
    }

    /// A scan arrived while this screen is open: shown, not recorded.
    pub fn scanned(&mut self, scan: TestScan) {
        self.test = Some(scan);
    }

    /// A wedge scanner typed `code` into the focused field: take it back out.
    pub fn take_wedge_keys(&mut self, code: &str) {
        for field in [&mut self.idle, &mut self.spec] {
            if let Some(kept) = field.strip_suffix(code) {
                *field = kept.to_string();
            }
        }
    }

    /// The scan last read here.
    pub fn test_scan(&self) -> Option<&TestScan> {
        self.test.as_ref()
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Action {
        self.notice = None;
        match message {
            Message::Idle(s) => self.idle = s,
            Message::Sounds(on) => self.sounds = on,
            Message::Volume(v) => self.volume = v.min(100),
            Message::Play(cue) => return Action::Play(cue, f32::from(self.volume) / 100.0),
            Message::Spec(s) => self.spec = s,
            Message::Submit => {}
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
                return Action::Detect;
            }
            Message::Detected(list) => self.detected = Some(list),
            Message::Save => return self.save(),
            Message::Saved(Ok(())) => {
                if let Some(saved) = self.saving.take() {
                    self.saved = saved;
                }
                self.error = None;
                self.notice = Some("Saved. The scanners and settings are in force.".into());
            }
            Message::Saved(Err(e)) => {
                self.saving = None;
                self.error = Some(format!("NOT saved: {e}"));
            }
        }
        Action::None
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

    /// Checks the form and, when it is sound, asks for it to be written.
    fn save(&mut self) -> Action {
        let idle = match self.idle.trim().parse::<u64>() {
            Ok(m) if m <= 24 * 60 => m,
            _ => {
                self.error = Some(format!(
                    "idle sign-out {:?}: give whole minutes from 0 (never) to 1440",
                    self.idle.trim()
                ));
                return Action::None;
            }
        };
        let ui = UiConfig {
            idle_minutes: idle,
            sounds: self.sounds,
            volume: self.volume,
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
        let specs =
            |list: &[ScannerConfig]| json!(list.iter().map(|s| &s.spec).collect::<Vec<_>>());
        note("scanners", specs(old_scanners), specs(&self.scanners));
        if changes.is_empty() {
            self.notice = Some("Nothing changed.".into());
            return Action::None;
        }
        self.error = None;
        // What is saved becomes the new baseline once the write succeeds; a failed
        // write leaves the baseline as it was, so that Save tries again.
        self.saving = Some((ui.clone(), self.scanners.clone()));
        Action::Save {
            ui,
            scanners: self.scanners.clone(),
            changes: serde_json::Value::Object(changes),
        }
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
                    widget::action("Remove", Some(Message::Remove(i))),
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
                    Message::Spec,
                    Message::Submit
                )
                .width(640),
                widget::action("Add", Some(Message::AddSpec)),
            ]
            .spacing(12)
            .align_y(iced::Center),
            row![
                heading("Found on this machine"),
                widget::action("Look again", Some(Message::Detect))
            ]
            .spacing(12)
            .align_y(iced::Center),
            found,
            heading("Test scan"),
            test.spacing(4),
            heading("Sounds"),
            row![
                checkbox(self.sounds)
                    .label("Play a sound for each scan")
                    .on_toggle(Message::Sounds)
                    .size(24)
                    .text_size(20),
                text(format!("Volume {}", self.volume)).size(20),
                slider(0..=100, self.volume, Message::Volume).width(240),
                widget::action("Play accepted", Some(Message::Play(Cue::Accepted))),
                widget::action("Play set-aside", Some(Message::Play(Cue::SetAside))),
            ]
            .spacing(16)
            .align_y(iced::Center),
            text(format!("Sound device: {sound}")).size(18),
            heading("Idle sign-out"),
            row![
                text("Sign out after").size(20),
                widget::field("15", &self.idle, IDLE_FIELD, Message::Idle, Message::Submit)
                    .width(120),
                text("minutes without a key or a scan (0: never).").size(20),
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
                "SETTINGS (Ctrl+S saves; Esc: back to receiving)",
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
