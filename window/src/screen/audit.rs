//! The audit log viewer (supervisors): the newest entries, filtered by any text (an
//! event name, a user, a batch), and the result of verifying the whole chain.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Task};

use ballot_intake_core::audit::AuditRow;
use ballot_intake_core::ledger::{Ledger, LedgerError, VerifyReport};

use crate::station::Station;
use crate::{theme, widget};

/// The filter field's id (focused when the screen opens).
pub const FILTER_FIELD: &str = "audit-filter";
/// How many of the newest entries are loaded.
pub const SHOWN: usize = 500;

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone, Default)]
pub struct State {
    rows: Vec<AuditRow>,
    filter: String,
    verified: Option<Result<VerifyReport, LedgerError>>,
    error: Option<String>,
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
}

impl State {
    /// The screen, and the task loading the newest entries.
    pub fn new(station: &Station) -> (Self, Task<Message>) {
        (State::default(), Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station
            .worker
            .task(|l| l.recent_audit(SHOWN))
            .map(Message::Loaded)
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Verify)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.filter, code);
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
        }
        Task::none()
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
