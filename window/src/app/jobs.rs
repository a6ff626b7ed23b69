//! The ledger jobs behind the screens: every call runs on the ledger thread, and its
//! answer comes back as a message. Nothing here blocks the window.

use chrono::Utc;
use iced::Task;
use std::time::Instant;

use super::{App, GONE, Message, Over, Screen, ask};
use crate::screen::{
    audit, batches, dashboard, export, import, needs_attention, review, scan, settings,
    undeliverable,
};
use ballot_intake_core::ledger::ScanInput;
use ballot_intake_core::scanner::DeviceMessage;

/// A code read by any scanner, before the screen decides what it means.
pub(super) struct Arrived {
    /// Its bytes.
    pub raw: Vec<u8>,
    /// The scanner (`wedge:keyboard`, `serial:...`, `usb:...`).
    pub source: String,
    /// The AIM symbology identifier, when the scanner sent one.
    pub symbology: Option<String>,
    /// Typed by a keyboard-wedge scanner: its keys also went into the focused field,
    /// and a burst that fast may be a person's typing caught up after a stall.
    pub wedge: bool,
}

impl App {
    /// A scan from any scanner, wherever the window is: recorded on the scan screen,
    /// flagged in the flag modes, looked up in review, shown in settings, and
    /// anywhere else named on the NOT RECORDED strip.
    pub(super) fn scan_arrived(&mut self, scan: Arrived) -> Task<Message> {
        let Arrived {
            raw,
            source,
            symbology,
            wedge,
        } = scan;
        let text = String::from_utf8_lossy(&raw).into_owned();
        match &mut self.screen {
            Screen::Scan(state) => {
                state.sent();
                if wedge {
                    state.take_wedge_keys(&text);
                    self.record_keyboard(text, "wedge:keyboard")
                } else {
                    self.record(raw, source, symbology)
                }
            }
            Screen::Over {
                over: Over::Undeliverable(_),
                ..
            } => self.flag(raw, source, symbology),
            Screen::Over {
                over: Over::NeedsAttention(state),
                ..
            } => {
                if wedge {
                    state.take_wedge_keys(&text);
                }
                self.flag_attention(raw, source)
            }
            Screen::Over {
                over: Over::Review(state),
                ..
            } => {
                // Scanning an envelope looks it up.
                let action = state.scanned(text);
                self.review_action(action)
            }
            Screen::Over {
                over: Over::Settings(state),
                ..
            } => {
                if wedge {
                    state.take_wedge_keys(&text);
                }
                state.scanned(settings::TestScan {
                    source,
                    raw,
                    symbology,
                });
                Task::none()
            }
            // Not from the keyboard on the sign-in screen: a PIN typed while the
            // window was busy can arrive as fast as a scanner, and must never be
            // shown. Its keys went into the field like typing.
            Screen::SignIn(_) if wedge => Task::none(),
            // Nowhere to record a scan here (no open batch, or a screen that takes
            // none): the strip says so.
            Screen::SignIn(_) | Screen::OpenBatch { .. } | Screen::Over { .. } => {
                let what = if wedge {
                    format!("barcode {text}")
                } else {
                    format!("barcode {text} from {source}")
                };
                self.refuse_scan(&what);
                Task::none()
            }
        }
    }

    /// A code typed on the keyboard (wedge burst or manual entry): the same code again
    /// within the double-read window is one envelope.
    pub(super) fn record_keyboard(&mut self, raw: String, source: &'static str) -> Task<Message> {
        let now = Instant::now();
        if let Some((last, at)) = &self.last_keyboard_code
            && *last == raw
            && now.duration_since(*at) < ballot_intake_core::scanner::debounce::DEFAULT_WINDOW
        {
            log::info!("keyboard double read of {raw:?} suppressed");
            if let Screen::Scan(state) = &mut self.screen {
                state.pending = state.pending.saturating_sub(1);
            }
            return Task::none();
        }
        self.last_keyboard_code = Some((raw.clone(), now));
        self.record(raw.into_bytes(), source.to_string(), None)
    }

    /// Flags a returned outbound packet undeliverable with the chosen endorsement.
    pub(super) fn flag(
        &mut self,
        raw: Vec<u8>,
        source: String,
        symbology: Option<String>,
    ) -> Task<Message> {
        let Screen::Over {
            over: Over::Undeliverable(state),
            ..
        } = &mut self.screen
        else {
            return Task::none();
        };
        state.pending += 1;
        let (user, reason, at) = (state.user.clone(), state.reason, Utc::now());
        Task::perform(
            ask(&self.worker, move |l| {
                let input = ScanInput {
                    raw: &raw,
                    source: &source,
                    symbology: symbology.as_deref(),
                    at,
                };
                l.flag_undeliverable(&user, &input, reason)
                    .map_err(|e| e.to_string())
            }),
            |r| {
                Message::Undeliverable(undeliverable::Message::Recorded(Box::new(
                    r.unwrap_or_else(|| Err(GONE.into())),
                )))
            },
        )
    }

