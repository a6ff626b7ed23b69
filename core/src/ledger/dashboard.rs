//! The numbers a supervisor watches: outcomes today and for the election, scans per
//! hour, per batch and per user. A reversed scan or flag no longer counts as what it
//! was (it is counted as reversed), so the figures agree with the batches' counts.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use super::elections::active_election;
use super::{Ledger, Result, format_time};
use crate::intake::Outcome;

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Dashboard {
    /// Scans per outcome since local midnight, then flags ("undeliverable",
    /// "needs_attention") and "reversed" entries.
    pub today: BTreeMap<String, i64>,
    /// The same for the whole election.
    pub election: BTreeMap<String, i64>,
    /// Today's scans per local hour ("07:00" ...), hours with scans only.
    pub per_hour: Vec<(String, i64)>,
    /// Per batch: number, scans, accepted.
    pub per_batch: Vec<(i64, i64, i64)>,
    /// Per user: name, scans, accepted.
    pub per_user: Vec<(String, i64, i64)>,
    /// Receipts (accepted scans no correction reversed) per local hour of the
    /// clock, today against the day before, from the first hour either day had one
    /// to the last, hours between them included with zeros.
    pub receipts_by_hour: Vec<HourReceipts>,
    /// The newest batches (at most [`CHART_BATCHES`], oldest first) and their
    /// entries by what they count as, as [`Ledger::batch_outcomes`] counts them.
    pub batch_outcomes: Vec<(i64, BTreeMap<String, i64>)>,
}

/// How many batches the outcomes chart shows.
pub const CHART_BATCHES: usize = 10;

/// One local hour of the clock's receipts, today and the day before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourReceipts {
    /// The hour, local: 0 to 23.
    pub hour: u32,
    /// Receipts in that hour today.
    pub today: i64,
    /// Receipts in that hour the day before.
    pub yesterday: i64,
}

/// Events that no correction has reversed (`e` is the events table).
const STANDING: &str = "NOT EXISTS (SELECT 1 FROM events c WHERE c.corrects = e.seq)";

/// What an event counts as: a scan's outcome, a flag's kind, or "reversed".
fn counted_as() -> String {
    format!(
        "CASE WHEN NOT {STANDING} THEN 'reversed' WHEN e.kind = 'scan' THEN e.outcome ELSE e.kind END"
    )
}

fn outcomes(rows: Vec<(String, i64)>) -> BTreeMap<String, i64> {
    let mut map: BTreeMap<String, i64> = Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .chain(["undeliverable", "needs_attention", "reversed"])
        .map(|o| (o.to_string(), 0))
        .collect();
    for (o, n) in rows {
        map.insert(o, n);
    }
    map
}

