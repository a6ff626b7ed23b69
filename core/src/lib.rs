//! The core of ballot-intake, the scanner station where returned mail-ballot
//! envelopes are scanned in: everything but the window. It does no terminal or
//! window I/O, so the command line, the desktop application, the services and the
//! tests all drive the same code, and a headless build links no X11, renderer or
//! sound library.
//!
//! The modules, from the bottom up:
//! - the station's rules: `barcode` (ids, check digits, IMb), `intake` (the outcome
//!   of a scan, deadlines), `local_time`, `auth` (roles, PINs, lockout), `audit`
//!   (the event catalogue and the hash encoding), `ballot_row`;
//! - the record: `ledger` (SQLite: every write one transaction), `mail_ballot` (the
//!   county's file, read into the ledger), `demo`;
//! - devices: `scanner` (serial, USB HID-POS and keyboard-wedge input);
//! - what leaves the station: `sync` (the outbox to the notification backend) and
//!   `export` (nightly batch files), written through `files`;
//! - the station's place on disk and its settings: `environment`, `config`.

pub mod audit;
pub mod auth;
pub mod ballot_row;
pub mod barcode;
pub mod config;
pub mod demo;
pub mod environment;
pub mod event_log;
pub mod export;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod intake;
pub mod ledger;
pub mod local_time;
pub mod mail_ballot;
pub mod report;
pub mod scanner;
pub mod setup;
pub mod signing;
pub mod sync;
pub mod verify_file;