    /// Flags a return envelope as needing the voter's attention.
    pub(super) fn flag_attention(&mut self, raw: Vec<u8>, source: String) -> Task<Message> {
        let Screen::Over {
            over: Over::NeedsAttention(state),
            ..
        } = &mut self.screen
        else {
            return Task::none();
        };
        let (user, reason, at) = (state.user.clone(), state.reason, Utc::now());
        let note = Some(state.note.clone()).filter(|n| !n.trim().is_empty());
        Task::perform(
            ask(&self.worker, move |l| {
                let input = ScanInput {
                    raw: &raw,
                    source: &source,
                    symbology: None,
                    at,
                };
                l.flag_needs_attention(&user, &input, reason, note.as_deref())
                    .map_err(|e| e.to_string())
            }),
            |r| {
                Message::NeedsAttention(needs_attention::Message::Recorded(Box::new(
                    r.unwrap_or_else(|| Err(GONE.into())),
                )))
            },
        )
    }

    /// Loads the dashboard's numbers.
    pub(super) fn load_dashboard(&self) -> Task<Message> {
        Task::perform(
            ask(&self.worker, |l| {
                l.dashboard(Utc::now()).map_err(|e| e.to_string())
            }),
            |r| {
                Message::Dashboard(dashboard::Message::Loaded(Box::new(
                    r.unwrap_or_else(|| Err(GONE.into())),
                )))
            },
        )
    }

    /// Carries out what the audit screen asked for.
    pub(super) fn audit_action(&mut self, action: audit::Action) -> Task<Message> {
        match action {
            audit::Action::None => Task::none(),
            audit::Action::Load => Task::perform(
                ask(&self.worker, |l| {
                    l.recent_audit(audit::SHOWN).map_err(|e| e.to_string())
                }),
                |r| {
                    Message::Audit(audit::Message::Loaded(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    ))
                },
            ),
            audit::Action::Verify => Task::perform(
                ask(&self.worker, |l| l.verify().map_err(|e| e.to_string())),
                |r| {
                    Message::Audit(audit::Message::Verified(Box::new(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    )))
                },
            ),
        }
    }

    /// Carries out what the batches screen asked for.
    pub(super) fn batches_action(&mut self, action: batches::Action) -> Task<Message> {
        let Screen::Over {
            over: Over::Batches(state),
            ..
        } = &self.screen
        else {
            return Task::none();
        };
        match action {
            batches::Action::None => Task::none(),
            batches::Action::Load => Task::perform(
                ask(&self.worker, |l| l.batches().map_err(|e| e.to_string())),
                |r| {
                    Message::Batches(batches::Message::Loaded(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    ))
                },
            ),
            batches::Action::Resolve { batch, note } => {
                let user = state.user.clone();
                Task::perform(
                    ask(&self.worker, move |l| {
                        l.resolve_batch(batch, &user, &note)
                            .map_err(|e| e.to_string())
                    }),
                    |r| {
                        Message::Batches(batches::Message::Resolved(Box::new(
                            r.unwrap_or_else(|| Err(GONE.into())),
                        )))
                    },
                )
            }
        }
    }

    /// Carries out what the review screen asked for.
    pub(super) fn review_action(&mut self, action: review::Action) -> Task<Message> {
        let Screen::Over {
            over: Over::Review(state),
            ..
        } = &self.screen
        else {
            return Task::none();
        };
        let wrap = |m: review::Message| Message::Review(m);
        match action {
            review::Action::None => Task::none(),
            review::Action::Search(q) => Task::perform(
                ask(&self.worker, move |l| {
                    l.find_ballots(&q).map_err(|e| e.to_string())
                }),
                move |r| {
                    wrap(review::Message::Found(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    ))
                },
            ),
            review::Action::History(pk) => Task::perform(
                ask(&self.worker, move |l| {
                    l.ballot_history(pk).map_err(|e| e.to_string())
                }),
                move |r| {
                    wrap(review::Message::History(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    ))
                },
            ),
            review::Action::Reverse { seq, reason } => {
                let user = state.user.clone();
                Task::perform(
                    ask(&self.worker, move |l| {
                        l.reverse_event(&user, seq, &reason)
                            .map_err(|e| e.to_string())
                    }),
                    move |r| {
                        wrap(review::Message::Reversed(
                            r.unwrap_or_else(|| Err(GONE.into())),
                        ))
                    },
                )
            }
        }
    }

