//! The nightly batch file (F11, anyone signed in: clerks export at the end of the
//! day): a local day, a folder, Enter. The file is written on the ledger thread, so
//! the window stays live; the result names the file, its rows and its SHA-256, which
//! is what the person carrying it to the county's system checks against.

use chrono::NaiveDate;
use iced::widget::{Id, column, row, text};
use iced::{Element, Font, Task};
use std::path::Path;

use ballot_intake_core::export::{ExportError, ExportResult, export_day};
use ballot_intake_core::ledger::User;

use super::dialog::{Pick, choose};
use crate::station::Station;
use crate::{theme, widget};

/// The date field's id (focused when the screen opens).
pub const DATE_FIELD: &str = "export-date";
/// The folder field's id.
pub const FOLDER_FIELD: &str = "export-folder";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// Who writes the file (named in the audit log).
    pub user: User,
    date: String,
    folder: String,
    busy: bool,
    result: Option<Result<ExportResult, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The date field changed.
    Date(String),
    /// The folder field changed.
    Folder(String),
    /// Enter: export.
    Export,
    /// Ctrl+O: choose the folder in the desktop's dialog.
    Browse,
    /// The dialog closed: the folder chosen, if any.
    Chosen(Option<String>),
    /// The export finished.
    Done(Box<Result<ExportResult, ExportError>>),
}

impl State {
    /// The form for `yesterday` (the usual night's file) into `folder`.
    pub fn new(user: User, yesterday: NaiveDate, folder: String) -> State {
        State {
            user,
            date: yesterday.format("%Y-%m-%d").to_string(),
            folder,
            busy: false,
            result: None,
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, _field: &Id) -> Option<Message> {
        Some(Message::Export)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.date, code);
        super::take_back(&mut self.folder, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(DATE_FIELD)
    }

    /// Whether the file is being written (the screen cannot be left meanwhile).
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Enter writes the file on the ledger thread; Ctrl+O opens the desktop's folder
    /// dialog.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        match message {
            Message::Date(d) => self.date = d,
            Message::Folder(f) | Message::Chosen(Some(f)) => self.folder = f,
            Message::Browse if !self.busy => {
                let dialog =
                    rfd::AsyncFileDialog::new().set_title("Choose the folder for the nightly file");
                return choose(dialog, Pick::Folder).map(Message::Chosen);
            }
            Message::Export if !self.busy => {
                let date = self.date.trim();
                let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
                    self.result = Some(Err(format!(
                        "{date:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-03"
                    )));
                    return Task::none();
                };
                if self.folder.trim().is_empty() {
                    self.result = Some(Err("say which folder the file goes in".into()));
                    return Task::none();
                }
                self.busy = true;
                self.result = None;
                let (folder, user) = (self.folder.trim().to_string(), self.user.clone());
                return station
                    .worker
                    .task(move |l| export_day(l, date, Path::new(&folder), Some(&user)))
                    .map(|r| Message::Done(Box::new(r)));
            }
            // One export at a time; a cancelled dialog changes nothing.
            Message::Browse | Message::Export | Message::Chosen(None) => {}
            Message::Done(r) => {
                self.busy = false;
                self.result = Some(r.map_err(|e| e.to_string()));
            }
        }
        Task::none()
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let mut page = column![
            widget::mode_title("NIGHTLY BATCH FILE (Esc: back to receiving)", theme::HEADER),
            row![
                text("Local day:").size(22).width(140),
                widget::field("YYYY-MM-DD", &self.date, DATE_FIELD, Message::Date).width(240),
            ]
            .spacing(12)
            .align_y(iced::Center),
            widget::path_field(
                "Folder:",
                ("/media/usb/exports", &self.folder),
                FOLDER_FIELD,
                Message::Folder,
                (!self.busy).then_some(Message::Browse)
            ),
            text(
                "Enter writes the day's events as CSV with a manifest (rows, SHA-256). \
                 Exporting a day again gives the same bytes."
            )
            .size(18),
        ]
        .spacing(14)
        .padding(16);
        if self.busy {
            page = page.push(text("Writing...").size(22));
        }
        match &self.result {
            Some(Ok(r)) => {
                let m = &r.manifest;
                let counts = m
                    .counts
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                page = page
                    .push(
                        text(format!(
                            "{} {}: {} rows",
                            if r.unchanged {
                                "Already there, unchanged:"
                            } else {
                                "Wrote"
                            },
                            r.csv.display(),
                            m.rows
                        ))
                        .size(22)
                        .color(theme::OK),
                    )
                    .push(
                        text(format!("SHA-256 {}", m.sha256))
                            .size(18)
                            .font(Font::MONOSPACE),
                    )
                    .push(text(format!("Manifest {}", r.manifest_path.display())).size(18))
                    .push(text(counts).size(18));
                if let Some(aside) = &r.set_aside {
                    page = page.push(
                        text(format!(
                            "The file there had been changed since this station wrote it; it is kept as {}",
                            aside.display()
                        ))
                        .size(18)
                        .color(theme::ERROR),
                    );
                }
            }
            Some(Err(e)) => {
                page = page.push(
                    text(format!("NOT written: {e}"))
                        .size(22)
                        .color(theme::ERROR),
                );
            }
            None => {}
        }
        page.into()
    }
}
