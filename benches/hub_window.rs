//! The window in which two stations can both accept one envelope: from a scan's
//! commit at station 1 until station 2's own ledger holds that receipt (so that a
//! scan there is answered `duplicate` with no network wait). The real binary: two
//! stations, each with `sync --watch` running, through the real hub on a throwaway
//! PostgreSQL cluster, all on loopback. Scans come at random moments against the
//! stations' batch (1 s) and feed (2 s) timers.
//!
//! Run: `cargo bench --bench hub_window` (BENCH_SCANS, default 30). Target: under 5 s.
#![allow(clippy::unwrap_used, clippy::pedantic)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::Station;
use common::hub::{Hub, add_station, watch_sync};
use common::pg::Cluster;
use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let scans: usize = std::env::var("BENCH_SCANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let pg = Cluster::start();
    let db = pg.url();
    let hub = Hub::start(&db, &[]);
    let stations: Vec<Station> = ["S1", "S2"]
        .iter()
        .map(|id| {
            let token = add_station(&db, id, pg.dir.path());
            let s = Station::upcoming_as(id);
            let path = s.dir.path().join("ballots.csv");
            let mut f = std::fs::File::create(&path).unwrap();
            writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
            for i in 1..=scans {
                writeln!(f, "2026-GEN,W{i:05},V{i:05},Begay,Lena,80202,101,S1,ACTIVE,N").unwrap();
            }
            drop(f);
            s.ok(&["import", path.to_str().unwrap()]);
            s.ok(&["sync", "setup", "--hub", "--url", &hub.url, "--token-file", &token]);
            s
        })
        .collect();
    let mut syncs: Vec<std::process::Child> = stations.iter().map(watch_sync).collect();
    let second = stations[1].sqlite();
    let mut windows = Vec::with_capacity(scans);
    let mut seed = 0x2026_1103u64;
    for i in 1..=scans {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 1500));
        let ballot = format!("W{i:05}");
        let (r, results) = stations[0].scan("ana", "314159", &format!("{ballot}\n"));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(results[0]["outcome"], "accepted");
        let committed = Instant::now();
        loop {
            let known: bool = second
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM county_receipts WHERE ballot_id = ?1)",
                    [&ballot],
                    |r| r.get(0),
                )
                .unwrap();
            if known {
                break;
            }
            assert!(
                committed.elapsed() < Duration::from_secs(60),
                "{ballot} never reached S2"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        windows.push(committed.elapsed());
    }
    for c in &mut syncs {
        let _ = c.kill();
        let _ = c.wait();
    }
    let mut ms: Vec<f64> = windows.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let max = ms[ms.len() - 1];
    println!(
        "{scans} envelopes accepted at station 1: known at station 2 after p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms (target under 5 s: {})",
        support::percentile(&ms, 50.0),
        support::percentile(&ms, 90.0),
        max,
        if max < 5000.0 { "MET" } else { "NOT MET" }
    );
}
