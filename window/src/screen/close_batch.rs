//! Closing a batch: the physical count, and a second person who verifies it with
//! their own PIN (Colorado's two-person chain of custody). A count that differs from
//! the accepted scans is shown, and the batch goes to a supervisor.

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
    /// Envelopes accepted into it, for the clerk to compare.
    pub accepted: i64,
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
            count: String::new(),
            verifier: String::new(),
            pin: String::new(),
            error: None,
            busy: false,
        }
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(COUNT_FIELD)
    }

    /// The count and the second person, or what is missing (said on the form). The
    /// PIN leaves the field as soon as it is used.
    fn filled(&mut self) -> Option<Filled> {
        let Ok(declared) = self.count.parse::<i64>() else {
            self.error = Some("Type the number of envelopes counted in the tray.".into());
            return None;
        };
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
                    let second = l.sign_in(&verifier, &pin, chrono::Utc::now())?;
                    l.close_batch(batch, &closer, &second, declared)
                });
                return (close.map(|r| Message::Closed(Box::new(r))), None);
            }
            Message::Closed(result) => {
                self.busy = false;
                match *result {
                    Ok(closed) => return (Task::none(), Some(Event::Closed(Box::new(closed)))),
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
        }
        (Task::none(), None)
    }

    /// The screen as it stands (drawing changes nothing).
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
