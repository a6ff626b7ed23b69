//! kill -9 the `scan` process (and `listen`, reading a serial scanner on a pty) at
//! random moments while it reads a stream: every barcode whose result line was
//! printed is in the ledger, no envelope is received twice, and SQLite's integrity
//! check and the audit chain are intact.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), seeded from the clock and printed
/// so that a failure can be replayed with CRASH_SEED.
struct Rng(u64);

impl Rng {
    /// Seeded from CRASH_SEED, else from the clock (printed).
    fn seeded() -> Rng {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("CRASH_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Collects the whole lines a process prints (a line cut short by a kill was not
/// printed).
fn whole_lines(stdout: std::process::ChildStdout) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut out = BufReader::new(stdout);
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if line.ends_with('\n') {
                lines.push(line.clone());
            }
            line.clear();
        }
        lines
    })
}

/// Ballots in the stream: 20,000, or `CRASH_BALLOTS` (the kill -9 benchmark,
/// `scripts/kill9-cycles`, runs a long stream to reach its 1,000 kills).
fn ballots() -> usize {
    std::env::var("CRASH_BALLOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

fn ballot_file(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("ballots.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
    for i in 0..n {
        writeln!(
            f,
            "2026-GEN,C{i:06},V{i:06},Last{i},First,80202,101,S1,ACTIVE,N"
        )
        .unwrap();
    }
    f.flush().unwrap();
    path
}

#[test]
fn kill_9_at_random_moments_loses_nothing_printed() {
    let mut rng = Rng::seeded();
    let s = Station::upcoming();
    let n = ballots();
    let file = ballot_file(s.dir.path(), n);
    s.ok(&["import", file.to_str().unwrap()]);
    // CRASH_KILLS=N: stop once the scanner was killed N times (the benchmark).
    let kill_target: Option<usize> = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok());
    let started = Instant::now();

    // The stream: every ballot once, with a duplicate or an unknown code now and then.
    let mut stream: Vec<String> = Vec::new();
    for i in 0..n {
        stream.push(format!("C{i:06}"));
        match rng.below(20) {
            0 => stream.push(format!("C{:06}", rng.below(i as u64 + 1))),
            1 => stream.push(format!("X{}", rng.next() % 1_000_000)),
            _ => {}
        }
    }

    let mut printed: Vec<serde_json::Value> = Vec::new();
    let mut next = 0;
    let mut kills = 0;
    let mut stalled = 0;
    while next < stream.len() && kill_target.is_none_or(|t| kills < t) {
        let mut child = s
            .command(&["scan", "--user", "ana", "--json"])
            .env("BALLOT_INTAKE_PIN", "314159")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // Feed from where the last printed result left off (codes sent but not
        // answered before the kill are sent again, as a clerk would rescan them).
        let feed: Vec<String> = stream[next..].to_vec();
        let writer = std::thread::spawn(move || {
            for code in feed {
                if writeln!(stdin, "{code}").is_err() {
                    break;
                }
            }
        });
        let reader = whole_lines(stdout);
        let wait = Duration::from_millis(20 + rng.below(200));
        let started = Instant::now();
        let mut finished = false;
        while started.elapsed() < wait {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !finished {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        let _ = writer.join();
        for l in &lines {
            printed.push(serde_json::from_str(l).unwrap());
        }
        next += lines.len();
        // A liveness guard, not a speed test: a shared machine may let a scanner
        // record only a few codes between kills, but runs of none mean it is stuck.
        stalled = if lines.is_empty() { stalled + 1 } else { 0 };
        assert!(stalled < 50, "no progress in 50 runs in a row");
    }
    assert!(
        kills >= 3,
        "the test should have killed the scanner a few times (killed {kills})"
    );

    check_after_kills(&s, &printed);
    let conn = s.sqlite();
    let accepted: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE outcome = 'accepted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    eprintln!(
        "{kills} kill -9s, {} results printed, {} codes sent, in {:.1} s",
        printed.len(),
        next,
        started.elapsed().as_secs_f64()
    );
    if kill_target.is_none() {
        assert_eq!(accepted, n as i64);
    }
    eprintln!(
        "{kills} kills, {} printed results, all in the ledger",
        printed.len()
    );
}

/// Two scanning processes on one ledger, fed the same envelopes in opposite orders:
/// each ballot is accepted exactly once, the other scan of it is a duplicate.
#[test]
fn two_processes_never_both_accept_one_envelope() {
    let s = Station::upcoming();
    let file = ballot_file(s.dir.path(), 2000);
    s.ok(&["import", file.to_str().unwrap()]);
    let codes: Vec<String> = (0..2000).map(|i| format!("C{i:06}")).collect();
    let forward = codes.join("\n") + "\n";
    let backward = codes.iter().rev().cloned().collect::<Vec<_>>().join("\n") + "\n";
    let run = |user: &'static str, pin: &'static str, input: String| {
        let mut child = s
            .command(&["scan", "--user", user, "--json"])
            .env("BALLOT_INTAKE_PIN", pin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
        (child, writer)
    };
    let (a, wa) = run("ana", "314159", forward);
    let (b, wb) = run("ben", "271828", backward);
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    wa.join().unwrap();
    wb.join().unwrap();
    assert!(
        oa.status.success() && ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    let mut accepted = std::collections::HashMap::new();
    for out in [&oa.stdout, &ob.stdout] {
        for line in String::from_utf8_lossy(out).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let outcome = v["outcome"].as_str().unwrap().to_string();
            assert!(outcome == "accepted" || outcome == "duplicate", "{v}");
            if outcome == "accepted" {
                *accepted
                    .entry(v["barcode"].as_str().unwrap().to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    assert_eq!(accepted.len(), codes.len());
    assert!(accepted.values().all(|&n| n == 1));
    assert_eq!(s.status()["outcomes"]["accepted"], 2000);
    assert_eq!(s.status()["outcomes"]["duplicate"], 2000);
}

/// kill -9 `listen` at random moments while a serial scanner (a real pty) sends
/// codes: every result it printed is in the ledger as printed, no envelope is
/// received twice, and the integrity check and the chain hold. A code the scanner
/// sent that got no printed result is sent again in a later run, as a clerk rescans
/// an envelope the station did not answer.
#[test]
fn kill_9_of_listen_loses_nothing_printed() {
    use std::collections::{HashSet, VecDeque};
    let mut rng = Rng::seeded();
    let s = Station::upcoming();
    // CRASH_KILLS=N (the kill -9 benchmark): a long stream, until N kills.
    let kill_target: Option<usize> = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok());
    let n = if kill_target.is_some() {
        ballots()
    } else {
        4_000
    };
    let started = Instant::now();
    let file = ballot_file(s.dir.path(), n);
    s.ok(&["import", file.to_str().unwrap()]);
    let link = s.dir.path().join("scanner-a");
    let mut scanner = common::pty_at(&link);
    let spec = format!("serial:{}@9600", link.display());

    let mut waiting: VecDeque<String> = (0..n).map(|i| format!("C{i:06}")).collect();
    let mut answered: HashSet<String> = HashSet::new();
    let mut printed: Vec<serde_json::Value> = Vec::new();
    let mut kills = 0;
    let mut runs = 0;
    while kill_target.map_or(runs < 40, |target| kills < target) {
        runs += 1;
        let mut child = s.listening(&spec);
        let stdout = child.stdout.take().unwrap();
        let reader = whole_lines(stdout);
        // Codes go to the scanner once the station has the port open.
        let mut events = BufReader::new(child.stderr.take().unwrap());
        let mut event = String::new();
        while events.read_line(&mut event).unwrap_or(0) > 0 && !event.contains("\"connected\"") {
            event.clear();
        }
        let errors = std::thread::spawn(move || {
            std::io::copy(&mut events, &mut std::io::sink()).ok();
        });
        let wait = Duration::from_millis(20 + rng.below(200));
        let started = Instant::now();
        let mut sent: Vec<String> = Vec::new();
        while started.elapsed() < wait && !waiting.is_empty() {
            let chunk: Vec<String> = (0..2).filter_map(|_| waiting.pop_front()).collect();
            let bytes: String = chunk.iter().map(|c| format!("{c}\r")).collect();
            if scanner.write_all(bytes.as_bytes()).is_err() {
                // A full buffer: not sent, sent again later.
                waiting.extend(chunk);
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            sent.extend(chunk);
            std::thread::sleep(Duration::from_millis(1));
        }
        if waiting.is_empty() {
            // The last run: let it answer what it was sent, then stop it cleanly.
            std::thread::sleep(Duration::from_millis(500));
            sigterm(child.id());
        } else {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        let _ = errors.join();
        for l in &lines {
            let p: serde_json::Value = serde_json::from_str(l).unwrap();
            answered.insert(p["barcode"].as_str().unwrap().to_string());
            printed.push(p);
        }
        // What was sent and not answered is scanned again.
        waiting.extend(sent.into_iter().filter(|c| !answered.contains(c)));
        if waiting.is_empty() {
            break;
        }
    }
    assert!(kills >= 10, "killed only {kills} times");
    assert!(!printed.is_empty(), "nothing was ever recorded");
    check_after_kills(&s, &printed);
    eprintln!(
        "listen: {kills} kill -9s, {} results printed, {} of {n} ballots answered, in {:.1} s",
        printed.len(),
        answered.len(),
        started.elapsed().as_secs_f64()
    );
}

/// SIGTERM to `pid` through kill(1), so that the test needs no unsafe code.
fn sigterm(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// After the kills: SQLite's integrity check passes, every printed result is in the
/// ledger exactly as printed, no envelope was received twice, the chain verifies.
fn check_after_kills(s: &Station, printed: &[serde_json::Value]) {
    let conn = s.sqlite();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut stmt = conn
        .prepare("SELECT normalized, outcome FROM events WHERE seq = ?1")
        .unwrap();
    for p in printed {
        let (code, outcome): (Option<String>, String) = stmt
            .query_row([p["seq"].as_i64().unwrap()], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap_or_else(|e| panic!("printed result {p} is not in the ledger: {e}"));
        assert_eq!(code.as_deref(), p["barcode"].as_str());
        assert_eq!(outcome, p["outcome"].as_str().unwrap());
    }
    let twice: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT ballot_pk FROM events WHERE outcome = 'accepted'
             GROUP BY ballot_pk HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(twice, 0, "an envelope was received twice");
    let v = s.run(&["verify"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
}
