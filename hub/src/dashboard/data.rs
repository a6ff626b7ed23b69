//! What the county's dashboard shows, read in a handful of small queries: the hourly
//! receipt counts and the stations' latest reports, never a pass over the day's
//! events, so a page that refreshes itself every few seconds costs the hub little.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::HubError;
use crate::admin::{RelayState, relay_state};

/// The county at `now`, for one election.
#[derive(Debug)]
pub struct County {
    /// The county's name, as its stations send it.
    pub county: Option<String>,
    /// The election shown.
    pub election: Option<String>,
    /// When it was read, in the hub's time zone.
    pub now: DateTime<Tz>,
    /// The local day "today" means.
    pub day: NaiveDate,
    /// Every station the hub knows, by id.
    pub stations: Vec<StationRow>,
    /// First receipts today, county-wide.
    pub receipts_today: i64,
    /// First receipts in the election.
    pub receipts_election: i64,
    /// Cross-station duplicates the hub found today.
    pub conflicts_today: i64,
    /// Conflicts not yet resolved at the stations (their reports' sum).
    pub conflicts_open: i64,
    /// The relay to the notification backend.
    pub relay: RelayState,
    /// Today's receipts per local hour: the hour's start and its count, every hour
    /// of the day (23 or 25 on the days the clocks change).
    pub per_hour: Vec<(DateTime<Tz>, i64)>,
}

/// One station on the dashboard.
#[derive(Debug)]
pub struct StationRow {
    /// Its id.
    pub station_id: String,
    /// When the hub last heard from it.
    pub last_contact: Option<DateTime<Utc>>,
    /// Its first receipts today (as the hub decided them).
    pub receipts_today: i64,
    /// Its scans the hub found to be cross-station duplicates today.
    pub conflicts_today: i64,
    /// Times its audit chain went back.
    pub chain_alarms: i64,
    /// Its public signing keys' fingerprints, oldest first.
    pub keys: Vec<String>,
    /// Its latest report, if it was made today.
    pub report: Option<Report>,
    /// The day of a report from before today (the station has not reported today).
    pub stale_report_day: Option<NaiveDate>,
}

/// A station's own figures, as it last reported them.
#[derive(Debug)]
pub struct Report {
    /// When the station made it.
    pub reported_at: DateTime<Utc>,
    /// Today's scans by outcome, flags and reversals.
    pub today: BTreeMap<String, i64>,
    /// Conflicts open there.
    pub conflicts_open: i64,
    /// Events not yet acknowledged by the hub.
    pub waiting: i64,
    /// Events in batches the hub refused.
    pub held: i64,
}

/// Reads the county for `election`, or the election the stations sent last.
pub async fn read(
    client: &tokio_postgres::Client,
    election: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<County, HubError> {
    let latest = client
        .query_opt(
            "SELECT election_id, county FROM batches ORDER BY received_at DESC LIMIT 1",
            &[],
        )
        .await?;
    let county: Option<String> = latest.as_ref().map(|r| r.get(1));
    let election: Option<String> = match election {
        Some(e) => Some(e.to_string()),
        None => match latest {
            Some(r) => Some(r.get(0)),
            None => client
                .query_opt(
                    "SELECT election_id FROM station_reports ORDER BY received_at DESC LIMIT 1",
                    &[],
                )
                .await?
                .map(|r| r.get(0)),
        },
    };
    let local_now = now.with_timezone(&tz);
    let day = local_now.date_naive();
    let (start, end) = ballot_intake_core::local_time::day_bounds(day, tz).unwrap_or((now, now));
    let e = election.clone().unwrap_or_default();

    let hours: HashMap<DateTime<Utc>, i64> = client
        .query(
            "SELECT hour, sum(receipts)::int8 FROM receipt_hours
             WHERE election_id = $1 AND hour >= $2 AND hour < $3 GROUP BY hour",
            &[&e, &start, &end],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut per_hour = Vec::new();
    let mut hour = start;
    while hour < end {
        per_hour.push((
            hour.with_timezone(&tz),
            hours.get(&hour).copied().unwrap_or(0),
        ));
        hour += TimeDelta::hours(1);
    }

    let rows = client
        .query(
            "SELECT s.station_id, s.last_contact, coalesce(h.n, 0)::int8, coalesce(c.n, 0)::int8,
                    coalesce(a.n, 0)::int8, r.reported_at, r.day, r.today, r.conflicts_open,
                    r.waiting, r.held, coalesce(k.k, '{}')
             FROM stations s
             LEFT JOIN (SELECT station_id, sum(receipts) n FROM receipt_hours
                         WHERE election_id = $1 AND hour >= $2 AND hour < $3
                         GROUP BY 1) h USING (station_id)
             LEFT JOIN (SELECT station_id, count(*) n FROM conflicts
                         WHERE election_id = $1 AND detected_at >= $2 AND detected_at < $3
                         GROUP BY 1) c USING (station_id)
             LEFT JOIN (SELECT station_id, count(*) n FROM chain_alarms GROUP BY 1) a
                       USING (station_id)
             LEFT JOIN station_reports r ON r.station_id = s.station_id AND r.election_id = $1
             LEFT JOIN (SELECT station_id, array_agg(fingerprint ORDER BY first_seen, fingerprint) k
                        FROM station_keys GROUP BY 1) k ON k.station_id = s.station_id
             ORDER BY s.station_id",
            &[&e, &start, &end],
        )
        .await?;
    let stations: Vec<StationRow> = rows
        .iter()
        .map(|r| {
            let reported_day: Option<NaiveDate> = r.get(6);
            let report = match reported_day {
                Some(d) if d == day => Some(Report {
                    reported_at: r.get(5),
                    today: r
                        .get::<_, Option<serde_json::Value>>(7)
                        .and_then(|v| serde_json::from_value(v).ok())
                        .unwrap_or_default(),
                    conflicts_open: r.get(8),
                    waiting: r.get(9),
                    held: r.get(10),
                }),
                _ => None,
            };
            StationRow {
                station_id: r.get(0),
                last_contact: r.get(1),
                receipts_today: r.get(2),
                conflicts_today: r.get(3),
                chain_alarms: r.get(4),
                keys: r.get(11),
                stale_report_day: reported_day.filter(|d| *d != day),
                report,
            }
        })
        .collect();
    let receipts_election: i64 = client
        .query_one(
            "SELECT coalesce(sum(receipts), 0)::int8 FROM receipt_hours WHERE election_id = $1",
            &[&e],
        )
        .await?
        .get(0);
    Ok(County {
        county,
        election,
        now: local_now,
        day,
        receipts_today: stations.iter().map(|s| s.receipts_today).sum(),
        conflicts_today: stations.iter().map(|s| s.conflicts_today).sum(),
        conflicts_open: stations
            .iter()
            .filter_map(|s| s.report.as_ref())
            .map(|r| r.conflicts_open)
            .sum(),
        stations,
        receipts_election,
        relay: relay_state(client).await?,
        per_hour,
    })
}
