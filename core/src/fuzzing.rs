//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer): each takes
//! arbitrary bytes, drives one reader of outside input with them, and panics when a
//! property that must hold for every input does not (a panic is what the fuzzer
//! reports). Kept here, not in `fuzz/`, so that the corpora the fuzzer grew are also
//! replayed by `cargo test` on the stable toolchain (`replay_corpora` below).
//!
//! Not part of the station's API.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::barcode::{self, CheckDigit, Imb, MAX_BARCODE_LEN};
use crate::config::Config;
use crate::mail_ballot::{RowRules, read_records};
use crate::scanner::framing::{Framer, FramingConfig, Terminator};
use crate::scanner::hidpos::{HidPosDecoder, MAX_CODE_LEN, REPORT_LEN, ReportLayout};
use crate::scanner::wedge::{Key, WedgeConfig, WedgeDecoder, WedgeEvent};
use crate::sync::transport::{Answer, SendOutcome, judge};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: [(&str, Target); 7] = [
    ("serial_framing", serial_framing),
    ("wedge", wedge),
    ("hidpos", hidpos),
    ("mail_ballot", mail_ballot),
    ("barcode", barcode),
    ("sync_answer", sync_answer),
    ("config", config),
];

/// A serial scanner's byte stream, in reads of the sizes the input gives, a
/// millisecond apart per byte: every code is within the maximum length (plus the
/// one byte that marks it overlong), holds no noise byte and no terminator.
pub fn serial_framing(data: &[u8]) {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let terminator = [
        Terminator::Cr,
        Terminator::Lf,
        Terminator::CrLf,
        Terminator::None,
    ][usize::from(setup & 3)];
    let config = FramingConfig {
        terminator,
        prefix: if setup & 4 != 0 {
            vec![0x02]
        } else {
            Vec::new()
        },
        suffix: if setup & 8 != 0 {
            vec![0x03]
        } else {
            Vec::new()
        },
        strip_aim: setup & 16 != 0,
        max_len: usize::from(setup >> 5) * 8 + 1,
        ..FramingConfig::default()
    };
    let max_len = config.max_len;
    let mut framer = Framer::new(config);
    let start = Instant::now();
    let mut now = start;
    let mut codes = Vec::new();
    while let Some((&n, tail)) = rest.split_first() {
        let take = usize::from(n % 32).min(tail.len());
        let (chunk, after) = tail.split_at(take);
        now += Duration::from_millis(u64::from(n));
        codes.extend(framer.push(chunk, now));
        codes.extend(framer.poll(now + Duration::from_millis(u64::from(n / 2))));
        rest = after;
    }
    if let Ok(Some(f)) = framer.finish() {
        codes.push(f);
    }
    for f in &codes {
        assert!(
            f.data.len() <= max_len + 1,
            "a code of {} bytes",
            f.data.len()
        );
        assert!(
            !f.data.iter().any(|b| matches!(b, 0x00 | 0x11 | 0x13)),
            "noise in {:?}",
            f.data
        );
        let ends: &[u8] = match terminator {
            Terminator::Cr => b"\r",
            Terminator::Lf | Terminator::CrLf => b"\n",
            Terminator::None => b"",
        };
        assert!(!f.data.iter().any(|b| ends.contains(b)), "{:?}", f.data);
    }
}

/// Keys from a keyboard-wedge scanner and a person, each two bytes (the key, the
/// milliseconds since the last): nothing typed is lost or doubled. Every printable
/// key and every Enter comes out once, in order, as part of a scan (its Enter
/// consumed) or of typing (Enter as `\n`).
pub fn wedge(data: &[u8]) {
    let mut decoder = WedgeDecoder::new(WedgeConfig::default());
    let mut now = Instant::now();
    let mut sent = String::new();
    let mut got = String::new();
    let take = |events: Vec<WedgeEvent>, got: &mut String| {
        for e in events {
            match e {
                WedgeEvent::Scan(code) => {
                    assert!(!code.is_empty(), "an empty scan");
                    assert!(!code.contains('\n'), "a scan holding an Enter: {code:?}");
                    got.push_str(&code);
                    got.push('\n');
                }
                WedgeEvent::Typed(text) => got.push_str(&text),
            }
        }
    };
    for pair in data.chunks_exact(2) {
        let key = match pair[0] {
            0..=159 => Key::Char(char::from(b'!' + pair[0] % 94)),
            160..=199 => Key::Enter,
            200..=239 => Key::Modifier,
            _ => Key::Other,
        };
        match key {
            Key::Char(c) => sent.push(c),
            Key::Enter => sent.push('\n'),
            Key::Modifier | Key::Other => {}
        }
        now += Duration::from_millis(u64::from(pair[1]));
        take(decoder.key(key, now), &mut got);
    }
    // Another key a minute later settles whatever is still held.
    take(
        decoder.key(Key::Other, now + Duration::from_secs(60)),
        &mut got,
    );
    assert_eq!(got, sent, "keys lost, doubled or reordered");
}

