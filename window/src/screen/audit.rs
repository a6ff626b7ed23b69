//! The audit log viewer (supervisors): the newest entries, filtered by any text (an
//! event name, a user, a batch), the result of verifying the whole chain, and the
//! whole log written for auditors as a signed NIST SP 1500-101 event log.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Task};

use ballot_intake_core::audit::AuditRow;
use ballot_intake_core::event_log::{EventLogExport, export_event_log};
use ballot_intake_core::ledger::{Ledger, LedgerError, User, VerifyReport};

use super::dialog::{Pick, choose};

use crate::station::Station;
use crate::{theme, widget};

/// The filter field's id (focused when the screen opens).
pub const FILTER_FIELD: &str = "audit-filter";
/// The event log's folder field (Enter there writes the event log).
pub const FOLDER_FIELD: &str = "audit-export-folder";
/// How many of the newest entries are loaded.
pub const SHOWN: usize = 500;

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    user: User,
    rows: Vec<AuditRow>,
    filter: String,
    verified: Option<Result<VerifyReport, LedgerError>>,
    error: Option<String>,
    folder: String,
    exporting: bool,
    exported: Option<Result<EventLogExport, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's newest entries.
    Loaded(Result<Vec<AuditRow>, LedgerError>),
    /// The filter changed.
    Filter(String),
    /// Enter: verify the chain.
    Verify,
    /// The ledger's verification report.
    Verified(Box<Result<VerifyReport, LedgerError>>),
    /// The event log's folder changed (typed, or chosen).
    Folder(String),
    /// Ctrl+O: choose the folder.
    Browse,
    /// The folder dialog's answer (`None`: cancelled).
    Chosen(Option<String>),
    /// Enter in the folder field: write the event log.
    ExportLog,
    /// The written event log, or why not.
    Exported(Box<Result<EventLogExport, String>>),
}

