//! Supervisor flags through the real binary, and their trip to the backend.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use common::receiver::{Behaviour, Receiver};
use std::os::unix::fs::PermissionsExt;

fn as_sam(s: &Station, args: &[&str]) -> common::Run {
    s.run_with(args, b"", &[("BALLOT_INTAKE_PIN", "654321")])
}

#[test]
fn flags_are_their_own_events_and_reach_the_backend() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (_, scanned) = s.scan("ana", "123456", "B0001\n");
    assert_eq!(scanned[0]["outcome"], "accepted");

    // By outbound IMb (B0008's packet) and by ballot id.
    let r = as_sam(
        &s,
        &[
            "flag",
            "undeliverable",
            "0070012345620080000180208",
            "--reason",
            "moved-left-no-address",
            "--user",
            "sam",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (f["ballot_id"].as_str(), f["reason"].as_str()),
        (Some("B0008"), Some("moved_left_no_address"))
    );
    let undeliverable_seq = f["seq"].as_i64().unwrap();
    assert_eq!(
        as_sam(
            &s,
            &[
                "flag",
                "undeliverable",
                "B0002",
                "--reason",
                "vacant",
                "--user",
                "sam"
            ]
        )
        .code,
        0
    );
    // A return envelope's IMb is not an outbound packet: never guessed.
    let r = as_sam(
        &s,
        &[
            "flag",
            "undeliverable",
            "00040123456200800002",
            "--reason",
            "vacant",
            "--user",
            "sam",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("outbound packet barcode") && r.stderr.contains("nothing flagged"),
        "{}",
        r.stderr
    );
    // A received ballot cannot be flagged undeliverable.
    let r = as_sam(
        &s,
        &[
            "flag",
            "undeliverable",
            "B0001",
            "--reason",
            "vacant",
            "--user",
            "sam",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already received"), "{}", r.stderr);
    // Twice the same flag is refused; a clerk may not flag.
    let r = as_sam(
        &s,
        &[
            "flag",
            "undeliverable",
            "B0002",
            "--reason",
            "vacant",
            "--user",
            "sam",
        ],
    );
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
        &[("BALLOT_INTAKE_PIN", "123456")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("may not flag"), "{}", r.stderr);
    // Needs attention: reasons, and "other" needs a note.
    assert_eq!(
        as_sam(
            &s,
            &[
                "flag",
                "needs-attention",
                "B0003",
                "--reason",
                "unsigned",
                "--user",
                "sam"
            ]
        )
        .code,
        0
    );
    let r = as_sam(
        &s,
        &[
            "flag",
            "needs-attention",
            "B0005",
            "--reason",
            "other",
            "--user",
            "sam",
        ],
    );
    assert!(r.stderr.contains("needs a note"), "{}", r.stderr);
    assert_eq!(
        as_sam(
            &s,
            &[
                "flag",
                "needs-attention",
                "B0005",
                "--reason",
                "other",
                "--note",
                "torn flap",
                "--user",
                "sam"
            ]
        )
        .code,
        0
    );
    // A confidential voter's flag is recorded but never sent.
    let r = as_sam(
        &s,
        &[
            "flag",
            "needs-attention",
            "B0006",
            "--reason",
            "signature_mismatch",
            "--user",
            "sam",
        ],
    );
    assert!(r.stdout.contains("not sent"), "{}", r.stdout);
    assert_eq!(
        as_sam(
            &s,
            &[
                "flag",
                "undeliverable",
                "B0002",
                "--reason",
                "lost",
                "--user",
                "sam"
            ]
        )
        .code,
        2
    );
    // The first undeliverable flag was a mistake: reversed, and the correction is sent.
    assert_eq!(
        as_sam(
            &s,
            &[
                "reverse",
                &undeliverable_seq.to_string(),
                "--user",
                "sam",
                "--reason",
                "wrong tray"
            ]
        )
        .code,
        0
    );
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
