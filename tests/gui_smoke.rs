//! The real window under Xvfb: sign in, open a batch, and scan three barcodes typed
//! by `xdotool` the way a keyboard-wedge scanner types them; `status --json` must show
//! them recorded with the right outcomes. A screenshot is saved to
//! `target/gui-smoke.png`.
//!
//! Needs Xvfb, xdotool and ImageMagick's `import` (Debian: xvfb xauth xdotool
//! imagemagick); `scripts/test` installs them.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

mod common;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn xdotool(display: &str, args: &[&str]) {
    let ok = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool {args:?} failed");
}

#[test]
fn sign_in_open_a_batch_and_scan_with_a_wedge_in_a_real_window() {
    for tool in ["Xvfb", "xdotool", "import"] {
        assert!(
            have(tool),
            "{tool} is missing: apt-get install -y xvfb xauth xdotool imagemagick (scripts/test does this)"
        );
    }
    // A display number of our own, so parallel runs do not collide.
    let display = format!(":{}", 90 + std::process::id() % 800);
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let data = tempfile::tempdir().unwrap();
    // A serial scanner too: a pseudo-terminal configured for the demo station.
    let link = data.path().join("scanner0");
    let mut serial_scanner = common::pty_at(&link);
    let config_dir = data.path().join("demo").join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.json"),
        serde_json::json!({"scanners": [{"spec": format!("serial:{}@9600", link.display())}]})
            .to_string(),
    )
    .unwrap();
    let _app = Killed(
        Command::new(common::BIN)
            .args(["--data-dir", data.path().to_str().unwrap()])
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait for the window (the first start also creates the demo station).
    let started = Instant::now();
    let window = loop {
        let out = Command::new("xdotool")
            .args(["search", "--name", "ballot-intake"])
            .env("DISPLAY", &display)
            .output()
            .unwrap();
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(str::to_string);
        if let Some(id) = id {
            break id;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no window within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(800));
    xdotool(&display, &["windowfocus", "--sync", &window]);
    // Sign in: name, Tab, PIN, Enter (typed at a person's pace).
    xdotool(&display, &["type", "--delay", "80", "demo-clerk"]);
    xdotool(&display, &["key", "Tab"]);
    xdotool(&display, &["type", "--delay", "80", "111111"]);
    xdotool(&display, &["key", "Return"]);
    std::thread::sleep(Duration::from_secs(2));
    // Open the batch: container, Enter.
    xdotool(&display, &["type", "--delay", "80", "TRAY-1"]);
    xdotool(&display, &["key", "Return"]);
    std::thread::sleep(Duration::from_secs(2));
    // Three envelopes, typed as a wedge scanner types (5 ms a key, then Enter).
    for code in ["D000001", "D000003", "D000001"] {
        xdotool(&display, &["type", "--delay", "5", code]);
        xdotool(&display, &["key", "Return"]);
        std::thread::sleep(Duration::from_millis(1200));
    }
    // And one envelope from the serial scanner, read by the window's subscription.
    {
        use std::io::Write;
        serial_scanner.write_all(b"D000005\r").unwrap();
    }
    std::thread::sleep(Duration::from_millis(1500));
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/gui-smoke.png");
    let _ = std::fs::create_dir_all(shot.parent().unwrap());
    let ok = Command::new("import")
        .args(["-window", "root", shot.to_str().unwrap()])
        .env("DISPLAY", &display)
        .status()
        .unwrap()
        .success();
    assert!(ok, "screenshot failed");
    let demo = data.path().join("demo");
    let out = Command::new(common::BIN)
        .args(["--data-dir", demo.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = &status["outcomes"];
    assert_eq!(
        (
            o["accepted"].as_i64(),
            o["voided"].as_i64(),
            o["duplicate"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{status}"
    );
    assert_eq!(status["open_batches"][0]["opened_by"], "demo-clerk");
    // F2 closes the batch: the count, Tab, the second person, Tab, their PIN, Enter.
    xdotool(&display, &["key", "F2"]);
    std::thread::sleep(Duration::from_millis(800));
    xdotool(&display, &["type", "--delay", "80", "2"]);
    xdotool(&display, &["key", "Tab"]);
    xdotool(&display, &["type", "--delay", "80", "demo-supervisor"]);
    xdotool(&display, &["key", "Tab"]);
    xdotool(&display, &["type", "--delay", "80", "999999"]);
    xdotool(&display, &["key", "Return"]);
    std::thread::sleep(Duration::from_secs(2));
    let out = Command::new(common::BIN)
        .args([
            "--data-dir",
            demo.to_str().unwrap(),
            "batch",
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    let batches: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batches[0]["status"], "closed", "{batches}");
    assert_eq!(batches[0]["verified_by"], "demo-supervisor");
    assert_eq!(batches[0]["declared_count"], 2);
    let conn = rusqlite::Connection::open(demo.join("ledger.sqlite3")).unwrap();
    let sources: Vec<String> = conn
        .prepare("SELECT source FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let serial = format!("serial:{}", link.display());
    assert_eq!(
        sources,
        [
            "wedge:keyboard",
            "wedge:keyboard",
            "wedge:keyboard",
            serial.as_str()
        ],
        "wedge keys read as a scanner, not typed text; the serial scanner named"
    );
}
