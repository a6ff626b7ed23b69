//! Looking ballots up for review: by barcode, voter id, IMb, or name and ZIP, with
//! confidential voters masked at the source, and a ballot's whole history.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use ballot_intake_core::ledger::{Ledger, MASKED};
use common::Station;

#[test]
fn find_by_every_key_and_mask_the_confidential() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (_, scanned) = s.scan("ana", "123456", "B0001\nB0001\n");
    let r = s.run_with(
        &[
            "reverse",
            &scanned[1]["seq"].to_string(),
            "--user",
            "sam",
            "--reason",
            "double fed",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "654321")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ledger = Ledger::open(&s.ledger_path()).unwrap();
    let ids = |q: &str| -> Vec<String> {
        ledger
            .find_ballots(q)
            .unwrap()
            .into_iter()
            .map(|b| b.ballot_id)
            .collect()
    };
    assert_eq!(ids("B0002"), ["B0002"]);
    assert_eq!(
        ids("V100004"),
        ["B0004", "B0005"],
        "a voter's replaced and new ballots"
    );
    assert_eq!(ids("0004012345620080000180208"), ["B0008"], "return IMb");
    assert_eq!(ids("0070012345620080000180208"), ["B0008"], "outbound IMb");
    assert_eq!(ids("Núñez 80202"), ["B0001"]);
    assert_eq!(ids("núñez 80202"), ["B0001"], "ASCII letters in any case");
    // SQLite's NOCASE folds ASCII only: accented capitals must be typed as stored.
    assert_eq!(ids("NÚÑEZ 80202"), Vec::<String>::new());
    assert_eq!(
        ids("zhang 80209"),
        ["B0009"],
        "ASCII names match in any case"
    );
    assert!(ids("").is_empty() && ids("nobody").is_empty());
    // A confidential voter is found by id or barcode, never by name, and is masked.
    let conf = ledger.find_ballots("B0006").unwrap();
    assert_eq!(
        (conf[0].name.as_str(), conf[0].zip.as_str()),
        (MASKED, MASKED)
    );
    assert!(conf[0].confidential);
    assert!(ids("Private 80206").is_empty());
    // History: both scans, the second reversed by the correction.
    let b1 = ledger.find_ballots("B0001").unwrap().remove(0);
    let h = ledger.ballot_history(b1.ballot_pk).unwrap();
    let kinds: Vec<(&str, Option<&str>)> = h
        .iter()
        .map(|e| (e.kind.as_str(), e.outcome.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("scan", Some("accepted")),
            ("scan", Some("duplicate")),
            ("correction", None)
        ]
    );
    assert_eq!(h[1].reversed_by, Some(h[2].seq));
    assert_eq!(h[2].corrects, Some(h[1].seq));
    assert_eq!(h[2].user, "sam");
    assert_eq!(h[2].reason.as_deref(), Some("double fed"));
}
