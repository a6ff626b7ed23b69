//! Users (administrators; Ctrl+U on the settings screen): every user with their role
//! and state, and what an administrator does for them without a terminal: add one
//! with a role, disable and enable an account, end a lock, set a new PIN for one who
//! forgot theirs.
//! Every change is audited by the ledger, and so is a refusal.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Font, Task};

use ballot_intake_core::auth::Role;
use ballot_intake_core::ledger::{LedgerError, User, UserRow};

use crate::station::Station;
use crate::{theme, widget};

/// The user name field's id (focused when the screen opens).
pub const NAME_FIELD: &str = "users-name";
/// The role field's id (for a user being added).
pub const ROLE_FIELD: &str = "users-role";
/// The new PIN field's id.
pub const PIN_FIELD: &str = "users-pin";
/// The new PIN, again.
pub const PIN_AGAIN_FIELD: &str = "users-pin-again";

/// What an administrator does to the user named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ctrl+N: add the user named (a new one), with the role and the new PIN typed.
    Add,
    /// Ctrl+D.
    Disable,
    /// Ctrl+E.
    Enable,
    /// Ctrl+U.
    Unlock,
    /// Enter in a PIN field: the new PIN.
    ResetPin,
}

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The administrator.
    pub user: User,
    users: Vec<UserRow>,
    name: String,
    role: String,
    pin: String,
    pin_again: String,
    outcome: Option<Result<String, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's users.
    Loaded(Result<Vec<UserRow>, LedgerError>),
    /// The name changed.
    Name(String),
    /// The role changed.
    Role(String),
    /// The new PIN changed.
    Pin(String),
    /// The new PIN, again, changed.
    PinAgain(String),
    /// Do `Action` to the user named.
    Act(Action),
    /// The ledger's answer, in words.
    Done(Result<String, String>),
}

impl State {
    /// The screen for administrator `user`, and the task loading the users.
    pub fn new(user: User, station: &Station) -> (Self, Task<Message>) {
        let state = State {
            user,
            users: Vec::new(),
            name: String::new(),
            role: String::new(),
            pin: String::new(),
            pin_again: String::new(),
            outcome: None,
        };
        (state, Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station
            .worker
            .task(|l| l.users(chrono::Utc::now()))
            .map(Message::Loaded)
    }

    /// Where the cursor goes when the screen opens.
    pub fn focus_id() -> Id {
        Id::new(NAME_FIELD)
    }

    /// Enter in a PIN field sets the new PIN; in the name field it does nothing (an
    /// account is changed only with its own key).
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        (*field == Id::new(PIN_FIELD) || *field == Id::new(PIN_AGAIN_FIELD))
            .then_some(Message::Act(Action::ResetPin))
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: taken back
    /// out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.name, code);
        super::take_back(&mut self.role, code);
        super::take_back_digits(&mut self.pin, code);
        super::take_back_digits(&mut self.pin_again, code);
    }

    /// What the last action came to, in words.
    pub fn outcome(&self) -> Option<&Result<String, String>> {
        self.outcome.as_ref()
    }

    /// The users as last read.
    pub fn users(&self) -> &[UserRow] {
        &self.users
    }

