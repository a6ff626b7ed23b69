//! A real window under Xvfb, driven with xdotool as a person (40 ms a key) or a
//! keyboard-wedge scanner (4 ms a key) would drive it: the harness of the window
//! tests. Needs Xvfb, xdotool, ImageMagick's `import` and zenity (Debian: xvfb
//! xauth xdotool imagemagick zenity); `scripts/test` installs them.
#![allow(dead_code)] // each window test uses its own share of it

use crate::common;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub use crate::common::have;

pub fn xdotool(display: &str, args: &[&str]) {
    let ok = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool {args:?} failed");
}

/// The program whose window is tested: `BALLOT_INTAKE_WINDOW_BIN` if set (the test
/// command sets the release build: what a station runs, and a debug build draws so
/// slowly on a loaded two-core machine that its key timing is not a station's),
/// else the test build's own.
pub fn window_bin() -> std::path::PathBuf {
    std::env::var_os("BALLOT_INTAKE_WINDOW_BIN")
        .map_or_else(|| common::BIN.into(), std::path::PathBuf::from)
}

/// Where the window's log goes: a file named by `BALLOT_INTAKE_WINDOW_LOG` (with the
/// slot appended), else `window.log` in the test's folder, so that a failure can say
/// how the window read the keys ([`Desktop::wedge_log`]).
fn window_log(slot: u32, data: &std::path::Path) -> (std::path::PathBuf, Stdio) {
    let path = std::env::var_os("BALLOT_INTAKE_WINDOW_LOG").map_or_else(
        || data.join("window.log"),
        |base| {
            let mut name = base;
            name.push(format!("-{slot}.log"));
            name.into()
        },
    );
    let file = std::fs::File::create(&path).unwrap();
    (path, Stdio::from(file))
}

/// A virtual display with the application's window on it.
pub struct Desktop {
    // Dropped in this order: the application, then the display, then its folder.
    _app: Killed,
    _xvfb: Killed,
    pub display: String,
    pub data: tempfile::TempDir,
    pub window: String,
    /// The window's log.
    pub log: std::path::PathBuf,
}

impl Desktop {
    /// Starts Xvfb (display `:N`, N unique to this process and `slot`) and the
    /// application on a new data folder, after `prepare` has set that folder up.
    pub fn start(slot: u32, prepare: impl FnOnce(&std::path::Path)) -> Desktop {
        for tool in ["Xvfb", "xdotool", "import", "zenity"] {
            assert!(
                have(tool),
                "{tool} is missing: apt-get install -y xvfb xauth xdotool imagemagick zenity (scripts/test does this)"
            );
        }
        // Ten displays a process (slots 0..9), none shared with another test process.
        let display = format!(":{}", 90 + (std::process::id() % 300) * 10 + slot);
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
        let (log, log_out) = window_log(slot, data.path());
        let app = Killed(
            Command::new(window_bin())
                .args(["--data-dir", data.path().to_str().unwrap()])
                .env("DISPLAY", &display)
                .env_remove("WAYLAND_DISPLAY")
                // No desktop portal here: the file dialog falls back to zenity.
                .env_remove("DBUS_SESSION_BUS_ADDRESS")
                .stdout(Stdio::null())
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG")
                        .unwrap_or_else(|_| "warn,ballot_intake_core::scanner::wedge=debug".into()),
                )
                .stderr(log_out)
                .spawn()
                .unwrap(),
        );
        // Wait for the window (the first start also creates the demo station).
        // By its X11 class, the one packaging/ballot-intake.desktop names.
        let window = wait_for_window(&display, &["--class", "^ballot-intake$"]);
        std::thread::sleep(Duration::from_millis(800));
        xdotool(&display, &["windowfocus", "--sync", &window]);
        // With nothing set up the window offers the setup or the demo: Ctrl+D
        // chooses the demo, which then exists on disk.
        let demo = data.path().join("demo").join("ledger.sqlite3");
        let started = std::time::Instant::now();
        while !demo.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the demo was not opened from the first-run screen"
            );
            xdotool(&display, &["key", "ctrl+d"]);
            std::thread::sleep(Duration::from_millis(700));
        }
        std::thread::sleep(Duration::from_millis(500));
        Desktop {
            display,
            data,
            window,
            log,
            _app: app,
            _xvfb: xvfb,
        }
    }

    /// How the window's wedge decoder read each burst of keys ending in Enter (the
    /// gaps, never the keys), for a failure message.
    pub fn wedge_log(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("wedge:"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn xdotool(&self, args: &[&str]) {
        xdotool(&self.display, args);
    }

    /// Signs in by keyboard: name, Tab, PIN, Enter (typed at a person's pace).
    pub fn sign_in(&self, user: &str, pin: &str) {
        self.xdotool(&["type", "--delay", "80", user]);
        self.xdotool(&["key", "Tab"]);
        self.xdotool(&["type", "--delay", "80", pin]);
        self.xdotool(&["key", "Return"]);
        std::thread::sleep(Duration::from_secs(2));
    }

    /// The demo station's folder.
    pub fn demo(&self) -> std::path::PathBuf {
        self.data.path().join("demo")
    }

    /// `ballot-intake status --json` on the demo station.
    pub fn status(&self) -> serde_json::Value {
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
    pub fn screenshot(&self, name: &str) {
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
pub fn visible(display: &str, search: &[&str]) -> bool {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible"])
        .args(search)
        .env("DISPLAY", display)
        .output()
        .unwrap();
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// The first window `xdotool search ARGS` finds, waiting up to 60 s for it.
pub fn wait_for_window(display: &str, search: &[&str]) -> String {
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

impl Desktop {
    /// Types `code` and Enter as a keyboard-wedge scanner does: 4 ms a key, with
    /// Shift around each capital letter (xdotool presses it as a keyboard would).
    /// The code and its Enter (CR) go in one xdotool call, as a scanner sends them:
    /// a second call can start late enough to read as a person's Enter.
    pub fn scan(&self, code: &str) {
        self.xdotool(&["type", "--delay", "4", &format!("{code}\r")]);
        std::thread::sleep(Duration::from_millis(900));
    }

    /// Types `text` as a person does, 40 ms a key.
    pub fn type_slowly(&self, text: &str) {
        self.xdotool(&["type", "--delay", "40", text]);
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Presses a key (or a combination: "ctrl+5", "Tab", "F2") and waits a moment.
    pub fn key(&self, key: &str) {
        self.xdotool(&["key", key]);
        std::thread::sleep(Duration::from_millis(500));
    }

    /// The demo station's ledger, to read what the window wrote.
    pub fn ledger(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.demo().join("ledger.sqlite3")).unwrap()
    }

    /// The rows of `sql` (one text column) in the demo station's ledger.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        self.ledger()
            .prepare(sql)
            .unwrap()
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect()
    }

    /// Waits up to 10 s for `sql` to give `want`, then asserts it does.
    pub fn wait_for_rows(&self, sql: &str, want: &[&str]) {
        let started = Instant::now();
        loop {
            let got = self.rows(sql);
            if got == want || started.elapsed() > Duration::from_secs(10) {
                assert_eq!(got, want, "{sql}");
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
