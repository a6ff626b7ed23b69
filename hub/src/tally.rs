//! The hourly receipt counts behind the dashboard (`receipt_hours`), kept up to date
//! outside the stations' transactions: a busy hour's counter written by every batch
//! would be one more row each of them must lock and rewrite (it cost the storing
//! path about a tenth of its speed in `benches/throughput.rs`).
//!
//! The tally reads the receipts in the feed's order, (txid, feed_seq), and only
//! those of transactions older than the oldest still running, so a receipt that
//! commits late is counted on a later pass and never skipped. A released receipt
//! (its station corrected it) is taken off its hour in the same order. Its cursor row is
//! locked for the pass, so two passes at once (the hub's loop and a dashboard
//! read, or two hubs) count each receipt once.

use std::time::Duration;

use deadpool_postgres::Pool;

use crate::HubError;

/// Receipts counted per statement: an upgraded hub's first pass, or a long
/// outage's, goes in steps of this.
const STEP: i64 = 50_000;

/// How often the hub counts new receipts when no page asks.
pub const EVERY: Duration = Duration::from_secs(2);

/// Counts every receipt not yet counted that is safe to count; returns how many.
pub async fn catch_up(client: &mut tokio_postgres::Client) -> Result<i64, HubError> {
    let mut total = 0;
    loop {
        let tx = client.transaction().await?;
        let cursor = tx
            .query_one(
                "SELECT txid::text, seq FROM receipt_tally WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await?;
        let (txid, seq): (String, i64) = (cursor.get(0), cursor.get(1));
        let row = tx
            .query_one(
                "WITH new AS MATERIALIZED (
                     SELECT f.txid, f.feed_seq, f.election_id, e.station_id, f.sign,
                            date_trunc('hour', e.occurred_at, 'UTC') AS hour
                     FROM (SELECT r.txid, r.feed_seq, r.election_id, r.event_id, 1 AS sign
                           FROM receipts r
                           WHERE (r.txid, r.feed_seq) > ($1::text::xid8, $2)
                             AND r.txid < pg_snapshot_xmin(pg_current_snapshot())
                           UNION ALL
                           SELECT l.txid, l.feed_seq, l.election_id, l.event_id, -1
                           FROM receipt_releases l
                           WHERE (l.txid, l.feed_seq) > ($1::text::xid8, $2)
                             AND l.txid < pg_snapshot_xmin(pg_current_snapshot())) f
                     JOIN events e USING (event_id)
                     ORDER BY f.txid, f.feed_seq LIMIT $3),
                 counted AS (
                     INSERT INTO receipt_hours (election_id, station_id, hour, receipts)
                     SELECT election_id, station_id, hour, sum(sign) FROM new
                     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                     ON CONFLICT (election_id, station_id, hour)
                     DO UPDATE SET receipts = receipt_hours.receipts + excluded.receipts
                     RETURNING 1),
                 last AS (SELECT txid, feed_seq FROM new ORDER BY txid DESC, feed_seq DESC LIMIT 1)
                 SELECT (SELECT count(*) FROM new), (SELECT txid::text FROM last),
                        (SELECT feed_seq FROM last), (SELECT count(*) FROM counted)",
                &[&txid, &seq, &STEP],
            )
            .await?;
        let n: i64 = row.get(0);
        if n == 0 {
            return Ok(total);
        }
        let (last_txid, last_seq): (String, i64) = (row.get(1), row.get(2));
        tx.execute(
            "UPDATE receipt_tally SET txid = $1::text::xid8, seq = $2 WHERE id = 1",
            &[&last_txid, &last_seq],
        )
        .await?;
        tx.commit().await?;
        total += n;
        if n < STEP {
            return Ok(total);
        }
    }
}

/// Counts new receipts every [`EVERY`] while the hub runs. A failure (the database
/// restarting) is logged and tried again: the counts only feed the dashboard.
pub async fn run(pool: Pool) {
    loop {
        tokio::time::sleep(EVERY).await;
        let counted = match pool.get().await {
            Ok(mut client) => catch_up(&mut client).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = counted {
            log::warn!("tally of receipts per hour: {e}");
        }
    }
}
