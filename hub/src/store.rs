//! Storing one station batch: one PostgreSQL transaction, many stations at once.
//!
//! Nothing of the hub's own serialises the stations: the receipts table's primary
//! key decides each ballot's first receipt (of two transactions inserting one ballot
//! the second waits for the first to end, and inserts nothing if it committed), and
//! the feed and the relay read in transaction-id order below the oldest transaction
//! still running, so nothing committed late is skipped (see the migration). Two
//! requests under one Idempotency-Key are settled by the batches table's key: the
//! second to reach it waits, fails, rolls back and answers with the first's stored
//! acknowledgement.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::error::SqlState;

use crate::model::{Ack, Batch, Event, FirstReceipt, HubConflict, check};
use crate::{HubError, format_time};

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

/// The stored acknowledgement of a batch, if it was stored.
async fn stored_ack(
    client: &deadpool_postgres::ClientWrapper,
    station_id: &str,
    batch_id: &str,
) -> Result<Option<Vec<u8>>, HubError> {
    let ask = client
        .prepare_cached("SELECT ack FROM batches WHERE station_id = $1 AND batch_id = $2")
        .await?;
    Ok(client
        .query_opt(&ask, &[&station_id, &batch_id])
        .await?
        .map(|r| r.get(0)))
}

/// Stores `batch` from `station_id` (already authenticated) and returns the
/// acknowledgement, or the stored one when the batch was stored before.
///
/// Every statement is prepared once per connection and kept (deadpool's statement
/// cache): a batch's nine statements then cost no parse, no plan and no extra round
/// trip each, which on a hub's few cores is time every other station waits.
pub async fn store(
    client: &mut deadpool_postgres::ClientWrapper,
    station_id: &str,
    batch: &Batch,
) -> Result<Stored, HubError> {
    check(batch, station_id).map_err(HubError::Refused)?;
    if let Some(ack) = stored_ack(client, station_id, &batch.batch_id).await? {
        client
            .execute(
                "UPDATE stations SET last_contact = now() WHERE station_id = $1",
                &[&station_id],
            )
            .await?;
        return Ok(Stored {
            ack,
            to_relay: 0,
            replay: true,
        });
    }
    let tx = client.transaction().await?;
    let (ack, to_relay) = match store_in(&tx, station_id, batch).await {
        Ok(stored) => stored,
        Err(HubError::Db(e)) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            // The same batch, sent twice at once, was stored by the other request.
            drop(tx);
            if let Some(ack) = stored_ack(client, station_id, &batch.batch_id).await? {
                return Ok(Stored {
                    ack,
                    to_relay: 0,
                    replay: true,
                });
            }
            return Err(HubError::Db(e));
        }
        Err(e) => return Err(e),
    };
    tx.commit().await?;
    Ok(Stored {
        ack,
        to_relay,
        replay: false,
    })
}

async fn store_in(
    tx: &Transaction<'_>,
    station_id: &str,
    batch: &Batch,
) -> Result<(Vec<u8>, u64), HubError> {
    // Statements that do not wait on one another's answers go out together
    // (tokio-postgres pipelines the queries of one connection polled at once; the
    // server runs them in the order sent): a round trip is two context switches per
    // statement, and on a hub's few cores those are time the other stations wait.
    // The events first, then what does not depend on the receipts: from the receipts
    // insert on, another station's transaction holding one of these ballots waits for
    // this one to end, so that stretch is kept short.
    let (events, head, contact) = tokio::join!(
        insert_events(tx, station_id, batch),
        async {
            match &batch.chain_head {
                Some(head) => record_chain_head(tx, station_id, batch, head).await,
                None => Ok(()),
            }
        },
        async {
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE stations SET last_contact = now() WHERE station_id = $1",
                )
                .await?,
                &[&station_id],
            )
            .await
            .map_err(HubError::from)
        },
    );
    let (new_ids, ((), _)) = both(events, both(head, contact))?;
    // The batch's new events, in batch order: only these are decided now.
    let new: Vec<&Event> = batch
        .events
        .iter()
        .filter(|e| new_ids.contains(e.event_id.as_str()))
        .collect();
    let lost = crate::receipts::decide(tx, station_id, &batch.election_id, &new).await?;
    let (outbox, stored) = tokio::join!(
        fill_outbox(tx, &batch.election_id, &new, &lost),
        record_batch(tx, station_id, batch, &new_ids, &lost),
    );
    let (to_relay, bytes) = both(outbox, stored)?;
    Ok((bytes, to_relay))
}

/// Both results of statements sent together, or the error that caused the failure:
/// a statement sent after a failed one says only that the transaction is aborted, so
/// that answer gives way to the other's (a batch sent twice at once must still be
/// known by the batches key it broke).
fn both<A, B>(a: Result<A, HubError>, b: Result<B, HubError>) -> Result<(A, B), HubError> {
    let aborted = |e: &HubError| matches!(e, HubError::Db(d) if d.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(first), Err(second)) => Err(if aborted(&first) { second } else { first }),
    }
}

