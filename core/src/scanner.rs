//! Scanner input: keyboard wedge, serial / USB-CDC, and USB HID-POS.
//!
//! Every device, whatever its kind, produces the same [`ScanEvent`]: the raw bytes,
//! where they came from and when. Framing ([`framing`]) and double-read suppression
//! ([`debounce`]) are pure code shared by all of them; the device readers run in
//! named threads and report over a channel ([`DeviceMessage`]), so the command line
//! and the desktop application consume scanners the same way.

pub mod debounce;
pub mod framing;
pub mod hidpos;
pub mod serial;
pub mod state;
pub mod usb;
pub mod wedge;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The kind of device a scan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A scanner typing as a keyboard.
    Wedge,
    /// A serial port, USB-CDC or virtual COM port.
    Serial,
    /// A USB HID Point-of-Sale scanner.
    Usb,
}

/// Where a scan came from: the kind and the device's identity (port path or VID:PID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Source {
    /// Device kind.
    pub kind: SourceKind,
    /// Port path, `VID:PID`, or `keyboard`.
    pub id: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SourceKind::Wedge => "wedge",
            SourceKind::Serial => "serial",
            SourceKind::Usb => "usb",
        };
        write!(f, "{kind}:{}", self.id)
    }
}

/// One code from a scanner, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEvent {
    /// The code's bytes (prefix, suffix, identifier and terminator removed).
    pub raw: Vec<u8>,
    /// The AIM symbology identifier, when the scanner sent one.
    pub symbology: Option<String>,
    /// The device.
    pub source: Source,
    /// When the code's last byte arrived.
    pub received_at: DateTime<Utc>,
}

/// What a device reader reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceMessage {
    /// The device is open and being read.
    Connected(Source),
    /// The device went away or could not be opened; it is retried.
    Disconnected {
        /// The device.
        source: Source,
        /// Why, in words.
        reason: String,
    },
    /// A code.
    Scan(ScanEvent),
    /// The same code again within the double-read window: logged, not scanned.
    DoubleRead {
        /// The device.
        source: Source,
        /// The code.
        raw: Vec<u8>,
    },
    /// Something the device sent that is not a code (a malformed report, the
    /// unterminated tail left when it was unplugged).
    Garbled {
        /// The device.
        source: Source,
        /// What was wrong.
        what: String,
    },
}

/// The reconnect loop every device thread runs until `stop`: open the device, report
/// it connected, read it until it fails, report the failure, and try again after a
/// backoff (100 ms doubling to 2 s). A device that cannot be opened is reported once,
/// not on every retry, so a missing scanner does not flood the log. `read` returns
/// `None` when it stopped because `stop` was set (or nobody listens any more).
pub(crate) fn supervise<D>(
    source: &Source,
    tx: &std::sync::mpsc::Sender<DeviceMessage>,
    stop: &std::sync::atomic::AtomicBool,
    mut open: impl FnMut() -> Result<D, String>,
    mut read: impl FnMut(D) -> Option<String>,
) {
    use std::sync::atomic::Ordering;
    let mut backoff = serial::Backoff::default();
    let mut reported_down = false;
    while !stop.load(Ordering::Relaxed) {
        let down = match open() {
            Ok(device) => {
                backoff.reset();
                if tx.send(DeviceMessage::Connected(source.clone())).is_err() {
                    return;
                }
                match read(device) {
                    Some(reason) if !stop.load(Ordering::Relaxed) => Some(reason),
                    _ => return,
                }
            }
            Err(reason) => (!reported_down).then_some(reason),
        };
        if let Some(reason) = down {
            reported_down = true;
            let message = DeviceMessage::Disconnected {
                source: source.clone(),
                reason,
            };
            if tx.send(message).is_err() {
                return;
            }
        }
        backoff.sleep(stop);
    }
}

/// A scanner named on the command line: `serial:PATH[@BAUD]` or `usb:VID:PID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ScannerSpec {
    /// A serial port.
    Serial {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A USB HID-POS scanner.
    Usb {
        /// Vendor id.
        vid: u16,
        /// Product id.
        pid: u16,
    },
}

/// The baud rate used when a serial spec names none.
pub const DEFAULT_BAUD: u32 = 9600;

impl FromStr for ScannerSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("serial:") {
            let (path, baud) = match rest.rsplit_once('@') {
                Some((p, b)) => (
                    p,
                    b.parse::<u32>()
                        .ok()
                        .filter(|b| *b > 0)
                        .ok_or_else(|| format!("{b:?} is not a baud rate in {s:?}"))?,
                ),
                None => (rest, DEFAULT_BAUD),
            };
            if path.is_empty() {
                return Err(format!("{s:?} names no serial port"));
            }
            return Ok(ScannerSpec::Serial {
                path: path.to_string(),
                baud,
            });
        }
        if let Some(rest) = s.strip_prefix("usb:") {
            let (v, p) = rest
                .split_once(':')
                .ok_or_else(|| format!("{s:?} must be usb:VID:PID, e.g. usb:0c2e:0b61"))?;
            let hex = |x: &str| {
                u16::from_str_radix(x.trim_start_matches("0x"), 16)
                    .map_err(|_| format!("{x:?} in {s:?} is not a 4-digit hex id"))
            };
            return Ok(ScannerSpec::Usb {
                vid: hex(v)?,
                pid: hex(p)?,
            });
        }
        Err(format!(
            "{s:?} is not a scanner: use serial:PATH[@BAUD] or usb:VID:PID"
        ))
    }
}

impl ScannerSpec {
    /// The source its scans are recorded under (the baud rate is a setting, not part
    /// of the device's identity).
    pub fn source(&self) -> Source {
        match self {
            ScannerSpec::Serial { path, .. } => Source {
                kind: SourceKind::Serial,
                id: path.clone(),
            },
            ScannerSpec::Usb { vid, pid } => Source {
                kind: SourceKind::Usb,
                id: format!("{vid:04x}:{pid:04x}"),
            },
        }
    }
}

impl fmt::Display for ScannerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScannerSpec::Serial { path, baud } => write!(f, "serial:{path}@{baud}"),
            ScannerSpec::Usb { vid, pid } => write!(f, "usb:{vid:04x}:{pid:04x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        assert_eq!(
            "serial:/dev/ttyACM0".parse::<ScannerSpec>().unwrap(),
            ScannerSpec::Serial {
                path: "/dev/ttyACM0".into(),
                baud: 9600
            }
        );
        let s: ScannerSpec = "serial:/dev/serial/by-id/usb-Honeywell@115200"
            .parse()
            .unwrap();
        assert_eq!(
            s.to_string(),
            "serial:/dev/serial/by-id/usb-Honeywell@115200"
        );
        let u: ScannerSpec = "usb:0C2E:0x0b61".parse().unwrap();
        assert_eq!(
            u,
            ScannerSpec::Usb {
                vid: 0x0c2e,
                pid: 0x0b61
            }
        );
        assert_eq!(u.to_string(), "usb:0c2e:0b61");
        for bad in [
            "serial:",
            "serial:/dev/x@fast",
            "serial:/dev/x@0",
            "usb:0c2e",
            "usb:zz:1",
            "tty:/dev/x",
        ] {
            assert!(bad.parse::<ScannerSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_print_kind_and_id() {
        let s = Source {
            kind: SourceKind::Serial,
            id: "/dev/ttyACM0".into(),
        };
        assert_eq!(s.to_string(), "serial:/dev/ttyACM0");
    }
}
