//! The supervisors' flag modes, one screen with a kind:
//! - **undeliverable** (F3): returned outbound packets, scanned by ballot id or
//!   outbound IMb, flagged with the USPS endorsement chosen here;
//! - **needs attention** (F4): return envelopes the voter must cure (unsigned,
//!   signature mismatch, damaged, ID required, other with a note).
//!
//! Each has its own colour and title, different from receiving, because the modes
//! must never be confused: each flag sends the voter a different message. A scan is
//! sent to the ledger thread from here and its answer shown here.

use iced::widget::{Id, column, container, row, scrollable, text, text_input};
use iced::{Center, Element, Fill, Task};
use std::collections::VecDeque;

use ballot_intake_core::ledger::{AttentionReason, FlagResult, LedgerError, User, UspsReason};

use super::Scanned;
use crate::sound::Cue;
use crate::station::Station;
use crate::{theme, widget};

/// The note field's id (needs-attention mode).
pub const NOTE_FIELD: &str = "attention-note";

/// The endorsements on Ctrl+1 .. Ctrl+9 in undeliverable mode, the most common first.
pub const USPS_SHORTCUTS: [UspsReason; 9] = [
    UspsReason::AttemptedNotKnown,
    UspsReason::NoSuchNumber,
    UspsReason::Vacant,
    UspsReason::MovedLeftNoAddress,
    UspsReason::ForwardingTimeExpired,
    UspsReason::UnableToForward,
    UspsReason::InsufficientAddress,
    UspsReason::Refused,
    UspsReason::Deceased,
];

/// Which flag this screen records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An outbound packet USPS returned.
    Undeliverable,
    /// A return envelope the voter must cure.
    NeedsAttention,
}

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    /// Which flag.
    pub kind: Kind,
    /// The endorsement applied to the next scans (undeliverable mode).
    pub usps: UspsReason,
    /// The reason applied to the next scans (needs-attention mode).
    pub attention: AttentionReason,
    /// The note (needs-attention mode; required with "other").
    pub note: String,
    last: Option<Result<FlagResult, LedgerError>>,
    recent: VecDeque<FlagResult>,
    /// Flags sent to the ledger and not yet answered.
    pub pending: usize,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Ctrl+1 .. Ctrl+9: the n-th reason of the list on screen.
    Pick(usize),
    /// Ctrl+Down / Ctrl+Up: the next or previous of all the reasons.
    Cycle {
        /// Down (true) or up.
        forward: bool,
    },
    /// The note changed.
    Note(String),
    /// The ledger answered a flag.
    Recorded(Box<Result<FlagResult, LedgerError>>),
}

/// What the application must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Play this cue: accepted for a flag recorded, set-aside for one refused.
    Sound(Cue),
}

/// The next (or previous) of `all` after `current`, wrapping around.
fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let n = all.len();
    let i = all.iter().position(|r| *r == current).unwrap_or(0);
    all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

