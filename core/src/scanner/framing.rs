//! Cutting a scanner's byte stream into codes: pure code shared by every device kind.
//!
//! A serial scanner sends each code followed by a terminator (CR, LF or CRLF), or
//! with no terminator at all, relying on a pause between codes. Reads arrive in any
//! pieces: half a code, or several codes at once. Optional prefix and suffix bytes
//! (STX/ETX, say) and an AIM symbology identifier (`]C1`, `]A0`, `]L2` ...) are
//! stripped, the identifier recorded. Anything longer than the maximum is reported
//! as one overlong code, never split into pieces that could each match a ballot.

use std::time::{Duration, Instant};

/// What ends a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Terminator {
    /// Carriage return (a LF right after it is ignored).
    #[default]
    Cr,
    /// Line feed (a CR right before it is dropped).
    Lf,
    /// CR LF.
    CrLf,
    /// Nothing: a code ends when no byte has come for the inter-character timeout.
    None,
}

impl std::str::FromStr for Terminator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cr" => Ok(Terminator::Cr),
            "lf" => Ok(Terminator::Lf),
            "crlf" => Ok(Terminator::CrLf),
            "none" => Ok(Terminator::None),
            other => Err(format!(
                "unknown terminator {other:?} (expected cr, lf, crlf or none)"
            )),
        }
    }
}

/// How a device's stream is framed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FramingConfig {
    /// What ends a code.
    pub terminator: Terminator,
    /// With no terminator, the pause that ends a code; with one, how long a partial
    /// code may wait before it is given up as noise.
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Bytes the scanner puts before every code, stripped when present.
    pub prefix: Vec<u8>,
    /// Bytes the scanner puts after every code (before the terminator), stripped.
    pub suffix: Vec<u8>,
    /// Strip a leading AIM symbology identifier and record it.
    pub strip_aim: bool,
    /// Longest code kept; longer ones become one overlong code.
    pub max_len: usize,
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig {
            terminator: Terminator::Cr,
            timeout: Duration::from_millis(50),
            prefix: Vec::new(),
            suffix: Vec::new(),
            strip_aim: true,
            max_len: crate::barcode::MAX_BARCODE_LEN,
        }
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// One code cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The code's bytes, prefix, suffix, identifier and terminator removed. For an
    /// overlong code, its first `max_len + 1` bytes (enough to be refused as too long).
    pub data: Vec<u8>,
    /// The AIM symbology identifier, when one was stripped (`]C1` ...).
    pub symbology: Option<String>,
    /// Whether the code was longer than the maximum.
    pub overlong: bool,
}

/// Bytes that never belong to a code: NUL (sent by some scanners at power-up) and
/// the XON/XOFF flow-control characters.
fn is_noise(b: u8) -> bool {
    matches!(b, 0x00 | 0x11 | 0x13)
}

/// The framing state of one device.
#[derive(Debug)]
pub struct Framer {
    config: FramingConfig,
    buf: Vec<u8>,
    overlong: bool,
    last_byte: Option<Instant>,
    /// In CR mode, a LF right after the CR is part of the same terminator.
    skip_lf: bool,
}

impl Framer {
    /// A framer with `config`.
    pub fn new(config: FramingConfig) -> Self {
        Framer {
            buf: Vec::with_capacity(config.max_len + 1),
            config,
            overlong: false,
            last_byte: None,
            skip_lf: false,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &FramingConfig {
        &self.config
    }

    /// Whether part of a code is waiting for its end.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.overlong
    }

    /// Feeds bytes read at `now`; returns the codes they complete.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<Frame> {
        let mut out = Vec::new();
        // With no terminator, a pause before these bytes ended the previous code.
        if let Some(f) = self.poll(now) {
            out.push(f);
        }
        for &b in bytes {
            if is_noise(b) {
                continue;
            }
            let ends = match self.config.terminator {
                Terminator::Cr => {
                    if b == b'\n' && self.skip_lf {
                        self.skip_lf = false;
                        continue;
                    }
                    b == b'\r'
                }
                Terminator::Lf | Terminator::CrLf => b == b'\n',
                Terminator::None => false,
            };
            self.skip_lf = self.config.terminator == Terminator::Cr && b == b'\r';
            if ends {
                if self.config.terminator != Terminator::Cr && self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                if let Some(f) = self.take() {
                    out.push(f);
                }
                continue;
            }
            if self.buf.len() > self.config.max_len {
                self.overlong = true;
            } else {
                self.buf.push(b);
            }
        }
        if !bytes.is_empty() {
            self.last_byte = Some(now);
        }
        out
    }

