//! USB HID-POS scanners: a transport trait, the device loop, and the small rusb path.
//!
//! The loop ([`run_reports`]) is generic over [`ReportSource`], so tests feed it
//! recorded report bytes (`fixtures/usb/`); the real transport ([`UsbHidPos`]) is the
//! only code that touches libusb. It claims the scanner's HID interface (detaching the
//! kernel's driver where needed), reads input reports from the interrupt IN endpoint,
//! and reports a removed device as gone so the reconnect loop waits for it to return.

use chrono::Utc;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::debounce::Debouncer;
use super::hidpos::{HidPosDecoder, REPORT_LEN, ReportLayout, known};
use super::{DeviceMessage, ScanEvent, Source};

/// Why a transport stopped or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The device is gone (unplugged, or the recording ended).
    #[error("device gone: {0}")]
    Gone(String),
    /// Any other failure (permissions, a busy interface ...).
    #[error("{0}")]
    Failed(String),
}

/// Something that yields HID input reports.
pub trait ReportSource {
    /// Reads one input report, waiting at most `timeout`; `Ok(None)` when none came.
    fn read_report(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError>;
}

/// A recorded session: reports with the time (ms from the start) each arrived.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    reports: VecDeque<(u64, Vec<u8>)>,
    started: Option<Instant>,
}

impl Recorded {
    /// Reads the fixture format: one report a line, `MS HEX...`; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Recorded, String> {
        let mut reports = VecDeque::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (ms, hex_text) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("line {}: expected `MS HEX`", i + 1))?;
            let ms = ms
                .parse::<u64>()
                .map_err(|_| format!("line {}: {ms:?} is not a time in ms", i + 1))?;
            let compact: String = hex_text.split_whitespace().collect();
            let bytes =
                hex::decode(&compact).map_err(|e| format!("line {}: bad hex: {e}", i + 1))?;
            reports.push_back((ms, bytes));
        }
        Ok(Recorded {
            reports,
            started: None,
        })
    }
}

impl ReportSource for Recorded {
    fn read_report(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let Some((ms, _)) = self.reports.front() else {
            return Err(TransportError::Gone("end of the recording".into()));
        };
        let due = started + Duration::from_millis(*ms);
        let now = Instant::now();
        if due > now + timeout {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        std::thread::sleep(due.saturating_duration_since(now));
        Ok(self.reports.pop_front().map(|(_, r)| r))
    }
}

/// Reads reports until the source is gone or `stop` is set, sending codes, double
/// reads and malformed reports. Returns why it ended.
pub fn run_reports(
    source: &Source,
    transport: &mut dyn ReportSource,
    layout: ReportLayout,
    debounce: &mut Debouncer,
    tx: &Sender<DeviceMessage>,
    stop: &AtomicBool,
) -> TransportError {
    let mut decoder = HidPosDecoder::new(layout);
    let key = source.to_string();
    while !stop.load(Ordering::Relaxed) {
        let report = match transport.read_report(Duration::from_millis(100)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return e,
        };
        // At debug level every report is logged in the fixtures' format, so a real
        // scanner's session can be captured for a regression test.
        log::debug!("{source}: report {}", hex::encode(&report));
        let message = match decoder.feed(&report) {
            Ok(None) => continue,
            Ok(Some(code)) => {
                if debounce.is_double_read(&key, &code.data, Instant::now()) {
                    DeviceMessage::DoubleRead {
                        source: source.clone(),
                        raw: code.data,
                    }
                } else {
                    DeviceMessage::Scan(ScanEvent {
                        raw: code.data,
                        symbology: code.symbology,
                        source: source.clone(),
                        received_at: Utc::now(),
                    })
                }
            }
            Err(e) => {
                log::warn!("{source}: {e}");
                DeviceMessage::Garbled {
                    source: source.clone(),
                    what: e.to_string(),
                }
            }
        };
        if tx.send(message).is_err() {
            break;
        }
    }
    TransportError::Gone("stopped".into())
}

/// A HID-POS scanner opened through libusb.
pub struct UsbHidPos {
    handle: rusb::DeviceHandle<rusb::Context>,
    interface: u8,
    endpoint: u8,
}

fn usb_err(e: rusb::Error) -> TransportError {
    match e {
        rusb::Error::NoDevice | rusb::Error::NotFound | rusb::Error::Io | rusb::Error::Pipe => {
            TransportError::Gone(e.to_string())
        }
        rusb::Error::Access => TransportError::Failed(
            "permission denied: install packaging/udev/60-ballot-intake-scanners.rules and add the clerk's account to plugdev".into(),
        ),
        other => TransportError::Failed(other.to_string()),
    }
}

impl UsbHidPos {
    /// Opens the first device with this id and claims its HID interface.
    pub fn open(vid: u16, pid: u16) -> Result<UsbHidPos, TransportError> {
        use rusb::UsbContext;
        // An explicit context: rusb's global one panics where libusb cannot start
        // (a machine with no USB bus), and a station must report that, not crash.
        let context = rusb::Context::new()
            .map_err(|e| TransportError::Gone(format!("USB is not available: {e}")))?;
        let devices = context.devices().map_err(usb_err)?;
        let device = devices
            .iter()
            .find(|d| {
                d.device_descriptor()
                    .is_ok_and(|desc| desc.vendor_id() == vid && desc.product_id() == pid)
            })
            .ok_or_else(|| TransportError::Gone(format!("no USB device {vid:04x}:{pid:04x}")))?;
        let config = device.active_config_descriptor().map_err(usb_err)?;
        // The HID interface (class 3) with an interrupt IN endpoint.
        let (interface, endpoint) = config
            .interfaces()
            .flat_map(|i| i.descriptors())
            .filter(|d| d.class_code() == 3)
            .find_map(|d| {
                d.endpoint_descriptors()
                    .find(|e| {
                        e.direction() == rusb::Direction::In
                            && e.transfer_type() == rusb::TransferType::Interrupt
                    })
                    .map(|e| (d.interface_number(), e.address()))
            })
            .ok_or_else(|| {
                TransportError::Failed(format!(
                    "{vid:04x}:{pid:04x} has no HID interrupt endpoint: is it in HID-POS mode?"
                ))
            })?;
        let handle = device.open().map_err(usb_err)?;
        // Linux binds usbhid to the scanner; take the interface from it.
        let _ = handle.set_auto_detach_kernel_driver(true);
        handle.claim_interface(interface).map_err(usb_err)?;
        Ok(UsbHidPos {
            handle,
            interface,
            endpoint,
        })
    }
}

impl ReportSource for UsbHidPos {
    fn read_report(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let mut buf = vec![0u8; REPORT_LEN];
        match self.handle.read_interrupt(self.endpoint, &mut buf, timeout) {
            Ok(n) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
            Err(rusb::Error::Timeout) => Ok(None),
            Err(e) => Err(usb_err(e)),
        }
    }
}

impl Drop for UsbHidPos {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.interface);
    }
}

