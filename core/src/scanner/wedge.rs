//! Keyboard-wedge decoding: a scanner that types like a keyboard. Pure logic on key
//! events and their times, so it is tested without a window; the desktop application
//! feeds it the window's keyboard events.
//!
//! A scanner types a whole code in a few milliseconds and ends it with Enter; a person
//! types with gaps of 80 ms and more. Keys that arrive in a fast burst ending with
//! Enter are a scan; anything slower is typing and is handed back to be used as text,
//! so a clerk typing into the manual-entry field is never mistaken for a scanner.

use std::time::{Duration, Instant};

/// One key from the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter or Return.
    Enter,
    /// Any other key (Tab, arrows, Escape ...): ends a burst as typing.
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
    /// The longest gap between two keys of one scanner burst.
    pub max_gap: Duration,
    /// The fewest characters a scan has (a person can type 2 keys quickly).
    pub min_len: usize,
}

impl Default for WedgeConfig {
    fn default() -> Self {
        WedgeConfig {
            max_gap: Duration::from_millis(35),
            min_len: 4,
        }
    }
}

/// The decoder's state: the keys of a burst in progress.
#[derive(Debug, Default)]
pub struct WedgeDecoder {
    config: WedgeConfig,
    burst: String,
    last: Option<Instant>,
}

impl WedgeDecoder {
    /// A decoder with `config`.
    pub fn new(config: WedgeConfig) -> Self {
        WedgeDecoder {
            config,
            burst: String::new(),
            last: None,
        }
    }

    /// Takes one key pressed at `at`.
    pub fn key(&mut self, key: Key, at: Instant) -> Vec<WedgeEvent> {
        let mut out = Vec::new();
        // A gap too long for a scanner: what came before was typed.
        if let Some(e) = self.poll(at) {
            out.push(e);
        }
        match key {
            Key::Char(c) => {
                self.burst.push(c);
                self.last = Some(at);
            }
            Key::Enter => {
                let burst = std::mem::take(&mut self.burst);
                self.last = None;
                if burst.chars().count() >= self.config.min_len {
                    out.push(WedgeEvent::Scan(burst));
                } else {
                    out.push(WedgeEvent::Typed(burst + "\n"));
                }
            }
            Key::Other => {
                self.last = None;
                if !self.burst.is_empty() {
                    out.push(WedgeEvent::Typed(std::mem::take(&mut self.burst)));
                }
            }
        }
        out
    }

    /// Called on a timer: hands back a burst that stopped short of Enter as typing.
    pub fn poll(&mut self, now: Instant) -> Option<WedgeEvent> {
        let last = self.last?;
        if now.saturating_duration_since(last) > self.config.max_gap && !self.burst.is_empty() {
            self.last = None;
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
}
