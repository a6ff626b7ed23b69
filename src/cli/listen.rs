//! `listen`: the intake on live scanners until stopped, and `scanners`: what is
//! plugged in.
//!
//! Each scanner runs in its own named thread (see `scanner::serial` and
//! `scanner::usb`); this loop records every code they deliver and prints its result
//! after the commit, like `scan`. SIGINT and SIGTERM set a flag: the scan being
//! recorded finishes, the readers stop, the codes they had already received are
//! recorded too, and the command exits 0.

use anyhow::{Context, Result, bail};
use chrono::Utc;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use super::output::{print_json, write_not_recorded, write_result};
use super::pin::{PIN_ENV, sign_in};
use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Batch, Ledger, LedgerError, ScanInput, User, format_time};
use ballot_intake_core::scanner::state::ListenerState;
use ballot_intake_core::scanner::{DeviceMessage, ScanEvent, ScannerSpec, serial, usb};

/// How often, at most, the state file is rewritten while codes stream in.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// A device event on stderr: a line of text, or JSON with `--json`.
#[derive(Serialize)]
struct DeviceLine<'a> {
    device: &'a str,
    event: &'a str,
    detail: Option<&'a str>,
}

fn report(json: bool, device: &str, event: &str, detail: Option<&str>) {
    if json {
        let line = DeviceLine {
            device,
            event,
            detail,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            note!("{text}");
        }
    } else {
        match detail {
            Some(d) => note!("{device}: {event}: {d}"),
            None => note!("{device}: {event}"),
        }
    }
}

struct Session<'a> {
    ledger: &'a mut Ledger,
    user: &'a User,
    batch: &'a Batch,
    json: bool,
    state: ListenerState,
    env: &'a Environment,
    state_written: Instant,
}

impl Session<'_> {
    fn record(&mut self, e: &ScanEvent) -> Result<()> {
        let source = e.source.to_string();
        let result = match self.ledger.record_scan(
            self.user,
            self.batch.batch_id,
            &ScanInput {
                raw: &e.raw,
                source: &source,
                symbology: e.symbology.as_deref(),
                at: e.received_at,
                original_len: None,
            },
        ) {
            Err(why @ LedgerError::NoBallots(_)) => {
                let mut out = std::io::stdout().lock();
                return write_not_recorded(&mut out, &e.raw, &why.to_string(), self.json)
                    .context("could not print a scan's result");
            }
            other => other,
        };
        let result = result.with_context(|| {
            format!(
                "barcode {:?} from {source} was NOT recorded",
                String::from_utf8_lossy(&e.raw)
            )
        })?;
        let mut out = std::io::stdout().lock();
        write_result(&mut out, &result, self.json).with_context(|| {
            format!(
                "barcode {:?} was recorded as {} (event {}) but its result could not be printed",
                result.barcode, result.outcome, result.seq
            )
        })?;
        let s = self.state.scanners.entry(source).or_default();
        s.codes += 1;
        s.last_code_at = Some(result.at);
        if self.state_written.elapsed() >= STATE_EVERY {
            self.save_state();
        }
        Ok(())
    }

    fn device(&mut self, source: String, connected: bool, reason: Option<String>) {
        let s = self.state.scanners.entry(source).or_default();
        s.connected = connected;
        s.since = format_time(Utc::now());
        s.reason = reason;
        self.save_state();
    }

    fn save_state(&mut self) {
        self.state.updated_at = format_time(Utc::now());
        if let Err(e) = self.state.save(&self.env.data_dir) {
            log::warn!("cannot write the scanner state file: {e}");
        }
        self.state_written = Instant::now();
    }

    fn handle(&mut self, m: DeviceMessage) -> Result<()> {
        match m {
            DeviceMessage::Scan(e) => self.record(&e)?,
            DeviceMessage::Connected(s) => {
                report(self.json, &s.to_string(), "connected", None);
                self.device(s.to_string(), true, None);
            }
            DeviceMessage::Disconnected { source, reason } => {
                report(
                    self.json,
                    &source.to_string(),
                    "disconnected",
                    Some(&reason),
                );
                self.device(source.to_string(), false, Some(reason));
            }
            DeviceMessage::DoubleRead { source, raw } => {
                let code = String::from_utf8_lossy(&raw);
                log::info!("{source}: double read of {code:?} suppressed");
                report(
                    self.json,
                    &source.to_string(),
                    "double read (not scanned)",
                    Some(&code),
                );
            }
            DeviceMessage::Garbled { source, what } => {
                report(self.json, &source.to_string(), "garbled", Some(&what));
            }
        }
        Ok(())
    }
}

