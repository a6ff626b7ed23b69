//! The hub's HTTP side: the stations' sync endpoint, the receipts feed, and (in
//! `dashboard`) the county's page. axum on tokio; TLS through rustls, plain http
//! only on a loopback address, as the stations require of a backend.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deadpool_postgres::Pool;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::dashboard::DashboardOptions;
use crate::relay::RelayOptions;
use crate::{HubError, feed, migrate, model, report, store};

/// How the hub runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The PostgreSQL database.
    pub database: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS certificate chain and key (PEM); required unless `listen` is loopback.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where to relay events; `None` keeps them in the outbox.
    pub relay: Option<RelayOptions>,
    /// Database connections for requests.
    pub pool_size: usize,
    /// The county dashboard (its cookies are made TLS-only when `tls` is given).
    pub dashboard: DashboardOptions,
}

/// What every handler shares.
#[derive(Clone)]
pub struct Hub {
    /// The database.
    pub pool: Pool,
    /// Told when a stored batch put events in the outbox.
    pub relay_wake: Arc<Notify>,
    /// How the dashboard behaves.
    pub dashboard: Arc<DashboardOptions>,
}

/// Runs the hub until SIGINT or SIGTERM: migrates the database, starts the relay and
/// serves. `on_listening` hears the bound address (the port when 0 was asked for).
pub fn serve(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), HubError> {
    if options.tls.is_none() && !options.listen.ip().is_loopback() {
        return Err(HubError::Refused(format!(
            "the hub listens on {} without TLS: plain http is only for a loopback address; \
             give --tls-cert and --tls-key",
            options.listen
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hub")
        .build()
        .map_err(|e| HubError::Refused(format!("cannot start the hub's runtime: {e}")))?;
    runtime.block_on(run(options, on_listening))
}

async fn run(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), HubError> {
    let mut client = crate::db::connect(&options.database).await?;
    migrate::migrate(&mut client).await?;
    drop(client);
    let pool = crate::db::pool(&options.database, options.pool_size)?;
    let hub = Hub {
        pool: pool.clone(),
        relay_wake: Arc::new(Notify::new()),
        dashboard: Arc::new(DashboardOptions {
            secure_cookies: options.tls.is_some(),
            ..options.dashboard.clone()
        }),
    };
    tokio::spawn(crate::tally::run(pool.clone()));
    if let Some(relay) = &options.relay {
        relay.transport()?;
        tokio::spawn(crate::relay::run(
            pool,
            relay.clone(),
            hub.relay_wake.clone(),
        ));
    }
    let app = router(hub);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let served = {
        let handle = handle.clone();
        let listen = options.listen;
        let tls = match &options.tls {
            Some((cert, key)) => Some(tls_config(cert, key).await?),
            None => None,
        };
        tokio::spawn(async move {
            let service = app.into_make_service();
            match tls {
                Some(config) => {
                    axum_server::bind_rustls(listen, config)
                        .handle(handle)
                        .serve(service)
                        .await
                }
                None => {
                    axum_server::bind(listen)
                        .handle(handle)
                        .serve(service)
                        .await
                }
            }
        })
    };
    match handle.listening().await {
        Some(addr) => on_listening(addr),
        None => {
            let why = match served.await {
                Ok(Err(e)) => e.to_string(),
                _ => "it stopped".into(),
            };
            return Err(HubError::Refused(format!(
                "cannot listen on {}: {why}",
                options.listen
            )));
        }
    }
    match served.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(HubError::Refused(format!("the hub's server stopped: {e}"))),
        Err(e) => Err(HubError::Refused(format!("the hub's server failed: {e}"))),
    }
}

async fn tls_config(
    cert: &PathBuf,
    key: &PathBuf,
) -> Result<axum_server::tls_rustls::RustlsConfig, HubError> {
    // One process-wide provider (ring, as the station's client uses); a second
    // install is refused harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| {
            HubError::Refused(format!(
                "cannot use the TLS certificate {} and key {}: {e}",
                cert.display(),
                key.display()
            ))
        })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The hub's routes.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/batches", post(post_batch))
        .route("/v1/receipts", get(get_receipts))
        .route("/v1/status", post(post_status))
        .route("/healthz", get(|| async { "ok" }))
        // 500 events of a few hundred bytes each, with room to spare.
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .merge(crate::dashboard::routes())
        .with_state(hub)
}

/// An answer in the protocol's words: 503 (retry) for what passes, 400 or 401 (hold)
/// for what a retry cannot fix.
impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let status = match &self {
            HubError::Db(_) | HubError::Pool(_) => StatusCode::SERVICE_UNAVAILABLE,
            HubError::Refused(_) => StatusCode::BAD_REQUEST,
            HubError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            log::warn!("answering 503: {self}");
        }
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// The station a request's bearer token belongs to.
async fn station_of(
    client: &deadpool_postgres::ClientWrapper,
    headers: &HeaderMap,
) -> Result<String, HubError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| HubError::Unauthorized("no bearer token".into()))?;
    let digest = Sha256::digest(token.trim().as_bytes()).to_vec();
    let lookup = client
        .prepare_cached("SELECT station_id FROM stations WHERE token_sha256 = $1")
        .await?;
    client
        .query_opt(&lookup, &[&digest])
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| HubError::Unauthorized("the bearer token is no station's".into()))
}

async fn post_batch(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HubError> {
    let mut client = hub.pool.get().await?;
    let station = station_of(&client, &headers).await?;
    let batch: model::Batch = serde_json::from_slice(&body)
        .map_err(|e| HubError::Refused(format!("the batch is not one the hub can read: {e}")))?;
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok())
        && key != batch.batch_id
    {
        return Err(HubError::Refused(format!(
            "the Idempotency-Key {key:?} is not the batch's id {:?}",
            batch.batch_id
        )));
    }
    let stored = store::store(&mut client, &station, &batch).await?;
    if stored.to_relay > 0 {
        hub.relay_wake.notify_one();
    }
    log::info!(
        "station {station} batch {} ({} events){}",
        batch.batch_id,
        batch.events.len(),
        if stored.replay { ", a retry" } else { "" }
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        stored.ack,
    )
        .into_response())
}

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: String,
    limit: Option<i64>,
}

async fn get_receipts(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Result<Response, HubError> {
    let client = hub.pool.get().await?;
    station_of(&client, &headers).await?;
    let page = feed::page(&client, &q.after, q.limit.unwrap_or(feed::MAX_PAGE)).await?;
    Ok(axum::Json(page).into_response())
}

/// A station's report about itself, kept for the dashboard (`report`).
async fn post_status(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HubError> {
    let client = hub.pool.get().await?;
    let station = station_of(&client, &headers).await?;
    let report: ballot_intake_core::sync::hub::StationReport = serde_json::from_slice(&body)
        .map_err(|e| HubError::Refused(format!("the report is not one the hub can read: {e}")))?;
    let (at, day) = report::check(&station, &report)?;
    report::keep(&client, &report, at, day).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
