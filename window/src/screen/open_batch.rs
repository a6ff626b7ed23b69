//! Opening a batch: container id and seal numbers (both optional); Enter opens it.

use iced::widget::{Id, column, container, row, text};
use iced::{Center, Element};

use crate::{theme, widget};

/// The container field's id (focused when the screen opens).
pub const CONTAINER_FIELD: &str = "open-batch-container";
/// The seals field's id.
pub const SEALS_FIELD: &str = "open-batch-seals";

/// The screen's state.
#[derive(Debug, Clone, Default)]
pub struct State {
    container: String,
    seals: String,
    /// Why opening failed, if it did.
    pub error: Option<String>,
    /// Opening is under way.
    pub busy: bool,
    /// What happened to the batch just closed, shown above the form.
    pub notice: Option<String>,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The container id changed.
    Container(String),
    /// The seal numbers changed.
    Seals(String),
    /// Enter or the button.
    Submit,
    /// Sign out instead.
    SignOut,
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Open a batch.
    Open {
        /// Container or tray label.
        container: Option<String>,
        /// Seal numbers.
        seals: Vec<String>,
    },
    /// Sign out.
    SignOut,
}

impl State {
    /// The form, under a notice about the batch just closed.
    pub fn with_notice(notice: String) -> Self {
        State {
            notice: Some(notice),
            ..State::default()
        }
    }

    /// The field the cursor starts in.
    pub fn focus_id() -> Id {
        Id::new(CONTAINER_FIELD)
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::Container(c) => self.container = c,
            Message::Seals(s) => self.seals = s,
            Message::SignOut => return Action::SignOut,
            Message::Submit if !self.busy => {
                self.busy = true;
                self.error = None;
                let container = Some(self.container.trim().to_string()).filter(|c| !c.is_empty());
                let seals = self
                    .seals
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                return Action::Open { container, seals };
            }
            Message::Submit => {}
        }
        Action::None
    }

    /// Opening failed.
    pub fn failed(&mut self, error: String) {
        self.busy = false;
        self.error = Some(error);
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let mut col = column![].spacing(14).align_x(Center).max_width(640);
        if let Some(n) = &self.notice {
            col = col.push(
                container(text(n).size(26))
                    .padding(12)
                    .style(theme::panel(theme::HEADER)),
            );
        }
        let col = col
            .push(text("Open a batch").size(44))
            .push(text("Container or tray (optional)").size(22))
            .push(widget::field(
                "e.g. DROPBOX-12",
                &self.container,
                CONTAINER_FIELD,
                Message::Container,
                Message::Submit,
            ))
            .push(text("Seal numbers (optional, separated by commas)").size(22))
            .push(widget::field(
                "e.g. A7731, A7732",
                &self.seals,
                SEALS_FIELD,
                Message::Seals,
                Message::Submit,
            ))
            .push(
                row![
                    widget::action(
                        "Open batch (Enter)",
                        (!self.busy).then_some(Message::Submit)
                    ),
                    widget::action("Sign out (F12)", Some(Message::SignOut)),
                ]
                .spacing(16),
            );
        widget::form(col, self.error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_are_split_and_blanks_dropped() {
        let mut s = State::default();
        s.update(Message::Container("  TRAY-7 ".into()));
        s.update(Message::Seals("A1, A2  A3,,".into()));
        assert_eq!(
            s.update(Message::Submit),
            Action::Open {
                container: Some("TRAY-7".into()),
                seals: vec!["A1".into(), "A2".into(), "A3".into()]
            }
        );
        let mut s = State::default();
        assert_eq!(
            s.update(Message::Submit),
            Action::Open {
                container: None,
                seals: vec![]
            }
        );
    }
}
