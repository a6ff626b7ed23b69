//! The Debian package, as an office's IT person gets it: `packaging/build-deb` builds
//! it; lintian (no errors), desktop-file-validate and appstreamcli check it; `dpkg -i`
//! installs it on this machine; the installed `/usr/bin/ballot-intake` prints its
//! version and scans an envelope into a new station; `dpkg --purge` removes it and
//! leaves none of its files behind.
//!
//! Installing needs root (CI runs as root). Run by anyone else, the test checks the
//! package's contents by unpacking it instead, and says so.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use common::Station;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not start: {e} (scripts/test installs it)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Builds the package with the project's one command; returns the .deb.
fn build() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Run as a person runs it, not with the variables `cargo test` sets for tests
    // (CARGO_PKG_*, LD_LIBRARY_PATH ...): with those, cargo saw a different build
    // and compiled the release program again (3 minutes), and again after.
    let mut build = Command::new(root.join("packaging/build-deb"));
    build.env_clear();
    for keep in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
        "TMPDIR",
    ] {
        if let Some(v) = std::env::var_os(keep) {
            build.env(keep, v);
        }
    }
    let built = build.output().unwrap();
    let ok = built.status.success();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(ok, "packaging/build-deb failed:\n{out}");
    let deb = out
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.ends_with(".deb"))
        .unwrap_or_else(|| panic!("build-deb named no .deb:\n{out}"));
    let deb = PathBuf::from(deb);
    assert!(deb.is_file(), "{} is not there", deb.display());
    deb
}

/// A station set up by `bin`, with the small mail ballot file, and one envelope
/// scanned: it must be accepted, and in the ledger.
fn scan_with(bin: &Path) {
    let date = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let s = Station::empty_running(bin).set_up(&date, "PKG1");
    assert_eq!(s.import("mail-ballots/small.csv").code, 0);
    let (r, results) = s.scan("ana", "314159", "B0001\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(results[0]["outcome"], "accepted", "{results:?}");
    assert_eq!(s.status()["outcomes"]["accepted"], 1);
}

fn is_root() -> bool {
    run("id", &["-u"]).1.trim() == "0"
}

#[test]
fn the_package_builds_checks_installs_scans_and_removes_cleanly() {
    let deb = build();
    let deb_s = deb.to_str().unwrap();

    // lintian: warnings are allowed (no manual page yet), errors are not.
    let (_, lint) = run("lintian", &["--tag-display-limit", "0", deb_s]);
    let errors: Vec<&str> = lint.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian found errors:\n{lint}");

    // The files the package carries, unpacked.
    let unpacked = tempfile::tempdir().unwrap();
    let dir = unpacked.path().to_str().unwrap();
    let (ok, out) = run("dpkg-deb", &["-x", deb_s, dir]);
    assert!(ok, "{out}");
    let desktop = unpacked
        .path()
        .join("usr/share/applications/ballot-intake.desktop");
    let (ok, out) = run("desktop-file-validate", &[desktop.to_str().unwrap()]);
    assert!(ok && out.trim().is_empty(), "desktop-file-validate:\n{out}");
    let metainfo = unpacked
        .path()
        .join("usr/share/metainfo/io.github.ballot_intake.BallotIntake.metainfo.xml");
    let (ok, out) = run(
        "appstreamcli",
        &["validate", "--no-net", metainfo.to_str().unwrap()],
    );
    assert!(ok, "appstreamcli validate:\n{out}");
    for icon in [
        "usr/share/icons/hicolor/scalable/apps/ballot-intake.svg",
        "usr/share/icons/hicolor/48x48/apps/ballot-intake.png",
        "usr/share/icons/hicolor/256x256/apps/ballot-intake.png",
        "lib/udev/rules.d/60-ballot-intake-scanners.rules",
        "usr/lib/systemd/user/ballot-intake-sync.service",
        "usr/lib/systemd/user/ballot-intake-export.timer",
    ] {
        assert!(
            unpacked.path().join(icon).is_file(),
            "the package lacks {icon}"
        );
    }
    let (_, contents) = run("dpkg-deb", &["-c", deb_s]);
    assert!(
        contents.contains("./usr/bin/ballot-intake"),
        "no program in the package:\n{contents}"
    );

    if !is_root() {
        eprintln!("not root: the package was checked unpacked, not installed (CI installs it)");
        scan_with(&unpacked.path().join("usr/bin/ballot-intake"));
        return;
    }

    let (ok, out) = run("dpkg", &["-i", deb_s]);
    assert!(ok, "dpkg -i failed:\n{out}");
    let (_, listed) = run("dpkg", &["-L", "ballot-intake"]);
    let installed: Vec<PathBuf> = listed
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    assert!(
        installed.contains(&PathBuf::from("/usr/bin/ballot-intake")),
        "{listed}"
    );
    let (ok, version) = run("/usr/bin/ballot-intake", &["--version"]);
    assert!(ok, "{version}");
    assert_eq!(
        version.trim(),
        format!("ballot-intake {}", env!("CARGO_PKG_VERSION"))
    );
    scan_with(Path::new("/usr/bin/ballot-intake"));

    let (ok, out) = run("dpkg", &["--purge", "ballot-intake"]);
    assert!(ok, "dpkg --purge failed:\n{out}");
    let left: Vec<&PathBuf> = installed.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "left behind after removal: {left:?}");
    let (_, status) = run("dpkg-query", &["-W", "-f=${Status}", "ballot-intake"]);
    assert!(
        !status.contains("installed") || status.contains("not-installed"),
        "still known to dpkg: {status}"
    );
}
