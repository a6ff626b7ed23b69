//! The sounds through a real ALSA device path: `ballot-intake sound` runs with a
//! HOME whose `.asoundrc` makes the default device ALSA's file plugin, which writes
//! what the program played to a WAV file; the test reads the tone back out of it.
//! (This machine has no sound card; the plugin is the real ALSA library at work.)
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod common;

use std::path::Path;

/// The first channel of a PCM WAV as floats, with its sample rate.
fn first_channel(wav: &[u8]) -> (u32, Vec<f32>) {
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let mut at = 12;
    let (mut channels, mut rate, mut bits) = (0usize, 0u32, 0usize);
    loop {
        let id = &wav[at..at + 4];
        let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &wav[at + 8..];
        if id == b"fmt " {
            channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
            bits = u16::from_le_bytes([body[14], body[15]]) as usize;
        } else if id == b"data" {
            let frame = channels * bits / 8;
            let samples = body
                .chunks_exact(frame)
                .map(|f| match bits {
                    16 => f32::from(i16::from_le_bytes([f[0], f[1]])) / 32768.0,
                    // cpal opens the device for 32-bit floats; the file plugin's header
                    // calls every 32-bit stream integer PCM all the same.
                    32 => f32::from_le_bytes([f[0], f[1], f[2], f[3]]),
                    other => panic!("{other}-bit samples"),
                })
                .collect();
            return (rate, samples);
        }
        at += 8 + len;
    }
}

/// Plays `cue` through ALSA's file plugin; the tone's frequency in its first `ms`.
fn play(dir: &Path, cue: &str, volume: &str, ms: usize) -> (f32, f32) {
    let out = dir.join(format!("{cue}-{volume}.wav"));
    std::fs::write(
        dir.join(".asoundrc"),
        format!(
            "pcm.!default {{ type file; slave.pcm \"null\"; file \"{}\"; format \"wav\" }}\n",
            out.display()
        ),
    )
    .unwrap();
    let run = common::Station::empty()
        .command(&["sound", cue, "--volume", volume])
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("played the {cue} sound at volume {volume}")
    );
    let (rate, samples) = first_channel(&std::fs::read(&out).unwrap());
    let start = samples.iter().position(|x| x.abs() > 0.001).unwrap();
    let span = &samples[start..start + rate as usize * ms / 1000];
    let rising = span
        .windows(2)
        .filter(|w| w[0] <= 0.0 && w[1] > 0.0)
        .count();
    let peak = span.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
    (rising as f32 * 1000.0 / ms as f32, peak)
}

#[test]
fn the_cues_reach_the_sound_device_at_their_pitches() {
    let dir = tempfile::tempdir().unwrap();
    let (accepted, peak) = play(dir.path(), "accepted", "50", 60);
    assert!((850.0..=910.0).contains(&accepted), "{accepted} Hz");
    // Volume 50 of the 0.8 full scale; volume 100 twice that.
    assert!((0.38..=0.42).contains(&peak), "peak {peak}");
    let (_, full) = play(dir.path(), "accepted", "100", 60);
    assert!((0.76..=0.84).contains(&full), "peak {full}");
    let (set_aside, _) = play(dir.path(), "set-aside", "80", 140);
    assert!((310.0..=350.0).contains(&set_aside), "{set_aside} Hz");
}

#[test]
fn without_a_device_the_command_fails_plainly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".asoundrc"),
        "pcm.!default { type hw; card 7 }\n",
    )
    .unwrap();
    let run = common::Station::empty()
        .command(&["sound", "accepted"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("no sound device could be opened"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
