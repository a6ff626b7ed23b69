//! Shared pieces of the benchmarks: a generated mail ballot file and percentiles.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// The election id the generated file uses.
pub const ELECTION: &str = "BENCH-2026";

/// The columns of the generated file (19, every optional column present, as a
/// county's full export has them).
pub const HEADER: &str = "election_id,ballot_id,voter_id,last_name,first_name,middle_name,residential_zip,precinct,ballot_style,ballot_status,confidential,uocava,issued_date,mailing_address,mailing_city,mailing_state,mailing_zip,return_imb,outbound_imb";

/// Surnames, most common first; drawn with a skew (a few are very common, as in a
/// real roll), with accents, apostrophes, hyphens, a comma and quotes, written
/// quoted as a county's export writes them.
const LAST: [&str; 40] = [
    "Smith",
    "García",
    "Johnson",
    "Martínez",
    "Nguyễn",
    "Brown",
    "Rodríguez",
    "O'Brien",
    "Müller",
    "Lee",
    "Hernández",
    "Williams",
    "Núñez",
    "Kowalski",
    "D'Angelo",
    "García-López",
    "Smith, Jr.",
    "Ó Súilleabháin",
    "Begay",
    "Yazzie",
    "Østergård",
    "Chávez",
    "Tanaka",
    "Patel",
    "Kim",
    "Đặng",
    "Van der Berg",
    "MacDonald",
    "St. John",
    "Björk",
    "Abdi",
    "Schäfer",
    "Lefèvre",
    "Moreno",
    "Cruz",
    "Wójcik",
    "Iyer",
    "Sánchez",
    "Okafor",
    "Zhang",
];
const FIRST: [&str; 24] = [
    "Maria",
    "James",
    "José",
    "Mary",
    "Wei",
    "Siobhán",
    "Robert \"Bobby\"",
    "Fatima",
    "Olga",
    "Sam",
    "Zoë",
    "Jean-Luc",
    "Aarav",
    "Chloé",
    "Mohammed",
    "Ana",
    "Dmitri",
    "Ngozi",
    "Hiroshi",
    "Renée",
    "Connor",
    "Lucía",
    "Thảo",
    "Elizabeth",
];
const STREETS: [&str; 8] = [
    "Main St",
    "Colfax Ave",
    "Calle Ocho",
    "Elm St, Unit B",
    "Federal Blvd",
    "Peña Blvd",
    "County Road 12",
    "1st Ave",
];

/// The `init` arguments of the benchmark station (election day far ahead, so every
/// scan is on time).
pub const INIT_ARGS: [&str; 15] = [
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
    "--admin",
    ADMIN,
];

/// The benchmark station's administrator (made by `init`, whose standard input is
/// [`ADMIN_PIN`]); the benchmarks run the administrative commands as them.
pub const ADMIN: &str = "admin";
/// The administrator's PIN.
pub const ADMIN_PIN: &str = "864209";
/// `init`'s standard input: the administrator's PIN.
pub const INIT_INPUT: &str = "864209\n";

/// A bijection on u32 that scatters consecutive numbers: ballot ids, voter ids and
/// the file's order are unrelated to each other, as in a county's file (where none of
/// them is in the order of another).
fn scramble(x: u32, key: u32) -> u32 {
    let mut v = x ^ key;
    v = v.wrapping_mul(0x9E37_79B1);
    v ^= v >> 15;
    v = v.wrapping_mul(0x85EB_CA77);
    v ^ (v >> 13)
}

/// The ballot id of ballot `i`.
pub fn ballot_id(i: u64) -> String {
    format!(
        "B{:010}",
        scramble(u32::try_from(i).unwrap_or(u32::MAX), 0x5EED)
    )
}

/// splitmix64: the benchmark's own deterministic random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A skewed pick in 0..n: about half the picks fall in the first eighth.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.next() % n as u64;
        let b = self.next() % n as u64;
        let c = self.next() % n as u64;
        a.min(b).min(c) as usize
    }
}

