//! Elections (administrators; Ctrl+R on the settings screen): every election the
//! ledger holds, adding the next one, and changing which one is active.
//!
//! Changing the active election decides where every scan and import goes from then
//! on, so it is never one keystroke: Ctrl+1..9 names the election, the screen says
//! both elections in words, and only Ctrl+Y makes the change. The ledger refuses it
//! while a tray is open (a tray holds one election's envelopes) and audits it, and
//! the header follows at once.

use chrono::NaiveDate;
use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Font, Task};

use ballot_intake_core::barcode::CheckDigit;
use ballot_intake_core::ledger::{Election, LedgerError, NewElection, User};

use crate::station::Station;
use crate::{theme, widget};

/// The election id field's id (focused when the screen opens).
pub const ID_FIELD: &str = "elections-id";
/// The name field's id.
pub const NAME_FIELD: &str = "elections-name";
/// The election day field's id.
pub const DATE_FIELD: &str = "elections-date";
/// The check-digit field's id.
pub const CHECK_FIELD: &str = "elections-check";

/// What this screen keeps between messages.
#[derive(Debug, Clone)]
pub struct State {
    /// The administrator.
    pub user: User,
    elections: Vec<Election>,
    id: String,
    name: String,
    date: String,
    check: String,
    /// The election chosen to become active, waiting for Ctrl+Y.
    pending: Option<usize>,
    outcome: Option<Result<String, String>>,
}

/// What this screen reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's elections.
    Loaded(Result<Vec<Election>, LedgerError>),
    /// The id changed.
    Id(String),
    /// The name changed.
    Name(String),
    /// The date changed.
    Date(String),
    /// The check-digit scheme changed.
    Check(String),
    /// Ctrl+N: add the election typed (not active).
    Add,
    /// Ctrl+1..9: ask to make the n-th election listed the active one.
    Choose(usize),
    /// Ctrl+Y: yes, make the election chosen the active one.
    Confirm,
    /// An election was added (`None`) or made active (`Some(header)`), or why not.
    Done(Result<(String, Option<String>), String>),
}

/// Reads the form into a new election, or says what is wrong with it, in words.
pub fn parse_form(id: &str, name: &str, date: &str, check: &str) -> Result<NewElection, String> {
    let id = id.trim();
    if id.is_empty() {
        return Err("Type the election id, as the state's mail ballot file has it.".into());
    }
    if name.trim().is_empty() {
        return Err("Type the election's name, for example 2027 Coordinated.".into());
    }
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "{:?} is not a date: type election day as YYYY-MM-DD, for example 2027-11-02.",
            date.trim()
        )
    })?;
    let check = match check.trim().to_lowercase().as_str() {
        "" | "none" => CheckDigit::None,
        other => other
            .parse::<CheckDigit>()
            .map_err(|_| format!("{other:?} is not a check-digit scheme: type none or luhn."))?,
    };
    Ok(NewElection {
        election_id: id.to_string(),
        name: name.trim().to_string(),
        date,
        check_digit: check,
    })
}

/// What the header says for `e`.
pub fn header_line(e: &Election) -> String {
    format!("{} ({})", e.name, e.election_id)
}

