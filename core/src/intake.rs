//! The outcome rules for a scan in receive mode: pure code, no I/O.
//!
//! The ledger gathers the facts about a barcode inside its write transaction and
//! calls [`decide`]; keeping the decision here means every rule is unit-tested
//! without a database, and the command line, the GUI and the scanners all get the
//! same answer for the same facts.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

use crate::barcode::{self, Barcode, CheckDigit, InvalidReason};

/// The one outcome every receive-mode scan gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An ACTIVE ballot of the active election, received for the first time in time.
    Accepted,
    /// The ballot was already received; the first receipt is named.
    Duplicate,
    /// The ballot was replaced or surrendered (VOID): set aside.
    Voided,
    /// The barcode belongs to a ballot of another election held in the ledger.
    WrongElection,
    /// Well-formed, but no ballot has it.
    Unknown,
    /// Not a well-formed barcode.
    Invalid,
    /// An ACTIVE ballot received after its deadline: recorded and set aside.
    Late,
}

impl Outcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [Outcome; 7] = [
        Outcome::Accepted,
        Outcome::Duplicate,
        Outcome::Voided,
        Outcome::WrongElection,
        Outcome::Unknown,
        Outcome::Invalid,
        Outcome::Late,
    ];

    /// The word stored in the ledger and printed by the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Voided => "voided",
            Outcome::WrongElection => "wrong_election",
            Outcome::Unknown => "unknown",
            Outcome::Invalid => "invalid",
            Outcome::Late => "late",
        }
    }

    /// Whether the envelope goes in the tray (only an accepted one does); every other
    /// outcome means the clerk sets the envelope aside for a supervisor.
    pub fn goes_in_tray(self) -> bool {
        self == Outcome::Accepted
    }

    /// Whether this outcome counts as the ballot's receipt, so that a later scan of
    /// the same ballot is a duplicate. A late envelope was physically received too.
    pub fn is_receipt(self) -> bool {
        matches!(self, Outcome::Accepted | Outcome::Late)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome {s:?}"))
    }
}

/// A ballot's status in the mail ballot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BallotStatus {
    /// The envelope the voter is expected to return.
    #[serde(rename = "ACTIVE")]
    Active,
    /// Replaced by a reissue, or surrendered.
    #[serde(rename = "VOID")]
    Void,
}

impl BallotStatus {
    /// The word used in the file and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            BallotStatus::Active => "ACTIVE",
            BallotStatus::Void => "VOID",
        }
    }
}

impl FromStr for BallotStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ACTIVE" => Ok(BallotStatus::Active),
            "VOID" => Ok(BallotStatus::Void),
            other => Err(format!(
                "ballot_status must be ACTIVE or VOID, not {other:?}"
            )),
        }
    }
}

/// The receipt deadlines of one election, as UTC instants. A scan at or after the
/// instant is late: the clock reading 19:00:00 means the polls have closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// 19:00 local time on election day (C.R.S. 1-7.5-107).
    pub regular: DateTime<Utc>,
    /// Close of business (17:00 local) on the 8th day after election day, for
    /// military and overseas voters (C.R.S. 1-8.3-113).
    pub uocava: DateTime<Utc>,
}

impl Deadlines {
    /// Computes the deadlines of an election held on `date` in the station's time
    /// zone, honouring whatever UTC offset (standard or daylight) applies on each day.
    pub fn for_election(date: NaiveDate, tz: Tz) -> Option<Deadlines> {
        let local = |day: NaiveDate, hour: u32| {
            crate::local_time::instant(day, NaiveTime::from_hms_opt(hour, 0, 0)?, tz)
        };
        Some(Deadlines {
            regular: local(date, 19)?,
            uocava: local(date.checked_add_days(Days::new(8))?, 17)?,
        })
    }

    /// The deadline that applies to a ballot.
    pub fn for_ballot(&self, uocava: bool) -> DateTime<Utc> {
        if uocava { self.uocava } else { self.regular }
    }
}

/// The first receipt of a ballot, named in a duplicate's result so that the clerk
/// and the supervisor can find the first envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The receipt event's sequence number in the ledger of `station` (this one's,
    /// or, for a receipt learnt from the county hub, the other station's).
    pub event_seq: i64,
    /// When it was scanned (UTC).
    pub at: DateTime<Utc>,
    /// The station that scanned it.
    pub station: String,
    /// The batch it went into, if any.
    pub batch: Option<i64>,
}

/// What the ledger knows about a ballot of the active election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotFacts {
    /// ACTIVE or VOID, from the latest mail ballot file.
    pub status: BallotStatus,
    /// Military or overseas voter (later deadline).
    pub uocava: bool,
    /// The first receipt not reversed by a correction, if any.
    pub first_receipt: Option<Receipt>,
}

