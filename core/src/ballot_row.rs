//! One row of a mail ballot file, and a problem with one row: the words the file's
//! reader (`mail_ballot`) and the ledger's import (`ledger::import`) share. They sit
//! here, below both, so that the reader can call the ledger without the ledger
//! reaching back up into the reader.

use chrono::NaiveDate;
use std::fmt;

use crate::intake::BallotStatus;

/// One validated row of the file, borrowing its text from the CSV record so that a
/// million-row file costs no per-field allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailBallotRow<'r> {
    /// Physical line the row starts on (the header is line 1).
    pub line: u64,
    /// Election the ballot belongs to.
    pub election_id: &'r str,
    /// The return envelope's barcode value.
    pub ballot_id: &'r str,
    /// The voter's registration id.
    pub voter_id: &'r str,
    /// Surname.
    pub last_name: &'r str,
    /// Given name.
    pub first_name: &'r str,
    /// Middle name, if any.
    pub middle_name: Option<&'r str>,
    /// Residential ZIP code.
    pub residential_zip: &'r str,
    /// Precinct.
    pub precinct: &'r str,
    /// Ballot style.
    pub ballot_style: &'r str,
    /// ACTIVE or VOID.
    pub status: BallotStatus,
    /// Address-confidential voter: never synced, name masked.
    pub confidential: bool,
    /// Military or overseas voter.
    pub uocava: bool,
    /// Mailing address line.
    pub mailing_address: Option<&'r str>,
    /// Mailing city.
    pub mailing_city: Option<&'r str>,
    /// Mailing state.
    pub mailing_state: Option<&'r str>,
    /// Mailing ZIP.
    pub mailing_zip: Option<&'r str>,
    /// When the ballot was issued.
    pub issued_date: Option<NaiveDate>,
    /// Return envelope IMb digits.
    pub return_imb: Option<&'r str>,
    /// Outbound packet IMb digits.
    pub outbound_imb: Option<&'r str>,
}

/// A problem with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Physical line number.
    pub line: u64,
    /// Column name (or `-` when the whole row is at fault).
    pub column: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}
