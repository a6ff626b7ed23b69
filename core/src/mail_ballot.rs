//! Reading and validating the mail ballot file from the state system.
//!
//! The file is CSV (RFC 4180), UTF-8 with an optional byte-order mark, LF or CRLF,
//! with a header row whose names are matched case-insensitively in any order. The
//! import is all or nothing: every row is checked, every problem is reported as
//! `line N, column C: what is wrong`, and the ledger is written only if none is found.

use chrono::NaiveDate;

pub use crate::ballot_row::{MailBallotRow, RowError};
use crate::barcode::{self, CheckDigit, Imb};
use crate::intake::BallotStatus;
use crate::ledger::LedgerError;

mod guard;
mod import;
pub use import::{import_file, read_records};

/// How many row errors are listed before the rest are only counted.
pub const MAX_LISTED_ERRORS: usize = 50;

/// Why an import did not happen.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The file has errors; nothing was imported.
    #[error("{file}: {total} error(s); nothing was imported\n{}", list(.errors, *.total))]
    Rejected {
        /// The file.
        file: String,
        /// The first [`MAX_LISTED_ERRORS`] errors.
        errors: Vec<RowError>,
        /// How many there were in all.
        total: usize,
    },
    /// The ledger refused.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn list(errors: &[RowError], total: usize) -> String {
    let mut lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if total > errors.len() {
        lines.push(format!("... and {} more", total - errors.len()));
    }
    lines.join("\n")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    ElectionId,
    BallotId,
    VoterId,
    LastName,
    FirstName,
    ResidentialZip,
    Precinct,
    BallotStyle,
    BallotStatus,
    Confidential,
    MiddleName,
    MailingAddress,
    MailingCity,
    MailingState,
    MailingZip,
    Uocava,
    IssuedDate,
    ReturnImb,
    OutboundImb,
}

const COLUMNS: [(Col, &str, bool); 19] = [
    (Col::ElectionId, "election_id", true),
    (Col::BallotId, "ballot_id", true),
    (Col::VoterId, "voter_id", true),
    (Col::LastName, "last_name", true),
    (Col::FirstName, "first_name", true),
    (Col::ResidentialZip, "residential_zip", true),
    (Col::Precinct, "precinct", true),
    (Col::BallotStyle, "ballot_style", true),
    (Col::BallotStatus, "ballot_status", true),
    (Col::Confidential, "confidential", true),
    (Col::MiddleName, "middle_name", false),
    (Col::MailingAddress, "mailing_address", false),
    (Col::MailingCity, "mailing_city", false),
    (Col::MailingState, "mailing_state", false),
    (Col::MailingZip, "mailing_zip", false),
    (Col::Uocava, "uocava", false),
    (Col::IssuedDate, "issued_date", false),
    (Col::ReturnImb, "return_imb", false),
    (Col::OutboundImb, "outbound_imb", false),
];

fn col_name(c: Col) -> &'static str {
    COLUMNS
        .iter()
        .find(|(k, _, _)| *k == c)
        .map_or("?", |(_, n, _)| n)
}

/// Where each known column sits in the file.
#[derive(Debug, Clone)]
pub struct Header {
    index: [Option<usize>; 19],
    width: usize,
}

impl Header {
    /// Reads the header row. Missing required columns (and a column named twice) are
    /// reported against line 1.
    pub fn parse(record: &csv::ByteRecord) -> Result<Header, Vec<RowError>> {
        let mut index = [None; 19];
        let mut errors = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let name = String::from_utf8_lossy(raw);
            let name = name
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            if let Some(pos) = COLUMNS.iter().position(|(_, n, _)| *n == name) {
                if index[pos].is_some() {
                    errors.push(RowError {
                        line: 1,
                        column: name.clone(),
                        message: "this column appears twice in the header".into(),
                    });
                }
                index[pos] = Some(i);
            }
        }
        for (pos, (_, name, required)) in COLUMNS.iter().enumerate() {
            if *required && index[pos].is_none() {
                errors.push(RowError {
                    line: 1,
                    column: (*name).to_string(),
                    message: "required column is missing from the header".into(),
                });
            }
        }
        if errors.is_empty() {
            Ok(Header {
                index,
                width: record.len(),
            })
        } else {
            Err(errors)
        }
    }
}

