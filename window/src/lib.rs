//! The station's desktop application (iced): the clerks' and supervisors' screens on
//! `ballot-intake-core`. Only this crate knows about widgets; the ledger runs on its
//! own thread (`worker`), so the window never waits on a disk.
//!
//! - `app`: routing between screens, the keyboard (every key goes through the
//!   wedge decoder), start-up and the scanners' streams;
//! - `screen`: one file per screen, each owning its round trip to the ledger;
//! - `theme`, `widget`: colours (contrast-checked) and the forms' shared parts;
//! - `sound`: the two cues, synthesised, on their own thread.

pub mod app;
pub mod screen;
pub mod shell;
pub mod sound;
pub mod station;
pub mod theme;
pub mod widget;
pub mod worker;
