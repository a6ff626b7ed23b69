//! Review and corrections (supervisors): find a ballot by barcode (or by scanning the
//! envelope), voter id, or last name and ZIP; see its whole history; reverse an event
//! with a reason. A reversal is a new correction entry; nothing is edited.
//! Confidential voters' names and ZIPs arrive masked from the ledger.

use iced::widget::{Id, column, row, scrollable, text};
use iced::{Element, Fill, Task};

use ballot_intake_core::ledger::{BallotView, HistoryRow, LedgerError, Reversal, User};

use super::Scanned;
use crate::station::Station;
use crate::{theme, widget};

/// The search field's id (focused when the screen opens).
pub const QUERY_FIELD: &str = "review-query";
/// The event number field's id.
pub const SEQ_FIELD: &str = "review-seq";
/// The reason field's id.
pub const REASON_FIELD: &str = "review-reason";

/// What this screen keeps between messages: its fields, its work in progress and
/// the ledger's last answers.
#[derive(Debug, Clone)]
pub struct State {
    /// The supervisor.
    pub user: User,
    query: String,
    results: Vec<BallotView>,
    selected: Option<usize>,
    history: Vec<HistoryRow>,
    seq: String,
    reason: String,
    outcome: Option<Result<String, String>>,
}

/// What this screen reacts to: a person's input, and the ledger's answers to what it
/// asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The search text changed.
    Query(String),
    /// Enter in the search field.
    Search,
    /// The ledger's matches.
    Found(Result<Vec<BallotView>, LedgerError>),
    /// Ctrl+1 .. Ctrl+9: pick a match.
    Select(usize),
    /// The ledger's history of the picked ballot.
    History(Result<Vec<HistoryRow>, LedgerError>),
    /// The event number to reverse changed.
    Seq(String),
    /// The reason changed.
    Reason(String),
    /// Enter in the reason field.
    Reverse,
    /// The ledger's answer to a reversal.
    Reversed(Result<Reversal, LedgerError>),
}

impl State {
    /// The screen for `user`.
    pub fn new(user: User) -> Self {
        State {
            user,
            query: String::new(),
            results: Vec::new(),
            selected: None,
            history: Vec::new(),
            seq: String::new(),
            reason: String::new(),
            outcome: None,
        }
    }

    /// What a person's Enter in `field` does on this screen (`None`: nothing).
    pub fn on_enter(&self, field: &Id) -> Option<Message> {
        if *field == Id::new(QUERY_FIELD) {
            Some(Message::Search)
        } else if *field == Id::new(SEQ_FIELD) || *field == Id::new(REASON_FIELD) {
            Some(Message::Reverse)
        } else {
            None
        }
    }

    /// A keyboard-wedge scan typed `code` into whichever field had focus: its keys
    /// are a scan, not the field's text, and are taken back out.
    pub fn take_back(&mut self, code: &str) {
        super::take_back(&mut self.query, code);
        super::take_back_digits(&mut self.seq, code);
        super::take_back(&mut self.reason, code);
    }

    /// Where the cursor goes when the screen opens: it is used from the keyboard alone.
    pub fn focus_id() -> Id {
        Id::new(QUERY_FIELD)
    }

    /// A scanned envelope is looked up.
    pub fn scanned(&mut self, scan: &Scanned, station: &Station) -> Task<Message> {
        self.query = scan.text();
        self.update(Message::Search, station)
    }

    /// The ballot picked, if any.
    pub fn selected(&self) -> Option<&BallotView> {
        self.selected.and_then(|i| self.results.get(i))
    }

