//! The real window under Xvfb: sign in, open a batch, and scan three barcodes typed
//! by `xdotool` the way a keyboard-wedge scanner types them; `status --json` must show
//! them recorded with the right outcomes. A screenshot is saved to
//! `target/gui-smoke.png`.
//!
//! A second window imports a mail ballot file chosen in the desktop's file dialog
//! (zenity, as on a desktop without a portal), driven the same way.
//!
//! Needs Xvfb, xdotool, ImageMagick's `import` and zenity (Debian: xvfb xauth xdotool
//! imagemagick zenity); `scripts/test` installs them.

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

/// A virtual display with the application's window on it.
struct Desktop {
    // Dropped in this order: the application, then the display, then its folder.
    _app: Killed,
    _xvfb: Killed,
    display: String,
    data: tempfile::TempDir,
    window: String,
}

impl Desktop {
    /// Starts Xvfb (display `:N`, N unique to this process and `slot`) and the
    /// application on a new data folder, after `prepare` has set that folder up.
    fn start(slot: u32, prepare: impl FnOnce(&std::path::Path)) -> Desktop {
        for tool in ["Xvfb", "xdotool", "import", "zenity"] {
            assert!(
                have(tool),
                "{tool} is missing: apt-get install -y xvfb xauth xdotool imagemagick zenity (scripts/test does this)"
            );
        }
        let display = format!(":{}", 90 + (std::process::id() % 400) * 2 + slot);
        let xvfb = Killed(
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
        prepare(data.path());
        let app = Killed(
            Command::new(common::BIN)
                .args(["--data-dir", data.path().to_str().unwrap()])
                .env("DISPLAY", &display)
                .env_remove("WAYLAND_DISPLAY")
                // No desktop portal here: the file dialog falls back to zenity.
                .env_remove("DBUS_SESSION_BUS_ADDRESS")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // Wait for the window (the first start also creates the demo station).
        // By its X11 class, the one packaging/ballot-intake.desktop names.
        let window = wait_for_window(&display, &["--class", "^ballot-intake$"]);
        std::thread::sleep(Duration::from_millis(800));
        xdotool(&display, &["windowfocus", "--sync", &window]);
        Desktop {
            display,
            data,
            window,
            _app: app,
            _xvfb: xvfb,
        }
    }

    fn xdotool(&self, args: &[&str]) {
        xdotool(&self.display, args);
    }

    /// Signs in by keyboard: name, Tab, PIN, Enter (typed at a person's pace).
    fn sign_in(&self, user: &str, pin: &str) {
        self.xdotool(&["type", "--delay", "80", user]);
        self.xdotool(&["key", "Tab"]);
        self.xdotool(&["type", "--delay", "80", pin]);
        self.xdotool(&["key", "Return"]);
        std::thread::sleep(Duration::from_secs(2));
    }

    /// The demo station's folder.
    fn demo(&self) -> std::path::PathBuf {
        self.data.path().join("demo")
    }

    /// `ballot-intake status --json` on the demo station.
    fn status(&self) -> serde_json::Value {
        let out = Command::new(common::BIN)
            .args([
                "--data-dir",
                self.demo().to_str().unwrap(),
                "status",
                "--json",
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Saves a screenshot of the whole display to `target/NAME`.
    fn screenshot(&self, name: &str) {
        let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(name);
        let _ = std::fs::create_dir_all(shot.parent().unwrap());
        let ok = Command::new("import")
            .args(["-window", "root", shot.to_str().unwrap()])
            .env("DISPLAY", &self.display)
            .status()
            .unwrap()
            .success();
        assert!(ok, "screenshot failed");
    }
}

/// Whether a visible window matches `xdotool search ARGS`.
fn visible(display: &str, search: &[&str]) -> bool {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible"])
        .args(search)
        .env("DISPLAY", display)
        .output()
        .unwrap();
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// The first window `xdotool search ARGS` finds, waiting up to 60 s for it.
fn wait_for_window(display: &str, search: &[&str]) -> String {
    let started = Instant::now();
    loop {
        let out = Command::new("xdotool")
            .arg("search")
            .args(search)
            .env("DISPLAY", display)
            .output()
            .unwrap();
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().last() {
            return id.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no window {search:?} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sign_in_open_a_batch_and_scan_with_a_wedge_in_a_real_window() {
    // A serial scanner too: a pseudo-terminal configured for the demo station.
    let mut link = std::path::PathBuf::new();
    let mut serial_scanner = None;
    let desk = Desktop::start(0, |data| {
        link = data.join("scanner0");
        serial_scanner = Some(common::pty_at(&link));
        let config_dir = data.join("demo").join("config");
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::write(
            config_dir.join("config.json"),
            serde_json::json!({"scanners": [{"spec": format!("serial:{}@9600", link.display())}]})
                .to_string(),
        )
        .unwrap();
    });
    let mut serial_scanner = serial_scanner.unwrap();
    let display = desk.display.clone();
    desk.sign_in("demo-clerk", "111111");
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
    desk.screenshot("gui-smoke.png");
    let demo = desk.demo();
    let status = desk.status();
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

#[test]
fn import_a_file_chosen_in_the_desktop_file_dialog() {
    let desk = Desktop::start(1, |_| {});
    let file = desk.data.path().join("more-ballots.csv");
    std::fs::write(
        &file,
        "election_id,ballot_id,voter_id,last_name,first_name,residential_zip,precinct,ballot_style,ballot_status,confidential\n\
         DEMO,D900001,V9000001,Added,Ann,80202,101,S1,ACTIVE,N\n\
         DEMO,D900002,V9000002,Added,Bo,80202,101,S1,ACTIVE,N\n",
    )
    .unwrap();
    let before = desk.status()["ballots"].as_i64().unwrap();
    desk.sign_in("demo-supervisor", "999999");
    desk.xdotool(&["key", "Return"]); // the open-batch form: no container
    std::thread::sleep(Duration::from_secs(2));
    desk.xdotool(&["key", "F9"]);
    std::thread::sleep(Duration::from_millis(800));
    desk.xdotool(&["key", "ctrl+o"]);
    // The dialog is its own window: Ctrl+L opens GTK's location field, the path,
    // Enter chooses it. A dialog still starting up (its first run on a fresh machine
    // builds caches) can miss keys, so until it has closed this is tried again.
    let dialog = wait_for_window(&desk.display, &["--onlyvisible", "--class", "zenity"]);
    let mut closed = false;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(2));
        desk.xdotool(&["windowfocus", "--sync", &dialog]);
        desk.xdotool(&["key", "ctrl+l"]);
        std::thread::sleep(Duration::from_millis(300));
        desk.xdotool(&["key", "ctrl+a"]);
        desk.xdotool(&["type", "--delay", "40", file.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(500));
        desk.xdotool(&["key", "Return"]);
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(5) && !closed {
            closed = !visible(&desk.display, &["--class", "zenity"]);
            std::thread::sleep(Duration::from_millis(200));
        }
        if closed {
            break;
        }
    }
    assert!(closed, "the file dialog did not take the path");
    std::thread::sleep(Duration::from_millis(500));
    // Back in the window, the path is filled in; Enter imports it.
    desk.xdotool(&["windowfocus", "--sync", &desk.window]);
    desk.xdotool(&["key", "Return"]);
    let started = Instant::now();
    while desk.status()["ballots"].as_i64().unwrap() != before + 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the chosen file was not imported: {}",
            desk.status()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    desk.screenshot("gui-import-dialog.png");
}
