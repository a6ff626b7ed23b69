//! The sync through the real binary against the real loopback receiver
//! (tests/common/receiver.rs), with faults injected.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use common::receiver::{Behaviour, Receiver};
use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

const TOKEN: &str = "test-token-0123456789";

/// A station with `n` ballots (every 200th voter confidential), all scanned.
fn scanned(n: usize) -> (Station, HashSet<String>) {
    let s = Station::upcoming();
    let path = s.dir.path().join("ballots.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
    let mut confidential = HashSet::new();
    let mut codes = String::new();
    for i in 0..n {
        let c = i % 200 == 7;
        if c {
            confidential.insert(format!("V{i:06}"));
        }
        writeln!(
            f,
            "2026-GEN,S{i:06},V{i:06},Last,First,80202,101,S1,ACTIVE,{}",
            if c { "Y" } else { "N" }
        )
        .unwrap();
        codes.push_str(&format!("S{i:06}\n"));
    }
    drop(f);
    s.ok(&["import", path.to_str().unwrap()]);
    let r = s.run_with(
        &["scan", "--user", "ana"],
        codes.as_bytes(),
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    (s, confidential)
}

/// Asks a running `sync --watch` to stop, as systemd does.
fn sigterm(child: &std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -TERM failed");
}

fn token_file(s: &Station) -> String {
    let p = s.dir.path().join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.display().to_string()
}

fn setup(s: &Station, url: &str) {
    setup_with(s, url, &["--timeout-secs", "1", "--retry-base-ms", "20"]);
}

/// `sync setup` to `url` with the test's token file and `options`.
fn setup_with(s: &Station, url: &str, options: &[&str]) {
    let t = token_file(s);
    let mut args = vec!["sync", "setup", "--url", url, "--token-file", &t];
    args.extend_from_slice(options);
    s.ok(&args);
}

#[test]
fn every_event_exactly_once_through_30_percent_faults() {
    let (s, confidential) = scanned(10_050);
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            fault_percent: 30,
            seed: 2026,
            ..Behaviour::default()
        },
    );
    setup(&s, &rx.url);
    let r = s.run(&["sync", "--max-wait", "600"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let stored = rx.stored.lock().unwrap();
    let faults: usize = stored.faults.values().sum();
    assert!(faults >= 4, "faults were injected: {:?}", stored.faults);
    assert_eq!(stored.bad_requests, 0);
    // 10,050 receipts less the 51 confidential voters' = 9,999 events, each once.
    assert_eq!(stored.events.len(), 10_050 - confidential.len());
    for (id, e) in &stored.events {
        assert!(id.starts_with("S1-"), "{id}");
        assert_eq!(e["type"], "received");
        assert!(
            !confidential.contains(e["voter_id"].as_str().unwrap()),
            "a confidential voter's event left the station: {e}"
        );
        assert!(e["occurred_at"].as_str().unwrap().ends_with('Z'));
    }
    assert!(stored.batches.len() >= 20, "batches of at most 500");
    drop(stored);
    let status = s.status();
    assert_eq!(status["outbox_pending"], 0);
    assert_eq!(
        status["sync"]["acknowledged"],
        10_050 - confidential.len() as i64
    );
    assert_eq!(status["sync"]["held"], 0);
    assert!(status["sync"]["last_success"].is_string());
    assert_eq!(s.ok(&["verify"]).code, 0);
}

#[test]
fn killed_between_send_and_ack_resends_the_same_batch() {
    let (s, _) = scanned(300);
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            delay_after_store: Duration::from_secs(3),
            ..Behaviour::default()
        },
    );
    let t = token_file(&s);
    // A long request timeout, so the station is still waiting when it is killed.
    s.ok(&[
        "sync",
        "setup",
        "--url",
        &rx.url,
        "--token-file",
        &t,
        "--timeout-secs",
        "30",
    ]);
    let mut child = s.command(&["sync"]).spawn().unwrap();
    let started = Instant::now();
    while rx.stored.lock().unwrap().batches.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the batch never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL while the receiver holds back its answer
    child.wait().unwrap();
    let first: Vec<String> = rx.stored.lock().unwrap().batches.keys().cloned().collect();
    assert_eq!(
        s.status()["sync"]["acknowledged"],
        0,
        "the ack was never recorded"
    );
    rx.behaviour.lock().unwrap().delay_after_store = Duration::ZERO;
    let r = s.run(&["sync", "--max-wait", "60"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stored = rx.stored.lock().unwrap();
    assert_eq!(
        stored.batches.get(&first[0]),
        Some(&2),
        "the same batch id was sent again"
    );
    // 300 receipts less 2 confidential voters' (lines 7 and 207).
    assert_eq!(stored.events.len(), 298, "nothing duplicated, nothing lost");
    assert_eq!(stored.duplicate_events, 298);
    assert!(
        r.stderr.contains("0 new, 298 already there"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_refused_batch_is_held_until_a_supervisor_releases_it() {
    let (s, _) = scanned(20);
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            refuse_with: Some(422),
            ..Behaviour::default()
        },
    );
    setup(&s, &rx.url);
    let r = s.run(&["sync", "--max-wait", "30"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("held") && r.stderr.contains("HTTP 422"),
        "{}",
        r.stderr
    );
    let status = s.status();
    // 20 receipts less the confidential voter's (line 7).
    assert_eq!(status["sync"]["held"], 19);
    assert!(
        status["sync"]["last_error"]
            .as_str()
            .unwrap()
            .contains("422")
    );
    let batch = s
        .sqlite()
        .query_row(
            "SELECT batch_id FROM sync_batches WHERE state = 'held'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    let clerk = s.run_with(
        &["sync", "retry", &batch, "--user", "ana"],
        b"",
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(clerk.code, 1);
    assert!(clerk.stderr.contains("may not release"), "{}", clerk.stderr);
    rx.behaviour.lock().unwrap().refuse_with = None;
    let sup = s.run_with(
        &["sync", "retry", &batch, "--user", "sam"],
        b"",
        &[("BALLOT_INTAKE_PIN", "161803")],
    );
    assert_eq!(sup.code, 0, "{}", sup.stderr);
    assert_eq!(s.run(&["sync", "--max-wait", "30"]).code, 0);
    assert_eq!(rx.stored.lock().unwrap().events.len(), 19);
    assert_eq!(
        rx.stored.lock().unwrap().batches.get(&batch),
        Some(&1),
        "released under its own id"
    );
}

#[test]
fn an_unreachable_backend_leaves_everything_pending() {
    let (s, _) = scanned(5);
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    setup(&s, &format!("http://127.0.0.1:{port}"));
    let r = s.run(&["sync", "--max-wait", "2"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("5 event(s) not yet acknowledged"),
        "{}",
        r.stderr
    );
    assert_eq!(s.status()["outbox_pending"], 5);
}

#[test]
fn setup_refuses_clear_text_to_a_network_and_a_readable_token() {
    let s = Station::upcoming();
    let t = token_file(&s);
    let r = s.run(&[
        "sync",
        "setup",
        "--url",
        "http://10.1.2.3/api",
        "--token-file",
        &t,
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("only to a loopback address"),
        "{}",
        r.stderr
    );
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = s.run(&[
        "sync",
        "setup",
        "--url",
        "https://backend.example.net",
        "--token-file",
        &t,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    assert_eq!(
        s.run(&["sync", "setup"]).code,
        2,
        "a transport must be named"
    );
}

#[test]
fn the_default_transport_writes_batch_files_to_a_folder() {
    let (s, _) = scanned(30);
    let r = s.run(&["sync"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = s.dir.path().join("outgoing");
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let batch: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(batch["station_id"], "S1");
    assert_eq!(batch["county"], "Denver");
    assert_eq!(batch["election_id"], "2026-GEN");
    assert_eq!(
        batch["events"].as_array().unwrap().len(),
        29,
        "the confidential voter's is not there"
    );
    assert!(
        files[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(&format!("_S1_{}.json", batch["batch_id"].as_str().unwrap()))
    );
    // Everything is acknowledged; a second sync has nothing to do.
    assert_eq!(s.status()["outbox_pending"], 0);
    assert_eq!(s.run(&["sync"]).code, 0);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn watch_sends_new_receipts_within_the_batch_age_and_stops_on_sigterm() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let rx = Receiver::start(TOKEN, Behaviour::default());
    let t = token_file(&s);
    s.ok(&[
        "sync",
        "setup",
        "--url",
        &rx.url,
        "--token-file",
        &t,
        "--max-batch-age-secs",
        "1",
    ]);
    let mut watcher = s.command(&["sync", "--watch"]).spawn().unwrap();
    // Scanning goes on while the sync runs: it never waits for the network.
    let (r, results) = s.scan("ana", "314159", "B0001\nB0002\n");
    assert_eq!(r.code, 0);
    assert!(results.iter().all(|v| v["outcome"] == "accepted"));
    let started = Instant::now();
    while rx.stored.lock().unwrap().events.len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "receipts did not arrive"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "sent within the 1 s batch age (took {waited:?})"
    );
    sigterm(&watcher);
    assert!(watcher.wait().unwrap().success());
    assert_eq!(s.status()["sync"]["acknowledged"], 2);
}

#[test]
fn a_ca_file_that_is_not_pem_is_refused_at_setup() {
    let s = Station::upcoming();
    let t = token_file(&s);
    let ca = s.dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let r = s.run(&[
        "sync",
        "setup",
        "--url",
        "https://backend.example.net",
        "--token-file",
        &t,
        "--ca-file",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("holds no PEM certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn batches_never_mix_elections() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let later = (chrono::Utc::now().date_naive() + chrono::Days::new(60)).to_string();
    s.ok(&[
        "election",
        "add",
        "--election",
        "PRIMARY-2026",
        "--election-name",
        "P",
        "--election-date",
        &later,
        "--activate",
    ]);
    assert_eq!(s.import("mail-ballots/primary.csv").code, 0);
    // Receipts of the two elections interleaved in the outbox.
    // Each tray is closed before the active election changes, as the
    // ledger requires.
    s.scan("ana", "314159", "P0001\n");
    s.close_tray(("ana", "314159"), ("ben", "271828"), 1);
    s.ok(&["election", "activate", "2026-GEN"]);
    s.scan("ben", "271828", "B0001\nB0002\n");
    s.close_tray(("ben", "271828"), ("ana", "314159"), 2);
    s.ok(&["election", "activate", "PRIMARY-2026"]);
    s.scan("ana", "314159", "P0002\n");
    let r = s.run(&["sync"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = s.dir.path().join("outgoing");
    let mut seen = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let b: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for e in b["events"].as_array().unwrap() {
            seen.push(format!(
                "{}:{}",
                b["election_id"].as_str().unwrap(),
                e["ballot_id"].as_str().unwrap()
            ));
        }
    }
    assert_eq!(
        seen,
        [
            "PRIMARY-2026:P0001",
            "2026-GEN:B0001",
            "2026-GEN:B0002",
            "PRIMARY-2026:P0002"
        ]
    );
    assert_eq!(s.status()["outbox_pending"], 0);
}

/// Sets the sync up with a request timeout of `timeout_secs`, batches formed after 1 s.
fn setup_with_timeout(s: &Station, url: &str, timeout_secs: &str) {
    setup_with(
        s,
        url,
        &["--timeout-secs", timeout_secs, "--max-batch-age-secs", "1"],
    );
}

/// A backend that takes the connection and never answers: `--max-wait 2` is a
/// deadline for the whole command, requests included, however long the request
/// timeout (it ran 183.7 s with `--max-wait 5`).
#[test]
fn max_wait_is_a_deadline_for_the_whole_command() {
    let (s, _) = scanned(5);
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            never_answer: true,
            ..Behaviour::default()
        },
    );
    setup_with_timeout(&s, &rx.url, "120");
    let started = Instant::now();
    let r = s.run(&["sync", "--max-wait", "2"]);
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("5 event(s) not yet acknowledged"),
        "{}",
        r.stderr
    );
    assert!(
        took < Duration::from_secs(20),
        "ran {took:?} past a 2 s deadline"
    );
    assert_eq!(s.status()["outbox_pending"], 5);
}

/// SIGTERM to `sync --watch` with a request hanging: it stops at once, says what is
/// still unacknowledged and exits non-zero (it waited out the request, said
/// "nothing pending" and exited 0).
#[test]
fn sigterm_with_a_request_hanging_stops_promptly_and_says_what_is_pending() {
    let (s, _) = scanned(5);
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            never_answer: true,
            ..Behaviour::default()
        },
    );
    setup_with_timeout(&s, &rx.url, "120");
    let watcher = s
        .command(&["sync", "--watch"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while rx.stored.lock().unwrap().requests == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no request came"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    sigterm(&watcher);
    let out = watcher.wait_with_output().unwrap();
    let took = sent.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("stopped with 5 event(s) not yet acknowledged"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?} to stop");
}

/// A redirect from the backend is never followed (a 301 to another host turned the
/// POST into a GET there): the batch is held, naming the redirect, and the other
/// host hears nothing.
#[test]
fn a_redirect_is_never_followed() {
    let (s, _) = scanned(3);
    let elsewhere = Receiver::start(TOKEN, Behaviour::default());
    let rx = Receiver::start(
        TOKEN,
        Behaviour {
            redirect_to: Some(format!("{}/v1/batches", elsewhere.url)),
            ..Behaviour::default()
        },
    );
    setup(&s, &rx.url);
    let r = s.run(&["sync", "--max-wait", "10"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("HTTP 301") && r.stderr.contains("redirects are never followed"),
        "{}",
        r.stderr
    );
    assert_eq!(elsewhere.stored.lock().unwrap().requests, 0);
}

/// A token with a line break in it would add headers of its own: refused at setup.
#[test]
fn a_token_with_a_line_break_is_refused_at_setup() {
    let s = Station::upcoming();
    let p = s.dir.path().join("token");
    std::fs::write(&p, "abc\r\nX-Injected: 1\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = s.run(&[
        "sync",
        "setup",
        "--url",
        "http://127.0.0.1:9/",
        "--token-file",
        p.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("holds more than one line"),
        "{}",
        r.stderr
    );
}

/// `sync` under libfiu's failing reads, writes and fsyncs, run 30 times: no run panics (a failed write to stderr did) or marks
/// acknowledged a batch the receiver does not have, and a last run without faults
/// leaves every event sent, each stored once, with nothing pending and the chain
/// intact.
#[test]
fn sync_under_failing_writes_acknowledges_only_what_was_received() {
    assert!(common::have("fiu-run"), "fiu-run is missing");
    // The faults are random: a first sync can, rarely, get through untouched, and
    // then this run proves nothing about faults. Such a run is started over with a
    // fresh station (the checks below still held for it), at most three times.
    for attempt in 1..=3 {
        if faulted_sync_holds() {
            return;
        }
        eprintln!("attempt {attempt}: the first sync met no fault; starting over");
    }
    panic!("no fault was ever injected in three stations' syncs");
}

/// One station's syncs under faults until one gets through, then a clean one;
/// returns whether any fault stopped a sync (and panics if anything did not hold).
fn faulted_sync_holds() -> bool {
    let (s, confidential) = scanned(2_000);
    let rx = Receiver::start(TOKEN, Behaviour::default());
    setup(&s, &rx.url);
    let expected = 2_000 - confidential.len();
    let (mut failed, mut most) = (0, 0);
    for _ in 0..30 {
        // Fewer failing reads and writes than elsewhere: at 2% SQLite's own reads
        // fail before any batch leaves.
        let r = s.under(
            &[
                "-x",
                "-c",
                "enable_random name=posix/io/rw/*,probability=0.005",
                "-c",
                "enable_random name=posix/io/sync/*,probability=0.05",
            ],
            &["sync", "--max-wait", "60"],
        );
        // Whatever the ledger holds as acknowledged, the receiver has.
        let acked: i64 = s
            .sqlite()
            .query_row(
                "SELECT count(*) FROM outbox WHERE acked_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let stored = rx.stored.lock().unwrap().events.len();
        assert!(
            acked as usize <= stored,
            "{acked} acknowledged, {stored} received"
        );
        most = most.max(acked);
        assert_ne!(r.code, 101, "a panic: {}", r.stderr);
        if r.code == 0 {
            break;
        }
        failed += 1;
    }
    let r = s.run(&["sync", "--max-wait", "120"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(rx.stored.lock().unwrap().events.len(), expected);
    let status = s.status();
    assert_eq!(status["outbox_pending"], 0);
    assert_eq!(status["sync"]["acknowledged"], expected as i64);
    assert_eq!(s.ok(&["verify"]).code, 0);
    if failed == 0 {
        return false;
    }
    assert!(most > 0, "no sync under faults got anything through");
    eprintln!("{failed} syncs stopped by an injected fault; {most} acknowledged under faults");
    true
}

#[test]
fn sync_test_tries_the_destination_without_sending_an_event() {
    let s = Station::upcoming();
    // The default: batch files into the station's outgoing folder.
    let r = s.run(&["sync", "test"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("is writable"), "{}", r.stdout);
    assert!(r.stdout.contains("outgoing"), "{}", r.stdout);

    let rx = Receiver::start(TOKEN, Behaviour::default());
    setup(&s, &rx.url);
    let r = s.run(&["sync", "test"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("{} answered", rx.url)),
        "{}",
        r.stdout
    );
    let stored = rx.stored.lock().unwrap();
    assert_eq!((stored.events.len(), stored.batches.len()), (0, 0));
    drop(stored);

    // A backend that knows another token says so, naming the token file.
    let other = Receiver::start("another-token-9876543210", Behaviour::default());
    setup(&s, &other.url);
    let r = s.run(&["sync", "test"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("refused the token"), "{}", r.stderr);
    assert!(r.stderr.contains(&token_file(&s)), "{}", r.stderr);

    // Nothing listening on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    setup(&s, &url);
    let r = s.run(&["sync", "test"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
}

#[test]
fn watch_follows_a_change_of_destination_without_a_restart() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let first = s.dir.path().join("first");
    let second = s.dir.path().join("second");
    s.ok(&[
        "sync",
        "setup",
        "--directory",
        first.to_str().unwrap(),
        "--max-batch-age-secs",
        "1",
    ]);
    let mut watcher = s.command(&["sync", "--watch"]).spawn().unwrap();
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).map_or(0, Iterator::count);
    let wait_for = |dir: &std::path::Path, what: &str| {
        let started = Instant::now();
        while files(dir) == 0 {
            assert!(started.elapsed() < Duration::from_secs(20), "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    s.scan("ana", "314159", "B0001\n");
    wait_for(&first, "the first receipt never reached the first folder");
    // The administrator points the sync elsewhere; the running service follows.
    s.ok(&[
        "sync",
        "setup",
        "--directory",
        second.to_str().unwrap(),
        "--max-batch-age-secs",
        "1",
    ]);
    s.scan("ana", "314159", "B0002\n");
    wait_for(
        &second,
        "the running sync did not follow the new destination",
    );
    assert_eq!(
        files(&first),
        1,
        "the second receipt went to the old folder"
    );
    sigterm(&watcher);
    assert!(watcher.wait().unwrap().success());
    assert_eq!(s.status()["sync"]["acknowledged"], 2);
}