/// USB HID-POS input reports in both layouts: a report of any length and content
/// is a code, an error or nothing, and a code is never longer than the cap.
pub fn hidpos(data: &[u8]) {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let layout = if setup & 1 == 0 {
        ReportLayout::LengthPrefixed
    } else {
        ReportLayout::SymbologyFirst
    };
    let mut decoder = HidPosDecoder::new(layout);
    while let Some((&n, tail)) = rest.split_first() {
        // Mostly whole reports; sometimes a short or long one.
        let len = match n {
            0..=199 => REPORT_LEN,
            _ => usize::from(n - 200) * 2,
        }
        .min(tail.len());
        let (report, after) = tail.split_at(len);
        if let Ok(Some(code)) = decoder.feed(report) {
            assert!(code.data.len() <= MAX_CODE_LEN, "{} bytes", code.data.len());
        }
        rest = after;
    }
}

/// A mail ballot file: read as an import reads it, whatever its bytes; each row is
/// named by the line an editor shows it on, counted the way people count lines
/// (LF, CRLF or a lone CR each ending one).
pub fn mail_ballot(data: &[u8]) {
    let rules = RowRules {
        election_id: "2026-GEN",
        check_digit: if data.first().is_some_and(|b| b & 1 == 1) {
            CheckDigit::Luhn
        } else {
            CheckDigit::None
        },
    };
    let mut last = 0;
    let _ = read_records(data, &rules, |line, start, checked| {
        // The reader may place a row's start at the blank lines it skipped before
        // it; the row itself begins at its first byte that ends no line.
        let mut start = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
        while matches!(data.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        assert_eq!(line, line_of(&data[..start]), "the row at byte {start}");
        assert!(line > last, "line {line} after line {last}");
        last = line;
        if let Err(errors) = checked {
            assert!(!errors.is_empty());
            for e in errors {
                assert_eq!(e.line, line, "{e:?}");
            }
        }
    });
}

/// The line that the byte after `before` is on, counted from 1.
fn line_of(before: &[u8]) -> u64 {
    let mut line = 1;
    let mut i = 0;
    while i < before.len() {
        match before[i] {
            b'\n' => line += 1,
            b'\r' => {
                line += 1;
                if before.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// A scanned barcode: normalised within the maximum length, classified under both
/// check-digit rules without panicking; an IMb parse only of 20, 25, 29 or 31
/// digits; and exactly one Luhn digit completes any string of digits.
pub fn barcode(data: &[u8]) {
    if let Ok(normalized) = barcode::normalize(data) {
        assert!(normalized.len() <= MAX_BARCODE_LEN, "{normalized:?}");
        for check in [CheckDigit::None, CheckDigit::Luhn] {
            let _ = barcode::classify(&normalized, check);
        }
    }
    let text = String::from_utf8_lossy(data);
    if Imb::parse(&text).is_some() {
        assert!(
            [20, 25, 29, 31].contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()),
            "{text:?} parsed as an IMb"
        );
    }
    if !text.is_empty() && text.len() < 40 && text.bytes().all(|b| b.is_ascii_digit()) {
        let completing = (0..10)
            .filter(|d| barcode::luhn_valid(&format!("{text}{d}")))
            .count();
        assert_eq!(completing, 1, "{text:?}");
    }
}

/// A backend's answer to a batch (status, then body, then how many events the
/// batch held): the events are marked sent only for a 200 or 201 acknowledgement
/// of this batch whose counts add up to them.
pub fn sync_answer(data: &[u8]) {
    let [a, b, events, body @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*a, *b]) % 600;
    let body = String::from_utf8_lossy(body);
    let answer = Answer {
        status,
        body: &body,
        retry_after: body.get(..4),
        location: None,
    };
    if let SendOutcome::Acked {
        accepted,
        duplicates,
        ..
    } = judge(&answer, "b1", usize::from(*events))
    {
        assert!(
            status == 200 || status == 201,
            "acknowledged by HTTP {status}"
        );
        assert!(accepted >= 0 && duplicates >= 0);
        assert_eq!(accepted + duplicates, i64::from(*events));
        assert!(body.contains("b1"));
    }
}

/// `config.json` as anyone could leave it: read without panicking, and what is read
/// is stable (written and read again, it is the same configuration).
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("config.json");
    let read = Config::parse(&text, path);
    if let Ok(written) = serde_json::to_string(&read) {
        assert_eq!(Config::parse(&written, path), read, "{written}");
    }
}

#[cfg(test)]
mod tests {
    use super::TARGETS;

    /// Every input in `fuzz/corpus/<target>/` (the seeds written here and what the
    /// fuzzer kept) run through its target: a finding fixed stays fixed.
    #[test]
    fn replay_corpora() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let mut inputs = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                target(&bytes);
                inputs += 1;
            }
            assert!(inputs > 0, "no corpus for {name}");
        }
    }
}
