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
    let (r, results) = s.scan("ana", "123456", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "duplicate");
    assert_eq!(results[0]["first_receipt"]["event_seq"], 1);
    assert_eq!(s.run(&["verify"]).code, 0);
}
