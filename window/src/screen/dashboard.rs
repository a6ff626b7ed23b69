//! The dashboard (supervisors): outcomes today and for the election, receipts per
//! hour against the day before and the newest batches' outcomes as charts
//! ([`charts`]), and scans per batch and per user.

pub mod charts;

use iced::widget::{canvas, column, row, scrollable, text};
use iced::{Element, Fill, Font, Task};

use ballot_intake_core::ledger::{Dashboard, LedgerError};

use crate::station::Station;
use crate::{theme, widget};

/// The numbers are read again every this many clock ticks (seconds).
pub const REFRESH_TICKS: u64 = 5;

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone, Default)]
pub struct State {
    data: Option<Result<Dashboard, LedgerError>>,
    ticks: u64,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The ledger's numbers.
    Loaded(Box<Result<Dashboard, LedgerError>>),
}

impl State {
    /// The screen, and the task loading its numbers.
    pub fn new(station: &Station) -> (Self, Task<Message>) {
        (State::default(), Self::load(station))
    }

    fn load(station: &Station) -> Task<Message> {
        station
            .worker
            .task(|l| l.dashboard(chrono::Utc::now()))
            .map(|r| Message::Loaded(Box::new(r)))
    }

    /// A second passed: every [`REFRESH_TICKS`] the numbers are read again.
    pub fn tick(&mut self, station: &Station) -> Task<Message> {
        self.ticks += 1;
        if self.ticks.is_multiple_of(REFRESH_TICKS) {
            Self::load(station)
        } else {
            Task::none()
        }
    }

    /// The ledger's numbers arrived.
    pub fn update(&mut self, message: Message) {
        match message {
            Message::Loaded(d) => self.data = Some(*d),
        }
    }

    /// The screen as it stands (drawing changes nothing).
    pub fn view(&self) -> Element<'_, Message> {
        let title = widget::mode_title(
            "DASHBOARD (Esc: back to receiving; refreshes every 5 s)",
            theme::HEADER,
        );
        let body: Element<'_, Message> = match &self.data {
            None => text("Loading...").size(24).into(),
            Some(Err(e)) => text(e.to_string()).size(24).color(theme::ERROR).into(),
            Some(Ok(d)) => {
                let counts = |label: &'static str, m: &std::collections::BTreeMap<String, i64>| {
                    m.iter()
                        .fold(column![text(label).size(24)].spacing(4), |c, (o, n)| {
                            c.push(
                                text(format!("{o:<15} {n:>8}"))
                                    .size(20)
                                    .font(Font::MONOSPACE),
                            )
                        })
                };
                let hours: Element<'_, Message> = if d.receipts_by_hour.is_empty() {
                    text("No receipts yet today or yesterday.").size(20).into()
                } else {
                    canvas(charts::HourChart {
                        hours: d.receipts_by_hour.clone(),
                    })
                    .width(Fill)
                    .height(300)
                    .into()
                };
                let hours = column![
                    text("Receipts per hour: today and yesterday").size(24),
                    hours
                ]
                .spacing(6);
                let outcomes: Element<'_, Message> = if d.batch_outcomes.is_empty() {
                    text("No batches yet.").size(20).into()
                } else {
                    let batches: Vec<_> = d
                        .batch_outcomes
                        .iter()
                        .map(|(b, counts)| (*b, charts::BatchTally::of(counts)))
                        .collect();
                    let rows = u16::try_from(batches.len()).unwrap_or(u16::MAX);
                    canvas(charts::BatchChart { batches })
                        .width(Fill)
                        .height(f32::from(rows) * 40.0 + 44.0)
                        .into()
                };
                let outcomes =
                    column![text("The newest batches' outcomes").size(24), outcomes].spacing(6);
                let batches = d.per_batch.iter().fold(
                    column![text("Per batch: scans / accepted").size(24)].spacing(2),
                    |c, (b, s, a)| {
                        c.push(
                            text(format!("batch {b:<5} {s:>6} {a:>6}"))
                                .size(18)
                                .font(Font::MONOSPACE),
                        )
                    },
                );
                let users = d.per_user.iter().fold(
                    column![text("Per user: scans / accepted").size(24)].spacing(2),
                    |c, (u, s, a)| {
                        c.push(
                            text(format!("{u:<16} {s:>6} {a:>6}"))
                                .size(18)
                                .font(Font::MONOSPACE),
                        )
                    },
                );
                scrollable(
                    column![
                        row![counts("Today", &d.today), counts("Election", &d.election)]
                            .spacing(60),
                        hours,
                        outcomes,
                        row![batches, users].spacing(60),
                    ]
                    .spacing(24),
                )
                .height(Fill)
                .into()
            }
        };
        column![title, body].spacing(14).padding(16).into()
    }
}
