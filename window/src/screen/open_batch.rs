//! Opening a batch: container id and seal numbers (both optional), and, for a
//! container the county received before it is scanned (a drop box emptied at
//! 18:58), the time it was received, confirmed by a supervisor when it is more than
//! a few minutes ago; Enter opens the batch on the ledger thread and scanning starts.
//! Shown after sign-in when the user has no open batch, and after a batch is closed
//! (with what became of it: a discrepancy in red).
//!
//! An envelope scanned here is not lost: a ballot id or IMb opens the batch with
//! what the form holds and is recorded in it; any other code is read as the
//! container's label.

use chrono::{DateTime, Utc};
use iced::widget::{Id, column, container, row, text};
use iced::{Center, Element, Task};

use ballot_intake_core::ledger::{
    Batch, BatchClose, LedgerError, NewBatch, RECEIVED_AT_GRACE_MINUTES, ScanResult, User,
};

use super::Scanned;
use crate::station::Station;
use crate::{theme, widget};

/// The container field's id (focused when the screen opens).
pub const CONTAINER_FIELD: &str = "open-batch-container";
/// The seals field's id.
pub const SEALS_FIELD: &str = "open-batch-seals";
/// The received-at field's id.
pub const RECEIVED_FIELD: &str = "open-batch-received";
/// The confirming supervisor's name field.
pub const SUPERVISOR_FIELD: &str = "open-batch-supervisor";
/// The confirming supervisor's PIN field.
pub const SUPERVISOR_PIN_FIELD: &str = "open-batch-supervisor-pin";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// Who opens the batch.
    pub user: User,
    container: String,
    seals: String,
    received: String,
    supervisor: String,
    pin: String,
    /// Why opening failed, if it did.
    pub error: Option<String>,
    /// Opening is under way: a second Enter does not open a second batch.
    pub busy: bool,
    /// What happened to the batch just closed, shown above the form.
    pub notice: Option<String>,
    /// The notice is a discrepancy: shown in red.
    pub alarm: bool,
    /// The received time typed is far enough back that a supervisor must confirm
    /// it: their name and PIN fields are shown.
    confirm: bool,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The container id changed.
    Container(String),
    /// The seal numbers changed.
    Seals(String),
    /// The received-at time changed.
    Received(String),
    /// The confirming supervisor's name changed.
    Supervisor(String),
    /// The confirming supervisor's PIN changed.
    Pin(String),
    /// Enter or the button.
    Submit,
    /// Sign out instead.
    SignOut,
    /// The ledger opened the batch, or why not.
    Opened(Box<Result<Batch, LedgerError>>),
    /// What a scan on this form was: an envelope (the batch opened and the scan
    /// recorded in it), or a container's label.
    Read(Box<Result<Read, LedgerError>>),
    /// A scan the form cannot take yet (a batch opening, or the form incomplete).
    Refuse(Scanned),
}

/// Checks the confirming supervisor's PIN, if the receipt time needs one.
fn confirm_receipt(
    l: &mut ballot_intake_core::ledger::Ledger,
    confirm: Option<(String, String)>,
) -> Result<Option<User>, LedgerError> {
    confirm
        .map(|(name, pin)| {
            l.confirm_pin(
                &name,
                &pin,
                Utc::now(),
                "an earlier receipt time for a new batch",
            )
        })
        .transpose()
}

/// Seal numbers as typed: split on commas and spaces, blanks dropped.
fn seals(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a code scanned on the form turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A return envelope: the batch was opened and the scan recorded in it.
    Envelope(Box<(Batch, ScanResult)>),
    /// Not an envelope: the container's label.
    Label(String),
}

