//! Opening a batch: container id and seal numbers (both optional); Enter opens it on
//! the ledger thread and scanning starts. Shown after sign-in when the clerk has no
//! open batch, and after a batch is closed (with what became of it).

use iced::widget::{Id, column, container, row, text};
use iced::{Center, Element, Task};

use ballot_intake_core::ledger::{Batch, BatchClose, LedgerError, NewBatch, User};

use crate::station::Station;
use crate::{theme, widget};

/// The container field's id (focused when the screen opens).
pub const CONTAINER_FIELD: &str = "open-batch-container";
/// The seals field's id.
pub const SEALS_FIELD: &str = "open-batch-seals";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// Who opens the batch.
    pub user: User,
    container: String,
    seals: String,
    /// Why opening failed, if it did.
    pub error: Option<String>,
    /// Opening is under way: a second Enter does not open a second batch.
    pub busy: bool,
    /// What happened to the batch just closed, shown above the form.
    pub notice: Option<String>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
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
    /// The ledger opened the batch, or why not.
    Opened(Box<Result<Batch, LedgerError>>),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Scanning starts in this batch.
    Opened(Box<(User, Batch)>),
    /// Back to the sign-in screen.
    SignOut,
}

impl State {
    /// The empty form for `user`.
    pub fn new(user: User) -> Self {
        State {
            user,
            container: String::new(),
            seals: String::new(),
            error: None,
            busy: false,
            notice: None,
        }
    }

    /// The form for the next tray, under what became of the batch just closed: a
    /// discrepancy is said plainly, because it goes to a supervisor.
    pub fn after_close(user: User, closed: &BatchClose) -> Self {
        let b = &closed.batch;
        let notice = if closed.discrepancy {
            format!(
                "Batch {} closed with a DISCREPANCY: {} counted, {} accepted. It goes to a supervisor.",
                b.batch_id,
                b.declared_count.unwrap_or_default(),
                b.accepted_count
            )
        } else {
            format!(
                "Batch {} closed: {} envelopes.",
                b.batch_id, b.accepted_count
            )
        };
        State {
            notice: Some(notice),
            ..State::new(user)
        }
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(CONTAINER_FIELD)
    }

    /// The container and seals as the ledger takes them: blanks dropped, seals split
    /// on commas and spaces.
    fn new_batch(&self) -> NewBatch {
        NewBatch {
            container: Some(self.container.trim().to_string()).filter(|c| !c.is_empty()),
            seals: self
                .seals
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            received_at: None,
        }
    }

    /// Enter opens the batch on the ledger thread; its answer starts scanning.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Container(c) => self.container = c,
            Message::Seals(s) => self.seals = s,
            Message::SignOut => return (Task::none(), Some(Event::SignOut)),
            Message::Submit if self.busy => {}
            Message::Submit => {
                self.busy = true;
                self.error = None;
                let (user, batch) = (self.user.clone(), self.new_batch());
                let open = station.worker.task(move |l| l.open_batch(&user, &batch));
                return (open.map(|r| Message::Opened(Box::new(r))), None);
            }
            Message::Opened(result) => {
                self.busy = false;
                match *result {
                    Ok(batch) => {
                        let opened = Box::new((self.user.clone(), batch));
                        return (Task::none(), Some(Event::Opened(opened)));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
        }
        (Task::none(), None)
    }

    /// The screen as it stands (drawing changes nothing).
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
    use ballot_intake_core::auth::Role;

    #[test]
    fn seals_are_split_and_blanks_dropped() {
        let clerk = User {
            user_id: 1,
            name: "ana".into(),
            role: Role::Clerk,
        };
        let mut s = State::new(clerk.clone());
        s.container = "  TRAY-7 ".into();
        s.seals = "A1, A2  A3,,".into();
        let b = s.new_batch();
        assert_eq!(b.container.as_deref(), Some("TRAY-7"));
        assert_eq!(b.seals, ["A1", "A2", "A3"]);
        let b = State::new(clerk).new_batch();
        assert_eq!((b.container, b.seals.len()), (None, 0));
    }
}
