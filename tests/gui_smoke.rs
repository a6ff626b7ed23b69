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
#[path = "common/desktop.rs"]
mod desktop;
use desktop::{Desktop, visible, wait_for_window, xdotool};
use std::process::Command;
use std::time::{Duration, Instant};

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
    // Three envelopes, typed as a wedge scanner types (5 ms a key, then Enter, in
    // one xdotool call: a second call can start late enough to read as a person).
    for code in ["D000001", "D000003", "D000001"] {
        xdotool(&display, &["type", "--delay", "5", &format!("{code}\r")]);
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
        "wedge keys read as a scanner, not typed text; the serial scanner named; \
         how the window read them:\n{}",
        desk.wedge_log()
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
