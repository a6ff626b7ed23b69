//! The receipts feed (`GET /v1/receipts?after=CURSOR`): the county's first receipts
//! after a cursor, for the stations to keep a local copy of, so that a scan of a
//! ballot received at another station is answered `duplicate` from the station's own
//! ledger without waiting on the network.
//!
//! It carries ids, station, tray and time, never a name or a voter id; a confidential
//! voter's receipt is in it by ballot id like any other (a station must catch the
//! duplicate either way).

use crate::{HubError, format_time};

pub use ballot_intake_core::sync::hub::{
    FeedPage as Page, FeedReceipt as Receipt, MAX_FEED_PAGE as MAX_PAGE,
};

/// The receipts after `after`, at most `limit`.
pub async fn page(
    client: &tokio_postgres::Client,
    after: i64,
    limit: i64,
) -> Result<Page, HubError> {
    let rows = client
        .query(
            "SELECT feed_seq, election_id, ballot_id, event_id, station_id, tray, occurred_at
             FROM receipts WHERE feed_seq > $1 ORDER BY feed_seq LIMIT $2",
            &[&after, &limit.clamp(1, MAX_PAGE)],
        )
        .await?;
    let receipts: Vec<Receipt> = rows
        .iter()
        .map(|r| Receipt {
            cursor: r.get(0),
            election_id: r.get(1),
            ballot_id: r.get(2),
            event_id: r.get(3),
            station_id: r.get(4),
            batch: r.get(5),
            occurred_at: format_time(r.get(6)),
        })
        .collect();
    let next = receipts.last().map_or(after, |r| r.cursor);
    Ok(Page { receipts, next })
}
