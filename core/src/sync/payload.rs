//! A batch's JSON body, as the station forms it and the county hub relays it
//! (docs/sync-protocol.md). The fields a hub adds (tray, confidential mark, chain
//! head) are left out when absent, so a notification backend gets the body it
//! always got.

use serde::Serialize;

/// One event of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct PayloadEvent {
    /// `<station_id>-<ledger sequence number>`.
    pub event_id: String,
    /// received, undeliverable, needs_attention or correction.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ballot.
    pub ballot_id: Option<String>,
    /// The voter (never a confidential voter's).
    pub voter_id: Option<String>,
    /// When it happened (RFC 3339, UTC, microseconds).
    pub occurred_at: String,
    /// A flag's or correction's reason.
    pub reason: Option<String>,
    /// The event a correction reverses.
    pub corrects: Option<String>,
    /// The tray (intake batch) the envelope is in; to a hub only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<i64>,
    /// A confidential voter's event, by ballot id only; to a hub only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
}

/// The station's audit-chain head when it formed a batch.
#[derive(Debug, Clone, Serialize)]
pub struct ChainHead {
    /// The newest audit entry's sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// A batch.
#[derive(Debug, Clone, Serialize)]
pub struct Payload<'a> {
    /// Its id, also the Idempotency-Key.
    pub batch_id: &'a str,
    /// The station (or `hub` for the county hub's relay).
    pub station_id: &'a str,
    /// The county.
    pub county: &'a str,
    /// Its one election.
    pub election_id: &'a str,
    /// When it was formed.
    pub created_at: &'a str,
    /// Its events.
    pub events: Vec<PayloadEvent>,
    /// The audit-chain head; to a hub only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_head: Option<ChainHead>,
}

impl Payload<'_> {
    /// The exact bytes to store and send.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(self).map_err(|e| format!("cannot encode a sync batch: {e}"))
    }
}
