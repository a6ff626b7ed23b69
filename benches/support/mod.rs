//! Shared pieces of the benchmarks: a generated mail ballot file and percentiles.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// The election id the generated file uses.
pub const ELECTION: &str = "BENCH-2026";

/// The columns of the generated file (18, as a county's export might have).
pub const HEADER: &str = "election_id,ballot_id,voter_id,last_name,first_name,middle_name,residential_zip,precinct,ballot_style,ballot_status,confidential,uocava,issued_date,mailing_address,mailing_city,mailing_state,mailing_zip,return_imb";

const LAST: [&str; 8] = [
    "Garcia",
    "Smith",
    "Nguyễn",
    "O'Brien",
    "Martínez",
    "Johnson",
    "Lee",
    "Müller",
];
const FIRST: [&str; 8] = [
    "Ana", "José", "Wei", "Siobhán", "John", "Fatima", "Olga", "Sam",
];

/// The `init` arguments of the benchmark station (election day far ahead, so every
/// scan is on time).
pub const INIT_ARGS: [&str; 13] = [
    "init",
    "--station",
    "B1",
    "--county",
    "Bench",
    "--election",
    ELECTION,
    "--election-name",
    "Bench",
    "--election-date",
    "2099-11-03",
    "--timezone",
    "America/Denver",
];

/// The ballot id of row `i`.
pub fn ballot_id(i: u64) -> String {
    format!("B{i:09}")
}

/// A step coprime with `rows`, so that `j * step % rows` visits every row once in
/// an order that looks random (a county's file is sorted by voter, precinct or name,
/// never by ballot id: rows in key order would measure only the best case).
fn scatter_step(rows: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut step = (0x9E37_79B9_7F4A_7C15_u64 % rows.max(1)).max(1);
    while gcd(step, rows) != 1 {
        step += 1;
    }
    step
}

/// Writes `rows` ballots in scattered order: one in 50 VOID (with its voter's
/// reissue elsewhere in the file), one in 200 confidential, one in 100 UOCAVA,
/// every one with a return IMb; names with accents and quotes, addresses with commas.
pub fn write_ballot_file(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(f, "{HEADER}")?;
    let step = scatter_step(rows);
    for j in 0..rows {
        let i =
            u64::try_from(u128::from(j) * u128::from(step) % u128::from(rows.max(1))).unwrap_or(j);
        let status = if i % 50 == 49 { "VOID" } else { "ACTIVE" };
        // A VOID ballot's voter is the voter of the next row (the reissue).
        let voter = if i % 50 == 49 { i + 1 } else { i };
        let last = LAST[(i % 8) as usize];
        let first = FIRST[(i / 8 % 8) as usize];
        writeln!(
            f,
            "{ELECTION},{},V{voter:09},\"{last}\",{first},M,80{:03},{},S{},{status},{},{},2026-10-{:02},\"{} Main St, Apt {}\",Denver,CO,80{:03},0004012345{i:010}80202",
            ballot_id(i),
            i % 1000,
            100 + i % 700,
            i % 40,
            if i % 200 == 7 { "Y" } else { "N" },
            if i % 100 == 3 { "Y" } else { "N" },
            1 + i % 28,
            i % 9999,
            i % 30,
            i % 1000,
        )?;
    }
    f.flush()
}

/// The p-th percentile (0-100) of sorted microsecond samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Reads a positive count from an environment variable, or the default.
pub fn env_count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
