//! A throwaway PostgreSQL cluster for a test: Debian's PostgreSQL binaries, `initdb`
//! into a temporary folder, a Unix socket in that folder (no TCP port to collide
//! with), stopped and deleted when dropped. As root the server must run as the
//! `postgres` account, so the folder is given to it and the commands run through
//! `su`; as anyone else they run directly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The socket's port number (only its name: there is no TCP listener).
const PORT: u16 = 5432;

pub struct Cluster {
    pub dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
}

/// The newest PostgreSQL server binaries on this machine (`BALLOT_INTAKE_PG_BIN`
/// overrides).
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BALLOT_INTAKE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Makes and starts a cluster; panics, saying what to install, without one.
    pub fn start() -> Cluster {
        let bin = bin_dir().expect(
            "PostgreSQL's server binaries are missing: apt-get install postgresql (scripts/deps.sh)",
        );
        let dir = tempfile::Builder::new()
            .prefix("hub-pg-")
            .tempdir()
            .expect("temp dir");
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown the cluster folder to postgres");
        }
        let c = Cluster {
            dir,
            bin,
            as_postgres,
        };
        c.pg(&format!(
            "{} -D {} -A trust -U postgres -E UTF8 --no-locale",
            c.tool("initdb"),
            c.data().display()
        ));
        c.pg_ctl("start");
        c
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    /// The data folder.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The socket folder.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `postgres` database's connection string, as the hub takes it.
    pub fn url(&self) -> String {
        format!(
            "host={} port={PORT} user=postgres dbname=postgres",
            self.socket_dir().display()
        )
    }

    /// Runs a shell command line as the cluster's owner; panics if it fails.
    fn pg(&self, line: &str) {
        let out = if self.as_postgres {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", line])
                .stdin(Stdio::null())
                .output()
        } else {
            Command::new("sh")
                .args(["-c", line])
                .stdin(Stdio::null())
                .output()
        }
        .expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{line}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start|stop|restart`, waiting until it is done.
    pub fn pg_ctl(&self, action: &str) {
        let opts = format!(
            "-p {PORT} -k {} -c listen_addresses='' -c fsync=on",
            self.socket_dir().display()
        );
        self.pg(&format!(
            "{} -D {} -l {} -w -t 60 -o \"{opts}\" {action}",
            self.tool("pg_ctl"),
            self.data().display(),
            self.dir.path().join("log").display()
        ));
    }

    /// Runs SQL through psql and returns its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let out = self.psql_output(sql);
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs SQL that must fail; returns what PostgreSQL said.
    pub fn psql_refused(&self, sql: &str) -> String {
        let out = self.psql_output(sql);
        assert!(!out.status.success(), "psql {sql} succeeded");
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    }

    /// Starts psql on `sql` in the background (a transaction left open a while).
    pub fn psql_spawn(&self, sql: &str) -> std::process::Child {
        self.psql_command(sql).spawn().expect("psql")
    }

    fn psql_output(&self, sql: &str) -> std::process::Output {
        self.psql_command(sql).output().expect("psql")
    }

    fn psql_command(&self, sql: &str) -> Command {
        let psql = self.bin.join("psql");
        let psql = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let mut c = Command::new(psql);
        c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.socket_dir())
            .args([
                "-p",
                &PORT.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ]);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let line = format!(
            "{} -D {} -w -t 30 -m fast stop",
            self.tool("pg_ctl"),
            self.data().display()
        );
        let _ = if self.as_postgres {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &line])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new("sh")
                .args(["-c", &line])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
    }
}
