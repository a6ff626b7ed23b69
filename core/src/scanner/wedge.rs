//! Keyboard-wedge decoding: a scanner that types like a keyboard. Pure logic on key
//! events and their times, so it is tested without a window; the desktop application
//! feeds it the window's keyboard events.
//!
//! A scanner types a whole code in a few milliseconds, evenly, and ends it with
//! Enter; a person types with gaps of 80 ms and more, unevenly. Keys are a scan only
//! when all of these hold: the burst ends in Enter, no gap in it (Enter included) is
//! longer than [`WedgeConfig::max_gap`], and it ends with at least
//! [`WedgeConfig::min_len`] characters each at most half of that after the one
//! before (a scanner's pace). Keys at a person's pace just before such a run are
//! typing, not part of the scan. Anything else
//! is typing and is handed back as text. Modifier keys (the Shift a scanner sends
//! around each capital letter) are part of whatever they surround, never its end.
//!
//! What a typist can be mistaken for: the window stamps keys when it handles them,
//! not when they were pressed, so a person's keys held back by a stalled window and
//! then delivered together (four or more, ending in Enter) look like a scan. What a
//! typist cannot be mistaken for: anything typed at a person's pace, however even
//! (40 ms a key is typing), or fewer than four keys.

use std::time::{Duration, Instant};

/// One key from the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter or Return.
    Enter,
    /// Shift, Control, Alt, Super, Caps Lock ...: part of the keys around it.
    Modifier,
    /// Any other key (Tab, arrows, Escape, Backspace ...): ends a burst as typing.
    Other,
}

/// What the decoder makes of the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WedgeEvent {
    /// A scanner burst: the code (without the Enter).
    Scan(String),
    /// Keys a person typed, to be given to whatever has focus (Enter included as
    /// `\n`, so a form can still be submitted).
    Typed(String),
}

/// Timing limits for telling a scanner from a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WedgeConfig {
    /// The longest gap between two keys of one scanner burst; the gaps of a burst
    /// must also average at most half of it.
    pub max_gap: Duration,
    /// The fewest characters a scan has (a person can type 2 keys quickly).
    pub min_len: usize,
}

/// The default longest gap, in milliseconds: scanners in keyboard mode send a key
/// every 1 to 10 ms; the fastest typists leave 50 ms and more between keys.
pub const DEFAULT_MAX_GAP_MS: u64 = 30;

impl Default for WedgeConfig {
    fn default() -> Self {
        WedgeConfig {
            max_gap: Duration::from_millis(DEFAULT_MAX_GAP_MS),
            min_len: 4,
        }
    }
}

impl WedgeConfig {
    /// The default limits with the longest gap set to `max_gap_ms` (at least 1 ms).
    pub fn with_max_gap_ms(max_gap_ms: u64) -> Self {
        WedgeConfig {
            max_gap: Duration::from_millis(max_gap_ms.max(1)),
            ..WedgeConfig::default()
        }
    }
}

/// The decoder's state: the keys of a burst in progress and the gaps between them.
#[derive(Debug, Default)]
pub struct WedgeDecoder {
    config: WedgeConfig,
    burst: String,
    /// The gap before each character of the burst after the first.
    gaps: Vec<Duration>,
    last: Option<Instant>,
}

impl WedgeDecoder {
    /// A decoder with `config`.
    pub fn new(config: WedgeConfig) -> Self {
        WedgeDecoder {
            config,
            ..WedgeDecoder::default()
        }
    }

    /// The limits in force.
    pub fn config(&self) -> WedgeConfig {
        self.config
    }

    /// Takes one key pressed at `at`.
    pub fn key(&mut self, key: Key, at: Instant) -> Vec<WedgeEvent> {
        let mut out = Vec::new();
        if key == Key::Modifier {
            return out;
        }
        // A gap too long for a scanner: what came before was typed.
        if let Some(e) = self.poll(at) {
            out.push(e);
        }
        let gap = self.last.map(|last| at.saturating_duration_since(last));
        match key {
            Key::Char(c) => {
                if let Some(gap) = gap.filter(|_| !self.burst.is_empty()) {
                    self.gaps.push(gap);
                }
                self.burst.push(c);
                self.last = Some(at);
            }
            Key::Enter => {
                let burst = std::mem::take(&mut self.burst);
                let gaps = std::mem::take(&mut self.gaps);
                self.last = None;
                out.extend(self.split(burst, &gaps));
            }
            Key::Other => {
                self.last = None;
                self.gaps.clear();
                if !self.burst.is_empty() {
                    out.push(WedgeEvent::Typed(std::mem::take(&mut self.burst)));
                }
            }
            Key::Modifier => {}
        }
        out
    }

