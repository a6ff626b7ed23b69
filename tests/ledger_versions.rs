//! Ledgers written by earlier versions still open: the stored v1 fixture (a real
//! ledger, dumped as SQL) is loaded into a file and driven through the binary.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::{Station, fixture};

fn from_fixture(name: &str) -> Station {
    let s = Station::empty();
    let sql = std::fs::read_to_string(fixture(&format!("ledger/{name}"))).unwrap();
    let conn = rusqlite::Connection::open(s.ledger_path()).unwrap();
    conn.execute_batch(&sql).unwrap();
    s
}

#[test]
fn a_v1_ledger_opens_verifies_and_keeps_working() {
    let s = from_fixture("v1.sql");
    let v = s.run(&["verify"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let status = s.status();
    assert_eq!(status["election"]["election_id"], "2026-GEN");
    assert_eq!(status["ballots"], 10);
    // Election day (2026-11-03) had passed when the fixture was made.
    assert_eq!(status["outcomes"]["late"], 1);
    assert_eq!(status["outcomes"]["duplicate"], 1);
    assert_eq!(status["reversed"], 1);
    // The first receipt (event 1) still stands, so B0001 is a duplicate; the new scan
    // extends the chain the old rows started.
    // A PIN set before obvious ones were refused still signs in.
    let (r, results) = s.scan("ana", "123456", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "duplicate");
    assert_eq!(results[0]["first_receipt"]["event_seq"], 1);
    assert_eq!(s.run(&["verify"]).code, 0);
}

/// Version 2 rebuilt the ballots table (its uniqueness became indexes a bulk import
/// can rebuild): every ballot and the events that name them come through, and the
/// rule "one ballot id per election" still holds.
#[test]
fn the_v2_migration_keeps_every_ballot_and_its_uniqueness() {
    let s = from_fixture("v1.sql");
    let before: Vec<(i64, String, String)> = {
        let conn = s.sqlite();
        conn.prepare("SELECT ballot_pk, ballot_id, status FROM ballots ORDER BY ballot_pk")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(s.run(&["verify"]).code, 0);
    let conn = s.sqlite();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
    let after: Vec<(i64, String, String)> = conn
        .prepare("SELECT ballot_pk, ballot_id, status FROM ballots ORDER BY ballot_pk")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(after, before);
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM events e WHERE e.ballot_pk IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.ballot_pk = e.ballot_pk)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    let fk: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    assert_eq!(fk, None);
    let copy = conn.execute(
        "INSERT INTO ballots (election_id, ballot_id, voter_id, last_name, first_name,
             residential_zip, precinct, ballot_style, status, confidential, uocava, import_id)
         SELECT election_id, ballot_id, 'V-OTHER', 'X', 'Y', '80202', '1', 'S', 'ACTIVE', 0, 0,
             import_id FROM ballots LIMIT 1",
        [],
    );
    assert!(
        copy.is_err(),
        "a ballot id twice in one election is refused"
    );
}
