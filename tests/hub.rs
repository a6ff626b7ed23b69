//! The county hub through the real binary, against a real PostgreSQL cluster made for
//! each test, with real stations syncing to it and the test backend behind it.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use common::hub::{Hub, add_station, ballot_file, manage, station};
use common::pg::Cluster;
use common::receiver::{Behaviour, Receiver};
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

const BACKEND_TOKEN: &str = "backend-token-0123456789";

fn scan(s: &Station, codes: impl Iterator<Item = usize>) -> Vec<serde_json::Value> {
    let lines: String = codes.map(|i| format!("B{i:05}\n")).collect();
    let (r, results) = s.scan("ana", "314159", &lines);
    assert_eq!(r.code, 0, "{}", r.stderr);
    results
}

fn backend_token(dir: &Path) -> String {
    let p = dir.join("backend-token");
    std::fs::write(&p, format!("{BACKEND_TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.display().to_string()
}

/// The hub relaying to the test backend `rx`, forming a relay batch once its oldest
/// event has waited `max_age_ms`.
fn relaying_hub(pg: &Cluster, rx: &Receiver, max_age_ms: &str) -> Hub {
    Hub::start(
        &pg.url(),
        &[
            "--relay-url",
            &rx.url,
            "--relay-token-file",
            &backend_token(pg.dir.path()),
            "--relay-max-age-ms",
            max_age_ms,
        ],
    )
}

/// Waits until `f` holds, for at most `secs`.
fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < until, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_stations_one_first_receipt_and_the_backend_sees_each_event_once() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let t2 = add_station(&db, "S2", pg.dir.path());
    let rx = Receiver::start(BACKEND_TOKEN, Behaviour::default());
    let hub = relaying_hub(&pg, &rx, "100");
    // Ballots 3 and 25 are confidential voters'.
    let s1 = station("S1", &hub, &t1, 40, &[3, 25]);
    let s2 = station("S2", &hub, &t2, 40, &[3, 25]);
    // Station 1 takes 1-20; station 2 is handed 15-30 (a tray fed twice).
    scan(&s1, 1..=20);
    s1.ok(&["sync", "--max-wait", "30"]);
    let results = scan(&s2, 15..=30);
    assert!(results.iter().all(|r| r["outcome"] == "accepted"));
    let r = s2.ok(&["sync", "--max-wait", "30"]);
    assert!(
        r.stderr.contains("PULL FROM TRAY: ballot B00015"),
        "{}",
        r.stderr
    );

    // The county has one receipt per ballot, the first station's for 15-20, the
    // confidential voters' included.
    assert_eq!(pg.psql("SELECT count(*) FROM receipts"), "30");
    assert_eq!(
        pg.psql("SELECT count(*) FROM receipts WHERE event_id LIKE 'S1-%'"),
        "20"
    );
    let conflicts = pg.psql(
        "SELECT string_agg(c.ballot_id || '>' || f.station_id, ',' ORDER BY c.ballot_id)
         FROM conflicts c JOIN events f ON f.event_id = c.first_event_id",
    );
    assert_eq!(
        conflicts,
        "B00015>S1,B00016>S1,B00017>S1,B00018>S1,B00019>S1,B00020>S1"
    );
    // Confidential voters' receipts reached the hub by ballot id only.
    assert_eq!(
        pg.psql(
            "SELECT string_agg(ballot_id || ':' || coalesce(voter_id, '-'), ',' ORDER BY ballot_id)
             FROM events WHERE confidential"
        ),
        "B00003:-,B00025:-"
    );
    // Every batch carried its station's audit-chain head.
    assert_eq!(
        pg.psql("SELECT count(*) = (SELECT count(*) FROM batches) FROM chain_heads"),
        "t"
    );
    // The backend gets 28 receipts, each once: never station 2's duplicates, never a
    // confidential voter's.
    wait_for(20, "the relay", || {
        rx.stored.lock().unwrap().events.len() >= 28
    });
    std::thread::sleep(Duration::from_millis(300));
    let stored = rx.stored.lock().unwrap();
    assert_eq!(stored.events.len(), 28);
    assert_eq!(stored.duplicate_events, 0);
    let sent: HashSet<&str> = stored
        .events
        .values()
        .map(|e| e["ballot_id"].as_str().unwrap())
        .collect();
    assert!(!sent.contains("B00003") && !sent.contains("B00025"));
    let s2_sent: HashSet<String> = stored
        .events
        .values()
        .filter(|e| e["event_id"].as_str().unwrap().starts_with("S2-"))
        .map(|e| e["ballot_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(s2_sent.len(), 9, "{s2_sent:?}");
    assert!(s2_sent.iter().all(|b| b.as_str() > "B00020"));
    drop(stored);

    // Station 2 holds the six conflicts as its own entries, for a supervisor.
    let status = s2.status();
    assert_eq!(status["hub"]["enabled"], true);
    assert_eq!(status["hub"]["conflicts_open"], 6);
    let listed = s2.ok(&["conflicts", "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed.len(), 6);
    assert_eq!(listed[0]["ballot_id"], "B00015");
    assert_eq!(listed[0]["first_station"], "S1");
    let text = s2.ok(&["conflicts"]).stdout;
    assert!(
        text.contains("PULL FROM TRAY: batch 1, ballot B00015"),
        "{text}"
    );
    let event = listed[0]["event_seq"].to_string();
    let r = s2.run_with(
        &[
            "conflicts",
            "resolve",
            &event,
            "--note",
            "pulled; sent to S1's tray",
            "--user",
            "ana",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1, "a clerk cannot resolve");
    let r = s2.run_with(
        &[
            "conflicts",
            "resolve",
            &event,
            "--note",
            "pulled; sent to S1's tray",
            "--user",
            "sam",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let status = s2.status();
    assert_eq!(status["hub"]["conflicts_open"], 5);
    assert_eq!(status["hub"]["conflicts_resolved"], 1);
    assert_eq!(s2.ok(&["verify"]).code, 0);
    // The day's nightly file carries them: each conflict reported, the resolution.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive()
        .to_string();
    let out = s2.dir.path().join("exports");
    s2.ok(&["export", "--date", &today, "--out", out.to_str().unwrap()]);
    let csv_path = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let conflict_rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",hub_conflict,"))
        .collect();
    assert_eq!(conflict_rows.len(), 6, "{csv}");
    assert!(conflict_rows[0].starts_with(&format!("S2-{event}-conflict,S2,2026-GEN,B00015,")));
    assert!(conflict_rows[0].contains("first received at station S1 batch 1 at "));
    assert!(conflict_rows[0].ends_with(&format!(",S2-{event}")));
    let resolved: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",hub_conflict_resolved,"))
        .collect();
    assert_eq!(resolved.len(), 1);
    assert!(
        resolved[0].contains("pulled; sent to S1's tray"),
        "{}",
        resolved[0]
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(csv_path.with_extension("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["counts"]["hub_conflict"], 6);
    assert_eq!(manifest["counts"]["hub_conflict_resolved"], 1);

    // The feed told station 2 of station 1's receipts: envelope 5, and confidential
    // 3, are duplicates there now, from its own ledger.
    assert_eq!(status["hub"]["county_receipts"], 20);
    let again = scan(&s2, [5, 3].into_iter());
    for r in &again {
        assert_eq!(r["outcome"], "duplicate", "{r}");
        assert!(
            r["instruction"]
                .as_str()
                .unwrap()
                .contains("at station S1, batch 1"),
            "{r}"
        );
    }

    let status = manage(&db, &["status", "--json"], "");
    assert_eq!(status.code, 0, "{}", status.stderr);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["receipts"], 30);
    assert_eq!(status["conflicts"], 6);
    assert_eq!(status["relay"]["acknowledged"], 28);
    assert_eq!(status["relay"]["waiting"], 0);
    assert_eq!(status["stations"][1]["conflicts"], 6);
}

/// Posts `body` to the hub as the station whose token is in `token_file`.
fn post(hub: &Hub, token_file: &str, key: &str, body: &str) -> (u16, String) {
    let token = std::fs::read_to_string(token_file).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(format!("{}/v1/batches", hub.url))
        .header("Authorization", format!("Bearer {}", token.trim()))
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn batch(id: &str, station: &str, events: &[(&str, &str)]) -> String {
    let events: Vec<serde_json::Value> = events
        .iter()
        .map(|(event, ballot)| {
            serde_json::json!({"event_id": event, "type": "received", "ballot_id": ballot,
                "voter_id": "V1", "occurred_at": "2026-11-03T17:00:01.414213Z",
                "reason": null, "corrects": null, "batch": 4})
        })
        .collect();
    serde_json::json!({"batch_id": id, "station_id": station, "county": "Denver",
        "election_id": "2026-GEN", "created_at": "2026-11-03T17:00:30.000000Z",
        "events": events})
    .to_string()
}

#[test]
fn a_retried_batch_gets_the_same_answer_and_changes_nothing() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let t2 = add_station(&db, "S2", pg.dir.path());
    let hub = Hub::start(&db, &[]);
    let first = batch("b-1", "S1", &[("S1-1", "B1"), ("S1-2", "B2")]);
    let (code, ack1) = post(&hub, &t1, "b-1", &first);
    assert_eq!(code, 200, "{ack1}");
    let ack: serde_json::Value = serde_json::from_str(&ack1).unwrap();
    assert_eq!(ack["accepted"], 2);
    assert_eq!(ack["duplicates"], 0);
    assert_eq!(ack["conflicts"], serde_json::json!([]));

    // Station 2 receives B2 again, and B3.
    let second = batch("b-2", "S2", &[("S2-7", "B2"), ("S2-8", "B3")]);
    let (code, ack2) = post(&hub, &t2, "b-2", &second);
    assert_eq!(code, 200, "{ack2}");
    let ack: serde_json::Value = serde_json::from_str(&ack2).unwrap();
    assert_eq!(ack["accepted"], 2);
    assert_eq!(
        ack["conflicts"],
        serde_json::json!([{"event_id": "S2-7", "ballot_id": "B2",
            "first": {"station_id": "S1", "batch": 4,
                      "occurred_at": "2026-11-03T17:00:01.414213Z", "event_id": "S1-2"}}])
    );
    let before = pg.psql(
        "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM receipts) || '/'
             || (SELECT count(*) FROM conflicts) || '/' || (SELECT count(*) FROM outbox)",
    );
    assert_eq!(before, "4/3/1/3");
    // Retries under the same key: the same bytes, nothing changed, the conflict
    // still named.
    for _ in 0..3 {
        assert_eq!(post(&hub, &t2, "b-2", &second), (200, ack2.clone()));
        assert_eq!(post(&hub, &t1, "b-1", &first), (200, ack1.clone()));
    }
    // One new batch sent eight times at once (a station's retry racing its first
    // try): every request gets the same stored answer, and it is stored once. The
    // losers' transactions fail on the batches key while their other statements
    // are in flight, and must still be known for what they are.
    let racing = batch("b-9", "S1", &[("S1-20", "B20"), ("S1-21", "B21")]);
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let tries: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| post(&hub, &t1, "b-9", &racing)))
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a, &answers[0], "{answers:?}");
    }
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(
        pg.psql("SELECT count(*) FROM events WHERE batch_id = 'b-9'"),
        "2"
    );
    let before = pg.psql(
        "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM receipts) || '/'
             || (SELECT count(*) FROM conflicts) || '/' || (SELECT count(*) FROM outbox)",
    );
    assert_eq!(before, "6/5/1/5");
    // The same events under a new batch id (a station that re-formed its batch):
    // all duplicates, and the conflict named again.
    let (code, ack3) = post(
        &hub,
        &t2,
        "b-3",
        &batch("b-3", "S2", &[("S2-7", "B2"), ("S2-8", "B3")]),
    );
    assert_eq!(code, 200);
    let ack: serde_json::Value = serde_json::from_str(&ack3).unwrap();
    assert_eq!(ack["accepted"], 0);
    assert_eq!(ack["duplicates"], 2);
    assert_eq!(ack["conflicts"][0]["event_id"], "S2-7");
    assert_eq!(
        pg.psql(
            "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM receipts) || '/'
                 || (SELECT count(*) FROM conflicts) || '/' || (SELECT count(*) FROM outbox)"
        ),
        before
    );
    // What the hub stored cannot be changed, even by its own database user.
    for sql in [
        "DELETE FROM receipts",
        "UPDATE events SET ballot_id = 'B9'",
        "DELETE FROM conflicts",
        "UPDATE batches SET ack = ''",
    ] {
        let said = pg.psql_refused(sql);
        assert!(said.contains("append-only"), "{sql}: {said}");
    }
}

#[test]
fn refusals_say_why_and_store_nothing() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let _t2 = add_station(&db, "S2", pg.dir.path());
    let hub = Hub::start(&db, &[]);
    // Another station's events under station 1's token.
    let (code, body) = post(&hub, &t1, "x", &batch("x", "S2", &[("S2-1", "B1")]));
    assert_eq!(code, 400);
    assert!(body.contains("the token is station \"S1\"'s"), "{body}");
    let (code, body) = post(&hub, &t1, "y", &batch("y", "S1", &[("S2-1", "B1")]));
    assert_eq!(code, 400);
    assert!(body.contains("is not station S1's"), "{body}");
    // A key that is not the batch's id.
    let (code, body) = post(&hub, &t1, "other", &batch("z", "S1", &[("S1-1", "B1")]));
    assert_eq!(code, 400);
    assert!(body.contains("Idempotency-Key"), "{body}");
    // Not JSON.
    let (code, body) = post(&hub, &t1, "q", "{\"batch_id\": ");
    assert_eq!(code, 400, "{body}");
    // No such token.
    let bad = pg.dir.path().join("bad-token");
    std::fs::write(&bad, "0000\n").unwrap();
    let (code, _) = post(
        &hub,
        bad.to_str().unwrap(),
        "w",
        &batch("w", "S1", &[("S1-1", "B1")]),
    );
    assert_eq!(code, 401);
    assert_eq!(pg.psql("SELECT count(*) FROM events"), "0");
    assert_eq!(pg.psql("SELECT count(*) FROM batches"), "0");
    // A station id that would blur event ids, and a token file that exists.
    let r = manage(
        &db,
        &["station", "add", "S-3", "--token-file", "/tmp/never"],
        "",
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("a '-' would blur"), "{}", r.stderr);
    let r = manage(&db, &["station", "add", "S3", "--token-file", &t1], "");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("never replaced"), "{}", r.stderr);
    // Plain http on a network address.
    let r = manage(&db, &["--listen", "0.0.0.0:0"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("plain http is only for a loopback address"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_database_from_a_newer_hub_is_refused() {
    let pg = Cluster::start();
    let db = pg.url();
    let r = manage(&db, &["migrate"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("schema version 4"), "{}", r.stdout);
    // A station is never deleted (its events keep no foreign key to it since 4).
    pg.psql("INSERT INTO stations (station_id, token_sha256) VALUES ('S9', '\\x00')");
    for sql in ["DELETE FROM stations", "TRUNCATE stations CASCADE"] {
        let refused = pg.psql_refused(sql);
        assert!(refused.contains("never deleted"), "{sql}: {refused}");
    }
    // Migrating again applies nothing.
    let r = manage(&db, &["migrate"], "");
    assert!(r.stdout.contains("(0 applied now)"), "{}", r.stdout);
    pg.psql("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
    let r = manage(&db, &["status"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("schema is version 99, newer than this hub knows (4)"),
        "{}",
        r.stderr
    );
    let r = manage(&db, &["--listen", "127.0.0.1:0"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("newer than this hub knows"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_feed_gives_receipts_after_a_cursor_without_names() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let hub = Hub::start(&db, &[]);
    let (code, _) = post(
        &hub,
        &t1,
        "f-1",
        &batch(
            "f-1",
            "S1",
            &[("S1-1", "B1"), ("S1-2", "B2"), ("S1-3", "B3")],
        ),
    );
    assert_eq!(code, 200);
    let token = std::fs::read_to_string(&t1).unwrap();
    let get = |after: &str| -> serde_json::Value {
        let mut r = ureq::get(format!("{}/v1/receipts?after={after}&limit=2", hub.url))
            .header("Authorization", format!("Bearer {}", token.trim()))
            .call()
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let page = get("");
    assert_eq!(page["receipts"].as_array().unwrap().len(), 2);
    assert_eq!(page["receipts"][0]["ballot_id"], "B1");
    assert_eq!(page["receipts"][0]["station_id"], "S1");
    assert_eq!(page["receipts"][0]["batch"], 4);
    assert!(page["receipts"][0].get("voter_id").is_none());
    let page = get(page["next"].as_str().unwrap());
    assert_eq!(page["receipts"].as_array().unwrap().len(), 1);
    assert_eq!(page["receipts"][0]["ballot_id"], "B3");
    let last = page["next"].as_str().unwrap().to_string();
    let page = get(&last);
    assert_eq!(page["receipts"], serde_json::json!([]));
    assert_eq!(page["next"], last);
    // A receipt whose transaction began first but commits last is not skipped: the
    // feed holds back what came after it until it has committed.
    let slow = pg.psql_spawn(
        "BEGIN; INSERT INTO events (event_id, station_id, batch_id, election_id, county, type,
             ballot_id, occurred_at, confidential)
             VALUES ('S1-9', 'S1', 'by-hand', '2026-GEN', 'Denver', 'received', 'B9', now(), false);
         INSERT INTO receipts (election_id, ballot_id, event_id) VALUES ('2026-GEN', 'B9', 'S1-9');
         SELECT pg_sleep(3); COMMIT;",
    );
    std::thread::sleep(Duration::from_millis(800));
    let (code, _) = post(&hub, &t1, "f-2", &batch("f-2", "S1", &[("S1-4", "B10")]));
    assert_eq!(code, 200);
    assert_eq!(
        pg.psql("SELECT count(*) FROM receipts WHERE ballot_id = 'B10'"),
        "1"
    );
    let page = get(&last);
    assert_eq!(
        page["receipts"],
        serde_json::json!([]),
        "B10 read before B9 committed"
    );
    assert!(slow.wait_with_output().unwrap().status.success());
    let page = get(&last);
    let order: Vec<&str> = page["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ballot_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["B9", "B10"]);
    // Without a token, nothing.
    let r = ureq::get(format!("{}/v1/receipts", hub.url)).call();
    assert!(matches!(r, Err(ureq::Error::StatusCode(401))), "{r:?}");
}

#[test]
fn a_station_whose_ledger_went_back_is_caught_by_its_chain_head() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let hub = Hub::start(&db, &[]);
    let s1 = station("S1", &hub, &t1, 40, &[]);
    scan(&s1, 1..=5);
    s1.ok(&["sync", "--max-wait", "30"]);
    // A copy of the ledger as it is now (a backup), then more work synced.
    let backup = s1.dir.path().join("backup.sqlite3");
    s1.sqlite()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    scan(&s1, 6..=10);
    s1.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(pg.psql("SELECT count(*) FROM chain_alarms"), "0");
    // The station comes back from the backup: its newest rows are gone, which its
    // own `verify` cannot see.
    let ledger = s1.ledger_path();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger.display()));
    }
    std::fs::copy(&backup, &ledger).unwrap();
    assert_eq!(s1.ok(&["verify"]).code, 0);
    scan(&s1, 11..=12);
    s1.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(
        pg.psql("SELECT count(*) FROM chain_alarms WHERE station_id = 'S1'"),
        "1"
    );
    let status = manage(&db, &["status"], "");
    assert!(
        status.stdout.contains("station S1:") && status.stdout.contains("1 AUDIT CHAIN ALARM"),
        "{}",
        status.stdout
    );
}

/// Transaction ids are compared as numbers, never as the text they are sent as:
/// across txid 999 to 1000 ("1000" sorts before "999" as text) the feed keeps its
/// order and the relay sends each event once.
#[test]
fn the_feed_and_the_relay_keep_their_order_where_transaction_ids_gain_a_digit() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let rx = Receiver::start(BACKEND_TOKEN, Behaviour::default());
    let hub = relaying_hub(&pg, &rx, "0");
    let (code, _) = post(&hub, &t1, "d-1", &batch("d-1", "S1", &[("S1-1", "B1")]));
    assert_eq!(code, 200);
    wait_for(20, "the first relay", || {
        rx.stored.lock().unwrap().events.len() == 1
    });
    let now: u64 = pg.psql("SELECT pg_current_xact_id()").parse().unwrap();
    assert!(now < 990, "a fresh cluster starts below 1000 ({now})");
    pg.psql(&"BEGIN; SELECT pg_current_xact_id(); COMMIT; ".repeat((1005 - now) as usize));
    for (i, ballot) in [(2, "B2"), (3, "B3")] {
        let id = format!("d-{i}");
        let event = format!("S1-{i}");
        let (code, _) = post(&hub, &t1, &id, &batch(&id, "S1", &[(&event, ballot)]));
        assert_eq!(code, 200);
    }
    assert!(
        pg.psql("SELECT min(txid)::text::bigint FROM receipts WHERE ballot_id <> 'B1'")
            .parse::<u64>()
            .unwrap()
            >= 1000
    );
    let token = std::fs::read_to_string(&t1).unwrap();
    let mut after = String::new();
    let mut order = Vec::new();
    for _ in 0..5 {
        let mut r = ureq::get(format!("{}/v1/receipts?after={after}&limit=1", hub.url))
            .header("Authorization", format!("Bearer {}", token.trim()))
            .call()
            .unwrap();
        let page: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        for r in page["receipts"].as_array().unwrap() {
            order.push(r["ballot_id"].as_str().unwrap().to_string());
        }
        after = page["next"].as_str().unwrap().to_string();
    }
    assert_eq!(order, ["B1", "B2", "B3"]);
    wait_for(20, "the relay", || {
        rx.stored.lock().unwrap().events.len() == 3
    });
    std::thread::sleep(Duration::from_millis(500));
    let stored = rx.stored.lock().unwrap();
    assert_eq!(stored.events.len(), 3);
    assert_eq!(stored.duplicate_events, 0, "the relay sent an event twice");
    assert!(
        stored.batches.values().all(|n| *n == 1),
        "a relay batch was sent again: {:?}",
        stored.batches
    );
}

/// Makes a county CA and a certificate for `localhost` (and 127.0.0.1) signed by it,
/// with the openssl command; returns (CA, certificate, key) paths.
fn county_ca(dir: &Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&[
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test County CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&ca);
    let mut req = vec!["req"];
    req.extend_from_slice(&ec);
    req.extend_from_slice(&[
        "-keyout",
        "hub.key",
        "-out",
        "hub.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&req);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "hub.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "hub.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    let p = |f: &str| dir.join(f).display().to_string();
    (p("ca.pem"), p("hub.pem"), p("hub.key"))
}

/// The hub over TLS (rustls), as a county runs it off loopback: a station that trusts
/// the county's CA syncs; one that does not is refused by its own TLS check and
/// stores nothing at the hub.
#[test]
fn stations_reach_the_hub_over_tls_with_the_countys_ca() {
    let pg = Cluster::start();
    let db = pg.url();
    let (ca, cert, key) = county_ca(pg.dir.path());
    let t1 = add_station(&db, "S1", pg.dir.path());
    let t2 = add_station(&db, "S2", pg.dir.path());
    let hub = Hub::start(&db, &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(hub.url.starts_with("https://127.0.0.1:"), "{}", hub.url);
    let url = format!("https://localhost:{}", hub.port());
    let trusting = Station::upcoming_as("S1");
    let file = ballot_file(trusting.dir.path(), 10, &[]);
    trusting.ok(&["import", &file]);
    trusting.ok(&[
        "sync",
        "setup",
        "--hub",
        "--url",
        &url,
        "--token-file",
        &t1,
        "--ca-file",
        &ca,
    ]);
    scan(&trusting, 1..=3);
    trusting.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(pg.psql("SELECT count(*) FROM receipts"), "3");

    let doubting = Station::upcoming_as("S2");
    let file = ballot_file(doubting.dir.path(), 10, &[]);
    doubting.ok(&["import", &file]);
    doubting.ok(&["sync", "setup", "--hub", "--url", &url, "--token-file", &t2]);
    scan(&doubting, 4..=5);
    let r = doubting.run(&["sync", "--max-wait", "3"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.to_lowercase().contains("certificate") || r.stderr.contains("UnknownIssuer"),
        "{}",
        r.stderr
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM events WHERE station_id = 'S2'"),
        "0"
    );
}

/// A relay batch the backend refuses is held, listed by `hub status`, and sent again
/// (same id) by `hub relay-retry` once the cause is fixed; later batches went on.
#[test]
fn a_refused_relay_batch_is_held_until_released() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let rx = Receiver::start(
        BACKEND_TOKEN,
        Behaviour {
            refuse_with: Some(422),
            ..Behaviour::default()
        },
    );
    let hub = relaying_hub(&pg, &rx, "0");
    let (code, _) = post(&hub, &t1, "h-1", &batch("h-1", "S1", &[("S1-1", "B1")]));
    assert_eq!(code, 200);
    let held = || -> serde_json::Value {
        let r = manage(&db, &["status", "--json"], "");
        serde_json::from_str(&r.stdout).unwrap()
    };
    wait_for(20, "the hold", || held()["relay"]["held"] == 1);
    let status = held();
    let id = status["relay"]["held_batches"][0][0]
        .as_str()
        .unwrap()
        .to_string();
    let text = manage(&db, &["status"], "").stdout;
    assert!(
        text.contains(&format!("relay batch {id} HELD (1 events): HTTP 422")),
        "{text}"
    );
    // The backend is fixed; an unknown id is refused, the held one released.
    rx.behaviour.lock().unwrap().refuse_with = None;
    let r = manage(&db, &["relay-retry", "no-such-batch"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no held relay batch no-such-batch"),
        "{}",
        r.stderr
    );
    let r = manage(&db, &["relay-retry", &id], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    wait_for(20, "the resend", || {
        rx.stored.lock().unwrap().events.len() == 1
    });
    assert_eq!(rx.stored.lock().unwrap().batches.get(&id), Some(&1));
    wait_for(20, "the acknowledgement", || {
        held()["relay"]["acknowledged"] == 1
    });
    assert_eq!(held()["relay"]["held"], 0);
}

fn reverse(s: &Station, seq: i64) {
    let r = s.run_with(
        &[
            "reverse",
            &seq.to_string(),
            "--user",
            "sam",
            "--reason",
            "envelope from another county's tray",
        ],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(r.code, 0, "reverse: {}", r.stderr);
}

#[test]
fn a_corrected_first_receipt_frees_the_ballot_county_wide() {
    let pg = Cluster::start();
    let db = pg.url();
    let t1 = add_station(&db, "S1", pg.dir.path());
    let t2 = add_station(&db, "S2", pg.dir.path());
    let rx = Receiver::start(BACKEND_TOKEN, Behaviour::default());
    let hub = relaying_hub(&pg, &rx, "100");
    let s1 = station("S1", &hub, &t1, 10, &[]);
    let s2 = station("S2", &hub, &t2, 10, &[]);

    // S1 takes ballot 1; S2 reads the feed and so refuses it as a duplicate.
    let first = scan(&s1, 1..=1)[0]["seq"].as_i64().unwrap();
    s1.ok(&["sync", "--max-wait", "30"]);
    s2.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(scan(&s2, 1..=1)[0]["outcome"], "duplicate");
    // A supervisor at S1 finds the receipt was wrong and reverses it.
    reverse(&s1, first);
    s1.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(pg.psql("SELECT count(*) FROM receipt_releases"), "1");
    // S2 learns from the feed that the ballot is free, and its scan is the county's
    // receipt, not a conflict.
    s2.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(scan(&s2, 1..=1)[0]["outcome"], "accepted");
    let r = s2.ok(&["sync", "--max-wait", "30"]);
    assert!(!r.stderr.contains("PULL FROM TRAY"), "{}", r.stderr);
    assert_eq!(pg.psql("SELECT count(*) FROM conflicts"), "0");
    assert_eq!(
        pg.psql("SELECT string_agg(event_id || '@' || round, ',' ORDER BY round) FROM receipts"),
        format!(
            "S1-{first}@0,{}@1",
            pg.psql("SELECT max(event_id) FROM events WHERE station_id = 'S2'")
        )
    );
    // S1, scanning it again now, is told it is S2's (from its feed, or the hub).
    s1.ok(&["sync", "--max-wait", "30"]);
    assert_eq!(scan(&s1, 1..=1)[0]["outcome"], "duplicate");

    // Within one batch: scanned, reversed and scanned again before the sync sends.
    let wrong = scan(&s1, 2..=2)[0]["seq"].as_i64().unwrap();
    reverse(&s1, wrong);
    assert_eq!(scan(&s1, 2..=2)[0]["outcome"], "accepted");
    let r = s1.ok(&["sync", "--max-wait", "30"]);
    assert!(!r.stderr.contains("PULL FROM TRAY"), "{}", r.stderr);
    assert_eq!(pg.psql("SELECT count(*) FROM conflicts"), "0");
    assert_eq!(
        pg.psql("SELECT count(*) FROM receipts WHERE ballot_id = 'B00002'"),
        "2"
    );

    // The hub's counts: two ballots received, each once.
    let status: serde_json::Value =
        serde_json::from_str(&manage(&db, &["status", "--json"], "").stdout).unwrap();
    assert_eq!(status["receipts"], 2);
    wait_for(10, "the tally", || {
        pg.psql("SELECT coalesce(sum(receipts), 0) FROM receipt_hours") == "2"
    });
    // The backend saw each receipt, and each correction, once.
    wait_for(20, "the relay", || {
        rx.stored.lock().unwrap().events.len() >= 6
    });
    std::thread::sleep(Duration::from_millis(300));
    let stored = rx.stored.lock().unwrap();
    let kinds: Vec<String> = {
        let mut v: Vec<(String, String)> = stored
            .events
            .values()
            .map(|e| {
                (
                    e["event_id"].as_str().unwrap().to_string(),
                    e["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, k)| k).collect()
    };
    assert_eq!(stored.duplicate_events, 0);
    assert_eq!(
        kinds.iter().filter(|k| *k == "received").count(),
        4,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "correction").count(),
        2,
        "{kinds:?}"
    );
    for s in [&s1, &s2] {
        assert_eq!(s.ok(&["verify"]).code, 0);
    }
}
