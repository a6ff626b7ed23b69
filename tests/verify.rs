//! `verify` after tampering with the SQLite file by hand: each kind of tampering is
//! caught and the first broken row is named.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;

/// A station with a few scans, a reversal and a closed batch: a varied chain.
fn busy() -> Station {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (r, _) = s.scan("ana", "314159", "B0001\nB0002\nB0001\nNOPE\nB0003\n");
    assert_eq!(r.code, 0);
    let r = s.run_with(
        &["reverse", "2", "--user", "sam", "--reason", "misfeed"],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ok = s.ok(&["verify"]);
    assert!(ok.stdout.starts_with("ledger intact:"), "{}", ok.stdout);
    s
}

/// Runs `sql` with the append-only triggers lifted, then puts them back exactly as
/// they were, as a careful tamperer would.
fn tamper(s: &Station, sql: &str) {
    let conn = s.sqlite();
    let lifted = [
        "events_no_update",
        "events_no_delete",
        "audit_no_update",
        "audit_no_delete",
    ];
    let triggers: Vec<String> = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .into_iter()
        .filter(|(name, _)| lifted.contains(&name.as_str()))
        .map(|(_, sql)| sql)
        .collect();
    for name in lifted {
        conn.execute(&format!("DROP TRIGGER {name}"), []).unwrap();
    }
    conn.execute_batch(sql).unwrap();
    for t in triggers {
        conn.execute(&t, []).unwrap();
    }
}

fn broken(s: &Station) -> String {
    let r = s.run(&["verify"]);
    assert_eq!(r.code, 1, "verify passed a tampered ledger: {}", r.stdout);
    r.stderr
}

#[test]
fn an_edited_event_is_caught() {
    let s = busy();
    tamper(&s, "UPDATE events SET outcome = 'accepted' WHERE seq = 3");
    let err = broken(&s);
    assert!(
        err.contains("BROKEN: events row 3: does not match the digest in audit row"),
        "{err}"
    );
}

#[test]
fn a_deleted_event_is_caught() {
    let s = busy();
    tamper(&s, "DELETE FROM events WHERE seq = 4");
    assert!(broken(&s).contains("BROKEN: events row 4: is missing"));
}

#[test]
fn the_newest_event_deleted_is_caught_through_its_audit_row() {
    let s = busy();
    tamper(
        &s,
        "DELETE FROM outbox WHERE event_seq = 6; DELETE FROM events WHERE seq = 6",
    );
    let err = broken(&s);
    assert!(
        err.contains("BROKEN: events row 6: is missing, but audit row"),
        "{err}"
    );
}

#[test]
fn an_event_inserted_behind_the_stations_back_is_caught() {
    let s = busy();
    tamper(
        &s,
        "INSERT INTO events (election_id, kind, mode, raw, normalized, outcome, station_id, user_id, source, occurred_at)
         VALUES ('2026-GEN', 'scan', 'receive', X'4230303039', 'B0009', 'accepted', 'S1', 1, 'stdin', '2026-11-01T00:00:00.000000Z')",
    );
    assert!(broken(&s).contains("BROKEN: events row 7: no audit row vouches for this event"));
}

#[test]
fn an_edited_audit_row_is_caught() {
    let s = busy();
    tamper(&s, "UPDATE audit_log SET user_name = 'sam' WHERE seq = 9");
    assert!(broken(&s).contains("BROKEN: audit_log row 9: its contents do not match its hash"));
}

#[test]
fn an_audit_row_edited_with_its_hash_recomputed_breaks_the_next_link() {
    let s = busy();
    // A tamperer who knows the encoding rewrites row 9 and gives it a correct hash
    // of its new contents; row 10 still holds the old hash.
    let mut row = ballot_intake_core::ledger::Ledger::open(&s.ledger_path())
        .unwrap()
        .recent_audit(1_000)
        .unwrap()
        .into_iter()
        .find(|r| r.seq == 9)
        .unwrap();
    row.user_name = Some("mallory".into());
    row.hash = row.compute_hash();
    tamper(
        &s,
        &format!(
            "UPDATE audit_log SET user_name = 'mallory', hash = '{}' WHERE seq = 9",
            row.hash
        ),
    );
    let err = broken(&s);
    assert!(
        err.contains("BROKEN: audit_log row 10: does not chain to the row before it"),
        "{err}"
    );
}

#[test]
fn a_deleted_audit_row_is_caught() {
    let s = busy();
    tamper(&s, "DELETE FROM audit_log WHERE seq = 5");
    assert!(broken(&s).contains("BROKEN: audit_log row 5: is missing"));
}

#[test]
fn dropped_triggers_are_caught() {
    let s = busy();
    s.sqlite()
        .execute("DROP TRIGGER events_no_delete", [])
        .unwrap();
    assert!(broken(&s).contains("append-only trigger events_no_delete on events is missing"));
}

#[test]
fn a_confidential_voters_event_smuggled_into_the_outbox_is_caught() {
    let s = busy();
    let (_, results) = s.scan("ana", "314159", "B0006\n");
    let seq = results[0]["seq"].as_i64().unwrap();
    s.sqlite()
        .execute(
            "INSERT INTO outbox (event_seq, event_type, created_at) VALUES (?1, 'received', 'x')",
            [seq],
        )
        .unwrap();
    let err = broken(&s);
    assert!(
        err.contains(&format!(
            "BROKEN: outbox row {seq}: holds an event that must not be sent"
        )),
        "{err}"
    );
}

#[test]
fn a_receipt_removed_from_the_outbox_is_caught() {
    let s = busy();
    s.sqlite()
        .execute("DELETE FROM outbox WHERE event_seq = 1", [])
        .unwrap();
    assert!(broken(&s).contains(
        "BROKEN: outbox row 1: an accepted receipt or a flag is missing from the outbox"
    ));
}

#[test]
fn a_voter_entering_or_leaving_the_confidential_program_after_a_scan_is_not_tampering() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    // B0001's voter is not confidential at the scan, B0006's is.
    let (r, results) = s.scan("ana", "314159", "B0001\nB0006\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(results.iter().all(|v| v["outcome"] == "accepted"));
    // The county's next file: B0001's voter joined the program, B0006's left it.
    let text = std::fs::read_to_string(common::fixture("mail-ballots/small.csv")).unwrap();
    // (Edited in place: the file has CRLF line ends and a quoted line break.)
    let flipped = text
        .replacen(
            "S1,ACTIVE,N,N,2026-10-09,\"1200 Larimer",
            "S1,ACTIVE,Y,N,2026-10-09,\"1200 Larimer",
            1,
        )
        .replacen(
            "B0006,2026-GEN,V100006,Private,Person,,80206,105,S3,ACTIVE,Y,",
            "B0006,2026-GEN,V100006,Private,Person,,80206,105,S3,ACTIVE,N,",
            1,
        );
    assert_ne!(flipped, text);
    let next = s.dir.path().join("next-file.csv");
    std::fs::write(&next, flipped).unwrap();
    let r = s.run(&["import", next.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 updated"), "{}", r.stdout);
    // What the station did at each scan was right at the time: nothing to report.
    let ok = s.run(&["verify"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    // And B0001's receipt, still waiting, is now kept back rather than sent.
    let sent = s.run(&["sync", "--max-wait", "5"]);
    assert_eq!(sent.code, 0, "{}{}", sent.stdout, sent.stderr);
    let conn = s.sqlite();
    let withheld: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE sync_batch = 'withheld'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(withheld, 1);
    assert_eq!(s.run(&["verify"]).code, 0);
    // B0006's receipt was kept back when it was scanned (its voter was confidential
    // then); slipping it into the outbox now is caught, whatever the flag says today.
    let seq: i64 = conn
        .query_row(
            "SELECT e.seq FROM events e JOIN ballots b ON b.ballot_pk = e.ballot_pk
             WHERE b.ballot_id = 'B0006'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "INSERT INTO outbox (event_seq, event_type, created_at) VALUES (?1, 'received', 'x')",
        [seq],
    )
    .unwrap();
    assert!(
        broken(&s).contains(&format!(
            "BROKEN: outbox row {seq}: holds an event that must not be sent"
        )),
        "caught"
    );
}

/// What `verify` could not see (issue #11, item 9): the records that decide who may
/// act and whose receipt a scan is, and an outbox row marked sent by hand. None of
/// these tables is append-only, so each edit is caught through a digest the chain
/// vouches for.
#[test]
fn edits_to_who_may_act_whose_receipt_it_is_and_what_was_sent_are_caught() {
    for (sql, table, says) in [
        (
            "UPDATE users SET role = 'admin' WHERE name = 'ana'",
            "users row",
            "role or PIN hash differs",
        ),
        (
            "UPDATE users SET pin_hash = (SELECT pin_hash FROM users WHERE name = 'sam') WHERE name = 'ana'",
            "users row",
            "role or PIN hash differs",
        ),
        (
            "INSERT INTO users (name, role, pin_hash, created_at)
             SELECT 'mallory', 'admin', pin_hash, created_at FROM users WHERE name = 'ana'",
            "users row",
            "never added by an audited action",
        ),
        (
            "UPDATE ballots SET voter_id = 'V999999' WHERE ballot_id = 'B0002'",
            "ballots row",
            "voter or confidential flag differs",
        ),
        (
            "UPDATE ballots SET confidential = 1 WHERE ballot_id = 'B0003'",
            "ballots row",
            "voter or confidential flag differs",
        ),
        (
            "UPDATE outbox SET acked_at = '2026-11-01T00:00:00Z'
              WHERE event_seq = (SELECT min(event_seq) FROM outbox)",
            "outbox row",
            "no acknowledged batch in the audit log holds it",
        ),
    ] {
        let s = busy();
        tamper(&s, sql);
        let err = broken(&s);
        assert!(err.contains(table) && err.contains(says), "{sql}\n{err}");
    }
}
