//! ballot-intake: the scanner station where returned mail-ballot envelopes are
//! scanned in, recorded durably in a local SQLite ledger, and later synced to the
//! county's notification backend.
//!
//! The core (barcode, intake, ledger, mail ballot file, audit, auth) does no terminal
//! or window I/O, so the command line, the desktop application and the tests all
//! drive the same code.

pub mod app;
pub mod audit;
pub mod auth;
pub mod ballot_row;
pub mod barcode;
pub mod cli;
pub mod config;
pub mod demo;
pub mod environment;
pub mod export;
pub mod files;
pub mod intake;
pub mod ledger;
pub mod local_time;
pub mod mail_ballot;
pub mod scanner;
pub mod screen;
pub mod sound;
pub mod sync;
pub mod theme;
pub mod widget;
pub mod worker;