/// The result of looking a barcode up in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A ballot of the active election.
    Ballot(BallotFacts),
    /// No ballot of the active election, but one of another election.
    OtherElection,
    /// No ballot at all.
    Nothing,
}

/// Decides the outcome of a well-formed scan from the ledger's facts and the time it
/// was scanned. The order matters: a previous receipt is reported before the VOID
/// status (a clerk needs to know the first envelope exists), and a VOID envelope is
/// reported as voided even when it also arrives late.
pub fn decide(found: &Found, at: DateTime<Utc>, deadlines: &Deadlines) -> Outcome {
    match found {
        Found::Nothing => Outcome::Unknown,
        Found::OtherElection => Outcome::WrongElection,
        Found::Ballot(facts) => {
            if facts.first_receipt.is_some() {
                Outcome::Duplicate
            } else if facts.status == BallotStatus::Void {
                Outcome::Voided
            } else if at >= deadlines.for_ballot(facts.uocava) {
                Outcome::Late
            } else {
                Outcome::Accepted
            }
        }
    }
}

/// Normalizes and classifies raw scanner bytes: the first half of the intake,
/// before the ledger is asked anything.
pub fn read_barcode(raw: &[u8], check: CheckDigit) -> Result<(String, Barcode), InvalidReason> {
    let normalized = barcode::normalize(raw)?;
    let code = barcode::classify(&normalized, check)?;
    Ok((normalized, code))
}

