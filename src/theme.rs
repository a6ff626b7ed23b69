//! Colours and sizes of the station's screens: readable from a step away, and never
//! colour alone (every outcome also has its own word and symbol).

use iced::widget::container;
use iced::{Background, Border, Color, Theme};

use crate::intake::Outcome;

/// The outcome word's size: at least 48 px, readable from 1.5 m.
pub const BANNER_WORD: f32 = 64.0;
/// The instruction line under it.
pub const BANNER_LINE: f32 = 30.0;

const fn rgb(r: u8, g: u8, b: u8) -> Color {
    Color::from_rgb8(r, g, b)
}

/// Background of an outcome's banner. White text on each has a contrast ratio above
/// 4.5:1 (WCAG AA): dark green 7.9, dark red 6.6, dark amber-brown 7.0, indigo 12.6.
pub fn outcome_color(outcome: Outcome) -> Color {
    match outcome {
        Outcome::Accepted => rgb(0x1b, 0x5e, 0x20),
        Outcome::Duplicate | Outcome::Voided | Outcome::WrongElection => rgb(0xb7, 0x1c, 0x1c),
        Outcome::Unknown | Outcome::Late => rgb(0x7a, 0x3e, 0x00),
        Outcome::Invalid => rgb(0x31, 0x1b, 0x92),
    }
}

/// The symbol beside an outcome's word.
pub fn outcome_symbol(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "✔",
        Outcome::Invalid => "↻",
        _ => "✖",
    }
}

/// The word shown for an outcome.
pub fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "ACCEPTED",
        Outcome::Duplicate => "DUPLICATE",
        Outcome::Voided => "REPLACED",
        Outcome::WrongElection => "WRONG ELECTION",
        Outcome::Unknown => "UNKNOWN",
        Outcome::Invalid => "RESCAN",
        Outcome::Late => "LATE",
    }
}

/// A filled panel in `color` with white text.
pub fn panel(color: Color) -> impl Fn(&Theme) -> container::Style {
    move |_| container::Style {
        text_color: Some(Color::WHITE),
        background: Some(Background::Color(color)),
        border: Border {
            radius: 8.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// The demo banner's colour (a demo station must be impossible to mistake).
pub const DEMO: Color = rgb(0x6a, 0x1b, 0x9a);
/// The header bar.
pub const HEADER: Color = rgb(0x26, 0x32, 0x38);
/// Error text.
pub const ERROR: Color = rgb(0xb7, 0x1c, 0x1c);
/// Undeliverable mode's colour, unlike any receiving banner (white on it: 9.4:1).
pub const UNDELIVERABLE: Color = rgb(0x4e, 0x34, 0x2e);
/// Needs-attention mode's colour (white on it: 8.6:1).
pub const ATTENTION: Color = rgb(0x00, 0x4d, 0x61);
/// "All is well" text (on white, 7.9:1).
pub const OK: Color = rgb(0x1b, 0x5e, 0x20);
