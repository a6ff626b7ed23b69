//! Serial, USB-CDC and virtual-COM scanners (and a sorter's serial feed).
//!
//! One named thread per port reads with a short timeout, frames the bytes, drops
//! double reads, and sends what it finds over a channel. When the device disappears
//! (unplugged, port closed at the far end) the thread says so and reopens the port
//! with a backoff as soon as it is back. Codes fully received before the loss have
//! already been sent; an unterminated tail is reported as garbled, never scanned.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::debounce::{DEFAULT_WINDOW, Debouncer};
use super::framing::{Frame, Framer, FramingConfig};
use super::{DeviceMessage, ScanEvent, Source, SourceKind};

/// Line settings of a serial scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SerialSettings {
    /// Device path (`/dev/ttyACM0`, `/dev/serial/by-id/...`, `COM3`).
    pub path: String,
    /// Baud rate.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data_bits: u8,
    /// `none`, `odd` or `even`.
    pub parity: String,
    /// 1 or 2.
    pub stop_bits: u8,
    /// `none`, `software` (XON/XOFF) or `hardware` (RTS/CTS).
    pub flow_control: String,
    /// How codes are cut from the stream.
    pub framing: FramingConfig,
    /// Double-read window in milliseconds (0 turns suppression off).
    pub double_read_ms: u64,
}

impl Default for SerialSettings {
    fn default() -> Self {
        SerialSettings {
            path: String::new(),
            baud: super::DEFAULT_BAUD,
            data_bits: 8,
            parity: "none".into(),
            stop_bits: 1,
            flow_control: "none".into(),
            framing: FramingConfig::default(),
            double_read_ms: u64::try_from(DEFAULT_WINDOW.as_millis()).unwrap_or(750),
        }
    }
}

impl SerialSettings {
    /// Settings for `path` at `baud`, everything else default (8N1, no flow control).
    pub fn new(path: &str, baud: u32) -> Self {
        SerialSettings {
            path: path.to_string(),
            baud,
            ..SerialSettings::default()
        }
    }

    fn builder(&self) -> Result<serialport::SerialPortBuilder, String> {
        use serialport::{DataBits, FlowControl, Parity, StopBits};
        let data_bits = match self.data_bits {
            5 => DataBits::Five,
            6 => DataBits::Six,
            7 => DataBits::Seven,
            8 => DataBits::Eight,
            n => return Err(format!("{n} data bits: use 5, 6, 7 or 8")),
        };
        let parity = match self.parity.as_str() {
            "none" => Parity::None,
            "odd" => Parity::Odd,
            "even" => Parity::Even,
            p => return Err(format!("parity {p:?}: use none, odd or even")),
        };
        let stop_bits = match self.stop_bits {
            1 => StopBits::One,
            2 => StopBits::Two,
            n => return Err(format!("{n} stop bits: use 1 or 2")),
        };
        let flow = match self.flow_control.as_str() {
            "none" => FlowControl::None,
            "software" => FlowControl::Software,
            "hardware" => FlowControl::Hardware,
            f => {
                return Err(format!(
                    "flow control {f:?}: use none, software or hardware"
                ));
            }
        };
        Ok(serialport::new(&self.path, self.baud)
            .data_bits(data_bits)
            .parity(parity)
            .stop_bits(stop_bits)
            .flow_control(flow)
            // Short, so the framer's inter-character timeout and the stop flag are
            // honoured promptly.
            .timeout(Duration::from_millis(10)))
    }

    /// Checks the settings without opening anything.
    pub fn validate(&self) -> Result<(), String> {
        self.builder().map(|_| ())
    }
}

/// Reconnect waits: 100 ms, doubling to 2 s, so a replugged scanner is back within
/// two seconds and a missing one costs nothing.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    /// Starts again from the shortest wait (after a successful open).
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }

    /// Waits the current step (waking early if `stop` is set) and doubles it.
    pub fn sleep(&mut self, stop: &AtomicBool) {
        let until = Instant::now() + self.next;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.next = (self.next * 2).min(Duration::from_secs(2));
    }
}

/// Turns frames into messages, dropping double reads.
struct Emitter<'a> {
    source: &'a Source,
    key: String,
    debounce: Debouncer,
    tx: &'a Sender<DeviceMessage>,
}

impl Emitter<'_> {
    /// Sends one frame; false when nobody listens any more.
    fn send(&mut self, frame: Frame, at: Instant) -> bool {
        let message = if !frame.overlong && self.debounce.is_double_read(&self.key, &frame.data, at)
        {
            DeviceMessage::DoubleRead {
                source: self.source.clone(),
                raw: frame.data,
            }
        } else {
            DeviceMessage::Scan(ScanEvent {
                raw: frame.data,
                symbology: frame.symbology,
                source: self.source.clone(),
                received_at: Utc::now(),
            })
        };
        self.tx.send(message).is_ok()
    }
}

