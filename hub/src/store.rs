//! Storing one station batch: one PostgreSQL transaction under the hub's store lock.
//!
//! The lock makes the hub's commit order the order in which receipts are decided (and
//! numbered for the feed): of two stations' batches holding the same ballot, the one
//! that commits first holds the county's receipt and the other's event is a conflict.
//! Holding it for the whole transaction costs little (a 500-event batch is a handful
//! of set-based statements) and it also settles two requests carrying one
//! Idempotency-Key: the second finds the first's stored answer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tokio_postgres::Transaction;

use crate::model::{Ack, Batch, FirstReceipt, HubConflict, check};
use crate::{HubError, format_time};

/// The store lock's advisory-lock key.
const STORE_LOCK: i64 = 0x6261_6c6c_6f74_0002;

/// What storing a batch gave.
#[derive(Debug)]
pub struct Stored {
    /// The acknowledgement's exact bytes (stored, and sent again on a retry).
    pub ack: Vec<u8>,
    /// New events that entered the relay's outbox.
    pub to_relay: u64,
    /// Whether this was a retry of a batch already stored.
    pub replay: bool,
}

/// Stores `batch` from `station_id` (already authenticated) and returns the
/// acknowledgement, or the stored one when the batch was stored before.
pub async fn store(
    client: &mut tokio_postgres::Client,
    station_id: &str,
    batch: &Batch,
) -> Result<Stored, HubError> {
    check(batch, station_id).map_err(HubError::Refused)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STORE_LOCK])
        .await?;
    if let Some(row) = tx
        .query_opt(
            "SELECT ack FROM batches WHERE station_id = $1 AND batch_id = $2",
            &[&station_id, &batch.batch_id],
        )
        .await?
    {
        tx.execute(
            "UPDATE stations SET last_contact = now() WHERE station_id = $1",
            &[&station_id],
        )
        .await?;
        tx.commit().await?;
        return Ok(Stored {
            ack: row.get(0),
            to_relay: 0,
            replay: true,
        });
    }
    let new_ids = insert_events(&tx, station_id, batch).await?;
    let received: Vec<&str> = batch
        .events
        .iter()
        .filter(|e| e.kind == "received" && new_ids.contains_key(e.event_id.as_str()))
        .map(|e| e.event_id.as_str())
        .collect();
    decide_receipts(&tx, &received).await?;
    let new: Vec<&str> = new_ids.keys().copied().collect();
    let to_relay = fill_outbox(&tx, &new).await?;
    if let Some(head) = &batch.chain_head {
        record_chain_head(&tx, station_id, batch, head).await?;
    }
    let all: Vec<&str> = batch.events.iter().map(|e| e.event_id.as_str()).collect();
    let mut conflicts = conflicts_of(&tx, &all).await?;
    let position: HashMap<&str, usize> = all.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    conflicts.sort_by_key(|c| position.get(c.event_id.as_str()).copied());
    let accepted = i64::try_from(new_ids.len()).unwrap_or(i64::MAX);
    let ack = Ack {
        batch_id: batch.batch_id.clone(),
        accepted,
        duplicates: i64::try_from(batch.events.len()).unwrap_or(i64::MAX) - accepted,
        conflicts,
    };
    let bytes = serde_json::to_vec(&ack)
        .map_err(|e| HubError::Refused(format!("cannot encode the acknowledgement: {e}")))?;
    let events = i32::try_from(batch.events.len()).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO batches (station_id, batch_id, election_id, county, created_at, events, ack)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &station_id,
            &batch.batch_id,
            &batch.election_id,
            &batch.county,
            &batch.created_at,
            &events,
            &bytes,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE stations SET last_contact = now() WHERE station_id = $1",
        &[&station_id],
    )
    .await?;
    tx.commit().await?;
    Ok(Stored {
        ack: bytes,
        to_relay,
        replay: false,
    })
}

