//! The station's two sounds: one for "put in the tray" and one for "set it aside".
//!
//! A clerk scanning a tray of envelopes looks at the envelope, not the screen; the
//! sound is what tells them to stop. The two cues therefore differ in pitch, rhythm
//! and length at once (a short rising pair against three low pulses), so they are
//! told apart by someone who cannot hear one of the pitches well, in a noisy room.
//!
//! The tones are synthesised here (no sound files to lose) and played on a named
//! thread that owns the audio device, so the window never waits for the sound card.
//! A station without a working sound device still scans: the failure is kept for the
//! settings screen and the device is tried again on a later cue (at most every 10 s).

use rodio::buffer::SamplesBuffer;
use rodio::{DeviceSinkBuilder, MixerDeviceSink};
use std::num::NonZero;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ballot_intake_core::intake::Outcome;

/// Samples per second of the synthesised tones (the mixer converts to the device's).
pub const RATE: u32 = 44_100;

/// Which sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    /// The envelope goes in the tray.
    Accepted,
    /// The envelope is set aside, must be rescanned, or was not recorded.
    SetAside,
}

impl Cue {
    /// The cue for a scan's outcome: only an accepted envelope goes in the tray.
    pub fn for_outcome(outcome: Outcome) -> Cue {
        if outcome == Outcome::Accepted {
            Cue::Accepted
        } else {
            Cue::SetAside
        }
    }

    /// The word used in the configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Cue::Accepted => "accepted",
            Cue::SetAside => "set-aside",
        }
    }

    /// The notes: (frequency in Hz, or silence when 0; milliseconds).
    fn notes(self) -> &'static [(f32, u32)] {
        match self {
            // A short rising pair (A5 then E6): quick and bright.
            Cue::Accepted => &[(880.0, 70), (1318.5, 110)],
            // Three low pulses (E4), long enough to make a hand stop.
            Cue::SetAside => &[
                (330.0, 150),
                (0.0, 70),
                (330.0, 150),
                (0.0, 70),
                (330.0, 150),
            ],
        }
    }
}

impl std::str::FromStr for Cue {
    type Err = String;
    fn from_str(s: &str) -> Result<Cue, String> {
        match s {
            "accepted" => Ok(Cue::Accepted),
            "set-aside" => Ok(Cue::SetAside),
            other => Err(format!(
                "no sound called {other:?}: say accepted or set-aside"
            )),
        }
    }
}

/// The cue as mono samples at [`RATE`], scaled by `volume` (0.0..=1.0). Each note
/// fades in and out over 5 ms: a tone cut off mid-wave clicks.
pub fn samples(cue: Cue, volume: f32) -> Vec<f32> {
    let volume = volume.clamp(0.0, 1.0);
    let rate = f64::from(RATE);
    let fade = RATE as usize / 200;
    let mut out = Vec::new();
    for &(freq, ms) in cue.notes() {
        let n = (u64::from(RATE) * u64::from(ms) / 1000) as usize;
        for i in 0..n {
            if freq == 0.0 {
                out.push(0.0);
                continue;
            }
            let edge = i.min(n - 1 - i);
            #[allow(clippy::cast_precision_loss)]
            let envelope = if edge < fade {
                edge as f32 / fade as f32
            } else {
                1.0
            };
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let phase = (std::f64::consts::TAU * f64::from(freq) * i as f64 / rate) as f32;
            out.push(phase.sin() * envelope * volume * 0.8);
        }
    }
    out
}

/// How long the cue lasts.
pub fn duration(cue: Cue) -> Duration {
    Duration::from_millis(cue.notes().iter().map(|&(_, ms)| u64::from(ms)).sum())
}

/// Opens the default output device.
fn open_device() -> Result<MixerDeviceSink, String> {
    let mut sink = DeviceSinkBuilder::open_default_sink()
        .map_err(|e| format!("no sound device could be opened ({e})"))?;
    sink.log_on_drop(false);
    Ok(sink)
}

fn buffer(cue: Cue, volume: f32) -> SamplesBuffer {
    SamplesBuffer::new(
        NonZero::<u16>::MIN,
        NonZero::new(RATE).unwrap_or(NonZero::<u32>::MIN),
        samples(cue, volume),
    )
}

/// Plays `cue` and waits until it has been heard (for `ballot-intake sound`).
pub fn play_and_wait(cue: Cue, volume: f32) -> Result<(), String> {
    let sink = open_device()?;
    let player = rodio::Player::connect_new(sink.mixer());
    player.append(buffer(cue, volume));
    player.sleep_until_end();
    // The device's own buffer still holds the end of the tone for a moment.
    std::thread::sleep(Duration::from_millis(150));
    drop(sink);
    Ok(())
}

/// What the sound thread last found: `Ok` with when it last played, or the reason
/// it cannot.
pub type SoundState = Result<Option<Instant>, String>;

/// The sound thread: cues are sent to it and never waited for.
#[derive(Clone)]
pub struct Sounds {
    tx: Option<Sender<(Cue, f32)>>,
    state: Arc<Mutex<SoundState>>,
}

