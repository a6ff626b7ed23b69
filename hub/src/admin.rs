//! The hub's administration: stations and their tokens, dashboard users, and the
//! county's state at a glance (`hub status`).

use std::io::Write;
use std::path::Path;

use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{HubError, format_time};

/// Adds a station with a new random token written to `token_file` (created, readable
/// by its owner only), for the station's `sync setup --token-file`. The hub keeps
/// only the token's SHA-256.
pub async fn add_station(
    client: &tokio_postgres::Client,
    station_id: &str,
    token_file: &Path,
) -> Result<(), HubError> {
    if station_id.is_empty()
        || station_id.len() > 64
        || !station_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(HubError::Refused(format!(
            "a station id is 1 to 64 letters, digits, '_' or '.' (a '-' would blur its event ids): {station_id:?}"
        )));
    }
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM stations WHERE station_id = $1)",
            &[&station_id],
        )
        .await?
        .get(0);
    if exists {
        return Err(HubError::Refused(format!(
            "station {station_id} is already known to the hub"
        )));
    }
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    write_secret(token_file, &token)?;
    let digest = Sha256::digest(token.as_bytes()).to_vec();
    let added = client
        .execute(
            "INSERT INTO stations (station_id, token_sha256) VALUES ($1, $2)",
            &[&station_id, &digest],
        )
        .await;
    if let Err(e) = added {
        let _ = std::fs::remove_file(token_file);
        return Err(e.into());
    }
    Ok(())
}

/// Writes a new file readable only by its owner; refuses to replace one.
fn write_secret(path: &Path, text: &str) -> Result<(), HubError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        HubError::Refused(format!(
            "cannot create the token file {} (an existing file is never replaced): {e}",
            path.display()
        ))
    })?;
    file.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| HubError::Refused(format!("cannot write {}: {e}", path.display())))
}

/// Adds a supervisor who may sign in to the dashboard.
pub async fn add_user(
    client: &tokio_postgres::Client,
    name: &str,
    pin: &str,
) -> Result<(), HubError> {
    if name.trim().is_empty() || name.len() > 64 {
        return Err(HubError::Refused(
            "a user name is 1 to 64 characters".into(),
        ));
    }
    ballot_intake_core::auth::check_pin_form(pin)
        .and_then(|()| ballot_intake_core::auth::check_not_obvious(pin))
        .map_err(|e| HubError::Refused(e.to_string()))?;
    let hash =
        ballot_intake_core::auth::hash_pin(pin).map_err(|e| HubError::Refused(e.to_string()))?;
    let n = client
        .execute(
            "INSERT INTO users (name, pin_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &hash],
        )
        .await?;
    if n == 0 {
        return Err(HubError::Refused(format!("user {name} already exists")));
    }
    Ok(())
}

/// One station as the hub sees it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StationState {
    /// Its id.
    pub station_id: String,
    /// When it last sent (UTC), if ever.
    pub last_contact: Option<String>,
    /// Batches stored from it.
    pub batches: i64,
    /// Events stored from it.
    pub events: i64,
    /// Its first receipts that stand (not released by a correction).
    pub receipts: i64,
    /// Its scans that were cross-station duplicates.
    pub conflicts: i64,
    /// Times its audit chain went back.
    pub chain_alarms: i64,
    /// Its public signing keys' fingerprints, oldest first (more than one: its key
    /// changed).
    pub keys: Vec<String>,
}

/// The relay's state.
#[derive(Debug, Serialize, PartialEq, Eq, Default)]
pub struct RelayState {
    /// Events not yet in a relay batch.
    pub waiting: i64,
    /// In a relay batch not yet acknowledged.
    pub in_flight: i64,
    /// In batches the backend refused.
    pub held: i64,
    /// Acknowledged by the backend.
    pub acknowledged: i64,
    /// The newest error of a batch not yet acknowledged.
    pub last_error: Option<String>,
    /// The held batches: id, events, the backend's answer.
    pub held_batches: Vec<(String, i32, String)>,
}

/// The county at a glance.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct HubStatus {
    /// The schema version.
    pub schema_version: i32,
    /// Stations, by id.
    pub stations: Vec<StationState>,
    /// First receipts county-wide that stand (not released by a correction).
    pub receipts: i64,
    /// Cross-station duplicates.
    pub conflicts: i64,
    /// The relay to the notification backend.
    pub relay: RelayState,
}