/// The one-line instruction for the clerk holding the envelope.
pub fn instruction(outcome: Outcome, first: Option<&Receipt>, tz: Tz) -> String {
    match outcome {
        Outcome::Accepted => "Put in tray".to_string(),
        Outcome::Duplicate => match first {
            Some(r) => format!(
                "SET ASIDE: already received {} at station {}{}",
                r.at.with_timezone(&tz).format("%m/%d %H:%M"),
                r.station,
                r.batch.map(|b| format!(", batch {b}")).unwrap_or_default()
            ),
            None => "SET ASIDE: already received".to_string(),
        },
        Outcome::Voided => "SET ASIDE: replaced or surrendered ballot".to_string(),
        Outcome::WrongElection => "SET ASIDE: ballot of another election".to_string(),
        Outcome::Unknown => "SET ASIDE: no such ballot".to_string(),
        Outcome::Invalid => "RESCAN: unreadable barcode".to_string(),
        Outcome::Late => "SET ASIDE: received after the deadline".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::{Denver, Los_Angeles};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn general_2026() -> Deadlines {
        Deadlines::for_election(NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(), Denver).unwrap()
    }

    fn active(uocava: bool) -> Found {
        Found::Ballot(BallotFacts {
            status: BallotStatus::Active,
            uocava,
            first_receipt: None,
        })
    }

    fn receipt() -> Receipt {
        Receipt {
            event_seq: 7,
            at: utc("2026-11-02T17:14:00Z"),
            station: "2".into(),
            batch: Some(17),
        }
    }

    #[test]
    fn deadlines_use_the_offset_of_each_day() {
        // Election day 2026-11-03 is after DST ended (Nov 1): MST, UTC-7.
        let d = general_2026();
        assert_eq!(d.regular, utc("2026-11-04T02:00:00Z"));
        assert_eq!(d.uocava, utc("2026-11-12T00:00:00Z"));
        // A special election the week before DST starts (Mar 8, 2026): the election
        // day is MST but the 8th day after is MDT, UTC-6.
        let spring =
            Deadlines::for_election(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), Denver).unwrap();
        assert_eq!(spring.regular, utc("2026-03-04T02:00:00Z"));
        assert_eq!(spring.uocava, utc("2026-03-11T23:00:00Z"));
        // An election day just before DST ends: MDT on the day, MST eight days later.
        let autumn =
            Deadlines::for_election(NaiveDate::from_ymd_opt(2026, 10, 27).unwrap(), Denver)
                .unwrap();
        assert_eq!(autumn.regular, utc("2026-10-28T01:00:00Z"));
        assert_eq!(autumn.uocava, utc("2026-11-05T00:00:00Z"));
        // Another zone.
        let ca =
            Deadlines::for_election(NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(), Los_Angeles)
                .unwrap();
        assert_eq!(ca.regular, utc("2026-11-04T03:00:00Z"));
    }

    #[test]
    fn regular_deadline_instants() {
        let d = general_2026();
        // 18:59:59 MST is on time; 19:00:00 is late.
        assert_eq!(
            decide(&active(false), utc("2026-11-04T01:59:59Z"), &d),
            Outcome::Accepted
        );
        assert_eq!(
            decide(&active(false), utc("2026-11-04T01:59:59.999999Z"), &d),
            Outcome::Accepted
        );
        assert_eq!(
            decide(&active(false), utc("2026-11-04T02:00:00Z"), &d),
            Outcome::Late
        );
        assert_eq!(
            decide(&active(false), utc("2026-11-20T12:00:00Z"), &d),
            Outcome::Late
        );
    }

    #[test]
    fn uocava_deadline_instants() {
        let d = general_2026();
        // A UOCAVA ballot the day after the election is still on time.
        assert_eq!(
            decide(&active(true), utc("2026-11-05T15:00:00Z"), &d),
            Outcome::Accepted
        );
        assert_eq!(
            decide(&active(true), utc("2026-11-11T23:59:59Z"), &d),
            Outcome::Accepted
        );
        assert_eq!(
            decide(&active(true), utc("2026-11-12T00:00:00Z"), &d),
            Outcome::Late
        );
    }

    #[test]
    fn uocava_deadline_across_spring_dst_change() {
        let d =
            Deadlines::for_election(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), Denver).unwrap();
        // 16:59:59 MDT on March 11 is on time; 17:00:00 MDT is late. Had the MST
        // offset of election day been used, 17:30 MDT would wrongly be on time.
        assert_eq!(
            decide(&active(true), utc("2026-03-11T22:59:59Z"), &d),
            Outcome::Accepted
        );
        assert_eq!(
            decide(&active(true), utc("2026-03-11T23:00:00Z"), &d),
            Outcome::Late
        );
        assert_eq!(
            decide(&active(true), utc("2026-03-11T23:30:00Z"), &d),
            Outcome::Late
        );
    }

    #[test]
    fn every_outcome_from_facts() {
        let d = general_2026();
        let early = utc("2026-10-20T16:00:00Z");
        assert_eq!(decide(&Found::Nothing, early, &d), Outcome::Unknown);
        assert_eq!(
            decide(&Found::OtherElection, early, &d),
            Outcome::WrongElection
        );
        assert_eq!(decide(&active(false), early, &d), Outcome::Accepted);
        let void = Found::Ballot(BallotFacts {
            status: BallotStatus::Void,
            uocava: false,
            first_receipt: None,
        });
        assert_eq!(decide(&void, early, &d), Outcome::Voided);
        // A void envelope arriving late is reported as voided: that is why it is set aside.
        assert_eq!(
            decide(&void, utc("2026-11-10T16:00:00Z"), &d),
            Outcome::Voided
        );
        let received = Found::Ballot(BallotFacts {
            status: BallotStatus::Active,
            uocava: false,
            first_receipt: Some(receipt()),
        });
        assert_eq!(decide(&received, early, &d), Outcome::Duplicate);
        assert_eq!(
            decide(&received, utc("2026-11-10T16:00:00Z"), &d),
            Outcome::Duplicate
        );
        let received_then_void = Found::Ballot(BallotFacts {
            status: BallotStatus::Void,
            uocava: false,
            first_receipt: Some(receipt()),
        });
        assert_eq!(decide(&received_then_void, early, &d), Outcome::Duplicate);
    }

    #[test]
    fn read_barcode_reports_invalid_forms() {
        assert_eq!(
            read_barcode(b"\r\n", CheckDigit::None),
            Err(InvalidReason::Empty)
        );
        assert_eq!(
            read_barcode(&[b'1'; 65], CheckDigit::None),
            Err(InvalidReason::TooLong)
        );
        assert_eq!(
            read_barcode(b"12\x1f34", CheckDigit::None),
            Err(InvalidReason::NotPrintable)
        );
        assert_eq!(
            read_barcode(b"1234", CheckDigit::Luhn),
            Err(InvalidReason::CheckDigit)
        );
        let (n, code) = read_barcode(b" 1230\n", CheckDigit::Luhn).unwrap();
        assert_eq!(n, "1230");
        assert_eq!(code, Barcode::BallotId("1230".into()));
    }

    #[test]
    fn outcome_words_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert!(Outcome::Accepted.goes_in_tray());
        assert!(Outcome::ALL.iter().filter(|o| o.goes_in_tray()).count() == 1);
        assert!(Outcome::Late.is_receipt() && !Outcome::Duplicate.is_receipt());
    }

    #[test]
    fn instructions_name_the_first_receipt() {
        let text = instruction(Outcome::Duplicate, Some(&receipt()), Denver);
        assert_eq!(
            text,
            "SET ASIDE: already received 11/02 10:14 at station 2, batch 17"
        );
        assert_eq!(instruction(Outcome::Accepted, None, Denver), "Put in tray");
        for o in Outcome::ALL {
            let t = instruction(o, None, Denver);
            assert_eq!(
                o.goes_in_tray(),
                !t.starts_with("SET ASIDE") && !t.starts_with("RESCAN")
            );
        }
    }
}