impl Sounds {
    /// Starts the thread, which opens the device at once.
    pub fn start() -> Sounds {
        let (tx, rx) = mpsc::channel();
        let state = Arc::new(Mutex::new(Ok(None)));
        let shared = state.clone();
        let started = std::thread::Builder::new()
            .name("sound".into())
            .spawn(move || sound_thread(&rx, &shared));
        if let Err(e) = started {
            let msg = format!("the sound thread could not start ({e})");
            return Sounds {
                tx: None,
                state: Arc::new(Mutex::new(Err(msg))),
            };
        }
        Sounds {
            tx: Some(tx),
            state,
        }
    }

    /// No sound at all (tests, and stations that turned sound off).
    pub fn silent() -> Sounds {
        Sounds {
            tx: None,
            state: Arc::new(Mutex::new(Ok(None))),
        }
    }

    /// Plays `cue` at `volume` (0.0..=1.0) without waiting.
    pub fn play(&self, cue: Cue, volume: f32) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((cue, volume));
        }
    }

    /// What the sound thread last found.
    pub fn state(&self) -> SoundState {
        self.state
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |s| s.clone())
    }
}

/// Owns the device; reopens it (at most every 10 s) after a failure, so a headset
/// plugged in later is used without a restart.
fn sound_thread(rx: &Receiver<(Cue, f32)>, state: &Mutex<SoundState>) {
    let try_open = || {
        open_device()
            .inspect_err(|e| {
                log::warn!("sound: {e}");
                set(state, Err(e.clone()));
            })
            .ok()
    };
    // Opened at once, not at the first scan: opening a device can take a moment, and
    // the first envelope's sound should not come late. The settings screen can then
    // say straight away whether there is sound.
    let mut last_try = Instant::now();
    let mut sink = try_open();
    for (cue, volume) in rx {
        if sink.is_none() && last_try.elapsed() >= Duration::from_secs(10) {
            last_try = Instant::now();
            sink = try_open();
        }
        if let Some(s) = &sink {
            s.mixer().add(buffer(cue, volume));
            set(state, Ok(Some(Instant::now())));
        }
    }
}

fn set(state: &Mutex<SoundState>, value: SoundState) {
    match state.lock() {
        Ok(mut s) => *s = value,
        Err(p) => *p.into_inner() = value,
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // silence is exactly zero
mod tests {
    use super::*;

    /// Rising zero crossings per second: the tone's frequency, near enough.
    fn crossings(s: &[f32]) -> usize {
        s.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count()
    }

    #[test]
    fn the_two_cues_differ_in_pitch_rhythm_and_length() {
        let a = samples(Cue::Accepted, 1.0);
        let s = samples(Cue::SetAside, 1.0);
        assert_eq!(a.len(), RATE as usize * 180 / 1000);
        assert_eq!(s.len(), RATE as usize * 590 / 1000);
        assert_eq!(duration(Cue::Accepted), Duration::from_millis(180));
        // Pitch: the accepted pair sits far above the set-aside pulses.
        let first = RATE as usize * 70 / 1000;
        let hz = |n: usize, ms: u32| n * 1000 / ms as usize;
        assert!((870..=890).contains(&hz(crossings(&a[..first]), 70)));
        assert!((1300..=1330).contains(&hz(crossings(&a[first..]), 110)));
        let pulse = RATE as usize * 150 / 1000;
        assert!((320..=340).contains(&hz(crossings(&s[..pulse]), 150)));
        // Rhythm: the set-aside cue has two silences between its pulses.
        let gap = &s[pulse..pulse + RATE as usize * 70 / 1000];
        assert!(gap.iter().all(|&x| x == 0.0));
        assert!(a.iter().skip(10).take(a.len() - 20).any(|&x| x != 0.0));
    }

    #[test]
    fn volume_scales_and_notes_fade_in_without_a_click() {
        let loud = samples(Cue::Accepted, 1.0);
        let soft = samples(Cue::Accepted, 0.25);
        let peak = |v: &[f32]| v.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
        assert!((peak(&loud) - 0.8).abs() < 0.01);
        assert!((peak(&soft) - 0.2).abs() < 0.01);
        assert!(peak(&samples(Cue::Accepted, 7.0)) <= 0.8, "clamped");
        assert_eq!(loud[0], 0.0);
        assert!(loud[1].abs() < 0.01, "starts from silence");
        assert_eq!(peak(&samples(Cue::SetAside, 0.0)), 0.0);
    }

    #[test]
    fn outcomes_map_to_cues_and_names_parse() {
        assert_eq!(Cue::for_outcome(Outcome::Accepted), Cue::Accepted);
        for o in [Outcome::Duplicate, Outcome::Late, Outcome::Invalid] {
            assert_eq!(Cue::for_outcome(o), Cue::SetAside);
        }
        for c in [Cue::Accepted, Cue::SetAside] {
            assert_eq!(c.as_str().parse::<Cue>(), Ok(c));
        }
        assert!("beep".parse::<Cue>().unwrap_err().contains("\"beep\""));
    }
}
