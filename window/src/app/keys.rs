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
    /// Ctrl and another letter (settings: M sounds on/off, P and E play the two
    /// sounds, L looks for scanners again).
    Letter(char),
    /// Alt+1 .. Alt+9: remove the n-th thing listed (a configured scanner).
    Remove(usize),
}

impl Shortcut {
    /// The character a focused text field also received with this shortcut, to be
    /// taken back out: iced's text input inserts a digit whatever the modifiers, so
    /// Ctrl+1 would leave a "1" in a note. A letter with Ctrl reaches the field as a
    /// control character, which the field drops: nothing to take back. (Taking a
    /// letter back cut the real last letter off the field: a note "sharp" saved as
    /// "shar" after Ctrl+P, seen under Xvfb; on the users page it would have named
    /// another user.)
    pub fn typed(self) -> Option<char> {
        match self {
            Shortcut::Pick(n) | Shortcut::Remove(n) => {
                u32::try_from(n).ok().and_then(|d| char::from_digit(d, 10))
            }
            _ => None,
        }
    }
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
        // A scanner presses Shift around each capital letter: part of the scan.
        keyboard::Key::Named(
            Named::Shift
            | Named::Control
            | Named::Alt
            | Named::AltGraph
            | Named::Super
            | Named::Meta
            | Named::Hyper
            | Named::CapsLock
            | Named::NumLock
            | Named::Fn,
        ) => return Some(Message::Key(Key::Modifier, at)),
        keyboard::Key::Named(Named::ArrowDown) if modifiers.control() => Some(Shortcut::Next),
        keyboard::Key::Named(Named::ArrowUp) if modifiers.control() => Some(Shortcut::Previous),
        keyboard::Key::Named(named) => function_number(*named).map(Shortcut::Function),
        keyboard::Key::Character(c) if modifiers.control() => {
            return match c.as_str() {
                "s" => Some(Message::Shortcut(Shortcut::Save)),
                "o" => Some(Message::Shortcut(Shortcut::Browse)),
                c => {
                    let c = c.chars().next()?;
                    match c.to_digit(10).and_then(|d| usize::try_from(d).ok()) {
                        Some(n) => Some(Message::Shortcut(Shortcut::Pick(n))),
                        None if c.is_ascii_alphabetic() => {
                            Some(Message::Shortcut(Shortcut::Letter(c.to_ascii_lowercase())))
                        }
                        None => None,
                    }
                }
            };
        }
        keyboard::Key::Character(c) if modifiers.alt() => {
            return c
                .chars()
                .next()
                .and_then(|c| c.to_digit(10))
                .and_then(|d| usize::try_from(d).ok())
                .map(|n| Message::Shortcut(Shortcut::Remove(n)));
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

/// Tab and Shift-Tab: the next (previous) field, wrapping around at either end, so
/// that the cursor is never lost past the last field of a form.
pub fn focus_step<T: Send + 'static>(back: bool) -> iced::Task<T> {
    use iced::advanced::widget::operation::{self, Operation, focusable};
    struct Step {
        count: focusable::Count,
        current: usize,
        back: bool,
    }
    impl<T> Operation<T> for Step {
        fn focusable(
            &mut self,
            _id: Option<&iced::widget::Id>,
            _bounds: iced::Rectangle,
            state: &mut dyn focusable::Focusable,
        ) {
            let total = self.count.total;
            if total == 0 {
                return;
            }
            let target = match (self.count.focused, self.back) {
                (None, false) => 0,
                (None, true) => total - 1,
                (Some(f), false) => (f + 1) % total,
                (Some(f), true) => (f + total - 1) % total,
            };
            if self.current == target {
                state.focus();
            } else if self.count.focused == Some(self.current) {
                state.unfocus();
            }
            self.current += 1;
        }

        fn traverse(&mut self, operate: &mut dyn FnMut(&mut dyn Operation<T>)) {
            operate(self);
        }
    }
    // `then` takes a plain function: one for each direction.
    if back {
        iced::advanced::widget::operate(operation::then(focusable::count(), |count| Step {
            count,
            current: 0,
            back: true,
        }))
    } else {
        iced::advanced::widget::operate(operation::then(focusable::count(), |count| Step {
            count,
            current: 0,
            back: false,
        }))
    }
}

/// The field that has focus, if any: what a person's Enter applies to.
pub fn focused() -> iced::Task<iced::widget::Id> {
    iced::advanced::widget::operate(iced::advanced::widget::operation::focusable::find_focused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_digit_shortcut_leaves_its_character_in_a_field() {
        assert_eq!(Shortcut::Pick(3).typed(), Some('3'));
        assert_eq!(Shortcut::Remove(2).typed(), Some('2'));
        for s in [
            Shortcut::Letter('p'),
            Shortcut::Save,
            Shortcut::Browse,
            Shortcut::Back,
        ] {
            assert_eq!(s.typed(), None, "{s:?}");
        }
    }
}
