//! The first run: a window opened where no station is set up offers the demo or
//! the setup, step by step: the station (id, county, time zone from a list found by
//! typing), the first election, the first administrator (PIN typed twice), then a
//! summary. Each step is checked when Enter leaves it, in the same words as `init`
//! (`core::setup`); nothing is written until Ctrl+Y on the summary, and then all of
//! it at once. The administrator is then signed in at the import screen.

use iced::widget::{Id, column, row, text};
use iced::{Element, Font, Task};

use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::StationSetup;
use ballot_intake_core::setup::{self, FirstRun};

use super::elections;
use crate::{theme, widget};

/// Each field's id (the first of each step takes the cursor).
pub mod field {
    /// Station id.
    pub const STATION: &str = "first-station";
    /// County.
    pub const COUNTY: &str = "first-county";
    /// Time zone (typing filters the list).
    pub const ZONE: &str = "first-zone";
    /// Election id.
    pub const ELECTION: &str = "first-election";
    /// Election name.
    pub const NAME: &str = "first-name";
    /// Election day.
    pub const DATE: &str = "first-date";
    /// Check digit.
    pub const CHECK: &str = "first-check";
    /// Administrator's name.
    pub const ADMIN: &str = "first-admin";
    /// PIN.
    pub const PIN: &str = "first-pin";
    /// PIN again.
    pub const AGAIN: &str = "first-again";
}

/// Where the first run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Demo or setup.
    Welcome,
    /// The station.
    Station,
    /// The first election.
    Election,
    /// The first administrator.
    Admin,
    /// Everything, to confirm.
    Confirm,
}

/// What the first run keeps.
#[derive(Debug, Clone)]
pub struct State {
    env: Environment,
    step: Step,
    values: Vec<(&'static str, String)>,
    error: Option<String>,
    writing: bool,
    /// Ctrl+digit picked a zone: the digit the field also got is not a filter.
    just_picked: bool,
}

/// What it reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A field changed.
    Edit(&'static str, String),
    /// Enter: check this step and go on (on the welcome screen: set up).
    Next,
    /// Esc: the step before.
    Back,
    /// Ctrl+D on the welcome screen: the demo.
    Demo,
    /// Ctrl+1..9: the n-th time zone listed.
    Pick(usize),
    /// Ctrl+Y on the summary: write it all.
    Confirm,
    /// Written, or why not.
    Done(Result<String, String>),
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Open the demo station.
    Demo,
    /// The station is set up: open it, signed in as this administrator.
    SetUp {
        /// The administrator.
        admin: String,
        /// Their PIN.
        pin: String,
    },
}

/// Time zones whose name holds every word of `filter` (any case), US zones first
/// (the counties this is for), at most `limit`.
pub fn zones(filter: &str, limit: usize) -> Vec<&'static str> {
    let words: Vec<String> = filter
        .split(|c: char| c.is_whitespace() || c == '/' || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut found: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|name| {
            let lower = name.to_lowercase();
            words.iter().all(|w| lower.contains(w.as_str()))
        })
        .collect();
    found.sort_by_key(|n| (!n.starts_with("America/") && !n.starts_with("US/"), *n));
    found.truncate(limit);
    found
}

impl State {
    /// The welcome screen for a station to be set up in `env`.
    pub fn new(env: Environment) -> State {
        State {
            env,
            step: Step::Welcome,
            values: Vec::new(),
            error: None,
            writing: false,
            just_picked: false,
        }
    }

    /// The step shown.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Something outside the screen went wrong (the station would not open).
    pub fn fail(&mut self, said: String) {
        self.writing = false;
        self.error = Some(said);
    }

    /// The time zone field as it stands.
    pub fn zone_typed(&self) -> &str {
        self.get(field::ZONE)
    }

