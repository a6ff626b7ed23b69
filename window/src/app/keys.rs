//! The keyboard: every key the window sees goes through the keyboard-wedge decoder
//! (a scanner types into whatever has focus), and the function keys move between
//! screens.

use iced::widget::operation;
use iced::{Event, Subscription, Task, keyboard};
use std::time::Instant;

use super::jobs::Arrived;
use super::{App, Message, Over, Screen};
use crate::screen::{
    audit, batches, dashboard, export, import, needs_attention, review, scan, settings,
    undeliverable,
};
use ballot_intake_core::scanner::wedge::{Key, WedgeEvent};

impl App {
    /// Tab and Shift-Tab move between fields; to the wedge decoder Tab is a key that
    /// is not part of a barcode.
    pub(super) fn tab(&mut self, back: bool) -> Task<Message> {
        let _ = self.wedge.key(Key::Other, Instant::now());
        if back {
            operation::focus_previous()
        } else {
            operation::focus_next()
        }
    }

    /// The function keys: F2 closes the batch; a supervisor's F3..F9 open the
    /// supervisor screens, an administrator's F10 the settings, anyone's F11 the
    /// nightly file; F12 signs out; Esc goes back to scanning.
    pub(super) fn shortcut(&mut self, key: keyboard::key::Named) -> Task<Message> {
        use keyboard::key::Named as K;
        self.notice = None;
        let (on_scan, supervisor, admin) = match &self.screen {
            Screen::Scan(s) => (
                true,
                s.user.role.can_supervise(),
                s.user.role == ballot_intake_core::auth::Role::Admin,
            ),
            _ => (false, false, false),
        };
        match key {
            K::F2 if on_scan => return self.update(Message::Scan(scan::Message::CloseBatch)),
            // Signing out is one key from the two screens a clerk stands at.
            K::F12 if on_scan || matches!(self.screen, Screen::OpenBatch { .. }) => {
                return self.sign_out();
            }
            // An import or export in progress finishes before the screen can be left.
            K::Escape if matches!(&self.screen, Screen::Over { over, .. } if over.busy()) => {
                return Task::none();
            }
            K::Escape if !on_scan => {
                let Some(scan) = self.take_scan() else {
                    return Task::none();
                };
                self.screen = Screen::Scan(scan);
                return operation::focus(scan::State::focus_id());
            }
            K::F3 | K::F4 | K::F5 | K::F6 | K::F7 | K::F8 | K::F9 if on_scan && supervisor => {}
            K::F10 if on_scan && admin => {}
            K::F11 if on_scan => {}
            // Said, not silently ignored: a clerk pressing F5 should know why
            // nothing opened.
            K::F3 | K::F4 | K::F5 | K::F6 | K::F7 | K::F8 | K::F9 | K::F10 if on_scan => {
                let who = if key == K::F10 {
                    "an administrator"
                } else {
                    "a supervisor"
                };
                if let Screen::Scan(state) = &mut self.screen {
                    state.refuse(format!(
                        "That key opens a screen for {who}: ask one to sign in at this station."
                    ));
                }
                return Task::none();
            }
            _ => return Task::none(),
        }
        let Some(scan) = self.take_scan() else {
            return Task::none();
        };
        let user = scan.user.clone();
        match key {
            K::F3 => {
                let state = undeliverable::State::new(user);
                self.screen = Screen::Over {
                    scan,
                    over: Over::Undeliverable(state),
                };
                Task::none()
            }
            K::F4 => {
                let state = needs_attention::State::new(user);
                self.screen = Screen::Over {
                    scan,
                    over: Over::NeedsAttention(state),
                };
                Task::none()
            }
            K::F5 => {
                let state = review::State::new(user);
                self.screen = Screen::Over {
                    scan,
                    over: Over::Review(state),
                };
                operation::focus(review::State::focus_id())
            }
            K::F6 => {
                let (state, action) = batches::State::new(user);
                self.screen = Screen::Over {
                    scan,
                    over: Over::Batches(state),
                };
                Task::batch([
                    self.batches_action(action),
                    operation::focus(batches::State::focus_id()),
                ])
            }
            K::F7 => {
                let (state, action) = audit::State::new();
                self.screen = Screen::Over {
                    scan,
                    over: Over::Audit(state),
                };
                Task::batch([
                    self.audit_action(action),
                    operation::focus(audit::State::focus_id()),
                ])
            }
            K::F8 => {
                self.screen = Screen::Over {
                    scan,
                    over: Over::Dashboard(dashboard::State::default()),
                };
                self.load_dashboard()
            }
            K::F9 => {
                self.screen = Screen::Over {
                    scan,
                    over: Over::Import(import::State::default()),
                };
                operation::focus(import::State::focus_id())
            }
            K::F11 => {
                let tz = self.header.timezone;
                let today = chrono::Utc::now().with_timezone(&tz).date_naive();
                let folder = self
                    .env
                    .as_ref()
                    .map(|e| e.data_dir.join("exports").display().to_string())
                    .unwrap_or_default();
                let state = export::State::new(today.pred_opt().unwrap_or(today), folder);
                self.screen = Screen::Over {
                    scan,
                    over: Over::Export(state),
                };
                operation::focus(export::State::focus_id())
            }
            K::F10 => {
                let (state, action) =
                    settings::State::new(user, &self.config.ui, &self.config.scanners);
                self.screen = Screen::Over {
                    scan,
                    over: Over::Settings(Box::new(state)),
                };
                Task::batch([
                    self.settings_action(action),
                    operation::focus(settings::State::focus_id()),
                ])
            }
            _ => {
                self.screen = Screen::Scan(scan);
                Task::none()
            }
        }
    }

