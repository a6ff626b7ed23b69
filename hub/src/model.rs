//! What stations send and what the hub answers, as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use ballot_intake_core::sync::hub::{FirstReceipt, HubConflict};

/// Most events the hub takes in one batch (the stations form at most 500).
pub const MAX_EVENTS: usize = 500;

/// A station's batch (`POST /v1/batches`).
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// The batch's id, also its Idempotency-Key.
    pub batch_id: String,
    /// The station that formed it.
    pub station_id: String,
    /// Its county.
    pub county: String,
    /// Its one election.
    pub election_id: String,
    /// When the station formed it.
    pub created_at: DateTime<Utc>,
    /// The events.
    pub events: Vec<Event>,
    /// The station's audit-chain head when it formed the batch.
    #[serde(default)]
    pub chain_head: Option<ChainHead>,
}

/// One event of a batch.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `<station_id>-<ledger sequence number>`.
    pub event_id: String,
    /// received, undeliverable, needs_attention or correction.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ballot.
    pub ballot_id: Option<String>,
    /// The voter (absent for a confidential voter).
    #[serde(default)]
    pub voter_id: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// A flag's or correction's reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// The event a correction reverses.
    #[serde(default)]
    pub corrects: Option<String>,
    /// The station's tray (intake batch) the envelope is in.
    #[serde(default)]
    pub batch: Option<i64>,
    /// A confidential voter's event: kept to find duplicates, never forwarded.
    #[serde(default)]
    pub confidential: bool,
}

/// An audit-chain head.
#[derive(Debug, Deserialize, Serialize, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The newest audit entry's sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// The acknowledgement of a stored batch.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ack {
    /// The batch acknowledged.
    pub batch_id: String,
    /// Events stored now.
    pub accepted: i64,
    /// Events the hub already had.
    pub duplicates: i64,
    /// The batch's `received` events for ballots the county had already received.
    pub conflicts: Vec<HubConflict>,
}

/// What a batch must be before anything of it is stored: the station's own, one
/// election, at most [`MAX_EVENTS`], known event types, every event id the station's.
pub fn check(batch: &Batch, station_id: &str) -> Result<(), String> {
    if batch.station_id != station_id {
        return Err(format!(
            "batch {} says it is from station {:?}, but the token is station {station_id:?}'s",
            batch.batch_id, batch.station_id
        ));
    }
    if batch.batch_id.is_empty() || batch.batch_id.len() > 100 {
        return Err("a batch id must be 1 to 100 characters".into());
    }
    if batch.events.is_empty() || batch.events.len() > MAX_EVENTS {
        return Err(format!(
            "batch {} has {} events; a batch holds 1 to {MAX_EVENTS}",
            batch.batch_id,
            batch.events.len()
        ));
    }
    let prefix = format!("{station_id}-");
    let mut seen = std::collections::HashSet::new();
    for e in &batch.events {
        if !e.event_id.starts_with(&prefix) {
            return Err(format!(
                "event {:?} is not station {station_id}'s (its ids start {prefix:?})",
                e.event_id
            ));
        }
        if !seen.insert(e.event_id.as_str()) {
            return Err(format!("event {:?} is twice in the batch", e.event_id));
        }
        if !matches!(
            e.kind.as_str(),
            "received" | "undeliverable" | "needs_attention" | "correction"
        ) {
            return Err(format!(
                "event {:?} has an unknown type {:?}",
                e.event_id, e.kind
            ));
        }
        if e.kind != "correction" && e.ballot_id.as_deref().is_none_or(str::is_empty) {
            return Err(format!("event {:?} names no ballot", e.event_id));
        }
        if e.kind == "correction" && e.corrects.is_none() {
            return Err(format!(
                "correction {:?} names no event it corrects",
                e.event_id
            ));
        }
    }
    Ok(())
}
