//! One module per screen: its state, messages, update and view. A screen's update
//! returns an `Action` for `app.rs` to carry out (ledger calls, changing screens), so
//! screens never touch the ledger themselves.

pub mod audit;
pub mod batches;
pub mod close_batch;
pub mod dashboard;
pub mod export;
pub mod import;
pub mod needs_attention;
pub mod open_batch;
pub mod review;
pub mod scan;
pub mod settings;
pub mod sign_in;
pub mod undeliverable;
