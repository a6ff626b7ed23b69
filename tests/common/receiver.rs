//! A test notification backend: the receiving side of docs/sync-protocol.md on a
//! loopback port, with faults injected on demand. Plain std networking, so every
//! fault is exactly what it says: a 500, a connection reset with no answer, an
//! answer that never comes in time, or a response lost after the batch was stored.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 without storing.
    ServerError,
    /// Close the connection without an answer, without storing.
    Reset,
    /// Wait past the client's timeout, without storing.
    Timeout,
    /// Store the batch, then close the connection without an answer.
    LostResponse,
}

/// How the receiver misbehaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Percentage of requests that get a fault (one of the four, at random).
    pub fault_percent: u64,
    /// Seed for the fault choice.
    pub seed: u64,
    /// How long a `Timeout` fault waits.
    pub timeout_wait: Duration,
    /// Wait this long after storing, before answering (to kill the station then).
    pub delay_after_store: Duration,
    /// Answer every request with this status (e.g. 422) instead of storing.
    pub refuse_with: Option<u16>,
    /// Answer every request with a 301 to this address instead of storing.
    pub redirect_to: Option<String>,
    /// Read every request and never answer (the connection is held open).
    pub never_answer: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            fault_percent: 0,
            seed: 1,
            timeout_wait: Duration::from_millis(1500),
            delay_after_store: Duration::ZERO,
            refuse_with: None,
            redirect_to: None,
            never_answer: false,
        }
    }
}

/// What the receiver has.
#[derive(Debug, Default)]
pub struct Stored {
    /// Events by event_id.
    pub events: HashMap<String, serde_json::Value>,
    /// How many times each batch id was stored (duplicates included).
    pub batches: HashMap<String, usize>,
    /// Events received again under an id already stored.
    pub duplicate_events: usize,
    /// Requests seen.
    pub requests: usize,
    /// Faults injected, by kind.
    pub faults: HashMap<String, usize>,
    /// Requests with a wrong token or a malformed body.
    pub bad_requests: usize,
}

/// A running receiver.
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    /// What it stored.
    pub stored: Arc<Mutex<Stored>>,
    /// Change its behaviour while it runs.
    pub behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn next_rand(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

impl Receiver {
    /// Starts on 127.0.0.1 with a random port, accepting `token`.
    pub fn start(token: &str, behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stored = Arc::new(Mutex::new(Stored::default()));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let stop = Arc::new(AtomicBool::new(false));
        let rng = Arc::new(Mutex::new(behaviour.lock().unwrap().seed | 1));
        {
            let (stored, behaviour, stop, token) = (
                stored.clone(),
                behaviour.clone(),
                stop.clone(),
                token.to_string(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (stored, behaviour, token, rng) = (
                                stored.clone(),
                                behaviour.clone(),
                                token.clone(),
                                rng.clone(),
                            );
                            std::thread::spawn(move || {
                                serve(stream, &token, &stored, &behaviour, &rng);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Receiver {
            url,
            stored,
            behaviour,
            stop,
        }
    }
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) -> bool {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        _ => "Status",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .is_ok()
        && stream.flush().is_ok()
}

/// Serves requests on one connection until it closes (keep-alive).
fn serve(
    stream: TcpStream,
    token: &str,
    stored: &Mutex<Stored>,
    behaviour: &Mutex<Behaviour>,
    rng: &Mutex<u64>,
) {
    let _ = stream.set_nonblocking(false);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let b = behaviour.lock().unwrap().clone();
        stored.lock().unwrap().requests += 1;
        if b.never_answer {
            // Hold the connection (and this thread) until the client gives up.
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            return;
        }
        if let Some(to) = &b.redirect_to {
            let _ = write!(
                writer,
                "HTTP/1.1 301 Moved Permanently\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = writer.flush();
            continue;
        }
        if let Some(status) = b.refuse_with {
            respond(
                &mut writer,
                status,
                r#"{"error":"refused by the test receiver"}"#,
            );
            continue;
        }
        let fault = {
            let mut r = rng.lock().unwrap();
            if next_rand(&mut r) % 100 < b.fault_percent {
                Some(match next_rand(&mut r) % 4 {
                    0 => Fault::ServerError,
                    1 => Fault::Reset,
                    2 => Fault::Timeout,
                    _ => Fault::LostResponse,
                })
            } else {
                None
            }
        };
        if let Some(f) = fault {
            *stored
                .lock()
                .unwrap()
                .faults
                .entry(format!("{f:?}"))
                .or_insert(0) += 1;
        }
        match fault {
            Some(Fault::ServerError) => {
                respond(&mut writer, 500, r#"{"error":"injected"}"#);
                continue;
            }
            Some(Fault::Reset) => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Timeout) => {
                std::thread::sleep(b.timeout_wait);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            _ => {}
        }
        // The protocol's checks.
        let authorized = headers.get("authorization").map(String::as_str)
            == Some(format!("Bearer {token}").as_str());
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let batch_id = parsed
            .as_ref()
            .and_then(|v| v["batch_id"].as_str().map(str::to_string));
        let keyed = batch_id.is_some()
            && headers.get("idempotency-key").map(String::as_str) == batch_id.as_deref();
        if !request_line.starts_with("POST /v1/batches ") || !authorized || !keyed {
            stored.lock().unwrap().bad_requests += 1;
            respond(
                &mut writer,
                if authorized { 400 } else { 401 },
                r#"{"error":"bad request"}"#,
            );
            continue;
        }
        let batch = parsed.unwrap_or_default();
        let batch_id = batch_id.unwrap_or_default();
        let (accepted, duplicates) = {
            let mut s = stored.lock().unwrap();
            let (mut a, mut d) = (0, 0);
            for e in batch["events"].as_array().cloned().unwrap_or_default() {
                let id = e["event_id"].as_str().unwrap_or_default().to_string();
                match s.events.entry(id) {
                    std::collections::hash_map::Entry::Occupied(_) => d += 1,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(e);
                        a += 1;
                    }
                }
            }
            s.duplicate_events += d;
            *s.batches.entry(batch_id.clone()).or_insert(0) += 1;
            (a, d)
        };
        if !b.delay_after_store.is_zero() {
            std::thread::sleep(b.delay_after_store);
        }
        if fault == Some(Fault::LostResponse) {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
        let ack = format!(
            r#"{{"batch_id":"{batch_id}","accepted":{accepted},"duplicates":{duplicates}}}"#
        );
        if !respond(&mut writer, 200, &ack) {
            return;
        }
    }
}