    /// Called when no bytes came: with no terminator, ends the code once the pause
    /// reaches the timeout; with a terminator, a partial code older than the timeout
    /// is kept waiting (a slow sender), never cut in two.
    pub fn poll(&mut self, now: Instant) -> Option<Frame> {
        if self.config.terminator != Terminator::None {
            return None;
        }
        let last = self.last_byte?;
        if now.duration_since(last) >= self.config.timeout && self.has_partial() {
            return self.take();
        }
        None
    }

    /// Ends whatever is buffered as a code (the device went away, or the stream
    /// ended). With a terminator configured, an unterminated tail is not a complete
    /// code and is returned as `Err` with its bytes, so the caller can log it.
    pub fn finish(&mut self) -> Result<Option<Frame>, Vec<u8>> {
        if !self.has_partial() {
            return Ok(None);
        }
        if self.config.terminator == Terminator::None {
            return Ok(self.take());
        }
        self.overlong = false;
        Err(std::mem::take(&mut self.buf))
    }

    fn take(&mut self) -> Option<Frame> {
        let overlong = std::mem::replace(&mut self.overlong, false);
        let mut data = std::mem::take(&mut self.buf);
        self.buf.reserve(self.config.max_len + 1);
        if data.is_empty() && !overlong {
            // A lone terminator (CR LF from a scanner set to send both, say).
            return None;
        }
        if !overlong {
            strip_prefix(&mut data, &self.config.prefix);
        }
        let symbology = if self.config.strip_aim && !overlong {
            strip_aim(&mut data)
        } else {
            None
        };
        if !overlong && !self.config.suffix.is_empty() && data.ends_with(&self.config.suffix) {
            data.truncate(data.len() - self.config.suffix.len());
        }
        Some(Frame {
            data,
            symbology,
            overlong,
        })
    }
}

fn strip_prefix(data: &mut Vec<u8>, prefix: &[u8]) {
    if !prefix.is_empty() && data.starts_with(prefix) {
        data.drain(..prefix.len());
    }
}

