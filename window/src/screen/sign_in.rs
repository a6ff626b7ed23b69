//! Sign-in: the cursor starts in the name field; name, Tab, PIN, Enter. The PIN is
//! checked on the ledger thread (Argon2id takes a noticeable moment), and the user's
//! open batch, if any, comes back with the answer.

use iced::widget::{Id, column, operation, text};
use iced::{Center, Element, Task};

use ballot_intake_core::ledger::{Batch, LedgerError, User};

use crate::station::Station;
use crate::widget;

/// The name field's id (focused when the screen opens).
pub const USER_FIELD: &str = "sign-in-user";
/// The PIN field's id.
pub const PIN_FIELD: &str = "sign-in-pin";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone, Default)]
pub struct State {
    user: String,
    pin: String,
    /// Shown in plain words: wrong PIN, locked until ..., signed out when idle.
    pub error: Option<String>,
    /// A sign-in is being checked: a second Enter does not start another.
    pub busy: bool,
    /// On a demo station, the demo users and PINs.
    pub demo_hint: Option<String>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The name changed.
    User(String),
    /// The PIN changed.
    Pin(String),
    /// Enter or the button.
    Submit,
    /// The ledger checked the PIN: the user and their open batch, or why not.
    Checked(Box<Result<(User, Option<Batch>), LedgerError>>),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `user` is signed in; scanning resumes in `batch` if they have one open.
    SignedIn {
        /// Who.
        user: User,
        /// Their open batch.
        batch: Option<Batch>,
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

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Submit)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.user, code);
        super::take_back_digits(&mut self.pin, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(USER_FIELD)
    }

    /// The PIN is sent to the ledger thread when name and PIN are both there; it
    /// leaves the field as soon as it is used.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::User(u) => self.user = u,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::Submit if self.busy => {}
            Message::Submit => {
                if self.user.trim().is_empty() || self.pin.is_empty() {
                    self.error = Some("Type your name and your PIN.".into());
                    return (Task::none(), None);
                }
                self.busy = true;
                self.error = None;
                let user = self.user.trim().to_string();
                let pin = std::mem::take(&mut self.pin);
                let check = station.worker.task(move |l| {
                    let u = l.sign_in(&user, &pin, chrono::Utc::now())?;
                    let batch = l.current_batch(&u)?;
                    Ok((u, batch))
                });
                return (check.map(|r| Message::Checked(Box::new(r))), None);
            }
            Message::Checked(result) => {
                self.busy = false;
                match *result {
                    Ok((user, batch)) => {
                        return (Task::none(), Some(Event::SignedIn { user, batch }));
                    }
                    // A wrong PIN or name goes back to the PIN (the refusal does
                    // not say which was wrong: the name is usually right).
                    Err(e) => {
                        let field = Id::new(PIN_FIELD);
                        self.error = Some(e.to_string());
                        return (operation::focus(field), None);
                    }
                }
            }
        }
        (Task::none(), None)
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let mut col = column![
            text("Sign in").size(44),
            widget::field("Name", &self.user, USER_FIELD, Message::User),
            widget::field("PIN", &self.pin, PIN_FIELD, Message::Pin).secure(true),
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