impl Ledger {
    /// Batch `batch_id`'s entries by what they count as (outcomes, flags, reversed),
    /// for its custody sheet.
    pub fn batch_outcomes(&self, batch_id: i64) -> Result<BTreeMap<String, i64>> {
        let counted = counted_as();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {counted}, count(*) FROM events e WHERE e.batch_id = ?1
             AND e.kind <> 'correction' GROUP BY 1"
        ))?;
        let rows = stmt
            .query_map([batch_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
        Ok(outcomes(rows))
    }

    /// The dashboard's numbers at `now` for the active election.
    pub fn dashboard(&self, now: DateTime<Utc>) -> Result<Dashboard> {
        let election = active_election(&self.conn)?;
        let e = &election.election_id;
        let tz = self.station.timezone;
        let today = now.with_timezone(&tz).date_naive();
        let (start, end) = crate::local_time::day_bounds(today, tz).unwrap_or((now, now));
        let (start, end) = (format_time(start), format_time(end));
        let pairs = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Vec<(String, i64)>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt
                .query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        };
        let counted = counted_as();
        let today_rows = pairs(
            &format!(
                "SELECT {counted}, count(*) FROM events e WHERE e.election_id = ?1
                 AND e.kind <> 'correction' AND e.occurred_at >= ?2 AND e.occurred_at < ?3
                 GROUP BY 1"
            ),
            &[e, &start, &end],
        )?;
        let all_rows = pairs(
            &format!(
                "SELECT {counted}, count(*) FROM events e WHERE e.election_id = ?1
                 AND e.kind <> 'correction' GROUP BY 1"
            ),
            &[e],
        )?;
        // Hours are grouped in UTC (stored form) and labelled in local time.
        let hours = pairs(
            "SELECT substr(occurred_at, 1, 13), count(*) FROM events WHERE election_id = ?1
             AND kind = 'scan' AND occurred_at >= ?2 AND occurred_at < ?3
             GROUP BY 1 ORDER BY 1",
            &[e, &start, &end],
        )?;
        let per_hour = hours
            .into_iter()
            .map(|(h, n)| {
                let label = DateTime::parse_from_rfc3339(&format!("{h}:00:00Z"))
                    .map(|t| t.with_timezone(&tz).format("%H:00").to_string())
                    .unwrap_or(h);
                (label, n)
            })
            .collect();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT e.batch_id, count(*), sum(e.outcome = 'accepted' AND {STANDING}) FROM events e
             WHERE e.election_id = ?1 AND e.kind = 'scan' AND e.batch_id IS NOT NULL
             GROUP BY e.batch_id ORDER BY e.batch_id DESC LIMIT 50"
        ))?;
        let per_batch = stmt
            .query_map([e], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT u.name, count(*), sum(e.outcome = 'accepted' AND {STANDING}) FROM events e
             JOIN users u ON u.user_id = e.user_id
             WHERE e.election_id = ?1 AND e.kind = 'scan' GROUP BY u.name ORDER BY 2 DESC"
        ))?;
        let per_user = stmt
            .query_map([e], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let receipts_by_hour = self.receipts_by_hour(e, today)?;
        let mut batch_outcomes = Vec::new();
        for (batch, _, _) in per_batch.iter().take(CHART_BATCHES).rev() {
            batch_outcomes.push((*batch, self.batch_outcomes(*batch)?));
        }
        Ok(Dashboard {
            today: outcomes(today_rows),
            election: outcomes(all_rows),
            per_hour,
            per_batch,
            per_user,
            receipts_by_hour,
            batch_outcomes,
        })
    }

    /// Receipts per local hour of election `e` on `today` and the day before. Hours
    /// are grouped in UTC (the stored form) and then placed on the local clock, so a
    /// day that changes the clocks puts its repeated hour's receipts together.
    fn receipts_by_hour(&self, e: &str, today: NaiveDate) -> Result<Vec<HourReceipts>> {
        let tz = self.station.timezone;
        let yesterday = today.pred_opt().unwrap_or(today);
        let bounds = |d| crate::local_time::day_bounds(d, tz);
        let (Some((start, _)), Some((_, end))) = (bounds(yesterday), bounds(today)) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT substr(e.occurred_at, 1, 13), count(*) FROM events e
             WHERE e.election_id = ?1 AND e.kind = 'scan' AND e.outcome = 'accepted'
               AND {STANDING} AND e.occurred_at >= ?2 AND e.occurred_at < ?3
             GROUP BY 1"
        ))?;
        let rows = stmt
            .query_map(
                rusqlite::params![e, format_time(start), format_time(end)],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_hour: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
        for (h, n) in rows {
            let Ok(at) = DateTime::parse_from_rfc3339(&format!("{h}:00:00Z")) else {
                continue;
            };
            let local = at.with_timezone(&tz);
            let slot = by_hour.entry(local.hour()).or_default();
            if local.date_naive() == today {
                slot.0 += n;
            } else {
                slot.1 += n;
            }
        }
        let (Some(first), Some(last)) = (
            by_hour.keys().next().copied(),
            by_hour.keys().next_back().copied(),
        ) else {
            return Ok(Vec::new());
        };
        Ok((first..=last)
            .map(|hour| {
                let (today, yesterday) = by_hour.get(&hour).copied().unwrap_or_default();
                HourReceipts {
                    hour,
                    today,
                    yesterday,
                }
            })
            .collect())
    }
}
