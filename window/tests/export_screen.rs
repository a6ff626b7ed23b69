//! The nightly-file screen (F11) through `App::update`, its export run for real on the
//! ledger thread into a temporary folder.

#![allow(clippy::unwrap_used, clippy::pedantic)] // test code: a panic is the failure report

use ballot_intake_core::config::Config;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::ScanInput;
use ballot_intake_window::app::{Message, Page, PageMessage, Screen, Shortcut};
use ballot_intake_window::screen::export;
use ballot_intake_window::sound::Sounds;
use iced_test::simulator;

#[path = "common/ui.rs"]
mod ui_common;
use ui_common::{Rig, demo_ledger};

fn send(rig: &mut Rig, m: export::Message) {
    rig.send(Message::Page(PageMessage::Export(m)));
}

fn page(rig: &Rig) -> &export::State {
    match rig.page() {
        Page::Export(s) => s,
        _ => panic!("not on the export screen"),
    }
}

#[test]
fn a_clerk_writes_the_days_file_from_the_window() {
    let (dir, mut ledger) = demo_ledger();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let clerk = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&clerk).unwrap();
    for code in ["D000001", "D000001", "D000003"] {
        ledger
            .record_scan(
                &clerk,
                batch.batch_id,
                &ScanInput {
                    raw: code.as_bytes(),
                    source: "test",
                    symbology: None,
                    at: chrono::Utc::now(),
                    original_len: None,
                },
            )
            .unwrap();
    }
    drop(ledger);
    let mut rig = Rig::on(dir, None);
    rig.app
        .configure(Some(env.clone()), Config::default(), Sounds::silent());
    rig.scanning("demo-clerk", "111111");
    rig.press(Shortcut::Function(11));
    let _ = page(&rig);
    let folder = env.data_dir.join("exports");
    simulator(rig.app.view())
        .find(folder.display().to_string())
        .unwrap();

    // A date that is not one is said so; nothing is written.
    send(&mut rig, export::Message::Date("11/03/2026".into()));
    send(&mut rig, export::Message::Export);
    simulator(rig.app.view())
        .find("NOT written: \"11/03/2026\" is not a date: write it as YYYY-MM-DD, e.g. 2026-11-03")
        .unwrap();
    assert!(!folder.exists());

    // Today's file (the scans are today's in the station's time zone).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Denver)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    send(&mut rig, export::Message::Date(today.clone()));
    send(&mut rig, export::Message::Export);
    assert!(!page(&rig).busy());
    let manifests: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".manifest.json"))
        .collect();
    assert_eq!(manifests.len(), 1);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifests[0]).unwrap()).unwrap();
    assert_eq!(manifest["date"], today);
    assert_eq!(manifest["rows"], 3);
    let mut ui = simulator(rig.app.view());
    ui.find(format!("SHA-256 {}", manifest["sha256"].as_str().unwrap()))
        .unwrap();
    drop(ui);

    // Again: the same bytes, left alone and said so.
    send(&mut rig, export::Message::Export);
    let csv = folder.join(manifest["file"].as_str().unwrap());
    simulator(rig.app.view())
        .find(format!(
            "Already there, unchanged: {}: 3 rows",
            csv.display()
        ))
        .unwrap();
    rig.press(Shortcut::Back);
    assert!(matches!(rig.app.screen(), Screen::Scan(_)));
}

/// The audit screen (F7) writes the whole log as a signed NIST event log, run for
/// real on the ledger thread; the export is itself in the log afterwards.
#[test]
fn a_supervisor_writes_the_nist_event_log_from_the_audit_screen() {
    use ballot_intake_window::screen::audit;
    let (dir, ledger) = demo_ledger();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    drop(ledger);
    let mut rig = Rig::on(dir, None);
    rig.app
        .configure(Some(env.clone()), Config::default(), Sounds::silent());
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(7));
    let folder = env.data_dir.join("exports").join("audit");
    simulator(rig.app.view())
        .find(folder.display().to_string())
        .unwrap();
    let audit_page = |rig: &Rig| match rig.page() {
        Page::Audit(s) => s.exporting(),
        _ => panic!("not on the audit screen"),
    };
    rig.send(Message::Page(PageMessage::Audit(audit::Message::ExportLog)));
    assert!(!audit_page(&rig));
    let logs: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_event-log_all.json"))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&logs[0]).unwrap()).unwrap();
    let entries = log["Device"][0]["Event"].as_array().unwrap().len();
    assert!(entries > 0);
    assert!(std::path::Path::new(&format!("{}.sig", logs[0].display())).exists());
    let xml = logs[0].with_extension("xml");
    assert!(std::path::Path::new(&format!("{}.sig", xml.display())).exists());
    simulator(rig.app.view())
        .find(format!(
            "Event log written: {} ({entries} entries) and {}, signed; the same as XML beside them",
            logs[0].display(),
            folder
                .join("ballot-intake_DEMO_event-log-documentation.json")
                .display()
        ))
        .unwrap();
}

/// Ctrl+P on the batches screen (F6) prints the custody sheet of the batch typed, or
/// with none the day's reconciliation: written, signed and handed to the printing
/// system (here there is none, and the screen says where the file is).
#[test]
fn a_supervisor_prints_a_custody_sheet_with_ctrl_p() {
    use ballot_intake_window::screen::batches;
    let (dir, mut ledger) = demo_ledger();
    let env = Environment::resolve(Some(dir.path())).unwrap();
    let clerk = ledger
        .sign_in("demo-clerk", "111111", chrono::Utc::now())
        .unwrap();
    let batch = ledger.open_or_current_batch(&clerk).unwrap().batch_id;
    drop(ledger);
    let mut rig = Rig::on(dir, None);
    rig.app
        .configure(Some(env.clone()), Config::default(), Sounds::silent());
    rig.scanning("demo-supervisor", "999999");
    rig.press(Shortcut::Function(6));
    rig.send(Message::Page(PageMessage::Batches(
        batches::Message::Number(batch.to_string()),
    )));
    rig.press(Shortcut::Letter('p'));
    let sheet = env
        .data_dir
        .join("reports")
        .join(format!("ballot-intake_DEMO_batch-{batch}.pdf"));
    assert!(std::fs::read(&sheet).unwrap().starts_with(b"%PDF-"));
    assert!(std::path::Path::new(&format!("{}.sig", sheet.display())).exists());
    let said = match rig.page() {
        Page::Batches(s) => s.outcome().cloned(),
        _ => panic!("not on the batches screen"),
    };
    let said = said.unwrap().unwrap();
    let want = format!(
        "The custody sheet of batch {batch} is in {} (signed). ",
        sheet.display()
    );
    // What the printing system answered differs by machine; the file's place does not.
    assert!(said.starts_with(&want), "{said}");
    simulator(rig.app.view()).find(said.clone()).unwrap();
    // With no number typed: today's reconciliation.
    rig.send(Message::Page(PageMessage::Batches(
        batches::Message::Number(String::new()),
    )));
    rig.press(Shortcut::Letter('p'));
    let reports: Vec<_> = std::fs::read_dir(env.data_dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_day-") && n.ends_with(".pdf"))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
}