/// Inserts the batch's events in batch order; returns the new ones' ids with their
/// hub sequence numbers (an id already stored is a duplicate and comes back absent).
async fn insert_events<'b>(
    tx: &Transaction<'_>,
    station_id: &str,
    batch: &'b Batch,
) -> Result<HashMap<&'b str, i64>, HubError> {
    let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id.as_str()).collect();
    let kinds: Vec<&str> = batch.events.iter().map(|e| e.kind.as_str()).collect();
    let ballots: Vec<Option<&str>> = batch
        .events
        .iter()
        .map(|e| e.ballot_id.as_deref())
        .collect();
    // A confidential voter's id is not kept even when a station sends it.
    let voters: Vec<Option<&str>> = batch
        .events
        .iter()
        .map(|e| e.voter_id.as_deref().filter(|_| !e.confidential))
        .collect();
    let trays: Vec<Option<i64>> = batch.events.iter().map(|e| e.batch).collect();
    let times: Vec<DateTime<Utc>> = batch.events.iter().map(|e| e.occurred_at).collect();
    let reasons: Vec<Option<&str>> = batch.events.iter().map(|e| e.reason.as_deref()).collect();
    let corrects: Vec<Option<&str>> = batch.events.iter().map(|e| e.corrects.as_deref()).collect();
    let confidential: Vec<bool> = batch.events.iter().map(|e| e.confidential).collect();
    let rows = tx
        .query(
            "INSERT INTO events (event_id, station_id, batch_id, election_id, county, type,
                 ballot_id, voter_id, tray, occurred_at, reason, corrects, confidential)
             SELECT u.e, $2, $3, $4, $5, u.t, u.b, u.v, u.tr, u.o, u.r, u.c, u.cf
             FROM unnest($1::text[], $6::text[], $7::text[], $8::text[], $9::int8[],
                         $10::timestamptz[], $11::text[], $12::text[], $13::bool[])
                  WITH ORDINALITY AS u(e, t, b, v, tr, o, r, c, cf, n)
             ORDER BY u.n
             ON CONFLICT (event_id) DO NOTHING
             RETURNING event_id, hub_seq",
            &[
                &ids,
                &station_id,
                &batch.batch_id,
                &batch.election_id,
                &batch.county,
                &kinds,
                &ballots,
                &voters,
                &trays,
                &times,
                &reasons,
                &corrects,
                &confidential,
            ],
        )
        .await?;
    let by_id: HashMap<&str, &'b str> = ids.iter().map(|id| (*id, *id)).collect();
    let mut new = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.get(0);
        if let Some(original) = by_id.get(id.as_str()) {
            new.insert(*original, row.get::<_, i64>(1));
        }
    }
    Ok(new)
}

/// Gives each ballot whose first receipt this is its receipt, in batch order, and
/// records every other `received` event among `received` as a conflict with the
/// receipt that came first.
async fn decide_receipts(tx: &Transaction<'_>, received: &[&str]) -> Result<(), HubError> {
    if received.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO receipts (election_id, ballot_id, event_id, station_id, tray, occurred_at,
             confidential, feed_seq)
         SELECT e.election_id, e.ballot_id, e.event_id, e.station_id, e.tray, e.occurred_at,
                e.confidential, nextval('receipts_feed_seq')
         FROM (SELECT * FROM events WHERE event_id = ANY($1) ORDER BY hub_seq) e
         ON CONFLICT (election_id, ballot_id) DO NOTHING",
        &[&received],
    )
    .await?;
    tx.execute(
        "INSERT INTO conflicts (event_id, first_event_id, station_id, election_id, ballot_id)
         SELECT e.event_id, r.event_id, e.station_id, e.election_id, e.ballot_id
         FROM events e JOIN receipts r ON r.election_id = e.election_id AND r.ballot_id = e.ballot_id
         WHERE e.event_id = ANY($1) AND r.event_id <> e.event_id",
        &[&received],
    )
    .await?;
    Ok(())
}

