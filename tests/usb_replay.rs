//! HID-POS decoding on recorded report bytes (fixtures/usb/), through the same device
//! loop the real USB transport uses: multi-report codes, double reads, and malformed
//! reports that are logged without crashing or scanning half a code.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake::scanner::debounce::Debouncer;
use ballot_intake::scanner::hidpos::ReportLayout;
use ballot_intake::scanner::usb::{Recorded, TransportError, run_reports};
use ballot_intake::scanner::{DeviceMessage, Source, SourceKind};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::channel;
use std::time::Duration;

fn replay(file: &str, layout: ReportLayout) -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/usb")
            .join(file),
    )
    .unwrap();
    let mut session = Recorded::parse(&text).unwrap();
    let source = Source {
        kind: SourceKind::Usb,
        id: "0c2e:0b61".into(),
    };
    let (tx, rx) = channel();
    let stop = AtomicBool::new(false);
    let mut debounce = Debouncer::new(Duration::from_millis(750));
    let end = run_reports(&source, &mut session, layout, &mut debounce, &tx, &stop);
    assert_eq!(end, TransportError::Gone("end of the recording".into()));
    drop(tx);
    rx.iter()
        .map(|m| match m {
            DeviceMessage::Scan(e) => format!(
                "scan {} {}",
                e.symbology.unwrap_or_else(|| "-".into()),
                String::from_utf8(e.raw).unwrap()
            ),
            DeviceMessage::DoubleRead { raw, .. } => {
                format!("double {}", String::from_utf8(raw).unwrap())
            }
            DeviceMessage::Garbled { what, .. } => format!("garbled {what}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn digits(n: usize) -> String {
    (0..n).map(|i| char::from(b'0' + (i % 10) as u8)).collect()
}

#[test]
fn length_prefixed_session() {
    assert_eq!(
        replay("length-prefixed.session", ReportLayout::LengthPrefixed),
        [
            "scan ]C0 B0001".to_string(),
            "double B0001".into(),
            format!("scan ]L2 {}", digits(70)),
            "garbled report of 40 bytes, expected 64".into(),
            "garbled report id 0x04 is not a scanned-data report".into(),
            "scan ]C0 00040123456200800001".into(),
            "scan ]C0 B0001".into(),
        ]
    );
}

#[test]
fn symbology_first_session() {
    assert_eq!(
        replay("symbology-first.session", ReportLayout::SymbologyFirst),
        [
            "scan ]A0 B0003".to_string(),
            format!("scan ]L2 {}", digits(70)),
            "scan - B0004".into(),
            "garbled report of 63 bytes, expected 64".into(),
            "double B0004".into(),
        ]
    );
}

#[test]
fn recordings_are_checked_when_read() {
    assert!(
        Recorded::parse("0 02 zz")
            .unwrap_err()
            .contains("line 1: bad hex")
    );
    assert!(
        Recorded::parse("soon 02")
            .unwrap_err()
            .contains("not a time")
    );
    assert!(Recorded::parse("# only a comment\n\n").is_ok());
}
