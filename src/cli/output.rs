//! What the command line prints: one JSON line per value, and a scan's result line
//! (shared by `scan` and `listen`, which must print the same thing for the same scan).

use anyhow::Result;
use serde::Serialize;
use std::io::Write;

use ballot_intake_core::intake::Receipt;
use ballot_intake_core::ledger::ScanResult;

/// Prints a value as one line of JSON.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// The JSON line printed for each scan. Voter names never appear here: output may be
/// logged or piped where confidential voters' names must not go.
#[derive(Serialize)]
struct ScanLine<'a> {
    barcode: &'a str,
    outcome: &'a str,
    ballot_id: Option<&'a str>,
    batch: i64,
    seq: i64,
    at: &'a str,
    source: &'a str,
    symbology: Option<&'a str>,
    reason: Option<&'a str>,
    first_receipt: Option<&'a Receipt>,
    instruction: &'a str,
}

/// Prints one scan's result: a JSON object, or a line for a person.
pub fn write_result(out: &mut impl Write, r: &ScanResult, json: bool) -> std::io::Result<()> {
    // The line terminator was stripped; show what the scanner sent otherwise.
    if json {
        let line = ScanLine {
            barcode: &r.barcode,
            outcome: r.outcome.as_str(),
            ballot_id: r.ballot_id.as_deref(),
            batch: r.batch,
            seq: r.seq,
            at: &r.at,
            source: &r.source,
            symbology: r.symbology.as_deref(),
            reason: r.reason.as_deref(),
            first_receipt: r.first_receipt.as_ref(),
            instruction: &r.instruction,
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<15}{:<24} batch {:<5} {}",
            r.outcome.as_str().to_uppercase(),
            r.barcode.escape_debug().to_string(),
            r.batch,
            r.instruction
        )?;
    }
    out.flush()
}

/// Prints that one barcode was not recorded, and why, where its result would have
/// gone: a refusal the clerk acts on (scan it again later) is part of the stream of
/// results, not the end of it. In JSON, `"outcome": null` and `"recorded": false`.
pub fn write_not_recorded(
    out: &mut impl Write,
    barcode: &[u8],
    why: &str,
    json: bool,
) -> std::io::Result<()> {
    let barcode = String::from_utf8_lossy(barcode);
    if json {
        let line = serde_json::json!({
            "barcode": barcode,
            "outcome": null,
            "recorded": false,
            "reason": why,
        });
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<15}{:<24} {why}",
            "NOT RECORDED",
            barcode.escape_debug().to_string()
        )?;
    }
    out.flush()
}
