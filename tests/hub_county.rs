//! A county's day through the hub, with things going wrong: three station processes
//! scan overlapping trays while each syncs in the background (`sync --watch`)
//! through a link that drops 30% of requests or their answers, the hub relays to a
//! backend that fails 30% of its requests, the hub is killed with SIGKILL while
//! batches are in flight and started again, and PostgreSQL is restarted mid-stream.
//! Afterwards every ballot has exactly one receipt county-wide, every station that
//! lost a race holds the conflict, and the backend holds each event once.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use common::hub::{Hub, add_station, manage, sync_to_hub, watch_sync};
use common::pg::Cluster;
use common::proxy::Proxy;
use common::receiver::{Behaviour, Receiver};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

const BALLOTS: usize = 600;
/// Scanning comes in this many rounds, so that the stations send many batches.
const ROUNDS: usize = 20;
const KILL_HUB_AFTER: usize = 6;
const RESTART_DATABASE_AFTER: usize = 13;

fn confidential(i: usize) -> bool {
    i % 50 == 7
}

fn county_file(dir: &std::path::Path) -> String {
    let path = dir.join("ballots.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
    for i in 1..=BALLOTS {
        let c = if confidential(i) { "Y" } else { "N" };
        writeln!(
            f,
            "2026-GEN,B{i:05},V{i:05},Okafor,Ada,80202,101,S1,ACTIVE,{c}"
        )
        .unwrap();
    }
    path.display().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a station's ledger accepted: ballot -> its receipt's event id.
fn accepted(s: &Station, id: &str) -> HashMap<String, String> {
    let conn = s.sqlite();
    let mut stmt = conn
        .prepare(
            "SELECT b.ballot_id, e.seq FROM events e JOIN ballots b ON b.ballot_pk = e.ballot_pk
             WHERE e.kind = 'scan' AND e.outcome = 'accepted'",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            format!("{id}-{}", r.get::<_, i64>(1)?),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The conflicts a station holds, by event id.
fn held_conflicts(s: &Station, id: &str) -> HashSet<String> {
    let conn = s.sqlite();
    let mut stmt = conn.prepare("SELECT event_seq FROM hub_conflicts").unwrap();
    stmt.query_map([], |r| Ok(format!("{id}-{}", r.get::<_, i64>(0)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn three_stations_through_faults_a_killed_hub_and_a_database_restart() {
    let pg = Cluster::start();
    let db = pg.url();
    let ids = ["S1", "S2", "S3"];
    let tokens: Vec<String> = ids
        .iter()
        .map(|id| add_station(&db, id, pg.dir.path()))
        .collect();
    let rx = Receiver::start(
        "backend-token-0123456789",
        Behaviour {
            fault_percent: 30,
            seed: 12,
            timeout_wait: Duration::from_millis(1500),
            ..Behaviour::default()
        },
    );
    let backend_token = pg.dir.path().join("backend-token");
    std::fs::write(&backend_token, "backend-token-0123456789\n").unwrap();
    std::fs::set_permissions(&backend_token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let hub_args = [
        "--relay-url",
        &rx.url,
        "--relay-token-file",
        backend_token.to_str().unwrap(),
        "--relay-max-age-ms",
        "200",
        "--relay-retry-base-ms",
        "50",
    ];
    let mut hub = Hub::start_on(&db, &listen, &hub_args);
    let proxy = Proxy::start(&listen, 30, 2026);

    let stations: Vec<Station> = ids
        .iter()
        .zip(&tokens)
        .map(|(id, token)| {
            let s = Station::upcoming_as(id);
            let file = county_file(s.dir.path());
            s.ok(&["import", &file]);
            sync_to_hub(&s, &proxy.url, token);
            s
        })
        .collect();
    let mut syncs: Vec<std::process::Child> = stations.iter().map(watch_sync).collect();
    // Overlapping trays. 1-40 at S1 and S2 at the same moment: races inside the
    // window before either hears of the other, which the hub's conflicts must
    // catch. 201-300 (S2, then S1), 401-500 (S3, then S2) and 1-100 (S1, then S3)
    // minutes apart in a real day, seconds here: the feed makes them duplicates at
    // the later station.
    let lists: Vec<Vec<usize>> = vec![
        (1..=300).collect(),
        (1..=40).chain(201..=500).collect(),
        (401..=600).chain(1..=100).collect(),
    ];
    for round in 0..ROUNDS {
        std::thread::scope(|scope| {
            for (s, list) in stations.iter().zip(&lists) {
                let chunk = list.len().div_ceil(ROUNDS);
                let codes: String = list
                    .iter()
                    .skip(round * chunk)
                    .take(chunk)
                    .map(|i| format!("B{i:05}\n"))
                    .collect();
                scope.spawn(move || {
                    let (r, _) = s.scan("ana", "314159", &codes);
                    assert_eq!(r.code, 0, "{}", r.stderr);
                });
            }
            if round == KILL_HUB_AFTER {
                // SIGKILL while the stations' batches are arriving.
                std::thread::sleep(Duration::from_millis(400));
                hub.kill();
                std::thread::sleep(Duration::from_millis(700));
            }
            if round == RESTART_DATABASE_AFTER {
                std::thread::sleep(Duration::from_millis(300));
                pg.pg_ctl("restart");
            }
        });
        if round == KILL_HUB_AFTER {
            hub = Hub::start_on(&db, &listen, &hub_args);
        }
        // A pause between trays: the stations send a batch or two each meanwhile.
        std::thread::sleep(Duration::from_millis(300));
    }

    // Everything settles: each station's outbox acknowledged, the hub's relay empty.
    let expected_backend = (1..=BALLOTS).filter(|i| !confidential(*i)).count();
    let until = Instant::now() + Duration::from_secs(240);
    loop {
        let settled = stations.iter().all(|s| {
            let st = s.status();
            st["sync"]["pending"] == 0 && st["sync"]["in_flight"] == 0 && st["sync"]["held"] == 0
        }) && rx.stored.lock().unwrap().events.len() >= expected_backend;
        if settled {
            break;
        }
        assert!(
            Instant::now() < until,
            "not settled: {:?}\n{}",
            stations
                .iter()
                .map(|s| s.status()["sync"].clone())
                .collect::<Vec<_>>(),
            hub.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for c in &mut syncs {
        let _ = c.kill();
        let _ = c.wait();
    }

    // One receipt per ballot, county-wide.
    assert_eq!(
        pg.psql("SELECT count(*) FROM receipts"),
        BALLOTS.to_string()
    );
    // The dashboard's hourly counts (kept by the hub's tally through the kill and the
    // restart) add up to the receipts, each counted once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while pg.psql("SELECT coalesce(sum(receipts), 0) FROM receipt_hours") != BALLOTS.to_string()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        pg.psql("SELECT coalesce(sum(receipts), 0) FROM receipt_hours"),
        BALLOTS.to_string()
    );
    let receipts: HashMap<String, String> = pg
        .psql("SELECT ballot_id || ' ' || event_id FROM receipts")
        .lines()
        .map(|l| {
            let (b, e) = l.split_once(' ').unwrap();
            (b.to_string(), e.to_string())
        })
        .collect();
    // Each accepted envelope is the county's receipt, or a conflict its station holds.
    let mut conflicts = 0;
    for (s, id) in stations.iter().zip(ids) {
        let held = held_conflicts(s, id);
        for (ballot, event) in accepted(s, id) {
            if receipts[&ballot] != event {
                assert!(
                    held.contains(&event),
                    "{id} was not told that {event} ({ballot}) lost"
                );
                conflicts += 1;
            }
        }
        assert_eq!(s.ok(&["verify"]).code, 0);
    }
    assert!(conflicts > 0, "the trays overlapped: some races were lost");
    let local_duplicates: i64 = stations
        .iter()
        .map(|s| s.status()["outcomes"]["duplicate"].as_i64().unwrap())
        .sum();
    assert_eq!(
        pg.psql("SELECT count(*) FROM conflicts"),
        conflicts.to_string()
    );

    // The backend: each receipt once, no conflict, no confidential voter.
    let stored = rx.stored.lock().unwrap();
    assert_eq!(stored.bad_requests, 0);
    let relayed: HashSet<&String> = stored.events.keys().collect();
    let want: HashSet<&String> = receipts
        .iter()
        .filter(|(b, _)| !confidential(b[1..].parse().unwrap()))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(relayed, want);
    let injected: usize = stored.faults.values().sum();
    drop(stored);
    let status = manage(&db, &["status", "--json"], "");
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["relay"]["waiting"], 0);
    assert_eq!(status["relay"]["in_flight"], 0);
    assert_eq!(status["relay"]["held"], 0);
    eprintln!(
        "{BALLOTS} ballots, {conflicts} conflicts, {local_duplicates} duplicates decided at the station from the feed; station link: {} requests, {} dropped before the hub, {} answers dropped; backend faults {injected}",
        proxy
            .counts
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        proxy
            .counts
            .dropped_before
            .load(std::sync::atomic::Ordering::Relaxed),
        proxy
            .counts
            .dropped_answers
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(
        proxy
            .counts
            .dropped_answers
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(injected > 0);
}
