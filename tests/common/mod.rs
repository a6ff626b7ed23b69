//! Shared helpers for the integration tests: a station in a temporary directory,
//! driven through the real `ballot-intake` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::pedantic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod hub;
pub mod pg;
pub mod proxy;
pub mod receiver;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ballot-intake");

/// fiu-run's arguments (libfiu, Debian's fiu-utils): 2% of reads and writes and 5%
/// of fsyncs fail.
pub const FAULTS: [&str; 5] = [
    "-x",
    "-c",
    "enable_random name=posix/io/rw/*,probability=0.02",
    "-c",
    "enable_random name=posix/io/sync/*,probability=0.05",
];

/// Whether `tool` is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the binary on the station in `data` with exactly `vars` (none of the
/// helpers' defaults: no administrator signed in), `input` on standard input.
pub fn run_bare(data: &Path, args: &[&str], input: &str, vars: &[(&str, &str)]) -> Run {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("BALLOT_INTAKE_DATA_DIR", data)
        .env_remove("BALLOT_INTAKE_PIN")
        .env_remove("BALLOT_INTAKE_USER")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn ballot-intake");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    // Fed from another thread while the output is drained (no pipe deadlock).
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    out.into()
}

/// The fixtures folder.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The station's first administrator, made by `init` (its PIN on standard input).
pub const ADMIN: &str = "admin";
/// The administrator's PIN.
pub const ADMIN_PIN: &str = "864209";

/// Whether `args` is an administrative command, which signs a user in (`--user`).
fn administrative(args: &[&str]) -> bool {
    matches!(
        args,
        ["import", ..]
            | ["export", ..]
            | ["election", "add" | "activate", ..]
            | ["user", "add", ..]
            | ["sync", "setup", ..]
    )
}

/// The `init` arguments for election `2026-GEN` on `date` (with the first
/// administrator, [`ADMIN`]; [`Station::run`] gives `init` its PIN).
pub fn init_args<'a>(station: &'a str, date: &'a str, timezone: &'a str) -> Vec<&'a str> {
    vec![
        "init",
        "--station",
        station,
        "--county",
        "Denver",
        "--election",
        "2026-GEN",
        "--election-name",
        "2026 General",
        "--election-date",
        date,
        "--timezone",
        timezone,
        "--admin",
        ADMIN,
    ]
}

/// A station set up in its own temporary data directory.
pub struct Station {
    pub dir: tempfile::TempDir,
    /// The program run: the test build's, or an installed one.
    bin: PathBuf,
}

