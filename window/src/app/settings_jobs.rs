//! The settings screen's work: finding scanners, playing a test sound, and saving
//! (audit entry and `config.json`), all off the UI thread.

use iced::Task;
use iced::futures::channel::oneshot;

use super::{App, GONE, Message, Over, Screen, ask};
use crate::screen::settings::{self, Action, Detected};
use ballot_intake_core::config::Config;

/// The serial ports and HID-POS scanners present. Runs on its own thread: USB
/// enumeration opens devices and can take a while.
fn detect() -> impl Future<Output = Vec<Detected>> + Send + 'static {
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("scanner-detect".into())
        .spawn(move || {
            let serial = ballot_intake_core::scanner::serial::list()
                .into_iter()
                .map(|p| Detected {
                    spec: p.spec(),
                    description: p.description(),
                });
            let usb = ballot_intake_core::scanner::usb::list()
                .into_iter()
                .map(|u| Detected {
                    spec: u.spec(),
                    description: u.description(),
                });
            let _ = tx.send(serial.chain(usb).collect());
        });
    async move {
        if spawned.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}

impl App {
    /// What the sound device is doing, for the settings screen.
    pub(super) fn sound_status(&self) -> String {
        match (self.config.ui.sounds, self.sounds.state()) {
            (_, Err(e)) => format!("NOT working: {e}"),
            (true, Ok(Some(_))) => "working".into(),
            (true, Ok(None)) => "open, no sound played yet".into(),
            (false, Ok(_)) => "sounds are off".into(),
        }
    }

    /// Carries out what the settings screen asked for.
    pub(super) fn settings_action(&mut self, action: Action) -> Task<Message> {
        match action {
            Action::None => Task::none(),
            Action::Play(cue, volume) => {
                // A test button plays even with sounds turned off: that is how an
                // administrator checks the speakers before turning them on.
                self.last_cue = Some(cue);
                self.sounds.play(cue, volume);
                Task::none()
            }
            Action::Detect => Task::perform(detect(), |list| {
                Message::Settings(settings::Message::Detected(list))
            }),
            Action::Save {
                ui,
                scanners,
                changes,
            } => {
                let Screen::Over {
                    over: Over::Settings(state),
                    ..
                } = &self.screen
                else {
                    return Task::none();
                };
                let Some(env) = self.env.clone() else {
                    return Task::done(Message::Settings(settings::Message::Saved(Err(
                        "this window has no configuration folder to save to".into(),
                    ))));
                };
                let user = state.user.clone();
                // The file is read afresh, so that what the command line changed
                // meanwhile (the sync settings) is kept.
                let save = ask(&self.worker, move |l| {
                    // Refused (and the refusal audited) before anything is written.
                    l.require_admin(&user, ballot_intake_core::ledger::CHANGE_SETTINGS)
                        .map_err(|e| e.to_string())?;
                    let before = Config::load(&env);
                    let after = Config {
                        ui,
                        scanners,
                        ..before.clone()
                    };
                    after.save(&env).map_err(|e| {
                        format!("could not write {}: {e}", Config::path(&env).display())
                    })?;
                    if let Err(e) = l.record_settings_change(&user, changes) {
                        // Not audited, not in force: put the old file back.
                        let _ = before.save(&env);
                        return Err(format!("the audit log could not record it ({e})"));
                    }
                    Ok(after)
                });
                Task::perform(save, |r| match r.unwrap_or_else(|| Err(GONE.into())) {
                    Ok(config) => Message::SettingsSaved(Box::new(config)),
                    Err(e) => Message::Settings(settings::Message::Saved(Err(e))),
                })
            }
        }
    }

    /// The saved settings take effect.
    pub(super) fn settings_saved(&mut self, config: Config) -> Task<Message> {
        self.apply(config);
        self.update(Message::Settings(settings::Message::Saved(Ok(()))))
    }
}
