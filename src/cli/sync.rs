//! `sync`, `sync setup` and `sync retry`.

use anyhow::{Context, Result};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::pin::{PIN_ENV, sign_in};
use super::{SyncArgs, SyncCommand};
use ballot_intake_core::config::{Config, SyncTransport};
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::Ledger;
use ballot_intake_core::sync::transport::{SendOutcome, check_token_file, check_url};
use ballot_intake_core::sync::{self, SyncOptions};

/// Runs the `sync` command line.
pub fn run(env: &Environment, args: SyncArgs) -> Result<ExitCode> {
    let mut ledger = Ledger::open(&env.ledger_path())?;
    match args.command {
        Some(SyncCommand::Setup {
            url,
            token_file,
            ca_file,
            directory,
            timeout_secs,
            retry_base_ms,
            max_batch_age_secs,
            hub,
            by,
        }) => {
            let admin = sign_in(&mut ledger, &by.user, PIN_ENV)?;
            admin.require_admin("set up the sync")?;
            let mut config = Config::load(env);
            config.sync.transport = match (url, token_file, directory) {
                (Some(url), Some(token_file), _) => {
                    check_url(&url)?;
                    check_token_file(&token_file)?;
                    if let Some(ca) = &ca_file {
                        std::fs::metadata(ca)
                            .with_context(|| format!("cannot read the CA file {}", ca.display()))?;
                    }
                    SyncTransport::Https {
                        url,
                        token_file,
                        ca_file,
                    }
                }
                (_, _, Some(dir)) => {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    SyncTransport::Directory { path: Some(dir) }
                }
                _ => anyhow::bail!("give --url URL --token-file FILE, or --directory DIR"),
            };
            if let Some(t) = timeout_secs {
                config.sync.timeout_secs = t.max(1);
            }
            if let Some(r) = retry_base_ms {
                config.sync.retry_base_ms = r.max(1);
            }
            if let Some(a) = max_batch_age_secs {
                config.sync.max_batch_age_secs =
                    a.clamp(1, ballot_intake_core::ledger::MAX_BATCH_AGE_SECS);
            } else if hub {
                // To a county hub a receipt goes within a second: until it is there
                // (and in the other stations' copies of the feed) another station can
                // accept the same envelope (docs/hub.md, "The window").
                config.sync.max_batch_age_secs = 1;
            }
            // Build the transport once now, so a bad CA file or URL is reported at
            // setup rather than at the first send.
            sync::transport_for(env, &config.sync)?;
            config
                .save(env)
                .with_context(|| format!("cannot save {}", Config::path(env).display()))?;
            let described = match &config.sync.transport {
                SyncTransport::Https { url, .. } => url.clone(),
                SyncTransport::Directory { path } => path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            };
            ledger.record_sync_setup(&admin, &described, hub)?;
            if hub {
                out!("sync will send to the county hub at {described}");
            } else {
                out!("sync will send to {described}");
            }
        }
        Some(SyncCommand::Retry { batch, user }) => {
            let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
            ledger.release_sync_batch(&sup, &batch)?;
            out!("batch {batch} will be sent again by the next sync");
        }
        None => {
            let config = Config::load(env);
            let transport = sync::transport_for(env, &config.sync)?;
            let stop = Arc::new(AtomicBool::new(false));
            if args.watch {
                let stop = stop.clone();
                ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
                    .context("cannot install the SIGINT/SIGTERM handler")?;
            }
            let options = SyncOptions {
                watch: args.watch,
                max_wait: args.max_wait.map(Duration::from_secs),
                retry_base: Duration::from_millis(config.sync.retry_base_ms.max(1)),
                max_batch_age: Duration::from_secs(config.sync.max_batch_age_secs.max(1)),
            };
            note!("sending to {}", transport.describe());
            let counts = sync::run(&mut ledger, transport, &options, &stop, |b| {
                match &b.outcome {
                    SendOutcome::Acked {
                        accepted,
                        duplicates,
                        conflicts,
                    } => {
                        note!(
                            "batch {}: {} events acknowledged ({accepted} new, {duplicates} already there)",
                            b.batch_id,
                            b.events
                        );
                        for c in conflicts {
                            note!(
                                "PULL FROM TRAY: ballot {} ({}) was first received at station {}{} at {}",
                                c.ballot_id,
                                c.event_id,
                                c.first.station_id,
                                c.first
                                    .batch
                                    .map(|t| format!(", batch {t}"))
                                    .unwrap_or_default(),
                                c.first.occurred_at
                            );
                        }
                    }
                    SendOutcome::Retry { reason, .. } => {
                        note!("batch {}: will retry: {reason}", b.batch_id);
                    }
                    SendOutcome::Rejected { reason } => {
                        note!(
                            "batch {}: HELD, the backend refused it: {reason}",
                            b.batch_id
                        );
                    }
                }
            })?;
            out!(
                "nothing pending: {} events acknowledged in all{}",
                counts.acknowledged,
                if counts.withheld > 0 {
                    format!(", {} withheld (voter now confidential)", counts.withheld)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
