//! Batches (supervisors): every batch of the election with its custody record, and
//! the resolution of a discrepancy (a count that differed from the scans) with a note.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill};

use crate::{theme, widget};
use ballot_intake_core::ledger::{Batch, BatchStatus, User};

/// The batch number field's id (focused when the screen opens).
pub const BATCH_FIELD: &str = "batches-number";
/// The note field's id.
pub const NOTE_FIELD: &str = "batches-note";

/// The screen's state.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    batches: Vec<Batch>,
    number: String,
    note: String,
    outcome: Option<Result<String, String>>,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's batches.
    Loaded(Result<Vec<Batch>, String>),
    /// The batch number changed.
    Number(String),
    /// The note changed.
    Note(String),
    /// Enter.
    Resolve,
    /// The ledger's answer to a resolution (boxed: a batch is large).
    Resolved(Box<Result<Batch, String>>),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Load the batches.
    Load,
    /// Resolve a discrepancy.
    Resolve {
        /// The batch.
        batch: i64,
        /// What was found.
        note: String,
    },
}

impl State {
    /// The screen for `user` (the batches load at once).
    pub fn new(user: User) -> (Self, Action) {
        (
            State {
                user,
                batches: Vec::new(),
                number: String::new(),
                note: String::new(),
                outcome: None,
            },
            Action::Load,
        )
    }

    /// The field the cursor starts in.
    pub fn focus_id() -> Id {
        Id::new(BATCH_FIELD)
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Action {
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
                    return Action::None;
                };
                if self.note.trim().is_empty() {
                    self.outcome = Some(Err("Say in the note what was found.".into()));
                    return Action::None;
                }
                return Action::Resolve {
                    batch,
                    note: self.note.trim().to_string(),
                };
            }
            Message::Resolved(result) => match *result {
                Ok(b) => {
                    self.outcome = Some(Ok(format!("Batch {} resolved.", b.batch_id)));
                    self.number.clear();
                    self.note.clear();
                    return Action::Load;
                }
                Err(e) => self.outcome = Some(Err(e)),
            },
            Message::Loaded(Err(e)) => self.outcome = Some(Err(e)),
        }
        Action::None
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let list = self.batches.iter().fold(column![].spacing(6), |c, b| {
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
            c.push(if b.status == BatchStatus::Discrepancy {
                t.color(theme::ERROR)
            } else {
                t
            })
        });
        let resolve = row![
            text("Resolve batch #").size(22),
            widget::field(
                "#",
                &self.number,
                BATCH_FIELD,
                Message::Number,
                Message::Resolve
            )
            .width(120),
            text("note").size(22),
            widget::field(
                "what was found",
                &self.note,
                NOTE_FIELD,
                Message::Note,
                Message::Resolve
            )
            .width(620),
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
