//! `demo` on the command line: the demo station (see `ballot_intake_core::demo`), scanned from
//! the terminal.

use anyhow::Result;
use chrono::Utc;
use std::process::ExitCode;

use ballot_intake_core::demo::{DEMO_CLERK, DEMO_SUPERVISOR, open_or_create};
use ballot_intake_core::environment::Environment;

/// Sets the demo up if needed and scans from standard input as the demo clerk.
pub fn run(env: &Environment, json: bool) -> Result<ExitCode> {
    let demo = env.demo();
    let mut ledger = open_or_create(&demo)?;
    let clerk = ledger.sign_in(DEMO_CLERK.0, DEMO_CLERK.1, Utc::now())?;
    if !json {
        note!(
            "*** DEMO STATION: not a real election; nothing recorded here is ever sent ***\n\
             ledger: {}\n\
             users: {} (PIN {}), {} (PIN {})\n\
             try: D000001 (then again: duplicate), D000003 (replaced), D003001, NOPE-1,\n\
             or the return IMb 0004012345070000000280202; use --data-dir {} with other commands",
            demo.ledger_path().display(),
            DEMO_CLERK.0,
            DEMO_CLERK.1,
            DEMO_SUPERVISOR.0,
            DEMO_SUPERVISOR.1,
            demo.data_dir.display()
        );
    }
    super::scan::scan_stdin(&mut ledger, &clerk, "demo", json)
}
