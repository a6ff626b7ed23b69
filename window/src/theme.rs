//! Colours and sizes of the station's screens: readable from a step away, and never
//! colour alone (every outcome also has its own word and symbol).

use iced::widget::container;
use iced::{Background, Border, Color, Theme};

use ballot_intake_core::intake::Outcome;

/// The outcome word's size: at least 48 px, readable from 1.5 m.
pub const BANNER_WORD: f32 = 64.0;
/// The instruction line under it.
pub const BANNER_LINE: f32 = 30.0;

const fn rgb(r: u8, g: u8, b: u8) -> Color {
    Color::from_rgb8(r, g, b)
}

/// Background of an outcome's banner. White text on each has a contrast ratio above
/// 4.5:1 (WCAG AA): dark green 7.9, dark red 6.6, dark amber-brown 8.3, indigo 12.3.
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
/// The theme the window uses; the contrast tests below assume its white page.
pub const THEME: Theme = Theme::Light;
/// Dark slate: title bars, and headings on the white page.
pub const HEADER: Color = rgb(0x26, 0x32, 0x38);
/// Error text.
pub const ERROR: Color = rgb(0xb7, 0x1c, 0x1c);
/// Undeliverable mode's colour, unlike any receiving banner (white on it: 11.3:1).
pub const UNDELIVERABLE: Color = rgb(0x4e, 0x34, 0x2e);
/// Needs-attention mode's colour (white on it: 9.4:1).
pub const ATTENTION: Color = rgb(0x00, 0x4d, 0x61);
/// "All is well" text (on white, 7.9:1).
pub const OK: Color = rgb(0x1b, 0x5e, 0x20);

/// WCAG 2.x contrast checks of every colour pair the screens use, so a later colour
/// change cannot quietly drop a banner below what a clerk can read at a glance.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::pedantic)]

    use super::*;

    /// Relative luminance as WCAG 2.x defines it, from sRGB channels.
    fn luminance(c: Color) -> f32 {
        let lin = |v: f32| {
            if v <= 0.040_45 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b)
    }

    fn contrast(a: Color, b: Color) -> f32 {
        let (la, lb) = (luminance(a), luminance(b));
        let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
        (hi + 0.05) / (lo + 0.05)
    }

    #[test]
    fn the_formula_matches_wcags_own_extremes() {
        assert!((contrast(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color::WHITE, Color::WHITE) - 1.0).abs() < 0.01);
        // #777777 on white is the well-known just-below-AA grey (4.48:1).
        assert!(contrast(rgb(0x77, 0x77, 0x77), Color::WHITE) < 4.5);
    }

    #[test]
    fn white_text_on_every_banner_meets_aa() {
        for outcome in Outcome::ALL {
            let ratio = contrast(Color::WHITE, outcome_color(outcome));
            assert!(ratio >= 4.5, "{outcome:?}: {ratio:.2}:1");
        }
        for (name, color) in [
            ("demo", DEMO),
            ("header", HEADER),
            ("undeliverable", UNDELIVERABLE),
            ("attention", ATTENTION),
        ] {
            let ratio = contrast(Color::WHITE, color);
            assert!(ratio >= 4.5, "{name}: {ratio:.2}:1");
        }
    }

    #[test]
    fn coloured_text_on_the_white_page_meets_aa() {
        assert_eq!(
            THEME.palette().background,
            Color::WHITE,
            "the page is white"
        );
        for (name, color) in [("error", ERROR), ("ok", OK), ("header", HEADER)] {
            let ratio = contrast(color, Color::WHITE);
            assert!(ratio >= 4.5, "{name}: {ratio:.2}:1");
        }
    }

    #[test]
    fn the_documented_ratios_are_the_real_ones() {
        let white_on = |c| contrast(Color::WHITE, c);
        for (color, said) in [
            (outcome_color(Outcome::Accepted), 7.9),
            (outcome_color(Outcome::Duplicate), 6.6),
            (outcome_color(Outcome::Unknown), 8.3),
            (outcome_color(Outcome::Invalid), 12.3),
            (UNDELIVERABLE, 11.3),
            (ATTENTION, 9.4),
        ] {
            let real = white_on(color);
            assert!((real - said).abs() < 0.15, "said {said}, is {real:.2}");
        }
    }

    #[test]
    fn every_outcome_has_its_own_word_so_colour_is_never_alone() {
        let mut words: Vec<_> = Outcome::ALL.iter().map(|o| outcome_word(*o)).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), Outcome::ALL.len());
    }
}