    /// A change is written on the ledger thread, then the list reloads.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        match message {
            Message::Loaded(Ok(users)) => self.users = users,
            Message::Loaded(Err(e)) => self.outcome = Some(Err(e.to_string())),
            Message::Name(n) => self.name = n,
            Message::Role(r) => self.role = r,
            Message::Pin(p) => self.pin = p.chars().filter(char::is_ascii_digit).collect(),
            Message::PinAgain(p) => {
                self.pin_again = p.chars().filter(char::is_ascii_digit).collect();
            }
            Message::Act(action) => return self.act(action, station),
            Message::Done(result) => {
                if result.is_ok() {
                    self.pin.clear();
                    self.pin_again.clear();
                }
                self.outcome = Some(result);
                return Self::load(station);
            }
        }
        Task::none()
    }

    fn act(&mut self, action: Action, station: &Station) -> Task<Message> {
        let name = self.name.trim().to_string();
        let known = self.users.iter().any(|u| u.name == name);
        if action == Action::Add && (name.is_empty() || known) {
            self.outcome = Some(Err("Type the new user's name: one not listed below.".into()));
            return Task::none();
        }
        if action != Action::Add && !known {
            self.outcome = Some(Err("Type the name of one of the users listed.".into()));
            return Task::none();
        }
        let role = self.role.trim().to_lowercase().parse::<Role>();
        let role = match (action, role) {
            (Action::Add, Err(_)) => {
                self.outcome = Some(Err("Type the role: clerk, supervisor or admin.".into()));
                return Task::none();
            }
            (_, role) => role.unwrap_or(Role::Clerk),
        };
        if matches!(action, Action::Add | Action::ResetPin) && self.pin != self.pin_again {
            self.outcome = Some(Err("The two new PINs differ: type them again.".into()));
            self.pin.clear();
            self.pin_again.clear();
            return Task::none();
        }
        let (by, pin) = (self.user.clone(), self.pin.clone());
        station
            .worker
            .task(move |l| match action {
                Action::Add => l
                    .add_user(Some(&by), &name, role, &pin)
                    .map(|u| format!("{} is added as {}.", u.name, u.role)),
                Action::Disable => l
                    .disable_user(&by, &name)
                    .map(|()| format!("{name} is disabled.")),
                Action::Enable => l
                    .enable_user(&by, &name)
                    .map(|()| format!("{name} is enabled again.")),
                Action::Unlock => l
                    .unlock_user(&by, &name)
                    .map(|()| format!("{name} is unlocked.")),
                Action::ResetPin => l
                    .reset_pin(&by, &name, &pin)
                    .map(|()| format!("{name} has a new PIN.")),
            })
            .map(|r: Result<String, LedgerError>| Message::Done(r.map_err(|e| e.to_string())))
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self, tz: chrono_tz::Tz) -> Element<'_, Message> {
        let local = |at: &str| {
            chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
                .unwrap_or_default()
        };
        let list = self.users.iter().fold(
            column![
                text(format!("{:<24} {:<11} {}", "name", "role", "state"))
                    .size(20)
                    .font(Font::MONOSPACE)
            ]
            .spacing(4),
            |c, u| {
                let mut state = Vec::new();
                if u.disabled {
                    state.push("DISABLED".to_string());
                }
                if let Some(t) = &u.locked_until {
                    state.push(format!("LOCKED until {}", local(t)));
                }
                if state.is_empty() {
                    state.push("can sign in".into());
                }
                let line = text(format!(
                    "{:<24} {:<11} {}",
                    u.name,
                    u.role.to_string(),
                    state.join(", ")
                ))
                .size(20)
                .font(Font::MONOSPACE);
                c.push(if u.disabled || u.locked_until.is_some() {
                    line.color(theme::ERROR)
                } else {
                    line
                })
            },
        );
        let form = column![
            row![
                text("User").size(22).width(180),
                widget::field("name", &self.name, NAME_FIELD, Message::Name).width(360),
            ]
            .spacing(12)
            .align_y(iced::Center),
            row![
                text("Role (to add)").size(22).width(180),
                widget::field(
                    "clerk, supervisor or admin",
                    &self.role,
                    ROLE_FIELD,
                    Message::Role
                )
                .width(360),
            ]
            .spacing(12)
            .align_y(iced::Center),
            row![
                text("New PIN").size(22).width(180),
                widget::field("6+ digits", &self.pin, PIN_FIELD, Message::Pin)
                    .secure(true)
                    .width(200),
                text("again").size(22),
                widget::field(
                    "6+ digits",
                    &self.pin_again,
                    PIN_AGAIN_FIELD,
                    Message::PinAgain
                )
                .secure(true)
                .width(200),
            ]
            .spacing(12)
            .align_y(iced::Center),
        ]
        .spacing(10);
        let mut page = column![
            widget::mode_title(
                "USERS (administrators; Esc: back to receiving)",
                theme::HEADER
            ),
            text(
                "Type a user's name, then: Ctrl+D disables the account, Ctrl+E enables it \
                 again, Ctrl+U ends a lock; a new PIN typed twice and Enter replaces a \
                 forgotten one. Ctrl+N adds a new user with the role and PIN typed. A \
                 disabled user's scans and batches stay theirs."
            )
            .size(17),
            form,
        ]
        .spacing(14)
        .padding(16);
        if let Some(outcome) = &self.outcome {
            page = page.push(widget::outcome(outcome));
        }
        page.push(scrollable(list).height(Fill)).into()
    }
}
