//! Batches (supervisors): every batch of the election with its custody record, the
//! resolution of a discrepancy (a count that differed from the scans) with a note,
//! and the cross-station duplicates the county hub reported (an envelope to pull
//! from its tray), each resolved with a note too.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Task};

use ballot_intake_core::ledger::{Batch, BatchStatus, ConflictRow, LedgerError, User};

use crate::station::Station;
use crate::{theme, widget};

/// The batch number field's id (focused when the screen opens).
pub const BATCH_FIELD: &str = "batches-number";
/// The note field's id.
pub const NOTE_FIELD: &str = "batches-note";
/// The duplicate's event number field's id.
pub const CONFLICT_FIELD: &str = "batches-conflict";
/// The duplicate's note field's id.
pub const CONFLICT_NOTE_FIELD: &str = "batches-conflict-note";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    batches: Vec<Batch>,
    number: String,
    note: String,
    /// The county hub's cross-station duplicates, open ones first.
    conflicts: Vec<ConflictRow>,
    conflict: String,
    conflict_note: String,
    outcome: Option<Result<String, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's batches.
    Loaded(Result<Vec<Batch>, LedgerError>),
    /// The batch number changed.
    Number(String),
    /// The note changed.
    Note(String),
    /// Enter.
    Resolve,
    /// The ledger's answer to a resolution (boxed: a batch is large).
    Resolved(Box<Result<Batch, LedgerError>>),
    /// The cross-station duplicates.
    ConflictsLoaded(Result<Vec<ConflictRow>, LedgerError>),
    /// The duplicate's event number changed.
    Conflict(String),
    /// Its note changed.
    ConflictNote(String),
    /// Enter in the duplicate's fields.
    ResolveConflict,
    /// The ledger's answer: the event resolved.
    ConflictResolved(Result<i64, LedgerError>),
    /// Ctrl+P: print the custody sheet of the batch whose number is typed, or the
    /// day's reconciliation when none is.
    Print,
    /// What printing did.
    Printed(Result<String, String>),
}

