//! Sign-in: the cursor starts in the name field; name, Tab, PIN, Enter.

use iced::widget::{Id, column, text};
use iced::{Center, Element};

use crate::widget;

/// The name field's id (focused when the screen opens).
pub const USER_FIELD: &str = "sign-in-user";
/// The PIN field's id.
pub const PIN_FIELD: &str = "sign-in-pin";

/// The screen's state.
#[derive(Debug, Clone, Default)]
pub struct State {
    user: String,
    pin: String,
    /// Shown in plain words: wrong PIN, locked until ...
    pub error: Option<String>,
    /// A sign-in is being checked.
    pub busy: bool,
    /// On a demo station, the demo users and PINs.
    pub demo_hint: Option<String>,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The name changed.
    User(String),
    /// The PIN changed.
    Pin(String),
    /// Enter or the button.
    Submit,
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Check these credentials.
    SignIn {
        /// The name.
        user: String,
        /// The PIN.
        pin: String,
    },
}

impl State {
    /// A fresh screen (with the demo hint on a demo station).
    pub fn new(demo_hint: Option<String>) -> Self {
        State {
            demo_hint,
            ..State::default()
        }
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::User(u) => self.user = u,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::Submit => {
                if self.busy {
                    return Action::None;
                }
                if self.user.trim().is_empty() || self.pin.is_empty() {
                    self.error = Some("Type your name and your PIN.".into());
                    return Action::None;
                }
                self.busy = true;
                self.error = None;
                // The PIN leaves the field as soon as it is used.
                let pin = std::mem::take(&mut self.pin);
                return Action::SignIn {
                    user: self.user.trim().to_string(),
                    pin,
                };
            }
        }
        Action::None
    }

    /// The answer came back as an error.
    pub fn failed(&mut self, error: String) {
        self.busy = false;
        self.error = Some(error);
    }

    /// The field the cursor starts in.
    pub fn focus_id() -> Id {
        Id::new(USER_FIELD)
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let mut col = column![
            text("Sign in").size(44),
            widget::field(
                "Name",
                &self.user,
                USER_FIELD,
                Message::User,
                Message::Submit
            ),
            widget::field("PIN", &self.pin, PIN_FIELD, Message::Pin, Message::Submit).secure(true),
            widget::action("Sign in", (!self.busy).then_some(Message::Submit)),
        ]
        .spacing(18)
        .align_x(Center)
        .max_width(520);
        if let Some(h) = &self.demo_hint {
            col = col.push(text(h).size(20));
        }
        widget::form(col, self.error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_needs_both_and_takes_the_pin() {
        let mut s = State::new(None);
        assert_eq!(s.update(Message::Submit), Action::None);
        assert!(s.error.is_some());
        s.update(Message::User(" ana ".into()));
        s.update(Message::Pin("12a3456".into()));
        assert_eq!(
            s.update(Message::Submit),
            Action::SignIn {
                user: "ana".into(),
                pin: "123456".into()
            }
        );
        assert!(s.pin.is_empty(), "the PIN is not kept");
        assert_eq!(
            s.update(Message::Submit),
            Action::None,
            "no second submit while busy"
        );
        s.failed("wrong PIN".into());
        assert!(!s.busy);
    }
}
