//! Decoding USB HID Point-of-Sale barcode scanner reports (usage page 0x8C).
//!
//! A HID-POS scanner sends each code in one or more input reports. The HID POS usage
//! tables define the fields (Symbology Identifier 1-3, Decoded Data, Decode Data
//! Continued) but not their byte positions, which come from each device's report
//! descriptor; two layouts cover the scanners counties own, and a device's layout is
//! part of its configuration:
//!
//! - [`ReportLayout::LengthPrefixed`] (Honeywell, Newland and others): report id,
//!   a length byte, up to 56 data bytes, the 3-byte AIM identifier at bytes 58-60, and
//!   bit 0 of the last byte set when more reports of the same code follow.
//! - [`ReportLayout::SymbologyFirst`] (the usage tables' field order, used by Zebra and
//!   Datalogic in HID-POS mode): report id, the three symbology identifier bytes, the
//!   data padded with zeros, and the continuation flag in bit 0 of the last byte.
//!
//! The decoder is pure: the transport ([`super::usb`]) hands it report bytes, and
//! tests hand it recorded ones. A malformed report is an error the caller logs; the
//! code in progress is dropped so that half a code is never scanned.

use serde::{Deserialize, Serialize};

/// The report id of the scanned-data input report in both layouts.
pub const SCANNED_DATA_REPORT_ID: u8 = 0x02;
/// HID-POS barcode scanner reports are 64 bytes (a full-speed interrupt packet).
pub const REPORT_LEN: usize = 64;
/// The longest code assembled from continued reports; a scanner that never clears
/// its continuation flag cannot make the station buffer without end.
pub const MAX_CODE_LEN: usize = 4096;

/// Where the fields sit in a device's input report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReportLayout {
    /// `[id][len][data x56][pad x2][AIM x3][pad x2][flags]`.
    #[default]
    LengthPrefixed,
    /// `[id][sym1][sym2][sym3][data, zero padded][flags]`.
    SymbologyFirst,
}

/// A report the decoder could not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not the length the layout requires.
    #[error("report of {got} bytes, expected {expected}")]
    WrongLength {
        /// Bytes received.
        got: usize,
        /// Bytes the layout needs.
        expected: usize,
    },
    /// A report id other than the scanned-data report (a status or settings report).
    #[error("report id 0x{0:02x} is not a scanned-data report")]
    UnknownReportId(u8),
    /// The length byte claims more data than the report holds.
    #[error("length byte {0} exceeds the 56 data bytes a report holds")]
    BadLength(u8),
    /// Continued reports went on past [`MAX_CODE_LEN`].
    #[error("continued reports exceeded {MAX_CODE_LEN} bytes; code dropped")]
    TooLong,
}

/// A complete code from one or more reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HidCode {
    /// The decoded data.
    pub data: Vec<u8>,
    /// The AIM symbology identifier, when the report carried one.
    pub symbology: Option<String>,
}

/// Assembles codes from a device's reports.
#[derive(Debug, Default)]
pub struct HidPosDecoder {
    layout: ReportLayout,
    pending: Vec<u8>,
    symbology: Option<String>,
}

fn symbology(bytes: &[u8]) -> Option<String> {
    let printable = bytes.iter().all(u8::is_ascii_graphic);
    (printable && bytes.first() == Some(&b']'))
        .then(|| bytes.iter().map(|&b| char::from(b)).collect())
}

impl HidPosDecoder {
    /// A decoder for one device.
    pub fn new(layout: ReportLayout) -> Self {
        HidPosDecoder {
            layout,
            pending: Vec::new(),
            symbology: None,
        }
    }

    /// Whether part of a code is waiting for its continuation.
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Takes one input report; returns a code when the report completes one.
    pub fn feed(&mut self, report: &[u8]) -> Result<Option<HidCode>, ReportError> {
        let result = self.parse(report);
        if result.is_err() {
            // Never scan half a code.
            self.pending.clear();
            self.symbology = None;
        }
        result
    }

    fn parse(&mut self, report: &[u8]) -> Result<Option<HidCode>, ReportError> {
        if report.len() != REPORT_LEN {
            return Err(ReportError::WrongLength {
                got: report.len(),
                expected: REPORT_LEN,
            });
        }
        if report[0] != SCANNED_DATA_REPORT_ID {
            return Err(ReportError::UnknownReportId(report[0]));
        }
        let continued = report[REPORT_LEN - 1] & 1 == 1;
        let (data, sym) = match self.layout {
            ReportLayout::LengthPrefixed => {
                let n = report[1];
                if usize::from(n) > 56 {
                    return Err(ReportError::BadLength(n));
                }
                (&report[2..2 + usize::from(n)], &report[58..61])
            }
            ReportLayout::SymbologyFirst => {
                let body = &report[4..REPORT_LEN - 1];
                let end = body.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                (&body[..end], &report[1..4])
            }
        };
        if self.pending.len() + data.len() > MAX_CODE_LEN {
            return Err(ReportError::TooLong);
        }
        self.pending.extend_from_slice(data);
        if self.symbology.is_none() {
            self.symbology = symbology(sym);
        }
        if continued {
            return Ok(None);
        }
        let data = std::mem::take(&mut self.pending);
        let symbology = self.symbology.take();
        if data.is_empty() {
            return Ok(None);
        }
        Ok(Some(HidCode { data, symbology }))
    }
}

/// A HID-POS scanner model the station knows by USB id, with its report layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownScanner {
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// Vendor and model, for listings.
    pub name: &'static str,
    /// Its report layout.
    pub layout: ReportLayout,
}