    /// A key from the window: fed to the wedge decoder; a scan goes where any
    /// scanner's scans go, a person's Enter submits what they typed.
    pub(super) fn key(&mut self, key: Key, at: Instant) -> Task<Message> {
        let mut tasks = Vec::new();
        for event in self.wedge.key(key, at) {
            tasks.push(match event {
                WedgeEvent::Scan(code) => self.scan_arrived(Arrived {
                    raw: code.into_bytes(),
                    source: "wedge:keyboard".into(),
                    symbology: None,
                    wedge: true,
                }),
                WedgeEvent::Typed(t) if t.ends_with('\n') => self.person_enter(),
                WedgeEvent::Typed(_) => Task::none(),
            });
        }
        Task::batch(tasks)
    }

    /// A person pressed Enter: the manual entry on the scan screen (recorded as keyed
    /// in), the scanner typed in the settings' field.
    fn person_enter(&mut self) -> Task<Message> {
        match &mut self.screen {
            Screen::Scan(state) => match state.update(scan::Message::ManualSubmit) {
                scan::Action::Keyed(code) => self.record_keyboard(code, "keyed"),
                _ => Task::none(),
            },
            Screen::Over {
                over: Over::Settings(state),
                ..
            } => {
                state.update(settings::Message::AddSpec);
                Task::none()
            }
            _ => Task::none(),
        }
    }

    pub(super) fn keys() -> Subscription<Message> {
        iced::event::listen_with(|event, _status, _window| match event {
            Event::Keyboard(keyboard::Event::KeyPressed {
                key,
                text,
                modifiers,
                ..
            }) => {
                let at = Instant::now();
                match key {
                    keyboard::Key::Named(keyboard::key::Named::Enter) => {
                        Some(Message::Key(Key::Enter, at))
                    }
                    keyboard::Key::Named(keyboard::key::Named::Tab) => Some(Message::Tab {
                        back: modifiers.shift(),
                    }),
                    keyboard::Key::Named(
                        named @ (keyboard::key::Named::F2
                        | keyboard::key::Named::F3
                        | keyboard::key::Named::F4
                        | keyboard::key::Named::F5
                        | keyboard::key::Named::F6
                        | keyboard::key::Named::F7
                        | keyboard::key::Named::F8
                        | keyboard::key::Named::F9
                        | keyboard::key::Named::F10
                        | keyboard::key::Named::F11
                        | keyboard::key::Named::F12
                        | keyboard::key::Named::Escape),
                    ) => Some(Message::Shortcut(named)),
                    keyboard::Key::Named(keyboard::key::Named::ArrowDown)
                        if modifiers.control() =>
                    {
                        Some(Message::Undeliverable(undeliverable::Message::Cycle(true)))
                    }
                    keyboard::Key::Named(keyboard::key::Named::ArrowUp) if modifiers.control() => {
                        Some(Message::Undeliverable(undeliverable::Message::Cycle(false)))
                    }
                    keyboard::Key::Character(c)
                        if modifiers.control() && matches!(c.as_str(), "s" | "o") =>
                    {
                        c.chars().next().map(Message::Ctrl)
                    }
                    keyboard::Key::Character(c) if modifiers.control() => c
                        .chars()
                        .next()
                        .and_then(|c| c.to_digit(10))
                        .and_then(|d| usize::try_from(d).ok())
                        .map(Message::CtrlDigit),
                    _ => match text.as_deref().and_then(|t| {
                        let mut chars = t.chars();
                        let c = chars.next()?;
                        chars.next().is_none().then_some(c)
                    }) {
                        Some(c) if !c.is_control() => Some(Message::Key(Key::Char(c), at)),
                        _ => Some(Message::Key(Key::Other, at)),
                    },
                }
            }
            _ => None,
        })
    }
}
