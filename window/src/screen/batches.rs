//! Batches (supervisors): every batch of the election with its custody record, and
//! the resolution of a discrepancy (a count that differed from the scans) with a note.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Task};

use ballot_intake_core::ledger::{Batch, BatchStatus, LedgerError, User};

use crate::station::Station;
use crate::{theme, widget};

/// The batch number field's id (focused when the screen opens).
pub const BATCH_FIELD: &str = "batches-number";
/// The note field's id.
pub const NOTE_FIELD: &str = "batches-note";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    batches: Vec<Batch>,
    number: String,
    note: String,
    outcome: Option<Result<String, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's batches.
    Loaded(Result<Vec<Batch>, LedgerError>),
    /// The batch number changed.
    Number(String),
    /// The note changed.
    Note(String),
    /// Enter.
    Resolve,
    /// The ledger's answer to a resolution (boxed: a batch is large).
    Resolved(Box<Result<Batch, LedgerError>>),
}

impl State {
    /// The screen for `user`, and the task loading the batches.
    pub fn new(user: User, station: &Station) -> (Self, Task<Message>) {
        let state = State {
            user,
            batches: Vec::new(),
            number: String::new(),
            note: String::new(),
            outcome: None,
        };
        (state, Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station.worker.task(|l| l.batches()).map(Message::Loaded)
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Resolve)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back_digits(&mut self.number, code);
        super::take_back(&mut self.note, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(BATCH_FIELD)
    }

    /// A resolution is written on the ledger thread, then the list reloads.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        match message {
            Message::Loaded(Ok(b)) => self.batches = b,
            Message::Number(n) => self.number = n.chars().filter(char::is_ascii_digit).collect(),
            Message::Note(n) => self.note = n,
            Message::Resolve => {
                let Some(batch) = self.number.parse::<i64>().ok().filter(|n| {
                    self.batches
                        .iter()
                        .any(|b| b.batch_id == *n && b.status == BatchStatus::Discrepancy)
                }) else {
                    self.outcome = Some(Err("Type the number of a batch in DISCREPANCY.".into()));
                    return Task::none();
                };
                if self.note.trim().is_empty() {
                    self.outcome = Some(Err("Say in the note what was found.".into()));
                    return Task::none();
                }
                let (user, note) = (self.user.clone(), self.note.trim().to_string());
                return station
                    .worker
                    .task(move |l| l.resolve_batch(batch, &user, &note))
                    .map(|r| Message::Resolved(Box::new(r)));
            }
            Message::Resolved(result) => match *result {
                Ok(b) => {
                    self.outcome = Some(Ok(format!("Batch {} resolved.", b.batch_id)));
                    self.number.clear();
                    self.note.clear();
                    return Self::load(station);
                }
                Err(e) => self.outcome = Some(Err(e.to_string())),
            },
            Message::Loaded(Err(e)) => self.outcome = Some(Err(e.to_string())),
        }
        Task::none()
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self, tz: chrono_tz::Tz) -> Element<'_, Message> {
        let local = |at: &str| {
            chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.with_timezone(&tz).format("%m/%d %H:%M").to_string())
                .unwrap_or_default()
        };
        let list = self.batches.iter().fold(column![].spacing(6), |c, b| {
            let custody = format!(
                "opened {}{}{}{}",
                local(&b.opened_at),
                b.received_at
                    .as_deref()
                    .map(|r| format!(", received {}", local(r)))
                    .unwrap_or_default(),
                b.closed_at
                    .as_deref()
                    .map(|r| format!(", closed {}", local(r)))
                    .unwrap_or_default(),
                if b.seals.is_empty() {
                    String::new()
                } else {
                    format!(", seals {}", b.seals.join(" "))
                },
            );
            let line = format!(
                "#{}  {}  opened by {}{}: {} accepted{}{}{}",
                b.batch_id,
                b.status.as_str().to_uppercase(),
                b.opened_by,
                b.container_id
                    .as_deref()
                    .map(|c| format!(", container {c}"))
                    .unwrap_or_default(),
                b.accepted_count,
                b.declared_count
                    .map(|d| format!(", {d} counted"))
                    .unwrap_or_default(),
                b.verified_by
                    .as_deref()
                    .map(|v| format!(", verified by {v}"))
                    .unwrap_or_default(),
                b.resolution_note
                    .as_deref()
                    .map(|n| format!(", resolved: {n}"))
                    .unwrap_or_default(),
            );
            let t = text(line).size(20);
            let t = if b.status == BatchStatus::Discrepancy {
                t.color(theme::ERROR)
            } else {
                t
            };
            // The custody record's times and seals on a line of their own.
            c.push(column![t, text(format!("      {custody}")).size(17)].spacing(2))
        });
        let resolve = row![
            text("Resolve batch #").size(22),
            widget::field("#", &self.number, BATCH_FIELD, Message::Number).width(120),
            text("note").size(22),
            widget::field("what was found", &self.note, NOTE_FIELD, Message::Note).width(620),
        ]
        .spacing(12)
        .align_y(iced::Center);
        let page = column![
            widget::mode_title("BATCHES (Esc: back to receiving)", theme::HEADER),
            scrollable(list).height(Fill),
            resolve,
        ]
        .spacing(14)
        .padding(16);
        match &self.outcome {
            Some(Ok(m)) => page.push(text(m.clone()).size(22).color(theme::OK)),
            Some(Err(e)) => page.push(text(e.clone()).size(22).color(theme::ERROR)),
            None => page,
        }
        .into()
    }
}
