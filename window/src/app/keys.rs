//! The keyboard. Every key the window sees goes through the keyboard-wedge decoder
//! (a scanner types into whatever has focus); function keys, Esc and the Ctrl
//! shortcuts become a [`Shortcut`], named for what it does, for the screen that is up.

use iced::{Event, Subscription, keyboard};
use std::time::Instant;

use super::Message;
use ballot_intake_core::scanner::wedge::Key;

/// A key that does something by itself, wherever the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// F2 to F12: F2 closes the batch, F3..F9 the supervisors' screens, F10 the
    /// settings, F11 the nightly file, F12 signs out.
    Function(u8),
    /// Esc: back to scanning.
    Back,
    /// Ctrl+S: save (settings).
    Save,
    /// Ctrl+O: choose a file or folder in the desktop's dialog.
    Browse,
    /// Ctrl+1 .. Ctrl+9: pick the n-th thing listed (a reason, a match, a scanner).
    Pick(usize),
    /// Ctrl+Down: the next reason.
    Next,
    /// Ctrl+Up: the previous reason.
    Previous,
}

/// The function key's number, for F2..F12.
fn function_number(named: keyboard::key::Named) -> Option<u8> {
    use keyboard::key::Named as K;
    Some(match named {
        K::F2 => 2,
        K::F3 => 3,
        K::F4 => 4,
        K::F5 => 5,
        K::F6 => 6,
        K::F7 => 7,
        K::F8 => 8,
        K::F9 => 9,
        K::F10 => 10,
        K::F11 => 11,
        K::F12 => 12,
        _ => return None,
    })
}

/// What a pressed key means to the application: a shortcut, Tab, or a key for the
/// wedge decoder (stamped with when it came). Ctrl with any other key means nothing.
fn translate(
    key: &keyboard::Key,
    text: Option<&str>,
    modifiers: keyboard::Modifiers,
    at: Instant,
) -> Option<Message> {
    use keyboard::key::Named;
    let shortcut = match key {
        keyboard::Key::Named(Named::Enter) => return Some(Message::Key(Key::Enter, at)),
        keyboard::Key::Named(Named::Tab) => {
            return Some(Message::Tab {
                back: modifiers.shift(),
            });
        }
        keyboard::Key::Named(Named::Escape) => Some(Shortcut::Back),
        keyboard::Key::Named(Named::ArrowDown) if modifiers.control() => Some(Shortcut::Next),
        keyboard::Key::Named(Named::ArrowUp) if modifiers.control() => Some(Shortcut::Previous),
        keyboard::Key::Named(named) => function_number(*named).map(Shortcut::Function),
        keyboard::Key::Character(c) if modifiers.control() => {
            return match c.as_str() {
                "s" => Some(Message::Shortcut(Shortcut::Save)),
                "o" => Some(Message::Shortcut(Shortcut::Browse)),
                c => c
                    .chars()
                    .next()
                    .and_then(|c| c.to_digit(10))
                    .and_then(|d| usize::try_from(d).ok())
                    .map(|n| Message::Shortcut(Shortcut::Pick(n))),
            };
        }
        _ => None,
    };
    if let Some(shortcut) = shortcut {
        return Some(Message::Shortcut(shortcut));
    }
    let single = text.and_then(|t| {
        let mut chars = t.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    });
    Some(match single {
        Some(c) if !c.is_control() => Message::Key(Key::Char(c), at),
        _ => Message::Key(Key::Other, at),
    })
}

/// Every key pressed in the window, captured by a field or not: a wedge scanner
/// types into whatever has focus, and must still be read as a scanner.
pub fn subscription() -> Subscription<Message> {
    iced::event::listen_with(|event, _status, _window| match event {
        Event::Keyboard(keyboard::Event::KeyPressed {
            key,
            text,
            modifiers,
            ..
        }) => translate(&key, text.as_deref(), modifiers, Instant::now()),
        _ => None,
    })
}
