//! The county hub: the stations' batches into PostgreSQL, one first receipt per ballot
//! county-wide, and each event relayed once to the notification backend.
//!
//! Stations speak to the hub the sync protocol they already speak to a backend
//! (`docs/sync-protocol.md`); the hub's acknowledgement adds the cross-station
//! duplicates it found. Every batch is stored in one PostgreSQL transaction, many
//! stations' at once; the receipts table's key makes the first `received` event of
//! a ballot to commit the county's receipt, and any later one a conflict named back
//! to the station that scanned it. The hub is built on the station's core (its sync
//! transport and rules) and never on the window.

pub mod admin;
pub mod dashboard;
pub mod db;
pub mod feed;
pub mod migrate;
pub mod model;
pub mod receipts;
pub mod relay;
pub mod report;
pub mod server;
pub mod store;
pub mod tally;

/// Why the hub refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// PostgreSQL failed or could not be reached.
    #[error("database: {}", migrate::db_message(.0))]
    Db(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("database connection: {0}")]
    Pool(String),
    /// The request or command is wrong, in words for whoever sent it.
    #[error("{0}")]
    Refused(String),
    /// The bearer token names no station, or another station than the batch's.
    #[error("{0}")]
    Unauthorized(String),
}

impl From<deadpool_postgres::PoolError> for HubError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        HubError::Pool(e.to_string())
    }
}

/// The format every time the hub writes: RFC 3339 in UTC with microseconds, as the
/// stations write theirs.
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