/// Models seen in county offices, in HID-POS mode. Any other scanner is used by giving
/// its `usb:VID:PID` (and, if it differs, its layout in the configuration). The ids
/// are the vendors' published HID-POS product ids as known to us; check `lsusb` on the
/// station if a scanner is not found, and add it here.
pub const KNOWN_SCANNERS: &[KnownScanner] = &[
    KnownScanner {
        vid: 0x0c2e,
        pid: 0x0b61,
        name: "Honeywell Xenon/Granit (HID POS)",
        layout: ReportLayout::LengthPrefixed,
    },
    KnownScanner {
        vid: 0x0c2e,
        pid: 0x0b41,
        name: "Honeywell Voyager (HID POS)",
        layout: ReportLayout::LengthPrefixed,
    },
    KnownScanner {
        vid: 0x05e0,
        pid: 0x1300,
        name: "Zebra/Symbol (HID POS)",
        layout: ReportLayout::SymbologyFirst,
    },
    KnownScanner {
        vid: 0x05e0,
        pid: 0x0600,
        name: "Zebra/Motorola DS series (HID POS)",
        layout: ReportLayout::SymbologyFirst,
    },
    KnownScanner {
        vid: 0x05f9,
        pid: 0x4204,
        name: "Datalogic Gryphon/QuickScan (HID POS)",
        layout: ReportLayout::SymbologyFirst,
    },
];

/// The known model with this id, if any.
pub fn known(vid: u16, pid: u16) -> Option<&'static KnownScanner> {
    KNOWN_SCANNERS.iter().find(|k| k.vid == vid && k.pid == pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length_prefixed(data: &[u8], aim: [u8; 3], more: bool) -> Vec<u8> {
        let mut r = vec![0u8; REPORT_LEN];
        r[0] = SCANNED_DATA_REPORT_ID;
        r[1] = u8::try_from(data.len()).unwrap();
        r[2..2 + data.len()].copy_from_slice(data);
        r[58..61].copy_from_slice(&aim);
        r[63] = u8::from(more);
        r
    }

    fn symbology_first(data: &[u8], aim: [u8; 3], more: bool) -> Vec<u8> {
        let mut r = vec![0u8; REPORT_LEN];
        r[0] = SCANNED_DATA_REPORT_ID;
        r[1..4].copy_from_slice(&aim);
        r[4..4 + data.len()].copy_from_slice(data);
        r[63] = u8::from(more);
        r
    }

    #[test]
    fn one_report_codes_in_both_layouts() {
        let mut d = HidPosDecoder::new(ReportLayout::LengthPrefixed);
        let code = d
            .feed(&length_prefixed(b"B0001", *b"]C0", false))
            .unwrap()
            .unwrap();
        assert_eq!(code.data, b"B0001");
        assert_eq!(code.symbology.as_deref(), Some("]C0"));
        let mut d = HidPosDecoder::new(ReportLayout::SymbologyFirst);
        let code = d
            .feed(&symbology_first(b"B0001", *b"]A0", false))
            .unwrap()
            .unwrap();
        assert_eq!(code.data, b"B0001");
        assert_eq!(code.symbology.as_deref(), Some("]A0"));
        // No identifier sent.
        let code = d
            .feed(&symbology_first(b"B2", [0, 0, 0], false))
            .unwrap()
            .unwrap();
        assert_eq!(code.symbology, None);
    }

    #[test]
    fn continued_reports_make_one_code() {
        let long: Vec<u8> = (0..130u8).map(|i| b'0' + i % 10).collect();
        let mut d = HidPosDecoder::new(ReportLayout::LengthPrefixed);
        assert_eq!(
            d.feed(&length_prefixed(&long[..56], *b"]L2", true))
                .unwrap(),
            None
        );
        assert!(d.has_partial());
        assert_eq!(
            d.feed(&length_prefixed(&long[56..112], *b"]L2", true))
                .unwrap(),
            None
        );
        let code = d
            .feed(&length_prefixed(&long[112..], *b"]L2", false))
            .unwrap()
            .unwrap();
        assert_eq!(code.data, long);
        assert_eq!(code.symbology.as_deref(), Some("]L2"));
        assert!(!d.has_partial());
    }

    #[test]
    fn malformed_reports_are_errors_and_drop_the_partial_code() {
        let mut d = HidPosDecoder::new(ReportLayout::LengthPrefixed);
        d.feed(&length_prefixed(b"B00", *b"]C0", true)).unwrap();
        assert_eq!(
            d.feed(&[0x02, 3, b'0']),
            Err(ReportError::WrongLength {
                got: 3,
                expected: 64
            })
        );
        assert!(!d.has_partial(), "half a code is never scanned");
        let mut status = length_prefixed(b"x", *b"]C0", false);
        status[0] = 0x04;
        assert_eq!(d.feed(&status), Err(ReportError::UnknownReportId(0x04)));
        let mut bad = length_prefixed(b"x", *b"]C0", false);
        bad[1] = 57;
        assert_eq!(d.feed(&bad), Err(ReportError::BadLength(57)));
        // The decoder recovers with the next good report.
        assert_eq!(
            d.feed(&length_prefixed(b"B0002", *b"]C0", false))
                .unwrap()
                .unwrap()
                .data,
            b"B0002"
        );
    }

    #[test]
    fn a_never_ending_code_is_dropped() {
        let mut d = HidPosDecoder::new(ReportLayout::LengthPrefixed);
        let chunk = [b'9'; 56];
        let mut result = Ok(None);
        for _ in 0..100 {
            result = d.feed(&length_prefixed(&chunk, *b"]C0", true));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReportError::TooLong));
        assert!(!d.has_partial());
    }

    #[test]
    fn known_ids() {
        assert_eq!(
            known(0x0c2e, 0x0b61).unwrap().layout,
            ReportLayout::LengthPrefixed
        );
        assert!(known(0x1234, 0x5678).is_none());
    }
}