/// The checks that depend on the active election.
pub struct RowRules<'a> {
    /// The active election's id.
    pub election_id: &'a str,
    /// Its ballot id check digit.
    pub check_digit: CheckDigit,
}

/// The longest field of a mail ballot file, in bytes: the longest name or address
/// line a county stores is far shorter, and a field longer than this is a damaged
/// file (a quote left open swallowing the rows after it), not data to keep.
pub const MAX_FIELD_BYTES: usize = 200;

/// Whether an id (ballot or voter) starts as ids do: with a letter or a digit. An id
/// starting `=`, `+`, `-` or `@` is no county's; it is a spreadsheet formula, which
/// would run in whoever opens a file the station writes.
fn starts_like_an_id(id: &str) -> bool {
    id.chars().next().is_some_and(char::is_alphanumeric)
}

struct Fields<'r, 'h> {
    record: &'r csv::ByteRecord,
    header: &'h Header,
    line: u64,
    errors: Vec<RowError>,
}

impl<'r> Fields<'r, '_> {
    fn err(&mut self, c: Col, message: impl Into<String>) {
        self.errors.push(RowError {
            line: self.line,
            column: col_name(c).to_string(),
            message: message.into(),
        });
    }

    /// The trimmed text of a column, `None` when absent or empty (or too long).
    fn get(&mut self, c: Col) -> Option<&'r str> {
        let i = self.header.index[c as usize]?;
        let raw = self.record.get(i)?;
        if raw.len() > MAX_FIELD_BYTES {
            self.err(
                c,
                format!(
                    "is {} bytes long; a field of a mail ballot file holds at most {MAX_FIELD_BYTES}",
                    raw.len()
                ),
            );
            return None;
        }
        match std::str::from_utf8(raw) {
            Ok(s) => {
                let t = s.trim();
                (!t.is_empty()).then_some(t)
            }
            Err(_) => {
                self.err(c, "is not valid UTF-8 (save the file as UTF-8)");
                None
            }
        }
    }

    fn required(&mut self, c: Col) -> &'r str {
        let before = self.errors.len();
        self.get(c).unwrap_or_else(|| {
            // Not "empty" when the value was there but unreadable.
            if self.errors.len() == before {
                self.err(c, "is empty, but a value is required");
            }
            ""
        })
    }

    fn flag(&mut self, c: Col, required: bool) -> bool {
        match self.get(c) {
            Some("Y" | "y") => true,
            Some("N" | "n") => false,
            Some(v) => {
                self.err(
                    c,
                    format!("must be Y or N, not {:?}", v.to_ascii_uppercase()),
                );
                false
            }
            None if required => {
                self.err(c, "is empty; it must be Y or N");
                false
            }
            None => false,
        }
    }

    fn imb(&mut self, c: Col) -> Option<&'r str> {
        let v = self.get(c)?;
        if Imb::parse(v).is_some() {
            Some(v)
        } else {
            self.err(
                c,
                format!("{v:?} is not an Intelligent Mail barcode (20, 25, 29 or 31 digits, second digit 0-4)"),
            );
            None
        }
    }
}