/// Reads an open port until it fails, or until `stop` is set and the bytes already
/// waiting in the port have been read (a code the scanner sent just before the
/// station was stopped is still recorded). Returns the failure.
fn read_port(
    port: &mut dyn Read,
    framer: &mut Framer,
    emit: &mut Emitter<'_>,
    stop: &AtomicBool,
) -> Option<String> {
    let mut buf = [0u8; 4096];
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        match port.read(&mut buf) {
            Ok(0) => return Some("the port reached end of file".into()),
            Ok(n) => {
                let now = Instant::now();
                for frame in framer.push(&buf[..n], now) {
                    if !emit.send(frame, now) {
                        return None;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::WouldBlock
                ) =>
            {
                let now = Instant::now();
                if let Some(frame) = framer.poll(now)
                    && !emit.send(frame, now)
                {
                    return None;
                }
                if stopping {
                    return None;
                }
            }
            Err(e) => return Some(e.to_string()),
        }
    }
}

/// Runs a serial scanner in a named thread until `stop` is set.
pub fn spawn(
    settings: SerialSettings,
    tx: Sender<DeviceMessage>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let source = Source {
        kind: SourceKind::Serial,
        id: settings.path.clone(),
    };
    let name = format!(
        "serial-{}",
        settings.path.rsplit('/').next().unwrap_or("port")
    );
    std::thread::Builder::new().name(name).spawn(move || {
        let mut framer = Framer::new(settings.framing.clone());
        let mut emit = Emitter {
            key: source.to_string(),
            source: &source,
            debounce: Debouncer::new(Duration::from_millis(settings.double_read_ms)),
            tx: &tx,
        };
        let open = || {
            settings
                .builder()
                .and_then(|b| b.open().map_err(|e| e.to_string()))
        };
        let read = |mut port: Box<dyn serialport::SerialPort>| {
            // Scanners that wait for DTR need it; a pseudo-terminal has no modem
            // lines and refuses ("Not a typewriter"): not fatal.
            if let Err(e) = port.write_data_terminal_ready(true) {
                log::debug!("{source}: DTR not set: {e}");
            }
            let failure = read_port(&mut port, &mut framer, &mut emit, &stop);
            // A code with no terminator yet is not a code.
            match framer.finish() {
                Ok(Some(frame)) => {
                    emit.send(frame, Instant::now());
                }
                Ok(None) => {}
                Err(tail) => {
                    let _ = tx.send(DeviceMessage::Garbled {
                        source: source.clone(),
                        what: format!(
                            "unterminated {:?} when the port closed",
                            String::from_utf8_lossy(&tail)
                        ),
                    });
                }
            }
            failure
        };
        super::supervise(&source, &tx, &stop, open, read);
    })
}

/// A serial port present on the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialPortInfo {
    /// Device path.
    pub path: String,
    /// `VID:PID` for USB serial devices.
    pub usb_id: Option<String>,
    /// Product name, when known.
    pub product: Option<String>,
    /// Serial number, when known.
    pub serial_number: Option<String>,
}

impl SerialPortInfo {
    /// How the configuration names it.
    pub fn spec(&self) -> String {
        format!("serial:{}", self.path)
    }

    /// What it is, for a person choosing among several: USB id (or "(not USB)"),
    /// product, serial number.
    pub fn description(&self) -> String {
        describe(
            Some(self.usb_id.clone().unwrap_or_else(|| "(not USB)".into())),
            self.product.as_deref(),
            self.serial_number.as_deref(),
        )
    }
}

/// "first  product  serial N", leaving out what is not known.
pub(super) fn describe(
    first: Option<String>,
    product: Option<&str>,
    serial: Option<&str>,
) -> String {
    [
        first,
        product.map(str::to_string),
        serial.map(|s| format!("serial {s}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("  ")
}

/// The serial ports the system lists (pseudo-terminals are not listed).
pub fn list() -> Vec<SerialPortInfo> {
    serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(u) => SerialPortInfo {
                path: p.port_name,
                usb_id: Some(format!("{:04x}:{:04x}", u.vid, u.pid)),
                product: u.product,
                serial_number: u.serial_number,
            },
            _ => SerialPortInfo {
                path: p.port_name,
                usb_id: None,
                product: None,
                serial_number: None,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_described_by_what_is_known_of_them() {
        let port = SerialPortInfo {
            path: "/dev/ttyACM0".into(),
            usb_id: Some("0c2e:0b61".into()),
            product: Some("Xenon".into()),
            serial_number: Some("17".into()),
        };
        assert_eq!(port.spec(), "serial:/dev/ttyACM0");
        assert_eq!(port.description(), "0c2e:0b61  Xenon  serial 17");
        let plain = SerialPortInfo {
            path: "/dev/ttyS0".into(),
            usb_id: None,
            product: None,
            serial_number: None,
        };
        assert_eq!(plain.description(), "(not USB)");
        let usb = crate::scanner::usb::UsbScannerInfo {
            vid: 0x0c2e,
            pid: 0x0b61,
            name: None,
            product: None,
            serial: Some("A1".into()),
        };
        assert_eq!(usb.spec(), "usb:0c2e:0b61");
        assert_eq!(usb.description(), "HID-POS scanner  serial A1");
    }

    #[test]
    fn settings_are_checked() {
        assert!(SerialSettings::new("/dev/ttyACM0", 9600).validate().is_ok());
        let bad = SerialSettings {
            parity: "mark".into(),
            ..SerialSettings::new("/dev/x", 9600)
        };
        assert!(bad.validate().unwrap_err().contains("parity"));
        let bad = SerialSettings {
            data_bits: 9,
            ..SerialSettings::new("/dev/x", 9600)
        };
        assert!(bad.validate().is_err());
        let s: SerialSettings = serde_json::from_str(r#"{"path":"/dev/ttyUSB0"}"#).unwrap();
        assert_eq!((s.baud, s.data_bits, s.double_read_ms), (9600, 8, 750));
    }

    #[test]
    fn backoff_doubles_to_two_seconds() {
        let stop = AtomicBool::new(true); // do not actually wait
        let mut b = Backoff::default();
        for _ in 0..10 {
            b.sleep(&stop);
        }
        assert_eq!(b.next, Duration::from_secs(2));
        b.reset();
        assert_eq!(b.next, Duration::from_millis(100));
    }
}
