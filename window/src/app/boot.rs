//! Starting the window: what it needs from the ledger and the configuration, and the
//! streams that feed it (the clock, and each configured scanner's reader thread).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Message;
use crate::station::Header;
use crate::worker::LedgerWorker;
use ballot_intake_core::config::ScannerConfig;
use ballot_intake_core::environment::Environment;
use ballot_intake_core::ledger::Ledger;
use ballot_intake_core::scanner::{ScannerSpec, serial, usb};

/// A configured scanner (its configuration as JSON, which is what identifies the
/// subscription) as a stream of device messages: the reader thread of
/// `scanner::serial` or `scanner::usb`, bridged by a named thread. Dropping the
/// stream (the scanner left the configuration) stops both threads.
#[allow(clippy::ptr_arg)] // Subscription::run_with passes its data by reference
pub(super) fn scanner_stream(
    config: &String,
) -> impl iced::futures::Stream<Item = Message> + use<> {
    use iced::futures::SinkExt;
    let (mut tx, rx) = iced::futures::channel::mpsc::channel(256);
    let parsed = serde_json::from_str::<ScannerConfig>(config)
        .ok()
        .and_then(|c| c.spec.parse::<ScannerSpec>().ok().map(|s| (c, s)));
    let _ = std::thread::Builder::new()
        .name("scanner-bridge".into())
        .spawn(move || {
            let Some((cfg, spec)) = parsed else { return };
            let (dtx, drx) = std::sync::mpsc::channel();
            let stop = Arc::new(AtomicBool::new(false));
            let reader = match &spec {
                ScannerSpec::Serial { path, baud } => {
                    serial::spawn(cfg.serial_settings(path, *baud), dtx, stop.clone())
                }
                ScannerSpec::Usb { vid, pid } => usb::spawn(
                    *vid,
                    *pid,
                    cfg.usb_layout(*vid, *pid),
                    Duration::from_millis(cfg.serial.double_read_ms),
                    dtx,
                    stop.clone(),
                ),
            };
            let Ok(reader) = reader else { return };
            for m in drx {
                if iced::futures::executor::block_on(tx.send(Message::Device(m))).is_err() {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
            let _ = reader.join();
        });
    rx
}

/// A tick a second from a small named thread (the thread-pool executor has no timer).
pub(super) fn ticks() -> impl iced::futures::Stream<Item = Message> {
    let (mut tx, rx) = iced::futures::channel::mpsc::channel(1);
    let _ = std::thread::Builder::new()
        .name("ui-clock".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                if let Err(e) = tx.try_send(Message::Tick)
                    && e.is_disconnected()
                {
                    break;
                }
            }
        });
    rx
}

/// Everything `run` needs, found before the window opens.
pub struct Boot {
    /// The ledger thread.
    pub worker: LedgerWorker,
    /// The station facts for the header.
    pub header: Header,
    /// The demo users' PINs, on a demo station.
    pub demo_hint: Option<String>,
    /// Where the station's files are (the demo's own folder on a demo station).
    pub env: Environment,
    /// The settings in force at start-up.
    pub config: ballot_intake_core::config::Config,
}

/// Finds everything `run` needs.
pub fn boot(env: &Environment) -> anyhow::Result<Boot> {
    let (env, demo) = if env.ledger_path().exists() {
        (env.clone(), false)
    } else {
        // Nothing configured here: the demo station, clearly marked.
        let demo = env.demo();
        drop(ballot_intake_core::demo::open_or_create(&demo)?);
        (demo, true)
    };
    let ledger = Ledger::open(&env.ledger_path())?;
    let election = ledger.active_election()?;
    let header = Header {
        station: ledger.station().station_id.clone(),
        election: format!("{} ({})", election.name, election.election_id),
        demo: demo || ledger.station().demo,
        hub: ledger.station().hub,
        timezone: ledger.station().timezone,
    };
    drop(ledger);
    let hint = header.demo.then(|| {
        format!(
            // One a line: a wrapped line split "demo-supervisor" in two.
            "Demo users:\n{}  PIN {}\n{}  PIN {}\n{}  PIN {}",
            ballot_intake_core::demo::DEMO_CLERK.0,
            ballot_intake_core::demo::DEMO_CLERK.1,
            ballot_intake_core::demo::DEMO_SUPERVISOR.0,
            ballot_intake_core::demo::DEMO_SUPERVISOR.1,
            ballot_intake_core::demo::DEMO_ADMIN.0,
            ballot_intake_core::demo::DEMO_ADMIN.1
        )
    });
    let config = ballot_intake_core::config::Config::load(&env);
    Ok(Boot {
        worker: LedgerWorker::open(&env.ledger_path())?,
        header,
        demo_hint: hint,
        config,
        env,
    })
}

/// The station's window: 1280x800 (the smallest screen it is laid out for), and the
/// application id that is also its X11 class, so that the desktop matches the window
/// to `packaging/ballot-intake.desktop` (`StartupWMClass`).
fn window_settings() -> iced::window::Settings {
    iced::window::Settings {
        size: WINDOW,
        platform_specific: iced::window::settings::PlatformSpecific {
            application_id: APP_ID.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Shrinks the window to the screen when the screen is smaller than the size it
/// opens at (a 1024x768 monitor): otherwise the right of every screen is cut off.
fn fit_to_screen() -> iced::Task<Message> {
    use iced::window;
    window::latest().and_then(|id| {
        window::monitor_size(id).and_then(move |screen| {
            if screen.width >= WINDOW.width && screen.height >= WINDOW.height {
                return iced::Task::none();
            }
            window::resize(
                id,
                iced::Size::new(
                    screen.width.min(WINDOW.width),
                    screen.height.min(WINDOW.height),
                ),
            )
        })
    })
}

/// The size the window opens at: the smallest screen it is laid out for.
const WINDOW: iced::Size = iced::Size::new(1280.0, 800.0);

/// The window's application id and X11 class.
pub const APP_ID: &str = "ballot-intake";

/// Opens the window: the station, the demo, or (with neither in the data folder)
/// the first run that offers both (`crate::shell`).
pub fn run(env: &Environment) -> anyhow::Result<()> {
    use crate::shell::Shell;
    let env = env.clone();
    let sounds = crate::sound::Sounds::start();
    // Checked before the window opens, so that a ledger that cannot be opened is
    // said on the terminal and in the log rather than in an empty window.
    drop(Shell::new(&env, sounds.clone())?);
    iced::application(
        move || match Shell::new(&env, sounds.clone()) {
            Ok((shell, task)) => (
                shell,
                iced::Task::batch([task, fit_to_screen().map(crate::shell::Message::Station)]),
            ),
            Err(e) => {
                log::error!("the station could not be opened: {e:#}");
                std::process::exit(1);
            }
        },
        Shell::update,
        Shell::view,
    )
    .title(Shell::title)
    .theme(Shell::theme)
    .subscription(Shell::subscription)
    .window(window_settings())
    .run()
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_desktop_file_names_the_windows_class() {
        let desktop = include_str!("../../../packaging/ballot-intake.desktop");
        assert!(
            desktop
                .lines()
                .any(|l| l == format!("StartupWMClass={}", super::APP_ID)),
            "packaging/ballot-intake.desktop must name the window's class"
        );
    }
}
