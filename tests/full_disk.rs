//! A disk that fills while the station works (issue #11's I/O faults), on a real
//! 2 MB tmpfs mounted for the test (so it needs root, as CI runs; elsewhere it says
//! it was skipped): every result printed is in the ledger afterwards, the refusal
//! names what was not recorded, and an import or an export that meets the full disk
//! changes nothing and leaves no partial file.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// A 2 MB tmpfs at a new folder, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !root {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount -t tmpfs failed");
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk, then frees `leave` bytes.
    fn fill(&self, leave: usize) {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0xAAu8; 4096];
        while f.write_all(&block).is_ok() {}
        drop(f);
        let len = std::fs::metadata(&filler).unwrap().len();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap();
        f.set_len(len.saturating_sub(leave as u64)).unwrap();
    }

    fn free(&self) {
        let _ = std::fs::remove_file(self.path().join("filler"));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn run(data: &Path, args: &[&str], input: &str, vars: &[(&str, &str)]) -> common::Run {
    common::run_bare(data, args, input, vars)
}

const ADMIN: [(&str, &str); 2] = [
    ("BALLOT_INTAKE_USER", common::ADMIN),
    ("BALLOT_INTAKE_PIN", common::ADMIN_PIN),
];

#[test]
fn a_disk_that_fills_loses_nothing_printed_and_leaves_no_partial_file() {
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    let data = disk.path().join("station");
    let date = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let init = common::init_args("S1", &date, "America/Denver");
    let r = run(&data, &init, &format!("{}\n", common::ADMIN_PIN), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &data,
        &["user", "add", "ana", "--role", "clerk"],
        "314159\n",
        &ADMIN,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = common::fixture("mail-ballots/small.csv");
    assert_eq!(
        run(&data, &["import", file.to_str().unwrap()], "", &ADMIN).code,
        0
    );

    // The sync writes its batches on the same disk.
    let outgoing = disk.path().join("outgoing");
    let r = run(
        &data,
        &["sync", "setup", "--directory", outgoing.to_str().unwrap()],
        "",
        &ADMIN,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = disk.path().join("exports");
    std::fs::create_dir_all(&out).unwrap();

    // Scans until the disk is full: each one printed is in the ledger. The first
    // envelopes are the file's (receipts for the outbox), then unknown codes.
    disk.fill(160 * 1024);
    let mut codes: String = (1..=5).map(|i| format!("B{i:04}\n")).collect();
    codes.extend((0..3000).map(|i| format!("X{i:06}\n")));
    let r = run(
        &data,
        &["scan", "--user", "ana", "--json"],
        &codes,
        &[("BALLOT_INTAKE_PIN", "314159")],
    );
    assert_eq!(r.code, 1, "the disk never filled: {}", r.stderr);
    assert!(
        r.stderr.contains("NOT recorded") && r.stderr.contains("disk holding the ledger is full"),
        "{}",
        r.stderr
    );
    let printed = r.stdout.lines().count();
    assert!(printed > 0, "nothing was scanned before the disk filled");

    // Today's nightly file on the full disk: refused, naming it, nothing left behind.
    disk.fill(0);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive()
        .to_string();
    let r = run(
        &data,
        &["export", "--date", &today, "--out", out.to_str().unwrap()],
        "",
        &ADMIN,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Named: the file it could not write, the ledger it could not open (SQLite
    // needs room for its shared-memory file), or the ledger's disk when even the
    // sign-in's audit entry finds no room (how much the WAL has free to reuse by then
    // depends on the ledger's size and its last checkpoint).
    assert!(
        r.stderr.contains(&out.display().to_string())
            || r.stderr.contains("is its disk full")
            || r.stderr.contains("the disk holding the ledger is full"),
        "{}",
        r.stderr
    );
    let partial: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(partial.is_empty(), "partial files left: {partial:?}");
    // The sync on the full disk acknowledges nothing; with room, it sends them all.
    let r = run(&data, &["sync", "--max-wait", "2"], "", &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    disk.free();
    let ledger = rusqlite::Connection::open(data.join("ledger.sqlite3")).unwrap();
    let acked = |l: &rusqlite::Connection| -> i64 {
        l.query_row(
            "SELECT count(*) FROM outbox WHERE acked_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(acked(&ledger), 0, "nothing was acknowledged on a full disk");
    let r = run(&data, &["sync", "--max-wait", "30"], "", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let queued: i64 = ledger
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert!(queued > 0);
    assert_eq!(
        acked(&ledger),
        queued,
        "every receipt sent once there was room"
    );
    let ledger = rusqlite::Connection::open(data.join("ledger.sqlite3")).unwrap();
    let recorded: i64 = ledger
        .query_row("SELECT count(*) FROM events WHERE kind = 'scan'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        recorded as usize, printed,
        "every printed result is in the ledger"
    );
    let r = run(&data, &["verify"], "", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // An import that meets a full disk is refused whole; the ledger is as it was.
    let before: i64 = ledger
        .query_row("SELECT count(*) FROM ballots", [], |r| r.get(0))
        .unwrap();
    let big = disk.path().join("big.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(f, "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential").unwrap();
        for i in 0..6000 {
            writeln!(f, "2026-GEN,F{i:06},W{i:06},Lee,Kim,80202,101,S1,ACTIVE,N").unwrap();
        }
    }
    disk.fill(8 * 1024);
    let r = run(&data, &["import", big.to_str().unwrap()], "", &ADMIN);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("full") || r.stderr.contains("space"),
        "{}",
        r.stderr
    );
    disk.free();
    let after: i64 = ledger
        .query_row("SELECT count(*) FROM ballots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, before, "nothing of the refused file was imported");
    assert!(
        !data.join("ledger.sqlite3.import").exists(),
        "the scratch file is gone"
    );
    let r = run(&data, &["verify"], "", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
