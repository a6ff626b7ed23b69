//! The ledger on its own, on a real SQLite file: each outcome of a scan, a batch
//! closed with a discrepancy and resolved, the flags and their refusals, a reversal.
//! What the command line and the window add is tested through them; these pin down
//! the records themselves.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::auth::Role;
use crate::barcode::CheckDigit;
use crate::intake::Outcome;

const ELECTION: &str = "2026-GEN";
const HEADER: &str = "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,uocava,outbound_imb\n";

/// A station for the 2026 general election (3 November, Denver) with a clerk, two
/// supervisors and a few ballots; and a ballot of the primary, a second election.
struct Station {
    dir: tempfile::TempDir,
    ledger: Ledger,
    clerk: User,
    sup: User,
    sup2: User,
}

fn election(id: &str, date: (i32, u32, u32)) -> NewElection {
    NewElection {
        election_id: id.into(),
        name: id.into(),
        date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
        check_digit: CheckDigit::None,
    }
}

fn import(ledger: &mut Ledger, admin: &User, dir: &std::path::Path, name: &str, rows: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}{rows}")).unwrap();
    crate::mail_ballot::import_file(ledger, &path, Some(admin), |_, _| {}).unwrap();
}

fn station() -> Station {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::create(
        &dir.path().join("ledger.sqlite3"),
        &StationSetup {
            station_id: "S1".into(),
            county: "Denver".into(),
            timezone: "America/Denver".into(),
            election: election("2026-PRI", (2026, 6, 30)),
            demo: false,
        },
    )
    .unwrap();
    let admin = ledger.add_user(None, "ada", Role::Admin, "864209").unwrap();
    import(
        &mut ledger,
        &admin,
        dir.path(),
        "primary.csv",
        "2026-PRI,P0001,V9,Prim,Pat,80202,101,S1,ACTIVE,N,N,\n",
    );
    ledger
        .add_election(&admin, &election(ELECTION, (2026, 11, 3)), true)
        .unwrap();
    import(
        &mut ledger,
        &admin,
        dir.path(),
        "general.csv",
        "2026-GEN,B0001,V1,Garcia,Ana,80202,101,S1,ACTIVE,N,N,\n\
         2026-GEN,B0002,V2,Lee,Sam,80203,102,S1,ACTIVE,N,N,00270123456789012345\n\
         2026-GEN,B0003,V3,Ito,Kay,80204,103,S1,VOID,N,N,\n\
         2026-GEN,B0004,V4,Hidden,Hal,80205,104,S1,ACTIVE,Y,N,\n\
         2026-GEN,B0005,V5,Abroad,Abe,80206,105,S1,ACTIVE,N,Y,\n",
    );
    let clerk = ledger
        .add_user(Some(&admin), "cleo", Role::Clerk, "246810")
        .unwrap();
    let sup = ledger
        .add_user(Some(&admin), "sam", Role::Supervisor, "135790")
        .unwrap();
    let sup2 = ledger
        .add_user(Some(&admin), "sue", Role::Supervisor, "975310")
        .unwrap();
    Station {
        dir,
        ledger,
        clerk,
        sup,
        sup2,
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().into()
}

/// Election day, noon in Denver: in time.
const NOON: &str = "2026-11-03T12:00:00-07:00";

fn scan(s: &mut Station, batch: i64, code: &str, when: &str) -> ScanResult {
    let clerk = s.clerk.clone();
    s.ledger
        .record_scan(
            &clerk,
            batch,
            &ScanInput {
                raw: code.as_bytes(),
                source: "test",
                symbology: None,
                at: at(when),
                original_len: None,
            },
        )
        .unwrap()
}

fn input(code: &str) -> ScanInput<'_> {
    ScanInput {
        raw: code.as_bytes(),
        source: "test",
        symbology: None,
        at: at(NOON),
        original_len: None,
    }
}

