//! Where the sync sends (administrators; Ctrl+B on the settings screen): a folder
//! for batch files, or the notification backend (or the county hub) by URL with its
//! token file and, if the county runs its own CA, that CA's certificate.
//!
//! The page checks what is typed with the same code as `sync setup`
//! (`core::sync::setup`), so the window and the command line refuse the same
//! things in the same words. Ctrl+T tries what is typed (or, with the form empty,
//! what is saved) without sending an event, on a thread of its own: a backend that
//! does not answer holds nothing up for the length of the timeout. Ctrl+S writes
//! `config.json` and audits the change; the running `sync --watch` service follows
//! the file, so nothing needs a terminal.

use iced::futures::channel::oneshot;
use iced::widget::{Id, column, row, text};
use iced::{Element, Task};

use ballot_intake_core::config::{Config, SyncConfig, SyncTransport};
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Ledger, LedgerError, User};
use ballot_intake_core::sync::setup::{self, Destination};
use ballot_intake_core::sync::transport::check_url;

use crate::station::Station;
use crate::{theme, widget};

/// The backend URL field's id (focused when the page opens).
pub const URL_FIELD: &str = "sync-url";
/// The token file field's id.
pub const TOKEN_FIELD: &str = "sync-token";
/// The CA certificate field's id.
pub const CA_FIELD: &str = "sync-ca";
/// The folder field's id.
pub const FOLDER_FIELD: &str = "sync-folder";

/// What the audit log says was refused to a non-administrator.
const SET_UP_SYNC: &str = "set up the sync";

/// What this page keeps between messages.
#[derive(Debug, Clone)]
pub struct State {
    /// The administrator.
    pub user: User,
    url: String,
    token_file: String,
    ca_file: String,
    folder: String,
    hub: bool,
    /// The destination saved, in words.
    current: String,
    /// A test running: its result replaces this.
    testing: bool,
    outcome: Option<Result<String, String>>,
}

/// What this page reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The backend URL changed.
    Url(String),
    /// The token file changed.
    TokenFile(String),
    /// The CA file changed.
    CaFile(String),
    /// The folder changed.
    Folder(String),
    /// Ctrl+H: the URL is (or is not) the county hub.
    Hub(bool),
    /// Ctrl+T: try the destination.
    Test,
    /// What the try found, in words.
    Tested(Result<String, String>),
    /// Ctrl+S: check, write and audit the destination typed.
    Save,
    /// Saved (the destination in words, and whether it is a hub), or why not.
    Saved(Result<(String, bool), String>),
}

/// Reads the form into a destination, or says what is missing, in words. A URL
/// means the backend (and needs its token file); otherwise the folder.
pub fn parse_form(
    url: &str,
    token_file: &str,
    ca_file: &str,
    folder: &str,
) -> Result<Destination, String> {
    let (url, token_file, ca_file, folder) =
        (url.trim(), token_file.trim(), ca_file.trim(), folder.trim());
    match (url.is_empty(), folder.is_empty()) {
        (false, false) => Err(
            "Type a backend URL or a folder, not both: clear the one the sync should not use."
                .into(),
        ),
        (true, true) => Err(
            "Type the backend's URL (with its token file), or the folder the batch files go to."
                .into(),
        ),
        // The address is judged before its token is asked for: a folder typed here
        // is told so, not asked for a token file.
        (false, true) if let Err(e) = check_url(url) => Err(e.to_string()),
        (false, true) if token_file.is_empty() => Err(format!(
            "Type the file that holds the token for {url} (readable by this station's account only)."
        )),
        (false, true) => Ok(Destination::Backend {
            url: url.to_string(),
            token_file: token_file.into(),
            ca_file: (!ca_file.is_empty()).then(|| ca_file.into()),
        }),
        (true, false) => Ok(Destination::Folder(folder.into())),
    }
}

