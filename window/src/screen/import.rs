//! Importing a mail ballot file (supervisors): the file, chosen in the desktop's own
//! file dialog (Ctrl+O) or typed, a progress bar while
//! the file is read, then the summary or every error with its line and column. The
//! import runs on a thread of its own with its own connection to the ledger, so the
//! ledger thread keeps recording scans meanwhile (they wait only for the import's
//! last step, which stores what the file changes).

use iced::futures::channel::mpsc;
use iced::widget::{Id, column, progress_bar, scrollable, text};
use iced::{Element, Fill, Task};
use std::path::Path;

use ballot_intake_core::ledger::{ImportSummary, Ledger, LedgerError, User};
use ballot_intake_core::mail_ballot::{self, ImportError};

use super::dialog::{Pick, choose};
use crate::station::Station;
use crate::{theme, widget};

/// The path field's id (focused when the screen opens).
pub const PATH_FIELD: &str = "import-path";

/// What the import reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Bytes read of the file's total.
    Read(u64, u64),
    /// Finished: the summary, or why nothing was imported.
    Done(Box<Result<ImportSummary, ImportError>>),
}

/// Imports the file at `path` on a named thread with its own ledger connection;
/// progress and the result come back as a stream of messages while the window and
/// the ledger thread carry on.
fn start(path: String, user: User, station: &Station) -> Task<Message> {
    let (tx, rx) = mpsc::unbounded();
    let progress = tx.clone();
    let ledger = station.worker.path().to_path_buf();
    let done = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("mail-ballot-import".into())
        .spawn(move || {
            let result = Ledger::open(&ledger)
                .map_err(ImportError::Ledger)
                .and_then(|mut l| {
                    mail_ballot::import_file(
                        &mut l,
                        Path::new(&path),
                        Some(&user),
                        |done, total| {
                            let _ = progress.unbounded_send(Progress::Read(done, total));
                        },
                    )
                });
            let _ = done.unbounded_send(Progress::Done(Box::new(result)));
        });
    if let Err(e) = spawned {
        let failed = Err(ImportError::Ledger(LedgerError::Sqlite(format!(
            "cannot start the import's thread: {e}"
        ))));
        return Task::done(Message::Progress(Progress::Done(Box::new(failed))));
    }
    drop(tx);
    Task::run(rx, Message::Progress)
}

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor importing (named in the audit log).
    user: User,
    path: String,
    busy: bool,
    read: Option<(u64, u64)>,
    result: Option<Result<ImportSummary, ImportError>>,
    /// A line about the file dialog (cancelled, or none could be shown).
    note: Option<String>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The path changed.
    Path(String),
    /// Enter: import.
    Import,
    /// Ctrl+O: choose the file in the desktop's file dialog.
    Browse,
    /// The dialog closed: the file chosen, or `None` if it was cancelled.
    Chosen(Option<String>),
    /// The import's progress or end.
    Progress(Progress),
}

impl State {
    /// The screen for `user` (a supervisor), with no file chosen yet.
    pub fn new(user: User) -> State {
        State {
            user,
            path: String::new(),
            busy: false,
            read: None,
            result: None,
            note: None,
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Import)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.path, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(PATH_FIELD)
    }

    /// Whether an import is running (a second one is not started).
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Enter starts the import on the ledger thread (its progress comes back as a
    /// stream of messages); Ctrl+O opens the desktop's file dialog.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        self.note = None;
        match message {
            Message::Path(p) => self.path = p,
            Message::Import if !self.busy && !self.path.trim().is_empty() => {
                self.busy = true;
                self.read = Some((0, 0));
                self.result = None;
                return start(self.path.trim().to_string(), self.user.clone(), station);
            }
            Message::Browse if !self.busy => {
                let dialog = rfd::AsyncFileDialog::new()
                    .set_title("Choose a mail ballot file")
                    .add_filter("Mail ballot file (CSV)", &["csv", "CSV", "txt"]);
                return choose(dialog, Pick::File).map(Message::Chosen);
            }
            // One import at a time.
            Message::Import | Message::Browse => {}
            Message::Chosen(Some(path)) => {
                self.path = path;
                self.note = Some("Enter imports this file.".into());
            }
            Message::Chosen(None) => {
                self.note = Some(
                    "No file chosen. (If no dialog appeared, type the file's path above.)".into(),
                );
            }
            Message::Progress(Progress::Read(done, total)) => self.read = Some((done, total)),
            Message::Progress(Progress::Done(r)) => {
                self.busy = false;
                self.result = Some(*r);
            }
        }
        Task::none()
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let mut page = column![
            widget::mode_title(
                "IMPORT A MAIL BALLOT FILE (Esc: back to receiving)",
                theme::HEADER
            ),
            widget::path_field(
                "File:",
                ("/path/to/mail-ballots.csv", &self.path),
                PATH_FIELD,
                Message::Path,
                (!self.busy).then_some(Message::Browse)
            ),
            text(
                self.note
                    .as_deref()
                    .unwrap_or("Enter imports it into the active election, all or nothing.")
            )
            .size(18),
        ]
        .spacing(14)
        .padding(16);
        if let Some((done, total)) = self.read
            && self.busy
        {
            #[allow(clippy::cast_precision_loss)] // a progress bar needs no exact bytes
            let fraction = if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            };
            page = page
                .push(progress_bar(0.0..=1.0, fraction))
                .push(text(format!("{done} of {total} bytes read")).size(18));
        }
        match &self.result {
            Some(Ok(s)) => page.push(
                text(format!(
                    "Imported {} into {}: {} rows read, {} added, {} updated, {} unchanged in {:.2} s",
                    s.file, s.election_id, s.rows_read, s.added, s.updated, s.unchanged, s.seconds
                ))
                .size(22)
                .color(theme::OK),
            ),
            Some(Err(ImportError::Rejected { file, errors, total })) => {
                let list = errors.iter().fold(column![].spacing(2), |c, e| {
                    c.push(text(e.to_string()).size(18).color(theme::ERROR))
                });
                let more = total.saturating_sub(errors.len());
                page.push(
                    text(format!("{file}: {total} error(s); nothing was imported")).size(22).color(theme::ERROR),
                )
                .push(scrollable(list).height(Fill))
                .push(text(if more > 0 { format!("... and {more} more") } else { String::new() }).size(18))
            }
            Some(Err(e)) => page.push(text(e.to_string()).size(22).color(theme::ERROR)),
            None => page,
        }
        .into()
    }
}