#[test]
fn a_first_receipt_is_accepted_and_queued_for_the_voter() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let r = scan(&mut s, b, "B0001", NOON);
    assert_eq!(
        (r.outcome, r.ballot_id.as_deref()),
        (Outcome::Accepted, Some("B0001"))
    );
    assert_eq!(s.ledger.batch(b).unwrap().accepted_count, 1);
    assert_eq!(s.ledger.sync_counts().unwrap().pending, 1);
}

#[test]
fn a_second_scan_is_a_duplicate_naming_the_first_receipt() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let first = scan(&mut s, b, "B0001", NOON);
    let again = scan(&mut s, b, "B0001", "2026-11-03T12:05:00-07:00");
    assert_eq!(again.outcome, Outcome::Duplicate);
    let receipt = again.first_receipt.unwrap();
    assert_eq!(
        (receipt.event_seq, receipt.station.as_str(), receipt.batch),
        (first.seq, "S1", Some(b))
    );
    assert_eq!(s.ledger.batch(b).unwrap().accepted_count, 1);
    assert_eq!(
        s.ledger.sync_counts().unwrap().pending,
        1,
        "one message to the voter"
    );
}

#[test]
fn void_unknown_invalid_and_other_elections_ballots_are_set_aside() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    assert_eq!(scan(&mut s, b, "B0003", NOON).outcome, Outcome::Voided);
    assert_eq!(scan(&mut s, b, "NOPE-1", NOON).outcome, Outcome::Unknown);
    assert_eq!(scan(&mut s, b, "B\u{7f}01", NOON).outcome, Outcome::Invalid);
    assert_eq!(scan(&mut s, b, "  \r", NOON).outcome, Outcome::Invalid);
    assert_eq!(
        scan(&mut s, b, "P0001", NOON).outcome,
        Outcome::WrongElection
    );
    assert_eq!(s.ledger.batch(b).unwrap().accepted_count, 0);
    assert_eq!(
        s.ledger.sync_counts().unwrap().pending,
        0,
        "nothing told to a voter"
    );
    assert_eq!(s.ledger.verify().unwrap().events, 5, "each one recorded");
}

#[test]
fn after_seven_pm_on_election_day_is_late_but_uocava_ballots_have_eight_days() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    assert_eq!(
        scan(&mut s, b, "B0001", "2026-11-03T18:59:59-07:00").outcome,
        Outcome::Accepted
    );
    assert_eq!(
        scan(&mut s, b, "B0002", "2026-11-03T19:00:00-07:00").outcome,
        Outcome::Late
    );
    assert_eq!(
        scan(&mut s, b, "B0005", "2026-11-10T09:00:00-07:00").outcome,
        Outcome::Accepted
    );
}

#[test]
fn a_confidential_voters_receipt_counts_but_never_enters_the_outbox() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let r = scan(&mut s, b, "B0004", NOON);
    assert_eq!((r.outcome, r.confidential), (Outcome::Accepted, true));
    assert_eq!(s.ledger.batch(b).unwrap().accepted_count, 1);
    assert_eq!(s.ledger.sync_counts().unwrap().pending, 0);
    assert!(s.ledger.verify().unwrap().ok());
}

#[test]
fn a_count_that_differs_is_a_discrepancy_a_supervisor_resolves() {
    let mut s = station();
    let (clerk, sup, sup2) = (s.clerk.clone(), s.sup.clone(), s.sup2.clone());
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    scan(&mut s, b, "B0001", NOON);
    // One person cannot close alone.
    assert!(s.ledger.close_batch(b, &clerk, &clerk, 1).is_err());
    let closed = s.ledger.close_batch(b, &clerk, &sup, 2).unwrap();
    assert!(closed.discrepancy);
    assert_eq!(closed.batch.status, BatchStatus::Discrepancy);
    assert_eq!(
        (closed.batch.declared_count, closed.batch.accepted_count),
        (Some(2), 1)
    );
    // A clerk may not resolve it; a supervisor does, with a note.
    assert!(matches!(
        s.ledger.resolve_batch(b, &clerk, "found it"),
        Err(LedgerError::NotAllowed { .. })
    ));
    // Nor the supervisor who verified the count.
    let err = s.ledger.resolve_batch(b, &sup, "fine").unwrap_err();
    assert!(err.to_string().contains("a different supervisor"), "{err}");
    let resolved = s
        .ledger
        .resolve_batch(b, &sup2, "one envelope was a flyer")
        .unwrap();
    assert_eq!(resolved.status, BatchStatus::Resolved);
    assert_eq!(
        resolved.resolution_note.as_deref(),
        Some("one envelope was a flyer")
    );
    assert!(s.ledger.verify().unwrap().ok());
}

