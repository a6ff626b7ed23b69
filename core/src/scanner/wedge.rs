//! Keyboard-wedge decoding: a scanner that types like a keyboard. Pure logic on key
//! events and their times, so it is tested without a window; the desktop application
//! feeds it the window's keyboard events.
//!
//! A scanner types a whole code in a few milliseconds, evenly, and ends it with
//! Enter; a person types with gaps of 80 ms and more, unevenly. Keys are a scan only
//! when all of these hold: the burst ends in Enter, no gap in it is longer than
//! [`STALL`] (or [`WedgeConfig::max_gap`] if that is longer), and it ends with at
//! least [`WedgeConfig::min_len`] characters each at most half of `max_gap` after
//! the one before (a scanner's pace), but for at most one slower key. Keys at a
//! person's pace just before such a run are typing, not part of the scan. Anything
//! else is typing and is handed back as text. Modifier keys (the Shift a scanner
//! sends around each capital letter) are part of whatever they surround, never its
//! end.
//!
//! **The window's stalls.** The window stamps a key when it handles it, not when it
//! was pressed (winit gives no event times). A window busy drawing, or a loaded
//! machine that runs the window (or the X server) late, holds the keys that come
//! meanwhile and then hands them over together, a few microseconds apart; or holds
//! one key and hands the next over at its own pace. So a gap up to [`STALL`] inside
//! a run at a scanner's pace says only that the window was late, not that a person
//! paused: one such key is kept in the scan, and a gap before a key with another
//! right behind it ([`QUEUED`]) counts as a scanner's. Without this a scan's first
//! key, read before a redraw, was split from the rest (D000001 read as "D" typed
//! and a scan of 000001), and on a fresh two-core machine building its font caches
//! a scan with one key 40 ms late was read as typed. Likewise the gap before Enter
//! is only held against [`STALL`]: a scanner's Enter can be the one key left behind
//! a redraw, and the characters before it have already shown whose pace it was.
//!
//! What a typist can be mistaken for: a person's keys held back by a stalled window
//! and then delivered together (four or more, ending in Enter) look like a scan; so
//! can a key or two typed less than [`STALL`] before a scan (no hand types and then
//! fires a scanner that fast). What a typist cannot be mistaken for: anything typed
//! at a person's pace while the window keeps up, however even (40 ms a key is
//! typing), or fewer than four keys.

use std::time::{Duration, Instant};

/// A key handled this soon after the one before was waiting in the window's queue
/// with it: no person presses two keys 2 ms apart.
pub const QUEUED: Duration = Duration::from_millis(2);

/// The longest stall of the window that a gap before queued keys is put down to.
/// Longer gaps are a person's, whatever follows them. Seen under Xvfb: a debug
/// build's redraws held keys back 10 to 26 ms, a release build's not measurably;
/// a person's key then a scan were never less than 200 ms apart (nobody types and
/// fires a scanner faster).
pub const STALL: Duration = Duration::from_millis(100);

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

/// The longest burst held: keys beyond it without Enter are handed back as typing
/// (a key held down, a scanner stuck sending), so the decoder's memory stays small.
const MAX_BURST: usize = 4096;

/// The decoder's state: the keys of a burst in progress and when each was handled.
#[derive(Debug, Default)]
pub struct WedgeDecoder {
    config: WedgeConfig,
    burst: Vec<(char, Instant)>,
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

    /// Takes one key handled at `at`.
    pub fn key(&mut self, key: Key, at: Instant) -> Vec<WedgeEvent> {
        let mut out = Vec::new();
        match key {
            Key::Modifier => {}
            Key::Char(c) => {
                self.settle(at, &mut out);
                self.burst.push((c, at));
                if self.burst.len() >= MAX_BURST {
                    out.push(WedgeEvent::Typed(self.take_text()));
                }
            }
            Key::Enter => {
                self.settle(at, &mut out);
                out.extend(self.split(at));
            }
            Key::Other => {
                if !self.burst.is_empty() {
                    out.push(WedgeEvent::Typed(self.take_text()));
                }
            }
        }
        out
    }

    /// The longest gap inside one burst: a person's pause ends the burst, whatever
    /// follows it.
    fn pause(&self) -> Duration {
        STALL.max(self.config.max_gap)
    }

    /// A key came at `at`: a pause before it hands what came before back as typing.
    fn settle(&mut self, at: Instant, out: &mut Vec<WedgeEvent>) {
        let Some(&(_, last)) = self.burst.last() else {
            return;
        };
        if at.saturating_duration_since(last) > self.pause() {
            out.push(WedgeEvent::Typed(self.take_text()));
        }
    }

