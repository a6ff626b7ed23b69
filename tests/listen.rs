//! `listen` through the real binary on a real pseudo-terminal: results printed after
//! commit with their source, double reads suppressed, the scanner state shown by
//! `status`, and SIGTERM finishing cleanly without losing a code already sent.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, pty_at};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc::channel;
use std::time::Duration;

#[test]
fn listen_records_prints_and_stops_cleanly() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let link = s.dir.path().join("scanner-a");
    let mut scanner = pty_at(&link);
    let spec = format!("serial:{}@9600", link.display());
    let mut child = s.listening(&spec);
    // Device events arrive on stderr, results on stdout.
    let (etx, erx) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = etx.send(line.unwrap());
        }
    });
    let (otx, orx) = channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = otx.send(line.unwrap());
        }
    });
    let event = erx.recv_timeout(Duration::from_secs(10)).unwrap();
    let event: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["event"], "connected", "{event}");

    scanner
        .write_all(b"]C1B0001\rB0001\rB0002\rNOPE\r")
        .unwrap();
    let results: Vec<serde_json::Value> = (0..3)
        .map(|_| serde_json::from_str(&orx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap())
        .collect();
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["barcode"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("B0001", "accepted"),
            ("B0002", "accepted"),
            ("NOPE", "unknown")
        ]
    );
    let source = format!("serial:{}", link.display());
    assert!(results.iter().all(|r| r["source"] == source.as_str()));
    // The AIM identifier is stripped from the code and recorded with the scan.
    assert_eq!(results[0]["symbology"], "]C1");
    assert!(results[1]["symbology"].is_null());
    let double = erx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        double.contains("double read") && double.contains("B0001"),
        "{double}"
    );

    // While it runs, status shows the scanner connected with its last code.
    let status = s.status();
    assert_eq!(status["scanners"][0]["state"], "connected", "{status}");
    assert!(
        status["scanners"][0]["last_code_at"].is_string()
            || status["scanners"][0]["last_code_at"].is_null()
    );

    // A code sent just before SIGTERM is still recorded and printed.
    scanner.write_all(b"B0003\r").unwrap();
    scanner.flush().unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "listen exits 0 on SIGTERM, got {status:?}"
    );
    let last: serde_json::Value =
        serde_json::from_str(&orx.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(
        (last["barcode"].as_str(), last["outcome"].as_str()),
        (Some("B0003"), Some("accepted"))
    );

    let after = s.status();
    assert_eq!(after["outcomes"]["accepted"], 3);
    assert_eq!(after["outcomes"]["unknown"], 1);
    assert_eq!(
        after["outcomes"]["duplicate"], 0,
        "the double read was not scanned"
    );
    assert_eq!(after["scanners"][0]["state"], "not listening");
    assert_eq!(after["scanners"][0]["spec"], spec.as_str());
    // The scanner is remembered: `listen` with no --scanner uses it.
    let conn = s.sqlite();
    let sources: Vec<String> = conn
        .prepare("SELECT DISTINCT source FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sources, [source]);
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn listen_needs_a_scanner_and_refuses_bad_specs() {
    let s = Station::upcoming();
    let r = s.run_with(
        &["listen", "--user", "ana"],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no scanner given"), "{}", r.stderr);
    let r = s.run(&["listen", "--user", "ana", "--scanner", "tty:/dev/x"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("serial:PATH[@BAUD] or usb:VID:PID"),
        "{}",
        r.stderr
    );
}

#[test]
fn scanners_lists_without_failing_on_a_machine_with_no_usb() {
    let s = Station::empty();
    let r = s.ok(&["scanners", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["serial"].is_array() && v["usb"].is_array());
}

#[test]
fn several_scanners_feed_one_station() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (la, lb) = (
        s.dir.path().join("scanner-a"),
        s.dir.path().join("scanner-b"),
    );
    let (mut a, mut b) = (pty_at(&la), pty_at(&lb));
    let mut child = s
        .command(&[
            "listen",
            "--user",
            "ana",
            "--json",
            "--scanner",
            &format!("serial:{}", la.display()),
            "--scanner",
            &format!("serial:{}@115200", lb.display()),
        ])
        .env("BALLOT_INTAKE_PIN", "314159")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (etx, erx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = etx.send(line.unwrap());
        }
    });
    for _ in 0..2 {
        let e = erx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(e.contains("connected"), "{e}");
    }
    let stdout = child.stdout.take().unwrap();
    let (otx, orx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = otx.send(line.unwrap());
        }
    });
    // The same envelope on two scanners is not a double read: the second is a duplicate.
    a.write_all(b"B0001\r").unwrap();
    let first: serde_json::Value =
        serde_json::from_str(&orx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    b.write_all(b"B0001\rB0002\r").unwrap();
    let mut rest: Vec<serde_json::Value> = (0..2)
        .map(|_| serde_json::from_str(&orx.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap())
        .collect();
    rest.insert(0, first);
    let got: Vec<(String, String, String)> = rest
        .iter()
        .map(|r| {
            (
                r["barcode"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
                r["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (sa, sb) = (
        format!("serial:{}", la.display()),
        format!("serial:{}", lb.display()),
    );
    assert_eq!(
        got,
        [
            ("B0001".to_string(), "accepted".to_string(), sa.clone()),
            ("B0001".into(), "duplicate".into(), sb.clone()),
            ("B0002".into(), "accepted".into(), sb.clone()),
        ]
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success(), "SIGINT stops cleanly too");
}