impl State {
    /// The screen for `user`, the event log going to `folder` by default, and the
    /// task loading the newest entries.
    pub fn new(user: User, station: &Station, folder: String) -> (Self, Task<Message>) {
        let state = State {
            user,
            rows: Vec::new(),
            filter: String::new(),
            verified: None,
            error: None,
            folder,
            exporting: false,
            exported: None,
        };
        (state, Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station
            .worker
            .task(|l| l.recent_audit(SHOWN))
            .map(Message::Loaded)
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        if *field == Id::new(FOLDER_FIELD) {
            return Some(Message::ExportLog);
        }
        Some(Message::Verify)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.filter, code);
        super::take_back(&mut self.folder, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(FILTER_FIELD)
    }

    /// Enter verifies the whole chain on the ledger thread; the entries reload
    /// afterwards, because a verification is itself logged.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        match message {
            Message::Loaded(Ok(rows)) => self.rows = rows,
            Message::Loaded(Err(e)) => self.error = Some(e.to_string()),
            Message::Filter(f) => self.filter = f,
            Message::Verify => {
                return station
                    .worker
                    .task(Ledger::verify)
                    .map(|r| Message::Verified(Box::new(r)));
            }
            Message::Verified(r) => {
                self.verified = Some(*r);
                return Self::load(station);
            }
            Message::Folder(f) | Message::Chosen(Some(f)) => self.folder = f,
            Message::Browse if !self.exporting => {
                let dialog =
                    rfd::AsyncFileDialog::new().set_title("Choose the folder for the event log");
                return choose(dialog, Pick::Folder).map(Message::Chosen);
            }
            Message::ExportLog if !self.exporting => {
                if self.folder.trim().is_empty() {
                    self.exported = Some(Err("say which folder the event log goes in".into()));
                    return Task::none();
                }
                self.exporting = true;
                self.exported = None;
                let (folder, user) = (self.folder.trim().to_string(), self.user.clone());
                return station
                    .worker
                    .task(move |l| {
                        export_event_log(l, None, None, std::path::Path::new(&folder), Some(&user))
                    })
                    .map(|r| Message::Exported(Box::new(r.map_err(|e| e.to_string()))));
            }
            // One export at a time; a cancelled dialog changes nothing.
            Message::Browse | Message::ExportLog | Message::Chosen(None) => {}
            Message::Exported(r) => {
                self.exporting = false;
                self.exported = Some(*r);
                // The export is itself logged.
                return Self::load(station);
            }
        }
        Task::none()
    }

    /// Whether an event log is being written.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// The last verification's report, once one came back.
    pub fn verified(&self) -> Option<&Result<VerifyReport, LedgerError>> {
        self.verified.as_ref()
    }

    fn matches(&self, r: &AuditRow) -> bool {
        let f = self.filter.trim().to_lowercase();
        f.is_empty()
            || [
                r.event.as_str(),
                r.user_name.as_deref().unwrap_or(""),
                r.detail.as_str(),
                r.disposition.as_str(),
            ]
            .iter()
            .any(|s| s.to_lowercase().contains(&f))
    }

    /// Draws the screen; times in `tz`.
    pub fn view(&self, tz: chrono_tz::Tz) -> Element<'_, Message> {
        let shown: Vec<&AuditRow> = self.rows.iter().filter(|r| self.matches(r)).collect();
        let list = shown.iter().fold(column![].spacing(3), |c, r| {
            let at = chrono::DateTime::parse_from_rfc3339(&r.at)
                .map(|t| t.with_timezone(&tz).format("%m/%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let line = text(format!(
                "{}  {at}  {} {} ({})  {}{}  {}",
                r.seq,
                r.event_id,
                r.event,
                r.disposition,
                r.user_name.as_deref().unwrap_or("-"),
                r.role
                    .as_deref()
                    .map(|x| format!(" [{x}]"))
                    .unwrap_or_default(),
                r.detail
            ))
            .size(16)
            // Hashes and JSON details have no spaces to break at: they break
            // anywhere rather than run off the right edge of a 1024-wide screen.
            .wrapping(iced::widget::text::Wrapping::WordOrGlyph);
            c.push(if r.disposition == "failure" {
                line.color(theme::ERROR)
            } else {
                line
            })
        });
        let verified: Element<'_, Message> = match &self.verified {
            None => text("Enter: verify the whole chain").size(20).into(),
            Some(Ok(r)) if r.ok() => text(format!(
                "Chain intact: {} entries, {} events; head {}",
                r.audit_rows, r.events, r.head_hash
            ))
            .size(20)
            .wrapping(iced::widget::text::Wrapping::WordOrGlyph)
            .color(theme::OK)
            .into(),
            Some(Ok(r)) => r
                .problems
                .iter()
                .fold(
                    column![text("CHAIN BROKEN:").size(22).color(theme::ERROR)],
                    |c, p| c.push(text(p.to_string()).size(20).color(theme::ERROR)),
                )
                .into(),
            Some(Err(e)) => text(e.to_string()).size(20).color(theme::ERROR).into(),
        };
        let mut page = column![
            widget::mode_title("AUDIT LOG (Esc: back to receiving)", theme::HEADER),
            row![
                text("Filter:").size(22),
                widget::field(
                    "event, user or detail",
                    &self.filter,
                    FILTER_FIELD,
                    Message::Filter
                )
                .width(520),
                text(format!(
                    "{} of the newest {} entries",
                    shown.len(),
                    self.rows.len()
                ))
                .size(18),
            ]
            .spacing(12)
            .align_y(iced::Center),
            verified,
            widget::path_field(
                "Event log:",
                ("/media/usb/audit", &self.folder),
                FOLDER_FIELD,
                Message::Folder,
                (!self.exporting).then_some(Message::Browse)
            ),
            match (&self.exported, self.exporting) {
                (_, true) => text("Writing the event log...").size(18),
                (None, false) => text(
                    "Enter in the folder field writes the whole log as a NIST SP 1500-101 \
                     event log (JSON and XML) with its documentation, each signed with the \
                     station's key."
                )
                .size(18),
                (Some(Ok(r)), false) => text(format!(
                    "Event log written: {} ({} entries) and {}, signed; the same as XML beside them",
                    r.log.display(),
                    r.entries,
                    r.documentation.display()
                ))
                .size(18)
                .wrapping(iced::widget::text::Wrapping::WordOrGlyph)
                .color(theme::OK),
                (Some(Err(e)), false) => text(format!("Event log NOT written: {e}"))
                    .size(18)
                    .color(theme::ERROR),
            },
            scrollable(list).height(Fill),
        ]
        .spacing(12)
        .padding(16);
        if let Some(e) = &self.error {
            page = page.push(text(e.clone()).size(20).color(theme::ERROR));
        }
        page.into()
    }
}