    /// What is wrong with the step, in words.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn get(&self, id: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| *k == id)
            .map_or("", |(_, v)| v.as_str())
    }

    fn set(&mut self, id: &'static str, value: String) {
        match self.values.iter_mut().find(|(k, _)| *k == id) {
            Some((_, v)) => *v = value,
            None => self.values.push((id, value)),
        }
    }

    /// The first field of the step shown.
    pub fn focus_id(&self) -> Option<Id> {
        match self.step {
            Step::Welcome | Step::Confirm => None,
            Step::Station => Some(Id::new(field::STATION)),
            Step::Election => Some(Id::new(field::ELECTION)),
            Step::Admin => Some(Id::new(field::ADMIN)),
        }
    }

    /// The time zone typed, or the only one the words typed find.
    fn zone(&self) -> String {
        let typed = self.get(field::ZONE).trim();
        match zones(typed, 2).as_slice() {
            [only] if !typed.is_empty() => (*only).to_string(),
            _ => typed.to_string(),
        }
    }

    fn check(&self) -> Result<(), String> {
        match self.step {
            Step::Welcome | Step::Confirm => Ok(()),
            Step::Station => setup::check_station(
                self.get(field::STATION),
                self.get(field::COUNTY),
                &self.zone(),
            )
            .map(|_| ())
            .map_err(|e| e.0),
            Step::Election => self.election().map(|_| ()),
            Step::Admin => setup::check_admin(
                self.get(field::ADMIN),
                self.get(field::PIN),
                self.get(field::AGAIN),
            )
            .map_err(|e| e.0),
        }
    }

    fn election(&self) -> Result<ballot_intake_core::ledger::NewElection, String> {
        elections::parse_form(
            self.get(field::ELECTION),
            self.get(field::NAME),
            self.get(field::DATE),
            self.get(field::CHECK),
        )
    }

    fn first_run(&self) -> Result<FirstRun, String> {
        Ok(FirstRun {
            station: StationSetup {
                station_id: self.get(field::STATION).trim().to_string(),
                county: self.get(field::COUNTY).trim().to_string(),
                timezone: self.zone(),
                election: self.election()?,
                demo: false,
            },
            admin: self.get(field::ADMIN).trim().to_string(),
            pin: self.get(field::PIN).to_string(),
        })
    }

    /// Moves between steps; the setup itself runs on a thread of its own.
    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Edit(id, value) => {
                let picked = std::mem::take(&mut self.just_picked);
                if !(picked && id == field::ZONE && value.ends_with(|c: char| c.is_ascii_digit())) {
                    self.set(id, value);
                }
                self.error = None;
            }
            Message::Demo if self.step == Step::Welcome => {
                return (Task::none(), Some(Event::Demo));
            }
            Message::Next => match self.check() {
                Err(said) => self.error = Some(said),
                Ok(()) => {
                    self.error = None;
                    self.step = match self.step {
                        Step::Welcome => Step::Station,
                        Step::Station => {
                            let zone = self.zone();
                            self.set(field::ZONE, zone);
                            Step::Election
                        }
                        Step::Election => Step::Admin,
                        Step::Admin | Step::Confirm => Step::Confirm,
                    };
                    return (self.focus(), None);
                }
            },
            Message::Back => {
                self.error = None;
                self.step = match self.step {
                    Step::Welcome | Step::Station => Step::Welcome,
                    Step::Election => Step::Station,
                    Step::Admin => Step::Election,
                    Step::Confirm => Step::Admin,
                };
                return (self.focus(), None);
            }
            Message::Pick(n) if self.step == Step::Station => {
                let filter = self
                    .get(field::ZONE)
                    .trim_end_matches(|c: char| c.is_ascii_digit());
                if let Some(zone) = n
                    .checked_sub(1)
                    .and_then(|i| zones(filter, 9).get(i).copied())
                {
                    self.set(field::ZONE, zone.to_string());
                    self.error = None;
                    self.just_picked = true;
                }
            }
            Message::Confirm if self.step == Step::Confirm && !self.writing => {
                return (self.write(), None);
            }
            // Ctrl+D away from the welcome screen, Ctrl+1..9 away from the time
            // zones, Ctrl+Y away from the summary or while writing: nothing.
            Message::Demo | Message::Pick(_) | Message::Confirm => {}
            Message::Done(Ok(_)) => {
                self.writing = false;
                return (
                    Task::none(),
                    Some(Event::SetUp {
                        admin: self.get(field::ADMIN).trim().to_string(),
                        pin: self.get(field::PIN).to_string(),
                    }),
                );
            }
            Message::Done(Err(said)) => {
                self.writing = false;
                self.error = Some(said);
            }
        }
        (Task::none(), None)
    }

    fn focus(&self) -> Task<Message> {
        self.focus_id()
            .map_or_else(Task::none, iced::widget::operation::focus)
    }

    fn write(&mut self) -> Task<Message> {
        let first = match self.first_run() {
            Ok(first) => first,
            Err(said) => {
                self.error = Some(said);
                return Task::none();
            }
        };
        self.writing = true;
        let env = self.env.clone();
        let (tx, rx) = iced::futures::channel::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("first-run".into())
            .spawn(move || {
                let _ = tx.send(
                    setup::set_up(&env, &first)
                        .map(|made| made.ledger.display().to_string())
                        .map_err(|e| e.0),
                );
            });
        if spawned.is_err() {
            self.writing = false;
            self.error = Some("Cannot start the setup: the station is out of threads.".into());
            return Task::none();
        }
        Task::perform(rx, |r| {
            Message::Done(r.unwrap_or_else(|_| Err("The setup ended without an answer.".into())))
        })
    }

    /// The step as it stands.
    pub fn view(&self) -> Element<'_, Message> {
        let input = |label, placeholder, id: &'static str| {
            row![
                text(label).size(22).width(260),
                widget::field(placeholder, self.get(id), id, move |v| Message::Edit(id, v))
                    .width(560),
            ]
            .spacing(12)
            .align_y(iced::Center)
        };
        let secret = |label, id: &'static str| {
            row![
                text(label).size(22).width(260),
                widget::field("at least 6 digits", self.get(id), id, move |v| {
                    Message::Edit(id, v)
                })
                .secure(true)
                .width(560),
            ]
            .spacing(12)
            .align_y(iced::Center)
        };
        let (title, body): (&str, Element<'_, Message>) = match self.step {
            Step::Welcome => (
                "BALLOT INTAKE: THIS STATION IS NOT SET UP",
                column![
                    text("Enter: set up this station for your county (4 short steps; nothing is saved until you confirm).").size(24),
                    text("Ctrl+D: try the demo station instead (made-up voters, kept apart, never sent).").size(24),
                ]
                .spacing(16)
                .into(),
            ),
            Step::Station => {
                let list = zones(self.get(field::ZONE), 9).into_iter().enumerate().fold(
                    column![].spacing(2),
                    |c, (i, z)| c.push(text(format!("Ctrl+{}  {z}", i + 1)).size(20).font(Font::MONOSPACE)),
                );
                (
                    "SET UP 1 OF 4: THE STATION",
                    column![
                        input("Station id", "INTAKE-1", field::STATION),
                        input("County", "Gilpin County", field::COUNTY),
                        input("Time zone (type to find)", "denver", field::ZONE),
                        list,
                    ]
                    .spacing(12)
                    .into(),
                )
            }
            Step::Election => (
                "SET UP 2 OF 4: THE FIRST ELECTION",
                column![
                    input("Election id", "as in the mail ballot file", field::ELECTION),
                    input("Name", "2027 Coordinated", field::NAME),
                    input("Election day", "YYYY-MM-DD", field::DATE),
                    input("Check digit", "none or luhn", field::CHECK),
                ]
                .spacing(12)
                .into(),
            ),
            Step::Admin => (
                "SET UP 3 OF 4: THE FIRST ADMINISTRATOR",
                column![
                    input("Administrator's name", "your name", field::ADMIN),
                    secret("PIN", field::PIN),
                    secret("PIN again", field::AGAIN),
                    text("The administrator adds the clerks and supervisors afterwards (F10, then Ctrl+U).").size(18),
                ]
                .spacing(12)
                .into(),
            ),
            Step::Confirm => {
                let summary = self.first_run().map_or_else(
                    |e| e,
                    |f| {
                        format!(
                            "Station {} of {}, time zone {}.\nFirst election: {} ({}), {}, check digit {}.\nAdministrator: {}.\nData folder: {}",
                            f.station.station_id,
                            f.station.county,
                            f.station.timezone,
                            f.station.election.name,
                            f.station.election.election_id,
                            f.station.election.date,
                            f.station.election.check_digit.as_str(),
                            f.admin,
                            self.env.data_dir.display()
                        )
                    },
                );
                (
                    "SET UP 4 OF 4: CONFIRM",
                    column![
                        text(summary).size(24),
                        text("Ctrl+Y: set up the station with this; Esc: go back and change it.").size(22),
                    ]
                    .spacing(16)
                    .into(),
                )
            }
        };
        let mut page = column![
            widget::mode_title(title, theme::HEADER),
            body,
            text(match self.step {
                Step::Welcome => "",
                _ => "Enter: next step; Esc: the step before; Tab: next field.",
            })
            .size(18),
        ]
        .spacing(20)
        .padding(24);
        if self.writing {
            page = page.push(
                text("Setting up the station...")
                    .size(22)
                    .color(theme::ATTENTION),
            );
        }
        if let Some(e) = &self.error {
            page = page.push(text(e).size(24).color(theme::ERROR));
        }
        page.into()
    }
}
