//! Needs-attention mode (supervisors): return envelopes the voter must cure
//! (unsigned, signature mismatch, damaged, ID required, other with a note) are flagged
//! as they are scanned; the flags become cure notices through the sync.

use iced::widget::{Id, column, container, row, scrollable, text, text_input};
use iced::{Center, Element, Fill};
use std::collections::VecDeque;

use crate::{theme, widget};
use ballot_intake_core::ledger::{AttentionReason, FlagResult, User};

/// The note field's id.
pub const NOTE_FIELD: &str = "attention-note";

/// The screen's state.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    /// The reason applied to the next scans.
    pub reason: AttentionReason,
    /// The note (required with "other").
    pub note: String,
    last: Option<Result<FlagResult, String>>,
    recent: VecDeque<FlagResult>,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Ctrl+1 .. Ctrl+5.
    Shortcut(usize),
    /// The note changed.
    Note(String),
    /// The ledger answered a flag.
    Recorded(Box<Result<FlagResult, String>>),
}

impl State {
    /// The mode for `user`, starting with "unsigned".
    pub fn new(user: User) -> Self {
        State {
            user,
            reason: AttentionReason::Unsigned,
            note: String::new(),
            last: None,
            recent: VecDeque::new(),
        }
    }

    /// The note field (a wedge scan typed into it is taken back out by the app).
    pub fn focus_id() -> Id {
        Id::new(NOTE_FIELD)
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) {
        match message {
            Message::Shortcut(n) => {
                if let Some(r) = n.checked_sub(1).and_then(|i| AttentionReason::ALL.get(i)) {
                    self.reason = *r;
                }
            }
            Message::Note(n) => self.note = n,
            Message::Recorded(result) => {
                if let Ok(f) = &*result {
                    self.recent.push_front(f.clone());
                    self.recent.truncate(super::scan::RECENT);
                }
                self.last = Some(*result);
            }
        }
    }

    /// A wedge scan typed into the note field: its keys are a scan, not the note.
    pub fn take_wedge_keys(&mut self, code: &str) {
        if let Some(kept) = self.note.strip_suffix(code) {
            self.note = kept.to_string();
        }
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let title = widget::mode_title(
            "NEEDS ATTENTION: envelopes the voter must cure (Esc: back to receiving)",
            theme::ATTENTION,
        );
        let chooser = row![
            text("Reason:").size(26),
            container(text(self.reason.label()).size(30))
                .padding([6, 16])
                .style(theme::panel(theme::ATTENTION)),
        ]
        .spacing(14)
        .align_y(Center);
        let keys = widget::shortcuts(AttentionReason::ALL.iter().map(|r| r.label()));
        let note = row![
            text("Note (required for Other):").size(22),
            text_input("what is wrong", &self.note)
                .id(NOTE_FIELD)
                .on_input(Message::Note)
                .size(24)
                .padding(8)
                .width(480),
        ]
        .spacing(12)
        .align_y(Center);
        let last = self.last.as_ref().map(|r| {
            r.as_ref()
                .map(|f| {
                    format!(
                        "{}: ballot {}",
                        AttentionReason::label_of(&f.reason),
                        f.ballot_id
                    )
                })
                .map_err(Clone::clone)
        });
        let banner = widget::flag_banner(
            last,
            "Scan a return envelope",
            "NEEDS ATTENTION",
            theme::ATTENTION,
        );
        let recent = self.recent.iter().fold(column![].spacing(4), |c, f| {
            c.push(
                text(format!(
                    "{}  {}",
                    f.ballot_id,
                    AttentionReason::label_of(&f.reason)
                ))
                .size(18),
            )
        });
        column![
            title,
            chooser,
            keys,
            note,
            banner,
            scrollable(recent).height(Fill)
        ]
        .spacing(14)
        .padding(16)
        .into()
    }
}
