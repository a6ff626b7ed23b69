//! The scan screen: a large banner for the last outcome (shown only once the scan has
//! committed), a manual-entry field for damaged barcodes, the batch's running count and
//! its last 20 scans. Every scan that reaches this screen (keyboard wedge, serial, USB,
//! or typed by hand) is sent to the ledger thread from here, and its answer comes back
//! here: the banner, the count, the recent list and the sound.

use iced::widget::{Id, button, column, container, row, scrollable, text, text_input};
use iced::{Center, Element, Fill, Task};
use std::collections::VecDeque;
use std::time::Instant;

use ballot_intake_core::intake::Outcome;
use ballot_intake_core::ledger::{Batch, LedgerError, ScanResult, SyncCounts, User};
use ballot_intake_core::scanner::debounce::DEFAULT_WINDOW;

use super::Scanned;
use crate::sound::Cue;
use crate::station::{Header, Station};
use crate::theme;

/// The manual-entry field's id.
pub const MANUAL_FIELD: &str = "scan-manual";
/// Scans listed under the banner.
pub const RECENT: usize = 20;
/// The source recorded for a code a person typed into the manual-entry field.
pub const KEYED: &str = "keyed";

/// What changes while the screen is up: scanners connecting, the sync catching up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// Each serial/USB scanner: `None` when connected, else why it is not (said on
    /// screen, so that a clerk knows to check the cable, not only the log).
    pub scanners: Vec<(String, Option<String>)>,
    /// The sync's counts, when known.
    pub sync: Option<SyncCounts>,
}

impl Live {
    /// Records a scanner's state: connected (`None`), or disconnected and why.
    pub fn set_scanner(&mut self, source: &str, problem: Option<String>) {
        match self.scanners.iter_mut().find(|(s, _)| s == source) {
            Some(entry) => entry.1 = problem,
            None => self.scanners.push((source.to_string(), problem)),
        }
    }
}

fn local_time(at: &str, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// Who is scanning.
    pub user: User,
    /// Into which batch.
    pub batch: Batch,
    /// Envelopes accepted into the batch so far.
    pub accepted: i64,
    banner: Option<ScanResult>,
    recent: VecDeque<ScanResult>,
    manual: String,
    /// Scans sent to the ledger and not yet answered ("recording 2...").
    pub pending: usize,
    error: Option<String>,
    /// The last code from the keyboard (wedge or typed), and when: the same code
    /// again within the double-read window is one envelope read twice.
    last_keyboard: Option<(String, Instant)>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The manual-entry field changed.
    Manual(String),
    /// A person pressed Enter after typing into the manual-entry field.
    ManualSubmit,
    /// The ledger answered a scan (boxed: a result is large beside the other messages).
    Recorded(Box<Result<ScanResult, LedgerError>>),
    /// Sign out.
    SignOut,
    /// Close the batch (F2).
    CloseBatch,
    /// The batch's newest scans, read when the screen opens (a clerk signing back
    /// in to a batch under way sees where they were).
    Recent(Result<Vec<ScanResult>, LedgerError>),
}

/// What the application must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Play this cue (the outcome's, or set-aside for a scan NOT recorded).
    Sound(Cue),
    /// Sign out.
    SignOut,
    /// Go to the close-batch form.
    CloseBatch,
}

impl State {
    /// The screen for `user` scanning into `batch`.
    pub fn new(user: User, batch: Batch) -> Self {
        State {
            accepted: batch.accepted_count,
            user,
            batch,
            banner: None,
            recent: VecDeque::new(),
            manual: String::new(),
            pending: 0,
            error: None,
            last_keyboard: None,
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        (*field == Self::focus_id()).then_some(Message::ManualSubmit)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.manual, code);
    }

    /// The task that reads the batch's newest scans for the list.
    pub fn load_recent(&self, station: &Station) -> Task<Message> {
        let batch = self.batch.batch_id;
        station
            .worker
            .task(move |l| l.batch_scans(batch, RECENT))
            .map(Message::Recent)
    }

    /// The field for damaged barcodes.
    pub fn focus_id() -> Id {
        Id::new(MANUAL_FIELD)
    }

    /// The last outcome shown.
    pub fn banner(&self) -> Option<&ScanResult> {
        self.banner.as_ref()
    }

