//! Looking ballots up for review: by barcode, voter id, IMb, or name and ZIP, with
//! confidential voters masked at the source, and a ballot's whole history.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use ballot_intake_core::ledger::{Ledger, MASKED};
use common::Station;

/// A station with `small.csv` imported.
fn station() -> (Station, Ledger) {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let ledger = Ledger::open(&s.ledger_path()).unwrap();
    (s, ledger)
}

/// The ballot ids a search finds.
fn ids(ledger: &Ledger, q: &str) -> Vec<String> {
    ledger
        .find_ballots(q)
        .unwrap()
        .into_iter()
        .map(|b| b.ballot_id)
        .collect()
}

#[test]
fn find_by_barcode_voter_id_or_either_imb() {
    let (_s, ledger) = station();
    assert_eq!(ids(&ledger, "B0002"), ["B0002"]);
    assert_eq!(
        ids(&ledger, "V100004"),
        ["B0004", "B0005"],
        "a voter's replaced and new ballots"
    );
    assert_eq!(
        ids(&ledger, "0004012345620080000180208"),
        ["B0008"],
        "return IMb"
    );
    assert_eq!(
        ids(&ledger, "0070012345620080000180208"),
        ["B0008"],
        "outbound IMb"
    );
    assert!(ids(&ledger, "").is_empty() && ids(&ledger, "nobody").is_empty());
}

#[test]
fn find_by_last_name_and_zip_whatever_the_accents_and_case() {
    let (_s, ledger) = station();
    assert_eq!(ids(&ledger, "Núñez 80202"), ["B0001"]);
    assert_eq!(ids(&ledger, "núñez 80202"), ["B0001"], "any case");
    assert_eq!(ids(&ledger, "NÚÑEZ 80202"), ["B0001"], "accented capitals");
    assert_eq!(
        ids(&ledger, "Nunez 80202"),
        ["B0001"],
        "typed without accents"
    );
    assert!(ids(&ledger, "Nunez 80203").is_empty(), "another ZIP");
    assert_eq!(
        ids(&ledger, "zhang 80209"),
        ["B0009"],
        "ASCII names match in any case"
    );
}

#[test]
fn a_confidential_voter_is_found_by_id_never_by_name_and_is_masked() {
    let (_s, ledger) = station();
    let conf = ledger.find_ballots("B0006").unwrap();
    assert_eq!(
        (conf[0].name.as_str(), conf[0].zip.as_str()),
        (MASKED, MASKED)
    );
    assert!(conf[0].confidential);
    assert!(ids(&ledger, "Private 80206").is_empty());
}

#[test]
fn history_shows_every_scan_and_the_correction_that_reversed_one() {
    let (s, ledger) = station();
    let (_, scanned) = s.scan("ana", "314159", "B0001\nB0001\n");
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
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
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
