//! The hub's schema, kept as SQL files in `hub/migrations` and run in order, each in
//! one transaction with its row in `schema_migrations`, so a failed migration leaves
//! the database as it was. A database migrated by a newer hub is refused: this build
//! would not know what its tables mean.

use tokio_postgres::Client;

use crate::HubError;

/// The migrations this build knows, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "hub", include_str!("../migrations/0001_hub.sql")),
    (
        2,
        "dashboard",
        include_str!("../migrations/0002_dashboard.sql"),
    ),
    (
        3,
        "releases",
        include_str!("../migrations/0003_releases.sql"),
    ),
    (
        4,
        "storing cost",
        include_str!("../migrations/0004_storing_cost.sql"),
    ),
];

/// An advisory-lock key of the hub's own, held while migrating, so two hubs started
/// at once against one database do not both run a migration.
const MIGRATION_LOCK: i64 = 0x6261_6c6c_6f74_0001;

/// The newest version this build knows.
pub fn newest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Brings the database to this build's schema; returns the versions applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, HubError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    tx.commit().await?;
    if current > newest() {
        return Err(HubError::Refused(format!(
            "the database's schema is version {current}, newer than this hub knows ({}): \
             run the hub that migrated it, or a newer one",
            newest()
        )));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let done: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)",
                &[version],
            )
            .await?
            .get(0);
        if done {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| {
            HubError::Refused(format!(
                "migration {version} ({name}) failed: {}",
                db_message(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        tx.commit().await?;
        log::info!("hub database migrated to version {version} ({name})");
        applied.push(*version);
    }
    Ok(applied)
}

/// PostgreSQL's own words for an error, where it sent them.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string())
}