/// The save itself: refused (and audited) for a non-administrator before anything
/// is written; `config.json` read afresh (so that the settings page's part is kept)
/// and put back if the change cannot be audited.
fn save_on_ledger_thread(
    l: &mut Ledger,
    env: &Environment,
    user: &User,
    dest: Destination,
    hub: bool,
) -> Result<(String, bool), String> {
    l.require_admin(user, SET_UP_SYNC)
        .map_err(|e| e.to_string())?;
    let before = Config::load(env);
    let mut after = before.clone();
    let said = setup::configure(env, &mut after.sync, dest, hub).map_err(|e| e.0)?;
    after
        .save(env)
        .map_err(|e| format!("Cannot save {}: {e}", Config::path(env).display()))?;
    if let Err(e) = l.record_sync_setup(user, &said, hub) {
        let _ = before.save(env);
        return Err(format!("Not saved: the change could not be audited: {e}"));
    }
    Ok((said, hub))
}

impl State {
    /// The page for administrator `user`, the form filled with what is saved.
    pub fn new(user: User, station: &Station) -> State {
        let config = station.env.as_ref().map(Config::load).unwrap_or_default();
        let mut state = State {
            user,
            url: String::new(),
            token_file: String::new(),
            ca_file: String::new(),
            folder: String::new(),
            hub: station.header.hub,
            current: String::new(),
            testing: false,
            outcome: None,
        };
        state.fill(station.env.as_ref(), &config.sync.transport);
        state
    }

    fn fill(&mut self, env: Option<&Environment>, transport: &SyncTransport) {
        match transport {
            SyncTransport::Https {
                url,
                token_file,
                ca_file,
            } => {
                self.url.clone_from(url);
                self.token_file = token_file.display().to_string();
                self.ca_file = ca_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                self.folder.clear();
            }
            SyncTransport::Directory { path } => {
                self.url.clear();
                self.token_file.clear();
                self.ca_file.clear();
                self.folder = path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
            }
        }
        self.current = match env {
            Some(env) => setup::describe(env, transport),
            None => "not saved (no data folder)".into(),
        };
    }

    /// Where the cursor goes when the page opens.
    pub fn focus_id() -> Id {
        Id::new(URL_FIELD)
    }

    /// Enter in the folder field (the last) tries the destination typed: it sends
    /// nothing, so a stray Enter costs nothing.
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        (*field == Id::new(FOLDER_FIELD)).then_some(Message::Test)
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: taken back
    /// out.
    pub fn take_back(&mut self, code: &str) {
        for field in [
            &mut self.url,
            &mut self.token_file,
            &mut self.ca_file,
            &mut self.folder,
        ] {
            super::take_back(field, code);
        }
    }

    /// What the last action came to, in words.
    pub fn outcome(&self) -> Option<&Result<String, String>> {
        self.outcome.as_ref()
    }

    /// The destination saved, in words.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Whether the URL is marked as the county hub.
    pub fn hub(&self) -> bool {
        self.hub
    }

    /// Gives `Some(hub)` when a new destination was saved, so the header follows.
    pub fn update(&mut self, message: Message, station: &Station) -> (Task<Message>, Option<bool>) {
        match message {
            Message::Url(v) => self.url = v,
            Message::TokenFile(v) => self.token_file = v,
            Message::CaFile(v) => self.ca_file = v,
            Message::Folder(v) => self.folder = v,
            Message::Hub(on) => self.hub = on,
            Message::Test => return (self.test(station), None),
            Message::Tested(result) => {
                self.testing = false;
                self.outcome = Some(result);
            }
            Message::Save => return (self.save(station), None),
            Message::Saved(result) => {
                let hub = result.as_ref().ok().map(|(_, hub)| *hub);
                // A demo station never sends, so it promises nothing about sending.
                let then = if station.header.demo {
                    "This is a demo station: it sends nothing."
                } else {
                    "The sync service follows at once."
                };
                self.outcome = Some(result.map(|(said, hub)| {
                    self.current.clone_from(&said);
                    if hub {
                        format!(
                            "Saved: receipts go to the county hub at {said} within a second. {then}"
                        )
                    } else {
                        format!("Saved: batches go to {said}. {then}")
                    }
                }));
                return (Task::none(), hub);
            }
        }
        (Task::none(), None)
    }