/// Puts the new events the backend may see into the relay's outbox: never a
/// confidential voter's, never a conflict, and a correction only of an event that
/// was itself relayable (the backend cannot reverse what it never saw). Corrections
/// go in after the rest, so one in the same batch as its event finds it there.
async fn fill_outbox(tx: &Transaction<'_>, new: &[&str]) -> Result<u64, HubError> {
    if new.is_empty() {
        return Ok(0);
    }
    let plain = tx
        .execute(
            "INSERT INTO outbox (hub_seq, election_id)
             SELECT e.hub_seq, e.election_id FROM events e
             WHERE e.event_id = ANY($1) AND e.type <> 'correction' AND NOT e.confidential
               AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.event_id = e.event_id)
             ORDER BY e.hub_seq",
            &[&new],
        )
        .await?;
    let corrections = tx
        .execute(
            "INSERT INTO outbox (hub_seq, election_id)
             SELECT e.hub_seq, e.election_id FROM events e
             WHERE e.event_id = ANY($1) AND e.type = 'correction' AND NOT e.confidential
               AND EXISTS (SELECT 1 FROM events x JOIN outbox o ON o.hub_seq = x.hub_seq
                           WHERE x.event_id = e.corrects)
             ORDER BY e.hub_seq",
            &[&new],
        )
        .await?;
    Ok(plain + corrections)
}

/// Keeps the batch's chain head, and raises an alarm when it went backwards (a
/// batch formed after another carries an older head) or forked (one sequence number,
/// two hashes): what a station whose ledger lost its newest rows looks like from here.
async fn record_chain_head(
    tx: &Transaction<'_>,
    station_id: &str,
    batch: &Batch,
    head: &crate::model::ChainHead,
) -> Result<(), HubError> {
    let clash = tx
        .query_opt(
            "SELECT seq, hash FROM chain_heads
             WHERE station_id = $1 AND batch_id <> $2
               AND ((created_at < $3 AND seq > $4) OR (seq = $4 AND hash <> $5))
             ORDER BY seq DESC LIMIT 1",
            &[
                &station_id,
                &batch.batch_id,
                &batch.created_at,
                &head.seq,
                &head.hash,
            ],
        )
        .await?;
    tx.execute(
        "INSERT INTO chain_heads (station_id, batch_id, created_at, seq, hash)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            &station_id,
            &batch.batch_id,
            &batch.created_at,
            &head.seq,
            &head.hash,
        ],
    )
    .await?;
    if let Some(row) = clash {
        let (known_seq, known_hash): (i64, String) = (row.get(0), row.get(1));
        log::error!(
            "station {station_id}'s audit chain went back: batch {} carries entry {} ({}), \
             the hub has seen entry {known_seq} ({known_hash}); its ledger may have lost rows",
            batch.batch_id,
            head.seq,
            head.hash
        );
        tx.execute(
            "INSERT INTO chain_alarms (station_id, batch_id, seq, hash, known_seq, known_hash)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &station_id,
                &batch.batch_id,
                &head.seq,
                &head.hash,
                &known_seq,
                &known_hash,
            ],
        )
        .await?;
    }
    Ok(())
}

/// The conflicts among `events`, with the first receipt each one lost to.
async fn conflicts_of(tx: &Transaction<'_>, events: &[&str]) -> Result<Vec<HubConflict>, HubError> {
    let rows = tx
        .query(
            "SELECT c.event_id, c.ballot_id, f.station_id, f.tray, f.occurred_at, f.event_id
             FROM conflicts c JOIN events f ON f.event_id = c.first_event_id
             WHERE c.event_id = ANY($1)",
            &[&events],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| HubConflict {
            event_id: r.get(0),
            ballot_id: r.get(1),
            first: FirstReceipt {
                station_id: r.get(2),
                batch: r.get(3),
                occurred_at: format_time(r.get(4)),
                event_id: r.get(5),
            },
        })
        .collect())
}