    /// Searches, histories and reversals run on the ledger thread; their answers
    /// come back here.
    pub fn update(&mut self, message: Message, station: &Station) -> Task<Message> {
        let ledger = &station.worker;
        match message {
            Message::Query(q) => self.query = q,
            Message::Search => {
                let q = self.query.trim().to_string();
                if !q.is_empty() {
                    return ledger.task(move |l| l.find_ballots(&q)).map(Message::Found);
                }
            }
            Message::Found(Ok(results)) => {
                self.results = results;
                self.history.clear();
                self.selected = None;
                self.outcome = None;
                if self.results.len() == 1 {
                    return self.update(Message::Select(1), station);
                }
                if self.results.is_empty() {
                    self.outcome = Some(Err(format!("No ballot matches {:?}.", self.query)));
                    return iced::widget::operation::focus(Self::focus_id());
                }
            }
            Message::Select(n) => {
                if let Some(b) = n.checked_sub(1).and_then(|i| self.results.get(i)) {
                    self.selected = n.checked_sub(1);
                    let pk = b.ballot_pk;
                    return ledger
                        .task(move |l| l.ballot_history(pk))
                        .map(Message::History);
                }
            }
            Message::History(Ok(h)) => self.history = h,
            Message::Seq(s) => self.seq = s.chars().filter(char::is_ascii_digit).collect(),
            Message::Reason(r) => self.reason = r,
            Message::Reverse => {
                let Ok(seq) = self.seq.parse::<i64>() else {
                    self.outcome = Some(Err("Type the number (#) of the event to reverse.".into()));
                    return Task::none();
                };
                if !self.history.iter().any(|h| h.seq == seq) {
                    self.outcome = Some(Err(format!(
                        "Event #{seq} is not in this ballot's history."
                    )));
                    return Task::none();
                }
                if self.reason.trim().is_empty() {
                    self.outcome = Some(Err("A reversal needs a reason.".into()));
                    return Task::none();
                }
                let (user, reason) = (self.user.clone(), self.reason.trim().to_string());
                return ledger
                    .task(move |l| l.reverse_event(&user, seq, &reason))
                    .map(Message::Reversed);
            }
            Message::Reversed(Ok(r)) => {
                self.outcome = Some(Ok(format!(
                    "Event #{} reverses #{}: {}",
                    r.seq, r.corrects, r.reason
                )));
                self.seq.clear();
                self.reason.clear();
                if let Some(pk) = self.selected().map(|b| b.ballot_pk) {
                    return ledger
                        .task(move |l| l.ballot_history(pk))
                        .map(Message::History);
                }
            }
            Message::Found(Err(e)) | Message::History(Err(e)) | Message::Reversed(Err(e)) => {
                self.outcome = Some(Err(e.to_string()));
            }
        }
        Task::none()
    }

    /// Draws the screen; times in `tz`.
    pub fn view(&self, tz: chrono_tz::Tz) -> Element<'_, Message> {
        let search = row![
            widget::field(
                "barcode, voter id, or last name and ZIP",
                &self.query,
                QUERY_FIELD,
                Message::Query
            )
            .width(640),
            text("or scan the envelope").size(20),
        ]
        .spacing(14)
        .align_y(iced::Center);
        let results = self
            .results
            .iter()
            .enumerate()
            .fold(column![].spacing(4), |c, (i, b)| {
                let mark = if self.selected == Some(i) { "▶" } else { " " };
                c.push(
                    text(format!(
                        "{mark} Ctrl+{}  {}  {}  {}  {}  {}",
                        i + 1,
                        b.ballot_id,
                        b.voter_id,
                        b.name,
                        b.zip,
                        b.status
                    ))
                    .size(20),
                )
            });
        let history = self.history.iter().fold(column![].spacing(4), |c, h| {
            let at = chrono::DateTime::parse_from_rfc3339(&h.occurred_at)
                .map(|t| t.with_timezone(&tz).format("%m/%d %H:%M:%S").to_string())
                .unwrap_or_default();
            c.push(
                text(format!(
                    "#{}  {at}  {} {}  station {} by {}{}{}{}{}",
                    h.seq,
                    h.kind,
                    h.outcome.as_deref().unwrap_or(""),
                    h.station_id,
                    h.user,
                    h.batch.map(|b| format!(", batch {b}")).unwrap_or_default(),
                    h.reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default(),
                    h.corrects
                        .map(|c| format!(" (reverses #{c})"))
                        .unwrap_or_default(),
                    h.reversed_by
                        .map(|r| format!("  [REVERSED by #{r}]"))
                        .unwrap_or_default(),
                ))
                .size(18),
            )
        });
        let reverse = row![
            text("Reverse event #").size(22),
            widget::field("#", &self.seq, SEQ_FIELD, Message::Seq).width(120),
            text("because").size(22),
            widget::field("reason", &self.reason, REASON_FIELD, Message::Reason).width(520),
        ]
        .spacing(12)
        .align_y(iced::Center);
        let mut page = column![
            widget::mode_title(
                "REVIEW AND CORRECTIONS (Esc: back to receiving)",
                theme::HEADER
            ),
            search,
            results,
        ]
        .spacing(14)
        .padding(16);
        if let Some(b) = self.selected() {
            page = page
                .push(
                    // A masked name is already "(confidential voter)".
                    text(if b.confidential {
                        format!("History of ballot {} {}", b.ballot_id, b.name)
                    } else {
                        format!("History of ballot {} ({})", b.ballot_id, b.name)
                    })
                    .size(24),
                )
                .push(scrollable(history).height(Fill))
                .push(reverse);
        }
        match &self.outcome {
            Some(Ok(m)) => page.push(text(m.clone()).size(22).color(theme::OK)),
            Some(Err(e)) => page.push(text(e.clone()).size(22).color(theme::ERROR)),
            None => page,
        }
        .into()
    }
}