/// What a command printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Station {
    /// An empty data directory (no `init` yet).
    pub fn empty() -> Station {
        Station::empty_running(BIN)
    }

    /// An empty data directory whose commands run `bin` (the installed program).
    pub fn empty_running(bin: impl Into<PathBuf>) -> Station {
        Station {
            dir: tempfile::tempdir().expect("temp dir"),
            bin: bin.into(),
        }
    }

    /// A station whose active election `2026-GEN` is held on `date`, with the
    /// clerk `ana` (PIN 314159), the clerk `ben` (PIN 271828) and the supervisor
    /// `sam` (PIN 161803).
    pub fn with_election_on(date: &str) -> Station {
        Station::with_election_on_as(date, "S1")
    }

    /// As [`Station::with_election_on`], with the station id `id`.
    pub fn with_election_on_as(date: &str, id: &str) -> Station {
        Station::empty().set_up(date, id)
    }

    /// `init` of station `id` with election `2026-GEN` on `date`, and the users of
    /// [`Station::with_election_on`].
    pub fn set_up(self, date: &str, id: &str) -> Station {
        let s = self;
        s.ok(&init_args(id, date, "America/Denver"));
        s.add_user("ana", "clerk", "314159");
        s.add_user("ben", "clerk", "271828");
        s.add_user("sam", "supervisor", "161803");
        s
    }

    /// A station whose election is a month from now, so scans are on time.
    pub fn upcoming() -> Station {
        Station::upcoming_as("S1")
    }

    /// As [`Station::upcoming`], with the station id `id` (several stations of one
    /// county).
    pub fn upcoming_as(id: &str) -> Station {
        let date = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
        Station::with_election_on_as(&date, id)
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite3")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("BALLOT_INTAKE_DATA_DIR", self.dir.path())
            .env_remove("BALLOT_INTAKE_PIN")
            .env_remove("BALLOT_INTAKE_USER")
            .env_remove("BALLOT_INTAKE_VERIFIER_PIN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        // The administrative commands run as the station's administrator unless a
        // test says otherwise (`--user`, or its own variables in `run_with`).
        if administrative(args) && !args.contains(&"--user") {
            c.env("BALLOT_INTAKE_USER", ADMIN)
                .env("BALLOT_INTAKE_PIN", ADMIN_PIN);
        }
        c
    }

    /// Runs a command with `input` on stdin and extra environment variables.
    pub fn run_with(&self, args: &[&str], input: &[u8], vars: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ballot-intake");
        // Feed stdin from another thread while the output is drained, so that a long
        // input cannot deadlock against a full stdout pipe.
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || {
            // The child may exit (a refused sign-in) before reading it all.
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait");
        feeder.join().expect("stdin feeder");
        out.into()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        // `init` reads the first administrator's PIN from standard input.
        if args.first() == Some(&"init") {
            return self.run_with(args, format!("{ADMIN_PIN}\n").as_bytes(), &[]);
        }
        self.run_with(args, b"", &[])
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?} failed: {}{}", r.stdout, r.stderr);
        r
    }

    pub fn add_user(&self, name: &str, role: &str, pin: &str) {
        let r = self.run_with(
            &["user", "add", name, "--role", role],
            format!("{pin}\n").as_bytes(),
            &[],
        );
        assert_eq!(r.code, 0, "user add {name}: {}", r.stderr);
    }

    pub fn import(&self, rel: &str) -> Run {
        self.run(&["import", fixture(rel).to_str().expect("utf-8 path")])
    }

    /// Scans `lines` as `user` with `pin`, returning the JSON results.
    pub fn scan(&self, user: &str, pin: &str, lines: &str) -> (Run, Vec<serde_json::Value>) {
        let r = self.run_with(
            &["scan", "--user", user, "--json"],
            lines.as_bytes(),
            &[("BALLOT_INTAKE_PIN", pin)],
        );
        let results = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect();
        (r, results)
    }

    /// Closes `user`'s open tray with a second person's count, as the
    /// floor does before the active election may change.
    pub fn close_tray(
        &self,
        (user, pin): (&str, &str),
        (verifier, second): (&str, &str),
        count: u32,
    ) {
        let count = count.to_string();
        let r = self.run_with(
            &[
                "batch",
                "close",
                "--user",
                user,
                "--verifier",
                verifier,
                "--count",
                &count,
            ],
            b"",
            &[
                ("BALLOT_INTAKE_PIN", pin),
                ("BALLOT_INTAKE_VERIFIER_PIN", second),
            ],
        );
        assert_eq!(r.code, 0, "closing {user}'s tray failed: {}", r.stderr);
    }

    pub fn status(&self) -> serde_json::Value {
        let r = self.ok(&["status", "--json"]);
        serde_json::from_str(&r.stdout).expect("status JSON")
    }

    /// A direct connection to the ledger, for checks and tampering.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.ledger_path()).expect("open ledger")
    }

    /// A digest of every ballot row, to show an import changed nothing.
    /// Every ballot's row, each value as SQLite gave it, in key order: for comparing
    /// what an import changed row by row.
    pub fn ballot_rows(&self) -> Vec<Vec<String>> {
        let conn = self.sqlite();
        let mut stmt = conn
            .prepare("SELECT * FROM ballots ORDER BY ballot_pk")
            .expect("prepare");
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect()
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("row")
    }

    /// The ballots as one text, for "nothing changed" checks.
    pub fn ballots_digest(&self) -> String {
        self.ballot_rows()
            .iter()
            .map(|row| row.iter().map(|v| format!("{v}|")).collect::<String>() + "\n")
            .collect()
    }
}