/// A USB scanner present on the bus.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsbScannerInfo {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// The model, when known.
    pub name: Option<String>,
    /// The product string the device reports, when readable.
    pub product: Option<String>,
    /// The serial number, when readable.
    pub serial: Option<String>,
}

impl UsbScannerInfo {
    /// How the configuration names it.
    pub fn spec(&self) -> String {
        format!("usb:{:04x}:{:04x}", self.vid, self.pid)
    }

    /// What it is, for a person choosing among several: model, product, serial number.
    pub fn description(&self) -> String {
        super::serial::describe(
            Some(
                self.name
                    .clone()
                    .unwrap_or_else(|| "HID-POS scanner".into()),
            ),
            self.product.as_deref(),
            self.serial.as_deref(),
        )
    }
}

/// The known HID-POS scanners on the bus (an empty list when there is no USB bus).
pub fn list() -> Vec<UsbScannerInfo> {
    use rusb::UsbContext;
    let Ok(devices) = rusb::Context::new().and_then(|c| c.devices()) else {
        return Vec::new();
    };
    devices
        .iter()
        .filter_map(|d| {
            let desc = d.device_descriptor().ok()?;
            let model = known(desc.vendor_id(), desc.product_id())?;
            let (product, serial) = match d.open() {
                Ok(h) => (
                    h.read_product_string_ascii(&desc).ok(),
                    h.read_serial_number_string_ascii(&desc).ok(),
                ),
                Err(_) => (None, None),
            };
            Some(UsbScannerInfo {
                vid: desc.vendor_id(),
                pid: desc.product_id(),
                name: Some(model.name.to_string()),
                product,
                serial,
            })
        })
        .collect()
}

/// Runs a USB scanner in a named thread until `stop`: opens it, reads it, and when
/// it goes away (or is not plugged in yet) waits and opens it again, with a backoff.
/// Removal shows as the transport failing; arrival as the next open succeeding.
pub fn spawn(
    vid: u16,
    pid: u16,
    layout: ReportLayout,
    window: Duration,
    tx: Sender<DeviceMessage>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let source = super::ScannerSpec::Usb { vid, pid }.source();
    let open = move || UsbHidPos::open(vid, pid).map(|d| Box::new(d) as Box<dyn ReportSource>);
    spawn_with(source, open, layout, window, tx, stop)
}

/// [`spawn`] with the transport's opener given, so that arrival and removal can be
/// tested with recorded sessions.
pub fn spawn_with(
    source: Source,
    mut open: impl FnMut() -> Result<Box<dyn ReportSource>, TransportError> + Send + 'static,
    layout: ReportLayout,
    window: Duration,
    tx: Sender<DeviceMessage>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("usb-{}", source.id))
        .spawn(move || {
            let mut debounce = Debouncer::new(window);
            let open = || open().map_err(|e| e.to_string());
            let read = |mut dev: Box<dyn ReportSource>| {
                let why = run_reports(&source, dev.as_mut(), layout, &mut debounce, &tx, &stop);
                Some(why.to_string())
            };
            super::supervise(&source, &tx, &stop, open, read);
        })
}