impl State {
    /// The mode for `user`, starting with the most common reason.
    pub fn new(user: User, kind: Kind) -> Self {
        State {
            user,
            kind,
            usps: USPS_SHORTCUTS[0],
            attention: AttentionReason::Unsigned,
            note: String::new(),
            last: None,
            recent: VecDeque::new(),
            pending: 0,
        }
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.note, code);
    }

    /// The field the cursor starts in (needs-attention mode has one).
    pub fn focus_id() -> Id {
        Id::new(NOTE_FIELD)
    }

    /// A scan while this screen is up: flagged with the reason chosen.
    pub fn scanned(&mut self, scan: Scanned, station: &Station) -> Task<Message> {
        self.pending += 1;
        let (user, at) = (self.user.clone(), chrono::Utc::now());
        let flag = match self.kind {
            Kind::Undeliverable => {
                let reason = self.usps;
                station.worker.task(move |l| {
                    scan.with_input(at, |input| l.flag_undeliverable(&user, input, reason))
                })
            }
            Kind::NeedsAttention => {
                let reason = self.attention;
                let note = Some(self.note.clone()).filter(|n| !n.trim().is_empty());
                station.worker.task(move |l| {
                    scan.with_input(at, |input| {
                        l.flag_needs_attention(&user, input, reason, note.as_deref())
                    })
                })
            }
        };
        flag.map(|r| Message::Recorded(Box::new(r)))
    }

    /// Choosing the reason, the note, and the ledger's answers.
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match (message, self.kind) {
            (Message::Pick(n), Kind::Undeliverable) => {
                if let Some(r) = n.checked_sub(1).and_then(|i| USPS_SHORTCUTS.get(i)) {
                    self.usps = *r;
                }
            }
            (Message::Pick(n), Kind::NeedsAttention) => {
                if let Some(r) = n.checked_sub(1).and_then(|i| AttentionReason::ALL.get(i)) {
                    self.attention = *r;
                }
            }
            (Message::Cycle { forward }, Kind::Undeliverable) => {
                self.usps = cycle(UspsReason::ALL, self.usps, forward);
            }
            (Message::Cycle { forward }, Kind::NeedsAttention) => {
                self.attention = cycle(AttentionReason::ALL, self.attention, forward);
            }
            (Message::Note(n), _) => self.note = n,
            (Message::Recorded(result), _) => {
                self.pending = self.pending.saturating_sub(1);
                let cue = if result.is_ok() {
                    Cue::Accepted
                } else {
                    Cue::SetAside
                };
                if let Ok(f) = &*result {
                    self.recent.push_front(f.clone());
                    self.recent.truncate(super::scan::RECENT);
                }
                self.last = Some(*result);
                return Some(Event::Sound(cue));
            }
        }
        None
    }

    /// The label of a recorded flag's reason, in this mode's words, with its note
    /// ("other: torn flap" is "Other (see note): torn flap").
    fn reason_label(&self, code: &str) -> String {
        let label = match self.kind {
            Kind::Undeliverable => UspsReason::label_of(code),
            Kind::NeedsAttention => AttentionReason::label_of(code),
        };
        match code.split_once(": ") {
            Some((_, note)) => format!("{label}: {note}"),
            None => label,
        }
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let (title, color, label, idle, word) = match self.kind {
            Kind::Undeliverable => (
                "UNDELIVERABLE MODE: returned outbound packets (Esc: back to receiving)",
                theme::UNDELIVERABLE,
                self.usps.label(),
                "Scan a returned packet",
                "UNDELIVERABLE",
            ),
            Kind::NeedsAttention => (
                "NEEDS ATTENTION: envelopes the voter must cure (Esc: back to receiving)",
                theme::ATTENTION,
                self.attention.label(),
                "Scan a return envelope",
                "NEEDS ATTENTION",
            ),
        };
        let chosen = container(text(label).size(30))
            .padding([6, 16])
            .style(theme::panel(color));
        let (chooser, keys) = match self.kind {
            Kind::Undeliverable => (
                row![
                    text("USPS endorsement:").size(26),
                    chosen,
                    text("Ctrl+Down / Ctrl+Up: the other endorsements").size(16),
                ],
                widget::shortcuts(USPS_SHORTCUTS.iter().map(|r| r.label())),
            ),
            Kind::NeedsAttention => (
                row![text("Reason:").size(26), chosen],
                widget::shortcuts(AttentionReason::ALL.iter().map(|r| r.label())),
            ),
        };
        let last = self.last.as_ref().map(|r| {
            r.as_ref()
                .map(|f| format!("{}: ballot {}", self.reason_label(&f.reason), f.ballot_id))
                .map_err(ToString::to_string)
        });
        let banner = widget::flag_banner(last, idle, word, color);
        let recent = self.recent.iter().fold(column![].spacing(4), |c, f| {
            c.push(text(format!("{}  {}", f.ballot_id, self.reason_label(&f.reason))).size(18))
        });
        let page = column![
            widget::mode_title(title, color),
            chooser.spacing(14).align_y(Center),
            keys
        ];
        let page = match self.kind {
            Kind::Undeliverable => page
                .push(banner)
                .push(text(format!("Flagged by {}", self.user.name)).size(20)),
            Kind::NeedsAttention => page.push(self.note_field()).push(banner),
        };
        page.push(scrollable(recent).height(Fill))
            .spacing(14)
            .padding(16)
            .into()
    }

    /// The note row of needs-attention mode.
    fn note_field(&self) -> Element<'_, Message> {
        row![
            text("Note (required for Other):").size(22),
            text_input("what is wrong", &self.note)
                .id(NOTE_FIELD)
                .on_input(Message::Note)
                .size(24)
                .padding(8)
                .width(480),
        ]
        .spacing(12)
        .align_y(Center)
        .into()
    }
}
