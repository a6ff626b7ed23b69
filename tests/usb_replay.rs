//! HID-POS decoding on recorded report bytes (fixtures/usb/), through the same device
//! loop the real USB transport uses: multi-report codes, double reads, and malformed
//! reports that are logged without crashing or scanning half a code.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::scanner::debounce::Debouncer;
use ballot_intake_core::scanner::hidpos::ReportLayout;
use ballot_intake_core::scanner::usb::{Recorded, TransportError, run_reports};
use ballot_intake_core::scanner::{DeviceMessage, Source, SourceKind};
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

/// Hot-plug through the real reconnect loop: the scanner is absent at first (reported
/// once), arrives, is unplugged (the recording ends), and arrives again.
#[test]
fn arrival_removal_and_return() {
    use ballot_intake_core::scanner::hidpos::{REPORT_LEN, SCANNED_DATA_REPORT_ID};
    use ballot_intake_core::scanner::usb::{ReportSource, spawn_with};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    fn session(code: &str) -> Box<dyn ReportSource> {
        let mut r = vec![0u8; REPORT_LEN];
        r[0] = SCANNED_DATA_REPORT_ID;
        r[1] = code.len() as u8;
        r[2..2 + code.len()].copy_from_slice(code.as_bytes());
        Box::new(Recorded::parse(&format!("0 {}", hex(&r))).unwrap())
    }
    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    let mut plan = vec![
        Err(TransportError::Gone("no USB device 0c2e:0b61".into())),
        Err(TransportError::Gone("no USB device 0c2e:0b61".into())),
        Ok("B0001"),
        Err(TransportError::Gone("no USB device 0c2e:0b61".into())),
        Ok("B0002"),
    ]
    .into_iter();
    let open = move || match plan.next() {
        Some(Ok(code)) => Ok(session(code)),
        Some(Err(e)) => Err(e),
        None => Err(TransportError::Gone("no USB device 0c2e:0b61".into())),
    };
    let source = Source {
        kind: SourceKind::Usb,
        id: "0c2e:0b61".into(),
    };
    let (tx, rx) = channel();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_with(
        source,
        open,
        ReportLayout::LengthPrefixed,
        Duration::from_millis(750),
        tx,
        stop.clone(),
    )
    .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 6 {
        let m = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("reconnect loop stalled");
        seen.push(match m {
            DeviceMessage::Connected(_) => "connected".to_string(),
            DeviceMessage::Disconnected { .. } => "disconnected".into(),
            DeviceMessage::Scan(e) => format!("scan {}", String::from_utf8(e.raw).unwrap()),
            other => format!("{other:?}"),
        });
    }
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert_eq!(
        seen,
        [
            "disconnected",
            "connected",
            "scan B0001",
            "disconnected",
            "connected",
            "scan B0002"
        ],
        "absence is reported once, not on every retry"
    );
}
