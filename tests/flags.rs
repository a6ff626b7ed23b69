//! Supervisor flags through the real binary, and their trip to the backend and the
//! nightly file.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use common::receiver::{Behaviour, Receiver};
use std::os::unix::fs::PermissionsExt;

/// A station with `small.csv` imported, whose clerk ana (314159) scanned B0001.
fn station() -> Station {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (_, scanned) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(scanned[0]["outcome"], "accepted");
    s
}

/// `flag KIND CODE --reason REASON [extra...] --user sam --json` as the supervisor sam.
fn flag(s: &Station, kind: &str, code: &str, reason: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["flag", kind, code, "--reason", reason];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--user", "sam", "--json"]);
    s.run_with(&args, b"", &[("BALLOT_INTAKE_PIN", "161803")])
}

fn flagged(r: &common::Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn undeliverable_by_outbound_imb_or_by_ballot_id() {
    let s = station();
    // B0008's outbound packet.
    let f = flagged(&flag(
        &s,
        "undeliverable",
        "0070012345620080000180208",
        "moved-left-no-address",
        &[],
    ));
    assert_eq!(
        (f["ballot_id"].as_str(), f["reason"].as_str()),
        (Some("B0008"), Some("moved_left_no_address"))
    );
    let f = flagged(&flag(&s, "undeliverable", "B0002", "vacant", &[]));
    assert_eq!(f["ballot_id"], "B0002");
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn a_return_envelopes_imb_is_never_taken_for_an_outbound_packet() {
    let s = station();
    let r = flag(&s, "undeliverable", "00040123456200800002", "vacant", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("outbound packet barcode") && r.stderr.contains("nothing flagged"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_received_ballot_cannot_be_flagged_undeliverable() {
    let s = station();
    let r = flag(&s, "undeliverable", "B0001", "vacant", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already received"), "{}", r.stderr);
}

#[test]
fn the_same_flag_twice_is_refused_and_a_clerk_may_not_flag() {
    let s = station();
    flagged(&flag(&s, "undeliverable", "B0002", "vacant", &[]));
    let r = flag(&s, "undeliverable", "B0002", "vacant", &[]);
    assert!(r.stderr.contains("already flagged"), "{}", r.stderr);
    let r = s.run_with(
        &[
            "flag",
            "undeliverable",
            "B0003",
            "--reason",
            "vacant",
            "--user",
            "ana",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("may not flag"), "{}", r.stderr);
}

#[test]
fn needs_attention_takes_a_reason_and_other_needs_a_note() {
    let s = station();
    flagged(&flag(&s, "needs-attention", "B0003", "unsigned", &[]));
    let r = flag(&s, "needs-attention", "B0005", "other", &[]);
    assert!(r.stderr.contains("needs a note"), "{}", r.stderr);
    let f = flagged(&flag(
        &s,
        "needs-attention",
        "B0005",
        "other",
        &["--note", "torn flap"],
    ));
    assert_eq!(f["reason"], "other: torn flap");
}

#[test]
fn an_unknown_endorsement_is_a_usage_error() {
    let s = station();
    assert_eq!(flag(&s, "undeliverable", "B0002", "lost", &[]).code, 2);
}

#[test]
fn a_confidential_voters_flag_is_recorded_but_never_sent() {
    let s = station();
    let r = s.run_with(
        &[
            "flag",
            "needs-attention",
            "B0006",
            "--reason",
            "signature_mismatch",
            "--user",
            "sam",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("not sent"), "{}", r.stdout);
}

#[test]
fn flags_and_a_correction_reach_the_backend_and_the_nightly_file() {
    let s = station();
    let f = flagged(&flag(
        &s,
        "undeliverable",
        "0070012345620080000180208",
        "moved-left-no-address",
        &[],
    ));
    let undeliverable_seq = f["seq"].as_i64().unwrap();
    flagged(&flag(&s, "undeliverable", "B0002", "vacant", &[]));
    flagged(&flag(&s, "needs-attention", "B0003", "unsigned", &[]));
    flagged(&flag(
        &s,
        "needs-attention",
        "B0005",
        "other",
        &["--note", "torn flap"],
    ));
    flagged(&flag(
        &s,
        "needs-attention",
        "B0006",
        "signature_mismatch",
        &[],
    ));
    // The first undeliverable flag was a mistake: reversed, and the correction is sent.
    let r = s.run_with(
        &[
            "reverse",
            &undeliverable_seq.to_string(),
            "--user",
            "sam",
            "--reason",
            "wrong tray",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.ok(&["verify"]).code, 0);

    let rx = Receiver::start("tok", Behaviour::default());
    let token = s.dir.path().join("token");
    std::fs::write(&token, "tok").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    s.ok(&[
        "sync",
        "setup",
        "--url",
        &rx.url,
        "--token-file",
        token.to_str().unwrap(),
    ]);
    assert_eq!(s.run(&["sync", "--max-wait", "30"]).code, 0);
    let stored = rx.stored.lock().unwrap();
    let mut got: Vec<(String, String, String, String)> = stored
        .events
        .values()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["ballot_id"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap_or("").to_string(),
                e["corrects"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    got.sort();
    let u = format!("S1-{undeliverable_seq}");
    assert_eq!(
        got,
        [
            (
                "correction".to_string(),
                "B0008".to_string(),
                "wrong tray".to_string(),
                u.clone()
            ),
            (
                "needs_attention".into(),
                "B0003".into(),
                "unsigned".into(),
                String::new()
            ),
            (
                "needs_attention".into(),
                "B0005".into(),
                "other: torn flap".into(),
                String::new()
            ),
            (
                "received".into(),
                "B0001".into(),
                String::new(),
                String::new()
            ),
            (
                "undeliverable".into(),
                "B0002".into(),
                "vacant".into(),
                String::new()
            ),
            (
                "undeliverable".into(),
                "B0008".into(),
                "moved_left_no_address".into(),
                String::new()
            ),
        ]
    );
    drop(stored);
    // The nightly file has every flag, the confidential voter's included (by id).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive()
        .to_string();
    let out = s.dir.path().join("exports");
    let r = s.ok(&[
        "export",
        "--date",
        &today,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(m["counts"]["undeliverable"], 2);
    assert_eq!(m["counts"]["needs_attention"], 3);
    assert_eq!(m["counts"]["correction"], 1);
}
