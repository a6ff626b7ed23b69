//! Closing a batch: the physical count, and a second person who verifies it with
//! their own PIN (Colorado's two-person chain of custody). A count that differs from
//! the accepted scans is shown, and the batch goes to a supervisor.

use iced::widget::{Id, column, row, text};
use iced::{Center, Element};

use crate::widget;

/// The count field's id (focused when the screen opens).
pub const COUNT_FIELD: &str = "close-count";
/// The verifier's name field.
pub const VERIFIER_FIELD: &str = "close-verifier";
/// The verifier's PIN field.
pub const VERIFIER_PIN_FIELD: &str = "close-verifier-pin";

/// The screen's state.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The batch being closed.
    pub batch_id: i64,
    /// Envelopes accepted into it, for the clerk to compare.
    pub accepted: i64,
    count: String,
    verifier: String,
    pin: String,
    /// Why closing failed.
    pub error: Option<String>,
    /// Closing is under way.
    pub busy: bool,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The declared count changed.
    Count(String),
    /// The verifier's name changed.
    Verifier(String),
    /// The verifier's PIN changed.
    Pin(String),
    /// Enter or the button.
    Submit,
    /// Back to scanning without closing.
    Cancel,
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Close the batch.
    Close {
        /// The physical count.
        declared: i64,
        /// The second person.
        verifier: String,
        /// Their PIN.
        pin: String,
    },
    /// Back to scanning.
    Cancel,
}

impl State {
    /// The form for `batch_id` with `accepted` envelopes.
    pub fn new(batch_id: i64, accepted: i64) -> Self {
        State {
            batch_id,
            accepted,
            ..State::default()
        }
    }

    /// The field the cursor starts in.
    pub fn focus_id() -> Id {
        Id::new(COUNT_FIELD)
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::Count(c) => self.count = c.chars().filter(char::is_ascii_digit).collect(),
            Message::Verifier(v) => self.verifier = v,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::Cancel => return Action::Cancel,
            Message::Submit if !self.busy => {
                let Ok(declared) = self.count.parse::<i64>() else {
                    self.error = Some("Type the number of envelopes counted in the tray.".into());
                    return Action::None;
                };
                if self.verifier.trim().is_empty() || self.pin.is_empty() {
                    self.error =
                        Some("A second person verifies the count: their name and PIN.".into());
                    return Action::None;
                }
                self.busy = true;
                self.error = None;
                return Action::Close {
                    declared,
                    verifier: self.verifier.trim().to_string(),
                    pin: std::mem::take(&mut self.pin),
                };
            }
            Message::Submit => {}
        }
        Action::None
    }

    /// Closing failed.
    pub fn failed(&mut self, error: String) {
        self.busy = false;
        self.error = Some(error);
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let col = column![
            text(format!("Close batch {}", self.batch_id)).size(44),
            text(format!(
                "The station accepted {} envelopes into this batch.",
                self.accepted
            ))
            .size(24),
            text("Envelopes counted in the tray").size(22),
            widget::field(
                "count",
                &self.count,
                COUNT_FIELD,
                Message::Count,
                Message::Submit
            ),
            text("Second person: name and PIN").size(22),
            widget::field(
                "name",
                &self.verifier,
                VERIFIER_FIELD,
                Message::Verifier,
                Message::Submit
            ),
            widget::field(
                "PIN",
                &self.pin,
                VERIFIER_PIN_FIELD,
                Message::Pin,
                Message::Submit
            )
            .secure(true),
            row![
                widget::action(
                    "Close batch (Enter)",
                    (!self.busy).then_some(Message::Submit)
                ),
                widget::action("Back to scanning (Esc)", Some(Message::Cancel)),
            ]
            .spacing(16),
        ]
        .spacing(12)
        .align_x(Center)
        .max_width(640);
        widget::form(col, self.error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_count_and_a_second_person() {
        let mut s = State::new(3, 12);
        assert_eq!(s.update(Message::Submit), Action::None);
        assert!(s.error.as_deref().unwrap().contains("number of envelopes"));
        s.update(Message::Count("1x2".into()));
        assert_eq!(s.update(Message::Submit), Action::None);
        assert!(s.error.as_deref().unwrap().contains("second person"));
        s.update(Message::Verifier("ben".into()));
        s.update(Message::Pin("222222".into()));
        assert_eq!(
            s.update(Message::Submit),
            Action::Close {
                declared: 12,
                verifier: "ben".into(),
                pin: "222222".into()
            }
        );
        assert_eq!(s.update(Message::Cancel), Action::Cancel);
    }
}