/// One in 50 ballots is VOID, replaced by a reissue to the same voter.
fn is_void(i: u64) -> bool {
    i % 50 == 49
}

/// The ballots an update turns VOID (reissued): every ACTIVE ballot with `i % 50 ==
/// 7`, as many as asked for (spread over the whole file).
fn voided_by_update(i: u64, rows: u64, count: u64) -> bool {
    i % 50 == 7 && i / 50 < count && i < rows
}

/// A county's mail ballot file of `rows` ballots in random order (the rows shuffled):
/// one in 50 VOID with its voter's reissue elsewhere in the file, one in 200
/// confidential, one in 100 UOCAVA, names with accents, quotes and commas, a middle
/// name on most rows, every optional column present, both IMbs.
pub fn write_ballot_file(path: &Path, rows: u64) -> std::io::Result<()> {
    write_file(path, rows, 0)
}

/// The same county's file `reissued` ballots later: those many ACTIVE ballots now
/// VOID, each with a new ACTIVE reissue to its voter (so `reissued` rows changed and
/// `reissued` added), in a fresh random order.
pub fn write_updated_file(path: &Path, rows: u64, reissued: u64) -> std::io::Result<()> {
    write_file(path, rows, reissued)
}

fn write_file(path: &Path, rows: u64, reissued: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(f, "{HEADER}")?;
    // Reissues of the update are numbered after the original ballots, in the order
    // of the ballots they replace.
    let replaced: Vec<u64> = (0..rows)
        .filter(|&i| voided_by_update(i, rows, reissued))
        .collect();
    let total = rows + replaced.len() as u64;
    // The order: a Fisher-Yates shuffle of every row (4 bytes a row in this process).
    let mut order: Vec<u32> = (0..u32::try_from(total).unwrap_or(u32::MAX)).collect();
    let mut rng = Rng(rows ^ (reissued << 40) ^ 0x00C0_FFEE);
    for k in (1..order.len()).rev() {
        let j = (rng.next() % (k as u64 + 1)) as usize;
        order.swap(k, j);
    }
    for &slot in &order {
        let i = u64::from(slot);
        let (status, voter) = if i >= rows {
            ("ACTIVE", replaced[(i - rows) as usize])
        } else if is_void(i) {
            // A VOID ballot's voter is the voter of the next ballot (its reissue).
            ("VOID", i + 1)
        } else if voided_by_update(i, rows, reissued) {
            ("VOID", i)
        } else {
            ("ACTIVE", i)
        };
        // Per-voter details come from the voter, so a reissue matches its original.
        let mut v = Rng(voter.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let last = LAST[v.skewed(LAST.len())];
        let first = FIRST[v.skewed(FIRST.len())];
        let middle = if v.next() % 10 < 7 {
            FIRST[v.skewed(FIRST.len())].replace('"', "")
        } else {
            String::new()
        };
        let zip = 80_000 + v.skewed(700) as u64;
        let precinct = 100 + v.skewed(900) as u64;
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        writeln!(
            f,
            "{ELECTION},{},V{:010},{},{},{},{zip},{precinct},S{},{status},{},{},2026-10-{:02},{},Denver,CO,{zip},00040123456{:09}{zip}1234,00700123456{:09}{zip}1234",
            ballot_id(i),
            scramble(u32::try_from(voter).unwrap_or(u32::MAX), 0xB0A7),
            quote(last),
            quote(first),
            middle,
            precinct % 40,
            if voter % 200 == 7 { "Y" } else { "N" },
            if voter % 100 == 3 { "Y" } else { "N" },
            if i >= rows { 20 } else { 1 + i % 14 },
            quote(&format!(
                "{} {}",
                1 + v.next() % 9999,
                STREETS[v.skewed(STREETS.len())]
            )),
            i,
            i,
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
