//! Closing a batch: the physical count, and a second person who verifies it with
//! their own PIN (Colorado's two-person chain of custody). A count that differs from
//! the accepted scans is shown, and the batch goes to a supervisor.

use iced::widget::{Id, button, column, container, row, text, text_input};
use iced::{Center, Element, Fill};

use crate::theme;

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
        let mut col = column![
            text(format!("Close batch {}", self.batch_id)).size(44),
            text(format!(
                "The station accepted {} envelopes into this batch.",
                self.accepted
            ))
            .size(24),
            text("Envelopes counted in the tray").size(22),
            text_input("count", &self.count)
                .id(COUNT_FIELD)
                .on_input(Message::Count)
                .on_submit(Message::Submit)
                .size(28)
                .padding(12),
            text("Second person: name and PIN").size(22),
            text_input("name", &self.verifier)
                .id(VERIFIER_FIELD)
                .on_input(Message::Verifier)
                .on_submit(Message::Submit)
                .size(28)
                .padding(12),
            text_input("PIN", &self.pin)
                .id(VERIFIER_PIN_FIELD)
                .secure(true)
                .on_input(Message::Pin)
                .on_submit(Message::Submit)
                .size(28)
                .padding(12),
            row![
                button(text("Close batch (Enter)").size(24))
                    .padding([10, 24])
                    .on_press_maybe((!self.busy).then_some(Message::Submit)),
                button(text("Back to scanning (Esc)").size(24))
                    .padding([10, 24])
                    .on_press(Message::Cancel),
            ]
            .spacing(16),
        ]
        .spacing(12)
        .align_x(Center)
        .max_width(640);
        if let Some(e) = &self.error {
            col = col.push(text(e).size(24).color(theme::ERROR));
        }
        container(col).center_x(Fill).padding(30).into()
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
