//! One file per screen, each owning its round trip: its state, its messages, an
//! `update` that returns the task to run (ledger calls go to the ledger thread
//! through [`crate::station::Station`]) and, when the application must act, an event
//! (signed in, batch closed, settings saved, a sound), and its `view`. The
//! application only routes messages and moves between screens.

pub mod audit;
pub mod batches;
pub mod close_batch;
pub mod dashboard;
pub mod dialog;
pub mod elections;
pub mod export;
pub mod first_run;
pub mod flag;
pub mod import;
pub mod open_batch;
pub mod review;
pub mod scan;
pub mod settings;
pub mod sign_in;
pub mod sync;
pub mod users;

/// A code read by any scanner, handed to whichever screen is up to decide what it
/// means there (record it, flag it, look it up, show it, or refuse it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Its bytes, as the scanner sent them (terminator removed).
    pub raw: Vec<u8>,
    /// The scanner (`wedge:keyboard`, `serial:...`, `usb:...`).
    pub source: String,
    /// The AIM symbology identifier, when the scanner sent one.
    pub symbology: Option<String>,
    /// Typed by a keyboard-wedge scanner: its keys also reached the focused field,
    /// and the screen takes them back out.
    pub typed: bool,
}

impl Scanned {
    /// The code as text (bytes that are not UTF-8 shown as replacement characters).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// Removes `code` from the end of `field`: a keyboard-wedge scanner typed it there,
/// and those keys are a scan, not the field's text.
pub fn take_back(field: &mut String, code: &str) {
    if let Some(kept) = field.strip_suffix(code) {
        let kept = kept.len();
        field.truncate(kept);
    }
}

impl Scanned {
    /// Calls `f` with the scan as the ledger takes it, stamped `at` (when the
    /// station received it).
    pub fn with_input<T>(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        f: impl FnOnce(&ballot_intake_core::ledger::ScanInput<'_>) -> T,
    ) -> T {
        f(&ballot_intake_core::ledger::ScanInput {
            raw: &self.raw,
            source: &self.source,
            symbology: self.symbology.as_deref(),
            at,
            original_len: None,
        })
    }
}

/// [`take_back`] for a field that keeps only digits (a count, a PIN, an event
/// number): the scan's digits are what reached it.
pub fn take_back_digits(field: &mut String, code: &str) {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        take_back(field, &digits);
    }
}