    /// Says in red under the banner why something asked for was not done (it goes
    /// with the next scan's result).
    pub fn refuse(&mut self, why: String) {
        self.error = Some(why);
    }

    /// A scanner read `scan` while this screen is up: it is recorded in the batch.
    pub fn scanned(&mut self, scan: Scanned, station: &Station) -> Task<Message> {
        if scan.typed && self.keyboard_double_read(&scan.text()) {
            return Task::none();
        }
        self.record(scan, station)
    }

    /// Whether `code` from the keyboard repeats the last one within the double-read
    /// window; remembers it otherwise.
    fn keyboard_double_read(&mut self, code: &str) -> bool {
        let now = Instant::now();
        if let Some((last, at)) = &self.last_keyboard
            && last == code
            && now.duration_since(*at) < DEFAULT_WINDOW
        {
            log::info!("keyboard double read of {code:?} suppressed");
            return true;
        }
        self.last_keyboard = Some((code.to_string(), now));
        false
    }

    /// Sends a scan to the ledger thread; its answer comes back as `Recorded`.
    fn record(&mut self, scan: Scanned, station: &Station) -> Task<Message> {
        self.pending += 1;
        let (user, batch, at) = (self.user.clone(), self.batch.batch_id, chrono::Utc::now());
        station
            .worker
            .task(move |l| scan.with_input(at, |input| l.record_scan(&user, batch, input)))
            .map(|r| Message::Recorded(Box::new(r)))
    }

