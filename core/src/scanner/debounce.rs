//! Double-read suppression. Scanners read one barcode twice (the beam passes it
//! again, or the trigger is held): the same code from the same source within a short
//! window is one envelope, logged as a double read and not scanned twice. A different
//! code, another source, or the same code after the window is a real scan (a clerk
//! rescanning on purpose gets the duplicate outcome from the ledger).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The default window, long enough for a trigger held down, short enough that a
/// deliberate rescan is never swallowed.
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(750);

/// Remembers each source's last code.
#[derive(Debug)]
pub struct Debouncer {
    window: Duration,
    last: HashMap<String, (Vec<u8>, Instant)>,
}

impl Debouncer {
    /// A debouncer with the given window (zero turns suppression off).
    pub fn new(window: Duration) -> Self {
        Debouncer {
            window,
            last: HashMap::new(),
        }
    }

    /// Whether `code` from `source` at `at` repeats that source's previous code within
    /// the window. A double read does not extend the window: a code held under the
    /// beam for seconds is scanned again once per window, never lost.
    pub fn is_double_read(&mut self, source: &str, code: &[u8], at: Instant) -> bool {
        if let Some((prev, when)) = self.last.get(source)
            && prev == code
            && at.saturating_duration_since(*when) < self.window
        {
            return true;
        }
        self.last.insert(source.to_string(), (code.to_vec(), at));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_same_source_within_window_is_a_double_read() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(DEFAULT_WINDOW);
        assert!(!d.is_double_read("serial:/dev/ttyACM0", b"B1", t0));
        assert!(d.is_double_read(
            "serial:/dev/ttyACM0",
            b"B1",
            t0 + Duration::from_millis(200)
        ));
        assert!(d.is_double_read(
            "serial:/dev/ttyACM0",
            b"B1",
            t0 + Duration::from_millis(749)
        ));
        // The window counts from the first read, so a held trigger repeats slowly.
        assert!(!d.is_double_read(
            "serial:/dev/ttyACM0",
            b"B1",
            t0 + Duration::from_millis(750)
        ));
    }

    #[test]
    fn other_codes_and_other_sources_pass() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(DEFAULT_WINDOW);
        assert!(!d.is_double_read("a", b"B1", t0));
        assert!(
            !d.is_double_read("b", b"B1", t0),
            "another scanner, another envelope"
        );
        assert!(!d.is_double_read("a", b"B2", t0));
        assert!(
            !d.is_double_read("a", b"B1", t0),
            "B1 after B2 is a new scan"
        );
    }

    #[test]
    fn a_zero_window_suppresses_nothing() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(Duration::ZERO);
        assert!(!d.is_double_read("a", b"B1", t0));
        assert!(!d.is_double_read("a", b"B1", t0));
    }
}
