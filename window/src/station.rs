//! What every screen may use on its round trip: the ledger thread to ask, the
//! station's facts to show, and the folder its files live in. One value, handed to
//! each screen's `update`, so that a screen needs nothing from the application but
//! this and its own messages.

use ballot_intake_core::environment::Environment;

use crate::worker::LedgerWorker;

/// The station as the screens see it.
#[derive(Debug, Clone)]
pub struct Station {
    /// The ledger thread: every read and write goes through it.
    pub worker: LedgerWorker,
    /// The facts every screen's header and times need.
    pub header: Header,
    /// Where `config.json` and the nightly files go (`None` in tests that need no
    /// files: the settings then cannot be saved, and say so).
    pub env: Option<Environment>,
}

/// The station facts shown in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Station id.
    pub station: String,
    /// Election id and name.
    pub election: String,
    /// A demo station: marked on every screen.
    pub demo: bool,
    /// The station syncs to a county hub: the strip for cross-station duplicates
    /// keeps its place on every screen.
    pub hub: bool,
    /// The county's time zone: times are shown in local time.
    pub timezone: chrono_tz::Tz,
}
