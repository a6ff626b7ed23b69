//! The station's signed files from the command line: `audit export` (the NIST event
//! log), `report` (custody sheets and day reconciliations as PDF), `verify-file`, and
//! the signing key's line in `status`.

use anyhow::{Result, anyhow};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

use super::output::print_json;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::signing::{PUBLIC_KEY_FILE, StationKey};

/// The station's signing key as `status` shows it.
#[derive(Serialize)]
pub struct KeyLine {
    /// `SHA256:` and the hex digest of the public key.
    pub fingerprint: String,
    /// The public key's file (PEM).
    pub public_key_file: String,
    /// The public key itself (SubjectPublicKeyInfo, base64: the PEM's one body line),
    /// so an auditor can copy it from the screen without the file.
    pub public_key: String,
}

/// The station's key, if it has one (`status` never makes one: it only looks).
pub fn key_line(env: &Environment) -> Option<KeyLine> {
    if !env
        .data_dir
        .join(ballot_intake_core::signing::KEY_FILE)
        .exists()
    {
        return None;
    }
    match StationKey::load(&env.data_dir) {
        Ok(k) => Some(KeyLine {
            fingerprint: k.fingerprint(),
            public_key_file: k.public_path().display().to_string(),
            public_key: pem_body(&k.public_pem()),
        }),
        Err(e) => {
            note!("warning: signing key: {e}");
            None
        }
    }
}

/// The base64 lines of a PEM, joined: what lies between its BEGIN and END lines.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect()
}

/// `verify-file FILE [--public-key PEM]`.
pub fn verify_file(
    env: &Environment,
    file: &Path,
    public_key: Option<&Path>,
    json: bool,
) -> Result<ExitCode> {
    let key_path = public_key.map_or_else(|| env.data_dir.join(PUBLIC_KEY_FILE), Path::to_path_buf);
    let pem = std::fs::read_to_string(&key_path).map_err(|e| {
        anyhow!(
            "cannot read the public key {}: {e}; give the station's public key with --public-key FILE \
             (`ballot-intake status` on the station names it)",
            key_path.display()
        )
    })?;
    let name = file.to_string_lossy();
    if !(name.ends_with(".csv") || name.ends_with(".manifest.json")) {
        // A report or an event log: its own signature beside it.
        let sig = ballot_intake_core::signing::signature_path(file);
        return match ballot_intake_core::signing::verify_file(file, &sig, &pem) {
            Ok(by) => {
                out!("OK {}: signed by {by}", file.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                note!("NOT VERIFIED {}: {e}", file.display());
                Ok(ExitCode::from(1))
            }
        };
    }
    match ballot_intake_core::verify_file::verify(file, &pem) {
        Ok(v) => {
            if json {
                print_json(&v)?;
            } else {
                out!(
                    "OK {}: {} rows of station {} for {}, sha256 {}, as its manifest says; \
                     the manifest is signed by {}",
                    v.csv.display(),
                    v.rows,
                    v.station_id,
                    v.date,
                    v.sha256,
                    v.signed_by
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            note!("NOT VERIFIED {}: {e}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// `audit export`: the event log and its documentation, signed.
pub fn audit_export(
    ledger: &mut ballot_intake_core::ledger::Ledger,
    user: &ballot_intake_core::ledger::User,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    out: &Path,
    json: bool,
) -> Result<()> {
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(anyhow!("--from {f} is after --to {t}"));
    }
    let r = ballot_intake_core::event_log::export_event_log(ledger, from, to, out, Some(user))?;
    if json {
        print_json(&r)?;
    } else {
        out!(
            "wrote {}: {} audit entries{}",
            r.log.display(),
            r.entries,
            match (r.first_seq, r.last_seq) {
                (Some(a), Some(b)) => format!(" ({a} to {b})"),
                _ => String::new(),
            }
        );
        out!("documentation {}", r.documentation.display());
        out!(
            "the same in XML: {} and {}",
            r.log_xml.display(),
            r.documentation_xml.display()
        );
        for s in &r.signatures {
            out!("signature {}", s.display());
        }
    }
    Ok(())
}

/// `report batch N` / `report day DATE`.
pub fn report(
    ledger: &mut ballot_intake_core::ledger::Ledger,
    cmd: super::ReportCommand,
) -> Result<()> {
    use ballot_intake_core::report;
    let (by, out, pdf, what) = match cmd {
        super::ReportCommand::Batch { batch, by, out } => {
            let b = ledger.batch(batch)?;
            let user = super::pin::sign_in(ledger, &by.user, super::pin::PIN_ENV)?;
            (
                user,
                out,
                report::batch_sheet(ledger, &b)?,
                format!("batch {batch}"),
            )
        }
        super::ReportCommand::Day { date, by, out } => {
            let user = super::pin::sign_in(ledger, &by.user, super::pin::PIN_ENV)?;
            (
                user,
                out,
                report::day_report(ledger, date)?,
                format!("day {date}"),
            )
        }
    };
    let written = report::write(ledger, pdf, &out, &what, Some(&by))?;
    out!(
        "wrote {} ({}, {} page(s)); signature {}",
        written.pdf.display(),
        what,
        written.pages,
        written.signature.display()
    );
    Ok(())
}
