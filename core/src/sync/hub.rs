//! What a county hub adds to the sync protocol (docs/hub.md): the cross-station
//! duplicates its acknowledgement names, and the receipts feed. The hub
//! (`ballot-intake-hub`) answers with these same types.

use serde::{Deserialize, Serialize};

/// Most receipts the hub gives in one feed page.
pub const MAX_FEED_PAGE: i64 = 5000;

/// A `received` event of the batch for a ballot the county had already received at
/// another station (or earlier at this one): the envelope is a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubConflict {
    /// The duplicate's event (`<station>-<seq>`).
    pub event_id: String,
    /// Its ballot.
    pub ballot_id: String,
    /// The county's first receipt of that ballot.
    pub first: FirstReceipt,
}

/// Where and when a ballot was first received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstReceipt {
    /// The station.
    pub station_id: String,
    /// Its tray (intake batch number), when the station said.
    pub batch: Option<i64>,
    /// When (RFC 3339, UTC).
    pub occurred_at: String,
    /// The receipt's event.
    pub event_id: String,
}

/// Where a station has read the feed up to: opaque to the station, which keeps it
/// and sends it back (`after=`). The hub writes `TXID.SEQ` (docs/hub.md).
pub const FEED_START: &str = "0.0";

/// One receipt of the feed: ids, station, tray and time, never a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedReceipt {
    /// Its place in the feed.
    pub cursor: String,
    /// The election.
    pub election_id: String,
    /// The ballot.
    pub ballot_id: String,
    /// The receipt's event.
    pub event_id: String,
    /// The station that received it.
    pub station_id: String,
    /// Its tray there.
    pub batch: Option<i64>,
    /// When (RFC 3339, UTC).
    pub occurred_at: String,
    /// The receipt no longer stands: its station corrected it, and the ballot is
    /// free for another receipt. (Absent, false, for a receipt.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub released: bool,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    /// The receipts, in feed order.
    pub receipts: Vec<FeedReceipt>,
    /// The cursor to ask after next.
    pub next: String,
}

/// Most kinds of count a station report may carry (outcomes, flags, "reversed").
pub const MAX_REPORT_COUNTS: usize = 32;

/// What a station tells its county hub about itself every
/// [`REPORT_EVERY`](crate::sync::REPORT_EVERY) (`POST /v1/status`), for the county's
/// dashboard. The hub sees only the batches a station sends, which say nothing of
/// rejected scans, of conflicts a supervisor resolved, or of events not yet sent.
/// Counts only: no ballot, voter or name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationReport {
    /// The station.
    pub station_id: String,
    /// Its active election.
    pub election_id: String,
    /// When the station made the report, by its own clock (RFC 3339, UTC).
    pub at: String,
    /// The station's local day the counts are for (`YYYY-MM-DD`).
    pub day: String,
    /// Today's scans by outcome, then flags and reversed entries, as the station's
    /// own dashboard counts them.
    pub today: std::collections::BTreeMap<String, i64>,
    /// Cross-station duplicates waiting for a supervisor there.
    pub conflicts_open: i64,
    /// Events not yet acknowledged by the hub (pending or in flight).
    pub waiting: i64,
    /// Events in batches the hub refused, waiting for a supervisor.
    pub held: i64,
    /// The station's public signing key (SPKI PEM), which the hub records: what an
    /// auditor checks the station's signed files with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}