/// Reads the county's state.
pub async fn status(client: &tokio_postgres::Client) -> Result<HubStatus, HubError> {
    let schema_version: i32 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    // One pass over each table, grouped by station (no per-station index is kept on
    // the events: every index is paid for by every batch).
    let rows = client
        .query(
            "SELECT s.station_id, s.last_contact,
                    coalesce(b.n, 0), coalesce(e.n, 0), coalesce(r.n, 0), coalesce(c.n, 0),
                    coalesce(a.n, 0), coalesce(k.k, '{}')
             FROM stations s
             LEFT JOIN (SELECT station_id, count(*) n FROM batches GROUP BY 1) b USING (station_id)
             LEFT JOIN (SELECT station_id, count(*) n FROM events GROUP BY 1) e USING (station_id)
             LEFT JOIN (SELECT e.station_id, count(*) n FROM receipts x
                          JOIN events e USING (event_id)
                          WHERE NOT EXISTS (SELECT 1 FROM receipt_releases l
                                            WHERE (l.election_id, l.ballot_id, l.round)
                                                = (x.election_id, x.ballot_id, x.round))
                          GROUP BY 1) r USING (station_id)
             LEFT JOIN (SELECT station_id, count(*) n FROM conflicts GROUP BY 1) c USING (station_id)
             LEFT JOIN (SELECT station_id, count(*) n FROM chain_alarms GROUP BY 1) a USING (station_id)
             LEFT JOIN (SELECT station_id, array_agg(fingerprint ORDER BY first_seen, fingerprint) k
                        FROM station_keys GROUP BY 1) k USING (station_id)
             ORDER BY s.station_id",
            &[],
        )
        .await?;
    let stations = rows
        .iter()
        .map(|r| StationState {
            station_id: r.get(0),
            last_contact: r
                .get::<_, Option<chrono::DateTime<chrono::Utc>>>(1)
                .map(format_time),
            batches: r.get(2),
            events: r.get(3),
            receipts: r.get(4),
            conflicts: r.get(5),
            chain_alarms: r.get(6),
            keys: r.get(7),
        })
        .collect();
    let totals = client
        .query_one(
            "SELECT (SELECT count(*) FROM receipts) - (SELECT count(*) FROM receipt_releases),
                    (SELECT count(*) FROM conflicts)",
            &[],
        )
        .await?;
    let relay = relay_state(client).await?;
    Ok(HubStatus {
        schema_version,
        stations,
        receipts: totals.get(0),
        conflicts: totals.get(1),
        relay,
    })
}

/// The relay's state: what waits, what is in flight, what the backend refused.
pub async fn relay_state(client: &tokio_postgres::Client) -> Result<RelayState, HubError> {
    // The outbox after the relay's last batch is waiting; the batches say the rest.
    let relay = client
        .query_one(
            "WITH last AS (SELECT last_txid, last_seq FROM relay_batches
                             ORDER BY last_txid DESC, last_seq DESC LIMIT 1)
             SELECT (SELECT count(*) FROM outbox o
                      WHERE NOT EXISTS (SELECT 1 FROM last)
                         OR (o.txid, o.seq) > ((SELECT last_txid FROM last), (SELECT last_seq FROM last))),
                    coalesce(sum(events) FILTER (WHERE state = 'pending'), 0)::int8,
                    coalesce(sum(events) FILTER (WHERE state = 'held'), 0)::int8,
                    coalesce(sum(events) FILTER (WHERE state = 'acked'), 0)::int8,
                    (SELECT last_error FROM relay_batches WHERE state <> 'acked'
                       AND last_error IS NOT NULL ORDER BY created_at DESC LIMIT 1)
             FROM relay_batches",
            &[],
        )
        .await?;
    let held_batches = client
        .query(
            "SELECT batch_id, events, coalesce(last_error, '') FROM relay_batches
             WHERE state = 'held' ORDER BY created_at",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(RelayState {
        waiting: relay.get(0),
        in_flight: relay.get(1),
        held: relay.get(2),
        acknowledged: relay.get(3),
        last_error: relay.get(4),
        held_batches,
    })
}

/// Sends a held relay batch again (same id, same bytes) once the cause of the
/// backend's refusal is fixed: the station's `sync retry`, at the hub.
pub async fn release_relay_batch(
    client: &tokio_postgres::Client,
    batch_id: &str,
) -> Result<(), HubError> {
    let n = client
        .execute(
            "UPDATE relay_batches SET state = 'pending', next_attempt_at = NULL
             WHERE batch_id = $1 AND state = 'held'",
            &[&batch_id],
        )
        .await?;
    if n == 0 {
        return Err(HubError::Refused(format!("no held relay batch {batch_id}")));
    }
    log::info!("relay batch {batch_id} released to be sent again");
    Ok(())
}
