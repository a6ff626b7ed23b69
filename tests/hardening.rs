//! What an adversarial try did to the station (issue #11), each through the real
//! binary on a real ledger: the folder and files only the station's account can
//! read, and a ledger deleted under a running `scan`.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The ledger holds confidential voters' names and addresses and the PIN hashes:
/// its folder is created 0700 and the file 0600, and a looser one is named with the
/// command that closes it.
#[cfg(unix)]
#[test]
fn the_ledger_and_its_folder_are_the_station_accounts_alone() {
    let s = Station::upcoming();
    let ledger = s.ledger_path();
    assert_eq!(mode(ledger.parent().unwrap()), 0o700);
    assert_eq!(mode(&ledger), 0o600);
    let r = s.ok(&["status"]);
    assert!(
        !r.stderr.contains("can be read by other accounts"),
        "{}",
        r.stderr
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = s.ok(&["status"]);
    assert!(
        r.stderr
            .contains("can be read by other accounts (mode 644)")
            && r.stderr
                .contains(&format!("chmod 600 {}", ledger.display())),
        "{}",
        r.stderr
    );
}

/// `rm ledger.sqlite3*` under a running `scan`: the next scan is NOT RECORDED and
/// the program stops, instead of printing results that are in no file.
#[test]
fn a_ledger_deleted_under_a_running_scan_stops_it_with_not_recorded() {
    let s = Station::upcoming();
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    s.add_user("clerk", "clerk", "246810");
    let mut scan = s.scanning("clerk", "246810");
    let line = scan.scan("B0001");
    assert!(line.contains("\"accepted\""), "{line}");
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ledger.sqlite3")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    let (rest, out) = scan.finish_with("B0002");
    let stderr = out.stderr;
    assert_ne!(out.code, 0);
    assert!(rest.is_empty(), "nothing more printed: {rest}");
    assert!(
        stderr.contains("\"B0002\" was NOT recorded") && stderr.contains("was deleted or replaced"),
        "{stderr}"
    );
}

/// A ledger this account cannot write (another account's station, a read-only
/// folder) is named in the refusal, with what to check: it said only "unable to
/// open database file". Run as `nobody` when the tests run as root (root reads
/// anything).
#[cfg(unix)]
#[test]
fn a_ledger_this_account_cannot_open_is_named() {
    let s = Station::upcoming();
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root || !common::have("setpriv") {
        eprintln!("skipped: needs root and setpriv to run as another account");
        return;
    }
    // The folder is 0700: `nobody` may not enter it. Its parent must let nobody
    // reach it, so that what fails is the ledger's own folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::BIN)
        .args(["--data-dir", s.dir.path().to_str().unwrap(), "status"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&s.ledger_path().display().to_string()),
        "{stderr}"
    );
}

/// What anyone at the machine could type: no administrator added by the helpers.
fn bare(s: &Station, args: &[&str], input: &str, vars: &[(&str, &str)]) -> common::Run {
    common::run_bare(s.dir.path(), args, input, vars)
}

/// Administrative commands sign someone in and name them: `echo 999999 |
/// ballot-intake user add mallory --role admin` worked for anyone who could run the
/// program, and so did import, election add|activate, export and sync setup.
#[test]
fn administrative_commands_need_the_right_person_and_name_them() {
    let s = Station::upcoming();
    // No one signed in: refused (only a station with no administrator takes its
    // first one that way).
    let r = bare(
        &s,
        &["user", "add", "mallory", "--role", "admin"],
        "918273\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("added by an administrator"),
        "{}",
        r.stderr
    );
    for args in [
        &["import", "x.csv"][..],
        &["export"][..],
        &["election", "activate", "2026-GEN"][..],
        &["sync", "setup", "--directory", "out"][..],
    ] {
        let r = bare(&s, args, "", &[]);
        assert_eq!(r.code, 2, "{args:?} without --user: {}", r.stderr);
        assert!(r.stderr.contains("--user"), "{}", r.stderr);
    }
    // A clerk is not an administrator, nor a supervisor.
    let clerk = [
        ("BALLOT_INTAKE_USER", "ana"),
        ("BALLOT_INTAKE_PIN", "314159"),
    ];
    let r = bare(
        &s,
        &["user", "add", "mallory", "--role", "admin"],
        "918273\n",
        &clerk,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("\"ana\" is a clerk and may not add users"),
        "{}",
        r.stderr
    );
    let file = common::fixture("mail-ballots/small.csv");
    let r = bare(&s, &["import", file.to_str().unwrap()], "", &clerk);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("may not import a mail ballot file"),
        "{}",
        r.stderr
    );
    let r = bare(&s, &["election", "activate", "2026-GEN"], "", &clerk);
    assert!(
        r.stderr.contains("may not change the active election"),
        "{}",
        r.stderr
    );
    // The supervisor imports, the administrator adds a user: each named.
    let sam = [
        ("BALLOT_INTAKE_USER", "sam"),
        ("BALLOT_INTAKE_PIN", "161803"),
    ];
    assert_eq!(
        bare(&s, &["import", file.to_str().unwrap()], "", &sam).code,
        0
    );
    let admin = [
        ("BALLOT_INTAKE_USER", common::ADMIN),
        ("BALLOT_INTAKE_PIN", common::ADMIN_PIN),
    ];
    assert_eq!(
        bare(
            &s,
            &["user", "add", "zed", "--role", "clerk"],
            "918273\n",
            &admin
        )
        .code,
        0
    );
    let named: Vec<(String, String)> = s
        .sqlite()
        .prepare(
            "SELECT event, user_name FROM audit_log
              WHERE event IN ('import-completed', 'user-added') ORDER BY seq DESC LIMIT 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        named,
        [
            ("user-added".to_string(), common::ADMIN.to_string()),
            ("import-completed".to_string(), "sam".to_string()),
        ]
    );
}