    /// A burst that ended in Enter: the scan is its run of keys at a scanner's
    /// pace (every gap at most half the limit) up to the Enter. Keys before that run
    /// at a person's pace are typing (a label typed, then an envelope scanned at
    /// once); keys before it at a scanner's pace too belong to the scan (one late
    /// key inside a scan). Fewer than `min_len` keys are typing.
    fn split(&self, burst: String, gaps: &[Duration]) -> Vec<WedgeEvent> {
        let fast = self.config.max_gap / 2;
        let chars: Vec<char> = burst.chars().collect();
        // gaps[i] is the gap before chars[i + 1].
        let mut start = chars.len().saturating_sub(1);
        while start > 0 && gaps.get(start - 1).is_some_and(|g| *g <= fast) {
            start -= 1;
        }
        if start > 0 && gaps[..start - 1].iter().all(|g| *g <= fast) {
            start = 0;
        }
        if chars.len() - start < self.config.min_len {
            return vec![WedgeEvent::Typed(burst + "\n")];
        }
        let scan: String = chars[start..].iter().collect();
        let mut out = Vec::new();
        if start > 0 {
            out.push(WedgeEvent::Typed(chars[..start].iter().collect()));
        }
        out.push(WedgeEvent::Scan(scan));
        out
    }

    /// Called on a timer (and before each key): hands back a burst that stopped
    /// short of Enter, or paused longer than a scanner does, as typing.
    pub fn poll(&mut self, now: Instant) -> Option<WedgeEvent> {
        let last = self.last?;
        if now.saturating_duration_since(last) > self.config.max_gap && !self.burst.is_empty() {
            self.last = None;
            self.gaps.clear();
            return Some(WedgeEvent::Typed(std::mem::take(&mut self.burst)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(d: &mut WedgeDecoder, text: &str, start: Instant, gap_ms: u64) -> Vec<WedgeEvent> {
        let mut out = Vec::new();
        let mut t = start;
        for c in text.chars() {
            let key = if c == '\n' { Key::Enter } else { Key::Char(c) };
            out.extend(d.key(key, t));
            t += Duration::from_millis(gap_ms);
        }
        out
    }

    #[test]
    fn a_fast_burst_ending_in_enter_is_a_scan() {
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "B0001\n", Instant::now(), 5);
        assert_eq!(out, [WedgeEvent::Scan("B0001".into())]);
    }

    #[test]
    fn human_typing_is_typing() {
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "B0001\n", Instant::now(), 120);
        let typed: String = out
            .iter()
            .map(|e| match e {
                WedgeEvent::Typed(s) => s.clone(),
                WedgeEvent::Scan(s) => panic!("scan {s}"),
            })
            .collect();
        assert_eq!(typed, "B0001\n");
    }

    #[test]
    fn a_short_fast_burst_is_typing() {
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "ok\n", Instant::now(), 5);
        assert_eq!(out, [WedgeEvent::Typed("ok\n".into())]);
    }

    #[test]
    fn a_burst_that_stops_short_of_enter_is_typing() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        assert!(feed(&mut d, "B00", t0, 5).is_empty());
        assert_eq!(d.poll(t0 + Duration::from_millis(20)), None);
        assert_eq!(
            d.poll(t0 + Duration::from_millis(200)),
            Some(WedgeEvent::Typed("B00".into()))
        );
    }

