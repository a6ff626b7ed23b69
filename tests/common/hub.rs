//! The county hub as a child process of a test: the real binary against a real
//! PostgreSQL cluster ([`super::pg::Cluster`]), on a loopback port it picks itself.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::BIN;
use std::io::Write;

pub struct Hub {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it logged (stderr), read by a thread.
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// A `hub ...` management command against `database`.
pub fn manage(database: &str, args: &[&str], input: &str) -> super::Run {
    let mut c = Command::new(BIN);
    c.arg("hub")
        .args(args)
        .env("BALLOT_INTAKE_HUB_DATABASE", database)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn hub");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().expect("wait").into()
}

/// Adds station `id` to the hub; returns its token file's path.
pub fn add_station(database: &str, id: &str, folder: &Path) -> String {
    let file = folder.join(format!("hub-token-{id}"));
    let r = manage(
        database,
        &["station", "add", id, "--token-file", file.to_str().unwrap()],
        "",
    );
    assert_eq!(r.code, 0, "hub station add {id}: {}{}", r.stdout, r.stderr);
    file.display().to_string()
}

impl Hub {
    /// Starts `hub --listen 127.0.0.1:0` with `extra` arguments and waits until it
    /// listens.
    pub fn start(database: &str, extra: &[&str]) -> Hub {
        Hub::start_on(database, "127.0.0.1:0", extra)
    }

    /// Starts the hub on `listen` (a fixed port, to start it again at the same URL).
    pub fn start_on(database: &str, listen: &str, extra: &[&str]) -> Hub {
        let mut child = Command::new(BIN)
            .args(["hub", "--listen", listen])
            .args(extra)
            .env("BALLOT_INTAKE_HUB_DATABASE", database)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hub");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        {
            let stderr = child.stderr.take().expect("stderr");
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the hub's first line");
        let Some(url) = line.trim().strip_prefix("hub listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(std::time::Duration::from_millis(100));
            panic!("the hub did not start: {line:?}\n{}", log.lock().unwrap());
        };
        let url = url.to_string();
        std::thread::spawn(move || {
            let mut rest = String::new();
            while stdout.read_line(&mut rest).is_ok_and(|n| n > 0) {}
        });
        Hub { child, url, log }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// kill -9.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Points station `s`'s sync at the hub at `url` with its token file, retrying
/// quickly as a test needs (a 2 s request limit, 50 ms first retry).
pub fn sync_to_hub(s: &super::Station, url: &str, token_file: &str) {
    s.ok(&[
        "sync",
        "setup",
        "--hub",
        "--url",
        url,
        "--token-file",
        token_file,
        "--timeout-secs",
        "2",
        "--retry-base-ms",
        "50",
    ]);
}

/// Starts station `s`'s background sync (`sync --watch`), its output dropped.
pub fn watch_sync(s: &super::Station) -> Child {
    s.command(&["sync", "--watch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sync --watch")
}

/// A mail ballot file of `n` ballots `B00001...` (voter `V00001...`), with the
/// voters in `confidential` marked so.
pub fn ballot_file(dir: &Path, n: usize, confidential: &[usize]) -> String {
    let path = dir.join("ballots.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
    for i in 1..=n {
        let c = if confidential.contains(&i) { "Y" } else { "N" };
        writeln!(
            f,
            "2026-GEN,B{i:05},V{i:05},Archuleta,Rosa,80202,101,S1,ACTIVE,{c}"
        )
        .unwrap();
    }
    path.display().to_string()
}

/// Station `id` with the county's ballot file, its sync pointed at the hub.
pub fn station(
    id: &str,
    hub: &Hub,
    token_file: &str,
    n: usize,
    confidential: &[usize],
) -> super::Station {
    let s = super::Station::upcoming_as(id);
    let file = ballot_file(s.dir.path(), n, confidential);
    s.ok(&["import", &file]);
    sync_to_hub(&s, &hub.url, token_file);
    s
}