    /// The try runs on its own thread with a copy of the settings: what is typed,
    /// checked as saving would, or what is saved when the form is empty.
    fn test(&mut self, station: &Station) -> Task<Message> {
        if self.testing {
            return Task::none();
        }
        let Some(env) = station.env.clone() else {
            self.outcome = Some(Err(
                "This station has no data folder to read settings from.".into(),
            ));
            return Task::none();
        };
        let empty = [&self.url, &self.token_file, &self.ca_file, &self.folder]
            .iter()
            .all(|f| f.trim().is_empty());
        let mut config: SyncConfig = Config::load(&env).sync;
        if !empty {
            let checked = parse_form(&self.url, &self.token_file, &self.ca_file, &self.folder)
                .and_then(|dest| {
                    setup::configure(&env, &mut config, dest, self.hub).map_err(|e| e.0)
                });
            if let Err(said) = checked {
                self.outcome = Some(Err(said));
                return Task::none();
            }
        }
        self.testing = true;
        self.outcome = None;
        let hub = self.hub;
        let (tx, rx) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("sync-test".into())
            .spawn(move || {
                let _ = tx.send(setup::test_connection(&env, &config, hub));
            });
        if spawned.is_err() {
            self.testing = false;
            return Task::done(Message::Tested(Err(
                "Cannot start the test: the station is out of threads.".into(),
            )));
        }
        Task::perform(rx, |r| {
            Message::Tested(r.unwrap_or_else(|_| Err("The test ended without an answer.".into())))
        })
    }

    /// Checked here, then written on the ledger thread.
    fn save(&mut self, station: &Station) -> Task<Message> {
        let dest = match parse_form(&self.url, &self.token_file, &self.ca_file, &self.folder) {
            Ok(dest) => dest,
            Err(said) => {
                self.outcome = Some(Err(said));
                return Task::none();
            }
        };
        let Some(env) = station.env.clone() else {
            self.outcome = Some(Err(
                "This station has no data folder to save settings in.".into()
            ));
            return Task::none();
        };
        let (user, hub) = (self.user.clone(), self.hub);
        station
            .worker
            .task(move |l| Ok::<_, LedgerError>(save_on_ledger_thread(l, &env, &user, dest, hub)))
            .map(|r| Message::Saved(r.map_err(|e| e.to_string()).and_then(|saved| saved)))
    }

    /// The page as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let field = |label, placeholder, value, id, on: fn(String) -> Message| {
            row![
                text(label).size(22).width(220),
                widget::field(placeholder, value, id, on).width(640),
            ]
            .spacing(12)
            .align_y(iced::Center)
        };
        let hub = if self.hub {
            "Ctrl+H: the URL is the COUNTY HUB (receipts go within a second; \
             cross-station duplicates come back)"
        } else {
            "Ctrl+H: the URL is the notification backend (not a county hub)"
        };
        let mut page = column![
            widget::mode_title(
                "SYNC (administrators; Ctrl+S saves; Ctrl+T tests; Esc: back to receiving)",
                theme::HEADER
            ),
            text(format!("Now sending to: {}", self.current)).size(22),
            text(
                "Either a backend: its URL (https://; http:// only on this machine), the \
                 file holding its token, and a CA certificate if the county runs its own. \
                 Or a folder (a share, a USB drive) for batch files. Ctrl+T tries it \
                 without sending anything."
            )
            .size(17),
            field(
                "Backend URL",
                "https://notify.county.gov",
                &self.url,
                URL_FIELD,
                Message::Url
            ),
            field(
                "Token file",
                "/etc/ballot-intake/token (mode 600)",
                &self.token_file,
                TOKEN_FIELD,
                Message::TokenFile
            ),
            field(
                "CA certificate",
                "optional: PEM file",
                &self.ca_file,
                CA_FIELD,
                Message::CaFile
            ),
            text(hub).size(20),
            field(
                "Or a folder",
                "/media/usb/outgoing",
                &self.folder,
                FOLDER_FIELD,
                Message::Folder
            ),
            row![
                widget::action(
                    "Test connection (Ctrl+T)",
                    (!self.testing).then_some(Message::Test)
                ),
                widget::action("Save (Ctrl+S)", Some(Message::Save)),
            ]
            .spacing(16),
        ]
        .spacing(14)
        .padding(16);
        if self.testing {
            page = page.push(
                text("Trying the destination...")
                    .size(22)
                    .color(theme::ATTENTION),
            );
        }
        if let Some(outcome) = &self.outcome {
            page = page.push(widget::outcome(outcome));
        }
        page.into()
    }
}