/// Strips `]` + code character + modifier character, the AIM symbology identifier.
fn strip_aim(data: &mut Vec<u8>) -> Option<String> {
    if data.len() >= 3
        && data[0] == b']'
        && data[1].is_ascii_alphabetic()
        && data[2].is_ascii_alphanumeric()
    {
        let id: String = data[..3].iter().map(|&b| char::from(b)).collect();
        data.drain(..3);
        Some(id)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer(t: Terminator) -> Framer {
        Framer::new(FramingConfig {
            terminator: t,
            ..FramingConfig::default()
        })
    }

    fn codes(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .collect()
    }

    #[test]
    fn split_reads_are_joined() {
        let now = Instant::now();
        let mut f = framer(Terminator::Cr);
        assert!(f.push(b"B00", now).is_empty());
        assert!(f.has_partial());
        assert!(f.push(b"01", now).is_empty());
        assert_eq!(codes(&f.push(b"\r", now)), ["B0001"]);
        assert!(!f.has_partial());
    }

    #[test]
    fn several_codes_in_one_read() {
        let now = Instant::now();
        let mut f = framer(Terminator::Cr);
        assert_eq!(codes(&f.push(b"B1\rB2\r\nB3\rB4", now)), ["B1", "B2", "B3"]);
        assert_eq!(codes(&f.push(b"\r", now)), ["B4"]);
        let mut f = framer(Terminator::CrLf);
        assert_eq!(codes(&f.push(b"B1\r\nB2\r\n", now)), ["B1", "B2"]);
        let mut f = framer(Terminator::Lf);
        assert_eq!(codes(&f.push(b"B1\nB2\r\n\n", now)), ["B1", "B2"]);
    }

    #[test]
    fn crlf_split_between_reads_is_one_terminator() {
        let now = Instant::now();
        let mut f = framer(Terminator::Cr);
        assert_eq!(codes(&f.push(b"B1\r", now)), ["B1"]);
        assert_eq!(codes(&f.push(b"\nB2\r", now)), ["B2"]);
    }

    #[test]
    fn missing_terminator_ends_after_the_pause() {
        let t0 = Instant::now();
        let mut f = framer(Terminator::None);
        assert!(f.push(b"B00", t0).is_empty());
        assert!(f.push(b"01", t0 + Duration::from_millis(10)).is_empty());
        assert_eq!(f.poll(t0 + Duration::from_millis(40)), None);
        let frame = f.poll(t0 + Duration::from_millis(60)).unwrap();
        assert_eq!(frame.data, b"B0001");
        // Bytes after a pause start a new code, ending the previous one first.
        assert!(f.push(b"B1", t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(codes(&f.push(b"B2", t0 + Duration::from_secs(2))), ["B1"]);
        assert_eq!(f.finish().unwrap().unwrap().data, b"B2");
    }

    #[test]
    fn a_terminated_stream_never_cuts_a_slow_code() {
        let t0 = Instant::now();
        let mut f = framer(Terminator::Cr);
        f.push(b"B00", t0);
        assert_eq!(f.poll(t0 + Duration::from_secs(5)), None);
        assert_eq!(
            codes(&f.push(b"01\r", t0 + Duration::from_secs(6))),
            ["B0001"]
        );
        f.push(b"B9", t0);
        assert_eq!(f.finish(), Err(b"B9".to_vec()));
        assert!(!f.has_partial());
    }

    #[test]
    fn overlong_is_one_code_never_split() {
        let now = Instant::now();
        let mut f = framer(Terminator::Cr);
        let long = [b'7'; 200];
        let mut frames = f.push(&long[..100], now);
        frames.extend(f.push(&long[100..], now));
        assert!(frames.is_empty());
        let frames = f.push(b"\rB1\r", now);
        assert_eq!(frames.len(), 2);
        assert!(frames[0].overlong);
        assert_eq!(frames[0].data.len(), 65, "enough to be refused as too long");
        assert_eq!(frames[1].data, b"B1");
        assert!(!frames[1].overlong);
        // Exactly the maximum is fine.
        let frames = f.push(&[&[b'7'; 64][..], b"\r"].concat(), now);
        assert!(!frames[0].overlong && frames[0].data.len() == 64);
    }

    #[test]
    fn aim_prefix_and_suffix_are_stripped() {
        let now = Instant::now();
        let mut f = Framer::new(FramingConfig {
            prefix: vec![0x02],
            suffix: vec![0x03],
            ..FramingConfig::default()
        });
        let frames = f.push(b"\x02]C1B0001\x03\r]A0XYZ\r]L2\r", now);
        assert_eq!(codes(&frames), ["B0001", "XYZ", ""]);
        assert_eq!(frames[0].symbology.as_deref(), Some("]C1"));
        assert_eq!(frames[1].symbology.as_deref(), Some("]A0"));
        // Not an identifier: kept as data.
        let frames = f.push(b"]1AB\r]\r", now);
        assert_eq!(codes(&frames), ["]1AB", "]"]);
        assert_eq!(frames[0].symbology, None);
        // Stripping can be turned off.
        let mut f = Framer::new(FramingConfig {
            strip_aim: false,
            ..FramingConfig::default()
        });
        assert_eq!(codes(&f.push(b"]C1B0001\r", now)), ["]C1B0001"]);
    }

    #[test]
    fn noise_bytes_and_lone_terminators_are_dropped() {
        let now = Instant::now();
        let mut f = framer(Terminator::Cr);
        assert_eq!(codes(&f.push(b"\x00\x00\r\rB\x110\x1301\r", now)), ["B001"]);
        // Other control bytes are data: the intake decides they are invalid.
        assert_eq!(f.push(b"B\x070\r", now)[0].data, b"B\x070");
    }

    #[test]
    fn config_round_trips_and_fills_defaults() {
        let c: FramingConfig = serde_json::from_str(r#"{"terminator":"crlf"}"#).unwrap();
        assert_eq!(c.terminator, Terminator::CrLf);
        assert_eq!(c.max_len, 64);
        let back: FramingConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!("CRLF".parse::<Terminator>().unwrap(), Terminator::CrLf);
        assert!("tab".parse::<Terminator>().is_err());
    }
}
