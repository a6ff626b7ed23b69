//! The window's outermost layer: the first run (no station here yet, see
//! `screen::first_run`) or the station itself (`app::App`). One iced application
//! holds both, since a window system's event loop cannot be started twice in one
//! process: choosing the demo or finishing the setup swaps the first run for the
//! station in place.

use iced::keyboard::{self, key::Named};
use iced::{Element, Event, Subscription, Task};

use ballot_intake_core::environment::Environment;

use crate::app::{self, App, Shortcut};
use crate::screen::{first_run, sign_in};
use crate::sound::Sounds;

/// What the window shows.
pub enum Shell {
    /// No station is set up in the data folder.
    FirstRun(Box<first_run::State>, Environment, Sounds),
    /// The station (or the demo).
    Station(Box<App>),
}

/// A message for whichever is up.
#[derive(Debug, Clone)]
pub enum Message {
    /// For the first run.
    FirstRun(first_run::Message),
    /// Tab or Shift+Tab on the first run.
    Tab {
        /// Shift+Tab.
        back: bool,
    },
    /// For the station.
    Station(app::Message),
}

impl Shell {
    /// The first run when neither a station nor the demo is in `env`'s folder;
    /// otherwise the station, as before.
    pub fn new(env: &Environment, sounds: Sounds) -> anyhow::Result<(Shell, Task<Message>)> {
        if env.ledger_path().exists() || env.demo().ledger_path().exists() {
            let (app, task) = open(env, sounds)?;
            return Ok((Shell::Station(Box::new(app)), task.map(Message::Station)));
        }
        Ok((
            Shell::FirstRun(
                Box::new(first_run::State::new(env.clone())),
                env.clone(),
                sounds,
            ),
            Task::none(),
        ))
    }

    /// The station, if it is up.
    pub fn station(&self) -> Option<&App> {
        match self {
            Shell::Station(app) => Some(app),
            Shell::FirstRun(..) => None,
        }
    }

    /// The first run, if it is up.
    pub fn first_run(&self) -> Option<&first_run::State> {
        match self {
            Shell::FirstRun(state, ..) => Some(state),
            Shell::Station(_) => None,
        }
    }

    /// Routes `message`; the first run's end opens the station.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        match (&mut *self, message) {
            (Shell::Station(app), Message::Station(m)) => app.update(m).map(Message::Station),
            (Shell::FirstRun(..), Message::Tab { back }) => app::focus_step(back),
            (Shell::FirstRun(state, env, sounds), Message::FirstRun(m)) => {
                let (task, event) = state.update(m);
                let Some(event) = event else {
                    return task.map(Message::FirstRun);
                };
                let (env, sounds) = (env.clone(), sounds.clone());
                match open(&env, sounds) {
                    Ok((mut app, start)) => {
                        let mut tasks = vec![start];
                        if let first_run::Event::SetUp { admin, pin } = event {
                            // Signed in as the new administrator, at the import
                            // screen: the mail ballot file comes next.
                            for m in [
                                sign_in::Message::User(admin),
                                sign_in::Message::Pin(pin.clone()),
                            ] {
                                tasks.push(app.update(app::Message::SignIn(m)));
                            }
                            let signed_in =
                                app.update(app::Message::SignIn(sign_in::Message::Submit));
                            let import = Task::done(app::Message::Shortcut(Shortcut::Function(9)));
                            tasks.push(signed_in.chain(import));
                        }
                        *self = Shell::Station(Box::new(app));
                        Task::batch(tasks).map(Message::Station)
                    }
                    Err(e) => {
                        state.fail(format!("The station could not be opened: {e:#}"));
                        Task::none()
                    }
                }
            }
            _ => Task::none(),
        }
    }

    /// The screen.
    pub fn view(&self) -> Element<'_, Message> {
        match self {
            Shell::Station(app) => app.view().map(Message::Station),
            Shell::FirstRun(state, ..) => state.view().map(Message::FirstRun),
        }
    }

    /// The window's title.
    pub fn title(&self) -> String {
        match self {
            Shell::Station(app) => app.title(),
            Shell::FirstRun(..) => "Ballot Intake: set up this station".into(),
        }
    }

    /// The colours.
    pub fn theme(&self) -> iced::Theme {
        match self {
            Shell::Station(app) => app.theme(),
            Shell::FirstRun(..) => iced::Theme::Light,
        }
    }

    /// The station's streams, or the first run's keys.
    pub fn subscription(&self) -> Subscription<Message> {
        match self {
            Shell::Station(app) => app.subscription().map(Message::Station),
            Shell::FirstRun(..) => iced::event::listen_with(|event, _, _| match event {
                Event::Keyboard(keyboard::Event::KeyPressed { key, modifiers, .. }) => {
                    first_run_key(&key, modifiers)
                }
                _ => None,
            }),
        }
    }
}

/// The first run's keys: Enter goes on, Esc back, Tab between fields, Ctrl+D the
/// demo, Ctrl+Y confirms, Ctrl+1..9 picks a time zone.
fn first_run_key(key: &keyboard::Key, modifiers: keyboard::Modifiers) -> Option<Message> {
    use first_run::Message as M;
    Some(match key {
        keyboard::Key::Named(Named::Enter) => Message::FirstRun(M::Next),
        keyboard::Key::Named(Named::Escape) => Message::FirstRun(M::Back),
        keyboard::Key::Named(Named::Tab) => Message::Tab {
            back: modifiers.shift(),
        },
        keyboard::Key::Character(c) if modifiers.control() => {
            match c.as_str().to_ascii_lowercase().as_str() {
                "d" => Message::FirstRun(M::Demo),
                "y" => Message::FirstRun(M::Confirm),
                digit => Message::FirstRun(M::Pick(digit.parse().ok()?)),
            }
        }
        _ => return None,
    })
}

/// The station in `env` (the demo if none is set up), as `app::run` opened it.
fn open(env: &Environment, sounds: Sounds) -> anyhow::Result<(App, Task<app::Message>)> {
    let b = app::boot(env)?;
    let (mut app, task) = App::new(
        b.worker.clone(),
        b.header.clone(),
        b.demo_hint.clone(),
        None,
    );
    app.configure(Some(b.env.clone()), b.config.clone(), sounds);
    Ok((app, task))
}