    #[test]
    fn typing_then_a_scan() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "ab", t0, 150);
        out.extend(feed(&mut d, "B0002\n", t0 + Duration::from_secs(2), 4));
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("a".into()),
                WedgeEvent::Typed("b".into()),
                WedgeEvent::Scan("B0002".into())
            ]
        );
    }

    #[test]
    fn other_keys_end_a_burst_as_typing() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        feed(&mut d, "ana", t0, 5);
        assert_eq!(
            d.key(Key::Other, t0 + Duration::from_millis(20)),
            [WedgeEvent::Typed("ana".into())]
        );
    }

    /// Keys as a scanner sends them for `text`: Shift pressed and released around
    /// each capital letter, `gap_ms` between characters.
    fn with_shift(
        d: &mut WedgeDecoder,
        text: &str,
        start: Instant,
        gap_ms: u64,
    ) -> Vec<WedgeEvent> {
        let mut out = Vec::new();
        let mut t = start;
        for c in text.chars() {
            if c.is_ascii_uppercase() {
                out.extend(d.key(Key::Modifier, t));
                out.extend(d.key(Key::Char(c), t + Duration::from_millis(1)));
                out.extend(d.key(Key::Modifier, t + Duration::from_millis(2)));
            } else if c == '\n' {
                out.extend(d.key(Key::Enter, t));
            } else {
                out.extend(d.key(Key::Char(c), t));
            }
            t += Duration::from_millis(gap_ms);
        }
        out
    }

    #[test]
    fn shift_around_capitals_is_part_of_the_scan() {
        let mut d = WedgeDecoder::default();
        let out = with_shift(&mut d, "AB000401\n", Instant::now(), 4);
        assert_eq!(out, [WedgeEvent::Scan("AB000401".into())]);
        let out = with_shift(
            &mut d,
            "NOPE2\n",
            Instant::now() + Duration::from_secs(1),
            4,
        );
        assert_eq!(out, [WedgeEvent::Scan("NOPE2".into())]);
    }

    #[test]
    fn even_typing_at_forty_ms_a_key_is_a_person() {
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "J000122\n", Instant::now(), 40);
        assert!(
            out.iter().all(|e| matches!(e, WedgeEvent::Typed(_))),
            "{out:?}"
        );
        assert_eq!(out.last(), Some(&WedgeEvent::Typed("\n".into())));
    }

    #[test]
    fn keys_25_ms_apart_average_too_slow_for_a_scanner() {
        // Every gap 25 ms: under the 30 ms limit, but more than the 15 ms average a
        // scanner keeps: a fast typist.
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "J000122\n", Instant::now(), 25);
        assert_eq!(out, [WedgeEvent::Typed("J000122\n".into())]);
    }

    #[test]
    fn one_slow_gap_inside_a_fast_burst_splits_it() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "J000", t0, 3);
        out.extend(feed(&mut d, "122\n", t0 + Duration::from_millis(100), 3));
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("J000".into()),
                WedgeEvent::Typed("122\n".into())
            ]
        );
    }

    #[test]
    fn typing_then_a_scan_keeps_the_two_apart() {
        // A person types "drop box" at 40 ms a key, then a scanner reads J000122.
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "drop box", t0, 40);
        out.extend(with_shift(
            &mut d,
            "J000122\n",
            t0 + Duration::from_millis(900),
            4,
        ));
        assert_eq!(out.last(), Some(&WedgeEvent::Scan("J000122".into())));
        let typed: String = out
            .iter()
            .filter_map(|e| match e {
                WedgeEvent::Typed(t) => Some(t.as_str()),
                WedgeEvent::Scan(_) => None,
            })
            .collect();
        assert_eq!(typed, "drop box");
    }

    #[test]
    fn the_limit_is_configurable() {
        // A scanner set to send a key every 40 ms: read as one with a 100 ms limit.
        let mut d = WedgeDecoder::new(WedgeConfig::with_max_gap_ms(100));
        let out = feed(&mut d, "B0001\n", Instant::now(), 40);
        assert_eq!(out, [WedgeEvent::Scan("B0001".into())]);
        assert_eq!(d.config().max_gap, Duration::from_millis(100));
    }

    #[test]
    fn a_label_typed_at_twenty_ms_a_key_then_a_scan_are_told_apart() {
        // xdotool's "--delay 40" presses a key every 20 ms: under the 30 ms limit, so
        // the label and the scan arrive as one burst.
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "TRAY-", t0, 20);
        out.extend(feed(
            &mut d,
            "D000004\n",
            t0 + Duration::from_millis(107),
            3,
        ));
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("TRAY-".into()),
                WedgeEvent::Scan("D000004".into())
            ]
        );
    }

    #[test]
    fn one_late_key_inside_a_scan_stays_in_the_scan() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "D00", t0, 3);
        out.extend(feed(&mut d, "0004\n", t0 + Duration::from_millis(30), 3));
        assert_eq!(out, [WedgeEvent::Scan("D000004".into())]);
    }

    #[test]
    fn typing_at_twenty_ms_a_key_is_not_a_scan() {
        let mut d = WedgeDecoder::default();
        let out = feed(&mut d, "D000002\n", Instant::now(), 20);
        assert_eq!(out, [WedgeEvent::Typed("D000002\n".into())]);
    }
}
