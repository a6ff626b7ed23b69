//! The command implementations: open the ledger, call the core, print the result.

use anyhow::{Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::process::ExitCode;

use super::output::print_json;
use super::pin::{PIN_ENV, VERIFIER_PIN_ENV, new_pin_from_stdin, sign_in};
use super::{
    BatchCommand, Command, ConflictCommand, ElectionCommand, FlagCommand, InitArgs, UserCommand,
};
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Batch, Ledger, NewBatch, NewElection, ScanInput, StationSetup};
use ballot_intake_core::mail_ballot;
use ballot_intake_core::scanner::ScannerSpec;
use ballot_intake_core::scanner::state::ListenerState;

fn open(env: &Environment) -> Result<Ledger> {
    Ok(Ledger::open(&env.ledger_path())?)
}

/// Runs one command.
pub fn run(env: &Environment, command: Command) -> Result<ExitCode> {
    match command {
        Command::Init(args) => init(env, args)?,
        Command::Election(cmd) => election(env, cmd)?,
        Command::User(command) => users(env, command)?,
        Command::Import { file, json, by } => import(env, &by.user, &file, json)?,
        Command::Scan(args) => return super::scan::run(env, &args),
        Command::Demo { json } => return super::demo::run(env, json),
        Command::Listen {
            user,
            scanners,
            json,
        } => return super::listen::run(env, &user, &scanners, json),
        Command::Scanners { json } => super::listen::list(json)?,
        #[cfg(feature = "gui")]
        Command::Sound { cue, volume } => {
            let volume = volume.unwrap_or(
                ballot_intake_core::config::Config::load(env)
                    .ui
                    .volume
                    .min(100),
            );
            ballot_intake_window::sound::play_and_wait(cue, f32::from(volume) / 100.0)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            out!("played the {} sound at volume {volume}", cue.as_str());
        }
        Command::Sync(args) => return super::sync::run(env, args),
        #[cfg(feature = "hub")]
        Command::Hub(args) => return super::hub::run(args),
        Command::Flag(cmd) => flag(env, cmd)?,
        Command::Conflicts { command, json } => conflicts(env, command, json)?,
        Command::Export {
            date,
            out,
            json,
            by,
        } => {
            let mut ledger = open(env)?;
            let user = sign_in(&mut ledger, &by.user, PIN_ENV)?;
            let tz = ledger.station().timezone;
            let date = date.unwrap_or_else(|| {
                let today = Utc::now().with_timezone(&tz).date_naive();
                today.pred_opt().unwrap_or(today)
            });
            let out = out.unwrap_or_else(|| env.data_dir.join("exports"));
            let r = ballot_intake_core::export::export_day(&mut ledger, date, &out, Some(&user))?;
            if let Some(aside) = &r.set_aside {
                note!(
                    "warning: {} had been changed since this station wrote it; it is kept as {}",
                    r.csv.display(),
                    aside.display()
                );
            }
            if json {
                print_json(&r.manifest)?;
            } else {
                out!(
                    "{} {}: {} rows, sha256 {}{}",
                    if r.unchanged { "unchanged" } else { "wrote" },
                    r.csv.display(),
                    r.manifest.rows,
                    r.manifest.sha256,
                    if r.unchanged {
                        " (already exported with these bytes)"
                    } else {
                        ""
                    }
                );
                out!("manifest {}", r.manifest_path.display());
                out!("signature {}", r.signature.display());
            }
        }
        Command::Batch(cmd) => batch(env, cmd)?,
        Command::Reverse {
            seq,
            user,
            reason,
            json,
        } => {
            let mut ledger = open(env)?;
            let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
            let r = ledger.reverse_event(&sup, seq, &reason)?;
            if json {
                print_json(&r)?;
            } else {
                out!(
                    "event {} reverses event {}: {}",
                    r.seq,
                    r.corrects,
                    r.reason
                );
            }
        }
        Command::Status { json } => {
            let ledger = open(env)?;
            let s = ledger.status()?;
            let scanners = scanner_status(env);
            let signing = super::signed::key_line(env);
            if json {
                let mut value = serde_json::to_value(&s)?;
                value["scanners"] = serde_json::to_value(&scanners)?;
                value["signing_key"] = serde_json::to_value(&signing)?;
                print_json(&value)?;
            } else {
                if s.demo {
                    out!("*** DEMO STATION: nothing recorded here is ever sent ***");
                }
                out!(
                    "station {} ({} County, {})",
                    s.station,
                    s.county,
                    s.timezone
                );
                out!(
                    "election {} \"{}\" on {}, check digit {}",
                    s.election.election_id,
                    s.election.name,
                    s.election.date,
                    s.election.check_digit
                );
                match &signing {
                    Some(k) => {
                        out!(
                            "signing key {} (public key {})",
                            k.fingerprint,
                            k.public_key_file
                        );
                        out!("public key (Ed25519, SPKI base64): {}", k.public_key);
                    }
                    None => out!("signing key: none yet (made at the first export)"),
                }
                out!("ballots loaded: {}", s.ballots);
                for (outcome, n) in &s.outcomes {
                    out!("  {outcome:<15}{n:>9}");
                }
                out!("  reversed       {:>9}", s.reversed);
                out!(
                    "sync: {} pending, {} in flight, {} held, {} acknowledged{}{}",
                    s.sync.pending,
                    s.sync.in_flight,
                    s.sync.held,
                    s.sync.acknowledged,
                    s.sync
                        .last_success
                        .as_deref()
                        .map(|t| format!("; last success {t}"))
                        .unwrap_or_default(),
                    s.sync
                        .last_error
                        .as_deref()
                        .map(|e| format!("; last error: {e}"))
                        .unwrap_or_default()
                );
                if s.hub.enabled {
                    out!(
                        "county hub: {} cross-station duplicate(s) to pull, {} resolved; {} receipt(s) of other stations known{}",
                        s.hub.conflicts_open,
                        s.hub.conflicts_resolved,
                        s.hub.county_receipts,
                        s.hub
                            .feed_pulled_at
                            .as_deref()
                            .map(|t| format!(", feed read {t}"))
                            .unwrap_or_default()
                    );
                }
                for b in &s.open_batches {
                    out!(
                        "open batch {} by {} since {}: {} accepted",
                        b.batch,
                        b.opened_by,
                        b.opened_at,
                        b.accepted
                    );
                }
                for sc in &scanners {
                    out!(
                        "scanner {}: {}{}",
                        sc.spec,
                        sc.state,
                        sc.last_code_at
                            .as_deref()
                            .map(|t| format!(", last code {t}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        Command::Verify { json } => {
            let mut ledger = open(env)?;
            let report = ledger.verify()?;
            if json {
                print_json(&report)?;
            } else if report.ok() {
                out!(
                    "ledger intact: {} audit rows, {} events; chain head {}",
                    report.audit_rows,
                    report.events,
                    report.head_hash
                );
            } else {
                for p in &report.problems {
                    note!("BROKEN: {p}");
                }
                note!("ledger {} failed verification", env.ledger_path().display());
            }
            return Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Audit(super::AuditCommand::Export {
            by,
            from,
            to,
            out,
            json,
        }) => {
            let mut ledger = open(env)?;
            let user = sign_in(&mut ledger, &by.user, PIN_ENV)?;
            super::signed::audit_export(&mut ledger, &user, from, to, &out, json)?;
        }
        Command::Report(cmd) => super::signed::report(&mut open(env)?, cmd)?,
        Command::VerifyFile {
            file,
            public_key,
            json,
        } => return super::signed::verify_file(env, &file, public_key.as_deref(), json),
    }
    Ok(ExitCode::SUCCESS)
}

/// A configured scanner as `status` shows it.
#[derive(Serialize)]
struct ScannerLine {
    spec: String,
    /// connected, disconnected, or not listening (no `listen` is running).
    state: String,
    since: Option<String>,
    reason: Option<String>,
    last_code_at: Option<String>,
}

/// The configured scanners with what the running listener last wrote about them.
fn scanner_status(env: &Environment) -> Vec<ScannerLine> {
    let config = ballot_intake_core::config::Config::load(env);
    let state = ListenerState::load(&env.data_dir);
    let alive = state.listener_alive();
    config
        .scanners
        .iter()
        .map(|sc| {
            let key = sc
                .spec
                .parse::<ScannerSpec>()
                .map(|s| s.source().to_string())
                .unwrap_or_default();
            let known = state.scanners.get(&key);
            let state_word = match known {
                Some(s) if alive && s.connected => "connected",
                Some(_) if alive => "disconnected",
                _ => "not listening",
            };
            ScannerLine {
                spec: sc.spec.clone(),
                state: state_word.to_string(),
                since: known.map(|s| s.since.clone()),
                reason: known.and_then(|s| s.reason.clone()),
                last_code_at: known.and_then(|s| s.last_code_at.clone()),
            }
        })
        .collect()
}

fn init(env: &Environment, a: InitArgs) -> Result<()> {
    let station = StationSetup {
        station_id: a.station,
        county: a.county,
        timezone: a.timezone,
        election: NewElection {
            election_id: a.election,
            name: a.election_name,
            date: a.election_date,
            check_digit: a.check_digit,
        },
        demo: false,
    };
    // Refused before the PIN is asked for when a station is already there.
    if env.ledger_path().exists() {
        return Err(
            ballot_intake_core::ledger::LedgerError::AlreadyInitialized(env.ledger_path()).into(),
        );
    }
    let pin = new_pin_from_stdin(&a.admin)?;
    // The station, its election and its administrator at once, or nothing.
    let made = ballot_intake_core::setup::set_up(
        env,
        &ballot_intake_core::setup::FirstRun {
            station: station.clone(),
            admin: a.admin.clone(),
            pin,
        },
    )?;
    out!(
        "signing key {} made; its public key for the county and auditors is {}",
        made.key_fingerprint,
        made.public_key.display()
    );
    out!(
        "station {} set up in {} with election {} active; administrator {}",
        station.station_id,
        made.ledger.display(),
        station.election.election_id,
        a.admin
    );
    Ok(())
}

fn election(env: &Environment, cmd: ElectionCommand) -> Result<()> {
    let mut ledger = open(env)?;
    match cmd {
        ElectionCommand::Add {
            election,
            election_name,
            election_date,
            check_digit,
            activate,
            by,
        } => {
            let admin = sign_in(&mut ledger, &by.user, PIN_ENV)?;
            ledger.add_election(
                &admin,
                &NewElection {
                    election_id: election.clone(),
                    name: election_name,
                    date: election_date,
                    check_digit,
                },
                activate,
            )?;
            out!(
                "added election {election}{}",
                if activate { " (active)" } else { "" }
            );
        }
        ElectionCommand::Activate { election, by } => {
            let admin = sign_in(&mut ledger, &by.user, PIN_ENV)?;
            ledger.activate_election(&admin, &election)?;
            out!("election {election} is now active");
        }
        ElectionCommand::List { json } => {
            let all = ledger.elections()?;
            if json {
                print_json(&all)?;
            } else {
                for e in all {
                    out!(
                        "{} {} {:<12} \"{}\"",
                        if e.active { "*" } else { " " },
                        e.date,
                        e.election_id,
                        e.name
                    );
                }
            }
        }
    }
    Ok(())
}

fn import(env: &Environment, user: &str, file: &std::path::Path, json: bool) -> Result<()> {
    let mut ledger = open(env)?;
    let by = sign_in(&mut ledger, user, PIN_ENV)?;
    by.require_supervisor("import a mail ballot file")?;
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("importing {}", file.display()));
    let result = mail_ballot::import_file(&mut ledger, file, Some(&by), |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let summary = result?;
    if json {
        print_json(&summary)?;
    } else {
        out!(
            "imported {} into election {}: {} rows read, {} added, {} updated, {} unchanged in {:.2} s",
            summary.file,
            summary.election_id,
            summary.rows_read,
            summary.added,
            summary.updated,
            summary.unchanged,
            summary.seconds
        );
    }
    Ok(())
}

/// Reads "YYYY-MM-DD HH:MM" as the station's local time. In the repeated hour when
/// daylight saving ends, the earlier instant is taken: it never makes a timely
/// envelope late.
fn parse_local_time(text: &str, tz: chrono_tz::Tz) -> Result<chrono::DateTime<Utc>> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    ballot_intake_core::local_time::parse(text, today, tz).map_err(anyhow::Error::msg)
}

fn flag(env: &Environment, cmd: FlagCommand) -> Result<()> {
    let mut ledger = open(env)?;
    let (user, barcode, json) = match &cmd {
        FlagCommand::Undeliverable {
            user,
            barcode,
            json,
            ..
        }
        | FlagCommand::NeedsAttention {
            user,
            barcode,
            json,
            ..
        } => (user.clone(), barcode.clone(), *json),
    };
    let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
    let input = ScanInput {
        raw: barcode.as_bytes(),
        source: "keyed",
        symbology: None,
        at: Utc::now(),
        original_len: None,
    };
    let result = match cmd {
        FlagCommand::Undeliverable { reason, .. } => {
            ledger.flag_undeliverable(&sup, &input, reason)?
        }
        FlagCommand::NeedsAttention { reason, note, .. } => {
            ledger.flag_needs_attention(&sup, &input, reason, note.as_deref())?
        }
    };
    if json {
        print_json(&result)?;
    } else {
        out!(
            "ballot {} flagged {} ({}), event {}{}",
            result.ballot_id,
            result.kind,
            result.reason,
            result.seq,
            if result.will_sync {
                ""
            } else {
                "; not sent (confidential voter or demo)"
            }
        );
    }
    Ok(())
}

fn describe(b: &Batch) -> String {
    format!(
        "batch {} [{}] opened by {} at {}: {} accepted, {} scans{}{}",
        b.batch_id,
        b.status.as_str(),
        b.opened_by,
        b.opened_at,
        b.accepted_count,
        b.scans,
        b.declared_count
            .map(|d| format!(", declared {d}"))
            .unwrap_or_default(),
        b.container_id
            .as_deref()
            .map(|c| format!(", container {c}"))
            .unwrap_or_default()
    )
}

fn batch(env: &Environment, cmd: BatchCommand) -> Result<()> {
    let mut ledger = open(env)?;
    match cmd {
        BatchCommand::Open {
            user,
            container,
            seals,
            received_at,
            confirmed_by,
            json,
        } => {
            let tz = ledger.station().timezone;
            let received_at = received_at
                .as_deref()
                .map(|t| parse_local_time(t, tz))
                .transpose()?;
            let u = sign_in(&mut ledger, &user, PIN_ENV)?;
            let confirmed_by = confirmed_by
                .map(|name| sign_in(&mut ledger, &name, VERIFIER_PIN_ENV))
                .transpose()?;
            let b = ledger.open_batch(
                &u,
                &NewBatch {
                    container,
                    seals,
                    received_at,
                    confirmed_by,
                },
            )?;
            if json {
                print_json(&b)?;
            } else {
                out!("{}", describe(&b));
            }
        }
        BatchCommand::Close {
            user,
            verifier,
            count,
            batch,
            json,
        } => {
            let closer = sign_in(&mut ledger, &user, PIN_ENV)?;
            let second = sign_in(&mut ledger, &verifier, VERIFIER_PIN_ENV)?;
            let id = match batch {
                Some(id) => id,
                None => {
                    ledger
                        .current_batch(&closer)?
                        .with_context(|| {
                            format!("{user} has no open batch; name one with --batch")
                        })?
                        .batch_id
                }
            };
            let result = ledger.close_batch(id, &closer, &second, count)?;
            if json {
                print_json(&result)?;
            } else if result.discrepancy {
                out!(
                    "{}\nDISCREPANCY: {} declared but {} accepted; the batch goes to a supervisor",
                    describe(&result.batch),
                    count,
                    result.batch.accepted_count
                );
            } else {
                out!("{}", describe(&result.batch));
            }
        }
        BatchCommand::List { json } => {
            let all = ledger.batches()?;
            if json {
                print_json(&all)?;
            } else {
                for b in &all {
                    out!("{}", describe(b));
                }
            }
        }
        BatchCommand::Resolve {
            batch,
            user,
            note,
            json,
        } => {
            let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
            let b = ledger.resolve_batch(batch, &sup, &note)?;
            if json {
                print_json(&b)?;
            } else {
                out!("{}", describe(&b));
            }
        }
    }
    Ok(())
}

/// `conflicts`: the cross-station duplicates the county hub reported, and their
/// resolution.
fn conflicts(env: &Environment, command: Option<ConflictCommand>, json: bool) -> Result<()> {
    let mut ledger = open(env)?;
    if let Some(ConflictCommand::Resolve { event, note, user }) = command {
        let sup = sign_in(&mut ledger, &user, PIN_ENV)?;
        ledger.resolve_hub_conflict(&sup, event, &note)?;
        out!("the duplicate of event {event} is resolved");
        return Ok(());
    }
    let rows = ledger.hub_conflicts()?;
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        out!("no cross-station duplicates");
    }
    let tz = ledger.station().timezone;
    let local = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t).map_or_else(
            |_| t.to_string(),
            |d| d.with_timezone(&tz).format("%m/%d %H:%M").to_string(),
        )
    };
    for c in &rows {
        let what = match (&c.resolution, &c.resolved_by) {
            (Some(note), by) => format!(
                "resolved by {}: {note}",
                by.as_deref().unwrap_or("a supervisor")
            ),
            (None, _) => "PULL FROM TRAY".to_string(),
        };
        out!(
            "{what}: batch {}, ballot {} (event {}, scanned {}); first received at station {}{}, {}",
            c.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
            c.ballot_id,
            c.event_seq,
            local(&c.scanned_at),
            c.first_station,
            c.first_batch
                .map(|b| format!(" batch {b}"))
                .unwrap_or_default(),
            local(&c.first_at)
        );
    }
    Ok(())
}

/// `user add | list | disable | enable | unlock | reset-pin`, by a signed-in
/// administrator (`add` without one only for the station's first).
fn users(env: &Environment, command: UserCommand) -> Result<()> {
    let mut ledger = open(env)?;
    let by = match &command {
        UserCommand::Add { name, role, by } => {
            // An empty BALLOT_INTAKE_USER names no one.
            let admin = match by.as_deref().filter(|u| !u.is_empty()) {
                Some(by) => {
                    let admin = sign_in(&mut ledger, by, PIN_ENV)?;
                    admin.require_admin("add users")?;
                    Some(admin)
                }
                None => None,
            };
            let pin = new_pin_from_stdin(name)?;
            let user = ledger.add_user(admin.as_ref(), name, *role, &pin)?;
            out!("added {} ({})", user.name, user.role);
            return Ok(());
        }
        UserCommand::List { by, .. }
        | UserCommand::Disable { by, .. }
        | UserCommand::Enable { by, .. }
        | UserCommand::Unlock { by, .. }
        | UserCommand::ResetPin { by, .. } => &by.user,
    };
    let admin = sign_in(&mut ledger, by, PIN_ENV)?;
    match command {
        UserCommand::Add { .. } => {}
        UserCommand::List { json, .. } => {
            ledger.require_admin(&admin, "list users")?;
            let users = ledger.users(Utc::now())?;
            if json {
                print_json(&users)?;
            } else {
                for u in users {
                    let mut state = Vec::new();
                    if u.disabled {
                        state.push("disabled".to_string());
                    }
                    if let Some(t) = &u.locked_until {
                        state.push(format!("locked until {t}"));
                    }
                    out!(
                        "{:<24} {:<11} {}",
                        u.name,
                        u.role.to_string(),
                        state.join(", ")
                    );
                }
            }
        }
        UserCommand::Disable { name, .. } => {
            ledger.disable_user(&admin, &name)?;
            out!("{name} is disabled");
        }
        UserCommand::Enable { name, .. } => {
            ledger.enable_user(&admin, &name)?;
            out!("{name} is enabled");
        }
        UserCommand::Unlock { name, .. } => {
            ledger.unlock_user(&admin, &name)?;
            out!("{name} is unlocked");
        }
        UserCommand::ResetPin { name, .. } => {
            ledger.require_admin(&admin, "reset PINs")?;
            let pin = new_pin_from_stdin(&name)?;
            ledger.reset_pin(&admin, &name, &pin)?;
            out!("{name} has a new PIN");
        }
    }
    Ok(())
}
