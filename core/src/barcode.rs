//! What a scanned value is: a ballot id (with the election's check digit) or a USPS
//! Intelligent Mail barcode.
//!
//! Kept apart from the outcome rules so that the mail ballot file reader applies the
//! very same check-digit and IMb rules to the file as the intake applies to a scan.

use std::fmt;
use std::str::FromStr;

/// Longest value accepted as a barcode. Ballot ids and IMbs (31 digits) are far
/// shorter; anything longer is a scanner run-on or garbage and is refused whole.
pub const MAX_BARCODE_LEN: usize = 64;

/// The check-digit scheme of an election's ballot ids, fixed when the election is
/// created so that a misread digit is caught at the station instead of matching
/// another voter's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckDigit {
    /// Ballot ids carry no check digit.
    #[default]
    None,
    /// The last digit is a Luhn (mod 10) check over the preceding digits.
    Luhn,
}

impl CheckDigit {
    /// The word stored in the ledger and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckDigit::None => "none",
            CheckDigit::Luhn => "luhn",
        }
    }

    /// Whether `id` satisfies this scheme.
    pub fn accepts(self, id: &str) -> bool {
        match self {
            CheckDigit::None => true,
            CheckDigit::Luhn => luhn_valid(id),
        }
    }
}

impl fmt::Display for CheckDigit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CheckDigit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(CheckDigit::None),
            "luhn" => Ok(CheckDigit::Luhn),
            other => Err(format!(
                "unknown check digit scheme {other:?} (expected none or luhn)"
            )),
        }
    }
}

/// Luhn mod-10 check over an all-digit string of at least two digits.
pub fn luhn_valid(id: &str) -> bool {
    if id.len() < 2 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = id
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Why a scanned value is not a well-formed barcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// Nothing left after trimming white space and control characters.
    Empty,
    /// Longer than [`MAX_BARCODE_LEN`].
    TooLong,
    /// Contains a byte outside printable ASCII (a misread, or a scanner in the wrong
    /// keyboard layout).
    NotPrintable,
    /// A ballot id whose check digit does not match.
    CheckDigit,
}

impl InvalidReason {
    /// Short wording for the clerk and the audit log.
    pub fn describe(self) -> &'static str {
        match self {
            InvalidReason::Empty => "empty barcode",
            InvalidReason::TooLong => "longer than 64 characters",
            InvalidReason::NotPrintable => "characters outside printable ASCII",
            InvalidReason::CheckDigit => "check digit does not match",
        }
    }
}

/// Trims white space and control characters from both ends of the raw bytes and
/// checks length and character set. Interior bytes are never altered: a barcode is
/// matched exactly as printed.
pub fn normalize(raw: &[u8]) -> Result<String, InvalidReason> {
    let is_trim = |b: &u8| b.is_ascii_whitespace() || b.is_ascii_control();
    let start = raw.iter().position(|b| !is_trim(b));
    let Some(start) = start else {
        return Err(InvalidReason::Empty);
    };
    let end = raw
        .iter()
        .rposition(|b| !is_trim(b))
        .map_or(start, |e| e + 1);
    let core = &raw[start..end];
    if core.len() > MAX_BARCODE_LEN {
        return Err(InvalidReason::TooLong);
    }
    if !core.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(InvalidReason::NotPrintable);
    }
    // All bytes are printable ASCII, so this conversion cannot fail.
    Ok(core.iter().map(|&b| char::from(b)).collect())
}

/// A USPS Intelligent Mail barcode as a scanner sends it (digits only, no CRC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imb {
    /// The 20-digit tracking code: barcode id, service type, mailer id, serial.
    pub tracking: String,
    /// The routing ZIP (0, 5, 9 or 11 digits).
    pub routing: String,
}

impl Imb {
    /// Reads `digits` as an IMb: 20, 25, 29 or 31 ASCII digits whose barcode id's
    /// second digit is 0-4. Anything else is not an IMb.
    pub fn parse(digits: &str) -> Option<Imb> {
        if !matches!(digits.len(), 20 | 25 | 29 | 31) || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if digits.as_bytes()[1] > b'4' {
            return None;
        }
        Some(Imb {
            tracking: digits[..20].to_string(),
            routing: digits[20..].to_string(),
        })
    }

    /// The mailer id: 6 digits, or 9 when its first digit is 9.
    pub fn mailer_id(&self) -> &str {
        let start = 5;
        let len = if self.tracking.as_bytes()[start] == b'9' {
            9
        } else {
            6
        };
        &self.tracking[start..start + len]
    }