/// Makes the batch's acknowledgement and stores it with the batch; returns its bytes.
async fn record_batch(
    tx: &Transaction<'_>,
    station_id: &str,
    batch: &Batch,
    new_ids: &HashSet<String>,
    lost: &HashSet<String>,
) -> Result<Vec<u8>, HubError> {
    // The conflicts to name: those just found, and any an event stored before (a
    // batch sent again with more in it) was found to be. A new event that was not
    // just found one is none, so the common batch asks for nothing here.
    let all: Vec<&str> = batch.events.iter().map(|e| e.event_id.as_str()).collect();
    let asked: Vec<&str> = all
        .iter()
        .copied()
        .filter(|id| !new_ids.contains(*id) || lost.contains(*id))
        .collect();
    let mut conflicts = if asked.is_empty() {
        Vec::new()
    } else {
        conflicts_of(tx, &asked).await?
    };
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
        &tx.prepare_cached("INSERT INTO batches (station_id, batch_id, election_id, county, created_at, events, ack)
         VALUES ($1, $2, $3, $4, $5, $6, $7)").await?,
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
    Ok(bytes)
}

/// Inserts the batch's events in batch order; returns the new ones' ids (an id
/// already stored is a duplicate and comes back absent).
async fn insert_events(
    tx: &Transaction<'_>,
    station_id: &str,
    batch: &Batch,
) -> Result<HashSet<String>, HubError> {
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
            &tx.prepare_cached(
                "INSERT INTO events (event_id, station_id, batch_id, election_id, county, type,
                 ballot_id, voter_id, tray, occurred_at, reason, corrects, confidential)
             SELECT u.e, $2, $3, $4, $5, u.t, u.b, u.v, u.tr, u.o, u.r, u.c, u.cf
             FROM unnest($1::text[], $6::text[], $7::text[], $8::text[], $9::int8[],
                         $10::timestamptz[], $11::text[], $12::text[], $13::bool[])
                  WITH ORDINALITY AS u(e, t, b, v, tr, o, r, c, cf, n)
             ORDER BY u.n
             ON CONFLICT (event_id) DO NOTHING
             RETURNING event_id",
            )
            .await?,
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
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Puts the new events the backend may see into the relay's outbox, in batch order:
/// never a confidential voter's, never a conflict, and a correction only of an event
/// that was itself relayable (the backend cannot reverse what it never saw).
async fn fill_outbox(
    tx: &Transaction<'_>,
    election: &str,
    new: &[&Event],
    lost: &HashSet<String>,
) -> Result<u64, HubError> {
    let mut relay: Vec<&str> = Vec::with_capacity(new.len());
    for e in new {
        if e.confidential || lost.contains(&e.event_id) {
            continue;
        }
        if e.kind == "correction" && !corrected_was_relayable(tx, new, lost, e).await? {
            continue;
        }
        relay.push(e.event_id.as_str());
    }
    if relay.is_empty() {
        return Ok(0);
    }
    let n = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO outbox (event_id, election_id)
             SELECT u.e, $1 FROM unnest($2::text[]) WITH ORDINALITY AS u(e, n) ORDER BY u.n",
            )
            .await?,
            &[&election, &relay],
        )
        .await?;
    Ok(n)
}

/// Whether the event a correction reverses went to the backend: not a confidential
/// voter's, not a conflict, not itself a correction (in this batch or stored).
async fn corrected_was_relayable(
    tx: &Transaction<'_>,
    new: &[&Event],
    lost: &HashSet<String>,
    correction: &Event,
) -> Result<bool, HubError> {
    let Some(target) = correction.corrects.as_deref() else {
        return Ok(false);
    };
    if let Some(e) = new.iter().find(|e| e.event_id == target) {
        return Ok(!e.confidential && e.kind != "correction" && !lost.contains(target));
    }
    Ok(tx
        .query_one(
            &tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM events x WHERE x.event_id = $1
                 AND NOT x.confidential AND x.type <> 'correction'
                 AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.event_id = x.event_id))",
            )
            .await?,
            &[&target],
        )
        .await?
        .get(0))
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
            &tx.prepare_cached(
                "SELECT seq, hash FROM chain_heads
             WHERE station_id = $1 AND batch_id <> $2
               AND ((created_at < $3 AND seq > $4) OR (seq = $4 AND hash <> $5))
             ORDER BY seq DESC LIMIT 1",
            )
            .await?,
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
        &tx.prepare_cached(
            "INSERT INTO chain_heads (station_id, batch_id, created_at, seq, hash)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .await?,
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
            &tx.prepare_cached(
                "INSERT INTO chain_alarms (station_id, batch_id, seq, hash, known_seq, known_hash)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .await?,
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
            &tx.prepare_cached(
                "SELECT c.event_id, c.ballot_id, c.first_station, c.first_tray, c.first_at,
                    c.first_event_id
             FROM unnest($1::text[]) AS u(e)
             CROSS JOIN LATERAL (SELECT * FROM conflicts c WHERE c.event_id = u.e) c",
            )
            .await?,
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
