//! Where the command line gets PINs: an environment variable for scripts, or a
//! prompt on the controlling terminal (never echoed). Standard input is left alone,
//! because `scan` reads barcodes from it.

use anyhow::{Context, Result, bail};
use chrono::Utc;
use std::io::{BufRead, IsTerminal};

use ballot_intake_core::ledger::{Ledger, User};

/// The variable holding the signing-in user's PIN.
pub const PIN_ENV: &str = "BALLOT_INTAKE_PIN";
/// The variable holding the verifying (second) user's PIN.
pub const VERIFIER_PIN_ENV: &str = "BALLOT_INTAKE_VERIFIER_PIN";

/// Reads `who`'s PIN from `var`, or prompts for it on the terminal.
pub fn pin_for(who: &str, var: &str) -> Result<String> {
    if let Ok(pin) = std::env::var(var) {
        return Ok(pin);
    }
    if std::io::stderr().is_terminal() {
        return rpassword::prompt_password(format!("PIN for {who}: "))
            .with_context(|| format!("could not read the PIN for {who} from the terminal"));
    }
    bail!("no PIN for {who}: set {var} or run on a terminal to be asked")
}

/// Reads a new PIN from standard input: typed twice on a terminal, or one line from
/// a pipe.
pub fn new_pin_from_stdin(who: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New PIN for {who} (6+ digits): "))?;
        let again = rpassword::prompt_password("Same PIN again: ")?;
        if first != again {
            bail!("the two PINs differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the PIN from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Signs `name` in with the PIN from `var` (or a prompt).
pub fn sign_in(ledger: &mut Ledger, name: &str, var: &str) -> Result<User> {
    let pin = pin_for(name, var)?;
    Ok(ledger.sign_in(name, &pin, Utc::now())?)
}
