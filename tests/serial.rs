//! The serial reader on real pseudo-terminals: codes written at full speed arrive
//! intact and in order, a code split across writes is not lost, and closing and
//! reopening the far end is survived.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::pty_at;

use ballot_intake_core::scanner::serial::{self, SerialSettings};
use ballot_intake_core::scanner::{DeviceMessage, SourceKind};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

fn next(rx: &Receiver<DeviceMessage>) -> DeviceMessage {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("no message from the reader within 10 s")
}

/// Reads messages until `n` scans have arrived, returning them as strings.
fn scans(rx: &Receiver<DeviceMessage>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        match next(rx) {
            DeviceMessage::Scan(e) => {
                assert_eq!(e.source.kind, SourceKind::Serial);
                out.push(String::from_utf8(e.raw).unwrap());
            }
            DeviceMessage::DoubleRead { raw, .. } => {
                panic!("unexpected double read {:?}", String::from_utf8_lossy(&raw))
            }
            other => panic!("unexpected {other:?} after {} scans", out.len()),
        }
    }
    out
}

#[test]
fn full_speed_split_writes_and_a_reopened_far_end() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner0");
    let mut master = pty_at(&link);
    let (tx, rx) = channel();
    let stop = Arc::new(AtomicBool::new(false));
    let settings = SerialSettings::new(link.to_str().unwrap(), 115_200);
    let reader = serial::spawn(settings, tx, stop.clone()).unwrap();
    assert!(matches!(next(&rx), DeviceMessage::Connected(_)));

    // 5,000 codes in one burst of writes, as fast as the pty takes them.
    let codes: Vec<String> = (0..5000).map(|i| format!("B{i:07}")).collect();
    let mut stream = Vec::new();
    for c in &codes {
        stream.extend_from_slice(c.as_bytes());
        stream.push(b'\r');
    }
    master.write_all(&stream).unwrap();
    assert_eq!(scans(&rx, codes.len()), codes, "intact and in order");

    // A code split across writes, with a pause in the middle.
    master.write_all(b"]C1SPL").unwrap();
    master.flush().unwrap();
    std::thread::sleep(Duration::from_millis(120));
    master.write_all(b"IT1\r").unwrap();
    assert_eq!(scans(&rx, 1), ["SPLIT1"]);

    // The far end closes: the reader reports it; the scanner comes back (a new pty
    // behind the same path) and is read again, with no code lost either side.
    master.write_all(b"LAST1\rHALF").unwrap();
    master.flush().unwrap();
    assert_eq!(scans(&rx, 1), ["LAST1"]);
    std::thread::sleep(Duration::from_millis(50));
    drop(master);
    let mut saw_garbled = false;
    loop {
        match next(&rx) {
            DeviceMessage::Garbled { what, .. } => {
                assert!(what.contains("HALF"), "{what}");
                saw_garbled = true;
            }
            DeviceMessage::Disconnected { .. } => break,
            other => panic!("expected a disconnect, got {other:?}"),
        }
    }
    assert!(
        saw_garbled,
        "the unterminated tail is reported, not scanned"
    );
    let started = Instant::now();
    let mut master = pty_at(&link);
    loop {
        match next(&rx) {
            DeviceMessage::Connected(_) => break,
            DeviceMessage::Disconnected { .. } => {}
            other => panic!("expected a reconnect, got {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "reopened within the 2 s backoff"
    );
    master.write_all(b"AFTER1\rAFTER2\r").unwrap();
    assert_eq!(scans(&rx, 2), ["AFTER1", "AFTER2"]);

    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
}

#[test]
fn double_reads_are_suppressed_and_a_missing_port_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner1");
    let (tx, rx) = channel();
    let stop = Arc::new(AtomicBool::new(false));
    // Not there yet: reported once, then picked up when it appears.
    let reader = serial::spawn(
        SerialSettings::new(link.to_str().unwrap(), 9600),
        tx,
        stop.clone(),
    )
    .unwrap();
    match next(&rx) {
        DeviceMessage::Disconnected { reason, .. } => assert!(!reason.is_empty()),
        other => panic!("expected the missing port to be reported, got {other:?}"),
    }
    let mut master = pty_at(&link);
    assert!(matches!(next(&rx), DeviceMessage::Connected(_)));
    master.write_all(b"B1\rB1\rB2\r").unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(match next(&rx) {
            DeviceMessage::Scan(e) => format!("scan {}", String::from_utf8_lossy(&e.raw)),
            DeviceMessage::DoubleRead { raw, .. } => {
                format!("double {}", String::from_utf8_lossy(&raw))
            }
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(got, ["scan B1", "double B1", "scan B2"]);
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
}
