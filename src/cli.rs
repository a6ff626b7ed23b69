//! The headless command line. Each command is a thin call into the core; the forms
//! below are relied upon by scripts and tests, so they change only with care.
//!
//! Exit codes: 0 success, 1 the operation failed (with a message), 2 bad usage.

/// `eprintln!` for messages to the person at the terminal. A standard error that
/// cannot be written (a closed pipe, a full disk under a redirect) is not a reason
/// to stop in the middle of recording or sending (`eprintln!` panics there): the
/// message is dropped and the work, and its exit code, go on.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` for the command line's results. A reader that went away (`status |
/// head`) ends the command quietly, as a pipe's writer should, instead of a panic;
/// any other failure to write is said on stderr with exit code 1.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::cli::stdout_failed(&e);
        }
    }};
}

mod commands;
mod demo;
#[cfg(feature = "hub")]
mod hub;
mod listen;
mod output;
mod pin;
mod scan;
mod signed;
mod sync;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use ballot_intake_core::auth::Role;
use ballot_intake_core::barcode::CheckDigit;
use ballot_intake_core::environment::{DATA_DIR_ENV, Environment};
use ballot_intake_core::ledger::{AttentionReason, UspsReason};
use ballot_intake_core::scanner::ScannerSpec;

/// Scanner station for returned mail-ballot envelopes.
#[derive(Debug, Parser)]
#[command(name = "ballot-intake", version, about, long_about = None)]
pub struct Cli {
    /// Where the station keeps its ledger (default: the platform's data directory).
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a new station with its first election.
    Init(InitArgs),
    /// Add or activate elections.
    #[command(subcommand)]
    Election(ElectionCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Load a mail ballot file (CSV) into the active election, all or nothing.
    Import {
        /// The supervisor or administrator importing.
        #[command(flatten)]
        by: Actor,
        /// The mail ballot file.
        file: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Scan barcodes read from standard input, one per line.
    Scan(ScanArgs),
    /// Run the intake on live scanners until stopped (SIGINT/SIGTERM).
    Listen {
        /// The user scanning (PIN from BALLOT_INTAKE_PIN or a prompt on the terminal).
        #[arg(long)]
        user: String,
        /// A scanner: serial:PATH[@BAUD] or usb:VID:PID (repeat for several; default:
        /// the scanners saved in the configuration).
        #[arg(long = "scanner", value_parser = parse_spec)]
        scanners: Vec<ScannerSpec>,
        /// Print one JSON object per scan (device events go to stderr as JSON).
        #[arg(long)]
        json: bool,
    },
    /// Write the nightly batch file (CSV + manifest) of one local day.
    Export {
        /// Who writes it (any user of the station).
        #[command(flatten)]
        by: Actor,
        /// The local day (default: yesterday).
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// The folder (default: <data dir>/exports).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send the outbox to the notification backend (see also `sync setup`).
    Sync(SyncArgs),
    /// Cross-station duplicates the county hub reported: list them, or resolve one.
    Conflicts {
        /// Resolve instead of listing.
        #[command(subcommand)]
        command: Option<ConflictCommand>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The county hub: many stations' batches into PostgreSQL, one first receipt.
    #[cfg(feature = "hub")]
    Hub(HubArgs),
    /// Play one of the station's sounds (checks the speakers; exit 1 without a device).
    #[cfg(feature = "gui")]
    Sound {
        /// accepted or set-aside.
        #[arg(value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<ballot_intake_window::sound::Cue>()))]
        cue: ballot_intake_window::sound::Cue,
        /// Loudness, 0 to 100 (default: the configured volume).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        volume: Option<u8>,
    },
    /// List the serial ports and USB HID-POS scanners present.
    Scanners {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open, close, list and resolve batches.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Flag an envelope (supervisors): undeliverable, or needs the voter's attention.
    #[command(subcommand)]
    Flag(FlagCommand),
    /// Reverse an earlier scan with a reason (supervisors).
    Reverse {
        /// The event's sequence number (`seq` in scan results).
        seq: i64,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// Why the scan is reversed.
        #[arg(long)]
        reason: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the active election, ballots loaded, counts per outcome and open batches.
    Status {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set up (once) and run a demo station: scan ballot ids from the terminal.
    /// Demo data lives apart from the real ledger and is never sent anywhere.
    Demo {
        /// Print one JSON object per scan.
        #[arg(long)]
        json: bool,
    },
    /// Check the ledger and the audit chain; exit 1 naming the first broken row.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The audit log for auditors: `audit export` writes it as a NIST SP 1500-101
    /// election event log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Printable records (PDF, signed): a batch's custody sheet or a day's
    /// reconciliation.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Check a nightly file against its manifest and the station's signature (needs
    /// no ledger: an auditor runs it with the station's public key); exit 1 saying
    /// what does not hold.
    VerifyFile {
        /// The CSV or its `.manifest.json`; or a report (PDF) or event log, each
        /// checked against its own `.sig`.
        file: std::path::PathBuf,
        /// The station's public key (PEM), as `status` names it; default: this
        /// station's own.
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Station id (short, unique within the county).
    #[arg(long)]
    pub station: String,
    /// County name.
    #[arg(long)]
    pub county: String,
    /// The state's id of the first election.
    #[arg(long)]
    pub election: String,
    /// Its name.
    #[arg(long)]
    pub election_name: String,
    /// Election day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub election_date: NaiveDate,
    /// The county's IANA time zone, e.g. America/Denver.
    #[arg(long)]
    pub timezone: String,
    /// Ballot id check digit.
    #[arg(long, default_value = "none", value_parser = parse_check)]
    pub check_digit: CheckDigit,
    /// The station's first administrator (PIN, at least 6 digits, from standard
    /// input): who adds the other users and runs the administrative commands.
    #[arg(long)]
    pub admin: String,
}

/// Who runs an administrative command: signed in like `scan` (PIN from
/// BALLOT_INTAKE_PIN or a prompt on the terminal), named in the audit log.
#[derive(Debug, Args)]
pub struct Actor {
    /// The user running the command.
    #[arg(long = "user", env = "BALLOT_INTAKE_USER")]
    pub user: String,
}

/// `election` subcommands.
#[derive(Debug, Subcommand)]
pub enum ElectionCommand {
    /// Add an election to the ledger.
    Add {
        /// The state's election id.
        #[arg(long)]
        election: String,
        /// Its name.
        #[arg(long)]
        election_name: String,
        /// Election day, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        election_date: NaiveDate,
        /// Ballot id check digit.
        #[arg(long, default_value = "none", value_parser = parse_check)]
        check_digit: CheckDigit,
        /// Make it the active election.
        #[arg(long)]
        activate: bool,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// Make an election the active one.
    Activate {
        /// The election id.
        election: String,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// List the elections in the ledger.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the PIN (at least 6 digits) is read from standard input.
    Add {
        /// Sign-in name.
        name: String,
        /// Role.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The administrator adding them (PIN from BALLOT_INTAKE_PIN or a prompt).
        /// Only a station with no administrator yet (set up before `init` made one)
        /// takes its first one without.
        #[arg(long = "user", env = "BALLOT_INTAKE_USER")]
        by: Option<String>,
    },
    /// List the station's users: role, disabled, locked.
    List {
        /// The administrator asking.
        #[command(flatten)]
        by: Actor,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: they can no longer sign in or confirm; their history stays.
    Disable {
        /// Sign-in name.
        name: String,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// Enable a disabled user again.
    Enable {
        /// Sign-in name.
        name: String,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// End a user's lock after wrong PINs before its time.
    Unlock {
        /// Sign-in name.
        name: String,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// Set a new PIN for a user who forgot theirs (read from standard input, twice
    /// on a terminal); ends a lock too.
    ResetPin {
        /// Sign-in name.
        name: String,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
}

/// `scan` arguments.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The user scanning (PIN from BALLOT_INTAKE_PIN or a prompt on the terminal).
    #[arg(long)]
    pub user: String,
    /// Print one JSON object per scan.
    #[arg(long)]
    pub json: bool,
    /// The source recorded with each scan.
    #[arg(long, default_value = "stdin")]
    pub source: String,
}

/// `sync` arguments: with no subcommand, send everything pending.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    /// Configure or release instead of sending.
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
    /// Give up (exit 1, saying what is pending) after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub max_wait: Option<u64>,
    /// Keep running: send batches as events arrive (by count and age).
    #[arg(long)]
    pub watch: bool,
}

/// `sync` subcommands.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Choose the transport: the backend's URL and token, or a folder.
    Setup {
        /// The backend's base URL (https://, or http:// on a loopback address).
        #[arg(long, conflicts_with = "directory", requires = "token_file")]
        url: Option<String>,
        /// File holding the bearer token (mode 600).
        #[arg(long, requires = "url")]
        token_file: Option<PathBuf>,
        /// A CA certificate (PEM) to trust instead of the public roots.
        #[arg(long, requires = "url")]
        ca_file: Option<PathBuf>,
        /// Write JSON batch files into this folder instead.
        #[arg(long, required_unless_present = "url")]
        directory: Option<PathBuf>,
        /// Seconds before a request counts as failed (default 30).
        #[arg(long)]
        timeout_secs: Option<u64>,
        /// First retry wait in milliseconds (default 1000).
        #[arg(long)]
        retry_base_ms: Option<u64>,
        /// With --watch, the longest an event waits for its batch to fill (default 30;
        /// 1 with --hub).
        #[arg(long)]
        max_batch_age_secs: Option<u64>,
        /// The URL is the county hub (`ballot-intake hub`): learn of cross-station
        /// duplicates from it, and send confidential receipts to it by ballot id.
        #[arg(long, requires = "url")]
        hub: bool,
        /// The administrator.
        #[command(flatten)]
        by: Actor,
    },
    /// Try the destination set up, sending no event: write and remove a file in
    /// the folder, or ask the backend (or hub) something that changes nothing.
    Test,
    /// Send a held batch again once the cause is fixed (supervisors).
    Retry {
        /// The batch id (see `status`).
        batch: String,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
    },
}

/// `report` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Batch N's custody sheet.
    Batch {
        /// The batch number.
        batch: i64,
        /// Who prints it (any user of the station).
        #[command(flatten)]
        by: Actor,
        /// The PDF to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The station's reconciliation of a local day.
    Day {
        /// The local day, YYYY-MM-DD.
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        /// Who prints it (any user of the station).
        #[command(flatten)]
        by: Actor,
        /// The PDF to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit log (or the rows of local days FROM to TO) as a NIST SP
    /// 1500-101 election event log in JSON, with its documentation file; both signed
    /// with the station's key.
    Export {
        /// Who writes it (any user of the station).
        #[command(flatten)]
        by: Actor,
        /// The first local day (default: the log's start).
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// The last local day (default: today).
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// The folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `conflicts` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConflictCommand {
    /// A supervisor resolves one (the envelope pulled from its tray), with a note.
    Resolve {
        /// The duplicate's event number (see `conflicts`).
        event: i64,
        /// What was done with the envelope.
        #[arg(long)]
        note: String,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
    },
}

/// `flag` subcommands.
#[derive(Debug, Subcommand)]
pub enum FlagCommand {
    /// A returned outbound packet (its ballot id or outbound IMb) that USPS could not deliver.
    Undeliverable {
        /// The packet's barcode.
        barcode: String,
        /// The USPS endorsement: vacant, moved_left_no_address, attempted_not_known ...
        #[arg(long, value_parser = parse_usps)]
        reason: UspsReason,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A return envelope the voter must cure: unsigned, signature_mismatch, damaged, id_required, other.
    NeedsAttention {
        /// The return envelope's barcode.
        barcode: String,
        /// Why.
        #[arg(long, value_parser = parse_attention)]
        reason: AttentionReason,
        /// A note (required with `other`).
        #[arg(long)]
        note: Option<String>,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `batch` subcommands.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Open a batch for a user.
    Open {
        /// The user (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// Container or tray label.
        #[arg(long)]
        container: Option<String>,
        /// A seal number (repeat for several).
        #[arg(long = "seal")]
        seals: Vec<String>,
        /// When the county received the container's envelopes, in local time
        /// ("YYYY-MM-DD HH:MM"), e.g. when a drop box was emptied: the receipt
        /// deadline is judged on this time instead of the scan time.
        #[arg(long, value_name = "LOCAL_TIME")]
        received_at: Option<String>,
        /// The supervisor who confirms a --received-at more than 10 minutes ago (PIN
        /// from BALLOT_INTAKE_VERIFIER_PIN or a prompt); not needed when --user is one.
        #[arg(long, value_name = "SUPERVISOR")]
        confirmed_by: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close a batch with its physical count, verified by a second user.
    Close {
        /// The user closing it (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// The second user (PIN from BALLOT_INTAKE_VERIFIER_PIN or a prompt).
        #[arg(long)]
        verifier: String,
        /// Envelopes counted in the tray.
        #[arg(long)]
        count: i64,
        /// The batch (default: the user's open batch).
        #[arg(long)]
        batch: Option<i64>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the active election's batches.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Resolve a batch's discrepancy (supervisors).
    Resolve {
        /// The batch.
        batch: i64,
        /// The supervisor (PIN from BALLOT_INTAKE_PIN or a prompt).
        #[arg(long)]
        user: String,
        /// What was found.
        #[arg(long)]
        note: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date of the form YYYY-MM-DD"))
}

fn parse_check(s: &str) -> Result<CheckDigit, String> {
    s.parse()
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_spec(s: &str) -> Result<ScannerSpec, String> {
    s.parse()
}

fn parse_usps(s: &str) -> Result<UspsReason, String> {
    s.parse()
}

fn parse_attention(s: &str) -> Result<AttentionReason, String> {
    s.parse()
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let env = match Environment::resolve(cli.data_dir.as_deref()) {
        Ok(env) => env,
        Err(e) => {
            note!("error: {e}");
            return ExitCode::from(1);
        }
    };
    log::info!(
        "data directory {} ({})",
        env.data_dir.display(),
        if env.overridden {
            "override"
        } else {
            "platform default"
        }
    );
    let Some(command) = cli.command else {
        return run_window(&env);
    };
    match commands::run(&env, command) {
        Ok(code) => code,
        Err(e) => {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                stdout_failed(io);
            }
            note!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Ends the process after a failed write to stdout: quietly (0) when the reader went
/// away, which is what `| head` does; otherwise with the reason and 1. Everything
/// already printed had been committed first, so nothing is lost by stopping here.
/// No command: the desktop application (the demo station if none is set up).
#[cfg(feature = "gui")]
fn run_window(env: &Environment) -> ExitCode {
    match ballot_intake_window::app::run(env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// No command, in a build without the window: say so, and what there is instead.
#[cfg(not(feature = "gui"))]
fn run_window(_env: &Environment) -> ExitCode {
    note!(
        "this ballot-intake was built without the desktop application (the `gui` feature); \
         run a command (`ballot-intake --help` lists them), or `ballot-intake demo` for the demo station"
    );
    ExitCode::from(2)
}

pub(crate) fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    note!("error: cannot write to standard output: {e}");
    std::process::exit(1);
}

/// `hub`: run the county hub, or manage it.
#[cfg(feature = "hub")]
#[derive(Debug, clap::Args)]
pub struct HubArgs {
    /// Manage instead of serving.
    #[command(subcommand)]
    pub command: Option<HubCommand>,
    /// The PostgreSQL database (a URL or libpq key=value string).
    #[arg(long, env = "BALLOT_INTAKE_HUB_DATABASE", global = true)]
    pub database: Option<String>,
    /// Where to listen (plain http only on a loopback address).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: std::net::SocketAddr,
    /// TLS certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Relay events to the notification backend at this base URL.
    #[arg(
        long,
        conflicts_with = "relay_directory",
        requires = "relay_token_file"
    )]
    pub relay_url: Option<String>,
    /// The hub's bearer token for the backend (mode 600).
    #[arg(long, requires = "relay_url")]
    pub relay_token_file: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the backend instead of the public roots.
    #[arg(long, requires = "relay_url")]
    pub relay_ca_file: Option<PathBuf>,
    /// Relay events as JSON batch files into this folder instead.
    #[arg(long)]
    pub relay_directory: Option<PathBuf>,
    /// The longest an event waits at the hub for its relay batch to fill, in ms.
    #[arg(long, default_value_t = 1000)]
    pub relay_max_age_ms: u64,
    /// The relay's first retry wait in ms (doubles up to a minute).
    #[arg(long, default_value_t = 1000)]
    pub relay_retry_base_ms: u64,
    /// Database connections for requests.
    #[arg(long, default_value_t = 16)]
    pub pool_size: usize,
    /// The county's IANA time zone for the dashboard's "today" and hours, e.g.
    /// America/Denver (default: the TZ variable, else /etc/timezone, else UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Seconds between the dashboard page's own refreshes.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(2..=3600))]
    pub dashboard_refresh_secs: u32,
    /// Hours a dashboard sign-in lasts.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=72))]
    pub session_hours: i64,
}

/// `hub` subcommands.
#[cfg(feature = "hub")]
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Stations that may send to the hub.
    #[command(subcommand)]
    Station(HubStationCommand),
    /// Supervisors who may sign in to the county dashboard.
    #[command(subcommand)]
    User(HubUserCommand),
    /// The county at a glance: stations, receipts, conflicts, the relay.
    Status {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Bring the database to this build's schema and stop.
    Migrate,
    /// Send a relay batch the backend refused (held) again, once the cause is fixed.
    RelayRetry {
        /// The relay batch's id (`hub status` lists the held ones).
        batch: String,
    },
}

/// `hub station` subcommands.
#[cfg(feature = "hub")]
#[derive(Debug, Subcommand)]
pub enum HubStationCommand {
    /// Add a station and write its new token to a file for its `sync setup`.
    Add {
        /// The station's id (as its `init --station` gave it).
        id: String,
        /// Where to write the token (created, mode 600; never replaced).
        #[arg(long)]
        token_file: PathBuf,
    },
}

/// `hub user` subcommands.
#[cfg(feature = "hub")]
#[derive(Debug, Subcommand)]
pub enum HubUserCommand {
    /// Add a supervisor (PIN from standard input, or a prompt).
    Add {
        /// The name to sign in with.
        name: String,
    },
}