/// Runs `listen`.
pub fn run(
    env: &Environment,
    user_name: &str,
    specs: &[ScannerSpec],
    json: bool,
) -> Result<ExitCode> {
    let mut config = Config::load(env);
    let specs: Vec<ScannerSpec> = if specs.is_empty() {
        config
            .scanners
            .iter()
            .filter_map(|s| s.spec.parse().ok())
            .collect()
    } else {
        specs.to_vec()
    };
    if specs.is_empty() {
        bail!(
            "no scanner given: use --scanner serial:PATH[@BAUD] or --scanner usb:VID:PID (see `ballot-intake scanners`)"
        );
    }
    let mut ledger = Ledger::open(&env.ledger_path())?;
    let user = sign_in(&mut ledger, user_name, PIN_ENV)?;
    let batch = ledger.open_or_current_batch(&user)?;

    // Remember the scanners for next time (and for `status`), keeping their settings.
    let scanners: Vec<_> = specs.iter().map(|s| config.scanner(s)).collect();
    config.scanners.clone_from(&scanners);
    if let Err(e) = config.save(env) {
        log::warn!("cannot save the scanner configuration: {e}");
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("cannot install the SIGINT/SIGTERM handler")?;
    }
    let (tx, rx) = channel();
    let mut readers = Vec::new();
    for (spec, sc) in specs.iter().zip(&scanners) {
        let handle = match spec {
            ScannerSpec::Serial { path, baud } => {
                let settings = sc.serial_settings(path, *baud);
                settings
                    .validate()
                    .map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
                serial::spawn(settings, tx.clone(), stop.clone())
            }
            ScannerSpec::Usb { vid, pid } => usb::spawn(
                *vid,
                *pid,
                sc.usb_layout(*vid, *pid),
                Duration::from_millis(sc.serial.double_read_ms),
                tx.clone(),
                stop.clone(),
            ),
        }
        .with_context(|| format!("cannot start the reader for {spec}"))?;
        readers.push(handle);
    }
    drop(tx);
    if !json {
        note!(
            "{} listening on {} scanner(s) into batch {} of election {}; Ctrl-C to stop",
            user.name,
            specs.len(),
            batch.batch_id,
            batch.election_id
        );
    }
    let mut session = Session {
        ledger: &mut ledger,
        user: &user,
        batch: &batch,
        json,
        state: ListenerState {
            pid: Some(std::process::id()),
            ..ListenerState::default()
        },
        env,
        state_written: Instant::now(),
    };
    session.save_state();
    let outcome = (|| -> Result<()> {
        while !stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(m) => session.handle(m)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Stopping: the readers finish their current read; every code they had
        // received is still recorded.
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            let _ = r.join();
        }
        while let Ok(m) = rx.try_recv() {
            if let DeviceMessage::Scan(e) = m {
                session.record(&e)?;
            }
        }
        Ok(())
    })();
    session.state.pid = None;
    for s in session.state.scanners.values_mut() {
        s.connected = false;
        s.reason = Some("listener stopped".into());
    }
    session.save_state();
    std::io::stdout().flush().ok();
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// What `scanners` prints.
#[derive(Serialize)]
struct Present {
    serial: Vec<serial::SerialPortInfo>,
    usb: Vec<usb::UsbScannerInfo>,
}

/// Runs `scanners`.
pub fn list(json: bool) -> Result<()> {
    let present = Present {
        serial: serial::list(),
        usb: usb::list(),
    };
    if json {
        return print_json(&present);
    }
    if present.serial.is_empty() && present.usb.is_empty() {
        out!("no serial ports or HID-POS scanners found");
    }
    for p in &present.serial {
        out!("{}  {}", p.spec(), p.description());
    }
    for u in &present.usb {
        out!("{}  {}", u.spec(), u.description());
    }
    Ok(())
}