    /// Sends a scan to the ledger thread; its answer comes back as `Recorded`.
    pub(super) fn record(
        &mut self,
        raw: Vec<u8>,
        source: String,
        symbology: Option<String>,
    ) -> Task<Message> {
        let Screen::Scan(state) = &self.screen else {
            return Task::none();
        };
        let (user, batch) = (state.user.clone(), state.batch.batch_id);
        let at = Utc::now();
        Task::perform(
            ask(&self.worker, move |l| {
                l.record_scan(
                    &user,
                    batch,
                    &ScanInput {
                        raw: &raw,
                        source: &source,
                        symbology: symbology.as_deref(),
                        at,
                    },
                )
                .map_err(|e| e.to_string())
            }),
            |r| {
                Message::Scan(scan::Message::Recorded(Box::new(
                    r.unwrap_or_else(|| Err(GONE.into())),
                )))
            },
        )
    }

    pub(super) fn device(&mut self, m: DeviceMessage) -> Task<Message> {
        match m {
            DeviceMessage::Scan(e) => self.scan_arrived(Arrived {
                raw: e.raw,
                source: e.source.to_string(),
                symbology: e.symbology,
                wedge: false,
            }),
            DeviceMessage::Connected(s) => {
                self.live.set_scanner(&s.to_string(), true);
                Task::none()
            }
            DeviceMessage::Disconnected { source, reason } => {
                log::warn!("{source}: disconnected: {reason}");
                self.live.set_scanner(&source.to_string(), false);
                Task::none()
            }
            DeviceMessage::DoubleRead { source, raw } => {
                log::info!(
                    "{source}: double read of {:?} suppressed",
                    String::from_utf8_lossy(&raw)
                );
                Task::none()
            }
            DeviceMessage::Garbled { source, what } => {
                log::warn!("{source}: {what}");
                Task::none()
            }
        }
    }

    /// Imports a mail ballot file on the ledger thread; progress and the result come
    /// back as a stream of messages while the window stays responsive.
    pub(super) fn start_import(&mut self, path: String) -> Task<Message> {
        use iced::futures::channel::mpsc;
        let (tx, rx) = mpsc::unbounded();
        let progress = tx.clone();
        let sent = self.worker.run(
            move |l| {
                ballot_intake_core::mail_ballot::import_file(
                    l,
                    std::path::Path::new(&path),
                    |done, total| {
                        let _ = progress.unbounded_send(import::Progress::Read(done, total));
                    },
                )
            },
            move |result| {
                let _ = tx.unbounded_send(import::Progress::Done(Box::new(result)));
            },
        );
        if !sent {
            return Task::done(Message::Import(import::Message::Progress(
                import::Progress::Done(Box::new(Err(
                    ballot_intake_core::mail_ballot::ImportError::Io {
                        file: String::new(),
                        message: GONE.into(),
                    },
                ))),
            )));
        }
        Task::run(rx, |p| Message::Import(import::Message::Progress(p)))
    }
}

/// What the desktop's dialog picks.
#[derive(Clone, Copy)]
enum Pick {
    File,
    Folder,
}

/// The desktop's own file or folder dialog (the XDG portal, else zenity). rfd runs it
/// on a thread of its own; its answer (a path, or `None` if cancelled) comes back as
/// a message.
fn choose(
    dialog: rfd::AsyncFileDialog,
    pick: Pick,
    answer: fn(Option<String>) -> Message,
) -> Task<Message> {
    let path = |h: rfd::FileHandle| h.path().display().to_string();
    match pick {
        Pick::File => Task::perform(dialog.pick_file(), move |f| answer(f.map(path))),
        Pick::Folder => Task::perform(dialog.pick_folder(), move |f| answer(f.map(path))),
    }
}

impl App {
    /// Carries out what the import screen asked for: the import on the ledger
    /// thread, or the desktop's file dialog.
    pub(super) fn import_action(&mut self, action: import::Action) -> Task<Message> {
        match action {
            import::Action::None => Task::none(),
            import::Action::Import(path) => self.start_import(path),
            import::Action::Browse => choose(
                rfd::AsyncFileDialog::new()
                    .set_title("Choose a mail ballot file")
                    .add_filter("Mail ballot file (CSV)", &["csv", "CSV", "txt"]),
                Pick::File,
                |path| Message::Import(import::Message::Chosen(path)),
            ),
        }
    }

    /// Carries out what the nightly-file screen asked for: the export on the ledger
    /// thread, or the desktop's folder dialog.
    pub(super) fn export_action(&mut self, action: export::Action) -> Task<Message> {
        match action {
            export::Action::None => Task::none(),
            export::Action::Browse => choose(
                rfd::AsyncFileDialog::new().set_title("Choose the folder for the nightly file"),
                Pick::Folder,
                |path| Message::Export(export::Message::Chosen(path)),
            ),
            export::Action::Export { date, folder } => Task::perform(
                ask(&self.worker, move |l| {
                    ballot_intake_core::export::export_day(l, date, std::path::Path::new(&folder))
                        .map_err(|e| e.to_string())
                }),
                |r| {
                    Message::Export(export::Message::Done(Box::new(
                        r.unwrap_or_else(|| Err(GONE.into())),
                    )))
                },
            ),
        }
    }
}
