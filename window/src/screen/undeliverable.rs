//! Undeliverable mode (supervisors): returned outbound packets, scanned by ballot id
//! or outbound IMb, are flagged undeliverable with the USPS endorsement chosen here.
//! A different colour and title from receiving, because the two must never be
//! confused: an undeliverable flag sends the voter a different message.

use iced::widget::{column, container, row, scrollable, text};
use iced::{Center, Element, Fill};
use std::collections::VecDeque;

use crate::{theme, widget};
use ballot_intake_core::ledger::{FlagResult, User, UspsReason};

/// The endorsements on Ctrl+1 .. Ctrl+9, the most common first.
pub const SHORTCUTS: [UspsReason; 9] = [
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

/// The screen's state.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    /// The endorsement applied to the next scans.
    pub reason: UspsReason,
    last: Option<Result<FlagResult, String>>,
    recent: VecDeque<FlagResult>,
    /// Flags sent to the ledger and not yet answered.
    pub pending: usize,
}

/// What happened on the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An endorsement was chosen.
    Reason(UspsReason),
    /// Ctrl+Down / Ctrl+Up: the next or previous of all 17 endorsements.
    Cycle(bool),
    /// Ctrl+1 .. Ctrl+9.
    Shortcut(usize),
    /// The ledger answered a flag.
    Recorded(Box<Result<FlagResult, String>>),
}

impl State {
    /// The mode for `user`, starting with the most common endorsement.
    pub fn new(user: User) -> Self {
        State {
            user,
            reason: SHORTCUTS[0],
            last: None,
            recent: VecDeque::new(),
            pending: 0,
        }
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) {
        match message {
            Message::Reason(r) => self.reason = r,
            Message::Cycle(forward) => {
                let all = UspsReason::ALL;
                let i = all.iter().position(|r| *r == self.reason).unwrap_or(0);
                let n = all.len();
                self.reason = all[if forward {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
            }
            Message::Shortcut(n) => {
                if let Some(r) = n.checked_sub(1).and_then(|i| SHORTCUTS.get(i)) {
                    self.reason = *r;
                }
            }
            Message::Recorded(result) => {
                self.pending = self.pending.saturating_sub(1);
                if let Ok(f) = &*result {
                    self.recent.push_front(f.clone());
                    self.recent.truncate(super::scan::RECENT);
                }
                self.last = Some(*result);
            }
        }
    }

    /// Draws the screen.
    pub fn view(&self) -> Element<'_, Message> {
        let title = widget::mode_title(
            "UNDELIVERABLE MODE: returned outbound packets (Esc: back to receiving)",
            theme::UNDELIVERABLE,
        );
        let chooser = row![
            text("USPS endorsement:").size(26),
            container(text(self.reason.label()).size(30))
                .padding([6, 16])
                .style(theme::panel(theme::UNDELIVERABLE)),
            text("Ctrl+Down / Ctrl+Up: the other endorsements").size(16),
        ]
        .spacing(14)
        .align_y(Center);
        let keys = widget::shortcuts(SHORTCUTS.iter().map(|r| r.label()));
        let last = self.last.as_ref().map(|r| {
            r.as_ref()
                .map(|f| {
                    format!(
                        "{}: ballot {}",
                        UspsReason::label_of(&f.reason),
                        f.ballot_id
                    )
                })
                .map_err(Clone::clone)
        });
        let banner = widget::flag_banner(
            last,
            "Scan a returned packet",
            "UNDELIVERABLE",
            theme::UNDELIVERABLE,
        );
        let recent = self.recent.iter().fold(column![].spacing(4), |c, f| {
            c.push(
                text(format!(
                    "{}  {}",
                    f.ballot_id,
                    UspsReason::label_of(&f.reason)
                ))
                .size(18),
            )
        });
        column![
            title,
            chooser,
            keys,
            banner,
            text(format!("Flagged by {}", self.user.name)).size(20),
            scrollable(recent).height(Fill),
        ]
        .spacing(14)
        .padding(16)
        .into()
    }
}
