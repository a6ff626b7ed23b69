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
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    /// The receipts, in feed order.
    pub receipts: Vec<FeedReceipt>,
    /// The cursor to ask after next.
    pub next: String,
}
