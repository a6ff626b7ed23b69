//! The clerk's path through the window: sign in, open a batch, scan, close it with a
//! second person. Each step's ledger call runs on the ledger thread.

use chrono::Utc;
use iced::Task;
use iced::widget::operation;

use super::{App, GONE, Message, Over, Screen, ask};
use crate::screen::{close_batch, open_batch, scan, sign_in};
use ballot_intake_core::ledger::{Batch, BatchClose, NewBatch};

impl App {
    /// The sign-in form: the PIN is checked on the ledger thread.
    pub(super) fn sign_in_message(&mut self, m: sign_in::Message) -> Task<Message> {
        let Screen::SignIn(state) = &mut self.screen else {
            return Task::none();
        };
        match state.update(m) {
            sign_in::Action::None => Task::none(),
            sign_in::Action::SignIn { user, pin } => Task::perform(
                ask(&self.worker, move |l| {
                    let u = l
                        .sign_in(&user, &pin, Utc::now())
                        .map_err(|e| e.to_string())?;
                    let batch = l.current_batch(&u).map_err(|e| e.to_string())?;
                    Ok((u, batch))
                }),
                |r| Message::SignedIn(r.unwrap_or_else(|| Err(GONE.into()))),
            ),
        }
    }

    /// The open-batch form.
    pub(super) fn open_batch_message(&mut self, m: open_batch::Message) -> Task<Message> {
        let Screen::OpenBatch { user, state } = &mut self.screen else {
            return Task::none();
        };
        match state.update(m) {
            open_batch::Action::None => Task::none(),
            open_batch::Action::SignOut => self.sign_out(),
            open_batch::Action::Open { container, seals } => {
                let user = user.clone();
                Task::perform(
                    ask(&self.worker, move |l| {
                        l.open_batch(
                            &user,
                            &NewBatch {
                                container,
                                seals,
                                received_at: None,
                            },
                        )
                        .map_err(|e| e.to_string())
                    }),
                    |r| Message::BatchOpened(r.unwrap_or_else(|| Err(GONE.into()))),
                )
            }
        }
    }

    /// The ledger opened the batch: scanning starts.
    pub(super) fn batch_opened(&mut self, result: Result<Batch, String>) -> Task<Message> {
        let Screen::OpenBatch { user, state } = &mut self.screen else {
            return Task::none();
        };
        match result {
            Ok(batch) => {
                self.screen = Screen::Scan(Box::new(scan::State::new(user.clone(), batch)));
                operation::focus(scan::State::focus_id())
            }
            Err(e) => {
                state.failed(e);
                Task::none()
            }
        }
    }

    /// The scan screen's own messages (manual entry, sign-out, close).
    pub(super) fn scan_message(&mut self, m: scan::Message) -> Task<Message> {
        let Screen::Scan(state) = &mut self.screen else {
            return Task::none();
        };
        match state.update(m) {
            scan::Action::None => Task::none(),
            scan::Action::SignOut => self.sign_out(),
            scan::Action::Keyed(code) => self.record_keyboard(code, "keyed"),
            scan::Action::CloseBatch => {
                let Some(scan) = self.take_scan() else {
                    return Task::none();
                };
                let state = close_batch::State::new(scan.batch.batch_id, scan.accepted);
                self.screen = Screen::Over {
                    scan,
                    over: Over::CloseBatch(state),
                };
                operation::focus(close_batch::State::focus_id())
            }
        }
    }

    /// The close-batch form: a second person's PIN is checked on the ledger thread.
    pub(super) fn close_batch_message(&mut self, m: close_batch::Message) -> Task<Message> {
        let Screen::Over {
            scan,
            over: Over::CloseBatch(state),
        } = &mut self.screen
        else {
            return Task::none();
        };
        match state.update(m) {
            close_batch::Action::None => Task::none(),
            close_batch::Action::Cancel => self.shortcut(iced::keyboard::key::Named::Escape),
            close_batch::Action::Close {
                declared,
                verifier,
                pin,
            } => {
                let (closer, batch) = (scan.user.clone(), scan.batch.batch_id);
                Task::perform(
                    ask(&self.worker, move |l| {
                        let second = l
                            .sign_in(&verifier, &pin, Utc::now())
                            .map_err(|e| e.to_string())?;
                        l.close_batch(batch, &closer, &second, declared)
                            .map_err(|e| e.to_string())
                    }),
                    |r| Message::BatchClosed(r.unwrap_or_else(|| Err(GONE.into()))),
                )
            }
        }
    }

    /// The ledger closed the batch (or refused): back to the open-batch form with the
    /// count, or a discrepancy said plainly.
    pub(super) fn batch_closed(&mut self, result: Result<BatchClose, String>) -> Task<Message> {
        let Screen::Over {
            scan,
            over: Over::CloseBatch(state),
        } = &mut self.screen
        else {
            return Task::none();
        };
        match result {
            Err(e) => {
                state.failed(e);
                Task::none()
            }
            Ok(closed) => {
                let b = &closed.batch;
                let notice = if closed.discrepancy {
                    format!(
                        "Batch {} closed with a DISCREPANCY: {} counted, {} accepted. It goes to a supervisor.",
                        b.batch_id,
                        b.declared_count.unwrap_or_default(),
                        b.accepted_count
                    )
                } else {
                    format!(
                        "Batch {} closed: {} envelopes.",
                        b.batch_id, b.accepted_count
                    )
                };
                self.screen = Screen::OpenBatch {
                    user: scan.user.clone(),
                    state: open_batch::State::with_notice(notice),
                };
                operation::focus(open_batch::State::focus_id())
            }
        }
    }
}
