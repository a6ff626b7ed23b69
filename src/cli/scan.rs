//! `scan`: barcodes from standard input, one per line, each recorded and committed
//! before its result line is printed, so a printed result is always in the ledger.

use anyhow::{Context, Result};
use chrono::Utc;
use std::io::BufRead;
use std::process::ExitCode;

use super::ScanArgs;
use super::output::{write_not_recorded, write_result};
use super::pin::{PIN_ENV, sign_in};
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::{Ledger, LedgerError, MAX_STORED_RAW, ScanInput, User};

/// Strips one line terminator (LF or CRLF).
fn strip_terminator(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
}

/// Runs the scan loop until standard input ends.
pub fn run(env: &Environment, args: &ScanArgs) -> Result<ExitCode> {
    let mut ledger = Ledger::open(&env.ledger_path())?;
    let user = sign_in(&mut ledger, &args.user, PIN_ENV)?;
    scan_stdin(&mut ledger, &user, &args.source, args.json)
}

/// Reads one line (up to and including its LF) into `line`, keeping at most `keep`
/// bytes of it and reading past the rest: a line without an end (`scan <
/// /dev/zero`, a stuck scanner) costs no more memory than a barcode. Returns the
/// line's whole length, or `None` at the end of the input.
fn read_capped_line(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<Option<u64>> {
    line.clear();
    let mut length = 0u64;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((length > 0).then_some(length));
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = keep.saturating_sub(line.len()).min(take);
        line.extend_from_slice(&buf[..room]);
        input.consume(take);
        length += take as u64;
        if done {
            return Ok(Some(length));
        }
    }
}

/// Reads barcodes from standard input into `user`'s open batch (opening one if
/// needed), printing each result once it is committed.
pub fn scan_stdin(ledger: &mut Ledger, user: &User, source: &str, json: bool) -> Result<ExitCode> {
    let batch = ledger.open_or_current_batch(user)?;
    if !json {
        note!(
            "{} scanning into batch {} of election {}; end with Ctrl-D",
            user.name,
            batch.batch_id,
            batch.election_id
        );
    }
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut line = Vec::with_capacity(128);
    loop {
        let Some(length) = read_capped_line(&mut input, &mut line, MAX_STORED_RAW)
            .context("could not read standard input")?
        else {
            break;
        };
        let cut = length > MAX_STORED_RAW as u64;
        strip_terminator(&mut line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = Utc::now();
        let result = match ledger.record_scan(
            user,
            batch.batch_id,
            &ScanInput {
                raw: &line,
                source,
                symbology: None,
                at,
                original_len: cut.then_some(length),
            },
        ) {
            Err(e @ LedgerError::NoBallots(_)) => {
                write_not_recorded(&mut out, &line, &e.to_string(), json)
                    .context("could not print a scan's result")?;
                continue;
            }
            other => other,
        };
        let result = result.with_context(|| {
            format!(
                "barcode {:?} was NOT recorded",
                String::from_utf8_lossy(&line)
            )
        })?;
        write_result(&mut out, &result, json).with_context(|| {
            format!(
                "barcode {:?} was recorded as {} (event {}) but its result could not be printed",
                result.barcode, result.outcome, result.seq
            )
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::strip_terminator;

    #[test]
    fn strips_one_terminator_only() {
        for (input, want) in [
            (&b"B1\r\n"[..], &b"B1"[..]),
            (b"B1\n", b"B1"),
            (b"B1", b"B1"),
            (b"B1\r\r\n", b"B1\r"),
            (b"\n", b""),
        ] {
            let mut v = input.to_vec();
            strip_terminator(&mut v);
            assert_eq!(v, want);
        }
    }
}
