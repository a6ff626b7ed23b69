//! Connections to the hub's PostgreSQL database.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::HubError;

/// A pool of connections to `url`, a libpq-style connection string or URL
/// (`postgresql://hub@db.county.local/hub`, or `host=/run/postgresql dbname=hub`).
///
/// The hub talks to PostgreSQL on the same machine or a private network (a Unix
/// socket in the usual install), so the client does not negotiate TLS itself.
pub fn pool(url: &str, size: usize) -> Result<Pool, HubError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| HubError::Refused(format!("cannot read the database address {url:?}: {e}")))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            // A connection that died with a PostgreSQL restart is found out before
            // it is handed to a request.
            recycling_method: RecyclingMethod::Verified,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .build()
        .map_err(|e| HubError::Pool(e.to_string()))
}

/// One connection, for the commands that run a few statements and stop.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, HubError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| HubError::Refused(format!("cannot read the database address {url:?}: {e}")))?;
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            log::warn!("database connection closed: {e}");
        }
    });
    Ok(client)
}