/// Reads a YYYY-MM-DD date exactly (no other form is accepted). Hand-written because
/// a strftime-style parser costs more per row than the rest of the row together.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// Validates one record against the header and the election's rules. Cross-row
/// checks (duplicates, one ACTIVE ballot per voter) are made by the importer.
pub fn parse_row<'r>(
    record: &'r csv::ByteRecord,
    header: &Header,
    line: u64,
    rules: &RowRules<'_>,
) -> Result<MailBallotRow<'r>, Vec<RowError>> {
    if record.len() != header.width {
        return Err(vec![RowError {
            line,
            column: "-".into(),
            message: format!(
                "has {} fields but the header has {} (a missing comma or an unclosed quote?)",
                record.len(),
                header.width
            ),
        }]);
    }
    let mut f = Fields {
        record,
        header,
        line,
        errors: Vec::new(),
    };
    let election_id = f.required(Col::ElectionId);
    if !election_id.is_empty() && election_id != rules.election_id {
        f.err(
            Col::ElectionId,
            format!(
                "ballot of election {election_id:?}, but the active election is {:?}; refusing the whole file",
                rules.election_id
            ),
        );
    }
    let ballot_id = f.required(Col::BallotId);
    if !ballot_id.is_empty() && !starts_like_an_id(ballot_id) {
        f.err(
            Col::BallotId,
            format!("{ballot_id:?} does not start with a letter or a digit, as ballot ids do"),
        );
    } else if !ballot_id.is_empty() {
        match barcode::normalize(ballot_id.as_bytes()) {
            Err(why) => f.err(
                Col::BallotId,
                format!("{ballot_id:?} cannot be a barcode: {}", why.describe()),
            ),
            Ok(_) if !rules.check_digit.accepts(ballot_id) => f.err(
                Col::BallotId,
                format!(
                    "{ballot_id:?} fails the election's {} check digit",
                    rules.check_digit
                ),
            ),
            Ok(_) => {}
        }
    }
    let voter_id = f.required(Col::VoterId);
    if !voter_id.is_empty() && !starts_like_an_id(voter_id) {
        f.err(
            Col::VoterId,
            format!("{voter_id:?} does not start with a letter or a digit, as voter ids do"),
        );
    }
    let last_name = f.required(Col::LastName);
    let first_name = f.required(Col::FirstName);
    let middle_name = f.get(Col::MiddleName);
    let residential_zip = f.required(Col::ResidentialZip);
    let precinct = f.required(Col::Precinct);
    let ballot_style = f.required(Col::BallotStyle);
    let status = match f.get(Col::BallotStatus) {
        Some(s) => match s.to_ascii_uppercase().parse::<BallotStatus>() {
            Ok(st) => Some(st),
            Err(_) => {
                f.err(
                    Col::BallotStatus,
                    format!("must be ACTIVE or VOID, not {s:?}"),
                );
                None
            }
        },
        None => {
            f.err(Col::BallotStatus, "is empty; it must be ACTIVE or VOID");
            None
        }
    };
    let confidential = f.flag(Col::Confidential, true);
    let uocava = f.flag(Col::Uocava, false);
    let issued_date = f.get(Col::IssuedDate).and_then(|d| {
        parse_iso_date(d)
            .ok_or(())
            .map_err(|()| {
                f.err(
                    Col::IssuedDate,
                    format!("{d:?} is not a date of the form YYYY-MM-DD"),
                );
            })
            .ok()
    });
    let return_imb = f.imb(Col::ReturnImb);
    let outbound_imb = f.imb(Col::OutboundImb);
    let row = MailBallotRow {
        line,
        election_id,
        ballot_id,
        voter_id,
        last_name,
        first_name,
        middle_name,
        residential_zip,
        precinct,
        ballot_style,
        status: status.unwrap_or(BallotStatus::Void),
        confidential,
        uocava,
        mailing_address: f.get(Col::MailingAddress),
        mailing_city: f.get(Col::MailingCity),
        mailing_state: f.get(Col::MailingState),
        mailing_zip: f.get(Col::MailingZip),
        issued_date,
        return_imb,
        outbound_imb,
    };
    if f.errors.is_empty() {
        Ok(row)
    } else {
        Err(f.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &str) -> Header {
        Header::parse(&csv::ByteRecord::from(cols.split(',').collect::<Vec<_>>())).unwrap()
    }

    const FULL: &str = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,uocava,issued_date,return_imb";

    fn row(values: &str) -> csv::ByteRecord {
        csv::ByteRecord::from(values.split(',').collect::<Vec<_>>())
    }

    fn rules() -> RowRules<'static> {
        RowRules {
            election_id: "E1",
            check_digit: CheckDigit::None,
        }
    }

    #[test]
    fn header_is_case_insensitive_and_tolerates_bom_and_extra_columns() {
        let h = Header::parse(&row(
            "\u{feff}ELECTION_ID,Ballot_Id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,shoe_size",
        ))
        .unwrap();
        assert_eq!(h.index[Col::ElectionId as usize], Some(0));
        assert_eq!(h.index[Col::BallotId as usize], Some(1));
        assert_eq!(h.width, 11);
    }

    #[test]
    fn header_names_missing_and_doubled_columns() {
        let errs = Header::parse(&row("election_id,ballot_id,ballot_id")).unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(text.contains(
            &"line 1, column ballot_id: this column appears twice in the header".to_string()
        ));
        assert!(text.contains(
            &"line 1, column voter_id: required column is missing from the header".to_string()
        ));
        assert_eq!(errs.len(), 1 + 8);
    }

    #[test]
    fn good_row() {
        let rec =
            row("E1, B1 ,V1,O'Brien,José,80202,101,3,active,n,Y,2026-10-09,00040123456200800001");
        let r = parse_row(&rec, &header(FULL), 2, &rules()).unwrap();
        assert_eq!(r.ballot_id, "B1");
        assert_eq!(r.first_name, "José");
        assert_eq!(r.status, BallotStatus::Active);
        assert!(!r.confidential && r.uocava);
        assert_eq!(r.issued_date, NaiveDate::from_ymd_opt(2026, 10, 9));
        assert_eq!(r.return_imb, Some("00040123456200800001"));
    }

    fn errors_of(values: &str, rules: &RowRules<'_>) -> Vec<String> {
        parse_row(&row(values), &header(FULL), 7, rules)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn each_bad_field_is_named() {
        let e = errors_of(
            "E2,,V1,,A,80202,101,3,LOST,X,maybe,10/09/2026,123",
            &rules(),
        );
        assert_eq!(
            e,
            vec![
                "line 7, column election_id: ballot of election \"E2\", but the active election is \"E1\"; refusing the whole file",
                "line 7, column ballot_id: is empty, but a value is required",
                "line 7, column last_name: is empty, but a value is required",
                "line 7, column ballot_status: must be ACTIVE or VOID, not \"LOST\"",
                "line 7, column confidential: must be Y or N, not \"X\"",
                "line 7, column uocava: must be Y or N, not \"MAYBE\"",
                "line 7, column issued_date: \"10/09/2026\" is not a date of the form YYYY-MM-DD",
                "line 7, column return_imb: \"123\" is not an Intelligent Mail barcode (20, 25, 29 or 31 digits, second digit 0-4)",
            ]
        );
    }

    #[test]
    fn iso_dates_exactly() {
        assert_eq!(
            parse_iso_date("2026-02-28"),
            NaiveDate::from_ymd_opt(2026, 2, 28)
        );
        for bad in [
            "2026-02-29",
            "2026-2-28",
            "2026/02/28",
            "26-02-28",
            "2026-02-2x",
            "",
            "２０２６-02-28",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn check_digit_and_field_count() {
        let luhn = RowRules {
            election_id: "E1",
            check_digit: CheckDigit::Luhn,
        };
        let e = errors_of("E1,1234,V1,L,F,80202,101,3,ACTIVE,N,N,,", &luhn);
        assert_eq!(
            e,
            vec!["line 7, column ballot_id: \"1234\" fails the election's luhn check digit"]
        );
        assert!(
            parse_row(
                &row("E1,1230,V1,L,F,80202,101,3,ACTIVE,N,N,,"),
                &header(FULL),
                7,
                &luhn
            )
            .is_ok()
        );
        let e = parse_row(&row("E1,B1,V1"), &header(FULL), 9, &rules()).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "line 9, column -: has 3 fields but the header has 13 (a missing comma or an unclosed quote?)"
        );
    }

    #[test]
    fn non_utf8_and_unprintable_ids() {
        let mut rec = row("E1,B1,V1,L,F,80202,101,3,ACTIVE,N,N,,");
        let mut fields: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
        fields[3] = vec![b'M', 0xe9, b'n'];
        fields[1] = "Bé1".as_bytes().to_vec();
        rec = csv::ByteRecord::from(fields);
        let e: Vec<String> = parse_row(&rec, &header(FULL), 4, &rules())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            e,
            vec![
                "line 4, column ballot_id: \"Bé1\" cannot be a barcode: characters outside printable ASCII",
                "line 4, column last_name: is not valid UTF-8 (save the file as UTF-8)",
            ]
        );
    }
}