impl State {
    /// The screen for `user`, and the task loading the batches.
    pub fn new(user: User, station: &Station) -> (Self, Task<Message>) {
        let state = State {
            user,
            batches: Vec::new(),
            number: String::new(),
            note: String::new(),
            conflicts: Vec::new(),
            conflict: String::new(),
            conflict_note: String::new(),
            outcome: None,
        };
        (state, Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        Task::batch([
            station.worker.task(|l| l.batches()).map(Message::Loaded),
            station
                .worker
                .task(|l| l.hub_conflicts())
                .map(Message::ConflictsLoaded),
        ])
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing): in
    /// the duplicate's fields it resolves the duplicate, elsewhere the batch.
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        if *field == Id::new(CONFLICT_FIELD) || *field == Id::new(CONFLICT_NOTE_FIELD) {
            Some(Message::ResolveConflict)
        } else {
            Some(Message::Resolve)
        }
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back_digits(&mut self.number, code);
        super::take_back(&mut self.note, code);
        super::take_back_digits(&mut self.conflict, code);
        super::take_back(&mut self.conflict_note, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(BATCH_FIELD)
    }

    /// A resolution is written on the ledger thread, then the list reloads.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        match message {
            Message::Loaded(Ok(b)) => self.batches = b,
            Message::Number(n) => self.number = n.chars().filter(char::is_ascii_digit).collect(),
            Message::Note(n) => self.note = n,
            Message::Resolve => {
                let Some(batch) = self.number.parse::<i64>().ok().filter(|n| {
                    self.batches
                        .iter()
                        .any(|b| b.batch_id == *n && b.status == BatchStatus::Discrepancy)
                }) else {
                    self.outcome = Some(Err("Type the number of a batch in DISCREPANCY.".into()));
                    return Task::none();
                };
                if self.note.trim().is_empty() {
                    self.outcome = Some(Err("Say in the note what was found.".into()));
                    return Task::none();
                }
                let (user, note) = (self.user.clone(), self.note.trim().to_string());
                return station
                    .worker
                    .task(move |l| l.resolve_batch(batch, &user, &note))
                    .map(|r| Message::Resolved(Box::new(r)));
            }
            Message::Resolved(result) => match *result {
                Ok(b) => {
                    self.outcome = Some(Ok(format!("Batch {} resolved.", b.batch_id)));
                    self.number.clear();
                    self.note.clear();
                    return Self::load(station);
                }
                Err(e) => self.outcome = Some(Err(e.to_string())),
            },
            Message::Loaded(Err(e)) | Message::ConflictsLoaded(Err(e)) => {
                self.outcome = Some(Err(e.to_string()));
            }
            Message::ConflictsLoaded(Ok(c)) => self.conflicts = c,
            Message::Conflict(n) => {
                self.conflict = n.chars().filter(char::is_ascii_digit).collect();
            }
            Message::ConflictNote(n) => self.conflict_note = n,
            Message::ResolveConflict => return self.resolve_conflict(station),
            Message::ConflictResolved(Ok(event)) => {
                self.outcome = Some(Ok(format!("The duplicate of event {event} is resolved.")));
                self.conflict.clear();
                self.conflict_note.clear();
                return Self::load(station);
            }
            Message::ConflictResolved(Err(e)) => self.outcome = Some(Err(e.to_string())),
            Message::Print => {
                let Some(folder) = station.env.as_ref().map(|e| e.data_dir.join("reports")) else {
                    self.outcome =
                        Some(Err("This station has no data folder to print from.".into()));
                    return Task::none();
                };
                let (batch, user) = (self.number.parse::<i64>().ok(), self.user.clone());
                return station
                    .worker
                    .task(move |l| {
                        ballot_intake_core::report::write_for_printing(l, batch, &folder, &user)
                    })
                    .then(|r| match r {
                        Ok(to_print) => Task::perform(print_off_thread(to_print), Message::Printed),
                        Err(e) => Task::done(Message::Printed(Err(e.to_string()))),
                    });
            }
            Message::Printed(r) => self.outcome = Some(r),
        }
        Task::none()
    }

    /// What the last action came to (a resolution, a print), in words.
    pub fn outcome(&self) -> Option<&Result<String, String>> {
        self.outcome.as_ref()
    }

    /// Checks the duplicate's fields here (an open one's event number, a note), then
    /// writes the resolution on the ledger thread.
    fn resolve_conflict(&mut self, station: &Station) -> Task<Message> {
        let Some(event) = self.conflict.parse::<i64>().ok().filter(|n| {
            self.conflicts
                .iter()
                .any(|c| c.event_seq == *n && c.resolution.is_none())
        }) else {
            self.outcome = Some(Err(
                "Type the event number of a duplicate still to pull.".into()
            ));
            return Task::none();
        };
        if self.conflict_note.trim().is_empty() {
            self.outcome = Some(Err(
                "Say in the note what was done with the envelope.".into()
            ));
            return Task::none();
        }
        let (user, note) = (self.user.clone(), self.conflict_note.trim().to_string());
        station
            .worker
            .task(move |l| l.resolve_hub_conflict(&user, event, &note).map(|()| event))
            .map(Message::ConflictResolved)
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self, tz: chrono_tz::Tz) -> Element<'_, Message> {
        let local = |at: &str| {
            chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.with_timezone(&tz).format("%m/%d %H:%M").to_string())
                .unwrap_or_default()
        };
        let list = self.batches.iter().fold(column![].spacing(6), |c, b| {
            let custody = format!(
                "opened {}{}{}{}",
                local(&b.opened_at),
                b.received_at
                    .as_deref()
                    .map(|r| format!(", received {}", local(r)))
                    .unwrap_or_default(),
                b.closed_at
                    .as_deref()
                    .map(|r| format!(", closed {}", local(r)))
                    .unwrap_or_default(),
                if b.seals.is_empty() {
                    String::new()
                } else {
                    format!(", seals {}", b.seals.join(" "))
                },
            );
            let line = format!(
                "#{}  {}  opened by {}{}: {} accepted{}{}{}",
                b.batch_id,
                b.status.as_str().to_uppercase(),
                b.opened_by,
                b.container_id
                    .as_deref()
                    .map(|c| format!(", container {c}"))
                    .unwrap_or_default(),
                b.accepted_count,
                b.declared_count
                    .map(|d| format!(", {d} counted"))
                    .unwrap_or_default(),
                b.verified_by
                    .as_deref()
                    .map(|v| format!(", verified by {v}"))
                    .unwrap_or_default(),
                b.resolution_note
                    .as_deref()
                    .map(|n| format!(", resolved: {n}"))
                    .unwrap_or_default(),
            );
            let t = text(line).size(20);
            let t = if b.status == BatchStatus::Discrepancy {
                t.color(theme::ERROR)
            } else {
                t
            };
            // The custody record's times and seals on a line of their own.
            c.push(column![t, text(format!("      {custody}")).size(17)].spacing(2))
        });
        let resolve = row![
            text("Resolve batch #").size(22),
            widget::field("#", &self.number, BATCH_FIELD, Message::Number).width(120),
            text("note").size(22),
            widget::field("what was found", &self.note, NOTE_FIELD, Message::Note).width(620),
        ]
        .spacing(12)
        .align_y(iced::Center);
        let mut page = column![
            widget::mode_title("BATCHES (Esc: back to receiving)", theme::HEADER),
            text(
                "Ctrl+P prints the custody sheet of the batch whose number is typed below, \
                 or with none, today's reconciliation."
            )
            .size(17)
        ]
        .spacing(14)
        .padding(16);
        if !self.conflicts.is_empty() {
            let duplicates = self.conflicts.iter().fold(column![].spacing(4), |c, d| {
                let first = format!(
                    "first received at station {}{}, {}",
                    d.first_station,
                    d.first_batch
                        .map(|b| format!(" batch {b}"))
                        .unwrap_or_default(),
                    local(&d.first_at)
                );
                let line = match &d.resolution {
                    None => text(format!(
                        "PULL FROM TRAY: batch {}, ballot {} (event {}); {first}",
                        d.batch.map_or_else(|| "-".into(), |b| b.to_string()),
                        d.ballot_id,
                        d.event_seq
                    ))
                    .size(20)
                    .color(theme::ERROR),
                    Some(note) => text(format!(
                        "pulled: batch {}, ballot {} (event {}); {first}; {} wrote: {note}",
                        d.batch.map_or_else(|| "-".into(), |b| b.to_string()),
                        d.ballot_id,
                        d.event_seq,
                        d.resolved_by.as_deref().unwrap_or("a supervisor")
                    ))
                    .size(18),
                };
                c.push(line)
            });
            page = page
                .push(text("Cross-station duplicates (from the county hub)").size(22))
                .push(scrollable(duplicates).height(160))
                .push(
                    row![
                        text("Pulled event").size(22),
                        widget::field("#", &self.conflict, CONFLICT_FIELD, Message::Conflict)
                            .width(120),
                        text("note").size(22),
                        widget::field(
                            "what was done with the envelope",
                            &self.conflict_note,
                            CONFLICT_NOTE_FIELD,
                            Message::ConflictNote
                        )
                        .width(560),
                    ]
                    .spacing(12)
                    .align_y(iced::Center),
                );
        }
        let page = page.push(scrollable(list).height(Fill)).push(resolve);
        match &self.outcome {
            Some(Ok(m)) => page.push(text(m.clone()).size(22).color(theme::OK)),
            Some(Err(e)) => page.push(text(e.clone()).size(22).color(theme::ERROR)),
            None => page,
        }
        .into()
    }
}

/// Hands the written sheet to the printing system on a thread of its own (`lp` can
/// take seconds, or hang on a printer gone away), and says where the file is and
/// what the printer made of it.
async fn print_off_thread(to_print: ballot_intake_core::report::ToPrint) -> Result<String, String> {
    let (tx, rx) = iced::futures::channel::oneshot::channel();
    let pdf = to_print.pdf.clone();
    let spawned = std::thread::Builder::new()
        .name("print".into())
        .spawn(move || {
            let _ = tx.send(ballot_intake_core::report::send_to_printer(&pdf));
        });
    let printer = match spawned {
        Ok(_) => rx
            .await
            .unwrap_or_else(|_| "Printing stopped: print the file from that folder.".into()),
        Err(e) => format!("Printing could not start ({e}): print the file from that folder."),
    };
    Ok(format!("{} {printer}", to_print.written()))
}
