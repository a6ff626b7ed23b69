//! The receipts feed (`GET /v1/receipts?after=CURSOR`): the county's first receipts
//! after a cursor, for the stations to keep a local copy of, so that a scan of a
//! ballot received at another station is answered `duplicate` from the station's own
//! ledger without waiting on the network.
//!
//! A receipt its station corrected comes again later in the feed marked `released`:
//! the ballot is free, and the station drops the receipt from its copy.
//!
//! It carries ids, station, tray and time, never a name or a voter id; a confidential
//! voter's receipt is in it by ballot id like any other (a station must catch the
//! duplicate either way).

use crate::{HubError, format_time};

pub use ballot_intake_core::sync::hub::{
    FeedPage as Page, FeedReceipt as Receipt, MAX_FEED_PAGE as MAX_PAGE,
};

/// A cursor as the hub writes it (`TXID.SEQ`), read back.
pub fn parse_cursor(cursor: &str) -> Result<(i64, i64), HubError> {
    let bad = || HubError::Refused(format!("{cursor:?} is not a feed cursor the hub gave"));
    match cursor.split_once('.') {
        Some((txid, seq)) => Ok((
            txid.parse().map_err(|_| bad())?,
            seq.parse().map_err(|_| bad())?,
        )),
        None if cursor.is_empty() => Ok((0, 0)),
        None => Ok((cursor.parse().map_err(|_| bad())?, 0)),
    }
}

/// The receipts after `after`, at most `limit`: in (txid, feed_seq) order, and only
/// those of transactions older than the oldest one still running, so that nothing
/// committed late is ever behind a cursor already given out.
pub async fn page(
    client: &tokio_postgres::Client,
    after: &str,
    limit: i64,
) -> Result<Page, HubError> {
    let (txid, seq) = parse_cursor(after)?;
    let rows = client
        .query(
            // The xid8 goes out as text under another name: an ORDER BY on a name
            // an output column also has sorts by the output (as text: "997" after
            // "1000").
            "SELECT f.txid::text AS txid_text, f.feed_seq, f.election_id, f.ballot_id,
                    f.event_id, e.station_id, e.tray, e.occurred_at, f.released
             FROM (SELECT r.txid, r.feed_seq, r.election_id, r.ballot_id, r.event_id,
                          false AS released
                   FROM receipts r
                   WHERE (r.txid, r.feed_seq) > ($1::text::xid8, $2)
                     AND r.txid < pg_snapshot_xmin(pg_current_snapshot())
                   UNION ALL
                   SELECT l.txid, l.feed_seq, l.election_id, l.ballot_id, l.event_id, true
                   FROM receipt_releases l
                   WHERE (l.txid, l.feed_seq) > ($1::text::xid8, $2)
                     AND l.txid < pg_snapshot_xmin(pg_current_snapshot())) f
             JOIN events e USING (event_id)
             ORDER BY f.txid, f.feed_seq LIMIT $3",
            &[&txid.to_string(), &seq, &limit.clamp(1, MAX_PAGE)],
        )
        .await?;
    let receipts: Vec<Receipt> = rows
        .iter()
        .map(|r| Receipt {
            cursor: format!("{}.{}", r.get::<_, String>(0), r.get::<_, i64>(1)),
            election_id: r.get(2),
            ballot_id: r.get(3),
            event_id: r.get(4),
            station_id: r.get(5),
            batch: r.get(6),
            occurred_at: format_time(r.get(7)),
            released: r.get(8),
        })
        .collect();
    let next = receipts
        .last()
        .map_or_else(|| format!("{txid}.{seq}"), |r| r.cursor.clone());
    Ok(Page { receipts, next })
}
