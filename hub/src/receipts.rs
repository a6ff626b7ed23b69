//! Which `received` event is the county's receipt of a ballot, decided inside a
//! batch's transaction: the first to commit a receipt of the ballot's standing round
//! wins (the key election, ballot, round), any later one is a conflict named back to
//! its station; and a correction of a standing receipt, from the station that made
//! it, releases the ballot for the next round.
//!
//! Built from the batch's own values (arrays), reading the growing tables only by
//! key, so the cost does not grow with the county's day.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Transaction;

use crate::HubError;
use crate::model::Event;

/// Gives each ballot whose receipt is among `new` (the batch's new events, in batch
/// order) its receipt, releases the receipts the batch's corrections reverse, and
/// records every other new `received` event as a conflict with the receipt that
/// stands; returns the conflicts' event ids.
///
/// A batch that scans a ballot, reverses the scan and scans the ballot again (a
/// supervisor's fix at the table) gets the second scan as the receipt: a receipt
/// that lost is tried once more when its ballot was released earlier in the batch.
pub async fn decide(
    tx: &Transaction<'_>,
    station: &str,
    election: &str,
    new: &[&Event],
) -> Result<HashSet<String>, HubError> {
    let received: Vec<&Event> = new
        .iter()
        .copied()
        .filter(|e| e.kind == "received")
        .collect();
    let inserted = claim(tx, election, &received).await?;
    let mut lost: Vec<&Event> = received
        .into_iter()
        .filter(|e| !inserted.contains(&e.event_id))
        .collect();
    let released = release(tx, station, election, new).await?;
    if !released.is_empty() && !lost.is_empty() {
        let position: HashMap<&str, usize> = new
            .iter()
            .enumerate()
            .map(|(i, e)| (e.event_id.as_str(), i))
            .collect();
        let again: Vec<&Event> = lost
            .iter()
            .copied()
            .filter(|e| {
                let ballot = e.ballot_id.as_deref().unwrap_or_default();
                released.get(ballot).is_some_and(|correction| {
                    position.get(e.event_id.as_str()) > position.get(correction.as_str())
                })
            })
            .collect();
        let won = claim(tx, election, &again).await?;
        lost.retain(|e| !won.contains(&e.event_id));
    }
    record_conflicts(tx, station, election, &lost).await?;
    Ok(lost.iter().map(|e| e.event_id.clone()).collect())
}

/// Inserts a receipt for each of `received` at its ballot's standing round (one past
/// the last released); returns the event ids that became receipts.
async fn claim(
    tx: &Transaction<'_>,
    election: &str,
    received: &[&Event],
) -> Result<HashSet<String>, HubError> {
    if received.is_empty() {
        return Ok(HashSet::new());
    }
    // In ballot order (batch order within a ballot), so that two stations'
    // transactions meet their shared ballots in the same order and never wait on each
    // other in a circle.
    let mut received = received.to_vec();
    received.sort_by(|a, b| a.ballot_id.cmp(&b.ballot_id));
    let ids: Vec<&str> = received.iter().map(|e| e.event_id.as_str()).collect();
    let ballots: Vec<&str> = received
        .iter()
        .map(|e| e.ballot_id.as_deref().unwrap_or_default())
        .collect();
    Ok(tx
        .query(
            &tx.prepare_cached(
                "INSERT INTO receipts (election_id, ballot_id, event_id, round)
             SELECT $1, u.b, u.e,
                    coalesce((SELECT max(l.round) + 1 FROM receipt_releases l
                              WHERE l.election_id = $1 AND l.ballot_id = u.b), 0)
             FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(b, e, n)
             ORDER BY u.n
             ON CONFLICT (election_id, ballot_id, round) DO NOTHING
             RETURNING event_id",
            )
            .await?,
            &[&election, &ballots, &ids],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Releases the standing receipts that the batch's corrections reverse (only this
/// station's own receipts); returns each released ballot with the correction's id.
async fn release(
    tx: &Transaction<'_>,
    station: &str,
    election: &str,
    new: &[&Event],
) -> Result<HashMap<String, String>, HubError> {
    let (targets, corrections): (Vec<&str>, Vec<&str>) = new
        .iter()
        .filter(|e| e.kind == "correction")
        .filter_map(|e| Some((e.corrects.as_deref()?, e.event_id.as_str())))
        .unzip();
    if targets.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .query(
            &tx.prepare_cached(
                "INSERT INTO receipt_releases (election_id, ballot_id, round, event_id,
                 correction_event_id)
             SELECT r.election_id, r.ballot_id, r.round, r.event_id, u.c
             FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(t, c, n)
             JOIN events x ON x.event_id = u.t AND x.type = 'received' AND x.station_id = $4
             JOIN receipts r ON r.election_id = $1 AND r.ballot_id = x.ballot_id
                            AND r.event_id = u.t
             ORDER BY r.ballot_id
             ON CONFLICT DO NOTHING
             RETURNING ballot_id, correction_event_id",
            )
            .await?,
            &[&election, &targets, &corrections, &station],
        )
        .await?;
    for r in &rows {
        log::info!(
            "station {station} corrected its receipt of ballot {}: released",
            r.get::<_, String>(0)
        );
    }
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Records each of `lost` as a conflict with its ballot's standing receipt.
async fn record_conflicts(
    tx: &Transaction<'_>,
    station: &str,
    election: &str,
    lost: &[&Event],
) -> Result<(), HubError> {
    if lost.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = lost.iter().map(|e| e.event_id.as_str()).collect();
    let ballots: Vec<&str> = lost
        .iter()
        .map(|e| e.ballot_id.as_deref().unwrap_or_default())
        .collect();
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO conflicts (event_id, first_event_id, station_id, election_id, ballot_id,
             first_station, first_tray, first_at)
         SELECT u.e, f.event_id, $3, $1, u.b, f.station_id, f.tray, f.occurred_at
         FROM unnest($2::text[], $4::text[]) AS u(e, b)
         CROSS JOIN LATERAL (SELECT f.* FROM receipts r JOIN events f USING (event_id)
                             WHERE r.election_id = $1 AND r.ballot_id = u.b
                             ORDER BY r.round DESC LIMIT 1) f",
        )
        .await?,
        &[&election, &ids, &station, &ballots],
    )
    .await?;
    Ok(())
}
