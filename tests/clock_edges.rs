//! The deadlines on the real clock, through the real binary under libfaketime
//! (`faketime`, Debian's package; `scripts/test` installs it): a return envelope
//! scanned at 18:59:59.999 on election day is on time and at 19:00:00.000 late; a
//! military or overseas (UOCAVA) one is on time until 17:00 on the eighth day after;
//! and 19:00 is the county's local 19:00 on the days daylight saving time starts
//! and ends. The faked clock is frozen at the instant given.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::io::Write;
use std::process::Stdio;

/// A station in Denver whose election is on `date`, with two regular ballots (R1,
/// R2) and two UOCAVA ones (U1, U2).
fn station(date: &str) -> Station {
    let s = Station::with_election_on(date);
    let file = s.dir.path().join("ballots.csv");
    std::fs::write(
        &file,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential,uocava\n\
         2026-GEN,R1,V1,Lee,Kim,80202,101,S1,ACTIVE,N,N\n\
         2026-GEN,R2,V2,Lee,Jo,80202,101,S1,ACTIVE,N,N\n\
         2026-GEN,U1,V3,Ito,Kay,80202,101,S1,ACTIVE,N,Y\n\
         2026-GEN,U2,V4,Ito,Ray,80202,101,S1,ACTIVE,N,Y\n",
    )
    .unwrap();
    s.ok(&["import", file.to_str().unwrap()]);
    s
}

/// The outcome of scanning `code` with the clock frozen at `utc` (`YYYY-MM-DD
/// HH:MM:SS.mmm`, UTC).
fn scan_at(s: &Station, utc: &str, code: &str) -> String {
    assert!(
        common::have("faketime"),
        "faketime is missing: apt-get install -y faketime (scripts/test does this)"
    );
    let mut child = s
        .wrapped(
            &["faketime", "-f", utc],
            &["scan", "--user", "ana", "--json"],
        )
        .env("TZ", "UTC")
        .env("BALLOT_INTAKE_PIN", "314159")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(
        v["at"].as_str().unwrap()[..19],
        utc[..19].replace(' ', "T"),
        "{v}"
    );
    v["outcome"].as_str().unwrap().to_string()
}

#[test]
fn election_day_ends_at_19_00_local_to_the_millisecond() {
    // 3 November 2026: Mountain Standard Time (UTC-7), so 19:00 is 02:00 UTC.
    let s = station("2026-11-03");
    assert_eq!(scan_at(&s, "2026-11-04 01:59:59.999", "R1"), "accepted");
    assert_eq!(scan_at(&s, "2026-11-04 02:00:00.000", "R2"), "late");
}

#[test]
fn a_uocava_ballot_is_on_time_until_17_00_on_the_eighth_day() {
    // 11 November 2026, 17:00 MST = 12 November, 00:00 UTC.
    let s = station("2026-11-03");
    assert_eq!(scan_at(&s, "2026-11-11 23:59:59.999", "U1"), "accepted");
    assert_eq!(scan_at(&s, "2026-11-12 00:00:00.000", "U2"), "late");
    // A regular ballot that day is long late.
    assert_eq!(scan_at(&s, "2026-11-11 23:59:59.999", "R1"), "late");
}

#[test]
fn nineteen_hundred_is_local_on_the_days_daylight_saving_ends_and_starts() {
    // 1 November 2026, daylight saving ends at 02:00: by 19:00 it is MST (UTC-7).
    let s = station("2026-11-01");
    assert_eq!(scan_at(&s, "2026-11-02 01:59:59.999", "R1"), "accepted");
    assert_eq!(scan_at(&s, "2026-11-02 02:00:00.000", "R2"), "late");
    // 8 March 2026, daylight saving starts at 02:00: by 19:00 it is MDT (UTC-6).
    let s = station("2026-03-08");
    assert_eq!(scan_at(&s, "2026-03-09 00:59:59.999", "R1"), "accepted");
    assert_eq!(scan_at(&s, "2026-03-09 01:00:00.000", "R2"), "late");
}