    /// The manual field, Enter, and the ledger's answers.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Manual(m) => self.manual = m,
            Message::ManualSubmit => {
                let code = std::mem::take(&mut self.manual);
                if code.trim().is_empty() || self.keyboard_double_read(&code) {
                    return (Task::none(), None);
                }
                let scan = Scanned {
                    raw: code.into_bytes(),
                    source: KEYED.into(),
                    symbology: None,
                    typed: false,
                };
                return (self.record(scan, station), None);
            }
            Message::Recorded(result) => {
                self.pending = self.pending.saturating_sub(1);
                return match *result {
                    Ok(r) => {
                        if r.outcome == Outcome::Accepted {
                            self.accepted += 1;
                        }
                        let cue = Cue::for_outcome(r.outcome);
                        self.error = None;
                        self.recent.push_front(r.clone());
                        self.recent.truncate(RECENT);
                        self.banner = Some(r);
                        (Task::none(), Some(Event::Sound(cue)))
                    }
                    // Not recorded: said plainly, and the envelope must be scanned again.
                    Err(e) => {
                        // The no-file refusal says itself when to scan again.
                        let todo = if matches!(e, LedgerError::NoBallots(_)) {
                            ""
                        } else {
                            " Scan the envelope again."
                        };
                        self.error = Some(format!("NOT RECORDED: {e}.{todo}"));
                        (Task::none(), Some(Event::Sound(Cue::SetAside)))
                    }
                };
            }
            Message::Recent(Ok(scans)) => {
                // Only into an empty list: a scan recorded meanwhile is already there.
                if self.recent.is_empty() {
                    self.recent = scans.into();
                }
            }
            Message::Recent(Err(e)) => {
                log::warn!("the batch's recent scans could not be read: {e}");
            }
            Message::SignOut => return (Task::none(), Some(Event::SignOut)),
            Message::CloseBatch => return (Task::none(), Some(Event::CloseBatch)),
        }
        (Task::none(), None)
    }

    fn banner_view(&self) -> Element<'_, Message> {
        let Some(r) = &self.banner else {
            return container(text("Ready: scan an envelope").size(theme::BANNER_LINE))
                .center_x(Fill)
                .padding(30)
                .style(theme::panel(theme::HEADER))
                .into();
        };
        let o = r.outcome;
        let body = column![
            text(format!(
                "{}  {}",
                theme::outcome_symbol(o),
                theme::outcome_word(o)
            ))
            .size(theme::BANNER_WORD),
            text(r.instruction.clone()).size(theme::BANNER_LINE),
            text(format!(
                "{}{}",
                r.barcode,
                r.ballot_id
                    .as_deref()
                    .filter(|b| *b != r.barcode)
                    .map(|b| format!("  (ballot {b})"))
                    .unwrap_or_default()
            ))
            .size(22),
        ]
        .spacing(8)
        .align_x(Center);
        container(body)
            .center_x(Fill)
            .padding(24)
            .style(theme::panel(theme::outcome_color(o)))
            .into()
    }

    /// Draws the screen under `header`, with the scanners' and the sync's state.
    pub fn view(&self, header: &Header, live: &Live) -> Element<'_, Message> {
        let mut top = row![
            text(format!("Station {}", header.station)).size(22),
            text(header.election.clone()).size(22),
            text(format!("{} ({})", self.user.name, self.user.role)).size(22),
            text(format!(
                "Batch {}: {} accepted",
                self.batch.batch_id, self.accepted
            ))
            .size(22),
        ]
        .spacing(24)
        .align_y(Center);
        // Always in the header, blank when nothing is waiting: the header wraps, and
        // a word appearing in it could push the manual field down under a typist.
        let waiting = if self.pending > 0 {
            format!("recording {}...", self.pending)
        } else {
            String::new()
        };
        top = top.push(text(waiting).size(22).width(170));
        if self.user.role.can_supervise() {
            top = top.push(
                text("Undeliverable: F3  Needs attention: F4  Review: F5  Batches: F6  Audit: F7  Dashboard: F8  Import: F9")
                    .size(18),
            );
        }
        top = top.push(text("Nightly file: F11").size(18));
        if self.user.role == ballot_intake_core::auth::Role::Admin {
            top = top.push(text("Settings: F10").size(18));
        }
        // Wraps onto a second line rather than clipping on a narrow window.
        let bar = container(
            top.push(button(text("Close batch (F2)")).on_press(Message::CloseBatch))
                .push(button(text("Sign out (F12)")).on_press(Message::SignOut))
                .wrap()
                .vertical_spacing(8),
        )
        .padding(12)
        .width(Fill)
        .style(theme::panel(theme::HEADER));
        let manual = row![
            text("Damaged barcode? Type it:").size(22),
            // No on_submit: the application decides what an Enter was (the end of a
            // scanner burst typed into this field, or a person submitting it).
            text_input("ballot id", &self.manual)
                .id(MANUAL_FIELD)
                .on_input(Message::Manual)
                .size(24)
                .padding(8)
                .width(360),
        ]
        .spacing(12)
        .align_y(Center);
        let recent = self.recent.iter().fold(column![].spacing(4), |col, r| {
            col.push(
                text(format!(
                    "{}  {:<14} {}",
                    local_time(&r.at, header.timezone),
                    r.outcome.as_str(),
                    r.barcode
                ))
                // Monospaced, so that the columns line up.
                .font(iced::Font::MONOSPACE)
                .size(18),
            )
        });
        let mut status = row![text("Scanners: keyboard").size(18)].spacing(18);
        for (source, problem) in &live.scanners {
            status = status.push(match problem {
                None => text(format!("{source}: connected"))
                    .size(18)
                    .color(theme::OK),
                Some(why) => text(format!("{source}: DISCONNECTED ({why})"))
                    .size(18)
                    .color(theme::ERROR),
            });
        }
        if let Some(sync) = &live.sync {
            status = status.push(
                text(format!(
                    "Sync: {} waiting{}{}",
                    sync.outstanding(),
                    sync.last_success
                        .as_deref()
                        .map(|t| format!(", last sent {}", local_time(t, header.timezone)))
                        .unwrap_or_default(),
                    if sync.held > 0 {
                        format!(", {} HELD", sync.held)
                    } else {
                        String::new()
                    }
                ))
                .size(18),
            );
        }
        let mut page = column![bar, status.wrap(), self.banner_view()];
        // Always in the page, empty when there is nothing to say: a line appearing
        // above the manual field would take the cursor out of it (iced keeps a
        // widget's state by its position).
        page = page.push(
            text(self.error.clone().unwrap_or_default())
                .size(26)
                .color(theme::ERROR),
        );
        page.push(manual)
            .push(text(format!("Last {RECENT} scans of this batch")).size(20))
            .push(scrollable(recent.padding(iced::Padding::ZERO.right(24))).height(Fill))
            .spacing(14)
            .padding(16)
            .into()
    }
}