#[test]
fn a_matching_count_closes_the_batch() {
    let mut s = station();
    let (clerk, sup) = (s.clerk.clone(), s.sup.clone());
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    scan(&mut s, b, "B0001", NOON);
    scan(&mut s, b, "NOPE-1", NOON);
    let closed = s.ledger.close_batch(b, &clerk, &sup, 1).unwrap();
    assert!(!closed.discrepancy);
    assert_eq!(closed.batch.status, BatchStatus::Closed);
    assert_eq!(closed.batch.verified_by.as_deref(), Some("sam"));
    // A closed batch takes no more scans.
    let clerk = s.clerk.clone();
    assert!(s.ledger.record_scan(&clerk, b, &input("B0002")).is_err());
}

#[test]
fn undeliverable_by_ballot_id_or_outbound_imb_and_refused_once_received() {
    let mut s = station();
    let (clerk, sup) = (s.clerk.clone(), s.sup.clone());
    let f = s
        .ledger
        .flag_undeliverable(&sup, &input("00270123456789012345"), UspsReason::Vacant)
        .unwrap();
    assert_eq!(
        (f.ballot_id.as_str(), f.reason.as_str(), f.will_sync),
        ("B0002", "vacant", true)
    );
    // Received already: flagging it undeliverable would tell the voter otherwise.
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    scan(&mut s, b, "B0001", NOON);
    let err = s
        .ledger
        .flag_undeliverable(&sup, &input("B0001"), UspsReason::Refused)
        .unwrap_err();
    assert!(err.to_string().contains("already received"), "{err}");
    // Clerks do not flag.
    assert!(matches!(
        s.ledger
            .flag_undeliverable(&clerk, &input("B0005"), UspsReason::Vacant),
        Err(LedgerError::NotAllowed { .. })
    ));
    assert!(s.ledger.verify().unwrap().ok());
}

#[test]
fn needs_attention_takes_a_reason_and_other_needs_a_note() {
    let mut s = station();
    let sup = s.sup.clone();
    let f = s
        .ledger
        .flag_needs_attention(&sup, &input("B0001"), AttentionReason::Unsigned, None)
        .unwrap();
    assert_eq!(
        (f.kind.as_str(), f.reason.as_str()),
        ("needs_attention", "unsigned")
    );
    assert!(
        s.ledger
            .flag_needs_attention(&sup, &input("B0002"), AttentionReason::Other, None)
            .is_err()
    );
    let f = s
        .ledger
        .flag_needs_attention(&sup, &input("B0002"), AttentionReason::Other, Some("torn"))
        .unwrap();
    assert_eq!(f.reason, "other: torn");
    assert!(
        s.ledger
            .flag_needs_attention(&sup, &input("NOPE-1"), AttentionReason::Damaged, None)
            .is_err(),
        "no ballot, no flag"
    );
}