impl State {
    /// The screen for administrator `user`, and the task loading the elections.
    pub fn new(user: User, station: &Station) -> (Self, Task<Message>) {
        let state = State {
            user,
            elections: Vec::new(),
            id: String::new(),
            name: String::new(),
            date: String::new(),
            check: String::new(),
            pending: None,
            outcome: None,
        };
        (state, Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station.worker.task(|l| l.elections()).map(Message::Loaded)
    }

    /// Where the cursor goes when the screen opens.
    pub fn focus_id() -> Id {
        Id::new(ID_FIELD)
    }

    /// Enter in the last field adds the election typed.
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        (*field == Id::new(CHECK_FIELD)).then_some(Message::Add)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: taken back
    /// out.
    pub fn take_back(&mut self, code: &str) {
        for field in [
            &mut self.id,
            &mut self.name,
            &mut self.date,
            &mut self.check,
        ] {
            super::take_back(field, code);
        }
    }

    /// The elections as last read.
    pub fn elections(&self) -> &[Election] {
        &self.elections
    }

    /// What the last action came to, in words.
    pub fn outcome(&self) -> Option<&Result<String, String>> {
        self.outcome.as_ref()
    }

    /// The question waiting for Ctrl+Y, if one is.
    pub fn question(&self) -> Option<String> {
        let chosen = self.elections.get(self.pending?)?;
        let now = self.elections.iter().find(|e| e.active);
        Some(format!(
            "Make {} the active election in place of {}? Every scan and import from then on \
             goes to {}. Ctrl+Y: yes, change it; Esc: no.",
            header_line(chosen),
            now.map_or_else(|| "none".to_string(), header_line),
            chosen.election_id
        ))
    }

    /// A change is written on the ledger thread, then the list reloads. Gives the
    /// header's new election line when the active election changed.
    pub fn update(
        &mut self,
        message: Message,
        station: &Station,
    ) -> (Task<Message>, Option<String>) {
        match message {
            Message::Loaded(Ok(elections)) => self.elections = elections,
            Message::Loaded(Err(e)) => self.outcome = Some(Err(e.to_string())),
            Message::Id(v) => self.edit(|s| s.id = v),
            Message::Name(v) => self.edit(|s| s.name = v),
            Message::Date(v) => self.edit(|s| s.date = v),
            Message::Check(v) => self.edit(|s| s.check = v),
            Message::Add => return (self.add(station), None),
            Message::Choose(n) => self.choose(n),
            Message::Confirm => return (self.confirm(station), None),
            Message::Done(result) => {
                let header = match &result {
                    Ok((_, header)) => header.clone(),
                    Err(_) => None,
                };
                if result.is_ok() && header.is_none() {
                    for field in [
                        &mut self.id,
                        &mut self.name,
                        &mut self.date,
                        &mut self.check,
                    ] {
                        field.clear();
                    }
                }
                self.outcome = Some(result.map(|(said, _)| said));
                return (Self::load(station), header);
            }
        }
        (Task::none(), None)
    }

    /// Typing in the form withdraws a question waiting for Ctrl+Y.
    fn edit(&mut self, f: impl FnOnce(&mut Self)) {
        f(self);
        self.pending = None;
    }

    fn add(&mut self, station: &Station) -> Task<Message> {
        self.pending = None;
        let new = match parse_form(&self.id, &self.name, &self.date, &self.check) {
            Ok(new) => new,
            Err(said) => {
                self.outcome = Some(Err(said));
                return Task::none();
            }
        };
        let by = self.user.clone();
        station
            .worker
            .task(move |l| {
                l.add_election(&by, &new, false).map(|()| {
                    format!(
                        "{} ({}) is added, not active: Ctrl+{} makes it the active one.",
                        new.name,
                        new.election_id,
                        l.elections().map_or(0, |all| all.len())
                    )
                })
            })
            .map(|r: Result<String, LedgerError>| {
                Message::Done(r.map(|s| (s, None)).map_err(|e| e.to_string()))
            })
    }

    fn choose(&mut self, n: usize) {
        match n
            .checked_sub(1)
            .and_then(|i| self.elections.get(i).map(|e| (i, e)))
        {
            None => {
                self.pending = None;
                self.outcome = Some(Err(format!("There is no election {n} in the list.")));
            }
            Some((_, e)) if e.active => {
                self.pending = None;
                self.outcome = Some(Ok(format!(
                    "{} is already the active election.",
                    header_line(e)
                )));
            }
            Some((i, _)) => {
                self.pending = Some(i);
                self.outcome = None;
            }
        }
    }

    fn confirm(&mut self, station: &Station) -> Task<Message> {
        let Some(chosen) = self
            .pending
            .take()
            .and_then(|i| self.elections.get(i).cloned())
        else {
            self.outcome = Some(Err(
                "Choose the election to make active first: Ctrl+1..9 by its number.".into(),
            ));
            return Task::none();
        };
        let by = self.user.clone();
        station
            .worker
            .task(move |l| {
                l.activate_election(&by, &chosen.election_id).map(|()| {
                    (
                        format!("{} is now the active election.", header_line(&chosen)),
                        Some(header_line(&chosen)),
                    )
                })
            })
            .map(|r: Result<(String, Option<String>), LedgerError>| {
                Message::Done(r.map_err(|e| e.to_string()))
            })
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let list = self.elections.iter().enumerate().fold(
            column![
                text(format!(
                    "{:<7} {:<18} {:<30} {:<11} {:<6} {}",
                    "", "id", "name", "day", "check", ""
                ))
                .size(20)
                .font(Font::MONOSPACE)
            ]
            .spacing(4),
            |c, (i, e)| {
                let key = if i < 9 {
                    format!("Ctrl+{}", i + 1)
                } else {
                    String::new()
                };
                let line = text(format!(
                    "{key:<7} {:<18} {:<30} {:<11} {:<6} {}",
                    e.election_id,
                    e.name,
                    e.date,
                    e.check_digit.as_str(),
                    if e.active { "ACTIVE" } else { "" }
                ))
                .size(20)
                .font(Font::MONOSPACE);
                c.push(if e.active {
                    line.color(theme::OK)
                } else {
                    line
                })
            },
        );
        let field = |label, placeholder, value, id, on: fn(String) -> Message| {
            row![
                text(label).size(22).width(180),
                widget::field(placeholder, value, id, on).width(420),
            ]
            .spacing(12)
            .align_y(iced::Center)
        };
        let form = column![
            field(
                "Election id",
                "as in the mail ballot file",
                &self.id,
                ID_FIELD,
                Message::Id
            ),
            field(
                "Name",
                "2027 Coordinated",
                &self.name,
                NAME_FIELD,
                Message::Name
            ),
            field(
                "Election day",
                "YYYY-MM-DD",
                &self.date,
                DATE_FIELD,
                Message::Date
            ),
            field(
                "Check digit",
                "none or luhn",
                &self.check,
                CHECK_FIELD,
                Message::Check
            ),
        ]
        .spacing(10);
        let mut page = column![
            widget::mode_title(
                "ELECTIONS (administrators; Esc: back to receiving)",
                theme::HEADER
            ),
            text(
                "Ctrl+N (or Enter in the last field) adds the election typed; it is not \
                 active until you make it so. Ctrl+1..9 chooses an election to make active, \
                 and Ctrl+Y confirms. Close every open tray first: a tray holds one \
                 election's envelopes."
            )
            .size(17),
            form,
        ]
        .spacing(14)
        .padding(16);
        if let Some(question) = self.question() {
            page = page.push(text(question).size(22).color(theme::ATTENTION));
        }
        if let Some(outcome) = &self.outcome {
            page = page.push(widget::outcome(outcome));
        }
        page.push(scrollable(list).height(Fill)).into()
    }
}