/// What the application must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Scanning starts in this batch, with the result of the envelope scanned on the
    /// form if there was one.
    Opened(Box<(User, Batch, Option<ScanResult>)>),
    /// A scan that could not be recorded: the strip says so.
    Refused(Scanned),
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
            received: String::new(),
            supervisor: String::new(),
            pin: String::new(),
            error: None,
            busy: false,
            notice: None,
            alarm: false,
            confirm: false,
        }
    }

    /// The form for the next tray, under what became of the batch just closed: a
    /// discrepancy is said plainly, in red, because it goes to a supervisor.
    pub fn after_close(user: User, closed: &BatchClose) -> Self {
        let b = &closed.batch;
        let notice = if closed.discrepancy {
            format!(
                "DISCREPANCY: batch {} closed with {} counted and {} accepted. It goes to a supervisor.",
                b.batch_id,
                b.declared_count.unwrap_or_default(),
                b.accepted_count
            )
        } else {
            format!(
                "Batch {} closed: {} {}.",
                b.batch_id,
                b.accepted_count,
                if b.accepted_count == 1 {
                    "envelope"
                } else {
                    "envelopes"
                }
            )
        };
        State {
            notice: Some(notice),
            alarm: closed.discrepancy,
            ..State::new(user)
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Submit)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        for field in [
            &mut self.container,
            &mut self.seals,
            &mut self.received,
            &mut self.supervisor,
        ] {
            super::take_back(field, code);
        }
        super::take_back_digits(&mut self.pin, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(CONTAINER_FIELD)
    }

    /// The received-at time typed, if any, in the station's time zone.
    fn received_at(&self, station: &Station) -> Result<Option<DateTime<Utc>>, String> {
        let tz = station.header.timezone;
        let text = self.received.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let today = Utc::now().with_timezone(&tz).date_naive();
        ballot_intake_core::local_time::parse(text, today, tz).map(Some)
    }

    /// Whether the time typed is far enough back that a supervisor must confirm it
    /// (and the user opening the batch is not one).
    fn needs_confirmation(&self, station: &Station) -> bool {
        !self.user.role.can_supervise()
            && matches!(self.received_at(station), Ok(Some(at))
                if Utc::now() - at > chrono::Duration::minutes(RECEIVED_AT_GRACE_MINUTES))
    }

    /// The batch as the form describes it and the confirming supervisor's name and
    /// PIN, or what is wrong with it. The PIN leaves its field when `take_pin` (it
    /// is about to be used).
    fn filled(
        &mut self,
        station: &Station,
        take_pin: bool,
    ) -> Result<(NewBatch, Option<(String, String)>), String> {
        let received_at = self.received_at(station)?;
        let confirm = if self.needs_confirmation(station) {
            if self.supervisor.trim().is_empty() || self.pin.is_empty() {
                return Err(format!(
                    "A received time more than {RECEIVED_AT_GRACE_MINUTES} minutes ago needs a supervisor: their name and PIN."
                ));
            }
            let pin = if take_pin {
                std::mem::take(&mut self.pin)
            } else {
                self.pin.clone()
            };
            Some((self.supervisor.trim().to_string(), pin))
        } else {
            None
        };
        let batch = NewBatch {
            container: Some(self.container.trim().to_string()).filter(|c| !c.is_empty()),
            seals: seals(&self.seals),
            received_at,
            confirmed_by: None,
        };
        Ok((batch, confirm))
    }

    /// Enter: opens the batch on the ledger thread (the supervisor's PIN checked
    /// there first).
    fn submit(&mut self, station: &Station) -> Task<Message> {
        let (mut batch, confirm) = match self.filled(station, true) {
            Ok(f) => f,
            Err(e) => {
                self.error = Some(e);
                return Task::none();
            }
        };
        self.busy = true;
        self.error = None;
        let user = self.user.clone();
        station
            .worker
            .task(move |l| {
                batch.confirmed_by = confirm_receipt(l, confirm)?;
                l.open_batch(&user, &batch)
            })
            .map(|r| Message::Opened(Box::new(r)))
    }

    /// A scanner read `scan` on this form. On the ledger thread, in order: an
    /// envelope opens the batch with what the form holds and is recorded in it; any
    /// other code is the container's label and nothing is written. A form that
    /// cannot open a batch yet refuses an envelope on the strip.
    pub fn scanned(&mut self, scan: Scanned, station: &Station) -> Task<Message> {
        if self.busy {
            return Task::done(Message::Refuse(scan));
        }
        let (mut batch, confirm) = match self.filled(station, false) {
            Ok(f) => f,
            Err(e) => {
                self.error = Some(e);
                return Task::done(Message::Refuse(scan));
            }
        };
        self.busy = true;
        let (user, at) = (self.user.clone(), Utc::now());
        station
            .worker
            .task(move |l| {
                if !l.is_return_envelope(&scan.raw)? {
                    return Ok(Read::Label(scan.text()));
                }
                batch.confirmed_by = confirm_receipt(l, confirm)?;
                let opened = l.open_batch(&user, &batch)?;
                let first = scan.with_input(at, |i| l.record_scan(&user, opened.batch_id, i))?;
                // The batch as opened: the scan screen counts the first envelope
                // when its result arrives.
                Ok(Read::Envelope(Box::new((opened, first))))
            })
            .map(|r| Message::Read(Box::new(r)))
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
            Message::Received(r) => {
                self.received = r;
                self.confirm = self.needs_confirmation(station);
            }
            Message::Supervisor(s) => self.supervisor = s,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::SignOut => return (Task::none(), Some(Event::SignOut)),
            Message::Submit if self.busy => {}
            Message::Submit => return (self.submit(station), None),
            Message::Refuse(scan) => return (Task::none(), Some(Event::Refused(scan))),
            Message::Opened(result) => {
                self.busy = false;
                match *result {
                    Ok(batch) => {
                        let opened = Box::new((self.user.clone(), batch, None));
                        return (Task::none(), Some(Event::Opened(opened)));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            Message::Read(result) => {
                self.busy = false;
                match *result {
                    Ok(Read::Label(label)) => {
                        self.container = label;
                        self.error = None;
                    }
                    Ok(Read::Envelope(opened)) => {
                        let (batch, first) = *opened;
                        self.pin.clear();
                        let opened = Box::new((self.user.clone(), batch, Some(first)));
                        return (Task::none(), Some(Event::Opened(opened)));
                    }
                    Err(e) => self.error = Some(format!("NOT RECORDED: {e}")),
                }
            }
        }
        (Task::none(), None)
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view<'a>(&'a self) -> Element<'a, Message> {
        let mut col = column![].spacing(12).align_x(Center).max_width(900);
        if let Some(n) = &self.notice {
            let (background, size) = if self.alarm {
                (theme::ERROR, 30)
            } else {
                (theme::HEADER, 26)
            };
            col = col.push(
                container(text(n).size(size))
                    .padding(12)
                    .style(theme::panel(background)),
            );
        }
        let labelled = |label: &'static str, field: Element<'a, Message>| {
            column![text(label).size(20), field].spacing(6)
        };
        col = col.push(text("Open a batch").size(40)).push(
            row![
                labelled(
                    "Container or tray (optional)",
                    widget::field(
                        "e.g. DROPBOX-12",
                        &self.container,
                        CONTAINER_FIELD,
                        Message::Container
                    )
                    .into()
                ),
                labelled(
                    "Seal numbers (optional, commas between)",
                    widget::field(
                        "e.g. A7731, A7732",
                        &self.seals,
                        SEALS_FIELD,
                        Message::Seals
                    )
                    .into()
                ),
            ]
            .spacing(16),
        );
        col = col.push(
            row![
                text("Received by the county at (optional; a drop box's collection):").size(20),
                widget::field("HH:MM", &self.received, RECEIVED_FIELD, Message::Received)
                    .width(280),
            ]
            .spacing(12)
            .align_y(Center),
        );
        if self.confirm {
            col = col.push(
                row![
                    text(format!(
                        "Over {RECEIVED_AT_GRACE_MINUTES} minutes ago: a supervisor confirms"
                    ))
                    .size(20),
                    widget::field(
                        "supervisor",
                        &self.supervisor,
                        SUPERVISOR_FIELD,
                        Message::Supervisor
                    )
                    .width(300),
                    widget::field("PIN", &self.pin, SUPERVISOR_PIN_FIELD, Message::Pin)
                        .secure(true)
                        .width(140),
                ]
                .spacing(12)
                .align_y(Center),
            );
        }
        let col = col.push(
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
        assert_eq!(seals("A1, A2  A3,,"), ["A1", "A2", "A3"]);
        assert!(seals(" , ").is_empty());
    }
}
