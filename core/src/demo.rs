//! The demo station: one anyone can try without setting a station up. It lives in
//! its own folder under the data directory, is marked as a demo in its ledger (so
//! nothing it records ever enters the outbox), and has a clerk and a supervisor whose
//! PINs are shown, because they protect nothing.

use anyhow::{Context, Result};
use chrono::{Days, Utc};

use crate::auth::Role;
use crate::barcode::CheckDigit;
use crate::environment::Environment;
use crate::ledger::{Ledger, NewElection, StationSetup};

/// The demo's mail ballot file, built into the binary so the demo works anywhere.
const DEMO_BALLOTS: &str = include_str!("../../fixtures/demo/ballots.csv");
/// The demo clerk and PIN.
pub const DEMO_CLERK: (&str, &str) = ("demo-clerk", "111111");
/// The demo supervisor and PIN.
pub const DEMO_SUPERVISOR: (&str, &str) = ("demo-supervisor", "999999");
/// The demo administrator and PIN (the settings screen).
pub const DEMO_ADMIN: (&str, &str) = ("demo-admin", "555555");

/// Creates the demo station in `env` unless it exists; returns it open.
pub fn open_or_create(env: &Environment) -> Result<Ledger> {
    let path = env.ledger_path();
    if path.exists() {
        let mut ledger = Ledger::open(&path)?;
        // Demo stations made before the settings screen had no administrator.
        match ledger.add_user(None, DEMO_ADMIN.0, Role::Admin, DEMO_ADMIN.1) {
            Ok(_) | Err(crate::ledger::LedgerError::UserExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(ledger);
    }
    let today = Utc::now().date_naive();
    let mut ledger = Ledger::create(
        &path,
        &StationSetup {
            station_id: "DEMO".into(),
            county: "Demo".into(),
            timezone: "America/Denver".into(),
            election: NewElection {
                election_id: "DEMO".into(),
                name: "Demo General Election".into(),
                // Two weeks ahead, so that scans are on time.
                date: today.checked_add_days(Days::new(14)).unwrap_or(today),
                check_digit: CheckDigit::None,
            },
            demo: true,
        },
    )?;
    let file = env.data_dir.join("demo-ballots.csv");
    std::fs::write(&file, DEMO_BALLOTS)
        .with_context(|| format!("could not write {}", file.display()))?;
    crate::mail_ballot::import_file(&mut ledger, &file, None, |_, _| {})?;
    ledger.add_user(None, DEMO_CLERK.0, Role::Clerk, DEMO_CLERK.1)?;
    ledger.add_user(None, DEMO_SUPERVISOR.0, Role::Supervisor, DEMO_SUPERVISOR.1)?;
    ledger.add_user(None, DEMO_ADMIN.0, Role::Admin, DEMO_ADMIN.1)?;
    Ok(ledger)
}