/// A pseudo-terminal whose slave end is reachable through `link`, as a scanner's
/// stable udev symlink would be. Returns the master: the "scanner" side.
pub fn pty_at(link: &Path) -> serialport::TTYPort {
    use serialport::SerialPort;
    let (master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let name = slave.name().expect("pty name");
    // The station must be able to open the slave itself (ports are opened exclusively).
    drop(slave);
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&name, link).expect("symlink");
    master
}

/// A `scan --json` process kept running, fed one barcode at a time: for tests that
/// change something between two scans of one signed-in clerk.
pub struct Scanning {
    child: std::process::Child,
    input: Option<std::process::ChildStdin>,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Scanning {
    /// Sends one barcode and returns its result line (empty if none came).
    pub fn scan(&mut self, code: &str) -> String {
        use std::io::BufRead;
        let input = self.input.as_mut().expect("scanning");
        writeln!(input, "{code}").expect("write a barcode");
        let mut line = String::new();
        self.output.read_line(&mut line).expect("read a result");
        line
    }

    /// Sends one barcode and returns its result as JSON.
    pub fn scan_json(&mut self, code: &str) -> serde_json::Value {
        let line = self.scan(code);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON line {line:?}: {e}"))
    }

    /// Sends `code`, ends the input, and returns what else was printed and how the
    /// process ended.
    pub fn finish_with(mut self, code: &str) -> (String, Run) {
        let mut input = self.input.take().expect("scanning");
        writeln!(input, "{code}").expect("write a barcode");
        drop(input);
        self.finish()
    }

    /// Ends the input; returns what else was printed and how the process ended.
    pub fn finish(mut self) -> (String, Run) {
        drop(self.input.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.output, &mut rest).expect("read");
        let run = Run::from(self.child.wait_with_output().expect("wait"));
        (rest, run)
    }
}

impl Station {
    /// Runs a command under [`FAULTS`], as the station's administrator (ignored by
    /// the commands that need no one).
    pub fn under_faults(&self, args: &[&str]) -> Run {
        self.under(&FAULTS, args)
    }

    /// Runs a command under fiu-run with `faults` (its arguments), as
    /// [`Station::under_faults`].
    pub fn under(&self, faults: &[&str], args: &[&str]) -> Run {
        let out = self
            .wrapped(&[&["fiu-run"], faults].concat(), args)
            .env("BALLOT_INTAKE_USER", ADMIN)
            .env("BALLOT_INTAKE_PIN", ADMIN_PIN)
            .output()
            .expect("run fiu-run");
        Run::from(out)
    }

    /// The binary with `args` on this station, run by `wrapper` (a program and its
    /// arguments: fiu-run, faketime), with no user or PIN from the environment.
    pub fn wrapped(&self, wrapper: &[&str], args: &[&str]) -> Command {
        let mut c = Command::new(wrapper[0]);
        c.args(&wrapper[1..])
            .arg(BIN)
            .args(args)
            .env("BALLOT_INTAKE_DATA_DIR", self.dir.path())
            .env_remove("BALLOT_INTAKE_PIN")
            .env_remove("BALLOT_INTAKE_USER")
            .env_remove("BALLOT_INTAKE_VERIFIER_PIN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    /// `listen --json` on the scanner `spec`, signed in as ana (results on stdout,
    /// device events on stderr, both piped).
    pub fn listening(&self, spec: &str) -> std::process::Child {
        self.command(&["listen", "--user", "ana", "--scanner", spec, "--json"])
            .env("BALLOT_INTAKE_PIN", "314159")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start listen")
    }

    /// `user` signed in to a `scan --json` that waits for barcodes.
    pub fn scanning(&self, user: &str, pin: &str) -> Scanning {
        let mut child = self
            .command(&["scan", "--user", user, "--json"])
            .env("BALLOT_INTAKE_PIN", pin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start scan");
        Scanning {
            input: child.stdin.take(),
            output: std::io::BufReader::new(child.stdout.take().expect("stdout")),
            child,
        }
    }
}