    /// Whether the gap before key `i` (at least 1) of the burst is at a scanner's
    /// pace, `next` being when the key after it came: short, or a stall of the
    /// window (the key was queued with the next one).
    fn fast(&self, i: usize, next: Instant) -> bool {
        let at = self.burst[i].1;
        let gap = at.saturating_duration_since(self.burst[i - 1].1);
        gap <= self.config.max_gap / 2
            || (gap <= self.pause() && next.saturating_duration_since(at) <= QUEUED)
    }

    /// Whether the one slow gap of a burst, before key `i`, can be a late key of a
    /// scan with `fast` gaps at a scanner's pace: always within `max_gap`; up to a
    /// pause only in a run as long as a scan (a person's two quick pairs of keys,
    /// "12" and "34", are not one).
    fn late_ok(&self, i: usize, fast: usize) -> bool {
        let gap = self.burst[i]
            .1
            .saturating_duration_since(self.burst[i - 1].1);
        gap <= self.config.max_gap || fast >= self.config.min_len
    }

    /// The burst's characters, taken out of the decoder.
    fn take_text(&mut self) -> String {
        std::mem::take(&mut self.burst)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    /// A burst that ended in Enter at `enter` (no pause left in it, [`Self::settle`]
    /// handed those back): the scan is its run of keys at a scanner's pace up to the
    /// Enter. Keys before that run at a person's pace are typing (a label typed, then
    /// an envelope scanned at once); keys before it at a scanner's pace too belong to
    /// the scan (one late key inside a scan). Fewer than `min_len` keys are typing.
    fn split(&mut self, enter: Instant) -> Vec<WedgeEvent> {
        let n = self.burst.len();
        // fast[i] is whether the gap before key i + 1 is a scanner's.
        let fast: Vec<bool> = (1..n)
            .map(|i| {
                let next = self.burst.get(i + 1).map_or(enter, |k| k.1);
                self.fast(i, next)
            })
            .collect();
        // The gaps only, never the keys (a burst can be a PIN): what tells, in the
        // field, why a scan was read as typing.
        log::debug!(
            "wedge: {n} keys then Enter, gaps {:?} us, Enter after {} us, fast {fast:?}",
            self.burst
                .windows(2)
                .map(|w| w[1].1.saturating_duration_since(w[0].1).as_micros())
                .collect::<Vec<_>>(),
            self.burst
                .last()
                .map_or(0, |k| enter.saturating_duration_since(k.1).as_micros())
        );
        let mut start = n.saturating_sub(1);
        while start > 0 && fast[start - 1] {
            start -= 1;
        }
        if start > 0 && fast[..start - 1].iter().all(|f| *f) && self.late_ok(start, n - 2) {
            start = 0;
        }
        let chars: Vec<char> = self.take_text().chars().collect();
        if n - start < self.config.min_len {
            let mut typed: String = chars.into_iter().collect();
            typed.push('\n');
            return vec![WedgeEvent::Typed(typed)];
        }
        let mut out = Vec::new();
        if start > 0 {
            out.push(WedgeEvent::Typed(chars[..start].iter().collect()));
        }
        out.push(WedgeEvent::Scan(chars[start..].iter().collect()));
        out
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
        // The next key, after a pause no stall explains, hands it back.
        assert_eq!(
            d.key(Key::Char('x'), t0 + Duration::from_millis(600)),
            [WedgeEvent::Typed("B00".into())]
        );
        assert_eq!(
            d.key(Key::Other, t0 + Duration::from_millis(700)),
            [WedgeEvent::Typed("x".into())]
        );
    }

    /// Keys as a stalled window hands them over: `first` alone at `t0`, then the
    /// rest together `stall_ms` later, 10 us apart.
    fn stalled(
        d: &mut WedgeDecoder,
        first: &str,
        rest: &str,
        t0: Instant,
        stall_ms: u64,
    ) -> Vec<WedgeEvent> {
        let mut out = feed(d, first, t0, 4);
        let mut t = t0 + Duration::from_millis(stall_ms);
        for c in rest.chars() {
            let key = if c == '\n' { Key::Enter } else { Key::Char(c) };
            out.extend(d.key(key, t));
            t += Duration::from_micros(10);
        }
        out
    }

    #[test]
    fn a_scans_first_key_read_before_a_redraw_stays_in_the_scan() {
        // Seen under Xvfb on a loaded machine: Shift-D handled at once, the window
        // busy drawing for 80 ms, then 000001 and Enter handed over together.
        let mut d = WedgeDecoder::default();
        let out = stalled(&mut d, "D", "000001\n", Instant::now(), 80);
        assert_eq!(out, [WedgeEvent::Scan("D000001".into())]);
        // And a stall in the middle, and one before Enter alone.
        let t0 = Instant::now() + Duration::from_secs(5);
        let mut out = stalled(&mut d, "D00", "0002", t0, 90);
        out.extend(d.key(Key::Enter, t0 + Duration::from_millis(180)));
        assert_eq!(out, [WedgeEvent::Scan("D000002".into())]);
    }

    #[test]
    fn a_key_typed_longer_than_a_stall_before_a_held_scan_is_typing() {
        // Seen under Xvfb: a count of 3 typed, the scanner fired 220 ms later, and
        // its keys held back by a redraw: "3D000005" was read as one scan.
        let mut d = WedgeDecoder::default();
        let out = stalled(&mut d, "3", "D000005\n", Instant::now(), 220);
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("3".into()),
                WedgeEvent::Scan("D000005".into())
            ]
        );
        let out = stalled(
            &mut d,
            "7",
            "D000003\n",
            Instant::now() + Duration::from_secs(9),
            600,
        );
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("7".into()),
                WedgeEvent::Scan("D000003".into())
            ]
        );
    }

    #[test]
    fn a_person_pausing_mid_word_is_not_a_stall() {
        // 100 ms between "J000" and "122", the keys after the pause at a typist's
        // 40 ms: nothing queued, so the pause is a person's.
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "J000", t0, 3);
        out.extend(feed(&mut d, "122\n", t0 + Duration::from_millis(100), 40));
        assert!(
            out.iter().all(|e| matches!(e, WedgeEvent::Typed(_))),
            "{out:?}"
        );
    }

    #[test]
    fn a_stuck_key_is_handed_back_in_bounded_pieces() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut typed = 0;
        for i in 0..10_000u64 {
            for e in d.key(Key::Char('a'), t0 + Duration::from_micros(i * 100)) {
                let WedgeEvent::Typed(t) = e else {
                    panic!("a scan without Enter")
                };
                assert!(t.len() <= MAX_BURST);
                typed += t.len();
            }
        }
        assert!(typed >= 10_000 - MAX_BURST, "{typed}");
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
        let typed: String = out
            .iter()
            .map(|e| match e {
                WedgeEvent::Typed(t) => t.as_str(),
                WedgeEvent::Scan(_) => "",
            })
            .collect();
        assert_eq!(typed, "J000122\n");
        assert!(typed.ends_with('\n'), "a person's Enter is handed back");
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
    fn one_key_late_by_a_busy_machine_stays_in_the_scan() {
        // Seen in CI on a fresh two-core machine: one key of D000001 handled 40 ms
        // after the one before, the next one at a scanner's pace again (nothing
        // queued), and the scan was read as typed. Anywhere in the scan, up to a
        // stall.
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "D00000", t0, 3);
        out.extend(feed(&mut d, "1\n", t0 + Duration::from_millis(55), 3));
        assert_eq!(out, [WedgeEvent::Scan("D000001".into())]);
        let t1 = t0 + Duration::from_secs(5);
        let mut out = feed(&mut d, "D", t1, 3);
        out.extend(feed(&mut d, "000003\n", t1 + Duration::from_millis(40), 4));
        assert_eq!(out, [WedgeEvent::Scan("D000003".into())]);
        let t2 = t0 + Duration::from_secs(10);
        let mut out = feed(&mut d, "J000", t2, 3);
        out.extend(feed(&mut d, "122\n", t2 + Duration::from_millis(100), 3));
        assert_eq!(out, [WedgeEvent::Scan("J000122".into())]);
    }

    #[test]
    fn a_pause_longer_than_a_stall_inside_a_fast_burst_splits_it() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "J000", t0, 3);
        out.extend(feed(&mut d, "122\n", t0 + Duration::from_millis(130), 3));
        assert_eq!(
            out,
            [
                WedgeEvent::Typed("J000".into()),
                WedgeEvent::Typed("122\n".into())
            ]
        );
    }

    #[test]
    fn two_late_keys_are_not_a_scan() {
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "J00", t0, 3);
        out.extend(feed(&mut d, "01", t0 + Duration::from_millis(60), 3));
        out.extend(feed(&mut d, "22\n", t0 + Duration::from_millis(120), 3));
        assert_eq!(out, [WedgeEvent::Typed("J000122\n".into())]);
    }

    #[test]
    fn two_quick_pairs_of_keys_are_a_person() {
        // A fast typist rolls "12" and "34" (8 ms each) with 60 ms between: not a
        // scan with one late key, too few keys at a scanner's pace for that.
        let t0 = Instant::now();
        let mut d = WedgeDecoder::default();
        let mut out = feed(&mut d, "12", t0, 8);
        out.extend(feed(&mut d, "34\n", t0 + Duration::from_millis(68), 8));
        assert_eq!(out, [WedgeEvent::Typed("1234\n".into())]);
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
