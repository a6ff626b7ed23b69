//! `sync`, `sync setup` and `sync retry`.

use anyhow::{Context, Result};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::pin::{PIN_ENV, sign_in};
use super::{SyncArgs, SyncCommand};
use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::Ledger;
use ballot_intake_core::sync::setup::{self, Destination};
use ballot_intake_core::sync::transport::SendOutcome;
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
            let dest = match (url, token_file, directory) {
                (Some(url), Some(token_file), _) => Destination::Backend {
                    url,
                    token_file,
                    ca_file,
                },
                (_, _, Some(dir)) => Destination::Folder(dir),
                _ => anyhow::bail!("give --url URL --token-file FILE, or --directory DIR"),
            };
            let described = setup::configure(env, &mut config.sync, dest, hub)?;
            if let Some(t) = timeout_secs {
                config.sync.timeout_secs = t.max(1);
            }
            if let Some(r) = retry_base_ms {
                config.sync.retry_base_ms = r.max(1);
            }
            if let Some(a) = max_batch_age_secs {
                config.sync.max_batch_age_secs =
                    a.clamp(1, ballot_intake_core::ledger::MAX_BATCH_AGE_SECS);
            }
            config
                .save(env)
                .with_context(|| format!("cannot save {}", Config::path(env).display()))?;
            ledger.record_sync_setup(&admin, &described, hub)?;
            if hub {
                out!("sync will send to the county hub at {described}");
            } else {
                out!("sync will send to {described}");
            }
        }
        Some(SyncCommand::Test) => {
            let config = Config::load(env);
            note!("trying {}", setup::describe(env, &config.sync.transport));
            match setup::test_connection(env, &config.sync, ledger.station().hub) {
                Ok(said) => out!("{said}"),
                Err(said) => anyhow::bail!("{said}"),
            }
        }
        Some(SyncCommand::Retry { batch, user }) => {
            let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
            ledger.release_sync_batch(&sup, &batch)?;
            out!("batch {batch} will be sent again by the next sync");
        }
        None => {
            let stop = Arc::new(AtomicBool::new(false));
            if args.watch {
                let stop = stop.clone();
                ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
                    .context("cannot install the SIGINT/SIGTERM handler")?;
            }
            let counts = loop {
                let config = Config::load(env);
                let transport = sync::transport_for(env, &config.sync)?;
                let options = SyncOptions {
                    watch: args.watch,
                    max_wait: args.max_wait.map(Duration::from_secs),
                    retry_base: Duration::from_millis(config.sync.retry_base_ms.max(1)),
                    max_batch_age: Duration::from_secs(config.sync.max_batch_age_secs.max(1)),
                };
                note!("sending to {}", transport.describe());
                if !args.watch {
                    break sync::run(&mut ledger, transport, &options, &stop, report_batch)?;
                }
                let watch = ConfigWatch::start(env, stop.clone())?;
                let result = sync::run(&mut ledger, transport, &options, &watch.stop, report_batch);
                if !watch.finish() {
                    break result?;
                }
                // Reopened so that what `sync setup` or the window's sync page
                // recorded (the hub flag) is read afresh.
                ledger = Ledger::open(&env.ledger_path())?;
                note!("{} changed: starting again", Config::path(env).display());
            };
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

/// What `sync` says of each batch sent.
fn report_batch(b: &sync::BatchReport) {
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
}

/// `sync --watch` follows `config.json`: the sync runs as a service that reads
/// its settings once, and an administrator changes where it sends from the
/// window (or `sync setup`), with no terminal to restart it from. A helper thread
/// looks at the file's modification time every half second; when it changes, the
/// run is stopped at its next safe point (a batch in flight stays in flight and is
/// sent again under the same id) and started again with the new settings.
struct ConfigWatch {
    /// Set by a signal or by a change of the file: what the run watches.
    stop: Arc<AtomicBool>,
    changed: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConfigWatch {
    fn start(env: &Environment, signal: Arc<AtomicBool>) -> Result<ConfigWatch> {
        let path = Config::path(env);
        let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let first = modified(&path);
        let stop = Arc::new(AtomicBool::new(false));
        let changed = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (s, c, d) = (stop.clone(), changed.clone(), done.clone());
        let thread = std::thread::Builder::new()
            .name("config-watch".into())
            .spawn(move || {
                while !d.load(Ordering::Relaxed) {
                    if signal.load(Ordering::Relaxed) {
                        s.store(true, Ordering::Relaxed);
                        return;
                    }
                    if modified(&path) != first {
                        c.store(true, Ordering::Relaxed);
                        s.store(true, Ordering::Relaxed);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
            .context("cannot start the thread that follows config.json")?;
        Ok(ConfigWatch {
            stop,
            changed,
            done,
            thread: Some(thread),
        })
    }

    /// Ends the watch; true when the run stopped because the file changed (and no
    /// signal asked the program to end).
    fn finish(mut self) -> bool {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.changed.load(Ordering::Relaxed)
    }
}
