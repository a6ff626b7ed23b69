//! Closing a batch: the physical count, and a second person who verifies it with
//! their own PIN (Colorado's two-person chain of custody). The count is blind: the
//! form does not show how many envelopes the station accepted, so the tray is
//! counted, not copied. A count that differs gets one recount; if it still differs
//! the batch closes as a discrepancy and goes to a supervisor.

use iced::widget::{Id, column, row, text};
use iced::{Center, Element, Task};

use ballot_intake_core::ledger::{BatchClose, LedgerError, User};

use crate::station::Station;
use crate::widget;

/// The count field's id (focused when the screen opens).
pub const COUNT_FIELD: &str = "close-count";
/// The verifier's name field.
pub const VERIFIER_FIELD: &str = "close-verifier";
/// The verifier's PIN field.
pub const VERIFIER_PIN_FIELD: &str = "close-verifier-pin";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The clerk closing the batch (who scanned into it).
    pub closer: User,
    /// The batch being closed.
    pub batch_id: i64,
    /// Envelopes accepted into it: compared with the count, never shown before it.
    pub accepted: i64,
    /// The first count differed and the tray is being counted again.
    pub recounting: bool,
    count: String,
    verifier: String,
    pin: String,
    /// Why closing failed.
    pub error: Option<String>,
    /// Closing is under way: a second Enter does not close twice.
    pub busy: bool,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
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
    /// The ledger closed the batch (or refused: wrong PIN, same person, ...).
    Closed(Box<Result<BatchClose, LedgerError>>),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The batch is closed: on to the next tray.
    Closed(Box<BatchClose>),
    /// Back to scanning.
    Cancel,
}

/// What the form holds once it is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filled {
    declared: i64,
    verifier: String,
    pin: String,
}

impl State {
    /// The form for `closer`'s batch `batch_id` with `accepted` envelopes.
    pub fn new(closer: User, batch_id: i64, accepted: i64) -> Self {
        State {
            closer,
            batch_id,
            accepted,
            recounting: false,
            count: String::new(),
            verifier: String::new(),
            pin: String::new(),
            error: None,
            busy: false,
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Submit)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back_digits(&mut self.count, code);
        super::take_back(&mut self.verifier, code);
        super::take_back_digits(&mut self.pin, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(COUNT_FIELD)
    }

    /// The count and the second person, or what is missing (said on the form). The
    /// PIN leaves the field as soon as it is used. A first count that differs from
    /// the station's asks for a recount instead (without saying the station's).
    fn filled(&mut self) -> Option<Filled> {
        let Ok(declared) = self.count.parse::<i64>() else {
            self.error = Some("Type the number of envelopes counted in the tray.".into());
            return None;
        };
        if declared != self.accepted && !self.recounting {
            self.recounting = true;
            self.count.clear();
            self.error = Some(
                "That count differs from the station's. Count the tray again and type the recount."
                    .into(),
            );
            return None;
        }
        if self.verifier.trim().is_empty() || self.pin.is_empty() {
            self.error = Some("A second person verifies the count: their name and PIN.".into());
            return None;
        }
        Some(Filled {
            declared,
            verifier: self.verifier.trim().to_string(),
            pin: std::mem::take(&mut self.pin),
        })
    }

    /// Enter checks the second person's PIN and closes the batch, both on the ledger
    /// thread.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Count(c) => self.count = c.chars().filter(char::is_ascii_digit).collect(),
            Message::Verifier(v) => self.verifier = v,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::Cancel => return (Task::none(), Some(Event::Cancel)),
            Message::Submit if self.busy => {}
            Message::Submit => {
                let Some(Filled {
                    declared,
                    verifier,
                    pin,
                }) = self.filled()
                else {
                    return (Task::none(), None);
                };
                self.busy = true;
                self.error = None;
                let (closer, batch) = (self.closer.clone(), self.batch_id);
                let close = station.worker.task(move |l| {
                    let what = format!("the count of batch {batch}");
                    let second = l.confirm_pin(&verifier, &pin, chrono::Utc::now(), &what)?;
                    l.close_batch(batch, &closer, &second, declared)
                });
                return (close.map(|r| Message::Closed(Box::new(r))), None);
            }
            Message::Closed(result) => {
                self.busy = false;
                match *result {
                    Ok(closed) => return (Task::none(), Some(Event::Closed(Box::new(closed)))),
                    Err(e) => {
                        self.error = Some(e.to_string());
                        return (iced::widget::operation::focus(Self::focus_id()), None);
                    }
                }
            }
        }
        (Task::none(), None)
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let col = column![
            text(format!("Close batch {}", self.batch_id)).size(44),
            text(if self.recounting {
                "RECOUNT: count the envelopes in the tray again"
            } else {
                "Count the envelopes in the tray (the station's count is not shown)"
            })
            .size(24),
            text("Envelopes counted in the tray").size(22),
            widget::field("count", &self.count, COUNT_FIELD, Message::Count),
            text("Second person: name and PIN").size(22),
            widget::field("name", &self.verifier, VERIFIER_FIELD, Message::Verifier),
            widget::field("PIN", &self.pin, VERIFIER_PIN_FIELD, Message::Pin).secure(true),
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
    use ballot_intake_core::auth::Role;

    #[test]
    fn needs_a_count_and_a_second_person() {
        let clerk = User {
            user_id: 1,
            name: "ana".into(),
            role: Role::Clerk,
        };
        let mut s = State::new(clerk, 3, 12);
        assert_eq!(s.filled(), None);
        assert!(s.error.as_deref().unwrap().contains("number of envelopes"));
        // A count that differs gets one recount, without the station's count.
        s.count = "11".into();
        assert_eq!(s.filled(), None);
        assert!(s.recounting && s.count.is_empty());
        assert!(!s.error.as_deref().unwrap().contains("12"));
        s.count = "12".into();
        assert_eq!(s.filled(), None);
        assert!(s.error.as_deref().unwrap().contains("second person"));
        s.verifier = " ben ".into();
        s.pin = "222222".into();
        assert_eq!(
            s.filled(),
            Some(Filled {
                declared: 12,
                verifier: "ben".into(),
                pin: "222222".into()
            })
        );
        assert!(s.pin.is_empty(), "the PIN is not kept");
    }
}