    /// The service type id (3 digits).
    pub fn service_type(&self) -> &str {
        &self.tracking[2..5]
    }
}

/// What a normalized scan reads as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Barcode {
    /// A return envelope's ballot id.
    BallotId(String),
    /// An Intelligent Mail barcode. The value may also be a ballot id of the same
    /// length, which the ledger lookup tries second.
    Imb(Imb),
}

/// Classifies an already normalized value under the election's check-digit scheme.
pub fn classify(normalized: &str, check: CheckDigit) -> Result<Barcode, InvalidReason> {
    if let Some(imb) = Imb::parse(normalized) {
        return Ok(Barcode::Imb(imb));
    }
    if check.accepts(normalized) {
        Ok(Barcode::BallotId(normalized.to_string()))
    } else {
        Err(InvalidReason::CheckDigit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("18"));
        assert!(!luhn_valid("8"));
        assert!(!luhn_valid("7992739871A"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn luhn_catches_every_single_digit_error() {
        let good = "1234567897";
        assert!(luhn_valid(good));
        for i in 0..good.len() {
            for d in b'0'..=b'9' {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[i] == d {
                    continue;
                }
                bytes[i] = d;
                let s = String::from_utf8(bytes).unwrap();
                assert!(!luhn_valid(&s), "{s} should fail");
            }
        }
    }

    #[test]
    fn normalize_trims_controls_and_space() {
        assert_eq!(normalize(b"  B123\r\n").unwrap(), "B123");
        assert_eq!(normalize(b"\x02B123\x03").unwrap(), "B123");
        assert_eq!(normalize(b"\tB 1\t").unwrap(), "B 1");
    }

    #[test]
    fn normalize_rejects_empty_long_and_unprintable() {
        assert_eq!(normalize(b""), Err(InvalidReason::Empty));
        assert_eq!(normalize(b" \r\n\x00\x1b "), Err(InvalidReason::Empty));
        assert_eq!(normalize(&[b'7'; 65]), Err(InvalidReason::TooLong));
        assert!(normalize(&[b'7'; 64]).is_ok());
        assert_eq!(normalize(b"B1\x07Z"), Err(InvalidReason::NotPrintable));
        assert_eq!(
            normalize("B12é".as_bytes()),
            Err(InvalidReason::NotPrintable)
        );
        assert_eq!(normalize(b"B1\xffZ"), Err(InvalidReason::NotPrintable));
    }

    #[test]
    fn imb_lengths() {
        let t = "00040123456200800001";
        assert_eq!(t.len(), 20);
        for routing in ["", "80202", "802021234", "80202123401"] {
            let s = format!("{t}{routing}");
            let imb = Imb::parse(&s).unwrap();
            assert_eq!(imb.tracking, t);
            assert_eq!(imb.routing, routing);
        }
        for bad_len in [19, 21, 24, 26, 28, 30, 32] {
            let s: String = std::iter::repeat_n('1', bad_len).collect();
            assert!(Imb::parse(&s).is_none(), "{bad_len} digits");
        }
    }

    #[test]
    fn imb_structure() {
        assert!(Imb::parse("05040123456200800001").is_none(), "2nd digit 5");
        assert!(Imb::parse("0004012345620080000A").is_none());
        let six = Imb::parse("00040123456200800001").unwrap();
        assert_eq!(six.service_type(), "040");
        assert_eq!(six.mailer_id(), "123456");
        let nine = Imb::parse("00040912345678000001").unwrap();
        assert_eq!(nine.mailer_id(), "912345678");
    }

    #[test]
    fn classify_applies_check_digit_to_ids_not_imbs() {
        assert_eq!(
            classify("B-17", CheckDigit::None).unwrap(),
            Barcode::BallotId("B-17".into())
        );
        assert_eq!(
            classify("B-17", CheckDigit::Luhn),
            Err(InvalidReason::CheckDigit)
        );
        assert_eq!(
            classify("79927398713", CheckDigit::Luhn).unwrap(),
            Barcode::BallotId("79927398713".into())
        );
        assert!(matches!(
            classify("00040123456200800001", CheckDigit::Luhn),
            Ok(Barcode::Imb(_))
        ));
    }

    #[test]
    fn check_digit_parses() {
        assert_eq!("LUHN".parse::<CheckDigit>().unwrap(), CheckDigit::Luhn);
        assert_eq!("none".parse::<CheckDigit>().unwrap(), CheckDigit::None);
        assert!("mod11".parse::<CheckDigit>().is_err());
    }
}