#[test]
fn a_reversal_is_a_new_entry_and_frees_the_ballot_for_a_new_receipt() {
    let mut s = station();
    let (clerk, sup, sup2) = (s.clerk.clone(), s.sup.clone(), s.sup2.clone());
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let first = scan(&mut s, b, "B0001", NOON);
    assert!(matches!(
        s.ledger.reverse_event(&clerk, first.seq, "mistake"),
        Err(LedgerError::NotAllowed { .. })
    ));
    assert!(
        s.ledger.reverse_event(&sup, first.seq, "  ").is_err(),
        "a reason is needed"
    );
    let r = s
        .ledger
        .reverse_event(&sup, first.seq, "scanned into the wrong tray")
        .unwrap();
    assert_eq!(r.corrects, first.seq);
    assert!(r.seq > first.seq);
    // Reversed once only.
    assert!(s.ledger.reverse_event(&sup2, first.seq, "again").is_err());
    // The original row is untouched; its history shows both.
    let pk = s.ledger.find_ballots("B0001").unwrap()[0].ballot_pk;
    let history = s.ledger.ballot_history(pk).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].reversed_by, Some(r.seq));
    assert_eq!(history[0].outcome.as_deref(), Some("accepted"));
    // The envelope scanned again is a receipt again, not a duplicate.
    assert_eq!(scan(&mut s, b, "B0001", NOON).outcome, Outcome::Accepted);
    assert!(s.ledger.verify().unwrap().ok());
    drop(s.dir);
}

#[test]
fn the_dashboard_counts_a_reversed_receipt_as_reversed_and_shows_flags() {
    let mut s = station();
    let (clerk, sup) = (s.clerk.clone(), s.sup.clone());
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let first = scan(&mut s, b, "B0001", NOON);
    scan(&mut s, b, "B0002", NOON);
    s.ledger
        .reverse_event(&sup, first.seq, "wrong tray")
        .unwrap();
    s.ledger
        .flag_needs_attention(&sup, &input("B0005"), AttentionReason::Unsigned, None)
        .unwrap();
    let d = s.ledger.dashboard(at(NOON)).unwrap();
    assert_eq!(d.election["accepted"], 1);
    assert_eq!(d.election["reversed"], 1);
    assert_eq!(d.election["needs_attention"], 1);
    assert_eq!(d.per_batch, [(b, 2, 1)]);
}

#[test]
fn a_scan_while_another_program_holds_the_ledger_says_busy_and_records_nothing() {
    let mut s = station();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    // Another process's import holds the write lock (BEGIN IMMEDIATE) until it
    // commits; the scan waits its busy timeout (shortened here) and gives up.
    let other = rusqlite::Connection::open(s.dir.path().join("ledger.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    s.ledger
        .conn
        .busy_timeout(std::time::Duration::from_millis(100))
        .unwrap();
    let r = s.ledger.record_scan(
        &clerk,
        b,
        &ScanInput {
            raw: b"B0001",
            source: "test",
            symbology: None,
            at: at(NOON),
            original_len: None,
        },
    );
    assert_eq!(r.unwrap_err(), LedgerError::Busy);
    assert!(
        LedgerError::Busy
            .to_string()
            .contains("nothing was recorded")
    );
    other.execute_batch("ROLLBACK").unwrap();
    // Nothing was written: the same envelope is now a first receipt.
    assert_eq!(scan(&mut s, b, "B0001", NOON).outcome, Outcome::Accepted);
}

#[test]
fn the_active_election_changes_only_with_no_tray_open() {
    let mut s = station();
    let admin = s.ledger.sign_in("ada", "864209", Utc::now()).unwrap();
    let clerk = s.clerk.clone();
    let b = s.ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    let refused = s.ledger.activate_election(&admin, "2026-PRI").unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(&format!("batch {b} (opened by cleo) is still open")),
        "{refused}"
    );
    assert_eq!(s.ledger.active_election().unwrap().election_id, ELECTION);
    // Making the active election active again changes nothing and is not refused.
    s.ledger.activate_election(&admin, ELECTION).unwrap();
    s.ledger.close_batch(b, &clerk, &s.sup.clone(), 0).unwrap();
    s.ledger.activate_election(&admin, "2026-PRI").unwrap();
    assert_eq!(s.ledger.active_election().unwrap().election_id, "2026-PRI");
}
